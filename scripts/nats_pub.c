/*  nats_pub.c - the NATS JetStream half of scripts/compare-nats.sh.

    Publishes N messages of SIZE bytes to a fresh file-backed stream (replicas as
    asked) and measures what zchat-bench measures for sends: throughput and the
    latency from publish to the stream's ack. --inflight 1 uses the synchronous
    js_Publish; more uses js_PublishMsgAsync with PublishAsync.MaxPending = F, so at
    most F are unacked. Each payload starts with "N#<n>@<ns>" (like zchat-bench's
    header), which the ack callback reads back to time that publish.
    --publishers P: P connections publish N/P each, in parallel, each with its own
    window (zchat-bench's --senders). --consumers C: before publishing, C durable push
    consumers with explicit ack (one subject each: message n of publisher p goes to
    consumer (p + n) % C, as zchat-bench's receivers) take every message, ack it, and
    time publish -> delivery; duplicates and strays are counted.
    --hgrm BASE writes BASE-ack.hgrm (and BASE-delivery.hgrm) in HdrHistogram's format.
    Built by compare-nats.sh with cc against libnats and client/histogram.c:
        cc -O2 -o nats_pub scripts/nats_pub.c client/histogram.c -lnats -lm -lpthread
    Prints one line of key=value pairs; exit 0 only if every publish was acked, the
    stream holds exactly N messages and every consumer got its messages once each. */
#define _GNU_SOURCE
#include <nats/nats.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../client/histogram.h"

#define SIZE_MAX_BYTES 65536
#define SUBJECT        "zbench.msgs" /* publisher p's message n: SUBJECT.<(p + n) % C> */
#define MAX_PUBLISHERS 64
#define MAX_CONSUMERS  64

typedef struct {
    histogram_t *hist; /* written only by the library's ack callback thread */
    atomic_uint_fast64_t acked;
    atomic_uint_fast64_t errors;
} results_t;

static uint64_t
s_now_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static int
s_fill (char *buf, int size, int publisher, uint64_t n, uint64_t now)
{
    int len = snprintf (buf, SIZE_MAX_BYTES, "P%d#%llu@%llu ", publisher, (unsigned long long) n,
                        (unsigned long long) now);
    if (len < size) {
        memset (buf + len, 'x', (size_t) (size - len));
        len = size;
    }
    return len;
}

static void
s_on_ack (jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void) js;
    results_t *r = closure;
    uint64_t now = s_now_ns ();
    const char *data = natsMsg_GetData (msg);
    const char *at = data ? memchr (data, '@', (size_t) natsMsg_GetDataLength (msg)) : NULL;
    if (pa && at) {
        uint64_t sent = strtoull (at + 1, NULL, 10);
        histogram_record (r->hist, now > sent ? now - sent : 0);
        atomic_fetch_add (&r->acked, 1);
    }
    else {
        if (pae)
            fprintf (stderr, "nats_pub: publish failed: %s\n", natsStatus_GetText (pae->Err));
        atomic_fetch_add (&r->errors, 1);
    }
    natsMsg_Destroy (msg);
}

/* One publisher: its own connection, JetStream context and window. */
typedef struct {
    int id;
    int size, inflight, consumers;
    uint64_t count; /* messages it publishes */
    natsConnection *nc;
    jsCtx *js;
    results_t r;
    int rc;
    pthread_t thread;
} publisher_t;

/* One durable consumer; its callbacks run on its subscription's thread. */
typedef struct {
    int id;
    histogram_t *hist;
    atomic_uint_fast64_t delivered, duplicated, stray;
    atomic_uchar *seen; /* [publishers * per]: shared, each slot one consumer's */
    uint64_t per;
    int publishers;
    natsSubscription *sub;
} consumer_t;

static void
s_subject (char *out, size_t cap, int publisher, uint64_t n, int consumers)
{
    snprintf (out, cap, SUBJECT ".%d", consumers > 0 ? (int) ((publisher + n) % consumers) : 0);
}

