/*  sim_main.c - zchat-sim: run the deterministic simulator over many seeds.

    zchat-sim [--seeds N] [--start S] [--steps K] [--nodes 3|5] [--seed S] [--verbose]
              [--duration-s T]
    Exit status 0 when every run held every invariant, 1 otherwise. A failing seed is
    printed with the command that replays it exactly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sim.h"

#define SIM_DEFAULT_STEPS 4000

static void
s_usage (void)
{
    fprintf (stderr,
             "usage: zchat-sim [--seeds N] [--start S] [--steps K] [--nodes 3|5]\n"
             "                 [--members] [--seed S] [--verbose] [--duration-s T]\n"
             "  --seeds N       run seeds start .. start+N-1 (default 100)\n"
             "  --start S       first seed (default 1)\n"
             "  --steps K       chaos steps per run (default %d), then a quiet phase\n"
             "  --nodes 3|5     cluster size (default 3)\n"
             "  --members       5 slots, replicas 1-3 at start, membership changes under\n"
             "                  the faults (add, remove, promote, demote)\n"
             "  --seed S        run exactly one seed (with --verbose: full trace)\n"
             "  --duration-s T  keep running seeds until T seconds have passed\n",
             SIM_DEFAULT_STEPS);
}

static bool
s_number (const char *arg, uint64_t *out)
{
    char *end;
    if (!arg || !*arg)
        return false;
    *out = strtoull (arg, &end, 10);
    return *end == 0;
}

static double
s_elapsed (const struct timespec *start)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) (now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

int
main (int argc, char **argv)
{
    uint64_t seeds = 100, start = 1, steps = SIM_DEFAULT_STEPS, nodes = 3, duration = 0;
    bool verbose = false, members = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv [i];
        const char *v = i + 1 < argc ? argv [i + 1] : NULL;
        bool ok = true;
        if (!strcmp (a, "--verbose")) {
            verbose = true;
            continue;
        }
        if (!strcmp (a, "--members")) {
            members = true;
            continue;
        }
        if (!strcmp (a, "--seeds"))
            ok = s_number (v, &seeds);
        else if (!strcmp (a, "--start"))
            ok = s_number (v, &start);
        else if (!strcmp (a, "--steps"))
            ok = s_number (v, &steps);
        else if (!strcmp (a, "--nodes"))
            ok = s_number (v, &nodes);
        else if (!strcmp (a, "--duration-s"))
            ok = s_number (v, &duration);
        else if (!strcmp (a, "--seed")) {
            ok = s_number (v, &start);
            seeds = 1;
        }
        else
            ok = false;
        if (!ok || (nodes != 3 && nodes != 5)) {
            s_usage ();
            return 2;
        }
        i++;
    }
    struct timespec t0;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    sim_stats_t stats;
    memset (&stats, 0, sizeof stats);
    uint64_t ran = 0, failed = 0;
    for (uint64_t seed = start;; seed++) {
        if (duration ? s_elapsed (&t0) >= (double) duration : ran >= seeds)
            break;
        if (!sim_run (seed, steps, (uint32_t) nodes, members, verbose, &stats))
            failed++;
        ran++;
        if (!verbose && ran % 500 == 0)
            fprintf (stderr, "sim: %llu seeds, %llu failed, %.1fs\n", (unsigned long long) ran,
                     (unsigned long long) failed, s_elapsed (&t0));
    }
    printf ("sim: per seed avg: %.1f proposals, %.1f acked, %.1f elections, %.1f crashes, "
            "%.1f compactions, %.1f installs, %.1f reads, %.1f membership changes, commit %.1f\n",
            (double) stats.proposals / ran, (double) stats.acked / ran,
            (double) stats.elections / ran, (double) stats.crashes / ran,
            (double) stats.compactions / ran, (double) stats.installs / ran,
            (double) stats.reads_ok / ran, (double) stats.changes / ran,
            (double) stats.commits / ran);
    printf ("sim: %llu seeds, %llu failed (%s, %llu steps, %.1fs)\n", (unsigned long long) ran,
            (unsigned long long) failed,
            members      ? "5 slots, membership changes"
            : nodes == 5 ? "5 nodes"
                         : "3 nodes",
            (unsigned long long) steps, s_elapsed (&t0));
    return failed ? 1 : 0;
}
