/*  replica.c - the ready/advance cycle over the Raft core, its storage and the state
    machine. Invariant: nothing is sent or applied before the hard state and the
    entries of the same ready are durable (a leader's APPENDs excepted, see below). */
#include "replica_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blog.h"

static void
s_restore_entry (void *arg, const raft_entry_t *entry)
{
    raft_restore_entry ((raft_t *) arg, entry);
}

static int
s_load (replica_t *self, raft_hardstate_t *hardstate, bool *found_hardstate, raft_conf_t *conf,
        char *err, size_t err_len)
{
    replica_disk_t disk;
    memset (&disk, 0, sizeof disk);
    if (self->io.load (self->io.arg, &disk, err, err_len))
        return -1;
    if (replica_identity_begin (self, &disk, err, err_len)) {
        free (disk.snap_body);
        return -1;
    }
    *hardstate = disk.hardstate;
    *found_hardstate = disk.found_hardstate;
    self->snap_index = disk.snap_index;
    self->snap_term = disk.snap_term;
    int rc = 0;
    *conf = self->config.bootstrap;
    if (disk.snap_index && replica_members_load (self, disk.snap_body, disk.snap_len, conf)) {
        snprintf (err, err_len, "snapshot %llu in %s does not decode: refusing to serve",
                  (unsigned long long) disk.snap_index, self->config.name);
        rc = -1;
    }
    free (disk.snap_body);
    return rc;
}

replica_t *
replica_new (const replica_config_t *config, const replica_io_t *io, const replica_fsm_t *fsm,
             const replica_hooks_t *hooks, void *hooks_arg, uint64_t now_ms, char *err,
             size_t err_len)
{
    replica_t *self = (replica_t *) calloc (1, sizeof (replica_t));
    if (!self) {
        snprintf (err, err_len, "out of memory");
        return NULL;
    }
    self->config = *config;
    self->io = *io;
    self->fsm = *fsm;
    self->hooks = *hooks;
    self->hooks_arg = hooks_arg;
    raft_hardstate_t hardstate = { 0, 0 };
    bool found_hardstate = false;
    uint64_t log_last = 0;
    raft_conf_t conf;
    if (s_load (self, &hardstate, &found_hardstate, &conf, err, err_len))
        goto fail;
    self->applied_conf = conf;
    raft_config_t raft_config = config->raft;
    raft_config_defaults (&raft_config);
    self->raft =
        raft_new (&raft_config, &hardstate, self->snap_index, self->snap_term, &conf, now_ms);
    if (!self->raft) {
        snprintf (err, err_len, "out of memory");
        goto fail;
    }
    if (self->io.log_open (self->io.arg, self->snap_index, s_restore_entry, self->raft, &log_last,
                           err, err_len))
        goto fail;
    raft_set_applied (self->raft, self->snap_index);
    self->applied = self->snap_index;
    self->started_empty = !found_hardstate && !self->snap_index && !log_last;
    self->term = hardstate.term;
    blog_set_term (self->term);
    if (config->rejoin)
        replica_rejoin_begin (self, "--rejoin");
    replica_members_changed (self);
    return self;
fail:
    replica_destroy (&self);
    return NULL;
}

void
replica_destroy (replica_t **self_p)
{
    if (!*self_p)
        return;
    replica_t *self = *self_p;
    replica_snapshot_free (self);
    raft_destroy (&self->raft);
    free (self);
    *self_p = NULL;
}

raft_err_t
replica_propose (replica_t *self, const uint8_t *data, size_t len)
{
    if (len > UINT32_MAX)
        return RAFT_ERR_TOO_LARGE; /* the core checks its own, smaller bound */
    uint64_t index;
    return raft_propose (self->raft, data, (uint32_t) len, &index);
}

raft_err_t
replica_read (replica_t *self, uint64_t ctx)
{
    return raft_read_index (self->raft, ctx);
}

void
replica_tick (replica_t *self, uint64_t now_ms)
{
    raft_tick (self->raft, now_ms);
    replica_status_gossip (self, now_ms);
}

const raft_t *
replica_raft (const replica_t *self)
{
    return self->raft;
}

/* A replica that started with nothing on disk, and still holds nothing, hears that a
   peer has a log. Either it joins late, or its data was lost (a wiped directory, or one
   whose creation never became durable): it catches up from the leader, but what it had
   acknowledged before is gone from it, so an operator must hear of it. A brand-new
   cluster stays quiet: its first votes and appends all name an empty log. */
