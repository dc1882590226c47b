/*  raft_transfer.c - leadership transfer (Raft thesis 3.10, etcd's MsgTransferLeader).

    Leader: once a transfer starts it refuses proposals (raft_propose: RAFT_ERR_BUSY), so
    its log stops growing and the target can catch up through the usual replication;
    as soon as the target's durable match equals our last index it gets TIMEOUT_NOW
    (again every heartbeat interval, in case one is lost). The transfer ends when we
    step down (raft_become_follower clears it) or is abandoned after one election
    timeout, and then proposals are accepted again.
    Target: TIMEOUT_NOW from its current leader starts a real election at once (no
    pre-vote) whose VOTEs carry transfer = true; raft.c lets such a VOTE through the
    lease check, so the old leader and the other followers can grant it. Safety is
    untouched: the vote still needs an up-to-date log and one vote per term. */
#include "raft_internal.h"

static void
s_send_timeout_now (raft_t *self)
{
    raft_msg_t *m = raft_outbox_push (self, RAFT_MSG_TIMEOUT_NOW, self->transfer_target);
    if (m)
        self->transfer_sent_ms = self->now_ms ? self->now_ms : 1;
}

/* The target holds everything we have: time to hand over. */
static void
s_maybe_hand_over (raft_t *self)
{
    uint32_t target = self->transfer_target;
    if (self->peers [target].match < raft_log_last (&self->log))
        return;
    if (self->transfer_sent_ms && self->now_ms - self->transfer_sent_ms < self->cfg.heartbeat_ms)
        return;
    s_send_timeout_now (self);
}

/* The voter other than self with the longest durable log (lowest id on a tie). */
uint32_t
raft_most_up_to_date_voter (const raft_t *self)
{
    uint32_t best = 0;
    for (uint32_t i = 0; i < self->conf.n; i++) {
        uint32_t id = self->conf.members [i].id;
        if (id == self->cfg.id || !self->conf.members [i].voter)
            continue;
        if (!best || self->peers [id].match > self->peers [best].match)
            best = id;
    }
    return best;
}

raft_err_t
raft_transfer_leadership (raft_t *self, uint32_t target)
{
    if (self->role != RAFT_LEADER)
        return RAFT_ERR_NOT_LEADER;
    if (target == self->cfg.id)
        return RAFT_OK;
    if (target == 0)
        target = raft_most_up_to_date_voter (self);
    if (!raft_is_voter (self, target))
        return RAFT_ERR_NO_SUCH_NODE;
    if (target != self->transfer_target) {
        self->transfer_target = target;
        self->transfer_deadline_ms = self->now_ms + self->cfg.election_timeout_ms;
        self->transfer_sent_ms = 0;
    }
    s_maybe_hand_over (self);
    return RAFT_OK;
}

uint32_t
raft_transfer_target (const raft_t *self)
{
    return self->role == RAFT_LEADER ? self->transfer_target : 0;
}

void
raft_tick_transfer (raft_t *self)
{
    if (!self->transfer_target)
        return;
    if (self->now_ms >= self->transfer_deadline_ms) {
        self->transfer_target = 0; /* the target did not take over: lead on */
        return;
    }
    s_maybe_hand_over (self);
}

void
raft_transfer_on_ack (raft_t *self, uint32_t from)
{
    if (self->role == RAFT_LEADER && self->transfer_target == from)
        s_maybe_hand_over (self);
}

void
raft_step_timeout_now (raft_t *self, const raft_msg_t *msg)
{
    if (self->role != RAFT_FOLLOWER || msg->term != self->term || self->leader != msg->from)
        return;
    self->campaign_transfer = true;
    raft_campaign (self, false);
}
