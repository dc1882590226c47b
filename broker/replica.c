/*  replica.c - the ready/advance cycle over the Raft core, the log on disk and the
    chat state. Invariant: nothing is sent or applied before the hard state and the
    entries of the same ready are durable. */
#include "replica.h"
#include "snapshot_writer.h"
#include <czmq.h>
#include "blog.h"
#include "fileio.h"
#include "snapshot_file.h"
#include "wal.h"
#include "../schema/command.h"
#include "../schema/peer_aux.h"

#define READS_MAX 4096
#define GOSSIP_PERIOD_MS 200
#define GOSSIP_STALE_MS 2000
#define SNAPSHOT_RESEND_MS 1000
#define SNAPSHOT_RETRY_MS 1000

typedef struct {
    uint64_t ctx;
    uint64_t index;
} waiting_read_t;

typedef struct {
    zc_status_gossip_t gossip;
    uint64_t heard_ms;          /* 0 = never */
    uint64_t snapshot_sent_ms;  /* last snapshot transfer started to this peer */
    uint64_t snapshot_sent_index;
} peer_view_t;

typedef struct {
    uint32_t from;
    uint64_t term;
    uint64_t snap_index;
    uint64_t snap_term;
    uint64_t total;
    uint64_t received;
    uint8_t *body;
    bool complete;
} incoming_snapshot_t;

struct replica {
    const config_t *config;
    peers_t *peers;
    replica_hooks_t hooks;
    void *hooks_arg;
    raft_t *raft;
    wal_t *wal;
    chat_t *chat;
    uint64_t applied;
    uint64_t snap_index;            /* newest snapshot on disk */
    uint64_t snap_term;
    waiting_read_t reads [READS_MAX];
    size_t n_reads;
    peer_view_t views [RAFT_MAX_NODES + 1];
    uint64_t gossip_sent_ms;
    incoming_snapshot_t incoming;
    snapshot_writer_t writer;       /* background snapshot in progress */
    uint64_t snapshot_retry_ms;     /* after a failed writer, not before this */
    raft_role_t role;
    uint32_t leader;
    uint64_t term;
    bool started_empty;             /* no hard state, snapshot or log on disk at start */
    bool warned_history;
};

static int
s_restore_entry (void *arg, const raft_entry_t *entry)
{
    raft_restore_entry ((raft_t *) arg, entry);
    return 0;
}

static int
s_load_snapshot (replica_t *self, char *err, size_t err_len)
{
    uint8_t *body = NULL;
    size_t len = 0;
    int found = snapshot_file_read (self->config->data_dir, &self->snap_index, &self->snap_term,
                                    &body, &len, err, err_len);
    if (found < 0)
        return -1;
    if (found == 1) {
        zc_code_t code = chat_snapshot_load (self->chat, body, len);
        free (body);
        if (code != ZC_OK) {
            snprintf (err, err_len, "snapshot in %s does not decode (%s): refusing to serve",
                      self->config->data_dir, zc_code_name (code));
            return -1;
        }
    }
    return 0;
}

static void
s_note_repair (replica_t *self)
{
    const char *note = wal_repair_note (self->wal);
    if (*note)
        blog ("log_repaired", "level=warning data=%s cut=\"%s\"", self->config->data_dir, note);
    else
        blog ("log_repair_found_nothing", "data=%s", self->config->data_dir);
}

replica_t *
replica_new (const config_t *config, peers_t *peers, const replica_hooks_t *hooks,
             void *hooks_arg, uint64_t now_ms, char *err, size_t err_len)
{
    replica_t *self = (replica_t *) zmalloc (sizeof (replica_t));
    self->config = config;
    self->peers = peers;
    self->hooks = *hooks;
    self->hooks_arg = hooks_arg;
    self->chat = chat_new (&config->limits);
    raft_hardstate_t hardstate = { 0, 0 };
    int found_hardstate;
    if (fileio_mkdir_durable (config->data_dir, NULL)) {
        snprintf (err, err_len, "cannot create data directory %s: %s", config->data_dir,
                  strerror (errno));
        goto fail;
    }
    if ((found_hardstate = hardstate_read (config->data_dir, &hardstate, err, err_len)) < 0
        || s_load_snapshot (self, err, err_len) < 0)
        goto fail;
    raft_config_t raft_config = {
        .id = config->id, .n = config->n, .election_timeout_ms = config->election_timeout_ms,
        .heartbeat_ms = config->heartbeat_ms, .seed = now_ms ^ ((uint64_t) getpid () << 32)
    };
    raft_config_defaults (&raft_config);
    self->raft = raft_new (&raft_config, &hardstate, self->snap_index, self->snap_term, now_ms);
    self->wal = (config->repair ? wal_open_repair : wal_open) (config->data_dir,
        self->snap_index, config->segment_bytes, s_restore_entry, self->raft, err, err_len);
    if (!self->wal)
        goto fail;
    raft_set_applied (self->raft, self->snap_index);
    self->applied = self->snap_index;
    self->started_empty = !found_hardstate && !self->snap_index && !wal_last_index (self->wal);
    self->term = hardstate.term;
    blog_set_term (self->term);
    if (config->repair)
        s_note_repair (self);
    blog ("replica_loaded", "data=%s snapshot_index=%llu log_first=%llu log_last=%llu torn_bytes_cut=%llu",
          config->data_dir, (unsigned long long) self->snap_index,
          (unsigned long long) wal_first_index (self->wal),
          (unsigned long long) wal_last_index (self->wal),
          (unsigned long long) wal_truncated_bytes (self->wal));
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
    snapshot_writer_abort (&self->writer);
    raft_destroy (&self->raft);
    wal_destroy (&self->wal);
    chat_destroy (&self->chat);
    free (self->incoming.body);
    free (self);
    *self_p = NULL;
}

