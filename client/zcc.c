/*  zcc.c - the zchat client library (interface and guarantees in zcc.h): the public
    object, and the loop that turns timers and received frames into events.

    Invariant: every call returns at most one event; what zcc_call meets while waiting
    for its reply is kept for later polls (zcc_events.c), never dropped. The jobs behind
    it live in zcc_conn.c, zcc_request.c, zcc_session.c and zcc_fsm.c. */
#include "zcc_internal.h"

void
zcc_options_defaults (zcc_options_t *options)
{
    assert (options);
    memset (options, 0, sizeof *options);
    options->request_timeout_ms = 1000;
    options->deadline_ms = 15000;
    options->max_inflight = 256;
}

zcc_t *
zcc_new (const zcc_options_t *options)
{
    zcc_options_t defaults;
    zcc_options_defaults (&defaults);
    if (!options)
        options = &defaults;
    zcc_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->state = ZCC_STATE_OPEN;
    zcc_requests_t *reqs = &self->reqs;
    reqs->timeout_ms = options->request_timeout_ms ? options->request_timeout_ms : 1000;
    reqs->deadline_ms = options->deadline_ms ? options->deadline_ms : 15000;
    reqs->max_inflight = options->max_inflight ? options->max_inflight : 256;
    if (reqs->max_inflight > 65536)
        reqs->max_inflight = 65536;
    reqs->next_seq = 1;
    reqs->scan_ms = INT64_MAX;
    reqs->slots = calloc (reqs->max_inflight + 1, sizeof *reqs->slots);
    self->cid = options->client_id ? options->client_id : zcc_conn_random_id ();
    if (!reqs->slots || zcc_conn_init (self, options) != 0)
        zcc_destroy (&self);
    return self;
}

void
zcc_destroy (zcc_t **self_p)
{
    assert (self_p);
    zcc_t *self = *self_p;
    if (!self)
        return;
    if (self->conn.sock && zcc_fsm_bound (self) && self->session.shown > self->session.acked) {
        /* Last chance to tell the server what we showed; give the ack a moment to
           leave instead of dropping it with linger 0 (otherwise it is redelivered). */
        zcc_session_ack (self);
        zsock_set_linger (self->conn.sock, 200);
    }
    zcc_conn_destroy (self);
    zcc_request_free_all (self);
    zcc_events_destroy (self);
    explicit_bzero (self->session.secret, sizeof self->session.secret);
    free (self);
    *self_p = NULL;
}

static bool
s_is_request (zc_cmd_t cmd)
{
    return cmd == ZC_CMD_CREATE || cmd == ZC_CMD_DELETE || cmd == ZC_CMD_CONNECT
           || cmd == ZC_CMD_LIST || cmd == ZC_CMD_SEND || cmd == ZC_CMD_STATUS
           || cmd == ZC_CMD_PASSWD || cmd == ZC_CMD_TRANSFER || cmd == ZC_CMD_MEMBERS;
}

uint64_t
zcc_submit_with (zcc_t *self, zc_cmd_t cmd, const char *name, const char *text, const char *secret,
                 const char *new_secret)
{
    assert (self);
    if (!s_is_request (cmd))
        return 0; /* ACK and PING are the library's own business */
    return zcc_request_submit (self, cmd, name, text, secret, new_secret, NULL, false);
}

uint64_t
zcc_submit_backup (zcc_t *self, const char *admin_secret, const zcc_position_t *position)
{
    assert (self && admin_secret && position);
    return zcc_request_submit (self, ZC_CMD_BACKUP, NULL, NULL, admin_secret, NULL, position,
                               false);
}

uint64_t
zcc_submit (zcc_t *self, zc_cmd_t cmd, const char *name, const char *text)
{
    return zcc_submit_with (self, cmd, name, text, NULL, NULL);
}

