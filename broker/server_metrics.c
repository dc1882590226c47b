/*  server_metrics.c - what the loop tells the metrics endpoint: the counters kept as
    things happen (server.c, login.c), and gauges read from the replica, the chat
    state and the sessions when a sample is published. */
#include "server_internal.h"

#define METRICS_PUBLISH_MS 250

void
server_metrics_publish (server_t *self)
{
    if (!self->metrics || self->now_ms - self->metrics_ms < METRICS_PUBLISH_MS)
        return;
    self->metrics_ms = self->now_ms;
    metrics_sample_t *s = &self->stats;
    replica_member_t members [RAFT_MAX_NODES];
    uint32_t n = replica_members (self->replica, self->now_ms, members, RAFT_MAX_NODES);
    s->id = self->config->id;
    s->n = n;
    s->leader = self->leader_id;
    for (uint32_t i = 0; i < n; i++) {
        const replica_member_t *m = &members [i];
        if (m->id == s->id) {
            s->role = m->role;
            s->term = m->term;
            s->commit = m->commit;
            s->applied = m->applied;
            s->last_index = m->last_index;
        }
        s->peers [i] = (metrics_peer_t) { m->id, m->reachable, m->match, 0, m->voter };
    }
    for (uint32_t i = 0; i < n; i++)
        s->peers [i].lag =
            s->last_index > s->peers [i].match ? s->last_index - s->peers [i].match : 0;
    s->fsync = *replica_io_host_fsync (self->io);
    s->sessions = sessions_count (self->sessions);
    s->users = chat_user_count (self->chat);
    s->queued = chat_queued_count (self->chat);
    s->queued_bytes = chat_queued_bytes (self->chat);
    replica_snapshot_info_t snap;
    replica_snapshot_info (self->replica, &snap);
    s->snapshot_index = snap.index;
    s->snapshot_age_s = snap.index ? (double) (self->now_ms - snap.at_ms) / 1e3 : -1;
    s->snapshot_duration_s = (double) snap.duration_ms / 1e3;
    metrics_publish (self->metrics, s);
}
