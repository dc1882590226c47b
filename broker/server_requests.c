/*  server_requests.c - client requests on the leader: checks, admission, and the
    way into the log (writes) or a ReadIndex read (LIST); STATUS from the replica's
    view of its members. Invariant: nothing the client sends is trusted: a SEND's
    sender is the connection's proved user. */
#include "server_internal.h"
#include "blog.h"

/* ---- requests */

zc_code_t
server_log_command (server_t *self, zc_command_t *cmd)
{
    cmd->ts = (uint64_t) zclock_time ();
    uint8_t buf [ZC_COMMAND_MAX];
    size_t len;
    zc_code_t code = zc_command_encode (cmd, buf, sizeof buf, &len);
    if (code != ZC_OK)
        return code;
    switch (replica_propose (self->replica, buf, len)) {
        case RAFT_OK: self->stats.proposals++; return ZC_OK;
        case RAFT_ERR_NOT_LEADER: return ZC_ERR_NOT_LEADER;
        case RAFT_ERR_TOO_LARGE: return ZC_ERR_TOO_LARGE;
        case RAFT_ERR_BUSY:
        case RAFT_ERR_NO_SUCH_NODE:    /* (transfers only) */
        case RAFT_ERR_BAD_CONF: break; /* (membership only: commands never pose as one) */
    }
    return ZC_ERR_BUSY;
}

void
server_propose (server_t *self, pending_t *pending, zc_command_t *cmd)
{
    zc_code_t code = server_log_command (self, cmd);
    if (code == ZC_OK) {
        self->proposed = true;
        pending->proposed_us = zclock_usecs ();
        admission_accepted (self->admission, pending);
        return;
    }
    if (code == ZC_ERR_NOT_LEADER)
        server_redirect (self, pending->routing, pending->routing_len, pending->cmd, pending->seq);
    else
        server_error_about (self, pending->routing, pending->routing_len, pending->cmd,
                            pending->seq, code, NULL, 0);
    if (code == ZC_ERR_BUSY)
        admission_refused (self->admission, pending);
    else /* final: a login that held the client's later writes lets them go */
        admission_ended (self->admission, pending);
}

static bool
s_bytes_eq (zc_bytes_t a, const char *b)
{
    size_t len = strlen (b);
    return a.len == len && (len == 0 || memcmp (a.ptr, b, len) == 0);
}

/* The sender of a SEND is the user this connection proved it is, never what the frame
   claims. False (answered) when the frame claims someone else, or when anonymous
   sends are off and the connection proved nothing. */
static bool
s_sender (server_t *self, conn_t *conn, const zc_frame_t *frame, zc_bytes_t *from)
{
    const char *user = conn->session ? conn->session->user : "";
    *from = (zc_bytes_t) { user, (uint32_t) strlen (user) };
    char text [160];
    if ((frame->fields & ZC_F_FROM) && frame->from.len && !s_bytes_eq (frame->from, user)) {
        snprintf (text, sizeof text, "'from' is set by the server: this connection is %s%s%s",
                  *user ? "connected as '" : "not connected as any user", user, *user ? "'" : "");
        server_error (self, conn->id, conn->len, ZC_CMD_SEND, frame->seq, ZC_ERR_FORBIDDEN, text);
        return false;
    }
    if (!*user && self->config->require_login) {
        server_error (self, conn->id, conn->len, ZC_CMD_SEND, frame->seq, ZC_ERR_FORBIDDEN,
                      "this cluster takes messages only from connected users: connect NAME first");
        return false;
    }
    return true;
}

