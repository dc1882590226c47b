/*  test_raft_log.c - the Raft core's in-memory log keeps every live entry's bytes
    intact while compaction and conflict truncation free its data blocks (entries of
    300 KiB make several blocks; under ASan a freed block still in use would fail). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "raft_internal.h"

#define ENTRY_BYTES (300 * 1024)

static uint8_t *
s_pattern (uint64_t index, uint64_t term)
{
    uint8_t *data = malloc (ENTRY_BYTES);
    for (size_t i = 0; i < ENTRY_BYTES; i++)
        data [i] = (uint8_t) (index * 31 + term * 7 + i);
    return data;
}

static void
s_append (raft_log_t *log, uint64_t term)
{
    uint64_t index = raft_log_last (log) + 1;
    uint8_t *data = s_pattern (index, term);
    assert_int_equal (raft_log_append (log, term, data, ENTRY_BYTES), 0);
    free (data);
}

/* Every live entry holds exactly the bytes appended for it. */
static void
s_check (const raft_log_t *log)
{
    for (uint64_t index = log->snap_index + 1; index <= raft_log_last (log); index++) {
        const raft_entry_t *e = raft_log_at (log, index);
        assert_non_null (e);
        assert_int_equal (e->index, index);
        uint8_t *want = s_pattern (index, e->term);
        /* memcmp here, not cmocka's own loop, so ASan checks the reads */
        assert_int_equal (memcmp (e->data, want, ENTRY_BYTES), 0);
        free (want);
    }
}

static void
entries_survive_compaction_across_blocks (void **state)
{
    (void) state;
    raft_log_t log;
    raft_log_init (&log, 0, 0);
    for (int i = 0; i < 20; i++)
        s_append (&log, 1);
    raft_log_compact (&log, 7); /* frees whole blocks before entry 8 */
    assert_int_equal (raft_log_last (&log), 20);
    assert_null (raft_log_at (&log, 7));
    assert_int_equal (raft_log_term (&log, 7), 1);
    s_check (&log);
    for (int i = 0; i < 10; i++)
        s_append (&log, 2);
    raft_log_compact (&log, 25);
    s_check (&log);
    raft_log_free (&log);
}

static void
entries_survive_truncation_across_blocks (void **state)
{
    (void) state;
    raft_log_t log;
    raft_log_init (&log, 0, 0);
    for (int i = 0; i < 20; i++)
        s_append (&log, 1);
    raft_log_truncate_after (&log, 11); /* a conflict: 12..20 go */
    assert_int_equal (raft_log_last (&log), 11);
    s_check (&log);
    for (int i = 0; i < 12; i++) /* new leader's entries fill the gap again */
        s_append (&log, 3);
    s_check (&log);
    raft_log_truncate_after (&log, 2);
    raft_log_compact (&log, 2);
    for (int i = 0; i < 5; i++)
        s_append (&log, 4);
    s_check (&log);
    raft_log_reset (&log, 100, 9); /* a snapshot replaces everything */
    assert_int_equal (raft_log_last (&log), 100);
    s_append (&log, 9);
    s_check (&log);
    raft_log_free (&log);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (entries_survive_compaction_across_blocks),
        cmocka_unit_test (entries_survive_truncation_across_blocks),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
