/*  bench_report.c - turns a finished run into verdicts and prints them.

    Runs after every worker thread has been joined, so it reads the per-slot state
    without racing. Verdicts, per message slot: lost = acked but never delivered;
    duplicated = delivered more than once (counted by content, whatever the library
    dropped); reordered and phantom come from the receivers, which saw the order and
    the texts. The exit status is non-zero if any verdict or any error is non-zero. */
#include "bench.h"
#include "json_out.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    uint64_t sent, acked, failed;
    uint64_t delivered_unique;  /* slots delivered at least once */
    uint64_t delivered_unacked; /* delivered although the send failed or got no reply */
    uint64_t lost, duplicated, reordered, phantom, errors;
    double send_s, deliver_s; /* start -> last ack, start -> last delivery */
} tally_t;

static void
s_tally (const bench_t *bench, tally_t *t)
{
    for (uint32_t s = 0; s < bench->cfg.senders; s++) {
        uint64_t count = bench_sender_count (bench, s);
        for (uint64_t n = 0; n < count; n++) {
            uint64_t slot = s * bench->per_sender + n;
            unsigned state = atomic_load (&bench->state [slot]);
            unsigned seen = atomic_load (&bench->deliveries [slot]);
            t->sent += (state & MSG_SENT) ? 1 : 0;
            t->acked += (state & MSG_ACKED) ? 1 : 0;
            t->failed += (state & MSG_FAILED) ? 1 : 0;
            t->delivered_unique += seen > 0 ? 1 : 0;
            t->duplicated += seen > 1 ? seen - 1 : 0;
            t->lost += ((state & MSG_ACKED) && seen == 0) ? 1 : 0;
            t->delivered_unacked += (!(state & MSG_ACKED) && seen > 0) ? 1 : 0;
        }
    }
    t->reordered = atomic_load (&bench->counters.reordered);
    t->phantom = atomic_load (&bench->counters.phantom);
    t->errors = atomic_load (&bench->counters.errors) + bench->setup_errors;
    t->send_s = (double) (bench->sending_done_ns - bench->start_ns) / 1e9;
    t->deliver_s = bench->last_delivery_ns > bench->deliver_start_ns
                       ? (double) (bench->last_delivery_ns - bench->deliver_start_ns) / 1e9
                       : 0;
}

static double
s_per_s (uint64_t count, double seconds)
{
    return seconds > 0 ? (double) count / seconds : 0;
}

static double
s_ms (const histogram_t *h, double pct)
{
    return (double) histogram_percentile (h, pct) / 1e6;
}

/* The longest time between two consecutive acks, and when it ended. */
static double
s_max_gap_ms (const bench_t *bench)
{
    return (double) atomic_load (&bench->counters.max_ack_gap_ns) / 1e6;
}

static double
s_max_gap_at_s (const bench_t *bench)
{
    uint64_t end = atomic_load (&bench->counters.max_ack_gap_end_ns);
    return end > bench->start_ns ? (double) (end - bench->start_ns) / 1e9 : 0;
}

static double
s_cpu_pct (uint64_t from, uint64_t to, double seconds)
{
    return seconds > 0 && to >= from ? 100.0 * (double) (to - from) / bench_ticks_per_s () / seconds
                                     : 0;
}

/* RSS added per user and per session (KiB), from the samples of --watch-pids. */
static double
s_per (uint64_t before, uint64_t after, uint32_t count)
{
    return count && after > before ? (double) (after - before) / count : 0;
}

typedef struct {
    double per_session;       /* KiB: its user, its connection (made while creating the
                               user) and its CONNECT */
    double per_connect;       /* KiB: the CONNECT alone */
    double idle_cpu, run_cpu; /* % of one core */
} watch_figures_t;

