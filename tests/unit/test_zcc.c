/*  test_zcc.c - the client library against scripted fake servers.

    Each fake server is a ROUTER in this thread on an ephemeral loopback port; the test
    pumps the client (zcc_poll with a short timeout) while it waits for the fake to see a
    frame, and records every client event, so each test can script the server side
    exactly: redirects, silence, duplicate pushes, multi-frame replies. Waits poll a
    condition with a deadline; no test sleeps for a fixed time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <czmq.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "zcc.h"

#define WAIT_MS 5000

typedef struct {
    zsock_t *router;
    char addr [64];
} fake_t;

typedef struct {
    uint8_t identity [256]; /* the client's routing id, to address replies */
    size_t identity_len;
    uint8_t buf [ZC_FRAME_MAX];
    size_t len;
    zc_frame_t f;
} fake_msg_t;

/* Copies of the client's events, in order. */
typedef struct {
    zcc_event_type_t type;
    uint64_t seq;
    zc_cmd_t re;
    zc_code_t code;
    uint64_t mseq;
    uint64_t epoch;
    char text [ZC_FRAME_MAX + 1];
    uint32_t n_users;
    char first_user [ZC_NAME_MAX + 1];
    char last_user [ZC_NAME_MAX + 1];
} tev_t;

#define MAX_TEV 512
static tev_t s_tev [MAX_TEV];
static int s_n_tev;

static void
fake_start (fake_t *fake)
{
    fake->router = zsock_new (ZMQ_ROUTER);
    assert_non_null (fake->router);
    zsock_set_linger (fake->router, 0);
    int port = zsock_bind (fake->router, "tcp://127.0.0.1:*");
    assert_true (port > 0);
    snprintf (fake->addr, sizeof fake->addr, "127.0.0.1:%d", port);
}

static void
fake_stop (fake_t *fake)
{
    zsock_destroy (&fake->router);
}

static void
s_record (const zcc_event_t *ev)
{
    assert_true (s_n_tev < MAX_TEV);
    tev_t *t = &s_tev [s_n_tev++];
    memset (t, 0, sizeof *t);
    t->type = ev->type;
    t->seq = ev->seq;
    t->re = ev->re;
    t->code = ev->code;
    t->mseq = ev->frame.mseq;
    t->epoch = ev->frame.epoch;
    if (ev->type == ZCC_EV_MESSAGE)
        memcpy (t->text, ev->frame.text.ptr, ev->frame.text.len);
    else
        snprintf (t->text, sizeof t->text, "%s", ev->error ? ev->error : "");
    t->n_users = ev->n_users;
    if (ev->n_users) {
        snprintf (t->first_user, sizeof t->first_user, "%s", ev->users [0]);
        snprintf (t->last_user, sizeof t->last_user, "%s", ev->users [ev->n_users - 1]);
    }
}

/* Pump the client once for up to ms, recording any event. */
static void
pump (zcc_t *client, int ms)
{
    zcc_event_t ev;
    if (zcc_poll (client, ms, -1, &ev) != ZCC_EV_NONE)
        s_record (&ev);
}

/* Decode a message the fake received (routing id, frame) into *msg; destroys it. */
static bool
msg_parse (zmsg_t **zmsg_p, fake_msg_t *msg)
{
    zmsg_t *zmsg = *zmsg_p;
    zframe_t *identity = zmsg ? zmsg_first (zmsg) : NULL;
    zframe_t *data = zmsg ? zmsg_last (zmsg) : NULL;
    bool ok = zmsg && zmsg_size (zmsg) == 2 && zframe_size (identity) <= sizeof msg->identity
              && zframe_size (data) <= ZC_FRAME_MAX;
    if (ok) {
        msg->identity_len = zframe_size (identity);
        memcpy (msg->identity, zframe_data (identity), msg->identity_len);
        msg->len = zframe_size (data);
        memcpy (msg->buf, zframe_data (data), msg->len);
        ok = zc_frame_decode (msg->buf, msg->len, &msg->f) == ZC_OK;
    }
    zmsg_destroy (zmsg_p);
    return ok;
}

/* Take one frame from the fake if one is waiting: true with it in *msg. */
static bool
fake_take (fake_t *fake, fake_msg_t *msg)
{
    zmq_pollitem_t item = { zsock_resolve (fake->router), 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, 0) != 1)
        return false;
    zmsg_t *zmsg = zmsg_recv (fake->router);
    assert_true (msg_parse (&zmsg, msg));
    return true;
}

/* True once the fake receives a frame of command cmd within ms (left in *msg),
   pumping the client meanwhile; other commands, such as PING, are skipped. */
static bool
fake_wait_for (fake_t *fake, zcc_t *client, zc_cmd_t cmd, int ms, fake_msg_t *msg)
{
    int64_t end = zclock_mono () + ms;
    while (zclock_mono () < end) {
        if (!fake_take (fake, msg))
            pump (client, 2);
        else if (msg->f.cmd == cmd)
            return true;
    }
    return false;
}

/* The fake receives a frame of cmd, left in *msg; fails the test after WAIT_MS. */
static void
fake_expect (fake_t *fake, zcc_t *client, zc_cmd_t cmd, fake_msg_t *msg)
{
    if (!fake_wait_for (fake, client, cmd, WAIT_MS, msg))
        fail_msg ("fake %s never received %s", fake->addr, zc_cmd_name (cmd));
}

/* True if the fake receives a frame of cmd within ms (pumping the client). */
static bool
fake_receives_within (fake_t *fake, zcc_t *client, zc_cmd_t cmd, int ms)
{
    fake_msg_t msg;
    return fake_wait_for (fake, client, cmd, ms, &msg);
}

