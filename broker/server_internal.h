/*  server_internal.h - the event loop's state, shared by server.c (sockets, requests,
    replies, pushes) and login.c (requests that need a user's secret checked). */
#ifndef SERVER_INTERNAL_H
#define SERVER_INTERNAL_H

#include "admin.h"
#include "admin_members.h"
#include "backup.h"
#include "auth_throttle.h"
#include "auth_worker.h"
#include "curve.h"
#include "admission.h"
#include "chat.h"
#include "metrics.h"
#include "replica.h"
#include "replica_io_host.h"
#include "server.h"
#include "session.h"

struct server {
    const config_t *config;
    void *client_ctx; /* the client ROUTER's own context: no ZAP (curve.h) */
    void *clients;    /* ROUTER */
    curve_t *curve;
    peers_t *peers;
    replica_io_host_t *io;
    replica_t *replica;
    chat_t *chat; /* the state machine the replica drives (replica_fsm_t) */
    sessions_t *sessions;
    admission_t *admission;
    auth_worker_t *auth;
    auth_throttle_t *throttle;
    admin_t *admin;
    admin_members_t *members_admin;
    backup_t *backup;
    uint64_t auth_gen;
    uint64_t throttled; /* attempts refused since the last log line */
    bool leader;
    bool proposed; /* a write went into the log this turn */
    uint32_t leader_id;
    uint64_t now_ms;
    uint64_t swept_ms;
    uint64_t dealers_ms;    /* peer DEALERs last drained */
    metrics_t *metrics;     /* NULL unless --metrics */
    uint64_t metrics_ms;    /* last published */
    metrics_sample_t stats; /* counters and histograms; the gauges are filled to publish */
};

/* server_reply.c */
/* Returns false when the frame was not queued (client gone or its pipe full). */
bool server_send (server_t *self, const uint8_t *routing, size_t routing_len,
                  const zc_frame_t *frame);
void server_error (server_t *self, const uint8_t *routing, size_t routing_len, int re, uint64_t seq,
                   zc_code_t code, const char *text);
/* An error whose text names the user it is about ("user 'bob' does not exist"). */
void server_error_about (server_t *self, const uint8_t *routing, size_t routing_len, int re,
                         uint64_t seq, zc_code_t code, const char *name, size_t name_len);
void server_redirect (server_t *self, const uint8_t *routing, size_t routing_len, int re,
                      uint64_t seq);

/* server_requests.c */
/* Propose cmd for the write pending (its requester is answered when it applies, or
   now if the log refuses it; the entry is removed then). */
void server_propose (server_t *self, pending_t *pending, zc_command_t *cmd);
/* Stamp cmd with the time and put it into the log: ZC_OK, ZC_ERR_NOT_LEADER,
   ZC_ERR_BUSY or ZC_ERR_TOO_LARGE. */
zc_code_t server_log_command (server_t *self, zc_command_t *cmd);
/* A write request (CREATE, DELETE, CONNECT, SEND, PASSWD) reached the leader. */
void server_propose_request (server_t *self, conn_t *conn, const zc_frame_t *frame);
void server_start_list (server_t *self, conn_t *conn, const zc_frame_t *frame);
void server_status (server_t *self, conn_t *conn, const zc_frame_t *request);

/* server_sessions.c */
void server_tell_closed (server_t *self, conn_t *conn, const char *user, zc_code_t why);
/* A leader that steps down tells each session to move (sessions_end_all's callback). */
void server_tell_session_moved (void *arg, conn_t *conn, session_t *session);
/* Bind the CONNECT's connection to its user, from the message after `last` shown. */
void server_bind (server_t *self, pending_t *pending, const zc_command_t *cmd, uint64_t epoch,
                  uint64_t last);
bool server_session_matches (const session_t *session, const zc_frame_t *frame);
void server_handle_ack (server_t *self, conn_t *conn, const zc_frame_t *frame);
/* Before the ready cycle: due acks into the log, sharing the turn's fdatasync. */
void server_propose_acks (server_t *self);
/* After the ready cycle: push to every session with work. */
void server_pump_sessions (server_t *self);

/* server_apply.c: the replica's state machine (replica_fsm_t) and hooks */
void server_fsm_apply (void *arg, uint64_t index, const uint8_t *data, size_t len);
int server_fsm_save (void *arg, uint8_t **body, size_t *len);
int server_fsm_load (void *arg, const uint8_t *body, size_t len);
void server_on_read_ready (void *arg, uint64_t ctx, bool ok);
void server_on_role (void *arg, raft_role_t role, uint32_t leader, uint64_t term);

/* server_metrics.c: fill the gauges of self->stats and publish, every few hundred ms */
void server_metrics_publish (server_t *self);

/* login.c */
bool login_needed (zc_cmd_t cmd);
/* Checks a request can go on (secret sizes, throttling); answers it and returns false
   when not. */
bool login_admit (server_t *self, conn_t *conn, const zc_frame_t *frame);
/* pending was just added for frame: keep its secrets and start the check. */
void login_start (server_t *self, const conn_t *conn, pending_t *pending, const zc_frame_t *frame);
/* A ReadIndex read started by login_start is confirmed (ok) or lost. */
void login_read_ready (server_t *self, pending_t *read, bool ok);
/* Take the workers' finished jobs. */
void login_drain (server_t *self, void *pipe);

#endif
