/*  zcc_request.c - request slots, their timers and resends.

    Invariants: every outstanding request owns one slot holding its encoded frame; the
    slot is freed only when the request's final reply or its deadline has been turned
    into an event. Resends reuse the frame byte for byte (same cid, same seq), in seq
    order. max_inflight slots serve the caller; one more, the last, holds the library's
    re-CONNECT, which has no deadline and is never reported. */
#include "zcc_internal.h"

static void
s_users_free (zcc_req_t *req)
{
    zcc_events_users_free (req->users, req->n_users);
    req->users = NULL;
    req->n_users = req->cap_users = 0;
}

void
zcc_request_free (zcc_t *self, zcc_req_t *req)
{
    s_users_free (req);
    explicit_bzero (req->secret, sizeof req->secret);
    explicit_bzero (req->new_secret, sizeof req->new_secret);
    explicit_bzero (req->buf, sizeof req->buf);
    if (!req->internal)
        self->reqs.n_inflight--;
    req->used = false;
}

void
zcc_request_free_all (zcc_t *self)
{
    if (self->reqs.slots)
        for (uint32_t i = 0; i <= self->reqs.max_inflight; i++)
            s_users_free (&self->reqs.slots [i]);
    free (self->reqs.slots);
    self->reqs.slots = NULL;
}

/* The slot of the library's re-CONNECT. */
zcc_req_t *
zcc_request_reconnect (zcc_t *self)
{
    return &self->reqs.slots [self->reqs.max_inflight];
}

static bool
s_held (const zcc_t *self, const zcc_req_t *req)
{
    return req->cmd == ZC_CMD_SEND && zcc_fsm_sends_wait (self);
}

static void
s_send (zcc_t *self, zcc_req_t *req)
{
    int64_t now = zcc_now_ms ();
    zcc_conn_send_bytes (self, req->buf, req->len);
    req->sent_ms = now;
    req->resend_ms = 0;
    if (now + self->reqs.timeout_ms < self->reqs.scan_ms)
        self->reqs.scan_ms = now + self->reqs.timeout_ms;
}

static zcc_req_t *
s_alloc (zcc_t *self, bool internal)
{
    if (internal) {
        zcc_req_t *req = zcc_request_reconnect (self);
        return req->used ? NULL : req;
    }
    if (self->reqs.n_inflight >= self->reqs.max_inflight)
        return NULL;
    for (uint32_t i = 0; i < self->reqs.max_inflight; i++)
        if (!self->reqs.slots [i].used)
            return &self->reqs.slots [i];
    return NULL;
}

static void
s_encode (zcc_t *self, zcc_req_t *req, const char *name, const char *text)
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
    if (req->cmd == ZC_CMD_CONNECT)
        zcc_session_encode (self, name, &f);
    if (req->cmd == ZC_CMD_BACKUP) {
        f.fields |= ZC_F_OFFSET | (req->position.index ? ZC_F_INDEX : 0);
        f.offset = req->position.offset;
        f.index = req->position.index;
    }
    if (f.name.len >= ZC_FRAME_MAX || f.text.len >= ZC_FRAME_MAX)
        req->failed = ZC_ERR_TOO_LARGE;
    else
        req->failed = zc_frame_encode (&f, req->buf, sizeof req->buf, &req->len);
}

/* Take a slot and send the request unless it must wait. 0 when no slot is free. */
uint64_t
zcc_request_submit (zcc_t *self, zc_cmd_t cmd, const char *name, const char *text,
                    const char *secret, const char *new_secret, const zcc_position_t *position,
                    bool internal)
{
    zcc_req_t *req = s_alloc (self, internal);
    if (!req)
        return 0;
    memset (req, 0, sizeof *req);
    req->used = true;
    req->internal = internal;
    req->cmd = cmd;
    req->seq = self->reqs.next_seq++;
    req->first_gen = self->conn.gen;
    req->submit_us = zclock_usecs ();
    req->deadline_ms = internal ? 0 : zcc_now_ms () + self->reqs.deadline_ms;
    if (name)
        snprintf (req->name, sizeof req->name, "%s", name);
    if (position)
        req->position = *position;
    if (!internal)
        self->reqs.n_inflight++;
    bool too_long = (secret && strlen (secret) > ZC_SECRET_MAX)
                    || (new_secret && strlen (new_secret) > ZC_SECRET_MAX);
    snprintf (req->secret, sizeof req->secret, "%s", secret && !too_long ? secret : "");
    snprintf (req->new_secret, sizeof req->new_secret, "%s",
              new_secret && !too_long ? new_secret : "");
    s_encode (self, req, name, text);
    if (too_long)
        req->failed = ZC_ERR_BAD_SECRET;
    if (req->failed != ZC_OK)
        self->reqs.scan_ms = 0; /* report it at the next poll */
    else if (!zcc_fsm_moving (self) && !s_held (self, req))
        s_send (self, req);
    if (req->deadline_ms && req->deadline_ms < self->reqs.scan_ms)
        self->reqs.scan_ms = req->deadline_ms;
    return req->seq;
}

