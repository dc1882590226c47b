/*  test_frame.c - client frame codec: round trips, documented bytes, hostile frames.
    ZCHAT_PRINT_EXAMPLES=1 ./test_frame prints the hex dumps used in schema/PROTOCOL.md. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <msgpack.h>
#include "frame.h"

#define B(s) ((zc_bytes_t) { (s), (uint32_t) strlen (s) })
#define CID  0x1122334455667788ull
#define TS   1700000000000ull
#define HELLO                                                                                      \
    "Hi, bob!\nCa va? \xc3\xa7"                                                                    \
    "a \xe2\x82\xac 5 \xf0\x9f\x91\x8b"

/* ---- helpers ---------------------------------------------------------------------- */

static size_t
encode (const zc_frame_t *f, uint8_t *buf)
{
    size_t len = 0;
    assert_int_equal (zc_frame_encode (f, buf, ZC_FRAME_MAX, &len), ZC_OK);
    assert_true (len > ZC_COMMAND_LEN && len <= ZC_FRAME_MAX);
    return len;
}

static void
assert_bytes (zc_bytes_t got, const char *want, size_t want_len)
{
    assert_int_equal (got.len, want_len);
    assert_memory_equal (got.ptr, want, want_len);
}

/* Decode, re-encode, and demand the very same bytes: since the encoder writes every
   present field, this shows each field survived. */
static void
assert_reencodes (const uint8_t *buf, size_t len)
{
    zc_frame_t g;
    assert_int_equal (zc_frame_decode (buf, len, &g), ZC_OK);
    uint8_t again [ZC_FRAME_MAX];
    size_t len2 = encode (&g, again);
    assert_int_equal (len2, len);
    assert_memory_equal (again, buf, len);
}

/* A raw frame: 15-byte header, then whatever body the test packs. */
typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} raw_t;

static void
raw_begin (raw_t *r, const char *cmd)
{
    char header [ZC_COMMAND_LEN] = { 0 };
    memcpy (header, cmd, strlen (cmd));
    msgpack_sbuffer_init (&r->sb);
    msgpack_sbuffer_write (&r->sb, header, sizeof header);
    msgpack_packer_init (&r->pk, &r->sb, msgpack_sbuffer_write);
}

static void
raw_key (raw_t *r, const char *key)
{
    msgpack_pack_str_with_body (&r->pk, key, strlen (key));
}

static void
raw_str (raw_t *r, const char *s, size_t len)
{
    msgpack_pack_str_with_body (&r->pk, s, len);
}

static zc_code_t
raw_decode (raw_t *r, zc_frame_t *f)
{
    zc_code_t rc = zc_frame_decode ((uint8_t *) r->sb.data, r->sb.size, f);
    msgpack_sbuffer_destroy (&r->sb);
    return rc;
}

/* ---- the documented examples ----------------------------------------------------- */

static void
ex_create (zc_frame_t *f)
{
    zc_frame_init (f, ZC_CMD_CREATE);
    f->fields = ZC_F_CID | ZC_F_SEQ | ZC_F_NAME | ZC_F_SECRET;
    f->cid = CID;
    f->seq = 1;
    f->name = B ("alice");
    f->secret = B ("correct horse");
}

static void
ex_send (zc_frame_t *f)
{
    zc_frame_init (f, ZC_CMD_SEND);
    f->fields = ZC_F_TS | ZC_F_CID | ZC_F_SEQ | ZC_F_NAME | ZC_F_FROM | ZC_F_TEXT;
    f->ts = TS;
    f->cid = CID;
    f->seq = 2;
    f->name = B ("bob");
    f->from = B ("alice");
    f->text = B (HELLO);
}

static void
ex_reply_create (zc_frame_t *f)
{
    zc_frame_init (f, ZC_CMD_REPLY);
    f->fields = ZC_F_SEQ | ZC_F_EPOCH | ZC_F_CODE | ZC_F_RE;
    f->seq = 1;
    f->epoch = 42;
    f->code = ZC_OK;
    f->re = ZC_CMD_CREATE;
}

static void
ex_error (zc_frame_t *f)
{
    zc_frame_init (f, ZC_CMD_ERROR);
    f->fields = ZC_F_SEQ | ZC_F_TEXT | ZC_F_CODE | ZC_F_RE;
    f->seq = 2;
    f->text = B ("user 'bob' does not exist");
    f->code = ZC_ERR_NO_SUCH_USER;
    f->re = ZC_CMD_SEND;
}

static void
ex_message (zc_frame_t *f)
{
    zc_frame_init (f, ZC_CMD_MESSAGE);
    f->fields = ZC_F_TS | ZC_F_NAME | ZC_F_FROM | ZC_F_TEXT | ZC_F_MSEQ | ZC_F_EPOCH;
    f->ts = TS + 3;
    f->name = B ("bob");
    f->from = B ("alice");
    f->text = B (HELLO);
    f->mseq = 1;
    f->epoch = 43;
}

static void
ex_ack (zc_frame_t *f)
{
    zc_frame_init (f, ZC_CMD_ACK);
    f->fields = ZC_F_CID | ZC_F_NAME | ZC_F_MSEQ | ZC_F_EPOCH;
    f->cid = CID;
    f->name = B ("bob");
    f->mseq = 1;
    f->epoch = 43;
}