static void
fake_send (fake_t *fake, const fake_msg_t *to, const zc_frame_t *frame)
{
    uint8_t buf [ZC_FRAME_MAX];
    size_t len;
    assert_int_equal (zc_frame_encode (frame, buf, sizeof buf, &len), ZC_OK);
    zmsg_t *zmsg = zmsg_new ();
    zmsg_addmem (zmsg, to->identity, to->identity_len);
    zmsg_addmem (zmsg, buf, len);
    assert_int_equal (zmsg_send (&zmsg, fake->router), 0);
}

static zc_bytes_t
B (const char *s)
{
    return (zc_bytes_t) { s, (uint32_t) strlen (s) };
}

static void
fake_reply (fake_t *fake, const fake_msg_t *req, zc_frame_t *reply)
{
    reply->fields |= ZC_F_RE | ZC_F_SEQ | ZC_F_CODE;
    if (reply->cmd == ZC_CMD_REPLY) { /* the fields each REPLY must carry */
        if (req->f.cmd == ZC_CMD_CREATE)
            reply->fields |= ZC_F_EPOCH;
        if (req->f.cmd == ZC_CMD_LIST)
            reply->fields |= ZC_F_USERS | ZC_F_MORE;
        if (req->f.cmd == ZC_CMD_STATUS)
            reply->fields |= ZC_F_REPLICAS | ZC_F_STATS;
        if (req->f.cmd == ZC_CMD_CONNECT && !(reply->fields & ZC_F_NAME)) {
            reply->fields |= ZC_F_NAME | ZC_F_EPOCH | ZC_F_MSEQ;
            reply->name = req->f.name;
        }
    }
    reply->re = req->f.cmd;
    reply->seq = req->f.seq;
    fake_send (fake, req, reply);
}

/* Answer a CONNECT of bob: bound at epoch 5, mseq the highest the server has shown. */
static void
fake_bind_bob (fake_t *fake, const fake_msg_t *connect, uint64_t mseq)
{
    zc_frame_t r;
    zc_frame_init (&r, ZC_CMD_REPLY);
    r.fields = ZC_F_NAME | ZC_F_EPOCH | ZC_F_MSEQ;
    r.name = B ("bob");
    r.epoch = 5;
    r.mseq = mseq;
    fake_reply (fake, connect, &r);
}

/* The server ends bob's session: another client took it over. */
static void
fake_close_bob (fake_t *fake, const fake_msg_t *session)
{
    zc_frame_t c;
    zc_frame_init (&c, ZC_CMD_CLOSED);
    c.fields = ZC_F_NAME | ZC_F_CODE | ZC_F_TEXT;
    c.name = B ("bob");
    c.code = ZC_ERR_REPLACED;
    c.text = B ("session taken over");
    fake_send (fake, session, &c);
}

static void
fake_ok (fake_t *fake, const fake_msg_t *req)
{
    zc_frame_t r;
    zc_frame_init (&r, ZC_CMD_REPLY);
    fake_reply (fake, req, &r);
}

static void
fake_error (fake_t *fake, const fake_msg_t *req, zc_code_t code, const char *text,
            const char *leader)
{
    zc_frame_t r;
    zc_frame_init (&r, ZC_CMD_ERROR);
    r.fields = ZC_F_TEXT;
    r.code = code;
    r.text = B (text);
    if (leader) {
        r.fields |= ZC_F_LEADER;
        r.leader = B (leader);
    }
    fake_reply (fake, req, &r);
}

static void
fake_push (fake_t *fake, const fake_msg_t *session, const char *name, uint64_t epoch, uint64_t mseq,
           const char *text)
{
    zc_frame_t m;
    zc_frame_init (&m, ZC_CMD_MESSAGE);
    m.fields = ZC_F_NAME | ZC_F_FROM | ZC_F_EPOCH | ZC_F_MSEQ | ZC_F_TS | ZC_F_TEXT;
    m.name = B (name);
    m.from = B ("alice");
    m.epoch = epoch;
    m.mseq = mseq;
    m.ts = 1700000000000ULL;
    m.text = B (text);
    fake_send (fake, session, &m);
}

/* Pump until n events are recorded in total; fails after WAIT_MS. */
static void
wait_events (zcc_t *client, int n)
{
    int64_t end = zclock_mono () + WAIT_MS;
    while (s_n_tev < n && zclock_mono () < end)
        pump (client, 5);
    assert_int_equal (s_n_tev, n);
}

/* Liveness intervals for the next client_new (0 = the library's defaults). */
static uint32_t s_ping_ms, s_heartbeat_ms;

static zcc_t *
client_new (const char *servers, uint32_t timeout_ms, uint32_t deadline_ms, uint32_t max_inflight)
{
    zcc_options_t options;
    zcc_options_defaults (&options);
    options.servers = servers;
    options.ping_ms = s_ping_ms;
    options.heartbeat_ms = s_heartbeat_ms;
    s_ping_ms = s_heartbeat_ms = 0;
    options.insecure = true; /* the fake servers here speak plain ZeroMQ */
    if (timeout_ms)
        options.request_timeout_ms = timeout_ms;
    if (deadline_ms)
        options.deadline_ms = deadline_ms;
    if (max_inflight)
        options.max_inflight = max_inflight;
    zcc_t *client = zcc_new (&options);
    assert_non_null (client);
    s_n_tev = 0;
    return client;
}

/* Pump the client for 100 ms: it reports nothing beyond the n events it has. */
static void
no_more_events (zcc_t *client, int n)
{
    int64_t end = zclock_mono () + 100;
    while (zclock_mono () < end)
        pump (client, 5);
    assert_int_equal (s_n_tev, n);
}

/* One or two fake servers and a client of them (its server list in that order);
   rig_stop destroys all three. */
typedef struct {
    fake_t a, b;
    zcc_t *client;
} rig_t;

