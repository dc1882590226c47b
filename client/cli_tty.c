/*  cli_tty.c - interactive mode: libedit line editing with history, and incoming
    messages shown while the user types.

    How messages appear without disturbing the line being typed: libedit reads input
    through our EL_GETCFN function, which waits with zcc_poll on the socket and on
    stdin together. When a message (or a late reply) arrives mid-line, cli_emit erases
    the prompt line (CR + erase-to-end-of-line), prints the message, and asks libedit
    for EL_REFRESH, which redraws prompt and partial input on the next line with the
    cursor where it was. Limit: a partial input wider than the terminal leaves its
    earlier rows on screen above the message.

    After a command is entered, the prompt returns only when its result is printed;
    Ctrl-C stops waiting (the result is printed when it comes) or clears the line. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>
#include "cli.h"

static char *
s_prompt (EditLine *el)
{
    static char prompt [ZC_NAME_MAX + 16];
    cli_t *self = NULL;
    el_get (el, EL_CLIENTDATA, &self);
    if (self && self->user [0])
        snprintf (prompt, sizeof prompt, "zchat(%s)> ", self->user);
    else
        snprintf (prompt, sizeof prompt, "zchat> ");
    return prompt;
}

/* libedit's character source: one wide character from stdin, handling library
   events while waiting. Returns 1, 0 at end of input, -1 with errno EINTR on Ctrl-C. */
static int
s_getc (EditLine *el, wchar_t *wc)
{
    cli_t *self = NULL;
    el_get (el, EL_CLIENTDATA, &self);
    mbstate_t state;
    memset (&state, 0, sizeof state);
    while (true) {
        if (cli_interrupted || cli_terminated) {
            errno = EINTR;
            return -1;
        }
        zcc_event_t ev;
        zcc_event_type_t type = zcc_poll (self->zcc, -1, 0, &ev);
        if (type != ZCC_EV_FD) {
            if (type != ZCC_EV_NONE)
                cli_on_event (self, &ev);
            continue;
        }
        char c;
        ssize_t n = read (0, &c, 1);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -1;
        }
        size_t rc = mbrtowc (wc, &c, 1, &state);
        if (rc == (size_t) -2)
            continue; /* inside a multibyte character */
        if (rc == (size_t) -1) {
            *wc = (wchar_t) (unsigned char) c;
            memset (&state, 0, sizeof state);
        }
        return 1;
    }
}

static void
s_history_path (char *path, size_t size)
{
    const char *home = getenv ("HOME");
    snprintf (path, size, "%s/.zchat_history", home && *home ? home : ".");
}

/* Wait for the result of the line just entered, showing anything else that comes. */
static void
s_wait_results (cli_t *self)
{
    while (self->n_pending && !cli_interrupted && !cli_terminated) {
        zcc_event_t ev;
        zcc_event_type_t type = zcc_poll (self->zcc, -1, -1, &ev);
        if (type != ZCC_EV_NONE)
            cli_on_event (self, &ev);
    }
    if (cli_interrupted && self->n_pending) {
        cli_interrupted = 0;
        cli_emit (self, "(interrupted: the result will be shown when it arrives)\n");
    }
}

static void
s_enter_line (cli_t *self, History *hist, const char *path, const char *line)
{
    char copy [CLI_LINE_MAX + 1];
    size_t len = strcspn (line, "\n");
    if (len > CLI_LINE_MAX)
        len = CLI_LINE_MAX;
    memcpy (copy, line, len);
    copy [len] = 0;
    if (copy [strspn (copy, " \t")]) {
        HistEvent hev;
        history (hist, &hev, H_ENTER, copy);
        history (hist, &hev, H_SAVE, path);
    }
    cli_run_line (self, copy);
    s_wait_results (self);
}

void
cli_tty_run (cli_t *self)
{
    char path [PATH_MAX];
    s_history_path (path, sizeof path);
    HistEvent hev;
    History *hist = history_init ();
    EditLine *el = el_init ("zchat", stdin, stdout, stderr);
    if (!hist || !el) {
        fprintf (stderr, "zchat: cannot start line editing\n");
        self->failures++;
        return;
    }
    history (hist, &hev, H_SETSIZE, 1000);
    history (hist, &hev, H_SETUNIQUE, 1);
    history (hist, &hev, H_LOAD, path);
    el_set (el, EL_EDITOR, "emacs");
    el_set (el, EL_HIST, history, hist);
    el_set (el, EL_PROMPT, s_prompt);
    el_set (el, EL_CLIENTDATA, self);
    el_set (el, EL_GETCFN, s_getc);
    el_source (el, NULL);
    self->el = el;
    fputs ("zchat "
           "- type 'help' for commands, Ctrl-D to leave\n",
           stdout);
    while (!self->quit && !cli_terminated) {
        int count = 0;
        self->in_edit = true;
        const char *line = el_gets (el, &count);
        self->in_edit = false;
        if (!line && cli_interrupted) {
            cli_interrupted = 0;
            fputs ("^C\n", stdout); /* drop the partial line, fresh prompt */
            el_reset (el);
            continue;
        }
        if (!line)
            break; /* Ctrl-D or end of input */
        s_enter_line (self, hist, path, line);
    }
    if (!self->quit)
        fputs ("\n", stdout);
    self->el = NULL;
    el_end (el);
    history_end (hist);
}
