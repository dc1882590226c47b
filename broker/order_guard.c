/*  order_guard.c - per-client lowest refused write seq, in a bounded hash table. */
#include "order_guard.h"
#include <czmq.h>

/* The refused seqs of one client: lowest, and which of the next ones were refused too
   (bit i = seq lowest + i), so that accepting the lowest hands the hold to the next
   refused one instead of letting every later write go at once. */
#define GUARD_SPAN 256

typedef struct {
    uint64_t cid; /* the table's key lives here, binary, as in pending.c */
    uint64_t lowest;
    uint64_t bits [GUARD_SPAN / 64];
} s_entry_t;

struct order_guard {
    size_t max_clients;
    zhashx_t *refused; /* &entry->cid -> s_entry_t (owned) */
};

static void
s_free (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

static size_t
s_hash (const void *key)
{
    uint64_t h = *(const uint64_t *) key * 0x9e3779b97f4a7c15ull;
    return (size_t) (h ^ (h >> 32));
}

static int
s_compare (const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *) x, b = *(const uint64_t *) y;
    return a < b ? -1 : a > b;
}

order_guard_t *
order_guard_new (size_t max_clients)
{
    order_guard_t *self = (order_guard_t *) zmalloc (sizeof (order_guard_t));
    self->max_clients = max_clients;
    self->refused = zhashx_new ();
    zhashx_set_destructor (self->refused, s_free);
    zhashx_set_key_duplicator (self->refused, NULL);
    zhashx_set_key_destructor (self->refused, NULL);
    zhashx_set_key_hasher (self->refused, s_hash);
    zhashx_set_key_comparator (self->refused, s_compare);
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
        return false; /* the common case costs nothing */
    s_entry_t *e = (s_entry_t *) zhashx_lookup (self->refused, &cid);
    return e && seq > e->lowest;
}

void
order_guard_refused (order_guard_t *self, uint64_t cid, uint64_t seq)
{
    s_entry_t *e = (s_entry_t *) zhashx_lookup (self->refused, &cid);
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
    e->cid = cid;
    e->lowest = seq;
    s_set (e, 0, true);
    zhashx_insert (self->refused, &e->cid, e);
}

void
order_guard_accepted (order_guard_t *self, uint64_t cid, uint64_t seq)
{
    if (zhashx_size (self->refused) == 0)
        return;
    s_entry_t *e = (s_entry_t *) zhashx_lookup (self->refused, &cid);
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
    zhashx_delete (self->refused, &cid);
}

void
order_guard_clear (order_guard_t *self)
{
    zhashx_purge (self->refused);
}
