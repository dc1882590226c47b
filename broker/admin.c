/*  admin.c - TRANSFER and the SIGTERM handover (see admin.h). */
#include "admin.h"
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advertise.h"
#include "blog.h"
#include "server_internal.h"

#define ADMIN_FAIL_WAIT_MS 1000
/* After handing over, keep answering for this long: a client whose write was
   refused (BUSY) during the transfer retries here after a jittered 25-50 ms, and must
   find a NOT_LEADER naming the new leader, not a closed port and a 1 s timeout. */
#define HANDOVER_LINGER_MS 100

typedef struct {
    bool waiting;
    uint8_t routing [ROUTING_ID_MAX];
    size_t routing_len;
    uint64_t seq;
    uint32_t target;
    uint64_t deadline_ms;
} admin_reply_t;

struct admin {
    bool enabled;
    uint8_t secret_hash [crypto_generichash_BYTES];
    uint64_t refuse_until_ms; /* after a wrong secret */
    admin_reply_t transfer;
    /* SIGTERM handover */
    bool stopping;
    uint64_t stop_deadline_ms;
    uint64_t handed_over_ms; /* 0 = not yet */
};

static int
s_read_secret (admin_t *self, const char *path, char *err, size_t err_len)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (err, err_len, "cannot read --admin-secret-file %s: %s", path, strerror (errno));
        return -1;
    }
    char line [ZC_SECRET_MAX + 3] = "";
    bool got = fgets (line, sizeof line, file) != NULL;
    fclose (file);
    size_t len = strcspn (line, "\r\n");
    int rc = 0;
    if (!got || len == 0 || len > ZC_SECRET_MAX) {
        snprintf (err, err_len,
                  "--admin-secret-file %s: the first line must hold a secret of "
                  "1-%d bytes",
                  path, ZC_SECRET_MAX);
        rc = -1;
    }
    else
        crypto_generichash (self->secret_hash, sizeof self->secret_hash, (const uint8_t *) line,
                            len, NULL, 0);
    sodium_memzero (line, sizeof line);
    return rc;
}

admin_t *
admin_new (const config_t *config, char *err, size_t err_len)
{
    if (sodium_init () < 0) {
        snprintf (err, err_len, "libsodium does not start");
        return NULL;
    }
    admin_t *self = (admin_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, err_len, "out of memory");
        return NULL;
    }
    if (*config->admin_secret_file) {
        if (s_read_secret (self, config->admin_secret_file, err, err_len)) {
            admin_destroy (&self);
            return NULL;
        }
        self->enabled = true;
    }
    return self;
}

void
admin_destroy (admin_t **self_p)
{
    if (!*self_p)
        return;
    sodium_memzero (*self_p, sizeof **self_p);
    free (*self_p);
    *self_p = NULL;
}

bool
admin_authorised (server_t *server, conn_t *conn, const zc_frame_t *frame)
{
    admin_t *self = server->admin;
    if (!self->enabled) {
        server_error (server, conn->id, conn->len, frame->cmd, frame->seq, ZC_ERR_FORBIDDEN,
                      "admin commands are off on this cluster: start the replicas with "
                      "--admin-secret-file FILE");
        return false;
    }
    if (server->now_ms < self->refuse_until_ms) {
        server_error (server, conn->id, conn->len, frame->cmd, frame->seq, ZC_ERR_THROTTLED,
                      "a wrong admin secret was given: retry in a second");
        return false;
    }
    uint8_t hash [crypto_generichash_BYTES];
    crypto_generichash (hash, sizeof hash, (const uint8_t *) frame->secret.ptr, frame->secret.len,
                        NULL, 0);
    if (crypto_verify_32 (hash, self->secret_hash) != 0) {
        self->refuse_until_ms = server->now_ms + ADMIN_FAIL_WAIT_MS;
        blog ("admin_auth_failed", "level=warning cmd=%s", zc_cmd_name (frame->cmd));
        server_error (server, conn->id, conn->len, frame->cmd, frame->seq, ZC_ERR_AUTH_FAILED,
                      "wrong admin secret");
        return false;
    }
    return true;
}

/* The target of a TRANSFER: text absent or empty = 0 (any), else a replica id. */
static bool
s_target (const server_t *server, const zc_frame_t *frame, uint32_t *target)
{
    *target = 0;
    if (!(frame->fields & ZC_F_TEXT) || frame->text.len == 0)
        return true;
    uint32_t id = 0;
    for (uint32_t i = 0; i < frame->text.len; i++) {
        char c = frame->text.ptr [i];
        if (c < '0' || c > '9' || i >= 2)
            return false;
        id = id * 10 + (uint32_t) (c - '0');
    }
    *target = id;
    return raft_conf_is_voter (raft_conf (replica_raft (server->replica)), id);
}

static uint32_t
s_transfer_target (const server_t *server)
{
    return raft_transfer_target (replica_raft (server->replica));
}

zc_code_t
admin_code (raft_err_t err)
{
    switch (err) {
        case RAFT_OK: return ZC_OK;
        case RAFT_ERR_NOT_LEADER: return ZC_ERR_NOT_LEADER;
        case RAFT_ERR_NO_SUCH_NODE: return ZC_ERR_NO_SUCH_REPLICA;
        case RAFT_ERR_BUSY: return ZC_ERR_BUSY;
        case RAFT_ERR_BAD_CONF: return ZC_ERR_BAD_MEMBERS;
        case RAFT_ERR_TOO_LARGE: break;
    }
    return ZC_ERR_INTERNAL;
}