static void
s_publish_sync (publisher_t *p, char *buf)
{
    char subject [64];
    for (uint64_t n = 0; n < p->count; n++) {
        uint64_t start = s_now_ns ();
        int len = s_fill (buf, p->size, p->id, n, start);
        s_subject (subject, sizeof subject, p->id, n, p->consumers);
        jsPubAck *pa = NULL;
        jsErrCode jerr = 0;
        natsStatus s = js_Publish (&pa, p->js, subject, buf, len, NULL, &jerr);
        uint64_t now = s_now_ns ();
        if (s == NATS_OK) {
            histogram_record (p->r.hist, now - start);
            atomic_fetch_add (&p->r.acked, 1);
        }
        else {
            fprintf (stderr, "nats_pub: js_Publish: %s (%d)\n", natsStatus_GetText (s), (int) jerr);
            atomic_fetch_add (&p->r.errors, 1);
        }
        jsPubAck_Destroy (pa);
    }
}

static int
s_publish_async (publisher_t *p, char *buf)
{
    char subject [64];
    for (uint64_t n = 0; n < p->count; n++) {
        int len = s_fill (buf, p->size, p->id, n, s_now_ns ());
        s_subject (subject, sizeof subject, p->id, n, p->consumers);
        natsMsg *msg = NULL;
        natsStatus s = natsMsg_Create (&msg, subject, NULL, buf, len);
        if (s == NATS_OK)
            s = js_PublishMsgAsync (p->js, &msg, NULL);
        natsMsg_Destroy (msg); /* no-op when the library took it */
        if (s != NATS_OK) {
            fprintf (stderr, "nats_pub: js_PublishMsgAsync: %s\n", natsStatus_GetText (s));
            atomic_fetch_add (&p->r.errors, 1);
        }
    }
    jsPubOptions wait;
    jsPubOptions_Init (&wait);
    wait.MaxWait = 120000;
    natsStatus s = js_PublishAsyncComplete (p->js, &wait);
    if (s != NATS_OK)
        fprintf (stderr, "nats_pub: js_PublishAsyncComplete: %s\n", natsStatus_GetText (s));
    return s == NATS_OK ? 0 : -1;
}

static void *
s_publisher_main (void *arg)
{
    publisher_t *p = arg;
    char *buf = malloc (SIZE_MAX_BYTES + 64);
    if (!buf) {
        p->rc = -1;
        return NULL;
    }
    if (p->inflight == 1)
        s_publish_sync (p, buf);
    else
        p->rc = s_publish_async (p, buf);
    free (buf);
    return NULL;
}

/* Parses "P<p>#<n>@<ns>". */
static bool
s_parse (const char *data, int len, int *publisher, uint64_t *n, uint64_t *sent)
{
    char head [96];
    int k = len < (int) sizeof head - 1 ? len : (int) sizeof head - 1;
    memcpy (head, data, (size_t) k);
    head [k] = '\0';
    unsigned long long nn, ns;
    return sscanf (head, "P%d#%llu@%llu", publisher, &nn, &ns) == 3 && (*n = nn, *sent = ns, true);
}

static void
s_on_delivery (natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void) nc;
    (void) sub;
    consumer_t *c = closure;
    uint64_t now = s_now_ns ();
    int p;
    uint64_t n, sent;
    const char *data = natsMsg_GetData (msg);
    if (!data || !s_parse (data, natsMsg_GetDataLength (msg), &p, &n, &sent) || p < 0
        || p >= c->publishers || n >= c->per)
        atomic_fetch_add (&c->stray, 1);
    else if (atomic_exchange (&c->seen [(uint64_t) p * c->per + n], 1))
        atomic_fetch_add (&c->duplicated, 1);
    else {
        histogram_record (c->hist, now > sent ? now - sent : 0);
        atomic_fetch_add (&c->delivered, 1);
    }
    natsMsg_Ack (msg, NULL); /* explicit ack, as the consumer is configured */
    natsMsg_Destroy (msg);
}

