/*  bench_run.c - drives a run: receiver groups create and connect their users, an
    optional idle window with every session connected, sender groups send, then the
    drain and the clean-up. Many clients share a thread (bench_group.h): thousands of
    sessions cost a handful of threads, and a group blocks in zcc_poll whenever at
    most one of its clients expects anything, so an idle session costs nothing but
    the library's PINGs.

    Every phase is bounded: setup by the library's request deadline (each CREATE or
    CONNECT times out) and a run-wide deadline, sending by --messages and --duration,
    the drain by --drain. */
#include "bench_group.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define SETUP_DEADLINE_S 60.0 /* plus SETUP_PER_USER_S per receiver */
#define SETUP_PER_USER_S 0.05

typedef struct {
    bench_group_t **groups;
    uint32_t n;
} s_role_t;

uint64_t
bench_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

uint64_t
bench_sender_count (const bench_t *bench, uint32_t sender)
{
    uint64_t n = bench->cfg.messages, s = bench->cfg.senders;
    return n / s + (sender < n % s ? 1 : 0);
}

static void
s_sleep_ns (uint64_t ns)
{
    struct timespec ts = { .tv_sec = (time_t) (ns / 1000000000ull),
                           .tv_nsec = (long) (ns % 1000000000ull) };
    nanosleep (&ts, NULL);
}

/* The receivers' secret: given, or made up for this run (they are deleted after). */
static void
s_secret_init (bench_t *bench)
{
    const char *given = getenv ("ZCHAT_PASSWORD");
    if (given && *given && strlen (given) < sizeof bench->secret) {
        snprintf (bench->secret, sizeof bench->secret, "%s", given);
        return;
    }
    uint8_t raw [16];
    if (getrandom (raw, sizeof raw, 0) != (ssize_t) sizeof raw)
        for (size_t i = 0; i < sizeof raw; i++)
            raw [i] = (uint8_t) (bench_now_ns () >> (i % 8));
    for (size_t i = 0; i < sizeof raw; i++)
        sprintf (bench->secret + 2 * i, "%02x", raw [i]);
}

/* Explicit, distinct client ids: many clients in one process must never share one,
   or the cluster's exactly-once table would merge their requests. */
static uint64_t
s_random_base (void)
{
    uint64_t base = 0;
    if (getrandom (&base, sizeof base, 0) != (ssize_t) sizeof base)
        base = bench_now_ns () ^ ((uint64_t) getpid () << 40);
    return (base & ~0xffffull) | 0x10000ull; /* low 16 bits: client index */
}

/* Splits count clients into at most cfg.threads groups of consecutive ids. */
static int
s_role_new (bench_t *bench, s_role_t *role, bool senders, uint32_t count, uint64_t base)
{
    uint32_t threads = bench->cfg.threads < count ? bench->cfg.threads : count;
    role->groups = calloc (threads, sizeof *role->groups);
    if (!role->groups)
        return -1;
    uint32_t per = count / threads, extra = count % threads, first = 0;
    for (uint32_t t = 0; t < threads; t++) {
        uint32_t n = per + (t < extra ? 1 : 0);
        role->groups [t] = bench_group_new (bench, senders, first, n, base);
        if (!role->groups [t]) {
            fprintf (stderr, "zchat-bench: cannot make %u clients (sockets or memory)\n", n);
            return -1;
        }
        role->n = t + 1;
        if (!senders)
            for (uint32_t i = 0; i < n; i++)
                bench->recv_groups [first + i] = role->groups [t];
        first += n;
    }
    return 0;
}

/* One LIST (of nothing) per sender before the clock starts: the library connects to
   the first server and follows NOT_LEADER to the leader, and a CURVE handshake and a
   redirect should not be counted in the first SEND's latency. */
static void
s_warm (s_role_t *role)
{
    for (uint32_t t = 0; t < role->n; t++)
        for (uint32_t i = 0; i < role->groups [t]->n; i++) {
            zcc_event_t ev;
            zc_code_t code =
                zcc_call (role->groups [t]->clients [i].zcc, ZC_CMD_LIST, NULL, "^$", &ev);
            if (code != ZC_OK)
                fprintf (stderr, "zchat-bench: warm-up LIST failed: %s %s\n", zc_code_name (code),
                         ev.error ? ev.error : "");
        }
}

