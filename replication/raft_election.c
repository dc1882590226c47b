/*  raft_election.c - roles, elections, pre-vote and check-quorum.

    Invariants: a vote is granted at most once per term and the grant is reported in
    the hardstate of the same ready that carries the response (so it is persisted
    before it is sent); a pre-vote never changes anyone's term; a node that heard from
    a leader within the election timeout refuses pre-votes (and ignores higher-term
    vote requests), so a partitioned replica rejoining cannot depose a healthy leader;
    a leader that has not heard from a majority within an election timeout steps down. */
#include <assert.h>
#include <string.h>
#include "raft_internal.h"
#include "splitmix64.h"

uint32_t
raft_quorum (const raft_t *self)
{
    return raft_conf_voters (&self->conf) / 2 + 1;
}

void
raft_reset_election_timer (raft_t *self)
{
    uint64_t t = self->cfg.election_timeout_ms;
    self->election_deadline_ms = self->now_ms + t + splitmix64_next (&self->rng) % t;
}

bool
raft_in_lease (const raft_t *self)
{
    if (self->role == RAFT_LEADER)
        return true;
    return self->leader != 0
           && self->now_ms - self->leader_contact_ms < self->cfg.election_timeout_ms;
}

static void
s_set_term (raft_t *self, uint64_t term)
{
    if (term == self->term)
        return;
    self->term = term;
    self->vote = 0;
    self->hs_dirty = true;
    self->ack_pending = false;
    self->ack_match = self->ack_ctx = 0;
}

void
raft_become_follower (raft_t *self, uint64_t term, uint32_t leader)
{
    bool was_leader = self->role == RAFT_LEADER;
    s_set_term (self, term);
    self->role = RAFT_FOLLOWER;
    self->leader = leader;
    self->transfer_target = 0;
    if (leader)
        self->leader_contact_ms = self->now_ms;
    if (was_leader) {
        raft_reads_fail_all (self);
        memset (self->peers, 0, sizeof self->peers);
    }
    raft_reset_election_timer (self);
}

static void
s_become_leader (raft_t *self)
{
    self->role = RAFT_LEADER;
    self->leader = self->cfg.id;
    raft_leader_init (self);
}

static bool
s_count_votes (raft_t *self)
{
    uint32_t granted = 0, rejected = 0;
    for (uint32_t i = 0; i < self->conf.n; i++) {
        const raft_member_t *m = &self->conf.members [i];
        granted += m->voter && self->votes_granted [m->id];
        rejected += m->voter && self->votes_rejected [m->id];
    }
    if (granted >= raft_quorum (self)) {
        if (self->role == RAFT_PRECANDIDATE)
            raft_campaign (self, false);
        else
            s_become_leader (self);
        return true;
    }
    if (rejected >= raft_quorum (self)) {
        raft_become_follower (self, self->term, 0);
        return true;
    }
    return false;
}

/* Start an election: a pre-vote round at term + 1 that changes nothing, or (after a
   successful pre-vote) a real one that increments the term and votes for itself. */
void
raft_campaign (raft_t *self, bool prevote)
{
    bool transfer = self->campaign_transfer && !prevote;
    self->campaign_transfer = false;
    if (self->votes_held || !raft_may_campaign (self)) {
        raft_reset_election_timer (self); /* a learner, or not (or no longer) a member */
        return;
    }
    if (self->role == RAFT_LEADER || self->install_index)
        return; /* a snapshot install pending replaces the log first */
    self->leader = 0;
    if (prevote)
        self->role = RAFT_PRECANDIDATE;
    else {
        s_set_term (self, self->term + 1);
        self->vote = self->cfg.id;
        self->hs_dirty = true;
        self->role = RAFT_CANDIDATE;
    }
    memset (self->votes_granted, 0, sizeof self->votes_granted);
    memset (self->votes_rejected, 0, sizeof self->votes_rejected);
    self->votes_granted [self->cfg.id] = true;
    raft_reset_election_timer (self);
    if (s_count_votes (self))
        return;
    for (uint32_t i = 0; i < self->conf.n; i++) {
        uint32_t id = self->conf.members [i].id;
        if (id == self->cfg.id || !self->conf.members [i].voter)
            continue;
        raft_msg_t *m = raft_outbox_push (self, RAFT_MSG_VOTE, id);
        if (!m)
            continue;
        m->term = prevote ? self->term + 1 : self->term;
        m->prevote = prevote;
        m->transfer = transfer;
        m->last_index = raft_log_last (&self->log);
        m->last_term = raft_log_last_term (&self->log);
    }
}

