/*  server_apply.c - what the replica tells the server: a committed command applied
    to the chat state (then its requester is answered and sessions are told), a read
    confirmed (LIST, or the read before a secret check), leadership gained or lost.
    Invariant: a request is answered only after its entry applied or its read was
    confirmed; losing leadership answers every waiter with NOT_LEADER. */
#include "server_internal.h"
#include "blog.h"

static void
s_reply_applied (server_t *self, pending_t *pending, const zc_command_t *cmd,
                 const chat_result_t *result)
{
    if (result->code != ZC_OK) {
        server_error_about (self, pending->routing, pending->routing_len, pending->cmd,
                            pending->seq, result->code, cmd->name.ptr, cmd->name.len);
        return;
    }
    zc_frame_t frame;
    zc_frame_init (&frame, ZC_CMD_REPLY);
    frame.fields = ZC_F_RE | ZC_F_SEQ | ZC_F_CODE | ZC_F_NAME;
    frame.re = pending->cmd;
    frame.seq = pending->seq;
    frame.name = cmd->name;
    uint64_t epoch = result->epoch, last = result->mseq;
    bool bind = pending->cmd == ZC_CMD_CONNECT;
    if (bind && result->duplicate) {
        /* a retried CONNECT binds only if the user it connected to still exists */
        uint64_t current = 0;
        bind = chat_user_exists (self->chat, cmd->name.ptr, cmd->name.len, &current)
               && current == epoch;
    }
    if (pending->cmd == ZC_CMD_CREATE || pending->cmd == ZC_CMD_CONNECT) {
        frame.fields |= ZC_F_EPOCH;
        frame.epoch = epoch;
    }
    if (pending->cmd == ZC_CMD_CONNECT || pending->cmd == ZC_CMD_SEND) {
        frame.fields |= ZC_F_MSEQ;
        frame.mseq = last;
    }
    if (bind)
        server_bind (self, pending, cmd, epoch, last);
    server_send (self, pending->routing, pending->routing_len, &frame);
    if (pending->cmd == ZC_CMD_CONNECT && !bind) {
        conn_t *conn =
            sessions_touch (self->sessions, pending->routing, pending->routing_len, self->now_ms);
        char user [ZC_NAME_MAX + 1];
        snprintf (user, sizeof user, "%.*s", (int) cmd->name.len, cmd->name.ptr);
        if (conn)
            server_tell_closed (self, conn, user, ZC_ERR_USER_DELETED);
    }
}

static void
s_on_applied (server_t *self, const zc_command_t *cmd, const chat_result_t *result)
{
    if (!self->leader)
        return;
    if (cmd->cid) {
        pending_t *pending = admission_find (self->admission, cmd->cid, cmd->seq);
        if (pending) {
            if (pending->proposed_us)
                metrics_observe (&self->stats.commit_latency,
                                 (double) (zclock_usecs () - pending->proposed_us) / 1e6);
            s_reply_applied (self, pending, cmd, result);
            admission_answered (self->admission, pending);
        }
    }
    if (result->code != ZC_OK || result->duplicate)
        return;
    session_t *session = sessions_find (self->sessions, cmd->name.ptr, cmd->name.len);
    if (!session)
        return;
    if (cmd->op == ZC_OP_SEND && session->epoch == result->epoch)
        sessions_mark (self->sessions, session);
    else if (cmd->op == ZC_OP_DELETE) {
        if (session->conn)
            server_tell_closed (self, session->conn, session->user, ZC_ERR_USER_DELETED);
        sessions_end (self->sessions, session);
    }
}

/* ---- the state machine the replica drives */

void
server_fsm_apply (void *arg, uint64_t index, const uint8_t *data, size_t len)
{
    server_t *self = (server_t *) arg;
    zc_command_t cmd;
    zc_code_t code = zc_command_decode (data, len, &cmd);
    if (code != ZC_OK) {
        /* every replica holds the same bytes, so skipping keeps them identical */
        blog ("apply_undecodable", "index=%llu code=%s", (unsigned long long) index,
              zc_code_name (code));
        return;
    }
    chat_result_t result;
    chat_apply (self->chat, index, &cmd, &result);
    self->stats.commits++;
    s_on_applied (self, &cmd, &result);
}

int
server_fsm_save (void *arg, uint8_t **body, size_t *len)
{
    return chat_snapshot_save (((server_t *) arg)->chat, body, len);
}

int
server_fsm_load (void *arg, const uint8_t *body, size_t len)
{
    zc_code_t code = chat_snapshot_load (((server_t *) arg)->chat, body, len);
    if (code != ZC_OK)
        blog ("snapshot_unloadable", "bytes=%zu code=%s", len, zc_code_name (code));
    return code == ZC_OK ? 0 : -1;
}

static void
s_send_list (server_t *self, pending_t *pending)
{
    const chat_t *chat = self->chat;
    size_t max = (size_t) chat_user_count (chat) + 1, n = 0;
    zc_bytes_t *names = (zc_bytes_t *) malloc (max * sizeof (zc_bytes_t));
    char err [256] = "";
    zc_code_t code = names ? chat_list (chat, pending->pattern, pending->pattern_len, names, max,
                                        &n, err, sizeof err)
                           : ZC_ERR_INTERNAL;
    if (code != ZC_OK) {
        server_error_about (self, pending->routing, pending->routing_len, ZC_CMD_LIST, pending->seq,
                            code, NULL, 0);
        free (names);
        return;
    }
    if (n > max)
        n = max;
    size_t sent = 0;
    do {
        zc_frame_t frame;
        zc_frame_init (&frame, ZC_CMD_REPLY);
        frame.fields = ZC_F_RE | ZC_F_SEQ | ZC_F_CODE | ZC_F_USERS | ZC_F_MORE;
        frame.re = ZC_CMD_LIST;
        frame.seq = pending->seq;
        while (frame.n_users < ZC_LIST_MAX_NAMES && sent < n)
            frame.users [frame.n_users++] = names [sent++];
        frame.more = sent < n;
        server_send (self, pending->routing, pending->routing_len, &frame);
    } while (sent < n);
    free (names);
}

void
server_on_read_ready (void *arg, uint64_t ctx, bool ok)
{
    server_t *self = (server_t *) arg;
    pending_t *pending = admission_find_read (self->admission, ctx);
    if (!pending)
        return;
    if (pending->cmd != ZC_CMD_LIST) {
        login_read_ready (self, pending, ok);
        return;
    }
    if (ok)
        s_send_list (self, pending);
    else
        server_redirect (self, pending->routing, pending->routing_len, ZC_CMD_LIST, pending->seq);
    admission_answered (self->admission, pending);
}

static void
s_redirect_pending (void *arg, pending_t *pending)
{
    server_t *self = (server_t *) arg;
    server_redirect (self, pending->routing, pending->routing_len, pending->cmd, pending->seq);
}

void
server_on_role (void *arg, raft_role_t role, uint32_t leader, uint64_t term)
{
    (void) term;
    server_t *self = (server_t *) arg;
    bool was_leader = self->leader;
    self->leader = role == RAFT_LEADER;
    self->leader_id = leader;
    if (!was_leader || self->leader)
        return;
    /* lost leadership: every waiting requester retries at the new leader; the secret
       checks still running will never report, so the throttle forgets them */
    admission_clear (self->admission, s_redirect_pending, self);
    auth_throttle_clear (self->throttle);
    sessions_end_all (self->sessions, server_tell_session_moved, self);
}