void
server_propose_request (server_t *self, conn_t *conn, const zc_frame_t *frame)
{
    if (!zc_name_valid (frame->name.ptr, frame->name.len)) {
        server_error_about (self, conn->id, conn->len, frame->cmd, frame->seq, ZC_ERR_BAD_NAME,
                            frame->name.ptr, frame->name.len);
        return;
    }
    if (frame->cmd == ZC_CMD_SEND && frame->text.len > ZC_TEXT_MAX) {
        server_error_about (self, conn->id, conn->len, frame->cmd, frame->seq, ZC_ERR_TEXT_TOO_LONG,
                            NULL, 0);
        return;
    }
    zc_bytes_t from = { "", 0 };
    if (frame->cmd == ZC_CMD_SEND && !s_sender (self, conn, frame, &from))
        return;
    if (login_needed (frame->cmd) && !login_admit (self, conn, frame))
        return;
    pending_t *pending = NULL;
    admit_t admit =
        admission_admit (self->admission, frame->cid, frame->seq, conn->id, conn->len, &pending);
    if (admit == ADMIT_REFUSED) {
        server_error_about (self, conn->id, conn->len, frame->cmd, frame->seq, ZC_ERR_BUSY, NULL,
                            0);
        return;
    }
    if (admit == ADMIT_IN_FLIGHT)
        return; /* already in our log (or being checked): that answers */
    pending->cmd = frame->cmd;
    pending->shown_mseq = frame->mseq;
    pending->shown_epoch = (frame->fields & ZC_F_EPOCH) ? frame->epoch : 0;
    if (login_needed (frame->cmd)) {
        login_start (self, conn, pending, frame);
        return;
    }
    zc_command_t cmd = { .op = ZC_OP_SEND,
                         .cid = frame->cid,
                         .seq = frame->seq,
                         .name = frame->name,
                         .from = from,
                         .text = frame->text };
    server_propose (self, pending, &cmd);
}

void
server_start_list (server_t *self, conn_t *conn, const zc_frame_t *frame)
{
    if (frame->text.len > ZC_PATTERN_MAX) {
        server_error_about (self, conn->id, conn->len, ZC_CMD_LIST, frame->seq, ZC_ERR_TOO_LARGE,
                            NULL, 0);
        return;
    }
    pending_t *pending = admission_add_read (self->admission);
    if (!pending) {
        server_error_about (self, conn->id, conn->len, ZC_CMD_LIST, frame->seq, ZC_ERR_BUSY, NULL,
                            0);
        return;
    }
    pending->cid = frame->cid;
    pending->seq = frame->seq;
    memcpy (pending->routing, conn->id, conn->len);
    pending->routing_len = conn->len;
    if (frame->text.len)
        memcpy (pending->pattern, frame->text.ptr, frame->text.len);
    pending->pattern_len = frame->text.len;
    if (replica_read (self->replica, pending->read_ctx) != RAFT_OK) {
        admission_answered (self->admission, pending);
        server_redirect (self, conn->id, conn->len, ZC_CMD_LIST, frame->seq);
    }
}

void
server_status (server_t *self, conn_t *conn, const zc_frame_t *request)
{
    zc_frame_t frame;
    zc_frame_init (&frame, ZC_CMD_REPLY);
    frame.fields = ZC_F_RE | ZC_F_SEQ | ZC_F_CODE;
    frame.re = ZC_CMD_STATUS;
    frame.seq = request->seq;
    replica_member_t members [RAFT_MAX_NODES];
    uint32_t n = replica_members (self->replica, self->now_ms, members, RAFT_MAX_NODES);
    frame.fields |= ZC_F_REPLICAS | ZC_F_STATS;
    frame.n_replicas = n;
    for (uint32_t i = 0; i < n; i++) {
        zc_replica_status_t *out = &frame.replicas [i];
        out->id = members [i].id;
        snprintf (out->role, sizeof out->role, "%s",
                  members [i].reachable ? raft_role_name (members [i].role) : "unreachable");
        out->term = members [i].term;
        out->commit = members [i].commit;
        out->applied = members [i].applied;
        out->last_index = members [i].last_index;
    }
    frame.n_users_total = chat_user_count (self->chat);
    frame.n_queued = chat_queued_count (self->chat);
    frame.n_sessions = sessions_count (self->sessions);
    server_send (self, conn->id, conn->len, &frame);
}
