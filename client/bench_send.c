/*  bench_send.c - the senders: a group thread that keeps each of its senders' window
    full (closed loop) or sends each message at its scheduled time (open loop).

    Invariant: a sender has at most cfg.inflight SENDs outstanding; its k-th SEND has
    seq first_seq + k (senders submit nothing else), which maps replies to slots.
    Before a SEND is submitted, its receiver's expect count goes up (and that
    receiver's group is woken), so no push can arrive unexpected. */
#include "bench_group.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void
bench_count_error (bench_t *bench, zc_code_t code)
{
    atomic_fetch_add (&bench->counters.errors, 1);
    if ((unsigned) code < ZC_CODE__COUNT)
        atomic_fetch_add (&bench->counters.error_codes [code], 1);
}

/* When message n of sender s is due: global message k = n * S + s is due at k / rate
   after the start, so the senders interleave evenly (--rate-per-sender R is a total
   rate of R * S). 0 in closed loop. */
static uint64_t
s_due_ns (const bench_t *bench, uint32_t sender, uint64_t n)
{
    if (bench->cfg.rate <= 0)
        return 0;
    double k = (double) n * bench->cfg.senders + sender;
    return bench->start_ns + (uint64_t) (k * 1e9 / bench->cfg.rate);
}

static uint32_t
s_receiver_of (const bench_t *bench, uint32_t sender, uint64_t n)
{
    return (uint32_t) ((sender + n) % bench->cfg.receivers);
}

static void
s_expect (bench_t *bench, uint32_t receiver)
{
    atomic_fetch_add (&bench->expect [receiver], 1);
    bench_group_ring (bench->recv_groups [receiver]);
}

/* The push of a failed SEND will (almost surely) never come. */
static void
s_unexpect (bench_t *bench, uint32_t receiver)
{
    uint_fast32_t v = atomic_load (&bench->expect [receiver]);
    while (v > 0 && !atomic_compare_exchange_weak (&bench->expect [receiver], &v, v - 1))
        ;
}

