/*  test_snapshot_writer.c - the forked snapshot writer: the file it leaves holds the
    state as it was at the start (later changes in the parent are not in it), a failure
    is reported, and an aborted writer leaves no child behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* snapshot_writer.c never forks under ASan (its allocator deadlocks in the child) */
#if defined(__SANITIZE_ADDRESS__)
#define SKIP_UNDER_ASAN() skip ()
#else
#define SKIP_UNDER_ASAN()                                                                          \
    do {                                                                                           \
    } while (0)
#endif
#include <czmq.h>
#include <sys/wait.h>
#include "chat.h"
#include "snapshot_writer.h"
#include "fixture.h"
#include "snapshot_file.h"

static chat_limits_t s_limits = { 100, 1000, 800 };
static char s_dir [64];

static int
s_save_chat (void *arg, uint8_t **body, size_t *len)
{
    return chat_snapshot_save ((const chat_t *) arg, body, len);
}

static int
s_setup (void **state)
{
    (void) state;
    assert_int_equal (fixture_dir_new (s_dir, sizeof s_dir, "snapwriter"), 0);
    return 0;
}

static int
s_teardown (void **state)
{
    (void) state;
    assert_int_equal (fixture_dir_remove (s_dir), 0);
    return 0;
}

static void
s_apply (chat_t *chat, uint64_t index, zc_op_t op, const char *name, const char *text)
{
    zc_command_t cmd = {
        .op = op,
        .ts = index,
        .cid = 1,
        .seq = index,
        .name = { name, (uint32_t) strlen (name) },
        .text = { text, (uint32_t) strlen (text) },
    };
    chat_user_exists (chat, cmd.name.ptr, cmd.name.len, &cmd.epoch);
    chat_result_t r;
    chat_apply (chat, index, &cmd, &r);
    assert_int_equal (r.code, ZC_OK);
}

/* Poll with a deadline, as the event loop does. */
static int
s_wait (snapshot_writer_t *w)
{
    int64_t deadline = zclock_mono () + 10000;
    int rc;
    while ((rc = snapshot_writer_poll (w)) == 0 && w->pid && zclock_mono () < deadline)
        zclock_sleep (2);
    return rc;
}

static void
snapshot_holds_the_state_at_fork_time (void **state)
{
    (void) state;
    SKIP_UNDER_ASAN ();
    chat_t *chat = chat_new (&s_limits);
    s_apply (chat, 1, ZC_OP_CREATE, "ann", "");
    for (uint64_t i = 2; i <= 500; i++)
        s_apply (chat, i, ZC_OP_SEND, "ann", "a message of some length, queued for ann");
    snapshot_writer_t w = { 0 };
    assert_int_equal (snapshot_writer_start (&w, s_save_chat, chat, s_dir, 500, 3), 0);
    assert_true (w.pid > 0);
    /* changed while the child writes: must not be in the file */
    s_apply (chat, 501, ZC_OP_CREATE, "bo", "");
    assert_int_equal (snapshot_writer_start (&w, s_save_chat, chat, s_dir, 501, 3),
                      -1); /* one at a time */
    assert_int_equal (s_wait (&w), 1);
    assert_int_equal (w.pid, 0);

    uint64_t index, term;
    uint8_t *body;
    size_t len;
    char err [256];
    assert_int_equal (snapshot_file_read (s_dir, &index, &term, &body, &len, err, sizeof err), 1);
    assert_int_equal (index, 500);
    assert_int_equal (term, 3);
    chat_t *loaded = chat_new (&s_limits);
    assert_int_equal (chat_snapshot_load (loaded, body, len), ZC_OK);
    assert_int_equal (chat_user_count (loaded), 1);
    assert_int_equal (chat_queued_count (loaded), 499);
    uint64_t epoch;
    assert_false (chat_user_exists (loaded, "bo", 2, &epoch));
    free (body);
    chat_destroy (&loaded);
    chat_destroy (&chat);
}

static void
failure_in_the_child_is_reported (void **state)
{
    (void) state;
    SKIP_UNDER_ASAN ();
    chat_t *chat = chat_new (&s_limits);
    s_apply (chat, 1, ZC_OP_CREATE, "ann", "");
    snapshot_writer_t w = { 0 };
    char missing [128];
    snprintf (missing, sizeof missing, "%s/no/such/dir", s_dir);
    assert_int_equal (snapshot_writer_start (&w, s_save_chat, chat, missing, 1, 1), 0);
    assert_int_equal (s_wait (&w), -1);
    assert_int_equal (snapshot_writer_poll (&w), 0); /* nothing runs any more */
    chat_destroy (&chat);
}

static void
abort_leaves_no_child (void **state)
{
    (void) state;
    SKIP_UNDER_ASAN ();
    chat_t *chat = chat_new (&s_limits);
    s_apply (chat, 1, ZC_OP_CREATE, "ann", "");
    snapshot_writer_t w = { 0 };
    assert_int_equal (snapshot_writer_start (&w, s_save_chat, chat, s_dir, 1, 1), 0);
    pid_t pid = w.pid;
    snapshot_writer_abort (&w);
    assert_int_equal (w.pid, 0);
    assert_int_equal (waitpid (pid, NULL, WNOHANG), -1); /* reaped: not our child now */
    snapshot_writer_abort (&w);                          /* no child: nothing to do */
    chat_destroy (&chat);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (snapshot_holds_the_state_at_fork_time, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (failure_in_the_child_is_reported, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (abort_leaves_no_child, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
