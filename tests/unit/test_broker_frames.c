/*  test_broker_frames.c - a real broker (single replica, in a thread of this process)
    fed raw frames: every bad frame gets a clear error and changes nothing, and the
    request rules of the protocol hold (exactly-once retries, errors per command). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <czmq.h>
#include <pthread.h>
#include "config.h"
#include "server.h"
#include "frame.h"

static config_t s_config;
static volatile int s_stop;
static pthread_t s_thread;
static char s_dir [64];
static zsock_t *s_client;
static uint64_t s_seq;
static const uint64_t CID = 0x1234;

static void *
s_serve (void *arg)
{
    server_t *server = (server_t *) arg;
    server_run (server, &s_stop);
    server_destroy (&server);
    return NULL;
}

static char s_port [16];
static const char *s_secret = "pw"; /* what s_call puts in CREATE/CONNECT/DELETE */

/* A client connection; long_id: a random 16-byte routing id, as the library uses. */
static zsock_t *
s_dealer (bool long_id)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    zsock_set_rcvtimeo (sock, 5000);
    if (long_id) {
        uint8_t id [16];
        for (size_t i = 0; i < sizeof id; i++)
            id [i] = (uint8_t) (1 + random () % 255);
        zmq_setsockopt (zsock_resolve (sock), ZMQ_ROUTING_ID, id, sizeof id);
    }
    zsock_connect (sock, "tcp://127.0.0.1:%s", s_port);
    return sock;
}

static int
s_setup (void **state)
{
    (void) state;
    zsys_set_logstream (stderr);
    strcpy (s_dir, "/tmp/zchat-frames-XXXXXX");
    assert_non_null (mkdtemp (s_dir));
    char port [16];
    snprintf (port, sizeof port, "%d", 21000 + (getpid () % 3000) * 3);
    /* request semantics are checked here over plain ZeroMQ; test_security.sh runs the
       same attacks through CURVE. Cheap hashing keeps the many logins fast. */
    char *argv [] = { "zchat-broker",
                      "--data",
                      s_dir,
                      "--session-timeout",
                      "60000",
                      "--insecure",
                      "--pwhash-ops",
                      "1",
                      "--pwhash-mem-kib",
                      "64",
                      port,
                      NULL };
    assert_int_equal (config_parse (&s_config, 11, argv), 0);
    server_t *server = server_new (&s_config);
    assert_non_null (server);
    s_stop = 0;
    pthread_create (&s_thread, NULL, s_serve, server);
    snprintf (s_port, sizeof s_port, "%s", port);
    s_client = s_dealer (true);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    zsock_destroy (&s_client);
    s_stop = 1;
    pthread_join (s_thread, NULL);
    char cmd [128];
    snprintf (cmd, sizeof cmd, "rm -rf %s", s_dir);
    assert_int_equal (system (cmd), 0);
    return 0;
}

static zsock_t *s_on; /* the socket s_call uses: s_client unless a test says */

static void
s_send_raw (const void *bytes, size_t len)
{
    zframe_t *frame = zframe_new (bytes, len);
    assert_int_equal (zframe_send (&frame, s_on ? s_on : s_client, 0), 0);
}

/* Receive one frame into buf and decode it; the frame must decode. */
static void
s_recv (uint8_t *buf, zc_frame_t *frame)
{
    zframe_t *raw = zframe_recv (s_on ? s_on : s_client);
    assert_non_null (raw);
    assert_true (zframe_size (raw) <= ZC_FRAME_MAX);
    memcpy (buf, zframe_data (raw), zframe_size (raw));
    assert_int_equal (zc_frame_decode (buf, zframe_size (raw), frame), ZC_OK);
    zframe_destroy (&raw);
}

