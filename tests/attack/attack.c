/*  attack.c - zchat-attack: an outsider trying to break into a cluster, one frame-level
    attack per mode, for tests/integration/test_security.sh.

        zchat-attack [--server HOST:PORT] [--timeout MS] [--peer-key KEY|FILE] MODE ARGS
          connect USER SECRET       CONNECT as USER; counts the messages pushed after it
          ack USER EPOCH MSEQ [--as U S]    ACK USER's messages (after connecting as U)
          send-as FROM TO TEXT [--as U S]   SEND to TO claiming to be FROM
          guess USER N [CONNS]      N CONNECTs with wrong secrets over CONNS connections,
                                    each waiting for its answer (as fast as they come)
          burst USER N              N connections, each ready (PONG), then one wrong
                                    CONNECT from each at the same moment
          sub HOST:PORT KEY WINDOW_MS       SUB on a replica's peer PUB for WINDOW_MS
          inject HOST:PORT KEY TO FROM [FRAMES]   forged peer frames into a replica's
                                    peer ROUTER; FRAMES, comma-separated (default
                                    vote,append,chunk,gossip):
                                      vote       a VOTE for a term no election reaches
                                      append     an APPEND that would replace the log
                                                 from index 1 and commit it
                                      chunk      a snapshot chunk of garbage
                                      gossip     status gossip claiming TO leads
                                      heartbeat  an empty APPEND at that term (the
                                                 control: it moves a member's term)
          randkey                   print a random CURVE public key (Z85)

    Client modes use a raw DEALER with a random 16-byte routing id and CURVE with a fresh
    key, pointed at $ZCHAT_SERVER_KEY (the cluster's real key: a user, not a stranger to
    the transport). Peer modes take KEY = plain (no CURVE), random (a fresh key the
    cluster never saw) or a certificate file with a secret key (the control: a member's
    key must get through). --peer-key is the replica's public key (members/replica-N.cert).

    Each mode prints one line of key=value results on stdout: code=NAME for requests,
    handshake=ok|failed_auth|failed_protocol|failed|none for peer sockets (from the
    socket monitor), received=N. Exit 0 when the attack could be run (the verdict is
    the caller's), 1 when it could not, 2 on bad usage. */
#include <czmq.h>
#include <sodium.h>
#include "command.h"
#include "frame.h"
#include "peer_aux.h"
#include "raft_msg.h"

#define ATTACK_GUESS_CONNS_MAX 64
#define ATTACK_HUGE_TERM       (UINT64_C (1) << 62)

static const char *s_server = "127.0.0.1:7001";
static int s_timeout_ms = 5000;
static const char *s_peer_key;

static uint64_t
s_now_ms (void)
{
    return (uint64_t) zclock_mono ();
}

static uint64_t
s_random_cid (void)
{
    uint64_t cid = 0;
    while (cid == 0)
        randombytes_buf (&cid, sizeof cid);
    return cid;
}

/* A key given as 40 characters of Z85 or as a certificate file; false if neither. */
static bool
s_public_key (const char *key, char *z85)
{
    uint8_t bin [32];
    if (strlen (key) == 40 && zmq_z85_decode (bin, key)) {
        memcpy (z85, key, 41);
        return true;
    }
    zcert_t *cert = zcert_load (key);
    if (!cert)
        return false;
    snprintf (z85, 41, "%s", zcert_public_txt (cert));
    zcert_destroy (&cert);
    return true;
}

/* ---- the socket monitor: how the CURVE handshake ended */

typedef struct {
    zsock_t *pipe;
    const char *handshake; /* the first outcome seen; "none" until then */
} s_monitor_t;

static void
s_monitor_start (s_monitor_t *mon, zsock_t *sock)
{
    static int n;
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://attack-monitor-%d", n++);
    mon->handshake = "none";
    int events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                 | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
    mon->pipe = NULL;
    if (zmq_socket_monitor (zsock_resolve (sock), endpoint, events) != 0)
        return;
    mon->pipe = zsock_new (ZMQ_PAIR);
    if (mon->pipe && zsock_connect (mon->pipe, "%s", endpoint) != 0)
        zsock_destroy (&mon->pipe);
}

