/*  login.c - requests that need a user's secret: CREATE (hash it), CONNECT, DELETE
    and PASSWD (check it, PASSWD then hashes the new one).

    The path of a checked request, all on the leader:
        admit     sizes and throttling, answered at once when refused
        read      a ReadIndex read, so the credential checked is the current one
                  (a new leader may not have applied everything yet)
        check     Argon2id on a worker thread (auth_worker.h), never on this loop
        propose   the log entry names the incarnation (epoch) whose secret was
                  checked, so a user deleted and re-created meanwhile is not touched
    The entry carries the hash, never the secret. Failures are throttled per user and
    per connection and logged without the secret. */
#include <assert.h>
#include "server_internal.h"
#include "blog.h"

/* Client-chosen routing ids of this length are unguessable (and CURVE hides them):
   libzmq's own are 5 counting bytes, which a stranger can claim once the owner's
   connection drops, and with it the pushes of a bound session. */
#define LOGIN_ROUTING_ID_MIN 16

bool
login_needed (zc_cmd_t cmd)
{
    return cmd == ZC_CMD_CREATE || cmd == ZC_CMD_CONNECT || cmd == ZC_CMD_DELETE
           || cmd == ZC_CMD_PASSWD;
}

static bool
s_secret_ok (zc_bytes_t secret)
{
    return secret.len >= 1 && secret.len <= ZC_SECRET_MAX;
}

bool
login_admit (server_t *self, conn_t *conn, const zc_frame_t *frame)
{
    if (!s_secret_ok (frame->secret)
        || (frame->cmd == ZC_CMD_PASSWD && !s_secret_ok (frame->new_secret))) {
        server_error (self, conn->id, conn->len, frame->cmd, frame->seq, ZC_ERR_BAD_SECRET, NULL);
        return false;
    }
    if (frame->cmd == ZC_CMD_CONNECT && conn->len < LOGIN_ROUTING_ID_MIN) {
        server_error (self, conn->id, conn->len, frame->cmd, frame->seq, ZC_ERR_FORBIDDEN,
                      "CONNECT needs a connection with a random routing id of 16 bytes or more "
                      "(PROTOCOL.md, Transport)");
        return false;
    }
    if (frame->cmd == ZC_CMD_CREATE)
        return true;
    char user [ZC_NAME_MAX + 1];
    snprintf (user, sizeof user, "%.*s", (int) frame->name.len, frame->name.ptr);
    uint64_t wait_user = auth_throttle_wait_ms (self->throttle, THROTTLE_USER, user, self->now_ms);
    uint64_t wait_conn =
        auth_throttle_wait_ms (self->throttle, THROTTLE_CONN, conn->key, self->now_ms);
    uint64_t wait = wait_user > wait_conn ? wait_user : wait_conn;
    if (wait == 0)
        return true;
    char text [160];
    snprintf (text, sizeof text, "too many failed logins %s '%s': retry in %llu ms",
              wait_user >= wait_conn ? "for user" : "from this connection for", user,
              (unsigned long long) wait);
    server_error (self, conn->id, conn->len, frame->cmd, frame->seq, ZC_ERR_THROTTLED, text);
    self->throttled++;
    self->stats.auth_throttled++;
    return false;
}

typedef enum { S_ABANDONED, S_FAILED, S_SUCCEEDED } s_outcome_t;

/* End the attempt's place in the throttle (once). Returns the failures now counted
   for the user and the connection when it failed. */
static void
s_throttle_end (server_t *self, pending_t *pending, s_outcome_t outcome, uint32_t *fails)
{
    pending_auth_t *auth = pending->auth;
    if (!auth || !auth->throttled)
        return;
    auth->throttled = false;
    const char *keys [2] = { auth->name, auth->conn_key };
    for (int kind = THROTTLE_USER; kind <= THROTTLE_CONN; kind++) {
        if (outcome == S_FAILED)
            fails [kind] = auth_throttle_failed (self->throttle, kind, keys [kind], self->now_ms);
        else if (outcome == S_SUCCEEDED)
            auth_throttle_succeeded (self->throttle, kind, keys [kind]);
        else
            auth_throttle_abandoned (self->throttle, kind, keys [kind]);
    }
}

/* Answered with NOT_LEADER/UNAVAILABLE: the client tries elsewhere. */
static void
s_redirect (server_t *self, pending_t *pending)
{
    s_throttle_end (self, pending, S_ABANDONED, NULL);
    server_redirect (self, pending->routing, pending->routing_len, pending->cmd, pending->seq);
    admission_ended (self->admission, pending);
}

