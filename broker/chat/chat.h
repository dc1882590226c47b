/*  chat.h - the chat state machine: users, their message queues, and the client table.

    Changed only by chat_apply on committed log entries, in log order; applying uses
    nothing but the entry (the leader's ts is inside it), so every replica that applies
    the same log holds the same state. No I/O, no clock, no sessions (broker/session.c).

    - A user has an epoch: the log index of the create that made it. A re-created user
      gets a new epoch and an empty queue; acks name the epoch, so an ack for an old
      incarnation never touches the new one (G6).
    - A queued message has a per-recipient sequence number mseq = 1, 2, ... in log
      order (G4, G5). It leaves the queue only when an ACK entry covering it is applied.
    - The client table keeps, per client id, the highest request seq applied and the
      result (code, and epoch or mseq) of the last CHAT_DEDUP_WINDOW seqs, so a retried
      request gets its original answer from the table, never applied twice (G3). Clients beyond max_clients evict the
      least recently active (by log index: deterministic). */
#ifndef CHAT_H
#define CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "command.h"

#define CHAT_DEDUP_WINDOW 256

typedef struct chat chat_t;

typedef struct {
    uint32_t max_users;   /* default 100000 */
    uint32_t max_queue;   /* messages queued per user; default 100000 */
    uint32_t max_clients; /* client table entries; default 10000 */
} chat_limits_t;

typedef struct {
    zc_code_t code; /* outcome the requester is told */
    bool duplicate; /* a retry answered from the client table */
    uint64_t epoch; /* CREATE/CONNECT/SEND/PASSWD: the user's epoch */
    uint64_t mseq;  /* SEND: seq given to the message; CONNECT: last mseq */
} chat_result_t;

/* One queued message, as handed to the broker for a push. Views valid until the next
   chat_apply or chat_destroy. */
typedef struct {
    uint64_t mseq;
    uint64_t ts;
    zc_bytes_t from;
    zc_bytes_t text;
} chat_message_t;

void chat_limits_defaults (chat_limits_t *limits);

chat_t *chat_new (const chat_limits_t *limits);
void chat_destroy (chat_t **self_p);

/* Apply the committed entry at log index. Deterministic. */
void chat_apply (chat_t *self, uint64_t index, const zc_command_t *cmd, chat_result_t *result);

/* Names of users matching pattern (PCRE2, with match and depth limits; NULL or empty
   = all), sorted bytewise, written into names[0..max) as views; *n_out is how many
   matched in total (may exceed max). Returns ZC_OK, ZC_ERR_BAD_PATTERN or
   ZC_ERR_PATTERN_TOO_COMPLEX; on error err (if not NULL) gets PCRE2's message. */
zc_code_t chat_list (const chat_t *self, const char *pattern, size_t pattern_len, zc_bytes_t *names,
                     size_t max, size_t *n_out, char *err, size_t err_len);

/* True and *epoch_out when user exists. */
bool chat_user_exists (const chat_t *self, const char *name, size_t len, uint64_t *epoch_out);

/* True when the client table already answers (cid, seq): applied before (result is
   the original answer, duplicate set) or too old (STALE_REQUEST). */
bool chat_client_answered (const chat_t *self, uint64_t cid, uint64_t seq, zc_op_t op,
                           chat_result_t *result);

/* True, the epoch and a view of the stored credential (Argon2id string; empty for a
   user created before credentials) when user exists. Valid until the next apply. */
bool chat_user_cred (const chat_t *self, const char *name, size_t len, uint64_t *epoch_out,
                     zc_bytes_t *cred_out);

/* Queued messages of user (epoch must match) with mseq > after, in order, at most max.
   Returns how many were written to out. */
size_t chat_queue_peek (const chat_t *self, const char *name, size_t len, uint64_t epoch,
                        uint64_t after, chat_message_t *out, size_t max);

uint64_t chat_user_count (const chat_t *self);
uint64_t chat_queued_count (const chat_t *self);
uint64_t chat_queued_bytes (const chat_t *self); /* text bytes held */

/* Serialize the whole state (users, queues, client table) as msgpack into a malloc'd
   buffer (caller frees). Returns 0 or -1 on allocation failure. */
int chat_snapshot_save (const chat_t *self, uint8_t **buf_out, size_t *len_out);

/* Replace the state with a snapshot. Returns ZC_OK, or a decoder code and leaves the
   state empty when the bytes are malformed (never crashes on hostile input). */
zc_code_t chat_snapshot_load (chat_t *self, const uint8_t *buf, size_t len);

/* Deterministic digest of the state, for simulator cross-replica checks. */
uint64_t chat_digest (const chat_t *self);

#endif