static zcc_t *
rig_start (rig_t *rig, int n_fakes, uint32_t timeout_ms, uint32_t deadline_ms,
           uint32_t max_inflight)
{
    memset (rig, 0, sizeof *rig);
    fake_start (&rig->a);
    char servers [160];
    snprintf (servers, sizeof servers, "%s", rig->a.addr);
    if (n_fakes == 2) {
        fake_start (&rig->b);
        snprintf (servers, sizeof servers, "%s,%s", rig->a.addr, rig->b.addr);
    }
    rig->client = client_new (servers, timeout_ms, deadline_ms, max_inflight);
    return rig->client;
}

static void
rig_stop (rig_t *rig)
{
    zcc_destroy (&rig->client);
    assert_null (rig->client);
    fake_stop (&rig->a);
    fake_stop (&rig->b);
}

/* Bind the client to bob (epoch 5) on fake, leaving the CONNECT in *session. */
static void
connect_bob (fake_t *fake, zcc_t *client, fake_msg_t *session)
{
    int before = s_n_tev;
    uint64_t seq = zcc_submit_with (client, ZC_CMD_CONNECT, "bob", NULL, "pw", NULL);
    fake_expect (fake, client, ZC_CMD_CONNECT, session);
    assert_int_equal (session->f.seq, seq);
    fake_bind_bob (fake, session, 0);
    wait_events (client, before + 1);
    assert_int_equal (s_tev [before].type, ZCC_EV_REPLY);
    assert_int_equal (s_tev [before].code, ZC_OK);
}

/* Push mseq 1..n to bob's session (epoch 5) and wait until the client shows them. */
static void
show_bob (fake_t *fake, zcc_t *client, const fake_msg_t *session, uint64_t n)
{
    int before = s_n_tev;
    for (uint64_t m = 1; m <= n; m++)
        fake_push (fake, session, "bob", 5, m, "shown");
    wait_events (client, before + (int) n);
    for (uint64_t m = 1; m <= n; m++) {
        assert_int_equal (s_tev [before + (int) m - 1].type, ZCC_EV_MESSAGE);
        assert_int_equal (s_tev [before + (int) m - 1].mseq, m);
    }
}

static void
request_reply_round_trip (void **state)
{
    (void) state;
    rig_t rig;
    zcc_t *client = rig_start (&rig, 1, 0, 0, 0);
    fake_t *a = &rig.a;
    uint64_t seq = zcc_submit_with (client, ZC_CMD_CREATE, "alice", NULL, "pw", NULL);
    assert_int_equal (seq, 1);
    fake_msg_t req;
    fake_expect (a, client, ZC_CMD_CREATE, &req);
    assert_int_equal (req.f.cid, zcc_client_id (client));
    assert_true (req.f.cid != 0);
    assert_int_equal (req.f.seq, 1);
    assert_int_equal (req.f.name.len, 5);
    assert_memory_equal (req.f.name.ptr, "alice", 5);
    zc_frame_t r;
    zc_frame_init (&r, ZC_CMD_REPLY);
    r.fields = ZC_F_EPOCH;
    r.epoch = 7;
    fake_reply (a, &req, &r);
    wait_events (client, 1);
    assert_int_equal (s_tev [0].type, ZCC_EV_REPLY);
    assert_int_equal (s_tev [0].seq, 1);
    assert_int_equal (s_tev [0].re, ZC_CMD_CREATE);
    assert_int_equal (s_tev [0].code, ZC_OK);
    assert_int_equal (s_tev [0].epoch, 7);
    assert_int_equal (zcc_inflight (client), 0);
    /* an ERROR is a reply with its code and readable text */
    seq = zcc_submit (client, ZC_CMD_SEND, "bob", "hi, there");
    fake_expect (a, client, ZC_CMD_SEND, &req);
    assert_int_equal (req.f.seq, 2);
    assert_int_equal (req.f.text.len, 9);
    fake_error (a, &req, ZC_ERR_NO_SUCH_USER, "user 'bob' does not exist", NULL);
    wait_events (client, 2);
    assert_int_equal (s_tev [1].seq, seq);
    assert_int_equal (s_tev [1].code, ZC_ERR_NO_SUCH_USER);
    assert_string_equal (s_tev [1].text, "user 'bob' does not exist");
    rig_stop (&rig);
}

static void
not_leader_redirects_with_same_cid_and_seq (void **state)
{
    (void) state;
    rig_t rig;
    zcc_t *client = rig_start (&rig, 2, 5000, 0, 0);
    fake_t *a = &rig.a, *b = &rig.b;
    uint64_t s1 = zcc_submit (client, ZC_CMD_SEND, "bob", "one");
    uint64_t s2 = zcc_submit (client, ZC_CMD_SEND, "bob", "two");
    fake_msg_t r1, r2, n1, n2;
    fake_expect (a, client, ZC_CMD_SEND, &r1);
    fake_expect (a, client, ZC_CMD_SEND, &r2);
    fake_error (a, &r1, ZC_ERR_NOT_LEADER, "not the leader", b->addr);
    /* both outstanding requests move to the leader, in order, byte for byte */
    fake_expect (b, client, ZC_CMD_SEND, &n1);
    fake_expect (b, client, ZC_CMD_SEND, &n2);
    assert_int_equal (n1.f.seq, s1);
    assert_int_equal (n2.f.seq, s2);
    assert_int_equal (n1.f.cid, r1.f.cid);
    assert_int_equal (n1.len, r1.len);
    assert_memory_equal (n1.buf, r1.buf, r1.len);
    assert_memory_equal (n2.buf, r2.buf, r2.len);
    assert_string_equal (zcc_current_server (client), b->addr);
    fake_ok (b, &n1);
    fake_ok (b, &n2);
    wait_events (client, 2);
    assert_int_equal (s_tev [0].seq, s1);
    assert_int_equal (s_tev [1].seq, s2);
    assert_int_equal (s_tev [0].code, ZC_OK);
    assert_int_equal (s_tev [1].code, ZC_OK);
    rig_stop (&rig);
}

