/*  bench_wal.c - storage figures: group-commit append throughput and replay speed.

    usage: bench_wal [entries (1000000)] [data bytes (1024)] [dir (mkdtemp in /tmp)]
    Builds a log of `entries` records, reopens it and times the replay (warm page
    cache: the restart case), then times appends with one wal_sync per batch of 1, 64
    and 256 entries. The directory is removed at the end unless it was given. */
#include <ftw.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wal.h"

static double
s_now_s (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int
s_rm (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove (path);
}

static int
s_count (void *arg, const raft_entry_t *entry)
{
    uint64_t *n = arg;
    (void) entry;
    (*n)++;
    return 0;
}

static wal_t *
s_open (const char *dir, uint64_t *replayed)
{
    char err [512];
    *replayed = 0;
    wal_t *wal = wal_open (dir, 0, 0, s_count, replayed, err, sizeof err);
    if (!wal) {
        fprintf (stderr, "bench_wal: %s\n", err);
        exit (1);
    }
    return wal;
}

/* Append n entries after the current last one, syncing every batch entries. */
static double
s_append (wal_t *wal, uint64_t n, uint32_t batch, const uint8_t *data, uint32_t len)
{
    uint64_t next = wal_last_index (wal) + 1;
    double t0 = s_now_s ();
    for (uint64_t i = 0; i < n; i++) {
        raft_entry_t entry = { 1, next + i, len, data };
        if (wal_append (wal, &entry, 1) || ((i + 1) % batch == 0 && wal_sync (wal))) {
            perror ("bench_wal: append");
            exit (1);
        }
    }
    if (wal_sync (wal)) {
        perror ("bench_wal: sync");
        exit (1);
    }
    return s_now_s () - t0;
}

int
main (int argc, char **argv)
{
    uint64_t entries = argc > 1 ? strtoull (argv [1], NULL, 10) : 1000000;
    uint32_t len = argc > 2 ? (uint32_t) strtoul (argv [2], NULL, 10) : 1024;
    char dir [256] = "/tmp/zchat-bench-wal-XXXXXX";
    bool own_dir = argc <= 3;
    if (!own_dir)
        snprintf (dir, sizeof dir, "%s", argv [3]);
    else if (!mkdtemp (dir)) {
        perror ("bench_wal: mkdtemp");
        return 1;
    }
    uint8_t *data = malloc (len ? len : 1);
    for (uint32_t i = 0; i < len; i++)
        data [i] = (uint8_t) (i * 31);

    uint64_t replayed;
    wal_t *wal = s_open (dir, &replayed);
    double build_s = s_append (wal, entries, 4096, data, len);
    uint64_t bytes = wal_size_bytes (wal);
    wal_destroy (&wal);
    printf ("build: %" PRIu64 " entries of %u B (%.0f MiB) in %.2f s, sync every 4096\n", entries,
            len, (double) bytes / (1 << 20), build_s);

    double t0 = s_now_s ();
    wal = s_open (dir, &replayed);
    double replay_s = s_now_s () - t0;
    printf ("replay: %" PRIu64 " entries in %.3f s (%.0f entries/s, %.0f MiB/s)\n", replayed,
            replay_s, (double) replayed / replay_s, (double) bytes / (1 << 20) / replay_s);

    uint32_t batches [] = { 1, 64, 256 };
    for (size_t b = 0; b < 3; b++) {
        uint64_t n = batches [b] == 1 ? 500 : 20000;
        double s = s_append (wal, n, batches [b], data, len);
        printf ("append: %u entries per wal_sync: %.0f entries/s (%.3f ms per sync)\n", batches [b],
                (double) n / s, s * 1e3 / ((double) n / batches [b]));
    }
    wal_destroy (&wal);
    free (data);
    if (own_dir)
        nftw (dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
