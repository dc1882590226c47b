/*  fuzz_log_record.c - arbitrary bytes as one log record, as a segment image, and as
    a real segment file opened by wal_open: never a crash, leak or hang, and the
    classification stays self-consistent. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_record.h"
#include "wal.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char s_dir [64];

static int
s_visit (void *arg, const raft_entry_t *entry, size_t offset)
{
    (void) offset;
    uint64_t *sum = arg;
    *sum += entry->index + entry->len;
    return 0;
}

static int
s_replay (void *arg, const raft_entry_t *entry)
{
    uint64_t *sum = arg;
    if (entry->len)
        *sum += entry->data [entry->len - 1];
    return 0;
}

static void
s_empty_dir (void)
{
    DIR *d = opendir (s_dir);
    if (!d)
        abort ();
    struct dirent *ent;
    char path [128];
    while ((ent = readdir (d))) {
        if (ent->d_name [0] == '.')
            continue;
        snprintf (path, sizeof path, "%s/%s", s_dir, ent->d_name);
        unlink (path);
    }
    closedir (d);
}

static void
s_remove_dir (void)
{
    s_empty_dir ();
    rmdir (s_dir);
}

/* Whatever wal_open made of the bytes, the log it opened must take an append and
   reopen to the same last index. */
static void
s_through_wal (const uint8_t *data, size_t size)
{
    if (!s_dir [0]) {
        /* tmpfs keeps the fsyncs cheap when it exists */
        strcpy (s_dir, access ("/dev/shm", W_OK) == 0 ? "/dev/shm/zchat-fuzz-XXXXXX"
                                                      : "/tmp/zchat-fuzz-XXXXXX");
        if (!mkdtemp (s_dir))
            abort ();
        atexit (s_remove_dir);
    }
    char path [128];
    snprintf (path, sizeof path, "%s/log-%020d.seg", s_dir, 1);
    FILE *f = fopen (path, "wb");
    if (!f || fwrite (data, 1, size, f) != size)
        abort ();
    fclose (f);
    uint64_t sum = 0;
    char err [256];
    wal_t *wal = wal_open (s_dir, 0, 4096, s_replay, &sum, err, sizeof err);
    if (wal) {
        uint64_t next = wal_last_index (wal) + 1;
        raft_entry_t entry = { 1, next, 3, (const uint8_t *) "abc" };
        if (wal_append (wal, &entry, 1) || wal_sync (wal))
            abort ();
        wal_destroy (&wal);
        wal = wal_open (s_dir, 0, 4096, NULL, NULL, err, sizeof err);
        if (!wal || wal_last_index (wal) != next)
            abort ();
        wal_destroy (&wal);
    }
    s_empty_dir ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    raft_entry_t entry;
    size_t used = 0;
    log_record_status_t st = log_record_decode (data, size, &entry, &used);
    if (st == LOG_RECORD_OK) {
        if (used > size || entry.data < data || entry.data + entry.len > data + used)
            abort ();
        uint8_t *again = malloc (used);
        if (!again || log_record_encode (&entry, again, used) == 0)
            abort ();
        free (again);
    }
    uint64_t sum = 0;
    log_record_scan_t res;
    log_record_scan (data, size, s_visit, &sum, &res);
    if (res.valid_bytes > size || (res.status == LOG_RECORD_OK && res.valid_bytes != size))
        abort ();
    if (size <= 64 * 1024)
        s_through_wal (data, size);
    return 0;
}