zcc_req_t *
zcc_request_find (zcc_t *self, uint64_t seq)
{
    for (uint32_t i = 0; i <= self->reqs.max_inflight; i++)
        if (self->reqs.slots [i].used && self->reqs.slots [i].seq == seq)
            return &self->reqs.slots [i];
    return NULL;
}

static int
s_cmp_seq (const void *a, const void *b)
{
    const zcc_req_t *x = *(zcc_req_t *const *) a, *y = *(zcc_req_t *const *) b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Send again every request (or those not sent on this connection yet) but the held. */
void
zcc_request_resend (zcc_t *self, bool unsent_only)
{
    zcc_req_t **order = malloc ((self->reqs.max_inflight + 1) * sizeof *order);
    uint32_t n = 0;
    for (uint32_t i = 0; i <= self->reqs.max_inflight; i++) {
        zcc_req_t *req = &self->reqs.slots [i];
        if (!req->used || req->failed != ZC_OK || (unsent_only && req->sent_ms))
            continue;
        req->sent_ms = 0;
        if (s_held (self, req))
            continue;       /* sent when the session is back */
        s_users_free (req); /* a LIST restarts from its first frame */
        if (order)
            order [n++] = req;
    }
    if (!order)
        return; /* no memory: the request timers resend later */
    qsort (order, n, sizeof *order, s_cmp_seq);
    for (uint32_t i = 0; i < n; i++)
        s_send (self, order [i]);
    free (order);
}

/* ERRORs that mean "try again elsewhere or later"; true if handled. req is NULL for
   an error about the session rather than a request. */
bool
zcc_request_retryable (zcc_t *self, zcc_req_t *req, const zc_frame_t *f)
{
    if (f->cmd != ZC_CMD_ERROR)
        return false;
    if (f->code == ZC_ERR_NOT_LEADER) {
        zcc_fsm_execute (self, zcc_conn_leader_hint (self, f) ? ZCC_IN_REDIRECT : ZCC_IN_SILENCE);
        return true;
    }
    if (f->code == ZC_ERR_UNAVAILABLE) {
        zcc_fsm_execute (self, ZCC_IN_SILENCE);
        return true;
    }
    if (f->code == ZC_ERR_BUSY) {
        /* The leader is overloaded: another server would only redirect us back. */
        if (req) {
            req->sent_ms = 0;
            req->resend_ms = zcc_now_ms () + zcc_conn_jitter (self, self->conn.backoff_ms);
            if (req->resend_ms < self->reqs.scan_ms)
                self->reqs.scan_ms = req->resend_ms;
        }
        return true;
    }
    return false;
}

static bool
s_list_append (zcc_req_t *req, const zc_frame_t *f)
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

/* Append a LIST frame's names; false, and the request fails at the next poll, when
   out of memory or over the bound. */
bool
zcc_request_list_append (zcc_t *self, zcc_req_t *req, const zc_frame_t *f)
{
    if (s_list_append (req, f))
        return true;
    req->failed = ZC_ERR_TOO_LARGE;
    self->reqs.scan_ms = 0;
    return false;
}

/* A request that ends without a server reply (deadline, local failure). */
static zcc_event_type_t
s_local_reply (zcc_t *self, zcc_req_t *req, zc_code_t code, zcc_event_t *event)
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
    zcc_events_fill_error (self, event);
    if (code == ZC_ERR_TIMEOUT && self->conn.cert && !self->conn.heard)
        /* nothing heard since: a wrong key fails the handshake without a word */
        event->error = "no reply from the server (nothing heard at all: is ZCHAT_SERVER_KEY "
                       "the cluster's server.cert? is the cluster up?)";
    zcc_request_free (self, req);
    return ZCC_EV_REPLY;
}

/* Per-request timers; returns an event for at most one request per call. */
zcc_event_type_t
zcc_request_scan (zcc_t *self, int64_t now, zcc_event_t *event)
{
    int64_t next = INT64_MAX;
    uint32_t timeout_ms = self->reqs.timeout_ms;
    for (uint32_t i = 0; i <= self->reqs.max_inflight; i++) {
        zcc_req_t *req = &self->reqs.slots [i];
        if (!req->used)
            continue;
        if (req->failed != ZC_OK || (req->deadline_ms && now >= req->deadline_ms)) {
            self->reqs.scan_ms = now; /* others may be due too */
            return s_local_reply (self, req, req->failed != ZC_OK ? req->failed : ZC_ERR_TIMEOUT,
                                  event);
        }
        if (req->deadline_ms && req->deadline_ms < next)
            next = req->deadline_ms;
        if (zcc_fsm_moving (self))
            continue; /* the switch resends everything and rearms these */
        if (req->resend_ms && now >= req->resend_ms)
            s_send (self, req);
        if (req->sent_ms && now >= req->sent_ms + timeout_ms) {
            zcc_fsm_execute (self, ZCC_IN_SILENCE);
            continue;
        }
        if (req->resend_ms && req->resend_ms < next)
            next = req->resend_ms;
        if (req->sent_ms && req->sent_ms + timeout_ms < next)
            next = req->sent_ms + timeout_ms;
    }
    self->reqs.scan_ms = next;
    return ZCC_EV_NONE;
}
