/*  cli.c - `zchat`, the command-line client: flags, the scripted mode (stdin not a
    terminal) and the bookkeeping both modes share.

    Scripted mode reads stdin with plain read(2) (never libedit, no prompt), submits
    commands as they come (up to CLI_PENDING_MAX outstanding), and prints one result
    per command in the order of the commands, holding back replies that arrive early.
    Pushed messages are printed as they arrive. At end of input it waits for every
    outstanding reply, keeps receiving pushes for --wait seconds, and exits 0 only if
    every command succeeded. */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <czmq.h>
#include "cli.h"

#define CLI_VERSION "0.1.0"

volatile sig_atomic_t cli_interrupted = 0;
volatile sig_atomic_t cli_terminated = 0;

static void
s_on_signal (int sig)
{
    if (sig == SIGINT)
        cli_interrupted = 1;
    else
        cli_terminated = 1;
}

void
cli_emit (cli_t *self, const char *text)
{
    if (!text)
        return;
    if (self->in_edit) {
        /* Interactive input in progress: erase the prompt line, print above it, and
           let libedit draw prompt and partial input again below. */
        fputs ("\r\033[K", stdout);
        fputs (text, stdout);
        fflush (stdout);
        el_set (self->el, EL_REFRESH);
    }
    else
        fputs (text, stdout);
    fflush (stdout);
}

/* Print every finished result at the head of the pending ring, in command order. */
static void
s_flush (cli_t *self)
{
    while (self->n_pending) {
        cli_pending_t *p = &self->pending [self->head];
        if (!p->result)
            return;
        cli_emit (self, p->result);
        free (p->result);
        p->result = NULL;
        self->head = (self->head + 1) % CLI_PENDING_MAX;
        self->n_pending--;
    }
}

static cli_pending_t *
s_pending_add (cli_t *self, const cli_cmd_t *cmd)
{
    assert (self->n_pending < CLI_PENDING_MAX);
    cli_pending_t *p = &self->pending [(self->head + self->n_pending++) % CLI_PENDING_MAX];
    p->cmd = *cmd;
    p->cmd.text = NULL; /* the line it points into is gone after this call */
    p->seq = 0;
    p->result = NULL;
    return p;
}

static void
s_local_result (cli_t *self, cli_pending_t *p, char *result, bool ok)
{
    p->result = result ? result : strdup ("error: INTERNAL: out of memory\n");
    if (!ok || !result)
        self->failures++;
}

void
cli_run_line (cli_t *self, const char *line)
{
    cli_cmd_t cmd;
    cli_parse (line, &cmd);
    if (cmd.kind == CLI_NONE)
        return;
    if (cmd.kind == CLI_QUIT && cmd.error == ZC_OK) {
        self->quit = true;
        return;
    }
    cli_pending_t *p = s_pending_add (self, &cmd);
    if (cmd.error != ZC_OK)
        s_local_result (self, p, cli_out_local_error (self->json, &cmd), false);
    else if (cmd.kind == CLI_HELP)
        s_local_result (self, p, cli_out_help (self->json), true);
    else {
        char secret [ZC_SECRET_MAX + 1] = "", fresh [ZC_SECRET_MAX + 1] = "";
        zc_code_t code = ZC_OK;
        if (cli_needs_secret (cmd.kind))
            code = cli_secret_get (self, &cmd, false, secret, sizeof secret, cmd.message,
                                   sizeof cmd.message);
        if (code == ZC_OK && cmd.kind == CLI_PASSWD)
            code = cli_secret_get (self, &cmd, true, fresh, sizeof fresh, cmd.message,
                                   sizeof cmd.message);
        if (code != ZC_OK) {
            cmd.error = code;
            s_local_result (self, p, cli_out_local_error (self->json, &cmd), false);
            s_flush (self);
            return;
        }
        if (cmd.kind == CLI_ADMIN_BACKUP) {
            char file [4096];
            snprintf (file, sizeof file, "%.*s", (int) cmd.text_len, cmd.text);
            bool ok = false;
            char *result = cli_backup_run (self, file, secret, &ok);
            explicit_bzero (secret, sizeof secret);
            s_local_result (self, p, result, ok);
            s_flush (self);
            return;
        }
        if (cmd.kind == CLI_ADMIN_REPLACE) {
            char args [ZC_TEXT_MAX + 1];
            snprintf (args, sizeof args, "%.*s", (int) cmd.text_len, cmd.text);
            bool ok = false;
            char *result = cli_members_replace (self, args, secret, &ok);
            explicit_bzero (secret, sizeof secret);
            s_local_result (self, p, result, ok);
            s_flush (self);
            return;
        }
        char text [ZC_TEXT_MAX + 1] = "";
        if (cmd.text)
            snprintf (text, sizeof text, "%.*s", (int) cmd.text_len, cmd.text);
        bool admin = cmd.kind == CLI_ADMIN_TRANSFER; /* its target id goes as text */
        bool no_name = cmd.kind == CLI_LIST || cmd.kind == CLI_STATUS || admin
                       || cmd.kind == CLI_ADMIN_MEMBERS;
        p->seq = zcc_submit_with (self->zcc, (zc_cmd_t) cli_wire_cmd (cmd.kind),
                                  no_name ? NULL : cmd.name,
                                  admin      ? cmd.name
                                  : cmd.text ? text
                                             : NULL,
                                  *secret ? secret : NULL, *fresh ? fresh : NULL);
        explicit_bzero (secret, sizeof secret);
        explicit_bzero (fresh, sizeof fresh);
        if (p->seq == 0) { /* cannot happen: pending is no larger than inflight */
            cmd.error = ZC_ERR_BUSY;
            snprintf (cmd.message, sizeof cmd.message, "too many commands in flight");
            s_local_result (self, p, cli_out_local_error (self->json, &cmd), false);
        }
    }
    s_flush (self);
}