/* Read whatever events are waiting; keeps the first handshake outcome. */
static void
s_monitor_read (s_monitor_t *mon)
{
    while (mon->pipe && (zsock_events (mon->pipe) & ZMQ_POLLIN)) {
        zmsg_t *msg = zmsg_recv (mon->pipe);
        zframe_t *head = msg ? zmsg_first (msg) : NULL;
        if (head && zframe_size (head) >= 6 && streq (mon->handshake, "none")) {
            uint16_t event;
            memcpy (&event, zframe_data (head), 2);
            mon->handshake = event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED         ? "ok"
                             : event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH     ? "failed_auth"
                             : event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ? "failed_protocol"
                                                                            : "failed";
        }
        zmsg_destroy (&msg);
    }
}

static void
s_monitor_stop (s_monitor_t *mon, zsock_t *sock)
{
    zmq_socket_monitor (zsock_resolve (sock), NULL, 0);
    zsock_destroy (&mon->pipe);
}

/* ---- client sockets and requests */

static zcert_t *s_client_cert;

/* A DEALER to the client port, as a real client makes it. NULL without a server key. */
static zsock_t *
s_client (void)
{
    char server_key [41];
    const char *key = getenv ("ZCHAT_SERVER_KEY");
    if (!key || !s_public_key (key, server_key)) {
        fprintf (stderr, "zchat-attack: set ZCHAT_SERVER_KEY to the cluster's server.cert\n");
        return NULL;
    }
    if (!s_client_cert)
        s_client_cert = zcert_new ();
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    if (!sock)
        return NULL;
    zsock_set_linger (sock, 0);
    zsock_set_maxmsgsize (sock, ZC_FRAME_MAX);
    uint8_t id [16];
    randombytes_buf (id, sizeof id);
    id [0] |= 1; /* libzmq reserves a leading 0 */
    zmq_setsockopt (zsock_resolve (sock), ZMQ_ROUTING_ID, id, sizeof id);
    zcert_apply (s_client_cert, sock);
    zsock_set_curve_serverkey (sock, server_key);
    if (zsock_connect (sock, "tcp://%s", s_server) != 0)
        zsock_destroy (&sock);
    return sock;
}

static int
s_send_frame (zsock_t *sock, const zc_frame_t *frame)
{
    uint8_t buf [ZC_FRAME_MAX];
    size_t len;
    if (zc_frame_encode (frame, buf, sizeof buf, &len) != ZC_OK)
        return -1;
    int rc = zmq_send (zsock_resolve (sock), buf, len, 0) == (int) len ? 0 : -1;
    explicit_bzero (buf, sizeof buf);
    return rc;
}

/* One frame within timeout_ms into buf; 0, or -1 on timeout or an undecodable frame. */
static int
s_recv_frame (zsock_t *sock, int timeout_ms, uint8_t *buf, zc_frame_t *frame)
{
    zmq_pollitem_t item = { zsock_resolve (sock), 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, timeout_ms) <= 0)
        return -1;
    int n = zmq_recv (zsock_resolve (sock), buf, ZC_FRAME_MAX, ZMQ_DONTWAIT);
    if (n < 0 || n > ZC_FRAME_MAX || zc_frame_decode (buf, (size_t) n, frame) != ZC_OK)
        return -1;
    return 0;
}

static void
s_bytes (zc_bytes_t *field, const char *s)
{
    *field = (zc_bytes_t) { s, (uint32_t) strlen (s) };
}

static void
s_request (zc_frame_t *frame, zc_cmd_t cmd, uint64_t cid, uint64_t seq, const char *name)
{
    zc_frame_init (frame, cmd);
    frame->fields = ZC_F_CID | ZC_F_SEQ | ZC_F_NAME;
    frame->cid = cid;
    frame->seq = seq;
    s_bytes (&frame->name, name);
}

