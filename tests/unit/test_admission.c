/*  test_admission.c - the leader's door: a write is new, in flight or refused; a
    refused or deferred write holds its client's later writes back until it is in the
    log or has ended; answered entries are gone; a change of leader forgets all. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "admission.h"

static const uint8_t s_conn_a [] = { 0, 'a' };
static const uint8_t s_conn_b [] = { 0, 'b' };

static admit_t
s_admit (admission_t *door, uint64_t cid, uint64_t seq, const uint8_t *conn, pending_t **entry)
{
    return admission_admit (door, cid, seq, conn, 2, entry);
}

static void
a_retry_of_a_waiting_write_is_in_flight_and_answers_the_newest_asker (void **state)
{
    (void) state;
    admission_t *door = admission_new (16);
    pending_t *first, *again;
    assert_int_equal (s_admit (door, 7, 1, s_conn_a, &first), ADMIT_NEW);
    admission_accepted (door, first);
    assert_int_equal (s_admit (door, 7, 1, s_conn_b, &again), ADMIT_IN_FLIGHT);
    assert_ptr_equal (again, first);
    assert_memory_equal (again->routing, s_conn_b, 2);
    assert_ptr_equal (admission_find (door, 7, 1), first);
    admission_answered (door, first);
    assert_null (admission_find (door, 7, 1));
    admission_destroy (&door);
    assert_null (door);
}

static void
a_refused_write_holds_later_writes_of_its_client_only (void **state)
{
    (void) state;
    admission_t *door = admission_new (16);
    pending_t *entry;
    assert_int_equal (s_admit (door, 7, 5, s_conn_a, &entry), ADMIT_NEW);
    admission_refused (door, entry); /* BUSY */
    assert_null (admission_find (door, 7, 5));
    assert_int_equal (s_admit (door, 7, 6, s_conn_a, &entry), ADMIT_REFUSED);
    assert_int_equal (s_admit (door, 8, 6, s_conn_b, &entry), ADMIT_NEW);
    assert_int_equal (s_admit (door, 7, 5, s_conn_a, &entry), ADMIT_NEW); /* its retry */
    admission_accepted (door, entry);
    assert_int_equal (s_admit (door, 7, 6, s_conn_a, &entry), ADMIT_NEW);
    admission_destroy (&door);
}

static void
a_deferred_write_holds_later_ones_until_it_ends (void **state)
{
    (void) state;
    admission_t *door = admission_new (16);
    pending_t *login, *entry;
    assert_int_equal (s_admit (door, 7, 1, s_conn_a, &login), ADMIT_NEW);
    admission_deferred (door, login);                      /* secret being checked */
    assert_ptr_equal (admission_find (door, 7, 1), login); /* still waits */
    assert_int_equal (s_admit (door, 7, 2, s_conn_a, &entry), ADMIT_REFUSED);
    admission_ended (door, login); /* wrong secret */
    assert_null (admission_find (door, 7, 1));
    assert_int_equal (s_admit (door, 7, 2, s_conn_a, &entry), ADMIT_NEW);
    admission_destroy (&door);
}

static int s_cleared;

static void
s_count (void *arg, pending_t *entry)
{
    (void) arg;
    (void) entry;
    s_cleared++;
}

static void
a_change_of_leader_answers_every_waiter_and_forgets_the_holds (void **state)
{
    (void) state;
    admission_t *door = admission_new (16);
    pending_t *entry, *read = admission_add_read (door);
    assert_non_null (read);
    assert_ptr_equal (admission_find_read (door, read->read_ctx), read);
    assert_int_equal (s_admit (door, 7, 1, s_conn_a, &entry), ADMIT_NEW);
    admission_refused (door, entry);
    assert_int_equal (s_admit (door, 9, 1, s_conn_b, &entry), ADMIT_NEW);
    admission_accepted (door, entry);
    s_cleared = 0;
    admission_clear (door, s_count, NULL);
    assert_int_equal (s_cleared, 2); /* the read and 9/1 */
    assert_null (admission_find (door, 9, 1));
    assert_int_equal (s_admit (door, 7, 2, s_conn_a, &entry), ADMIT_NEW);
    admission_destroy (&door);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (a_retry_of_a_waiting_write_is_in_flight_and_answers_the_newest_asker),
        cmocka_unit_test (a_refused_write_holds_later_writes_of_its_client_only),
        cmocka_unit_test (a_deferred_write_holds_later_ones_until_it_ends),
        cmocka_unit_test (a_change_of_leader_answers_every_waiter_and_forgets_the_holds),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