static int
s_role_start (bench_t *bench, s_role_t *role, void *(*fn) (void *) )
{
    for (uint32_t t = 0; t < role->n; t++) {
        bench_group_t *g = role->groups [t];
        g->next_sweep_ns = bench_now_ns () + BENCH_SWEEP_NS;
        if (pthread_create (&g->thread, NULL, fn, g) != 0) {
            fprintf (stderr, "zchat-bench: cannot start a thread\n");
            atomic_store (&bench->stop_sending, true);
            atomic_store (&bench->stop_receiving, true);
            return -1;
        }
        g->started = true;
    }
    return 0;
}

static void
s_role_ring (s_role_t *role)
{
    for (uint32_t t = 0; t < role->n; t++)
        bench_group_ring_always (role->groups [t]);
}

static void
s_role_join (s_role_t *role)
{
    for (uint32_t t = 0; t < role->n; t++)
        if (role->groups [t]->started) {
            pthread_join (role->groups [t]->thread, NULL);
            role->groups [t]->started = false;
        }
}

static bool
s_role_done (const s_role_t *role)
{
    for (uint32_t t = 0; t < role->n; t++)
        if (!atomic_load (&role->groups [t]->done))
            return false;
    return true;
}

/* Merges the histograms into hist and destroys the groups (and their clients). */
static void
s_role_finish (bench_t *bench, s_role_t *role, histogram_t *hist)
{
    for (uint32_t t = 0; t < role->n; t++) {
        bench_group_t *g = role->groups [t];
        histogram_merge (hist, g->hist);
        if (g->last_delivery_ns > bench->last_delivery_ns)
            bench->last_delivery_ns = g->last_delivery_ns;
        bench_group_destroy (&role->groups [t]);
    }
    free (role->groups);
    role->groups = NULL;
    role->n = 0;
}

static uint32_t
s_count (const s_role_t *role, bool connected)
{
    uint32_t sum = 0;
    for (uint32_t t = 0; t < role->n; t++)
        sum += (uint32_t) atomic_load (connected ? &role->groups [t]->connected
                                                 : &role->groups [t]->created);
    return sum;
}

static void
s_progress (const bench_t *bench, uint64_t now, uint64_t *last_acked)
{
    const bench_counters_t *c = &bench->counters;
    uint64_t acked = atomic_load (&c->acked);
    fprintf (stderr,
             "zchat-bench: %6.1fs sent %" PRIu64 " acked %" PRIu64 " delivered %" PRIu64
             " errors %" PRIu64 " rate %" PRIu64 "/s\n",
             (double) (now - bench->start_ns) / 1e9, (uint64_t) atomic_load (&c->sent), acked,
             (uint64_t) atomic_load (&c->delivered), (uint64_t) atomic_load (&c->errors),
             acked - *last_acked);
    *last_acked = acked;
}

/* Waits until every receiver is created (connected), one fails, or the deadline. */
static int
s_wait_setup (bench_t *bench, const s_role_t *receivers, bool connected)
{
    uint32_t want = bench->cfg.receivers;
    uint64_t start = bench_now_ns ();
    uint64_t deadline = start + (uint64_t) ((SETUP_DEADLINE_S + SETUP_PER_USER_S * want) * 1e9);
    uint64_t next_progress = start + 1000000000ull;
    while (true) {
        uint32_t done = s_count (receivers, connected);
        if (done == want)
            return 0;
        uint64_t now = bench_now_ns ();
        if (atomic_load (&bench->setup_failed) || bench_interrupted || now >= deadline) {
            if (now >= deadline)
                fprintf (stderr, "zchat-bench: only %u of %u receivers %s in %.0f s\n", done, want,
                         connected ? "connected" : "created", (double) (now - start) / 1e9);
            return -1;
        }
        if (now >= next_progress) {
            fprintf (stderr, "zchat-bench: %s %u of %u receivers\n",
                     connected ? "connected" : "created", done, want);
            next_progress += 1000000000ull;
        }
        s_sleep_ns (5000000ull);
    }
}

/* ---- /proc samples ---------------------------------------------------- */

typedef enum {
    AT_START,
    AT_USERS,
    AT_SESSIONS,
    AT_IDLE_FROM,
    AT_IDLE_TO,
    AT_RUN_FROM,
    AT_END
} s_moment_t;

