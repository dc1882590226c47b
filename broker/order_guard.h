/*  order_guard.h - keeps a pipelining client's writes in the order it sent them (G5)
    when the leader has to refuse one (BUSY).

    If seq N of a client is refused, a later seq N+k of the same client that is accepted
    would commit before N's retry: the recipient would see them out of order. So once
    N is refused, every later write of that client is refused too until N itself is
    accepted. Leader-local and bounded: a full table stops guarding new clients rather
    than growing. */
#ifndef ORDER_GUARD_H
#define ORDER_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct order_guard order_guard_t;

order_guard_t *order_guard_new (size_t max_clients);
void order_guard_destroy (order_guard_t **self_p);

/* True when seq must wait for an earlier refused seq of cid. */
bool order_guard_holds (order_guard_t *self, uint64_t cid, uint64_t seq);
/* seq of cid was refused (not proposed). */
void order_guard_refused (order_guard_t *self, uint64_t cid, uint64_t seq);
/* seq of cid was proposed: if it was the one holding the others, release them. */
void order_guard_accepted (order_guard_t *self, uint64_t cid, uint64_t seq);
/* Forget everything (leadership changed: clients resend in order anyway). */
void order_guard_clear (order_guard_t *self);

#endif
