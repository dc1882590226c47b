/*  replica_snapshot.c - snapshots of the state machine: taken in the background once
    enough has been applied, streamed to a follower the leader compacted past, and
    received and installed when the core accepts one. The bytes travel beside Raft,
    which only ever sees (index, term). Invariant: the log is dropped only up to a
    snapshot that is durable. */
#include "replica_internal.h"
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "blog.h"

#define SNAPSHOT_RESEND_MS 1000
#define SNAPSHOT_RETRY_MS  1000
#define CHUNK_FRAME_MAX    (ZC_SNAPSHOT_CHUNK_MAX + 128)

void
replica_snapshot_info (const replica_t *self, replica_snapshot_info_t *info)
{
    *info = self->snapshot_info;
}

void
replica_snapshot_free (replica_t *self)
{
    if (self->writing.running)
        self->io.snapshot_abort (self->io.arg);
    self->writing.running = false;
    free (self->incoming.body);
    memset (&self->incoming, 0, sizeof self->incoming);
}

/* ---- sending */

static int
s_send_chunk (replica_t *self, uint32_t to, const zc_snapshot_chunk_t *chunk)
{
    uint8_t *frame = (uint8_t *) malloc (CHUNK_FRAME_MAX);
    size_t len;
    if (!frame || zc_snapshot_chunk_encode (chunk, frame, CHUNK_FRAME_MAX, &len) != ZC_OK) {
        free (frame);
        return -1;
    }
    return self->io.send (self->io.arg, to, frame, len);
}

void
replica_snapshot_send (replica_t *self, const raft_msg_t *msg, uint64_t now_ms)
{
    assert (msg->to >= 1 && msg->to <= RAFT_MAX_ID);
    replica_peer_view_t *view = &self->views [msg->to];
    if (view->snapshot_sent_index == msg->snap_index
        && now_ms - view->snapshot_sent_ms < SNAPSHOT_RESEND_MS)
        return;
    uint64_t index, term;
    uint8_t *body;
    size_t total;
    if (self->io.snapshot_get (self->io.arg, &index, &term, &body, &total) != 1) {
        blog ("snapshot_send_failed", "peer=%u reason=\"no readable snapshot\"", msg->to);
        return;
    }
    view->snapshot_sent_ms = now_ms;
    view->snapshot_sent_index = index;
    blog ("snapshot_send", "peer=%u index=%llu bytes=%zu", msg->to, (unsigned long long) index,
          total);
    uint64_t offset = 0;
    do {
        uint64_t left = total - offset;
        zc_snapshot_chunk_t chunk = {
            .from = self->config.raft.id,
            .term = raft_term (self->raft),
            .snap_index = index,
            .snap_term = term,
            .total = total,
            .offset = offset,
            .data = body + offset,
            .len = (uint32_t) (left < ZC_SNAPSHOT_CHUNK_MAX ? left : ZC_SNAPSHOT_CHUNK_MAX)
        };
        if (s_send_chunk (self, msg->to, &chunk))
            break; /* dropped: the core asks again, and we resend after a pause */
        offset += chunk.len;
    } while (offset < total);
    free (body);
}

/* ---- receiving */

static void
s_incoming_reset (replica_incoming_t *in)
{
    free (in->body);
    memset (in, 0, sizeof *in);
}

void
replica_snapshot_chunk (replica_t *self, const zc_snapshot_chunk_t *chunk)
{
    replica_incoming_t *in = &self->incoming;
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
             || chunk->from != in->from || chunk->offset != in->received
             || chunk->total != in->total)
        return; /* out of order or from an abandoned transfer: wait for a restart */
    memcpy (in->body + in->received, chunk->data, chunk->len);
    in->received += chunk->len;
    if (in->received < in->total)
        return;
    in->complete = true;
    blog ("snapshot_received", "from=%u index=%llu bytes=%llu", in->from,
          (unsigned long long) in->snap_index, (unsigned long long) in->total);
    raft_msg_t msg = { .type = RAFT_MSG_SNAPSHOT,
                       .from = in->from,
                       .to = self->config.raft.id,
                       .term = in->term,
                       .snap_index = in->snap_index,
                       .snap_term = in->snap_term };
    raft_step (self->raft, &msg);
}

