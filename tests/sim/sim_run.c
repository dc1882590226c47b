/*  sim_run.c - one simulated run: chaos for `steps` steps, then heal and go quiet
    until the cluster converges (the liveness check), then the final checks.

    A step advances the virtual clock by 1-4 ms, maybe injects a fault (partition,
    one-way cut, heal, crash, restart), ticks every replica, delivers the packets that
    are due (in random order), and lets the clients act. Replicas take snapshots
    themselves, as configured by the run's profile. Everything is
    drawn from the run's PRNG, so a seed is a complete description of a run. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim.h"
#include "blog.h"
#include "splitmix64.h"

#define SIM_QUIET_MAX_MS 6000

uint64_t
sim_rand (sim_rng_t *rng)
{
    return splitmix64_next (&rng->state);
}

uint64_t
sim_below (sim_rng_t *rng, uint64_t n)
{
    return n ? sim_rand (rng) % n : 0;
}

bool
sim_chance (sim_rng_t *rng, uint32_t per_million)
{
    return per_million && sim_rand (rng) % 1000000 < per_million;
}

void
sim_snap_copy (sim_snap_t *dst, const sim_snap_t *src)
{
    *dst = *src;
    dst->body = NULL;
    if (src->body) {
        dst->body = malloc (src->len ? src->len : 1);
        if (!dst->body)
            abort ();
        memcpy (dst->body, src->body, src->len);
    }
}

void
sim_snap_free (sim_snap_t *snap)
{
    free (snap->body);
    memset (snap, 0, sizeof *snap);
}

void
sim_trace (sim_t *sim, const char *fmt, ...)
{
    if (!sim->verbose)
        return;
    fprintf (stdout, "[%6llu %7llums] ", (unsigned long long) sim->step,
             (unsigned long long) sim->now_ms);
    va_list args;
    va_start (args, fmt);
    vfprintf (stdout, fmt, args);
    va_end (args);
    fputc ('\n', stdout);
}

static void
s_chaos (sim_t *sim)
{
    sim_rng_t *rng = &sim->rng;
    const sim_profile_t *pr = &sim->profile;
    if (sim_chance (rng, pr->partition_ppm))
        sim_net_partition (sim);
    if (sim_chance (rng, pr->heal_ppm))
        sim_net_heal (sim);
    if (sim_chance (rng, pr->crash_ppm)) {
        sim_node_t *node = &sim->nodes [1 + sim_below (rng, sim->n)];
        if (node->up)
            sim_node_crash (sim, node);
    }
    if (sim->initial < sim->n)
        sim_members_chaos (sim);
    for (uint32_t id = 1; id <= sim->n; id++) {
        sim_node_t *node = &sim->nodes [id];
        if (node->up && raft_role (node->raft) == RAFT_LEADER && sim_chance (rng, 2000)) {
            uint32_t target = (uint32_t) sim_below (rng, sim->n + 1); /* 0 = any */
            raft_err_t err = replica_transfer (node->replica, target);
            sim_trace (sim, "node %u transfers leadership to %u: %d", id, target, (int) err);
        }
    }
}

static uint32_t
s_pick (sim_t *sim, uint32_t a, uint32_t b, uint32_t c)
{
    uint64_t r = sim_below (&sim->rng, 3);
    return r == 0 ? a : r == 1 ? b : c;
}

static void
s_draw_profile (sim_t *sim)
{
    sim_profile_t *pr = &sim->profile;
    pr->partition_ppm = s_pick (sim, 1000, 3000, 8000);
    pr->heal_ppm = s_pick (sim, 2000, 5000, 10000);
    pr->crash_ppm = s_pick (sim, 500, 2000, 5000);
    pr->crash_io_ppm = s_pick (sim, 100, 500, 1500);
    pr->snapshot_entries = s_pick (sim, 8, 40, 200);
    pr->snapshot_fail_ppm = s_pick (sim, 0, 50000, 200000);
    pr->snapshot_inline_ppm = s_pick (sim, 0, 100000, 500000);
    pr->batch_entries = 1 + (uint32_t) sim_below (&sim->rng, 16);
    pr->members_ppm = s_pick (sim, 3000, 20000, 100000);
    sim->net.drop_ppm = s_pick (sim, 0, 30000, 100000);
    sim->net.dup_ppm = s_pick (sim, 0, 20000, 50000);
}

static void
s_step (sim_t *sim)
{
    sim->now_ms += 1 + sim_below (&sim->rng, 4);
    if (!sim->quiet_phase)
        s_chaos (sim);
    for (uint32_t id = 1; id <= sim->n && !sim->failed; id++) {
        sim_node_t *node = &sim->nodes [id];
        if (!node->up && sim->now_ms >= node->restart_ms)
            sim_node_start (sim, node);
        if (!node->up)
            continue;
        sim_node_tick (sim, node);
    }
    for (int guard = 0; guard < 100000 && !sim->failed; guard++)
        if (!sim_net_deliver_one (sim))
            break;
    sim_clients_step (sim);
    sim_reads_step (sim);
}