static void
ex_list_reply (zc_frame_t *f)
{
    zc_frame_init (f, ZC_CMD_REPLY);
    f->fields = ZC_F_SEQ | ZC_F_CODE | ZC_F_RE | ZC_F_USERS | ZC_F_MORE;
    f->seq = 3;
    f->code = ZC_OK;
    f->re = ZC_CMD_LIST;
    f->users [0] = B ("alice");
    f->users [1] = B ("bob");
    f->n_users = 2;
    f->more = false;
}

static void
ex_not_leader (zc_frame_t *f)
{
    zc_frame_init (f, ZC_CMD_ERROR);
    f->fields = ZC_F_SEQ | ZC_F_TEXT | ZC_F_CODE | ZC_F_RE | ZC_F_LEADER;
    f->seq = 4;
    f->text = B ("not the leader");
    f->code = ZC_ERR_NOT_LEADER;
    f->re = ZC_CMD_SEND;
    f->leader = B ("10.0.0.2:7001");
}

static void
ex_ping (zc_frame_t *f)
{
    zc_frame_init (f, ZC_CMD_PING);
    f->fields = ZC_F_CID;
    f->cid = CID;
}

static void
ex_pong (zc_frame_t *f)
{
    zc_frame_init (f, ZC_CMD_PONG);
    f->fields = ZC_F_TS;
    f->ts = TS;
}

static void
ex_transfer (zc_frame_t *f)
{
    zc_frame_init (f, ZC_CMD_TRANSFER);
    f->fields = ZC_F_CID | ZC_F_SEQ | ZC_F_TEXT | ZC_F_SECRET;
    f->cid = CID;
    f->seq = 5;
    f->text = B ("2");
    f->secret = B ("adm1n");
}

static void
ex_transfer_reply (zc_frame_t *f)
{
    zc_frame_init (f, ZC_CMD_REPLY);
    f->fields = ZC_F_SEQ | ZC_F_TEXT | ZC_F_CODE | ZC_F_RE | ZC_F_LEADER;
    f->seq = 5;
    f->text = B ("replica 2 is the leader at 10.0.0.2:7004");
    f->code = ZC_OK;
    f->re = ZC_CMD_TRANSFER;
    f->leader = B ("10.0.0.2:7004");
}

static void
ex_backup (zc_frame_t *f)
{
    zc_frame_init (f, ZC_CMD_BACKUP);
    f->fields = ZC_F_CID | ZC_F_SEQ | ZC_F_SECRET | ZC_F_INDEX | ZC_F_OFFSET;
    f->cid = CID;
    f->seq = 6;
    f->secret = B ("adm1n");
    f->index = 4242;
    f->offset = 768;
}

static void
ex_backup_reply (zc_frame_t *f)
{
    zc_frame_init (f, ZC_CMD_REPLY);
    f->fields = ZC_F_SEQ | ZC_F_CODE | ZC_F_RE | ZC_F_INDEX | ZC_F_TERM | ZC_F_OFFSET | ZC_F_TOTAL
                | ZC_F_DATA;
    f->seq = 6;
    f->code = ZC_OK;
    f->re = ZC_CMD_BACKUP;
    f->index = 4242;
    f->term = 3;
    f->offset = 768;
    f->total = 772;
    f->data = (zc_bytes_t) { "\x01\x02\x03\x04", 4 };
}

typedef struct {
    const char *title;
    void (*make) (zc_frame_t *);
    const char *hex; /* exact bytes, as in PROTOCOL.md */
} example_t;

static const example_t s_examples [] = {
    { "CREATE alice", ex_create,
      "43524541544500000000000000000084a3636964cf1122334455667788a37365"
      "7101a46e616d65a5616c696365a6736563726574ad636f727265637420686f72"
      "7365" },
    { "SEND to bob, text with comma, spaces, newline and UTF-8", ex_send,
      "53454e44000000000000000000000086a27473cf0000018bcfe56800a3636964"
      "cf1122334455667788a373657102a46e616d65a3626f62a466726f6da5616c69"
      "6365a474657874be48692c20626f62210a43612076613f20c3a76120e282ac20"
      "3520f09f918b" },
    { "REPLY to CREATE", ex_reply_create,
      "5245504c590000000000000000000084a373657101a565706f63682aa4636f64"
      "6500a27265a6435245415445" },
    { "ERROR NO_SUCH_USER", ex_error,
      "4552524f520000000000000000000084a373657102a474657874b97573657220"
      "27626f622720646f6573206e6f74206578697374a4636f64650ca27265a45345"
      "4e44" },
    { "MESSAGE push", ex_message,
      "4d455353414745000000000000000086a27473cf0000018bcfe56803a46e616d"
      "65a3626f62a466726f6da5616c696365a474657874be48692c20626f62210a43"
      "612076613f20c3a76120e282ac203520f09f918ba46d73657101a565706f6368"
      "2b" },
    { "ACK", ex_ack,
      "41434b00000000000000000000000084a3636964cf1122334455667788a46e61"
      "6d65a3626f62a46d73657101a565706f63682b" },
    { "REPLY to LIST", ex_list_reply,
      "5245504c590000000000000000000085a373657103a4636f646500a27265a44c"
      "495354a5757365727392a5616c696365a3626f62a46d6f7265c2" },
    { "ERROR NOT_LEADER", ex_not_leader,
      "4552524f520000000000000000000085a373657104a474657874ae6e6f742074"
      "6865206c6561646572a4636f646512a27265a453454e44a66c6561646572ad31"
      "302e302e302e323a37303031" },
    { "PING", ex_ping, "50494e47000000000000000000000081a3636964cf1122334455667788" },
    { "PONG", ex_pong, "504f4e47000000000000000000000081a27473cf0000018bcfe56800" },
    { "TRANSFER to replica 2", ex_transfer,
      "5452414e534645520000000000000084a3636964cf1122334455667788a37365"
      "7105a474657874a132a6736563726574a561646d316e" },
    { "REPLY to TRANSFER", ex_transfer_reply,
      "5245504c590000000000000000000085a373657105a474657874d9287265706c"
      "696361203220697320746865206c65616465722061742031302e302e302e323a"
      "37303034a4636f646500a27265a85452414e53464552a66c6561646572ad3130"
      "2e302e302e323a37303034" },
    { "BACKUP of image 4242 from offset 768", ex_backup,
      "4241434b555000000000000000000085a3636964cf1122334455667788a37365"
      "7106a6736563726574a561646d316ea5696e646578cd1092a66f6666736574cd"
      "0300" },
    { "REPLY to BACKUP", ex_backup_reply,
      "5245504c590000000000000000000088a373657106a4636f646500a27265a642"
      "41434b5550a5696e646578cd1092a47465726d03a66f6666736574cd0300a574"
      "6f74616ccd0304a464617461c40401020304" },
};
#define N_EXAMPLES (sizeof s_examples / sizeof s_examples [0])