static void
s_reply (server_t *server, const admin_reply_t *pending, uint32_t leader)
{
    char address [300], text [400];
    zc_frame_t frame;
    zc_frame_init (&frame, ZC_CMD_REPLY);
    frame.fields = ZC_F_RE | ZC_F_SEQ | ZC_F_CODE | ZC_F_TEXT;
    frame.re = ZC_CMD_TRANSFER;
    frame.seq = pending->seq;
    bool known =
        advertise_address (server->config, server->replica, leader, address, sizeof address);
    snprintf (text, sizeof text, "replica %u is the leader%s%s", leader, known ? " at " : "",
              known ? address : "");
    frame.text = (zc_bytes_t) { text, (uint32_t) strlen (text) };
    if (known) {
        frame.fields |= ZC_F_LEADER;
        frame.leader = (zc_bytes_t) { address, (uint32_t) strlen (address) };
    }
    server_send (server, pending->routing, pending->routing_len, &frame);
}

void
admin_transfer (server_t *server, conn_t *conn, const zc_frame_t *frame)
{
    admin_t *self = server->admin;
    if (!admin_authorised (server, conn, frame))
        return;
    uint32_t target;
    char text [160];
    if (!s_target (server, frame, &target)) {
        snprintf (text, sizeof text, "no voting member '%.*s' (zchat admin members lists them)",
                  frame->text.len > 16 ? 16 : (int) frame->text.len, frame->text.ptr);
        server_error (server, conn->id, conn->len, ZC_CMD_TRANSFER, frame->seq,
                      ZC_ERR_NO_SUCH_REPLICA, text);
        return;
    }
    if (self->transfer.waiting || self->stopping) {
        server_error (server, conn->id, conn->len, ZC_CMD_TRANSFER, frame->seq, ZC_ERR_BUSY,
                      "a leadership transfer is already under way");
        return;
    }
    admin_reply_t pending = { .waiting = true, .routing_len = conn->len, .seq = frame->seq };
    memcpy (pending.routing, conn->id, conn->len);
    if (target == server->config->id) {
        s_reply (server, &pending, target);
        return;
    }
    zc_code_t code = admin_code (replica_transfer (server->replica, target));
    if (code != ZC_OK) {
        server_error (server, conn->id, conn->len, ZC_CMD_TRANSFER, frame->seq, code, NULL);
        return;
    }
    pending.target = s_transfer_target (server);
    pending.deadline_ms = server->now_ms + server->config->election_timeout_ms + 100;
    self->transfer = pending;
    blog ("transfer_started", "target=%u asked=%u reason=admin", pending.target, target);
}

void
admin_tick (server_t *server)
{
    admin_reply_t *pending = &server->admin->transfer;
    if (!pending->waiting)
        return;
    uint32_t me = server->config->id;
    if (!server->leader && server->leader_id && server->leader_id != me) {
        s_reply (server, pending, server->leader_id);
        pending->waiting = false;
        return;
    }
    bool abandoned = server->leader && !s_transfer_target (server);
    if (!abandoned && server->now_ms < pending->deadline_ms)
        return;
    char text [160];
    snprintf (text, sizeof text, "replica %u did not take over within %u ms: %s", pending->target,
              server->config->election_timeout_ms,
              server->leader ? "this replica stays the leader" : "no leader is known yet");
    blog ("transfer_abandoned", "target=%u", pending->target);
    server_error (server, pending->routing, pending->routing_len, ZC_CMD_TRANSFER, pending->seq,
                  ZC_ERR_UNAVAILABLE, text);
    pending->waiting = false;
}

static bool
s_start_handover (server_t *server)
{
    admin_t *self = server->admin;
    self->stopping = true;
    self->stop_deadline_ms = server->now_ms + server->config->election_timeout_ms;
    if (!server->leader || raft_conf_voters (raft_conf (replica_raft (server->replica))) <= 1)
        return true;
    zc_code_t code = admin_code (replica_transfer (server->replica, 0));
    if (code != ZC_OK) {
        blog ("handover_failed", "reason=%s", zc_code_name (code));
        return true;
    }
    blog ("handover_started", "target=%u", s_transfer_target (server));
    return false;
}

bool
admin_may_stop (server_t *server)
{
    admin_t *self = server->admin;
    if (!self->stopping)
        return s_start_handover (server);
    if (server->now_ms >= self->stop_deadline_ms) {
        blog ("handover_timed_out", "leader=%u", server->leader_id);
        return true;
    }
    if (server->leader) {
        if (s_transfer_target (server))
            return false;
        blog ("handover_abandoned", "reason=\"no follower took over\"");
        return true;
    }
    if (!server->leader_id || server->leader_id == server->config->id)
        return false; /* wait to learn the new leader: redirects then name it */
    if (!self->handed_over_ms) {
        self->handed_over_ms = server->now_ms;
        blog ("handed_over", "leader=%u", server->leader_id);
    }
    return server->now_ms - self->handed_over_ms >= HANDOVER_LINGER_MS;
}
