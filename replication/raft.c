/*  raft.c - the Raft core's lifecycle, event dispatch and inspection.

    raft_step validates every message (it comes from the network) and applies the
    term rules once, here, before the per-concern handlers see it: a higher term makes
    us a follower (except pre-vote traffic, which never changes a term, and vote
    requests while we still hear from a live leader); a lower term is answered so a
    stale leader or pre-candidate learns the current term, and otherwise ignored. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "raft_internal.h"

void
raft_config_defaults (raft_config_t *cfg)
{
    if (!cfg->election_timeout_ms)
        cfg->election_timeout_ms = 500;
    if (!cfg->heartbeat_ms)
        cfg->heartbeat_ms = 50;
    if (!cfg->max_batch_entries)
        cfg->max_batch_entries = 1024;
    if (!cfg->max_batch_bytes)
        cfg->max_batch_bytes = 1024 * 1024;
    if (!cfg->max_uncommitted)
        cfg->max_uncommitted = 65536;
}

raft_t *
raft_new (const raft_config_t *cfg, const raft_hardstate_t *hs, uint64_t snap_index,
          uint64_t snap_term, const raft_conf_t *conf, uint64_t now_ms)
{
    assert (cfg && hs && conf);
    assert (cfg->id >= 1 && cfg->id <= RAFT_MAX_ID && conf->n <= RAFT_MAX_NODES);
    raft_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cfg = *cfg;
    raft_config_defaults (&self->cfg);
    self->term = hs->term;
    self->vote = hs->vote;
    self->role = RAFT_FOLLOWER;
    raft_log_init (&self->log, snap_index, snap_term);
    self->conf = self->snap_conf = *conf;
    self->conf_index = snap_index;
    self->commit = self->applied = self->stable = snap_index;
    self->now_ms = now_ms;
    self->rng = cfg->seed ^ (0x9E3779B97F4A7C15ull * cfg->id);
    raft_reset_election_timer (self);
    if (raft_conf_voters (conf) == 1 && raft_is_voter (self, cfg->id))
        self->election_deadline_ms = now_ms; /* nobody to wait for */
    return self;
}

void
raft_restore_entry (raft_t *self, const raft_entry_t *entry)
{
    assert (self && !self->in_ready);
    assert (entry->index == raft_log_last (&self->log) + 1);
    int rc = raft_log_append (&self->log, entry->term, entry->data, entry->len);
    assert (rc == 0); /* restart cannot proceed without its log */
    (void) rc;
    self->stable = raft_log_last (&self->log);
    raft_members_on_append (self, self->stable);
}

void
raft_set_applied (raft_t *self, uint64_t applied)
{
    assert (self && !self->in_ready);
    if (applied < self->log.snap_index || applied > raft_log_last (&self->log))
        return;
    self->applied = applied;
    if (self->commit < applied)
        self->commit = applied;
}

void
raft_destroy (raft_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    raft_log_free (&(*self_p)->log);
    free (*self_p);
    *self_p = NULL;
}

void
raft_tick (raft_t *self, uint64_t now_ms)
{
    assert (!self->in_ready);
    if (now_ms > self->now_ms)
        self->now_ms = now_ms;
    if (self->role == RAFT_LEADER) {
        raft_tick_leader_quorum (self); /* heartbeats go out from raft_ready */
        if (self->role == RAFT_LEADER)
            raft_tick_replication (self);
        if (self->role == RAFT_LEADER)
            raft_tick_transfer (self);
    }
    else if (self->now_ms >= self->election_deadline_ms)
        raft_campaign (self, true);
}

/* Structural checks on a message from the network. */
static bool
s_msg_valid (const raft_t *self, const raft_msg_t *msg)
{
    if (msg->type < RAFT_MSG_APPEND || msg->type >= RAFT_MSG__COUNT)
        return false;
    if (msg->from < 1 || msg->from > RAFT_MAX_ID || msg->from == self->cfg.id)
        return false;
    if (msg->to != self->cfg.id && !(msg->to == RAFT_BROADCAST && msg->type == RAFT_MSG_APPEND))
        return false;
    if (msg->type != RAFT_MSG_APPEND)
        return msg->n_entries == 0;
    if (msg->n_entries > 0 && !msg->entries)
        return false;
    uint64_t prev_term = msg->prev_term;
    for (uint32_t i = 0; i < msg->n_entries; i++) {
        const raft_entry_t *e = &msg->entries [i];
        if (e->index != msg->prev_index + 1 + i || e->term < prev_term || e->term > msg->term
            || (e->len > 0 && !e->data) || e->len > RAFT_ENTRY_MAX)
            return false;
        prev_term = e->term;
    }
    return true;
}

