/*  zcc_session.c - the bound user: its re-CONNECTs, acks and exactly-once display.

    Invariants: while bound to (user, epoch), `shown` is the highest mseq handed to the
    caller; it only grows, a MESSAGE at or below it is dropped, and acks never exceed
    it. A re-CONNECT carries the user's secret and, for this incarnation, `shown`, so
    the new session resumes after it. */
#include "zcc_internal.h"

static bool
s_bytes_eq (zc_bytes_t b, const char *s)
{
    return b.len == strlen (s) && (b.len == 0 || memcmp (b.ptr, s, b.len) == 0);
}

/* A CONNECT of the bound user says what was shown of this incarnation. */
void
zcc_session_encode (const zcc_t *self, const char *name, zc_frame_t *f)
{
    const zcc_session_t *session = &self->session;
    if (zcc_fsm_bound (self) && name && strcmp (name, session->user) == 0 && session->shown > 0) {
        f->fields |= ZC_F_MSEQ | ZC_F_EPOCH;
        f->mseq = session->shown;
        f->epoch = session->epoch;
    }
}

void
zcc_session_ping (const zcc_t *self, zc_frame_t *f)
{
    zc_frame_init (f, ZC_CMD_PING);
    f->fields = ZC_F_CID;
    f->cid = self->cid;
    if (zcc_fsm_bound (self)) {
        /* lets the server say our session is gone (it restarted, or is not the leader) */
        f->fields |= ZC_F_NAME | ZC_F_EPOCH;
        f->name = (zc_bytes_t) { self->session.user, (uint32_t) strlen (self->session.user) };
        f->epoch = self->session.epoch;
    }
}

void
zcc_session_ack (zcc_t *self)
{
    zcc_session_t *session = &self->session;
    zc_frame_t f;
    zc_frame_init (&f, ZC_CMD_ACK);
    f.fields = ZC_F_CID | ZC_F_NAME | ZC_F_EPOCH | ZC_F_MSEQ;
    f.cid = self->cid;
    f.name = (zc_bytes_t) { session->user, (uint32_t) strlen (session->user) };
    f.epoch = session->epoch;
    f.mseq = session->shown;
    zcc_conn_send_frame (self, &f);
    session->acked = session->shown;
}

/* The caller's CONNECT succeeded: keep the user and its secret for re-CONNECTs. */
void
zcc_session_bind (zcc_t *self, zcc_req_t *req, const zc_frame_t *f)
{
    zcc_session_t *session = &self->session;
    bool same = zcc_fsm_bound (self) && strcmp (session->user, req->name) == 0
                && session->epoch == f->epoch;
    if (!same)
        session->shown = 0;
    snprintf (session->user, sizeof session->user, "%s", req->name);
    snprintf (session->secret, sizeof session->secret, "%s", req->secret);
    session->epoch = f->epoch;
    session->acked = 0; /* re-ack what was shown to the new session */
    session->unacked_ms = 0;
    zcc_fsm_execute (self, req->first_gen == self->conn.gen ? ZCC_IN_BIND : ZCC_IN_BIND_STALE);
}

static void
s_drop_reconnect (zcc_t *self)
{
    zcc_req_t *req = zcc_request_reconnect (self);
    if (req->used)
        zcc_request_free (self, req);
}

void
zcc_session_unbind (zcc_t *self)
{
    explicit_bzero (self->session.secret, sizeof self->session.secret);
    self->session.shown = self->session.acked = 0;
    s_drop_reconnect (self);
}

/* CONNECT the bound user again, with a fresh seq and its secret. */
void
zcc_session_reconnect (zcc_t *self)
{
    s_drop_reconnect (self);
    zcc_request_submit (self, ZC_CMD_CONNECT, self->session.user, NULL, self->session.secret, NULL,
                        NULL, true);
}

static bool
s_ack_due (const zcc_t *self)
{
    return zcc_fsm_bound (self) && !zcc_fsm_moving (self)
           && self->session.shown > self->session.acked;
}

void
zcc_session_timers (zcc_t *self, int64_t now)
{
    if (s_ack_due (self) && now >= self->session.unacked_ms + ZCC_ACK_INTERVAL_MS)
        zcc_session_ack (self);
}

