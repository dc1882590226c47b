/*  test_wal.c - the segmented WAL: round trips, restarts, rolling, conflict
    truncation, compaction, reset, sync marks, and recovery from torn tails versus
    corruption. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wal.h"
#include "log_record.h"
#include "crc32c.h"
#include "fixture.h"

#define MAX_SEEN 4096

/* ---- fixtures and helpers ---------------------------------------------------- */

typedef struct {
    char dir [64];
} fixture_t;

static int
setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    if (!fx)
        return -1;
    if (fixture_dir_new (fx->dir, sizeof fx->dir, "wal"))
        return -1;
    *state = fx;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *fx = *state;
    fixture_dir_remove (fx->dir);
    free (fx);
    return 0;
}

/* Entry data is a function of (term, index) with a length that varies by index, so
   a replayed entry can be checked without keeping copies. */
static uint32_t
s_data_len (uint64_t index)
{
    return (uint32_t) (20 + (index * 37) % 90);
}

static void
s_fill (uint8_t *data, uint64_t term, uint64_t index)
{
    uint32_t len = s_data_len (index);
    for (uint32_t i = 0; i < len; i++)
        data [i] = (uint8_t) (index * 131 + term * 17 + i);
}

typedef struct {
    uint64_t index [MAX_SEEN];
    uint64_t term [MAX_SEEN];
    size_t n;
    int bad_data;     /* entries whose bytes did not match */
    uint64_t stop_at; /* refuse this index (0 = never) */
} seen_t;

static int
s_collect (void *arg, const raft_entry_t *entry)
{
    seen_t *seen = arg;
    if (seen->stop_at && entry->index == seen->stop_at)
        return -1;
    uint8_t expect [256];
    s_fill (expect, entry->term, entry->index);
    if (entry->len != s_data_len (entry->index) || memcmp (expect, entry->data, entry->len))
        seen->bad_data++;
    if (seen->n < MAX_SEEN) {
        seen->index [seen->n] = entry->index;
        seen->term [seen->n] = entry->term;
        seen->n++;
    }
    return 0;
}

static void
s_append (wal_t *wal, uint64_t term, uint64_t from, uint64_t to)
{
    for (uint64_t i = from; i <= to; i++) {
        uint8_t data [256];
        s_fill (data, term, i);
        raft_entry_t entry = { term, i, s_data_len (i), data };
        assert_int_equal (wal_append (wal, &entry, 1), 0);
    }
}

static wal_t *
s_open (fixture_t *fx, uint64_t after, uint64_t seg_bytes, seen_t *seen)
{
    char err [512] = "";
    memset (seen, 0, sizeof *seen);
    wal_t *wal = wal_open (fx->dir, after, seg_bytes, s_collect, seen, err, sizeof err);
    if (!wal)
        fail_msg ("wal_open failed: %s", err);
    return wal;
}

/* Opening must fail; returns the reason. */
static void
s_open_fails (fixture_t *fx, uint64_t after, char *err, size_t err_len)
{
    seen_t seen = { .n = 0 };
    err [0] = 0;
    wal_t *wal = wal_open (fx->dir, after, 0, s_collect, &seen, err, err_len);
    if (wal) {
        wal_destroy (&wal);
        fail_msg ("wal_open succeeded on a damaged log");
    }
    assert_true (strlen (err) > 0);
}

/* The replay saw exactly indexes from..to, with term given per index by fn. */
static void
s_assert_seen (const seen_t *seen, uint64_t from, uint64_t to)
{
    assert_int_equal (seen->bad_data, 0);
    assert_int_equal (seen->n, to >= from ? to - from + 1 : 0);
    for (size_t i = 0; i < seen->n; i++)
        assert_int_equal (seen->index [i], from + i);
}

/* Append entries from..to in term as one batch and sync them. */
static void
s_append_synced (wal_t *wal, uint64_t term, uint64_t from, uint64_t to)
{
    s_append (wal, term, from, to);
    assert_int_equal (wal_sync (wal), 0);
}

/* A fresh log of entries from..to in term, synced and closed (segments of seg_bytes;
   0 = the default). */
static void
s_write_log (fixture_t *fx, uint64_t seg_bytes, uint64_t term, uint64_t from, uint64_t to)
{
    seen_t seen;
    wal_t *wal = s_open (fx, 0, seg_bytes, &seen);
    s_append_synced (wal, term, from, to);
    wal_destroy (&wal);
}

/* Reopened after a snapshot at index after, the log replays exactly from..to. */
static void
s_assert_log (fixture_t *fx, uint64_t after, uint64_t seg_bytes, uint64_t from, uint64_t to)
{
    seen_t seen;
    wal_t *wal = s_open (fx, after, seg_bytes, &seen);
    s_assert_seen (&seen, from, to);
    wal_destroy (&wal);
}

static int
s_count_segments (const char *dir, uint64_t *firsts, int max)
{
    DIR *d = opendir (dir);
    assert_non_null (d);
    struct dirent *ent;
    int n = 0;
    while ((ent = readdir (d))) {
        unsigned long long first;
        if (sscanf (ent->d_name, "log-%20llu.seg", &first) == 1 && strlen (ent->d_name) == 28) {
            if (firsts && n < max)
                firsts [n] = first;
            n++;
        }
    }
    closedir (d);
    /* sort ascending for the caller */
    for (int i = 0; firsts && i < n && i < max; i++)
        for (int j = i + 1; j < n && j < max; j++)
            if (firsts [j] < firsts [i]) {
                uint64_t t = firsts [i];
                firsts [i] = firsts [j];
                firsts [j] = t;
            }
    return n;
}

static void
s_seg_path (fixture_t *fx, uint64_t first, char *path, size_t len)
{
    snprintf (path, len, "%s/log-%020" PRIu64 ".seg", fx->dir, first);
}

/* Skip the sync marks at off; returns the offset of the next other record. */
static size_t
s_skip_marks (const uint8_t *buf, size_t len, size_t off)
{
    raft_entry_t entry;
    size_t rec_len;
    while (log_record_decode (buf + off, len - off, &entry, &rec_len) == LOG_RECORD_MARK)
        off += rec_len;
    return off;
}

/* Byte offset of the entry holding index in a segment image starting at first (past
   any sync mark before it), or the end of the records for the index after the last. */
static size_t
s_record_offset (const uint8_t *buf, size_t len, uint64_t first, uint64_t index)
{
    size_t off = s_skip_marks (buf, len, 0);
    for (uint64_t i = first; i < index; i++) {
        raft_entry_t entry;
        size_t rec_len;
        assert_int_equal (log_record_decode (buf + off, len - off, &entry, &rec_len),
                          LOG_RECORD_OK);
        off = s_skip_marks (buf, len, off + rec_len);
    }
    return off;
}

