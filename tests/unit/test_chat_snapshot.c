/*  test_chat_snapshot.c - the chat state survives save/load exactly, and hostile
    snapshot bytes never crash the loader and always leave the state empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <msgpack.h>
#include "chat.h"
#include "fixture.h"

static zc_bytes_t
s_bytes (const char *s)
{
    return (zc_bytes_t) { s, (uint32_t) strlen (s) };
}

/* One random command of every kind, with client ids and seqs that collide often. */
static void
s_random_step (chat_t *chat, uint64_t index, uint64_t *rng)
{
    static const char *names [] = { "ann", "bo", "cy", "dee", "ed", "flo", "gus", "hal" };
    static const char *texts [] = { "", "hi", "a, b\nc", "\xc3\xa9t\xc3\xa9" };
    static const char *creds [] = { "", "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA",
                                    "$argon2id$v=19$m=19456,t=2,p=1$wy3TB0GiifR73fqVBDzyxA$"
                                    "gWHS9Rp0EPTrbb4PmzecwPyiY0yx0CgQs18nWp7Ffdw" };
    zc_command_t cmd = {
        .op = (zc_op_t) (fixture_rand (rng) % ZC_OP__COUNT),
        .ts = index * 7,
        .cid = fixture_rand (rng) % 6,
        .seq = 1 + fixture_rand (rng) % 300,
        .name = s_bytes (names [fixture_rand (rng) % 8]),
        .from = s_bytes (names [fixture_rand (rng) % 8]),
        .text = s_bytes (texts [fixture_rand (rng) % 4]),
        .mseq = fixture_rand (rng) % 12,
        .cred = s_bytes (creds [fixture_rand (rng) % 3]),
    };
    if (cmd.op == ZC_OP_DELETE && fixture_rand (rng) % 3)
        cmd.op = ZC_OP_SEND; /* keep queues long enough to matter */
    chat_user_exists (chat, cmd.name.ptr, cmd.name.len, &cmd.epoch);
    chat_result_t r;
    chat_apply (chat, index, &cmd, &r);
}

static chat_limits_t s_limits = { 6, 20, 4 };

static chat_t *
s_random_chat (uint64_t seed, uint64_t steps)
{
    chat_t *chat = chat_new (&s_limits);
    assert_non_null (chat);
    for (uint64_t i = 1; i <= steps; i++)
        s_random_step (chat, i, &seed);
    return chat;
}

static void
s_assert_empty (chat_t *chat)
{
    chat_t *empty = chat_new (&s_limits);
    assert_int_equal (chat_user_count (chat), 0);
    assert_int_equal (chat_queued_count (chat), 0);
    assert_int_equal (chat_queued_bytes (chat), 0);
    assert_int_equal (chat_digest (chat), chat_digest (empty));
    chat_destroy (&empty);
}

/* ---- round trips ---- */

static void
credential_survives_a_snapshot (void **state)
{
    (void) state;
    const char *cred = "$argon2id$v=19$m=19456,t=2,p=1$wy3TB0GiifR73fqVBDzyxA$"
                       "gWHS9Rp0EPTrbb4PmzecwPyiY0yx0CgQs18nWp7Ffdw";
    chat_t *a = chat_new (&s_limits), *b = chat_new (&s_limits);
    zc_command_t create = {
        .op = ZC_OP_CREATE, .cid = 1, .seq = 1, .name = s_bytes ("ann"), .cred = s_bytes (cred)
    };
    chat_result_t r;
    chat_apply (a, 1, &create, &r);
    assert_int_equal (r.code, ZC_OK);
    uint8_t *buf;
    size_t len;
    assert_int_equal (chat_snapshot_save (a, &buf, &len), 0);
    assert_int_equal (chat_snapshot_load (b, buf, len), ZC_OK);
    uint64_t epoch;
    zc_bytes_t got;
    assert_true (chat_user_cred (b, "ann", 3, &epoch, &got));
    assert_int_equal (epoch, 1);
    assert_int_equal (got.len, strlen (cred));
    assert_memory_equal (got.ptr, cred, got.len);
    free (buf);
    chat_destroy (&a);
    chat_destroy (&b);
}

static void
empty_state_round_trips (void **state)
{
    (void) state;
    chat_t *a = chat_new (&s_limits), *b = chat_new (&s_limits);
    uint8_t *buf;
    size_t len;
    assert_int_equal (chat_snapshot_save (a, &buf, &len), 0);
    assert_int_equal (chat_snapshot_load (b, buf, len), ZC_OK);
    assert_int_equal (chat_digest (a), chat_digest (b));
    free (buf);
    chat_destroy (&a);
    chat_destroy (&b);
}