static void
s_on_reply (cli_t *self, const zcc_event_t *ev)
{
    for (uint32_t i = 0; i < self->n_pending; i++) {
        cli_pending_t *p = &self->pending [(self->head + i) % CLI_PENDING_MAX];
        if (p->seq != ev->seq || p->result)
            continue;
        if (ev->code == ZC_OK && p->cmd.kind == CLI_CONNECT)
            snprintf (self->user, sizeof self->user, "%s", p->cmd.name);
        s_local_result (self, p, cli_out_reply (self->json, &p->cmd, ev), ev->code == ZC_OK);
        s_flush (self);
        return;
    }
}

void
cli_on_event (cli_t *self, const zcc_event_t *ev)
{
    char *text = NULL;
    switch (ev->type) {
        case ZCC_EV_REPLY: s_on_reply (self, ev); return;
        case ZCC_EV_MESSAGE: text = cli_out_message (self->json, ev); break;
        case ZCC_EV_CLOSED:
            text = cli_out_closed (self->json, self->user, ev);
            self->user [0] = 0;
            break;
        default: return;
    }
    cli_emit (self, text);
    free (text);
}

static bool
s_is_read (const cli_cmd_t *cmd)
{
    return cmd->error == ZC_OK && (cmd->kind == CLI_LIST || cmd->kind == CLI_STATUS);
}

/* Writes are pipelined (the leader orders them as sent), but a read could be served
   before earlier writes commit, so `create bob` then `list` might miss bob. Reads are
   therefore barriers: one starts only when nothing is outstanding, and nothing starts
   while one is outstanding. */
static bool
s_must_wait (cli_t *self, const char *line)
{
    bool busy = false, read_busy = false;
    for (uint32_t i = 0; i < self->n_pending; i++) {
        const cli_pending_t *p = &self->pending [(self->head + i) % CLI_PENDING_MAX];
        if (p->seq && !p->result) {
            busy = true;
            read_busy |= s_is_read (&p->cmd);
        }
    }
    if (read_busy)
        return true;
    cli_cmd_t cmd;
    cli_parse (line, &cmd);
    return busy && s_is_read (&cmd);
}

/* Feed complete lines from buf to the command runner while there is room. Returns
   the number of bytes consumed. */
static size_t
s_script_lines (cli_t *self, char *buf, size_t have, bool eof, bool *discard)
{
    size_t used = 0;
    while (!self->quit && self->n_pending < CLI_PENDING_MAX && used < have) {
        char *line = buf + used;
        char *nl = memchr (line, '\n', have - used);
        if (!nl && !eof)
            break;
        size_t len = nl ? (size_t) (nl - line) : have - used;
        char saved = line [len];
        line [len] = 0; /* buf has one spare byte past have */
        if (!*discard && s_must_wait (self, line)) {
            line [len] = saved;
            break;
        }
        used += len + (nl ? 1 : 0);
        if (len && line [len - 1] == '\r')
            line [len - 1] = 0;
        if (*discard)
            *discard = false; /* the tail of an over-long line */
        else
            cli_run_line (self, line);
    }
    return used;
}

