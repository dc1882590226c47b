/*  server.c - the broker's one event loop. Per turn: drain the sockets (bounded), tick
    the core, run the ready cycle (one fdatasync covers every proposal of the turn:
    group commit), then push to sessions. Replies are sent only after the entry they
    answer is committed and applied; a read only after its ReadIndex is confirmed. */
#include "server_internal.h"
#include "advertise.h"
#include "blog.h"
#include "restore.h"
#include <sodium.h>

#define DRAIN_CLIENT_MAX 4096
#define DRAIN_PEER_MAX   1024
#define POLL_MS          5
#define SWEEP_MS         500
#define DEALER_CHECK_MS  5     /* a peer that answers on our DEALER waits at most this */
#define CLIENT_MAXMSG    65536 /* larger is dropped by libzmq; up to this gets TOO_LARGE */
#define CLIENT_SNDHWM    8192  /* a full LIST of 100,000 users is 4,167 frames */

static void
s_dispatch (server_t *self, conn_t *conn, const zc_frame_t *frame)
{
    if ((frame->fields & ZC_F_CID) && frame->cid == 0) {
        /* cid 0 marks entries that are no client's request: it would never be answered */
        server_error_about (self, conn->id, conn->len, frame->cmd, frame->seq, ZC_ERR_BAD_CLIENT_ID,
                            NULL, 0);
        return;
    }
    switch (frame->cmd) {
        case ZC_CMD_PING: {
            if ((frame->fields & ZC_F_NAME) && !server_session_matches (conn->session, frame)) {
                /* the client believes in a session we do not have: make it resume */
                if (self->leader)
                    server_error_about (self, conn->id, conn->len, ZC_CMD_PING, 0,
                                        ZC_ERR_NOT_CONNECTED, NULL, 0);
                else
                    server_redirect (self, conn->id, conn->len, ZC_CMD_PING, 0);
                return;
            }
            zc_frame_t pong;
            zc_frame_init (&pong, ZC_CMD_PONG);
            pong.fields = ZC_F_TS;
            pong.ts = (uint64_t) zclock_time ();
            server_send (self, conn->id, conn->len, &pong);
            return;
        }
        case ZC_CMD_STATUS: server_status (self, conn, frame); return;
        case ZC_CMD_REPLY:
        case ZC_CMD_ERROR:
        case ZC_CMD_MESSAGE:
        case ZC_CMD_PONG:
        case ZC_CMD_CLOSED:
        case ZC_CMD__COUNT:
            server_error_about (self, conn->id, conn->len, -1, frame->seq, ZC_ERR_UNKNOWN_COMMAND,
                                NULL, 0);
            return;
        default: break;
    }
    if (!self->leader) {
        server_redirect (self, conn->id, conn->len, frame->cmd, frame->seq);
        return;
    }
    if (frame->cmd == ZC_CMD_ACK)
        server_handle_ack (self, conn, frame);
    else if (frame->cmd == ZC_CMD_LIST)
        server_start_list (self, conn, frame);
    else if (frame->cmd == ZC_CMD_TRANSFER)
        admin_transfer (self, conn, frame);
    else if (frame->cmd == ZC_CMD_MEMBERS)
        admin_members_request (self, conn, frame);
    else if (frame->cmd == ZC_CMD_BACKUP)
        backup_request (self, conn, frame);
    else
        server_propose_request (self, conn, frame);
}

/* One client message: [routing id][frame]. Anything else is answered, never trusted.
   parts counts the message's parts (ROUTER adds the routing id). Returns true when the
   frame carried a secret (the caller wipes the buffer). */
