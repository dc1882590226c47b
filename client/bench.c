/*  bench.c - zchat-bench: options, allocation of the run state, exit status.

    Every option is range-checked before anything touches the network, so a bad
    command line changes nothing on the cluster. Exit: 0 = all acked messages arrived
    exactly once in order with no errors; 1 = a verdict or an error is non-zero;
    2 = bad usage or the run could not be set up. */
#include "bench.h"

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t bench_interrupted;

/* SA_RESETHAND: a second signal kills the bench at once. */
static void
s_on_signal (int signal)
{
    (void) signal;
    bench_interrupted = 1;
}

static void
s_catch_signals (void)
{
    struct sigaction action = { .sa_handler = s_on_signal, .sa_flags = SA_RESETHAND };
    sigemptyset (&action.sa_mask);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
}

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: zchat-bench [--servers HOST:PORT,...] [--senders S] [--receivers R]\n"
             "                   [--messages N] [--size BYTES] [--inflight F] [--rate MSGS_PER_S]\n"
             "                   [--duration SECONDS] [--drain SECONDS] [--connect-late] [--json]\n"
             "                   [--logins PER_S] [--rate-per-sender R] [--idle SECONDS]\n"
             "                   [--threads T] [--setup-window W] [--watch-pids PID,...]\n"
             "                   [--hgrm BASE] [--scenario NAME] [--prefix NAME]\n"
             "                   [--ping-ms MS] [--heartbeat-ms MS] [--go-file PATH]\n"
             "Sends N messages (default 10000) from S senders (default 2) round-robin to R\n"
             "receivers (default 2), at most F in flight per sender (default 32; 1 = one at a\n"
             "time), each text BYTES long (default 100, at most %d). --rate makes it open loop:\n"
             "latency is measured from each message's scheduled send time. --duration stops\n"
             "sending after that many seconds. Reports throughput, send->ack and send->delivery\n"
             "latency percentiles, errors by code, and verifies that every acked message was\n"
             "delivered exactly once in per-sender order (lost/duplicated/reordered/phantom).\n"
             "--logins PER_S: meanwhile, CONNECT with the right secret that often (each costs the\n"
             "leader an Argon2id check off its event loop), to see what it does to the sends.\n"
             "--connect-late: receivers connect only once every send is answered, so sending is\n"
             "measured alone (like a publisher with no consumer) and then the backlog is\n"
             "delivered and verified; send->delivery then includes the time spent queued.\n"
             "--rate-per-sender R: open loop at R msgs/s per sender (--rate R*S).\n"
             "--idle SECONDS: once every receiver is connected, wait that long before sending;\n"
             "with --watch-pids, CPU of those processes over that window (and RSS before the\n"
             "users, after them, after the sessions, at the end) goes into the summary.\n"
             "--threads T: at most T threads per role (default 16); clients share them.\n"
             "--setup-window W: CREATE/CONNECT/DELETE outstanding per thread (default 4).\n"
             "--go-file PATH: with --idle, the idle window ends as soon as PATH exists (so\n"
             "that several bench processes send together; scripts/chat-scale.sh --procs).\n"
             "--ping-ms MS, --heartbeat-ms MS: each client's idle PING interval (default\n"
             "5000) and ZeroMQ heartbeats (default none); PROTOCOL.md 7.5.\n"
             "--hgrm BASE: write BASE-ack.hgrm and BASE-delivery.hgrm (HdrHistogram percentile\n"
             "distributions, values in ms). --scenario NAME: a label for the summary.\n"
             "Receivers are users PREFIX-rK (default prefix from pid and time), deleted after.\n"
             "--servers defaults to $ZCHAT_SERVERS, then the library's default cluster.\n"
             "Exit status: 0 all verified, 1 a verdict or error is non-zero, 2 usage/setup.\n",
             ZC_TEXT_MAX);
}

