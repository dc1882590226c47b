/*  raft_ready.c - the ready/advance cycle and the outbox.

    raft_ready gathers everything the caller must do, in the order raft.h prescribes;
    raft_advance marks it done. Between the two no mutating call is allowed (asserted),
    which is what keeps the entry pointers handed out valid. Entries to persist are the
    unstable suffix (stable, last]; committed entries handed out for applying never
    go past what is durable once this ready is persisted. */
#include <assert.h>
#include <string.h>
#include "raft_internal.h"

raft_msg_t *
raft_outbox_push (raft_t *self, raft_msg_type_t type, uint32_t to)
{
    if (self->n_out >= RAFT_OUTBOX_MAX)
        return NULL; /* like a lost message: every sender recovers by timer */
    raft_msg_t *m = &self->outbox [self->n_out++];
    memset (m, 0, sizeof *m);
    m->type = type;
    m->from = self->cfg.id;
    m->to = to;
    m->term = self->term;
    return m;
}

uint32_t
raft_outbox_room (const raft_t *self)
{
    return RAFT_OUTBOX_MAX - self->n_out;
}

/* Fill the log parts of rd; returns the index durable once rd is persisted. */
static uint64_t
s_ready_log (raft_t *self, raft_ready_t *rd)
{
    uint64_t last = raft_log_last (&self->log);
    uint64_t stable_after = self->stable;
    if (last > self->stable) {
        uint64_t n = last - self->stable;
        if (n > RAFT_READY_MAX_ENTRIES)
            n = RAFT_READY_MAX_ENTRIES;
        rd->entries = raft_log_at (&self->log, self->stable + 1);
        rd->n_entries = (uint32_t) n;
        stable_after += n;
    }
    uint64_t commit_to = self->commit < stable_after ? self->commit : stable_after;
    if (commit_to > self->applied) {
        uint64_t n = commit_to - self->applied;
        if (n > RAFT_READY_MAX_COMMITTED)
            n = RAFT_READY_MAX_COMMITTED;
        rd->committed = raft_log_at (&self->log, self->applied + 1);
        rd->n_committed = (uint32_t) n;
    }
    return stable_after;
}

bool
raft_ready (raft_t *self, raft_ready_t *rd)
{
    assert (self && rd && !self->in_ready);
    memset (rd, 0, sizeof *rd);
    uint64_t stable_after = self->stable;
    if (self->install_index) {
        rd->install_index = self->install_index;
        rd->install_term = self->install_term;
    }
    else
        stable_after = s_ready_log (self, rd);
    raft_flush_leader (self);
    raft_flush_ack (self, stable_after);
    rd->hardstate_changed = self->hs_dirty;
    rd->hardstate.term = self->term;
    rd->hardstate.vote = self->vote;
    rd->msgs = self->n_out ? self->outbox : NULL;
    rd->n_msgs = self->n_out;
    rd->reads = self->n_reads ? self->reads : NULL;
    rd->n_reads = self->n_reads;
    rd->failed_reads = self->n_failed ? self->failed : NULL;
    rd->n_failed_reads = self->n_failed;
    rd->conf_changed = self->conf_changed;
    rd->role = self->role;
    rd->leader = self->leader;
    rd->term = self->term;
    rd->commit = self->commit;
    self->in_ready = rd->hardstate_changed || rd->n_entries || rd->n_msgs || rd->n_committed
                     || rd->n_reads || rd->n_failed_reads || rd->install_index || rd->conf_changed;
    return self->in_ready;
}

void
raft_advance (raft_t *self, const raft_ready_t *rd)
{
    assert (self && rd);
    if (!self->in_ready)
        return;
    if (rd->conf_changed)
        self->conf_changed = false; /* before an install, which may change it again */
    if (rd->install_index)
        raft_finish_install (self);
    if (rd->n_entries)
        self->stable = rd->entries [rd->n_entries - 1].index;
    if (rd->n_committed)
        self->applied = rd->committed [rd->n_committed - 1].index;
    if (rd->hardstate_changed)
        self->hs_dirty = false;
    self->n_out = 0;
    self->n_reads = 0;
    self->n_failed = 0;
    self->in_ready = false;
    raft_maybe_commit (self);
}
