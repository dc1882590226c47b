/*  bench_run.c - drives the load: one zcc_t and one thread per simulated client.

    Why a thread per client: the benchmark shares two cores with the replicas it
    measures. A thread blocked in zcc_poll costs nothing until its socket has data,
    whereas one thread cycling over every client with zero timeouts spins a whole core
    that the brokers need, and its per-round latency grows with the number of clients.
    Every zcc_t is created, connected and destroyed by the main thread and used only
    by its worker in between (pthread_create/join are the memory barriers ZeroMQ needs
    to move a socket between threads).

    Invariant: a sender has at most cfg.inflight SENDs outstanding; its k-th SEND has
    seq first_seq + k (senders submit nothing else), which maps replies to slots. */
#include "bench.h"
#include "zcc.h"

#include <czmq.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    bench_t *bench;
    uint32_t id;                /* sender or receiver number */
    zcc_t *client;
    histogram_t *hist;
    pthread_t thread;
    bool started;
    uint64_t last_delivery_ns;  /* receivers */
    atomic_bool done;
} worker_t;

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
s_receiver_name (const bench_t *bench, uint32_t receiver, char *name, size_t cap)
{
    snprintf (name, cap, "%s-r%" PRIu32, bench->cfg.prefix, receiver);
}

static void
s_count_error (bench_t *bench, zc_code_t code)
{
    atomic_fetch_add (&bench->counters.errors, 1);
    if ((unsigned) code < ZC_CODE__COUNT)
        atomic_fetch_add (&bench->counters.error_codes [code], 1);
}

static void
s_sleep_ns (uint64_t ns)
{
    struct timespec ts = { .tv_sec = (time_t) (ns / 1000000000ull),
                           .tv_nsec = (long) (ns % 1000000000ull) };
    nanosleep (&ts, NULL);
}

/* ---- senders ---------------------------------------------------------- */

typedef struct {
    uint64_t count;             /* messages this sender sends */
    uint64_t next;              /* next message number */
    uint64_t inflight;
    uint64_t first_seq;
    bool broken;                /* the library broke the seq mapping: stop */
} sender_state_t;

/* When message n of this sender is due: global message k = n * S + s is due at k / rate
   after the start, so the senders interleave evenly. 0 in closed loop. */
static uint64_t
s_due_ns (const bench_t *bench, uint32_t sender, uint64_t n)
{
    if (bench->cfg.rate <= 0)
        return 0;
    double k = (double) n * bench->cfg.senders + sender;
    return bench->start_ns + (uint64_t) (k * 1e9 / bench->cfg.rate);
}

static bool
s_submit (worker_t *w, sender_state_t *st, uint64_t send_ns)
{
    bench_t *bench = w->bench;
    const bench_config_t *cfg = &bench->cfg;
    uint64_t n = st->next;
    uint64_t slot = w->id * bench->per_sender + n;
    char name [ZC_NAME_MAX + 1];
    s_receiver_name (bench, (uint32_t) ((w->id + n) % cfg->receivers), name, sizeof name);
    char text [ZC_TEXT_MAX + 1];
    int len = snprintf (text, sizeof text, "S%" PRIu32 "#%" PRIu64 "@%" PRIu64 " ",
                        w->id, n, send_ns);
    if (len < 0 || (size_t) len >= sizeof text)
        len = 0;
    if ((uint32_t) len < cfg->size) {
        memset (text + len, 'x', cfg->size - (uint32_t) len);
        len = (int) cfg->size;
    }
    text [len] = '\0';
    bench->send_ns [slot] = send_ns;
    atomic_store_explicit (&bench->state [slot], MSG_SENT, memory_order_release);
    uint64_t seq = zcc_submit (w->client, ZC_CMD_SEND, name, text);
    if (seq == 0) {
        atomic_store_explicit (&bench->state [slot], 0, memory_order_release);
        return false;           /* library window full: poll first */
    }
    if (n == 0)
        st->first_seq = seq;
    else if (seq != st->first_seq + n) {
        fprintf (stderr, "zchat-bench: sender %" PRIu32 ": seq %" PRIu64 " for message %"
                 PRIu64 " breaks the seq = first + n mapping; stopping it\n", w->id, seq, n);
        st->broken = true;
    }
    st->next++;
    st->inflight++;
    atomic_fetch_add (&bench->counters.sent, 1);
    return !st->broken;
}

