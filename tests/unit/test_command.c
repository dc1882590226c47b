/*  test_command.c - log-entry command codec: round trips, the on-disk bytes, hostile input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <msgpack.h>
#include "command.h"

#define B(s) ((zc_bytes_t) { (s), (uint32_t) strlen (s) })

static void
make_send (zc_command_t *c)
{
    memset (c, 0, sizeof *c);
    c->op = ZC_OP_SEND;
    c->ts = 1700000000000ull;
    c->cid = 0x1122334455667788ull;
    c->seq = 2;
    c->name = B ("bob");
    c->from = B ("alice");
    c->text = B ("hi, bob\n\xc3\xa7");
}

static size_t
encode (const zc_command_t *c, uint8_t *buf)
{
    size_t len = 0;
    assert_int_equal (zc_command_encode (c, buf, ZC_COMMAND_MAX, &len), ZC_OK);
    assert_true (len > 0 && len <= ZC_COMMAND_MAX);
    return len;
}

static void
assert_same (const zc_command_t *a, const zc_command_t *b)
{
    assert_int_equal (a->op, b->op);
    assert_true (a->ts == b->ts && a->cid == b->cid && a->seq == b->seq);
    assert_true (a->epoch == b->epoch && a->mseq == b->mseq);
    assert_int_equal (a->name.len, b->name.len);
    assert_int_equal (a->from.len, b->from.len);
    assert_int_equal (a->text.len, b->text.len);
    assert_memory_equal (a->name.ptr, b->name.ptr, a->name.len);
    assert_memory_equal (a->from.ptr, b->from.ptr, a->from.len);
    assert_memory_equal (a->text.ptr, b->text.ptr, a->text.len);
}

static void
every_op_round_trips (void **state)
{
    (void) state;
    for (int op = 0; op < ZC_OP__COUNT; op++) {
        zc_command_t c, d;
        uint8_t buf [ZC_COMMAND_MAX];
        make_send (&c);
        c.op = (zc_op_t) op;
        c.epoch = 43 + (uint64_t) op;
        c.mseq = UINT64_MAX - (uint64_t) op;
        size_t len = encode (&c, buf);
        assert_int_equal (zc_command_decode (buf, len, &d), ZC_OK);
        assert_same (&c, &d);
    }
    /* a NOOP with every field empty */
    zc_command_t c = { .op = ZC_OP_NOOP }, d;
    uint8_t buf [ZC_COMMAND_MAX];
    size_t len = encode (&c, buf);
    assert_int_equal (zc_command_decode (buf, len, &d), ZC_OK);
    assert_same (&c, &d);
}

/* The layout is on disk: pin its bytes (documented in PROTOCOL.md). */
static void
encoding_is_stable (void **state)
{
    (void) state;
    zc_command_t c;
    uint8_t buf [ZC_COMMAND_MAX];
    make_send (&c);
    size_t len = encode (&c, buf);
    static const uint8_t want [] = {
        0x9a, 0x03, 0xcf, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0xcf, 0x11, 0x22, 0x33,
        0x44, 0x55, 0x66, 0x77, 0x88, 0x02, 0xa3, 'b',  'o',  'b',  0xa5, 'a',  'l',  'i',  'c',
        'e',  0xaa, 'h',  'i',  ',',  ' ',  'b',  'o',  'b',  '\n', 0xc3, 0xa7, 0x00, 0x00, 0xa0,
    };
    if (getenv ("ZCHAT_PRINT_EXAMPLES")) {
        for (size_t i = 0; i < len; i++)
            printf ("%02x%s", buf [i], i % 16 == 15 ? "\n" : " ");
        printf ("\n");
    }
    assert_int_equal (len, sizeof want);
    assert_memory_equal (buf, want, len);
}

/* Logs written before credentials hold 9-element commands: they still decode. */
static void
first_format_still_decodes (void **state)
{
    (void) state;
    static const uint8_t v1 [] = {
        /* PROTOCOL.md section 10: CREATE alice */
        0x99, 0x01, 0xcf, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,
        0xcf, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x01, 0xa5,
        'a',  'l',  'i',  'c',  'e',  0xa0, 0xa0, 0x00, 0x00,
    };
    zc_command_t c;
    assert_int_equal (zc_command_decode (v1, sizeof v1, &c), ZC_OK);
    assert_int_equal (c.op, ZC_OP_CREATE);
    assert_int_equal (c.name.len, 5);
    assert_int_equal (c.cred.len, 0);
    /* and a credential too long for any Argon2id string is refused */
    char cred [ZC_CRED_MAX + 1];
    memset (cred, 'h', sizeof cred);
    zc_command_t big = { .op = ZC_OP_PASSWD,
                         .name = { "alice", 5 },
                         .cred = { cred, sizeof cred } };
    uint8_t buf [ZC_COMMAND_MAX];
    size_t len = encode (&big, buf);
    assert_int_equal (zc_command_decode (buf, len, &c), ZC_ERR_TOO_LARGE);
}

