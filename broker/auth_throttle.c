/*  auth_throttle.c - failed-login delays (see auth_throttle.h). */
#include "auth_throttle.h"
#include <czmq.h>

/* Free tries before delays start, first delay, cap; by kind (user, connection). */
static const uint32_t s_free_tries [] = { 5, 3 };
static const uint64_t s_first_ms [] = { 500, 1000 };
static const uint64_t s_cap_ms [] = { 10000, 60000 };
/* An entry idle this long is forgotten: its failures no longer count. */
#define THROTTLE_FORGET_MS (15 * 60 * 1000)

/* While checks run that could reach the limit, a new attempt waits this long. */
#define THROTTLE_INFLIGHT_WAIT_MS 200

typedef struct {
    uint32_t fails;
    uint32_t inflight; /* checks running */
    uint64_t last_ms;  /* last failure */
    uint64_t until_ms; /* no attempt before this */
} s_entry_t;

struct auth_throttle {
    zhashx_t *entries; /* "u:NAME" / "c:CONNKEY" -> s_entry_t */
};

auth_throttle_t *
auth_throttle_new (void)
{
    auth_throttle_t *self = (auth_throttle_t *) zmalloc (sizeof (auth_throttle_t));
    self->entries = zhashx_new ();
    zhashx_set_destructor (self->entries, (zhashx_destructor_fn *) zstr_free);
    return self;
}

void
auth_throttle_destroy (auth_throttle_t **self_p)
{
    if (!*self_p)
        return;
    zhashx_destroy (&(*self_p)->entries);
    free (*self_p);
    *self_p = NULL;
}

uint64_t
auth_throttle_delay_ms (throttle_kind_t kind, uint32_t fails)
{
    if (fails < s_free_tries [kind])
        return 0;
    uint32_t doublings = fails - s_free_tries [kind];
    uint64_t delay = doublings >= 16 ? s_cap_ms [kind] : s_first_ms [kind] << doublings;
    return delay < s_cap_ms [kind] ? delay : s_cap_ms [kind];
}

static void
s_key (throttle_kind_t kind, const char *key, char *out, size_t size)
{
    snprintf (out, size, "%c:%s", kind == THROTTLE_USER ? 'u' : 'c', key);
}

static s_entry_t *
s_entry (auth_throttle_t *self, throttle_kind_t kind, const char *key, bool create)
{
    char k [600];
    s_key (kind, key, k, sizeof k);
    s_entry_t *entry = (s_entry_t *) zhashx_lookup (self->entries, k);
    if (!entry && create && zhashx_size (self->entries) < THROTTLE_MAX_KEYS) {
        entry = (s_entry_t *) zmalloc (sizeof (s_entry_t));
        zhashx_insert (self->entries, k, entry);
    }
    return entry;
}

uint64_t
auth_throttle_wait_ms (auth_throttle_t *self, throttle_kind_t kind, const char *key,
                       uint64_t now_ms)
{
    s_entry_t *entry = s_entry (self, kind, key, false);
    if (!entry)
        return zhashx_size (self->entries) >= THROTTLE_MAX_KEYS ? s_cap_ms [kind] : 0;
    if (entry->until_ms > now_ms)
        return entry->until_ms - now_ms;
    if (entry->inflight && entry->fails + entry->inflight >= s_free_tries [kind])
        return THROTTLE_INFLIGHT_WAIT_MS;
    return 0;
}

void
auth_throttle_begin (auth_throttle_t *self, throttle_kind_t kind, const char *key)
{
    s_entry_t *entry = s_entry (self, kind, key, true);
    if (entry)
        entry->inflight++;
}

static void
s_end (auth_throttle_t *self, throttle_kind_t kind, const char *key, bool clear)
{
    s_entry_t *entry = s_entry (self, kind, key, false);
    if (!entry)
        return;
    if (entry->inflight)
        entry->inflight--;
    if (clear) {
        entry->fails = 0;
        entry->until_ms = 0;
    }
    if (entry->inflight == 0 && entry->fails == 0) {
        char k [600];
        s_key (kind, key, k, sizeof k);
        zhashx_delete (self->entries, k);
    }
}

void
auth_throttle_abandoned (auth_throttle_t *self, throttle_kind_t kind, const char *key)
{
    s_end (self, kind, key, false);
}

void
auth_throttle_clear (auth_throttle_t *self)
{
    zhashx_purge (self->entries);
}

uint32_t
auth_throttle_failed (auth_throttle_t *self, throttle_kind_t kind, const char *key, uint64_t now_ms)
{
    if (zhashx_size (self->entries) >= THROTTLE_MAX_KEYS)
        auth_throttle_sweep (self, now_ms);
    s_entry_t *entry = s_entry (self, kind, key, true);
    if (!entry)
        return s_free_tries [kind]; /* full: wait_ms refuses new keys anyway */
    if (entry->inflight)
        entry->inflight--;
    entry->fails++;
    entry->last_ms = now_ms;
    entry->until_ms = now_ms + auth_throttle_delay_ms (kind, entry->fails);
    return entry->fails;
}

void
auth_throttle_succeeded (auth_throttle_t *self, throttle_kind_t kind, const char *key)
{
    s_end (self, kind, key, true);
}

void
auth_throttle_sweep (auth_throttle_t *self, uint64_t now_ms)
{
    if (zhashx_size (self->entries) == 0)
        return; /* the loop sweeps every 500 ms: the usual case is free */
    zlistx_t *old = zlistx_new ();
    for (s_entry_t *entry = (s_entry_t *) zhashx_first (self->entries); entry;
         entry = (s_entry_t *) zhashx_next (self->entries))
        if (!entry->inflight && now_ms - entry->last_ms >= THROTTLE_FORGET_MS
            && now_ms >= entry->until_ms)
            zlistx_add_end (old, (void *) zhashx_cursor (self->entries));
    for (const char *k = (const char *) zlistx_first (old); k; k = (const char *) zlistx_next (old))
        zhashx_delete (self->entries, k);
    zlistx_destroy (&old);
}

size_t
auth_throttle_size (const auth_throttle_t *self)
{
    return zhashx_size (self->entries);
}