/* Byte offset just past the entry holding index (before any sync mark after it). */
static size_t
s_record_end (const uint8_t *buf, size_t len, uint64_t first, uint64_t index)
{
    size_t off = s_record_offset (buf, len, first, index);
    raft_entry_t entry;
    size_t rec_len;
    assert_int_equal (log_record_decode (buf + off, len - off, &entry, &rec_len), LOG_RECORD_OK);
    return off + rec_len;
}

/* ---- behaviour ---------------------------------------------------------------- */

static void
append_sync_reopen_round_trip (void **state)
{
    fixture_t *fx = *state;
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 0, &seen);
    assert_int_equal (seen.n, 0);
    assert_int_equal (wal_first_index (wal), 0);
    assert_int_equal (wal_last_index (wal), 0);
    s_append_synced (wal, 1, 1, 100);
    assert_int_equal (wal_first_index (wal), 1);
    assert_int_equal (wal_last_index (wal), 100);
    uint64_t size = wal_size_bytes (wal);
    assert_true (size > 100 * 20);
    wal_destroy (&wal);
    assert_null (wal);

    wal = s_open (fx, 0, 0, &seen);
    s_assert_seen (&seen, 1, 100);
    assert_int_equal (wal_last_index (wal), 100);
    assert_int_equal (wal_size_bytes (wal), size);
    assert_int_equal (wal_truncated_bytes (wal), 0);
    wal_destroy (&wal);
}

static void
replay_skips_entries_covered_by_snapshot (void **state)
{
    fixture_t *fx = *state;
    s_write_log (fx, 0, 2, 1, 30);
    seen_t seen;
    wal_t *wal = s_open (fx, 12, 0, &seen);
    s_assert_seen (&seen, 13, 30);
    assert_int_equal (seen.term [0], 2);
    assert_int_equal (wal_first_index (wal), 1);
    wal_destroy (&wal);
}

static void
twenty_restarts_in_a_row_keep_everything (void **state)
{
    fixture_t *fx = *state;
    uint64_t last = 0;
    for (int round = 0; round < 20; round++) {
        seen_t seen;
        wal_t *wal = s_open (fx, 0, 2048, &seen);
        s_assert_seen (&seen, 1, last);
        assert_int_equal (wal_last_index (wal), last);
        uint64_t n = 1 + (uint64_t) round % 7;
        s_append (wal, 1 + (uint64_t) round / 5, last + 1, last + n);
        last += n;
        if (round % 3) /* also close without an explicit sync */
            assert_int_equal (wal_sync (wal), 0);
        wal_destroy (&wal);
    }
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 2048, &seen);
    s_assert_seen (&seen, 1, last);
    assert_true (s_count_segments (fx->dir, NULL, 0) > 1);
    wal_destroy (&wal);
}

static void
segments_roll_past_segment_bytes (void **state)
{
    fixture_t *fx = *state;
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 1024, &seen);
    s_append_synced (wal, 1, 1, 300);
    uint64_t firsts [128];
    int n = s_count_segments (fx->dir, firsts, 128);
    assert_true (n >= 10);
    assert_int_equal (firsts [0], 1);
    /* each segment ends just past 1024 bytes: at most one record over the limit */
    for (int i = 0; i + 1 < n && i < 128; i++) {
        char path [128];
        struct stat st;
        s_seg_path (fx, firsts [i], path, sizeof path);
        assert_int_equal (stat (path, &st), 0);
        assert_true (st.st_size >= 1024);
        assert_true (st.st_size < 1024 + (off_t) log_record_size_max (200));
    }
    wal_destroy (&wal);
    s_assert_log (fx, 0, 1024, 1, 300);
}

static void
conflict_truncates_across_segment_boundary (void **state)
{
    fixture_t *fx = *state;
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 1024, &seen);
    s_append_synced (wal, 1, 1, 200);
    uint64_t firsts [128];
    int n = s_count_segments (fx->dir, firsts, 128);
    assert_true (n >= 5);
    /* rewrite from inside segment 2: segments 3.. must go, segment 2 is cut */
    uint64_t from = firsts [2] - 3;
    s_append (wal, 2, from, from + 4);
    assert_int_equal (wal_last_index (wal), from + 4);
    assert_int_equal (wal_sync (wal), 0);
    wal_destroy (&wal);

    wal = s_open (fx, 0, 1024, &seen);
    s_assert_seen (&seen, 1, from + 4);
    for (size_t i = 0; i < seen.n; i++)
        assert_int_equal (seen.term [i], seen.index [i] < from ? 1 : 2);
    /* then a conflict exactly at the first index of a segment */
    n = s_count_segments (fx->dir, firsts, 128);
    uint64_t at = firsts [1];
    s_append_synced (wal, 3, at, at);
    wal_destroy (&wal);
    wal = s_open (fx, 0, 1024, &seen);
    s_assert_seen (&seen, 1, at);
    assert_int_equal (seen.term [at - 1], 3);
    assert_int_equal (s_count_segments (fx->dir, NULL, 0), 2);
    wal_destroy (&wal);
}

static void
conflict_at_first_index_replaces_whole_log (void **state)
{
    fixture_t *fx = *state;
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 1024, &seen);
    s_append (wal, 1, 1, 50);
    s_append (wal, 4, 1, 3);
    assert_int_equal (wal_first_index (wal), 1);
    assert_int_equal (wal_last_index (wal), 3);
    assert_int_equal (wal_sync (wal), 0);
    wal_destroy (&wal);
    wal = s_open (fx, 0, 1024, &seen);
    s_assert_seen (&seen, 1, 3);
    assert_int_equal (seen.term [2], 4);
    wal_destroy (&wal);
}

static void
append_with_gap_is_refused_and_changes_nothing (void **state)
{
    fixture_t *fx = *state;
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 0, &seen);
    s_append (wal, 1, 1, 5);
    uint8_t data [4] = { 1, 2, 3, 4 };
    raft_entry_t gap = { 1, 7, 4, data };
    errno = 0;
    assert_int_equal (wal_append (wal, &gap, 1), -1);
    assert_int_equal (errno, EINVAL);
    raft_entry_t zero = { 1, 0, 4, data };
    assert_int_equal (wal_append (wal, &zero, 1), -1);
    /* a batch with a hole in the middle is refused whole */
    raft_entry_t batch [3] = { { 1, 6, 4, data }, { 1, 7, 4, data }, { 1, 9, 4, data } };
    assert_int_equal (wal_append (wal, batch, 3), -1);
    raft_entry_t no_data = { 1, 6, 4, NULL };
    assert_int_equal (wal_append (wal, &no_data, 1), -1);
    assert_int_equal (wal_last_index (wal), 5);
    s_append_synced (wal, 1, 6, 6);
    wal_destroy (&wal);
    s_assert_log (fx, 0, 0, 1, 6);
}