const chat_t *
replica_chat (const replica_t *self)
{
    return self->chat;
}

zc_code_t
replica_propose (replica_t *self, zc_command_t *cmd, uint64_t now_ms)
{
    if (raft_role (self->raft) != RAFT_LEADER)
        return ZC_ERR_NOT_LEADER;
    cmd->ts = now_ms;
    uint8_t buf [ZC_COMMAND_MAX];
    size_t len;
    zc_code_t code = zc_command_encode (cmd, buf, sizeof buf, &len);
    if (code != ZC_OK)
        return code;
    uint64_t index;
    return raft_propose (self->raft, buf, (uint32_t) len, &index);
}

zc_code_t
replica_read (replica_t *self, uint64_t ctx)
{
    return raft_read_index (self->raft, ctx);
}

void
replica_tick (replica_t *self, uint64_t now_ms)
{
    raft_tick (self->raft, now_ms);
    if (now_ms - self->gossip_sent_ms < GOSSIP_PERIOD_MS)
        return;
    self->gossip_sent_ms = now_ms;
    zc_status_gossip_t gossip = {
        .id = self->config->id, .role = raft_role (self->raft), .term = raft_term (self->raft),
        .commit = raft_commit_index (self->raft), .applied = self->applied,
        .last_index = raft_last_index (self->raft)
    };
    snprintf (gossip.advertise, sizeof gossip.advertise, "%s", self->config->advertise);
    uint8_t frame [ZC_STATUS_GOSSIP_MAX];
    size_t len;
    if (zc_status_gossip_encode (&gossip, frame, sizeof frame, &len) == ZC_OK)
        peers_send_frame (self->peers, RAFT_BROADCAST, frame, len);
}

/* ---- snapshot transfer: the bytes travel beside Raft, which only sees (index, term) */

static void
s_send_snapshot (replica_t *self, const raft_msg_t *msg, uint64_t now_ms)
{
    peer_view_t *view = &self->views [msg->to];
    if (view->snapshot_sent_index == msg->snap_index
        && now_ms - view->snapshot_sent_ms < SNAPSHOT_RESEND_MS)
        return;
    uint64_t index, term;
    uint8_t *body;
    size_t total;
    char err [256];
    if (snapshot_file_read (self->config->data_dir, &index, &term, &body, &total, err, sizeof err) != 1) {
        blog ("snapshot_send_failed", "peer=%u reason=\"%s\"", msg->to, err);
        return;
    }
    view->snapshot_sent_ms = now_ms;
    view->snapshot_sent_index = index;
    blog ("snapshot_send", "peer=%u index=%llu bytes=%zu", msg->to, (unsigned long long) index, total);
    uint8_t *frame = (uint8_t *) malloc (ZC_SNAPSHOT_CHUNK_MAX + 128);
    uint64_t offset = 0;
    do {
        uint64_t left = total - offset;
        zc_snapshot_chunk_t chunk = {
            .from = self->config->id, .term = raft_term (self->raft), .snap_index = index,
            .snap_term = term, .total = total, .offset = offset, .data = body + offset,
            .len = (uint32_t) (left < ZC_SNAPSHOT_CHUNK_MAX ? left : ZC_SNAPSHOT_CHUNK_MAX)
        };
        size_t len;
        if (zc_snapshot_chunk_encode (&chunk, frame, ZC_SNAPSHOT_CHUNK_MAX + 128, &len) != ZC_OK
            || peers_send_frame (self->peers, msg->to, frame, len) < 0)
            break;      /* dropped: the core asks again, and we resend after a pause */
        offset += chunk.len;
    } while (offset < total);
    free (frame);
    free (body);
}