static void
hex_of (const uint8_t *buf, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++)
        sprintf (out + 2 * i, "%02x", buf [i]);
}

static void
print_dump (const char *title, const uint8_t *buf, size_t len)
{
    printf ("### %s (%zu bytes)\n```\n", title, len);
    for (size_t off = 0; off < len; off += 16) {
        printf ("%04zx  ", off);
        for (size_t i = off; i < off + 16; i++)
            i < len ? printf ("%02x ", buf [i]) : printf ("   ");
        printf (" |");
        for (size_t i = off; i < off + 16 && i < len; i++)
            putchar (buf [i] >= 0x20 && buf [i] < 0x7f ? buf [i] : '.');
        printf ("|\n");
    }
    printf ("```\n\n");
}

static void
documented_examples_have_exact_bytes (void **state)
{
    (void) state;
    bool print = getenv ("ZCHAT_PRINT_EXAMPLES") != NULL;
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        zc_frame_t f;
        uint8_t buf [ZC_FRAME_MAX];
        char hex [2 * ZC_FRAME_MAX + 1];
        s_examples [i].make (&f);
        size_t len = encode (&f, buf);
        hex_of (buf, len, hex);
        if (print) {
            print_dump (s_examples [i].title, buf, len);
            continue;
        }
        assert_non_null (s_examples [i].hex);
        assert_string_equal (hex, s_examples [i].hex);
        assert_reencodes (buf, len);
    }
}

/* ---- round trips ------------------------------------------------------------------ */

static void
every_command_round_trips (void **state)
{
    (void) state;
    zc_frame_t f;
    uint8_t buf [ZC_FRAME_MAX];
    for (int c = 0; c < ZC_CMD__COUNT; c++) {
        zc_frame_init (&f, (zc_cmd_t) c);
        f.fields = ZC_F_TS | ZC_F_CID | ZC_F_SEQ | ZC_F_NAME | ZC_F_FROM | ZC_F_TEXT | ZC_F_MSEQ
                   | ZC_F_EPOCH | ZC_F_CODE | ZC_F_RE | ZC_F_MORE | ZC_F_LEADER | ZC_F_USERS
                   | ZC_F_REPLICAS | ZC_F_STATS | ZC_F_SECRET | ZC_F_NEW_SECRET | ZC_F_INDEX
                   | ZC_F_TERM | ZC_F_OFFSET | ZC_F_TOTAL | ZC_F_DATA;
        f.secret = B ("old pw");
        f.new_secret = B ("new pw");
        f.index = 77;
        f.term = 3;
        f.offset = 768;
        f.total = 1u << 20;
        f.data = (zc_bytes_t) { "\0\xff\x80", 3 }; /* bin: any bytes, NUL included */
        f.ts = TS;
        f.cid = CID;
        f.seq = UINT64_MAX;
        f.name = B ("carol");
        f.from = B ("dave");
        f.text = B ("t");
        f.mseq = 1u << 20;
        f.epoch = 70000;
        f.code = ZC_ERR_BUSY;
        f.re = ZC_CMD_STATUS;
        f.more = true;
        f.leader = B ("h:1");
        f.users [0] = B ("a");
        f.n_users = 1;
        f.n_replicas = 2;
        f.replicas [0] = (zc_replica_status_t) { 1, "leader", 5, 100, 99, 101 };
        f.replicas [1] = (zc_replica_status_t) { 2, "precandidate", 5, 90, 90, UINT64_MAX };
        f.n_users_total = 3;
        f.n_queued = 4;
        f.n_sessions = 5;
        size_t len = encode (&f, buf);
        assert_reencodes (buf, len);
        zc_frame_t g;
        assert_int_equal (zc_frame_decode (buf, len, &g), ZC_OK);
        assert_int_equal (g.cmd, c);
        assert_int_equal (g.fields, f.fields);
        assert_string_equal (g.replicas [1].role, "precandidate"); /* not cut to 11 */
        assert_bytes (g.new_secret, "new pw", 6);
        assert_bytes (g.data, "\0\xff\x80", 3);
        assert_true (g.index == 77 && g.term == 3 && g.offset == 768 && g.total == 1u << 20);
        assert_true (g.replicas [1].last_index == UINT64_MAX);
        assert_true (g.seq == UINT64_MAX);
    }
    /* and each documented example, with the fields a client reads checked one by one */
    zc_frame_t g;
    ex_send (&f);
    size_t len = encode (&f, buf);
    assert_int_equal (zc_frame_decode (buf, len, &g), ZC_OK);
    assert_int_equal (g.cmd, ZC_CMD_SEND);
    assert_true (g.cid == CID && g.seq == 2 && g.ts == TS);
    assert_bytes (g.name, "bob", 3);
    assert_bytes (g.from, "alice", 5);
    assert_bytes (g.text, HELLO, strlen (HELLO));
    ex_list_reply (&f);
    len = encode (&f, buf);
    assert_int_equal (zc_frame_decode (buf, len, &g), ZC_OK);
    assert_int_equal (g.re, ZC_CMD_LIST);
    assert_int_equal (g.n_users, 2);
    assert_bytes (g.users [1], "bob", 3);
    assert_false (g.more);
}

