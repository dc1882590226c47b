/*  order_guard.c - per-client lowest refused write seq, in a bounded hash table. */
#include "order_guard.h"
#include <czmq.h>

/* The refused seqs of one client: lowest, and which of the next ones were refused too
   (bit i = seq lowest + i), so that accepting the lowest hands the hold to the next
   refused one instead of letting every later write go at once. */
#define GUARD_SPAN 256

typedef struct {
    uint64_t lowest;
    uint64_t bits [GUARD_SPAN / 64];
} s_entry_t;

struct order_guard {
    size_t max_clients;
    zhashx_t *refused;      /* cid (hex) -> s_entry_t (owned) */
};

static void
s_free (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

order_guard_t *
order_guard_new (size_t max_clients)
{
    order_guard_t *self = (order_guard_t *) zmalloc (sizeof (order_guard_t));
    self->max_clients = max_clients;
    self->refused = zhashx_new ();
    zhashx_set_destructor (self->refused, s_free);
    return self;
}

void
order_guard_destroy (order_guard_t **self_p)
{
    if (!*self_p)
        return;
    zhashx_destroy (&(*self_p)->refused);
    free (*self_p);
    *self_p = NULL;
}

static void
s_key (uint64_t cid, char *key)
{
    snprintf (key, 17, "%016llx", (unsigned long long) cid);
}

static bool
s_bit (const s_entry_t *e, uint64_t i)
{
    return (e->bits [i / 64] >> (i % 64)) & 1;
}

static void
s_set (s_entry_t *e, uint64_t i, bool on)
{
    if (on)
        e->bits [i / 64] |= 1ull << (i % 64);
    else
        e->bits [i / 64] &= ~(1ull << (i % 64));
}

/* Make seq the lowest, keeping the refusals that still fit the span. */
static void
s_rebase (s_entry_t *e, uint64_t seq)
{
    s_entry_t old = *e;
    memset (e->bits, 0, sizeof e->bits);
    for (uint64_t i = 0; i < GUARD_SPAN; i++) {
        uint64_t s = old.lowest + i;
        if (s_bit (&old, i) && s >= seq && s - seq < GUARD_SPAN)
            s_set (e, s - seq, true);
    }
    e->lowest = seq;
    s_set (e, 0, true);
}

bool
order_guard_holds (order_guard_t *self, uint64_t cid, uint64_t seq)
{
    if (zhashx_size (self->refused) == 0)
        return false;       /* the common case costs nothing */
    char key [17];
    s_key (cid, key);
    s_entry_t *e = (s_entry_t *) zhashx_lookup (self->refused, key);
    return e && seq > e->lowest;
}

void
order_guard_refused (order_guard_t *self, uint64_t cid, uint64_t seq)
{
    char key [17];
    s_key (cid, key);
    s_entry_t *e = (s_entry_t *) zhashx_lookup (self->refused, key);
    if (e) {
        if (seq < e->lowest)
            s_rebase (e, seq);
        else if (seq - e->lowest < GUARD_SPAN)
            s_set (e, seq - e->lowest, true);
        return;
    }
    if (zhashx_size (self->refused) >= self->max_clients)
        return;
    e = (s_entry_t *) zmalloc (sizeof (s_entry_t));
    e->lowest = seq;
    s_set (e, 0, true);
    zhashx_insert (self->refused, key, e);
}

void
order_guard_accepted (order_guard_t *self, uint64_t cid, uint64_t seq)
{
    if (zhashx_size (self->refused) == 0)
        return;
    char key [17];
    s_key (cid, key);
    s_entry_t *e = (s_entry_t *) zhashx_lookup (self->refused, key);
    if (!e || seq < e->lowest || seq - e->lowest >= GUARD_SPAN)
        return;
    s_set (e, seq - e->lowest, false);
    if (seq != e->lowest)
        return;
    for (uint64_t i = 1; i < GUARD_SPAN; i++)
        if (s_bit (e, i)) {
            s_rebase (e, e->lowest + i);
            return;
        }
    zhashx_delete (self->refused, key);
}

void
order_guard_clear (order_guard_t *self)
{
    zhashx_purge (self->refused);
}