static void
round_trip_keeps_state_and_its_future (void **state)
{
    (void) state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        chat_t *a = s_random_chat (seed * 7919, 3000);
        assert_true (chat_user_count (a) > 0);
        uint8_t *buf, *again;
        size_t len, again_len;
        assert_int_equal (chat_snapshot_save (a, &buf, &len), 0);
        chat_t *b = chat_new (&s_limits);
        assert_int_equal (chat_snapshot_load (b, buf, len), ZC_OK);
        assert_int_equal (chat_digest (a), chat_digest (b));
        assert_int_equal (chat_user_count (a), chat_user_count (b));
        assert_int_equal (chat_queued_count (a), chat_queued_count (b));
        assert_int_equal (chat_queued_bytes (a), chat_queued_bytes (b));
        assert_int_equal (chat_snapshot_save (b, &again, &again_len), 0);
        assert_int_equal (again_len, len);
        assert_memory_equal (again, buf, len);
        /* the same further commands (dedup, eviction, acks) give the same states */
        uint64_t rng_a = seed, rng_b = seed;
        for (uint64_t i = 3001; i <= 5000; i++) {
            s_random_step (a, i, &rng_a);
            s_random_step (b, i, &rng_b);
        }
        assert_int_equal (chat_digest (a), chat_digest (b));
        free (buf);
        free (again);
        chat_destroy (&a);
        chat_destroy (&b);
    }
}

static void
load_replaces_existing_state (void **state)
{
    (void) state;
    chat_t *a = s_random_chat (5, 500);
    chat_t *b = s_random_chat (6, 500);
    assert_int_not_equal (chat_digest (a), chat_digest (b));
    uint8_t *buf;
    size_t len;
    assert_int_equal (chat_snapshot_save (a, &buf, &len), 0);
    assert_int_equal (chat_snapshot_load (b, buf, len), ZC_OK);
    assert_int_equal (chat_digest (a), chat_digest (b));
    free (buf);
    chat_destroy (&a);
    chat_destroy (&b);
}

/* ---- hostile bytes ---- */

static void
every_truncation_fails_and_leaves_state_empty (void **state)
{
    (void) state;
    chat_t *a = s_random_chat (11, 2000);
    uint8_t *buf;
    size_t len;
    assert_int_equal (chat_snapshot_save (a, &buf, &len), 0);
    chat_t *b = chat_new (&s_limits);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc (cut ? cut : 1); /* exact size: ASan sees any overread */
        memcpy (copy, buf, cut);
        assert_int_not_equal (chat_snapshot_load (b, copy, cut), ZC_OK);
        s_assert_empty (b);
        free (copy);
    }
    assert_int_equal (chat_snapshot_load (b, NULL, 0), ZC_ERR_TRUNCATED);
    free (buf);
    chat_destroy (&a);
    chat_destroy (&b);
}

static void
random_corruption_never_crashes (void **state)
{
    (void) state;
    chat_t *a = s_random_chat (13, 2000);
    uint8_t *buf;
    size_t len;
    assert_int_equal (chat_snapshot_save (a, &buf, &len), 0);
    chat_t *b = chat_new (&s_limits);
    uint64_t rng = 99;
    uint8_t *copy = malloc (len);
    for (int round = 0; round < 3000; round++) {
        memcpy (copy, buf, len);
        int flips = 1 + (int) (fixture_rand (&rng) % 4);
        for (int f = 0; f < flips; f++)
            copy [fixture_rand (&rng) % len] = (uint8_t) fixture_rand (&rng);
        zc_code_t code = chat_snapshot_load (b, copy, len);
        if (code != ZC_OK)
            s_assert_empty (b);
        else {
            /* accepted bytes must describe a state that saves and loads again */
            uint8_t *out;
            size_t out_len;
            assert_int_equal (chat_snapshot_save (b, &out, &out_len), 0);
            chat_t *c = chat_new (&s_limits);
            assert_int_equal (chat_snapshot_load (c, out, out_len), ZC_OK);
            assert_int_equal (chat_digest (b), chat_digest (c));
            chat_destroy (&c);
            free (out);
        }
    }
    free (copy);
    free (buf);
    chat_destroy (&a);
    chat_destroy (&b);
}

static void
trailing_bytes_are_rejected (void **state)
{
    (void) state;
    chat_t *a = s_random_chat (17, 300);
    uint8_t *buf;
    size_t len;
    assert_int_equal (chat_snapshot_save (a, &buf, &len), 0);
    uint8_t *longer = malloc (len + 1);
    memcpy (longer, buf, len);
    longer [len] = 0xc0;
    assert_int_equal (chat_snapshot_load (a, longer, len + 1), ZC_ERR_TRAILING);
    s_assert_empty (a);
    free (longer);
    free (buf);
    chat_destroy (&a);
}