static int
s_consumer_start (consumer_t *c, jsCtx *js, const char *stream)
{
    char subject [64], durable [32];
    snprintf (subject, sizeof subject, SUBJECT ".%d", c->id);
    snprintf (durable, sizeof durable, "zbench-r%d", c->id);
    jsSubOptions so;
    jsSubOptions_Init (&so);
    so.Stream = stream;
    so.ManualAck = true;
    so.Config.Durable = durable;
    so.Config.AckPolicy = js_AckExplicit;
    so.Config.DeliverPolicy = js_DeliverAll;
    so.Config.MaxAckPending = 4096;
    jsErrCode jerr = 0;
    natsStatus s = js_Subscribe (&c->sub, js, subject, s_on_delivery, c, NULL, &so, &jerr);
    if (s != NATS_OK)
        fprintf (stderr, "nats_pub: consumer %d: %s (%d)\n", c->id, natsStatus_GetText (s),
                 (int) jerr);
    return s == NATS_OK ? 0 : -1;
}

static int
s_fresh_stream (jsCtx *js, const char *name, int replicas)
{
    jsErrCode jerr = 0;
    js_DeleteStream (js, name, NULL, &jerr); /* absent is fine */
    const char *subjects [] = { SUBJECT ".>" };
    jsStreamConfig cfg;
    jsStreamConfig_Init (&cfg);
    cfg.Name = name;
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = replicas;
    jsStreamInfo *si = NULL;
    natsStatus s = js_AddStream (&si, js, &cfg, NULL, &jerr);
    jsStreamInfo_Destroy (si);
    if (s != NATS_OK) {
        fprintf (stderr, "nats_pub: cannot create stream %s: %s (%d)\n", name,
                 natsStatus_GetText (s), (int) jerr);
        return -1;
    }
    return 0;
}

static uint64_t
s_stream_count (jsCtx *js, const char *name)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    uint64_t count = 0;
    if (js_GetStreamInfo (&si, js, name, NULL, &jerr) == NATS_OK && si)
        count = si->State.Msgs;
    jsStreamInfo_Destroy (si);
    return count;
}

/* natsOptions_SetURL takes one URL; a cluster list needs SetServers. */
static natsStatus
s_set_servers (natsOptions *opts, const char *list)
{
    char *copy = strdup (list);
    const char *urls [16];
    int count = 0;
    for (char *save = NULL, *url = copy ? strtok_r (copy, ",", &save) : NULL; url && count < 16;
         url = strtok_r (NULL, ",", &save))
        urls [count++] = url;
    natsStatus s = count ? natsOptions_SetServers (opts, urls, count) : NATS_INVALID_ARG;
    free (copy);
    return s;
}

static int
s_connect (publisher_t *p, natsOptions *opts, int inflight, bool async_acks)
{
    if (natsConnection_Connect (&p->nc, opts) != NATS_OK)
        return -1;
    jsOptions jso;
    jsOptions_Init (&jso);
    jso.Wait = 10000;
    if (async_acks) {
        jso.PublishAsync.MaxPending = inflight;
        jso.PublishAsync.AckHandler = s_on_ack;
        jso.PublishAsync.AckHandlerClosure = &p->r;
        jso.PublishAsync.StallWait = 60000;
    }
    return natsConnection_JetStream (&p->js, p->nc, &jso) == NATS_OK ? 0 : -1;
}

static int
s_write_hgrm (const char *base, const char *what, const histogram_t *h)
{
    char path [4096];
    snprintf (path, sizeof path, "%s-%s.hgrm", base, what);
    FILE *f = fopen (path, "w");
    int rc = f && histogram_write_hgrm (h, f, 1e6) == 0 ? 0 : -1;
    if (f && fclose (f) != 0)
        rc = -1;
    if (rc)
        fprintf (stderr, "nats_pub: cannot write %s\n", path);
    return rc;
}

typedef struct {
    const char *servers, *stream, *hgrm;
    uint64_t messages;
    int size, inflight, replicas, publishers, consumers;
} config_t;

