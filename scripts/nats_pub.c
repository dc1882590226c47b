/*  nats_pub.c - the NATS JetStream half of scripts/compare-nats.sh.

    Publishes N messages of SIZE bytes to a fresh file-backed stream (replicas as
    asked) and measures what zchat-bench measures for sends: throughput and the
    latency from publish to the stream's ack. --inflight 1 uses the synchronous
    js_Publish; more uses js_PublishMsgAsync with PublishAsync.MaxPending = F, so at
    most F are unacked. Each payload starts with "N#<n>@<ns>" (like zchat-bench's
    header), which the ack callback reads back to time that publish.
    Built by compare-nats.sh with cc against libnats and client/histogram.c:
        cc -O2 -o nats_pub scripts/nats_pub.c client/histogram.c -lnats -lm
    Prints one line of key=value pairs; exit 0 only if every publish was acked and
    the stream holds exactly N messages. */
#define _GNU_SOURCE
#include <nats/nats.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../client/histogram.h"

#define SIZE_MAX_BYTES 65536
#define SUBJECT "zbench.msgs"

typedef struct {
    histogram_t *hist;          /* written only by the library's ack callback thread */
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
s_fill (char *buf, int size, uint64_t n, uint64_t now)
{
    int len = snprintf (buf, SIZE_MAX_BYTES, "N#%llu@%llu ", (unsigned long long) n,
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

static int
s_publish_sync (jsCtx *js, results_t *r, uint64_t messages, int size, char *buf)
{
    for (uint64_t n = 0; n < messages; n++) {
        uint64_t start = s_now_ns ();
        int len = s_fill (buf, size, n, start);
        jsPubAck *pa = NULL;
        jsErrCode jerr = 0;
        natsStatus s = js_Publish (&pa, js, SUBJECT, buf, len, NULL, &jerr);
        uint64_t now = s_now_ns ();
        if (s == NATS_OK) {
            histogram_record (r->hist, now - start);
            atomic_fetch_add (&r->acked, 1);
        }
        else {
            fprintf (stderr, "nats_pub: js_Publish: %s (%d)\n", natsStatus_GetText (s), (int) jerr);
            atomic_fetch_add (&r->errors, 1);
        }
        jsPubAck_Destroy (pa);
    }
    return 0;
}

static int
s_publish_async (jsCtx *js, results_t *r, uint64_t messages, int size, char *buf)
{
    for (uint64_t n = 0; n < messages; n++) {
        int len = s_fill (buf, size, n, s_now_ns ());
        natsMsg *msg = NULL;
        natsStatus s = natsMsg_Create (&msg, SUBJECT, NULL, buf, len);
        if (s == NATS_OK)
            s = js_PublishMsgAsync (js, &msg, NULL);
        natsMsg_Destroy (msg);      /* no-op when the library took it */
        if (s != NATS_OK) {
            fprintf (stderr, "nats_pub: js_PublishMsgAsync: %s\n", natsStatus_GetText (s));
            atomic_fetch_add (&r->errors, 1);
        }
    }
    jsPubOptions wait;
    jsPubOptions_Init (&wait);
    wait.MaxWait = 120000;
    natsStatus s = js_PublishAsyncComplete (js, &wait);
    if (s != NATS_OK)
        fprintf (stderr, "nats_pub: js_PublishAsyncComplete: %s\n", natsStatus_GetText (s));
    return s == NATS_OK ? 0 : -1;
}

static int
s_fresh_stream (jsCtx *js, const char *name, int replicas)
{
    jsErrCode jerr = 0;
    js_DeleteStream (js, name, NULL, &jerr);        /* absent is fine */
    const char *subjects [] = { SUBJECT };
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
    for (char *save = NULL, *url = copy ? strtok_r (copy, ",", &save) : NULL;
         url && count < 16; url = strtok_r (NULL, ",", &save))
        urls [count++] = url;
    natsStatus s = count ? natsOptions_SetServers (opts, urls, count) : NATS_INVALID_ARG;
    free (copy);
    return s;
}

static void
s_report (const results_t *r, uint64_t n, int size, int inflight, double secs, uint64_t stored)
{
    const histogram_t *h = r->hist;
    printf ("system=nats inflight=%d messages=%llu size=%d seconds=%.3f msgs_per_s=%.0f "
            "acked=%llu errors=%llu stored=%llu p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
            inflight, (unsigned long long) n, size, secs, secs > 0 ? (double) n / secs : 0,
            (unsigned long long) atomic_load (&r->acked),
            (unsigned long long) atomic_load (&r->errors), (unsigned long long) stored,
            histogram_percentile (h, 50) / 1e6, histogram_percentile (h, 90) / 1e6,
            histogram_percentile (h, 99) / 1e6, histogram_percentile (h, 100) / 1e6);
}

int
main (int argc, char **argv)
{
    const char *servers = "nats://127.0.0.1:4222", *stream = "ZBENCH";
    uint64_t messages = 10000;
    int size = 800, inflight = 1, replicas = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp (argv [i], "--servers")) servers = argv [i + 1];
        else if (!strcmp (argv [i], "--messages")) messages = strtoull (argv [i + 1], NULL, 10);
        else if (!strcmp (argv [i], "--size")) size = atoi (argv [i + 1]);
        else if (!strcmp (argv [i], "--inflight")) inflight = atoi (argv [i + 1]);
        else if (!strcmp (argv [i], "--replicas")) replicas = atoi (argv [i + 1]);
        else if (!strcmp (argv [i], "--stream")) stream = argv [i + 1];
        else { fprintf (stderr, "nats_pub: unknown option %s\n", argv [i]); return 2; }
    }
    if (messages == 0 || size < 0 || size > SIZE_MAX_BYTES || inflight < 1 || replicas < 1) {
        fprintf (stderr, "usage: nats_pub --servers URLS --messages N --size BYTES "
                         "--inflight F [--replicas R] [--stream NAME]\n");
        return 2;
    }
    results_t r = { .hist = histogram_new () };
    char *buf = malloc (SIZE_MAX_BYTES + 64);
    natsOptions *opts = NULL;
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    int rc = 1;
    if (!r.hist || !buf || natsOptions_Create (&opts) != NATS_OK
        || s_set_servers (opts, servers) != NATS_OK
        || natsConnection_Connect (&nc, opts) != NATS_OK) {
        fprintf (stderr, "nats_pub: cannot connect to %s\n", servers);
        goto done;
    }
    jsOptions jso;
    jsOptions_Init (&jso);
    jso.Wait = 10000;
    jso.PublishAsync.MaxPending = inflight;
    jso.PublishAsync.AckHandler = s_on_ack;
    jso.PublishAsync.AckHandlerClosure = &r;
    jso.PublishAsync.StallWait = 60000;
    if (natsConnection_JetStream (&js, nc, &jso) != NATS_OK || s_fresh_stream (js, stream, replicas))
        goto done;
    uint64_t start = s_now_ns ();
    int prc = inflight == 1 ? s_publish_sync (js, &r, messages, size, buf)
                            : s_publish_async (js, &r, messages, size, buf);
    double secs = (double) (s_now_ns () - start) / 1e9;
    uint64_t stored = s_stream_count (js, stream);
    s_report (&r, messages, size, inflight, secs, stored);
    rc = prc == 0 && atomic_load (&r.acked) == messages && atomic_load (&r.errors) == 0
         && stored == messages ? 0 : 1;
done:
    jsCtx_Destroy (js);
    natsConnection_Destroy (nc);
    natsOptions_Destroy (opts);
    nats_CloseAndWait (2000);
    histogram_destroy (&r.hist);
    free (buf);
    return rc;
}
