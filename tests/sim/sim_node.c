/*  sim_node.c - one simulated replica: the shipped replica (broker/replica.h) with the
    shipped chat state machine, over the in-memory I/O of sim_io.c.

    Start and restart go through replica_new, which reads the "disk" as the broker
    reads its data directory. A crash, whether drawn between steps or struck inside a
    ready by sim_io.c, destroys the replica and its chat state and keeps the disk. */
#include <stdlib.h>
#include <string.h>
#include "sim.h"
#include "peer_aux.h"

/* ---- the state machine: chat_apply, watched by the checker and the clients */

static void
s_fsm_apply (void *arg, uint64_t index, const uint8_t *data, size_t len)
{
    sim_node_t *node = (sim_node_t *) arg;
    sim_t *sim = node->sim;
    if (node->crashing || sim->failed)
        return; /* the process is dead: nothing it does from now on is seen */
    const raft_entry_t *stored = raft_entry_at (node->raft, index);
    if (!stored) {
        sim_fail (sim, "node %u: applies %llu, which its core does not hold", node->id,
                  (unsigned long long) index);
        return;
    }
    raft_entry_t entry = {
        .index = index, .term = stored->term, .data = data, .len = (uint32_t) len
    };
    zc_command_t cmd;
    if (zc_command_decode (data, len, &cmd) != ZC_OK) {
        sim_fail (sim, "node %u: entry %llu does not decode", node->id, (unsigned long long) index);
        return;
    }
    chat_result_t result;
    memset (&result, 0, sizeof result);
    chat_apply (node->chat, index, &cmd, &result);
    sim_check_apply (sim, node, &entry, &cmd, &result);
    sim_clients_on_apply (sim, node, index, entry.term, &cmd, &result, sim_hash (data, len));
}

static int
s_fsm_save (void *arg, uint8_t **body, size_t *len)
{
    return chat_snapshot_save (((sim_node_t *) arg)->chat, body, len);
}

static int
s_fsm_load (void *arg, const uint8_t *body, size_t len)
{
    return chat_snapshot_load (((sim_node_t *) arg)->chat, body, len) == ZC_OK ? 0 : -1;
}

static void
s_on_read (void *arg, uint64_t ctx, bool ok)
{
    sim_node_t *node = (sim_node_t *) arg;
    if (!node->crashing)
        sim_reads_on_ready (node->sim, node, ctx, ok);
}

static void
s_on_role (void *arg, raft_role_t role, uint32_t leader, uint64_t term)
{
    (void) arg;
    (void) role;
    (void) leader;
    (void) term;
}

/* ---- life cycle */

void
sim_node_start (sim_t *sim, sim_node_t *node)
{
    node->sim = sim;
    replica_config_t config = { .raft = { .id = node->id,
                                          .election_timeout_ms = 100,
                                          .heartbeat_ms = 20,
                                          .seed = sim->seed * 1000003ull + node->id * 7919ull
                                                  + node->incarnation,
                                          .max_batch_entries = sim->profile.batch_entries,
                                          .max_batch_bytes = 4096,
                                          .max_uncommitted = 64 },
                                .snapshot_entries = sim->profile.snapshot_entries,
                                .name = "sim",
                                .join = node->id > sim->initial,
                                .cluster_seed = 0x5EED0000 + sim->seed,
                                .incarnation_seed = sim->seed * 31 + node->id };
    if (node->id <= sim->initial) /* the others join a running cluster */
        raft_conf_voters_1_to_n (&config.bootstrap, sim->initial);
    node->incarnation++;
    chat_limits_t limits;
    chat_limits_defaults (&limits);
    node->chat = chat_new (&limits);
    if (!node->chat)
        abort ();
    replica_io_t io = sim_io (node);
    replica_fsm_t fsm = { node, s_fsm_apply, s_fsm_save, s_fsm_load };
    replica_hooks_t hooks = { s_on_read, s_on_role };
    char err [256] = "";
    node->replica = replica_new (&config, &io, &fsm, &hooks, node, sim->now_ms, err, sizeof err);
    if (!node->replica) {
        sim_fail (sim, "node %u: does not restart from its disk: %s", node->id, err);
        chat_destroy (&node->chat);
        return;
    }
    node->raft = replica_raft (node->replica);
    node->up = true;
    node->was_leader = false;
    node->commit_seen = raft_commit_index (node->raft);
    if (node->commit_seen < node->snap.index)
        sim_fail (sim, "node %u: restarted with commit below its snapshot", node->id);
    sim_trace (sim, "node %u: start #%u term %llu vote %u snap %llu log %zu", node->id,
               node->incarnation, (unsigned long long) node->hs.term, node->hs.vote,
               (unsigned long long) node->snap.index, node->log_n);
    sim_check_node (sim, node);
}

