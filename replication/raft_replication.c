/*  raft_replication.c - log replication, commit and snapshot catch-up.

    Leader: new entries are published once, as broadcast APPENDs (prev = last index
    broadcast); heartbeats are broadcast too. A follower that rejects (a gap, or a
    conflicting tail) is repaired point to point from its next index, a few batches in
    flight, resent after a heartbeat interval without progress; below the compaction
    point it gets a SNAPSHOT message instead. The leader commits an index only when a
    majority holds it durably and only if it is of the current term.
    Follower: entries are accepted only after the prev check; a conflicting tail is
    truncated (never at or below commit); the acknowledgement is deferred to the ready
    in which the entries are persisted, so it never claims more than is durable. */
#include <assert.h>
#include <stdlib.h>
#include "raft_internal.h"

void
raft_leader_init (raft_t *self)
{
    uint64_t last = raft_log_last (&self->log);
    for (uint32_t id = 0; id <= RAFT_MAX_ID; id++)
        self->peers [id] =
            (raft_progress_t) { .next = last + 1, .p2p_prev = last, .progress_ms = self->now_ms };
    self->bcast_index = last;
    self->term_start_index = last + 1;
    self->heartbeat_due_ms = self->now_ms + self->cfg.heartbeat_ms;
    self->quorum_check_ms = self->now_ms + self->cfg.election_timeout_ms;
    self->round = 0;
    self->round_wanted = false;
    self->n_pending = 0;
    self->ack_pending = false;
    if (raft_log_append (&self->log, self->term, NULL, 0))
        raft_become_follower (self, self->term, 0); /* no memory for the NOOP */
    else
        raft_maybe_commit (self); /* alone in the configuration: commits at once */
}

/* ---- follower side ---- */

static void
s_queue_ack (raft_t *self, uint32_t to, uint64_t match, uint64_t ctx)
{
    self->ack_pending = true;
    self->ack_to = to;
    if (match > self->ack_match)
        self->ack_match = match;
    if (ctx > self->ack_ctx)
        self->ack_ctx = ctx;
}

static void
s_reject (raft_t *self, const raft_msg_t *msg, uint64_t prev, uint64_t prev_term)
{
    uint64_t last = raft_log_last (&self->log);
    uint64_t hint = prev - 1 < last ? prev - 1 : last;
    /* entries of a term above prev_term cannot match the leader: skip them at once */
    uint64_t floor = self->commit > self->log.snap_index ? self->commit : self->log.snap_index;
    while (hint > floor && raft_log_term (&self->log, hint) > prev_term)
        hint--;
    raft_msg_t *out = raft_outbox_push (self, RAFT_MSG_APPEND_RESP, msg->from);
    if (!out)
        return;
    out->reject = true;
    out->hint = hint;
    out->read_ctx = msg->read_ctx;
}

/* Append entries after a matching prev; returns the last index verified to match
   the leader's log. */
static uint64_t
s_append_entries (raft_t *self, const raft_entry_t *ents, uint32_t n, uint64_t prev)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t idx = ents [i].index;
        if (idx <= raft_log_last (&self->log)) {
            if (raft_log_term (&self->log, idx) == ents [i].term)
                continue;
            if (idx <= self->commit)
                return prev; /* a committed entry conflicts: refuse, keep ours */
            raft_log_truncate_after (&self->log, idx - 1);
            raft_members_on_truncate (self, idx - 1);
            if (self->stable > idx - 1)
                self->stable = idx - 1;
        }
        if (raft_log_append (&self->log, ents [i].term, ents [i].data, ents [i].len))
            return idx - 1;
        raft_members_on_append (self, idx);
    }
    return prev + n;
}

static void
s_heard_from_leader (raft_t *self, uint32_t leader)
{
    if (self->role != RAFT_FOLLOWER)
        raft_become_follower (self, self->term, leader);
    self->leader = leader;
    self->leader_contact_ms = self->now_ms;
    raft_reset_election_timer (self);
}

void
raft_step_append (raft_t *self, const raft_msg_t *msg)
{
    s_heard_from_leader (self, msg->from);
    if (self->install_index)
        return; /* the log is about to be replaced */
    uint64_t prev = msg->prev_index, prev_term = msg->prev_term;
    const raft_entry_t *ents = msg->entries;
    uint32_t n = msg->n_entries;
    if (prev < self->commit) {
        /* everything up to our commit is committed, hence identical: skip it */
        uint64_t skip = self->commit - prev;
        if (skip >= n) {
            s_queue_ack (self, msg->from, self->commit, msg->read_ctx);
            return;
        }
        ents += skip;
        n -= (uint32_t) skip;
        prev = self->commit;
        prev_term = raft_log_term (&self->log, prev);
    }
    if (prev > raft_log_last (&self->log) || raft_log_term (&self->log, prev) != prev_term) {
        s_reject (self, msg, prev, prev_term);
        return;
    }
    uint64_t verified = s_append_entries (self, ents, n, prev);
    uint64_t commit = msg->commit < verified ? msg->commit : verified;
    if (commit > self->commit)
        self->commit = commit;
    s_queue_ack (self, msg->from, verified, msg->read_ctx);
}