static void
s_watch (bench_t *bench, s_moment_t at)
{
    for (uint32_t i = 0; i < bench->cfg.n_watch; i++) {
        bench_watch_t *w = &bench->watch [i];
        int pid = bench->cfg.watch_pids [i];
        w->pid = pid;
        if (at == AT_START)
            w->ok = true;
        uint64_t rss = at <= AT_SESSIONS || at == AT_END ? bench_rss_kib (pid) : 1;
        uint64_t ticks = at >= AT_IDLE_FROM ? bench_cpu_ticks (pid) : 1;
        if (rss == 0 || ticks == 0)
            w->ok = false;
        switch (at) {
            case AT_START: w->rss_kib_start = rss; break;
            case AT_USERS: w->rss_kib_users = rss; break;
            case AT_SESSIONS: w->rss_kib_sessions = rss; break;
            case AT_IDLE_FROM: w->ticks_idle_from = ticks; break;
            case AT_IDLE_TO: w->ticks_idle_to = ticks; break;
            case AT_RUN_FROM: w->ticks_run_from = ticks; break;
            case AT_END:
                w->ticks_run_to = ticks;
                w->rss_kib_end = rss;
                break;
        }
    }
    if (at == AT_START)
        bench->bench_rss_kib_start = bench_rss_kib (getpid ());
    if (at == AT_SESSIONS)
        bench->bench_rss_kib_sessions = bench_rss_kib (getpid ());
}

/* --idle: every session connected, nothing sent, for idle_s; CPU of the watched
   processes over exactly that window. --go-file: the window lasts until that file
   exists (at most idle_s), so that several bench processes start sending together. */
static void
s_idle (bench_t *bench)
{
    const char *go = bench->cfg.go_file;
    if (bench->cfg.idle_s <= 0)
        return;
    if (go)
        fprintf (stderr,
                 "zchat-bench: %u sessions connected, idle until %s exists (at most %.1f s)\n",
                 bench->cfg.receivers, go, bench->cfg.idle_s);
    else
        fprintf (stderr, "zchat-bench: %u sessions connected, idle for %.1f s\n",
                 bench->cfg.receivers, bench->cfg.idle_s);
    uint64_t from = bench_now_ns ();
    uint64_t until = from + (uint64_t) (bench->cfg.idle_s * 1e9);
    s_watch (bench, AT_IDLE_FROM);
    while (bench_now_ns () < until && !bench_interrupted && !(go && access (go, F_OK) == 0))
        s_sleep_ns (20000000ull);
    s_watch (bench, AT_IDLE_TO);
    bench->idle_measured_s = (double) (bench_now_ns () - from) / 1e9;
}

/* ---- sending and draining --------------------------------------------- */

/* Waits for every sender, stopping them at --duration, printing progress each second. */
static void
s_wait_senders (bench_t *bench, const s_role_t *senders)
{
    uint64_t next_progress = bench->start_ns + 1000000000ull, last_acked = 0;
    uint64_t stop_at = bench->cfg.duration_s > 0
                           ? bench->start_ns + (uint64_t) (bench->cfg.duration_s * 1e9)
                           : UINT64_MAX;
    while (!s_role_done (senders)) {
        uint64_t now = bench_now_ns ();
        if (now >= stop_at || bench_interrupted)
            atomic_store (&bench->stop_sending, true);
        if (now >= next_progress) {
            s_progress (bench, now, &last_acked);
            next_progress += 1000000000ull;
        }
        s_sleep_ns (10000000ull);
    }
}

/* Waits until every acked message has been delivered, or drain_s after the last ack.
   The cursor only moves forward: once senders are joined an acked slot only ever
   changes by being delivered. */