static void
s_warn_if_history (replica_t *self, const raft_msg_t *msg)
{
    if (!self->started_empty || self->warned_history || raft_last_index (self->raft)
        || self->snap_index)
        return;
    uint64_t peer_log = 0;
    if (msg->type == RAFT_MSG_APPEND)
        peer_log = msg->prev_index > msg->commit ? msg->prev_index : msg->commit;
    else if (msg->type == RAFT_MSG_VOTE)
        peer_log = msg->last_index;
    if (peer_log == 0)
        return;
    self->warned_history = true;
    replica_rejoin_begin (self, "started with an empty data directory in a cluster with history");
    blog ("empty_data_but_cluster_has_history",
          "level=warning data=%s peer=%u peer_term=%llu peer_log_index=%llu"
          " note=\"this replica started with no term, vote, snapshot or log, but the cluster"
          " already has history: if it held data before, that data was lost; catching up"
          " from the leader\"",
          self->config.name, msg->from, (unsigned long long) msg->term,
          (unsigned long long) peer_log);
}

static bool
s_is_peer (const replica_t *self, uint32_t id)
{
    /* not only members: one just added speaks before our log names it */
    return id >= 1 && id <= RAFT_MAX_ID && id != self->config.raft.id;
}

/* Raft frames and snapshot chunks from id: never from another cluster's replica; from
   one we subscribe to, once its gossip said which cluster it is of; from one we do not
   (a member our log does not name yet) without: its gossip cannot reach us. */
static bool
s_may_hear (const replica_t *self, uint32_t id)
{
    const replica_peer_view_t *view = &self->views [id];
    return !view->foreign && (view->verified || !raft_conf_find (&self->reached, id));
}

void
replica_peer_frame (replica_t *self, const uint8_t *frame, size_t len, uint64_t now_ms)
{
    if (len == 0)
        return;
    zc_code_t code = ZC_ERR_BAD_TYPE;
    if (frame [0] == ZC_PEER_KIND_RAFT) {
        raft_msg_t msg;
        code = raft_msg_decode (frame, len, &msg, self->decoded, REPLICA_DECODE_ENTRIES);
        if (code == ZC_OK && (msg.to == RAFT_BROADCAST || msg.to == self->config.raft.id)
            && s_is_peer (self, msg.from) && s_may_hear (self, msg.from)) {
            s_warn_if_history (self, &msg);
            raft_step (self->raft, &msg);
        }
    }
    else if (frame [0] == ZC_PEER_KIND_SNAPSHOT_CHUNK) {
        zc_snapshot_chunk_t chunk;
        code = zc_snapshot_chunk_decode (frame, len, &chunk);
        if (code == ZC_OK && s_is_peer (self, chunk.from) && s_may_hear (self, chunk.from))
            replica_snapshot_chunk (self, &chunk);
    }
    else if (frame [0] == ZC_PEER_KIND_STATUS) {
        zc_status_gossip_t gossip;
        code = zc_status_gossip_decode (frame, len, &gossip);
        if (code == ZC_OK && s_is_peer (self, gossip.id))
            replica_status_heard (self, &gossip, now_ms);
    }
    if (code != ZC_OK)
        blog ("peer_frame_rejected", "bytes=%zu code=%s", len, zc_code_name (code));
}

/* ---- the ready cycle */

static int
s_persist (replica_t *self, const raft_ready_t *rd, uint64_t now_ms)
{
    if (rd->hardstate_changed && self->io.hardstate_put (self->io.arg, &rd->hardstate)) {
        blog ("storage_failed", "op=hardstate term=%llu", (unsigned long long) rd->hardstate.term);
        return -1;
    }
    if (rd->n_entries
        && (self->io.log_append (self->io.arg, rd->entries, rd->n_entries)
            || self->io.log_sync (self->io.arg))) {
        blog ("storage_failed", "op=log_append entries=%u", rd->n_entries);
        return -1;
    }
    if (rd->install_index
        && replica_snapshot_install (self, rd->install_index, rd->install_term, now_ms))
        return -1;
    return 0;
}

static void
s_serve_reads (replica_t *self)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->n_reads; i++) {
        if (self->reads [i].index <= self->applied)
            self->hooks.read_ready (self->hooks_arg, self->reads [i].ctx, true);
        else
            self->reads [kept++] = self->reads [i];
    }
    self->n_reads = kept;
}

