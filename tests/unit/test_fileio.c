/*  test_fileio.c - directory creation that survives a power cut: every mkdir that
    creates a directory is followed by an fsync of its parent, in order, before the next
    component is created; existing components are left alone; failures stop the walk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "fixture.h"

/* A fake file system: the directories that exist, and the calls made, in order. */
typedef struct {
    const char *exists [8];
    const char *fail_mkdir; /* mkdir of this path fails with EACCES */
    const char *fail_fsync; /* fsync of this path fails with EIO */
    char calls [1024];
} fake_fs_t;

static fake_fs_t s_fs;

static bool
s_exists (const char *path)
{
    for (size_t i = 0; i < 8 && s_fs.exists [i]; i++)
        if (strcmp (s_fs.exists [i], path) == 0)
            return true;
    return false;
}

static void
s_note (const char *call, const char *path)
{
    size_t used = strlen (s_fs.calls);
    snprintf (s_fs.calls + used, sizeof s_fs.calls - used, "%s %s; ", call, path);
}

static int
s_fake_mkdir (const char *path, mode_t mode)
{
    assert_int_equal (mode, 0755);
    s_note ("mkdir", path);
    if (s_fs.fail_mkdir && strcmp (path, s_fs.fail_mkdir) == 0)
        return errno = EACCES, -1;
    return s_exists (path) ? (errno = EEXIST, -1) : 0;
}

static int
s_fake_fsync_dir (const char *path)
{
    s_note ("fsync", path);
    if (s_fs.fail_fsync && strcmp (path, s_fs.fail_fsync) == 0)
        return errno = EIO, -1;
    return 0;
}

static const fileio_dir_ops_t s_fake = { s_fake_mkdir, s_fake_fsync_dir };

static void
s_reset (void)
{
    memset (&s_fs, 0, sizeof s_fs);
}

static void
each_new_directory_is_followed_by_an_fsync_of_its_parent (void **state)
{
    (void) state;
    s_reset ();
    s_fs.exists [0] = "/srv";
    assert_int_equal (fileio_mkdir_durable ("/srv/zchat/data", &s_fake), 0);
    assert_string_equal (s_fs.calls, "mkdir /srv; mkdir /srv/zchat; fsync /srv; "
                                     "mkdir /srv/zchat/data; fsync /srv/zchat; ");
}

static void
relative_path_fsyncs_the_working_directory_first (void **state)
{
    (void) state;
    s_reset ();
    assert_int_equal (fileio_mkdir_durable ("data//r1/", &s_fake), 0);
    assert_string_equal (s_fs.calls, "mkdir data; fsync .; mkdir data//r1; fsync data; ");
    s_reset ();
    assert_int_equal (fileio_mkdir_durable ("/top", &s_fake), 0);
    assert_string_equal (s_fs.calls, "mkdir /top; fsync /; ");
}

static void
existing_directories_are_not_synced (void **state)
{
    (void) state;
    s_reset ();
    s_fs.exists [0] = "/srv";
    s_fs.exists [1] = "/srv/data";
    assert_int_equal (fileio_mkdir_durable ("/srv/data", &s_fake), 0);
    assert_string_equal (s_fs.calls, "mkdir /srv; mkdir /srv/data; ");
}

static void
a_failed_mkdir_or_fsync_stops_before_the_next_component (void **state)
{
    (void) state;
    s_reset ();
    s_fs.fail_mkdir = "/a/b";
    errno = 0;
    assert_int_equal (fileio_mkdir_durable ("/a/b/c", &s_fake), -1);
    assert_int_equal (errno, EACCES);
    assert_string_equal (s_fs.calls, "mkdir /a; fsync /; mkdir /a/b; ");
    s_reset ();
    s_fs.fail_fsync = "/a";
    assert_int_equal (fileio_mkdir_durable ("/a/b/c", &s_fake), -1);
    assert_int_equal (errno, EIO);
    assert_string_equal (s_fs.calls, "mkdir /a; fsync /; mkdir /a/b; fsync /a; ");
}

static void
real_calls_create_every_component (void **state)
{
    (void) state;
    char base [64];
    assert_int_equal (fixture_dir_new (base, sizeof base, "fileio"), 0);
    char path [128];
    snprintf (path, sizeof path, "%s/x/y", base);
    assert_int_equal (fileio_mkdir_durable (path, NULL), 0);
    assert_int_equal (fileio_mkdir_durable (path, NULL), 0); /* again: all exist */
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    assert_true (S_ISDIR (st.st_mode));
    assert_int_equal (fixture_dir_remove (base), 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (each_new_directory_is_followed_by_an_fsync_of_its_parent),
        cmocka_unit_test (relative_path_fsyncs_the_working_directory_first),
        cmocka_unit_test (existing_directories_are_not_synced),
        cmocka_unit_test (a_failed_mkdir_or_fsync_stops_before_the_next_component),
        cmocka_unit_test (real_calls_create_every_component),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
