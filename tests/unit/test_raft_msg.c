/*  test_raft_msg.c - peer frame codec: every type round trips, big batches, hostile frames. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "raft_msg.h"

#define MAX_ENTRIES 1024

static raft_entry_t s_in [MAX_ENTRIES];
static raft_entry_t s_out [MAX_ENTRIES];

/* An APPEND from leader 1 in term 7 with n entries after prev_index 100 (term 6). */
static void
make_append (raft_msg_t *m, uint32_t n)
{
    static const char *data [] = { "", "a", "bb\0b", "some command bytes" };
    static const uint32_t lens [] = { 0, 1, 4, 18 };
    memset (m, 0, sizeof *m);
    m->type = RAFT_MSG_APPEND;
    m->from = 1;
    m->to = RAFT_BROADCAST;
    m->term = 7;
    m->prev_index = 100;
    m->prev_term = 6;
    m->commit = 99;
    m->read_ctx = 12345;
    for (uint32_t i = 0; i < n; i++) {
        s_in [i].index = 101 + i;
        s_in [i].term = i < n / 2 ? 6 : 7;
        s_in [i].data = (const uint8_t *) data [i % 4];
        s_in [i].len = lens [i % 4];
    }
    m->entries = s_in;
    m->n_entries = n;
}

static void
assert_same (const raft_msg_t *a, const raft_msg_t *b)
{
    assert_int_equal (a->type, b->type);
    assert_int_equal (a->from, b->from);
    assert_int_equal (a->to, b->to);
    assert_true (a->term == b->term && a->prev_index == b->prev_index);
    assert_true (a->prev_term == b->prev_term && a->commit == b->commit);
    assert_true (a->reject == b->reject && a->match == b->match && a->hint == b->hint);
    assert_true (a->prevote == b->prevote && a->granted == b->granted);
    assert_true (a->transfer == b->transfer);
    assert_true (a->last_index == b->last_index && a->last_term == b->last_term);
    assert_true (a->read_ctx == b->read_ctx);
    assert_true (a->snap_index == b->snap_index && a->snap_term == b->snap_term);
    assert_int_equal (a->n_entries, b->n_entries);
    for (uint32_t i = 0; i < a->n_entries; i++) {
        assert_true (a->entries [i].term == b->entries [i].term);
        assert_true (a->entries [i].index == b->entries [i].index);
        assert_int_equal (a->entries [i].len, b->entries [i].len);
        if (a->entries [i].len)
            assert_memory_equal (a->entries [i].data, b->entries [i].data, a->entries [i].len);
    }
}

static void
round_trip (const raft_msg_t *m)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    raft_msg_t d;
    assert_int_equal (raft_msg_encode (m, &buf, &len), ZC_OK);
    assert_non_null (buf);
    assert_int_equal (buf [0], 1);
    assert_int_equal (raft_msg_decode (buf, len, &d, s_out, MAX_ENTRIES), ZC_OK);
    assert_same (m, &d);
    free (buf);
}

static void
every_type_round_trips (void **state)
{
    (void) state;
    raft_msg_t m;
    make_append (&m, 4);
    round_trip (&m);
    make_append (&m, 0); /* heartbeat */
    round_trip (&m);
    m = (raft_msg_t) { .type = RAFT_MSG_APPEND_RESP,
                       .from = 3,
                       .to = 1,
                       .term = 7,
                       .reject = true,
                       .match = 5,
                       .hint = UINT64_MAX,
                       .read_ctx = 9 };
    round_trip (&m);
    m = (raft_msg_t) { .type = RAFT_MSG_VOTE,
                       .from = 2,
                       .to = 5,
                       .term = 8,
                       .prevote = true,
                       .last_index = 1000,
                       .last_term = 7 };
    round_trip (&m);
    m = (raft_msg_t) {
        .type = RAFT_MSG_VOTE_RESP, .from = 5, .to = 2, .term = 8, .prevote = true, .granted = true
    };
    round_trip (&m);
    m = (raft_msg_t) { .type = RAFT_MSG_SNAPSHOT,
                       .from = 1,
                       .to = 7,
                       .term = 8,
                       .snap_index = 1u << 30,
                       .snap_term = 6 };
    round_trip (&m);
    m = (raft_msg_t) { .type = RAFT_MSG_TIMEOUT_NOW, .from = 1, .to = 2, .term = UINT64_MAX };
    round_trip (&m);
}

static void
thousand_entry_append_round_trips (void **state)
{
    (void) state;
    raft_msg_t m;
    make_append (&m, 1000);
    round_trip (&m);
}

