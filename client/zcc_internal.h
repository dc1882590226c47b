/*  zcc_internal.h - the parts of the client library (zcc.h), for its own files only.

    zcc.c          the public object: options, submit, poll, call, the event loop
    zcc_fsm.c      the connection/session lifecycle: one state, one transition function
    zcc_conn.c     server list, the DEALER, failover timing and leader hints
    zcc_request.c  request slots, their timers, resends with the same (cid, seq)
    zcc_session.c  the bound user: re-CONNECT, acks, exactly-once display
    zcc_events.c   the events zcc_call holds back for zcc_poll

    Every function takes the whole zcc_t because the jobs meet on the socket; each file
    changes only its own part of it. */
#ifndef ZCC_INTERNAL_H
#define ZCC_INTERNAL_H

#include <czmq.h>
#include "zcc.h"

#define ZCC_MAX_SERVERS      16
#define ZCC_ADDR_MAX         256
#define ZCC_LIST_MAX_USERS   1000000
#define ZCC_ACK_INTERVAL_MS  100
#define ZCC_ACK_BATCH        64
#define ZCC_PING_IDLE_MS     5000 /* default ping_ms */
#define ZCC_PING_PATIENCE_MS 3000 /* an unanswered PING is a dead server after this */
#define ZCC_BACKOFF_MIN_MS   50
#define ZCC_BACKOFF_MAX_MS   1000
#define ZCC_SOCK_HWM         4096
#define ZCC_RECV_STREAK      64
#define ZCC_FIFO_MSGS        256 /* pushed messages zcc_call may hold back */
#define ZCC_FIFO_OTHER       8   /* CLOSED events zcc_call may hold back */

/* The lifecycle (zcc_fsm.c). "Moving": a server switch is due at conn.switch_ms and no
   request goes out until it happens. */
typedef enum {
    ZCC_STATE_OPEN,        /* no user bound; requests go out as submitted */
    ZCC_STATE_BOUND,       /* bound to (user, epoch) on this connection */
    ZCC_STATE_RESUMING,    /* bound; our re-CONNECT is out, SENDs wait for it */
    ZCC_STATE_MOVING,      /* no user bound; moving to another server */
    ZCC_STATE_BOUND_MOVING /* bound; moving, then CONNECT again there */
} zcc_state_t;

typedef enum {
    ZCC_IN_SILENCE,    /* a reply or ping timed out, or the server is unavailable */
    ZCC_IN_REDIRECT,   /* NOT_LEADER naming another server */
    ZCC_IN_SWITCH_DUE, /* the switch timer fired */
    ZCC_IN_BIND,       /* the caller's CONNECT succeeded on this connection */
    ZCC_IN_BIND_STALE, /* ... and was sent on an earlier one too */
    ZCC_IN_LOST,       /* the server says it has no session for us */
    ZCC_IN_RESUMED,    /* our re-CONNECT succeeded */
    ZCC_IN_CLOSED      /* the session ended */
} zcc_input_t;

typedef struct {
    bool used;
    bool internal; /* the library's re-CONNECT: never reported */
    zc_cmd_t cmd;
    zc_code_t failed; /* != ZC_OK: failed locally, report at next poll */
    uint64_t seq;
    uint64_t first_gen; /* connection generation it was first sent on */
    char name [ZC_NAME_MAX + 1];
    char secret [ZC_SECRET_MAX + 1];
    char new_secret [ZC_SECRET_MAX + 1];
    zcc_position_t position; /* BACKUP: which bytes of which image */
    int64_t submit_us;
    int64_t deadline_ms; /* 0 = none (the re-CONNECT retries while bound) */
    int64_t sent_ms;     /* last send on the current connection; 0 = not yet */
    int64_t resend_ms;   /* BUSY: resend at this time; 0 = none */
    size_t len;
    uint8_t buf [ZC_FRAME_MAX];
    char **users; /* LIST: names gathered so far */
    uint32_t n_users;
    uint32_t cap_users;
} zcc_req_t;

typedef struct {
    zcc_event_t ev; /* frame views are rebuilt from raw when popped */
    size_t raw_len; /* 0 = synthetic event (timeout): frame has no views */
    uint8_t raw [ZC_FRAME_MAX];
} zcc_queued_t;

typedef struct {
    char servers [ZCC_MAX_SERVERS][ZCC_ADDR_MAX];
    uint32_t n_servers;
    uint32_t server_idx;
    char current [ZCC_ADDR_MAX];
    zsock_t *sock;
    zsock_t *monitor;              /* the DEALER's DISCONNECTED events; NULL if none */
    uint64_t gen;                  /* counts connections */
    zcert_t *cert;                 /* our CURVE key (ephemeral); NULL when insecure */
    char server_key [41];          /* the cluster's public key, Z85 */
    bool heard;                    /* any frame ever received (else: a wrong key?) */
    int64_t switch_ms;             /* moving: switch at this time */
    char switch_to [ZCC_ADDR_MAX]; /* moving: "" = next server of the list */
    char hint [ZCC_ADDR_MAX];      /* the leader a NOT_LEADER named, for ZCC_IN_REDIRECT */
    uint32_t backoff_ms;
    uint32_t redirects; /* leader redirects since the last good reply */
    int64_t last_send_ms;
    int64_t last_recv_ms;
    int64_t ping_ms;       /* first PING sent since the last receive; 0 = none */
    uint32_t ping_idle_ms; /* PING after this long without sending */
    uint32_t heartbeat_ms; /* ZeroMQ heartbeat interval (0 = none); dead after 3 missed */
    uint64_t rng;
} zcc_conn_t;