/* Answer a message from an older term so its sender learns ours. */
static void
s_answer_stale (raft_t *self, const raft_msg_t *msg)
{
    raft_msg_t *out = NULL;
    if (msg->type == RAFT_MSG_APPEND || msg->type == RAFT_MSG_SNAPSHOT) {
        out = raft_outbox_push (self, RAFT_MSG_APPEND_RESP, msg->from);
        if (out) {
            out->reject = true;
            out->hint = raft_log_last (&self->log);
        }
    }
    else if (msg->type == RAFT_MSG_VOTE && msg->prevote) {
        out = raft_outbox_push (self, RAFT_MSG_VOTE_RESP, msg->from);
        if (out)
            out->prevote = true;
    }
}

/* Apply the term rules. Returns false when the message must not be processed. */
static bool
s_check_term (raft_t *self, const raft_msg_t *msg)
{
    if (msg->term > self->term) {
        if (msg->type == RAFT_MSG_VOTE
            && (msg->prevote || (raft_in_lease (self) && !msg->transfer)))
            return msg->prevote; /* pre-votes never change terms; lease: ignore,
                                      unless the leader itself asked for this campaign */
        if (msg->type == RAFT_MSG_VOTE_RESP && msg->prevote && msg->granted)
            return true;
        bool from_leader = msg->type == RAFT_MSG_APPEND || msg->type == RAFT_MSG_SNAPSHOT
                           || msg->type == RAFT_MSG_TIMEOUT_NOW;
        raft_become_follower (self, msg->term, from_leader ? msg->from : 0);
        return true;
    }
    if (msg->term < self->term) {
        s_answer_stale (self, msg);
        return false;
    }
    return true;
}

void
raft_step (raft_t *self, const raft_msg_t *msg)
{
    assert (self && msg && !self->in_ready);
    if (!s_msg_valid (self, msg) || !s_check_term (self, msg))
        return;
    switch (msg->type) {
        case RAFT_MSG_APPEND: raft_step_append (self, msg); break;
        case RAFT_MSG_APPEND_RESP: raft_step_append_resp (self, msg); break;
        case RAFT_MSG_VOTE: raft_step_vote (self, msg); break;
        case RAFT_MSG_VOTE_RESP: raft_step_vote_resp (self, msg); break;
        case RAFT_MSG_SNAPSHOT: raft_step_snapshot (self, msg); break;
        case RAFT_MSG_TIMEOUT_NOW: raft_step_timeout_now (self, msg); break;
        default: break;
    }
}

raft_err_t
raft_propose (raft_t *self, const uint8_t *data, uint32_t len, uint64_t *index_out)
{
    assert (self && !self->in_ready && (data || len == 0));
    if (self->role != RAFT_LEADER)
        return RAFT_ERR_NOT_LEADER;
    if (self->transfer_target)
        return RAFT_ERR_BUSY; /* handing over: the target must catch up, then lead */
    if (len > RAFT_ENTRY_MAX)
        return RAFT_ERR_TOO_LARGE;
    if (raft_conf_is_entry (data, len))
        return RAFT_ERR_BAD_CONF; /* configurations go through raft_propose_conf */
    uint64_t last = raft_log_last (&self->log);
    if (last - self->commit >= self->cfg.max_uncommitted)
        return RAFT_ERR_BUSY;
    if (raft_log_append (&self->log, self->term, data, len))
        return RAFT_ERR_BUSY; /* out of memory: back off, like any full queue */
    if (index_out)
        *index_out = last + 1;
    return RAFT_OK;
}

void
raft_compact (raft_t *self, uint64_t index)
{
    assert (self && !self->in_ready);
    if (index > self->applied)
        index = self->applied;
    if (index <= self->log.snap_index)
        return;
    raft_members_on_compact (self, index);
    raft_log_compact (&self->log, index);
}

raft_role_t
raft_role (const raft_t *self)
{
    return self->role;
}
uint32_t
raft_leader (const raft_t *self)
{
    return self->leader;
}
uint64_t
raft_term (const raft_t *self)
{
    return self->term;
}
uint64_t
raft_commit_index (const raft_t *self)
{
    return self->commit;
}
uint64_t
raft_last_index (const raft_t *self)
{
    return raft_log_last (&self->log);
}
uint64_t
raft_first_index (const raft_t *self)
{
    return self->log.snap_index + 1;
}
uint64_t
raft_applied_index (const raft_t *self)
{
    return self->applied;
}

const char *
raft_role_name (raft_role_t role)
{
    switch (role) {
        case RAFT_FOLLOWER: return "follower";
        case RAFT_PRECANDIDATE: return "precandidate";
        case RAFT_CANDIDATE: return "candidate";
        case RAFT_LEADER: return "leader";
    }
    return "unknown";
}

uint64_t
raft_peer_match (const raft_t *self, uint32_t peer)
{
    if (self->role != RAFT_LEADER || !raft_is_member (self, peer))
        return 0;
    return peer == self->cfg.id ? self->stable : self->peers [peer].match;
}

const raft_entry_t *
raft_entry_at (const raft_t *self, uint64_t index)
{
    return raft_log_at (&self->log, index);
}
