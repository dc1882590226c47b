/*  cli.h - internals shared by the files of the `zchat` command-line client:
    cli.c (flags, scripted mode, result ordering), cli_parse.c (command lines),
    cli_out.c (text and JSON rendering), cli_tty.c (interactive mode with libedit).

    Invariant: results are printed in the order of the commands that produced them
    (pending ring); pushed messages and closed sessions are printed as they arrive. */
#ifndef CLI_H
#define CLI_H

#include <histedit.h>
#include <signal.h>
#include "zcc.h"
#include "json_out.h"

#define CLI_LINE_MAX    4096 /* longest command line accepted */
#define CLI_PENDING_MAX 256  /* commands whose result is not printed yet */

typedef enum {
    CLI_NONE = 0, /* blank line or comment: no result */
    CLI_CREATE,
    CLI_DELETE,
    CLI_CONNECT,
    CLI_LIST,
    CLI_SEND,
    CLI_STATUS,
    CLI_HELP,
    CLI_QUIT,
    CLI_PASSWD,
    CLI_ADMIN_TRANSFER, /* admin transfer [ID]: name holds the id's digits, "" = any */
    CLI_ADMIN_BACKUP,   /* admin backup FILE: text holds the path */
    CLI_ADMIN_MEMBERS,  /* admin members | add ID HOST:PORT [learner] | remove ID: text
                           holds what MEMBERS is asked ("list", "add ...", "remove ...") */
    CLI_ADMIN_REPLACE   /* admin replace OLD NEW HOST:PORT: text holds "OLD NEW HOST:PORT" */
} cli_kind_t;

typedef struct {
    cli_kind_t kind;
    char word [16]; /* command word as typed (truncated), for messages */
    char name [ZC_NAME_MAX + 1];
    const char *text; /* SEND text or LIST pattern: view into the line; NULL = none */
    size_t text_len;
    zc_code_t error; /* != ZC_OK: the line is bad, message says why */
    char message [160];
} cli_cmd_t;

/* Parse one NUL-terminated line (no newline). Views point into line. */
void cli_parse (const char *line, cli_cmd_t *cmd);
/* The wire command of a kind that goes to the cluster, or -1. */
int cli_wire_cmd (cli_kind_t kind);

/* Rendering: each returns one or more complete lines ("...\n") in a new string owned
   by the caller, or NULL when out of memory. */
char *cli_out_reply (bool json, const cli_cmd_t *cmd, const zcc_event_t *event);
char *cli_out_local_error (bool json, const cli_cmd_t *cmd);
char *cli_out_message (bool json, const zcc_event_t *event);
char *cli_out_closed (bool json, const char *name, const zcc_event_t *event);
char *cli_out_help (bool json);

typedef struct {
    cli_cmd_t cmd;
    uint64_t seq; /* 0 = local result */
    char *result; /* NULL until done */
} cli_pending_t;

/* Where secrets come from (cli_secret.c): a file's first line, an environment
   variable, or a prompt without echo on the terminal. */
typedef struct {
    const char *file;       /* --password-file */
    const char *new_file;   /* --new-password-file (passwd) */
    const char *admin_file; /* --admin-secret-file (admin commands) */
} cli_secrets_t;

typedef struct {
    zcc_t *zcc;
    cli_secrets_t secrets;
    bool json;
    bool tty;
    bool quit; /* `quit` read: no more commands */
    int failures;
    char user [ZC_NAME_MAX + 1]; /* bound user, "" if none: shown in the prompt */
    cli_pending_t pending [CLI_PENDING_MAX];
    uint32_t head;
    uint32_t n_pending;
    EditLine *el; /* interactive mode only */
    bool in_edit; /* inside el_gets: output must redraw the line */
} cli_t;

extern volatile sig_atomic_t cli_interrupted; /* SIGINT seen */
extern volatile sig_atomic_t cli_terminated;  /* SIGTERM seen */

/* Run one command line: a local result, or a request whose result comes later. */
void cli_run_line (cli_t *self, const char *line);
/* Handle one library event (reply, message, closed). */
void cli_on_event (cli_t *self, const zcc_event_t *event);
/* Print text (complete lines) now, keeping an interactive input line intact. */
void cli_emit (cli_t *self, const char *text);

/* Does this command carry a secret (and passwd a new one)? */
bool cli_needs_secret (cli_kind_t kind);
/* The secret for cmd into out (NUL-terminated, at most ZC_SECRET_MAX bytes): from
   the file, the environment (ZCHAT_PASSWORD / ZCHAT_NEW_PASSWORD; for admin commands
   --admin-secret-file / ZCHAT_ADMIN_SECRET), or a prompt when tty. Returns ZC_OK, or an error code with a message in why. */
zc_code_t cli_secret_get (const cli_t *self, const cli_cmd_t *cmd, bool new_one, char *out,
                          size_t size, char *why, size_t why_size);

/* `admin backup FILE` (cli_backup.c), blocking; other events are handled meanwhile.
   Returns the result line(s) (caller frees; NULL: out of memory), *ok if written. */
char *cli_backup_run (cli_t *self, const char *file, const char *secret, bool *ok);
/* admin replace (cli_members.c): add NEW, wait until it votes, remove OLD. */
char *cli_members_replace (cli_t *self, const char *args, const char *secret, bool *ok);

/* Interactive loop on a terminal; returns when the user quits. */
void cli_tty_run (cli_t *self);

#endif