static void
snapshot_over_this_replicas_limits_is_rejected (void **state)
{
    (void) state;
    chat_t *a = s_random_chat (19, 3000);
    uint8_t *buf;
    size_t len;
    assert_int_equal (chat_snapshot_save (a, &buf, &len), 0);
    chat_limits_t small = { 1, s_limits.max_queue, s_limits.max_clients };
    chat_t *b = chat_new (&small);
    assert_int_equal (chat_snapshot_load (b, buf, len), ZC_ERR_TOO_LARGE);
    assert_int_equal (chat_user_count (b), 0);
    chat_destroy (&b);
    small = (chat_limits_t) { s_limits.max_users, s_limits.max_queue, 1 };
    b = chat_new (&small);
    assert_int_equal (chat_snapshot_load (b, buf, len), ZC_ERR_TOO_LARGE);
    assert_int_equal (chat_user_count (b), 0);
    chat_destroy (&b);
    free (buf);
    chat_destroy (&a);
}

/* ---- hand-built snapshots, one flaw each (layout: schema/SNAPSHOT_BODY.md) ---- */

typedef struct {
    const char *magic;
    uint64_t version;
    uint64_t counters [3];
    const char *names [2]; /* two users, each with one queued message */
    uint64_t next_mseq;
    uint64_t mseqs [2]; /* the messages of the first user (two of them) */
    const char *from;
    size_t text_len;
    uint64_t cids [2];
    uint64_t last_active [2];
    uint8_t stray_code; /* code byte in a slot whose bit is clear */
    uint32_t user_count_override;
} s_spec_t;

static s_spec_t
s_valid_spec (void)
{
    s_spec_t spec = {
        .magic = "zchat.chat",
        .version = 1,
        .counters = { 2, 3, 3 },
        .names = { "ann", "bob" },
        .next_mseq = 5,
        .mseqs = { 2, 4 },
        .from = "cy",
        .text_len = 1,
        .cids = { 10, 11 },
        .last_active = { 3, 4 },
    };
    return spec;
}

static void
s_pack_str (msgpack_packer *pk, const char *s)
{
    msgpack_pack_str (pk, strlen (s));
    msgpack_pack_str_body (pk, s, strlen (s));
}

static void
s_pack_msg (msgpack_packer *pk, const s_spec_t *spec, uint64_t mseq)
{
    static const char text [ZC_TEXT_MAX + 8];
    msgpack_pack_array (pk, 4);
    msgpack_pack_uint64 (pk, mseq);
    msgpack_pack_uint64 (pk, 123);
    s_pack_str (pk, spec->from);
    msgpack_pack_bin (pk, spec->text_len);
    msgpack_pack_bin_body (pk, text, spec->text_len);
}

static void
s_pack_client (msgpack_packer *pk, const s_spec_t *spec, int i)
{
    uint8_t bitmap [32] = { 0x02 }, codes [256] = { 0, 12 }; /* seq 1 applied, failed */
    codes [9] = spec->stray_code;
    msgpack_pack_array (pk, 6);
    msgpack_pack_uint64 (pk, spec->cids [i]);
    msgpack_pack_uint64 (pk, 1);
    msgpack_pack_uint64 (pk, spec->last_active [i]);
    msgpack_pack_bin (pk, 32);
    msgpack_pack_bin_body (pk, bitmap, 32);
    msgpack_pack_bin (pk, 256);
    msgpack_pack_bin_body (pk, codes, 256);
    msgpack_pack_array (pk, 1); /* the value of seq 1: none, it failed */
    msgpack_pack_uint64 (pk, 0);
}

static zc_code_t
s_load_spec (const s_spec_t *spec, chat_t **chat_out)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, 5);
    s_pack_str (&pk, spec->magic);
    msgpack_pack_uint64 (&pk, spec->version);
    msgpack_pack_array (&pk, 3);
    for (int i = 0; i < 3; i++)
        msgpack_pack_uint64 (&pk, spec->counters [i]);
    msgpack_pack_array (&pk, spec->user_count_override ? spec->user_count_override : 2);
    for (int u = 0; u < 2; u++) {
        msgpack_pack_array (&pk, 4);
        s_pack_str (&pk, spec->names [u]);
        msgpack_pack_uint64 (&pk, 1 + u);
        msgpack_pack_uint64 (&pk, spec->next_mseq);
        msgpack_pack_array (&pk, u == 0 ? 2 : 1);
        for (int m = 0; m < (u == 0 ? 2 : 1); m++)
            s_pack_msg (&pk, spec, u == 0 ? spec->mseqs [m] : 1);
    }
    msgpack_pack_array (&pk, 2);
    for (int i = 0; i < 2; i++)
        s_pack_client (&pk, spec, i);
    chat_t *chat = chat_new (&s_limits);
    zc_code_t code = chat_snapshot_load (chat, (const uint8_t *) sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
    if (code != ZC_OK)
        s_assert_empty (chat);
    if (chat_out)
        *chat_out = chat;
    else
        chat_destroy (&chat);
    return code;
}