typedef struct {
    int code;                 /* zc_code_t, or ZC_ERR_TIMEOUT */
    char text [ZC_FRAME_MAX]; /* the error's text */
    uint64_t epoch, mseq;     /* from a REPLY */
    int pushed;               /* MESSAGE frames seen meanwhile */
} s_answer_t;

/* Send frame, wait for the REPLY or ERROR with its seq (or seq 0: refused unread). */
static void
s_call (zsock_t *sock, const zc_frame_t *request, s_answer_t *answer)
{
    memset (answer, 0, sizeof *answer);
    answer->code = ZC_ERR_TIMEOUT;
    if (s_send_frame (sock, request) != 0)
        return;
    uint64_t end = s_now_ms () + (uint64_t) s_timeout_ms;
    uint8_t buf [ZC_FRAME_MAX];
    zc_frame_t frame;
    while (s_now_ms () < end) {
        if (s_recv_frame (sock, (int) (end - s_now_ms ()), buf, &frame) != 0)
            continue;
        if (frame.cmd == ZC_CMD_MESSAGE)
            answer->pushed++;
        bool ours = frame.seq == request->seq || frame.seq == 0;
        if (frame.cmd == ZC_CMD_ERROR && ours) {
            answer->code = (int) frame.code;
            snprintf (answer->text, sizeof answer->text, "%.*s", (int) frame.text.len,
                      frame.text.ptr);
            return;
        }
        if (frame.cmd == ZC_CMD_REPLY && frame.seq == request->seq) {
            answer->code = ZC_OK;
            answer->epoch = frame.epoch;
            answer->mseq = frame.mseq;
            return;
        }
    }
}

static void
s_connect_frame (zc_frame_t *frame, uint64_t cid, uint64_t seq, const char *user,
                 const char *secret)
{
    s_request (frame, ZC_CMD_CONNECT, cid, seq, user);
    frame->fields |= ZC_F_SECRET;
    s_bytes (&frame->secret, secret);
}

/* Quotes in an error text would end the value early for the caller's parser. */
static void
s_print_text (const char *text)
{
    printf (" text=\"");
    for (const char *p = text; *p; p++)
        putchar (*p == '"' ? '\'' : *p);
    printf ("\"");
}

/* --as USER SECRET: connect sock as USER first; false (printed) if that fails. */
static bool
s_connect_as (zsock_t *sock, uint64_t cid, const char *user, const char *secret)
{
    if (!user)
        return true;
    zc_frame_t frame;
    s_connect_frame (&frame, cid, 1, user, secret);
    s_answer_t answer;
    s_call (sock, &frame, &answer);
    if (answer.code == ZC_OK)
        return true;
    printf ("as_user=%s as_code=%s\n", user, zc_code_name (answer.code));
    return false;
}

/* ---- client modes */

static int
s_mode_connect (const char *user, const char *secret)
{
    zsock_t *sock = s_client ();
    if (!sock)
        return 1;
    zc_frame_t frame;
    s_connect_frame (&frame, s_random_cid (), 1, user, secret);
    s_answer_t answer;
    s_call (sock, &frame, &answer);
    /* the queued messages follow the reply at once: count them for a moment */
    uint8_t buf [ZC_FRAME_MAX];
    while (answer.code == ZC_OK && s_recv_frame (sock, 500, buf, &frame) == 0)
        answer.pushed += frame.cmd == ZC_CMD_MESSAGE;
    printf ("connect user=%s code=%s epoch=%" PRIu64 " mseq=%" PRIu64 " pushed=%d", user,
            zc_code_name (answer.code), answer.epoch, answer.mseq, answer.pushed);
    s_print_text (answer.text);
    printf ("\n");
    zsock_destroy (&sock);
    return 0;
}

