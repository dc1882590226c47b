/*  cli_out.c - renders results and pushed messages for people (text) and for
    programs (--json: exactly one JSON object per line).

    Text mode never lets message content move the cursor or recolour the terminal:
    control characters in names or text are shown escaped (\n, \t, \xNN). JSON mode
    keeps the text exact (json_out escapes it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char *const s_help [] = {
    "create NAME        create user NAME with a secret (asked for, or --password-file)",
    "delete NAME        delete user NAME and every message queued for it (needs its secret)",
    "connect NAME       become NAME here (needs its secret): queued messages first, then",
    "                   new ones as they come; what you send then is from NAME",
    "passwd NAME        change NAME's secret (the current one, then the new one)",
    "list [PATTERN]     users whose name matches the regex PATTERN (all by default)",
    "send NAME TEXT...  send the rest of the line to NAME",
    "status             replicas (role, term, commit, applied, last index) and totals",
    "admin transfer [ID] move leadership to replica ID (default: the most up to date)",
    "admin backup FILE  write the leader's state (at a committed index) to FILE, which",
    "                   zchat-broker --restore FILE seeds a new cluster from",
    "admin members      the members: id, voter or learner, address, log match",
    "admin add ID HOST:PORT [learner]  add replica ID (started with --join) as a learner;",
    "                   it votes once caught up, unless 'learner' is given",
    "admin remove ID    remove replica ID from the cluster",
    "admin replace OLD NEW HOST:PORT  add NEW, wait until it votes, then remove OLD",
    "                   (admin commands need the admin secret: --admin-secret-file or",
    "                   $ZCHAT_ADMIN_SECRET)",
    "help               this text",
    "quit               leave (Ctrl-D works too)",
};
#define N_HELP (sizeof s_help / sizeof s_help [0])

/* Text with control characters made visible, for a terminal. */
static void
s_put_safe (FILE *out, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) text [i];
        if (c == '\n')
            fputs ("\\n", out);
        else if (c == '\t')
            fputs ("\\t", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf (out, "\\x%02x", c);
        else
            fputc (c, out);
    }
}

static char *
s_json_line (json_out_t *json)
{
    char *line = NULL;
    if (json && json_out_ok (json) && asprintf (&line, "%s\n", json_out_text (json)) < 0)
        line = NULL;
    json_out_destroy (&json);
    return line;
}

static json_out_t *
s_json_begin (const char *type, const char *command)
{
    json_out_t *json = json_out_new ();
    if (!json)
        return NULL;
    json_out_object_begin (json, NULL);
    json_out_cstr (json, "type", type);
    if (command)
        json_out_cstr (json, "command", command);
    return json;
}

static char *
s_json_error (const char *command, zc_code_t code, const char *message)
{
    json_out_t *json = s_json_begin ("error", command);
    if (!json)
        return NULL;
    json_out_cstr (json, "code", zc_code_name ((int) code));
    json_out_cstr (json, "message", message);
    json_out_object_end (json);
    return s_json_line (json);
}

static char *
s_text_error (zc_code_t code, const char *message)
{
    char *line = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&line, &size);
    if (!out)
        return NULL;
    fprintf (out, "error: %s: ", zc_code_name ((int) code));
    s_put_safe (out, message, strlen (message));
    fputc ('\n', out);
    fclose (out);
    return line;
}

char *
cli_out_local_error (bool json, const cli_cmd_t *cmd)
{
    return json ? s_json_error (cmd->word, cmd->error, cmd->message)
                : s_text_error (cmd->error, cmd->message);
}

char *
cli_out_help (bool json)
{
    if (json) {
        json_out_t *j = s_json_begin ("reply", "help");
        if (!j)
            return NULL;
        json_out_array_begin (j, "commands");
        for (size_t i = 0; i < N_HELP; i++)
            json_out_cstr (j, NULL, s_help [i]);
        json_out_array_end (j);
        json_out_object_end (j);
        return s_json_line (j);
    }
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    fputs ("commands:\n", out);
    for (size_t i = 0; i < N_HELP; i++)
        fprintf (out, "  %s\n", s_help [i]);
    fclose (out);
    return text;
}

static void
s_json_status (json_out_t *j, const zc_frame_t *f)
{
    json_out_array_begin (j, "replicas");
    for (uint32_t i = 0; i < f->n_replicas; i++) {
        const zc_replica_status_t *r = &f->replicas [i];
        json_out_object_begin (j, NULL);
        json_out_uint (j, "id", r->id);
        json_out_cstr (j, "role", r->role);
        json_out_uint (j, "term", r->term);
        json_out_uint (j, "commit", r->commit);
        json_out_uint (j, "applied", r->applied);
        json_out_uint (j, "last", r->last_index);
        json_out_object_end (j);
    }
    json_out_array_end (j);
    json_out_uint (j, "users", f->n_users_total);
    json_out_uint (j, "queued", f->n_queued);
    json_out_uint (j, "sessions", f->n_sessions);
}

static char *
s_json_reply (const cli_cmd_t *cmd, const zcc_event_t *ev)
{
    json_out_t *j = s_json_begin ("reply", cmd->word);
    if (!j)
        return NULL;
    const zc_frame_t *f = &ev->frame;
    if (cmd->kind == CLI_LIST) {
        json_out_array_begin (j, "users");
        for (uint32_t i = 0; i < ev->n_users; i++)
            json_out_cstr (j, NULL, ev->users [i]);
        json_out_array_end (j);
    }
    else if (cmd->kind == CLI_STATUS)
        s_json_status (j, f);
    else if (cmd->kind == CLI_ADMIN_TRANSFER) {
        json_out_str (j, "leader", f->leader.ptr, f->leader.len);
        json_out_str (j, "text", f->text.ptr, f->text.len);
    }
    else if (cmd->kind == CLI_ADMIN_MEMBERS)
        json_out_str (j, "text", f->text.ptr, f->text.len);
    else
        json_out_cstr (j, "name", cmd->name);
    if (cmd->kind == CLI_CREATE || cmd->kind == CLI_CONNECT)
        json_out_uint (j, "epoch", f->epoch);
    if (cmd->kind == CLI_CONNECT)
        json_out_uint (j, "mseq", f->mseq);
    json_out_object_end (j);
    return s_json_line (j);
}