static void
reply_timeout_fails_over_to_next_server_with_same_seq (void **state)
{
    (void) state;
    rig_t rig;
    zcc_t *client = rig_start (&rig, 2, 100, 0, 0);
    fake_t *a = &rig.a, *b = &rig.b;
    assert_string_equal (zcc_current_server (client), a->addr);
    uint64_t seq = zcc_submit_with (client, ZC_CMD_CREATE, "carol", NULL, "pw", NULL);
    fake_msg_t lost, retry;
    fake_expect (a, client, ZC_CMD_CREATE, &lost); /* a never answers */
    int64_t start = zclock_mono ();
    fake_expect (b, client, ZC_CMD_CREATE, &retry);
    assert_true (zclock_mono () - start >= 50); /* waited for the timeout */
    assert_int_equal (retry.f.seq, seq);
    assert_int_equal (retry.f.cid, lost.f.cid);
    assert_string_equal (zcc_current_server (client), b->addr);
    assert_int_equal (s_n_tev, 0);
    fake_ok (b, &retry);
    wait_events (client, 1);
    assert_int_equal (s_tev [0].seq, seq);
    assert_int_equal (s_tev [0].code, ZC_OK);
    rig_stop (&rig);
}

static void
request_past_deadline_reports_timeout (void **state)
{
    (void) state;
    rig_t rig;
    zcc_t *client = rig_start (&rig, 1, 100, 400, 0);
    uint64_t seq = zcc_submit_with (client, ZC_CMD_DELETE, "dave", NULL, "pw", NULL);
    int64_t start = zclock_mono ();
    wait_events (client, 1);
    assert_true (zclock_mono () - start >= 390);
    assert_int_equal (s_tev [0].type, ZCC_EV_REPLY);
    assert_int_equal (s_tev [0].seq, seq);
    assert_int_equal (s_tev [0].re, ZC_CMD_DELETE);
    assert_int_equal (s_tev [0].code, ZC_ERR_TIMEOUT);
    assert_int_equal (zcc_inflight (client), 0);
    rig_stop (&rig);
}

static void
duplicate_pushes_are_shown_once (void **state)
{
    (void) state;
    rig_t rig;
    zcc_t *client = rig_start (&rig, 1, 0, 0, 0);
    fake_t *a = &rig.a;
    fake_msg_t session;
    connect_bob (a, client, &session);
    fake_push (a, &session, "bob", 5, 1, "m1");
    fake_push (a, &session, "bob", 5, 1, "m1 again");
    fake_push (a, &session, "bob", 5, 2, "m2");
    fake_push (a, &session, "bob", 5, 1, "m1 late");
    fake_push (a, &session, "bob", 9, 3, "other epoch");
    fake_push (a, &session, "eve", 5, 3, "other user");
    fake_push (a, &session, "bob", 5, 3, "m3, with comma");
    wait_events (client, 4);
    for (int i = 1; i < 4; i++) {
        assert_int_equal (s_tev [i].type, ZCC_EV_MESSAGE);
        assert_int_equal (s_tev [i].mseq, (uint64_t) i);
    }
    assert_string_equal (s_tev [3].text, "m3, with comma");
    /* nothing else arrives */
    no_more_events (client, 4);
    rig_stop (&rig);
}

/* Push mseq 1..3 to bob's session; the client shows them and acks all three in one ACK,
   left in *ack. */
static void
push_three_shown_and_acked (fake_t *fake, zcc_t *client, const fake_msg_t *session, fake_msg_t *ack)
{
    show_bob (fake, client, session, 3);
    fake_expect (fake, client, ZC_CMD_ACK, ack);
    assert_int_equal (ack->f.mseq, 3); /* one ack covers all three */
}

static void
acks_are_cumulative (void **state)
{
    (void) state;
    rig_t rig;
    zcc_t *client = rig_start (&rig, 1, 0, 0, 0);
    fake_t *a = &rig.a;
    fake_msg_t session, ack;
    connect_bob (a, client, &session);
    push_three_shown_and_acked (a, client, &session, &ack);
    assert_int_equal (ack.f.epoch, 5);
    assert_int_equal (ack.f.cid, zcc_client_id (client));
    assert_true (ack.f.name.len == 3 && memcmp (ack.f.name.ptr, "bob", 3) == 0);
    /* 64 unacked: acked at once, cumulatively, never past what was shown */
    for (uint64_t m = 4; m <= 70; m++)
        fake_push (a, &session, "bob", 5, m, "y");
    wait_events (client, 71);
    fake_expect (a, client, ZC_CMD_ACK, &ack);
    assert_true (ack.f.mseq >= 67 && ack.f.mseq <= 70);
    if (ack.f.mseq < 70) {
        fake_expect (a, client, ZC_CMD_ACK, &ack);
        assert_int_equal (ack.f.mseq, 70);
    }
    /* nothing new shown: no further ack */
    assert_false (fake_receives_within (a, client, ZC_CMD_ACK, 300));
    rig_stop (&rig);
}

/* A server session that never saw our ack (a new one after a re-bind, or the ack was
   lost) pushes what we already showed: we must ack again, or its window stays full of
   messages we drop and delivery stops. */
static void
acked_message_pushed_again_is_acked_again (void **state)
{
    (void) state;
    rig_t rig;
    zcc_t *client = rig_start (&rig, 1, 0, 0, 0);
    fake_t *a = &rig.a;
    fake_msg_t session, ack;
    connect_bob (a, client, &session);
    push_three_shown_and_acked (a, client, &session, &ack);
    for (uint64_t m = 1; m <= 3; m++)
        fake_push (a, &session, "bob", 5, m, "x again");
    fake_expect (a, client, ZC_CMD_ACK, &ack);
    assert_int_equal (ack.f.mseq, 3);
    assert_int_equal (ack.f.epoch, 5);
    assert_int_equal (s_n_tev, 4); /* shown once all the same */
    /* one re-ack per interval, not one per duplicate */
    assert_false (fake_receives_within (a, client, ZC_CMD_ACK, 50));
    rig_stop (&rig);
}

