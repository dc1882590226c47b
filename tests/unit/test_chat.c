/*  test_chat.c - the chat state machine: every command's success and errors, the client
    table (G3), incarnations (G6), limits (G10), list with PCRE2, determinism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "chat.h"
#include "fixture.h"

/* ---- helpers: commands are built directly, as the log decoder would hand them ---- */

static zc_bytes_t
s_bytes (const char *s)
{
    return (zc_bytes_t) { s, s ? (uint32_t) strlen (s) : 0 };
}

static zc_command_t
s_cmd (zc_op_t op, uint64_t cid, uint64_t seq, const char *name)
{
    zc_command_t cmd = { .op = op, .cid = cid, .seq = seq, .name = s_bytes (name), .ts = 1000 };
    return cmd;
}

static chat_result_t
s_apply (chat_t *chat, uint64_t index, const zc_command_t *cmd)
{
    chat_result_t result;
    chat_apply (chat, index, cmd, &result);
    return result;
}

static chat_result_t
s_create (chat_t *chat, uint64_t index, const char *name)
{
    zc_command_t cmd = s_cmd (ZC_OP_CREATE, 0, 0, name);
    return s_apply (chat, index, &cmd);
}

static chat_result_t
s_delete (chat_t *chat, uint64_t index, const char *name)
{
    zc_command_t cmd = s_cmd (ZC_OP_DELETE, 0, 0, name);
    return s_apply (chat, index, &cmd);
}

static chat_result_t
s_send (chat_t *chat, uint64_t index, const char *to, const char *text)
{
    zc_command_t cmd = s_cmd (ZC_OP_SEND, 0, 0, to);
    cmd.text = s_bytes (text);
    cmd.from = s_bytes ("alice");
    cmd.ts = 5000 + index;
    return s_apply (chat, index, &cmd);
}

static chat_result_t
s_ack (chat_t *chat, uint64_t index, const char *name, uint64_t epoch, uint64_t mseq)
{
    zc_command_t cmd = s_cmd (ZC_OP_ACK, 0, 0, name);
    cmd.epoch = epoch;
    cmd.mseq = mseq;
    return s_apply (chat, index, &cmd);
}

static chat_t *
s_chat (uint32_t max_users, uint32_t max_queue, uint32_t max_clients)
{
    chat_limits_t limits = { max_users, max_queue, max_clients };
    chat_t *chat = chat_new (&limits);
    assert_non_null (chat);
    return chat;
}

/* ---- create ---- */

static void
create_user_gets_epoch_of_its_index (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    chat_result_t r = s_create (chat, 42, "bob");
    assert_int_equal (r.code, ZC_OK);
    assert_int_equal (r.epoch, 42);
    uint64_t epoch = 0;
    assert_true (chat_user_exists (chat, "bob", 3, &epoch));
    assert_int_equal (epoch, 42);
    assert_int_equal (chat_user_count (chat), 1);
    chat_destroy (&chat);
    assert_null (chat);
}

static void
create_existing_user_fails (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    s_create (chat, 1, "bob");
    chat_result_t r = s_create (chat, 2, "bob");
    assert_int_equal (r.code, ZC_ERR_USER_EXISTS);
    uint64_t epoch;
    assert_true (chat_user_exists (chat, "bob", 3, &epoch));
    assert_int_equal (epoch, 1);
    chat_destroy (&chat);
}

static void
create_with_bad_name_fails (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    const char *bad [] = { "", "with space", "semi;colon", "caf\xc3\xa9",
                           "abcdefghijklmnopqrstuvwxyz0123456" /* 33 bytes */ };
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad [0]); i++)
        assert_int_equal (s_create (chat, i + 1, bad [i]).code, ZC_ERR_BAD_NAME);
    assert_int_equal (s_create (chat, 9, "abcdefghijklmnopqrstuvwxyz012345").code, ZC_OK);
    assert_int_equal (s_create (chat, 10, "A.b_c-9").code, ZC_OK);
    assert_int_equal (chat_user_count (chat), 2);
    chat_destroy (&chat);
}

