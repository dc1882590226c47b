/*  sim_members.c - membership changes asked of the leader in the middle of the faults.

    One change at a time, as an operator would: add a slot that is not a member (a
    learner; three times in four one the leader promotes once caught up), remove a
    member (never the last voter), or flip a member between voter and learner. The
    core refuses what it must (a change pending, no entry of its term committed, a
    transfer); the checker holds election safety, log matching and G1-G6 throughout. */
#include <stdio.h>
#include "sim.h"

bool
sim_members_counts (const sim_t *sim, const sim_node_t *leader, uint32_t id)
{
    (void) sim;
    return raft_conf_find (raft_conf (leader->raft), id) != NULL;
}

static sim_node_t *
s_leader (sim_t *sim)
{
    for (uint32_t id = 1; id <= sim->n; id++)
        if (sim->nodes [id].up && raft_role (sim->nodes [id].raft) == RAFT_LEADER)
            return &sim->nodes [id];
    return NULL;
}

/* The next configuration: one random change away from cur. */
static bool
s_draw_change (sim_t *sim, const raft_conf_t *cur, raft_conf_t *next, const char **what,
               uint32_t *who)
{
    *next = *cur;
    uint32_t slot = 1 + (uint32_t) sim_below (&sim->rng, sim->n);
    *who = slot;
    const raft_member_t *m = raft_conf_find (cur, slot);
    if (!m) {
        raft_member_t add = { .id = slot, .promote = sim_below (&sim->rng, 4) != 0 };
        snprintf (add.addr, sizeof add.addr, "sim%u", slot);
        *what = add.promote ? "add (to promote)" : "add learner";
        return raft_conf_put (next, &add) == 0;
    }
    if (sim_below (&sim->rng, 3) == 0) {
        raft_member_t flip = *m;
        flip.voter = !m->voter;
        flip.promote = false;
        *what = flip.voter ? "promote" : "demote";
        raft_conf_put (next, &flip);
    }
    else {
        *what = "remove";
        raft_conf_remove (next, slot);
    }
    return raft_conf_voters (next) > 0;
}

void
sim_members_chaos (sim_t *sim)
{
    if (!sim_chance (&sim->rng, sim->profile.members_ppm))
        return;
    sim_node_t *leader = s_leader (sim);
    if (!leader)
        return;
    raft_conf_t next;
    const char *what;
    uint32_t who;
    if (!s_draw_change (sim, raft_conf (leader->raft), &next, &what, &who))
        return;
    raft_err_t err = replica_change_members (leader->replica, &next);
    if (err == RAFT_OK)
        sim->changes++;
    char text [256];
    raft_conf_describe (&next, text, sizeof text);
    sim_trace (sim, "node %u: membership %s %u -> %s: %d", leader->id, what, who, text, (int) err);
}