static void
text_survives_byte_exactly (void **state)
{
    (void) state;
    static const char *texts [] = {
        "",
        "a,b,,c",
        "  leading and trailing  ",
        "line1\nline2\r\n\n",
        "tab\there",
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
        "nul\0inside",
        "\xf4\x8f\xbf\xbf",
    };
    static const size_t lens [] = { 0, 6, 24, 15, 8, 9, 10, 4 };
    for (size_t i = 0; i < sizeof lens / sizeof lens [0]; i++) {
        zc_frame_t f, g;
        uint8_t buf [ZC_FRAME_MAX];
        ex_send (&f);
        f.text = (zc_bytes_t) { texts [i], (uint32_t) lens [i] };
        size_t len = encode (&f, buf);
        assert_int_equal (zc_frame_decode (buf, len, &g), ZC_OK);
        assert_int_equal (g.text.len, lens [i]);
        assert_memory_equal (g.text.ptr, texts [i], lens [i]);
    }
}

static void
largest_send_message_list_status_fit (void **state)
{
    (void) state;
    char name [ZC_NAME_MAX], text [ZC_TEXT_MAX];
    memset (name, 'n', sizeof name);
    memset (text, 'x', sizeof text);
    zc_bytes_t n = { name, sizeof name }, t = { text, sizeof text };
    zc_frame_t f;
    uint8_t buf [ZC_FRAME_MAX];
    ex_send (&f);
    f.ts = f.cid = f.seq = UINT64_MAX;
    f.name = n;
    f.from = n;
    f.text = t;
    size_t len = encode (&f, buf);
    assert_reencodes (buf, len);
    ex_message (&f);
    f.ts = f.mseq = f.epoch = UINT64_MAX;
    f.name = n;
    f.from = n;
    f.text = t;
    len = encode (&f, buf);
    assert_reencodes (buf, len);
    ex_list_reply (&f);
    f.seq = UINT64_MAX;
    f.more = true;
    f.n_users = ZC_LIST_MAX_NAMES;
    for (int i = 0; i < ZC_LIST_MAX_NAMES; i++)
        f.users [i] = n;
    len = encode (&f, buf);
    assert_reencodes (buf, len);
    zc_frame_init (&f, ZC_CMD_REPLY);
    f.fields = ZC_F_SEQ | ZC_F_CODE | ZC_F_RE | ZC_F_REPLICAS | ZC_F_STATS;
    f.re = ZC_CMD_STATUS;
    f.seq = UINT64_MAX;
    f.n_replicas = ZC_STATUS_MAX_REPLICAS;
    for (int i = 0; i < ZC_STATUS_MAX_REPLICAS; i++)
        f.replicas [i] = (zc_replica_status_t) { UINT32_MAX, "candidate", UINT64_MAX,
                                                 UINT64_MAX, UINT64_MAX,  UINT64_MAX };
    f.n_users_total = f.n_queued = f.n_sessions = UINT64_MAX;
    len = encode (&f, buf);
    assert_reencodes (buf, len);
}

/* ---- hostile frames ------------------------------------------------------------- */

static void
every_truncation_is_truncated (void **state)
{
    (void) state;
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        zc_frame_t f;
        uint8_t buf [ZC_FRAME_MAX];
        s_examples [i].make (&f);
        size_t len = encode (&f, buf);
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *copy = malloc (cut ? cut : 1); /* exact size: ASan sees overreads */
            memcpy (copy, buf, cut);
            assert_int_equal (zc_frame_decode (copy, cut, &f), ZC_ERR_TRUNCATED);
            free (copy);
        }
    }
}

/* Every byte of every example set to every value: never a crash; whatever decodes
   must also re-encode to something that decodes. */