static void
s_incoming_reset (incoming_snapshot_t *incoming)
{
    free (incoming->body);
    memset (incoming, 0, sizeof *incoming);
}

static void
s_receive_chunk (replica_t *self, const zc_snapshot_chunk_t *chunk)
{
    incoming_snapshot_t *in = &self->incoming;
    if (chunk->offset == 0) {
        s_incoming_reset (in);
        in->body = (uint8_t *) malloc (chunk->total ? chunk->total : 1);
        if (!in->body)
            return;
        in->from = chunk->from;
        in->term = chunk->term;
        in->snap_index = chunk->snap_index;
        in->snap_term = chunk->snap_term;
        in->total = chunk->total;
    }
    else if (!in->body || in->complete || chunk->snap_index != in->snap_index
             || chunk->from != in->from || chunk->offset != in->received || chunk->total != in->total)
        return;      /* out of order or from an abandoned transfer: wait for a restart */
    memcpy (in->body + in->received, chunk->data, chunk->len);
    in->received += chunk->len;
    if (in->received < in->total)
        return;
    in->complete = true;
    blog ("snapshot_received", "from=%u index=%llu bytes=%llu", in->from,
          (unsigned long long) in->snap_index, (unsigned long long) in->total);
    raft_msg_t msg = {
        .type = RAFT_MSG_SNAPSHOT, .from = in->from, .to = self->config->id, .term = in->term,
        .snap_index = in->snap_index, .snap_term = in->snap_term
    };
    raft_step (self->raft, &msg);
}

/* The core accepted the snapshot we hold: make it our state, durably. */
static int
s_install_snapshot (replica_t *self, uint64_t index, uint64_t term)
{
    incoming_snapshot_t *in = &self->incoming;
    char err [256];
    if (!in->complete || in->snap_index != index || in->snap_term != term) {
        blog ("snapshot_install_failed", "index=%llu reason=\"no matching snapshot held\"",
              (unsigned long long) index);
        return -1;
    }
    snapshot_writer_abort (&self->writer);     /* it writes the same file */
    zc_code_t code = chat_snapshot_load (self->chat, in->body, in->total);
    if (code != ZC_OK) {
        blog ("snapshot_install_failed", "index=%llu reason=%s", (unsigned long long) index,
              zc_code_name (code));
        return -1;
    }
    if (snapshot_file_write (self->config->data_dir, index, term, in->body, in->total, err, sizeof err)
        || wal_reset (self->wal, index + 1)) {
        blog ("storage_failed", "op=snapshot_install reason=\"%s\"", err);
        return -1;
    }
    self->snap_index = index;
    self->snap_term = term;
    self->applied = index;
    s_incoming_reset (in);
    blog ("snapshot_installed", "index=%llu term=%llu", (unsigned long long) index,
          (unsigned long long) term);
    return 0;
}

/* A replica that started with nothing on disk, and still holds nothing, hears that a
   peer has a log. Either it joins late, or its data was lost (a wiped directory, or one
   whose creation never became durable): it catches up from the leader, but what it had
   acknowledged before is gone from it, so an operator must hear of it. A brand-new
   cluster stays quiet: its first votes and appends all name an empty log. */
static void
s_warn_if_history (replica_t *self, const raft_msg_t *msg)
{
    if (!self->started_empty || self->warned_history
        || raft_last_index (self->raft) || self->snap_index)
        return;
    uint64_t peer_log = 0;
    if (msg->type == RAFT_MSG_APPEND)
        peer_log = msg->prev_index > msg->commit ? msg->prev_index : msg->commit;
    else if (msg->type == RAFT_MSG_VOTE)
        peer_log = msg->last_index;
    if (peer_log == 0)
        return;
    self->warned_history = true;
    blog ("empty_data_but_cluster_has_history",
          "level=warning data=%s peer=%u peer_term=%llu peer_log_index=%llu"
          " note=\"this replica started with no term, vote, snapshot or log, but the cluster"
          " already has history: if it held data before, that data was lost; catching up"
          " from the leader\"", self->config->data_dir, msg->from,
          (unsigned long long) msg->term, (unsigned long long) peer_log);
}

