/*  sim_node.c - one simulated replica, driven the way the broker drives it.

    For each ready, in raft.h's order: persist the hardstate, then the entries (after
    dropping the stored log past entries[0].index - 1), install a received snapshot,
    send, apply, advance. A crash may strike between any two of these steps (even in
    the middle of writing the entries); it loses everything not yet on the "disk",
    and a restart rebuilds the core from the disk alone with raft_new and
    raft_restore_entry, as the broker does at start. */
#include <stdlib.h>
#include <string.h>
#include "sim.h"

static void
s_disk_drop_after (sim_node_t *node, size_t keep)
{
    for (size_t i = keep; i < node->log_n; i++)
        free ((void *) node->log [i].data);
    if (keep < node->log_n)
        node->log_n = keep;
}

static void
s_disk_append (sim_node_t *node, const raft_entry_t *e)
{
    if (node->log_n == node->log_cap) {
        node->log_cap = node->log_cap ? node->log_cap * 2 : 64;
        node->log = realloc (node->log, node->log_cap * sizeof *node->log);
        if (!node->log)
            abort ();
    }
    raft_entry_t *d = &node->log [node->log_n++];
    *d = *e;
    d->data = NULL;
    if (e->len) {
        uint8_t *copy = malloc (e->len);
        if (!copy)
            abort ();
        memcpy (copy, e->data, e->len);
        d->data = copy;
    }
}

/* Persist up to k of the ready's entries. */
static void
s_disk_write (sim_t *sim, sim_node_t *node, const raft_entry_t *ents, uint32_t k)
{
    uint64_t first = ents [0].index;
    if (first <= node->snap.index || first - node->snap.index - 1 > node->log_n) {
        sim_fail (sim, "node %u: ready entries start at %llu, disk holds %llu..%llu",
                  node->id, (unsigned long long) first,
                  (unsigned long long) node->snap.index + 1,
                  (unsigned long long) (node->snap.index + node->log_n));
        return;
    }
    s_disk_drop_after (node, (size_t) (first - node->snap.index - 1));
    for (uint32_t i = 0; i < k; i++)
        s_disk_append (node, &ents [i]);
}

static void
s_disk_compact (sim_node_t *node, uint64_t index)
{
    size_t drop = (size_t) (index - node->snap.index);
    if (drop > node->log_n)
        drop = node->log_n;
    for (size_t i = 0; i < drop; i++)
        free ((void *) node->log [i].data);
    memmove (node->log, node->log + drop, (node->log_n - drop) * sizeof *node->log);
    node->log_n -= drop;
}

void
sim_node_start (sim_t *sim, sim_node_t *node)
{
    raft_config_t cfg = {
        .id = node->id, .n = sim->n, .election_timeout_ms = 100, .heartbeat_ms = 20,
        .seed = sim->seed * 1000003ull + node->id * 7919ull + node->incarnation,
        .max_batch_entries = sim->profile.batch_entries, .max_batch_bytes = 4096, .max_uncommitted = 64 };
    node->incarnation++;
    node->raft = raft_new (&cfg, &node->hs, node->snap.index, node->snap.term, sim->now_ms);
    for (size_t i = 0; i < node->log_n; i++)
        raft_restore_entry (node->raft, &node->log [i]);
    chat_limits_t limits;
    chat_limits_defaults (&limits);
    node->chat = chat_new (&limits);
    if (!node->raft || !node->chat)
        abort ();
    if (node->snap.index
    &&  chat_snapshot_load (node->chat, node->snap.body, node->snap.len) != ZC_OK)
        sim_fail (sim, "node %u: own snapshot %llu does not load", node->id,
                  (unsigned long long) node->snap.index);
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
    raft_destroy (&node->raft);
    chat_destroy (&node->chat);
    for (int i = 0; i < SIM_SNAP_STASH; i++)
        sim_snap_free (&node->stash [i]);
    node->up = false;
}

void
sim_node_crash (sim_t *sim, sim_node_t *node)
{
    s_volatile_free (node);
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
    s_disk_drop_after (node, 0);
    free (node->log);
    node->log = NULL;
    node->log_cap = 0;
    sim_snap_free (&node->snap);
}

static void
s_install (sim_t *sim, sim_node_t *node, const raft_ready_t *rd)
{
    sim_snap_t *snap = NULL;
    for (int i = 0; i < SIM_SNAP_STASH; i++)
        if (node->stash [i].body && node->stash [i].index == rd->install_index)
            snap = &node->stash [i];
    if (!snap || snap->term != rd->install_term) {
        sim_fail (sim, "node %u: asked to install snapshot %llu it never received",
                  node->id, (unsigned long long) rd->install_index);
        return;
    }
    sim_snap_free (&node->snap);
    sim_snap_copy (&node->snap, snap);
    s_disk_drop_after (node, 0);
    chat_destroy (&node->chat);
    chat_limits_t limits;
    chat_limits_defaults (&limits);
    node->chat = chat_new (&limits);
    if (chat_snapshot_load (node->chat, snap->body, snap->len) != ZC_OK)
        sim_fail (sim, "node %u: snapshot %llu does not load", node->id,
                  (unsigned long long) snap->index);
    sim->installs++;
    sim_trace (sim, "node %u: installed snapshot %llu/%llu", node->id,
               (unsigned long long) snap->index, (unsigned long long) snap->term);
}

