/*  peers.c - PUB/SUB fan-out and DEALER/ROUTER point-to-point between replicas. */
#include "peers.h"
#include <assert.h>
#include <stdlib.h>
#include "blog.h"

struct peers {
    uint32_t id;
    curve_t *curve;
    zsock_t *pub;
    zsock_t *sub;
    zsock_t *router;
    zsock_t *dealers [RAFT_MAX_ID + 1];    /* by peer id; NULL for self and non-members */
    char endpoints [RAFT_MAX_ID + 1][300]; /* the SUB's connection to each, "" = none */
};

/* Bounds on what a peer may make us buffer or allocate. */
#define PEER_HWM    10000
#define PEER_MAXMSG ((int64_t) RAFT_PEER_FRAME_MAX + 4096)

static void
s_limit (zsock_t *sock)
{
    zsock_set_sndhwm (sock, PEER_HWM);
    zsock_set_rcvhwm (sock, PEER_HWM);
    zsock_set_linger (sock, 0);
    zsock_set_maxmsgsize (sock, PEER_MAXMSG);
}

static zsock_t *
s_bind (curve_t *curve, int type, const char *host, uint16_t port)
{
    zsock_t *sock = zsock_new (type);
    if (!sock)
        return NULL;
    s_limit (sock);
    curve_serve_peers (curve, sock);
    if (zsock_bind (sock, "tcp://%s:%u", host, port) < 0) {
        blog ("bind_failed", "port=%u reason=\"%s\"", port, zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
    }
    return sock;
}

peers_t *
peers_new (const config_t *config, curve_t *curve)
{
    peers_t *self = (peers_t *) zmalloc (sizeof (peers_t));
    self->id = config->id;
    self->curve = curve;
    uint16_t port = config_self (config)->port;
    self->pub = s_bind (curve, ZMQ_PUB, config->bind_host, port + 1);
    self->router = s_bind (curve, ZMQ_ROUTER, config->bind_host, port + 2);
    if (self->router) /* a restarted peer's new connection takes its id over at once */
        zsock_set_router_handover (self->router, 1);
    self->sub = zsock_new (ZMQ_SUB);
    if (!self->pub || !self->router || !self->sub) {
        peers_destroy (&self);
        return NULL;
    }
    s_limit (self->sub);
    zsock_set_subscribe (self->sub, "");
    return self;
}

static void
s_drop (peers_t *self, uint32_t peer)
{
    if (self->endpoints [peer][0])
        zsock_disconnect (self->sub, "%s", self->endpoints [peer]);
    self->endpoints [peer][0] = 0;
    zsock_destroy (&self->dealers [peer]);
}

/* The endpoint offset ports above addr's ("host:port" of its client port): false
   when addr holds no usable port. */
static bool
s_endpoint (const char *addr, unsigned offset, char *out, size_t size)
{
    const char *colon = strrchr (addr, ':');
    unsigned port = colon ? (unsigned) atoi (colon + 1) : 0;
    if (!colon || port < 1 || port > 65533)
        return false;
    snprintf (out, size, "tcp://%.*s:%u", (int) (colon - addr), addr, port + offset);
    return true;
}

/* Connect to member peer: our SUB to its PUB at pub, a DEALER to its ROUTER. */
static void
s_reach (peers_t *self, uint32_t peer, const char *pub, const char *addr)
{
    char router [300];
    s_endpoint (addr, 2, router, sizeof router);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    if (!dealer)
        return;
    /* libzmq takes the CURVE server key at connect time: one SUB, a key per PUB.
       connect succeeds for names that do not resolve yet and retries later */
    if (curve_connect_peer (self->curve, self->sub, peer)
        || curve_connect_peer (self->curve, dealer, peer)) {
        zsock_destroy (&dealer);
        return;
    }
    snprintf (self->endpoints [peer], sizeof self->endpoints [peer], "%s", pub);
    zsock_connect (self->sub, "%s", pub);
    s_limit (dealer);
    char routing [32];
    snprintf (routing, sizeof routing, "zchat-peer-%u", self->id);
    zsock_set_identity (dealer, routing); /* so its ROUTER can answer us (peers_send) */
    zsock_set_sndhwm (dealer, 1000);
    /* a dead peer's queue must not grow: drop instead of queueing on absent pipes */
    zsock_set_immediate (dealer, 1);
    zsock_connect (dealer, "%s", router);
    self->dealers [peer] = dealer;
}

void
peers_set_members (peers_t *self, const raft_conf_t *conf)
{
    for (uint32_t peer = 1; peer <= RAFT_MAX_ID; peer++) {
        const raft_member_t *m = peer == self->id ? NULL : raft_conf_find (conf, peer);
        char want [300] = "";
        if (m && !s_endpoint (m->addr, 1, want, sizeof want)) {
            blog ("peer_address_bad", "peer=%u addr=\"%s\"", peer, m->addr);
            m = NULL;
        }
        if (strcmp (want, self->endpoints [peer]) == 0 && (!m || self->dealers [peer]))
            continue;
        s_drop (self, peer);
        if (m)
            s_reach (self, peer, want, m->addr);
    }
}

void
peers_destroy (peers_t **self_p)
{
    if (!*self_p)
        return;
    peers_t *self = *self_p;
    zsock_destroy (&self->pub);
    zsock_destroy (&self->sub);
    zsock_destroy (&self->router);
    for (uint32_t peer = 0; peer <= RAFT_MAX_ID; peer++)
        zsock_destroy (&self->dealers [peer]);
    free (self);
    *self_p = NULL;
}

zsock_t *
peers_sub (peers_t *self)
{
    return self->sub;
}

zsock_t *
peers_router (peers_t *self)
{
    return self->router;
}

/* The socket a frame for peer to (or RAFT_BROADCAST) goes out on; NULL if none. */
static zsock_t *
s_sock_for (peers_t *self, uint32_t to)
{
    if (to == RAFT_BROADCAST)
        return self->pub;
    if (to >= 1 && to <= RAFT_MAX_ID)
        return self->dealers [to];
    return NULL;
}

static void
s_free_frame (void *data, void *hint)
{
    (void) hint;
    free (data);
}

/* To a peer we have no DEALER to (one whose address our log does not hold yet) but
   which reaches us: back through our ROUTER, addressed by its DEALER's routing id. */
static int
s_send_back (peers_t *self, uint32_t to, uint8_t *frame, size_t len)
{
    char routing [32];
    int n = snprintf (routing, sizeof routing, "zchat-peer-%u", to);
    zmq_msg_t zmsg;
    if (zmq_send (zsock_resolve (self->router), routing, (size_t) n, ZMQ_SNDMORE | ZMQ_DONTWAIT)
        < 0) {
        free (frame);
        return -1;
    }
    if (zmq_msg_init_data (&zmsg, frame, len, s_free_frame, NULL)) {
        free (frame);
        zmq_send (zsock_resolve (self->router), "", 0, ZMQ_DONTWAIT); /* end the message */
        return -1;
    }
    if (zmq_msg_send (&zmsg, zsock_resolve (self->router), ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&zmsg);
        return -1;
    }
    return 0;
}

int
peers_send (peers_t *self, uint32_t to, uint8_t *frame, size_t len)
{
    if (to != RAFT_BROADCAST && to >= 1 && to <= RAFT_MAX_ID && to != self->id
        && !self->dealers [to])
        return s_send_back (self, to, frame, len);
    zsock_t *sock = s_sock_for (self, to);
    zmq_msg_t zmsg;
    /* zero copy: batches of entries are large; libzmq frees the buffer when sent */
    if (!sock || zmq_msg_init_data (&zmsg, frame, len, s_free_frame, NULL)) {
        free (frame);
        return -1;
    }
    if (zmq_msg_send (&zmsg, zsock_resolve (sock), ZMQ_DONTWAIT) < 0) {
        zmq_msg_close (&zmsg);
        return -1;
    }
    return 0;
}

zsock_t *
peers_dealer (peers_t *self, uint32_t *cursor)
{
    while (++*cursor <= RAFT_MAX_ID)
        if (self->dealers [*cursor])
            return self->dealers [*cursor];
    return NULL;
}

zframe_t *
peers_recv (peers_t *self, zsock_t *sock)
{
    if (!(zsock_events (sock) & ZMQ_POLLIN))
        return NULL;
    zmsg_t *msg = zmsg_recv (sock);
    if (!msg)
        return NULL;
    if (sock == self->router) {
        zframe_t *routing = zmsg_pop (msg);
        zframe_destroy (&routing);
    }
    zframe_t *frame = zmsg_pop (msg);
    zmsg_destroy (&msg);
    return frame;
}