/* The request ends here with an error: its client's later writes may go on. */
static void
s_end (server_t *self, pending_t *pending, zc_code_t code, const char *text)
{
    s_throttle_end (self, pending, S_ABANDONED, NULL);
    server_error (self, pending->routing, pending->routing_len, pending->cmd, pending->seq, code,
                  text);
    admission_ended (self->admission, pending);
}

static void
s_copy (char *dst, uint32_t *dst_len, zc_bytes_t src)
{
    memcpy (dst, src.ptr, src.len);
    *dst_len = src.len;
}

/* Hand the check to a worker (cred: the stored hash, for a check); BUSY when they are
   all taken. */
static void
s_submit (server_t *self, pending_t *pending, auth_job_kind_t kind, zc_bytes_t cred)
{
    pending_auth_t *auth = pending->auth;
    auth_job_t job;
    memset (&job, 0, sizeof job);
    job.kind = kind;
    job.cid = pending->cid;
    job.seq = pending->seq;
    job.gen = auth->gen;
    memcpy (job.secret, auth->secret, auth->secret_len);
    job.secret_len = auth->secret_len;
    memcpy (job.new_secret, auth->new_secret, auth->new_secret_len);
    job.new_secret_len = auth->new_secret_len;
    snprintf (job.cred_in, sizeof job.cred_in, "%.*s", (int) cred.len, cred.ptr);
    int rc = auth_worker_submit (self->auth, &job);
    auth_job_wipe (&job);
    if (rc == 0)
        return;
    s_throttle_end (self, pending, S_ABANDONED, NULL);
    server_error (self, pending->routing, pending->routing_len, pending->cmd, pending->seq,
                  ZC_ERR_BUSY, "too many secrets being checked: retry later");
    admission_refused (self->admission, pending);
}

void
login_start (server_t *self, const conn_t *conn, pending_t *pending, const zc_frame_t *frame)
{
    pending_auth_t *auth = (pending_auth_t *) calloc (1, sizeof (pending_auth_t));
    if (!auth) {
        server_error (self, pending->routing, pending->routing_len, pending->cmd, pending->seq,
                      ZC_ERR_INTERNAL, "out of memory");
        admission_ended (self->admission, pending);
        return;
    }
    pending->auth = auth;
    snprintf (auth->name, sizeof auth->name, "%.*s", (int) frame->name.len, frame->name.ptr);
    s_copy (auth->secret, &auth->secret_len, frame->secret);
    if (frame->fields & ZC_F_NEW_SECRET)
        s_copy (auth->new_secret, &auth->new_secret_len, frame->new_secret);
    auth->gen = ++self->auth_gen;
    memcpy (auth->conn_key, conn->key, sizeof auth->conn_key);
    if (frame->cmd != ZC_CMD_CREATE) {
        /* counted from now: guesses sent together must not all pass the throttle */
        auth_throttle_begin (self->throttle, THROTTLE_USER, auth->name);
        auth_throttle_begin (self->throttle, THROTTLE_CONN, auth->conn_key);
        auth->throttled = true;
    }
    /* not in the log yet: the client's later writes wait (BUSY) so they cannot
       overtake this one, as a pipelining client expects (create bob; send bob hi) */
    admission_deferred (self->admission, pending);
    if (frame->cmd == ZC_CMD_CREATE) {
        s_submit (self, pending, AUTH_JOB_HASH, (zc_bytes_t) { "", 0 });
        return;
    }
    pending_t *read = admission_add_read (self->admission);
    if (!read) {
        s_end (self, pending, ZC_ERR_BUSY, NULL);
        return;
    }
    read->cmd = pending->cmd; /* not LIST: the read belongs to a login */
    read->cid = pending->cid;
    read->seq = pending->seq;
    if (replica_read (self->replica, read->read_ctx) != RAFT_OK) {
        admission_answered (self->admission, read);
        s_redirect (self, pending);
    }
}

static zc_op_t
s_op (zc_cmd_t cmd)
{
    switch (cmd) {
        case ZC_CMD_CREATE: return ZC_OP_CREATE;
        case ZC_CMD_DELETE: return ZC_OP_DELETE;
        case ZC_CMD_CONNECT: return ZC_OP_CONNECT;
        default: assert (cmd == ZC_CMD_PASSWD); return ZC_OP_PASSWD;
    }
}

