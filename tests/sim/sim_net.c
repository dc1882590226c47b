/*  sim_net.c - the simulated network between replicas.

    Each send becomes one packet per destination with its own copy of the frame the
    replica encoded, a random latency (mostly short, sometimes very long, which
    reorders), and a chance to be dropped or duplicated. Cuts (partitions, one-way
    included) are checked when a packet arrives, so a partition also swallows what was
    already in flight. */
#include <stdlib.h>
#include <string.h>
#include "sim.h"

void
sim_net_init (sim_net_t *net, uint32_t n)
{
    memset (net, 0, sizeof *net);
    net->n = n;
    net->drop_ppm = 30000;
    net->dup_ppm = 20000;
}

void
sim_net_free (sim_net_t *net)
{
    for (size_t i = 0; i < net->count; i++)
        free (net->packets [i].frame);
    free (net->packets);
    memset (net, 0, sizeof *net);
}

static uint64_t
s_latency (sim_t *sim)
{
    if (sim_chance (&sim->rng, 20000))
        return 30 + sim_below (&sim->rng, 300);
    return 1 + sim_below (&sim->rng, 12);
}

static void
s_enqueue (sim_t *sim, uint32_t from, uint32_t to, const uint8_t *frame, size_t len)
{
    sim_net_t *net = &sim->net;
    if (net->count == net->cap) {
        net->cap = net->cap ? net->cap * 2 : 256;
        net->packets = realloc (net->packets, net->cap * sizeof *net->packets);
        if (!net->packets)
            abort ();
    }
    uint8_t *copy = malloc (len ? len : 1);
    if (!copy)
        abort ();
    memcpy (copy, frame, len);
    net->packets [net->count++] =
        (sim_packet_t) { sim->now_ms + s_latency (sim), from, to, copy, len };
}

void
sim_net_send (sim_t *sim, uint32_t from, uint32_t to, uint8_t *frame, size_t len)
{
    for (uint32_t id = 1; id <= sim->n; id++) {
        if (id == from || (to != RAFT_BROADCAST && to != id))
            continue;
        /* a broadcast reaches the SUBs connected to us; a point-to-point goes out on our
           DEALER to it, or back on our ROUTER to its DEALER */
        if (to == RAFT_BROADCAST ? !sim->nodes [id].reach [from]
                                 : !sim->nodes [from].reach [id] && !sim->nodes [id].reach [from])
            continue;
        if (sim_chance (&sim->rng, sim->net.drop_ppm))
            continue;
        s_enqueue (sim, from, id, frame, len);
        if (sim_chance (&sim->rng, sim->net.dup_ppm))
            s_enqueue (sim, from, id, frame, len);
    }
    free (frame);
}

bool
sim_net_deliver_one (sim_t *sim)
{
    sim_net_t *net = &sim->net;
    size_t due = 0;
    for (size_t i = 0; i < net->count; i++)
        due += net->packets [i].deliver_ms <= sim->now_ms;
    if (due == 0)
        return false;
    size_t pick = sim_below (&sim->rng, due);
    size_t at = 0;
    for (size_t i = 0; i < net->count; i++)
        if (net->packets [i].deliver_ms <= sim->now_ms && pick-- == 0) {
            at = i;
            break;
        }
    sim_packet_t p = net->packets [at];
    net->packets [at] = net->packets [--net->count];
    sim_node_t *node = &sim->nodes [p.to];
    if (node->up && !net->cut [p.from][p.to])
        sim_node_receive (sim, node, &p);
    free (p.frame);
    return true;
}

/* A random partition: either split the nodes in two groups, or cut one direction. */
void
sim_net_partition (sim_t *sim)
{
    sim_net_t *net = &sim->net;
    if (sim_chance (&sim->rng, 300000)) {
        uint32_t a = 1 + (uint32_t) sim_below (&sim->rng, sim->n);
        uint32_t b = 1 + (uint32_t) sim_below (&sim->rng, sim->n);
        if (a != b)
            net->cut [a][b] = true;
        sim_trace (sim, "net: one-way cut %u -> %u", a, b);
        return;
    }
    uint32_t mask = 1 + (uint32_t) sim_below (&sim->rng, (1u << sim->n) - 2);
    for (uint32_t a = 1; a <= sim->n; a++)
        for (uint32_t b = 1; b <= sim->n; b++)
            if (((mask >> (a - 1)) & 1) != ((mask >> (b - 1)) & 1))
                net->cut [a][b] = true;
    sim_trace (sim, "net: partition mask 0x%x", mask);
}

void
sim_net_heal (sim_t *sim)
{
    memset (sim->net.cut, 0, sizeof sim->net.cut);
    sim_trace (sim, "net: healed");
}
