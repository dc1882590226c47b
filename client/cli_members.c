/*  cli_members.c - `zchat admin replace OLD NEW HOST:PORT`: a machine replaced one
    server at a time (Raft thesis 4.1), never leaving the cluster one voter short.

    Add NEW (a learner the leader promotes once its log has caught up), wait until
    the members list shows it voting, then remove OLD. Every step is a MEMBERS request
    answered once committed; a step refused as BUSY (the previous change not committed
    yet, or leadership just moved) is retried. Progress goes to stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <czmq.h>
#include "cli.h"

#define REPLACE_CATCH_UP_MS (10 * 60 * 1000) /* a learner gets this long to catch up */
#define REPLACE_POLL_MS     250
#define REPLACE_RETRIES     40

/* Send MEMBERS text and wait for its answer. */
static bool
s_ask (cli_t *self, const char *text, const char *secret, zcc_event_t *ev)
{
    uint64_t seq = zcc_submit_with (self->zcc, ZC_CMD_MEMBERS, NULL, text, secret, NULL);
    while (seq && !cli_interrupted && !cli_terminated) {
        zcc_event_type_t type = zcc_poll (self->zcc, 200, -1, ev);
        if (type == ZCC_EV_REPLY && ev->seq == seq)
            return true;
        if (type != ZCC_EV_NONE && type != ZCC_EV_REPLY)
            cli_on_event (self, ev);
    }
    return false;
}

/* A change, retried while the cluster says BUSY. *code is the final answer. */
static bool
s_change (cli_t *self, const char *text, const char *secret, zcc_event_t *ev)
{
    for (int attempt = 0; attempt < REPLACE_RETRIES; attempt++) {
        if (!s_ask (self, text, secret, ev))
            return false;
        if (ev->code != ZC_ERR_BUSY)
            return true;
        zclock_sleep (REPLACE_POLL_MS); /* the previous change commits within a round trip */
    }
    return true;
}

/* The line of member id in a MEMBERS reply, "" when absent. */
static void
s_member_line (const zcc_event_t *ev, const char *id, char *line, size_t size)
{
    char text [ZC_TEXT_MAX + 1];
    snprintf (text, sizeof text, "%.*s", (int) ev->frame.text.len, ev->frame.text.ptr);
    line [0] = 0;
    size_t id_len = strlen (id);
    for (char *at = strchr (text, '\n'); at; at = strchr (at + 1, '\n'))
        if (strncmp (at + 1, id, id_len) == 0 && at [1 + id_len] == ' ') {
            snprintf (line, size, "%.*s", (int) strcspn (at + 1, "\n"), at + 1);
            return;
        }
}

static char *
s_result (bool json, bool ok, const char *what)
{
    char *line = NULL;
    int rc;
    if (json) {
        json_out_t *j = json_out_new ();
        if (!j)
            return NULL;
        json_out_object_begin (j, NULL);
        json_out_cstr (j, "type", ok ? "reply" : "error");
        json_out_cstr (j, "command", "admin replace");
        json_out_cstr (j, ok ? "text" : "message", what);
        json_out_object_end (j);
        rc = json_out_ok (j) ? asprintf (&line, "%s\n", json_out_text (j)) : -1;
        json_out_destroy (&j);
    }
    else
        rc = asprintf (&line, "%s: admin replace: %s\n", ok ? "ok" : "error", what);
    return rc < 0 ? NULL : line;
}

static char *
s_failed (cli_t *self, const char *step, const zcc_event_t *ev)
{
    char why [400];
    if (ev)
        snprintf (why, sizeof why, "%s: %s: %s", step, zc_code_name (ev->code), ev->error);
    else
        snprintf (why, sizeof why, "%s: interrupted", step);
    return s_result (self->json, false, why);
}

char *
cli_members_replace (cli_t *self, const char *args, const char *secret, bool *ok)
{
    char old_id [16], new_id [16], addr [264], extra [2];
    *ok = false;
    if (sscanf (args, "%15s %15s %263s %1s", old_id, new_id, addr, extra) != 3)
        return s_result (self->json, false, "usage: admin replace OLD_ID NEW_ID HOST:PORT");
    char text [ZC_TEXT_MAX + 1], line [ZC_TEXT_MAX + 1];
    zcc_event_t ev;
    snprintf (text, sizeof text, "add %s %s", new_id, addr);
    if (!s_change (self, text, secret, &ev))
        return s_failed (self, "add", NULL);
    if (ev.code != ZC_OK && ev.code != ZC_ERR_BAD_MEMBERS)
        return s_failed (self, "add", &ev);
    if (ev.code == ZC_ERR_BAD_MEMBERS) {
        /* a retried replace finds NEW added already: go on from there */
        if (!s_ask (self, "list", secret, &ev) || ev.code != ZC_OK)
            return s_failed (self, "list", ev.code == ZC_OK ? NULL : &ev);
        s_member_line (&ev, new_id, line, sizeof line);
        if (!*line)
            return s_failed (self, "add", &ev);
    }
    fprintf (stderr, "replace: replica %s added at %s; waiting for it to catch up and vote\n",
             new_id, addr);
    int64_t deadline = zclock_mono () + REPLACE_CATCH_UP_MS, shown = zclock_mono ();
    for (;;) {
        if (!s_ask (self, "list", secret, &ev) || ev.code != ZC_OK)
            return s_failed (self, "list", ev.code == ZC_OK ? NULL : &ev);
        s_member_line (&ev, new_id, line, sizeof line);
        if (!*line)
            return s_result (self->json, false, "the new replica left the members list");
        if (strstr (line, " voter "))
            break;
        if (zclock_mono () > deadline)
            return s_result (self->json, false,
                             "the new replica did not catch up within 10 minutes: is it "
                             "running with --join, reachable, and its key in members/?");
        if (zclock_mono () - shown >= 2000) {
            shown = zclock_mono ();
            fprintf (stderr, "replace: %s\n", line);
        }
        zclock_sleep (REPLACE_POLL_MS);
    }
    fprintf (stderr, "replace: replica %s votes; removing replica %s\n", new_id, old_id);
    snprintf (text, sizeof text, "remove %s", old_id);
    if (!s_change (self, text, secret, &ev) || ev.code != ZC_OK)
        return s_failed (self, "remove", ev.code == ZC_OK ? NULL : &ev);
    *ok = true;
    snprintf (text, sizeof text, "replica %s replaced by %s at %s", old_id, new_id, addr);
    return s_result (self->json, true, text);
}
