/*  hostile.c - zchat-hostile: clients that misbehave on purpose, to show that a broker
    stays responsive, bounded and clear under them (tests/integration/test_hostile_clients.sh).

        zchat-hostile [--server HOST:PORT] [--hold S] MODE ARGS
          idle N         N connections, each PINGs once (then every second while held)
          flood N        N bad frames (oversize, garbage, truncated, unknown command),
                         sent without reading; then every ERROR is checked, in order,
                         against the code the reference decoder gives for that frame
          sendflood U N  N valid SENDs to U without reading; then the replies are counted
          noread U N     CONNECT as U on a socket that never reads (tiny buffers), while
                         another socket sends N messages to U; then the pushes are counted
          fill U N [SIZE]  queue N messages of SIZE bytes (default 100) for U, 256 in flight
          probe          a well-behaved client: create, send, list, delete; round trips in ms

    Every mode prints one line of key=value results on stdout and exits 0 when it could
    do what it was asked (verdicts are the calling script's), 1 otherwise (probe: 1 when
    an operation failed or took longer than --deadline MS). Raw DEALER sockets and the
    reference codec (schema/frame.h) are used so that nothing in the client library
    smooths over what the broker does. */
#include <czmq.h>
#include <sodium.h>
#include <sys/resource.h>
#include "frame.h"

#define HOSTILE_MAX_IDLE 20000
#define REPLY_WAIT_MS    10000 /* how long replies to a batch may take to arrive */

static const char *s_server = "127.0.0.1:7001";
static int s_hold_s = 0;
static int s_deadline_ms = 2000;
static volatile sig_atomic_t s_stop;

static void
s_on_signal (int sig)
{
    (void) sig;
    s_stop = 1;
}

static uint64_t
s_now_ms (void)
{
    return (uint64_t) zclock_mono ();
}

/* Ids from libsodium, not random(): CZMQ seeds random() with the time in seconds, so
   hostile processes a test starts within one second drew the same routing ids (libzmq
   refuses a second connection with an id in use: that client was never answered). */
static uint64_t
s_random_cid (void)
{
    uint64_t cid = 0;
    while (cid == 0)
        randombytes_buf (&cid, sizeof cid);
    return cid;
}

/* CURVE as the real clients use it, when $ZCHAT_SERVER_KEY names the cluster's key
   (a certificate file or Z85): the hostile clients are users, not outsiders. */
static zcert_t *s_cert;
static char s_server_key [41];

static void
s_secure (zsock_t *sock)
{
    const char *key = getenv ("ZCHAT_SERVER_KEY");
    if (!key || !*key)
        return;
    if (!s_cert) {
        s_cert = zcert_new ();
        zcert_t *server = zcert_load (key); /* a file, else the key itself */
        snprintf (s_server_key, sizeof s_server_key, "%s",
                  server ? zcert_public_txt (server) : key);
        zcert_destroy (&server);
    }
    zcert_apply (s_cert, sock);
    zsock_set_curve_serverkey (sock, s_server_key);
    uint8_t id [16];
    randombytes_buf (id, sizeof id);
    id [0] |= 1; /* libzmq reserves a leading 0 */
    zmq_setsockopt (zsock_resolve (sock), ZMQ_ROUTING_ID, id, sizeof id);
}

/* A DEALER to the broker; rcvhwm/rcvbuf 0 = libzmq defaults. */
static zsock_t *
s_dealer (int rcvhwm, int rcvbuf)
{
    zsock_t *sock = zsock_new (ZMQ_DEALER);
    if (!sock)
        return NULL;
    s_secure (sock);
    zsock_set_linger (sock, 0);
    zsock_set_sndtimeo (sock, 10000);
    zsock_set_maxmsgsize (sock, 65536);
    if (rcvhwm)
        zsock_set_rcvhwm (sock, rcvhwm);
    if (rcvbuf)
        zsock_set_rcvbuf (sock, rcvbuf);
    if (zsock_connect (sock, "tcp://%s", s_server) < 0)
        zsock_destroy (&sock);
    return sock;
}