void
replica_peer_frame (replica_t *self, const uint8_t *frame, size_t len, uint64_t now_ms)
{
    if (len == 0)
        return;
    zc_code_t code = ZC_ERR_BAD_TYPE;
    if (frame [0] == ZC_PEER_KIND_RAFT) {
        static raft_entry_t entries [4096];
        raft_msg_t msg;
        code = raft_msg_decode (frame, len, &msg, entries, 4096);
        if (code == ZC_OK && (msg.to == RAFT_BROADCAST || msg.to == self->config->id)
            && msg.from >= 1 && msg.from <= self->config->n && msg.from != self->config->id) {
            s_warn_if_history (self, &msg);
            raft_step (self->raft, &msg);
        }
    }
    else if (frame [0] == ZC_PEER_KIND_SNAPSHOT_CHUNK) {
        zc_snapshot_chunk_t chunk;
        code = zc_snapshot_chunk_decode (frame, len, &chunk);
        if (code == ZC_OK && chunk.from >= 1 && chunk.from <= self->config->n)
            s_receive_chunk (self, &chunk);
    }
    else if (frame [0] == ZC_PEER_KIND_STATUS) {
        zc_status_gossip_t gossip;
        code = zc_status_gossip_decode (frame, len, &gossip);
        if (code == ZC_OK && gossip.id >= 1 && gossip.id <= self->config->n) {
            self->views [gossip.id].gossip = gossip;
            self->views [gossip.id].heard_ms = now_ms;
        }
    }
    if (code != ZC_OK)
        blog ("peer_frame_rejected", "bytes=%zu code=%s", len, zc_code_name (code));
}

/* ---- the ready cycle */

static int
s_persist (replica_t *self, const raft_ready_t *rd)
{
    char err [256] = "";
    if (rd->hardstate_changed
        && hardstate_write (self->config->data_dir, &rd->hardstate, err, sizeof err)) {
        blog ("storage_failed", "op=hardstate reason=\"%s\"", err);
        return -1;
    }
    if (rd->n_entries
        && (wal_append (self->wal, rd->entries, rd->n_entries) || wal_sync (self->wal))) {
        blog ("storage_failed", "op=wal_append entries=%u", rd->n_entries);
        return -1;
    }
    if (rd->install_index && s_install_snapshot (self, rd->install_index, rd->install_term))
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
s_apply (replica_t *self, const raft_entry_t *entry)
{
    if (entry->index != self->applied + 1) {
        blog ("apply_gap", "index=%llu applied=%llu", (unsigned long long) entry->index,
              (unsigned long long) self->applied);
        return;
    }
    self->applied = entry->index;
    if (entry->len == 0)
        return;     /* the leader's no-op of its term */
    zc_command_t cmd;
    zc_code_t code = zc_command_decode (entry->data, entry->len, &cmd);
    if (code != ZC_OK) {
        /* every replica holds the same bytes, so skipping keeps them identical */
        blog ("apply_undecodable", "index=%llu code=%s", (unsigned long long) entry->index,
              zc_code_name (code));
        return;
    }
    chat_result_t result;
    chat_apply (self->chat, entry->index, &cmd, &result);
    self->hooks.applied (self->hooks_arg, entry->index, &cmd, &result);
}

/* The snapshot of index is durable: drop the log it covers. */
static void
s_compact (replica_t *self, uint64_t index, uint64_t term)
{
    if (index <= self->snap_index)
        return;     /* a newer one was installed meanwhile */
    self->snap_index = index;
    self->snap_term = term;
    raft_compact (self->raft, index);
    wal_compact (self->wal, index);
}

/* Inline, when no child can be forked: the loop stalls while it runs. */
static int
s_snapshot_inline (replica_t *self, uint64_t term)
{
    uint8_t *body;
    size_t len;
    char err [256];
    int64_t started = zclock_mono ();
    if (chat_snapshot_save (self->chat, &body, &len))
        return -1;
    int rc = snapshot_file_write (self->config->data_dir, self->applied, term, body, len,
                                  err, sizeof err);
    free (body);
    if (rc) {
        blog ("storage_failed", "op=snapshot reason=\"%s\"", err);
        return -1;
    }
    s_compact (self, self->applied, term);
    blog ("snapshot_taken", "index=%llu bytes=%zu ms=%lld inline=1",
          (unsigned long long) self->snap_index, len, (long long) (zclock_mono () - started));
    return 0;
}

/* Snapshot the chat state and drop the log it covers, once enough has been applied;
   in a forked child, so that serving goes on meanwhile. */
static int
s_maybe_snapshot (replica_t *self, uint64_t now_ms)
{
    snapshot_writer_t *w = &self->writer;
    int done = snapshot_writer_poll (w);
    if (done == 1) {
        s_compact (self, w->index, w->term);
        blog ("snapshot_taken", "index=%llu ms=%lld fork_ms=%lld", (unsigned long long) w->index,
              (long long) (zclock_mono () - w->started_ms), (long long) w->fork_ms);
    }
    else if (done < 0) {
        /* not fatal: the log still holds everything; try again in a while */
        blog ("snapshot_failed", "index=%llu reason=\"writer process failed\"",
              (unsigned long long) w->index);
        self->snapshot_retry_ms = now_ms + SNAPSHOT_RETRY_MS;
    }
    if (w->pid || now_ms < self->snapshot_retry_ms
        || self->applied - self->snap_index < self->config->snapshot_entries)
        return 0;
    const raft_entry_t *last = raft_entry_at (self->raft, self->applied);
    if (!last)
        return 0;
    if (snapshot_writer_start (w, self->chat, self->config->data_dir, self->applied,
                               last->term) == 0)
        return 0;
    blog ("snapshot_fork_failed", "reason=\"%s\"", strerror (errno));
    return s_snapshot_inline (self, last->term);
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
    blog ("role", "role=%s leader=%u commit=%llu", raft_role_name (rd->role), rd->leader,
          (unsigned long long) rd->commit);
    self->hooks.role_changed (self->hooks_arg, rd->role, rd->leader, rd->term);
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
            s_send_snapshot (self, msg, now_ms);
        else
            peers_send_msg (self->peers, msg);
    }
}