static watch_figures_t
s_figures (const bench_t *bench, const bench_watch_t *w)
{
    double run_s = (double) (bench->end_ns - bench->start_ns) / 1e9;
    uint32_t sessions = bench->cfg.receivers;
    return (watch_figures_t) {
        .per_session = s_per (w->rss_kib_start, w->rss_kib_sessions, sessions),
        .per_connect = s_per (w->rss_kib_users, w->rss_kib_sessions, sessions),
        .idle_cpu = s_cpu_pct (w->ticks_idle_from, w->ticks_idle_to, bench->idle_measured_s),
        .run_cpu = s_cpu_pct (w->ticks_run_from, w->ticks_run_to, run_s)
    };
}

static void
s_text_watch (const bench_t *bench)
{
    for (uint32_t i = 0; i < bench->cfg.n_watch; i++) {
        const bench_watch_t *w = &bench->watch [i];
        watch_figures_t f = s_figures (bench, w);
        printf ("pid %-14d %s RSS %" PRIu64 " KiB at start, %" PRIu64 " with users, %" PRIu64
                " with sessions (%.2f KiB per session), %" PRIu64 " at end; CPU idle %.2f%%"
                " over %.1f s, run %.1f%%\n",
                w->pid, w->ok ? "" : "(unreadable)", w->rss_kib_start, w->rss_kib_users,
                w->rss_kib_sessions, f.per_session, w->rss_kib_end, f.idle_cpu,
                bench->idle_measured_s, f.run_cpu);
    }
}

static void
s_text_latency (const char *what, const histogram_t *h)
{
    printf ("%-18s n=%" PRIu64
            " mean %.3f  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms\n",
            what, histogram_count (h), histogram_mean (h) / 1e6, s_ms (h, 50), s_ms (h, 90),
            s_ms (h, 99), s_ms (h, 99.9), s_ms (h, 100));
}

static void
s_text (const bench_t *bench, const tally_t *t)
{
    const bench_config_t *c = &bench->cfg;
    double mb = (double) c->size / 1e6;
    printf ("zchat-bench: servers %s, %u senders, %u receivers, %" PRIu64 " messages of %u bytes,"
            " in flight %u per sender, rate %s,%s prefix %s\n",
            c->servers ? c->servers : "(default)", c->senders, c->receivers, c->messages, c->size,
            c->inflight, c->rate > 0 ? "open loop" : "closed loop",
            c->connect_late ? " receivers connect after the last ack," : "", c->prefix);
    if (bench_interrupted)
        printf ("interrupted        by a signal: sending stopped early, drain skipped\n");
    if (c->rate > 0)
        printf ("target rate        %.0f msgs/s (latency from the scheduled send time)\n", c->rate);
    printf ("acked              %" PRIu64 " in %.3f s: %.0f msgs/s, %.2f MB/s\n", t->acked,
            t->send_s, s_per_s (t->acked, t->send_s), s_per_s (t->acked, t->send_s) * mb);
    printf ("delivered          %" PRIu64 " in %.3f s: %.0f msgs/s, %.2f MB/s\n",
            t->delivered_unique, t->deliver_s, s_per_s (t->delivered_unique, t->deliver_s),
            s_per_s (t->delivered_unique, t->deliver_s) * mb);
    s_text_latency ("send->ack", bench->ack_hist);
    s_text_latency ("send->delivery", bench->deliver_hist);
    if (bench->login_hist) {
        printf ("logins             %" PRIu64 " ok, %" PRIu64 " failed\n",
                (uint64_t) atomic_load (&bench->counters.logins_ok),
                (uint64_t) atomic_load (&bench->counters.logins_failed));
        s_text_latency ("connect->reply", bench->login_hist);
    }
    s_text_watch (bench);
    printf ("longest ack gap    %.1f ms (ended %.2f s into the run)\n", s_max_gap_ms (bench),
            s_max_gap_at_s (bench));
    printf ("errors             %" PRIu64, t->errors);
    for (int code = 1; code < ZC_CODE__COUNT; code++) {
        uint64_t k = atomic_load (&bench->counters.error_codes [code]);
        if (k)
            printf (" %s=%" PRIu64, zc_code_name (code), k);
    }
    printf ("\nverification       sent %" PRIu64 " acked %" PRIu64 " failed %" PRIu64
            " lost %" PRIu64 " duplicated %" PRIu64 " reordered %" PRIu64 " phantom %" PRIu64
            " delivered-unacked %" PRIu64 "\n",
            t->sent, t->acked, t->failed, t->lost, t->duplicated, t->reordered, t->phantom,
            t->delivered_unacked);
}