static zcc_event_type_t
s_on_reply (zcc_t *self, const zc_frame_t *f, zcc_event_t *event)
{
    zcc_req_t *req = (f->fields & ZC_F_SEQ) && f->seq ? zcc_request_find (self, f->seq) : NULL;
    if (!req) {
        zcc_session_on_error (self, f);
        return ZCC_EV_NONE; /* late duplicate or not ours */
    }
    if ((f->fields & ZC_F_RE) && f->re != req->cmd)
        return ZCC_EV_NONE;
    if (zcc_request_retryable (self, req, f))
        return ZCC_EV_NONE;
    zcc_conn_good_reply (self);
    if (req->cmd == ZC_CMD_LIST && f->cmd == ZC_CMD_REPLY) {
        if (!zcc_request_list_append (self, req, f))
            return ZCC_EV_NONE;
        if (f->more) {
            req->sent_ms = zcc_now_ms (); /* progress: not a timeout */
            return ZCC_EV_NONE;
        }
    }
    if (req->internal)
        return zcc_session_on_reconnect (self, req, f, event);
    if (req->cmd == ZC_CMD_CONNECT && f->cmd == ZC_CMD_REPLY)
        zcc_session_bind (self, req, f);
    event->type = ZCC_EV_REPLY;
    event->seq = req->seq;
    event->re = req->cmd;
    event->code = f->cmd == ZC_CMD_REPLY ? ZC_OK : (zc_code_t) f->code;
    event->frame = *f;
    event->latency_ms = (double) (zclock_usecs () - req->submit_us) / 1000.0;
    event->users = req->users;
    event->n_users = req->n_users;
    req->users = NULL; /* ownership moves to the event */
    req->n_users = 0;
    zcc_events_fill_error (self, event);
    zcc_request_free (self, req);
    return ZCC_EV_REPLY;
}

/* Receive one frame from the DEALER, if one is there (*got), and turn it into at most
   one event. */
static zcc_event_type_t
s_recv (zcc_t *self, zcc_event_t *event, bool *got)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    void *handle = zsock_resolve (self->conn.sock);
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
    while (zmq_msg_more (&msg)) /* the protocol has one part: drop the rest */
        if (zmq_msg_recv (&msg, handle, ZMQ_DONTWAIT) < 0)
            break;
    zmq_msg_close (&msg);
    zcc_conn_heard (self);
    zc_frame_t f;
    if (multipart || len > ZC_FRAME_MAX || zc_frame_decode (self->rx, len, &f) != ZC_OK)
        return ZCC_EV_NONE;
    memset (event, 0, sizeof *event);
    switch (f.cmd) {
        case ZC_CMD_REPLY:
        case ZC_CMD_ERROR: return s_on_reply (self, &f, event);
        case ZC_CMD_MESSAGE: return zcc_session_on_message (self, &f, event);
        case ZC_CMD_CLOSED: return zcc_session_on_closed (self, &f, event);
        default: return ZCC_EV_NONE;
    }
}

static zcc_event_type_t
s_timers (zcc_t *self, int64_t now, zcc_event_t *event)
{
    if (zcc_fsm_moving (self) && now >= self->conn.switch_ms)
        zcc_fsm_execute (self, ZCC_IN_SWITCH_DUE);
    if (now >= self->reqs.scan_ms) {
        zcc_event_type_t type = zcc_request_scan (self, now, event);
        if (type != ZCC_EV_NONE)
            return type;
    }
    zcc_session_timers (self, now);
    zcc_conn_timers (self, now);
    return ZCC_EV_NONE;
}

static int64_t
s_next_timer (const zcc_t *self)
{
    return zcc_session_next_timer (self, zcc_conn_next_timer (self, self->reqs.scan_ms));
}

/* Wait up to wait_ms for the socket or fd; the event if there is one. *failed when
   the poll was interrupted. */