static void
s_go_quiet (sim_t *sim)
{
    sim->quiet_phase = true;
    sim_net_heal (sim);
    sim->net.drop_ppm = sim->net.dup_ppm = 0;
    for (uint32_t id = 1; id <= sim->n; id++)
        if (!sim->nodes [id].up)
            sim->nodes [id].restart_ms = sim->now_ms;
    sim_trace (sim, "sim: quiet phase");
}

static void
s_report (const sim_t *sim)
{
    printf ("sim: seed %llu FAILED at step %llu (t=%llums): %s\n", (unsigned long long) sim->seed,
            (unsigned long long) sim->step, (unsigned long long) sim->now_ms, sim->why);
    printf ("sim: replay with: zchat-sim --seed %llu --nodes %u%s --steps %llu --verbose\n",
            (unsigned long long) sim->seed, sim->initial, sim->initial < sim->n ? " --members" : "",
            (unsigned long long) sim->steps);
}

static void
s_free (sim_t *sim)
{
    for (uint32_t id = 1; id <= sim->n; id++)
        sim_node_free (&sim->nodes [id]);
    sim_net_free (&sim->net);
    sim_check_free (sim);
    free (sim->reads);
}

bool
sim_run (uint64_t seed, uint64_t steps, uint32_t n, bool members, bool verbose, sim_stats_t *stats)
{
    sim_t *sim = calloc (1, sizeof *sim);
    if (!sim)
        abort ();
    sim->seed = seed;
    sim->steps = steps;
    sim->n = members ? SIM_MAX_NODES : n;
    sim->initial = members ? 3 : n;
    sim->verbose = verbose;
    blog_set_stream (verbose ? stdout : NULL);
    sim->rng.state = seed * 0xD1B54A32D192ED03ull + 1;
    sim->now_ms = 1000;
    sim_net_init (&sim->net, sim->n);
    s_draw_profile (sim);
    sim_check_init (sim);
    for (uint32_t id = 1; id <= sim->n; id++) {
        sim->nodes [id].id = id;
        sim_node_start (sim, &sim->nodes [id]);
    }
    sim_clients_init (sim);
    for (sim->step = 0; sim->step < steps && !sim->failed; sim->step++)
        s_step (sim);
    if (!sim->failed) {
        s_go_quiet (sim);
        uint64_t deadline = sim->now_ms + SIM_QUIET_MAX_MS;
        while (!sim->failed && !sim_converged (sim) && sim->now_ms < deadline) {
            s_step (sim);
            sim->step++;
        }
        if (!sim->failed && !sim_converged (sim)) {
            for (uint32_t id = 1; id <= sim->n && sim->verbose; id++) {
                const sim_node_t *node = &sim->nodes [id];
                if (node->up)
                    sim_trace (sim, "node %u: role %d term %llu commit %llu applied %llu last %llu",
                               id, raft_role (node->raft),
                               (unsigned long long) raft_term (node->raft),
                               (unsigned long long) raft_commit_index (node->raft),
                               (unsigned long long) raft_applied_index (node->raft),
                               (unsigned long long) raft_last_index (node->raft));
            }
            for (int c = 0; c < SIM_CLIENTS && sim->verbose; c++)
                sim_trace (sim, "client %d: busy %d proposed %d", c, sim->clients [c].busy,
                           sim->clients [c].proposed);
            sim_fail (sim, "liveness: no convergence %dms after healing", SIM_QUIET_MAX_MS);
        }
        if (!sim->failed)
            sim_check_converged (sim, true);
    }
    bool ok = !sim->failed;
    if (!ok)
        s_report (sim);
    if (verbose)
        printf (
            "sim: seed %llu: %llu proposals, %llu acked, %llu elections, %llu crashes, "
            "%llu compactions, %llu installs, %llu reads, %llu membership changes, commit %llu\n",
            (unsigned long long) seed, (unsigned long long) sim->proposals,
            (unsigned long long) sim->acked, (unsigned long long) sim->elections,
            (unsigned long long) sim->crashes, (unsigned long long) sim->compactions,
            (unsigned long long) sim->installs, (unsigned long long) sim->reads_ok,
            (unsigned long long) sim->changes, (unsigned long long) sim->max_commit);
    stats->proposals += sim->proposals;
    stats->acked += sim->acked;
    stats->elections += sim->elections;
    stats->crashes += sim->crashes;
    stats->compactions += sim->compactions;
    stats->installs += sim->installs;
    stats->reads_ok += sim->reads_ok;
    stats->changes += sim->changes;
    stats->commits += sim->max_commit;
    s_free (sim);
    free (sim);
    return ok;
}