int64_t
zcc_session_next_timer (const zcc_t *self, int64_t next)
{
    if (s_ack_due (self) && self->session.unacked_ms + ZCC_ACK_INTERVAL_MS < next)
        next = self->session.unacked_ms + ZCC_ACK_INTERVAL_MS;
    return next;
}

/* An ERROR about our session rather than a request (re ACK, PING or CONNECT): the
   server we talk to lost it (restarted, or not the leader). Resume it: follow the
   leader, or CONNECT again here. */
void
zcc_session_on_error (zcc_t *self, const zc_frame_t *f)
{
    if (f->cmd != ZC_CMD_ERROR || !(f->fields & ZC_F_RE) || !zcc_fsm_bound (self)
        || (f->re != ZC_CMD_ACK && f->re != ZC_CMD_PING && f->re != ZC_CMD_CONNECT))
        return;
    if (zcc_request_retryable (self, NULL, f))
        return;
    if (f->code == ZC_ERR_NOT_CONNECTED)
        zcc_fsm_execute (self, ZCC_IN_LOST);
}

/* Our re-CONNECT's answer: silent unless the user is gone. */
zcc_event_type_t
zcc_session_on_reconnect (zcc_t *self, zcc_req_t *req, const zc_frame_t *f, zcc_event_t *event)
{
    zcc_session_t *session = &self->session;
    bool ours = zcc_fsm_bound (self) && strcmp (req->name, session->user) == 0;
    bool deleted =
        f->cmd == ZC_CMD_ERROR ? f->code == ZC_ERR_NO_SUCH_USER : f->epoch != session->epoch;
    zcc_request_free (self, req);
    if (!ours || (f->cmd == ZC_CMD_REPLY && !deleted)) {
        session->acked = 0; /* resumed: re-ack what was shown */
        session->unacked_ms = 0;
        zcc_fsm_execute (self, ZCC_IN_RESUMED);
        return ZCC_EV_NONE;
    }
    event->type = ZCC_EV_CLOSED;
    event->code = deleted ? ZC_ERR_USER_DELETED : (zc_code_t) f->code;
    event->frame = *f;
    zcc_events_fill_error (self, event);
    zcc_fsm_execute (self, ZCC_IN_CLOSED);
    return ZCC_EV_CLOSED;
}

zcc_event_type_t
zcc_session_on_message (zcc_t *self, const zc_frame_t *f, zcc_event_t *event)
{
    zcc_session_t *session = &self->session;
    if (!zcc_fsm_bound (self) || !s_bytes_eq (f->name, session->user) || f->epoch != session->epoch)
        return ZCC_EV_NONE; /* for a session we no longer have */
    if (f->mseq <= session->shown) {
        /* Pushed again although we acked it: the server's session never saw that ack
           (a new session, or the ack was lost). Without a new ack its window stays
           full of what we drop, and delivery stops; so say it again, at most once per
           ack interval. */
        int64_t now = zcc_now_ms ();
        if (f->mseq <= session->acked && now - session->reack_ms >= ZCC_ACK_INTERVAL_MS) {
            session->reack_ms = now;
            zcc_session_ack (self);
        }
        return ZCC_EV_NONE;
    }
    if (self->in_call && self->fifo.msgs >= ZCC_FIFO_MSGS)
        return ZCC_EV_NONE; /* not shown, not acked: the server redelivers it */
    if (session->shown == session->acked)
        session->unacked_ms = zcc_now_ms (); /* batch acks for up to the interval */
    session->shown = f->mseq;
    if (session->shown - session->acked >= ZCC_ACK_BATCH)
        zcc_session_ack (self);
    event->type = ZCC_EV_MESSAGE;
    event->frame = *f;
    event->error = "";
    return ZCC_EV_MESSAGE;
}

zcc_event_type_t
zcc_session_on_closed (zcc_t *self, const zc_frame_t *f, zcc_event_t *event)
{
    if (!zcc_fsm_bound (self) || !s_bytes_eq (f->name, self->session.user))
        return ZCC_EV_NONE;
    event->type = ZCC_EV_CLOSED;
    event->code = (zc_code_t) f->code;
    event->frame = *f;
    zcc_events_fill_error (self, event);
    zcc_fsm_execute (self, ZCC_IN_CLOSED);
    return ZCC_EV_CLOSED;
}
