/*  workload.c - zchat-workload: K client threads drive a cluster with all five commands
    and write a history (one JSON line per event) for tests/fault/checker.py.

    Invariants the checker relies on:
    - Each thread has its own zcc_t and at most ONE request outstanding, so a client's
      operations are totally ordered in real time (invoke, then its completion, then the
      next invoke).
    - An invoke line's "t" is taken before zcc_submit, a completion's after zcc_poll
      returned it, a delivery's after zcc_poll returned the message: CLOCK_MONOTONIC ns,
      the same clock the fault schedule uses.
    - Texts are unique in a run ("w<client>-<counter>"), so a delivery names its send.
    - Receiver k (k < number of users) is the only client that ever connects as user k,
      so nobody else acks its messages: each (user, epoch) it sees starts at mseq 1.
    - Bounded: ops stop at --duration or --max-ops per client, the drain at --drain. */
#include <czmq.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include "zcc.h"
#include "json_out.h"
#include "zc_codes.h"

#define WL_STABLE_USERS 3 /* s0..s2: created once, never deleted */
#define WL_CHURN_USERS  2 /* c0..c1: created and deleted all the time */
#define WL_USERS        (WL_STABLE_USERS + WL_CHURN_USERS)
#define WL_MAX_CLIENTS  64
#define WL_POLL_MS      50

typedef struct {
    const char *servers;
    const char *out;
    uint32_t clients;
    uint32_t duration_s;
    uint32_t drain_s;
    uint32_t max_ops;
    uint32_t deadline_ms;
    uint64_t seed;
    bool status;
} wl_options_t;

typedef struct {
    uint32_t id;
    const wl_options_t *opt;
    zcc_t *zcc;
    json_out_t *line;
    uint64_t rng;
    const char *user; /* receiver: the user it stays connected as; else NULL */
    bool bound;
    int64_t connect_at_ms; /* next connect attempt while unbound */
    uint64_t op_id;
    uint64_t sends;
} wl_client_t;

static pthread_mutex_t s_out_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *s_out;
static _Atomic int64_t s_ops_end_ms;
static _Atomic int64_t s_drain_end_ms;
static atomic_uint s_running;
static const char *s_users [WL_USERS] = { "s0", "s1", "s2", "c0", "c1" };

static int64_t
s_mono_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
s_mono_ms (void)
{
    return s_mono_ns () / 1000000;
}

static uint32_t
s_rand (wl_client_t *self, uint32_t below)
{
    /* xorshift64*: reproducible per (seed, client) without shared state */
    self->rng ^= self->rng >> 12;
    self->rng ^= self->rng << 25;
    self->rng ^= self->rng >> 27;
    return (uint32_t) ((self->rng * 2685821657736338717ULL) >> 33) % below;
}

/* Start a history line: time and client id first. */
static void
s_line_begin (wl_client_t *self, const char *type, int64_t t_ns)
{
    json_out_reset (self->line);
    json_out_object_begin (self->line, NULL);
    json_out_int (self->line, "t", t_ns);
    json_out_uint (self->line, "c", self->id);
    json_out_cstr (self->line, "type", type);
}

static void
s_line_end (wl_client_t *self)
{
    json_out_object_end (self->line);
    pthread_mutex_lock (&s_out_lock);
    json_out_print_line (self->line, s_out);
    pthread_mutex_unlock (&s_out_lock);
}

static void
s_bytes (json_out_t *line, const char *key, zc_bytes_t b)
{
    json_out_str (line, key, b.ptr ? b.ptr : "", b.len);
}