static void
hand_built_valid_snapshot_loads (void **state)
{
    (void) state;
    s_spec_t spec = s_valid_spec ();
    chat_t *chat;
    assert_int_equal (s_load_spec (&spec, &chat), ZC_OK);
    chat_message_t out [4];
    assert_int_equal (chat_queue_peek (chat, "ann", 3, 1, 0, out, 4), 2);
    assert_int_equal (out [1].mseq, 4);
    /* the client table came along: seq 1 of client 10 is answered as it was (12) */
    zc_command_t retry = { .op = ZC_OP_SEND, .cid = 10, .seq = 1, .name = s_bytes ("ann") };
    chat_result_t r;
    chat_apply (chat, 9, &retry, &r);
    assert_true (r.duplicate);
    assert_int_equal (r.code, ZC_ERR_NO_SUCH_USER);
    chat_destroy (&chat);
}

static void
snapshot_with_bad_values_is_rejected (void **state)
{
    (void) state;
    s_spec_t spec;
#define REJECT(field_assignment, expected)                                                         \
    spec = s_valid_spec ();                                                                        \
    field_assignment;                                                                              \
    assert_int_equal (s_load_spec (&spec, NULL), expected)
    REJECT (spec.magic = "zchat.xxxx", ZC_ERR_BAD_TYPE);
    REJECT (spec.version = 2, ZC_ERR_BAD_TYPE);
    REJECT (spec.counters [1] = 4, ZC_ERR_BAD_TYPE);
    REJECT (spec.names [0] = "a n", ZC_ERR_BAD_NAME);
    REJECT (spec.names [1] = "ann", ZC_ERR_BAD_TYPE); /* duplicate user */
    REJECT (spec.names [0] = "cat", ZC_ERR_BAD_TYPE); /* not sorted */
    REJECT (spec.mseqs [1] = 2, ZC_ERR_BAD_TYPE);     /* not increasing */
    REJECT (spec.mseqs [0] = 0, ZC_ERR_BAD_TYPE);
    REJECT (spec.next_mseq = 4, ZC_ERR_BAD_TYPE); /* mseq 4 not yet assigned */
    REJECT (spec.from = "not a name", ZC_ERR_BAD_NAME);
    REJECT (spec.text_len = ZC_TEXT_MAX + 1, ZC_ERR_TOO_LARGE);
    REJECT (spec.cids [1] = 10, ZC_ERR_BAD_TYPE); /* duplicate client */
    REJECT (spec.cids [0] = 0, ZC_ERR_BAD_TYPE);
    REJECT (spec.last_active [1] = 2, ZC_ERR_BAD_TYPE); /* activity out of order */
    REJECT (spec.stray_code = 8, ZC_ERR_BAD_TYPE);
    REJECT (spec.user_count_override = 0xffffffffu, ZC_ERR_TOO_LARGE);
#undef REJECT
}

static void
huge_counts_end_in_truncated_without_allocating (void **state)
{
    (void) state;
    /* [magic, 1, [0,0,0], users: array32 of 5 (within limits) but only bytes for none] */
    const uint8_t bytes [] = { 0x95, 0xaa, 'z',  'c',  'h',  'a',  't',  '.',  'c',  'h',  'a',
                               't',  0x01, 0x93, 0x00, 0x00, 0x00, 0xdd, 0x00, 0x00, 0x00, 0x05 };
    chat_t *chat = chat_new (&s_limits);
    assert_int_equal (chat_snapshot_load (chat, bytes, sizeof (bytes)), ZC_ERR_TRUNCATED);
    s_assert_empty (chat);
    chat_destroy (&chat);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (empty_state_round_trips),
        cmocka_unit_test (credential_survives_a_snapshot),
        cmocka_unit_test (round_trip_keeps_state_and_its_future),
        cmocka_unit_test (load_replaces_existing_state),
        cmocka_unit_test (every_truncation_fails_and_leaves_state_empty),
        cmocka_unit_test (random_corruption_never_crashes),
        cmocka_unit_test (trailing_bytes_are_rejected),
        cmocka_unit_test (snapshot_over_this_replicas_limits_is_rejected),
        cmocka_unit_test (hand_built_valid_snapshot_loads),
        cmocka_unit_test (snapshot_with_bad_values_is_rejected),
        cmocka_unit_test (huge_counts_end_in_truncated_without_allocating),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