static void
hostile_appends_are_rejected (void **state)
{
    (void) state;
    raft_msg_t m, d;
    uint8_t *buf;
    size_t len;

    make_append (&m, 10); /* more entries than the caller holds */
    assert_int_equal (raft_msg_encode (&m, &buf, &len), ZC_OK);
    assert_int_equal (raft_msg_decode (buf, len, &d, s_out, 9), ZC_ERR_TOO_LARGE);
    assert_int_equal (raft_msg_decode (buf, len, &d, s_out, 10), ZC_OK);
    free (buf);

    make_append (&m, 10);
    s_in [5].index = 107; /* gap: 105, 107 */
    assert_int_equal (raft_msg_encode (&m, &buf, &len), ZC_OK);
    assert_int_equal (raft_msg_decode (buf, len, &d, s_out, MAX_ENTRIES), ZC_ERR_BAD_TYPE);
    free (buf);

    make_append (&m, 3);
    s_in [0].index = 100; /* does not follow prev_index */
    s_in [1].index = 101;
    s_in [2].index = 102;
    assert_int_equal (raft_msg_encode (&m, &buf, &len), ZC_OK);
    assert_int_equal (raft_msg_decode (buf, len, &d, s_out, MAX_ENTRIES), ZC_ERR_BAD_TYPE);
    free (buf);

    make_append (&m, 3);
    s_in [2].term = 8; /* entry term above the leader's */
    assert_int_equal (raft_msg_encode (&m, &buf, &len), ZC_OK);
    assert_int_equal (raft_msg_decode (buf, len, &d, s_out, MAX_ENTRIES), ZC_ERR_BAD_TYPE);
    free (buf);

    make_append (&m, 3);
    s_in [0].term = 5; /* entry term below prev_term */
    assert_int_equal (raft_msg_encode (&m, &buf, &len), ZC_OK);
    assert_int_equal (raft_msg_decode (buf, len, &d, s_out, MAX_ENTRIES), ZC_ERR_BAD_TYPE);
    free (buf);

    make_append (&m, 2);
    m.prev_index = UINT64_MAX - 1; /* indexes would wrap */
    s_in [0].index = UINT64_MAX;
    s_in [1].index = 0;
    assert_int_equal (raft_msg_encode (&m, &buf, &len), ZC_OK);
    assert_int_equal (raft_msg_decode (buf, len, &d, s_out, MAX_ENTRIES), ZC_ERR_BAD_TYPE);
    free (buf);
}

static void
hostile_headers_are_rejected (void **state)
{
    (void) state;
    raft_msg_t m, d;
    uint8_t *buf;
    size_t len;
    m = (raft_msg_t) { .type = RAFT_MSG_VOTE, .from = 2, .to = 3, .term = 8 };
    assert_int_equal (raft_msg_encode (&m, &buf, &len), ZC_OK);
    buf [0] = 2; /* unknown version */
    assert_int_equal (raft_msg_decode (buf, len, &d, NULL, 0), ZC_ERR_BAD_TYPE);
    buf [0] = 1;
    buf [2] = 7; /* unknown type */
    assert_int_equal (raft_msg_decode (buf, len, &d, NULL, 0), ZC_ERR_UNKNOWN_COMMAND);
    buf [2] = RAFT_MSG_TIMEOUT_NOW; /* arity of another type */
    assert_int_equal (raft_msg_decode (buf, len, &d, NULL, 0), ZC_ERR_BAD_TYPE);
    buf [2] = RAFT_MSG_VOTE;
    buf [3] = 0; /* from 0 */
    assert_int_equal (raft_msg_decode (buf, len, &d, NULL, 0), ZC_ERR_BAD_TYPE);
    buf [3] = RAFT_MAX_ID + 1;
    assert_int_equal (raft_msg_decode (buf, len, &d, NULL, 0), ZC_ERR_BAD_TYPE);
    buf [3] = 2;
    buf [4] = RAFT_BROADCAST; /* broadcast is only for APPEND */
    assert_int_equal (raft_msg_decode (buf, len, &d, NULL, 0), ZC_ERR_BAD_TYPE);
    buf [4] = 3;
    buf [6] = 0x01; /* prevote as int, not bool */
    assert_int_equal (raft_msg_decode (buf, len, &d, NULL, 0), ZC_ERR_BAD_TYPE);
    buf [6] = 0xc2;
    assert_int_equal (raft_msg_decode (buf, len, &d, NULL, 0), ZC_OK);
    free (buf);
    uint8_t trailing [] = { 1, 0x94, 6, 1, 2, 3, 0 };
    assert_int_equal (raft_msg_decode (trailing, sizeof trailing - 1, &d, NULL, 0), ZC_OK);
    assert_int_equal (raft_msg_decode (trailing, sizeof trailing, &d, NULL, 0), ZC_ERR_TRAILING);
    assert_int_equal (raft_msg_decode (trailing, 1, &d, NULL, 0), ZC_ERR_TRUNCATED);
    assert_int_equal (raft_msg_decode (trailing, RAFT_PEER_FRAME_MAX + 1, &d, NULL, 0),
                      ZC_ERR_TOO_LARGE);
}