static bool
s_submit (bench_group_t *g, bench_client_t *c, uint64_t send_ns)
{
    bench_t *bench = g->bench;
    const bench_config_t *cfg = &bench->cfg;
    bench_sender_state_t *st = &c->st;
    uint64_t n = st->next;
    uint64_t slot = c->id * bench->per_sender + n;
    uint32_t receiver = s_receiver_of (bench, c->id, n);
    char name [ZC_NAME_MAX + 1];
    bench_receiver_name (bench, receiver, name, sizeof name);
    char text [ZC_TEXT_MAX + 1];
    int len =
        snprintf (text, sizeof text, "S%" PRIu32 "#%" PRIu64 "@%" PRIu64 " ", c->id, n, send_ns);
    if (len < 0 || (size_t) len >= sizeof text)
        len = 0;
    if ((uint32_t) len < cfg->size) {
        memset (text + len, 'x', cfg->size - (uint32_t) len);
        len = (int) cfg->size;
    }
    text [len] = '\0';
    bench->send_ns [slot] = send_ns;
    atomic_store_explicit (&bench->state [slot], MSG_SENT, memory_order_release);
    s_expect (bench, receiver);
    uint64_t seq = zcc_submit (c->zcc, ZC_CMD_SEND, name, text);
    if (seq == 0) {
        atomic_store_explicit (&bench->state [slot], 0, memory_order_release);
        s_unexpect (bench, receiver);
        return false; /* library window full: poll first */
    }
    if (n == 0)
        st->first_seq = seq;
    else if (seq != st->first_seq + n) {
        fprintf (stderr,
                 "zchat-bench: sender %" PRIu32 ": seq %" PRIu64 " for message %" PRIu64
                 " breaks the seq = first + n mapping; stopping it\n",
                 c->id, seq, n);
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
s_on_event (bench_group_t *g, bench_client_t *c, const zcc_event_t *ev)
{
    bench_t *bench = g->bench;
    bench_sender_state_t *st = &c->st;
    if (ev->type != ZCC_EV_REPLY || ev->re != ZC_CMD_SEND || ev->seq < st->first_seq
        || st->next == 0)
        return;
    uint64_t n = ev->seq - st->first_seq;
    if (n >= st->next)
        return;
    uint64_t slot = c->id * bench->per_sender + n;
    unsigned char prior = atomic_load_explicit (&bench->state [slot], memory_order_relaxed);
    if (prior & (MSG_ACKED | MSG_FAILED))
        return; /* a second reply for the same seq: already counted */
    st->inflight--;
    if (ev->code == ZC_OK) {
        uint64_t now = bench_now_ns ();
        uint64_t sent = bench->send_ns [slot];
        histogram_record (g->hist, now > sent ? now - sent : 0);
        atomic_store_explicit (&bench->state [slot], prior | MSG_ACKED, memory_order_release);
        atomic_fetch_add (&bench->counters.acked, 1);
        s_note_ack_gap (&bench->counters, now);
        return;
    }
    atomic_store_explicit (&bench->state [slot], prior | MSG_FAILED, memory_order_release);
    s_unexpect (bench, s_receiver_of (bench, c->id, n));
    bench_count_error (bench, ev->code);
    /* The library already retried and failed over until its deadline: the cluster
       is not serving, and every further message would wait a full deadline too. */
    if ((ev->code == ZC_ERR_TIMEOUT || ev->code == ZC_ERR_UNAVAILABLE)
        && !atomic_exchange (&bench->stop_sending, true))
        fprintf (stderr,
                 "zchat-bench: a send failed with %s: the cluster is not serving; "
                 "stopping all senders\n",
                 zc_code_name (ev->code));
}

/* Submit every message of c that is due and fits the window. Returns when the next
   one is due (UINT64_MAX: nothing scheduled, wait for replies). */
static uint64_t
s_fill (bench_group_t *g, bench_client_t *c)
{
    bench_t *bench = g->bench;
    bench_sender_state_t *st = &c->st;
    while (st->next < st->count && st->inflight < bench->cfg.inflight && !st->broken
           && !atomic_load (&bench->stop_sending)) {
        uint64_t now = bench_now_ns ();
        uint64_t due = s_due_ns (bench, c->id, st->next);
        if (due > now)
            return due;
        if (!s_submit (g, c, due ? due : now))
            break;
    }
    return UINT64_MAX;
}

static bool
s_finished (const bench_t *bench, const bench_client_t *c)
{
    const bench_sender_state_t *st = &c->st;
    return (st->next == st->count || st->broken || atomic_load (&bench->stop_sending))
           && st->inflight == 0;
}

void *
bench_sender_main (void *arg)
{
    bench_group_t *g = arg;
    bench_t *bench = g->bench;
    for (uint32_t i = 0; i < g->n; i++)
        g->clients [i].st.count = bench_sender_count (bench, g->clients [i].id);
    while (true) {
        uint64_t next_due = UINT64_MAX;
        for (uint32_t i = 0; i < g->n; i++) {
            uint64_t due = s_fill (g, &g->clients [i]);
            next_due = due < next_due ? due : next_due;
        }
        uint64_t now = bench_now_ns ();
        bool sweep = bench_group_sweep_due (g, now);
        uint32_t got = 0, active = 0, finished = 0;
        bench_client_t *one = NULL;
        for (uint32_t i = 0; i < g->n; i++) {
            bench_client_t *c = &g->clients [i];
            if (sweep || c->st.inflight > 0)
                got += bench_group_drain (g, c, s_on_event);
            if (c->st.inflight > 0) {
                active++;
                one = c;
            }
            finished += s_finished (bench, c) ? 1 : 0;
        }
        if (finished == g->n)
            break;
        if (got > 0)
            continue;
        now = bench_now_ns ();
        uint64_t wake = next_due < g->next_sweep_ns ? next_due : g->next_sweep_ns;
        bench_group_wait (g, one, active, wake > now ? wake - now : 0, s_on_event, NULL);
    }
    for (uint32_t i = 0; i < g->n; i++)
        if (g->clients [i].st.broken)
            atomic_fetch_add (&bench->counters.errors, 1);
    atomic_store (&g->done, true);
    return NULL;
}