static void
every_single_byte_corruption_is_handled (void **state)
{
    (void) state;
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        zc_frame_t f;
        uint8_t buf [ZC_FRAME_MAX];
        s_examples [i].make (&f);
        size_t len = encode (&f, buf);
        uint8_t *copy = malloc (len);
        for (size_t pos = 0; pos < len; pos++) {
            for (int v = 0; v < 256; v++) {
                memcpy (copy, buf, len);
                copy [pos] = (uint8_t) v;
                zc_code_t rc = zc_frame_decode (copy, len, &f);
                assert_true (rc >= ZC_OK && rc <= ZC_ERR_MISSING_FIELD);
                if (rc == ZC_OK) {
                    uint8_t again [ZC_FRAME_MAX];
                    size_t len2 = encode (&f, again);
                    zc_frame_t g;
                    assert_int_equal (zc_frame_decode (again, len2, &g), ZC_OK);
                }
            }
        }
        free (copy);
    }
}

static void
oversize_frames_are_rejected (void **state)
{
    (void) state;
    uint8_t big [ZC_FRAME_MAX + 1];
    zc_frame_t f;
    memset (big, 0, sizeof big);
    memcpy (big, "PING", 4);
    assert_int_equal (zc_frame_decode (big, sizeof big, &f), ZC_ERR_TOO_LARGE);

    /* the encoder refuses instead of writing past the buffer */
    char text [1000];
    memset (text, 'x', sizeof text);
    ex_send (&f);
    f.text = (zc_bytes_t) { text, sizeof text };
    size_t len = 0;
    assert_int_equal (zc_frame_encode (&f, big, ZC_FRAME_MAX, &len), ZC_ERR_TOO_LARGE);
    uint8_t small [40];
    memset (small, 0xee, sizeof small);
    ex_create (&f);
    assert_int_equal (zc_frame_encode (&f, small, 30, &len), ZC_ERR_TOO_LARGE);
    for (size_t i = 30; i < sizeof small; i++)
        assert_int_equal (small [i], 0xee);
    assert_int_equal (zc_frame_encode (&f, small, 10, &len), ZC_ERR_TOO_LARGE);
    f.n_users = ZC_LIST_MAX_NAMES + 1;
    f.fields |= ZC_F_USERS;
    assert_int_equal (zc_frame_encode (&f, big, ZC_FRAME_MAX, &len), ZC_ERR_TOO_LARGE);
}

static void
too_many_users_or_replicas_is_too_large (void **state)
{
    (void) state;
    raw_t r;
    zc_frame_t f;
    raw_begin (&r, "REPLY");
    msgpack_pack_map (&r.pk, 1);
    raw_key (&r, "users");
    msgpack_pack_array (&r.pk, ZC_LIST_MAX_NAMES + 1);
    for (int i = 0; i < ZC_LIST_MAX_NAMES + 1; i++)
        raw_str (&r, "u", 1);
    assert_int_equal (raw_decode (&r, &f), ZC_ERR_TOO_LARGE);

    raw_begin (&r, "REPLY");
    msgpack_pack_map (&r.pk, 1);
    raw_key (&r, "replicas");
    msgpack_pack_array (&r.pk, ZC_STATUS_MAX_REPLICAS + 1);
    for (int i = 0; i < ZC_STATUS_MAX_REPLICAS + 1; i++)
        msgpack_pack_map (&r.pk, 0);
    assert_int_equal (raw_decode (&r, &f), ZC_ERR_TOO_LARGE);

    /* a huge announced count with no elements is cut short by the buffer */
    raw_begin (&r, "PING");
    msgpack_pack_map (&r.pk, 2);
    raw_key (&r, "cid");
    msgpack_pack_uint64 (&r.pk, 1);
    raw_key (&r, "x");
    msgpack_pack_array (&r.pk, UINT32_MAX);
    assert_int_equal (raw_decode (&r, &f), ZC_ERR_TRUNCATED);
    raw_begin (&r, "PING");
    msgpack_pack_map (&r.pk, UINT32_MAX);
    assert_int_equal (raw_decode (&r, &f), ZC_ERR_TRUNCATED);
}

static void
trailing_bytes_are_rejected (void **state)
{
    (void) state;
    zc_frame_t f;
    uint8_t buf [ZC_FRAME_MAX];
    ex_create (&f);
    size_t len = encode (&f, buf);
    buf [len] = 0xc0;
    assert_int_equal (zc_frame_decode (buf, len + 1, &f), ZC_ERR_TRAILING);
    ex_create (&f);
    len = encode (&f, buf);
    memcpy (buf + len, buf + ZC_COMMAND_LEN, len - ZC_COMMAND_LEN); /* two maps */
    assert_int_equal (zc_frame_decode (buf, 2 * len - ZC_COMMAND_LEN, &f), ZC_ERR_TRAILING);
}

