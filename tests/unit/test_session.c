/*  test_session.c - the session table: a re-bind by the same connection keeps what the
    client acked, a bind from elsewhere replaces, and the list of acks to propose holds
    each session once and forgets ended ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include "session.h"

static conn_t *
s_conn (sessions_t *table, const char *id)
{
    conn_t *conn = sessions_touch (table, (const uint8_t *) id, strlen (id), 1000);
    assert_non_null (conn);
    return conn;
}

static void
rebind_by_the_same_connection_keeps_what_was_acked (void **state)
{
    (void) state;
    sessions_t *table = sessions_new (10);
    conn_t *a = s_conn (table, "A");
    conn_t *replaced = NULL;
    session_t *s1 = sessions_bind (table, a, "bob", 5, 0, 1000, &replaced);
    s1->pushed = 10;
    s1->acked = 7;
    session_t *s2 = sessions_bind (table, a, "bob", 5, 0, 1001, &replaced);
    assert_null (replaced);
    assert_ptr_equal (sessions_find (table, "bob", 3), s2);
    assert_int_equal (s2->acked, 7);
    assert_int_equal (s2->pushed, 7); /* pushes resume after the acked ones */
    /* what the client says it showed still counts when it is more */
    s2->acked = 8;
    session_t *s3 = sessions_bind (table, a, "bob", 5, 9, 1002, &replaced);
    assert_int_equal (s3->acked, 9);
    /* a new incarnation of the user starts from what the client showed of it */
    s3->acked = 9;
    session_t *s4 = sessions_bind (table, a, "bob", 6, 0, 1003, &replaced);
    assert_int_equal (s4->acked, 0);
    sessions_destroy (&table);
}

static void
bind_from_another_connection_replaces (void **state)
{
    (void) state;
    sessions_t *table = sessions_new (10);
    conn_t *a = s_conn (table, "A"), *b = s_conn (table, "B");
    conn_t *replaced = NULL;
    session_t *s1 = sessions_bind (table, a, "bob", 5, 0, 1000, &replaced);
    s1->acked = 7;
    session_t *s2 = sessions_bind (table, b, "bob", 5, 3, 1001, &replaced);
    assert_ptr_equal (replaced, a);
    assert_null (a->session);
    assert_ptr_equal (b->session, s2);
    assert_int_equal (s2->acked, 3); /* only what this client showed */
    sessions_destroy (&table);
}

static void
acks_due_are_listed_once_and_forgotten_with_their_session (void **state)
{
    (void) state;
    sessions_t *table = sessions_new (10);
    conn_t *replaced = NULL;
    session_t *bob = sessions_bind (table, s_conn (table, "A"), "bob", 1, 0, 1000, &replaced);
    session_t *ann = sessions_bind (table, s_conn (table, "B"), "ann", 1, 0, 1000, &replaced);
    uint64_t since;
    assert_false (sessions_acks_due (table, &since));
    sessions_ack_due (table, bob, 2000);
    sessions_ack_due (table, bob, 2005);
    sessions_ack_due (table, ann, 2010);
    assert_true (sessions_acks_due (table, &since));
    assert_int_equal (since, 2000); /* the oldest */
    sessions_end (table, bob);
    assert_ptr_equal (sessions_next_ack_due (table), ann);
    assert_null (sessions_next_ack_due (table));
    assert_false (sessions_acks_due (table, &since));
    sessions_destroy (&table);
}

static void
s_tell (void *arg, conn_t *conn, session_t *session)
{
    (void) session;
    assert_non_null (conn);
    (*(int *) arg)++;
}

static void
end_all_tells_every_connected_session (void **state)
{
    (void) state;
    sessions_t *table = sessions_new (2000);
    conn_t *replaced = NULL;
    char id [16], user [16];
    for (int i = 0; i < 1000; i++) {
        snprintf (id, sizeof id, "c%d", i);
        snprintf (user, sizeof user, "u%d", i);
        sessions_bind (table, s_conn (table, id), user, 1, 0, 1000, &replaced);
    }
    int told = 0;
    sessions_end_all (table, s_tell, &told);
    assert_int_equal (told, 1000);
    assert_int_equal (sessions_count (table), 0);
    assert_null (s_conn (table, "c7")->session);
    sessions_destroy (&table);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (rebind_by_the_same_connection_keeps_what_was_acked),
        cmocka_unit_test (bind_from_another_connection_replaces),
        cmocka_unit_test (acks_due_are_listed_once_and_forgotten_with_their_session),
        cmocka_unit_test (end_all_tells_every_connected_session),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