static int
s_args (config_t *c, int argc, char **argv)
{
    *c = (config_t) { .servers = "nats://127.0.0.1:4222",
                      .stream = "ZBENCH",
                      .messages = 10000,
                      .size = 800,
                      .inflight = 1,
                      .replicas = 3,
                      .publishers = 1 };
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *o = argv [i], *v = argv [i + 1];
        if (!strcmp (o, "--servers"))
            c->servers = v;
        else if (!strcmp (o, "--messages"))
            c->messages = strtoull (v, NULL, 10);
        else if (!strcmp (o, "--size"))
            c->size = atoi (v);
        else if (!strcmp (o, "--inflight"))
            c->inflight = atoi (v);
        else if (!strcmp (o, "--replicas"))
            c->replicas = atoi (v);
        else if (!strcmp (o, "--stream"))
            c->stream = v;
        else if (!strcmp (o, "--publishers"))
            c->publishers = atoi (v);
        else if (!strcmp (o, "--consumers"))
            c->consumers = atoi (v);
        else if (!strcmp (o, "--hgrm"))
            c->hgrm = v;
        else {
            fprintf (stderr, "nats_pub: unknown option %s\n", o);
            return -1;
        }
    }
    if (c->messages == 0 || c->size < 0 || c->size > SIZE_MAX_BYTES || c->inflight < 1
        || c->replicas < 1 || c->publishers < 1 || c->publishers > MAX_PUBLISHERS
        || c->consumers < 0 || c->consumers > MAX_CONSUMERS) {
        fprintf (stderr, "usage: nats_pub --servers URLS --messages N --size BYTES --inflight F\n"
                         "       [--replicas R] [--stream NAME] [--publishers P]"
                         " [--consumers C] [--hgrm BASE]\n");
        return -1;
    }
    return 0;
}

/* Waits (at most 120 s) until the consumers hold every message. */
static uint64_t
s_wait_deliveries (consumer_t *cons, int n, uint64_t want)
{
    uint64_t got = 0, deadline = s_now_ns () + 120000000000ull;
    while (true) {
        got = 0;
        for (int i = 0; i < n; i++)
            got += atomic_load (&cons [i].delivered);
        if (got >= want || s_now_ns () > deadline)
            return got;
        nats_Sleep (2);
    }
}