/* which: 0 = all, 1 = APPENDs only, 2 = all but APPENDs */
static void
s_send (sim_t *sim, sim_node_t *node, const raft_ready_t *rd, int which)
{
    for (uint32_t i = 0; i < rd->n_msgs; i++) {
        const raft_msg_t *m = &rd->msgs [i];
        if (which && (m->type == RAFT_MSG_APPEND) != (which == 1))
            continue;
        const sim_snap_t *snap = NULL;
        if (m->type == RAFT_MSG_SNAPSHOT) {
            if (m->snap_index != node->snap.index || m->snap_term != node->snap.term) {
                sim_fail (sim, "node %u: SNAPSHOT %llu is not its snapshot %llu", node->id,
                          (unsigned long long) m->snap_index,
                          (unsigned long long) node->snap.index);
                return;
            }
            snap = &node->snap;
        }
        sim_net_send (sim, m, snap);
    }
}

static void
s_apply (sim_t *sim, sim_node_t *node, const raft_ready_t *rd)
{
    for (uint32_t i = 0; i < rd->n_committed && !sim->failed; i++) {
        const raft_entry_t *e = &rd->committed [i];
        chat_result_t result;
        memset (&result, 0, sizeof result);
        zc_command_t cmd;
        const zc_command_t *cmdp = NULL;
        if (e->len > 0) {
            if (zc_command_decode (e->data, e->len, &cmd) != ZC_OK) {
                sim_fail (sim, "node %u: entry %llu does not decode", node->id,
                          (unsigned long long) e->index);
                return;
            }
            chat_apply (node->chat, e->index, &cmd, &result);
            cmdp = &cmd;
        }
        sim_check_apply (sim, node, e, cmdp, &result);
        sim_clients_on_apply (sim, node, e, &result);
    }
}

/* Returns the crash point for this ready: 0 none, 1..4 where to crash. */
static int
s_crash_point (sim_t *sim)
{
    if (sim->quiet_phase || !sim_chance (&sim->rng, sim->profile.crash_in_ready_ppm))
        return 0;
    return 1 + (int) sim_below (&sim->rng, 4);
}

static bool
s_process_one (sim_t *sim, sim_node_t *node)
{
    raft_ready_t rd;
    if (!raft_ready (node->raft, &rd))
        return false;
    sim_check_ready_entries (sim, node, &rd);
    int crash = s_crash_point (sim);
    /* like the broker: a leader may publish entries while its own fsync runs */
    bool early = sim->profile.early_append && rd.role == RAFT_LEADER && !rd.hardstate_changed;
    if (early)
        s_send (sim, node, &rd, 1);
    if (crash == 1)
        goto crash;
    if (rd.hardstate_changed)
        node->hs = rd.hardstate;
    if (rd.n_entries)
        s_disk_write (sim, node, rd.entries, crash == 2
                      ? (uint32_t) sim_below (&sim->rng, rd.n_entries + 1) : rd.n_entries);
    if (crash == 2)
        goto crash;
    if (rd.install_index)
        s_install (sim, node, &rd);
    if (crash == 3)
        goto crash;
    s_send (sim, node, &rd, early ? 2 : 0);
    if (crash == 4)
        goto crash;
    s_apply (sim, node, &rd);
    sim_reads_on_ready (sim, node, &rd);
    raft_advance (node->raft, &rd);
    sim_check_node (sim, node);
    return true;
crash:
    sim_trace (sim, "node %u: crash inside ready (point %d)", node->id, crash);
    sim_node_crash (sim, node);
    return false;
}

void
sim_node_process (sim_t *sim, sim_node_t *node)
{
    for (int i = 0; i < 64 && node->up && !sim->failed; i++)
        if (!s_process_one (sim, node))
            break;
}

void
sim_node_receive (sim_t *sim, sim_node_t *node, const sim_packet_t *packet)
{
    if (packet->msg.type == RAFT_MSG_SNAPSHOT && packet->snap.body) {
        /* the caller holds all the bytes before it steps the message in */
        int slot = 0;
        for (int i = 0; i < SIM_SNAP_STASH; i++)
            if (!node->stash [i].body || node->stash [i].index < node->stash [slot].index)
                slot = i;
        sim_snap_free (&node->stash [slot]);
        sim_snap_copy (&node->stash [slot], &packet->snap);
    }
    if (sim->verbose)
        sim_trace (sim, "  %u -> %u type %d term %llu prev %llu/%llu n %u commit %llu "
                   "rej %d match %llu hint %llu granted %d pre %d ctx %llu snap %llu",
                   packet->msg.from, packet->msg.to, packet->msg.type,
                   (unsigned long long) packet->msg.term,
                   (unsigned long long) packet->msg.prev_index,
                   (unsigned long long) packet->msg.prev_term, packet->msg.n_entries,
                   (unsigned long long) packet->msg.commit, packet->msg.reject,
                   (unsigned long long) packet->msg.match, (unsigned long long) packet->msg.hint,
                   packet->msg.granted, packet->msg.prevote,
                   (unsigned long long) packet->msg.read_ctx,
                   (unsigned long long) packet->msg.snap_index);
    raft_step (node->raft, &packet->msg);
    sim_check_node (sim, node);
    sim_node_process (sim, node);
}

/* Snapshot the state machine at the applied index, then let the core drop the log. */
void
sim_node_compact (sim_t *sim, sim_node_t *node)
{
    uint64_t applied = raft_applied_index (node->raft);
    if (applied <= node->snap.index)
        return;
    const raft_entry_t *e = raft_entry_at (node->raft, applied);
    if (!e) {
        sim_fail (sim, "node %u: applied entry %llu not in memory", node->id,
                  (unsigned long long) applied);
        return;
    }
    sim_snap_t snap = { .index = applied, .term = e->term };
    if (chat_snapshot_save (node->chat, &snap.body, &snap.len) != 0)
        abort ();
    s_disk_compact (node, applied);
    sim_snap_free (&node->snap);
    node->snap = snap;
    raft_compact (node->raft, applied);
    sim->compactions++;
    sim_trace (sim, "node %u: compacted to %llu", node->id, (unsigned long long) applied);
}
