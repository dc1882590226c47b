/*  server.c - the broker's one event loop. Per turn: drain the sockets (bounded), tick
    the core, run the ready cycle (one fdatasync covers every proposal of the turn:
    group commit), then push to sessions. Replies are sent only after the entry they
    answer is committed and applied; a read only after its ReadIndex is confirmed. */
#include "server_internal.h"
#include "advertise.h"
#include "blog.h"
#include "restore.h"

#define DRAIN_CLIENT_MAX 4096
#define DRAIN_PEER_MAX 1024
#define POLL_MS 5
#define SWEEP_MS 500
#define CLIENT_MAXMSG 65536     /* larger is dropped by libzmq; up to this gets TOO_LARGE */
#define PUSH_BATCH 32
#define CLIENT_SNDHWM 8192    /* a full LIST of 100,000 users is 4,167 frames */
/* A client's acks are put into the log with the next write, or after this long: an
   ack is a write of its own otherwise, and one more fdatasync on every replica for
   each message pushed. Delaying it only delays freeing the queue; the client's own
   record of what it showed is what keeps a message from being shown twice. */
#define ACK_DELAY_MS 20


/* ---- sending */

/* Returns false when the frame was not queued (client gone or its pipe full). */
static bool
s_send (server_t *self, const uint8_t *routing, size_t routing_len, const zc_frame_t *frame)
{
    uint8_t buf [ZC_FRAME_MAX];
    size_t len;
    zc_code_t code = zc_frame_encode (frame, buf, sizeof buf, &len);
    if (code != ZC_OK) {
        blog ("encode_failed", "cmd=%s code=%s", zc_cmd_name (frame->cmd), zc_code_name (code));
        return false;
    }
    void *sock = self->clients;
    /* ROUTER_MANDATORY: a gone or full client fails here instead of silently; once the
       routing part is accepted, the body part always is (same pipe, atomic message) */
    if (zmq_send (sock, routing, routing_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) != (int) routing_len)
        return false;
    return zmq_send (sock, buf, len, ZMQ_DONTWAIT) == (int) len;
}

bool
server_send (server_t *self, const uint8_t *routing, size_t routing_len, const zc_frame_t *frame)
{
    return s_send (self, routing, routing_len, frame);
}

static void
s_error_text (zc_code_t code, const char *name, size_t name_len, char *text, size_t size)
{
    int n = (int) name_len;
    switch (code) {
        case ZC_ERR_NO_SUCH_USER: snprintf (text, size, "user '%.*s' does not exist", n, name); break;
        case ZC_ERR_USER_EXISTS: snprintf (text, size, "user '%.*s' already exists", n, name); break;
        case ZC_ERR_BAD_NAME:
            snprintf (text, size, "bad user name '%.*s': use 1-32 of A-Z a-z 0-9 _ . -", n, name);
            break;
        case ZC_ERR_QUEUE_FULL: snprintf (text, size, "queue of user '%.*s' is full", n, name); break;
        default: snprintf (text, size, "%s", zc_code_text (code)); break;
    }
}

void
server_error (server_t *self, const uint8_t *routing, size_t routing_len, int re, uint64_t seq,
              zc_code_t code, const char *text)
{
    zc_frame_t frame;
    zc_frame_init (&frame, ZC_CMD_ERROR);
    if (code > 0 && code < ZC_CODE__COUNT)
        self->stats.refused [code]++;
    if (!text)
        text = zc_code_text (code);
    frame.fields = ZC_F_SEQ | ZC_F_CODE | ZC_F_TEXT;
    frame.seq = seq;
    frame.code = code;
    frame.text = (zc_bytes_t) { text, (uint32_t) strlen (text) };
    if (re >= 0) {
        frame.fields |= ZC_F_RE;
        frame.re = (zc_cmd_t) re;
    }
    char leader [300];
    if (code == ZC_ERR_NOT_LEADER && self->leader_id
        && advertise_address (self->config, self->replica, self->leader_id, leader, sizeof leader)) {
        frame.fields |= ZC_F_LEADER;
        frame.leader = (zc_bytes_t) { leader, (uint32_t) strlen (leader) };
    }
    s_send (self, routing, routing_len, &frame);
}

