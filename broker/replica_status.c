/*  replica_status.c - what the members say of themselves: every replica publishes
    its role, term and indexes a few times a second, so that any replica, not only
    the leader, can tell an operator how the whole cluster stands. Gossip older than
    GOSSIP_STALE_MS counts as unreachable. */
#include "replica_internal.h"
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOSSIP_PERIOD_MS 200
#define GOSSIP_STALE_MS  2000

void
replica_status_gossip (replica_t *self, uint64_t now_ms)
{
    if (now_ms - self->gossip_sent_ms < GOSSIP_PERIOD_MS)
        return;
    self->gossip_sent_ms = now_ms;
    zc_status_gossip_t gossip = { .id = self->config.raft.id,
                                  .role = raft_role (self->raft),
                                  .term = raft_term (self->raft),
                                  .commit = raft_commit_index (self->raft),
                                  .applied = self->applied,
                                  .last_index = raft_last_index (self->raft) };
    snprintf (gossip.advertise, sizeof gossip.advertise, "%s",
              self->config.advertise ? self->config.advertise : "");
    gossip.cluster = self->cluster;
    gossip.incarnation = self->incarnation;
    uint8_t *frame = (uint8_t *) malloc (ZC_STATUS_GOSSIP_MAX);
    size_t len;
    if (frame && zc_status_gossip_encode (&gossip, frame, ZC_STATUS_GOSSIP_MAX, &len) == ZC_OK)
        self->io.send (self->io.arg, RAFT_BROADCAST, frame, len);
    else
        free (frame);
}

void
replica_status_heard (replica_t *self, const zc_status_gossip_t *gossip, uint64_t now_ms)
{
    assert (gossip->id >= 1 && gossip->id <= RAFT_MAX_ID);
    if (!replica_identity_heard (self, gossip, now_ms))
        return;
    self->views [gossip->id].gossip = *gossip;
    self->views [gossip->id].heard_ms = now_ms;
    replica_rejoin_heard (self, gossip->id, gossip->term);
}

void
replica_applied (const replica_t *self, uint64_t *index, uint64_t *term)
{
    *index = self->applied;
    if (self->applied == self->snap_index) {
        *term = self->snap_term;
        return;
    }
    /* applied entries stay in the core's memory until a snapshot covers them */
    const raft_entry_t *entry = raft_entry_at (self->raft, self->applied);
    assert (entry);
    *term = entry->term;
}

uint32_t
replica_members (const replica_t *self, uint64_t now_ms, replica_member_t *out, uint32_t max)
{
    const raft_conf_t *conf = raft_conf (self->raft);
    uint32_t n = conf->n < max ? conf->n : max;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id = conf->members [i].id;
        replica_member_t *member = &out [i];
        member->id = id;
        member->voter = conf->members [i].voter;
        member->addr = conf->members [i].addr;
        if (id == self->config.raft.id) {
            member->reachable = true;
            member->role = raft_role (self->raft);
            member->term = raft_term (self->raft);
            member->commit = raft_commit_index (self->raft);
            member->applied = self->applied;
            member->last_index = raft_last_index (self->raft);
            member->match = member->last_index;
            member->advertise = self->config.advertise ? self->config.advertise : "";
            continue;
        }
        member->match =
            raft_role (self->raft) == RAFT_LEADER ? raft_peer_match (self->raft, id) : 0;
        const replica_peer_view_t *view = &self->views [id];
        member->reachable = view->heard_ms && now_ms - view->heard_ms < GOSSIP_STALE_MS;
        member->role = (raft_role_t) view->gossip.role;
        member->term = view->gossip.term;
        member->commit = view->gossip.commit;
        member->applied = view->gossip.applied;
        member->last_index = view->gossip.last_index;
        member->advertise = view->heard_ms ? view->gossip.advertise : "";
    }
    if (!raft_conf_find (conf, self->config.raft.id) && n < max) {
        /* not (or not yet, or no longer) a member: STATUS still shows where it stands */
        out [n++] =
            (replica_member_t) { .id = self->config.raft.id,
                                 .reachable = true,
                                 .role = raft_role (self->raft),
                                 .term = raft_term (self->raft),
                                 .commit = raft_commit_index (self->raft),
                                 .applied = self->applied,
                                 .last_index = raft_last_index (self->raft),
                                 .match = raft_last_index (self->raft),
                                 .advertise = self->config.advertise ? self->config.advertise : "",
                                 .addr = "" };
    }
    return n;
}
