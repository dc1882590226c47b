/*  zcc.h - the zchat client library: one DEALER connection to the cluster, with
    request ids, retries, leader following and exactly-once display of pushed messages.

    Asynchronous: zcc_submit queues a request and returns its seq; zcc_poll returns the
    next event (a reply, a pushed message, a closed session) or times out. Requests are
    answered in any order the cluster completes them; each event names its seq.
    Failover: on NOT_LEADER the library moves to the named leader; on a reply timeout
    it moves to the next server with exponential backoff and jitter; either way it
    resends every outstanding request with the same (cid, seq) (G3), and re-sends
    CONNECT for the bound user so the session resumes. Pushed messages with an mseq
    already shown are dropped, and shown ones are acked cumulatively (G4). */
#ifndef ZCC_H
#define ZCC_H

#include <stdbool.h>
#include <stdint.h>
#include "frame.h"

typedef struct zcc zcc_t;

/* ZeroMQ sockets one zcc_t holds (its DEALER, and a PAIR each side of the DEALER's
   disconnect monitor), each with a descriptor: mind CZMQ's zsys_set_max_sockets
   (default 1024) when an application holds hundreds. */
#define ZCC_SOCKETS 3

/* Where in a backup image a BACKUP request reads (PROTOCOL.md, BACKUP). */
typedef struct {
    uint64_t index;  /* the image's log index; 0 = take a new image */
    uint64_t offset; /* byte offset in it */
} zcc_position_t;

typedef struct {
    const char *servers; /* "host:port,host:port"; NULL = ZCHAT_SERVERS or the dev cluster */
    uint32_t request_timeout_ms; /* per try before failing over; default 1000 */
    uint32_t deadline_ms;        /* total per request before ZC_ERR_TIMEOUT; default 15000 */
    uint32_t max_inflight;       /* default 256 */
    uint64_t client_id;          /* 0 = random */
    /* The cluster's CURVE public key: 40 characters of Z85, or the path of a
       certificate file (zchat-keys' server.cert). NULL = $ZCHAT_SERVER_KEY. */
    const char *server_key;
    bool insecure; /* plain ZeroMQ (servers run --insecure); also $ZCHAT_INSECURE=1 */
    /* Liveness (PROTOCOL.md 7.5). A dropped connection (the server died or restarted)
       is left at once. A PING frame after ping_ms without sending (default 5000) keeps
       the session alive on the server; unanswered for 3 s (or request_timeout_ms if
       longer), we fail over. heartbeat_ms > 0 adds ZeroMQ's own heartbeats: 3 unanswered and libzmq
       drops the connection, so a paused or cut-off server is left sooner than the
       PING finds out; off by default, as they cost a server about what PINGs at the
       same interval do (README, scenario D). */
    uint32_t heartbeat_ms;
    uint32_t ping_ms;
} zcc_options_t;

typedef enum {
    ZCC_EV_NONE = 0, /* timeout: nothing happened */
    ZCC_EV_REPLY,    /* frame.cmd REPLY or ERROR for request seq; for LIST, all names */
    ZCC_EV_MESSAGE,  /* a pushed message, shown for the first time */
    ZCC_EV_CLOSED,   /* the session ended: code REPLACED or USER_DELETED */
    ZCC_EV_FD        /* the extra fd given to zcc_poll is readable */
} zcc_event_type_t;

typedef struct {
    zcc_event_type_t type;
    uint64_t seq;      /* REPLY: the request's seq */
    zc_cmd_t re;       /* REPLY: the request's command */
    zc_code_t code;    /* REPLY: ZC_OK or the error; CLOSED: why */
    zc_frame_t frame;  /* last frame of the event; views valid until next poll */
    const char *error; /* readable error text (NUL-terminated) or "" */
    /* LIST reply: every name across its frames, NUL-terminated, sorted */
    char **users;
    uint32_t n_users;
    double latency_ms; /* REPLY: submit to reply */
} zcc_event_t;

void zcc_options_defaults (zcc_options_t *options);

/* Connect (lazily) to the cluster. Returns NULL with a message on stderr when the
   server list cannot be parsed or no server key is known (and not insecure). */
zcc_t *zcc_new (const zcc_options_t *options);
void zcc_destroy (zcc_t **self_p);

/* Queue a request. Returns its seq (> 0), or 0 when max_inflight requests are
   outstanding (call zcc_poll first). name/text are copied. */
uint64_t zcc_submit (zcc_t *self, zc_cmd_t cmd, const char *name, const char *text);

/* zcc_submit with the user's secret (CREATE, CONNECT, DELETE, PASSWD) and, for PASSWD,
   the new one; both copied. After a CONNECT succeeds the library keeps its secret
   (wiped on unbind and destroy) to CONNECT again after a failover. */
uint64_t zcc_submit_with (zcc_t *self, zc_cmd_t cmd, const char *name, const char *text,
                          const char *secret, const char *new_secret);

/* BACKUP with the cluster's admin secret: the bytes of image position->index (0: a
   new image, offset 0) from position->offset. The REPLY's frame carries index, term,
   offset, total and data. */
uint64_t zcc_submit_backup (zcc_t *self, const char *admin_secret, const zcc_position_t *position);

/* Wait up to timeout_ms (-1 = forever) for one event. If fd >= 0 and it becomes
   readable first, returns ZCC_EV_FD. */
zcc_event_type_t zcc_poll (zcc_t *self, int timeout_ms, int fd, zcc_event_t *event);

/* Blocking helper: submit and wait for that request's reply, queueing other events
   for later polls. Returns the reply code. */
zc_code_t zcc_call (zcc_t *self, zc_cmd_t cmd, const char *name, const char *text,
                    zcc_event_t *event);

zc_code_t zcc_call_with (zcc_t *self, zc_cmd_t cmd, const char *name, const char *text,
                         const char *secret, const char *new_secret, zcc_event_t *event);

uint32_t zcc_inflight (const zcc_t *self);
uint64_t zcc_client_id (const zcc_t *self);
/* "host:port" currently used. */
const char *zcc_current_server (const zcc_t *self);

#endif
