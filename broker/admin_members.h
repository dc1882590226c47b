/*  admin_members.h - MEMBERS: list the configuration, add or remove one replica.

    The request's text says what to do: "" or "list"; "add ID HOST:PORT" (a learner
    the leader promotes to voter once its log has caught up); "add ID HOST:PORT
    learner" (stays a learner); "remove ID". A change is answered once its log entry
    is committed, with the members then in force; a list at once. At most one change
    waits for its answer; the core refuses a second until the first is committed. */
#ifndef ADMIN_MEMBERS_H
#define ADMIN_MEMBERS_H

#include "server.h"
#include "session.h"
#include "frame.h"

typedef struct admin_members admin_members_t;

admin_members_t *admin_members_new (void);
void admin_members_destroy (admin_members_t **self_p);

/* A MEMBERS request reached the leader. */
void admin_members_request (server_t *server, conn_t *conn, const zc_frame_t *frame);

/* Every turn: answer a change once committed, or once it can no longer be. */
void admin_members_tick (server_t *server);

#endif