static void
failover_reconnects_with_highest_shown (void **state)
{
    (void) state;
    rig_t rig;
    zcc_t *client = rig_start (&rig, 2, 100, 0, 0);
    fake_t *a = &rig.a, *b = &rig.b;
    fake_msg_t session, reconnect, list, ack;
    connect_bob (a, client, &session);
    show_bob (a, client, &session, 2);
    uint64_t seq = zcc_submit (client, ZC_CMD_LIST, NULL, NULL); /* a stays silent */
    fake_expect (b, client, ZC_CMD_CONNECT, &reconnect);
    assert_true (reconnect.f.fields & ZC_F_MSEQ);
    assert_int_equal (reconnect.f.mseq, 2);
    assert_true (reconnect.f.name.len == 3 && memcmp (reconnect.f.name.ptr, "bob", 3) == 0);
    assert_true (reconnect.f.seq != session.f.seq);
    fake_expect (b, client, ZC_CMD_LIST, &list);
    assert_int_equal (list.f.seq, seq);
    fake_bind_bob (b, &reconnect, 3);
    fake_push (b, &reconnect, "bob", 5, 2, "m2 again");
    fake_push (b, &reconnect, "bob", 5, 3, "m3");
    zc_frame_t r;
    zc_frame_init (&r, ZC_CMD_REPLY);
    r.fields = ZC_F_USERS;
    r.n_users = 1;
    r.users [0] = B ("bob");
    fake_reply (b, &list, &r);
    wait_events (client, 5); /* m3 and the LIST reply; the re-CONNECT is silent */
    assert_int_equal (s_tev [3].type, ZCC_EV_MESSAGE);
    assert_int_equal (s_tev [3].mseq, 3);
    assert_int_equal (s_tev [4].type, ZCC_EV_REPLY);
    assert_int_equal (s_tev [4].seq, seq);
    /* the new session hears acks up to everything shown, never beyond */
    do {
        fake_expect (b, client, ZC_CMD_ACK, &ack);
        assert_true (ack.f.mseq >= 2 && ack.f.mseq <= 3);
    } while (ack.f.mseq != 3);
    rig_stop (&rig);
}

/* A two-server rig with bob bound at a, which then stays silent; a SEND fails the
   client over to b, which gets the re-CONNECT (left in *reconnect) and, for 200 ms, not
   the SEND, which waits for it. The reply timeout is well above that window, so the
   client stays at b. Returns the SEND's seq. */
static uint64_t
rig_with_held_send (rig_t *rig, fake_msg_t *reconnect)
{
    zcc_t *client = rig_start (rig, 2, 600, 0, 0);
    fake_msg_t session;
    connect_bob (&rig->a, client, &session);
    uint64_t seq = zcc_submit (client, ZC_CMD_SEND, "ann", "hi");
    fake_expect (&rig->b, client, ZC_CMD_CONNECT, reconnect);
    assert_false (fake_receives_within (&rig->b, client, ZC_CMD_SEND, 200));
    return seq;
}

/* The held SEND reaches b, unchanged. */
static void
held_send_goes_out (rig_t *rig, uint64_t seq)
{
    fake_msg_t send;
    fake_expect (&rig->b, rig->client, ZC_CMD_SEND, &send);
    assert_int_equal (send.f.seq, seq);
}

/* After a failover, a bound client CONNECTs again with the user's secret, and its SENDs
   wait for that answer: sent before, the new server would take them as from nobody. */
static void
sends_wait_for_the_session_after_a_failover (void **state)
{
    (void) state;
    rig_t rig;
    fake_msg_t reconnect;
    uint64_t seq = rig_with_held_send (&rig, &reconnect);
    assert_true (reconnect.f.fields & ZC_F_SECRET);
    assert_true (reconnect.f.secret.len == 2 && memcmp (reconnect.f.secret.ptr, "pw", 2) == 0);
    fake_bind_bob (&rig.b, &reconnect, 0);
    held_send_goes_out (&rig, seq);
    rig_stop (&rig);
}

/* A session that ends while its re-CONNECT is out releases the SENDs that waited for
   it: they get their answer (as from nobody) instead of waiting for their deadline. */
static void
held_sends_go_out_when_the_session_closes (void **state)
{
    (void) state;
    rig_t rig;
    fake_msg_t reconnect;
    uint64_t seq = rig_with_held_send (&rig, &reconnect);
    fake_close_bob (&rig.b, &reconnect);
    held_send_goes_out (&rig, seq);
    assert_int_equal (s_n_tev, 2);
    assert_int_equal (s_tev [1].type, ZCC_EV_CLOSED);
    assert_int_equal (s_tev [1].code, ZC_ERR_REPLACED);
    rig_stop (&rig);
}

/* A server whose loop is stuck still answers ZeroMQ's heartbeats (libzmq does, in
   its own thread): the unanswered PING is what says so. */
static void
silent_server_of_a_session_is_left (void **state)
{
    (void) state;
    /* a reply timeout as long as the ping interval: later pings must not postpone
       the verdict on the first unanswered one */
    rig_t rig;
    s_ping_ms = 1000;
    zcc_t *client = rig_start (&rig, 2, 1000, 0, 0);
    fake_t *a = &rig.a, *b = &rig.b;
    fake_msg_t session, ping, reconnect;
    connect_bob (a, client, &session);
    show_bob (a, client, &session, 1);
    /* idle: the client pings a; a never answers, so the session moves to b */
    fake_expect (a, client, ZC_CMD_PING, &ping);
    fake_expect (b, client, ZC_CMD_CONNECT, &reconnect);
    assert_int_equal (reconnect.f.mseq, 1);
    assert_string_equal (zcc_current_server (client), b->addr);
    rig_stop (&rig);
}

