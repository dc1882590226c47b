/*  test_order_guard.c - a refused write holds back the same client's later writes
    until it is accepted; other clients are not affected. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "order_guard.h"

static void
later_writes_wait_for_a_refused_one (void **state)
{
    (void) state;
    order_guard_t *guard = order_guard_new (16);
    assert_false (order_guard_holds (guard, 7, 5));
    order_guard_refused (guard, 7, 5);
    assert_true (order_guard_holds (guard, 7, 6));  /* would overtake 5 */
    assert_false (order_guard_holds (guard, 7, 5)); /* 5 itself may retry */
    assert_false (order_guard_holds (guard, 8, 6)); /* another client is free */
    order_guard_refused (guard, 7, 6);              /* refusing 6 keeps 5 lowest */
    order_guard_accepted (guard, 7, 6);             /* not the holder: no release */
    assert_true (order_guard_holds (guard, 7, 6));
    order_guard_accepted (guard, 7, 5);
    assert_false (order_guard_holds (guard, 7, 6));
    order_guard_destroy (&guard);
    assert_null (guard);
}

/* Several refused: accepting the lowest hands the hold to the next one, so the last
   cannot overtake the middle one whatever order their retries come in. */
static void
the_hold_passes_from_refusal_to_refusal (void **state)
{
    (void) state;
    order_guard_t *guard = order_guard_new (16);
    order_guard_refused (guard, 7, 1);
    order_guard_refused (guard, 7, 2);
    order_guard_refused (guard, 7, 3);
    order_guard_accepted (guard, 7, 1);
    assert_false (order_guard_holds (guard, 7, 2));
    assert_true (order_guard_holds (guard, 7, 3)); /* 2 has not gone in yet */
    order_guard_accepted (guard, 7, 2);
    assert_false (order_guard_holds (guard, 7, 3));
    order_guard_accepted (guard, 7, 3);
    assert_false (order_guard_holds (guard, 7, 99));
    order_guard_destroy (&guard);
}

static void
an_earlier_refusal_becomes_the_holder (void **state)
{
    (void) state;
    order_guard_t *guard = order_guard_new (16);
    order_guard_refused (guard, 1, 9);
    order_guard_refused (guard, 1, 4);
    assert_true (order_guard_holds (guard, 1, 5));
    order_guard_clear (guard);
    assert_false (order_guard_holds (guard, 1, 5));
    order_guard_destroy (&guard);
}

static void
a_full_table_stops_guarding_new_clients (void **state)
{
    (void) state;
    order_guard_t *guard = order_guard_new (2);
    order_guard_refused (guard, 1, 1);
    order_guard_refused (guard, 2, 1);
    order_guard_refused (guard, 3, 1); /* no room: not recorded */
    assert_false (order_guard_holds (guard, 3, 2));
    assert_true (order_guard_holds (guard, 2, 2));
    order_guard_destroy (&guard);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (later_writes_wait_for_a_refused_one),
        cmocka_unit_test (an_earlier_refusal_becomes_the_holder),
        cmocka_unit_test (the_hold_passes_from_refusal_to_refusal),
        cmocka_unit_test (a_full_table_stops_guarding_new_clients),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