static void
s_queue_reads (replica_t *self, const raft_ready_t *rd)
{
    for (uint32_t i = 0; i < rd->n_reads; i++) {
        if (self->n_reads < REPLICA_READS_MAX)
            self->reads [self->n_reads++] =
                (replica_wait_t) { rd->reads [i].ctx, rd->reads [i].index };
        else
            self->hooks.read_ready (self->hooks_arg, rd->reads [i].ctx, false);
    }
    for (uint32_t i = 0; i < rd->n_failed_reads; i++)
        self->hooks.read_ready (self->hooks_arg, rd->failed_reads [i], false);
}

static void
s_apply (replica_t *self, const raft_entry_t *entry)
{
    if (entry->index != self->applied + 1) {
        blog ("apply_gap", "index=%llu applied=%llu", (unsigned long long) entry->index,
              (unsigned long long) self->applied);
        return;
    }
    self->applied = entry->index;
    if (raft_conf_is_entry (entry->data, entry->len))
        replica_members_applied (self, entry);
    else if (entry->len) /* empty: the leader's no-op of its term */
        self->fsm.apply (self->fsm.arg, entry->index, entry->data, entry->len);
}

static void
s_note_role (replica_t *self, const raft_ready_t *rd)
{
    if (rd->role == self->role && rd->leader == self->leader && rd->term == self->term)
        return;
    self->role = rd->role;
    self->leader = rd->leader;
    self->term = rd->term;
    blog_set_term (rd->term);
    replica_members_reach (self);
    blog ("role", "role=%s leader=%u commit=%llu", raft_role_name (rd->role), rd->leader,
          (unsigned long long) rd->commit);
    self->hooks.role_changed (self->hooks_arg, rd->role, rd->leader, rd->term);
}

static void
s_send_msg (replica_t *self, const raft_msg_t *msg)
{
    uint8_t *frame;
    size_t len;
    zc_code_t code = raft_msg_encode (msg, &frame, &len);
    if (code != ZC_OK) {
        blog ("peer_encode_failed", "type=%d to=%u code=%s", msg->type, msg->to,
              zc_code_name (code));
        return;
    }
    self->io.send (self->io.arg, msg->to, frame, len);
}

typedef enum { SEND_APPENDS, SEND_OTHERS, SEND_ALL } send_which_t;

static void
s_send_msgs (replica_t *self, const raft_ready_t *rd, uint64_t now_ms, send_which_t which)
{
    for (uint32_t i = 0; i < rd->n_msgs; i++) {
        const raft_msg_t *msg = &rd->msgs [i];
        if (which != SEND_ALL && (msg->type == RAFT_MSG_APPEND) != (which == SEND_APPENDS))
            continue;
        if (msg->type == RAFT_MSG_SNAPSHOT)
            replica_snapshot_send (self, msg, now_ms);
        else
            s_send_msg (self, msg);
    }
}

int
replica_process (replica_t *self, uint64_t now_ms)
{
    raft_ready_t rd;
    for (int rounds = 0; rounds < 64 && raft_ready (self->raft, &rd); rounds++) {
        /* A leader may replicate before its own write is durable (Raft thesis 10.2.1):
           it counts itself towards a majority only after the sync, so its disk and the
           followers' disks work in parallel. Everything else waits. */
        if (rd.conf_changed)
            replica_members_changed (self); /* before sending to a new member */
        bool early = rd.role == RAFT_LEADER && !rd.hardstate_changed;
        if (early)
            s_send_msgs (self, &rd, now_ms, SEND_APPENDS);
        if (s_persist (self, &rd, now_ms))
            return -1;
        s_send_msgs (self, &rd, now_ms, early ? SEND_OTHERS : SEND_ALL);
        for (uint32_t i = 0; i < rd.n_committed; i++)
            s_apply (self, &rd.committed [i]);
        s_queue_reads (self, &rd);
        s_note_role (self, &rd);
        raft_advance (self->raft, &rd);
        s_serve_reads (self);
        if (replica_snapshot_maybe (self, now_ms))
            return -1;
    }
    return 0;
}

raft_err_t
replica_transfer (replica_t *self, uint32_t target)
{
    return raft_transfer_leadership (self->raft, target);
}

raft_err_t
replica_change_members (replica_t *self, const raft_conf_t *next)
{
    uint64_t index;
    return raft_propose_conf (self->raft, next, &index);
}