static void
compaction_removes_whole_covered_segments (void **state)
{
    fixture_t *fx = *state;
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 1024, &seen);
    s_append_synced (wal, 1, 1, 200);
    int before = s_count_segments (fx->dir, NULL, 0);
    uint64_t size_before = wal_size_bytes (wal);
    assert_int_equal (wal_compact (wal, 100), 0);
    uint64_t first = wal_first_index (wal);
    assert_true (first > 1 && first <= 101);
    assert_true (s_count_segments (fx->dir, NULL, 0) < before);
    assert_true (wal_size_bytes (wal) < size_before);
    assert_int_equal (wal_last_index (wal), 200);
    /* compacting everything keeps the last (active) segment */
    assert_int_equal (wal_compact (wal, 1000), 0);
    assert_int_equal (s_count_segments (fx->dir, NULL, 0), 1);
    assert_int_equal (wal_last_index (wal), 200);
    s_append_synced (wal, 1, 201, 210);
    uint64_t kept_first = wal_first_index (wal);
    wal_destroy (&wal);

    wal = s_open (fx, 200, 1024, &seen);
    s_assert_seen (&seen, 201, 210);
    assert_int_equal (wal_first_index (wal), kept_first);
    wal_destroy (&wal);
    /* without the snapshot, the compacted prefix is a gap: refuse to start */
    char err [512];
    s_open_fails (fx, 0, err, sizeof err);
    assert_non_null (strstr (err, "snapshot"));
}

static void
reset_drops_everything_and_restarts_at_any_index (void **state)
{
    fixture_t *fx = *state;
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 1024, &seen);
    s_append_synced (wal, 1, 1, 120);
    assert_int_equal (wal_reset (wal, 1000), 0);
    assert_int_equal (wal_first_index (wal), 0);
    assert_int_equal (wal_last_index (wal), 0);
    assert_int_equal (s_count_segments (fx->dir, NULL, 0), 1);
    wal_destroy (&wal);
    wal = s_open (fx, 999, 1024, &seen);
    assert_int_equal (seen.n, 0);
    assert_int_equal (wal_last_index (wal), 0);
    s_append_synced (wal, 5, 1000, 1010);
    wal_destroy (&wal);
    wal = s_open (fx, 999, 1024, &seen);
    s_assert_seen (&seen, 1000, 1010);
    assert_int_equal (wal_first_index (wal), 1000);
    wal_destroy (&wal);
}

static void
snapshot_past_log_end_drops_stale_log (void **state)
{
    fixture_t *fx = *state;
    s_write_log (fx, 0, 1, 1, 10);
    seen_t seen;
    wal_t *wal = s_open (fx, 20, 0, &seen);
    assert_int_equal (seen.n, 0);
    assert_int_equal (wal_last_index (wal), 0);
    s_append_synced (wal, 2, 21, 22);
    wal_destroy (&wal);
    s_assert_log (fx, 20, 0, 21, 22);
}

static void
empty_directory_opens_empty (void **state)
{
    fixture_t *fx = *state;
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 0, &seen);
    assert_int_equal (seen.n, 0);
    assert_int_equal (wal_size_bytes (wal), 0);
    assert_int_equal (wal_sync (wal), 0); /* nothing to sync is fine */
    assert_int_equal (wal_compact (wal, 10), 0);
    s_append_synced (wal, 1, 1, 1);
    assert_int_equal (wal_last_index (wal), 1);
    wal_destroy (&wal);
    wal_destroy (&wal); /* NULL is accepted */
}

static void
missing_directory_is_created (void **state)
{
    fixture_t *fx = *state;
    char dir [128];
    snprintf (dir, sizeof dir, "%s/a/b/data", fx->dir);
    seen_t seen = { .n = 0 };
    char err [256];
    wal_t *wal = wal_open (dir, 0, 0, s_collect, &seen, err, sizeof err);
    assert_non_null (wal);
    struct stat st;
    assert_int_equal (stat (dir, &st), 0);
    assert_true (S_ISDIR (st.st_mode));
    s_append_synced (wal, 1, 1, 3);
    wal_destroy (&wal);
}

static void
unusable_directory_fails_with_reason (void **state)
{
    fixture_t *fx = *state;
    char file [128], dir [160], err [256] = "";
    snprintf (file, sizeof file, "%s/plainfile", fx->dir);
    fixture_write_file (file, (const uint8_t *) "x", 1);
    snprintf (dir, sizeof dir, "%s/sub", file);
    wal_t *wal = wal_open (dir, 0, 0, NULL, NULL, err, sizeof err);
    assert_null (wal);
    assert_non_null (strstr (err, "plainfile"));
}

static void
replay_callback_can_stop_open (void **state)
{
    fixture_t *fx = *state;
    s_write_log (fx, 0, 1, 1, 10);
    seen_t seen = { .stop_at = 4 };
    char err [256] = "";
    wal_t *wal = wal_open (fx->dir, 0, 0, s_collect, &seen, err, sizeof err);
    assert_null (wal);
    assert_non_null (strstr (err, "refused"));
}

static void
large_entry_beyond_write_buffer_round_trips (void **state)
{
    fixture_t *fx = *state;
    size_t len = 600 * 1024;
    uint8_t *data = malloc (len);
    assert_non_null (data);
    for (size_t i = 0; i < len; i++)
        data [i] = (uint8_t) (i * 7);
    char err [256];
    wal_t *wal = wal_open (fx->dir, 0, 0, NULL, NULL, err, sizeof err);
    assert_non_null (wal);
    raft_entry_t e [3] = { { 1, 1, 3, (const uint8_t *) "abc" },
                           { 1, 2, (uint32_t) len, data },
                           { 1, 3, 0, NULL } };
    assert_int_equal (wal_append (wal, e, 3), 0);
    assert_int_equal (wal_sync (wal), 0);
    wal_destroy (&wal);
    char path [128];
    s_seg_path (fx, 1, path, sizeof path);
    size_t flen;
    uint8_t *file = fixture_read_file (path, &flen);
    raft_entry_t got;
    size_t rec, off = s_record_offset (file, flen, 1, 2);
    assert_int_equal (log_record_decode (file + off, flen - off, &got, &rec), LOG_RECORD_OK);
    assert_int_equal (got.len, len);
    assert_memory_equal (got.data, data, len);
    assert_int_equal (log_record_decode (file + off + rec, flen - off - rec, &got, &rec),
                      LOG_RECORD_OK);
    assert_int_equal (got.index, 3);
    assert_int_equal (got.len, 0);
    free (file);
    free (data);
}