static void
bad_utf8_is_rejected (void **state)
{
    (void) state;
    static const char *bad [] = {
        "\xc0\xaf",         "\xc1\xbf",         "\xe0\x80\xaf", "\xf0\x80\x80\xaf", /* overlong */
        "\xed\xa0\x80",     "\xed\xbf\xbf",                                         /* surrogates */
        "\xe2\x82",         "ok\xf0\x9f\x91",   "\xc3",                             /* truncated */
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff",         "\x80", /* range, stray */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        assert_false (zc_utf8_valid (bad [i], strlen (bad [i])));
        zc_frame_t f;
        uint8_t buf [ZC_FRAME_MAX];
        ex_send (&f);
        f.text = B (bad [i]);
        size_t len = encode (&f, buf);
        assert_int_equal (zc_frame_decode (buf, len, &f), ZC_ERR_BAD_UTF8);
        ex_send (&f);
        f.name = B (bad [i]); /* names too, and unknown keys */
        len = encode (&f, buf);
        assert_int_equal (zc_frame_decode (buf, len, &f), ZC_ERR_BAD_UTF8);
        raw_t r;
        raw_begin (&r, "PING");
        msgpack_pack_map (&r.pk, 2);
        raw_key (&r, "cid");
        msgpack_pack_uint64 (&r.pk, 1);
        raw_key (&r, "x");
        raw_str (&r, bad [i], strlen (bad [i]));
        assert_int_equal (raw_decode (&r, &f), ZC_ERR_BAD_UTF8);
    }
    static const char *good [] = {
        "",
        "\x7f",
        "\xc2\x80",
        "\xdf\xbf",
        "\xe0\xa0\x80",
        "\xed\x9f\xbf",
        "\xee\x80\x80",
        "\xef\xbf\xbf",
        "\xf0\x90\x80\x80",
        "\xf4\x8f\xbf\xbf",
    };
    for (size_t i = 0; i < sizeof good / sizeof good [0]; i++)
        assert_true (zc_utf8_valid (good [i], strlen (good [i])));
}

static void
bad_headers_are_rejected (void **state)
{
    (void) state;
    zc_frame_t f;
    uint8_t buf [ZC_FRAME_MAX];
    ex_ping (&f);
    size_t len = encode (&f, buf);
    memcpy (buf, "ping", 4);
    assert_int_equal (zc_frame_decode (buf, len, &f), ZC_ERR_UNKNOWN_COMMAND);
    memcpy (buf, "PONX", 4);
    assert_int_equal (zc_frame_decode (buf, len, &f), ZC_ERR_UNKNOWN_COMMAND);
    memset (buf, 0, ZC_COMMAND_LEN);
    assert_int_equal (zc_frame_decode (buf, len, &f), ZC_ERR_UNKNOWN_COMMAND);
    memcpy (buf, "PING\0\0\0\0\0\0\0\0\0\0X", ZC_COMMAND_LEN);
    assert_int_equal (zc_frame_decode (buf, len, &f), ZC_ERR_BAD_TYPE);
    memcpy (buf, "PI\xc0\xafG", 5);
    assert_int_equal (zc_frame_decode (buf, len, &f), ZC_ERR_BAD_UTF8);
    memcpy (buf, "PINGPINGPINGPIN", ZC_COMMAND_LEN);
    assert_int_equal (zc_frame_decode (buf, len, &f), ZC_ERR_UNKNOWN_COMMAND);
}

static void
wrong_types_are_bad_type (void **state)
{
    (void) state;
    raw_t r;
    zc_frame_t f;
    raw_begin (&r, "PING"); /* body is not a map */
    msgpack_pack_array (&r.pk, 0);
    assert_int_equal (raw_decode (&r, &f), ZC_ERR_BAD_TYPE);
    raw_begin (&r, "PING");
    msgpack_pack_map (&r.pk, 1);
    raw_key (&r, "cid");
    raw_str (&r, "1", 1); /* uint field as str */
    assert_int_equal (raw_decode (&r, &f), ZC_ERR_BAD_TYPE);
    raw_begin (&r, "PING");
    msgpack_pack_map (&r.pk, 1);
    raw_key (&r, "cid");
    msgpack_pack_int64 (&r.pk, -1); /* negative */
    assert_int_equal (raw_decode (&r, &f), ZC_ERR_BAD_TYPE);
    raw_begin (&r, "PING");
    msgpack_pack_map (&r.pk, 1);
    msgpack_pack_uint8 (&r.pk, 1); /* non-str key */
    msgpack_pack_uint8 (&r.pk, 1);
    assert_int_equal (raw_decode (&r, &f), ZC_ERR_BAD_TYPE);
    raw_begin (&r, "CREATE");
    msgpack_pack_map (&r.pk, 3);
    raw_key (&r, "cid");
    msgpack_pack_uint8 (&r.pk, 1);
    raw_key (&r, "seq");
    msgpack_pack_uint8 (&r.pk, 1);
    raw_key (&r, "name");
    msgpack_pack_uint8 (&r.pk, 1); /* str field as int */
    assert_int_equal (raw_decode (&r, &f), ZC_ERR_BAD_TYPE);
    raw_begin (&r, "REPLY");
    msgpack_pack_map (&r.pk, 1);
    raw_key (&r, "more");
    msgpack_pack_uint8 (&r.pk, 1); /* bool field as int */
    assert_int_equal (raw_decode (&r, &f), ZC_ERR_BAD_TYPE);
    raw_begin (&r, "REPLY");
    msgpack_pack_map (&r.pk, 1);
    raw_key (&r, "users");
    raw_str (&r, "a", 1); /* array field as str */
    assert_int_equal (raw_decode (&r, &f), ZC_ERR_BAD_TYPE);
    raw_begin (&r, "REPLY");
    msgpack_pack_map (&r.pk, 1);
    raw_key (&r, "stats");
    msgpack_pack_array (&r.pk, 2); /* stats too short */
    msgpack_pack_uint8 (&r.pk, 1);
    msgpack_pack_uint8 (&r.pk, 1);
    assert_int_equal (raw_decode (&r, &f), ZC_ERR_BAD_TYPE);
    raw_begin (&r, "PING");
    msgpack_pack_map (&r.pk, 2);
    raw_key (&r, "cid");
    msgpack_pack_uint8 (&r.pk, 1);
    raw_key (&r, "cid");
    msgpack_pack_uint8 (&r.pk, 2); /* duplicate key */
    assert_int_equal (raw_decode (&r, &f), ZC_ERR_BAD_TYPE);
    raw_begin (&r, "REPLY");
    msgpack_pack_map (&r.pk, 1);
    raw_key (&r, "re");
    raw_str (&r, "NOPE", 4); /* "re" not a command */
    assert_int_equal (raw_decode (&r, &f), ZC_ERR_UNKNOWN_COMMAND);
    raw_begin (&r, "ERROR");
    msgpack_pack_map (&r.pk, 1);
    raw_key (&r, "code");
    msgpack_pack_uint64 (&r.pk, 1ull << 32); /* code > 32 bits */
    assert_int_equal (raw_decode (&r, &f), ZC_ERR_TOO_LARGE);
    raw_begin (&r, "PING");
    msgpack_pack_map (&r.pk, 1);
    raw_key (&r, "cid");
    uint8_t unused = 0xc1; /* the never-used tag */
    msgpack_sbuffer_write (&r.sb, (const char *) &unused, 1);
    assert_int_equal (raw_decode (&r, &f), ZC_ERR_BAD_TYPE);
}