/* Record a pushed message or a closed session; other events are not ours to log. */
static void
s_record_event (wl_client_t *self, zcc_event_type_t type, const zcc_event_t *ev)
{
    if (type == ZCC_EV_MESSAGE) {
        s_line_begin (self, "deliver", s_mono_ns ());
        s_bytes (self->line, "name", ev->frame.name);
        s_bytes (self->line, "from", ev->frame.from);
        json_out_uint (self->line, "epoch", ev->frame.epoch);
        json_out_uint (self->line, "mseq", ev->frame.mseq);
        s_bytes (self->line, "text", ev->frame.text);
        s_line_end (self);
    }
    else if (type == ZCC_EV_CLOSED) {
        s_line_begin (self, "closed", s_mono_ns ());
        s_bytes (self->line, "name", ev->frame.name);
        json_out_uint (self->line, "code", ev->code);
        s_line_end (self);
        self->bound = false;
        self->connect_at_ms = s_mono_ms () + 200;
    }
}

static const char *
s_op_name (zc_cmd_t cmd)
{
    switch (cmd) {
        case ZC_CMD_CREATE: return "create";
        case ZC_CMD_DELETE: return "delete";
        case ZC_CMD_CONNECT: return "connect";
        case ZC_CMD_LIST: return "list";
        default: return "send";
    }
}

static void
s_record_done (wl_client_t *self, zc_cmd_t cmd, const zcc_event_t *ev)
{
    const char *type = ev->code == ZC_OK ? "ok" : "done";
    s_line_begin (self, type, s_mono_ns ());
    json_out_uint (self->line, "id", self->op_id);
    json_out_cstr (self->line, "op", s_op_name (cmd));
    json_out_uint (self->line, "code", ev->code);
    json_out_cstr (self->line, "err", ev->code == ZC_OK ? "" : zc_code_name ((int) ev->code));
    if (ev->code == ZC_OK && (cmd == ZC_CMD_CREATE || cmd == ZC_CMD_CONNECT))
        json_out_uint (self->line, "epoch", ev->frame.epoch);
    if (ev->code == ZC_OK && cmd == ZC_CMD_CONNECT)
        json_out_uint (self->line, "mseq", ev->frame.mseq);
    if (ev->code == ZC_OK && cmd == ZC_CMD_LIST) {
        json_out_array_begin (self->line, "users");
        for (uint32_t i = 0; i < ev->n_users; i++)
            json_out_cstr (self->line, NULL, ev->users [i]);
        json_out_array_end (self->line);
    }
    s_line_end (self);
}

/* One operation: log the invoke, submit, poll (logging pushes) until its reply. */
#define WL_SECRET "workload secret"

static void
s_run_op (wl_client_t *self, zc_cmd_t cmd, const char *name, const char *text)
{
    self->op_id++;
    s_line_begin (self, "invoke", s_mono_ns ());
    json_out_uint (self->line, "id", self->op_id);
    json_out_cstr (self->line, "op", s_op_name (cmd));
    if (name)
        json_out_cstr (self->line, "name", name);
    if (text)
        json_out_cstr (self->line, cmd == ZC_CMD_LIST ? "pattern" : "text", text);
    s_line_end (self);
    /* every user of the workload shares one secret: credentials are on, as in
       production, and what is checked here is replication, not who knows what */
    uint64_t seq = zcc_submit_with (self->zcc, cmd, name, text, WL_SECRET, NULL);
    assert (seq); /* one request at a time never fills max_inflight */
    while (true) {
        zcc_event_t ev;
        zcc_event_type_t type = zcc_poll (self->zcc, WL_POLL_MS, -1, &ev);
        if (type == ZCC_EV_REPLY && ev.seq == seq) {
            s_record_done (self, cmd, &ev);
            if (cmd == ZC_CMD_CONNECT && ev.code == ZC_OK)
                self->bound = true;
            else if (cmd == ZC_CMD_CONNECT)
                self->connect_at_ms = s_mono_ms () + 300;
            return;
        }
        s_record_event (self, type, &ev);
    }
}

