/*  bench_recv.c - the receivers: a group thread that creates its receivers' users,
    CONNECTs them (when the run says so), records and checks every push, and DELETEs
    the users on the way out.

    At most cfg.setup_window CREATE/CONNECT/DELETE are outstanding per group: each one
    costs the leader a secret check (Argon2id), and it refuses more than 64 waiting
    checks with BUSY. Only this thread touches its receivers' delivery counts, so the
    per-slot counts and the per-(receiver, sender) order check need no locks. */
#include "bench_group.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void
bench_receiver_name (const bench_t *bench, uint32_t receiver, char *name, size_t cap)
{
    snprintf (name, cap, "%s-r%" PRIu32, bench->cfg.prefix, receiver);
}

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
s_seen (bench_t *bench, uint32_t receiver)
{
    uint_fast32_t v = atomic_load (&bench->expect [receiver]);
    while (v > 0 && !atomic_compare_exchange_weak (&bench->expect [receiver], &v, v - 1))
        ;
}

static void
s_on_message (bench_group_t *g, bench_client_t *c, const zcc_event_t *ev)
{
    bench_t *bench = g->bench;
    const bench_config_t *cfg = &bench->cfg;
    uint64_t now = bench_now_ns ();
    char name [ZC_NAME_MAX + 1];
    bench_receiver_name (bench, c->id, name, sizeof name);
    uint32_t s;
    uint64_t n, send_ns;
    atomic_fetch_add (&bench->counters.delivered, 1);
    g->last_delivery_ns = now;
    bool ok = s_parse_header (ev->frame.text, &s, &n, &send_ns) && s < cfg->senders
              && n < bench_sender_count (bench, s) && (s + n) % cfg->receivers == c->id
              && ev->frame.name.len == strlen (name)
              && memcmp (ev->frame.name.ptr, name, ev->frame.name.len) == 0;
    uint64_t slot = ok ? s * bench->per_sender + n : 0;
    if (!ok || !(atomic_load_explicit (&bench->state [slot], memory_order_acquire) & MSG_SENT)) {
        atomic_fetch_add (&bench->counters.phantom, 1);
        return;
    }
    unsigned char seen = atomic_load_explicit (&bench->deliveries [slot], memory_order_relaxed);
    if (seen < UINT8_MAX)
        atomic_store_explicit (&bench->deliveries [slot], seen + 1, memory_order_release);
    if (seen > 0)
        return; /* duplicate: counted from the slot by the report */
    s_seen (bench, c->id);
    if (n + 1 < c->next_n [s])
        atomic_fetch_add (&bench->counters.reordered, 1);
    else
        c->next_n [s] = (uint32_t) (n + 1);
    histogram_record (g->hist, now > send_ns ? now - send_ns : 0);
}

static void
s_on_reply (bench_group_t *g, bench_client_t *c, const zcc_event_t *ev)
{
    bench_t *bench = g->bench;
    if (ev->seq != c->setup_seq || c->setup_seq == 0)
        return;
    c->setup_seq = 0;
    g->setup_outstanding--;
    bench_phase_t was = c->phase;
    if (was == BENCH_CL_DELETING) {
        c->phase = BENCH_CL_GONE;
        return; /* best effort */
    }
    if (ev->code != ZC_OK) {
        c->phase = BENCH_CL_FAILED;
        char name [ZC_NAME_MAX + 1];
        bench_receiver_name (bench, c->id, name, sizeof name);
        if (atomic_fetch_add (&bench->setup_failed, 1) < 5)
            fprintf (stderr, "zchat-bench: %s %s failed: %s %s%s\n",
                     was == BENCH_CL_CREATING ? "CREATE" : "CONNECT", name, zc_code_name (ev->code),
                     ev->error ? ev->error : "",
                     ev->code == ZC_ERR_USER_EXISTS ? " (use another --prefix)" : "");
        return;
    }
    if (was == BENCH_CL_CREATING) {
        c->phase = BENCH_CL_CREATED;
        atomic_fetch_add (&g->created, 1);
    }
    else if (was == BENCH_CL_CONNECTING) {
        c->phase = BENCH_CL_READY;
        atomic_fetch_add (&g->connected, 1);
    }
}