static int
s_mode_ack (const char *user, uint64_t epoch, uint64_t mseq, const char *as, const char *as_secret)
{
    zsock_t *sock = s_client ();
    if (!sock)
        return 1;
    uint64_t cid = s_random_cid ();
    int rc = 1;
    if (s_connect_as (sock, cid, as, as_secret)) {
        zc_frame_t frame;
        zc_frame_init (&frame, ZC_CMD_ACK);
        frame.fields = ZC_F_CID | ZC_F_NAME | ZC_F_EPOCH | ZC_F_MSEQ | ZC_F_SEQ;
        frame.cid = cid;
        frame.seq = 2;
        s_bytes (&frame.name, user);
        frame.epoch = epoch;
        frame.mseq = mseq;
        s_answer_t answer;
        s_call (sock, &frame, &answer); /* an accepted ACK has no reply: TIMEOUT */
        printf ("ack user=%s as=%s code=%s", user, as ? as : "-", zc_code_name (answer.code));
        s_print_text (answer.text);
        printf ("\n");
        rc = 0;
    }
    zsock_destroy (&sock);
    return rc;
}

static int
s_mode_send_as (const char *from, const char *to, const char *text, const char *as,
                const char *as_secret)
{
    zsock_t *sock = s_client ();
    if (!sock)
        return 1;
    uint64_t cid = s_random_cid ();
    int rc = 1;
    if (s_connect_as (sock, cid, as, as_secret)) {
        zc_frame_t frame;
        s_request (&frame, ZC_CMD_SEND, cid, 2, to);
        frame.fields |= ZC_F_FROM | ZC_F_TEXT;
        s_bytes (&frame.from, from);
        s_bytes (&frame.text, text);
        s_answer_t answer;
        s_call (sock, &frame, &answer);
        printf ("send-as from=%s to=%s as=%s code=%s", from, to, as ? as : "-",
                zc_code_name (answer.code));
        s_print_text (answer.text);
        printf ("\n");
        rc = 0;
    }
    zsock_destroy (&sock);
    return rc;
}

static void
s_print_counts (const char *mode, const char *user, uint64_t sent, uint64_t answered, uint64_t lost,
                uint64_t elapsed_ms, const uint64_t *counts)
{
    printf ("%s user=%s sent=%" PRIu64 " answered=%" PRIu64 " timeout=%" PRIu64
            " elapsed_ms=%" PRIu64 " AUTH_FAILED=%" PRIu64 " THROTTLED=%" PRIu64,
            mode, user, sent, answered, lost, elapsed_ms, counts [ZC_ERR_AUTH_FAILED],
            counts [ZC_ERR_THROTTLED]);
    for (int code = 0; code < ZC_CODE__COUNT; code++)
        if (counts [code] && code != ZC_ERR_AUTH_FAILED && code != ZC_ERR_THROTTLED)
            printf (" %s=%" PRIu64, zc_code_name (code), counts [code]);
    printf ("\n");
}

/* guess: every connection has one CONNECT in flight; each answer sends the next. */
typedef struct {
    zsock_t *sock;
    uint64_t cid, seq;
    uint64_t sent_ms; /* 0 = nothing in flight */
    char secret [40];
} s_guesser_t;

static void
s_guess_send (s_guesser_t *g, const char *user, uint64_t *sent)
{
    snprintf (g->secret, sizeof g->secret, "wrong-%" PRIu64 "-%08x", *sent,
              (unsigned) randof (1 << 30));
    zc_frame_t frame;
    s_connect_frame (&frame, g->cid, ++g->seq, user, g->secret);
    if (s_send_frame (g->sock, &frame) == 0) {
        g->sent_ms = s_now_ms ();
        (*sent)++;
    }
}