static void
create_beyond_max_users_fails (void **state)
{
    (void) state;
    chat_t *chat = s_chat (2, 10, 10);
    assert_int_equal (s_create (chat, 1, "a").code, ZC_OK);
    assert_int_equal (s_create (chat, 2, "b").code, ZC_OK);
    assert_int_equal (s_create (chat, 3, "c").code, ZC_ERR_TOO_MANY_USERS);
    assert_false (chat_user_exists (chat, "c", 1, NULL));
    s_delete (chat, 4, "a");
    assert_int_equal (s_create (chat, 5, "c").code, ZC_OK);
    chat_destroy (&chat);
}

/* ---- delete ---- */

static void
delete_removes_user_and_its_messages (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    s_create (chat, 1, "bob");
    s_create (chat, 2, "carol");
    s_send (chat, 3, "bob", "hi");
    s_send (chat, 4, "bob", "there");
    s_send (chat, 5, "carol", "x");
    assert_int_equal (chat_queued_count (chat), 3);
    assert_int_equal (s_delete (chat, 6, "bob").code, ZC_OK);
    assert_false (chat_user_exists (chat, "bob", 3, NULL));
    assert_int_equal (chat_queued_count (chat), 1);
    assert_int_equal (chat_queued_bytes (chat), 1);
    assert_int_equal (chat_user_count (chat), 1);
    chat_destroy (&chat);
}

static void
delete_missing_user_fails (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    assert_int_equal (s_delete (chat, 1, "ghost").code, ZC_ERR_NO_SUCH_USER);
    assert_int_equal (s_delete (chat, 2, "bad name").code, ZC_ERR_BAD_NAME);
    chat_destroy (&chat);
}

static void
recreated_user_starts_empty_with_new_epoch (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    s_create (chat, 1, "bob");
    s_send (chat, 2, "bob", "old");
    s_delete (chat, 3, "bob");
    chat_result_t r = s_create (chat, 4, "bob");
    assert_int_equal (r.code, ZC_OK);
    assert_int_equal (r.epoch, 4);
    assert_int_equal (chat_queued_count (chat), 0);
    chat_message_t out [4];
    assert_int_equal (chat_queue_peek (chat, "bob", 3, 4, 0, out, 4), 0);
    r = s_send (chat, 5, "bob", "new");
    assert_int_equal (r.mseq, 1);
    assert_int_equal (r.epoch, 4);
    chat_destroy (&chat);
}

/* ---- send ---- */

static void
send_queues_messages_in_order (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    s_create (chat, 7, "bob");
    for (uint64_t i = 1; i <= 3; i++) {
        chat_result_t r = s_send (chat, 7 + i, "bob", i == 2 ? "second, with\nnewline" : "m");
        assert_int_equal (r.code, ZC_OK);
        assert_int_equal (r.epoch, 7);
        assert_int_equal (r.mseq, i);
    }
    chat_message_t out [8];
    assert_int_equal (chat_queue_peek (chat, "bob", 3, 7, 0, out, 8), 3);
    assert_int_equal (out [1].mseq, 2);
    assert_int_equal (out [1].ts, 5009);
    assert_int_equal (out [1].from.len, 5);
    assert_memory_equal (out [1].from.ptr, "alice", 5);
    assert_int_equal (out [1].text.len, strlen ("second, with\nnewline"));
    assert_memory_equal (out [1].text.ptr, "second, with\nnewline", out [1].text.len);
    assert_int_equal (chat_queue_peek (chat, "bob", 3, 7, 1, out, 8), 2);
    assert_int_equal (out [0].mseq, 2);
    assert_int_equal (chat_queue_peek (chat, "bob", 3, 7, 0, out, 1), 1);
    assert_int_equal (chat_queue_peek (chat, "bob", 3, 8, 0, out, 8), 0);
    assert_int_equal (chat_queued_bytes (chat), 2 + strlen ("second, with\nnewline"));
    chat_destroy (&chat);
}

static void
send_to_missing_user_fails (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    chat_result_t r = s_send (chat, 1, "ghost", "hello");
    assert_int_equal (r.code, ZC_ERR_NO_SUCH_USER);
    assert_int_equal (chat_queued_count (chat), 0);
    chat_destroy (&chat);
}