static bool
s_client_message (server_t *self, const uint8_t *routing, size_t routing_len, const uint8_t *body,
                  size_t body_len, int parts)
{
    if (routing_len == 0 || routing_len > ROUTING_ID_MAX)
        return parts >= 2;
    zc_code_t code = ZC_OK;
    zc_frame_t frame;
    if (parts != 2)
        code = ZC_ERR_BAD_TYPE; /* one frame per message */
    else if (body_len > ZC_FRAME_MAX)
        code = ZC_ERR_TOO_LARGE;
    else
        code = zc_frame_decode (body, body_len, &frame);
    if (code != ZC_OK) {
        server_error_about (self, routing, routing_len, -1, 0, code, NULL, 0);
        return parts >= 2;
    }
    conn_t *conn = sessions_touch (self->sessions, routing, routing_len, self->now_ms);
    if (!conn) /* answered with the request's own seq, so the client can match it */
        server_error_about (self, routing, routing_len, frame.cmd, frame.seq,
                            ZC_ERR_TOO_MANY_CLIENTS, NULL, 0);
    else
        s_dispatch (self, conn, &frame);
    return (frame.fields & (ZC_F_SECRET | ZC_F_NEW_SECRET)) != 0;
}

/* ---- life cycle and the loop */

server_t *
server_new (const config_t *config)
{
    server_t *self = (server_t *) zmalloc (sizeof (server_t));
    self->config = config;
    self->now_ms = (uint64_t) zclock_mono ();
    self->sessions = sessions_new (config->max_connections);
    self->admission = admission_new (config->max_connections);
    self->throttle = auth_throttle_new ();
    self->chat = chat_new (&config->limits);
    char err [512] = "";
    self->curve = curve_new (config, err, sizeof err);
    if (!self->curve) {
        blog ("keys_unusable", "keys=%s reason=\"%s\"", config->keys_dir, err);
        server_destroy (&self);
        return NULL;
    }
    self->backup = backup_new ();
    self->members_admin = admin_members_new ();
    self->admin = admin_new (config, err, sizeof err);
    if (!self->admin) {
        blog ("admin_unusable", "reason=\"%s\"", err);
        server_destroy (&self);
        return NULL;
    }
    self->auth = auth_worker_new (&config->auth);
    if (!self->auth) {
        blog ("auth_unusable", "reason=\"cannot start the secret-checking threads\"");
        server_destroy (&self);
        return NULL;
    }
    self->client_ctx = zmq_ctx_new ();
    self->clients = self->client_ctx ? zmq_socket (self->client_ctx, ZMQ_ROUTER) : NULL;
    const config_peer_t *me = config_self (config);
    if (self->clients) {
        curve_serve_clients (self->curve, self->clients);
        zsock_set_router_mandatory (self->clients, 1);
        /* per connection: a reply per request in flight plus the push window, with
           room; a client that does not read is then refused, not buffered for */
        zsock_set_sndhwm (self->clients, CLIENT_SNDHWM);
        zsock_set_rcvhwm (self->clients, 100000);
        zsock_set_maxmsgsize (self->clients, CLIENT_MAXMSG);
        zsock_set_linger (self->clients, 0);
        /* libzmq listens with a backlog of 100: a thousand clients reconnecting at once
           (a failover) overflow it, and each dropped SYN costs its client 1, 3, 7 s of
           TCP retries. Room for every connection we admit (the kernel caps it at
           net.core.somaxconn). */
        int backlog = config->max_connections < 100     ? 100
                      : config->max_connections > 65535 ? 65535
                                                        : (int) config->max_connections;
        zmq_setsockopt (self->clients, ZMQ_BACKLOG, &backlog, sizeof backlog);
    }
    char endpoint [300];
    snprintf (endpoint, sizeof endpoint, "tcp://%s:%u", config->bind_host, me->port);
    if (!self->clients || zmq_bind (self->clients, endpoint) < 0) {
        blog ("bind_failed", "port=%u reason=\"%s\"", me->port, zmq_strerror (zmq_errno ()));
        server_destroy (&self);
        return NULL;
    }
    self->peers = peers_new (config, self->curve);
    if (!self->peers) {
        server_destroy (&self);
        return NULL;
    }
    if (config->restore_file [0] && restore_seed (config, err, sizeof err)) {
        blog ("restore_failed", "backup=%s reason=\"%s\"", config->restore_file, err);
        server_destroy (&self);
        return NULL;
    }
    self->io = replica_io_host_new (config, self->peers, err, sizeof err);
    replica_io_t io = self->io ? replica_io_host_io (self->io) : (replica_io_t) { 0 };
    replica_fsm_t fsm = { self, server_fsm_apply, server_fsm_save, server_fsm_load };
    replica_hooks_t hooks = { server_on_read_ready, server_on_role };
    replica_config_t replica_config = {
        .raft = { .id = config->id,
                  .election_timeout_ms = config->election_timeout_ms,
                  .heartbeat_ms = config->heartbeat_ms,
                  .seed = self->now_ms ^ ((uint64_t) getpid () << 32) },
        .snapshot_entries = config->snapshot_entries,
        .name = config->data_dir,
        .advertise = config->advertise,
        .rejoin = config->rejoin,
        .join = config->join,
        .cluster_seed = curve_cluster_seed (self->curve)
    };
    randombytes_buf (&replica_config.incarnation_seed, sizeof replica_config.incarnation_seed);
    if (!config->join) /* a new cluster: every --peers entry votes */
        config_members (config, true, &replica_config.bootstrap);
    if (self->io)
        self->replica =
            replica_new (&replica_config, &io, &fsm, &hooks, self, self->now_ms, err, sizeof err);
    if (!self->replica) {
        /* the WAL says "refusing to start" of damage that --repair can cut */
        bool repairable = strstr (err, "refusing to start") && !config->repair;
        blog ("data_unusable", "data=%s reason=\"%s\"%s", config->data_dir, err,
              repairable ? " hint=\"zchat-broker --repair cuts the log at the damage"
                           " (README: Repairing a replica)\""
                         : "");
        server_destroy (&self);
        return NULL;
    }
    if (config->metrics_addr [0]) {
        self->metrics = metrics_new (config->metrics_addr, err, sizeof err);
        if (!self->metrics) {
            blog ("metrics_unusable", "reason=\"%s\"", err);
            server_destroy (&self);
            return NULL;
        }
        blog ("metrics", "url=http://%s/metrics", config->metrics_addr);
    }
    blog ("listening", "client_port=%u peer_ports=%u,%u replicas=%u curve=%s", me->port,
          me->port + 1, me->port + 2, config->n, curve_enabled (self->curve) ? "on" : "OFF");
    return self;
}

