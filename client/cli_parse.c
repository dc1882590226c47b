/*  cli_parse.c - turns one command line into a cli_cmd_t, checking locally what can
    be checked (command word, argument count, name syntax, text size and UTF-8), so a
    bad line gets a precise error without a round trip. Never modifies the line. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "cli.h"

static const struct {
    const char *word;
    cli_kind_t kind;
} s_words [] = {
    { "create", CLI_CREATE },
    { "delete", CLI_DELETE },
    { "connect", CLI_CONNECT },
    { "list", CLI_LIST },
    { "send", CLI_SEND },
    { "status", CLI_STATUS },
    { "help", CLI_HELP },
    { "quit", CLI_QUIT },
    { "exit", CLI_QUIT },
    { "passwd", CLI_PASSWD },
    { "admin", CLI_ADMIN_TRANSFER },
};

static const char *
s_skip_space (const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static size_t
s_word_len (const char *p)
{
    size_t n = 0;
    while (p [n] && p [n] != ' ' && p [n] != '\t')
        n++;
    return n;
}

static void
s_fail (cli_cmd_t *cmd, zc_code_t code, const char *fmt, const char *arg)
{
    cmd->error = code;
    snprintf (cmd->message, sizeof cmd->message, fmt, arg);
}

/* NAME argument: exactly one word of valid name syntax. */
static const char *
s_parse_name (cli_cmd_t *cmd, const char *p)
{
    p = s_skip_space (p);
    size_t len = s_word_len (p);
    if (len == 0) {
        s_fail (cmd, ZC_ERR_MISSING_FIELD, "missing NAME: usage: %s NAME", cmd->word);
        return NULL;
    }
    if (!zc_name_valid (p, len)) {
        char shown [48];
        snprintf (shown, sizeof shown, "%.*s%s", len > 40 ? 40 : (int) len, p,
                  len > 40 ? "..." : "");
        s_fail (cmd, ZC_ERR_BAD_NAME,
                "invalid name '%s': names are 1-32 characters of A-Z a-z 0-9 _ . -", shown);
        return NULL;
    }
    memcpy (cmd->name, p, len);
    cmd->name [len] = 0;
    return p + len;
}

static void
s_no_more (cli_cmd_t *cmd, const char *p)
{
    if (*s_skip_space (p))
        s_fail (cmd, ZC_ERR_UNKNOWN_COMMAND, "too many arguments for '%s' (try 'help')", cmd->word);
}

static void
s_parse_text (cli_cmd_t *cmd, const char *p, bool required)
{
    p = s_skip_space (p);
    size_t len = strlen (p);
    if (len == 0 && required) {
        s_fail (cmd, ZC_ERR_MISSING_FIELD, "missing TEXT: usage: %s NAME TEXT...", cmd->word);
        return;
    }
    if (cmd->kind == CLI_SEND && len > ZC_TEXT_MAX) {
        s_fail (cmd, ZC_ERR_TEXT_TOO_LONG, "message too long: at most %s bytes", "800");
        return;
    }
    if (!zc_utf8_valid (p, len)) {
        s_fail (cmd, ZC_ERR_BAD_UTF8, "%s: text is not valid UTF-8", cmd->word);
        return;
    }
    cmd->text = len || required ? p : NULL;
    cmd->text_len = len;
}

/* Count the words of p. */
static int
s_words_in (const char *p)
{
    int n = 0;
    for (p = s_skip_space (p); *p; p = s_skip_space (p + s_word_len (p)))
        n++;
    return n;
}

/* admin members | add ID HOST:PORT [learner] | remove ID | replace OLD NEW HOST:PORT:
   the words go to the leader as they are, which checks them. */
static bool
s_parse_members (cli_cmd_t *cmd, const char *p, size_t len)
{
    static const struct {
        const char *word;
        int min, max;
        const char *usage;
    } forms [] = { { "members", 1, 1, "admin members" },
                   { "add", 3, 4, "admin add ID HOST:PORT [learner]" },
                   { "remove", 2, 2, "admin remove ID" },
                   { "replace", 4, 4, "admin replace OLD_ID NEW_ID HOST:PORT" } };
    for (size_t i = 0; i < sizeof forms / sizeof forms [0]; i++) {
        if (len != strlen (forms [i].word) || strncasecmp (p, forms [i].word, len) != 0)
            continue;
        snprintf (cmd->word, sizeof cmd->word, "admin %s", forms [i].word);
        int words = s_words_in (p);
        if (words < forms [i].min || words > forms [i].max) {
            s_fail (cmd, ZC_ERR_MISSING_FIELD, "usage: %s", forms [i].usage);
            return true;
        }
        bool replace = i == 3, list = i == 0;
        cmd->kind = replace ? CLI_ADMIN_REPLACE : CLI_ADMIN_MEMBERS;
        cmd->text = list ? "list" : replace ? s_skip_space (p + len) : p;
        cmd->text_len = strlen (cmd->text);
        while (cmd->text_len
               && (cmd->text [cmd->text_len - 1] == ' ' || cmd->text [cmd->text_len - 1] == '\t'))
            cmd->text_len--;
        if (cmd->text_len > ZC_TEXT_MAX)
            s_fail (cmd, ZC_ERR_TOO_LARGE, "%s: too long", cmd->word);
        return true;
    }
    return false;
}

