/*  bench.h - zchat-bench internals shared by bench.c (options), bench_run.c (the load)
    and bench_report.c (verification and output).

    Every message is identified by (sender s, number n); message n of sender s goes to
    receiver (s + n) % R and its global slot is s * per_sender + n. Per slot the run keeps
    its scheduled send time and two atomic bytes: what the sender did (SENT, ACKED,
    FAILED) and how many times receivers got it. A sender thread writes only its own
    slots' send state; a receiver thread only bumps delivery counts; the report reads
    them after every thread has been joined.

    Clients: one zcc_t (one DEALER, one session) per simulated client, many clients per
    thread (bench_group.c), at most cfg.threads threads per role. */
#ifndef BENCH_H
#define BENCH_H

#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "histogram.h"
#include "frame.h"
#include "zcc.h"

#define BENCH_MAX_CLIENTS  20000       /* senders + receivers; each needs 4 fds */
#define BENCH_MAX_THREADS  64          /* per role */
#define BENCH_MAX_WATCH    8           /* --watch-pids */
#define BENCH_MAX_MESSAGES 20000000ull /* 10 bytes of state each: 200 MB at most */
#define BENCH_MAX_INFLIGHT 4096
#define BENCH_PREFIX_MAX   20 /* so that PREFIX-rNNN fits a 32-byte name */

enum { MSG_SENT = 1, MSG_ACKED = 2, MSG_FAILED = 4 };

typedef struct {
    const char *servers; /* NULL = ZCHAT_SERVERS or the library's default */
    uint32_t senders;
    uint32_t receivers;
    uint64_t messages; /* total across senders */
    uint32_t size;     /* text bytes per message, <= ZC_TEXT_MAX */
    uint32_t inflight; /* per sender */
    double rate;       /* total msgs/s, 0 = closed loop */
    double duration_s; /* 0 = until all messages are sent */
    double drain_s;    /* wait this long after the last ack for deliveries */
    bool json;
    bool connect_late;      /* receivers connect only after the last ack */
    double login_rate;      /* --logins: CONNECTs per second meanwhile; 0 = none */
    double rate_per_sender; /* --rate-per-sender: sets rate = this * senders */
    double idle_s;          /* --idle: sessions connected, nothing sent, this long */
    uint32_t ping_ms;       /* --ping-ms: the library's idle PING; 0 = its default */
    uint32_t heartbeat_ms;  /* --heartbeat-ms: ZeroMQ heartbeats; 0 = none */
    const char *go_file;    /* --go-file: idle ends when it exists */
    uint32_t threads;       /* per role (senders, receivers) */
    uint32_t setup_window;  /* CREATE/CONNECT/DELETE outstanding per thread */
    const char *hgrm;       /* --hgrm BASE: BASE-ack.hgrm, BASE-delivery.hgrm */
    const char *scenario;   /* --scenario NAME, echoed in the summary */
    uint32_t n_watch;
    int watch_pids [BENCH_MAX_WATCH];
    char prefix [BENCH_PREFIX_MAX + 1];
} bench_config_t;

typedef struct {
    atomic_uint_fast64_t sent;
    atomic_uint_fast64_t logins_ok; /* --logins */
    atomic_uint_fast64_t logins_failed;
    atomic_uint_fast64_t acked;
    atomic_uint_fast64_t delivered; /* every push received, duplicates included */
    atomic_uint_fast64_t errors;    /* failed replies + session troubles */
    atomic_uint_fast64_t reordered;
    atomic_uint_fast64_t phantom;
    atomic_uint_fast64_t error_codes [ZC_CODE__COUNT];
    /* the longest wait between two consecutive acks, any senders (a failover's cost) */
    atomic_uint_fast64_t last_ack_ns;
    atomic_uint_fast64_t max_ack_gap_ns;
    atomic_uint_fast64_t max_ack_gap_end_ns;
} bench_counters_t;

/* --watch-pids: what /proc said about one process at the run's milestones. */
typedef struct {
    int pid;
    uint64_t rss_kib_start, rss_kib_users, rss_kib_sessions, rss_kib_end;
    double idle_cpu_pct; /* over the --idle window: % of one core */
    double run_cpu_pct;  /* from the first send to the end of the drain */
    uint64_t ticks_idle_from, ticks_idle_to, ticks_run_from, ticks_run_to;
    bool ok; /* every read succeeded */
} bench_watch_t;

typedef struct bench_group bench_group_t;

typedef struct {
    bench_config_t cfg;
    uint64_t per_sender;      /* slots per sender: ceil (messages / senders) */
    uint64_t *send_ns;        /* [senders * per_sender] scheduled/actual send time */
    atomic_uchar *state;      /* [..] MSG_* bits, written by the owning sender */
    atomic_uchar *deliveries; /* [..] saturating delivery count */
    bench_counters_t counters;
    histogram_t *ack_hist;             /* merged after the run: send -> reply */
    histogram_t *deliver_hist;         /* merged after the run: send -> push */
    atomic_bool stop_sending;          /* --duration reached or setup failed */
    atomic_bool stop_receiving;        /* drain over */
    atomic_bool go_connect;            /* receivers may CONNECT */
    atomic_bool cleanup;               /* receivers DELETE their users on the way out */
    atomic_uint_fast32_t setup_failed; /* CREATE/CONNECT refused */
    atomic_uint_fast32_t *expect;      /* [receivers] pushes sent its way, not yet seen */
    bench_group_t **recv_groups;       /* [receivers]: the thread that owns each */
    bench_watch_t watch [BENCH_MAX_WATCH];
    uint64_t bench_rss_kib_start, bench_rss_kib_sessions;
    double idle_measured_s;
    uint64_t start_ns;
    uint64_t deliver_start_ns; /* receivers connected (start_ns unless late) */
    uint64_t sending_done_ns;  /* last sender finished (acks in) */
    uint64_t end_ns;           /* drain finished */
    uint64_t last_delivery_ns; /* newest push received by any receiver */
    uint32_t setup_errors;
    char secret [33];        /* of every receiver: $ZCHAT_PASSWORD or random */
    histogram_t *login_hist; /* --logins: CONNECT -> REPLY */
    pthread_t login_thread;
    bool login_running;
    atomic_bool stop_logins;
} bench_t;

/* Set by the first SIGINT/SIGTERM: stop sending, skip the drain, still report. */
extern volatile sig_atomic_t bench_interrupted;

/* Monotonic clock in ns; the same clock is written into message texts. */
uint64_t bench_now_ns (void);

/* Number of messages sender s sends. */
uint64_t bench_sender_count (const bench_t *bench, uint32_t sender);

/* Create users, start receivers and senders, print progress, drain, join. Returns 0,
   or -1 when the run could not be set up (message on stderr). */
/* bench_login.c: --logins, around the senders */
int bench_logins_start (bench_t *bench);
void bench_logins_stop (bench_t *bench);

int bench_run (bench_t *bench);

/* bench_watch.c: /proc samples of --watch-pids (and the bench itself). */
uint64_t bench_rss_kib (int pid);   /* 0 if unreadable */
uint64_t bench_cpu_ticks (int pid); /* utime + stime; 0 if unreadable */
double bench_ticks_per_s (void);
/* Raise RLIMIT_NOFILE to its hard limit; -1 (message on stderr) if clients won't fit. */
int bench_raise_fd_limit (uint32_t clients);

/* Tally and print the summary (text or JSON on stdout). Returns the exit status:
   0 when every acked message arrived exactly once in order and nothing failed. */
int bench_report (const bench_t *bench);

#endif
