/*  server_internal.h - the event loop's state, shared by server.c (sockets, requests,
    replies, pushes) and login.c (requests that need a user's secret checked). */
#ifndef SERVER_INTERNAL_H
#define SERVER_INTERNAL_H

#include "admin.h"
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
    void *client_ctx;         /* the client ROUTER's own context: no ZAP (curve.h) */
    void *clients;            /* ROUTER */
    curve_t *curve;
    peers_t *peers;
    replica_io_host_t *io;
    replica_t *replica;
    chat_t *chat;             /* the state machine the replica drives (replica_fsm_t) */
    sessions_t *sessions;
    admission_t *admission;
    auth_worker_t *auth;
    auth_throttle_t *throttle;
    admin_t *admin;
    backup_t *backup;
    uint64_t auth_gen;
    uint64_t throttled;       /* attempts refused since the last log line */
    bool leader;
    bool proposed;            /* a write went into the log this turn */
    uint32_t leader_id;
    uint64_t now_ms;
    uint64_t swept_ms;
    metrics_t *metrics;       /* NULL unless --metrics */
    uint64_t metrics_ms;      /* last published */
    metrics_sample_t stats;   /* counters and histograms; the gauges are filled to publish */
};

/* server.c */
/* Returns false when the frame was not queued (client gone or its pipe full). */
bool server_send (server_t *self, const uint8_t *routing, size_t routing_len,
                  const zc_frame_t *frame);
void server_error (server_t *self, const uint8_t *routing, size_t routing_len, int re,
                   uint64_t seq, zc_code_t code, const char *text);
void server_redirect (server_t *self, const uint8_t *routing, size_t routing_len, int re,
                      uint64_t seq);
/* Propose cmd for the write pending (its requester is answered when it applies, or
   now if the log refuses it; the entry is removed then). */
void server_propose (server_t *self, pending_t *pending, zc_command_t *cmd);
/* Stamp cmd with the time and put it into the log: ZC_OK, ZC_ERR_NOT_LEADER,
   ZC_ERR_BUSY or ZC_ERR_TOO_LARGE. */
zc_code_t server_log_command (server_t *self, zc_command_t *cmd);

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