/* Poll for pushes until until_ms. */
static void
s_idle (wl_client_t *self, int64_t until_ms)
{
    int64_t now;
    while ((now = s_mono_ms ()) < until_ms) {
        int64_t left = until_ms - now;
        zcc_event_t ev;
        zcc_event_type_t type =
            zcc_poll (self->zcc, (int) (left < WL_POLL_MS ? left : WL_POLL_MS), -1, &ev);
        s_record_event (self, type, &ev);
    }
}

static const char *s_patterns [] = { NULL, "", "^s", "^c[01]$", "1$", "^(s0|c0)$" };

/* Mostly sends to stable users; creates/deletes churn c0, c1; lists all or some. */
static void
s_random_op (wl_client_t *self)
{
    uint32_t r = s_rand (self, 100);
    if (r < 72) {
        char text [64];
        snprintf (text, sizeof text, "w%u-%" PRIu64, self->id, ++self->sends);
        bool churn = s_rand (self, 100) < 25;
        const char *to = churn ? s_users [WL_STABLE_USERS + s_rand (self, WL_CHURN_USERS)]
                               : s_users [s_rand (self, WL_STABLE_USERS)];
        s_run_op (self, ZC_CMD_SEND, to, text);
    }
    else if (r < 84)
        s_run_op (self, ZC_CMD_LIST, NULL,
                  s_patterns [s_rand (self, sizeof s_patterns / sizeof s_patterns [0])]);
    else if (r < 93) {
        /* mostly churn users; a stable one now and then must fail with USER_EXISTS */
        bool stable = s_rand (self, 10) == 0;
        const char *name = stable ? s_users [s_rand (self, WL_STABLE_USERS)]
                                  : s_users [WL_STABLE_USERS + s_rand (self, WL_CHURN_USERS)];
        s_run_op (self, ZC_CMD_CREATE, name, NULL);
    }
    else
        s_run_op (self, ZC_CMD_DELETE, s_users [WL_STABLE_USERS + s_rand (self, WL_CHURN_USERS)],
                  NULL);
}

static void *
s_client_main (void *arg)
{
    wl_client_t *self = (wl_client_t *) arg;
    if (self->user)
        s_run_op (self, ZC_CMD_CREATE, self->user, NULL);
    uint32_t ops = 0;
    while (s_mono_ms () < s_ops_end_ms && ops < self->opt->max_ops) {
        if (self->user && !self->bound && s_mono_ms () >= self->connect_at_ms)
            s_run_op (self, ZC_CMD_CONNECT, self->user, NULL);
        else
            s_random_op (self);
        ops++;
        int64_t think = s_mono_ms () + 2 + s_rand (self, 20);
        s_idle (self, think < s_ops_end_ms ? think : s_ops_end_ms);
    }
    /* Receivers keep listening so that everything acknowledged can arrive. */
    if (self->user && !self->bound)
        s_run_op (self, ZC_CMD_CONNECT, self->user, NULL);
    s_idle (self, s_drain_end_ms);
    s_line_begin (self, "stop", s_mono_ns ());
    json_out_uint (self->line, "bound", self->bound);
    s_line_end (self);
    atomic_fetch_sub (&s_running, 1);
    return NULL;
}

static void
s_usage (void)
{
    fprintf (
        stderr,
        "usage: zchat-workload --servers LIST --out FILE [--clients K (8)] [--duration S (30)]\n"
        "         [--drain S (10)] [--seed N (1)] [--max-ops N per client (20000)]\n"
        "         [--deadline-ms MS (10000)]\n"
        "       zchat-workload --status --servers LIST   (print STATUS as one JSON line)\n"
        "History: one JSON line per invoke/ok/done/deliver/closed/stop/healed event;\n"
        "SIGUSR1 records a \"healed\" line (the fault schedule's final heal).\n");
}

static bool
s_parse_uint (const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull (s, &end, 10);
    if (errno || end == s || *end || v > max || s [0] == '-')
        return false;
    *out = v;
    return true;
}