/* admin transfer [ID] | backup FILE | the membership commands. */
static void
s_parse_admin (cli_cmd_t *cmd, const char *p)
{
    p = s_skip_space (p);
    size_t len = s_word_len (p);
    if (s_parse_members (cmd, p, len))
        return;
    if (len == 6 && strncasecmp (p, "backup", 6) == 0) {
        cmd->kind = CLI_ADMIN_BACKUP;
        snprintf (cmd->word, sizeof cmd->word, "admin backup");
        p = s_skip_space (p + len);
        len = s_word_len (p);
        if (len == 0) {
            s_fail (cmd, ZC_ERR_MISSING_FIELD, "missing FILE: usage: %s FILE", cmd->word);
            return;
        }
        cmd->text = p;
        cmd->text_len = len;
        s_no_more (cmd, p + len);
        return;
    }
    if (len != 8 || strncasecmp (p, "transfer", 8) != 0) {
        s_fail (cmd, ZC_ERR_UNKNOWN_COMMAND,
                "unknown admin command: usage: %s transfer [ID] | admin backup FILE"
                " | admin members | admin add|remove|replace ...",
                cmd->word);
        return;
    }
    snprintf (cmd->word, sizeof cmd->word, "admin transfer");
    p = s_skip_space (p + len);
    len = s_word_len (p);
    bool digits = len > 0 && len <= 2;
    for (size_t i = 0; i < len && digits; i++)
        digits = p [i] >= '0' && p [i] <= '9';
    if (len && !digits) {
        cmd->error = ZC_ERR_NO_SUCH_REPLICA;
        snprintf (cmd->message, sizeof cmd->message, "admin transfer: '%.*s' is not a replica id",
                  len > 40 ? 40 : (int) len, p);
        return;
    }
    memcpy (cmd->name, p, len);
    cmd->name [len] = 0;
    s_no_more (cmd, p + len);
}

void
cli_parse (const char *line, cli_cmd_t *cmd)
{
    memset (cmd, 0, sizeof *cmd);
    const char *p = s_skip_space (line);
    if (*p == 0 || *p == '#')
        return; /* blank or comment */
    size_t len = s_word_len (p);
    snprintf (cmd->word, sizeof cmd->word, "%.*s", (int) len, p);
    for (char *c = cmd->word; *c; c++)
        *c = (char) tolower ((unsigned char) *c);
    for (size_t i = 0; i < sizeof s_words / sizeof s_words [0]; i++)
        if (len == strlen (s_words [i].word) && strncasecmp (p, s_words [i].word, len) == 0)
            cmd->kind = s_words [i].kind;
    p += len;
    switch (cmd->kind) {
        case CLI_NONE:
            cmd->kind = CLI_HELP; /* a kind that is never sent; the error says why */
            s_fail (cmd, ZC_ERR_UNKNOWN_COMMAND, "unknown command '%s' (try 'help')", cmd->word);
            break;
        case CLI_CREATE:
        case CLI_DELETE:
        case CLI_CONNECT:
        case CLI_PASSWD:
            if ((p = s_parse_name (cmd, p)))
                s_no_more (cmd, p);
            break;
        case CLI_SEND:
            if ((p = s_parse_name (cmd, p)))
                s_parse_text (cmd, p, true);
            break;
        case CLI_LIST: s_parse_text (cmd, p, false); break;
        case CLI_ADMIN_TRANSFER: s_parse_admin (cmd, p); break;
        default: s_no_more (cmd, p);
    }
}

int
cli_wire_cmd (cli_kind_t kind)
{
    switch (kind) {
        case CLI_CREATE: return ZC_CMD_CREATE;
        case CLI_DELETE: return ZC_CMD_DELETE;
        case CLI_CONNECT: return ZC_CMD_CONNECT;
        case CLI_LIST: return ZC_CMD_LIST;
        case CLI_SEND: return ZC_CMD_SEND;
        case CLI_STATUS: return ZC_CMD_STATUS;
        case CLI_PASSWD: return ZC_CMD_PASSWD;
        case CLI_ADMIN_TRANSFER: return ZC_CMD_TRANSFER;
        case CLI_ADMIN_MEMBERS: return ZC_CMD_MEMBERS;
        default: return -1;
    }
}
