/*  zcc_conn.c - the server list, the one DEALER and when to move to another server.

    Invariants: the DEALER is connected to exactly one server. Switching destroys it and
    makes a new one, so a reply sent on an old connection can never arrive later. Retries
    of a silent server back off exponentially with jitter; a leader hint is followed at
    once, but only n_servers + 1 times in a row before it backs off too. */
#include <inttypes.h>
#include <stdatomic.h>
#include <unistd.h>
#include <sys/random.h>
#include "zcc_internal.h"

#define ZCC_DEFAULT_SERVERS "127.0.0.1:7001,127.0.0.1:7004,127.0.0.1:7007"

static uint64_t
s_rand (zcc_t *self)
{
    uint64_t x = self->conn.rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    self->conn.rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Half of the delay fixed, half random: retries of many clients spread out. */
int64_t
zcc_conn_jitter (zcc_t *self, uint32_t ms)
{
    return ms / 2 + (int64_t) (s_rand (self) % (ms / 2 + 1));
}

uint64_t
zcc_conn_random_id (void)
{
    uint64_t id = 0;
    while (id == 0) {
        if (getrandom (&id, sizeof id, 0) != (ssize_t) sizeof id)
            id = (uint64_t) zclock_usecs () * 0x9E3779B97F4A7C15ULL ^ (uint64_t) getpid ();
    }
    return id;
}

/* "host:port" with a non-empty host and a port 1..65535. */
static bool
s_addr_valid (const char *addr, size_t len)
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

static int
s_parse_servers (zcc_conn_t *conn, const char *list)
{
    const char *p = list;
    while (true) {
        while (*p == ' ')
            p++;
        const char *end = strchr (p, ',');
        size_t len = end ? (size_t) (end - p) : strlen (p);
        while (len > 0 && p [len - 1] == ' ')
            len--;
        if (!s_addr_valid (p, len) || conn->n_servers == ZCC_MAX_SERVERS) {
            fprintf (stderr,
                     "zcc: bad server list '%s': expected host:port[,host:port...]"
                     " (at most %d)\n",
                     list, ZCC_MAX_SERVERS);
            return -1;
        }
        memcpy (conn->servers [conn->n_servers], p, len);
        conn->servers [conn->n_servers++][len] = 0;
        if (!end)
            return 0;
        p = end + 1;
    }
}

static bool
s_env_true (const char *name)
{
    const char *v = getenv (name);
    return v && (!strcmp (v, "1") || !strcmp (v, "true") || !strcmp (v, "yes"));
}

/* The cluster's key from the options or $ZCHAT_SERVER_KEY: Z85 text, or a certificate
   file. -1 (with a message) when there is none. */
static int
s_server_key (zcc_conn_t *conn, const zcc_options_t *options)
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
        memcpy (conn->server_key, key, 41);
        return 0;
    }
    zcert_t *cert = zcert_load (key);
    if (!cert) {
        fprintf (stderr,
                 "zcc: server key '%s' is neither a 40-character Z85 key nor a "
                 "readable certificate file\n",
                 key);
        return -1;
    }
    snprintf (conn->server_key, sizeof conn->server_key, "%s", zcert_public_txt (cert));
    zcert_destroy (&cert);
    return 0;
}

/* Stop watching the DEALER and close it. */
static void
s_close (zcc_conn_t *conn)
{
    if (conn->monitor) {
        zmq_socket_monitor (zsock_resolve (conn->sock), NULL, 0);
        zsock_destroy (&conn->monitor);
    }
    zsock_destroy (&conn->sock);
}

/* Watch the DEALER for DISCONNECTED: a server that died or restarted (or, with
   heartbeats on, went silent) is then left at once, not after a PING goes unanswered.
   Without the monitor the unanswered PING still says so, later. */
static void
s_watch (zcc_t *self)
{
    static atomic_uint_fast64_t monitors; /* names are never reused in this process */
    zcc_conn_t *conn = &self->conn;
    char endpoint [80];
    snprintf (endpoint, sizeof endpoint, "inproc://zcc-monitor-%d-%" PRIu64, (int) getpid (),
              (uint64_t) atomic_fetch_add (&monitors, 1));
    if (zmq_socket_monitor (zsock_resolve (conn->sock), endpoint, ZMQ_EVENT_DISCONNECTED) != 0)
        return;
    conn->monitor = zsock_new (ZMQ_PAIR);
    if (conn->monitor && zsock_connect (conn->monitor, "%s", endpoint) == 0)
        return;
    zmq_socket_monitor (zsock_resolve (conn->sock), NULL, 0);
    zsock_destroy (&conn->monitor);
}

/* The monitor's socket to poll, or NULL. */
void *
zcc_conn_monitor (const zcc_t *self)
{
    return self->conn.monitor ? zsock_resolve (self->conn.monitor) : NULL;
}

