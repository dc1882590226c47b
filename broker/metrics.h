/*  metrics.h - a Prometheus text endpoint (GET /metrics), served by libmicrohttpd on a
    thread of its own so that a slow scraper never touches the event loop.

    The loop fills a metrics_sample_t (plain numbers) and publishes it every few
    hundred ms; the HTTP thread renders the newest one. The server is bounded: a few
    connections at once, small requests, short timeouts. */
#ifndef METRICS_H
#define METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "raft.h"
#include "zc_codes.h"

#define METRICS_BUCKETS 14 /* 100 us .. 1 s, then +Inf */

/* A latency histogram, cumulative over the replica's life. */
typedef struct {
    uint64_t counts [METRICS_BUCKETS]; /* not cumulative: counts [i] in bucket i */
    uint64_t count;
    double sum_s;
} metrics_histogram_t;

void metrics_observe (metrics_histogram_t *h, double seconds);

typedef struct {
    uint32_t id;
    bool reachable;
    uint64_t match; /* leader only: the peer's durable index */
    uint64_t lag;   /* leader only: last index - match */
    bool voter;     /* false: a learner catching up (or not a member) */
} metrics_peer_t;

typedef struct {
    uint32_t id, n;
    raft_role_t role;
    uint32_t leader;
    uint64_t term, commit, applied, last_index;
    metrics_peer_t peers [RAFT_MAX_NODES];
    uint64_t proposals, commits; /* counters */
    metrics_histogram_t fsync, commit_latency;
    uint64_t sessions, users, queued, queued_bytes;
    uint64_t snapshot_index;
    double snapshot_age_s; /* < 0: none taken or installed yet */
    double snapshot_duration_s;
    uint64_t refused [ZC_CODE__COUNT]; /* requests answered with an error, by code */
    uint64_t auth_failures, auth_throttled;
} metrics_sample_t;

typedef struct metrics metrics_t;

/* Listen on addr ("HOST:PORT"; HOST may be "*" or an IPv4 address). NULL with a
   reason in err when it cannot. */
metrics_t *metrics_new (const char *addr, char *err, size_t err_len);
void metrics_destroy (metrics_t **self_p);

/* Make sample the one scrapes see (copied). */
void metrics_publish (metrics_t *self, const metrics_sample_t *sample);

/* Render sample in the Prometheus text format into buf. Returns the length, or 0
   when buf is too small. */
size_t metrics_render (const metrics_sample_t *sample, char *buf, size_t size);

#endif