static void
send_with_bad_names_fails (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    s_create (chat, 1, "bob");
    assert_int_equal (s_send (chat, 2, "b o b", "x").code, ZC_ERR_BAD_NAME);
    zc_command_t cmd = s_cmd (ZC_OP_SEND, 0, 0, "bob");
    cmd.from = s_bytes ("not a name");
    assert_int_equal (s_apply (chat, 3, &cmd).code, ZC_ERR_BAD_NAME);
    cmd.from = s_bytes (""); /* anonymous sender is allowed */
    assert_int_equal (s_apply (chat, 4, &cmd).code, ZC_OK);
    assert_int_equal (chat_queued_count (chat), 1);
    chat_destroy (&chat);
}

static void
send_text_too_long_fails (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    s_create (chat, 1, "bob");
    char text [ZC_TEXT_MAX + 2];
    memset (text, 'x', sizeof (text));
    text [ZC_TEXT_MAX + 1] = 0;
    assert_int_equal (s_send (chat, 2, "bob", text).code, ZC_ERR_TEXT_TOO_LONG);
    text [ZC_TEXT_MAX] = 0;
    assert_int_equal (s_send (chat, 3, "bob", text).code, ZC_OK);
    assert_int_equal (chat_queued_bytes (chat), ZC_TEXT_MAX);
    chat_destroy (&chat);
}

static void
send_to_full_queue_fails (void **state)
{
    (void) state;
    chat_t *chat = s_chat (10, 3, 10);
    chat_result_t r = s_create (chat, 1, "bob");
    for (int i = 0; i < 3; i++)
        assert_int_equal (s_send (chat, 2 + i, "bob", "m").code, ZC_OK);
    assert_int_equal (s_send (chat, 5, "bob", "m").code, ZC_ERR_QUEUE_FULL);
    assert_int_equal (chat_queued_count (chat), 3);
    s_ack (chat, 6, "bob", r.epoch, 1);
    chat_result_t again = s_send (chat, 7, "bob", "m");
    assert_int_equal (again.code, ZC_OK);
    assert_int_equal (again.mseq, 4); /* the failed send consumed no mseq */
    chat_destroy (&chat);
}

/* ---- connect ---- */

static void
connect_returns_epoch_and_last_mseq (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    s_create (chat, 3, "bob");
    zc_command_t cmd = s_cmd (ZC_OP_CONNECT, 0, 0, "bob");
    chat_result_t r = s_apply (chat, 4, &cmd);
    assert_int_equal (r.code, ZC_OK);
    assert_int_equal (r.epoch, 3);
    assert_int_equal (r.mseq, 0);
    s_send (chat, 5, "bob", "a");
    s_send (chat, 6, "bob", "b");
    s_ack (chat, 7, "bob", 3, 2);
    r = s_apply (chat, 8, &cmd);
    assert_int_equal (r.mseq, 2); /* highest assigned, even though acked */
    chat_destroy (&chat);
}

static void
connect_to_missing_user_fails (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    zc_command_t cmd = s_cmd (ZC_OP_CONNECT, 0, 0, "ghost");
    assert_int_equal (s_apply (chat, 1, &cmd).code, ZC_ERR_NO_SUCH_USER);
    cmd.name = s_bytes ("");
    assert_int_equal (s_apply (chat, 2, &cmd).code, ZC_ERR_BAD_NAME);
    chat_destroy (&chat);
}

/* ---- ack ---- */

static void
ack_drops_messages_cumulatively (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    s_create (chat, 1, "bob");
    for (int i = 0; i < 5; i++)
        s_send (chat, 2 + i, "bob", "m");
    assert_int_equal (s_ack (chat, 10, "bob", 1, 3).code, ZC_OK);
    chat_message_t out [8];
    assert_int_equal (chat_queue_peek (chat, "bob", 3, 1, 0, out, 8), 2);
    assert_int_equal (out [0].mseq, 4);
    assert_int_equal (s_ack (chat, 11, "bob", 1, 2).code, ZC_OK); /* lower: no-op */
    assert_int_equal (chat_queued_count (chat), 2);
    assert_int_equal (s_ack (chat, 12, "bob", 1, 99).code, ZC_OK);
    assert_int_equal (chat_queued_count (chat), 0);
    assert_int_equal (s_send (chat, 13, "bob", "m").mseq, 6);
    chat_destroy (&chat);
}