/* True when the monitor reported a disconnect since the last call (events drained). */
bool
zcc_conn_dropped (zcc_t *self)
{
    void *monitor = zcc_conn_monitor (self);
    bool dropped = false;
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    while (monitor && zmq_msg_recv (&msg, monitor, ZMQ_DONTWAIT) >= 0) {
        uint16_t event = 0; /* event: [u16 event, u32 value][endpoint] */
        if (zmq_msg_size (&msg) >= sizeof event)
            memcpy (&event, zmq_msg_data (&msg), sizeof event);
        dropped |= event == ZMQ_EVENT_DISCONNECTED;
        while (zmq_msg_more (&msg) && zmq_msg_recv (&msg, monitor, 0) >= 0)
            ;
    }
    zmq_msg_close (&msg);
    return dropped;
}

/* Replace the DEALER by a new one connected to addr. */
static void
s_connect (zcc_t *self, const char *addr)
{
    zcc_conn_t *conn = &self->conn;
    s_close (conn);
    conn->gen++;
    snprintf (conn->current, sizeof conn->current, "%s", addr);
    conn->sock = zsock_new (ZMQ_DEALER);
    if (!conn->sock)
        return; /* out of sockets: requests time out and we retry */
    zsock_set_linger (conn->sock, 0);
    zsock_set_maxmsgsize (conn->sock, ZC_FRAME_MAX);
    /* a random routing id: the server binds a session to it, so it must be unguessable
       (libzmq's own ids count up); non-zero first byte, as libzmq reserves 0 */
    uint8_t id [16];
    if (getrandom (id, sizeof id, 0) != (ssize_t) sizeof id)
        for (size_t i = 0; i < sizeof id; i++)
            id [i] = (uint8_t) s_rand (self);
    id [0] |= 1;
    zmq_setsockopt (zsock_resolve (conn->sock), ZMQ_ROUTING_ID, id, sizeof id);
    if (conn->cert) {
        zcert_apply (conn->cert, conn->sock);
        zsock_set_curve_serverkey (conn->sock, conn->server_key);
    }
    zsock_set_sndhwm (conn->sock, ZCC_SOCK_HWM);
    zsock_set_rcvhwm (conn->sock, ZCC_SOCK_HWM);
    if (conn->heartbeat_ms) {
        /* ZMTP heartbeats: libzmq drops a connection that answers none for 3 intervals,
           and the TTL lets the server's libzmq drop ours when we fall silent as long */
        zsock_set_heartbeat_ivl (conn->sock, (int) conn->heartbeat_ms);
        zsock_set_heartbeat_timeout (conn->sock, (int) (3 * conn->heartbeat_ms));
        zsock_set_heartbeat_ttl (conn->sock, (int) (3 * conn->heartbeat_ms));
    }
    s_watch (self);
    if (zsock_connect (conn->sock, "tcp://%s", addr) != 0)
        zsys_warning ("zcc: cannot connect to %s", addr);
    conn->ping_ms = 0;
    conn->last_recv_ms = zcc_now_ms ();
}

/* Parse the server list, load the key and connect to the first server. -1 (with a
   message) when the list or the key is bad. */
int
zcc_conn_init (zcc_t *self, const zcc_options_t *options)
{
    zcc_conn_t *conn = &self->conn;
    const char *list = options->servers;
    if (!list || !*list)
        list = getenv ("ZCHAT_SERVERS");
    if (!list || !*list)
        list = ZCC_DEFAULT_SERVERS;
    if (s_parse_servers (conn, list) != 0)
        return -1;
    conn->rng = zcc_conn_random_id ();
    conn->heartbeat_ms = options->heartbeat_ms;
    conn->ping_idle_ms = options->ping_ms ? options->ping_ms : ZCC_PING_IDLE_MS;
    if (!options->insecure && !s_env_true ("ZCHAT_INSECURE")
        && (s_server_key (conn, options) != 0 || !(conn->cert = zcert_new ())))
        return -1;
    conn->backoff_ms = ZCC_BACKOFF_MIN_MS;
    s_connect (self, conn->servers [0]);
    return 0;
}

void
zcc_conn_destroy (zcc_t *self)
{
    s_close (&self->conn);
    zcert_destroy (&self->conn.cert);
}

void
zcc_conn_send_bytes (zcc_t *self, const uint8_t *buf, size_t len)
{
    self->conn.last_send_ms = zcc_now_ms ();
    if (self->conn.sock) /* a full pipe drops it: the request timer retries */
        zmq_send (zsock_resolve (self->conn.sock), buf, len, ZMQ_DONTWAIT);
}

void
zcc_conn_send_frame (zcc_t *self, const zc_frame_t *frame)
{
    uint8_t buf [ZC_FRAME_MAX];
    size_t len;
    if (zc_frame_encode (frame, buf, sizeof buf, &len) == ZC_OK)
        zcc_conn_send_bytes (self, buf, len);
}

/* A frame arrived: the server is alive. */
void
zcc_conn_heard (zcc_t *self)
{
    self->conn.last_recv_ms = zcc_now_ms ();
    self->conn.ping_ms = 0;
    self->conn.heard = true;
}

