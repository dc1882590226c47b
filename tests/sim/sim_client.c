/*  sim_client.c - simulated chat clients and linearizable-read probes.

    A client has one request outstanding, identified by (cid, seq). It proposes it at
    whichever replica claims to be leader (stale leaders included), and counts it
    acknowledged when that replica applies an entry carrying its (cid, seq), as the
    broker answers its requester. On a timeout or a crash it retries the same
    (cid, seq) elsewhere, so the log can hold the same request several times: G3 says
    only the first may have an effect. Read probes ask a leader for a ReadIndex and
    check that, when the replica says the read may be served, its state covers
    everything committed before the read was asked (G2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim.h"

#define SIM_USERS              4
#define SIM_REQUEST_TIMEOUT_MS 400

void
sim_clients_init (sim_t *sim)
{
    for (int c = 0; c < SIM_CLIENTS; c++) {
        sim_client_t *cl = &sim->clients [c];
        memset (cl, 0, sizeof *cl);
        cl->cid = (sim_rand (&sim->rng) | 1);
        cl->next_ms = sim->now_ms + sim_below (&sim->rng, 50);
    }
}

static void
s_new_request (sim_t *sim, sim_client_t *cl)
{
    static const char *names [SIM_USERS] = { "ann", "bob", "cy", "dee" };
    static const char *texts [3] = { "hi", "hello, world", "" };
    zc_command_t cmd;
    memset (&cmd, 0, sizeof cmd);
    uint64_t r = sim_below (&sim->rng, 100);
    cmd.op = r < 25 ? ZC_OP_CREATE : r < 75 ? ZC_OP_SEND : r < 85 ? ZC_OP_DELETE : ZC_OP_CONNECT;
    cmd.ts = sim->now_ms;
    cmd.cid = cl->cid;
    cmd.seq = ++cl->seq;
    const char *name = names [sim_below (&sim->rng, SIM_USERS)];
    cmd.name = (zc_bytes_t) { name, (uint32_t) strlen (name) };
    if (cmd.op == ZC_OP_SEND) {
        const char *text = texts [sim_below (&sim->rng, 3)];
        cmd.text = (zc_bytes_t) { text, (uint32_t) strlen (text) };
        cmd.from = (zc_bytes_t) { "sim", 3 };
    }
    if (zc_command_encode (&cmd, cl->cmd, sizeof cl->cmd, &cl->len) != ZC_OK) {
        sim_fail (sim, "client: cannot encode a command");
        return;
    }
    cl->busy = true;
    cl->proposed = false;
    cl->attempts = 0;
}

/* A replica that claims to be leader, or NULL. */
static sim_node_t *
s_pick_leader (sim_t *sim)
{
    uint32_t ids [SIM_MAX_NODES], n = 0;
    for (uint32_t id = 1; id <= sim->n; id++)
        if (sim->nodes [id].up && raft_role (sim->nodes [id].raft) == RAFT_LEADER)
            ids [n++] = id;
    return n ? &sim->nodes [ids [sim_below (&sim->rng, n)]] : NULL;
}

static void
s_propose (sim_t *sim, sim_client_t *cl)
{
    sim_node_t *node = s_pick_leader (sim);
    if (!node) {
        cl->next_ms = sim->now_ms + 20;
        return;
    }
    if (replica_propose (node->replica, cl->cmd, cl->len) != RAFT_OK) {
        cl->next_ms = sim->now_ms + 10 + sim_below (&sim->rng, 30);
        return;
    }
    cl->proposed = true;
    cl->node = node->id;
    cl->deadline_ms = sim->now_ms + SIM_REQUEST_TIMEOUT_MS;
    cl->attempts++;
    sim->proposals++;
    sim_trace (sim, "client %llx: seq %llu proposed at node %u term %llu (try %u)",
               (unsigned long long) cl->cid, (unsigned long long) cl->seq, node->id,
               (unsigned long long) raft_term (node->raft), cl->attempts);
    sim_node_process (sim, node);
}

