/*  server_sessions.c - sessions on the leader: binding a connection to the user it
    proved, pushing queued messages within the window, coalescing the recipients' acks
    into log entries, and telling sessions when they end. Invariant: pushes go in mseq
    order and never skip one (the client acks cumulatively). */
#include "server_internal.h"
#include "blog.h"

#define PUSH_BATCH 32
/* A client's acks are put into the log with the next write, or after this long: an
   ack is a write of its own otherwise, and one more fdatasync on every replica for
   each message pushed. Delaying it only delays freeing the queue; the client's own
   record of what it showed is what keeps a message from being shown twice. */
#define ACK_DELAY_MS 20

/* ---- sessions: binding, pushing, acknowledging */

void
server_tell_closed (server_t *self, conn_t *conn, const char *user, zc_code_t why)
{
    zc_frame_t frame;
    zc_frame_init (&frame, ZC_CMD_CLOSED);
    char text [128];
    snprintf (text, sizeof text,
              why == ZC_ERR_REPLACED ? "session of '%s' taken over by another connect"
                                     : "user '%s' was deleted",
              user);
    frame.fields = ZC_F_NAME | ZC_F_CODE | ZC_F_TEXT;
    frame.name = (zc_bytes_t) { user, (uint32_t) strlen (user) };
    frame.code = why;
    frame.text = (zc_bytes_t) { text, (uint32_t) strlen (text) };
    server_send (self, conn->id, conn->len, &frame);
}

/* Send what the session may have in flight; stop at the window or a full socket. */
static void
s_push (server_t *self, session_t *session)
{
    const chat_t *chat = self->chat;
    size_t user_len = strlen (session->user);
    while (session->pushed - session->acked < SESSION_WINDOW) {
        chat_message_t batch [PUSH_BATCH];
        size_t room = SESSION_WINDOW - (size_t) (session->pushed - session->acked);
        size_t n = chat_queue_peek (chat, session->user, user_len, session->epoch, session->pushed,
                                    batch, room < PUSH_BATCH ? room : PUSH_BATCH);
        if (n == 0)
            return;
        for (size_t i = 0; i < n; i++) {
            zc_frame_t frame;
            zc_frame_init (&frame, ZC_CMD_MESSAGE);
            frame.fields = ZC_F_NAME | ZC_F_FROM | ZC_F_EPOCH | ZC_F_MSEQ | ZC_F_TS | ZC_F_TEXT;
            frame.name = (zc_bytes_t) { session->user, (uint32_t) user_len };
            frame.from = batch [i].from;
            frame.epoch = session->epoch;
            frame.mseq = batch [i].mseq;
            frame.ts = batch [i].ts;
            frame.text = batch [i].text;
            /* never skip one: the client acks cumulatively, so a gap would be lost */
            if (!server_send (self, session->conn->id, session->conn->len, &frame)) {
                session->blocked = true;
                return;
            }
            session->pushed = batch [i].mseq;
        }
    }
}

static bool
s_propose_ack (server_t *self, session_t *session)
{
    if (session->acked <= session->ack_proposed)
        return true;
    zc_command_t cmd = { .op = ZC_OP_ACK,
                         .name = { session->user, (uint32_t) strlen (session->user) },
                         .epoch = session->epoch,
                         .mseq = session->acked };
    if (server_log_command (self, &cmd) != ZC_OK)
        return false;
    session->ack_proposed = session->acked;
    return true;
}

/* Runs before the ready cycle, so acks share the turn's fdatasync with other writes. */
void
server_propose_acks (server_t *self)
{
    uint64_t since;
    if (!self->leader || !sessions_acks_due (self->sessions, &since))
        return;
    if (!self->proposed && self->now_ms - since < ACK_DELAY_MS)
        return;
    session_t *session;
    while ((session = sessions_next_ack_due (self->sessions))) {
        if (!s_propose_ack (self, session)) {
            sessions_ack_due (self->sessions, session, self->now_ms); /* log full: later */
            return;
        }
    }
}

void
server_pump_sessions (server_t *self)
{
    if (!self->leader)
        return;
    session_t *session;
    while ((session = sessions_next_marked (self->sessions)))
        s_push (self, session);
}

bool
server_session_matches (const session_t *session, const zc_frame_t *frame)
{
    return session && session->epoch == frame->epoch && frame->name.len == strlen (session->user)
           && memcmp (frame->name.ptr, session->user, frame->name.len) == 0;
}

void
server_handle_ack (server_t *self, conn_t *conn, const zc_frame_t *frame)
{
    session_t *session = conn->session;
    if (!server_session_matches (session, frame)) {
        server_error_about (self, conn->id, conn->len, ZC_CMD_ACK, frame->seq, ZC_ERR_NOT_CONNECTED,
                            NULL, 0);
        return;
    }
    uint64_t upto = frame->mseq < session->pushed ? frame->mseq : session->pushed;
    if (upto > session->acked) {
        session->acked = upto;
        session->progress_ms = self->now_ms;
        sessions_mark (self->sessions, session);
        sessions_ack_due (self->sessions, session, self->now_ms);
    }
}

/* ---- applied entries become replies */

void
server_bind (server_t *self, pending_t *pending, const zc_command_t *cmd, uint64_t epoch,
             uint64_t last)
{
    conn_t *conn =
        sessions_touch (self->sessions, pending->routing, pending->routing_len, self->now_ms);
    if (!conn)
        return;
    char user [ZC_NAME_MAX + 1];
    snprintf (user, sizeof user, "%.*s", (int) cmd->name.len, cmd->name.ptr);
    /* what the client showed counts only for the incarnation it showed it from */
    uint64_t shown = pending->shown_epoch == epoch ? pending->shown_mseq : 0;
    if (last && shown > last) /* last is 0 when a retry was answered from the table */
        shown = last;
    conn_t *replaced = NULL;
    sessions_bind (self->sessions, conn, user, epoch, shown, self->now_ms, &replaced);
    if (replaced)
        server_tell_closed (self, replaced, user, ZC_ERR_REPLACED);
    blog ("session_bound", "user=%s epoch=%llu shown=%llu replaced=%d", user,
          (unsigned long long) epoch, (unsigned long long) shown, replaced != NULL);
}

void
server_tell_session_moved (void *arg, conn_t *conn, session_t *session)
{
    (void) session;
    server_t *self = (server_t *) arg;
    server_redirect (self, conn->id, conn->len, ZC_CMD_CONNECT, 0);
}