static void
s_line_too_long (cli_t *self)
{
    cli_cmd_t cmd = { .kind = CLI_HELP, .error = ZC_ERR_TOO_LARGE };
    snprintf (cmd.message, sizeof cmd.message, "line too long: at most %d bytes", CLI_LINE_MAX);
    cli_pending_t *p = s_pending_add (self, &cmd);
    s_local_result (self, p, cli_out_local_error (self->json, &cmd), false);
    s_flush (self);
}

static void
s_script_run (cli_t *self)
{
    static char buf [CLI_LINE_MAX + 1];
    size_t have = 0;
    bool eof = false, discard = false;
    while (!cli_interrupted && !cli_terminated) {
        size_t used = s_script_lines (self, buf, have, eof, &discard);
        memmove (buf, buf + used, have - used);
        have -= used;
        bool reading = !eof && !self->quit;
        if (!reading && self->n_pending == 0 && (have == 0 || self->quit))
            break;
        if (have == CLI_LINE_MAX && !memchr (buf, '\n', have)) {
            if (!discard)
                s_line_too_long (self);
            discard = true;
            have = 0;
        }
        bool want = reading && self->n_pending < CLI_PENDING_MAX && have < CLI_LINE_MAX
                    && !memchr (buf, '\n', have);
        zcc_event_t ev;
        zcc_event_type_t type = zcc_poll (self->zcc, -1, want ? 0 : -1, &ev);
        if (type == ZCC_EV_FD) {
            ssize_t n = read (0, buf + have, CLI_LINE_MAX - have);
            if (n > 0)
                have += (size_t) n;
            else if (n == 0 || errno != EINTR)
                eof = true;
        }
        else if (type != ZCC_EV_NONE)
            cli_on_event (self, &ev);
    }
}

/* After the last command: keep showing pushes for wait_s seconds. */
static void
s_linger (cli_t *self, double wait_s)
{
    int64_t end = zclock_mono () + (int64_t) (wait_s * 1000);
    while (!cli_interrupted && !cli_terminated) {
        int64_t left = end - zclock_mono ();
        if (left <= 0)
            break;
        zcc_event_t ev;
        if (zcc_poll (self->zcc, (int) left, -1, &ev) != ZCC_EV_NONE)
            cli_on_event (self, &ev);
    }
}

static void
s_usage (FILE *out)
{
    fputs (
        "usage: zchat [--servers HOST:PORT,...] [--server-key KEY|FILE] [--json]\n"
        "             [--wait SECONDS] [--timeout MS] [--password-file FILE]\n"
        "             [--admin-secret-file FILE] [COMMAND...]\n"
        "\n"
        "Chat client for a zchat cluster. On a terminal: a prompt with line editing and\n"
        "history (~/.zchat_history); incoming messages appear as they arrive. Otherwise\n"
        "commands are read from stdin, one per line, and one result is printed per\n"
        "command, in order; the exit status is 0 only if every command succeeded.\n"
        "A COMMAND given as arguments (e.g. zchat admin transfer 2) runs alone.\n"
        "\n"
        "  --servers LIST   replicas to use (default: $ZCHAT_SERVERS, else\n"
        "                   127.0.0.1:7001,127.0.0.1:7004,127.0.0.1:7007)\n"
        "  --json           one JSON object per line\n"
        "  --wait SECONDS   after the last command, keep showing messages (default 0)\n"
        "  --timeout MS     give up on a request after MS milliseconds (default 15000)\n"
        "  --server-key K   the cluster's public key: its server.cert file or the\n"
        "                   40-character key (default: $ZCHAT_SERVER_KEY)\n"
        "  --insecure       plain ZeroMQ, for a cluster run with --insecure ($ZCHAT_INSECURE=1)\n"
        "  --password-file FILE      secrets for create/connect/delete/passwd: the file's\n"
        "                   first line (default: $ZCHAT_PASSWORD, else asked on a terminal)\n"
        "  --new-password-file FILE  passwd's new secret (default: $ZCHAT_NEW_PASSWORD)\n"
        "  --admin-secret-file FILE  the cluster's admin secret, for admin commands\n"
        "                   (default: $ZCHAT_ADMIN_SECRET, else asked on a terminal)\n"
        "  --help, --version\n"
        "\n"
        "commands:\n",
        out);
    char *help = cli_out_help (false);
    if (help)
        fputs (strchr (help, '\n') + 1, out);
    free (help);
}