/* ---- damage: torn tails versus corruption ------------------------------------- */

/* Five entries in one segment, each in its own synced batch (so entries 2..5 follow
   a sync mark); returns the file image and the offsets of entries. */
static uint8_t *
s_five_records (fixture_t *fx, char *path, size_t path_len, size_t *len, size_t *off3, size_t *off5)
{
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 0, &seen);
    for (uint64_t i = 1; i <= 5; i++)
        s_append_synced (wal, 1, i, i);
    wal_destroy (&wal);
    s_seg_path (fx, 1, path, path_len);
    size_t file_len;
    uint8_t *image = fixture_read_file (path, &file_len);
    *off3 = s_record_offset (image, file_len, 1, 3);
    *off5 = s_record_offset (image, file_len, 1, 5);
    *len = s_record_offset (image, file_len, 1, 6); /* the preallocated zeros are not in it */
    return image;
}

static void
torn_last_record_at_every_byte_is_cut_and_appending_works (void **state)
{
    fixture_t *fx = *state;
    char path [128];
    size_t len, off3, off5;
    uint8_t *image = s_five_records (fx, path, sizeof path, &len, &off3, &off5);
    for (size_t cut = off5; cut < len; cut++) {
        fixture_write_file (path, image, cut);
        seen_t seen;
        wal_t *wal = s_open (fx, 0, 0, &seen);
        s_assert_seen (&seen, 1, 4);
        assert_int_equal (wal_last_index (wal), 4);
        assert_int_equal (wal_truncated_bytes (wal), cut - off5);
        assert_int_equal (wal_size_bytes (wal), off5);
        struct stat st;
        assert_int_equal (stat (path, &st), 0);
        assert_int_equal ((size_t) st.st_size, off5);
        s_append (wal, 2, 5, 6); /* a different entry 5 */
        assert_int_equal (wal_sync (wal), 0);
        wal_destroy (&wal);
        wal = s_open (fx, 0, 0, &seen);
        s_assert_seen (&seen, 1, 6);
        assert_int_equal (seen.term [4], 2);
        assert_int_equal (wal_truncated_bytes (wal), 0);
        wal_destroy (&wal);
    }
    free (image);
}

static void
flipped_bit_in_middle_record_is_corruption (void **state)
{
    fixture_t *fx = *state;
    char path [128];
    size_t len, off3, off5;
    uint8_t *image = s_five_records (fx, path, sizeof path, &len, &off3, &off5);
    size_t end3 = s_record_end (image, len, 1, 3);
    /* every byte of record 3 (length field, CRC field and body): later sync marks show
       that it had been durable, so no crash can have damaged it */
    for (size_t pos = off3; pos < end3; pos++) {
        image [pos] ^= (uint8_t) (1u << (pos % 8));
        fixture_write_file (path, image, len);
        image [pos] ^= (uint8_t) (1u << (pos % 8));
        char err [512];
        s_open_fails (fx, 0, err, sizeof err);
        if (!strstr (err, "log-00000000000000000001.seg") || !strstr (err, "byte offset"))
            fail_msg ("flip at byte %zu: reason lacks file or offset: %s", pos, err);
        char where [64];
        snprintf (where, sizeof where, "byte offset %zu", off3);
        if (!strstr (err, where) || !strstr (err, "sync mark"))
            fail_msg ("flip at byte %zu: expected '%s' and a sync mark in: %s", pos, where, err);
    }
    /* the damaged file was left untouched for an operator to inspect */
    image [off3 + 9] ^= 0x10;
    fixture_write_file (path, image, len);
    char err [512];
    s_open_fails (fx, 0, err, sizeof err);
    size_t after_len;
    uint8_t *after = fixture_read_file (path, &after_len);
    assert_int_equal (after_len, len);
    assert_memory_equal (after, image, len);
    free (after);
    free (image);
}

/* A bad CRC on the final record cannot be told apart from a write that was cut
   short, so it is treated as a torn tail: the record is dropped, open succeeds. */
static void
flipped_bit_in_last_record_is_a_torn_tail (void **state)
{
    fixture_t *fx = *state;
    char path [128];
    size_t len, off3, off5;
    uint8_t *image = s_five_records (fx, path, sizeof path, &len, &off3, &off5);
    for (size_t pos = off5; pos < len; pos++) {
        image [pos] ^= (uint8_t) (1u << (pos % 8));
        fixture_write_file (path, image, len);
        image [pos] ^= (uint8_t) (1u << (pos % 8));
        seen_t seen;
        wal_t *wal = s_open (fx, 0, 0, &seen);
        s_assert_seen (&seen, 1, 4);
        assert_int_equal (wal_truncated_bytes (wal), len - off5);
        wal_destroy (&wal);
    }
    free (image);
}

static void
zero_filled_tail_is_the_clean_end (void **state)
{
    fixture_t *fx = *state;
    char path [128];
    size_t len, off3, off5;
    uint8_t *image = s_five_records (fx, path, sizeof path, &len, &off3, &off5);
    uint8_t *grown = calloc (1, len + 4096);
    assert_non_null (grown);
    memcpy (grown, image, len);
    fixture_write_file (path, grown, len + 4096); /* preallocated space, or a zero-filled hole */
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 0, &seen);
    s_assert_seen (&seen, 1, 5);
    assert_int_equal (wal_truncated_bytes (wal), 0);
    assert_int_equal (wal_size_bytes (wal), len);
    s_append (wal, 1, 6, 6); /* written where record 5 ends, not after the zeros */
    assert_int_equal (wal_sync (wal), 0);
    wal_destroy (&wal);
    s_assert_log (fx, 0, 0, 1, 6);
    free (grown);
    free (image);
}

