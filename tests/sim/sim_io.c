/*  sim_io.c - replica_io_t in memory, for the simulator: the "disk" of a node and its
    share of the network.

    The disk keeps what a real one keeps: hard state and snapshots are durable when
    put; log appends only once synced. A crash (sim_io_crash) keeps the synced log and
    a random prefix of what came after it (a torn write), and forgets a snapshot still
    being written. Any I/O call of a ready may be the one a crash strikes: from then
    on the node's calls fail and its sends are lost, until the simulator restarts it
    from the disk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim.h"

/* Does a crash strike at this call? Once struck, every later call fails too. */
static bool
s_struck (sim_node_t *node)
{
    sim_t *sim = node->sim;
    if (!node->crashing && !sim->quiet_phase && sim_chance (&sim->rng, sim->profile.crash_io_ppm)) {
        node->crashing = true;
        sim_trace (sim, "node %u: crash strikes inside a ready", node->id);
    }
    return node->crashing;
}

static void
s_log_drop_from (sim_node_t *node, size_t keep)
{
    for (size_t i = keep; i < node->log_n; i++)
        free ((void *) node->log [i].data);
    if (keep < node->log_n)
        node->log_n = keep;
    if (node->synced_n > node->log_n)
        node->synced_n = node->log_n;
}

static void
s_log_push (sim_node_t *node, const raft_entry_t *e)
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

static int
s_load (void *arg, replica_disk_t *disk, char *err, size_t err_len)
{
    (void) err;
    (void) err_len;
    sim_node_t *node = (sim_node_t *) arg;
    disk->hardstate = node->hs;
    disk->found_hardstate = node->has_hs;
    disk->found_identity = node->has_identity;
    disk->cluster = node->cluster;
    disk->incarnation = node->disk_incarnation;
    disk->snap_index = node->snap.index;
    disk->snap_term = node->snap.term;
    if (node->snap.index) {
        sim_snap_t copy;
        sim_snap_copy (&copy, &node->snap);
        disk->snap_body = copy.body;
        disk->snap_len = copy.len;
    }
    return 0;
}

static int
s_log_open (void *arg, uint64_t after_index, replica_restore_fn *fn, void *fn_arg,
            uint64_t *last_index, char *err, size_t err_len)
{
    sim_node_t *node = (sim_node_t *) arg;
    if (after_index != node->snap.index) {
        snprintf (err, err_len, "log opened after %llu, snapshot is %llu",
                  (unsigned long long) after_index, (unsigned long long) node->snap.index);
        return -1;
    }
    for (size_t i = 0; i < node->log_n; i++)
        fn (fn_arg, &node->log [i]);
    *last_index = node->log_n ? node->log [node->log_n - 1].index : 0;
    return 0;
}

static int
s_hardstate_put (void *arg, const raft_hardstate_t *hs)
{
    sim_node_t *node = (sim_node_t *) arg;
    if (s_struck (node))
        return -1;
    node->hs = *hs;
    node->has_hs = true;
    return 0;
}

static int
s_identity_put (void *arg, uint64_t cluster, uint64_t incarnation)
{
    sim_node_t *node = (sim_node_t *) arg;
    if (node->replica && s_struck (node)) /* not while starting: a crash there is no ready's */
        return -1;
    node->cluster = cluster;
    node->disk_incarnation = incarnation;
    node->has_identity = true;
    return 0;
}

static int
s_log_append (void *arg, const raft_entry_t *entries, uint32_t n)
{
    sim_node_t *node = (sim_node_t *) arg;
    sim_check_entries (node->sim, node, entries, n);
    uint64_t first = entries [0].index;
    if (first <= node->snap.index || first - node->snap.index - 1 > node->log_n) {
        sim_fail (node->sim, "node %u: appends at %llu, disk holds %llu..%llu", node->id,
                  (unsigned long long) first, (unsigned long long) node->snap.index + 1,
                  (unsigned long long) (node->snap.index + node->log_n));
        return -1;
    }
    s_log_drop_from (node, (size_t) (first - node->snap.index - 1));
    /* torn: a crash in the middle of the write leaves part of it */
    for (uint32_t i = 0; i < n; i++) {
        if (s_struck (node))
            return -1;
        s_log_push (node, &entries [i]);
    }
    return 0;
}

static int
s_log_sync (void *arg)
{
    sim_node_t *node = (sim_node_t *) arg;
    if (s_struck (node))
        return -1;
    node->synced_n = node->log_n;
    return 0;
}

static void
s_log_compact (void *arg, uint64_t index)
{
    sim_node_t *node = (sim_node_t *) arg;
    size_t drop = 0;
    while (drop < node->log_n && node->log [drop].index <= index)
        free ((void *) node->log [drop++].data);
    if (drop)
        memmove (node->log, node->log + drop, (node->log_n - drop) * sizeof *node->log);
    node->log_n -= drop;
    node->synced_n = node->synced_n > drop ? node->synced_n - drop : 0;
}

static void
s_snap_set (sim_node_t *node, uint64_t index, uint64_t term, const uint8_t *body, size_t len)
{
    sim_snap_free (&node->snap);
    sim_snap_t src = { index, term, (uint8_t *) body, len };
    sim_snap_copy (&node->snap, &src);
}