static void
stale_ack_does_not_touch_new_incarnation (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    s_create (chat, 1, "bob");
    s_send (chat, 2, "bob", "old");
    s_delete (chat, 3, "bob");
    s_create (chat, 4, "bob");
    s_send (chat, 5, "bob", "new");
    assert_int_equal (s_ack (chat, 6, "bob", 1, 10).code, ZC_OK);
    assert_int_equal (chat_queued_count (chat), 1);
    assert_int_equal (s_ack (chat, 7, "ghost", 1, 10).code, ZC_OK);
    chat_destroy (&chat);
}

static void
noop_and_failures_change_nothing (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    s_create (chat, 1, "bob");
    s_send (chat, 2, "bob", "m");
    uint64_t before = chat_digest (chat);
    zc_command_t noop = s_cmd (ZC_OP_NOOP, 0, 0, NULL);
    assert_int_equal (s_apply (chat, 3, &noop).code, ZC_OK);
    assert_int_equal (s_create (chat, 4, "bob").code, ZC_ERR_USER_EXISTS);
    assert_int_equal (s_send (chat, 5, "ghost", "m").code, ZC_ERR_NO_SUCH_USER);
    assert_int_equal (s_delete (chat, 6, "ghost").code, ZC_ERR_NO_SUCH_USER);
    zc_command_t unknown = s_cmd ((zc_op_t) 99, 0, 0, "bob");
    assert_int_equal (s_apply (chat, 7, &unknown).code, ZC_ERR_UNKNOWN_COMMAND);
    assert_int_equal (chat_digest (chat), before);
    chat_destroy (&chat);
}

/* ---- client table (G3) ---- */

static chat_result_t
s_req (chat_t *chat, uint64_t index, zc_op_t op, uint64_t cid, uint64_t seq, const char *name)
{
    zc_command_t cmd = s_cmd (op, cid, seq, name);
    cmd.text = s_bytes ("hello");
    return s_apply (chat, index, &cmd);
}

static void
retried_send_is_answered_from_table (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    s_create (chat, 1, "bob");
    chat_result_t first = s_req (chat, 2, ZC_OP_SEND, 77, 1, "bob");
    assert_int_equal (first.code, ZC_OK);
    assert_false (first.duplicate);
    assert_int_equal (first.mseq, 1);
    chat_result_t retry = s_req (chat, 3, ZC_OP_SEND, 77, 1, "bob");
    assert_int_equal (retry.code, ZC_OK);
    assert_true (retry.duplicate);
    assert_int_equal (retry.mseq, 1); /* the original result, not a new one */
    assert_int_equal (chat_queued_count (chat), 1);
    /* the same seq from another client is a different request */
    assert_false (s_req (chat, 4, ZC_OP_SEND, 78, 1, "bob").duplicate);
    assert_int_equal (chat_queued_count (chat), 2);
    chat_destroy (&chat);
}

static void
retried_failure_gets_original_code (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    assert_int_equal (s_req (chat, 1, ZC_OP_SEND, 5, 1, "bob").code, ZC_ERR_NO_SUCH_USER);
    s_create (chat, 2, "bob");
    chat_result_t retry = s_req (chat, 3, ZC_OP_SEND, 5, 1, "bob");
    assert_int_equal (retry.code, ZC_ERR_NO_SUCH_USER);
    assert_true (retry.duplicate);
    assert_int_equal (chat_queued_count (chat), 0);
    /* and a retried create that succeeded is not USER_EXISTS */
    assert_int_equal (s_req (chat, 4, ZC_OP_CREATE, 5, 2, "carol").code, ZC_OK);
    retry = s_req (chat, 5, ZC_OP_CREATE, 5, 2, "carol");
    assert_int_equal (retry.code, ZC_OK);
    assert_true (retry.duplicate);
    assert_int_equal (retry.epoch, 4); /* the epoch the original create gave */
    /* even after carol was deleted and created again by someone else */
    s_req (chat, 6, ZC_OP_DELETE, 9, 1, "carol");
    s_req (chat, 7, ZC_OP_CREATE, 9, 2, "carol");
    retry = s_req (chat, 8, ZC_OP_CREATE, 5, 2, "carol");
    assert_int_equal (retry.epoch, 4);
    chat_destroy (&chat);
}