void
server_destroy (server_t **self_p)
{
    if (!*self_p)
        return;
    server_t *self = *self_p;
    metrics_destroy (&self->metrics);
    replica_destroy (&self->replica);
    replica_io_host_destroy (&self->io);
    peers_destroy (&self->peers);
    chat_destroy (&self->chat);
    if (self->clients)
        zmq_close (self->clients);
    if (self->client_ctx)
        zmq_ctx_term (self->client_ctx);
    auth_worker_destroy (&self->auth);
    curve_destroy (&self->curve);
    auth_throttle_destroy (&self->throttle);
    admin_destroy (&self->admin);
    admin_members_destroy (&self->members_admin);
    backup_destroy (&self->backup);
    admission_destroy (&self->admission);
    sessions_destroy (&self->sessions);
    free (self);
    *self_p = NULL;
}

static void
s_drain_peers (server_t *self, zsock_t *sock)
{
    for (int i = 0; i < DRAIN_PEER_MAX; i++) {
        zframe_t *frame = peers_recv (self->peers, sock);
        if (!frame)
            return;
        replica_peer_frame (self->replica, zframe_data (frame), zframe_size (frame), self->now_ms);
        zframe_destroy (&frame);
    }
}

/* Receive without allocating: the routing id and the body stay in zmq_msg_t's. */
static void
s_drain_clients (server_t *self)
{
    void *sock = self->clients;
    zmq_msg_t routing, body, extra;
    zmq_msg_init (&routing);
    zmq_msg_init (&body);
    zmq_msg_init (&extra);
    for (int i = 0; i < DRAIN_CLIENT_MAX; i++) {
        if (zmq_msg_recv (&routing, sock, ZMQ_DONTWAIT) < 0)
            break;
        int parts = 1;
        if (zmq_msg_more (&routing) && zmq_msg_recv (&body, sock, 0) >= 0)
            parts++;
        while (zmq_msg_more (parts == 1 ? &routing : &body)
               && zmq_msg_recv (&extra, sock, 0) >= 0) {
            parts++; /* drain a multi-part message: it is answered, not used */
            if (!zmq_msg_more (&extra))
                break;
        }
        bool secret = s_client_message (self, (const uint8_t *) zmq_msg_data (&routing),
                                        zmq_msg_size (&routing),
                                        parts >= 2 ? (const uint8_t *) zmq_msg_data (&body) : NULL,
                                        parts >= 2 ? zmq_msg_size (&body) : 0, parts);
        if (secret) /* the frame's copy of a secret must not linger in freed memory */
            explicit_bzero (zmq_msg_data (&body), zmq_msg_size (&body));
    }
    zmq_msg_close (&routing);
    zmq_msg_close (&body);
    zmq_msg_close (&extra);
}