/* A leader busy for a second (a burst of logins) keeps its idle sessions: an
   unanswered PING sends the session elsewhere only after 3 s, not after the 1 s
   request timeout, so that thousands of sessions do not all fail over at once. */
static void
busy_server_keeps_its_sessions_for_three_seconds (void **state)
{
    (void) state;
    rig_t rig;
    s_ping_ms = 500;
    zcc_t *client = rig_start (&rig, 2, 1000, 0, 0);
    fake_msg_t session, ping, reconnect;
    connect_bob (&rig.a, client, &session);
    show_bob (&rig.a, client, &session, 1);
    fake_expect (&rig.a, client, ZC_CMD_PING, &ping); /* and never answered */
    assert_false (fake_receives_within (&rig.b, client, ZC_CMD_CONNECT, 1500));
    assert_string_equal (zcc_current_server (client), rig.a.addr);
    fake_expect (&rig.b, client, ZC_CMD_CONNECT, &reconnect);
    assert_int_equal (reconnect.f.mseq, 1);
    rig_stop (&rig);
}

/* A server that closes the connection (it died or restarted) is left at once: with
   pings and heartbeats a minute apart, only the disconnect can explain the move. */
static void
session_moves_when_its_server_disconnects (void **state)
{
    (void) state;
    rig_t rig;
    s_ping_ms = s_heartbeat_ms = 60000;
    zcc_t *client = rig_start (&rig, 2, 0, 0, 0);
    fake_msg_t session, reconnect;
    connect_bob (&rig.a, client, &session);
    show_bob (&rig.a, client, &session, 1);
    fake_stop (&rig.a);
    fake_expect (&rig.b, client, ZC_CMD_CONNECT, &reconnect);
    assert_int_equal (reconnect.f.mseq, 1);
    assert_string_equal (zcc_current_server (client), rig.b.addr);
    rig_stop (&rig);
}

/* A TCP relay in front of a fake server that can freeze: it then forwards nothing
   and closes nothing, as a paused or cut-off server looks from the client. */
