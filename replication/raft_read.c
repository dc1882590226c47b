/*  raft_read.c - linearizable reads without log writes (ReadIndex, thesis 6.4).

    A read asked at the leader records the commit index of that moment and the next
    heartbeat round. It is released once a majority echoed a round at least that new
    (so the leader was still leader after the read arrived) and the leader has
    committed its own NOOP (so its commit index covers everything committed before
    it). One round confirms every read queued before it was sent. Reads still pending
    when leadership is lost are reported as failed. */
#include <assert.h>
#include <stdlib.h>
#include "raft_internal.h"

raft_err_t
raft_read_index (raft_t *self, uint64_t ctx)
{
    assert (self && !self->in_ready);
    if (self->role != RAFT_LEADER)
        return RAFT_ERR_NOT_LEADER;
    if (self->n_pending + self->n_reads + self->n_failed >= RAFT_MAX_READS)
        return RAFT_ERR_BUSY;
    raft_pending_read_t *r = &self->pending [self->n_pending++];
    r->ctx = ctx;
    r->index = self->commit;
    r->round = self->round + 1;
    self->round_wanted = true;
    return RAFT_OK;
}

static int
s_cmp_desc (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The newest heartbeat round a majority (the leader included) has echoed. */
static uint64_t
s_confirmed_round (const raft_t *self)
{
    uint64_t rounds [RAFT_MAX_NODES];
    uint32_t n = 0;
    for (uint32_t i = 0; i < self->conf.n; i++) {
        uint32_t id = self->conf.members [i].id;
        if (self->conf.members [i].voter)
            rounds [n++] = id == self->cfg.id ? self->round : self->peers [id].acked_round;
    }
    if (n == 0)
        return 0;
    qsort (rounds, n, sizeof rounds [0], s_cmp_desc);
    return rounds [raft_quorum (self) - 1];
}

void
raft_reads_on_ack (raft_t *self)
{
    if (self->role != RAFT_LEADER || self->n_pending == 0 || self->commit < self->term_start_index)
        return;
    uint64_t confirmed = s_confirmed_round (self);
    uint32_t done = 0;
    while (done < self->n_pending && self->pending [done].round <= confirmed) {
        const raft_pending_read_t *r = &self->pending [done++];
        raft_read_t *out = &self->reads [self->n_reads++];
        out->ctx = r->ctx;
        out->index = r->index > self->term_start_index ? r->index : self->term_start_index;
    }
    for (uint32_t i = done; i < self->n_pending; i++)
        self->pending [i - done] = self->pending [i];
    self->n_pending -= done;
}

void
raft_reads_fail_all (raft_t *self)
{
    for (uint32_t i = 0; i < self->n_pending; i++)
        self->failed [self->n_failed++] = self->pending [i].ctx;
    self->n_pending = 0;
    self->round_wanted = false;
}
