/*  pending.c - the table of requests waiting for commit or read confirmation. */
#include "pending.h"

struct pending_table {
    zhashx_t *entries; /* &entry->key -> pending_t (owned; the key lives in it) */
    uint64_t next_ctx;
};

enum { KEY_WRITE = 1, KEY_READ = 2 };

static void
s_free (void **item_p)
{
    pending_t *entry = (pending_t *) *item_p;
    if (entry->auth) {
        explicit_bzero (entry->auth, sizeof *entry->auth);
        free (entry->auth);
    }
    free (entry);
    *item_p = NULL;
}

/* Binary keys: a request costs no key formatting and no key allocation. */
static size_t
s_hash (const void *key)
{
    const pending_key_t *k = (const pending_key_t *) key;
    uint64_t h = (k->a ^ (k->kind << 62)) * 0x9e3779b97f4a7c15ull;
    h ^= (h >> 29) ^ k->b;
    h *= 0xbf58476d1ce4e5b9ull;
    return (size_t) (h ^ (h >> 32));
}

static int
s_compare (const void *x, const void *y)
{
    return memcmp (x, y, sizeof (pending_key_t));
}

pending_table_t *
pending_new (void)
{
    pending_table_t *self = (pending_table_t *) zmalloc (sizeof (pending_table_t));
    self->entries = zhashx_new ();
    zhashx_set_destructor (self->entries, s_free);
    zhashx_set_key_duplicator (self->entries, NULL);
    zhashx_set_key_destructor (self->entries, NULL);
    zhashx_set_key_hasher (self->entries, s_hash);
    zhashx_set_key_comparator (self->entries, s_compare);
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

static pending_t *
s_insert (pending_table_t *self, pending_key_t key)
{
    if (zhashx_size (self->entries) >= PENDING_MAX)
        return NULL;
    pending_t *entry = (pending_t *) zmalloc (sizeof (pending_t));
    entry->key = key;
    zhashx_insert (self->entries, &entry->key, entry);
    return entry;
}

pending_t *
pending_find (pending_table_t *self, uint64_t cid, uint64_t seq)
{
    pending_key_t key = { KEY_WRITE, cid, seq };
    return (pending_t *) zhashx_lookup (self->entries, &key);
}

pending_t *
pending_add (pending_table_t *self, uint64_t cid, uint64_t seq, bool *existed)
{
    pending_t *entry = pending_find (self, cid, seq);
    *existed = entry != NULL;
    if (entry)
        return entry;
    entry = s_insert (self, (pending_key_t) { KEY_WRITE, cid, seq });
    if (entry) {
        entry->cid = cid;
        entry->seq = seq;
    }
    return entry;
}

pending_t *
pending_add_read (pending_table_t *self)
{
    uint64_t ctx = self->next_ctx + 1;
    pending_t *entry = s_insert (self, (pending_key_t) { KEY_READ, ctx, 0 });
    if (entry) {
        self->next_ctx = ctx;
        entry->cmd = ZC_CMD_LIST;
        entry->read_ctx = ctx;
    }
    return entry;
}

pending_t *
pending_find_read (pending_table_t *self, uint64_t ctx)
{
    pending_key_t key = { KEY_READ, ctx, 0 };
    return (pending_t *) zhashx_lookup (self->entries, &key);
}

void
pending_remove (pending_table_t *self, pending_t *entry)
{
    zhashx_delete (self->entries, &entry->key);
}

void
pending_clear (pending_table_t *self, void (*fn) (void *arg, pending_t *entry), void *arg)
{
    /* one pass, then one purge: removing the first entry over and over rescans the
       emptied buckets each time, quadratic in a full table (minutes at PENDING_MAX) */
    for (pending_t *entry = (pending_t *) zhashx_first (self->entries); entry;
         entry = (pending_t *) zhashx_next (self->entries))
        fn (arg, entry);
    zhashx_purge (self->entries);
}