static zcc_event_type_t
s_poll_once (zcc_t *self, long wait_ms, int fd, zcc_event_t *event, bool *failed)
{
    zmq_pollitem_t items [3];
    int n = 0, sock_at = -1, fd_at = -1, monitor_at = -1;
    if (self->conn.sock) {
        items [n] = (zmq_pollitem_t) { zsock_resolve (self->conn.sock), 0, ZMQ_POLLIN, 0 };
        sock_at = n++;
    }
    if (zcc_conn_monitor (self)) {
        items [n] = (zmq_pollitem_t) { zcc_conn_monitor (self), 0, ZMQ_POLLIN, 0 };
        monitor_at = n++;
    }
    if (fd >= 0) {
        items [n] = (zmq_pollitem_t) { NULL, fd, ZMQ_POLLIN, 0 };
        fd_at = n++;
    }
    *failed = zmq_poll (items, n, wait_ms) < 0;
    if (*failed)
        return ZCC_EV_NONE;
    /* the connection dropped: the server died or its heartbeats stopped */
    if (monitor_at >= 0 && (items [monitor_at].revents & ZMQ_POLLIN) && zcc_conn_dropped (self)) {
        zcc_fsm_execute (self, ZCC_IN_SILENCE);
        return ZCC_EV_NONE; /* the socket may be another one now */
    }
    if (sock_at >= 0 && (items [sock_at].revents & ZMQ_POLLIN)) {
        bool got;
        zcc_event_type_t type = s_recv (self, event, &got);
        if (type != ZCC_EV_NONE)
            return type;
    }
    if (fd_at >= 0 && (items [fd_at].revents & (ZMQ_POLLIN | ZMQ_POLLERR))) {
        memset (event, 0, sizeof *event);
        event->type = ZCC_EV_FD;
        event->error = "";
        return ZCC_EV_FD;
    }
    return ZCC_EV_NONE;
}

/* Run timers and the socket until an event, fd readiness or the timeout. */
static zcc_event_type_t
s_wait (zcc_t *self, int timeout_ms, int fd, zcc_event_t *event)
{
    int64_t end = timeout_ms < 0 ? INT64_MAX : zcc_now_ms () + timeout_ms;
    memset (event, 0, sizeof *event);
    while (true) {
        int64_t now = zcc_now_ms ();
        zcc_event_type_t type = s_timers (self, now, event);
        if (type != ZCC_EV_NONE)
            return type;
        /* Under load a frame is usually waiting already: take it without the poll
           syscall, but poll now and then so that the caller's fd is not starved. */
        if (self->conn.sock && self->recv_streak < ZCC_RECV_STREAK) {
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
        bool failed;
        type = s_poll_once (self, wake <= now ? 0 : (long) (wake - now), fd, event, &failed);
        if (type != ZCC_EV_NONE || failed)
            return type; /* EINTR: let the caller look at its signals */
        if (zcc_now_ms () >= end)
            return ZCC_EV_NONE;
    }
}

zcc_event_type_t
zcc_poll (zcc_t *self, int timeout_ms, int fd, zcc_event_t *event)
{
    assert (self);
    assert (event);
    zcc_events_release (self);
    if (zcc_events_pop (self, event))
        return event->type;
    zcc_event_type_t type = s_wait (self, timeout_ms, fd, event);
    zcc_events_hand_over (self, event);
    return type;
}

zc_code_t
zcc_call (zcc_t *self, zc_cmd_t cmd, const char *name, const char *text, zcc_event_t *event)
{
    return zcc_call_with (self, cmd, name, text, NULL, NULL, event);
}

zc_code_t
zcc_call_with (zcc_t *self, zc_cmd_t cmd, const char *name, const char *text, const char *secret,
               const char *new_secret, zcc_event_t *event)
{
    assert (self);
    assert (event);
    zcc_events_release (self);
    memset (event, 0, sizeof *event);
    event->error = "";
    if (!s_is_request (cmd))
        return ZC_ERR_UNKNOWN_COMMAND;
    self->in_call = true;
    uint64_t seq;
    zcc_event_t other;
    while ((seq = zcc_request_submit (self, cmd, name, text, secret, new_secret, NULL, false)) == 0)
        if (s_wait (self, -1, -1, &other) != ZCC_EV_NONE)
            zcc_events_push (self, &other);
    while (true) {
        zcc_event_type_t type = s_wait (self, -1, -1, event);
        if (type == ZCC_EV_REPLY && event->seq == seq)
            break;
        if (type != ZCC_EV_NONE)
            zcc_events_push (self, event);
    }
    self->in_call = false;
    zcc_events_hand_over (self, event);
    return event->code;
}

uint32_t
zcc_inflight (const zcc_t *self)
{
    assert (self);
    return self->reqs.n_inflight;
}

uint64_t
zcc_client_id (const zcc_t *self)
{
    assert (self);
    return self->cid;
}

const char *
zcc_current_server (const zcc_t *self)
{
    assert (self);
    return self->conn.current;
}