/* A request got its answer: the next trouble starts from the shortest backoff. */
void
zcc_conn_good_reply (zcc_t *self)
{
    self->conn.backoff_ms = ZCC_BACKOFF_MIN_MS;
    self->conn.redirects = 0;
}

/* True (and kept for zcc_conn_redirect) when a NOT_LEADER names a server we can go to. */
bool
zcc_conn_leader_hint (zcc_t *self, const zc_frame_t *f)
{
    zc_bytes_t leader = f->leader;
    if (!(f->fields & ZC_F_LEADER) || !s_addr_valid (leader.ptr, leader.len)
        || (leader.len == strlen (self->conn.current)
            && memcmp (leader.ptr, self->conn.current, leader.len) == 0))
        return false;
    memcpy (self->conn.hint, leader.ptr, leader.len);
    self->conn.hint [leader.len] = 0;
    return true;
}

static void
s_arm (zcc_t *self, int64_t delay_ms, const char *to)
{
    self->conn.switch_ms = zcc_now_ms () + delay_ms;
    if (self->conn.switch_ms == 0)
        self->conn.switch_ms = 1;
    snprintf (self->conn.switch_to, sizeof self->conn.switch_to, "%s", to);
}

static int64_t
s_backoff_delay (zcc_t *self)
{
    int64_t delay = zcc_conn_jitter (self, self->conn.backoff_ms);
    self->conn.backoff_ms = self->conn.backoff_ms * 2 > ZCC_BACKOFF_MAX_MS
                                ? ZCC_BACKOFF_MAX_MS
                                : self->conn.backoff_ms * 2;
    return delay;
}

/* Arm a switch to the next server of the list after the backoff, which then doubles. */
void
zcc_conn_backoff (zcc_t *self)
{
    s_arm (self, s_backoff_delay (self), "");
}

/* Arm a switch to the hinted leader: at once, unless the hints go round in circles. */
void
zcc_conn_redirect (zcc_t *self)
{
    int64_t delay = ++self->conn.redirects <= self->conn.n_servers + 1 ? 0 : s_backoff_delay (self);
    s_arm (self, delay, self->conn.hint);
}

/* Connect to the server the armed switch names. */
void
zcc_conn_switch (zcc_t *self)
{
    zcc_conn_t *conn = &self->conn;
    const char *target = conn->switch_to;
    if (!*target) {
        conn->server_idx = (conn->server_idx + 1) % conn->n_servers;
        target = conn->servers [conn->server_idx];
    }
    else
        for (uint32_t i = 0; i < conn->n_servers; i++)
            if (strcmp (conn->servers [i], target) == 0)
                conn->server_idx = i;
    char addr [ZCC_ADDR_MAX];
    snprintf (addr, sizeof addr, "%s", target);
    conn->switch_ms = 0;
    conn->switch_to [0] = 0;
    s_connect (self, addr);
}

/* How long a PING may go unanswered. Not just the request timeout: a dead server's
   connection usually drops (zcc_conn_dropped), and a leader busy for a second (a
   burst of thousands of logins) must not send every idle session elsewhere at once,
   each leaving a connection behind and adding a handshake to the burst. */
static int64_t
s_ping_patience (const zcc_t *self)
{
    return self->reqs.timeout_ms > ZCC_PING_PATIENCE_MS ? self->reqs.timeout_ms
                                                        : ZCC_PING_PATIENCE_MS;
}

/* The idle ping and the verdict on an unanswered one. */
void
zcc_conn_timers (zcc_t *self, int64_t now)
{
    zcc_conn_t *conn = &self->conn;
    if (conn->sock && now >= conn->last_send_ms + conn->ping_idle_ms) {
        zc_frame_t f;
        zcc_session_ping (self, &f);
        zcc_conn_send_frame (self, &f);
        if (!conn->ping_ms)
            conn->ping_ms = now; /* the oldest unanswered ping */
    }
    /* A bound session hears nothing when its server died: an unanswered ping says so. */
    if (zcc_fsm_bound (self) && conn->ping_ms && now >= conn->ping_ms + s_ping_patience (self)
        && conn->last_recv_ms < conn->ping_ms)
        zcc_fsm_execute (self, ZCC_IN_SILENCE);
}

int64_t
zcc_conn_next_timer (const zcc_t *self, int64_t next)
{
    const zcc_conn_t *conn = &self->conn;
    if (zcc_fsm_moving (self) && conn->switch_ms < next)
        next = conn->switch_ms;
    if (conn->sock && conn->last_send_ms + conn->ping_idle_ms < next)
        next = conn->last_send_ms + conn->ping_idle_ms;
    if (zcc_fsm_bound (self) && conn->ping_ms && conn->ping_ms + s_ping_patience (self) < next)
        next = conn->ping_ms + s_ping_patience (self);
    return next;
}