static int
s_parse (int argc, char **argv, wl_options_t *o)
{
    *o = (wl_options_t) { .clients = 8,
                          .duration_s = 30,
                          .drain_s = 10,
                          .max_ops = 20000,
                          .deadline_ms = 10000,
                          .seed = 1 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv [i];
        const char *v = i + 1 < argc ? argv [i + 1] : NULL;
        uint64_t n = 0;
        if (!strcmp (a, "--status")) {
            o->status = true;
            continue;
        }
        if (!v) {
            s_usage ();
            return -1;
        }
        i++;
        if (!strcmp (a, "--servers"))
            o->servers = v;
        else if (!strcmp (a, "--out"))
            o->out = v;
        else if (!strcmp (a, "--seed") && s_parse_uint (v, UINT64_MAX, &n))
            o->seed = n;
        else if (!strcmp (a, "--clients") && s_parse_uint (v, WL_MAX_CLIENTS, &n) && n)
            o->clients = (uint32_t) n;
        else if (!strcmp (a, "--duration") && s_parse_uint (v, 86400, &n))
            o->duration_s = (uint32_t) n;
        else if (!strcmp (a, "--drain") && s_parse_uint (v, 3600, &n))
            o->drain_s = (uint32_t) n;
        else if (!strcmp (a, "--max-ops") && s_parse_uint (v, 10000000, &n))
            o->max_ops = (uint32_t) n;
        else if (!strcmp (a, "--deadline-ms") && s_parse_uint (v, 600000, &n) && n >= 100)
            o->deadline_ms = (uint32_t) n;
        else {
            fprintf (stderr, "zchat-workload: bad option %s %s\n", a, v);
            s_usage ();
            return -1;
        }
    }
    if (!o->servers || (!o->status && !o->out)) {
        s_usage ();
        return -1;
    }
    return 0;
}

/* --status: one STATUS request, printed as {"replicas":[...]} for run.sh. */
static int
s_status (const wl_options_t *opt)
{
    zcc_options_t zo;
    zcc_options_defaults (&zo);
    zo.servers = opt->servers;
    zo.request_timeout_ms = 500;
    zo.deadline_ms = 3000;
    zcc_t *zcc = zcc_new (&zo);
    if (!zcc)
        return 2;
    zcc_event_t ev;
    zc_code_t code = zcc_call (zcc, ZC_CMD_STATUS, NULL, NULL, &ev);
    int rc = 1;
    if (code == ZC_OK) {
        json_out_t *j = json_out_new ();
        json_out_object_begin (j, NULL);
        json_out_array_begin (j, "replicas");
        for (uint32_t i = 0; i < ev.frame.n_replicas; i++) {
            const zc_replica_status_t *r = &ev.frame.replicas [i];
            json_out_object_begin (j, NULL);
            json_out_uint (j, "id", r->id);
            json_out_cstr (j, "role", r->role);
            json_out_uint (j, "term", r->term);
            json_out_uint (j, "commit", r->commit);
            json_out_uint (j, "applied", r->applied);
            json_out_uint (j, "last", r->last_index);
            json_out_object_end (j);
        }
        json_out_array_end (j);
        json_out_object_end (j);
        json_out_print_line (j, stdout);
        json_out_destroy (&j);
        rc = 0;
    }
    else
        fprintf (stderr, "status: %s\n", zc_code_name ((int) code));
    zcc_destroy (&zcc);
    return rc;
}

static void
s_record_healed (void)
{
    json_out_t *j = json_out_new ();
    json_out_object_begin (j, NULL);
    json_out_int (j, "t", s_mono_ns ());
    json_out_cstr (j, "type", "healed");
    json_out_object_end (j);
    pthread_mutex_lock (&s_out_lock);
    json_out_print_line (j, s_out);
    fflush (s_out);
    pthread_mutex_unlock (&s_out_lock);
    json_out_destroy (&j);
}