/* Every example minus each field its command requires: MISSING_FIELD. */
static void
missing_required_fields_are_reported (void **state)
{
    (void) state;
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        zc_frame_t f;
        s_examples [i].make (&f);
        uint32_t all = f.fields;
        for (uint32_t bit = 1; bit <= ZC_F_STATS; bit <<= 1) {
            if (!(all & bit))
                continue;
            uint8_t buf [ZC_FRAME_MAX];
            s_examples [i].make (&f);
            f.fields = all & ~bit;
            zc_cmd_t cmd = f.cmd;
            size_t len = encode (&f, buf);
            zc_code_t rc = zc_frame_decode (buf, len, &f);
            bool optional = bit == ZC_F_TS     ? cmd == ZC_CMD_SEND
                            : bit == ZC_F_FROM ? true
                            : bit == ZC_F_RE   ? cmd == ZC_CMD_ERROR
                            : bit == ZC_F_TEXT ? cmd == ZC_CMD_TRANSFER || cmd == ZC_CMD_REPLY
                                               : bit == ZC_F_LEADER;
            assert_int_equal (rc, optional ? ZC_OK : ZC_ERR_MISSING_FIELD);
        }
    }
    /* REPLY's extra fields depend on what it answers */
    zc_frame_t f;
    uint8_t buf [ZC_FRAME_MAX];
    ex_reply_create (&f);
    f.re = ZC_CMD_CONNECT;
    size_t len = encode (&f, buf);
    assert_int_equal (zc_frame_decode (buf, len, &f), ZC_ERR_MISSING_FIELD);
    ex_reply_create (&f);
    f.re = ZC_CMD_SEND;
    f.fields &= ~ZC_F_EPOCH;
    len = encode (&f, buf);
    assert_int_equal (zc_frame_decode (buf, len, &f), ZC_OK);
}

static void
unknown_keys_are_skipped (void **state)
{
    (void) state;
    raw_t r;
    zc_frame_t f;
    raw_begin (&r, "CREATE");
    msgpack_pack_map (&r.pk, 7);
    raw_key (&r, "future");
    msgpack_pack_array (&r.pk, 3);
    msgpack_pack_nil (&r.pk);
    msgpack_pack_double (&r.pk, 1.5);
    msgpack_pack_map (&r.pk, 1);
    raw_key (&r, "k");
    msgpack_pack_bin_with_body (&r.pk, "\x00\x01", 2);
    raw_key (&r, "cid");
    msgpack_pack_uint64 (&r.pk, 9);
    raw_key (&r, "ext");
    msgpack_pack_ext_with_body (&r.pk, "abcd", 4, 7);
    raw_key (&r, "seq");
    msgpack_pack_int8 (&r.pk, 5); /* signed form, value >= 0 */
    raw_key (&r, "name");
    raw_str (&r, "eve", 3);
    raw_key (&r, "f32");
    msgpack_pack_float (&r.pk, 2.0f);
    raw_key (&r, "secret");
    raw_str (&r, "pw", 2);
    assert_int_equal (raw_decode (&r, &f), ZC_OK);
    assert_int_equal (f.cmd, ZC_CMD_CREATE);
    assert_int_equal (f.fields, ZC_F_CID | ZC_F_SEQ | ZC_F_NAME | ZC_F_SECRET);
    assert_true (f.cid == 9 && f.seq == 5);
    assert_bytes (f.name, "eve", 3);

    /* nesting deeper than the reader's bound is refused, not recursed into */
    raw_begin (&r, "PING");
    msgpack_pack_map (&r.pk, 2);
    raw_key (&r, "cid");
    msgpack_pack_uint64 (&r.pk, 9);
    raw_key (&r, "deep");
    for (int i = 0; i < 100; i++)
        msgpack_pack_array (&r.pk, 1);
    msgpack_pack_nil (&r.pk);
    assert_int_equal (raw_decode (&r, &f), ZC_ERR_TOO_LARGE);
}