static int
s_send_raw (zsock_t *sock, const void *bytes, size_t len)
{
    return zmq_send (zsock_resolve (sock), bytes, len, 0) == (int) len ? 0 : -1;
}

static int
s_send_frame (zsock_t *sock, const zc_frame_t *frame)
{
    uint8_t buf [ZC_FRAME_MAX];
    size_t len;
    if (zc_frame_encode (frame, buf, sizeof buf, &len) != ZC_OK)
        return -1;
    return s_send_raw (sock, buf, len);
}

/* Receive one frame within timeout_ms into buf (ZC_FRAME_MAX bytes) and decode it.
   Returns 0, or -1 on timeout, or -2 when the frame did not decode. */
static int
s_recv_frame (zsock_t *sock, int timeout_ms, uint8_t *buf, zc_frame_t *frame)
{
    zmq_pollitem_t item = { zsock_resolve (sock), 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, timeout_ms) <= 0)
        return -1;
    int n = zmq_recv (zsock_resolve (sock), buf, ZC_FRAME_MAX, ZMQ_DONTWAIT);
    if (n < 0)
        return -1;
    if (n > ZC_FRAME_MAX || zc_frame_decode (buf, (size_t) n, frame) != ZC_OK)
        return -2;
    return 0;
}

static void
s_request_init (zc_frame_t *frame, zc_cmd_t cmd, uint64_t cid, uint64_t seq, const char *name,
                const char *text)
{
    zc_frame_init (frame, cmd);
    frame->fields = ZC_F_CID | ZC_F_SEQ;
    frame->cid = cid;
    frame->seq = seq;
    if (name) {
        frame->fields |= ZC_F_NAME;
        frame->name = (zc_bytes_t) { name, (uint32_t) strlen (name) };
    }
    if (cmd == ZC_CMD_CREATE || cmd == ZC_CMD_CONNECT || cmd == ZC_CMD_DELETE) {
        const char *secret = getenv ("ZCHAT_PASSWORD");
        secret = secret && *secret ? secret : "hostile";
        frame->fields |= ZC_F_SECRET;
        frame->secret = (zc_bytes_t) { secret, (uint32_t) strlen (secret) };
    }
    if (text) {
        frame->fields |= ZC_F_TEXT;
        frame->text = (zc_bytes_t) { text, (uint32_t) strlen (text) };
    }
}

/* One request, waiting for the REPLY/ERROR with its seq (pushes and PONGs skipped; a
   LIST's continuation frames are read up to the last). Returns the code, ZC_ERR_TIMEOUT
   after timeout_ms, or -1 when a reply did not decode. */
static int
s_call (zsock_t *sock, zc_cmd_t cmd, uint64_t cid, uint64_t seq, const char *name, const char *text,
        int timeout_ms)
{
    zc_frame_t frame;
    s_request_init (&frame, cmd, cid, seq, name, text);
    if (s_send_frame (sock, &frame) < 0)
        return ZC_ERR_TIMEOUT;
    uint64_t end = s_now_ms () + (uint64_t) timeout_ms;
    uint8_t buf [ZC_FRAME_MAX];
    while (s_now_ms () < end) {
        int rc = s_recv_frame (sock, (int) (end - s_now_ms ()), buf, &frame);
        if (rc == -2)
            return -1;
        if (rc < 0)
            break;
        if (frame.cmd == ZC_CMD_ERROR && (frame.seq == seq || frame.seq == 0))
            return (int) frame.code; /* seq 0: refused before it was read */
        if (frame.cmd == ZC_CMD_REPLY && frame.seq == seq && !(cmd == ZC_CMD_LIST && frame.more))
            return ZC_OK;
    }
    return ZC_ERR_TIMEOUT;
}