static void
preallocated_tail_is_cut_when_the_segment_rolls (void **state)
{
    fixture_t *fx = *state;
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 64 * 1024, &seen);
    s_append_synced (wal, 1, 1, 1);
    char path [128];
    struct stat st;
    s_seg_path (fx, 1, path, sizeof path);
    assert_int_equal (stat (path, &st), 0);
    size_t one = (size_t) log_record_size_max (s_data_len (1));
    if ((size_t) st.st_size <= one)
        skip (); /* this file system cannot preallocate: nothing to cut */
    assert_int_equal (st.st_size, 64 * 1024); /* preallocated up to the segment size */
    uint64_t i = 2;
    while (s_count_segments (fx->dir, NULL, 0) < 2) {
        s_append_synced (wal, 1, i, i);
        i++;
    }
    size_t len;
    uint8_t *image = fixture_read_file (path, &len);
    assert_int_equal (s_record_offset (image, len, 1, i - 1), len); /* records only */
    free (image);
    wal_destroy (&wal);
    wal = s_open (fx, 0, 64 * 1024, &seen);
    s_assert_seen (&seen, 1, i - 1);
    assert_int_equal (wal_truncated_bytes (wal), 0);
    wal_destroy (&wal);
}

/* Garbage, then a sync mark naming its own offset, then entry 6: the mark says every
   byte before it had been durable, so the garbage is corruption, not a torn write. */
static void
garbage_before_a_sync_mark_is_corruption (void **state)
{
    fixture_t *fx = *state;
    char path [128];
    size_t len, off3, off5;
    uint8_t *image = s_five_records (fx, path, sizeof path, &len, &off3, &off5);
    uint8_t rec [512], data [256];
    s_fill (data, 1, 6);
    raft_entry_t e6 = { 1, 6, s_data_len (6), data };
    size_t mark_at = len + 13;
    size_t mark_len = log_record_encode_mark (mark_at, rec);
    size_t rec_len = log_record_encode (&e6, rec + mark_len, sizeof rec - mark_len);
    assert_true (rec_len > 0);
    uint8_t *bad = malloc (mark_at + mark_len + rec_len);
    assert_non_null (bad);
    memcpy (bad, image, len);
    memset (bad + len, 0xA5, 13);
    memcpy (bad + mark_at, rec, mark_len + rec_len);
    fixture_write_file (path, bad, mark_at + mark_len + rec_len);
    char err [512], want [64];
    s_open_fails (fx, 0, err, sizeof err);
    snprintf (want, sizeof want, "a sync mark at byte offset %zu", mark_at);
    if (!strstr (err, want))
        fail_msg ("expected '%s' in: %s", want, err);
    /* the same garbage with the valid entry but no mark after it: a torn tail */
    memcpy (bad + mark_at, rec + mark_len, rec_len);
    fixture_write_file (path, bad, mark_at + rec_len);
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 0, &seen);
    s_assert_seen (&seen, 1, 5);
    assert_int_equal (wal_truncated_bytes (wal), 13 + rec_len);
    wal_destroy (&wal);
    free (bad);
    free (image);
}

/* The mark at off of a segment image, or fail. */
static void
s_assert_mark_at (const uint8_t *image, size_t len, size_t off)
{
    uint8_t want [LOG_RECORD_MARK_MAX];
    size_t want_len = log_record_encode_mark (off, want);
    raft_entry_t entry;
    size_t rec_len;
    assert_int_equal (log_record_decode (image + off, len - off, &entry, &rec_len),
                      LOG_RECORD_MARK);
    assert_int_equal (rec_len, want_len);
    assert_memory_equal (image + off, want, want_len);
}

static void
each_batch_after_a_sync_starts_with_a_sync_mark (void **state)
{
    fixture_t *fx = *state;
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 0, &seen);
    s_append_synced (wal, 1, 1, 3);
    s_append_synced (wal, 1, 4, 5); /* one batch: one mark, before 4 */
    wal_destroy (&wal);
    wal = s_open (fx, 0, 0, &seen); /* open syncs what it found: a mark may follow */
    s_append_synced (wal, 1, 6, 6);
    wal_destroy (&wal);
    char path [128];
    size_t len;
    s_seg_path (fx, 1, path, sizeof path);
    uint8_t *image = fixture_read_file (path, &len);
    raft_entry_t entry;
    size_t rec_len;
    assert_int_equal (log_record_decode (image, len, &entry, &rec_len), LOG_RECORD_OK);
    assert_int_equal (entry.index, 1); /* a fresh segment starts with no mark */
    s_assert_mark_at (image, len, s_record_end (image, len, 1, 3));
    assert_int_equal (s_record_offset (image, len, 1, 5), s_record_end (image, len, 1, 4));
    s_assert_mark_at (image, len, s_record_end (image, len, 1, 5));
    free (image);
}

/* Entries 1..20 synced, then a last batch 21..220 (synced too, but only a later mark
   could say so), then, when extra, one more batch 221 whose mark follows it all. The
   4 KiB page after the first mark is zeroed, as a disk that wrote later pages of the
   batch first leaves it. Returns the damaged image. */
typedef struct {
    uint8_t *image;
    size_t len;    /* file size, preallocated zeros included */
    uint64_t kept; /* last entry wholly before the hole */
    size_t kept_end;
    size_t hole;  /* 4096-aligned start of the zeroed page */
    size_t mark3; /* the extra batch's mark */
    char path [128];
} hole_case_t;

static void
s_hole_case (fixture_t *fx, bool extra, hole_case_t *hc)
{
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 0, &seen);
    s_append_synced (wal, 1, 1, 20);
    s_append_synced (wal, 1, 21, 220);
    if (extra) {
        s_append_synced (wal, 1, 221, 221);
    }
    wal_destroy (&wal);
    s_seg_path (fx, 1, hc->path, sizeof hc->path);
    hc->image = fixture_read_file (hc->path, &hc->len);
    size_t mark2 = s_record_end (hc->image, hc->len, 1, 20);
    s_assert_mark_at (hc->image, hc->len, mark2);
    hc->hole = (mark2 / 4096 + 1) * 4096;
    hc->kept = 20;
    while (s_record_end (hc->image, hc->len, 1, hc->kept + 1) <= hc->hole)
        hc->kept++;
    hc->kept_end = s_record_end (hc->image, hc->len, 1, hc->kept);
    /* valid entries of the same batch lie after the hole */
    assert_true (s_record_offset (hc->image, hc->len, 1, 200) > hc->hole + 4096);
    hc->mark3 = extra ? s_record_end (hc->image, hc->len, 1, 220) : 0;
    memset (hc->image + hc->hole, 0, 4096);
    fixture_write_file (hc->path, hc->image, hc->len);
}