/* Acks of all senders form one stream; keep its longest silence. Two senders racing
   here can misplace an ack by the microseconds between their clock reads. */
static void
s_note_ack_gap (bench_counters_t *c, uint64_t now)
{
    uint64_t prev = atomic_exchange (&c->last_ack_ns, now);
    if (!prev || now <= prev)
        return;
    uint64_t gap = now - prev, best = atomic_load (&c->max_ack_gap_ns);
    while (gap > best)
        if (atomic_compare_exchange_weak (&c->max_ack_gap_ns, &best, gap)) {
            atomic_store (&c->max_ack_gap_end_ns, now);
            return;
        }
}

static void
s_sender_reply (worker_t *w, sender_state_t *st, const zcc_event_t *ev)
{
    bench_t *bench = w->bench;
    if (ev->re != ZC_CMD_SEND || ev->seq < st->first_seq || st->next == 0)
        return;
    uint64_t n = ev->seq - st->first_seq;
    if (n >= st->next)
        return;
    uint64_t slot = w->id * bench->per_sender + n;
    unsigned char prior = atomic_load_explicit (&bench->state [slot], memory_order_relaxed);
    if (prior & (MSG_ACKED | MSG_FAILED))
        return;                 /* a second reply for the same seq: already counted */
    st->inflight--;
    if (ev->code == ZC_OK) {
        uint64_t now = bench_now_ns ();
        uint64_t sent = bench->send_ns [slot];
        histogram_record (w->hist, now > sent ? now - sent : 0);
        atomic_store_explicit (&bench->state [slot], prior | MSG_ACKED, memory_order_release);
        atomic_fetch_add (&bench->counters.acked, 1);
        s_note_ack_gap (&bench->counters, now);
    }
    else {
        atomic_store_explicit (&bench->state [slot], prior | MSG_FAILED, memory_order_release);
        s_count_error (bench, ev->code);
        /* The library already retried and failed over until its deadline: the cluster
           is not serving, and every further message would wait a full deadline too. */
        if ((ev->code == ZC_ERR_TIMEOUT || ev->code == ZC_ERR_UNAVAILABLE)
            && !atomic_exchange (&bench->stop_sending, true))
            fprintf (stderr, "zchat-bench: a send failed with %s: the cluster is not serving; "
                     "stopping all senders\n", zc_code_name (ev->code));
    }
}

/* Submit every message that is due and fits the window. Returns ns until the next
   one is due (0 = nothing scheduled: wait for replies). */
static uint64_t
s_sender_fill (worker_t *w, sender_state_t *st)
{
    bench_t *bench = w->bench;
    while (st->next < st->count && st->inflight < bench->cfg.inflight && !st->broken
           && !atomic_load (&bench->stop_sending)) {
        uint64_t now = bench_now_ns ();
        uint64_t due = s_due_ns (bench, w->id, st->next);
        if (due > now)
            return due - now;
        if (!s_submit (w, st, due ? due : now))
            break;
    }
    return 0;
}

static void *
s_sender_main (void *arg)
{
    worker_t *w = arg;
    bench_t *bench = w->bench;
    sender_state_t st = { .count = bench_sender_count (bench, w->id) };
    while (true) {
        uint64_t wait_ns = s_sender_fill (w, &st);
        bool no_more = st.next == st.count || st.broken || atomic_load (&bench->stop_sending);
        if (no_more && st.inflight == 0)
            break;
        zcc_event_t ev;
        int timeout_ms = 100;
        if (wait_ns > 0 && wait_ns < 1000000) {
            /* Sub-millisecond gap in open loop: take what has arrived, then sleep
               precisely instead of spinning on zcc_poll (ms resolution). */
            while (zcc_poll (w->client, 0, -1, &ev) != ZCC_EV_NONE)
                if (ev.type == ZCC_EV_REPLY)
                    s_sender_reply (w, &st, &ev);
            s_sleep_ns (wait_ns);
            continue;
        }
        if (wait_ns > 0)
            timeout_ms = (int) (wait_ns / 1000000);
        if (zcc_poll (w->client, timeout_ms, -1, &ev) == ZCC_EV_REPLY)
            s_sender_reply (w, &st, &ev);
    }
    if (st.broken)
        atomic_fetch_add (&bench->counters.errors, 1);
    atomic_store (&w->done, true);
    return NULL;
}

