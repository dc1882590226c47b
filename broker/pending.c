/*  pending.c - the table of requests waiting for commit or read confirmation. */
#include "pending.h"

struct pending_table {
    zhashx_t *entries;   /* "w:cid:seq" or "r:ctx" -> pending_t (owned) */
    uint64_t next_ctx;
};

static void
s_free (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

pending_table_t *
pending_new (void)
{
    pending_table_t *self = (pending_table_t *) zmalloc (sizeof (pending_table_t));
    self->entries = zhashx_new ();
    zhashx_set_destructor (self->entries, s_free);
    return self;
}

void
pending_destroy (pending_table_t **self_p)
{
    if (!*self_p)
        return;
    zhashx_destroy (&(*self_p)->entries);
    free (*self_p);
    *self_p = NULL;
}

static void
s_key (const pending_t *entry, char *key, size_t size)
{
    if (entry->cmd == ZC_CMD_LIST)
        snprintf (key, size, "r:%llx", (unsigned long long) entry->read_ctx);
    else
        snprintf (key, size, "w:%llx:%llx", (unsigned long long) entry->cid,
                  (unsigned long long) entry->seq);
}

pending_t *
pending_find (pending_table_t *self, uint64_t cid, uint64_t seq)
{
    char key [48];
    snprintf (key, sizeof key, "w:%llx:%llx", (unsigned long long) cid, (unsigned long long) seq);
    return (pending_t *) zhashx_lookup (self->entries, key);
}

pending_t *
pending_add (pending_table_t *self, uint64_t cid, uint64_t seq, bool *existed)
{
    pending_t *entry = pending_find (self, cid, seq);
    *existed = entry != NULL;
    if (entry)
        return entry;
    if (zhashx_size (self->entries) >= PENDING_MAX)
        return NULL;
    entry = (pending_t *) zmalloc (sizeof (pending_t));
    entry->cid = cid;
    entry->seq = seq;
    char key [48];
    s_key (entry, key, sizeof key);
    zhashx_insert (self->entries, key, entry);
    return entry;
}

pending_t *
pending_add_read (pending_table_t *self)
{
    if (zhashx_size (self->entries) >= PENDING_MAX)
        return NULL;
    pending_t *entry = (pending_t *) zmalloc (sizeof (pending_t));
    entry->cmd = ZC_CMD_LIST;
    entry->read_ctx = ++self->next_ctx;
    char key [48];
    s_key (entry, key, sizeof key);
    zhashx_insert (self->entries, key, entry);
    return entry;
}

pending_t *
pending_find_read (pending_table_t *self, uint64_t ctx)
{
    char key [48];
    snprintf (key, sizeof key, "r:%llx", (unsigned long long) ctx);
    return (pending_t *) zhashx_lookup (self->entries, key);
}

void
pending_remove (pending_table_t *self, pending_t *entry)
{
    char key [48];
    s_key (entry, key, sizeof key);
    zhashx_delete (self->entries, key);
}

pending_t *
pending_first (pending_table_t *self)
{
    return (pending_t *) zhashx_first (self->entries);
}
