/*  raft_members.c - the configuration in force, and changing it one server at a time.

    Invariants: self->conf is the newest configuration entry in the log, or the
    snapshot's (snap_conf) when the log holds none after it; a leader proposes a change
    only once the previous one is committed and an entry of its own term is (so a
    change cannot race one made by an earlier leader, the single-server-change fix
    Ongaro gave on raft-dev in 2015); learners get the log but count for nothing. */
#include <assert.h>
#include <string.h>
#include "raft_internal.h"

bool
raft_is_voter (const raft_t *self, uint32_t id)
{
    return raft_conf_is_voter (&self->conf, id);
}

bool
raft_is_member (const raft_t *self, uint32_t id)
{
    return raft_conf_find (&self->conf, id) != NULL;
}

/* A member new to the leader's view starts below its log: the first reject repairs it. */
static void
s_leader_track_new (raft_t *self, const raft_conf_t *old)
{
    if (self->role != RAFT_LEADER)
        return;
    uint64_t last = raft_log_last (&self->log);
    for (uint32_t i = 0; i < self->conf.n; i++) {
        uint32_t id = self->conf.members [i].id;
        if (id != self->cfg.id && !raft_conf_find (old, id))
            self->peers [id] = (raft_progress_t) {
                .next = last + 1, .p2p_prev = last, .active = true, .progress_ms = self->now_ms
            };
    }
}

static void
s_take (raft_t *self, const raft_conf_t *conf, uint64_t index)
{
    raft_conf_t old = self->conf;
    self->conf = *conf;
    self->conf_index = index;
    if (!raft_conf_equal (&old, conf))
        self->conf_changed = true;
    s_leader_track_new (self, &old);
}

static void s_conf_at (const raft_t *self, uint64_t index, raft_conf_t *conf, uint64_t *conf_index);

bool
raft_may_campaign (const raft_t *self)
{
    if (raft_is_voter (self, self->cfg.id))
        return true;
    if (self->conf_index <= self->commit)
        return false; /* removed (or a learner) for good: it must stay quiet */
    /* Its removal is not committed yet, and its log may be the only one that holds it:
       were it to wait, the voters that lack the entry would need its vote, which their
       shorter log cannot get. As a voter of the configuration before, it may lead long
       enough to commit its own removal (it does not count itself), then hand over. */
    raft_conf_t before;
    uint64_t at;
    s_conf_at (self, self->conf_index - 1, &before, &at);
    return raft_conf_is_voter (&before, self->cfg.id);
}

void
raft_members_on_append (raft_t *self, uint64_t index)
{
    const raft_entry_t *e = raft_log_at (&self->log, index);
    raft_conf_t conf;
    if (e && raft_conf_is_entry (e->data, e->len) && raft_conf_decode (e->data, e->len, &conf) == 0)
        s_take (self, &conf, index);
}

/* The newest configuration entry in the log at or below index, else the snapshot's. */
static void
s_conf_at (const raft_t *self, uint64_t index, raft_conf_t *conf, uint64_t *conf_index)
{
    for (uint64_t i = index; i > self->log.snap_index; i--) {
        const raft_entry_t *e = raft_log_at (&self->log, i);
        if (e && raft_conf_is_entry (e->data, e->len)
            && raft_conf_decode (e->data, e->len, conf) == 0) {
            *conf_index = i;
            return;
        }
    }
    *conf = self->snap_conf;
    *conf_index = self->log.snap_index;
}

void
raft_members_on_truncate (raft_t *self, uint64_t index)
{
    if (self->conf_index <= index)
        return;
    raft_conf_t conf;
    uint64_t at;
    s_conf_at (self, index, &conf, &at);
    s_take (self, &conf, at);
}

void
raft_members_on_compact (raft_t *self, uint64_t index)
{
    /* called before the log drops the entries up to index */
    uint64_t at;
    s_conf_at (self, index, &self->snap_conf, &at);
}

void
raft_members_on_install (raft_t *self)
{
    if (self->install_conf_set)
        self->snap_conf = self->install_conf;
    else
        self->snap_conf = self->conf;
    self->install_conf_set = false;
    s_take (self, &self->snap_conf, self->log.snap_index);
}

void
raft_install_conf (raft_t *self, const raft_conf_t *conf)
{
    assert (self && conf);
    self->install_conf = *conf;
    self->install_conf_set = true;
}

const raft_conf_t *
raft_conf (const raft_t *self)
{
    return &self->conf;
}

uint64_t
raft_conf_index (const raft_t *self)
{
    return self->conf_index;
}

static raft_err_t
s_append_conf (raft_t *self, const raft_conf_t *next, uint64_t *index_out)
{
    uint8_t buf [RAFT_CONF_ENCODED_MAX];
    size_t len = raft_conf_encode (next, buf, sizeof buf);
    uint64_t last = raft_log_last (&self->log);
    if (raft_log_append (&self->log, self->term, buf, (uint32_t) len))
        return RAFT_ERR_BUSY;
    raft_members_on_append (self, last + 1);
    if (index_out)
        *index_out = last + 1;
    return RAFT_OK;
}

/* A change may go in: the last one and an entry of this term are committed. */
static bool
s_may_change (const raft_t *self)
{
    return self->conf_index <= self->commit && self->commit >= self->term_start_index
           && !self->transfer_target;
}

raft_err_t
raft_propose_conf (raft_t *self, const raft_conf_t *next, uint64_t *index_out)
{
    assert (self && next && !self->in_ready);
    if (self->role != RAFT_LEADER)
        return RAFT_ERR_NOT_LEADER;
    if (!raft_conf_single_change (&self->conf, next))
        return RAFT_ERR_BAD_CONF;
    if (!s_may_change (self))
        return RAFT_ERR_BUSY;
    return s_append_conf (self, next, index_out);
}

/* A learner to promote whose log has caught up with the leader's commit. */
static const raft_member_t *
s_ready_learner (const raft_t *self)
{
    for (uint32_t i = 0; i < self->conf.n; i++) {
        const raft_member_t *m = &self->conf.members [i];
        if (m->promote && !m->voter && m->id != self->cfg.id
            && self->peers [m->id].match >= self->commit)
            return m;
    }
    return NULL;
}

void
raft_members_on_commit (raft_t *self)
{
    if (self->role != RAFT_LEADER || !s_may_change (self))
        return;
    if (!raft_is_voter (self, self->cfg.id)) {
        /* our removal is committed: the most up-to-date voter takes over at once */
        uint32_t heir = raft_most_up_to_date_voter (self);
        if (heir && self->peers [heir].match == raft_log_last (&self->log)) {
            raft_msg_t *m = raft_outbox_push (self, RAFT_MSG_TIMEOUT_NOW, heir);
            (void) m;
        }
        raft_become_follower (self, self->term, 0);
        return;
    }
    const raft_member_t *learner = s_ready_learner (self);
    if (learner) {
        raft_conf_t next = self->conf;
        raft_member_t promoted = *learner;
        promoted.voter = true;
        promoted.promote = false;
        raft_conf_put (&next, &promoted);
        s_append_conf (self, &next, NULL);
    }
}