int
replica_process (replica_t *self, uint64_t now_ms)
{
    raft_ready_t rd;
    for (int rounds = 0; rounds < 64 && raft_ready (self->raft, &rd); rounds++) {
        /* A leader may replicate before its own write is durable (Raft thesis 10.2.1):
           it counts itself towards a majority only after the fdatasync, so its disk
           and the followers' disks work in parallel. Everything else waits. */
        bool early = rd.role == RAFT_LEADER && !rd.hardstate_changed;
        if (early)
            s_send_msgs (self, &rd, now_ms, SEND_APPENDS);
        if (s_persist (self, &rd))
            return -1;
        s_send_msgs (self, &rd, now_ms, early ? SEND_OTHERS : SEND_ALL);
        for (uint32_t i = 0; i < rd.n_committed; i++)
            s_apply (self, &rd.committed [i]);
        for (uint32_t i = 0; i < rd.n_reads; i++) {
            if (self->n_reads < READS_MAX)
                self->reads [self->n_reads++] = (waiting_read_t) { rd.reads [i].ctx, rd.reads [i].index };
            else
                self->hooks.read_ready (self->hooks_arg, rd.reads [i].ctx, false);
        }
        for (uint32_t i = 0; i < rd.n_failed_reads; i++)
            self->hooks.read_ready (self->hooks_arg, rd.failed_reads [i], false);
        s_note_role (self, &rd);
        raft_advance (self->raft, &rd);
        s_serve_reads (self);
        if (s_maybe_snapshot (self, now_ms))
            return -1;
    }
    return 0;
}

void
replica_status (replica_t *self, uint64_t now_ms, zc_frame_t *reply)
{
    reply->fields |= ZC_F_REPLICAS | ZC_F_STATS;
    reply->n_replicas = self->config->n;
    for (uint32_t id = 1; id <= self->config->n; id++) {
        zc_replica_status_t *out = &reply->replicas [id - 1];
        out->id = id;
        if (id == self->config->id) {
            snprintf (out->role, sizeof out->role, "%s", raft_role_name (raft_role (self->raft)));
            out->term = raft_term (self->raft);
            out->commit = raft_commit_index (self->raft);
            out->applied = self->applied;
            out->last_index = raft_last_index (self->raft);
            continue;
        }
        const peer_view_t *view = &self->views [id];
        bool fresh = view->heard_ms && now_ms - view->heard_ms < GOSSIP_STALE_MS;
        snprintf (out->role, sizeof out->role, "%s",
                  fresh ? raft_role_name ((raft_role_t) view->gossip.role) : "unreachable");
        out->term = view->gossip.term;
        out->commit = view->gossip.commit;
        out->applied = view->gossip.applied;
        out->last_index = view->gossip.last_index;
    }
    reply->n_users_total = chat_user_count (self->chat);
    reply->n_queued = chat_queued_count (self->chat);
}

zc_code_t
replica_transfer (replica_t *self, uint32_t target)
{
    return raft_transfer_leadership (self->raft, target);
}

uint32_t
replica_transfer_target (const replica_t *self)
{
    return raft_transfer_target (self->raft);
}

const char *
replica_peer_advertise (const replica_t *self, uint32_t id)
{
    if (id < 1 || id > self->config->n || !self->views [id].heard_ms)
        return "";
    return self->views [id].gossip.advertise;
}