/* Send a request and return the reply's code (0 for REPLY). */
static int
s_call (zc_cmd_t cmd, const char *name, const char *text, uint64_t seq, zc_frame_t *reply,
        uint8_t *buf)
{
    zc_frame_t frame;
    zc_frame_init (&frame, cmd);
    frame.fields = ZC_F_CID | ZC_F_SEQ;
    frame.cid = CID;
    frame.seq = seq;
    if (name) {
        frame.fields |= ZC_F_NAME;
        frame.name = (zc_bytes_t) { name, (uint32_t) strlen (name) };
    }
    if (text) {
        frame.fields |= ZC_F_TEXT;
        frame.text = (zc_bytes_t) { text, (uint32_t) strlen (text) };
    }
    if (s_secret
        && (cmd == ZC_CMD_CREATE || cmd == ZC_CMD_CONNECT || cmd == ZC_CMD_DELETE
            || cmd == ZC_CMD_PASSWD)) {
        frame.fields |= ZC_F_SECRET;
        frame.secret = (zc_bytes_t) { s_secret, (uint32_t) strlen (s_secret) };
    }
    if (cmd == ZC_CMD_PASSWD) { /* text is the new secret */
        frame.fields = (frame.fields & ~(uint32_t) ZC_F_TEXT) | ZC_F_NEW_SECRET;
        frame.new_secret = frame.text;
    }
    uint8_t out [ZC_FRAME_MAX];
    size_t len;
    assert_int_equal (zc_frame_encode (&frame, out, sizeof out, &len), ZC_OK);
    s_send_raw (out, len);
    s_recv (buf, reply);
    assert_int_equal (reply->seq, seq);
    return reply->cmd == ZC_CMD_REPLY ? 0 : (int) reply->code;
}

static int
s_do (zc_cmd_t cmd, const char *name, const char *text)
{
    zc_frame_t reply;
    uint8_t buf [ZC_FRAME_MAX];
    return s_call (cmd, name, text, ++s_seq, &reply, buf);
}

static void
s_expect_error (const void *bytes, size_t len, zc_code_t code)
{
    s_send_raw (bytes, len);
    zc_frame_t reply;
    uint8_t buf [ZC_FRAME_MAX];
    s_recv (buf, &reply);
    assert_int_equal (reply.cmd, ZC_CMD_ERROR);
    assert_int_equal (reply.code, code);
    assert_true (reply.text.len > 0);
}

/* Names listed by the broker, space-separated, into out. */
static void
s_list (const char *pattern, char *out, size_t size)
{
    zc_frame_t reply;
    uint8_t buf [ZC_FRAME_MAX];
    uint64_t seq = ++s_seq;
    assert_int_equal (s_call (ZC_CMD_LIST, NULL, pattern, seq, &reply, buf), 0);
    out [0] = 0;
    while (true) {
        for (uint32_t i = 0; i < reply.n_users; i++)
            snprintf (out + strlen (out), size - strlen (out), "%s%.*s", out [0] ? " " : "",
                      (int) reply.users [i].len, reply.users [i].ptr);
        if (!reply.more)
            break;
        s_recv (buf, &reply);
    }
}

static void
oversized_frame_is_refused (void **state)
{
    (void) state;
    uint8_t big [2000];
    memset (big, 'A', sizeof big);
    s_expect_error (big, sizeof big, ZC_ERR_TOO_LARGE);
}

static void
garbage_and_truncated_frames_get_decoder_errors (void **state)
{
    (void) state;
    s_expect_error ("CREATE", 6, ZC_ERR_TRUNCATED);
    uint8_t unknown [20] = "LAUNCH";
    unknown [15] = 0x80; /* empty map */
    s_expect_error (unknown, 16, ZC_ERR_UNKNOWN_COMMAND);
    uint8_t not_map [16] = "CREATE";
    not_map [15] = 0x01; /* an integer where the map belongs */
    s_expect_error (not_map, 16, ZC_ERR_BAD_TYPE);
    uint8_t bad_utf8 [16] = "CR\xff\xfe";
    bad_utf8 [15] = 0x80;
    s_expect_error (bad_utf8, 16, ZC_ERR_BAD_UTF8);
    uint8_t trailing [17] = "PING";
    trailing [15] = 0x80;
    trailing [16] = 0x00;
    s_expect_error (trailing, 17, ZC_ERR_TRAILING);
}

static void
multipart_message_is_refused (void **state)
{
    (void) state;
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "PING");
    zmsg_addstr (msg, "PING");
    zmsg_send (&msg, s_client);
    zc_frame_t reply;
    uint8_t buf [ZC_FRAME_MAX];
    s_recv (buf, &reply);
    assert_int_equal (reply.cmd, ZC_CMD_ERROR);
    assert_int_equal (reply.code, ZC_ERR_BAD_TYPE);
}

static void
replica_frames_from_a_client_are_refused (void **state)
{
    (void) state;
    zc_frame_t frame;
    zc_frame_init (&frame, ZC_CMD_PONG);
    frame.fields = ZC_F_TS;
    frame.ts = 1;
    uint8_t out [ZC_FRAME_MAX];
    size_t len;
    assert_int_equal (zc_frame_encode (&frame, out, sizeof out, &len), ZC_OK);
    s_expect_error (out, len, ZC_ERR_UNKNOWN_COMMAND);
}