static void
zeroed_page_in_the_unsynced_tail_is_a_torn_tail (void **state)
{
    fixture_t *fx = *state;
    hole_case_t hc;
    s_hole_case (fx, false, &hc);
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 0, &seen);
    s_assert_seen (&seen, 1, hc.kept);
    assert_int_equal (wal_last_index (wal), hc.kept);
    assert_int_equal (wal_truncated_bytes (wal), hc.len - hc.kept_end);
    s_append (wal, 2, hc.kept + 1, hc.kept + 3); /* the leader sends them again */
    assert_int_equal (wal_sync (wal), 0);
    wal_destroy (&wal);
    wal = s_open (fx, 0, 0, &seen);
    s_assert_seen (&seen, 1, hc.kept + 3);
    assert_int_equal (seen.term [hc.kept], 2);
    assert_int_equal (wal_truncated_bytes (wal), 0);
    wal_destroy (&wal);
    free (hc.image);
}

static void
zeroed_page_before_a_later_sync_mark_is_corruption (void **state)
{
    fixture_t *fx = *state;
    hole_case_t hc;
    s_hole_case (fx, true, &hc);
    char err [512], want [160];
    s_open_fails (fx, 0, err, sizeof err);
    snprintf (want, sizeof want, "log-00000000000000000001.seg: corrupt record at byte offset %zu",
              hc.kept_end);
    if (!strstr (err, want))
        fail_msg ("expected '%s' in: %s", want, err);
    snprintf (want, sizeof want, "a sync mark at byte offset %zu shows it was durable", hc.mark3);
    if (!strstr (err, want))
        fail_msg ("expected '%s' in: %s", want, err);
    size_t after_len;
    uint8_t *after = fixture_read_file (hc.path, &after_len);
    assert_int_equal (after_len, hc.len); /* left untouched for an operator */
    assert_memory_equal (after, hc.image, hc.len);
    free (after);
    free (hc.image);
}

/* A conflict cuts the log and syncs at once: every byte before the cut is durable, so
   the rewrite starts with a mark, and a hole after that mark is a torn tail. */
static void
conflict_rewrite_starts_with_a_mark_at_the_cut (void **state)
{
    fixture_t *fx = *state;
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 0, &seen);
    s_append (wal, 1, 1, 30);
    s_append (wal, 2, 25, 120); /* no sync between: the cut syncs */
    wal_destroy (&wal);
    char path [128];
    size_t len;
    s_seg_path (fx, 1, path, sizeof path);
    uint8_t *image = fixture_read_file (path, &len);
    size_t cut = s_record_end (image, len, 1, 24);
    s_assert_mark_at (image, len, cut);
    size_t hole = s_record_offset (image, len, 1, 60);
    image [hole + 9] ^= 0x40; /* entry 60 damaged, entries after it valid */
    fixture_write_file (path, image, len);
    wal = s_open (fx, 0, 0, &seen);
    s_assert_seen (&seen, 1, 59);
    assert_int_equal (seen.term [23], 1);
    assert_int_equal (seen.term [24], 2);
    wal_destroy (&wal);
    free (image);
}

/* Entries 1..100 in segments of 1024 bytes (at least three); path names the second,
   firsts[] their first indexes. Returns how many there are. */
static int
s_segments_of_100 (fixture_t *fx, uint64_t *firsts, char *path, size_t path_len)
{
    s_write_log (fx, 1024, 1, 1, 100);
    int n = s_count_segments (fx->dir, firsts, 64);
    assert_true (n >= 3);
    s_seg_path (fx, firsts [1], path, path_len);
    return n;
}

static void
damage_in_non_last_segment_is_corruption (void **state)
{
    fixture_t *fx = *state;
    uint64_t firsts [64];
    char path [128];
    s_segments_of_100 (fx, firsts, path, sizeof path);
    size_t len;
    uint8_t *image = fixture_read_file (path, &len);
    /* damage the LAST record of a middle segment: not a tail, since later segments exist */
    image [len - 1] ^= 0x01;
    fixture_write_file (path, image, len);
    char err [512];
    s_open_fails (fx, 0, err, sizeof err);
    assert_non_null (strstr (err, strrchr (path, '/') + 1));
    assert_non_null (strstr (err, "not the last"));
    /* and a middle segment cut short is corruption too */
    fixture_write_file (path, image, len - 5);
    s_open_fails (fx, 0, err, sizeof err);
    assert_non_null (strstr (err, strrchr (path, '/') + 1));
    free (image);
}

static void
missing_middle_segment_is_a_gap (void **state)
{
    fixture_t *fx = *state;
    uint64_t firsts [64];
    char path [128];
    s_segments_of_100 (fx, firsts, path, sizeof path);
    assert_int_equal (unlink (path), 0);
    char err [512], name [64];
    s_open_fails (fx, 0, err, sizeof err);
    assert_non_null (strstr (err, "gap"));
    snprintf (name, sizeof name, "log-%020" PRIu64 ".seg", firsts [2]);
    assert_non_null (strstr (err, name));
}

static void
segment_name_must_match_its_first_record (void **state)
{
    fixture_t *fx = *state;
    s_write_log (fx, 0, 1, 1, 5);
    char from [128], to [128];
    s_seg_path (fx, 1, from, sizeof from);
    s_seg_path (fx, 2, to, sizeof to);
    assert_int_equal (rename (from, to), 0);
    char err [512];
    s_open_fails (fx, 1, err, sizeof err);
    assert_non_null (strstr (err, "expected 2"));
}


/* ---- repair: cut at the damage instead of refusing ----------------------------- */

static wal_t *
s_open_repair (fixture_t *fx, uint64_t after, seen_t *seen)
{
    char err [512] = "";
    memset (seen, 0, sizeof *seen);
    wal_t *wal = wal_open_repair (fx->dir, after, 1024, s_collect, seen, err, sizeof err);
    if (!wal)
        fail_msg ("wal_open_repair failed: %s", err);
    return wal;
}

static void
s_assert_note_has (const wal_t *wal, const char *want)
{
    if (!strstr (wal_repair_note (wal), want))
        fail_msg ("expected '%s' in the repair note: %s", want, wal_repair_note (wal));
}