static int
s_mode_guess (const char *user, uint64_t n, uint64_t conns)
{
    s_guesser_t g [ATTACK_GUESS_CONNS_MAX];
    uint64_t counts [ZC_CODE__COUNT] = { 0 };
    uint64_t sent = 0, answered = 0, lost = 0;
    for (uint64_t i = 0; i < conns; i++) {
        g [i] = (s_guesser_t) { s_client (), s_random_cid (), 0, 0, "" };
        if (!g [i].sock) {
            while (i > 0)
                zsock_destroy (&g [--i].sock);
            return 1;
        }
    }
    uint64_t start = s_now_ms ();
    for (uint64_t i = 0; i < conns && sent < n; i++)
        s_guess_send (&g [i], user, &sent);
    while (answered + lost < sent) {
        zmq_pollitem_t items [ATTACK_GUESS_CONNS_MAX];
        for (uint64_t i = 0; i < conns; i++)
            items [i] = (zmq_pollitem_t) { zsock_resolve (g [i].sock), 0, ZMQ_POLLIN, 0 };
        zmq_poll (items, (int) conns, 100);
        for (uint64_t i = 0; i < conns; i++) {
            uint8_t buf [ZC_FRAME_MAX];
            zc_frame_t frame;
            bool done = false;
            if ((items [i].revents & ZMQ_POLLIN) && s_recv_frame (g [i].sock, 0, buf, &frame) == 0
                && frame.seq == g [i].seq
                && (frame.cmd == ZC_CMD_ERROR || frame.cmd == ZC_CMD_REPLY)) {
                counts [frame.cmd == ZC_CMD_REPLY     ? ZC_OK
                        : frame.code < ZC_CODE__COUNT ? frame.code
                                                      : ZC_ERR_INTERNAL]++;
                answered++;
                done = true;
            }
            else if (g [i].sent_ms && s_now_ms () - g [i].sent_ms > (uint64_t) s_timeout_ms) {
                lost++;
                done = true;
            }
            if (done) {
                g [i].sent_ms = 0;
                if (sent < n)
                    s_guess_send (&g [i], user, &sent);
            }
        }
    }
    s_print_counts ("guess", user, sent, answered, lost, s_now_ms () - start, counts);
    for (uint64_t i = 0; i < conns; i++)
        zsock_destroy (&g [i].sock);
    return 0;
}

/* burst: the throttle is asked about all of them before any check has ended. */
static bool
s_ready (zsock_t *sock, uint64_t cid)
{
    zc_frame_t frame;
    zc_frame_init (&frame, ZC_CMD_PING);
    frame.fields = ZC_F_CID;
    frame.cid = cid;
    uint8_t buf [ZC_FRAME_MAX];
    if (s_send_frame (sock, &frame) != 0)
        return false;
    uint64_t end = s_now_ms () + (uint64_t) s_timeout_ms;
    while (s_now_ms () < end)
        if (s_recv_frame (sock, (int) (end - s_now_ms ()), buf, &frame) == 0
            && frame.cmd == ZC_CMD_PONG)
            return true;
    return false;
}

static int
s_mode_burst (const char *user, uint64_t n)
{
    s_guesser_t *g = (s_guesser_t *) zmalloc (n * sizeof *g);
    uint64_t counts [ZC_CODE__COUNT] = { 0 };
    uint64_t opened = 0, sent = 0, answered = 0, lost = 0;
    for (; opened < n; opened++) {
        g [opened] = (s_guesser_t) { s_client (), s_random_cid (), 0, 0, "" };
        if (!g [opened].sock || !s_ready (g [opened].sock, g [opened].cid))
            break;
    }
    uint64_t start = s_now_ms ();
    for (uint64_t i = 0; opened == n && i < n; i++)
        s_guess_send (&g [i], user, &sent);
    for (uint64_t i = 0; i < sent; i++) {
        uint8_t buf [ZC_FRAME_MAX];
        zc_frame_t frame;
        int code = ZC_ERR_TIMEOUT;
        uint64_t end = s_now_ms () + (uint64_t) s_timeout_ms;
        while (code == ZC_ERR_TIMEOUT && s_now_ms () < end)
            if (s_recv_frame (g [i].sock, (int) (end - s_now_ms ()), buf, &frame) == 0
                && frame.seq == g [i].seq)
                code = frame.cmd == ZC_CMD_REPLY ? ZC_OK : (int) frame.code;
        if (code == ZC_ERR_TIMEOUT)
            lost++;
        else {
            answered++;
            counts [code < ZC_CODE__COUNT ? code : ZC_ERR_INTERNAL]++;
        }
    }
    s_print_counts ("burst", user, sent, answered, lost, s_now_ms () - start, counts);
    for (uint64_t i = 0; i <= opened && i < n; i++)
        zsock_destroy (&g [i].sock);
    free (g);
    return opened == n ? 0 : 1;
}

