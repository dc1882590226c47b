/*  cli_secret.c - where the CLI gets a user's secret: --password-file (its first line),
    ZCHAT_PASSWORD, or, on a terminal, a prompt that does not echo. A script never gets
    a prompt: stdin is its command stream. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "cli.h"

bool
cli_needs_secret (cli_kind_t kind)
{
    return kind == CLI_CREATE || kind == CLI_CONNECT || kind == CLI_DELETE || kind == CLI_PASSWD
           || kind == CLI_ADMIN_TRANSFER || kind == CLI_ADMIN_BACKUP || kind == CLI_ADMIN_MEMBERS
           || kind == CLI_ADMIN_REPLACE;
}

static void
s_chomp (char *s)
{
    size_t n = strlen (s);
    while (n && (s [n - 1] == '\n' || s [n - 1] == '\r'))
        s [--n] = 0;
}

static zc_code_t
s_from_file (const char *path, char *out, size_t size, char *why, size_t why_size)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        snprintf (why, why_size, "cannot read password file %s: %s", path, strerror (errno));
        return ZC_ERR_BAD_SECRET;
    }
    char line [ZC_SECRET_MAX + 3] = "";
    bool got = fgets (line, sizeof line, f) != NULL;
    fclose (f);
    s_chomp (line);
    zc_code_t code = ZC_OK;
    if (!got || !*line) {
        snprintf (why, why_size, "password file %s: the first line is empty", path);
        code = ZC_ERR_BAD_SECRET;
    }
    else if (strlen (line) > ZC_SECRET_MAX) {
        snprintf (why, why_size, "password file %s: secrets are at most %d bytes", path,
                  ZC_SECRET_MAX);
        code = ZC_ERR_BAD_SECRET;
    }
    else
        snprintf (out, size, "%s", line);
    explicit_bzero (line, sizeof line);
    return code;
}

/* Read a line from the terminal with echo off. */
static bool
s_prompt (const char *prompt, char *out, size_t size)
{
    struct termios saved, quiet;
    if (tcgetattr (0, &saved) != 0)
        return false;
    quiet = saved;
    quiet.c_lflag &= ~(tcflag_t) ECHO;
    quiet.c_lflag |= ICANON;
    fputs (prompt, stdout);
    fflush (stdout);
    tcsetattr (0, TCSAFLUSH, &quiet);
    ssize_t n = read (0, out, size - 1);
    tcsetattr (0, TCSAFLUSH, &saved);
    fputs ("\n", stdout);
    if (n <= 0)
        return false;
    out [n] = 0;
    s_chomp (out);
    return true;
}

/* The admin secret: --admin-secret-file, ZCHAT_ADMIN_SECRET, or asked on a terminal. */
static zc_code_t
s_admin_secret (const cli_t *self, char *out, size_t size, char *why, size_t why_size)
{
    if (self->secrets.admin_file)
        return s_from_file (self->secrets.admin_file, out, size, why, why_size);
    const char *env = getenv ("ZCHAT_ADMIN_SECRET");
    if (env && *env && strlen (env) <= ZC_SECRET_MAX) {
        snprintf (out, size, "%s", env);
        return ZC_OK;
    }
    if (self->tty && s_prompt ("admin secret: ", out, size) && *out)
        return ZC_OK;
    snprintf (why, why_size,
              "admin commands need the cluster's admin secret: give "
              "--admin-secret-file FILE or set ZCHAT_ADMIN_SECRET");
    return ZC_ERR_BAD_SECRET;
}

zc_code_t
cli_secret_get (const cli_t *self, const cli_cmd_t *cmd, bool new_one, char *out, size_t size,
                char *why, size_t why_size)
{
    if (cmd->kind == CLI_ADMIN_TRANSFER || cmd->kind == CLI_ADMIN_BACKUP
        || cmd->kind == CLI_ADMIN_MEMBERS || cmd->kind == CLI_ADMIN_REPLACE)
        return s_admin_secret (self, out, size, why, why_size);
    const char *file = new_one ? self->secrets.new_file : self->secrets.file;
    if (file)
        return s_from_file (file, out, size, why, why_size);
    const char *env = getenv (new_one ? "ZCHAT_NEW_PASSWORD" : "ZCHAT_PASSWORD");
    if (env && *env) {
        if (strlen (env) > ZC_SECRET_MAX) {
            snprintf (why, why_size, "secrets are at most %d bytes", ZC_SECRET_MAX);
            return ZC_ERR_BAD_SECRET;
        }
        snprintf (out, size, "%s", env);
        return ZC_OK;
    }
    if (!self->tty) {
        snprintf (why, why_size,
                  "%s %s needs a%s secret: give --%spassword-file FILE or set "
                  "ZCHAT_%sPASSWORD",
                  cmd->word, cmd->name, new_one ? " new" : "", new_one ? "new-" : "",
                  new_one ? "NEW_" : "");
        return ZC_ERR_BAD_SECRET;
    }
    bool twice = cmd->kind == CLI_CREATE || new_one;
    char prompt [96], again [ZC_SECRET_MAX + 2];
    snprintf (prompt, sizeof prompt, "%s secret for %s: ", new_one ? "new" : "", cmd->name);
    bool ok = s_prompt (prompt + (new_one ? 0 : 1), out, size)
              && (!twice || s_prompt ("again: ", again, sizeof again));
    zc_code_t code = ZC_OK;
    if (!ok || !*out) {
        snprintf (why, why_size, "no secret given");
        code = ZC_ERR_BAD_SECRET;
    }
    else if (twice && strcmp (out, again) != 0) {
        snprintf (why, why_size, "the two secrets differ");
        code = ZC_ERR_BAD_SECRET;
    }
    explicit_bzero (again, sizeof again);
    return code;
}
