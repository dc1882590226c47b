/*  session.h - client connections and the chat sessions bound to them (leader only).

    A connection is a ROUTER routing id seen recently; it expires after the session
    timeout without traffic (clients PING every second). A session binds one user to
    one connection after its CONNECT committed; a second CONNECT of the user replaces
    it. The push window is bounded: at most SESSION_WINDOW messages pushed and not yet
    acknowledged; unacknowledged pushes are sent again after SESSION_RESEND_MS. */
#ifndef SESSION_H
#define SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <czmq.h>
#include "frame.h"

#define SESSION_WINDOW    256
#define SESSION_RESEND_MS 2000
#define ROUTING_ID_MAX    256

typedef struct session session_t;

typedef struct {
    uint8_t id [ROUTING_ID_MAX];
    size_t len;
    char key [2 * ROUTING_ID_MAX + 1]; /* hex of id: the table key */
    uint64_t last_seen_ms;
    session_t *session; /* bound session or NULL */
} conn_t;

struct session {
    char user [ZC_NAME_MAX + 1];
    uint64_t epoch;
    conn_t *conn;
    uint64_t pushed;       /* highest mseq sent on the wire */
    uint64_t acked;        /* highest mseq the client acknowledged */
    uint64_t ack_proposed; /* highest ack put into the log */
    uint64_t progress_ms;  /* last time acked advanced (or the session began) */
    void *mark;            /* handle in the work list, NULL when not on it */
    void *ack_mark;        /* handle in the list of acks to propose, or NULL */
    bool blocked;          /* a push did not fit the client's pipe: retry at sweep */
};

typedef struct sessions sessions_t;

sessions_t *sessions_new (uint32_t max_connections);
void sessions_destroy (sessions_t **self_p);

/* Find or add the connection for a routing id; NULL when the table is full. */
conn_t *sessions_touch (sessions_t *self, const uint8_t *id, size_t len, uint64_t now_ms);

/* Bind user to conn. The session the user had elsewhere is returned through
   *replaced_conn (to be told) and ended. */
session_t *sessions_bind (sessions_t *self, conn_t *conn, const char *user, uint64_t epoch,
                          uint64_t shown_mseq, uint64_t now_ms, conn_t **replaced_conn);
session_t *sessions_find (sessions_t *self, const char *user, size_t len);
void sessions_end (sessions_t *self, session_t *session);
void sessions_end_all (sessions_t *self, void (*tell) (void *arg, conn_t *conn, session_t *s),
                       void *arg);

/* Work list: sessions with pushes or acks to do. */
void sessions_mark (sessions_t *self, session_t *session);
session_t *sessions_next_marked (sessions_t *self);

/* Periodic sweep: expire silent connections (and their sessions), and schedule resends
   for sessions whose pushes went unacknowledged. Returns connections expired. */
/* Acks to propose: the caller batches them with other writes (see server.c). */
void sessions_ack_due (sessions_t *self, session_t *session, uint64_t now_ms);
session_t *sessions_next_ack_due (sessions_t *self);
/* Whether any ack is due, and since when the oldest is. */
bool sessions_acks_due (const sessions_t *self, uint64_t *since_ms);

size_t sessions_sweep (sessions_t *self, uint64_t now_ms, uint64_t timeout_ms);

size_t sessions_count (const sessions_t *self);

#endif