static void
s_ping (zsock_t *sock, uint64_t cid)
{
    zc_frame_t frame;
    zc_frame_init (&frame, ZC_CMD_PING);
    frame.fields = ZC_F_CID;
    frame.cid = cid;
    zmq_pollitem_t item = { zsock_resolve (sock), 0, ZMQ_POLLOUT, 0 };
    if (zmq_poll (&item, 1, 0) == 1) /* a full pipe is the point of some modes */
        s_send_frame (sock, &frame);
}

/* Sleep up to ms, or less if a signal asked us to stop. */
static void
s_nap (int ms)
{
    if (!s_stop)
        zclock_sleep (ms);
}

/* ---- idle: many connections that do nothing but exist */

/* Collect one answer per socket; tally PONG / TOO_MANY_CLIENTS / other / none. */
static void
s_idle_answers (zsock_t **socks, int n, bool *alive)
{
    zmq_pollitem_t *items = (zmq_pollitem_t *) zmalloc ((size_t) n * sizeof *items);
    bool *answered = (bool *) zmalloc ((size_t) n);
    int pong = 0, too_many = 0, other = 0, pending = n;
    char text [200] = "";
    uint64_t end = s_now_ms () + REPLY_WAIT_MS;
    while (pending > 0 && s_now_ms () < end && !s_stop) {
        for (int i = 0; i < n; i++)
            items [i] =
                (zmq_pollitem_t) { zsock_resolve (socks [i]), 0, answered [i] ? 0 : ZMQ_POLLIN, 0 };
        if (zmq_poll (items, n, 100) <= 0)
            continue;
        for (int i = 0; i < n; i++) {
            if (!(items [i].revents & ZMQ_POLLIN))
                continue;
            uint8_t buf [ZC_FRAME_MAX];
            zc_frame_t frame;
            if (s_recv_frame (socks [i], 0, buf, &frame) == -1)
                continue;
            answered [i] = true;
            pending--;
            if (frame.cmd == ZC_CMD_PONG)
                alive [i] = true, pong++;
            else if (frame.cmd == ZC_CMD_ERROR && frame.code == ZC_ERR_TOO_MANY_CLIENTS) {
                too_many++;
                if (!text [0])
                    snprintf (text, sizeof text, "%.*s", (int) frame.text.len, frame.text.ptr);
            }
            else
                other++;
        }
    }
    printf ("idle opened=%d pong=%d too_many=%d other=%d noreply=%d error_text=\"%s\"\n", n, pong,
            too_many, other, pending, text);
    fflush (stdout);
    free (answered);
    free (items);
}

static int
s_idle (int n)
{
    if (n < 1 || n > HOSTILE_MAX_IDLE)
        return 1;
    zsock_t **socks = (zsock_t **) zmalloc ((size_t) n * sizeof *socks);
    uint64_t *cids = (uint64_t *) zmalloc ((size_t) n * sizeof *cids);
    bool *alive = (bool *) zmalloc ((size_t) n);
    int opened = 0;
    for (; opened < n; opened++) {
        socks [opened] = s_dealer (0, 0);
        if (!socks [opened])
            break;
        cids [opened] = s_random_cid ();
        s_ping (socks [opened], cids [opened]);
    }
    if (opened > 0)
        s_idle_answers (socks, opened, alive);
    /* held: a live idle client pings every second, as real clients do */
    for (int t = 0; t < s_hold_s && !s_stop; t++) {
        s_nap (1000);
        for (int i = 0; i < opened; i++) {
            uint8_t buf [ZC_FRAME_MAX];
            zc_frame_t frame;
            while (s_recv_frame (socks [i], 0, buf, &frame) != -1)
                ;
            if (alive [i])
                s_ping (socks [i], cids [i]);
        }
    }
    for (int i = 0; i < opened; i++)
        zsock_destroy (&socks [i]);
    int rc = opened == n ? 0 : 1;
    free (alive);
    free (cids);
    free (socks);
    return rc;
}