static int
s_snapshot_put (void *arg, uint64_t index, uint64_t term, const uint8_t *body, size_t len)
{
    sim_node_t *node = (sim_node_t *) arg;
    if (s_struck (node))
        return -1;
    if (index < node->snap.index) {
        sim_fail (node->sim, "node %u: snapshot %llu replaces newer %llu", node->id,
                  (unsigned long long) index, (unsigned long long) node->snap.index);
        return -1;
    }
    s_snap_set (node, index, term, body, len);
    node->sim->compactions++;
    return 0;
}

static int
s_snapshot_install (void *arg, uint64_t index, uint64_t term, const uint8_t *body, size_t len)
{
    sim_node_t *node = (sim_node_t *) arg;
    if (s_struck (node))
        return -1;
    sim_snap_free (&node->writing);
    s_snap_set (node, index, term, body, len);
    s_log_drop_from (node, 0);
    node->sim->installs++;
    sim_check_install (node->sim, node);
    return 0;
}

static int
s_snapshot_get (void *arg, uint64_t *index, uint64_t *term, uint8_t **body, size_t *len)
{
    sim_node_t *node = (sim_node_t *) arg;
    if (!node->snap.index)
        return 0;
    sim_snap_t copy;
    sim_snap_copy (&copy, &node->snap);
    *index = copy.index;
    *term = copy.term;
    *body = copy.body;
    *len = copy.len;
    return 1;
}

static int
s_snapshot_begin (void *arg, int (*save) (void *, uint8_t **, size_t *), void *save_arg,
                  uint64_t index, uint64_t term)
{
    sim_node_t *node = (sim_node_t *) arg;
    sim_t *sim = node->sim;
    if (node->crashing || sim_chance (&sim->rng, sim->profile.snapshot_inline_ppm))
        return -1; /* as when fork fails: the replica writes it inline */
    sim_snap_free (&node->writing);
    node->writing.index = index;
    node->writing.term = term;
    if (save (save_arg, &node->writing.body, &node->writing.len))
        abort ();
    node->writing_done_ms = sim->now_ms + sim_below (&sim->rng, 200);
    node->writing_fails = sim_chance (&sim->rng, sim->profile.snapshot_fail_ppm);
    return 0;
}

static int
s_snapshot_poll (void *arg)
{
    sim_node_t *node = (sim_node_t *) arg;
    if (!node->writing.body || node->crashing || node->sim->now_ms < node->writing_done_ms)
        return 0;
    if (node->writing_fails) {
        sim_snap_free (&node->writing);
        return -1;
    }
    if (node->writing.index > node->snap.index) {
        sim_snap_free (&node->snap);
        node->snap = node->writing;
        node->sim->compactions++;
    }
    else
        sim_snap_free (&node->writing);
    memset (&node->writing, 0, sizeof node->writing);
    return 1;
}

static void
s_snapshot_abort (void *arg)
{
    sim_snap_free (&((sim_node_t *) arg)->writing);
}

static int
s_send (void *arg, uint32_t to, uint8_t *frame, size_t len)
{
    sim_node_t *node = (sim_node_t *) arg;
    if (s_struck (node)) {
        free (frame);
        return -1;
    }
    sim_net_send (node->sim, node->id, to, frame, len);
    return 0;
}

static void
s_members_changed (void *arg, const raft_conf_t *conf)
{
    sim_node_t *node = (sim_node_t *) arg;
    memset (node->reach, 0, sizeof node->reach);
    for (uint32_t i = 0; i < conf->n; i++)
        if (conf->members [i].id <= SIM_MAX_NODES)
            node->reach [conf->members [i].id] = true;
    if (conf->n == 0) /* --join: its --peers list, every slot */
        memset (node->reach, 1, sizeof node->reach);
}

replica_io_t
sim_io (sim_node_t *node)
{
    return (replica_io_t) { .arg = node,
                            .load = s_load,
                            .log_open = s_log_open,
                            .hardstate_put = s_hardstate_put,
                            .identity_put = s_identity_put,
                            .log_append = s_log_append,
                            .log_sync = s_log_sync,
                            .log_compact = s_log_compact,
                            .snapshot_install = s_snapshot_install,
                            .snapshot_put = s_snapshot_put,
                            .snapshot_get = s_snapshot_get,
                            .snapshot_begin = s_snapshot_begin,
                            .snapshot_poll = s_snapshot_poll,
                            .snapshot_abort = s_snapshot_abort,
                            .send = s_send,
                            .members_changed = s_members_changed };
}

void
sim_io_crash (sim_t *sim, sim_node_t *node)
{
    size_t unsynced = node->log_n - node->synced_n;
    s_log_drop_from (node, node->synced_n + (size_t) sim_below (&sim->rng, unsynced + 1));
    node->synced_n = node->log_n;
    s_log_compact (node, node->snap.index); /* a real log skips what a snapshot covers */
    sim_snap_free (&node->writing);
    node->crashing = false;
}

void
sim_io_free (sim_node_t *node)
{
    s_log_drop_from (node, 0);
    free (node->log);
    node->log = NULL;
    node->log_cap = 0;
    sim_snap_free (&node->snap);
    sim_snap_free (&node->writing);
}