static void
s_drain (bench_t *bench)
{
    uint64_t from = bench->sending_done_ns > bench->deliver_start_ns ? bench->sending_done_ns
                                                                     : bench->deliver_start_ns;
    uint64_t deadline = from + (uint64_t) (bench->cfg.drain_s * 1e9);
    uint64_t next_progress = bench_now_ns () + 1000000000ull, last_acked = 0;
    uint32_t s = 0;
    uint64_t n = 0;
    while (s < bench->cfg.senders) {
        uint64_t slot = s * bench->per_sender + n;
        if (n >= bench_sender_count (bench, s)) {
            s++;
            n = 0;
        }
        else if (!(atomic_load (&bench->state [slot]) & MSG_ACKED)
                 || atomic_load (&bench->deliveries [slot]) > 0)
            n++;
        else {
            uint64_t now = bench_now_ns ();
            if (now >= deadline || bench_interrupted)
                return;
            if (now >= next_progress) {
                last_acked = atomic_load (&bench->counters.acked);
                s_progress (bench, now, &last_acked);
                next_progress += 1000000000ull;
            }
            s_sleep_ns (2000000ull);
        }
    }
}

/* Senders from the first send to the last reply; then, if late, the receivers connect. */
static int
s_send_phase (bench_t *bench, s_role_t *senders, s_role_t *receivers)
{
    int rc = -1;
    bench->start_ns = bench->deliver_start_ns = bench_now_ns ();
    s_watch (bench, AT_RUN_FROM);
    if (bench_logins_start (bench) == 0 && s_role_start (bench, senders, bench_sender_main) == 0) {
        s_wait_senders (bench, senders);
        rc = 0;
    }
    s_role_join (senders);
    bench_logins_stop (bench);
    bench->sending_done_ns = bench_now_ns ();
    if (rc == 0 && bench->cfg.connect_late && !bench_interrupted) {
        bench->deliver_start_ns = bench_now_ns ();
        atomic_store (&bench->go_connect, true);
        s_role_ring (receivers);
        if (s_wait_setup (bench, receivers, true) != 0) {
            bench->setup_errors++;
            rc = -1;
        }
    }
    return rc;
}

static int
s_setup_phase (bench_t *bench, s_role_t *receivers)
{
    if (s_role_start (bench, receivers, bench_receiver_main) != 0
        || s_wait_setup (bench, receivers, false) != 0)
        return -1;
    s_watch (bench, AT_USERS);
    if (bench->cfg.connect_late)
        return 0;
    atomic_store (&bench->go_connect, true);
    s_role_ring (receivers);
    if (s_wait_setup (bench, receivers, true) != 0)
        return -1;
    s_watch (bench, AT_SESSIONS);
    s_idle (bench);
    return 0;
}

static void
s_leave (bench_t *bench, s_role_t *receivers)
{
    /* Best effort: leave the cluster clean, unless it is not serving (each DELETE
       would wait out a full deadline) or the user asked to stop. */
    atomic_store (&bench->cleanup,
                  !bench_interrupted
                      && atomic_load (&bench->counters.error_codes [ZC_ERR_TIMEOUT]) == 0
                      && atomic_load (&bench->counters.error_codes [ZC_ERR_UNAVAILABLE]) == 0);
    atomic_store (&bench->stop_sending, true);
    atomic_store (&bench->stop_receiving, true);
    s_role_ring (receivers);
    s_role_join (receivers);
}

int
bench_run (bench_t *bench)
{
    const bench_config_t *cfg = &bench->cfg;
    s_role_t senders = { 0 }, receivers = { 0 };
    uint64_t base = s_random_base ();
    s_secret_init (bench);
    s_watch (bench, AT_START);
    int rc = -1;
    bench->expect = calloc (cfg->receivers, sizeof *bench->expect);
    bench->recv_groups = calloc (cfg->receivers, sizeof *bench->recv_groups);
    /* Senders connect only after the idle window, so that it and the RSS per session
       see the receivers' sessions alone. */
    if (bench->expect && bench->recv_groups
        && s_role_new (bench, &receivers, false, cfg->receivers, base) == 0
        && s_setup_phase (bench, &receivers) == 0
        && s_role_new (bench, &senders, true, cfg->senders, base) == 0) {
        s_warm (&senders);
        rc = s_send_phase (bench, &senders, &receivers);
    }
    if (rc == 0)
        s_drain (bench);
    bench->end_ns = bench_now_ns ();
    s_watch (bench, AT_END);
    s_leave (bench, &receivers);
    s_role_join (&senders);
    s_role_finish (bench, &senders, bench->ack_hist);
    s_role_finish (bench, &receivers, bench->deliver_hist);
    free (bench->expect);
    free (bench->recv_groups);
    bench->expect = NULL;
    bench->recv_groups = NULL;
    return rc;
}