/* ---- flood: bad frames as fast as the socket takes them */

/* Fill buf with bad frame number i; returns its length. The kinds rotate: oversize,
   random garbage, truncated (header only or a cut body), unknown command. */
static size_t
s_bad_frame (uint64_t i, uint8_t *buf, size_t cap)
{
    switch (i % 4) {
        case 0: { /* oversize: 2000 bytes */
            memset (buf, 'A', 2000);
            memcpy (buf, "SEND", 4);
            return 2000;
        }
        case 1: { /* random bytes, 16..1000 long */
            size_t len = 16 + (size_t) randof (985);
            for (size_t k = 0; k < len; k++)
                buf [k] = (uint8_t) randof (256);
            return len;
        }
        case 2: { /* a valid SEND cut short */
            zc_frame_t frame;
            s_request_init (&frame, ZC_CMD_SEND, 7, i + 1, "nobody", "cut here");
            size_t len;
            zc_frame_encode (&frame, buf, cap, &len);
            return (size_t) randof ((int) len); /* 0 .. len-1 bytes */
        }
        default: { /* well-formed, unknown name */
            memset (buf, 0, ZC_COMMAND_LEN);
            memcpy (buf, "LAUNCH", 6);
            buf [ZC_COMMAND_LEN] = 0x81; /* {"cid": 7} */
            memcpy (buf + ZC_COMMAND_LEN + 1,
                    "\xa3"
                    "cid"
                    "\x07",
                    5);
            return ZC_COMMAND_LEN + 6;
        }
    }
}

/* The code the broker must answer frame buf with: the reference decoder's verdict. */
static uint8_t
s_expected_code (const uint8_t *buf, size_t len)
{
    if (len > ZC_FRAME_MAX)
        return ZC_ERR_TOO_LARGE;
    zc_frame_t frame;
    return (uint8_t) zc_frame_decode (buf, len, &frame);
}

/* Read the flood's ERRORs in order and compare each with its frame's expected code. */
static void
s_flood_check (zsock_t *sock, const uint8_t *expected, uint64_t sent, uint64_t ms)
{
    uint64_t replies = 0, mismatch = 0, no_text = 0, by_code [ZC_ERR_INTERNAL + 2] = { 0 };
    char first [160] = "";
    uint8_t buf [ZC_FRAME_MAX];
    zc_frame_t frame;
    while (replies < sent && !s_stop && s_recv_frame (sock, REPLY_WAIT_MS, buf, &frame) != -1) {
        uint32_t code = frame.cmd == ZC_CMD_ERROR ? frame.code : 0;
        by_code [code <= ZC_ERR_INTERNAL ? code : ZC_ERR_INTERNAL + 1]++;
        if (frame.cmd == ZC_CMD_ERROR && frame.text.len == 0)
            no_text++;
        if (frame.cmd != ZC_CMD_ERROR || code != expected [replies]) {
            if (!mismatch++)
                snprintf (first, sizeof first, "frame %" PRIu64 ": expected %s, got %s %s", replies,
                          zc_code_name (expected [replies]), zc_cmd_name (frame.cmd),
                          zc_code_name ((int) code));
        }
        replies++;
    }
    printf ("flood sent=%" PRIu64 " send_ms=%" PRIu64 " replies=%" PRIu64 " mismatch=%" PRIu64
            " no_text=%" PRIu64,
            sent, ms, replies, mismatch, no_text);
    for (int c = 0; c <= ZC_ERR_INTERNAL; c++)
        if (by_code [c])
            printf (" %s=%" PRIu64, c ? zc_code_name (c) : "not_error", by_code [c]);
    printf (" first_mismatch=\"%s\"\n", first);
}