void
sim_clients_step (sim_t *sim)
{
    for (int c = 0; c < SIM_CLIENTS && !sim->failed; c++) {
        sim_client_t *cl = &sim->clients [c];
        if (!cl->busy) {
            if (sim->quiet_phase || sim->now_ms < cl->next_ms)
                continue;
            s_new_request (sim, cl);
        }
        if (cl->proposed && sim->now_ms >= cl->deadline_ms) {
            cl->proposed = false;
            sim_trace (sim, "client %llx: seq %llu timed out", (unsigned long long) cl->cid,
                       (unsigned long long) cl->seq);
        }
        if (!cl->proposed && sim->now_ms >= cl->next_ms)
            s_propose (sim, cl);
    }
}

void
sim_clients_on_apply (sim_t *sim, sim_node_t *node, uint64_t index, uint64_t term,
                      const zc_command_t *cmd, const chat_result_t *result, uint64_t hash)
{
    for (int c = 0; c < SIM_CLIENTS; c++) {
        sim_client_t *cl = &sim->clients [c];
        if (!cl->proposed || cl->node != node->id || cl->cid != cmd->cid || cl->seq != cmd->seq)
            continue;
        cl->proposed = false;
        sim_check_ack (sim, index, term, hash);
        cl->busy = false;
        cl->next_ms = sim->now_ms + sim_below (&sim->rng, 40);
        sim->acked++;
        sim_trace (sim, "client %llx: seq %llu acked by node %u at %llu (%s%s)",
                   (unsigned long long) cl->cid, (unsigned long long) cl->seq, node->id,
                   (unsigned long long) index, zc_code_name (result->code),
                   result->duplicate ? ", duplicate" : "");
    }
}

void
sim_clients_on_crash (sim_t *sim, sim_node_t *node)
{
    for (int c = 0; c < SIM_CLIENTS; c++)
        if (sim->clients [c].proposed && sim->clients [c].node == node->id)
            sim->clients [c].proposed = false;
    size_t k = 0;
    for (size_t i = 0; i < sim->n_reads; i++)
        if (sim->reads [i].node != node->id)
            sim->reads [k++] = sim->reads [i];
    sim->n_reads = k;
}

void
sim_reads_step (sim_t *sim)
{
    if (sim->quiet_phase || !sim_chance (&sim->rng, 100000))
        return;
    sim_node_t *node = s_pick_leader (sim);
    if (!node || sim->n_reads >= 256)
        return;
    uint64_t ctx = ++sim->next_read_ctx;
    if (replica_read (node->replica, ctx) != RAFT_OK)
        return;
    if (sim->n_reads == sim->reads_cap) {
        sim->reads_cap = sim->reads_cap ? sim->reads_cap * 2 : 16;
        sim->reads = realloc (sim->reads, sim->reads_cap * sizeof *sim->reads);
        if (!sim->reads)
            abort ();
    }
    sim->reads [sim->n_reads++] = (sim_read_t) { ctx, node->id, sim->max_commit };
    sim_node_process (sim, node);
}

static sim_read_t *
s_find_read (sim_t *sim, uint32_t node, uint64_t ctx)
{
    for (size_t i = 0; i < sim->n_reads; i++)
        if (sim->reads [i].ctx == ctx && sim->reads [i].node == node)
            return &sim->reads [i];
    return NULL;
}

static void
s_drop_read (sim_t *sim, sim_read_t *r)
{
    *r = sim->reads [--sim->n_reads];
}

void
sim_reads_on_ready (sim_t *sim, sim_node_t *node, uint64_t ctx, bool ok)
{
    sim_read_t *r = s_find_read (sim, node->id, ctx);
    if (!r) {
        sim_fail (sim, "node %u: read %llu answered that nobody asked for", node->id,
                  (unsigned long long) ctx);
        return;
    }
    uint64_t applied = raft_applied_index (node->raft);
    if (ok && applied < r->min_index) {
        sim_fail (sim,
                  "G2: node %u serves read %llu at applied %llu, but %llu was "
                  "committed before it was asked",
                  node->id, (unsigned long long) ctx, (unsigned long long) applied,
                  (unsigned long long) r->min_index);
        return;
    }
    sim->reads_ok += ok;
    s_drop_read (sim, r);
}