/* ---- peer modes */

/* A socket of type to a replica's peer endpoint: KEY = plain, random or a cert file
   with a secret key. NULL (printed) when the keys cannot be had. */
static zsock_t *
s_peer_socket (int type, const char *endpoint, const char *key, s_monitor_t *mon)
{
    zsock_t *sock = zsock_new (type);
    if (!sock)
        return NULL;
    zsock_set_linger (sock, 0);
    zsock_set_maxmsgsize (sock, (int64_t) RAFT_PEER_FRAME_MAX + 4096);
    if (!streq (key, "plain")) {
        char server_key [41];
        zcert_t *cert = streq (key, "random") ? zcert_new () : zcert_load (key);
        if (!cert || !s_peer_key || !s_public_key (s_peer_key, server_key)) {
            fprintf (stderr,
                     "zchat-attack: need --peer-key (members/replica-N.cert) and a "
                     "readable KEY (%s)\n",
                     key);
            zcert_destroy (&cert);
            zsock_destroy (&sock);
            return NULL;
        }
        zcert_apply (cert, sock);
        zsock_set_curve_serverkey (sock, server_key);
        zcert_destroy (&cert);
    }
    s_monitor_start (mon, sock);
    if (zsock_connect (sock, "tcp://%s", endpoint) != 0) {
        s_monitor_stop (mon, sock);
        zsock_destroy (&sock);
    }
    return sock;
}

static int
s_mode_sub (const char *endpoint, const char *key, uint64_t window_ms)
{
    s_monitor_t mon;
    zsock_t *sub = s_peer_socket (ZMQ_SUB, endpoint, key, &mon);
    if (!sub)
        return 1;
    zsock_set_subscribe (sub, "");
    uint64_t received = 0, bytes = 0, end = s_now_ms () + window_ms;
    while (s_now_ms () < end) {
        s_monitor_read (&mon);
        zmq_pollitem_t item = { zsock_resolve (sub), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, (long) (end - s_now_ms ())) <= 0)
            continue;
        zframe_t *frame = zframe_recv (sub);
        if (frame) {
            received++;
            bytes += zframe_size (frame);
        }
        zframe_destroy (&frame);
    }
    s_monitor_read (&mon);
    printf ("sub endpoint=%s key=%s window_ms=%" PRIu64 " handshake=%s received=%" PRIu64
            " bytes=%" PRIu64 "\n",
            endpoint, key, window_ms, mon.handshake, received, bytes);
    s_monitor_stop (&mon, sub);
    zsock_destroy (&sub);
    return 0;
}

/* One forged frame, built by the reference encoders; NULL for an unknown name. */
static zframe_t *
s_forge (const char *name, uint32_t to, uint32_t from)
{
    uint8_t cmd_buf [ZC_COMMAND_MAX];
    size_t cmd_len;
    zc_command_t cmd = { .op = ZC_OP_CREATE,
                         .ts = (uint64_t) zclock_time (),
                         .cid = 1,
                         .seq = 1,
                         .name = { "intruder", 8 } };
    if (zc_command_encode (&cmd, cmd_buf, sizeof cmd_buf, &cmd_len) != ZC_OK)
        return NULL;
    raft_entry_t entry = { ATTACK_HUGE_TERM, 1, (uint32_t) cmd_len, cmd_buf };
    raft_msg_t msg = { .from = from, .to = to, .term = ATTACK_HUGE_TERM };
    uint8_t junk [256], buf [512];
    size_t len;
    if (streq (name, "vote")) {
        msg.type = RAFT_MSG_VOTE;
        msg.last_index = msg.last_term = ATTACK_HUGE_TERM;
    }
    else if (streq (name, "append") || streq (name, "heartbeat")) {
        msg.type = RAFT_MSG_APPEND;
        bool entries = streq (name, "append");
        msg.commit = entries ? 1 : 0;
        msg.entries = entries ? &entry : NULL;
        msg.n_entries = entries ? 1 : 0;
    }
    else if (streq (name, "chunk")) {
        randombytes_buf (junk, sizeof junk);
        zc_snapshot_chunk_t chunk = {
            from, ATTACK_HUGE_TERM, ATTACK_HUGE_TERM, ATTACK_HUGE_TERM, sizeof junk, 0,
            junk, sizeof junk
        };
        return zc_snapshot_chunk_encode (&chunk, buf, sizeof buf, &len) == ZC_OK
                   ? zframe_new (buf, len)
                   : NULL;
    }
    else if (streq (name, "gossip")) {
        zc_status_gossip_t gossip = { to,
                                      2 /* leader */,
                                      ATTACK_HUGE_TERM,
                                      ATTACK_HUGE_TERM,
                                      ATTACK_HUGE_TERM,
                                      ATTACK_HUGE_TERM,
                                      "",
                                      0,
                                      0 };
        return zc_status_gossip_encode (&gossip, buf, sizeof buf, &len) == ZC_OK
                   ? zframe_new (buf, len)
                   : NULL;
    }
    else
        return NULL;
    uint8_t *raft_buf;
    if (raft_msg_encode (&msg, &raft_buf, &len) != ZC_OK)
        return NULL;
    zframe_t *frame = zframe_new (raft_buf, len);
    free (raft_buf);
    return frame;
}