int
main (int argc, char **argv)
{
    config_t c;
    if (s_args (&c, argc, argv) != 0)
        return 2;
    publisher_t pubs [MAX_PUBLISHERS] = { { 0 } };
    consumer_t cons [MAX_CONSUMERS] = { { 0 } };
    uint64_t per = (c.messages + (uint64_t) c.publishers - 1) / (uint64_t) c.publishers;
    atomic_uchar *seen = calloc (per * (uint64_t) c.publishers, 1);
    histogram_t *acks = histogram_new (), *deliveries = histogram_new ();
    natsOptions *opts = NULL;
    int rc = 1;
    if (!seen || !acks || !deliveries || natsOptions_Create (&opts) != NATS_OK
        || s_set_servers (opts, c.servers) != NATS_OK)
        goto done;
    for (int i = 0; i < c.publishers; i++) {
        publisher_t *p = &pubs [i];
        *p = (publisher_t) { .id = i,
                             .size = c.size,
                             .inflight = c.inflight,
                             .consumers = c.consumers,
                             .r.hist = histogram_new (),
                             .count = c.messages / (uint64_t) c.publishers
                                      + ((uint64_t) i < c.messages % (uint64_t) c.publishers) };
        if (!p->r.hist || s_connect (p, opts, c.inflight, c.inflight > 1) != 0) {
            fprintf (stderr, "nats_pub: cannot connect to %s\n", c.servers);
            goto done;
        }
    }
    if (s_fresh_stream (pubs [0].js, c.stream, c.replicas))
        goto done;
    for (int i = 0; i < c.consumers; i++) {
        cons [i] = (consumer_t) {
            .id = i, .hist = histogram_new (), .seen = seen, .per = per, .publishers = c.publishers
        };
        if (!cons [i].hist || s_consumer_start (&cons [i], pubs [0].js, c.stream) != 0)
            goto done;
    }
    uint64_t start = s_now_ns ();
    int started = 0;
    for (int i = 0; i < c.publishers; i++)
        started += pthread_create (&pubs [i].thread, NULL, s_publisher_main, &pubs [i]) == 0;
    int prc = started == c.publishers ? 0 : -1;
    for (int i = 0; i < started; i++) {
        pthread_join (pubs [i].thread, NULL);
        prc |= pubs [i].rc;
    }
    double secs = (double) (s_now_ns () - start) / 1e9;
    uint64_t delivered = c.consumers ? s_wait_deliveries (cons, c.consumers, c.messages) : 0;
    double deliver_secs = (double) (s_now_ns () - start) / 1e9;
    uint64_t stored = s_stream_count (pubs [0].js, c.stream);
    uint64_t acked = 0, errors = 0, dups = 0, strays = 0;
    for (int i = 0; i < c.publishers; i++) {
        histogram_merge (acks, pubs [i].r.hist);
        acked += atomic_load (&pubs [i].r.acked);
        errors += atomic_load (&pubs [i].r.errors);
    }
    for (int i = 0; i < c.consumers; i++) {
        histogram_merge (deliveries, cons [i].hist);
        dups += atomic_load (&cons [i].duplicated);
        strays += atomic_load (&cons [i].stray);
    }
    printf ("system=nats publishers=%d consumers=%d inflight=%d messages=%llu size=%d "
            "seconds=%.3f msgs_per_s=%.0f acked=%llu errors=%llu stored=%llu "
            "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f delivered=%llu duplicated=%llu "
            "stray=%llu delivered_per_s=%.0f deliver_p50_ms=%.3f deliver_p99_ms=%.3f\n",
            c.publishers, c.consumers, c.inflight, (unsigned long long) c.messages, c.size, secs,
            secs > 0 ? (double) c.messages / secs : 0, (unsigned long long) acked,
            (unsigned long long) errors, (unsigned long long) stored,
            histogram_percentile (acks, 50) / 1e6, histogram_percentile (acks, 90) / 1e6,
            histogram_percentile (acks, 99) / 1e6, histogram_percentile (acks, 100) / 1e6,
            (unsigned long long) delivered, (unsigned long long) dups, (unsigned long long) strays,
            deliver_secs > 0 ? (double) delivered / deliver_secs : 0,
            histogram_percentile (deliveries, 50) / 1e6,
            histogram_percentile (deliveries, 99) / 1e6);
    rc = prc == 0 && acked == c.messages && errors == 0 && stored == c.messages
                 && (c.consumers == 0 || (delivered == c.messages && dups == 0 && strays == 0))
             ? 0
             : 1;
    if (c.hgrm
        && (s_write_hgrm (c.hgrm, "ack", acks)
            || (c.consumers && s_write_hgrm (c.hgrm, "delivery", deliveries))))
        rc = 1;
done:
    for (int i = 0; i < c.consumers; i++) {
        natsSubscription_Unsubscribe (cons [i].sub); /* the durable goes with the stream */
        natsSubscription_Destroy (cons [i].sub);
        histogram_destroy (&cons [i].hist);
    }
    if (pubs [0].js) { /* the next run's stream takes the same subjects */
        jsErrCode jerr = 0;
        js_DeleteStream (pubs [0].js, c.stream, NULL, &jerr);
    }
    for (int i = 0; i < c.publishers; i++) {
        jsCtx_Destroy (pubs [i].js);
        natsConnection_Destroy (pubs [i].nc);
        histogram_destroy (&pubs [i].r.hist);
    }
    natsOptions_Destroy (opts);
    nats_CloseAndWait (2000);
    histogram_destroy (&acks);
    histogram_destroy (&deliveries);
    free (seen);
    return rc;
}
