/*  admin.h - operator commands (TRANSFER) and the leader's handover on SIGTERM.

    Who may run an admin command: whoever presents the admin secret, the first line of
    the broker's --admin-secret-file (the same file on every replica). Without that
    flag admin commands are refused (FORBIDDEN). The secret travels only inside CURVE
    and is compared as a BLAKE2b hash in constant time; after a wrong one, admin
    commands are refused (THROTTLED) for a second, which bounds guessing at one try a
    second per replica.
    Invariant: at most one TRANSFER waits for its answer; it is answered once the new
    leader is known (REPLY with its address), or with an error when the transfer was
    abandoned (one election timeout). */
#ifndef ADMIN_H
#define ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"
#include "server.h"
#include "session.h"
#include "frame.h"
#include "raft.h"

typedef struct admin admin_t;

/* Reads --admin-secret-file if given. NULL with a reason in err when it is unusable. */
admin_t *admin_new (const config_t *config, char *err, size_t err_len);
void admin_destroy (admin_t **self_p);

/* May this request run an admin command (the admin secret, not throttled)? Answers
   it with the error when not. */
bool admin_authorised (server_t *server, conn_t *conn, const zc_frame_t *frame);

/* The wire code for a refusal of the Raft core (transfers, membership changes). */
zc_code_t admin_code (raft_err_t err);

/* A TRANSFER request reached the leader: check the secret, start the transfer. */
void admin_transfer (server_t *server, conn_t *conn, const zc_frame_t *frame);

/* Every turn: answer a transfer that finished or was abandoned. */
void admin_tick (server_t *server);

/* Asked every turn once a stop signal came. A leader first hands its leadership to
   the most up-to-date follower and keeps serving (redirecting to the new leader)
   for a moment; true when the loop may end: not leader, handed over, or one election
   timeout passed. */
bool admin_may_stop (server_t *server);

#endif
