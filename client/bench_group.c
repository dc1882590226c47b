/*  bench_group.c - many zcc_t per thread (see bench_group.h): creation, the bell, and
    the wait that picks between blocking on one client and pausing between polls. */
#include "bench_group.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static zcc_t *
s_zcc_new (const bench_t *bench, uint64_t client_id, uint32_t max_inflight)
{
    zcc_options_t options;
    zcc_options_defaults (&options);
    options.servers = bench->cfg.servers;
    options.max_inflight = max_inflight;
    options.client_id = client_id;
    options.ping_ms = bench->cfg.ping_ms;
    options.heartbeat_ms = bench->cfg.heartbeat_ms;
    return zcc_new (&options);
}

bench_group_t *
bench_group_new (bench_t *bench, bool senders, uint32_t first, uint32_t n, uint64_t client_id_base)
{
    bench_group_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->bench = bench;
    self->senders = senders;
    self->bell = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
    self->hist = histogram_new ();
    self->clients = calloc (n, sizeof *self->clients);
    if (self->bell < 0 || !self->hist || !self->clients) {
        bench_group_destroy (&self);
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        bench_client_t *c = &self->clients [i];
        c->id = first + i;
        uint32_t index = senders ? c->id : bench->cfg.senders + c->id;
        c->zcc = s_zcc_new (bench, client_id_base + 1 + index, senders ? bench->cfg.inflight : 16);
        if (!senders)
            c->next_n = calloc (bench->cfg.senders, sizeof *c->next_n);
        self->n = i + 1;
        if (!c->zcc || (!senders && !c->next_n)) {
            bench_group_destroy (&self);
            return NULL;
        }
    }
    return self;
}

void
bench_group_destroy (bench_group_t **self_p)
{
    bench_group_t *self = *self_p;
    if (!self)
        return;
    for (uint32_t i = 0; self->clients && i < self->n; i++) {
        zcc_destroy (&self->clients [i].zcc);
        free (self->clients [i].next_n);
    }
    free (self->clients);
    histogram_destroy (&self->hist);
    if (self->bell >= 0)
        close (self->bell);
    free (self);
    *self_p = NULL;
}

void
bench_group_ring_always (bench_group_t *self)
{
    uint64_t one = 1;
    if (write (self->bell, &one, sizeof one) < 0 && errno != EAGAIN)
        perror ("zchat-bench: eventfd write");
}

void
bench_group_ring (bench_group_t *self)
{
    if (atomic_load (&self->sleeping))
        bench_group_ring_always (self);
}

static void
s_bell_clear (bench_group_t *self)
{
    uint64_t count;
    if (read (self->bell, &count, sizeof count) < 0 && errno != EAGAIN)
        perror ("zchat-bench: eventfd read");
}

uint32_t
bench_group_drain (bench_group_t *self, bench_client_t *client, bench_handler_fn *handler)
{
    zcc_event_t ev;
    uint32_t k = 0;
    while (k < BENCH_DRAIN_MAX && zcc_poll (client->zcc, 0, -1, &ev) != ZCC_EV_NONE) {
        handler (self, client, &ev);
        k++;
    }
    return k;
}

bool
bench_group_sweep_due (bench_group_t *self, uint64_t now_ns)
{
    if (now_ns < self->next_sweep_ns)
        return false;
    self->next_sweep_ns = now_ns + BENCH_SWEEP_NS;
    return true;
}

/* A pause that the bell cuts short. */
static void
s_pause (bench_group_t *self, uint64_t ns)
{
    struct pollfd item = { .fd = self->bell, .events = POLLIN };
    struct timespec ts = { .tv_sec = (time_t) (ns / 1000000000ull),
                           .tv_nsec = (long) (ns % 1000000000ull) };
    if (ppoll (&item, 1, &ts, NULL) > 0)
        s_bell_clear (self);
}

void
bench_group_wait (bench_group_t *self, bench_client_t *one, uint32_t active, uint64_t timeout_ns,
                  bench_handler_fn *handler, uint32_t (*recheck) (bench_group_t *self))
{
    if (active > 1 || timeout_ns < 1000000ull || self->n == 0) {
        /* zcc_poll counts in ms: shorter waits, and several clients, are paused over */
        s_pause (self, active > 0 && timeout_ns > BENCH_SPIN_NS ? BENCH_SPIN_NS : timeout_ns);
        return;
    }
    bench_client_t *client = one ? one : &self->clients [0];
    atomic_store (&self->sleeping, true);
    if (recheck && recheck (self) != active) {
        atomic_store (&self->sleeping, false);
        return;
    }
    zcc_event_t ev;
    zcc_event_type_t type =
        zcc_poll (client->zcc, (int) (timeout_ns / 1000000ull), self->bell, &ev);
    atomic_store (&self->sleeping, false);
    if (type == ZCC_EV_FD)
        s_bell_clear (self);
    else if (type != ZCC_EV_NONE)
        handler (self, client, &ev);
}