static void
every_command_reports_its_errors (void **state)
{
    (void) state;
    assert_int_equal (s_do (ZC_CMD_CREATE, "alice", NULL), ZC_OK);
    assert_int_equal (s_do (ZC_CMD_CREATE, "alice", NULL), ZC_ERR_USER_EXISTS);
    assert_int_equal (s_do (ZC_CMD_CREATE, "bad name", NULL), ZC_ERR_BAD_NAME);
    assert_int_equal (s_do (ZC_CMD_CREATE, "a-name-that-is-longer-than-32-bytes", NULL),
                      ZC_ERR_BAD_NAME);
    assert_int_equal (s_do (ZC_CMD_DELETE, "nobody", NULL), ZC_ERR_NO_SUCH_USER);
    assert_int_equal (s_do (ZC_CMD_CONNECT, "nobody", NULL), ZC_ERR_NO_SUCH_USER);
    assert_int_equal (s_do (ZC_CMD_SEND, "nobody", "hi"), ZC_ERR_NO_SUCH_USER);
    char long_text [ZC_TEXT_MAX + 2];
    memset (long_text, 'x', sizeof long_text - 1);
    long_text [sizeof long_text - 1] = 0;
    assert_int_equal (s_do (ZC_CMD_SEND, "alice", long_text), ZC_ERR_TEXT_TOO_LONG);
    assert_int_equal (s_do (ZC_CMD_LIST, NULL, "(unclosed"), ZC_ERR_BAD_PATTERN);
    char users [1024];
    s_list (NULL, users, sizeof users);
    assert_string_equal (users, "alice"); /* no error changed anything */
    assert_int_equal (s_do (ZC_CMD_DELETE, "alice", NULL), ZC_OK);
    s_list (NULL, users, sizeof users);
    assert_string_equal (users, "");
}

static void
ack_without_session_is_refused (void **state)
{
    (void) state;
    zc_frame_t frame;
    zc_frame_init (&frame, ZC_CMD_ACK);
    frame.fields = ZC_F_CID | ZC_F_NAME | ZC_F_EPOCH | ZC_F_MSEQ;
    frame.cid = CID;
    frame.name = (zc_bytes_t) { "bob", 3 };
    frame.epoch = 1;
    frame.mseq = 5;
    uint8_t out [ZC_FRAME_MAX];
    size_t len;
    assert_int_equal (zc_frame_encode (&frame, out, sizeof out, &len), ZC_OK);
    s_expect_error (out, len, ZC_ERR_NOT_CONNECTED);
}

static void
retried_send_is_applied_once (void **state)
{
    (void) state;
    assert_int_equal (s_do (ZC_CMD_CREATE, "carol", NULL), ZC_OK);
    zc_frame_t reply;
    uint8_t buf [ZC_FRAME_MAX];
    uint64_t seq = ++s_seq;
    assert_int_equal (s_call (ZC_CMD_SEND, "carol", "only once", seq, &reply, buf), ZC_OK);
    assert_int_equal (s_call (ZC_CMD_SEND, "carol", "only once", seq, &reply, buf), ZC_OK);
    assert_int_equal (s_do (ZC_CMD_SEND, "carol", "second"), ZC_OK);
    /* connect: exactly two messages are queued, with mseq 1 and 2 */
    seq = ++s_seq;
    assert_int_equal (s_call (ZC_CMD_CONNECT, "carol", NULL, seq, &reply, buf), ZC_OK);
    assert_int_equal (reply.mseq, 2);
    for (uint64_t expect = 1; expect <= 2; expect++) {
        s_recv (buf, &reply);
        assert_int_equal (reply.cmd, ZC_CMD_MESSAGE);
        assert_int_equal (reply.mseq, expect);
        assert_memory_equal (reply.text.ptr, expect == 1 ? "only once" : "second", reply.text.len);
    }
}

/* Send ACK {name, epoch, mseq} (ACK has no reply on success). */
static void
s_send_ack (const char *name, uint64_t epoch, uint64_t mseq)
{
    zc_frame_t ack;
    zc_frame_init (&ack, ZC_CMD_ACK);
    ack.fields = ZC_F_CID | ZC_F_NAME | ZC_F_EPOCH | ZC_F_MSEQ;
    ack.cid = CID;
    ack.name = (zc_bytes_t) { name, (uint32_t) strlen (name) };
    ack.epoch = epoch;
    ack.mseq = mseq;
    uint8_t out [ZC_FRAME_MAX];
    size_t len;
    assert_int_equal (zc_frame_encode (&ack, out, sizeof out, &len), ZC_OK);
    s_send_raw (out, len);
}