void
raft_step_snapshot (raft_t *self, const raft_msg_t *msg)
{
    s_heard_from_leader (self, msg->from);
    if (msg->snap_index <= self->commit) {
        s_queue_ack (self, msg->from, self->commit, 0);
        return;
    }
    if (msg->snap_term == 0 || msg->snap_term > msg->term)
        return;
    if (raft_log_term (&self->log, msg->snap_index) == msg->snap_term) {
        /* we hold the snapshot's last entry, hence the whole prefix: installing
           would throw away durable entries after it that we may have acked */
        self->commit = msg->snap_index;
        s_queue_ack (self, msg->from, msg->snap_index, 0);
        return;
    }
    self->install_index = msg->snap_index;
    self->install_term = msg->snap_term;
    self->ack_pending = false;
    self->ack_match = self->ack_ctx = 0;
}

/* The snapshot of the last ready is installed: the log restarts after it. */
void
raft_finish_install (raft_t *self)
{
    raft_log_reset (&self->log, self->install_index, self->install_term);
    self->commit = self->applied = self->stable = self->install_index;
    raft_members_on_install (self);
    if (self->leader)
        s_queue_ack (self, self->leader, self->install_index, 0);
    self->install_index = self->install_term = 0;
}

void
raft_flush_ack (raft_t *self, uint64_t stable_after)
{
    if (!self->ack_pending || self->role != RAFT_FOLLOWER)
        return;
    raft_msg_t *out = raft_outbox_push (self, RAFT_MSG_APPEND_RESP, self->ack_to);
    if (!out)
        return;
    out->match = self->ack_match < stable_after ? self->ack_match : stable_after;
    out->read_ctx = self->ack_ctx;
    if (out->match >= self->ack_match)
        self->ack_pending = false;
}

/* ---- leader side ---- */

static void
s_on_ack (raft_t *self, raft_progress_t *p, uint64_t match)
{
    uint64_t last = raft_log_last (&self->log);
    if (match > last)
        match = last;
    if (match > p->match) {
        p->match = match;
        p->progress_ms = self->now_ms;
        if (p->inflight > 0)
            p->inflight--;
    }
    if (p->next <= p->match)
        p->next = p->match + 1;
    if (p->snap_pending && p->match >= p->snap_index) {
        p->snap_pending = false;
        p->p2p_prev = p->match;
    }
    if (p->p2p && p->match >= self->bcast_index) {
        p->p2p = false;
        p->inflight = 0;
    }
    raft_maybe_commit (self);
}

static void
s_on_reject (raft_t *self, raft_progress_t *p, uint64_t hint)
{
    if (hint < p->match) {
        /* It acknowledged more than it now holds: its disk lost them (a wiped or
           replaced data directory), or the reject is older than those acks (a
           reordering network). Counting what it may have lost is unsafe; sending
           again from hint costs at most a resend. Commit never goes back. */
        p->match = hint;
        p->p2p = false;          /* restart its stream below, snapshot first if */
        p->snap_pending = false; /* its log now starts before ours */
    }
    uint64_t last = raft_log_last (&self->log);
    uint64_t next = hint + 1;
    if (next > last + 1)
        next = last + 1;
    if (p->snap_pending && next <= self->log.snap_index)
        return; /* the snapshot is on its way */
    if (p->p2p && hint >= p->p2p_prev)
        return; /* what it lacks is already in flight; the resend timer covers loss */
    p->p2p = true;
    p->snap_pending = false;
    p->next = next;
    p->p2p_prev = next - 1;
    p->inflight = 0;
    p->progress_ms = self->now_ms;
}

void
raft_step_append_resp (raft_t *self, const raft_msg_t *msg)
{
    if (self->role != RAFT_LEADER)
        return;
    if (!raft_is_member (self, msg->from))
        return; /* removed, or not added yet: nothing to track */
    raft_progress_t *p = &self->peers [msg->from];
    p->active = true;
    if (msg->read_ctx > p->acked_round && msg->read_ctx <= self->round)
        p->acked_round = msg->read_ctx;
    if (msg->reject)
        s_on_reject (self, p, msg->hint);
    else
        s_on_ack (self, p, msg->match);
    raft_reads_on_ack (self);
    raft_transfer_on_ack (self, msg->from);
}

static int
s_cmp_desc (const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? 1 : x > y ? -1 : 0;
}

void
raft_maybe_commit (raft_t *self)
{
    if (self->role != RAFT_LEADER)
        return;
    uint64_t matches [RAFT_MAX_NODES];
    uint32_t n = 0;
    for (uint32_t i = 0; i < self->conf.n; i++) {
        uint32_t id = self->conf.members [i].id;
        if (self->conf.members [i].voter)
            matches [n++] = id == self->cfg.id ? self->stable : self->peers [id].match;
    }
    if (n == 0)
        return;
    qsort (matches, n, sizeof matches [0], s_cmp_desc);
    uint64_t index = matches [raft_quorum (self) - 1];
    if (index > self->commit && raft_log_term (&self->log, index) == self->term) {
        self->commit = index;
        raft_reads_on_ack (self);
    }
    if (!self->in_ready)
        raft_members_on_commit (self);
}