static void
s_error (server_t *self, const uint8_t *routing, size_t routing_len, int re, uint64_t seq,
         zc_code_t code, const char *name, size_t name_len)
{
    char text [256];
    s_error_text (code, name ? name : "", name ? name_len : 0, text, sizeof text);
    server_error (self, routing, routing_len, re, seq, code, text);
}

/* Not the leader: say who is, or that nobody is known to be. */
void
server_redirect (server_t *self, const uint8_t *routing, size_t routing_len, int re, uint64_t seq)
{
    s_error (self, routing, routing_len, re, seq,
             self->leader_id ? ZC_ERR_NOT_LEADER : ZC_ERR_UNAVAILABLE, NULL, 0);
}

/* ---- sessions: binding, pushing, acknowledging */

static void
s_tell_closed (server_t *self, conn_t *conn, const char *user, zc_code_t why)
{
    zc_frame_t frame;
    zc_frame_init (&frame, ZC_CMD_CLOSED);
    char text [128];
    snprintf (text, sizeof text, why == ZC_ERR_REPLACED
              ? "session of '%s' taken over by another connect" : "user '%s' was deleted", user);
    frame.fields = ZC_F_NAME | ZC_F_CODE | ZC_F_TEXT;
    frame.name = (zc_bytes_t) { user, (uint32_t) strlen (user) };
    frame.code = why;
    frame.text = (zc_bytes_t) { text, (uint32_t) strlen (text) };
    s_send (self, conn->id, conn->len, &frame);
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
            if (!s_send (self, session->conn->id, session->conn->len, &frame)) {
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
    zc_command_t cmd = {
        .op = ZC_OP_ACK, .name = { session->user, (uint32_t) strlen (session->user) },
        .epoch = session->epoch, .mseq = session->acked
    };
    if (server_log_command (self, &cmd) != ZC_OK)
        return false;
    session->ack_proposed = session->acked;
    return true;
}

/* Runs before the ready cycle, so acks share the turn's fdatasync with other writes. */
static void
s_propose_acks (server_t *self)
{
    uint64_t since;
    if (!self->leader || !sessions_acks_due (self->sessions, &since))
        return;
    if (!self->proposed && self->now_ms - since < ACK_DELAY_MS)
        return;
    session_t *session;
    while ((session = sessions_next_ack_due (self->sessions))) {
        if (!s_propose_ack (self, session)) {
            sessions_ack_due (self->sessions, session, self->now_ms);    /* log full: later */
            return;
        }
    }
}

static void
s_pump_sessions (server_t *self)
{
    if (!self->leader)
        return;
    session_t *session;
    while ((session = sessions_next_marked (self->sessions)))
        s_push (self, session);
}

static bool
s_session_matches (const session_t *session, const zc_frame_t *frame)
{
    return session && session->epoch == frame->epoch && frame->name.len == strlen (session->user)
        && memcmp (frame->name.ptr, session->user, frame->name.len) == 0;
}

static void
s_handle_ack (server_t *self, conn_t *conn, const zc_frame_t *frame)
{
    session_t *session = conn->session;
    if (!s_session_matches (session, frame)) {
        s_error (self, conn->id, conn->len, ZC_CMD_ACK, frame->seq, ZC_ERR_NOT_CONNECTED, NULL, 0);
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

static void
s_bind (server_t *self, pending_t *pending, const zc_command_t *cmd, uint64_t epoch, uint64_t last)
{
    conn_t *conn = sessions_touch (self->sessions, pending->routing, pending->routing_len, self->now_ms);
    if (!conn)
        return;
    char user [ZC_NAME_MAX + 1];
    snprintf (user, sizeof user, "%.*s", (int) cmd->name.len, cmd->name.ptr);
    /* what the client showed counts only for the incarnation it showed it from */
    uint64_t shown = pending->shown_epoch == epoch ? pending->shown_mseq : 0;
    if (last && shown > last)      /* last is 0 when a retry was answered from the table */
        shown = last;
    conn_t *replaced = NULL;
    sessions_bind (self->sessions, conn, user, epoch, shown, self->now_ms, &replaced);
    if (replaced)
        s_tell_closed (self, replaced, user, ZC_ERR_REPLACED);
    blog ("session_bound", "user=%s epoch=%llu shown=%llu replaced=%d", user,
          (unsigned long long) epoch, (unsigned long long) shown, replaced != NULL);
}

static void
s_reply_applied (server_t *self, pending_t *pending, const zc_command_t *cmd,
                 const chat_result_t *result)
{
    if (result->code != ZC_OK) {
        s_error (self, pending->routing, pending->routing_len, pending->cmd, pending->seq,
                 result->code, cmd->name.ptr, cmd->name.len);
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
        bind = chat_user_exists (self->chat, cmd->name.ptr, cmd->name.len,
                                 &current) && current == epoch;
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
        s_bind (self, pending, cmd, epoch, last);
    s_send (self, pending->routing, pending->routing_len, &frame);
    if (pending->cmd == ZC_CMD_CONNECT && !bind) {
        conn_t *conn = sessions_touch (self->sessions, pending->routing, pending->routing_len,
                                       self->now_ms);
        char user [ZC_NAME_MAX + 1];
        snprintf (user, sizeof user, "%.*s", (int) cmd->name.len, cmd->name.ptr);
        if (conn)
            s_tell_closed (self, conn, user, ZC_ERR_USER_DELETED);
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
            s_tell_closed (self, session->conn, session->user, ZC_ERR_USER_DELETED);
        sessions_end (self->sessions, session);
    }
}

/* ---- the state machine the replica drives */

static void
s_fsm_apply (void *arg, uint64_t index, const uint8_t *data, size_t len)
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

static int
s_fsm_save (void *arg, uint8_t **body, size_t *len)
{
    return chat_snapshot_save (((server_t *) arg)->chat, body, len);
}

static int
s_fsm_load (void *arg, const uint8_t *body, size_t len)
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
        s_error (self, pending->routing, pending->routing_len, ZC_CMD_LIST, pending->seq, code, NULL, 0);
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
        s_send (self, pending->routing, pending->routing_len, &frame);
    } while (sent < n);
    free (names);
}

static void
s_on_read_ready (void *arg, uint64_t ctx, bool ok)
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
s_tell_session_moved (void *arg, conn_t *conn, session_t *session)
{
    (void) session;
    server_t *self = (server_t *) arg;
    server_redirect (self, conn->id, conn->len, ZC_CMD_CONNECT, 0);
}

static void
s_redirect_pending (void *arg, pending_t *pending)
{
    server_t *self = (server_t *) arg;
    server_redirect (self, pending->routing, pending->routing_len, pending->cmd, pending->seq);
}

static void
s_on_role (void *arg, raft_role_t role, uint32_t leader, uint64_t term)
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
    sessions_end_all (self->sessions, s_tell_session_moved, self);
}

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
        case RAFT_ERR_BUSY: case RAFT_ERR_NO_SUCH_NODE: break;   /* (transfers only) */
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
        s_error (self, pending->routing, pending->routing_len, pending->cmd, pending->seq, code,
                 NULL, 0);
    if (code == ZC_ERR_BUSY)
        admission_refused (self->admission, pending);
    else        /* final: a login that held the client's later writes lets them go */
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

static void
s_propose_request (server_t *self, conn_t *conn, const zc_frame_t *frame)
{
    if (!zc_name_valid (frame->name.ptr, frame->name.len)) {
        s_error (self, conn->id, conn->len, frame->cmd, frame->seq, ZC_ERR_BAD_NAME,
                 frame->name.ptr, frame->name.len);
        return;
    }
    if (frame->cmd == ZC_CMD_SEND && frame->text.len > ZC_TEXT_MAX) {
        s_error (self, conn->id, conn->len, frame->cmd, frame->seq, ZC_ERR_TEXT_TOO_LONG, NULL, 0);
        return;
    }
    zc_bytes_t from = { "", 0 };
    if (frame->cmd == ZC_CMD_SEND && !s_sender (self, conn, frame, &from))
        return;
    if (login_needed (frame->cmd) && !login_admit (self, conn, frame))
        return;
    pending_t *pending = NULL;
    admit_t admit = admission_admit (self->admission, frame->cid, frame->seq, conn->id, conn->len,
                                     &pending);
    if (admit == ADMIT_REFUSED) {
        s_error (self, conn->id, conn->len, frame->cmd, frame->seq, ZC_ERR_BUSY, NULL, 0);
        return;
    }
    if (admit == ADMIT_IN_FLIGHT)
        return;     /* already in our log (or being checked): that answers */
    pending->cmd = frame->cmd;
    pending->shown_mseq = frame->mseq;
    pending->shown_epoch = (frame->fields & ZC_F_EPOCH) ? frame->epoch : 0;
    if (login_needed (frame->cmd)) {
        login_start (self, conn, pending, frame);
        return;
    }
    zc_command_t cmd = {
        .op = ZC_OP_SEND, .cid = frame->cid, .seq = frame->seq, .name = frame->name,
        .from = from, .text = frame->text
    };
    server_propose (self, pending, &cmd);
}

static void
s_start_list (server_t *self, conn_t *conn, const zc_frame_t *frame)
{
    if (frame->text.len > ZC_PATTERN_MAX) {
        s_error (self, conn->id, conn->len, ZC_CMD_LIST, frame->seq, ZC_ERR_TOO_LARGE, NULL, 0);
        return;
    }
    pending_t *pending = admission_add_read (self->admission);
    if (!pending) {
        s_error (self, conn->id, conn->len, ZC_CMD_LIST, frame->seq, ZC_ERR_BUSY, NULL, 0);
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

static void
s_status (server_t *self, conn_t *conn, const zc_frame_t *request)
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
    s_send (self, conn->id, conn->len, &frame);
}

static void
s_dispatch (server_t *self, conn_t *conn, const zc_frame_t *frame)
{
    if ((frame->fields & ZC_F_CID) && frame->cid == 0) {
        /* cid 0 marks entries that are no client's request: it would never be answered */
        s_error (self, conn->id, conn->len, frame->cmd, frame->seq, ZC_ERR_BAD_CLIENT_ID, NULL, 0);
        return;
    }
    switch (frame->cmd) {
        case ZC_CMD_PING: {
            if ((frame->fields & ZC_F_NAME) && !s_session_matches (conn->session, frame)) {
                /* the client believes in a session we do not have: make it resume */
                if (self->leader)
                    s_error (self, conn->id, conn->len, ZC_CMD_PING, 0, ZC_ERR_NOT_CONNECTED, NULL, 0);
                else
                    server_redirect (self, conn->id, conn->len, ZC_CMD_PING, 0);
                return;
            }
            zc_frame_t pong;
            zc_frame_init (&pong, ZC_CMD_PONG);
            pong.fields = ZC_F_TS;
            pong.ts = (uint64_t) zclock_time ();
            s_send (self, conn->id, conn->len, &pong);
            return;
        }
        case ZC_CMD_STATUS: s_status (self, conn, frame); return;
        case ZC_CMD_REPLY: case ZC_CMD_ERROR: case ZC_CMD_MESSAGE: case ZC_CMD_PONG:
        case ZC_CMD_CLOSED: case ZC_CMD__COUNT:
            s_error (self, conn->id, conn->len, -1, frame->seq, ZC_ERR_UNKNOWN_COMMAND, NULL, 0);
            return;
        default: break;
    }
    if (!self->leader) {
        server_redirect (self, conn->id, conn->len, frame->cmd, frame->seq);
        return;
    }
    if (frame->cmd == ZC_CMD_ACK)
        s_handle_ack (self, conn, frame);
    else if (frame->cmd == ZC_CMD_LIST)
        s_start_list (self, conn, frame);
    else if (frame->cmd == ZC_CMD_TRANSFER)
        admin_transfer (self, conn, frame);
    else if (frame->cmd == ZC_CMD_BACKUP)
        backup_request (self, conn, frame);
    else
        s_propose_request (self, conn, frame);
}

/* One client message: [routing id][frame]. Anything else is answered, never trusted.
   parts counts the message's parts (ROUTER adds the routing id). Returns true when the
   frame carried a secret (the caller wipes the buffer). */
static bool
s_client_message (server_t *self, const uint8_t *routing, size_t routing_len,
                  const uint8_t *body, size_t body_len, int parts)
{
    if (routing_len == 0 || routing_len > ROUTING_ID_MAX)
        return parts >= 2;
    zc_code_t code = ZC_OK;
    zc_frame_t frame;
    if (parts != 2)
        code = ZC_ERR_BAD_TYPE;          /* one frame per message */
    else if (body_len > ZC_FRAME_MAX)
        code = ZC_ERR_TOO_LARGE;
    else
        code = zc_frame_decode (body, body_len, &frame);
    if (code != ZC_OK) {
        s_error (self, routing, routing_len, -1, 0, code, NULL, 0);
        return parts >= 2;
    }
    conn_t *conn = sessions_touch (self->sessions, routing, routing_len, self->now_ms);
    if (!conn)      /* answered with the request's own seq, so the client can match it */
        s_error (self, routing, routing_len, frame.cmd, frame.seq, ZC_ERR_TOO_MANY_CLIENTS, NULL, 0);
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
    const config_peer_t *me = &config->peers [config->id - 1];
    if (self->clients) {
        curve_serve_clients (self->curve, self->clients);
        zsock_set_router_mandatory (self->clients, 1);
        /* per connection: a reply per request in flight plus the push window, with
           room; a client that does not read is then refused, not buffered for */
        zsock_set_sndhwm (self->clients, CLIENT_SNDHWM);
        zsock_set_rcvhwm (self->clients, 100000);
        zsock_set_maxmsgsize (self->clients, CLIENT_MAXMSG);
        zsock_set_linger (self->clients, 0);
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
    replica_fsm_t fsm = { self, s_fsm_apply, s_fsm_save, s_fsm_load };
    replica_hooks_t hooks = { s_on_read_ready, s_on_role };
    replica_config_t replica_config = {
        .raft = { .id = config->id, .n = config->n, .election_timeout_ms = config->election_timeout_ms,
                  .heartbeat_ms = config->heartbeat_ms,
                  .seed = self->now_ms ^ ((uint64_t) getpid () << 32) },
        .snapshot_entries = config->snapshot_entries, .name = config->data_dir,
        .advertise = config->advertise
    };
    if (self->io)
        self->replica = replica_new (&replica_config, &io, &fsm, &hooks, self, self->now_ms, err,
                                     sizeof err);
    if (!self->replica) {
        /* the WAL says "refusing to start" of damage that --repair can cut */
        bool repairable = strstr (err, "refusing to start") && !config->repair;
        blog ("data_unusable", "data=%s reason=\"%s\"%s", config->data_dir, err,
              repairable ? " hint=\"zchat-broker --repair cuts the log at the damage"
                           " (README: Repairing a replica)\"" : "");
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
        while (zmq_msg_more (parts == 1 ? &routing : &body) && zmq_msg_recv (&extra, sock, 0) >= 0) {
            parts++;            /* drain a multi-part message: it is answered, not used */
            if (!zmq_msg_more (&extra))
                break;
        }
        bool secret = s_client_message (self, (const uint8_t *) zmq_msg_data (&routing),
                                        zmq_msg_size (&routing),
                                        parts >= 2 ? (const uint8_t *) zmq_msg_data (&body) : NULL,
                                        parts >= 2 ? zmq_msg_size (&body) : 0, parts);
        if (secret)     /* the frame's copy of a secret must not linger in freed memory */
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
        for (uint32_t i = 0; i < n_pipes; i++)
            if (items [3 + i].revents & ZMQ_POLLIN)
                login_drain (self, pipes [i]);
        s_propose_acks (self);
        replica_tick (self->replica, self->now_ms);
        if (replica_process (self->replica, self->now_ms) < 0) {
            blog ("stopping", "reason=\"storage failed: cannot promise durability\"");
            return -1;
        }
        s_pump_sessions (self);
        admin_tick (self);
        server_metrics_publish (self);
        if (self->now_ms - self->swept_ms >= SWEEP_MS) {
            self->swept_ms = self->now_ms;
            size_t expired = sessions_sweep (self->sessions, self->now_ms,
                                             self->config->session_timeout_ms);
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
