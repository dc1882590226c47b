/*  zcc.c - the zchat client library (interface and guarantees in zcc.h).

    Invariants:
    - Every outstanding request owns one slot of self->reqs holding its encoded frame;
      the slot is freed only when the request's final reply or its deadline has been
      turned into an event. Resends reuse the frame byte for byte (same cid, same seq).
    - The DEALER is connected to exactly one server. Switching servers destroys it and
      makes a new one, so a reply sent on an old connection can never arrive later.
    - While bound to (user, epoch), `shown` is the highest mseq handed to the caller;
      it only grows, a MESSAGE at or below it is dropped, and acks never exceed it.
    - Every buffer is bounded: max_inflight user requests plus one internal re-CONNECT,
      a fixed event FIFO for zcc_call, LIST replies capped at ZCC_LIST_MAX_USERS names. */
#include <czmq.h>
#include <sys/random.h>
#include "zcc.h"

#define ZCC_MAX_SERVERS     16
#define ZCC_ADDR_MAX        256
#define ZCC_LIST_MAX_USERS  1000000
#define ZCC_ACK_INTERVAL_MS 100
#define ZCC_ACK_BATCH       64
#define ZCC_PING_IDLE_MS    1000
#define ZCC_BACKOFF_MIN_MS  50
#define ZCC_BACKOFF_MAX_MS  1000
#define ZCC_SOCK_HWM        4096
#define ZCC_FIFO_MSGS       256     /* pushed messages zcc_call may hold back */
#define ZCC_FIFO_OTHER      8       /* CLOSED events zcc_call may hold back */
#define ZCC_DEFAULT_SERVERS "127.0.0.1:7001,127.0.0.1:7004,127.0.0.1:7007"

typedef struct {
    bool used;
    bool internal;              /* re-CONNECT issued by the library: never reported */
    zc_cmd_t cmd;
    zc_code_t failed;           /* != ZC_OK: failed locally, report at next poll */
    uint64_t seq;
    uint64_t first_gen;         /* connection generation it was first sent on */
    char name [ZC_NAME_MAX + 1];
    char secret [ZC_SECRET_MAX + 1];
    char new_secret [ZC_SECRET_MAX + 1];
    int64_t submit_us;
    int64_t deadline_ms;        /* 0 = none (internal requests retry while bound) */
    int64_t sent_ms;            /* last send on the current connection; 0 = not yet */
    int64_t resend_ms;          /* BUSY: resend at this time; 0 = none */
    size_t len;
    uint8_t buf [ZC_FRAME_MAX];
    char **users;               /* LIST: names gathered so far */
    uint32_t n_users;
    uint32_t cap_users;
} zcc_req_t;

#define ZCC_RECV_STREAK 64

typedef struct {
    zcc_event_t ev;             /* frame views are rebuilt from raw when popped */
    size_t raw_len;             /* 0 = synthetic event (timeout): frame has no views */
    uint8_t raw [ZC_FRAME_MAX];
} zcc_queued_t;

struct zcc {
    char servers [ZCC_MAX_SERVERS][ZCC_ADDR_MAX];
    uint32_t n_servers;
    uint32_t server_idx;
    char current [ZCC_ADDR_MAX];
    zsock_t *sock;
    uint64_t conn_gen;
    uint64_t cid;
    uint64_t next_seq;
    uint32_t request_timeout_ms;
    uint32_t deadline_ms;
    uint32_t max_inflight;
    zcc_req_t *reqs;            /* max_inflight + 1 slots; the last is for internal */
    uint32_t n_inflight;        /* user requests only */
    int64_t scan_ms;            /* next time a request timer may be due */
    int64_t switch_ms;          /* pending server switch at this time; 0 = none */
    char switch_to [ZCC_ADDR_MAX];  /* "" = next server of the list */
    uint32_t backoff_ms;
    uint32_t redirects;         /* leader redirects since the last good reply */
    bool bound;
    char user [ZC_NAME_MAX + 1];
    char secret [ZC_SECRET_MAX + 1];    /* the bound user's, for re-CONNECTs */
    zcert_t *cert;              /* our CURVE key (ephemeral); NULL when insecure */
    bool heard;                 /* any frame ever received (else: a wrong key?) */
    char server_key [41];       /* the cluster's public key, Z85 */
    uint64_t epoch;
    uint64_t shown;
    uint64_t acked;             /* highest mseq sent in an ACK on this connection */
    int64_t unacked_ms;         /* when shown first went past acked */
    int64_t reack_ms;           /* last ack sent again for a re-pushed message */
    int64_t last_send_ms;
    int64_t last_recv_ms;
    int64_t ping_ms;            /* first PING sent since the last receive; 0 = none */
    uint64_t rng;
    bool in_call;
    uint32_t recv_streak;       /* frames taken without a poll, since the last poll */
    zcc_queued_t *fifo;
    uint32_t fifo_cap;
    uint32_t fifo_head;
    uint32_t fifo_len;
    uint32_t fifo_msgs;
    uint8_t rx [ZC_FRAME_MAX];  /* the last frame received; event views point here */
    size_t rx_len;
    char err [ZC_FRAME_MAX + 1];
    char **ev_users;            /* owned by the last returned event */
    uint32_t ev_n_users;
};

static int64_t s_now_ms (void) { return zclock_mono (); }