static void
s_text_status (FILE *out, const zc_frame_t *f)
{
    uint64_t leader_last = 0;
    for (uint32_t i = 0; i < f->n_replicas; i++)
        if (strcmp (f->replicas [i].role, "leader") == 0)
            leader_last = f->replicas [i].last_index;
    fprintf (out, "%-8s %-10s %8s %10s %10s %10s %8s\n", "replica", "role", "term", "commit",
             "applied", "last", "lag");
    for (uint32_t i = 0; i < f->n_replicas; i++) {
        const zc_replica_status_t *r = &f->replicas [i];
        char lag [24] = "-";
        if (leader_last && strcmp (r->role, "down") != 0)
            snprintf (lag, sizeof lag, "%llu",
                      (unsigned long long) (leader_last > r->last_index
                                                ? leader_last - r->last_index
                                                : 0));
        fprintf (out, "%-8u %-10s %8llu %10llu %10llu %10llu %8s\n", r->id, r->role,
                 (unsigned long long) r->term, (unsigned long long) r->commit,
                 (unsigned long long) r->applied, (unsigned long long) r->last_index, lag);
    }
    fprintf (out, "users: %llu  queued: %llu  sessions: %llu\n",
             (unsigned long long) f->n_users_total, (unsigned long long) f->n_queued,
             (unsigned long long) f->n_sessions);
}

static char *
s_text_reply (const cli_cmd_t *cmd, const zcc_event_t *ev)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    switch (cmd->kind) {
        case CLI_CREATE: fprintf (out, "ok: created %s\n", cmd->name); break;
        case CLI_DELETE: fprintf (out, "ok: deleted %s\n", cmd->name); break;
        case CLI_CONNECT: fprintf (out, "ok: connected as %s\n", cmd->name); break;
        case CLI_SEND: fprintf (out, "ok: sent to %s\n", cmd->name); break;
        case CLI_PASSWD: fprintf (out, "ok: secret of %s changed\n", cmd->name); break;
        case CLI_LIST:
            fputs ("users:", out);
            for (uint32_t i = 0; i < ev->n_users; i++) {
                fputc (' ', out);
                s_put_safe (out, ev->users [i], strlen (ev->users [i]));
            }
            fputs (ev->n_users ? "\n" : " (none)\n", out);
            break;
        case CLI_STATUS: s_text_status (out, &ev->frame); break;
        case CLI_ADMIN_MEMBERS:
            fputs ("ok: ", out);
            for (const char *at = ev->frame.text.ptr, *end = at + ev->frame.text.len; at < end;) {
                const char *nl = memchr (at, '\n', (size_t) (end - at));
                size_t n = nl ? (size_t) (nl - at) : (size_t) (end - at);
                if (at != ev->frame.text.ptr)
                    fputs ("  ", out);
                s_put_safe (out, at, n);
                fputc ('\n', out);
                at += n + (nl != NULL);
            }
            break;
        case CLI_ADMIN_TRANSFER:
            fputs ("ok: ", out);
            s_put_safe (out, ev->frame.text.ptr, ev->frame.text.len);
            fputc ('\n', out);
            break;
        default: fputs ("ok\n", out);
    }
    fclose (out);
    return text;
}

char *
cli_out_reply (bool json, const cli_cmd_t *cmd, const zcc_event_t *event)
{
    if (event->code != ZC_OK)
        return json ? s_json_error (cmd->word, event->code, event->error)
                    : s_text_error (event->code, event->error);
    return json ? s_json_reply (cmd, event) : s_text_reply (cmd, event);
}

char *
cli_out_message (bool json, const zcc_event_t *event)
{
    const zc_frame_t *f = &event->frame;
    if (json) {
        json_out_t *j = s_json_begin ("message", NULL);
        if (!j)
            return NULL;
        json_out_str (j, "to", f->name.ptr, f->name.len);
        json_out_str (j, "from", f->from.ptr, f->from.len);
        json_out_uint (j, "seq", f->mseq);
        json_out_uint (j, "ts", f->ts);
        json_out_str (j, "text", f->text.ptr, f->text.len);
        json_out_object_end (j);
        return s_json_line (j);
    }
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    fputc ('[', out);
    s_put_safe (out, f->name.ptr, f->name.len);
    fputs ("] ", out);
    if ((f->fields & ZC_F_FROM) && f->from.len) { /* sent by a connected user */
        s_put_safe (out, f->from.ptr, f->from.len);
        fputs (": ", out);
    }
    s_put_safe (out, f->text.ptr, f->text.len);
    fputc ('\n', out);
    fclose (out);
    return text;
}

char *
cli_out_closed (bool json, const char *name, const zcc_event_t *event)
{
    if (json) {
        json_out_t *j = s_json_begin ("closed", NULL);
        if (!j)
            return NULL;
        json_out_cstr (j, "name", name);
        json_out_cstr (j, "code", zc_code_name ((int) event->code));
        json_out_cstr (j, "message", event->error);
        json_out_object_end (j);
        return s_json_line (j);
    }
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    fprintf (out, "closed: session%s%s ended: %s: ", *name ? " of " : "", name,
             zc_code_name ((int) event->code));
    s_put_safe (out, event->error, strlen (event->error));
    fputc ('\n', out);
    fclose (out);
    return text;
}
