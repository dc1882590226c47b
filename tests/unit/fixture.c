/*  fixture.c - see fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fixture.h"

int
fixture_dir_new (char *dir, size_t dir_len, const char *name)
{
    int n = snprintf (dir, dir_len, "/tmp/zchat-test-%s-XXXXXX", name);
    if (n < 0 || (size_t) n >= dir_len)
        return -1;
    return mkdtemp (dir) ? 0 : -1;
}

static int
s_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove (path);
}

int
fixture_dir_remove (const char *dir)
{
    /* depth first, so that a directory is empty when its turn comes */
    return nftw (dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

uint8_t *
fixture_read_file (const char *path, size_t *len)
{
    FILE *f = fopen (path, "rb");
    assert_non_null (f);
    fseek (f, 0, SEEK_END);
    *len = (size_t) ftell (f);
    fseek (f, 0, SEEK_SET);
    uint8_t *buf = malloc (*len + 1);
    assert_non_null (buf);
    assert_int_equal (fread (buf, 1, *len, f), *len);
    fclose (f);
    return buf;
}

void
fixture_write_file (const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen (path, "wb");
    assert_non_null (f);
    assert_int_equal (fwrite (buf, 1, len, f), len);
    fclose (f);
}

uint64_t
fixture_rand (uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}