static void
relay_actor (zsock_t *pipe, void *args)
{
    const char *target_port = (const char *) args;
    int listener = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    assert_int_equal (bind (listener, (struct sockaddr *) &addr, sizeof addr), 0);
    assert_int_equal (listen (listener, 4), 0);
    assert_int_equal (getsockname (listener, (struct sockaddr *) &addr, &len), 0);
    zsock_signal (pipe, 0);
    zstr_sendf (pipe, "%d", ntohs (addr.sin_port));
    int client = -1, server = -1;
    bool frozen = false, done = false;
    while (!done) {
        zmq_pollitem_t items [] = { { zsock_resolve (pipe), 0, ZMQ_POLLIN, 0 },
                                    { NULL, client < 0 ? listener : client, ZMQ_POLLIN, 0 },
                                    { NULL, server, ZMQ_POLLIN, 0 } };
        int n = frozen ? 1 : server < 0 ? 2 : 3;
        if (zmq_poll (items, n, -1) < 0)
            break;
        if (items [0].revents & ZMQ_POLLIN) {
            char *command = zstr_recv (pipe);
            done = !command || streq (command, "$TERM");
            frozen |= command && streq (command, "FREEZE");
            zstr_free (&command);
            continue;
        }
        if (client < 0 && (items [1].revents & ZMQ_POLLIN)) {
            client = accept (listener, NULL, NULL);
            struct sockaddr_in to = { .sin_family = AF_INET,
                                      .sin_port = htons ((uint16_t) atoi (target_port)),
                                      .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
            server = socket (AF_INET, SOCK_STREAM, 0);
            assert_int_equal (connect (server, (struct sockaddr *) &to, sizeof to), 0);
            continue;
        }
        for (int i = 1; i < n; i++) {
            if (!(items [i].revents & (ZMQ_POLLIN | ZMQ_POLLERR)))
                continue;
            char buf [4096];
            ssize_t got = read (items [i].fd, buf, sizeof buf);
            if (got <= 0 || write (i == 1 ? server : client, buf, (size_t) got) != got)
                done = true;
        }
    }
    if (client >= 0)
        close (client);
    if (server >= 0)
        close (server);
    close (listener);
}

/* A server that goes silent without closing anything (paused, or cut off) is left once
   ZeroMQ's heartbeats go unanswered: the PING interval is a minute, so only the
   heartbeat (100 ms, dead after 300 ms) can explain the move. */
static void
session_moves_when_its_server_stops_answering_heartbeats (void **state)
{
    (void) state;
    fake_t a, b;
    fake_start (&a);
    fake_start (&b);
    zactor_t *relay = zactor_new (relay_actor, strchr (a.addr, ':') + 1);
    char *port = zstr_recv (relay);
    char servers [160];
    snprintf (servers, sizeof servers, "127.0.0.1:%s,%s", port, b.addr);
    zstr_free (&port);
    s_ping_ms = 60000;
    s_heartbeat_ms = 100;
    zcc_t *client = client_new (servers, 0, 0, 0);
    fake_msg_t session, reconnect;
    connect_bob (&a, client, &session);
    show_bob (&a, client, &session, 1);
    zstr_send (relay, "FREEZE");
    fake_expect (&b, client, ZC_CMD_CONNECT, &reconnect);
    assert_int_equal (reconnect.f.mseq, 1);
    assert_string_equal (zcc_current_server (client), b.addr);
    zcc_destroy (&client);
    zactor_destroy (&relay);
    fake_stop (&a);
    fake_stop (&b);
}

/* The server says, unasked, that our session is gone (re PING/ACK/CONNECT, seq 0). */
static void
fake_session_error (fake_t *fake, const fake_msg_t *to, zc_cmd_t re, zc_code_t code,
                    const char *leader)
{
    zc_frame_t e;
    zc_frame_init (&e, ZC_CMD_ERROR);
    e.fields = ZC_F_RE | ZC_F_SEQ | ZC_F_CODE | ZC_F_TEXT;
    e.re = re;
    e.seq = 0;
    e.code = code;
    e.text = B ("no such session here");
    if (leader) {
        e.fields |= ZC_F_LEADER;
        e.leader = B (leader);
    }
    fake_send (fake, to, &e);
}

static void
lost_session_is_resumed_here_or_at_the_leader (void **state)
{
    (void) state;
    rig_t rig;
    s_ping_ms = 500; /* the PING is what learns it */
    zcc_t *client = rig_start (&rig, 2, 0, 0, 0);
    fake_t *a = &rig.a, *b = &rig.b;
    fake_msg_t session, ping, again, moved;
    connect_bob (a, client, &session);
    show_bob (a, client, &session, 1);
    /* a bound client's ping names its session, so a replica can tell it is gone */
    fake_expect (a, client, ZC_CMD_PING, &ping);
    assert_true (ping.f.name.len == 3 && memcmp (ping.f.name.ptr, "bob", 3) == 0);
    assert_int_equal (ping.f.epoch, 5);
    /* the leader restarted: NOT_CONNECTED means CONNECT again on the same server */
    fake_session_error (a, &ping, ZC_CMD_PING, ZC_ERR_NOT_CONNECTED, NULL);
    fake_expect (a, client, ZC_CMD_CONNECT, &again);
    assert_int_equal (again.f.mseq, 1);
    assert_int_equal (again.f.epoch, 5);
    /* a no longer leads: NOT_LEADER sends the session to the leader named */
    fake_session_error (a, &again, ZC_CMD_CONNECT, ZC_ERR_NOT_LEADER, b->addr);
    fake_expect (b, client, ZC_CMD_CONNECT, &moved);
    assert_int_equal (moved.f.mseq, 1);
    assert_string_equal (zcc_current_server (client), b->addr);
    assert_int_equal (s_n_tev, 2); /* all of it invisible to the application */
    rig_stop (&rig);
}

static void
reconnect_to_deleted_user_reports_closed (void **state)
{
    (void) state;
    rig_t rig;
    zcc_t *client = rig_start (&rig, 2, 100, 0, 0);
    fake_t *a = &rig.a, *b = &rig.b;
    fake_msg_t session, reconnect, status;
    connect_bob (a, client, &session);
    zcc_submit (client, ZC_CMD_STATUS, NULL, NULL);
    fake_expect (b, client, ZC_CMD_CONNECT, &reconnect);
    fake_error (b, &reconnect, ZC_ERR_NO_SUCH_USER, "user 'bob' does not exist", NULL);
    wait_events (client, 2);
    assert_int_equal (s_tev [1].type, ZCC_EV_CLOSED);
    assert_int_equal (s_tev [1].code, ZC_ERR_USER_DELETED);
    fake_expect (b, client, ZC_CMD_STATUS, &status);
    fake_push (b, &reconnect, "bob", 5, 1, "after close");
    fake_ok (b, &status);
    wait_events (client, 3);
    assert_int_equal (s_tev [2].type, ZCC_EV_REPLY); /* the push was dropped */
    rig_stop (&rig);
}

static void
multi_frame_list_is_assembled (void **state)
{
    (void) state;
    rig_t rig;
    zcc_t *client = rig_start (&rig, 1, 0, 0, 0);
    fake_t *a = &rig.a;
    uint64_t seq = zcc_submit (client, ZC_CMD_LIST, NULL, "^u");
    fake_msg_t req;
    fake_expect (a, client, ZC_CMD_LIST, &req);
    assert_true (req.f.text.len == 2 && memcmp (req.f.text.ptr, "^u", 2) == 0);
    static char names [60][16];
    int next = 0;
    for (int frame = 0; frame < 3; frame++) {
        zc_frame_t r;
        zc_frame_init (&r, ZC_CMD_REPLY);
        r.fields = ZC_F_USERS | ZC_F_MORE;
        r.n_users = frame < 2 ? ZC_LIST_MAX_NAMES : 5;
        for (uint32_t i = 0; i < r.n_users; i++, next++) {
            snprintf (names [next], sizeof names [next], "u%03d", next);
            r.users [i] = B (names [next]);
        }
        r.more = frame < 2;
        fake_reply (a, &req, &r);
    }
    wait_events (client, 1);
    assert_int_equal (s_tev [0].seq, seq);
    assert_int_equal (s_tev [0].n_users, 2 * ZC_LIST_MAX_NAMES + 5);
    assert_string_equal (s_tev [0].first_user, "u000");
    assert_string_equal (s_tev [0].last_user, "u052");
    rig_stop (&rig);
}

static void
closed_session_is_reported_and_unbound (void **state)
{
    (void) state;
    rig_t rig;
    zcc_t *client = rig_start (&rig, 1, 0, 0, 0);
    fake_t *a = &rig.a;
    fake_msg_t session;
    connect_bob (a, client, &session);
    fake_close_bob (a, &session);
    fake_push (a, &session, "bob", 5, 1, "too late");
    wait_events (client, 2);
    assert_int_equal (s_tev [1].type, ZCC_EV_CLOSED);
    assert_int_equal (s_tev [1].code, ZC_ERR_REPLACED);
    assert_string_equal (s_tev [1].text, "session taken over");
    no_more_events (client, 2);
    rig_stop (&rig);
}

static void
inflight_is_bounded (void **state)
{
    (void) state;
    rig_t rig;
    zcc_t *client = rig_start (&rig, 1, 0, 0, 4);
    fake_t *a = &rig.a;
    for (int i = 0; i < 4; i++)
        assert_true (zcc_submit (client, ZC_CMD_STATUS, NULL, NULL) > 0);
    assert_int_equal (zcc_submit (client, ZC_CMD_STATUS, NULL, NULL), 0);
    assert_int_equal (zcc_inflight (client), 4);
    fake_msg_t req;
    fake_expect (a, client, ZC_CMD_STATUS, &req);
    fake_ok (a, &req);
    wait_events (client, 1);
    assert_int_equal (zcc_inflight (client), 3);
    assert_int_equal (zcc_submit (client, ZC_CMD_STATUS, NULL, NULL),
                      5); /* a refused submit uses no seq */
    rig_stop (&rig);
}

/* A server in its own thread, for zcc_call (which blocks): binds CONNECT bob, and
   answers STATUS only after pushing two messages, which zcc_call must keep. */
static void
s_scripted_server (zsock_t *pipe, void *args)
{
    zsock_t *router = (zsock_t *) args;
    fake_t fake = { .router = router };
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, router, NULL);
    while (zpoller_wait (poller, -1) == router) {
        fake_msg_t msg;
        zmsg_t *zmsg = zmsg_recv (router);
        bool ok = msg_parse (&zmsg, &msg);
        if (ok && msg.f.cmd == ZC_CMD_CONNECT)
            fake_bind_bob (&fake, &msg, 0);
        else if (ok && msg.f.cmd == ZC_CMD_STATUS) {
            zc_frame_t r;
            zc_frame_init (&r, ZC_CMD_REPLY);
            fake_push (&fake, &msg, "bob", 5, 1, "during call 1");
            fake_push (&fake, &msg, "bob", 5, 2, "during call 2");
            r.fields = ZC_F_STATS;
            r.n_users_total = 42;
            fake_reply (&fake, &msg, &r);
        }
    }
    zpoller_destroy (&poller);
}

