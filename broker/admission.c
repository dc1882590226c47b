/*  admission.c - see admission.h. The waiting table and the ordering rule stay in
    their own files (pending.c, order_guard.c); this is the one place that keeps
    them in step. */
#include "admission.h"
#include "order_guard.h"

struct admission {
    pending_table_t *pending;
    order_guard_t *order;
};

admission_t *
admission_new (size_t max_clients)
{
    admission_t *self = (admission_t *) zmalloc (sizeof (admission_t));
    self->pending = pending_new ();
    self->order = order_guard_new (max_clients);
    return self;
}

void
admission_destroy (admission_t **self_p)
{
    if (!*self_p)
        return;
    pending_destroy (&(*self_p)->pending);
    order_guard_destroy (&(*self_p)->order);
    free (*self_p);
    *self_p = NULL;
}

admit_t
admission_admit (admission_t *self, uint64_t cid, uint64_t seq, const uint8_t *routing,
                 size_t routing_len, pending_t **entry_out)
{
    assert (routing_len <= ROUTING_ID_MAX);
    bool existed = false;
    pending_t *entry = NULL;
    if (!order_guard_holds (self->order, cid, seq))
        entry = pending_add (self->pending, cid, seq, &existed);
    if (!entry) {
        order_guard_refused (self->order, cid, seq);
        return ADMIT_REFUSED;
    }
    memcpy (entry->routing, routing, routing_len); /* answer the newest asker */
    entry->routing_len = routing_len;
    *entry_out = entry;
    return existed ? ADMIT_IN_FLIGHT : ADMIT_NEW;
}

void
admission_accepted (admission_t *self, pending_t *entry)
{
    order_guard_accepted (self->order, entry->cid, entry->seq);
}

void
admission_deferred (admission_t *self, pending_t *entry)
{
    order_guard_refused (self->order, entry->cid, entry->seq);
}

void
admission_refused (admission_t *self, pending_t *entry)
{
    order_guard_refused (self->order, entry->cid, entry->seq);
    pending_remove (self->pending, entry);
}

void
admission_ended (admission_t *self, pending_t *entry)
{
    order_guard_accepted (self->order, entry->cid, entry->seq);
    pending_remove (self->pending, entry);
}

void
admission_answered (admission_t *self, pending_t *entry)
{
    pending_remove (self->pending, entry);
}

pending_t *
admission_find (admission_t *self, uint64_t cid, uint64_t seq)
{
    return pending_find (self->pending, cid, seq);
}

pending_t *
admission_add_read (admission_t *self)
{
    return pending_add_read (self->pending);
}

pending_t *
admission_find_read (admission_t *self, uint64_t ctx)
{
    return pending_find_read (self->pending, ctx);
}

void
admission_clear (admission_t *self, void (*fn) (void *arg, pending_t *entry), void *arg)
{
    order_guard_clear (self->order);
    pending_clear (self->pending, fn, arg);
}