static void
s_json_latency (json_out_t *out, const char *key, const histogram_t *h)
{
    json_out_object_begin (out, key);
    json_out_uint (out, "count", histogram_count (h));
    json_out_double (out, "mean", histogram_mean (h) / 1e3);
    json_out_double (out, "min", (double) histogram_min (h) / 1e3);
    json_out_double (out, "p50", s_ms (h, 50) * 1e3);
    json_out_double (out, "p90", s_ms (h, 90) * 1e3);
    json_out_double (out, "p99", s_ms (h, 99) * 1e3);
    json_out_double (out, "p99_9", s_ms (h, 99.9) * 1e3);
    json_out_double (out, "max", s_ms (h, 100) * 1e3);
    json_out_object_end (out);
}

static void
s_json_params (json_out_t *out, const bench_config_t *c)
{
    json_out_cstr (out, "servers", c->servers ? c->servers : "");
    json_out_cstr (out, "prefix", c->prefix);
    json_out_uint (out, "senders", c->senders);
    json_out_uint (out, "receivers", c->receivers);
    json_out_uint (out, "messages", c->messages);
    json_out_uint (out, "size", c->size);
    json_out_uint (out, "inflight", c->inflight);
    json_out_double (out, "rate", c->rate);
    json_out_double (out, "duration_s", c->duration_s);
    json_out_bool (out, "connect_late", c->connect_late);
    json_out_cstr (out, "scenario", c->scenario ? c->scenario : "");
    json_out_double (out, "rate_per_sender", c->rate_per_sender);
    json_out_uint (out, "threads", c->threads);
    json_out_double (out, "idle_s", c->idle_s);
}

static void
s_json_watch (json_out_t *out, const bench_t *bench)
{
    uint32_t sessions = bench->cfg.receivers;
    json_out_uint (out, "sessions", sessions);
    json_out_double (out, "bench_rss_kib_per_session",
                     s_per (bench->bench_rss_kib_start, bench->bench_rss_kib_sessions, sessions));
    json_out_array_begin (out, "watch");
    for (uint32_t i = 0; i < bench->cfg.n_watch; i++) {
        const bench_watch_t *w = &bench->watch [i];
        json_out_object_begin (out, NULL);
        json_out_int (out, "pid", w->pid);
        json_out_bool (out, "ok", w->ok);
        json_out_uint (out, "rss_kib_start", w->rss_kib_start);
        json_out_uint (out, "rss_kib_users", w->rss_kib_users);
        json_out_uint (out, "rss_kib_sessions", w->rss_kib_sessions);
        json_out_uint (out, "rss_kib_end", w->rss_kib_end);
        watch_figures_t f = s_figures (bench, w);
        json_out_double (out, "rss_kib_per_session", f.per_session);
        json_out_double (out, "rss_kib_per_connect", f.per_connect);
        json_out_double (out, "idle_s", bench->idle_measured_s);
        json_out_double (out, "idle_cpu_pct", f.idle_cpu);
        json_out_double (out, "run_cpu_pct", f.run_cpu);
        json_out_object_end (out);
    }
    json_out_array_end (out);
}