static void
call_keeps_other_events_for_poll (void **state)
{
    (void) state;
    rig_t rig;
    zcc_t *client = rig_start (&rig, 1, 0, 0, 0);
    fake_t *a = &rig.a;
    zactor_t *server = zactor_new (s_scripted_server, a->router);
    zcc_event_t ev;
    assert_int_equal (zcc_call_with (client, ZC_CMD_CONNECT, "bob", NULL, "pw", NULL, &ev), ZC_OK);
    assert_int_equal (ev.re, ZC_CMD_CONNECT);
    assert_int_equal (zcc_call (client, ZC_CMD_STATUS, NULL, NULL, &ev), ZC_OK);
    assert_int_equal (ev.type, ZCC_EV_REPLY);
    assert_int_equal (ev.re, ZC_CMD_STATUS);
    assert_int_equal (ev.frame.n_users_total, 42);
    for (uint64_t m = 1; m <= 2; m++) {
        assert_int_equal (zcc_poll (client, 0, -1, &ev), ZCC_EV_MESSAGE);
        assert_int_equal (ev.frame.mseq, m);
        assert_true (ev.frame.text.len == 13
                     && memcmp (ev.frame.text.ptr, m == 1 ? "during call 1" : "during call 2", 13)
                            == 0);
    }
    assert_int_equal (zcc_poll (client, 0, -1, &ev), ZCC_EV_NONE);
    zactor_destroy (&server);
    rig_stop (&rig);
}

static void
bad_server_list_is_refused (void **state)
{
    (void) state;
    zcc_options_t options;
    zcc_options_defaults (&options);
    options.insecure = true;
    const char *bad [] = { "localhost", "host:", ":7001", "h:70000", "h:1,,h:2", "h:x1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        options.servers = bad [i];
        assert_null (zcc_new (&options));
    }
    options.servers = "127.0.0.1:7001, localhost:7004";
    zcc_t *client = zcc_new (&options);
    assert_non_null (client);
    assert_string_equal (zcc_current_server (client), "127.0.0.1:7001");
    zcc_destroy (&client);
}

/* Secure by default: without the cluster's key (or --insecure) there is no client. */
static void
client_needs_the_server_key (void **state)
{
    (void) state;
    unsetenv ("ZCHAT_SERVER_KEY");
    unsetenv ("ZCHAT_INSECURE");
    zcc_options_t options;
    zcc_options_defaults (&options);
    options.servers = "127.0.0.1:7001";
    assert_null (zcc_new (&options));
    options.server_key = "not a key and not a file";
    assert_null (zcc_new (&options));
    zcert_t *cert = zcert_new ();
    options.server_key = zcert_public_txt (cert);
    zcc_t *client = zcc_new (&options);
    assert_non_null (client);
    zcc_destroy (&client);
    zcert_destroy (&cert);
}

int
main (void)
{
    zsys_set_logstream (stderr);
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (request_reply_round_trip),
        cmocka_unit_test (not_leader_redirects_with_same_cid_and_seq),
        cmocka_unit_test (reply_timeout_fails_over_to_next_server_with_same_seq),
        cmocka_unit_test (request_past_deadline_reports_timeout),
        cmocka_unit_test (duplicate_pushes_are_shown_once),
        cmocka_unit_test (acks_are_cumulative),
        cmocka_unit_test (acked_message_pushed_again_is_acked_again),
        cmocka_unit_test (failover_reconnects_with_highest_shown),
        cmocka_unit_test (silent_server_of_a_session_is_left),
        cmocka_unit_test (busy_server_keeps_its_sessions_for_three_seconds),
        cmocka_unit_test (session_moves_when_its_server_disconnects),
        cmocka_unit_test (session_moves_when_its_server_stops_answering_heartbeats),
        cmocka_unit_test (lost_session_is_resumed_here_or_at_the_leader),
        cmocka_unit_test (reconnect_to_deleted_user_reports_closed),
        cmocka_unit_test (multi_frame_list_is_assembled),
        cmocka_unit_test (closed_session_is_reported_and_unbound),
        cmocka_unit_test (inflight_is_bounded),
        cmocka_unit_test (call_keeps_other_events_for_poll),
        cmocka_unit_test (bad_server_list_is_refused),
        cmocka_unit_test (client_needs_the_server_key),
        cmocka_unit_test (sends_wait_for_the_session_after_a_failover),
        cmocka_unit_test (held_sends_go_out_when_the_session_closes),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