typedef struct {
    zcc_req_t *slots; /* max_inflight + 1; the last is the re-CONNECT's */
    uint32_t max_inflight;
    uint32_t n_inflight; /* the caller's requests only */
    uint64_t next_seq;
    uint32_t timeout_ms;  /* per try */
    uint32_t deadline_ms; /* per request */
    int64_t scan_ms;      /* next time a request timer may be due */
} zcc_requests_t;

typedef struct {
    char user [ZC_NAME_MAX + 1];     /* valid while the state is a bound one */
    char secret [ZC_SECRET_MAX + 1]; /* the bound user's, for re-CONNECTs */
    uint64_t epoch;
    uint64_t shown;     /* highest mseq handed to the caller */
    uint64_t acked;     /* highest mseq sent in an ACK on this connection */
    int64_t unacked_ms; /* when shown first went past acked */
    int64_t reack_ms;   /* last ack sent again for a re-pushed message */
} zcc_session_t;

typedef struct {
    zcc_queued_t *ring; /* allocated on first use */
    uint32_t cap;
    uint32_t head;
    uint32_t len;
    uint32_t msgs; /* MESSAGE events among them */
} zcc_fifo_t;

struct zcc {
    zcc_state_t state;
    uint64_t cid;
    zcc_conn_t conn;
    zcc_requests_t reqs;
    zcc_session_t session;
    zcc_fifo_t fifo;
    bool in_call;
    uint32_t recv_streak;      /* frames taken without a poll, since the last poll */
    uint8_t rx [ZC_FRAME_MAX]; /* the last frame received; event views point here */
    size_t rx_len;
    char err [ZC_FRAME_MAX + 1];
    char **ev_users; /* owned by the last returned event */
    uint32_t ev_n_users;
};

static inline int64_t
zcc_now_ms (void)
{
    return zclock_mono ();
}

/* zcc_fsm.c */
void zcc_fsm_execute (zcc_t *self, zcc_input_t input);
bool zcc_fsm_bound (const zcc_t *self);
bool zcc_fsm_moving (const zcc_t *self);
bool zcc_fsm_sends_wait (const zcc_t *self);

/* zcc_conn.c */
int zcc_conn_init (zcc_t *self, const zcc_options_t *options);
void zcc_conn_destroy (zcc_t *self);
void *zcc_conn_monitor (const zcc_t *self);
bool zcc_conn_dropped (zcc_t *self);
uint64_t zcc_conn_random_id (void);
int64_t zcc_conn_jitter (zcc_t *self, uint32_t ms);
void zcc_conn_send_bytes (zcc_t *self, const uint8_t *buf, size_t len);
void zcc_conn_send_frame (zcc_t *self, const zc_frame_t *frame);
void zcc_conn_heard (zcc_t *self);
void zcc_conn_good_reply (zcc_t *self);
bool zcc_conn_leader_hint (zcc_t *self, const zc_frame_t *f);
void zcc_conn_backoff (zcc_t *self);
void zcc_conn_redirect (zcc_t *self);
void zcc_conn_switch (zcc_t *self);
void zcc_conn_timers (zcc_t *self, int64_t now);
int64_t zcc_conn_next_timer (const zcc_t *self, int64_t next);

/* zcc_request.c */
uint64_t zcc_request_submit (zcc_t *self, zc_cmd_t cmd, const char *name, const char *text,
                             const char *secret, const char *new_secret,
                             const zcc_position_t *position, bool internal);
void zcc_request_free (zcc_t *self, zcc_req_t *req);
void zcc_request_free_all (zcc_t *self);
zcc_req_t *zcc_request_find (zcc_t *self, uint64_t seq);
zcc_req_t *zcc_request_reconnect (zcc_t *self);
void zcc_request_resend (zcc_t *self, bool unsent_only);
bool zcc_request_retryable (zcc_t *self, zcc_req_t *req, const zc_frame_t *f);
bool zcc_request_list_append (zcc_t *self, zcc_req_t *req, const zc_frame_t *f);
zcc_event_type_t zcc_request_scan (zcc_t *self, int64_t now, zcc_event_t *event);

/* zcc_session.c */
void zcc_session_encode (const zcc_t *self, const char *name, zc_frame_t *f);
void zcc_session_ping (const zcc_t *self, zc_frame_t *f);
void zcc_session_ack (zcc_t *self);
void zcc_session_bind (zcc_t *self, zcc_req_t *req, const zc_frame_t *f);
void zcc_session_unbind (zcc_t *self);
void zcc_session_reconnect (zcc_t *self);
void zcc_session_timers (zcc_t *self, int64_t now);
int64_t zcc_session_next_timer (const zcc_t *self, int64_t next);
void zcc_session_on_error (zcc_t *self, const zc_frame_t *f);
zcc_event_type_t zcc_session_on_reconnect (zcc_t *self, zcc_req_t *req, const zc_frame_t *f,
                                           zcc_event_t *event);
zcc_event_type_t zcc_session_on_message (zcc_t *self, const zc_frame_t *f, zcc_event_t *event);
zcc_event_type_t zcc_session_on_closed (zcc_t *self, const zc_frame_t *f, zcc_event_t *event);

/* zcc_events.c */
void zcc_events_fill_error (zcc_t *self, zcc_event_t *event);
void zcc_events_users_free (char **users, uint32_t n);
void zcc_events_hand_over (zcc_t *self, const zcc_event_t *event);
void zcc_events_release (zcc_t *self);
void zcc_events_push (zcc_t *self, const zcc_event_t *event);
bool zcc_events_pop (zcc_t *self, zcc_event_t *event);
void zcc_events_destroy (zcc_t *self);

#endif