static void
out_of_order_seqs_within_window_apply_once (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    s_create (chat, 1, "bob");
    assert_false (s_req (chat, 2, ZC_OP_SEND, 9, 7, "bob").duplicate);
    assert_false (s_req (chat, 3, ZC_OP_SEND, 9, 5, "bob").duplicate);
    assert_true (s_req (chat, 4, ZC_OP_SEND, 9, 7, "bob").duplicate);
    assert_true (s_req (chat, 5, ZC_OP_SEND, 9, 5, "bob").duplicate);
    assert_false (s_req (chat, 6, ZC_OP_SEND, 9, 6, "bob").duplicate);
    assert_int_equal (chat_queued_count (chat), 3);
    chat_destroy (&chat);
}

static void
request_older_than_window_is_stale (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    s_create (chat, 1, "bob");
    s_req (chat, 2, ZC_OP_SEND, 9, 1, "bob");
    s_req (chat, 3, ZC_OP_SEND, 9, 300, "bob");
    uint64_t before = chat_digest (chat);
    assert_int_equal (s_req (chat, 4, ZC_OP_SEND, 9, 1, "bob").code, ZC_ERR_STALE_REQUEST);
    assert_int_equal (s_req (chat, 5, ZC_OP_SEND, 9, 300 - CHAT_DEDUP_WINDOW, "bob").code,
                      ZC_ERR_STALE_REQUEST);
    assert_int_equal (chat_digest (chat), before);
    chat_result_t r = s_req (chat, 6, ZC_OP_SEND, 9, 300 - CHAT_DEDUP_WINDOW + 1, "bob");
    assert_int_equal (r.code, ZC_OK);
    assert_false (r.duplicate);
    assert_int_equal (chat_queued_count (chat), 3);
    chat_destroy (&chat);
}

static void
full_client_table_evicts_least_recently_active (void **state)
{
    (void) state;
    chat_t *chat = s_chat (10, 100, 3);
    s_create (chat, 1, "bob");
    s_req (chat, 2, ZC_OP_SEND, 101, 1, "bob");
    s_req (chat, 3, ZC_OP_SEND, 102, 1, "bob");
    s_req (chat, 4, ZC_OP_SEND, 103, 1, "bob");
    s_req (chat, 5, ZC_OP_SEND, 101, 2, "bob"); /* 101 active again: 102 is oldest */
    s_req (chat, 6, ZC_OP_SEND, 104, 1, "bob"); /* evicts 102 */
    assert_int_equal (chat_queued_count (chat), 5);
    assert_true (s_req (chat, 7, ZC_OP_SEND, 101, 1, "bob").duplicate);
    assert_true (s_req (chat, 8, ZC_OP_SEND, 103, 1, "bob").duplicate);
    assert_true (s_req (chat, 9, ZC_OP_SEND, 104, 1, "bob").duplicate);
    /* 102 was forgotten: its retry is applied again (the cost of a bounded table) */
    assert_false (s_req (chat, 10, ZC_OP_SEND, 102, 1, "bob").duplicate);
    assert_int_equal (chat_queued_count (chat), 6);
    chat_destroy (&chat);
}

static void
requests_without_client_id_are_not_deduplicated (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    s_create (chat, 1, "bob");
    assert_false (s_req (chat, 2, ZC_OP_SEND, 0, 1, "bob").duplicate);
    assert_false (s_req (chat, 3, ZC_OP_SEND, 0, 1, "bob").duplicate);
    assert_int_equal (chat_queued_count (chat), 2);
    chat_destroy (&chat);
}

