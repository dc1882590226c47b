/*  order_guard.c - per-client lowest refused write seq, in a bounded hash table. */
#include "order_guard.h"
#include <czmq.h>

struct order_guard {
    size_t max_clients;
    zhashx_t *refused;      /* cid (hex) -> uint64_t lowest refused seq (owned) */
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

bool
order_guard_holds (order_guard_t *self, uint64_t cid, uint64_t seq)
{
    if (zhashx_size (self->refused) == 0)
        return false;       /* the common case costs nothing */
    char key [17];
    s_key (cid, key);
    uint64_t *lowest = (uint64_t *) zhashx_lookup (self->refused, key);
    return lowest && seq > *lowest;
}

void
order_guard_refused (order_guard_t *self, uint64_t cid, uint64_t seq)
{
    char key [17];
    s_key (cid, key);
    uint64_t *lowest = (uint64_t *) zhashx_lookup (self->refused, key);
    if (lowest) {
        if (seq < *lowest)
            *lowest = seq;
        return;
    }
    if (zhashx_size (self->refused) >= self->max_clients)
        return;
    lowest = (uint64_t *) zmalloc (sizeof (uint64_t));
    *lowest = seq;
    zhashx_insert (self->refused, key, lowest);
}

void
order_guard_accepted (order_guard_t *self, uint64_t cid, uint64_t seq)
{
    if (zhashx_size (self->refused) == 0)
        return;
    char key [17];
    s_key (cid, key);
    uint64_t *lowest = (uint64_t *) zhashx_lookup (self->refused, key);
    if (lowest && *lowest == seq)
        zhashx_delete (self->refused, key);
}

void
order_guard_clear (order_guard_t *self)
{
    zhashx_purge (self->refused);
}