static void
largest_send_fits (void **state)
{
    (void) state;
    char name [ZC_NAME_MAX], text [ZC_TEXT_MAX];
    memset (name, 'n', sizeof name);
    memset (text, 't', sizeof text);
    zc_command_t c, d;
    uint8_t buf [ZC_COMMAND_MAX];
    make_send (&c);
    c.ts = c.cid = c.seq = c.epoch = c.mseq = UINT64_MAX;
    c.name = c.from = (zc_bytes_t) { name, sizeof name };
    c.text = (zc_bytes_t) { text, sizeof text };
    size_t len = encode (&c, buf);
    assert_int_equal (zc_command_decode (buf, len, &d), ZC_OK);
    assert_same (&c, &d);
}

static void
too_small_buffer_is_too_large (void **state)
{
    (void) state;
    zc_command_t c;
    uint8_t buf [64];
    memset (buf, 0xee, sizeof buf);
    make_send (&c);
    size_t len = 0;
    assert_int_equal (zc_command_encode (&c, buf, 20, &len), ZC_ERR_TOO_LARGE);
    for (size_t i = 20; i < sizeof buf; i++)
        assert_int_equal (buf [i], 0xee);
    assert_int_equal (zc_command_decode (buf, ZC_COMMAND_MAX + 1, &c), ZC_ERR_TOO_LARGE);
}

static void
every_truncation_is_truncated (void **state)
{
    (void) state;
    zc_command_t c;
    uint8_t buf [ZC_COMMAND_MAX];
    make_send (&c);
    size_t len = encode (&c, buf);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc (cut ? cut : 1);
        memcpy (copy, buf, cut);
        assert_int_equal (zc_command_decode (copy, cut, &c), ZC_ERR_TRUNCATED);
        free (copy);
    }
}

static void
every_single_byte_corruption_is_handled (void **state)
{
    (void) state;
    zc_command_t c, d;
    uint8_t buf [ZC_COMMAND_MAX], copy [ZC_COMMAND_MAX], again [ZC_COMMAND_MAX];
    make_send (&c);
    size_t len = encode (&c, buf);
    for (size_t pos = 0; pos < len; pos++) {
        for (int v = 0; v < 256; v++) {
            memcpy (copy, buf, len);
            copy [pos] = (uint8_t) v;
            zc_code_t rc = zc_command_decode (copy, len, &c);
            if (rc != ZC_OK)
                continue;
            size_t len2 = encode (&c, again);
            assert_int_equal (zc_command_decode (again, len2, &d), ZC_OK);
            assert_same (&c, &d);
        }
    }
}

static void
hostile_shapes_are_rejected (void **state)
{
    (void) state;
    zc_command_t c;
    uint8_t buf [ZC_COMMAND_MAX];
    make_send (&c);
    size_t len = encode (&c, buf);
    buf [len] = 0x00;
    assert_int_equal (zc_command_decode (buf, len + 1, &c), ZC_ERR_TRAILING);

    make_send (&c);
    len = encode (&c, buf);
    buf [1] = ZC_OP__COUNT; /* op out of range */
    assert_int_equal (zc_command_decode (buf, len, &c), ZC_ERR_UNKNOWN_COMMAND);
    buf [1] = 0xff; /* op negative */
    assert_int_equal (zc_command_decode (buf, len, &c), ZC_ERR_BAD_TYPE);

    make_send (&c);
    len = encode (&c, buf);
    buf [0] = 0x98; /* 8 elements, not 9 */
    assert_int_equal (zc_command_decode (buf, len, &c), ZC_ERR_BAD_TYPE);
    buf [0] = 0x89; /* a map, not an array */
    assert_int_equal (zc_command_decode (buf, len, &c), ZC_ERR_BAD_TYPE);

    make_send (&c);
    c.text = B ("\xed\xa0\x80"); /* surrogate */
    len = encode (&c, buf);
    assert_int_equal (zc_command_decode (buf, len, &c), ZC_ERR_BAD_UTF8);

    make_send (&c);
    len = encode (&c, buf);
    buf [21] = 0xc4; /* name as bin instead of str */
    assert_int_equal (zc_command_decode (buf, len, &c), ZC_ERR_BAD_TYPE);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (every_op_round_trips),
        cmocka_unit_test (encoding_is_stable),
        cmocka_unit_test (first_format_still_decodes),
        cmocka_unit_test (largest_send_fits),
        cmocka_unit_test (too_small_buffer_is_too_large),
        cmocka_unit_test (every_truncation_is_truncated),
        cmocka_unit_test (every_single_byte_corruption_is_handled),
        cmocka_unit_test (hostile_shapes_are_rejected),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