/* ---- list ---- */

static void
list_returns_all_names_sorted_bytewise (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    const char *names [] = { "bob", "Bob", "alice", "_x", "a.b", "a", "9" };
    for (size_t i = 0; i < 7; i++)
        s_create (chat, i + 1, names [i]);
    const char *sorted [] = { "9", "Bob", "_x", "a", "a.b", "alice", "bob" };
    zc_bytes_t out [10];
    size_t n = 0;
    assert_int_equal (chat_list (chat, NULL, 0, out, 10, &n, NULL, 0), ZC_OK);
    assert_int_equal (n, 7);
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal (out [i].len, strlen (sorted [i]));
        assert_memory_equal (out [i].ptr, sorted [i], out [i].len);
    }
    /* fewer slots than matches: the first ones in order, and the total */
    assert_int_equal (chat_list (chat, "", 0, out, 2, &n, NULL, 0), ZC_OK);
    assert_int_equal (n, 7);
    assert_memory_equal (out [1].ptr, "Bob", 3);
    chat_destroy (&chat);
}

static void
list_filters_with_regex (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    const char *names [] = { "alice", "bob", "carol", "alfred", "xal" };
    for (size_t i = 0; i < 5; i++)
        s_create (chat, i + 1, names [i]);
    zc_bytes_t out [10];
    size_t n = 0;
    assert_int_equal (chat_list (chat, "^al", 3, out, 10, &n, NULL, 0), ZC_OK);
    assert_int_equal (n, 2);
    assert_memory_equal (out [0].ptr, "alfred", 6);
    assert_memory_equal (out [1].ptr, "alice", 5);
    assert_int_equal (chat_list (chat, "al", 2, out, 10, &n, NULL, 0), ZC_OK);
    assert_int_equal (n, 3); /* unanchored: finds it anywhere */
    assert_int_equal (chat_list (chat, "^(bob|carol)$", 13, out, 10, &n, NULL, 0), ZC_OK);
    assert_int_equal (n, 2);
    assert_int_equal (chat_list (chat, "zzz", 3, out, 10, &n, NULL, 0), ZC_OK);
    assert_int_equal (n, 0);
    chat_destroy (&chat);
}

static void
list_with_bad_pattern_fails_with_message (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    s_create (chat, 1, "bob");
    zc_bytes_t out [4];
    size_t n = 99;
    char err [128] = "";
    assert_int_equal (chat_list (chat, "(", 1, out, 4, &n, err, sizeof (err)), ZC_ERR_BAD_PATTERN);
    assert_int_equal (n, 0);
    assert_non_null (strstr (err, "missing closing parenthesis"));
    char longp [300];
    memset (longp, 'a', sizeof (longp));
    assert_int_equal (chat_list (chat, longp, sizeof (longp), out, 4, &n, err, sizeof (err)),
                      ZC_ERR_BAD_PATTERN);
    assert_int_equal (chat_list (chat, "\xff", 1, out, 4, &n, err, sizeof (err)),
                      ZC_ERR_BAD_PATTERN);
    chat_destroy (&chat);
}

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
list_pathological_patterns_finish_quickly (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    char name [40];
    for (int i = 0; i < 10000; i++) {
        snprintf (name, sizeof (name), "aaaaaaaaaaaaaaaaaaaaaaaaaaaa%04d", i);
        assert_int_equal (s_create (chat, i + 1, name).code, ZC_OK);
    }
    const char *patterns [] = { "(a+)+$",       "(.*){1,32000}b",       "(?:a|a)*b",
                                "(a|aa)+$",     "^(?:a|a){0,12}\\d{5}", "((a*)*)*[0-9]{5}",
                                "(a?){28}a{28}" };
    static zc_bytes_t out [10000];
    for (size_t i = 0; i < sizeof (patterns) / sizeof (patterns [0]); i++) {
        size_t n;
        char err [200];
        double start = s_now ();
        zc_code_t code = chat_list (chat, patterns [i], strlen (patterns [i]), out, 10000, &n, err,
                                    sizeof (err));
        double took = s_now () - start;
        print_message ("%-24s -> %s in %.3f s %s\n", patterns [i], zc_code_name (code), took, err);
        assert_true (code == ZC_OK || code == ZC_ERR_PATTERN_TOO_COMPLEX
                     || code == ZC_ERR_BAD_PATTERN);
        assert_true (took < 2.0);
    }
    /* the catastrophic one is reported, not answered wrongly */
    size_t n;
    assert_int_equal (chat_list (chat, "(a+)+$", 6, out, 10000, &n, NULL, 0),
                      ZC_ERR_PATTERN_TOO_COMPLEX);
    chat_destroy (&chat);
}