/* ---- receivers -------------------------------------------------------- */

/* Parses "S<s>#<n>@<ns>" at the start of text. */
static bool
s_parse_header (zc_bytes_t text, uint32_t *sender, uint64_t *n, uint64_t *send_ns)
{
    uint64_t v [3] = { 0, 0, 0 };
    const char marks [3] = { 'S', '#', '@' };
    uint32_t pos = 0;
    for (int field = 0; field < 3; field++) {
        if (pos >= text.len || text.ptr [pos] != marks [field])
            return false;
        pos++;
        uint32_t digits = 0;
        while (pos < text.len && text.ptr [pos] >= '0' && text.ptr [pos] <= '9' && digits < 19) {
            v [field] = v [field] * 10 + (uint64_t) (text.ptr [pos] - '0');
            pos++;
            digits++;
        }
        if (digits == 0)
            return false;
    }
    if (v [0] > UINT32_MAX)
        return false;
    *sender = (uint32_t) v [0];
    *n = v [1];
    *send_ns = v [2];
    return true;
}

static void
s_receiver_message (worker_t *w, const zcc_event_t *ev, int64_t *last_n, const char *name)
{
    bench_t *bench = w->bench;
    const bench_config_t *cfg = &bench->cfg;
    uint64_t now = bench_now_ns ();
    uint32_t s;
    uint64_t n, send_ns;
    atomic_fetch_add (&bench->counters.delivered, 1);
    w->last_delivery_ns = now;
    bool ok = s_parse_header (ev->frame.text, &s, &n, &send_ns)
              && s < cfg->senders && n < bench_sender_count (bench, s)
              && (s + n) % cfg->receivers == w->id
              && ev->frame.name.len == strlen (name)
              && memcmp (ev->frame.name.ptr, name, ev->frame.name.len) == 0;
    uint64_t slot = ok ? s * bench->per_sender + n : 0;
    if (!ok || !(atomic_load_explicit (&bench->state [slot], memory_order_acquire) & MSG_SENT)) {
        atomic_fetch_add (&bench->counters.phantom, 1);
        return;
    }
    /* Only this receiver ever touches this slot's count: no lost updates. */
    unsigned char seen = atomic_load_explicit (&bench->deliveries [slot], memory_order_relaxed);
    if (seen < UINT8_MAX)
        atomic_store_explicit (&bench->deliveries [slot], seen + 1, memory_order_release);
    if (seen > 0)
        return;                 /* duplicate: counted from the slot by the report */
    if ((int64_t) n < last_n [s])
        atomic_fetch_add (&bench->counters.reordered, 1);
    else
        last_n [s] = (int64_t) n;
    histogram_record (w->hist, now > send_ns ? now - send_ns : 0);
}

static void *
s_receiver_main (void *arg)
{
    worker_t *w = arg;
    bench_t *bench = w->bench;
    char name [ZC_NAME_MAX + 1];
    s_receiver_name (bench, w->id, name, sizeof name);
    int64_t *last_n = malloc (bench->cfg.senders * sizeof *last_n);
    if (!last_n) {
        atomic_fetch_add (&bench->counters.errors, 1);
        return NULL;
    }
    for (uint32_t s = 0; s < bench->cfg.senders; s++)
        last_n [s] = -1;
    while (!atomic_load (&bench->stop_receiving)) {
        zcc_event_t ev;
        zcc_event_type_t type = zcc_poll (w->client, 100, -1, &ev);
        if (type == ZCC_EV_MESSAGE)
            s_receiver_message (w, &ev, last_n, name);
        else if (type == ZCC_EV_CLOSED) {
            fprintf (stderr, "zchat-bench: receiver %s: session closed (%s)\n", name,
                     zc_code_name (ev.code));
            s_count_error (bench, ev.code);
        }
    }
    free (last_n);
    atomic_store (&w->done, true);
    return NULL;
}