int
replica_snapshot_install (replica_t *self, uint64_t index, uint64_t term, uint64_t now_ms)
{
    replica_incoming_t *in = &self->incoming;
    if (!in->complete || in->snap_index != index || in->snap_term != term) {
        blog ("snapshot_install_failed", "index=%llu reason=\"no matching snapshot held\"",
              (unsigned long long) index);
        return -1;
    }
    if (self->writing.running) {
        self->io.snapshot_abort (self->io.arg); /* it writes an older one */
        self->writing.running = false;
    }
    raft_conf_t conf;
    if (replica_members_load (self, in->body, in->total, &conf)) {
        blog ("snapshot_install_failed", "index=%llu reason=\"does not decode\"",
              (unsigned long long) index);
        return -1;
    }
    if (self->io.snapshot_install (self->io.arg, index, term, in->body, in->total)) {
        blog ("storage_failed", "op=snapshot_install index=%llu", (unsigned long long) index);
        return -1;
    }
    self->snap_index = index;
    self->snap_term = term;
    self->applied = index;
    self->applied_conf = conf;
    raft_install_conf (self->raft, &conf);
    self->snapshot_info = (replica_snapshot_info_t) { index, now_ms, 0 };
    s_incoming_reset (in);
    blog ("snapshot_installed", "index=%llu term=%llu", (unsigned long long) index,
          (unsigned long long) term);
    return 0;
}

/* ---- taking */

/* The snapshot of index is durable: drop the log it covers. */
static void
s_compact (replica_t *self, uint64_t index, uint64_t term)
{
    if (index <= self->snap_index)
        return; /* a newer one was installed meanwhile */
    self->snap_index = index;
    self->snap_term = term;
    raft_compact (self->raft, index);
    self->io.log_compact (self->io.arg, index);
}

/* When no background writer can start: the loop stalls while this runs. */
static int
s_snapshot_inline (replica_t *self, uint64_t term, uint64_t now_ms)
{
    uint8_t *body;
    size_t len;
    if (replica_members_save (self, &body, &len))
        return -1;
    int rc = self->io.snapshot_put (self->io.arg, self->applied, term, body, len);
    free (body);
    if (rc) {
        blog ("storage_failed", "op=snapshot index=%llu", (unsigned long long) self->applied);
        return -1;
    }
    s_compact (self, self->applied, term);
    self->snapshot_info = (replica_snapshot_info_t) { self->applied, now_ms, 0 };
    blog ("snapshot_taken", "index=%llu bytes=%zu inline=1", (unsigned long long) self->snap_index,
          len);
    return 0;
}

static void
s_finish_writing (replica_t *self, uint64_t now_ms)
{
    replica_writing_t *w = &self->writing;
    int done = self->io.snapshot_poll (self->io.arg);
    if (done == 0)
        return;
    w->running = false;
    if (done == 1) {
        s_compact (self, w->index, w->term);
        self->snapshot_info =
            (replica_snapshot_info_t) { w->index, now_ms, now_ms - w->started_ms };
        blog ("snapshot_taken", "index=%llu ms=%llu", (unsigned long long) w->index,
              (unsigned long long) (now_ms - w->started_ms));
        return;
    }
    /* not fatal: the log still holds everything; try again in a while */
    blog ("snapshot_failed", "index=%llu reason=\"writer failed\"", (unsigned long long) w->index);
    self->snapshot_retry_ms = now_ms + SNAPSHOT_RETRY_MS;
}

int
replica_snapshot_maybe (replica_t *self, uint64_t now_ms)
{
    if (self->writing.running)
        s_finish_writing (self, now_ms);
    if (self->writing.running || now_ms < self->snapshot_retry_ms
        || self->applied - self->snap_index < self->config.snapshot_entries)
        return 0;
    const raft_entry_t *last = raft_entry_at (self->raft, self->applied);
    if (!last)
        return 0;
    if (self->io.snapshot_begin (self->io.arg, replica_members_save, self, self->applied,
                                 last->term)
        == 0) {
        self->writing = (replica_writing_t) { true, self->applied, last->term, now_ms };
        return 0;
    }
    return s_snapshot_inline (self, last->term, now_ms);
}
