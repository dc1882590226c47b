/*  metrics.c - see metrics.h. The HTTP thread and the loop share one sample behind a
    mutex; rendering happens on the HTTP thread, from a copy. */
#include "metrics.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_CONNECTIONS_MAX 8
#define METRICS_TIMEOUT_S       5
#define METRICS_REQUEST_MEMORY  16384 /* per connection: the whole request must fit */
#define METRICS_BODY_MAX        65536

static const double s_bounds [METRICS_BUCKETS - 1] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                       0.005,  0.01,    0.025,  0.05,  0.1,
                                                       0.25,   0.5,     1.0 };

struct metrics {
    struct MHD_Daemon *daemon;
    pthread_mutex_t lock;
    metrics_sample_t sample;
};

void
metrics_observe (metrics_histogram_t *h, double seconds)
{
    size_t i = 0;
    while (i < METRICS_BUCKETS - 1 && seconds > s_bounds [i])
        i++;
    h->counts [i]++;
    h->count++;
    h->sum_s += seconds;
}

/* ---- rendering */

typedef struct {
    char *buf;
    size_t size, len;
    bool full;
} s_out_t;

static void __attribute__ ((format (printf, 2, 3))) s_put (s_out_t *out, const char *fmt, ...)
{
    if (out->full)
        return;
    va_list args;
    va_start (args, fmt);
    int n = vsnprintf (out->buf + out->len, out->size - out->len, fmt, args);
    va_end (args);
    if (n < 0 || (size_t) n >= out->size - out->len)
        out->full = true;
    else
        out->len += (size_t) n;
}

static void
s_gauge (s_out_t *out, const char *name, const char *help, double value)
{
    s_put (out, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help, name, name, value);
}

static void
s_counter (s_out_t *out, const char *name, const char *help, uint64_t value)
{
    s_put (out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
           (unsigned long long) value);
}

static void
s_histogram (s_out_t *out, const char *name, const char *help, const metrics_histogram_t *h)
{
    s_put (out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < METRICS_BUCKETS - 1; i++) {
        cumulative += h->counts [i];
        s_put (out, "%s_bucket{le=\"%g\"} %llu\n", name, s_bounds [i],
               (unsigned long long) cumulative);
    }
    s_put (out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.17g\n%s_count %llu\n", name,
           (unsigned long long) h->count, name, h->sum_s, name, (unsigned long long) h->count);
}

typedef enum { PEER_REACHABLE, PEER_MATCH, PEER_LAG, PEER_VOTER } s_peer_field_t;

/* One gauge series per peer (not this replica). */
static void
s_peers (s_out_t *out, const metrics_sample_t *s, const char *name, const char *help,
         s_peer_field_t field)
{
    s_put (out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
    for (uint32_t i = 0; i < s->n; i++) {
        const metrics_peer_t *peer = &s->peers [i];
        uint64_t value = field == PEER_REACHABLE ? peer->reachable
                         : field == PEER_MATCH   ? peer->match
                         : field == PEER_VOTER   ? peer->voter
                                                 : peer->lag;
        if (peer->id != s->id)
            s_put (out, "%s{peer=\"%u\"} %llu\n", name, peer->id, (unsigned long long) value);
    }
}

static void
s_render_raft (s_out_t *out, const metrics_sample_t *s)
{
    static const raft_role_t roles [] = { RAFT_FOLLOWER, RAFT_PRECANDIDATE, RAFT_CANDIDATE,
                                          RAFT_LEADER };
    s_put (out, "# HELP zchat_role 1 for the role this replica has now\n# TYPE zchat_role gauge\n");
    for (size_t i = 0; i < sizeof roles / sizeof roles [0]; i++)
        s_put (out, "zchat_role{role=\"%s\"} %d\n", raft_role_name (roles [i]),
               s->role == roles [i]);
    s_gauge (out, "zchat_replica_id", "this replica's id", s->id);
    s_gauge (out, "zchat_leader_id", "the leader this replica knows of (0: none)", s->leader);
    s_gauge (out, "zchat_term", "current Raft term", (double) s->term);
    s_gauge (out, "zchat_commit_index", "highest log index known committed", (double) s->commit);
    s_gauge (out, "zchat_applied_index", "highest log index applied to the chat state",
             (double) s->applied);
    s_gauge (out, "zchat_last_index", "last index in this replica's log", (double) s->last_index);
    s_peers (out, s, "zchat_peer_reachable", "1 when the peer's status was heard lately",
             PEER_REACHABLE);
    s_peers (out, s, "zchat_peer_voter", "1 for a voting member, 0 for a learner", PEER_VOTER);
    if (s->role != RAFT_LEADER)
        return;
    s_peers (out, s, "zchat_peer_match_index", "leader: the peer's durable log index", PEER_MATCH);
    s_peers (out, s, "zchat_peer_lag_entries", "leader: entries the peer lacks", PEER_LAG);
}

static void
s_render_refused (s_out_t *out, const metrics_sample_t *s)
{
    s_put (out, "# HELP zchat_requests_refused_total requests answered with an error, by code\n"
                "# TYPE zchat_requests_refused_total counter\n");
    for (int code = 1; code < ZC_CODE__COUNT; code++)
        if (s->refused [code])
            s_put (out, "zchat_requests_refused_total{code=\"%s\"} %llu\n", zc_code_name (code),
                   (unsigned long long) s->refused [code]);
}

size_t
metrics_render (const metrics_sample_t *s, char *buf, size_t size)
{
    s_out_t out = { buf, size, 0, size == 0 };
    s_render_raft (&out, s);
    s_counter (&out, "zchat_proposals_total", "entries this replica put into the log as leader",
               s->proposals);
    s_counter (&out, "zchat_commits_total", "entries this replica saw committed", s->commits);
    s_histogram (&out, "zchat_fsync_seconds", "time of one log fdatasync (one per batch)",
                 &s->fsync);
    s_histogram (&out, "zchat_commit_seconds", "leader: from proposing a request to applying it",
                 &s->commit_latency);
    s_gauge (&out, "zchat_sessions", "connected users (sessions) on this replica",
             (double) s->sessions);
    s_gauge (&out, "zchat_users", "users that exist", (double) s->users);
    s_gauge (&out, "zchat_queued_messages", "messages queued for their recipients",
             (double) s->queued);
    s_gauge (&out, "zchat_queued_bytes", "text bytes of the queued messages",
             (double) s->queued_bytes);
    s_gauge (&out, "zchat_snapshot_index", "log index of the newest snapshot (0: none)",
             (double) s->snapshot_index);
    s_gauge (&out, "zchat_snapshot_age_seconds",
             "since the newest snapshot was taken or installed (-1: none)", s->snapshot_age_s);
    s_gauge (&out, "zchat_snapshot_duration_seconds", "how long the newest snapshot took to write",
             s->snapshot_duration_s);
    s_render_refused (&out, s);
    s_counter (&out, "zchat_auth_failures_total", "wrong secrets given for a user",
               s->auth_failures);
    s_counter (&out, "zchat_auth_throttled_total", "login attempts refused by the throttle",
               s->auth_throttled);
    return out.full ? 0 : out.len;
}

/* ---- HTTP */

static enum MHD_Result
s_reply (struct MHD_Connection *connection, unsigned int status, char *body, size_t len)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (len, body, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (body);
        return MHD_NO;
    }
    MHD_add_response_header (response, "Content-Type",
                             status == MHD_HTTP_OK ? "text/plain; version=0.0.4; charset=utf-8"
                                                   : "text/plain; charset=utf-8");
    enum MHD_Result rc = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return rc;
}