static uint64_t s_rand (zcc_t *self)
{
    uint64_t x = self->rng;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    self->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Half of the delay fixed, half random: retries of many clients spread out. */
static int64_t s_jitter (zcc_t *self, uint32_t ms)
{
    return ms / 2 + (int64_t) (s_rand (self) % (ms / 2 + 1));
}

static uint64_t s_random_id (void)
{
    uint64_t id = 0;
    while (id == 0) {
        if (getrandom (&id, sizeof id, 0) != (ssize_t) sizeof id)
            id = (uint64_t) zclock_usecs () * 0x9E3779B97F4A7C15ULL ^ (uint64_t) getpid ();
    }
    return id;
}

/* "host:port" with a non-empty host and a port 1..65535. */
static bool s_addr_valid (const char *addr, size_t len)
{
    if (len == 0 || len >= ZCC_ADDR_MAX - 8)
        return false;
    const char *colon = memrchr (addr, ':', len);
    if (!colon || colon == addr)
        return false;
    size_t port_len = len - (size_t) (colon - addr) - 1;
    if (port_len == 0 || port_len > 5)
        return false;
    unsigned port = 0;
    for (size_t i = 0; i < port_len; i++) {
        if (colon [1 + i] < '0' || colon [1 + i] > '9')
            return false;
        port = port * 10 + (unsigned) (colon [1 + i] - '0');
    }
    for (const char *p = addr; p < colon; p++)
        if ((unsigned char) *p <= ' ' || *p == ',' || *p == '/')
            return false;
    return port >= 1 && port <= 65535;
}

static int s_parse_servers (zcc_t *self, const char *list)
{
    const char *p = list;
    while (true) {
        while (*p == ' ')
            p++;
        const char *end = strchr (p, ',');
        size_t len = end ? (size_t) (end - p) : strlen (p);
        while (len > 0 && p [len - 1] == ' ')
            len--;
        if (!s_addr_valid (p, len) || self->n_servers == ZCC_MAX_SERVERS) {
            fprintf (stderr, "zcc: bad server list '%s': expected host:port[,host:port...]"
                     " (at most %d)\n", list, ZCC_MAX_SERVERS);
            return -1;
        }
        memcpy (self->servers [self->n_servers], p, len);
        self->servers [self->n_servers++][len] = 0;
        if (!end)
            return 0;
        p = end + 1;
    }
}

/* Replace the DEALER by a new one connected to addr. */
static void s_connect (zcc_t *self, const char *addr)
{
    zsock_destroy (&self->sock);
    self->conn_gen++;
    snprintf (self->current, sizeof self->current, "%s", addr);
    self->sock = zsock_new (ZMQ_DEALER);
    if (!self->sock)
        return;                 /* out of sockets: requests time out and we retry */
    zsock_set_linger (self->sock, 0);
    zsock_set_maxmsgsize (self->sock, ZC_FRAME_MAX);
    /* a random routing id: the server binds a session to it, so it must be unguessable
       (libzmq's own ids count up); non-zero first byte, as libzmq reserves 0 */
    uint8_t id [16];
    if (getrandom (id, sizeof id, 0) != (ssize_t) sizeof id)
        for (size_t i = 0; i < sizeof id; i++)
            id [i] = (uint8_t) s_rand (self);
    id [0] |= 1;
    zmq_setsockopt (zsock_resolve (self->sock), ZMQ_ROUTING_ID, id, sizeof id);
    if (self->cert) {
        zcert_apply (self->cert, self->sock);
        zsock_set_curve_serverkey (self->sock, self->server_key);
    }
    zsock_set_sndhwm (self->sock, ZCC_SOCK_HWM);
    zsock_set_rcvhwm (self->sock, ZCC_SOCK_HWM);
    if (zsock_connect (self->sock, "tcp://%s", addr) != 0)
        zsys_warning ("zcc: cannot connect to %s", addr);
    self->ping_ms = 0;
    self->last_recv_ms = s_now_ms ();
}

static void s_send_bytes (zcc_t *self, const uint8_t *buf, size_t len)
{
    self->last_send_ms = s_now_ms ();
    if (self->sock)             /* a full pipe drops it: the request timer retries */
        zmq_send (zsock_resolve (self->sock), buf, len, ZMQ_DONTWAIT);
}

static void s_send_frame (zcc_t *self, const zc_frame_t *frame)
{
    uint8_t buf [ZC_FRAME_MAX];
    size_t len;
    if (zc_frame_encode (frame, buf, sizeof buf, &len) == ZC_OK)
        s_send_bytes (self, buf, len);
}

static void s_send_ack (zcc_t *self)
{
    zc_frame_t f;
    zc_frame_init (&f, ZC_CMD_ACK);
    f.fields = ZC_F_CID | ZC_F_NAME | ZC_F_EPOCH | ZC_F_MSEQ;
    f.cid = self->cid;
    f.name = (zc_bytes_t) { self->user, (uint32_t) strlen (self->user) };
    f.epoch = self->epoch;
    f.mseq = self->shown;
    s_send_frame (self, &f);
    self->acked = self->shown;
}

static void s_send_ping (zcc_t *self)
{
    zc_frame_t f;
    zc_frame_init (&f, ZC_CMD_PING);
    f.fields = ZC_F_CID;
    f.cid = self->cid;
    if (self->bound) {
        /* lets the server say our session is gone (it restarted, or is not the leader) */
        f.fields |= ZC_F_NAME | ZC_F_EPOCH;
        f.name = (zc_bytes_t) { self->user, (uint32_t) strlen (self->user) };
        f.epoch = self->epoch;
    }
    s_send_frame (self, &f);
    if (!self->ping_ms)
        self->ping_ms = s_now_ms ();    /* the oldest unanswered ping */
}

static void s_req_users_free (zcc_req_t *req)
{
    for (uint32_t i = 0; i < req->n_users; i++)
        free (req->users [i]);
    free (req->users);
    req->users = NULL;
    req->n_users = req->cap_users = 0;
}

static void s_req_free (zcc_t *self, zcc_req_t *req)
{
    s_req_users_free (req);
    explicit_bzero (req->secret, sizeof req->secret);
    explicit_bzero (req->new_secret, sizeof req->new_secret);
    explicit_bzero (req->buf, sizeof req->buf);
    if (!req->internal)
        self->n_inflight--;
    req->used = false;
}

static void s_req_send (zcc_t *self, zcc_req_t *req)
{
    int64_t now = s_now_ms ();
    s_send_bytes (self, req->buf, req->len);
    req->sent_ms = now;
    req->resend_ms = 0;
    if (now + self->request_timeout_ms < self->scan_ms)
        self->scan_ms = now + self->request_timeout_ms;
}

static bool s_env_true (const char *name)
{
    const char *v = getenv (name);
    return v && (!strcmp (v, "1") || !strcmp (v, "true") || !strcmp (v, "yes"));
}

/* The cluster's key from the options or $ZCHAT_SERVER_KEY: Z85 text, or a certificate
   file. -1 (with a message) when there is none. */
static int s_server_key (zcc_t *self, const zcc_options_t *options)
{
    const char *key = options->server_key && *options->server_key ? options->server_key
                    : getenv ("ZCHAT_SERVER_KEY");
    if (!key || !*key) {
        fprintf (stderr, "zcc: no server key: set ZCHAT_SERVER_KEY (or --server-key) to the "
                 "cluster's server.cert or its 40-character key; --insecure only for a "
                 "cluster run with --insecure\n");
        return -1;
    }
    /* a file first: a 40-character path is valid Z85 too (/tmp/zchat-fault.XXXXXX/...) */
    uint8_t bin [32];
    if (access (key, F_OK) != 0 && strlen (key) == 40 && zmq_z85_decode (bin, key)) {
        memcpy (self->server_key, key, 41);
        return 0;
    }
    zcert_t *cert = zcert_load (key);
    if (!cert) {
        fprintf (stderr, "zcc: server key '%s' is neither a 40-character Z85 key nor a "
                 "readable certificate file\n", key);
        return -1;
    }
    snprintf (self->server_key, sizeof self->server_key, "%s", zcert_public_txt (cert));
    zcert_destroy (&cert);
    return 0;
}

void zcc_options_defaults (zcc_options_t *options)
{
    assert (options);
    memset (options, 0, sizeof *options);
    options->request_timeout_ms = 1000;
    options->deadline_ms = 15000;
    options->max_inflight = 256;
}

zcc_t *zcc_new (const zcc_options_t *options)
{
    zcc_options_t defaults;
    zcc_options_defaults (&defaults);
    if (!options)
        options = &defaults;
    zcc_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    const char *list = options->servers;
    if (!list || !*list)
        list = getenv ("ZCHAT_SERVERS");
    if (!list || !*list)
        list = ZCC_DEFAULT_SERVERS;
    self->request_timeout_ms = options->request_timeout_ms ? options->request_timeout_ms : 1000;
    self->deadline_ms = options->deadline_ms ? options->deadline_ms : 15000;
    self->max_inflight = options->max_inflight ? options->max_inflight : 256;
    if (self->max_inflight > 65536)
        self->max_inflight = 65536;
    self->reqs = calloc (self->max_inflight + 1, sizeof *self->reqs);
    if (!self->reqs || s_parse_servers (self, list) != 0) {
        free (self->reqs);
        free (self);
        return NULL;
    }
    self->cid = options->client_id ? options->client_id : s_random_id ();
    self->rng = s_random_id ();
    if (!options->insecure && !s_env_true ("ZCHAT_INSECURE")) {
        if (s_server_key (self, options) != 0 || !(self->cert = zcert_new ())) {
            free (self->reqs);
            free (self);
            return NULL;
        }
    }
    self->next_seq = 1;
    self->backoff_ms = ZCC_BACKOFF_MIN_MS;
    self->scan_ms = INT64_MAX;
    s_connect (self, self->servers [0]);
    return self;
}

static void s_users_free (char **users, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        free (users [i]);
    free (users);
}

static void s_release_event (zcc_t *self)
{
    s_users_free (self->ev_users, self->ev_n_users);
    self->ev_users = NULL;
    self->ev_n_users = 0;
}

void zcc_destroy (zcc_t **self_p)
{
    assert (self_p);
    zcc_t *self = *self_p;
    if (!self)
        return;
    if (self->sock && self->bound && self->shown > self->acked) {
        /* Last chance to tell the server what we showed; give the ack a moment to
           leave instead of dropping it with linger 0 (otherwise it is redelivered). */
        s_send_ack (self);
        zsock_set_linger (self->sock, 200);
    }
    zsock_destroy (&self->sock);
    for (uint32_t i = 0; i <= self->max_inflight; i++)
        s_req_users_free (&self->reqs [i]);
    for (uint32_t i = 0; i < self->fifo_len; i++) {
        zcc_queued_t *q = &self->fifo [(self->fifo_head + i) % self->fifo_cap];
        s_users_free (q->ev.users, q->ev.n_users);
    }
    s_release_event (self);
    zcert_destroy (&self->cert);
    explicit_bzero (self->secret, sizeof self->secret);
    free (self->fifo);
    free (self->reqs);
    free (self);
    *self_p = NULL;
}

static bool s_is_request (zc_cmd_t cmd)
{
    return cmd == ZC_CMD_CREATE || cmd == ZC_CMD_DELETE || cmd == ZC_CMD_CONNECT
        || cmd == ZC_CMD_LIST || cmd == ZC_CMD_SEND || cmd == ZC_CMD_STATUS
        || cmd == ZC_CMD_PASSWD || cmd == ZC_CMD_TRANSFER;
}

/* While the library CONNECTs the bound user again (a new server, a lost session),
   SENDs wait: sent before the session is back, they would go out as from nobody. */
static bool s_held (const zcc_t *self, const zcc_req_t *req)
{
    return self->bound && req->cmd == ZC_CMD_SEND && self->reqs [self->max_inflight].used;
}

static zcc_req_t *s_req_alloc (zcc_t *self, bool internal)
{
    if (internal) {
        zcc_req_t *req = &self->reqs [self->max_inflight];
        return req->used ? NULL : req;
    }
    if (self->n_inflight >= self->max_inflight)
        return NULL;
    for (uint32_t i = 0; i < self->max_inflight; i++)
        if (!self->reqs [i].used)
            return &self->reqs [i];
    return NULL;
}

static void s_req_encode (zcc_t *self, zcc_req_t *req, const char *name, const char *text)
{
    zc_frame_t f;
    zc_frame_init (&f, req->cmd);
    f.fields = ZC_F_TS | ZC_F_CID | ZC_F_SEQ;
    f.ts = (uint64_t) zclock_time ();
    f.cid = self->cid;
    f.seq = req->seq;
    if (name) {
        f.fields |= ZC_F_NAME;
        f.name = (zc_bytes_t) { name, (uint32_t) strnlen (name, ZC_FRAME_MAX) };
    }
    if (text) {
        f.fields |= ZC_F_TEXT;
        f.text = (zc_bytes_t) { text, (uint32_t) strnlen (text, ZC_FRAME_MAX) };
    }
    if (req->secret [0]) {
        f.fields |= ZC_F_SECRET;
        f.secret = (zc_bytes_t) { req->secret, (uint32_t) strlen (req->secret) };
    }
    if (req->new_secret [0]) {
        f.fields |= ZC_F_NEW_SECRET;
        f.new_secret = (zc_bytes_t) { req->new_secret, (uint32_t) strlen (req->new_secret) };
    }
    if (req->cmd == ZC_CMD_CONNECT && self->bound && name && strcmp (name, self->user) == 0
        && self->shown > 0) {
        f.fields |= ZC_F_MSEQ | ZC_F_EPOCH;    /* shown of this incarnation only */
        f.mseq = self->shown;
        f.epoch = self->epoch;
    }
    if (f.name.len >= ZC_FRAME_MAX || f.text.len >= ZC_FRAME_MAX)
        req->failed = ZC_ERR_TOO_LARGE;
    else
        req->failed = zc_frame_encode (&f, req->buf, sizeof req->buf, &req->len);
}

static uint64_t s_submit (zcc_t *self, zc_cmd_t cmd, const char *name, const char *text,
                          const char *secret, const char *new_secret, bool internal)
{
    zcc_req_t *req = s_req_alloc (self, internal);
    if (!req)
        return 0;
    memset (req, 0, sizeof *req);
    req->used = true;
    req->internal = internal;
    req->cmd = cmd;
    req->seq = self->next_seq++;
    req->first_gen = self->conn_gen;
    req->submit_us = zclock_usecs ();
    req->deadline_ms = internal ? 0 : s_now_ms () + self->deadline_ms;
    if (name)
        snprintf (req->name, sizeof req->name, "%s", name);
    if (!internal)
        self->n_inflight++;
    bool too_long = (secret && strlen (secret) > ZC_SECRET_MAX)
                 || (new_secret && strlen (new_secret) > ZC_SECRET_MAX);
    snprintf (req->secret, sizeof req->secret, "%s", secret && !too_long ? secret : "");
    snprintf (req->new_secret, sizeof req->new_secret, "%s",
              new_secret && !too_long ? new_secret : "");
    s_req_encode (self, req, name, text);
    if (too_long)
        req->failed = ZC_ERR_BAD_SECRET;
    if (req->failed != ZC_OK)
        self->scan_ms = 0;      /* report it at the next poll */
    else if (!self->switch_ms && !s_held (self, req))
        s_req_send (self, req);
    if (req->deadline_ms && req->deadline_ms < self->scan_ms)
        self->scan_ms = req->deadline_ms;
    return req->seq;
}

uint64_t zcc_submit_with (zcc_t *self, zc_cmd_t cmd, const char *name, const char *text,
                          const char *secret, const char *new_secret)
{
    assert (self);
    if (!s_is_request (cmd))
        return 0;               /* ACK and PING are the library's own business */
    return s_submit (self, cmd, name, text, secret, new_secret, false);
}

uint64_t zcc_submit (zcc_t *self, zc_cmd_t cmd, const char *name, const char *text)
{
    return zcc_submit_with (self, cmd, name, text, NULL, NULL);
}

/* Move to addr (NULL = the next server of the list) after a delay: at once for a
   leader hint, else the jittered backoff, which then doubles. */
static void s_schedule_switch (zcc_t *self, const char *addr, size_t addr_len)
{
    bool hint = addr && s_addr_valid (addr, addr_len);
    if (self->switch_ms && !hint)
        return;                 /* a switch is already on its way */
    int64_t delay = 0;
    if (hint && ++self->redirects <= self->n_servers + 1)
        delay = 0;
    else {
        delay = s_jitter (self, self->backoff_ms);
        self->backoff_ms = self->backoff_ms * 2 > ZCC_BACKOFF_MAX_MS
                         ? ZCC_BACKOFF_MAX_MS : self->backoff_ms * 2;
    }
    self->switch_ms = s_now_ms () + delay;
    if (self->switch_ms == 0)
        self->switch_ms = 1;
    if (hint) {
        memcpy (self->switch_to, addr, addr_len);
        self->switch_to [addr_len] = 0;
    }
    else
        self->switch_to [0] = 0;
}

static int s_cmp_seq (const void *a, const void *b)
{
    const zcc_req_t *x = *(zcc_req_t *const *) a, *y = *(zcc_req_t *const *) b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void s_resend (zcc_t *self, bool unsent_only)
{
    zcc_req_t **order = malloc ((self->max_inflight + 1) * sizeof *order);
    uint32_t n = 0;
    for (uint32_t i = 0; i <= self->max_inflight; i++) {
        zcc_req_t *req = &self->reqs [i];
        if (!req->used || req->failed != ZC_OK || (unsent_only && req->sent_ms))
            continue;
        req->sent_ms = 0;
        if (s_held (self, req))
            continue;                   /* sent when the session is back */
        s_req_users_free (req);         /* a LIST restarts from its first frame */
        if (order)
            order [n++] = req;
    }
    if (!order)
        return;                 /* no memory: the request timers resend later */
    qsort (order, n, sizeof *order, s_cmp_seq);
    for (uint32_t i = 0; i < n; i++)
        s_req_send (self, order [i]);
    free (order);
}

/* Forget the library's own re-CONNECT, if one is outstanding. */
static void s_drop_reconnect (zcc_t *self)
{
    zcc_req_t *internal = &self->reqs [self->max_inflight];
    if (internal->used)
        s_req_free (self, internal);
}

/* CONNECT the bound user again, with a fresh seq and its secret. */
static void s_reconnect (zcc_t *self)
{
    s_drop_reconnect (self);
    s_submit (self, ZC_CMD_CONNECT, self->user, NULL, self->secret, NULL, true);
}

static void s_do_switch (zcc_t *self)
{
    const char *target = self->switch_to;
    if (!*target) {
        self->server_idx = (self->server_idx + 1) % self->n_servers;
        target = self->servers [self->server_idx];
    }
    else
        for (uint32_t i = 0; i < self->n_servers; i++)
            if (strcmp (self->servers [i], target) == 0)
                self->server_idx = i;
    char addr [ZCC_ADDR_MAX];
    snprintf (addr, sizeof addr, "%s", target);
    self->switch_ms = 0;
    self->switch_to [0] = 0;
    s_connect (self, addr);
    /* The old re-CONNECT may have been applied where it cannot bind this connection;
       a fresh seq makes the new server bind us instead of answering from its cache. */
    if (self->bound)
        s_reconnect (self);
    else
        s_drop_reconnect (self);
    s_resend (self, false);
}

static void s_fill_error (zcc_t *self, zcc_event_t *event)
{
    if (event->code == ZC_OK)
        event->error = "";
    else
    if (event->frame.fields & ZC_F_TEXT) {
        memcpy (self->err, event->frame.text.ptr, event->frame.text.len);
        self->err [event->frame.text.len] = 0;
        event->error = self->err;
    }
    else
        event->error = zc_code_text ((int) event->code);
}

/* A request that ends without a server reply (deadline, local failure). */
static zcc_event_type_t s_local_reply (zcc_t *self, zcc_req_t *req, zc_code_t code,
                                       zcc_event_t *event)
{
    memset (event, 0, sizeof *event);
    event->type = ZCC_EV_REPLY;
    event->seq = req->seq;
    event->re = req->cmd;
    event->code = code;
    zc_frame_init (&event->frame, ZC_CMD_ERROR);
    event->frame.fields = ZC_F_SEQ | ZC_F_CODE | ZC_F_RE;
    event->frame.seq = req->seq;
    event->frame.code = code;
    event->frame.re = req->cmd;
    event->latency_ms = (double) (zclock_usecs () - req->submit_us) / 1000.0;
    s_fill_error (self, event);
    if (code == ZC_ERR_TIMEOUT && self->cert && !self->heard)
        /* nothing heard since: a wrong key fails the handshake without a word */
        event->error = "no reply from the server (nothing heard at all: is ZCHAT_SERVER_KEY "
                       "the cluster's server.cert? is the cluster up?)";
    s_req_free (self, req);
    return ZCC_EV_REPLY;
}

/* Per-request timers; returns an event for at most one request per call. */
static zcc_event_type_t s_scan (zcc_t *self, int64_t now, zcc_event_t *event)
{
    int64_t next = INT64_MAX;
    for (uint32_t i = 0; i <= self->max_inflight; i++) {
        zcc_req_t *req = &self->reqs [i];
        if (!req->used)
            continue;
        if (req->failed != ZC_OK || (req->deadline_ms && now >= req->deadline_ms)) {
            self->scan_ms = now;        /* others may be due too */
            return s_local_reply (self, req,
                                  req->failed != ZC_OK ? req->failed : ZC_ERR_TIMEOUT, event);
        }
        if (req->deadline_ms && req->deadline_ms < next)
            next = req->deadline_ms;
        if (self->switch_ms)
            continue;           /* the switch resends everything and rearms these */
        if (req->resend_ms && now >= req->resend_ms)
            s_req_send (self, req);
        if (req->sent_ms && now >= req->sent_ms + self->request_timeout_ms) {
            s_schedule_switch (self, NULL, 0);
            continue;
        }
        if (req->resend_ms && req->resend_ms < next)
            next = req->resend_ms;
        if (req->sent_ms && req->sent_ms + self->request_timeout_ms < next)
            next = req->sent_ms + self->request_timeout_ms;
    }
    self->scan_ms = next;
    return ZCC_EV_NONE;
}

static zcc_event_type_t s_timers (zcc_t *self, int64_t now, zcc_event_t *event)
{
    if (self->switch_ms && now >= self->switch_ms)
        s_do_switch (self);
    if (now >= self->scan_ms) {
        zcc_event_type_t type = s_scan (self, now, event);
        if (type != ZCC_EV_NONE)
            return type;
    }
    if (self->bound && self->shown > self->acked
        && now >= self->unacked_ms + ZCC_ACK_INTERVAL_MS && !self->switch_ms)
        s_send_ack (self);
    if (self->sock && now >= self->last_send_ms + ZCC_PING_IDLE_MS)
        s_send_ping (self);
    /* A bound session hears nothing when its server died: an unanswered ping says so. */
    if (self->bound && self->ping_ms && now >= self->ping_ms + self->request_timeout_ms
        && self->last_recv_ms < self->ping_ms)
        s_schedule_switch (self, NULL, 0);
    return ZCC_EV_NONE;
}

static int64_t s_next_timer (zcc_t *self)
{
    int64_t next = self->scan_ms;
    if (self->switch_ms && self->switch_ms < next)
        next = self->switch_ms;
    if (self->bound && self->shown > self->acked
        && self->unacked_ms + ZCC_ACK_INTERVAL_MS < next)
        next = self->unacked_ms + ZCC_ACK_INTERVAL_MS;
    if (self->sock && self->last_send_ms + ZCC_PING_IDLE_MS < next)
        next = self->last_send_ms + ZCC_PING_IDLE_MS;
    if (self->bound && self->ping_ms && self->ping_ms + self->request_timeout_ms < next)
        next = self->ping_ms + self->request_timeout_ms;
    return next;
}

static zcc_req_t *s_req_find (zcc_t *self, uint64_t seq)
{
    for (uint32_t i = 0; i <= self->max_inflight; i++)
        if (self->reqs [i].used && self->reqs [i].seq == seq)
            return &self->reqs [i];
    return NULL;
}

/* Append a LIST frame's names; false when out of memory or over the bound. */
static bool s_list_append (zcc_req_t *req, const zc_frame_t *f)
{
    for (uint32_t i = 0; i < f->n_users; i++) {
        if (req->n_users >= ZCC_LIST_MAX_USERS)
            return false;
        if (req->n_users == req->cap_users) {
            uint32_t cap = req->cap_users ? req->cap_users * 2 : 64;
            char **users = realloc (req->users, cap * sizeof *users);
            if (!users)
                return false;
            req->users = users;
            req->cap_users = cap;
        }
        char *name = strndup (f->users [i].ptr, f->users [i].len);
        if (!name)
            return false;
        req->users [req->n_users++] = name;
    }
    return true;
}

static void s_unbind (zcc_t *self)
{
    self->bound = false;
    explicit_bzero (self->secret, sizeof self->secret);
    self->shown = self->acked = 0;
    s_drop_reconnect (self);
}

static void s_bind (zcc_t *self, zcc_req_t *req, const zc_frame_t *f)
{
    bool same = self->bound && strcmp (self->user, req->name) == 0 && self->epoch == f->epoch;
    if (!same)
        self->shown = 0;
    self->bound = true;
    snprintf (self->user, sizeof self->user, "%s", req->name);
    snprintf (self->secret, sizeof self->secret, "%s", req->secret);
    self->epoch = f->epoch;
    self->acked = 0;            /* re-ack what was shown to the new session */
    self->unacked_ms = 0;
    if (req->first_gen != self->conn_gen && !req->internal) {
        /* Sent on an earlier connection too: the server may have bound that one. */
        s_reconnect (self);
    }
}

/* The internal re-CONNECT's answer: silent unless the user is gone. */
static zcc_event_type_t s_on_reconnect (zcc_t *self, zcc_req_t *req, const zc_frame_t *f,
                                        zcc_event_t *event)
{
    bool ours = self->bound && strcmp (req->name, self->user) == 0;
    bool deleted = f->cmd == ZC_CMD_ERROR ? f->code == ZC_ERR_NO_SUCH_USER
                                          : f->epoch != self->epoch;
    s_req_free (self, req);
    s_resend (self, true);      /* the SENDs held while it was on its way */
    if (!ours || (f->cmd == ZC_CMD_REPLY && !deleted)) {
        self->acked = 0;        /* resumed: re-ack what was shown */
        self->unacked_ms = 0;
        return ZCC_EV_NONE;
    }
    event->type = ZCC_EV_CLOSED;
    event->code = deleted ? ZC_ERR_USER_DELETED : (zc_code_t) f->code;
    event->frame = *f;
    s_fill_error (self, event);
    s_unbind (self);
    return ZCC_EV_CLOSED;
}

static bool s_bytes_eq (zc_bytes_t b, const char *s)
{
    return b.len == strlen (s) && (b.len == 0 || memcmp (b.ptr, s, b.len) == 0);
}

/* ERRORs that mean "try again elsewhere or later"; true if handled. */
static bool s_on_retryable (zcc_t *self, zcc_req_t *req, const zc_frame_t *f)
{
    if (f->cmd != ZC_CMD_ERROR)
        return false;
    if (f->code == ZC_ERR_NOT_LEADER) {
        bool hint = (f->fields & ZC_F_LEADER) && f->leader.len > 0
                 && !s_bytes_eq (f->leader, self->current);
        s_schedule_switch (self, hint ? f->leader.ptr : NULL, hint ? f->leader.len : 0);
        return true;
    }
    if (f->code == ZC_ERR_UNAVAILABLE) {
        s_schedule_switch (self, NULL, 0);
        return true;
    }
    if (f->code == ZC_ERR_BUSY) {
        /* The leader is overloaded: another server would only redirect us back. */
        req->sent_ms = 0;
        req->resend_ms = s_now_ms () + s_jitter (self, self->backoff_ms);
        if (req->resend_ms < self->scan_ms)
            self->scan_ms = req->resend_ms;
        return true;
    }
    return false;
}

/* An ERROR about our session rather than a request (re ACK, PING or CONNECT): the
   server we talk to lost it (restarted, or not the leader). Resume it: follow the
   leader, or CONNECT again here. */
static void s_on_session_error (zcc_t *self, const zc_frame_t *f)
{
    if (f->cmd != ZC_CMD_ERROR || !(f->fields & ZC_F_RE) || !self->bound
        || (f->re != ZC_CMD_ACK && f->re != ZC_CMD_PING && f->re != ZC_CMD_CONNECT))
        return;
    if (s_on_retryable (self, NULL, f))
        return;
    zcc_req_t *internal = &self->reqs [self->max_inflight];
    if (f->code == ZC_ERR_NOT_CONNECTED && !internal->used)
        s_submit (self, ZC_CMD_CONNECT, self->user, NULL, self->secret, NULL, true);
}

static zcc_event_type_t s_on_reply (zcc_t *self, const zc_frame_t *f, zcc_event_t *event)
{
    zcc_req_t *req = (f->fields & ZC_F_SEQ) && f->seq ? s_req_find (self, f->seq) : NULL;
    if (!req) {
        s_on_session_error (self, f);
        return ZCC_EV_NONE;     /* late duplicate or not ours */
    }
    if ((f->fields & ZC_F_RE) && f->re != req->cmd)
        return ZCC_EV_NONE;
    if (s_on_retryable (self, req, f))
        return ZCC_EV_NONE;
    self->backoff_ms = ZCC_BACKOFF_MIN_MS;
    self->redirects = 0;
    if (req->cmd == ZC_CMD_LIST && f->cmd == ZC_CMD_REPLY) {
        if (!s_list_append (req, f)) {
            req->failed = ZC_ERR_TOO_LARGE;
            self->scan_ms = 0;
            return ZCC_EV_NONE;
        }
        if (f->more) {
            req->sent_ms = s_now_ms ();     /* progress: not a timeout */
            return ZCC_EV_NONE;
        }
    }
    if (req->internal)
        return s_on_reconnect (self, req, f, event);
    if (req->cmd == ZC_CMD_CONNECT && f->cmd == ZC_CMD_REPLY)
        s_bind (self, req, f);
    event->type = ZCC_EV_REPLY;
    event->seq = req->seq;
    event->re = req->cmd;
    event->code = f->cmd == ZC_CMD_REPLY ? ZC_OK : (zc_code_t) f->code;
    event->frame = *f;
    event->latency_ms = (double) (zclock_usecs () - req->submit_us) / 1000.0;
    event->users = req->users;
    event->n_users = req->n_users;
    req->users = NULL;          /* ownership moves to the event */
    req->n_users = 0;
    s_fill_error (self, event);
    s_req_free (self, req);
    return ZCC_EV_REPLY;
}

static zcc_event_type_t s_on_message (zcc_t *self, const zc_frame_t *f, zcc_event_t *event)
{
    if (!self->bound || !s_bytes_eq (f->name, self->user) || f->epoch != self->epoch)
        return ZCC_EV_NONE;     /* for a session we no longer have */
    if (f->mseq <= self->shown) {
        /* Pushed again although we acked it: the server's session never saw that ack
           (a new session, or the ack was lost). Without a new ack its window stays
           full of what we drop, and delivery stops; so say it again, at most once per
           ack interval. */
        int64_t now = s_now_ms ();
        if (f->mseq <= self->acked && now - self->reack_ms >= ZCC_ACK_INTERVAL_MS) {
            self->reack_ms = now;
            s_send_ack (self);
        }
        return ZCC_EV_NONE;
    }
    if (self->in_call && self->fifo_msgs >= ZCC_FIFO_MSGS)
        return ZCC_EV_NONE;     /* not shown, not acked: the server redelivers it */
    if (self->shown == self->acked)
        self->unacked_ms = s_now_ms ();     /* batch acks for up to the interval */
    self->shown = f->mseq;
    if (self->shown - self->acked >= ZCC_ACK_BATCH)
        s_send_ack (self);
    event->type = ZCC_EV_MESSAGE;
    event->frame = *f;
    event->error = "";
    return ZCC_EV_MESSAGE;
}

static zcc_event_type_t s_on_closed (zcc_t *self, const zc_frame_t *f, zcc_event_t *event)
{
    if (!self->bound || !s_bytes_eq (f->name, self->user))
        return ZCC_EV_NONE;
    event->type = ZCC_EV_CLOSED;
    event->code = (zc_code_t) f->code;
    event->frame = *f;
    s_fill_error (self, event);
    if (event->code == ZC_OK)
        event->error = "";
    s_unbind (self);
    return ZCC_EV_CLOSED;
}

/* Receive one frame from the DEALER, if one is there (*got), and turn it into at most
   one event. */
static zcc_event_type_t s_recv (zcc_t *self, zcc_event_t *event, bool *got)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    void *handle = zsock_resolve (self->sock);
    *got = zmq_msg_recv (&msg, handle, ZMQ_DONTWAIT) >= 0;
    if (!*got) {
        zmq_msg_close (&msg);
        return ZCC_EV_NONE;
    }
    bool multipart = zmq_msg_more (&msg);
    size_t len = zmq_msg_size (&msg);
    if (!multipart && len <= ZC_FRAME_MAX) {
        memcpy (self->rx, zmq_msg_data (&msg), len);
        self->rx_len = len;
    }
    while (zmq_msg_more (&msg))     /* the protocol has one part: drop the rest */
        if (zmq_msg_recv (&msg, handle, ZMQ_DONTWAIT) < 0)
            break;
    zmq_msg_close (&msg);
    self->last_recv_ms = s_now_ms ();
    self->ping_ms = 0;
    self->heard = true;
    zc_frame_t f;
    if (multipart || len > ZC_FRAME_MAX || zc_frame_decode (self->rx, len, &f) != ZC_OK)
        return ZCC_EV_NONE;
    memset (event, 0, sizeof *event);
    switch (f.cmd) {
        case ZC_CMD_REPLY:
        case ZC_CMD_ERROR:   return s_on_reply (self, &f, event);
        case ZC_CMD_MESSAGE: return s_on_message (self, &f, event);
        case ZC_CMD_CLOSED:  return s_on_closed (self, &f, event);
        default:             return ZCC_EV_NONE;
    }
}

/* Run timers and the socket until an event, fd readiness or the timeout. */
static zcc_event_type_t s_wait (zcc_t *self, int timeout_ms, int fd, zcc_event_t *event)
{
    int64_t end = timeout_ms < 0 ? INT64_MAX : s_now_ms () + timeout_ms;
    memset (event, 0, sizeof *event);
    while (true) {
        int64_t now = s_now_ms ();
        zcc_event_type_t type = s_timers (self, now, event);
        if (type != ZCC_EV_NONE)
            return type;
        /* Under load a frame is usually waiting already: take it without the poll
           syscall, but poll now and then so that the caller's fd is not starved. */
        if (self->sock && self->recv_streak < ZCC_RECV_STREAK) {
            bool got;
            type = s_recv (self, event, &got);
            if (got) {
                self->recv_streak++;
                if (type != ZCC_EV_NONE)
                    return type;
                continue;
            }
        }
        self->recv_streak = 0;
        int64_t wake = s_next_timer (self);
        if (end < wake)
            wake = end;
        long wait_ms = wake <= now ? 0 : (long) (wake - now);
        zmq_pollitem_t items [2];
        int n = 0, sock_at = -1, fd_at = -1;
        if (self->sock) {
            items [n] = (zmq_pollitem_t) { zsock_resolve (self->sock), 0, ZMQ_POLLIN, 0 };
            sock_at = n++;
        }
        if (fd >= 0) {
            items [n] = (zmq_pollitem_t) { NULL, fd, ZMQ_POLLIN, 0 };
            fd_at = n++;
        }
        if (zmq_poll (items, n, wait_ms) < 0)
            return ZCC_EV_NONE;     /* EINTR: let the caller look at its signals */
        if (sock_at >= 0 && (items [sock_at].revents & ZMQ_POLLIN)) {
            bool got;
            type = s_recv (self, event, &got);
            if (type != ZCC_EV_NONE)
                return type;
        }
        if (fd_at >= 0 && (items [fd_at].revents & (ZMQ_POLLIN | ZMQ_POLLERR))) {
            memset (event, 0, sizeof *event);
            event->type = ZCC_EV_FD;
            event->error = "";
            return ZCC_EV_FD;
        }
        if (s_now_ms () >= end)
            return ZCC_EV_NONE;
    }
}

static void s_fifo_pop (zcc_t *self, zcc_event_t *event)
{
    zcc_queued_t *q = &self->fifo [self->fifo_head];
    self->fifo_head = (self->fifo_head + 1) % self->fifo_cap;
    self->fifo_len--;
    *event = q->ev;
    if (event->type == ZCC_EV_MESSAGE)
        self->fifo_msgs--;
    if (q->raw_len) {
        memcpy (self->rx, q->raw, q->raw_len);
        zc_frame_decode (self->rx, q->raw_len, &event->frame);   /* decoded fine before */
    }
    s_fill_error (self, event);
    if (event->type == ZCC_EV_MESSAGE)
        event->error = "";
    self->ev_users = event->users;
    self->ev_n_users = event->n_users;
}

zcc_event_type_t zcc_poll (zcc_t *self, int timeout_ms, int fd, zcc_event_t *event)
{
    assert (self);
    assert (event);
    s_release_event (self);
    if (self->fifo_len) {
        s_fifo_pop (self, event);
        return event->type;
    }
    zcc_event_type_t type = s_wait (self, timeout_ms, fd, event);
    self->ev_users = event->users;
    self->ev_n_users = event->n_users;
    return type;
}

/* Keep an event for a later zcc_poll. Capacity covers every outstanding request's
   reply plus the messages s_on_message lets through, so nothing is ever dropped. */
static void s_fifo_push (zcc_t *self, const zcc_event_t *event)
{
    if (!self->fifo) {
        self->fifo_cap = self->max_inflight + ZCC_FIFO_MSGS + ZCC_FIFO_OTHER;
        self->fifo = calloc (self->fifo_cap, sizeof *self->fifo);
        if (!self->fifo) {
            self->fifo_cap = 0;
            return;
        }
    }
    if (self->fifo_len == self->fifo_cap) {
        s_users_free (event->users, event->n_users);
        return;
    }
    zcc_queued_t *q = &self->fifo [(self->fifo_head + self->fifo_len) % self->fifo_cap];
    self->fifo_len++;
    q->ev = *event;
    /* An ERROR from the wire always has a text (the decoder requires it). */
    bool synthetic = event->frame.cmd == ZC_CMD_ERROR && !(event->frame.fields & ZC_F_TEXT);
    q->raw_len = synthetic ? 0 : self->rx_len;
    if (q->raw_len)
        memcpy (q->raw, self->rx, q->raw_len);
    if (event->type == ZCC_EV_MESSAGE)
        self->fifo_msgs++;
}

zc_code_t zcc_call (zcc_t *self, zc_cmd_t cmd, const char *name, const char *text,
                    zcc_event_t *event)
{
    return zcc_call_with (self, cmd, name, text, NULL, NULL, event);
}

zc_code_t zcc_call_with (zcc_t *self, zc_cmd_t cmd, const char *name, const char *text,
                         const char *secret, const char *new_secret, zcc_event_t *event)
{
    assert (self);
    assert (event);
    s_release_event (self);
    memset (event, 0, sizeof *event);
    event->error = "";
    if (!s_is_request (cmd))
        return ZC_ERR_UNKNOWN_COMMAND;
    self->in_call = true;
    uint64_t seq;
    zcc_event_t other;
    while ((seq = s_submit (self, cmd, name, text, secret, new_secret, false)) == 0)
        if (s_wait (self, -1, -1, &other) != ZCC_EV_NONE)
            s_fifo_push (self, &other);
    while (true) {
        zcc_event_type_t type = s_wait (self, -1, -1, event);
        if (type == ZCC_EV_REPLY && event->seq == seq)
            break;
        if (type != ZCC_EV_NONE)
            s_fifo_push (self, event);
    }
    self->in_call = false;
    self->ev_users = event->users;
    self->ev_n_users = event->n_users;
    return event->code;
}

uint32_t zcc_inflight (const zcc_t *self)
{
    assert (self);
    return self->n_inflight;
}

uint64_t zcc_client_id (const zcc_t *self)
{
    assert (self);
    return self->cid;
}

const char *zcc_current_server (const zcc_t *self)
{
    assert (self);
    return self->current;
}
