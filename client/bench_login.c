/*  bench_login.c - zchat-bench --logins RATE: CONNECTs with the right secret at RATE per
    second, open loop, from a connection of their own, while the senders run. Each one
    costs the leader a secret check (Argon2id, off its event loop): the point is to show
    what that does to the sends' latency. */
#include <czmq.h>
#include <pthread.h>
#include "bench.h"
#include "zcc.h"

/* Logins of one client are checked one after the other (the leader keeps a client's
   writes in order), so the load comes from several clients, one login each at a time. */
#define LOGIN_CLIENTS 16

typedef struct {
    zcc_t *zcc;
    uint64_t seq;    /* outstanding CONNECT, 0 = none */
    uint64_t due_ns; /* when it was scheduled */
} s_login_client_t;

static void
s_reply (bench_t *bench, s_login_client_t *c, const zcc_event_t *ev)
{
    if (ev->type != ZCC_EV_REPLY || ev->seq != c->seq)
        return;
    if (ev->code == ZC_OK) {
        atomic_fetch_add (&bench->counters.logins_ok, 1);
        histogram_record (bench->login_hist, bench_now_ns () - c->due_ns);
    }
    else
        atomic_fetch_add (&bench->counters.logins_failed, 1);
    c->seq = 0;
}

static void *
s_login_main (void *arg)
{
    bench_t *bench = (bench_t *) arg;
    s_login_client_t clients [LOGIN_CLIENTS] = { { 0 } };
    zcc_options_t options;
    zcc_options_defaults (&options);
    options.servers = bench->cfg.servers;
    char name [ZC_NAME_MAX + 1];
    snprintf (name, sizeof name, "%.24s-login", bench->cfg.prefix);
    zcc_event_t ev;
    for (int i = 0; i < LOGIN_CLIENTS; i++)
        if (!(clients [i].zcc = zcc_new (&options)))
            goto done;
    if (zcc_call_with (clients [0].zcc, ZC_CMD_CREATE, name, NULL, bench->secret, NULL, &ev)
        != ZC_OK) {
        fprintf (stderr, "zchat-bench: CREATE %s for --logins failed: %s\n", name, ev.error);
        goto done;
    }
    uint64_t start = bench_now_ns (), n = 0;
    while (!atomic_load (&bench->stop_logins)) {
        uint64_t due = start + (uint64_t) ((double) n * 1e9 / bench->cfg.login_rate);
        s_login_client_t *idle = NULL;
        for (int i = 0; i < LOGIN_CLIENTS && !idle; i++)
            if (!clients [i].seq)
                idle = &clients [i];
        if (bench_now_ns () >= due && idle) {
            idle->seq =
                zcc_submit_with (idle->zcc, ZC_CMD_CONNECT, name, NULL, bench->secret, NULL);
            idle->due_ns = due;
            n++;
            continue;
        }
        for (int i = 0; i < LOGIN_CLIENTS; i++)
            if (zcc_poll (clients [i].zcc, 0, -1, &ev) != ZCC_EV_NONE)
                s_reply (bench, &clients [i], &ev);
        zclock_sleep (1); /* a pacing loop over 16 clients, not a wait for a condition */
    }
    for (int i = 0; i < LOGIN_CLIENTS; i++) /* the last answers in */
        while (clients [i].seq && zcc_poll (clients [i].zcc, 2000, -1, &ev) != ZCC_EV_NONE)
            s_reply (bench, &clients [i], &ev);
    zcc_call_with (clients [0].zcc, ZC_CMD_DELETE, name, NULL, bench->secret, NULL, &ev);
done:
    for (int i = 0; i < LOGIN_CLIENTS; i++)
        zcc_destroy (&clients [i].zcc);
    return NULL;
}

int
bench_logins_start (bench_t *bench)
{
    if (bench->cfg.login_rate <= 0)
        return 0;
    bench->login_hist = histogram_new ();
    if (!bench->login_hist || pthread_create (&bench->login_thread, NULL, s_login_main, bench))
        return -1;
    bench->login_running = true;
    return 0;
}

void
bench_logins_stop (bench_t *bench)
{
    if (!bench->login_running)
        return;
    atomic_store (&bench->stop_logins, true);
    pthread_join (bench->login_thread, NULL);
    bench->login_running = false;
}