/* ---- the user table under churn ---- */

static void
many_creates_and_deletes_keep_every_user_findable (void **state)
{
    (void) state;
    enum { NAMES = 3000 };
    static bool alive [NAMES];
    chat_t *chat = chat_new (NULL);
    uint64_t rng = 777;
    char name [16];
    for (uint64_t i = 1; i <= 60000; i++) {
        size_t k = fixture_rand (&rng) % NAMES;
        snprintf (name, sizeof (name), "u%zu", k);
        chat_result_t r = alive [k] ? s_delete (chat, i, name) : s_create (chat, i, name);
        assert_int_equal (r.code, ZC_OK);
        alive [k] = !alive [k];
    }
    uint64_t count = 0;
    for (size_t k = 0; k < NAMES; k++) {
        snprintf (name, sizeof (name), "u%zu", k);
        assert_int_equal (chat_user_exists (chat, name, strlen (name), NULL), alive [k]);
        count += alive [k];
    }
    assert_int_equal (chat_user_count (chat), count);
    size_t listed;
    assert_int_equal (chat_list (chat, NULL, 0, NULL, 0, &listed, NULL, 0), ZC_OK);
    assert_int_equal (listed, count);
    chat_destroy (&chat);
}

/* ---- determinism ---- */

static void
s_random_step (chat_t *chat, uint64_t index, uint64_t *rng)
{
    static const char *names [] = { "a", "b", "c", "d", "e", "f" };
    zc_command_t cmd = s_cmd ((zc_op_t) (fixture_rand (rng) % ZC_OP__COUNT), fixture_rand (rng) % 4,
                              1 + fixture_rand (rng) % 40, names [fixture_rand (rng) % 6]);
    cmd.ts = index * 3;
    cmd.text = s_bytes ((fixture_rand (rng) & 1) ? "hello" : "");
    cmd.from = s_bytes (names [fixture_rand (rng) % 6]);
    uint64_t epoch = 0;
    chat_user_exists (chat, cmd.name.ptr, cmd.name.len, &epoch);
    cmd.epoch = (fixture_rand (rng) % 4) ? epoch : 1;
    cmd.mseq = fixture_rand (rng) % 10;
    chat_result_t r;
    chat_apply (chat, index, &cmd, &r);
}

static void
same_commands_give_same_digest (void **state)
{
    (void) state;
    chat_limits_t limits = { 5, 8, 3 };
    chat_t *x = chat_new (&limits);
    chat_t *y = chat_new (&limits);
    uint64_t rng_x = 12345, rng_y = 12345;
    for (uint64_t i = 1; i <= 20000; i++) {
        s_random_step (x, i, &rng_x);
        s_random_step (y, i, &rng_y);
        if (i % 1000 == 0)
            assert_int_equal (chat_digest (x), chat_digest (y));
    }
    assert_int_equal (chat_queued_count (x), chat_queued_count (y));
    /* and the digest does see a difference */
    uint64_t before = chat_digest (x);
    s_delete (x, 20001, "a");
    s_create (x, 20002, "a");
    assert_int_not_equal (chat_digest (x), before);
    chat_destroy (&x);
    chat_destroy (&y);
}

/* A CONNECT, DELETE or PASSWD names the incarnation whose secret the leader checked:
   applied after that user was deleted and re-created, it touches nothing. */
