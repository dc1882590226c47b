/*  test_snapshot_file.c - snapshot and hardstate files: round trips, atomic
    replacement, and corruption detected with a readable reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot_file.h"
#include "fixture.h"

typedef struct {
    char dir [64];
    char path [128];
} fixture_t;

static int
setup (void **state)
{
    fixture_t *fx = calloc (1, sizeof *fx);
    if (!fx)
        return -1;
    if (fixture_dir_new (fx->dir, sizeof fx->dir, "snap"))
        return -1;
    snprintf (fx->path, sizeof fx->path, "%s/snapshot", fx->dir);
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

static uint8_t *
s_body (size_t len, uint8_t seed)
{
    uint8_t *body = malloc (len ? len : 1);
    assert_non_null (body);
    for (size_t i = 0; i < len; i++)
        body [i] = (uint8_t) (i * 13 + seed);
    return body;
}

/* The snapshot must fail to load, with a reason naming the file and the needle. */
static void
s_read_fails (fixture_t *fx, const char *needle)
{
    uint64_t index = 7, term = 7;
    uint8_t *body = NULL;
    size_t len = 0;
    char err [512] = "";
    assert_int_equal (snapshot_file_read (fx->dir, &index, &term, &body, &len, err, sizeof err),
                      -1);
    assert_null (body);
    if (!strstr (err, fx->path) || !strstr (err, needle))
        fail_msg ("reason '%s' lacks '%s' or the path", err, needle);
}

static void
snapshot_round_trip (void **state)
{
    fixture_t *fx = *state;
    uint8_t *body = s_body (100000, 1);
    char err [256];
    assert_int_equal (snapshot_file_write (fx->dir, 1234, 5, body, 100000, err, sizeof err), 0);
    uint64_t index, term;
    uint8_t *got;
    size_t len;
    assert_int_equal (snapshot_file_read (fx->dir, &index, &term, &got, &len, err, sizeof err), 1);
    assert_int_equal (index, 1234);
    assert_int_equal (term, 5);
    assert_int_equal (len, 100000);
    assert_memory_equal (got, body, len);
    free (got);
    free (body);
    char path [128];
    snapshot_file_path (fx->dir, path, sizeof path);
    assert_string_equal (path, fx->path);
    /* the temp file is gone once the snapshot is in place */
    char tmp [160];
    snprintf (tmp, sizeof tmp, "%s.tmp", fx->path);
    assert_int_equal (access (tmp, F_OK), -1);
}

static void
snapshot_absent_reads_as_none (void **state)
{
    fixture_t *fx = *state;
    uint64_t index = 9, term = 9;
    uint8_t *body = NULL;
    size_t len = 0;
    char err [256];
    assert_int_equal (snapshot_file_read (fx->dir, &index, &term, &body, &len, err, sizeof err), 0);
    assert_null (body);
}

static void
snapshot_empty_body_and_overwrite (void **state)
{
    fixture_t *fx = *state;
    char err [256];
    uint8_t *first = s_body (5000, 2);
    assert_int_equal (snapshot_file_write (fx->dir, 10, 1, first, 5000, err, sizeof err), 0);
    assert_int_equal (snapshot_file_write (fx->dir, 20, 2, NULL, 0, err, sizeof err), 0);
    uint64_t index, term;
    uint8_t *got;
    size_t len;
    assert_int_equal (snapshot_file_read (fx->dir, &index, &term, &got, &len, err, sizeof err), 1);
    assert_int_equal (index, 20);
    assert_int_equal (term, 2);
    assert_int_equal (len, 0);
    free (got);
    free (first);
}

static void
corrupted_snapshot_is_detected (void **state)
{
    fixture_t *fx = *state;
    uint8_t *body = s_body (3000, 3);
    char err [256];
    assert_int_equal (snapshot_file_write (fx->dir, 77, 3, body, 3000, err, sizeof err), 0);
    size_t len;
    uint8_t *image = fixture_read_file (fx->path, &len);
    assert_int_equal (len, 32 + 3000);

    image [32 + 1500] ^= 0x04; /* body */
    fixture_write_file (fx->path, image, len);
    s_read_fails (fx, "CRC");
    image [32 + 1500] ^= 0x04;

    image [28] ^= 0x80; /* CRC field */
    fixture_write_file (fx->path, image, len);
    s_read_fails (fx, "CRC");
    image [28] ^= 0x80;

    for (size_t at = 8; at < 24; at++) { /* index and term fields, every bit */
        for (int bit = 0; bit < 8; bit++) {
            image [at] ^= (uint8_t) (1u << bit);
            fixture_write_file (fx->path, image, len);
            s_read_fails (fx, "CRC");
            image [at] ^= (uint8_t) (1u << bit);
        }
    }

    image [0] = 'X'; /* magic */
    fixture_write_file (fx->path, image, len);
    s_read_fails (fx, "magic");
    image [0] = 'Z';

    image [25] ^= 0x01; /* length field */
    fixture_write_file (fx->path, image, len);
    s_read_fails (fx, "corrupt");
    image [25] ^= 0x01;

    fixture_write_file (fx->path, image, len - 1); /* truncated body */
    s_read_fails (fx, "corrupt");
    fixture_write_file (fx->path, image, 20); /* truncated header */
    s_read_fails (fx, "corrupt");
    image [len] = 0;
    fixture_write_file (fx->path, image, len + 1); /* trailing byte */
    s_read_fails (fx, "corrupt");

    fixture_write_file (fx->path, image, len); /* intact again */
    uint64_t index, term;
    uint8_t *got;
    size_t got_len;
    assert_int_equal (snapshot_file_read (fx->dir, &index, &term, &got, &got_len, err, sizeof err),
                      1);
    free (got);
    free (image);
    free (body);
}