/* No incarnation has this epoch: an entry carrying it that is not answered from the
   client table fails with NO_SUCH_USER and changes nothing. */
#define S_EPOCH_NONE UINT64_MAX

/* The log entry for a checked request (epoch: the incarnation checked; cred: the new
   hash for CREATE and PASSWD, else NULL). The secrets are wiped first. */
static void
s_propose (server_t *self, pending_t *pending, uint64_t epoch, const char *cred)
{
    pending_auth_t *auth = pending->auth;
    explicit_bzero (auth->secret, sizeof auth->secret);
    explicit_bzero (auth->new_secret, sizeof auth->new_secret);
    zc_command_t cmd = {
        .op = s_op (pending->cmd),
        .cid = pending->cid,
        .seq = pending->seq,
        .name = { auth->name, (uint32_t) strlen (auth->name) },
        .epoch = epoch,
        .cred = { cred ? cred : "", cred ? (uint32_t) strlen (cred) : 0 },
    };
    server_propose (self, pending, &cmd);
}

void
login_read_ready (server_t *self, pending_t *read, bool ok)
{
    pending_t *pending = admission_find (self->admission, read->cid, read->seq);
    admission_answered (self->admission, read);
    if (!pending || !pending->auth)
        return;
    if (!ok) {
        s_redirect (self, pending);
        return;
    }
    pending_auth_t *auth = pending->auth;
    uint64_t epoch;
    zc_bytes_t cred;
    const chat_t *chat = self->chat;
    bool exists = chat_user_cred (chat, auth->name, strlen (auth->name), &epoch, &cred);
    chat_result_t earlier;
    if (!exists
        || (pending->cmd != ZC_CMD_CONNECT
            && chat_client_answered (chat, pending->cid, pending->seq, s_op (pending->cmd),
                                     &earlier))) {
        /* Nothing to check: the log answers, as for every write. A retry already
           applied (its reply was lost) gets its first answer from the client table; any
           other gets NO_SUCH_USER; the entry names no incarnation, so it touches
           nothing. A CONNECT to a user still there is checked again: it binds. */
        s_throttle_end (self, pending, S_ABANDONED, NULL);
        s_propose (self, pending, S_EPOCH_NONE, NULL);
        return;
    }
    auth->epoch = epoch;
    /* an empty credential (a user from before credentials) matches no secret */
    s_submit (self, pending, pending->cmd == ZC_CMD_PASSWD ? AUTH_JOB_CHANGE : AUTH_JOB_VERIFY,
              cred);
}

static void
s_failed (server_t *self, pending_t *pending)
{
    const char *user = pending->auth->name;
    uint32_t fails [2] = { 0, 0 };
    s_throttle_end (self, pending, S_FAILED, fails);
    self->stats.auth_failures++;
    blog ("auth_failed", "user=%s cmd=%s conn=%s user_fails=%u conn_fails=%u", user,
          zc_cmd_name (pending->cmd), pending->auth->conn_key, fails [THROTTLE_USER],
          fails [THROTTLE_CONN]);
    char text [160];
    snprintf (text, sizeof text, "wrong secret for user '%s'", user);
    s_end (self, pending, ZC_ERR_AUTH_FAILED, text);
}

static void
s_checked (server_t *self, pending_t *pending, const auth_job_t *job)
{
    if (!job->ok && pending->cmd == ZC_CMD_CREATE) {
        s_end (self, pending, ZC_ERR_INTERNAL, "cannot hash the secret (out of memory)");
        return;
    }
    if (!job->ok) {
        s_failed (self, pending);
        return;
    }
    pending_auth_t *auth = pending->auth;
    s_throttle_end (self, pending, S_SUCCEEDED, NULL);
    s_propose (self, pending, pending->cmd == ZC_CMD_CREATE ? 0 : auth->epoch, job->cred_out);
}

void
login_drain (server_t *self, void *pipe)
{
    auth_job_t job;
    while (auth_worker_recv (self->auth, pipe, &job)) {
        pending_t *pending = admission_find (self->admission, job.cid, job.seq);
        /* gone (leadership lost) or a later attempt of the same request: drop it */
        if (pending && pending->auth && pending->auth->gen == job.gen)
            s_checked (self, pending, &job);
        auth_job_wipe (&job);
    }
}
