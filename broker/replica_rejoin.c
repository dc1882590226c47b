/*  replica_rejoin.c - a replica whose disk was lost votes again only when it is safe.

    With its hard state gone, a replica does not know in which terms it voted; granting
    a vote in one of them again could elect two leaders in one term. So a replica that
    started empty and then learns the cluster has history (or was started with
    --rejoin) holds its votes (raft_hold_votes): it follows and acks, never campaigns
    or grants. It waits to hear every other member's current term after the hold began
    (status gossip): a candidate it voted for persisted that term before asking, so the
    highest of them is no lower than any term it voted in. It adopts that term as one
    already voted in and votes from the next one on. A member that never answers keeps
    it holding: the operator's way out is to bring that member back or replace it. */
#include "replica_internal.h"
#include "blog.h"

void
replica_rejoin_begin (replica_t *self, const char *why)
{
    if (raft_votes_held (self->raft))
        return;
    raft_hold_votes (self->raft, true);
    memset (self->rejoin_heard, 0, sizeof self->rejoin_heard);
    self->rejoin_term = raft_term (self->raft);
    blog ("votes_held",
          "level=warning data=%s reason=\"%s\" note=\"this replica may have voted"
          " in terms it no longer remembers: it follows the leader but will not vote until it"
          " has heard every member's term; if a member is gone for good, replace it\"",
          self->config.name, why);
}

void
replica_rejoin_heard (replica_t *self, uint32_t id, uint64_t term)
{
    if (!raft_votes_held (self->raft) || self->stray)
        return;
    assert (id >= 1 && id <= RAFT_MAX_ID);
    self->rejoin_heard [id] = true;
    if (term > self->rejoin_term)
        self->rejoin_term = term;
    const raft_conf_t *conf = raft_conf (self->raft);
    for (uint32_t i = 0; i < conf->n; i++) {
        uint32_t peer = conf->members [i].id;
        if (conf->members [i].voter && peer != self->config.raft.id && !self->rejoin_heard [peer])
            return;
    }
    raft_adopt_term (self->raft, self->rejoin_term);
    raft_hold_votes (self->raft, false);
    blog ("votes_released", "term=%llu note=\"heard every member: votes from term %llu on\"",
          (unsigned long long) self->rejoin_term, (unsigned long long) self->rejoin_term + 1);
}