/* No other member to replicate to. */
static bool
s_alone (const raft_t *self)
{
    return self->conf.n == 0 || (self->conf.n == 1 && raft_is_member (self, self->cfg.id));
}

void
raft_send_heartbeat (raft_t *self)
{
    self->heartbeat_due_ms = self->now_ms + self->cfg.heartbeat_ms;
    self->round++;
    self->round_wanted = false;
    if (!s_alone (self)) {
        raft_msg_t *m = raft_outbox_push (self, RAFT_MSG_APPEND, RAFT_BROADCAST);
        if (m) {
            m->prev_index = self->bcast_index;
            m->prev_term = raft_log_term (&self->log, self->bcast_index);
            m->commit = self->commit;
            m->read_ctx = self->round;
        }
    }
    raft_reads_on_ack (self);
}

/* Resend a stalled point-to-point stream from the last acknowledged index. */
void
raft_tick_replication (raft_t *self)
{
    uint64_t last = raft_log_last (&self->log);
    for (uint32_t i = 0; i < self->conf.n; i++) {
        uint32_t id = self->conf.members [i].id;
        raft_progress_t *p = &self->peers [id];
        if (id == self->cfg.id || p->snap_pending || p->match >= last)
            continue;
        if (!p->p2p) {
            /* silent for a while on the broadcast stream: it may not hear it at all (a
               replica whose log predates us as a member is not subscribed to us), and
               a reject never comes. Probe it point to point. */
            if (self->now_ms - p->progress_ms >= self->cfg.election_timeout_ms / 2) {
                p->p2p = true;
                p->next = p->match + 1;
                p->p2p_prev = p->match;
                p->inflight = 0;
                p->progress_ms = self->now_ms;
            }
            continue;
        }
        if (self->now_ms - p->progress_ms < self->cfg.heartbeat_ms)
            continue;
        p->next = p->match + 1;
        p->p2p_prev = p->match;
        p->inflight = 0;
        p->progress_ms = self->now_ms;
    }
}

/* Build an APPEND carrying entries [from, ...] bounded by the batch limits. */
static raft_msg_t *
s_push_batch (raft_t *self, uint32_t to, uint64_t from)
{
    raft_msg_t *m = raft_outbox_push (self, RAFT_MSG_APPEND, to);
    if (!m)
        return NULL;
    uint64_t last = raft_log_last (&self->log);
    const raft_entry_t *first = raft_log_at (&self->log, from);
    uint32_t n = 0;
    uint64_t bytes = 0;
    while (from + n <= last && n < self->cfg.max_batch_entries) {
        uint32_t len = first [n].len;
        if (n > 0 && bytes + len > self->cfg.max_batch_bytes)
            break;
        bytes += len;
        n++;
    }
    m->prev_index = from - 1;
    m->prev_term = raft_log_term (&self->log, from - 1);
    m->entries = first;
    m->n_entries = n;
    m->commit = self->commit;
    m->read_ctx = self->round;
    return m;
}

static void
s_flush_peer (raft_t *self, uint32_t id)
{
    assert (id >= 1 && id <= RAFT_MAX_ID && id != self->cfg.id);
    raft_progress_t *p = &self->peers [id];
    if (p->next <= self->log.snap_index) {
        if (p->snap_pending && self->now_ms - p->snap_sent_ms < self->cfg.election_timeout_ms)
            return;
        raft_msg_t *m = raft_outbox_push (self, RAFT_MSG_SNAPSHOT, id);
        if (!m)
            return;
        m->snap_index = self->log.snap_index;
        m->snap_term = self->log.snap_term;
        p->snap_pending = true;
        p->snap_index = self->log.snap_index;
        p->snap_sent_ms = self->now_ms;
        return;
    }
    uint64_t last = raft_log_last (&self->log);
    while (p->inflight < RAFT_MAX_INFLIGHT && p->next <= last) {
        raft_msg_t *m = s_push_batch (self, id, p->next);
        if (!m)
            return;
        p->next += m->n_entries;
        p->inflight++;
    }
}

/* Called from raft_ready: publish new entries, repair lagging peers, heartbeat. */
void
raft_flush_leader (raft_t *self)
{
    if (self->role != RAFT_LEADER)
        return;
    uint64_t last = raft_log_last (&self->log);
    bool alone = s_alone (self);
    if (alone || self->bcast_index < self->log.snap_index)
        self->bcast_index = alone ? last : self->log.snap_index;
    while (self->bcast_index < last) {
        raft_msg_t *m = s_push_batch (self, RAFT_BROADCAST, self->bcast_index + 1);
        if (!m)
            break;
        self->bcast_index += m->n_entries;
    }
    for (uint32_t i = 0; i < self->conf.n; i++) {
        uint32_t id = self->conf.members [i].id;
        if (id != self->cfg.id && self->peers [id].p2p)
            s_flush_peer (self, id);
    }
    if (self->round_wanted || self->now_ms >= self->heartbeat_due_ms)
        raft_send_heartbeat (self);
}
