/*  fixture.h - what the unit tests share, so that each test file holds only the
    behaviour it checks: a private directory under /tmp for a test, removed with all
    it holds afterwards; whole-file reads and writes that fail the test on any error;
    and the seeded generator whose sequence the randomized chat tests replay.
    Include it after <cmocka.h>. */
#ifndef ZCHAT_TEST_FIXTURE_H
#define ZCHAT_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

/* Create a fresh directory /tmp/zchat-test-<name>-XXXXXX and write its path into
   dir[dir_len]. Returns 0, or -1 (errno set; dir is then unusable). */
int fixture_dir_new (char *dir, size_t dir_len, const char *name);

/* Remove dir and everything below it; links are removed, never followed. Returns 0,
   or -1 when something could not be removed. */
int fixture_dir_remove (const char *dir);

/* The whole file at path; *len is its size. Fails the test if it cannot be read.
   The caller owns the buffer (one byte longer than *len) and frees it. */
uint8_t *fixture_read_file (const char *path, size_t *len);

/* Replace the file at path with buf[0..len). Fails the test on any error. */
void fixture_write_file (const char *path, const uint8_t *buf, size_t len);

/* xorshift64: the next value of the sequence in *state (never 0 to start). Tests that
   compare two runs draw from two states seeded alike. */
uint64_t fixture_rand (uint64_t *state);

#endif