static enum MHD_Result
s_text (struct MHD_Connection *connection, unsigned int status, const char *text)
{
    char *body = strdup (text);
    return body ? s_reply (connection, status, body, strlen (body)) : MHD_NO;
}

static enum MHD_Result
s_handle (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void) version;
    (void) upload_data;
    metrics_t *self = (metrics_t *) cls;
    if (*upload_data_size) {
        *upload_data_size = 0; /* a body is never wanted: drop it unread */
        return MHD_YES;
    }
    (void) con_cls;
    if (strcmp (method, "GET") && strcmp (method, "HEAD"))
        return s_text (connection, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics\n");
    if (strcmp (url, "/metrics"))
        return s_text (connection, MHD_HTTP_NOT_FOUND, "only GET /metrics\n");
    metrics_sample_t sample;
    pthread_mutex_lock (&self->lock);
    sample = self->sample;
    pthread_mutex_unlock (&self->lock);
    char *body = (char *) malloc (METRICS_BODY_MAX);
    size_t len = body ? metrics_render (&sample, body, METRICS_BODY_MAX) : 0;
    if (!len) {
        free (body);
        return s_text (connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render the metrics\n");
    }
    return s_reply (connection, MHD_HTTP_OK, body, len);
}

static int
s_parse_addr (const char *addr, struct sockaddr_in *sin, char *err, size_t err_len)
{
    const char *colon = strrchr (addr, ':');
    char *end;
    long port = colon ? strtol (colon + 1, &end, 10) : 0;
    if (!colon || colon [1] == 0 || *end || port < 1 || port > 65535) {
        snprintf (err, err_len, "metrics address '%s' is not HOST:PORT", addr);
        return -1;
    }
    char host [64];
    size_t host_len = (size_t) (colon - addr);
    if (host_len >= sizeof host) {
        snprintf (err, err_len, "metrics host in '%s' is too long", addr);
        return -1;
    }
    memcpy (host, addr, host_len);
    host [host_len] = 0;
    memset (sin, 0, sizeof *sin);
    sin->sin_family = AF_INET;
    sin->sin_port = htons ((uint16_t) port);
    if (!strcmp (host, "*") || !strcmp (host, "0.0.0.0"))
        sin->sin_addr.s_addr = htonl (INADDR_ANY);
    else if (!strcmp (host, "localhost"))
        sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    else if (inet_pton (AF_INET, host, &sin->sin_addr) != 1) {
        snprintf (err, err_len, "metrics host '%s' is not an IPv4 address, '*' or localhost", host);
        return -1;
    }
    return 0;
}

metrics_t *
metrics_new (const char *addr, char *err, size_t err_len)
{
    struct sockaddr_in sin;
    if (s_parse_addr (addr, &sin, err, err_len))
        return NULL;
    metrics_t *self = (metrics_t *) calloc (1, sizeof (metrics_t));
    if (!self) {
        snprintf (err, err_len, "out of memory");
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    self->sample.snapshot_age_s = -1;
    self->daemon = MHD_start_daemon (
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL, 0, NULL, NULL, s_handle, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sin, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int) METRICS_CONNECTIONS_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int) METRICS_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t) METRICS_REQUEST_MEMORY, MHD_OPTION_END);
    if (!self->daemon) {
        snprintf (err, err_len, "cannot listen for metrics on %s (in use, or not this host's)",
                  addr);
        metrics_destroy (&self);
        return NULL;
    }
    return self;
}

void
metrics_destroy (metrics_t **self_p)
{
    if (!*self_p)
        return;
    metrics_t *self = *self_p;
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

void
metrics_publish (metrics_t *self, const metrics_sample_t *sample)
{
    pthread_mutex_lock (&self->lock);
    self->sample = *sample;
    pthread_mutex_unlock (&self->lock);
}