static bool
s_log_up_to_date (const raft_t *self, uint64_t last_index, uint64_t last_term)
{
    uint64_t my_term = raft_log_last_term (&self->log);
    return last_term > my_term
           || (last_term == my_term && last_index >= raft_log_last (&self->log));
}

void
raft_step_vote (raft_t *self, const raft_msg_t *msg)
{
    bool up_to_date = s_log_up_to_date (self, msg->last_index, msg->last_term);
    bool grant;
    if (self->votes_held)
        grant = false;
    else if (msg->prevote)
        grant = msg->term > self->term && up_to_date && !raft_in_lease (self);
    else
        grant =
            msg->term == self->term && up_to_date && (self->vote == 0 || self->vote == msg->from);
    if (grant && !msg->prevote && self->vote != msg->from) {
        self->vote = msg->from;
        self->hs_dirty = true;
    }
    if (grant && !msg->prevote)
        raft_reset_election_timer (self);
    raft_msg_t *out = raft_outbox_push (self, RAFT_MSG_VOTE_RESP, msg->from);
    if (!out)
        return;
    out->prevote = msg->prevote;
    out->granted = grant;
    if (grant && msg->prevote)
        out->term = msg->term; /* the candidate counts grants for its next term */
}

void
raft_step_vote_resp (raft_t *self, const raft_msg_t *msg)
{
    bool counts = msg->prevote ? self->role == RAFT_PRECANDIDATE
                                     && msg->term == (msg->granted ? self->term + 1 : self->term)
                               : self->role == RAFT_CANDIDATE && msg->term == self->term;
    if (!counts)
        return;
    if (!raft_is_voter (self, msg->from))
        return; /* s_count_votes counts voters only; do not remember others either */
    if (msg->granted)
        self->votes_granted [msg->from] = true;
    else
        self->votes_rejected [msg->from] = true;
    s_count_votes (self);
}

void
raft_hold_votes (raft_t *self, bool hold)
{
    assert (self && !self->in_ready);
    self->votes_held = hold;
    if (hold && self->role != RAFT_FOLLOWER)
        raft_become_follower (self, self->term, 0); /* a campaign it must not finish */
}

bool
raft_votes_held (const raft_t *self)
{
    return self->votes_held;
}

void
raft_adopt_term (raft_t *self, uint64_t term)
{
    assert (self && !self->in_ready);
    if (term > self->term)
        raft_become_follower (self, term, 0);
    if (self->vote == 0) {
        self->vote = self->cfg.id;
        self->hs_dirty = true;
    }
}

/* Check-quorum: once per election timeout the leader counts the peers it heard from. */
void
raft_tick_leader_quorum (raft_t *self)
{
    if (self->now_ms < self->quorum_check_ms)
        return;
    uint32_t active = raft_is_voter (self, self->cfg.id);
    for (uint32_t i = 0; i < self->conf.n; i++) {
        uint32_t id = self->conf.members [i].id;
        if (id != self->cfg.id && self->conf.members [i].voter && self->peers [id].active)
            active++;
        self->peers [id].active = false;
    }
    if (active < raft_quorum (self)) {
        raft_become_follower (self, self->term, 0);
        return;
    }
    self->quorum_check_ms = self->now_ms + self->cfg.election_timeout_ms;
}
