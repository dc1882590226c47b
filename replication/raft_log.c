/*  raft_log.c - the Raft core's in-memory log.

    Holds entries (snap_index, snap_index + count] in one array; their data is copied
    into blocks of at least RAFT_BLOCK_BYTES owned by the log, in index order, so the
    hot path makes no allocation per entry and memory returns a block at a time. The
    term of snap_index (the compaction or snapshot point) is always kept, so the entry
    after it can still be checked against a leader's prev_index/prev_term. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "grow.h"
#include "raft_internal.h"

void
raft_log_init (raft_log_t *log, uint64_t snap_index, uint64_t snap_term)
{
    memset (log, 0, sizeof *log);
    log->snap_index = snap_index;
    log->snap_term = snap_term;
}

/* A block is one 2 MiB-aligned region, header included: with a huge page hint it is
   one page fault instead of 512 when the log first grows into it. */
#define RAFT_BLOCK_BYTES (2 * 1024 * 1024)

static raft_block_t *
s_block_new (uint32_t len)
{
    size_t need = sizeof (raft_block_t) + len;
    size_t bytes = need <= RAFT_BLOCK_BYTES
                       ? RAFT_BLOCK_BYTES
                       : (need + RAFT_BLOCK_BYTES - 1) / RAFT_BLOCK_BYTES * RAFT_BLOCK_BYTES;
    void *p = NULL;
    if (posix_memalign (&p, RAFT_BLOCK_BYTES, bytes))
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise (p, bytes, MADV_HUGEPAGE); /* a hint: ignored where unsupported */
#endif
    raft_block_t *b = p;
    b->cap = bytes - sizeof (raft_block_t);
    return b;
}

static void
s_free_blocks (raft_log_t *log)
{
    while (log->oldest) {
        raft_block_t *next = log->oldest->next;
        free (log->oldest);
        log->oldest = next;
    }
    log->newest = NULL;
}

/* Free the oldest blocks whose entries are all <= index (compaction). */
static void
s_free_blocks_upto (raft_log_t *log, uint64_t index)
{
    while (log->oldest && log->oldest->last_index <= index) {
        raft_block_t *next = log->oldest->next;
        free (log->oldest);
        log->oldest = next;
    }
    if (!log->oldest)
        log->newest = NULL;
}

/* Free the newest blocks whose entries are all > index (truncation). Rare: a walk. */
static void
s_free_blocks_after (raft_log_t *log, uint64_t index)
{
    raft_block_t **link = &log->oldest;
    while (*link && (*link)->first_index <= index)
        link = &(*link)->next;
    raft_block_t *doomed = *link;
    *link = NULL;
    while (doomed) {
        raft_block_t *next = doomed->next;
        free (doomed);
        doomed = next;
    }
    log->newest = NULL;
    for (raft_block_t *b = log->oldest; b; b = b->next) {
        log->newest = b;
        if (b->last_index > index)
            b->last_index = index; /* its later bytes are dead until it is freed */
    }
}

/* Room for len bytes of entry index's data. */
static uint8_t *
s_block_alloc (raft_log_t *log, uint64_t index, uint32_t len)
{
    raft_block_t *b = log->newest;
    if (!b || b->cap - b->used < len) {
        b = s_block_new (len);
        if (!b)
            return NULL;
        b->next = NULL;
        b->first_index = index;
        b->used = 0;
        if (log->newest)
            log->newest->next = b;
        else
            log->oldest = b;
        log->newest = b;
    }
    uint8_t *at = b->data + b->used;
    b->used += len;
    b->last_index = index;
    return at;
}

void
raft_log_free (raft_log_t *log)
{
    s_free_blocks (log);
    free (log->ents);
    memset (log, 0, sizeof *log);
}

uint64_t
raft_log_last (const raft_log_t *log)
{
    return log->snap_index + log->count;
}

uint64_t
raft_log_last_term (const raft_log_t *log)
{
    return raft_log_term (log, raft_log_last (log));
}

uint64_t
raft_log_term (const raft_log_t *log, uint64_t index)
{
    if (index == log->snap_index)
        return log->snap_term;
    const raft_entry_t *e = raft_log_at (log, index);
    return e ? e->term : 0;
}

const raft_entry_t *
raft_log_at (const raft_log_t *log, uint64_t index)
{
    if (index <= log->snap_index || index > raft_log_last (log))
        return NULL;
    return &log->ents [log->off + (index - log->snap_index - 1)];
}

/* Make room for one more entry at the end: first slide the live window back to the
   start when the dead prefix is large, then grow geometrically. */
static int
s_reserve (raft_log_t *log)
{
    if (log->off + log->count < log->cap)
        return 0;
    if (log->off > 0 && log->off >= log->cap / 2) {
        memmove (log->ents, log->ents + log->off, log->count * sizeof *log->ents);
        log->off = 0;
        return 0;
    }
    raft_entry_t *ents = zc_grow (log->ents, &log->cap, sizeof *ents, 64);
    if (!ents)
        return -1;
    log->ents = ents;
    return 0;
}

int
raft_log_append (raft_log_t *log, uint64_t term, const uint8_t *data, uint32_t len)
{
    if (s_reserve (log))
        return -1;
    uint8_t *copy = NULL;
    uint64_t index = raft_log_last (log) + 1;
    if (len > 0) {
        copy = s_block_alloc (log, index, len);
        if (!copy)
            return -1;
        memcpy (copy, data, len);
    }
    raft_entry_t *e = &log->ents [log->off + log->count];
    e->term = term;
    e->index = index;
    e->len = len;
    e->data = copy;
    log->count++;
    return 0;
}

void
raft_log_truncate_after (raft_log_t *log, uint64_t index)
{
    assert (index >= log->snap_index);
    if (index >= raft_log_last (log))
        return;
    uint64_t keep = index - log->snap_index;
    s_free_blocks_after (log, index);
    log->count = keep;
}

void
raft_log_compact (raft_log_t *log, uint64_t index)
{
    if (index <= log->snap_index || index > raft_log_last (log))
        return;
    uint64_t drop = index - log->snap_index;
    uint64_t term = raft_log_term (log, index);
    s_free_blocks_upto (log, index);
    log->off += drop;
    log->count -= drop;
    log->snap_index = index;
    log->snap_term = term;
    if (log->count == 0)
        log->off = 0;
}

void
raft_log_reset (raft_log_t *log, uint64_t snap_index, uint64_t snap_term)
{
    s_free_blocks (log);
    log->off = 0;
    log->count = 0;
    log->snap_index = snap_index;
    log->snap_term = snap_term;
}