static bool
s_parse_u64 (const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull (text, &end, 10);
    if (errno || end == text || *end || text [0] == '-' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool
s_parse_double (const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod (text, &end);
    if (errno || end == text || *end || !(v >= 0) || v > 1e9)
        return false;
    *out = v;
    return true;
}

static bool
s_prefix_valid (const char *prefix)
{
    size_t len = strlen (prefix);
    if (len == 0 || len > BENCH_PREFIX_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = prefix [i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
              || c == '.' || c == '-'))
            return false;
    }
    return true;
}

static bool
s_parse_pids (bench_config_t *cfg, const char *arg)
{
    cfg->n_watch = 0;
    const char *p = arg;
    while (*p) {
        char *end;
        errno = 0;
        long pid = strtol (p, &end, 10);
        if (errno || end == p || pid <= 0 || pid > 4194304 || cfg->n_watch == BENCH_MAX_WATCH
            || (*end && *end != ','))
            return false;
        cfg->watch_pids [cfg->n_watch++] = (int) pid;
        p = *end ? end + 1 : end;
    }
    return cfg->n_watch > 0;
}

static bool
s_option (bench_config_t *cfg, int opt, const char *arg, bool *messages_set)
{
    uint64_t v = 0;
    switch (opt) {
        case 's': cfg->servers = arg; return true;
        case 'P': cfg->scenario = arg; return true;
        case 'H': cfg->hgrm = arg; return true;
        case 'G': cfg->go_file = arg; return true;
        case 'I': return s_parse_double (arg, &cfg->idle_s);
        case 'E': return s_parse_double (arg, &cfg->rate_per_sender);
        case 'T':
            if (!s_parse_u64 (arg, 1, BENCH_MAX_THREADS, &v))
                return false;
            cfg->threads = (uint32_t) v;
            return true;
        case 'W':
            if (!s_parse_u64 (arg, 1, 64, &v))
                return false;
            cfg->setup_window = (uint32_t) v;
            return true;
        case 'w': return s_parse_pids (cfg, arg);
        case 'g':
        case 'b':
            if (!s_parse_u64 (arg, 100, 600000, &v))
                return false;
            *(opt == 'g' ? &cfg->ping_ms : &cfg->heartbeat_ms) = (uint32_t) v;
            return true;
        case 'S':
            if (!s_parse_u64 (arg, 1, BENCH_MAX_CLIENTS - 1, &v))
                return false;
            cfg->senders = (uint32_t) v;
            return true;
        case 'R':
            if (!s_parse_u64 (arg, 1, BENCH_MAX_CLIENTS - 1, &v))
                return false;
            cfg->receivers = (uint32_t) v;
            return true;
        case 'n':
            if (!s_parse_u64 (arg, 1, BENCH_MAX_MESSAGES, &v))
                return false;
            cfg->messages = v;
            *messages_set = true;
            return true;
        case 'z':
            if (!s_parse_u64 (arg, 0, UINT32_MAX, &v))
                return false;
            cfg->size = (uint32_t) v;
            return true;
        case 'f':
            if (!s_parse_u64 (arg, 1, BENCH_MAX_INFLIGHT, &v))
                return false;
            cfg->inflight = (uint32_t) v;
            return true;
        case 'r': return s_parse_double (arg, &cfg->rate);
        case 'd': return s_parse_double (arg, &cfg->duration_s);
        case 'D': return s_parse_double (arg, &cfg->drain_s);
        case 'j': cfg->json = true; return true;
        case 'L': cfg->connect_late = true; return true;
        case 'l': return s_parse_double (arg, &cfg->login_rate);
        case 'p':
            if (!s_prefix_valid (arg))
                return false;
            snprintf (cfg->prefix, sizeof cfg->prefix, "%s", arg);
            return true;
        default: return false;
    }
}

/* Returns 0 on success, 1 for --help, -1 on a bad option (message on stderr). */
static int
s_parse (bench_config_t *cfg, int argc, char **argv)
{
    static const struct option longopts [] = { { "servers", required_argument, NULL, 's' },
                                               { "senders", required_argument, NULL, 'S' },
                                               { "receivers", required_argument, NULL, 'R' },
                                               { "messages", required_argument, NULL, 'n' },
                                               { "size", required_argument, NULL, 'z' },
                                               { "inflight", required_argument, NULL, 'f' },
                                               { "rate", required_argument, NULL, 'r' },
                                               { "duration", required_argument, NULL, 'd' },
                                               { "drain", required_argument, NULL, 'D' },
                                               { "json", no_argument, NULL, 'j' },
                                               { "prefix", required_argument, NULL, 'p' },
                                               { "help", no_argument, NULL, 'h' },
                                               { "connect-late", no_argument, NULL, 'L' },
                                               { "logins", required_argument, NULL, 'l' },
                                               { "rate-per-sender", required_argument, NULL, 'E' },
                                               { "idle", required_argument, NULL, 'I' },
                                               { "threads", required_argument, NULL, 'T' },
                                               { "setup-window", required_argument, NULL, 'W' },
                                               { "watch-pids", required_argument, NULL, 'w' },
                                               { "hgrm", required_argument, NULL, 'H' },
                                               { "scenario", required_argument, NULL, 'P' },
                                               { "ping-ms", required_argument, NULL, 'g' },
                                               { "go-file", required_argument, NULL, 'G' },
                                               { "heartbeat-ms", required_argument, NULL, 'b' },
                                               { NULL, 0, NULL, 0 } };
    bool messages_set = false;
    int opt;
    while ((opt = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
        if (opt == 'h')
            return 1;
        if (opt == '?' || !s_option (cfg, opt, optarg, &messages_set)) {
            for (const struct option *o = longopts; opt != '?' && o->name; o++)
                if (o->val == opt)
                    fprintf (stderr, "zchat-bench: bad value '%s' for --%s\n", optarg, o->name);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "zchat-bench: unexpected argument '%s'\n", argv [optind]);
        return -1;
    }
    if (cfg->senders + cfg->receivers > BENCH_MAX_CLIENTS) {
        fprintf (stderr, "zchat-bench: at most %d senders + receivers\n", BENCH_MAX_CLIENTS);
        return -1;
    }
    if (cfg->rate_per_sender > 0)
        cfg->rate = cfg->rate_per_sender * cfg->senders;
    if (cfg->size > ZC_TEXT_MAX) {
        fprintf (stderr,
                 "zchat-bench: warning: --size %u clamped to the protocol's text limit %d\n",
                 cfg->size, ZC_TEXT_MAX);
        cfg->size = ZC_TEXT_MAX;
    }
    if (!messages_set && cfg->duration_s > 0) {
        /* Bounded by time: enough slots for the whole duration at the given rate. */
        double want =
            cfg->rate > 0 ? cfg->rate * cfg->duration_s + 1 : (double) BENCH_MAX_MESSAGES / 4;
        cfg->messages = want < (double) BENCH_MAX_MESSAGES ? (uint64_t) want : BENCH_MAX_MESSAGES;
    }
    return 0;
}

static void
s_defaults (bench_config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    cfg->senders = 2;
    cfg->receivers = 2;
    cfg->messages = 10000;
    cfg->size = 100;
    cfg->inflight = 32;
    cfg->drain_s = 10;
    cfg->threads = 16;
    cfg->setup_window = 4;
    snprintf (cfg->prefix, sizeof cfg->prefix, "b%u-%06llx", (unsigned) getpid () % 10000000u,
              (unsigned long long) (time (NULL) & 0xffffff));
}

static int
s_alloc (bench_t *bench)
{
    uint32_t s = bench->cfg.senders;
    bench->per_sender = (bench->cfg.messages + s - 1) / s;
    uint64_t slots = bench->per_sender * s;
    bench->send_ns = calloc (slots, sizeof *bench->send_ns);
    bench->state = calloc (slots, sizeof *bench->state);
    bench->deliveries = calloc (slots, sizeof *bench->deliveries);
    bench->ack_hist = histogram_new ();
    bench->deliver_hist = histogram_new ();
    return bench->send_ns && bench->state && bench->deliveries && bench->ack_hist
                   && bench->deliver_hist
               ? 0
               : -1;
}

static void
s_free (bench_t *bench)
{
    free (bench->send_ns);
    free (bench->state);
    free (bench->deliveries);
    histogram_destroy (&bench->ack_hist);
    histogram_destroy (&bench->deliver_hist);
    histogram_destroy (&bench->login_hist);
}

int
main (int argc, char **argv)
{
    bench_t *bench = calloc (1, sizeof *bench);
    if (!bench)
        return 2;
    s_defaults (&bench->cfg);
    int parsed = s_parse (&bench->cfg, argc, argv);
    if (parsed != 0) {
        if (parsed > 0)
            s_usage (stdout);
        else
            fprintf (stderr, "zchat-bench: see --help\n");
        free (bench);
        return parsed > 0 ? 0 : 2;
    }
    if (!bench->cfg.servers)
        bench->cfg.servers = getenv ("ZCHAT_SERVERS"); /* as the library does; for the report */
    zsys_handler_set (NULL);                           /* CZMQ's handler would swallow SIGTERM */
    zsys_init (); /* before any thread: CZMQ's global init is not thread-safe */
    zsys_set_logstream (stderr);
    s_catch_signals ();
    int rc = 2;
    uint32_t clients = bench->cfg.senders + bench->cfg.receivers;
    /* CZMQ's default of 1024 sockets would stop a chat-scale run at its 342nd client:
       each has its DEALER and the two PAIRs of its disconnect monitor (zcc.h), and
       more while failovers open new ones before libzmq's reaper has closed the old
       (CZMQ asserts when a socket cannot be made) */
    zsys_set_max_sockets (clients * ZCC_SOCKETS * 4 + 64);
    if (bench_raise_fd_limit (clients) != 0)
        ;
    else if (s_alloc (bench) != 0)
        fprintf (stderr, "zchat-bench: out of memory for %" PRIu64 " messages\n",
                 bench->cfg.messages);
    else if (bench_run (bench) == 0)
        rc = bench_report (bench);
    s_free (bench);
    free (bench);
    zsys_shutdown ();
    return rc;
}