int
server_run (server_t *self, volatile int *stop)
{
    zmq_pollitem_t items [3 + AUTH_THREADS_MAX] = {
        { self->clients, 0, ZMQ_POLLIN, 0 },
        { zsock_resolve (peers_sub (self->peers)), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve (peers_router (self->peers)), 0, ZMQ_POLLIN, 0 },
    };
    void *pipes [AUTH_THREADS_MAX];
    uint32_t n_pipes;
    auth_worker_pipes (self->auth, pipes, &n_pipes);
    for (uint32_t i = 0; i < n_pipes; i++)
        items [3 + i] = (zmq_pollitem_t) { pipes [i], 0, ZMQ_POLLIN, 0 };
    while (!*stop || !admin_may_stop (self)) {
        if (zmq_poll (items, 3 + (int) n_pipes, POLL_MS) < 0 && zmq_errno () != EINTR)
            break;
        self->now_ms = (uint64_t) zclock_mono ();
        self->proposed = false;
        /* only the sockets poll found readable: a receive that finds nothing costs
           libzmq two system calls (getpid, poll), and turns are many under load */
        if (items [1].revents & ZMQ_POLLIN)
            s_drain_peers (self, peers_sub (self->peers));
        if (items [2].revents & ZMQ_POLLIN)
            s_drain_peers (self, peers_router (self->peers));
        if (items [0].revents & ZMQ_POLLIN)
            s_drain_clients (self);
        if (self->now_ms - self->dealers_ms >= DEALER_CHECK_MS) {
            self->dealers_ms = self->now_ms; /* answers on them are rare: not polled */
            uint32_t cursor = 0;
            for (zsock_t *dealer; (dealer = peers_dealer (self->peers, &cursor));)
                s_drain_peers (self, dealer);
        }
        for (uint32_t i = 0; i < n_pipes; i++)
            if (items [3 + i].revents & ZMQ_POLLIN)
                login_drain (self, pipes [i]);
        server_propose_acks (self);
        replica_tick (self->replica, self->now_ms);
        if (replica_process (self->replica, self->now_ms) < 0) {
            blog ("stopping", "reason=\"storage failed: cannot promise durability\"");
            return -1;
        }
        server_pump_sessions (self);
        admin_tick (self);
        admin_members_tick (self);
        server_metrics_publish (self);
        if (self->now_ms - self->swept_ms >= SWEEP_MS) {
            self->swept_ms = self->now_ms;
            size_t expired =
                sessions_sweep (self->sessions, self->now_ms, self->config->session_timeout_ms);
            if (expired)
                blog ("clients_expired", "count=%zu", expired);
            if (self->throttled)
                blog ("auth_throttled", "refused=%llu", (unsigned long long) self->throttled);
            self->throttled = 0;
            auth_throttle_sweep (self->throttle, self->now_ms);
            backup_expire (self->backup, self->now_ms);
        }
    }
    blog ("stopping", "reason=signal");
    return 0;
}
