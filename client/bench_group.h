/*  bench_group.h - a thread that drives many simulated clients (one zcc_t, one DEALER,
    one session each): zchat-bench's poll set.

    zcc.h offers no descriptor to put many clients in one poll(2), so a group polls
    only the clients that expect something (a sender with SENDs in flight, a receiver
    with pushes sent its way, a CREATE/CONNECT/DELETE outstanding), and every client
    once per BENCH_SWEEP_NS for the library's timers (PINGs, acks, retries) and for
    anything unexpected (a duplicate, a CLOSED). With exactly one client expecting, it
    blocks in zcc_poll on that client; with none, in zcc_poll on its first client
    until the next sweep; both also wake on the group's bell, an eventfd that a sender
    rings when it sends to a receiver of a sleeping group. With several expecting it
    polls them and sleeps BENCH_SPIN_NS in between.

    Every zcc_t is created by the main thread before the group's thread starts and
    destroyed after it is joined (pthread_create/join order the socket's hand-over). */
#ifndef BENCH_GROUP_H
#define BENCH_GROUP_H

#include "bench.h"
#include "zcc.h"

#define BENCH_SWEEP_NS  200000000ull /* every client polled at least this often */
#define BENCH_SPIN_NS   50000ull     /* pause between polls of several busy clients */
#define BENCH_DRAIN_MAX 64           /* events taken from one client per turn */

typedef enum {
    BENCH_CL_NEW = 0, /* receiver: user not created yet */
    BENCH_CL_CREATING,
    BENCH_CL_CREATED,
    BENCH_CL_CONNECTING,
    BENCH_CL_READY, /* session bound (receivers) or sending (senders) */
    BENCH_CL_DELETING,
    BENCH_CL_GONE,
    BENCH_CL_FAILED
} bench_phase_t;

typedef struct {
    uint64_t count; /* messages this sender sends */
    uint64_t next;  /* next message number */
    uint64_t inflight;
    uint64_t first_seq;
    bool broken; /* the library broke the seq mapping: stop */
} bench_sender_state_t;

typedef struct {
    zcc_t *zcc;
    uint32_t id; /* sender or receiver number */
    bench_phase_t phase;
    uint64_t setup_seq;      /* outstanding CREATE/CONNECT/DELETE */
    bench_sender_state_t st; /* senders */
    uint32_t *next_n;        /* receivers: [senders] 1 + newest n seen in order */
} bench_client_t;

struct bench_group {
    bench_t *bench;
    bool senders;
    uint32_t n;
    bench_client_t *clients;
    histogram_t *hist;    /* send->ack (senders) or send->delivery (receivers) */
    int bell;             /* eventfd */
    atomic_bool sleeping; /* blocked: senders must ring the bell */
    atomic_uint_fast32_t created, connected;
    uint32_t setup_outstanding;
    atomic_bool done;
    uint64_t last_delivery_ns;
    uint64_t next_sweep_ns;
    pthread_t thread;
    bool started;
};

typedef void (bench_handler_fn) (bench_group_t *group, bench_client_t *client,
                                 const zcc_event_t *event);

/* Clients first..first+n-1 of a role, each with a zcc_t; NULL if any cannot be made. */
bench_group_t *bench_group_new (bench_t *bench, bool senders, uint32_t first, uint32_t n,
                                uint64_t client_id_base);
void bench_group_destroy (bench_group_t **self_p);

/* Wake the group if it sleeps (a sender sent to one of its receivers). */
void bench_group_ring (bench_group_t *self);
/* Wake it whatever it does (a phase changed). */
void bench_group_ring_always (bench_group_t *self);

/* Hand every waiting event of client to handler, at most BENCH_DRAIN_MAX. Returns the
   number of events. */
uint32_t bench_group_drain (bench_group_t *self, bench_client_t *client, bench_handler_fn *handler);

/* True (and the next sweep scheduled) when every client is due for a poll. */
bool bench_group_sweep_due (bench_group_t *self, uint64_t now_ns);

/* Wait at most timeout_ns for something to do. active: how many clients expect an
   event, one: the one if there is exactly one. recheck (receivers) recounts active
   after the group has marked itself asleep, to close the race with bench_group_ring. */
void bench_group_wait (bench_group_t *self, bench_client_t *one, uint32_t active,
                       uint64_t timeout_ns, bench_handler_fn *handler,
                       uint32_t (*recheck) (bench_group_t *self));

/* bench_send.c / bench_recv.c: the two kinds of group thread. */
void *bench_sender_main (void *group);
void *bench_receiver_main (void *group);

/* bench_recv.c: the name of receiver r. */
void bench_receiver_name (const bench_t *bench, uint32_t receiver, char *name, size_t cap);
/* bench_send.c: count an error by code. */
void bench_count_error (bench_t *bench, zc_code_t code);

#endif