static void
s_on_event (bench_group_t *g, bench_client_t *c, const zcc_event_t *ev)
{
    bench_t *bench = g->bench;
    if (ev->type == ZCC_EV_MESSAGE)
        s_on_message (g, c, ev);
    else if (ev->type == ZCC_EV_REPLY)
        s_on_reply (g, c, ev);
    else if (ev->type == ZCC_EV_CLOSED && !atomic_load (&bench->stop_receiving)) {
        char name [ZC_NAME_MAX + 1];
        bench_receiver_name (bench, c->id, name, sizeof name);
        fprintf (stderr, "zchat-bench: receiver %s: session closed (%s)\n", name,
                 zc_code_name (ev->code));
        bench_count_error (bench, ev->code);
    }
}

/* What client c should submit now: false if nothing (ZC_CMD_CREATE is 0). */
static bool
s_setup_next (const bench_t *bench, const bench_client_t *c, zc_cmd_t *cmd)
{
    if (c->setup_seq)
        return false;
    if (atomic_load (&bench->stop_receiving)) {
        *cmd = ZC_CMD_DELETE;
        return atomic_load (&bench->cleanup)
               && (c->phase == BENCH_CL_CREATED || c->phase == BENCH_CL_READY);
    }
    *cmd = c->phase == BENCH_CL_NEW ? ZC_CMD_CREATE : ZC_CMD_CONNECT;
    return c->phase == BENCH_CL_NEW
           || (c->phase == BENCH_CL_CREATED && atomic_load (&bench->go_connect));
}

static void
s_setup_step (bench_group_t *g)
{
    bench_t *bench = g->bench;
    for (uint32_t i = 0; i < g->n && g->setup_outstanding < bench->cfg.setup_window; i++) {
        bench_client_t *c = &g->clients [i];
        zc_cmd_t cmd;
        if (!s_setup_next (bench, c, &cmd))
            continue;
        char name [ZC_NAME_MAX + 1];
        bench_receiver_name (bench, c->id, name, sizeof name);
        uint64_t seq = zcc_submit_with (c->zcc, cmd, name, NULL, bench->secret, NULL);
        if (seq == 0)
            continue;
        c->setup_seq = seq;
        c->phase = cmd == ZC_CMD_CREATE    ? BENCH_CL_CREATING
                   : cmd == ZC_CMD_CONNECT ? BENCH_CL_CONNECTING
                                           : BENCH_CL_DELETING;
        g->setup_outstanding++;
    }
}

static bool
s_expecting (const bench_group_t *g, const bench_client_t *c)
{
    return c->setup_seq != 0 || atomic_load (&g->bench->expect [c->id]) > 0;
}

static uint32_t
s_count_active (bench_group_t *g)
{
    uint32_t active = 0;
    for (uint32_t i = 0; i < g->n; i++)
        active += s_expecting (g, &g->clients [i]) ? 1 : 0;
    return active;
}

static bool
s_leave (const bench_group_t *g)
{
    return atomic_load (&g->bench->stop_receiving) && g->setup_outstanding == 0;
}

void *
bench_receiver_main (void *arg)
{
    bench_group_t *g = arg;
    bench_t *bench = g->bench;
    for (uint32_t i = 0; i < g->n; i++)
        for (uint32_t s = 0; s < bench->cfg.senders; s++)
            g->clients [i].next_n [s] = 0;
    while (true) {
        s_setup_step (g);
        if (s_leave (g))
            break;
        uint64_t now = bench_now_ns ();
        bool sweep = bench_group_sweep_due (g, now);
        uint32_t got = 0, active = 0;
        bench_client_t *one = NULL;
        for (uint32_t i = 0; i < g->n; i++) {
            bench_client_t *c = &g->clients [i];
            if (sweep || s_expecting (g, c))
                got += bench_group_drain (g, c, s_on_event);
            if (s_expecting (g, c)) {
                active++;
                one = c;
            }
        }
        if (got > 0)
            continue;
        now = bench_now_ns ();
        /* Secret checks take milliseconds: while only setups are outstanding, wait
           for them in 1 ms steps rather than spinning. */
        bool only_setup = active > 0 && g->setup_outstanding == active;
        uint64_t timeout = g->next_sweep_ns > now ? g->next_sweep_ns - now : 0;
        if (only_setup && active > 1 && timeout > 1000000ull)
            timeout = 1000000ull;
        bool slow = only_setup && active > 1;
        bench_group_wait (g, one, slow ? 0 : active, timeout, s_on_event,
                          slow ? NULL : s_count_active);
    }
    atomic_store (&g->done, true);
    return NULL;
}