/* One object on one line; latencies in microseconds. */
static void
s_json (const bench_t *bench, const tally_t *t)
{
    const bench_config_t *c = &bench->cfg;
    json_out_t *out = json_out_new ();
    if (!out) {
        fprintf (stderr, "zchat-bench: out of memory for the JSON summary\n");
        return;
    }
    json_out_object_begin (out, NULL);
    s_json_params (out, c);
    json_out_uint (out, "sent", t->sent);
    json_out_uint (out, "acked", t->acked);
    json_out_uint (out, "failed", t->failed);
    json_out_uint (out, "delivered", t->delivered_unique);
    json_out_double (out, "send_seconds", t->send_s);
    json_out_double (out, "deliver_seconds", t->deliver_s);
    json_out_double (out, "acked_per_s", s_per_s (t->acked, t->send_s));
    json_out_double (out, "acked_mb_per_s", s_per_s (t->acked, t->send_s) * c->size / 1e6);
    json_out_double (out, "delivered_per_s", s_per_s (t->delivered_unique, t->deliver_s));
    json_out_double (out, "delivered_mb_per_s",
                     s_per_s (t->delivered_unique, t->deliver_s) * c->size / 1e6);
    s_json_latency (out, "ack_latency_us", bench->ack_hist);
    s_json_latency (out, "delivery_latency_us", bench->deliver_hist);
    if (bench->login_hist) {
        json_out_uint (out, "logins_ok", atomic_load (&bench->counters.logins_ok));
        json_out_uint (out, "logins_failed", atomic_load (&bench->counters.logins_failed));
        s_json_latency (out, "login_latency_us", bench->login_hist);
    }
    s_json_watch (out, bench);
    json_out_double (out, "max_ack_gap_ms", s_max_gap_ms (bench));
    json_out_double (out, "max_ack_gap_at_s", s_max_gap_at_s (bench));
    json_out_uint (out, "errors", t->errors);
    json_out_object_begin (out, "error_codes");
    for (int code = 1; code < ZC_CODE__COUNT; code++) {
        uint64_t k = atomic_load (&bench->counters.error_codes [code]);
        if (k)
            json_out_uint (out, zc_code_name (code), k);
    }
    json_out_object_end (out);
    json_out_uint (out, "lost", t->lost);
    json_out_uint (out, "duplicated", t->duplicated);
    json_out_uint (out, "reordered", t->reordered);
    json_out_uint (out, "phantom", t->phantom);
    json_out_uint (out, "delivered_unacked", t->delivered_unacked);
    json_out_bool (out, "interrupted", bench_interrupted != 0);
    json_out_bool (out, "ok", !(t->lost | t->duplicated | t->reordered | t->phantom | t->errors));
    json_out_object_end (out);
    json_out_print_line (out, stdout);
    json_out_destroy (&out);
}

/* --hgrm BASE: one .hgrm file per distribution. */
static int
s_hgrm (const bench_t *bench)
{
    const struct {
        const char *what;
        const histogram_t *h;
    } dists [] = { { "ack", bench->ack_hist },
                   { "delivery", bench->deliver_hist },
                   { "login", bench->login_hist } };
    int rc = 0;
    for (size_t i = 0; i < sizeof dists / sizeof dists [0]; i++) {
        if (!dists [i].h)
            continue;
        char path [4096];
        snprintf (path, sizeof path, "%s-%s.hgrm", bench->cfg.hgrm, dists [i].what);
        FILE *f = fopen (path, "w");
        if (!f || histogram_write_hgrm (dists [i].h, f, 1e6) != 0) {
            fprintf (stderr, "zchat-bench: cannot write %s\n", path);
            rc = -1;
        }
        if (f && fclose (f) != 0)
            rc = -1;
    }
    return rc;
}

int
bench_report (const bench_t *bench)
{
    tally_t t = { 0 };
    s_tally (bench, &t);
    if (bench->cfg.hgrm && s_hgrm (bench) != 0)
        t.errors++;
    if (bench->cfg.json)
        s_json (bench, &t);
    else
        s_text (bench, &t);
    fflush (stdout);
    return (t.lost | t.duplicated | t.reordered | t.phantom | t.errors) ? 1 : 0;
}