#define ATTACK_FRAMES_MAX 8

/* Every name of the comma-separated list, forged; -1 (printed) on an unknown name. */
static int
s_forge_list (const char *list, uint32_t to, uint32_t from, zframe_t **frames)
{
    char copy [128];
    snprintf (copy, sizeof copy, "%s", list);
    int n = 0;
    char *save = NULL;
    for (char *name = strtok_r (copy, ",", &save); name; name = strtok_r (NULL, ",", &save)) {
        zframe_t *frame = n < ATTACK_FRAMES_MAX ? s_forge (name, to, from) : NULL;
        if (!frame) {
            fprintf (stderr,
                     "zchat-attack: cannot forge '%s' (vote, append, chunk, gossip, "
                     "heartbeat; at most %d)\n",
                     name, ATTACK_FRAMES_MAX);
            while (n > 0)
                zframe_destroy (&frames [--n]);
            return -1;
        }
        frames [n++] = frame;
    }
    return n;
}

static int
s_mode_inject (const char *endpoint, const char *key, uint32_t to, uint32_t from, const char *list)
{
    zframe_t *frames [ATTACK_FRAMES_MAX];
    int n = s_forge_list (list, to, from, frames);
    if (n <= 0)
        return 1;
    s_monitor_t mon;
    zsock_t *dealer = s_peer_socket (ZMQ_DEALER, endpoint, key, &mon);
    if (!dealer) {
        while (n > 0)
            zframe_destroy (&frames [--n]);
        return 1;
    }
    /* queued until the handshake ends: delivered only if it succeeds */
    int queued = 0;
    for (int i = 0; i < n; i++)
        queued += zframe_send (&frames [i], dealer, ZFRAME_DONTWAIT) == 0;
    uint64_t received = 0, end = s_now_ms () + 1000;
    while (s_now_ms () < end) {
        s_monitor_read (&mon);
        zmq_pollitem_t item = { zsock_resolve (dealer), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 50) > 0) {
            zmsg_t *msg = zmsg_recv (dealer);
            received += msg != NULL;
            zmsg_destroy (&msg);
        }
    }
    s_monitor_read (&mon);
    printf (
        "inject endpoint=%s key=%s to=%u from=%u frames=%s queued=%d handshake=%s received=%" PRIu64
        "\n",
        endpoint, key, to, from, list, queued, mon.handshake, received);
    for (int i = 0; i < n; i++)
        zframe_destroy (&frames [i]);
    s_monitor_stop (&mon, dealer);
    zsock_destroy (&dealer);
    return 0;
}

/* ---- main */