static int
s_flood (uint64_t n)
{
    zsock_t *sock = s_dealer (0, 0);
    uint8_t *expected = (uint8_t *) malloc (n ? n : 1);
    if (!sock || !expected || n == 0) {
        zsock_destroy (&sock);
        free (expected);
        return 1;
    }
    uint8_t buf [2048];
    uint64_t sent = 0, start = s_now_ms ();
    for (; sent < n && !s_stop; sent++) {
        size_t len;
        do /* random bytes that happen to decode are not garbage: draw again */
            len = s_bad_frame (sent, buf, sizeof buf);
        while ((expected [sent] = s_expected_code (buf, len)) == ZC_OK);
        if (s_send_raw (sock, buf, len) < 0)
            break; /* broker stopped reading */
    }
    s_flood_check (sock, expected, sent, s_now_ms () - start);
    zsock_destroy (&sock);
    free (expected);
    return sent == n ? 0 : 1;
}

/* ---- sendflood: valid SENDs, replies ignored until the end */

static int
s_sendflood (const char *user, uint64_t n)
{
    zsock_t *sock = s_dealer (0, 0);
    if (!sock)
        return 1;
    uint64_t cid = s_random_cid (), sent = 0, start = s_now_ms ();
    char text [101];
    memset (text, 'x', 100);
    text [100] = 0;
    for (; sent < n && !s_stop; sent++) {
        zc_frame_t frame;
        s_request_init (&frame, ZC_CMD_SEND, cid, sent + 1, user, text);
        if (s_send_frame (sock, &frame) < 0)
            break;
    }
    uint64_t send_ms = s_now_ms () - start, replies = 0, by_code [ZC_ERR_INTERNAL + 1] = { 0 };
    uint8_t buf [ZC_FRAME_MAX];
    zc_frame_t frame;
    while (replies < sent && !s_stop && s_recv_frame (sock, REPLY_WAIT_MS, buf, &frame) != -1) {
        if (frame.cmd == ZC_CMD_REPLY)
            by_code [0]++, replies++;
        else if (frame.cmd == ZC_CMD_ERROR && frame.code <= ZC_ERR_INTERNAL)
            by_code [frame.code]++, replies++;
    }
    printf ("sendflood sent=%" PRIu64 " send_ms=%" PRIu64 " replies=%" PRIu64 " total_ms=%" PRIu64,
            sent, send_ms, replies, s_now_ms () - start);
    for (int c = 0; c <= ZC_ERR_INTERNAL; c++)
        if (by_code [c])
            printf (" %s=%" PRIu64, zc_code_name (c), by_code [c]);
    printf ("\n");
    zsock_destroy (&sock);
    return sent == n ? 0 : 1;
}

/* ---- noread: a connected user whose client never reads */

/* Send n messages of text to user from sock, at most window in flight; returns how
   many were acked OK. */
static uint64_t
s_send_many (zsock_t *sock, const char *user, uint64_t n, const char *text, uint64_t window)
{
    uint64_t cid = s_random_cid (), next = 1, ok = 0, done = 0;
    uint8_t buf [ZC_FRAME_MAX];
    zc_frame_t frame;
    while (done < n && !s_stop) {
        while (next <= n && next - done <= window) {
            s_request_init (&frame, ZC_CMD_SEND, cid, next++, user, text);
            if (s_send_frame (sock, &frame) < 0)
                return ok;
        }
        if (s_recv_frame (sock, REPLY_WAIT_MS, buf, &frame) == -1)
            return ok;
        if (frame.cmd == ZC_CMD_REPLY || frame.cmd == ZC_CMD_ERROR) {
            done++;
            ok += frame.cmd == ZC_CMD_REPLY;
        }
    }
    return ok;
}

