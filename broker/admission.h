/*  admission.h - the leader's door for client requests: which write may go into the
    log now, and who waits for which answer.

    One object for what used to be two tables called in turn: the requests waiting
    for their entry to apply or their read to be confirmed (pending.h), and the rule
    that keeps a pipelining client's writes in the order it sent them (G5) when one
    of them cannot go in yet (order_guard.h). Every write that is admitted ends in
    exactly one of accepted (then answered), refused, or ended, and those calls are
    the only ones that move the ordering rule. */
#ifndef ADMISSION_H
#define ADMISSION_H

#include "pending.h"

typedef struct admission admission_t;

typedef enum {
    ADMIT_NEW,       /* a fresh entry: fill it, then accept, defer, refuse or end it */
    ADMIT_IN_FLIGHT, /* the same (cid, seq) already waits: its answer goes to this asker */
    ADMIT_REFUSED    /* an earlier write of the client waits, or the table is full: BUSY */
} admit_t;

admission_t *admission_new (size_t max_clients);
void admission_destroy (admission_t **self_p);

/* A write (cid, seq) from routing. *entry_out is set for ADMIT_NEW and ADMIT_IN_FLIGHT. */
admit_t admission_admit (admission_t *self, uint64_t cid, uint64_t seq, const uint8_t *routing,
                         size_t routing_len, pending_t **entry_out);

/* The write is in the log: the client's later writes may follow. It waits to be answered. */
void admission_accepted (admission_t *self, pending_t *entry);
/* Not in the log yet but it will be (a secret is being checked): later writes wait. */
void admission_deferred (admission_t *self, pending_t *entry);
/* Refused for now (BUSY); entry removed. Later writes are refused until it is retried. */
void admission_refused (admission_t *self, pending_t *entry);
/* Ended for good (an error, a redirect); entry removed. Later writes may go. */
void admission_ended (admission_t *self, pending_t *entry);
/* Its entry applied, or its read was served, and the asker was answered: removed. */
void admission_answered (admission_t *self, pending_t *entry);

pending_t *admission_find (admission_t *self, uint64_t cid, uint64_t seq);

/* A linearizable read (LIST, or the read before a secret check) under a fresh
   context (entry->read_ctx); NULL when full. Ends with admission_answered. */
pending_t *admission_add_read (admission_t *self);
pending_t *admission_find_read (admission_t *self, uint64_t ctx);

/* Leadership changed: call fn for every waiting entry, then forget everything
   (clients resend in order anyway). fn must not call back into self. */
void admission_clear (admission_t *self, void (*fn) (void *arg, pending_t *entry), void *arg);

#endif