static void
s_usage (void)
{
    fprintf (stderr,
             "usage: zchat-attack [--server HOST:PORT] [--timeout MS] [--peer-key KEY] MODE ARGS\n"
             "  connect USER SECRET | ack USER EPOCH MSEQ [--as USER SECRET]\n"
             "  send-as FROM TO TEXT [--as USER SECRET] | guess USER N [CONNS] | burst USER N\n"
             "  sub HOST:PORT plain|random|CERT WINDOW_MS | inject HOST:PORT plain|random|CERT TO "
             "FROM [FRAMES]\n"
             "  randkey\n");
}

static bool
s_number (const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull (arg, &end, 10);
    if (errno || *end || arg [0] == '-' || !arg [0] || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int
s_randkey (void)
{
    zcert_t *cert = zcert_new ();
    if (!cert)
        return 1;
    printf ("%s\n", zcert_public_txt (cert));
    zcert_destroy (&cert);
    return 0;
}

/* The client modes with an optional trailing --as USER SECRET. */
static int
s_run_client_mode (const char *mode, int argc, char **argv)
{
    const char *as = NULL, *as_secret = NULL;
    if (argc >= 3 && streq (argv [argc - 3], "--as")) {
        as = argv [argc - 2];
        as_secret = argv [argc - 1];
        argc -= 3;
    }
    uint64_t a, b;
    if (streq (mode, "ack") && argc == 3 && s_number (argv [1], 0, UINT64_MAX, &a)
        && s_number (argv [2], 0, UINT64_MAX, &b))
        return s_mode_ack (argv [0], a, b, as, as_secret);
    if (streq (mode, "send-as") && argc == 3)
        return s_mode_send_as (argv [0], argv [1], argv [2], as, as_secret);
    if (streq (mode, "connect") && argc == 2 && !as)
        return s_mode_connect (argv [0], argv [1]);
    if (streq (mode, "guess") && (argc == 2 || argc == 3) && !as
        && s_number (argv [1], 1, 1000000, &a)
        && (argc == 2 || s_number (argv [2], 1, ATTACK_GUESS_CONNS_MAX, &b)))
        return s_mode_guess (argv [0], a, argc == 3 ? b : 4);
    if (streq (mode, "burst") && argc == 2 && !as && s_number (argv [1], 1, 1000, &a))
        return s_mode_burst (argv [0], a);
    s_usage ();
    return 2;
}

static int
s_run (const char *mode, int argc, char **argv)
{
    uint64_t a, b;
    if (streq (mode, "randkey") && argc == 0)
        return s_randkey ();
    if (streq (mode, "sub") && argc == 3 && s_number (argv [2], 1, 600000, &a))
        return s_mode_sub (argv [0], argv [1], a);
    if (streq (mode, "inject") && (argc == 4 || argc == 5)
        && s_number (argv [2], 1, RAFT_MAX_NODES, &a) && s_number (argv [3], 1, RAFT_MAX_NODES, &b))
        return s_mode_inject (argv [0], argv [1], (uint32_t) a, (uint32_t) b,
                              argc == 5 ? argv [4] : "vote,append,chunk,gossip");
    return s_run_client_mode (mode, argc, argv);
}

int
main (int argc, char **argv)
{
    zsys_set_logstream (stderr);
    zsys_handler_set (NULL);
    srandom ((unsigned) (getpid () ^ zclock_time ()));
    if (sodium_init () < 0)
        return 2; /* the ids and cids come from it */
    int a = 1;
    for (; a + 1 < argc && strncmp (argv [a], "--", 2) == 0; a += 2) {
        if (streq (argv [a], "--server"))
            s_server = argv [a + 1];
        else if (streq (argv [a], "--timeout"))
            s_timeout_ms = atoi (argv [a + 1]);
        else if (streq (argv [a], "--peer-key"))
            s_peer_key = argv [a + 1];
        else
            break;
    }
    if (a >= argc || s_timeout_ms <= 0) {
        s_usage ();
        return 2;
    }
    int rc = s_run (argv [a], argc - a - 1, argv + a + 1);
    zcert_destroy (&s_client_cert);
    fflush (stdout);
    return rc;
}