static void
repair_cuts_at_the_damage_and_removes_later_segments (void **state)
{
    fixture_t *fx = *state;
    seen_t seen;
    wal_t *wal = s_open (fx, 0, 1024, &seen);
    for (uint64_t i = 1; i <= 100; i += 5) {
        s_append_synced (wal, 1, i, i + 4);
    }
    wal_destroy (&wal);
    uint64_t firsts [64];
    int n = s_count_segments (fx->dir, firsts, 64);
    assert_true (n >= 4);
    char path [128], name [160];
    size_t len;
    s_seg_path (fx, firsts [1], path, sizeof path);
    uint8_t *image = fixture_read_file (path, &len);
    uint64_t bad = firsts [1] + 2;
    size_t off = s_record_offset (image, len, firsts [1], bad);
    image [off + 10] ^= 0x08;
    fixture_write_file (path, image, len);
    char err [512];
    s_open_fails (fx, 0, err, sizeof err); /* without repair: refused */

    wal = s_open_repair (fx, 0, &seen);
    s_assert_seen (&seen, 1, bad - 1);
    assert_int_equal (wal_last_index (wal), bad - 1);
    snprintf (name, sizeof name, "log-%020" PRIu64 ".seg: corrupt record at byte offset %zu",
              firsts [1], off);
    s_assert_note_has (wal, name);
    snprintf (name, sizeof name,
              "it held %zu bytes, preallocated space included), %d later"
              " segment(s) removed",
              len, n - 2);
    s_assert_note_has (wal, name);
    snprintf (name, sizeof name, "the log now ends at index %" PRIu64, bad - 1);
    s_assert_note_has (wal, name);
    assert_null (strstr (wal_repair_note (wal), "refusing"));
    assert_int_equal (s_count_segments (fx->dir, NULL, 0), 2);
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_int_equal ((size_t) st.st_size, off);
    s_append (wal, 2, bad, bad + 9); /* the leader sends the rest again */
    assert_int_equal (wal_sync (wal), 0);
    wal_destroy (&wal);
    wal = s_open (fx, 0, 1024, &seen); /* a plain open is clean again */
    s_assert_seen (&seen, 1, bad + 9);
    wal_destroy (&wal);
    free (image);
}

static void
repair_keeps_the_log_before_a_gap (void **state)
{
    fixture_t *fx = *state;
    uint64_t firsts [64];
    char path [128];
    int n = s_segments_of_100 (fx, firsts, path, sizeof path);
    assert_int_equal (unlink (path), 0);
    seen_t seen;
    wal_t *wal = s_open_repair (fx, 0, &seen);
    s_assert_seen (&seen, 1, firsts [1] - 1);
    s_assert_note_has (wal, "log has a gap");
    char want [64];
    snprintf (want, sizeof want, ", %d later segment(s) removed", n - 2);
    s_assert_note_has (wal, want);
    assert_int_equal (s_count_segments (fx->dir, NULL, 0), 1);
    wal_destroy (&wal);
}

static void
repair_of_a_sound_log_cuts_nothing_and_some_damage_is_not_its_to_mend (void **state)
{
    fixture_t *fx = *state;
    s_write_log (fx, 1024, 1, 1, 50);
    seen_t seen;
    wal_t *wal = s_open_repair (fx, 0, &seen);
    s_assert_seen (&seen, 1, 50);
    assert_string_equal (wal_repair_note (wal), "");
    wal_destroy (&wal);
    /* a replay the caller refuses is not damage: still refused */
    char err [512] = "";
    memset (&seen, 0, sizeof seen);
    seen.stop_at = 7;
    assert_null (wal_open_repair (fx->dir, 0, 1024, s_collect, &seen, err, sizeof err));
    assert_non_null (strstr (err, "refused"));
    /* nor is a snapshot that ends before the log starts: no cut of the log mends it */
    int n = s_count_segments (fx->dir, NULL, 0);
    assert_true (n >= 2);
    char path [128];
    s_seg_path (fx, 1, path, sizeof path);
    assert_int_equal (unlink (path), 0);
    memset (&seen, 0, sizeof seen);
    assert_null (wal_open_repair (fx->dir, 0, 1024, s_collect, &seen, err, sizeof err));
    assert_non_null (strstr (err, "entries missing"));
    assert_int_equal (s_count_segments (fx->dir, NULL, 0), n - 1); /* nothing removed */
}

/* ---- the record codec ---------------------------------------------------------- */

/* Frame an arbitrary body as a record with a correct CRC. */
static size_t
s_frame (const uint8_t *body, uint32_t body_len, uint8_t *out)
{
    uint32_t crc = zc_crc32c (0, body, body_len);
    for (int i = 0; i < 4; i++) {
        out [i] = (uint8_t) (body_len >> (8 * i));
        out [4 + i] = (uint8_t) (crc >> (8 * i));
    }
    memcpy (out + 8, body, body_len);
    return 8 + body_len;
}

static void
record_decoder_tells_torn_from_corrupt (void **state)
{
    (void) state;
    uint8_t rec [256];
    raft_entry_t in = { 0x1234567890ull, 300, 5, (const uint8_t *) "hello" }, out;
    size_t len = log_record_encode (&in, rec, sizeof rec), used;
    assert_true (len > 0);
    assert_int_equal (log_record_encode (&in, rec, len - 1), 0); /* too small */
    assert_int_equal (log_record_decode (rec, len, &out, &used), LOG_RECORD_OK);
    assert_int_equal (used, len);
    assert_int_equal (out.term, in.term);
    assert_int_equal (out.index, 300);
    assert_memory_equal (out.data, "hello", 5);
    for (size_t cut = 0; cut < len; cut++) /* torn */
        assert_int_equal (log_record_decode (rec, cut, &out, &used), LOG_RECORD_INCOMPLETE);
    rec [len - 1] ^= 1;
    assert_int_equal (log_record_decode (rec, len, &out, &used), LOG_RECORD_BAD_CRC);
    uint8_t absurd [16] = { 0x01, 0x00, 0x00, 0x01 }; /* 16 MiB + 1 */
    assert_int_equal (log_record_decode (absurd, 16, &out, &used), LOG_RECORD_BAD_LENGTH);
    uint8_t zero [16] = { 0 };
    assert_int_equal (log_record_decode (zero, 16, &out, &used), LOG_RECORD_BAD_LENGTH);
}