/* Read everything the never-reading socket was sent; count MESSAGE pushes. */
static void
s_noread_drain (zsock_t *sock, uint64_t n)
{
    uint8_t *seen = (uint8_t *) zmalloc (n + 1);
    uint64_t pushes = 0, distinct = 0, max_mseq = 0, other = 0;
    uint8_t buf [ZC_FRAME_MAX];
    zc_frame_t frame;
    while (!s_stop && s_recv_frame (sock, 1000, buf, &frame) != -1) {
        if (frame.cmd != ZC_CMD_MESSAGE) {
            other++;
            continue;
        }
        pushes++;
        if (frame.mseq > max_mseq)
            max_mseq = frame.mseq;
        if (frame.mseq >= 1 && frame.mseq <= n && !seen [frame.mseq])
            seen [frame.mseq] = 1, distinct++;
    }
    printf ("noread drained pushes=%" PRIu64 " distinct=%" PRIu64 " max_mseq=%" PRIu64
            " other_frames=%" PRIu64 "\n",
            pushes, distinct, max_mseq, other);
    free (seen);
}

static int
s_noread (const char *user, uint64_t n)
{
    zsock_t *sender = s_dealer (0, 0);
    zsock_t *reader = s_dealer (1, 4096); /* 1-message pipe, 4 KiB kernel buffer */
    uint64_t cid = s_random_cid (), ok = 0;
    int code = -1, rc = 1;
    const char *step = "socket";
    if (!sender || !reader)
        goto done;
    step = "create";
    code = s_call (sender, ZC_CMD_CREATE, cid, 1, user, NULL, REPLY_WAIT_MS);
    if (code != ZC_OK && code != ZC_ERR_USER_EXISTS)
        goto done;
    step = "connect";
    code = s_call (reader, ZC_CMD_CONNECT, cid + 1, 1, user, NULL, REPLY_WAIT_MS);
    if (code != ZC_OK)
        goto done;
    /* from here on the reader socket is never read until the end */
    ok = s_send_many (sender, user, n, "you never read this", 64);
    printf ("noread sent_ok=%" PRIu64 "\n", ok);
    fflush (stdout);
    for (int t = 0; t < s_hold_s && !s_stop; t++) {
        s_ping (reader, cid + 1);
        s_ping (sender, cid);
        s_nap (1000);
    }
    s_noread_drain (reader, n);
    rc = ok == n ? 0 : 1;
done:
    if (rc && code != ZC_OK)
        printf ("noread failed step=%s code=%s\n", step, code < 0 ? "none" : zc_code_name (code));
    zsock_destroy (&reader);
    zsock_destroy (&sender);
    return rc;
}

/* ---- fill: queue n messages of size bytes for user as fast as the broker acks them */

static int
s_fill (const char *user, uint64_t n, const char *size_arg)
{
    int size = size_arg ? atoi (size_arg) : 100;
    if (size < 0 || size > ZC_TEXT_MAX)
        return 2;
    zsock_t *sock = s_dealer (0, 0);
    if (!sock)
        return 1;
    char text [ZC_TEXT_MAX + 1];
    memset (text, 'q', (size_t) size);
    text [size] = 0;
    int code = s_call (sock, ZC_CMD_CREATE, s_random_cid (), 1, user, NULL, REPLY_WAIT_MS);
    uint64_t start = s_now_ms (), ok = 0;
    if (code == ZC_OK || code == ZC_ERR_USER_EXISTS)
        ok = s_send_many (sock, user, n, text, 256);
    uint64_t ms = s_now_ms () - start;
    printf ("fill user=%s sent_ok=%" PRIu64 " of=%" PRIu64 " size=%d ms=%" PRIu64 " per_s=%.0f\n",
            user, ok, n, size, ms, ms ? (double) ok * 1000.0 / (double) ms : 0.0);
    zsock_destroy (&sock);
    return ok == n ? 0 : 1;
}

/* ---- probe: a normal client must still be served promptly */