static void
s_record_meta (const wl_options_t *opt)
{
    json_out_t *j = json_out_new ();
    json_out_object_begin (j, NULL);
    json_out_int (j, "t", s_mono_ns ());
    json_out_cstr (j, "type", "meta");
    json_out_uint (j, "seed", opt->seed);
    json_out_uint (j, "clients", opt->clients);
    json_out_array_begin (j, "users");
    for (int i = 0; i < WL_USERS; i++)
        json_out_cstr (j, NULL, s_users [i]);
    json_out_array_end (j);
    json_out_array_begin (j, "receivers");
    for (uint32_t i = 0; i < opt->clients && i < WL_USERS; i++)
        json_out_cstr (j, NULL, s_users [i]);
    json_out_array_end (j);
    json_out_object_end (j);
    json_out_print_line (j, s_out);
    json_out_destroy (&j);
}

static int
s_setup_client (wl_client_t *c, uint32_t id, const wl_options_t *opt)
{
    zcc_options_t zo;
    zcc_options_defaults (&zo);
    zo.servers = opt->servers;
    zo.deadline_ms = opt->deadline_ms;
    *c = (wl_client_t) { .id = id,
                         .opt = opt,
                         .rng = (opt->seed + 1) * 0x9E3779B97F4A7C15ULL + id * 7919 + 1,
                         .user = id < WL_USERS ? s_users [id] : NULL };
    c->zcc = zcc_new (&zo);
    c->line = json_out_new ();
    return c->zcc && c->line ? 0 : -1;
}

int
main (int argc, char **argv)
{
    wl_options_t opt;
    if (s_parse (argc, argv, &opt))
        return 2;
    if (opt.status)
        return s_status (&opt);
    s_out = fopen (opt.out, "w");
    if (!s_out) {
        fprintf (stderr, "zchat-workload: %s: %s\n", opt.out, strerror (errno));
        return 2;
    }
    /* Workers inherit a mask without SIGUSR1/TERM/INT; the main thread waits for them. */
    sigset_t sigs;
    sigemptyset (&sigs);
    sigaddset (&sigs, SIGUSR1);
    sigaddset (&sigs, SIGTERM);
    sigaddset (&sigs, SIGINT);
    pthread_sigmask (SIG_BLOCK, &sigs, NULL);
    s_record_meta (&opt);
    s_ops_end_ms = s_mono_ms () + (int64_t) opt.duration_s * 1000;
    s_drain_end_ms = s_ops_end_ms + (int64_t) opt.drain_s * 1000;
    static wl_client_t clients [WL_MAX_CLIENTS];
    pthread_t threads [WL_MAX_CLIENTS];
    int rc = 0;
    uint32_t started = 0;
    for (; started < opt.clients; started++) {
        if (s_setup_client (&clients [started], started, &opt)) {
            rc = 2;
            break;
        }
        atomic_fetch_add (&s_running, 1);
        if (pthread_create (&threads [started], NULL, s_client_main, &clients [started])) {
            atomic_fetch_sub (&s_running, 1);
            rc = 2;
            break;
        }
    }
    bool stop = rc != 0;
    while (atomic_load (&s_running) > 0 && !stop) {
        struct timespec wait = { 0, 100 * 1000000 };
        int sig = sigtimedwait (&sigs, NULL, &wait);
        if (sig == SIGUSR1)
            s_record_healed ();
        else if (sig == SIGTERM || sig == SIGINT)
            stop = true;
    }
    if (stop) { /* cut short: end the ops and the drain now */
        s_ops_end_ms = 0;
        s_drain_end_ms = 0;
        rc = rc ? rc : 1;
    }
    for (uint32_t i = 0; i < started; i++)
        pthread_join (threads [i], NULL);
    for (uint32_t i = 0; i < opt.clients; i++) {
        zcc_destroy (&clients [i].zcc);
        json_out_destroy (&clients [i].line);
    }
    fclose (s_out);
    return rc;
}
