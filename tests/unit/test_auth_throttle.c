/*  test_auth_throttle.c - failed logins make the next ones wait, growing and capped;
    checks still running count; a success clears; another key is not affected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "auth_throttle.h"

static void
delays_grow_and_stop_at_the_cap (void **state)
{
    (void) state;
    for (uint32_t f = 0; f < 5; f++)
        assert_int_equal (auth_throttle_delay_ms (THROTTLE_USER, f), 0);
    assert_int_equal (auth_throttle_delay_ms (THROTTLE_USER, 5), 500);
    assert_int_equal (auth_throttle_delay_ms (THROTTLE_USER, 6), 1000);
    assert_int_equal (auth_throttle_delay_ms (THROTTLE_USER, 100), 10000);
    assert_int_equal (auth_throttle_delay_ms (THROTTLE_CONN, 2), 0);
    assert_int_equal (auth_throttle_delay_ms (THROTTLE_CONN, 3), 1000);
    assert_int_equal (auth_throttle_delay_ms (THROTTLE_CONN, 1000), 60000);
}

static void
failures_make_the_next_attempt_wait_and_success_clears (void **state)
{
    (void) state;
    auth_throttle_t *t = auth_throttle_new ();
    uint64_t now = 1000000;
    for (int i = 0; i < 5; i++) {
        assert_int_equal (auth_throttle_wait_ms (t, THROTTLE_USER, "bob", now), 0);
        auth_throttle_begin (t, THROTTLE_USER, "bob");
        auth_throttle_failed (t, THROTTLE_USER, "bob", now);
    }
    assert_int_equal (auth_throttle_wait_ms (t, THROTTLE_USER, "bob", now), 500);
    assert_int_equal (auth_throttle_wait_ms (t, THROTTLE_USER, "bob", now + 499), 1);
    assert_int_equal (auth_throttle_wait_ms (t, THROTTLE_USER, "bob", now + 500), 0);
    assert_int_equal (auth_throttle_wait_ms (t, THROTTLE_USER, "ann", now), 0);
    auth_throttle_begin (t, THROTTLE_USER, "bob");
    auth_throttle_succeeded (t, THROTTLE_USER, "bob");
    assert_int_equal (auth_throttle_wait_ms (t, THROTTLE_USER, "bob", now + 500), 0);
    assert_int_equal (auth_throttle_size (t), 0);
    auth_throttle_destroy (&t);
}

/* 32 guesses arriving together: only as many as the free tries get a check. */
static void
checks_in_flight_count_against_the_limit (void **state)
{
    (void) state;
    auth_throttle_t *t = auth_throttle_new ();
    uint64_t now = 5000;
    int admitted = 0;
    for (int i = 0; i < 32; i++)
        if (auth_throttle_wait_ms (t, THROTTLE_USER, "bob", now) == 0) {
            auth_throttle_begin (t, THROTTLE_USER, "bob");
            admitted++;
        }
    assert_int_equal (admitted, 5);
    /* an attempt that ended without a check gives its place back */
    auth_throttle_abandoned (t, THROTTLE_USER, "bob");
    assert_int_equal (auth_throttle_wait_ms (t, THROTTLE_USER, "bob", now), 0);
    auth_throttle_clear (t);
    assert_int_equal (auth_throttle_size (t), 0);
    auth_throttle_destroy (&t);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (delays_grow_and_stop_at_the_cap),
        cmocka_unit_test (failures_make_the_next_attempt_wait_and_success_clears),
        cmocka_unit_test (checks_in_flight_count_against_the_limit),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
