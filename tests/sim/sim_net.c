/*  sim_net.c - the simulated network between replicas.

    Each send becomes one packet per destination with its own copy of the entries, a
    random latency (mostly short, sometimes very long, which reorders), and a chance to
    be dropped or duplicated. Cuts (partitions, one-way included) are checked when a
    packet arrives, so a partition also swallows what was already in flight. */
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

static void
s_packet_free (sim_packet_t *p)
{
    for (uint32_t i = 0; i < p->msg.n_entries; i++)
        free ((void *) p->ents [i].data);
    free (p->ents);
    sim_snap_free (&p->snap);
}

void
sim_net_free (sim_net_t *net)
{
    for (size_t i = 0; i < net->count; i++)
        s_packet_free (&net->packets [i]);
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
s_enqueue (sim_t *sim, const raft_msg_t *msg, uint32_t to, const sim_snap_t *snap)
{
    sim_net_t *net = &sim->net;
    if (net->count == net->cap) {
        net->cap = net->cap ? net->cap * 2 : 256;
        net->packets = realloc (net->packets, net->cap * sizeof *net->packets);
        if (!net->packets)
            abort ();
    }
    sim_packet_t *p = &net->packets [net->count++];
    memset (p, 0, sizeof *p);
    p->deliver_ms = sim->now_ms + s_latency (sim);
    p->msg = *msg;
    p->msg.to = to;
    p->ents = calloc (msg->n_entries ? msg->n_entries : 1, sizeof *p->ents);
    if (!p->ents)
        abort ();
    for (uint32_t i = 0; i < msg->n_entries; i++) {
        p->ents [i] = msg->entries [i];
        p->ents [i].data = NULL;
        if (msg->entries [i].len) {
            uint8_t *d = malloc (msg->entries [i].len);
            if (!d)
                abort ();
            memcpy (d, msg->entries [i].data, msg->entries [i].len);
            p->ents [i].data = d;
        }
    }
    p->msg.entries = msg->n_entries ? p->ents : NULL;
    if (snap)
        sim_snap_copy (&p->snap, snap);
}

void
sim_net_send (sim_t *sim, const raft_msg_t *msg, const sim_snap_t *snap)
{
    for (uint32_t to = 1; to <= sim->n; to++) {
        if (to == msg->from || (msg->to != RAFT_BROADCAST && msg->to != to))
            continue;
        if (sim_chance (&sim->rng, sim->net.drop_ppm))
            continue;
        s_enqueue (sim, msg, to, snap);
        if (sim_chance (&sim->rng, sim->net.dup_ppm))
            s_enqueue (sim, msg, to, snap);
    }
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
    sim_node_t *node = &sim->nodes [p.msg.to];
    if (node->up && !net->cut [p.msg.from][p.msg.to])
        sim_node_receive (sim, node, &p);
    s_packet_free (&p);
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