static uint64_t
s_queued (void)
{
    zc_frame_t reply;
    uint8_t buf [ZC_FRAME_MAX];
    assert_int_equal (s_call (ZC_CMD_STATUS, NULL, NULL, ++s_seq, &reply, buf), ZC_OK);
    return reply.n_queued;
}

/* The broker holds a lone ack back to share an fdatasync with a write; with no write
   coming it must still reach the log, or acknowledged messages are never freed. */
static void
ack_with_no_later_write_still_frees_the_queue (void **state)
{
    (void) state;
    assert_int_equal (s_do (ZC_CMD_CREATE, "dave", NULL), ZC_OK);
    assert_int_equal (s_do (ZC_CMD_SEND, "dave", "one"), ZC_OK);
    assert_int_equal (s_do (ZC_CMD_SEND, "dave", "two"), ZC_OK);
    uint64_t before = s_queued ();
    zc_frame_t reply;
    uint8_t buf [ZC_FRAME_MAX];
    assert_int_equal (s_call (ZC_CMD_CONNECT, "dave", NULL, ++s_seq, &reply, buf), ZC_OK);
    uint64_t epoch = reply.epoch;
    for (int i = 0; i < 2; i++) {
        s_recv (buf, &reply);
        assert_int_equal (reply.cmd, ZC_CMD_MESSAGE);
    }
    s_send_ack ("dave", epoch, 2);
    int64_t deadline = zclock_mono () + 3000;
    uint64_t queued;
    while ((queued = s_queued ()) != before - 2 && zclock_mono () < deadline)
        zclock_sleep (5); /* polling STATUS: a read, never a write */
    assert_int_equal (queued, before - 2);
}

/* The same client CONNECTs again (the client library does, when its first CONNECT may
   have reached another server too): what it already acked is not pushed again. (Here
   the ack commits with the CONNECT; test_session pins the case where it has not.) */