static void
record_decoder_checks_body_shape (void **state)
{
    (void) state;
    struct {
        const char *name;
        uint8_t body [16];
        uint32_t len;
        log_record_status_t want;
    } cases [] = {
        { "canonical", { 0x93, 1, 2, 0xc4, 1, 'x' }, 6, LOG_RECORD_OK },
        { "array16 + uint8", { 0xdc, 0, 3, 0xcc, 7, 2, 0xc4, 0 }, 8, LOG_RECORD_OK },
        { "signed non-neg", { 0x93, 0xd0, 5, 2, 0xc4, 0 }, 6, LOG_RECORD_OK },
        { "negative term", { 0x93, 0xd0, 0xff, 2, 0xc4, 0 }, 6, LOG_RECORD_BAD_BODY },
        { "index zero", { 0x93, 1, 0, 0xc4, 0 }, 5, LOG_RECORD_BAD_BODY },
        { "two elements", { 0x92, 1, 2 }, 3, LOG_RECORD_BAD_BODY },
        { "str not bin", { 0x93, 1, 2, 0xa1, 'x' }, 5, LOG_RECORD_BAD_BODY },
        { "trailing byte", { 0x93, 1, 2, 0xc4, 1, 'x', 0 }, 7, LOG_RECORD_BAD_BODY },
        { "bin longer", { 0x93, 1, 2, 0xc4, 5, 'x' }, 6, LOG_RECORD_BAD_BODY },
        { "cut uint64", { 0x93, 0xcf, 0, 0, 0 }, 5, LOG_RECORD_BAD_BODY },
        { "map", { 0x83, 1, 2, 3, 4, 5, 6 }, 7, LOG_RECORD_BAD_BODY },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        uint8_t rec [32];
        raft_entry_t out;
        size_t used, len = s_frame (cases [i].body, cases [i].len, rec);
        log_record_status_t got = log_record_decode (rec, len, &out, &used);
        if (got != cases [i].want)
            fail_msg ("%s: got %s, want %s", cases [i].name, log_record_status_text (got),
                      log_record_status_text (cases [i].want));
    }
}

static void
sync_mark_bytes_are_pinned_and_a_mark_must_name_its_own_offset (void **state)
{
    (void) state;
    uint8_t mark [LOG_RECORD_MARK_MAX];
    size_t len = log_record_encode_mark (212, mark);
    const uint8_t body [] = { 0x91, 0xcc, 0xd4 };
    assert_int_equal (len, 8 + sizeof body);
    assert_int_equal (mark [0], sizeof body);
    assert_memory_equal (mark + 8, body, sizeof body);
    uint32_t crc = zc_crc32c (0, body, sizeof body);
    for (int i = 0; i < 4; i++)
        assert_int_equal (mark [4 + i], (uint8_t) (crc >> (8 * i)));
    raft_entry_t out;
    size_t used;
    assert_int_equal (log_record_decode (mark, len, &out, &used), LOG_RECORD_MARK);
    assert_int_equal (used, len);
    /* an entry, then a mark: valid only where the mark names its own offset */
    uint8_t image [128];
    raft_entry_t e = { 1, 1, 1, (const uint8_t *) "x" };
    size_t e_len = log_record_encode (&e, image, sizeof image);
    log_record_scan_t res;
    for (int right = 0; right < 2; right++) {
        size_t m_len = log_record_encode_mark (right ? e_len : e_len + 1, image + e_len);
        log_record_scan (image, e_len + m_len, NULL, NULL, &res);
        assert_int_equal (res.n_records, 1);
        assert_int_equal (res.status, right ? LOG_RECORD_OK : LOG_RECORD_BAD_BODY);
        assert_int_equal (res.valid_bytes, right ? e_len + m_len : e_len);
        assert_false (res.torn_tail);
    }
}

static void
record_encoding_is_smallest_msgpack (void **state)
{
    (void) state;
    uint8_t rec [64];
    raft_entry_t e = { 1, 2, 1, (const uint8_t *) "x" };
    size_t len = log_record_encode (&e, rec, sizeof rec);
    const uint8_t want [] = { 0x93, 0x01, 0x02, 0xc4, 0x01, 'x' };
    assert_int_equal (len, 8 + sizeof want);
    assert_memory_equal (rec + 8, want, sizeof want);
    assert_int_equal (rec [0], sizeof want);
    e.term = UINT64_MAX;
    e.index = 65536;
    len = log_record_encode (&e, rec, sizeof rec);
    const uint8_t want2 [] = { 0x93, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                               0xff, 0xce, 0x00, 0x01, 0x00, 0x00, 0xc4, 0x01, 'x' };
    assert_int_equal (len, 8 + sizeof want2);
    assert_memory_equal (rec + 8, want2, sizeof want2);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (record_decoder_tells_torn_from_corrupt),
        cmocka_unit_test (record_decoder_checks_body_shape),
        cmocka_unit_test (record_encoding_is_smallest_msgpack),
        cmocka_unit_test (sync_mark_bytes_are_pinned_and_a_mark_must_name_its_own_offset),
        cmocka_unit_test_setup_teardown (append_sync_reopen_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown (replay_skips_entries_covered_by_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown (twenty_restarts_in_a_row_keep_everything, setup, teardown),
        cmocka_unit_test_setup_teardown (segments_roll_past_segment_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown (conflict_truncates_across_segment_boundary, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (conflict_at_first_index_replaces_whole_log, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (append_with_gap_is_refused_and_changes_nothing, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (compaction_removes_whole_covered_segments, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (reset_drops_everything_and_restarts_at_any_index, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (snapshot_past_log_end_drops_stale_log, setup, teardown),
        cmocka_unit_test_setup_teardown (empty_directory_opens_empty, setup, teardown),
        cmocka_unit_test_setup_teardown (missing_directory_is_created, setup, teardown),
        cmocka_unit_test_setup_teardown (unusable_directory_fails_with_reason, setup, teardown),
        cmocka_unit_test_setup_teardown (replay_callback_can_stop_open, setup, teardown),
        cmocka_unit_test_setup_teardown (large_entry_beyond_write_buffer_round_trips, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (torn_last_record_at_every_byte_is_cut_and_appending_works,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (flipped_bit_in_middle_record_is_corruption, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (flipped_bit_in_last_record_is_a_torn_tail, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (zero_filled_tail_is_the_clean_end, setup, teardown),
        cmocka_unit_test_setup_teardown (preallocated_tail_is_cut_when_the_segment_rolls, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (garbage_before_a_sync_mark_is_corruption, setup, teardown),
        cmocka_unit_test_setup_teardown (each_batch_after_a_sync_starts_with_a_sync_mark, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (zeroed_page_in_the_unsynced_tail_is_a_torn_tail, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (zeroed_page_before_a_later_sync_mark_is_corruption, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (conflict_rewrite_starts_with_a_mark_at_the_cut, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (damage_in_non_last_segment_is_corruption, setup, teardown),
        cmocka_unit_test_setup_teardown (missing_middle_segment_is_a_gap, setup, teardown),
        cmocka_unit_test_setup_teardown (segment_name_must_match_its_first_record, setup, teardown),
        cmocka_unit_test_setup_teardown (repair_cuts_at_the_damage_and_removes_later_segments,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (repair_keeps_the_log_before_a_gap, setup, teardown),
        cmocka_unit_test_setup_teardown (
            repair_of_a_sound_log_cuts_nothing_and_some_damage_is_not_its_to_mend, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