static void
leftover_snapshot_tmp_is_ignored (void **state)
{
    fixture_t *fx = *state;
    char tmp [160], err [256];
    snprintf (tmp, sizeof tmp, "%s.tmp", fx->path);
    fixture_write_file (tmp, (const uint8_t *) "ZCSNAP01 half written", 21);
    uint64_t index, term;
    uint8_t *got = NULL;
    size_t len;
    assert_int_equal (snapshot_file_read (fx->dir, &index, &term, &got, &len, err, sizeof err), 0);
    uint8_t *body = s_body (64, 4);
    assert_int_equal (snapshot_file_write (fx->dir, 5, 1, body, 64, err, sizeof err), 0);
    fixture_write_file (tmp, (const uint8_t *) "garbage from a crashed write", 28);
    assert_int_equal (snapshot_file_read (fx->dir, &index, &term, &got, &len, err, sizeof err), 1);
    assert_int_equal (index, 5);
    assert_memory_equal (got, body, 64);
    free (got);
    /* and the next write replaces the leftover cleanly */
    assert_int_equal (snapshot_file_write (fx->dir, 6, 1, body, 64, err, sizeof err), 0);
    assert_int_equal (access (tmp, F_OK), -1);
    free (body);
}

static void
snapshot_write_to_missing_dir_fails_with_reason (void **state)
{
    fixture_t *fx = *state;
    char dir [128], err [256] = "";
    snprintf (dir, sizeof dir, "%s/nope", fx->dir);
    assert_int_equal (snapshot_file_write (dir, 1, 1, (const uint8_t *) "x", 1, err, sizeof err),
                      -1);
    assert_non_null (strstr (err, "nope"));
}

static void
hardstate_round_trip_and_absent (void **state)
{
    fixture_t *fx = *state;
    char err [256];
    raft_hardstate_t hs = { 99, 99 };
    assert_int_equal (hardstate_read (fx->dir, &hs, err, sizeof err), 0);
    assert_int_equal (hs.term, 0);
    assert_int_equal (hs.vote, 0);
    raft_hardstate_t w = { 0x0123456789abcdefull, 3 };
    assert_int_equal (hardstate_write (fx->dir, &w, err, sizeof err), 0);
    assert_int_equal (hardstate_read (fx->dir, &hs, err, sizeof err), 1);
    assert_int_equal (hs.term, w.term);
    assert_int_equal (hs.vote, 3);
    w.term++;
    w.vote = 0;
    assert_int_equal (hardstate_write (fx->dir, &w, err, sizeof err), 0);
    assert_int_equal (hardstate_read (fx->dir, &hs, err, sizeof err), 1);
    assert_int_equal (hs.term, w.term);
    assert_int_equal (hs.vote, 0);
}

static void
corrupted_hardstate_is_detected (void **state)
{
    fixture_t *fx = *state;
    char err [256], path [128];
    raft_hardstate_t w = { 42, 2 }, hs;
    assert_int_equal (hardstate_write (fx->dir, &w, err, sizeof err), 0);
    snprintf (path, sizeof path, "%s/hardstate", fx->dir);
    size_t len;
    uint8_t *image = fixture_read_file (path, &len);
    assert_int_equal (len, 24);
    for (size_t pos = 0; pos < len; pos++) {
        image [pos] ^= (uint8_t) (1u << (pos % 8));
        fixture_write_file (path, image, len);
        image [pos] ^= (uint8_t) (1u << (pos % 8));
        err [0] = 0;
        assert_int_equal (hardstate_read (fx->dir, &hs, err, sizeof err), -1);
        assert_non_null (strstr (err, "hardstate"));
        assert_non_null (strstr (err, "corrupt"));
    }
    fixture_write_file (path, image, 23);
    assert_int_equal (hardstate_read (fx->dir, &hs, err, sizeof err), -1);
    assert_non_null (strstr (err, "corrupt"));
    free (image);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (snapshot_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown (snapshot_absent_reads_as_none, setup, teardown),
        cmocka_unit_test_setup_teardown (snapshot_empty_body_and_overwrite, setup, teardown),
        cmocka_unit_test_setup_teardown (corrupted_snapshot_is_detected, setup, teardown),
        cmocka_unit_test_setup_teardown (leftover_snapshot_tmp_is_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown (snapshot_write_to_missing_dir_fails_with_reason, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (hardstate_round_trip_and_absent, setup, teardown),
        cmocka_unit_test_setup_teardown (corrupted_hardstate_is_detected, setup, teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