static int
s_probe (void)
{
    zsock_t *sock = s_dealer (0, 0);
    if (!sock)
        return 1;
    char user [40];
    snprintf (user, sizeof user, "probe-%d-%u", (int) getpid (), (unsigned) randof (100000));
    uint64_t cid = s_random_cid ();
    static const zc_cmd_t ops [] = { ZC_CMD_CREATE, ZC_CMD_SEND, ZC_CMD_LIST, ZC_CMD_DELETE };
    static const char *names [] = { "create", "send", "list", "delete" };
    uint64_t max_ms = 0;
    int rc = 0;
    printf ("probe");
    for (int i = 0; i < 4; i++) {
        uint64_t start = s_now_ms ();
        int code =
            s_call (sock, ops [i], cid, (uint64_t) i + 1, ops [i] == ZC_CMD_LIST ? NULL : user,
                    ops [i] == ZC_CMD_SEND ? "are you there?" : NULL, s_deadline_ms);
        uint64_t ms = s_now_ms () - start;
        max_ms = ms > max_ms ? ms : max_ms;
        printf (" %s_ms=%" PRIu64, names [i], ms);
        if (code != ZC_OK) {
            printf (" %s_error=%s", names [i], code < 0 ? "undecodable" : zc_code_name (code));
            rc = 1;
        }
    }
    printf (" max_ms=%" PRIu64 " ok=%d\n", max_ms, rc == 0);
    zsock_destroy (&sock);
    return rc;
}

static void
s_usage (void)
{
    fprintf (
        stderr,
        "usage: zchat-hostile [--server HOST:PORT] [--hold S] [--deadline MS] MODE ARGS\n"
        "  idle N | flood N | sendflood USER N | noread USER N | fill USER N [SIZE] | probe\n");
}

static bool
s_count (const char *arg, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull (arg, &end, 10);
    if (errno || *end || arg [0] == '-' || v < 1 || v > max)
        return false;
    *out = v;
    return true;
}

/* More sockets and descriptors than the defaults allow: idle opens thousands. */
static void
s_raise_limits (void)
{
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit (RLIMIT_NOFILE, &rl);
    }
    zsys_set_max_sockets (HOSTILE_MAX_IDLE + 16);
}

int
main (int argc, char **argv)
{
    zsys_set_logstream (stderr);
    zsys_handler_set (NULL);
    srandom ((unsigned) (getpid () ^ zclock_time ()));
    if (sodium_init () < 0)
        return 2; /* the ids and cids come from it */
    signal (SIGINT, s_on_signal);
    signal (SIGTERM, s_on_signal);
    s_raise_limits ();
    int a = 1;
    for (; a + 1 < argc && strncmp (argv [a], "--", 2) == 0; a += 2) {
        if (streq (argv [a], "--server"))
            s_server = argv [a + 1];
        else if (streq (argv [a], "--hold"))
            s_hold_s = atoi (argv [a + 1]);
        else if (streq (argv [a], "--deadline"))
            s_deadline_ms = atoi (argv [a + 1]);
        else
            break;
    }
    const char *mode = a < argc ? argv [a] : "";
    uint64_t n = 0;
    int rc = 2;
    if (streq (mode, "idle") && a + 1 < argc && s_count (argv [a + 1], HOSTILE_MAX_IDLE, &n))
        rc = s_idle ((int) n);
    else if (streq (mode, "flood") && a + 1 < argc && s_count (argv [a + 1], 100000000, &n))
        rc = s_flood (n);
    else if (streq (mode, "sendflood") && a + 2 < argc && s_count (argv [a + 2], 100000000, &n))
        rc = s_sendflood (argv [a + 1], n);
    else if (streq (mode, "noread") && a + 2 < argc && s_count (argv [a + 2], 100000000, &n))
        rc = s_noread (argv [a + 1], n);
    else if (streq (mode, "fill") && a + 2 < argc && s_count (argv [a + 2], 100000000, &n))
        rc = s_fill (argv [a + 1], n, a + 3 < argc ? argv [a + 3] : NULL);
    else if (streq (mode, "probe"))
        rc = s_probe ();
    else
        s_usage ();
    fflush (stdout);
    return rc;
}