/* ---- orchestration ---------------------------------------------------- */

static zcc_t *
s_client_new (const bench_t *bench, uint64_t client_id, uint32_t max_inflight)
{
    zcc_options_t options;
    zcc_options_defaults (&options);
    options.servers = bench->cfg.servers;
    options.max_inflight = max_inflight;
    options.client_id = client_id;
    return zcc_new (&options);
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
    return (base & ~0xffffull) | 0x10000ull;    /* low 16 bits: client index */
}

static int
s_users (bench_t *bench, zcc_t *admin, zc_cmd_t cmd)
{
    for (uint32_t r = 0; r < bench->cfg.receivers; r++) {
        char name [ZC_NAME_MAX + 1];
        s_receiver_name (bench, r, name, sizeof name);
        zcc_event_t ev;
        zc_code_t code = zcc_call_with (admin, cmd, name, NULL, bench->secret, NULL, &ev);
        if (code != ZC_OK) {
            fprintf (stderr, "zchat-bench: %s %s failed: %s %s%s\n", zc_cmd_name (cmd),
                     name, zc_code_name (code), ev.error ? ev.error : "",
                     code == ZC_ERR_USER_EXISTS ? " (use another --prefix)" : "");
            return -1;
        }
    }
    return 0;
}

static int
s_connect_receivers (bench_t *bench, worker_t *workers)
{
    for (uint32_t r = 0; r < bench->cfg.receivers; r++) {
        worker_t *w = &workers [bench->cfg.senders + r];
        char name [ZC_NAME_MAX + 1];
        s_receiver_name (bench, w->id, name, sizeof name);
        zcc_event_t ev;
        zc_code_t code = zcc_call_with (w->client, ZC_CMD_CONNECT, name, NULL, bench->secret,
                                        NULL, &ev);
        if (code != ZC_OK) {
            fprintf (stderr, "zchat-bench: CONNECT %s failed: %s %s\n", name,
                     zc_code_name (code), ev.error ? ev.error : "");
            return -1;
        }
    }
    return 0;
}

/* Creates every client. Receivers are connected before any sender starts, so no push
   can precede its session, unless --connect-late. */
static int
s_clients_new (bench_t *bench, worker_t *workers, uint64_t base)
{
    const bench_config_t *cfg = &bench->cfg;
    uint32_t total = cfg->senders + cfg->receivers;
    for (uint32_t i = 0; i < total; i++) {
        worker_t *w = &workers [i];
        bool sender = i < cfg->senders;
        w->bench = bench;
        w->id = sender ? i : i - cfg->senders;
        w->hist = histogram_new ();
        w->client = s_client_new (bench, base + 1 + i, sender ? cfg->inflight : 16);
        if (!w->hist || !w->client)
            return -1;
    }
    return cfg->connect_late ? 0 : s_connect_receivers (bench, workers);
}

static void
s_progress (const bench_t *bench, uint64_t now, uint64_t *last_acked)
{
    const bench_counters_t *c = &bench->counters;
    uint64_t acked = atomic_load (&c->acked);
    fprintf (stderr, "zchat-bench: %6.1fs sent %" PRIu64 " acked %" PRIu64 " delivered %"
             PRIu64 " errors %" PRIu64 " rate %" PRIu64 "/s\n",
             (double) (now - bench->start_ns) / 1e9, (uint64_t) atomic_load (&c->sent),
             acked, (uint64_t) atomic_load (&c->delivered),
             (uint64_t) atomic_load (&c->errors), acked - *last_acked);
    *last_acked = acked;
}