static void
s_volatile_free (sim_node_t *node)
{
    replica_destroy (&node->replica);
    node->raft = NULL;
    chat_destroy (&node->chat);
    node->up = false;
}

void
sim_node_crash (sim_t *sim, sim_node_t *node)
{
    s_volatile_free (node);
    sim_io_crash (sim, node);
    node->restart_ms = sim->now_ms + 30 + sim_below (&sim->rng, 800);
    sim->crashes++;
    sim_clients_on_crash (sim, node);
    sim_trace (sim, "node %u: CRASH (restart at %llu)", node->id,
               (unsigned long long) node->restart_ms);
}

void
sim_node_free (sim_node_t *node)
{
    s_volatile_free (node);
    sim_io_free (node);
}

/* After anything that ran the replica: a crash struck inside it ends this life. */
static void
s_after (sim_t *sim, sim_node_t *node, int rc)
{
    if (node->crashing)
        sim_node_crash (sim, node);
    else if (rc < 0)
        sim_fail (sim, "node %u: the replica stopped on a storage error no crash caused", node->id);
    else
        sim_check_node (sim, node);
}

void
sim_node_process (sim_t *sim, sim_node_t *node)
{
    if (!node->up || sim->failed)
        return;
    s_after (sim, node, replica_process (node->replica, sim->now_ms));
}

void
sim_node_tick (sim_t *sim, sim_node_t *node)
{
    replica_tick (node->replica, sim->now_ms);
    s_after (sim, node, 0);
    sim_node_process (sim, node);
}

static void
s_trace_packet (sim_t *sim, const sim_packet_t *packet)
{
    static raft_entry_t entries [4096];
    raft_msg_t m;
    if (packet->len && packet->frame [0] == ZC_PEER_KIND_RAFT
        && raft_msg_decode (packet->frame, packet->len, &m, entries, 4096) == ZC_OK)
        sim_trace (sim,
                   "  %u -> %u type %d term %llu prev %llu/%llu n %u commit %llu rej %d "
                   "match %llu hint %llu granted %d pre %d snap %llu",
                   packet->from, packet->to, m.type, (unsigned long long) m.term,
                   (unsigned long long) m.prev_index, (unsigned long long) m.prev_term, m.n_entries,
                   (unsigned long long) m.commit, m.reject, (unsigned long long) m.match,
                   (unsigned long long) m.hint, m.granted, m.prevote,
                   (unsigned long long) m.snap_index);
    else
        sim_trace (sim, "  %u -> %u kind %u bytes %zu", packet->from, packet->to,
                   packet->len ? packet->frame [0] : 0, packet->len);
}

void
sim_node_receive (sim_t *sim, sim_node_t *node, const sim_packet_t *packet)
{
    if (sim->verbose)
        s_trace_packet (sim, packet);
    replica_peer_frame (node->replica, packet->frame, packet->len, sim->now_ms);
    if (!node->up)
        return;
    s_after (sim, node, 0);
    sim_node_process (sim, node);
}