static void
every_truncation_and_corruption_is_handled (void **state)
{
    (void) state;
    raft_msg_t m, d;
    uint8_t *buf;
    size_t len;
    make_append (&m, 4);
    assert_int_equal (raft_msg_encode (&m, &buf, &len), ZC_OK);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc (cut ? cut : 1);
        memcpy (copy, buf, cut);
        assert_int_equal (raft_msg_decode (copy, cut, &d, s_out, MAX_ENTRIES), ZC_ERR_TRUNCATED);
        free (copy);
    }
    uint8_t *copy = malloc (len);
    for (size_t pos = 0; pos < len; pos++) {
        for (int v = 0; v < 256; v++) {
            memcpy (copy, buf, len);
            copy [pos] = (uint8_t) v;
            if (raft_msg_decode (copy, len, &d, s_out, MAX_ENTRIES) != ZC_OK)
                continue;
            uint8_t *again;
            size_t len2;
            raft_msg_t e;
            assert_int_equal (raft_msg_encode (&d, &again, &len2), ZC_OK);
            assert_int_equal (raft_msg_decode (again, len2, &e, s_in, MAX_ENTRIES), ZC_OK);
            assert_same (&d, &e);
            free (again);
        }
    }
    free (copy);
    free (buf);
}

static void
oversize_append_is_refused (void **state)
{
    (void) state;
    raft_msg_t m;
    uint8_t *buf = (uint8_t *) 1;
    size_t len = 1;
    static uint8_t big [RAFT_PEER_FRAME_MAX / 2];
    make_append (&m, 2);
    s_in [0].data = s_in [1].data = big;
    s_in [0].len = s_in [1].len = sizeof big; /* data alone exactly at the limit */
    assert_int_equal (raft_msg_encode (&m, &buf, &len), ZC_ERR_TOO_LARGE);
    assert_null (buf);
    s_in [1].len = sizeof big - 100; /* fits */
    assert_int_equal (raft_msg_encode (&m, &buf, &len), ZC_OK);
    assert_true (len <= RAFT_PEER_FRAME_MAX);
    raft_msg_t d;
    assert_int_equal (raft_msg_decode (buf, len, &d, s_out, MAX_ENTRIES), ZC_OK);
    assert_int_equal (d.entries [1].len, sizeof big - 100);
    free (buf);
}

/* A transfer campaign's VOTE has one more element; every other VOTE keeps the 7 of
   earlier releases, byte for byte, so mixed versions still elect each other. */
static void
transfer_vote_adds_one_element_only_when_set (void **state)
{
    (void) state;
    raft_msg_t m = {
        .type = RAFT_MSG_VOTE, .from = 2, .to = 1, .term = 9, .last_index = 101, .last_term = 8
    };
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal (raft_msg_encode (&m, &buf, &len), ZC_OK);
    static const uint8_t plain [] = { 0x01, 0x97, 0x03, 0x02, 0x01, 0x09, 0xc2, 0x65, 0x08 };
    assert_int_equal (len, sizeof plain);
    assert_memory_equal (buf, plain, sizeof plain);
    free (buf);
    m.transfer = true;
    assert_int_equal (raft_msg_encode (&m, &buf, &len), ZC_OK);
    static const uint8_t transfer [] = {
        0x01, 0x98, 0x03, 0x02, 0x01, 0x09, 0xc2, 0x65, 0x08, 0xc3
    };
    assert_int_equal (len, sizeof transfer);
    assert_memory_equal (buf, transfer, sizeof transfer);
    free (buf);
    round_trip (&m);
    uint8_t bad [sizeof transfer];
    memcpy (bad, transfer, sizeof bad);
    bad [1] = 0x99; /* 9 elements: never valid */
    raft_msg_t d;
    assert_int_not_equal (raft_msg_decode (bad, sizeof bad, &d, s_out, MAX_ENTRIES), ZC_OK);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (every_type_round_trips),
        cmocka_unit_test (thousand_entry_append_round_trips),
        cmocka_unit_test (hostile_appends_are_rejected),
        cmocka_unit_test (hostile_headers_are_rejected),
        cmocka_unit_test (every_truncation_and_corruption_is_handled),
        cmocka_unit_test (oversize_append_is_refused),
        cmocka_unit_test (transfer_vote_adds_one_element_only_when_set),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