static bool
s_parse_number (const char *arg, double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod (arg, &end);
    if (errno || end == arg || *end || !(v >= 0) || v > max)
        return false;
    *out = v;
    return true;
}

/* Returns -1 to continue, else the exit status. */
static int
s_parse_args (int argc, char **argv, zcc_options_t *options, cli_t *cli, double *wait_s)
{
    static const struct option longs [] = { { "servers", required_argument, NULL, 's' },
                                            { "json", no_argument, NULL, 'j' },
                                            { "wait", required_argument, NULL, 'w' },
                                            { "timeout", required_argument, NULL, 't' },
                                            { "help", no_argument, NULL, 'h' },
                                            { "version", no_argument, NULL, 'V' },
                                            { "server-key", required_argument, NULL, 'k' },
                                            { "insecure", no_argument, NULL, 'I' },
                                            { "password-file", required_argument, NULL, 'p' },
                                            { "new-password-file", required_argument, NULL, 'P' },
                                            { "admin-secret-file", required_argument, NULL, 'A' },
                                            { NULL, 0, NULL, 0 } };
    int opt;
    double v;
    while ((opt = getopt_long (argc, argv, "+s:jw:t:hV", longs, NULL)) != -1) {
        switch (opt) {
            case 's': options->servers = optarg; break;
            case 'k': options->server_key = optarg; break;
            case 'I': options->insecure = true; break;
            case 'p': cli->secrets.file = optarg; break;
            case 'P': cli->secrets.new_file = optarg; break;
            case 'A': cli->secrets.admin_file = optarg; break;
            case 'j': cli->json = true; break;
            case 'w':
                if (!s_parse_number (optarg, 86400, wait_s)) {
                    fprintf (stderr, "zchat: --wait needs seconds (0-86400), not '%s'\n", optarg);
                    return 2;
                }
                break;
            case 't':
                if (!s_parse_number (optarg, 3600000, &v) || v < 1) {
                    fprintf (stderr, "zchat: --timeout needs milliseconds (1-3600000), not '%s'\n",
                             optarg);
                    return 2;
                }
                options->deadline_ms = (uint32_t) v;
                break;
            case 'h': s_usage (stdout); return 0;
            case 'V': printf ("zchat %s\n", CLI_VERSION); return 0;
            default: s_usage (stderr); return 2;
        }
    }
    return -1;
}

/* A command given as arguments: run it alone, wait for its result. */
static void
s_args_run (cli_t *self, int argc, char **argv)
{
    char line [CLI_LINE_MAX] = "";
    size_t used = 0;
    for (int i = 0; i < argc; i++)
        used += (size_t) snprintf (line + used, used < sizeof line ? sizeof line - used : 0, "%s%s",
                                   i ? " " : "", argv [i]);
    if (used >= sizeof line) {
        s_line_too_long (self);
        return;
    }
    cli_run_line (self, line);
    while (self->n_pending && !cli_interrupted && !cli_terminated) {
        zcc_event_t ev;
        if (zcc_poll (self->zcc, -1, -1, &ev) != ZCC_EV_NONE)
            cli_on_event (self, &ev);
    }
}

int
main (int argc, char **argv)
{
    zsys_handler_set (NULL); /* our own SIGINT handling, below */
    zsys_set_logstream (stderr);
    setlocale (LC_CTYPE, "");
    static cli_t cli;
    zcc_options_t options;
    zcc_options_defaults (&options);
    double wait_s = 0;
    int rc = s_parse_args (argc, argv, &options, &cli, &wait_s);
    if (rc >= 0)
        return rc;
    struct sigaction sa = { .sa_handler = s_on_signal }; /* no SA_RESTART: wake polls */
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    signal (SIGPIPE, SIG_IGN);
    cli.tty = isatty (0);
    cli.zcc = zcc_new (&options);
    if (!cli.zcc)
        return 2;
    if (optind < argc)
        s_args_run (&cli, argc - optind, argv + optind);
    else if (cli.tty)
        cli_tty_run (&cli);
    else {
        s_script_run (&cli);
        s_linger (&cli, wait_s);
    }
    bool interrupted = cli_interrupted || cli_terminated;
    for (uint32_t i = 0; i < CLI_PENDING_MAX; i++)
        free (cli.pending [i].result);
    zcc_destroy (&cli.zcc);
    bool unfinished = (!cli.tty || optind < argc) && (interrupted || cli.n_pending);
    return cli.failures || unfinished ? 1 : 0;
}