static void
checked_incarnation_that_is_gone_is_not_touched (void **state)
{
    (void) state;
    chat_t *chat = chat_new (NULL);
    zc_command_t create = s_cmd (ZC_OP_CREATE, 1, 1, "ann");
    create.cred = s_bytes ("$argon2id$first");
    assert_int_equal (s_apply (chat, 10, &create).code, ZC_OK);
    assert_int_equal (s_delete (chat, 11, "ann").code, ZC_OK);
    create = s_cmd (ZC_OP_CREATE, 1, 3, "ann");
    create.cred = s_bytes ("$argon2id$second");
    assert_int_equal (s_apply (chat, 12, &create).code, ZC_OK);
    static const zc_op_t ops [] = { ZC_OP_PASSWD, ZC_OP_CONNECT, ZC_OP_DELETE };
    for (int i = 0; i < 3; i++) {
        zc_command_t stale = s_cmd (ops [i], 2, (uint64_t) (i + 1), "ann");
        stale.epoch = 10; /* checked against the first ann */
        stale.cred = s_bytes ("$argon2id$thief");
        assert_int_equal (s_apply (chat, 13 + (uint64_t) i, &stale).code, ZC_ERR_NO_SUCH_USER);
    }
    uint64_t epoch;
    zc_bytes_t cred;
    assert_true (chat_user_cred (chat, "ann", 3, &epoch, &cred));
    assert_int_equal (epoch, 12);
    assert_int_equal (cred.len, strlen ("$argon2id$second"));
    assert_memory_equal (cred.ptr, "$argon2id$second", cred.len);
    /* with the right incarnation, PASSWD replaces the credential */
    zc_command_t passwd = s_cmd (ZC_OP_PASSWD, 2, 9, "ann");
    passwd.epoch = 12;
    passwd.cred = s_bytes ("$argon2id$third");
    assert_int_equal (s_apply (chat, 20, &passwd).code, ZC_OK);
    assert_true (chat_user_cred (chat, "ann", 3, &epoch, &cred));
    assert_memory_equal (cred.ptr, "$argon2id$third", cred.len);
    chat_destroy (&chat);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (checked_incarnation_that_is_gone_is_not_touched),
        cmocka_unit_test (create_user_gets_epoch_of_its_index),
        cmocka_unit_test (create_existing_user_fails),
        cmocka_unit_test (create_with_bad_name_fails),
        cmocka_unit_test (create_beyond_max_users_fails),
        cmocka_unit_test (delete_removes_user_and_its_messages),
        cmocka_unit_test (delete_missing_user_fails),
        cmocka_unit_test (recreated_user_starts_empty_with_new_epoch),
        cmocka_unit_test (send_queues_messages_in_order),
        cmocka_unit_test (send_to_missing_user_fails),
        cmocka_unit_test (send_with_bad_names_fails),
        cmocka_unit_test (send_text_too_long_fails),
        cmocka_unit_test (send_to_full_queue_fails),
        cmocka_unit_test (connect_returns_epoch_and_last_mseq),
        cmocka_unit_test (connect_to_missing_user_fails),
        cmocka_unit_test (ack_drops_messages_cumulatively),
        cmocka_unit_test (stale_ack_does_not_touch_new_incarnation),
        cmocka_unit_test (noop_and_failures_change_nothing),
        cmocka_unit_test (retried_send_is_answered_from_table),
        cmocka_unit_test (retried_failure_gets_original_code),
        cmocka_unit_test (out_of_order_seqs_within_window_apply_once),
        cmocka_unit_test (request_older_than_window_is_stale),
        cmocka_unit_test (full_client_table_evicts_least_recently_active),
        cmocka_unit_test (requests_without_client_id_are_not_deduplicated),
        cmocka_unit_test (list_returns_all_names_sorted_bytewise),
        cmocka_unit_test (list_filters_with_regex),
        cmocka_unit_test (list_with_bad_pattern_fails_with_message),
        cmocka_unit_test (list_pathological_patterns_finish_quickly),
        cmocka_unit_test (many_creates_and_deletes_keep_every_user_findable),
        cmocka_unit_test (same_commands_give_same_digest),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
