/*  test_pending.c - the table of waiting requests: writes by (cid, seq), reads by
    context, never confused with each other, bounded, and emptied one by one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "pending.h"

static void
writes_are_found_by_cid_and_seq (void **state)
{
    (void) state;
    pending_table_t *table = pending_new ();
    bool existed;
    pending_t *a = pending_add (table, 7, 1, &existed);
    assert_non_null (a);
    assert_false (existed);
    assert_int_equal (a->cid, 7);
    assert_int_equal (a->seq, 1);
    pending_t *b = pending_add (table, 7, 2, &existed);
    pending_t *c = pending_add (table, 8, 1, &existed);
    assert_true (a != b && a != c && b != c);
    assert_ptr_equal (pending_add (table, 7, 1, &existed), a); /* a retry */
    assert_true (existed);
    assert_ptr_equal (pending_find (table, 8, 1), c);
    assert_null (pending_find (table, 8, 2));
    pending_remove (table, b);
    assert_null (pending_find (table, 7, 2));
    assert_ptr_equal (pending_find (table, 7, 1), a);
    pending_destroy (&table);
    assert_null (table);
}

static void
reads_and_writes_do_not_collide (void **state)
{
    (void) state;
    pending_table_t *table = pending_new ();
    pending_t *r1 = pending_add_read (table);
    pending_t *r2 = pending_add_read (table);
    assert_non_null (r1);
    assert_true (r2->read_ctx != r1->read_ctx);
    bool existed;
    /* a write whose (cid, seq) equals a read's (ctx, 0) is another entry */
    pending_t *w = pending_add (table, r1->read_ctx, 0, &existed);
    assert_false (existed);
    assert_true (w != r1);
    assert_ptr_equal (pending_find_read (table, r1->read_ctx), r1);
    assert_ptr_equal (pending_find (table, r1->read_ctx, 0), w);
    uint64_t ctx1 = r1->read_ctx;
    pending_remove (table, r1);
    assert_null (pending_find_read (table, ctx1));
    assert_ptr_equal (pending_find (table, ctx1, 0), w); /* the write stays */
    assert_ptr_equal (pending_find_read (table, r2->read_ctx), r2);
    pending_destroy (&table);
}

static void
s_count (void *arg, pending_t *entry)
{
    (void) entry;
    (*(uint64_t *) arg)++;
}

static void
full_table_refuses_and_drains (void **state)
{
    (void) state;
    pending_table_t *table = pending_new ();
    bool existed;
    for (uint64_t i = 0; i < PENDING_MAX; i++)
        assert_non_null (pending_add (table, 1, i, &existed));
    assert_null (pending_add (table, 2, 0, &existed));
    assert_null (pending_add_read (table));
    assert_non_null (pending_add (table, 1, 5, &existed)); /* a retry still finds its own */
    uint64_t n = 0;
    pending_clear (table, s_count, &n);
    assert_int_equal (n, PENDING_MAX);
    assert_null (pending_find (table, 1, 5));
    assert_non_null (pending_add (table, 2, 0, &existed));
    pending_destroy (&table);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (writes_are_found_by_cid_and_seq),
        cmocka_unit_test (reads_and_writes_do_not_collide),
        cmocka_unit_test (full_table_refuses_and_drains),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