static void
connect_again_keeps_what_the_client_acked (void **state)
{
    (void) state;
    assert_int_equal (s_do (ZC_CMD_CREATE, "erin", NULL), ZC_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal (s_do (ZC_CMD_SEND, "erin", "hello"), ZC_OK);
    zc_frame_t reply;
    uint8_t buf [ZC_FRAME_MAX];
    assert_int_equal (s_call (ZC_CMD_CONNECT, "erin", NULL, ++s_seq, &reply, buf), ZC_OK);
    uint64_t epoch = reply.epoch;
    for (uint64_t m = 1; m <= 3; m++) {
        s_recv (buf, &reply);
        assert_int_equal (reply.cmd, ZC_CMD_MESSAGE);
        assert_int_equal (reply.mseq, m);
    }
    s_send_ack ("erin", epoch, 2);
    /* CONNECT again from the same socket, claiming nothing shown */
    assert_int_equal (s_call (ZC_CMD_CONNECT, "erin", NULL, ++s_seq, &reply, buf), ZC_OK);
    s_recv (buf, &reply);
    assert_int_equal (reply.cmd, ZC_CMD_MESSAGE);
    assert_int_equal (reply.mseq, 3); /* 1 and 2 were acked: not again */
    /* and nothing else was pushed before the answer to a later request */
    uint64_t seq = ++s_seq;
    uint8_t out [ZC_FRAME_MAX];
    size_t len;
    zc_frame_t status;
    zc_frame_init (&status, ZC_CMD_STATUS);
    status.fields = ZC_F_CID | ZC_F_SEQ;
    status.cid = CID;
    status.seq = seq;
    assert_int_equal (zc_frame_encode (&status, out, sizeof out, &len), ZC_OK);
    s_send_raw (out, len);
    s_recv (buf, &reply);
    assert_int_equal (reply.cmd, ZC_CMD_REPLY);
    assert_int_equal (reply.seq, seq);
}

static void
ping_gets_pong (void **state)
{
    (void) state;
    zc_frame_t frame;
    zc_frame_init (&frame, ZC_CMD_PING);
    frame.fields = ZC_F_CID;
    frame.cid = CID;
    uint8_t out [ZC_FRAME_MAX];
    size_t len;
    assert_int_equal (zc_frame_encode (&frame, out, sizeof out, &len), ZC_OK);
    s_send_raw (out, len);
    zc_frame_t reply;
    uint8_t buf [ZC_FRAME_MAX];
    s_recv (buf, &reply);
    assert_int_equal (reply.cmd, ZC_CMD_PONG);
}


/* ---- credentials and permissions (G11) */

static void
connect_needs_the_users_secret (void **state)
{
    (void) state;
    zsock_t *owner = s_dealer (true);
    s_on = owner;
    assert_int_equal (s_do (ZC_CMD_CREATE, "fay", NULL), ZC_OK);
    zsock_t *thief = s_dealer (true);
    s_on = thief;
    s_secret = "guess";
    assert_int_equal (s_do (ZC_CMD_CONNECT, "fay", NULL), ZC_ERR_AUTH_FAILED);
    assert_int_equal (s_do (ZC_CMD_DELETE, "fay", NULL), ZC_ERR_AUTH_FAILED);
    assert_int_equal (s_do (ZC_CMD_PASSWD, "fay", "mine now"), ZC_ERR_AUTH_FAILED);
    /* three failures from this connection: it waits now, without a check being run */
    assert_int_equal (s_do (ZC_CMD_CONNECT, "fay", NULL), ZC_ERR_THROTTLED);
    /* no secret at all: the decoder refuses the frame (seq 0: not trusted) */
    zc_frame_t bare;
    zc_frame_init (&bare, ZC_CMD_CONNECT);
    bare.fields = ZC_F_CID | ZC_F_SEQ | ZC_F_NAME;
    bare.cid = CID;
    bare.seq = ++s_seq;
    bare.name = (zc_bytes_t) { "fay", 3 };
    uint8_t out [ZC_FRAME_MAX];
    size_t len;
    assert_int_equal (zc_frame_encode (&bare, out, sizeof out, &len), ZC_OK);
    s_expect_error (out, len, ZC_ERR_MISSING_FIELD);
    zsock_destroy (&thief);
    s_on = owner;
    s_secret = "pw";
    /* nothing changed: the owner gets in with the old secret */
    assert_int_equal (s_do (ZC_CMD_CONNECT, "fay", NULL), ZC_OK);
    s_on = NULL;
    zsock_destroy (&owner);
}

static void
connect_needs_an_unguessable_routing_id (void **state)
{
    (void) state;
    zsock_t *mine = s_dealer (true);
    s_on = mine;
    assert_int_equal (s_do (ZC_CMD_CREATE, "gil", NULL), ZC_OK);
    zsock_t *plain = s_dealer (false); /* libzmq's own 5-byte counting id */
    s_on = plain;
    assert_int_equal (s_do (ZC_CMD_CONNECT, "gil", NULL), ZC_ERR_FORBIDDEN);
    zsock_destroy (&plain);
    s_on = NULL;
    zsock_destroy (&mine);
}

static void
send_as_another_user_is_forbidden (void **state)
{
    (void) state;
    zsock_t *mine = s_dealer (true);
    s_on = mine;
    assert_int_equal (s_do (ZC_CMD_CREATE, "hal", NULL), ZC_OK);
    zc_frame_t frame;
    zc_frame_init (&frame, ZC_CMD_SEND);
    frame.fields = ZC_F_CID | ZC_F_SEQ | ZC_F_NAME | ZC_F_TEXT | ZC_F_FROM;
    frame.cid = CID;
    frame.seq = ++s_seq;
    frame.name = (zc_bytes_t) { "hal", 3 };
    frame.text = (zc_bytes_t) { "hi", 2 };
    frame.from = (zc_bytes_t) { "fay", 3 }; /* not this connection's user */
    uint8_t out [ZC_FRAME_MAX];
    size_t len;
    assert_int_equal (zc_frame_encode (&frame, out, sizeof out, &len), ZC_OK);
    s_expect_error (out, len, ZC_ERR_FORBIDDEN);
    /* connected as hal, a SEND is from hal, whatever it claims or leaves out */
    assert_int_equal (s_do (ZC_CMD_CONNECT, "hal", NULL), ZC_OK);
    assert_int_equal (s_do (ZC_CMD_SEND, "hal", "note to self"), ZC_OK);
    zc_frame_t push;
    uint8_t buf [ZC_FRAME_MAX];
    s_recv (buf, &push);
    assert_int_equal (push.cmd, ZC_CMD_MESSAGE);
    assert_int_equal (push.from.len, 3);
    assert_memory_equal (push.from.ptr, "hal", 3);
    s_on = NULL;
    zsock_destroy (&mine);
}

static void
passwd_replaces_the_secret (void **state)
{
    (void) state;
    zsock_t *mine = s_dealer (true);
    s_on = mine;
    assert_int_equal (s_do (ZC_CMD_CREATE, "ivy", NULL), ZC_OK);
    assert_int_equal (s_do (ZC_CMD_PASSWD, "ivy", "second"), ZC_OK);
    assert_int_equal (s_do (ZC_CMD_CONNECT, "ivy", NULL), ZC_ERR_AUTH_FAILED);
    s_secret = "second";
    assert_int_equal (s_do (ZC_CMD_CONNECT, "ivy", NULL), ZC_OK);
    assert_int_equal (s_do (ZC_CMD_DELETE, "ivy", NULL), ZC_OK);
    s_secret = "pw";
    s_on = NULL;
    zsock_destroy (&mine);
}

static void
request_with_client_id_zero_gets_a_clear_error (void **state)
{
    (void) state;
    zsock_t *mine = s_dealer (true);
    s_on = mine;
    zc_frame_t frame;
    zc_frame_init (&frame, ZC_CMD_STATUS);
    frame.fields = ZC_F_CID | ZC_F_SEQ;
    frame.cid = 0;
    frame.seq = 7;
    uint8_t out [ZC_FRAME_MAX];
    size_t len;
    assert_int_equal (zc_frame_encode (&frame, out, sizeof out, &len), ZC_OK);
    s_expect_error (out, len, ZC_ERR_BAD_CLIENT_ID);
    s_on = NULL;
    zsock_destroy (&mine);
}

/* A DELETE whose reply was lost and that is sent again with the same seq gets its
   first answer, though the user is gone now (G3); so does a CONNECT. */
static void
retried_delete_and_connect_get_their_first_answer (void **state)
{
    (void) state;
    zsock_t *mine = s_dealer (true);
    s_on = mine;
    zc_frame_t reply;
    uint8_t buf [ZC_FRAME_MAX];
    assert_int_equal (s_do (ZC_CMD_CREATE, "kim", NULL), ZC_OK);
    uint64_t connect_seq = ++s_seq;
    assert_int_equal (s_call (ZC_CMD_CONNECT, "kim", NULL, connect_seq, &reply, buf), 0);
    uint64_t delete_seq = ++s_seq;
    assert_int_equal (s_call (ZC_CMD_DELETE, "kim", NULL, delete_seq, &reply, buf), 0);
    s_recv (buf, &reply); /* the session is told */
    assert_int_equal (reply.cmd, ZC_CMD_CLOSED);
    assert_int_equal (s_call (ZC_CMD_DELETE, "kim", NULL, delete_seq, &reply, buf), 0);
    assert_int_equal (s_call (ZC_CMD_CONNECT, "kim", NULL, connect_seq, &reply, buf), 0);
    s_recv (buf, &reply); /* and no session: the user is gone */
    assert_int_equal (reply.cmd, ZC_CMD_CLOSED);
    assert_int_equal (reply.code, ZC_ERR_USER_DELETED);
    /* a new DELETE is checked against today's state */
    assert_int_equal (s_do (ZC_CMD_DELETE, "kim", NULL), ZC_ERR_NO_SUCH_USER);
    s_on = NULL;
    zsock_destroy (&mine);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (oversized_frame_is_refused),
        cmocka_unit_test (garbage_and_truncated_frames_get_decoder_errors),
        cmocka_unit_test (multipart_message_is_refused),
        cmocka_unit_test (replica_frames_from_a_client_are_refused),
        cmocka_unit_test (every_command_reports_its_errors),
        cmocka_unit_test (ack_without_session_is_refused),
        cmocka_unit_test (retried_send_is_applied_once),
        cmocka_unit_test (ack_with_no_later_write_still_frees_the_queue),
        cmocka_unit_test (connect_again_keeps_what_the_client_acked),
        cmocka_unit_test (ping_gets_pong),
        cmocka_unit_test (connect_needs_the_users_secret),
        cmocka_unit_test (connect_needs_an_unguessable_routing_id),
        cmocka_unit_test (send_as_another_user_is_forbidden),
        cmocka_unit_test (passwd_replaces_the_secret),
        cmocka_unit_test (request_with_client_id_zero_gets_a_clear_error),
        cmocka_unit_test (retried_delete_and_connect_get_their_first_answer),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