static void
empty_re_means_absent (void **state)
{
    (void) state;
    raw_t r;
    zc_frame_t f;
    raw_begin (&r, "ERROR");
    msgpack_pack_map (&r.pk, 4);
    raw_key (&r, "re");
    raw_str (&r, "", 0);
    raw_key (&r, "seq");
    msgpack_pack_uint8 (&r.pk, 0);
    raw_key (&r, "code");
    msgpack_pack_uint8 (&r.pk, ZC_ERR_TRUNCATED);
    raw_key (&r, "text");
    raw_str (&r, "frame truncated", 15);
    assert_int_equal (raw_decode (&r, &f), ZC_OK);
    assert_false (f.fields & ZC_F_RE);
    assert_int_equal (f.code, ZC_ERR_TRUNCATED);
}

/* Inside a replica map the last of a repeated key wins, whole. */
static void
repeated_role_key_does_not_mix (void **state)
{
    (void) state;
    raw_t r;
    zc_frame_t f;
    raw_begin (&r, "REPLY");
    msgpack_pack_map (&r.pk, 4);
    raw_key (&r, "re");
    raw_str (&r, "DELETE", 6);
    raw_key (&r, "seq");
    msgpack_pack_uint8 (&r.pk, 1);
    raw_key (&r, "code");
    msgpack_pack_uint8 (&r.pk, 0);
    raw_key (&r, "replicas");
    msgpack_pack_array (&r.pk, 1);
    msgpack_pack_map (&r.pk, 2);
    raw_key (&r, "role");
    raw_str (&r, "follower", 8);
    raw_key (&r, "role");
    raw_str (&r, "down", 4);
    assert_int_equal (raw_decode (&r, &f), ZC_OK);
    assert_int_equal (f.n_replicas, 1);
    assert_string_equal (f.replicas [0].role, "down");
}

static void
names_and_codes (void **state)
{
    (void) state;
    assert_true (zc_name_valid ("a", 1));
    assert_true (zc_name_valid ("Alice_2.0-x", 11));
    assert_true (zc_name_valid ("nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", 32));
    assert_false (zc_name_valid ("nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", 33));
    assert_false (zc_name_valid ("", 0));
    assert_false (zc_name_valid ("a b", 3));
    assert_false (zc_name_valid ("a,b", 3));
    assert_false (zc_name_valid ("\xc3\xa7", 2));
    assert_false (zc_name_valid ("a\0b", 3));
    for (int c = 0; c < ZC_CMD__COUNT; c++) {
        const char *n = zc_cmd_name ((zc_cmd_t) c);
        assert_non_null (n);
        assert_true (strlen (n) <= ZC_COMMAND_LEN);
        assert_int_equal (zc_cmd_from_name (n, strlen (n)), c);
    }
    assert_null (zc_cmd_name (ZC_CMD__COUNT));
    assert_int_equal (zc_cmd_from_name ("SENDX", 4), ZC_CMD_SEND);
    assert_int_equal (zc_cmd_from_name ("SEN", 3), -1);
    for (int c = 0; c < ZC_CODE__COUNT; c++) {
        assert_string_not_equal (zc_code_name (c), "UNKNOWN");
        assert_true (strlen (zc_code_text (c)) > 0);
        for (int d = 0; d < c; d++)
            assert_string_not_equal (zc_code_name (c), zc_code_name (d));
    }
    assert_string_equal (zc_code_name (ZC_ERR_NO_SUCH_USER), "NO_SUCH_USER");
    assert_string_equal (zc_code_text (ZC_ERR_NO_SUCH_USER), "user does not exist");
    assert_string_equal (zc_code_name (ZC_CODE__COUNT), "UNKNOWN");
    assert_string_equal (zc_code_name (-1), "UNKNOWN");
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (documented_examples_have_exact_bytes),
        cmocka_unit_test (every_command_round_trips),
        cmocka_unit_test (text_survives_byte_exactly),
        cmocka_unit_test (largest_send_message_list_status_fit),
        cmocka_unit_test (every_truncation_is_truncated),
        cmocka_unit_test (every_single_byte_corruption_is_handled),
        cmocka_unit_test (oversize_frames_are_rejected),
        cmocka_unit_test (too_many_users_or_replicas_is_too_large),
        cmocka_unit_test (trailing_bytes_are_rejected),
        cmocka_unit_test (bad_utf8_is_rejected),
        cmocka_unit_test (bad_headers_are_rejected),
        cmocka_unit_test (wrong_types_are_bad_type),
        cmocka_unit_test (missing_required_fields_are_reported),
        cmocka_unit_test (unknown_keys_are_skipped),
        cmocka_unit_test (empty_re_means_absent),
        cmocka_unit_test (repeated_role_key_does_not_mix),
        cmocka_unit_test (names_and_codes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
