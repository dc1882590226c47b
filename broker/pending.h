/*  pending.h - requests the leader proposed (or reads it asked to confirm) and whose
    requester waits for an answer. Keyed by (client id, seq) for writes and by read
    context for reads. Bounded: past PENDING_MAX the broker answers BUSY. */
#ifndef PENDING_H
#define PENDING_H

#include <stdint.h>
#include <czmq.h>
#include "session.h"
#include "frame.h"

#define PENDING_MAX 65536

/* The table key, kept inside the entry: writes are (1, cid, seq), reads (2, ctx, 0). */
typedef struct {
    uint64_t kind, a, b;
} pending_key_t;

/* What a request that needs a secret checked carries until it is checked: secrets are
   wiped when the entry goes. */
typedef struct {
    char name [ZC_NAME_MAX + 1];
    char secret [ZC_SECRET_MAX];
    uint32_t secret_len;
    char new_secret [ZC_SECRET_MAX];
    uint32_t new_secret_len;
    uint64_t epoch; /* the incarnation whose credential was checked */
    uint64_t gen;   /* tells this attempt's worker result from a stale one */
    char conn_key [2 * ROUTING_ID_MAX + 1]; /* the asker's, for throttling */
    bool throttled;                         /* counted in flight by the throttle: end it once */
} pending_auth_t;

typedef struct {
    pending_key_t key;
    uint64_t cid;
    uint64_t seq;
    zc_cmd_t cmd;
    uint8_t routing [ROUTING_ID_MAX];
    size_t routing_len;
    uint64_t shown_mseq;               /* CONNECT: what the client already showed */
    uint64_t shown_epoch;              /* CONNECT: of which incarnation (0 = any) */
    char pattern [ZC_PATTERN_MAX + 1]; /* LIST */
    uint32_t pattern_len;
    uint64_t read_ctx;    /* LIST, and the read before a secret check */
    int64_t proposed_us;  /* when its entry went into the log (commit latency) */
    pending_auth_t *auth; /* owned; NULL unless a secret is to be checked */
} pending_t;

typedef struct pending_table pending_table_t;

pending_table_t *pending_new (void);
void pending_destroy (pending_table_t **self_p);

/* Add or refresh a write. Returns the entry (refreshed with the newest routing id) and
   sets *existed; NULL when full. */
pending_t *pending_add (pending_table_t *self, uint64_t cid, uint64_t seq, bool *existed);
pending_t *pending_find (pending_table_t *self, uint64_t cid, uint64_t seq);
/* Add a read under a fresh context (returned in entry->read_ctx); NULL when full. */
pending_t *pending_add_read (pending_table_t *self);
pending_t *pending_find_read (pending_table_t *self, uint64_t ctx);
void pending_remove (pending_table_t *self, pending_t *entry);

/* Call fn for every entry (fn must not change the table), then remove them all: a
   change of leader fails everything that waits. */
void pending_clear (pending_table_t *self, void (*fn) (void *arg, pending_t *entry), void *arg);

#endif