/* Waits for every sender, stopping them at --duration, printing progress each second. */
static void
s_wait_senders (bench_t *bench, worker_t *workers)
{
    uint64_t next_progress = bench->start_ns + 1000000000ull, last_acked = 0;
    uint64_t stop_at = bench->cfg.duration_s > 0
                     ? bench->start_ns + (uint64_t) (bench->cfg.duration_s * 1e9) : UINT64_MAX;
    while (true) {
        uint32_t done = 0;
        for (uint32_t i = 0; i < bench->cfg.senders; i++)
            done += atomic_load (&workers [i].done) ? 1 : 0;
        if (done == bench->cfg.senders)
            break;
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
    uint64_t from = bench->sending_done_ns > bench->deliver_start_ns
                  ? bench->sending_done_ns : bench->deliver_start_ns;
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

static void
s_finish (bench_t *bench, worker_t *workers, uint32_t total)
{
    for (uint32_t i = 0; i < total; i++) {
        worker_t *w = &workers [i];
        if (w->hist)
            histogram_merge (i < bench->cfg.senders ? bench->ack_hist : bench->deliver_hist,
                             w->hist);
        if (i >= bench->cfg.senders && w->last_delivery_ns > bench->last_delivery_ns)
            bench->last_delivery_ns = w->last_delivery_ns;
        histogram_destroy (&w->hist);
        zcc_destroy (&w->client);
    }
}

static int
s_start (bench_t *bench, worker_t *workers, uint32_t from, uint32_t to, void *(*fn) (void *))
{
    for (uint32_t i = from; i < to; i++) {
        if (pthread_create (&workers [i].thread, NULL, fn, &workers [i]) != 0) {
            fprintf (stderr, "zchat-bench: cannot start a thread\n");
            atomic_store (&bench->stop_sending, true);
            atomic_store (&bench->stop_receiving, true);
            return -1;
        }
        workers [i].started = true;
    }
    return 0;
}

static void
s_join (worker_t *workers, uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to; i++)
        if (workers [i].started) {
            pthread_join (workers [i].thread, NULL);
            workers [i].started = false;
        }
}

int
bench_run (bench_t *bench)
{
    const bench_config_t *cfg = &bench->cfg;
    uint32_t total = cfg->senders + cfg->receivers;
    worker_t *workers = calloc (total, sizeof *workers);
    uint64_t base = s_random_base ();
    s_secret_init (bench);
    zcc_t *admin = s_client_new (bench, base, 16);
    int rc = -1;
    if (!workers || !admin || s_users (bench, admin, ZC_CMD_CREATE) != 0)
        goto done;
    if (s_clients_new (bench, workers, base) != 0)
        goto cleanup;
    bench->start_ns = bench->deliver_start_ns = bench_now_ns ();
    bool late = cfg->connect_late;
    if ((late || s_start (bench, workers, cfg->senders, total, s_receiver_main) == 0)
        && bench_logins_start (bench) == 0
        && s_start (bench, workers, 0, cfg->senders, s_sender_main) == 0) {
        s_wait_senders (bench, workers);
        rc = 0;
    }
    s_join (workers, 0, cfg->senders);
    bench_logins_stop (bench);
    bench->sending_done_ns = bench_now_ns ();
    if (rc == 0 && late && !bench_interrupted) {
        bench->deliver_start_ns = bench_now_ns ();
        if (s_connect_receivers (bench, workers) != 0
            || s_start (bench, workers, cfg->senders, total, s_receiver_main) != 0) {
            bench->setup_errors++;
            rc = -1;
        }
    }
    if (rc == 0)
        s_drain (bench);
    atomic_store (&bench->stop_receiving, true);
    s_join (workers, cfg->senders, total);
    bench->end_ns = bench_now_ns ();
cleanup:
    s_finish (bench, workers, total);
    /* Best effort: leave the cluster clean, unless it is not serving (each DELETE
       would wait out a full deadline) or the user asked to stop. */
    if (!bench_interrupted
        && atomic_load (&bench->counters.error_codes [ZC_ERR_TIMEOUT]) == 0
        && atomic_load (&bench->counters.error_codes [ZC_ERR_UNAVAILABLE]) == 0)
        s_users (bench, admin, ZC_CMD_DELETE);
done:
    zcc_destroy (&admin);
    free (workers);
    return rc;
}
