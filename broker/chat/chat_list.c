/*  chat_list.c - user names matching a PCRE2 pattern, sorted bytewise.

    Invariant: a list call does bounded work whatever the pattern and however many
    users there are. The pattern is at most ZC_PATTERN_MAX bytes and compiles under
    PCRE2's own size limits; each name is matched with match, depth and heap limits;
    and one budget of pattern steps, counted by PCRE2 auto-callouts, covers the whole
    call, so a pattern that stays just under the per-name limit still cannot multiply
    it by the number of users. Hitting any limit fails the whole call with
    ZC_ERR_PATTERN_TOO_COMPLEX (never a partial, silently wrong list). Nothing is
    cached between calls. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "chat_internal.h"

#define CHAT_MATCH_LIMIT    100000 /* backtracking steps per name */
#define CHAT_DEPTH_LIMIT    1000   /* nested backtracking frames per name */
#define CHAT_HEAP_LIMIT_KIB 1024   /* backtracking frames' memory per name */
#define CHAT_LIST_STEPS                                                                            \
    10000000 /* pattern items evaluated per call, all names:
                                           ~0.25 s of matching on the reference machine */

typedef struct {
    uint64_t steps; /* budget left for the whole call */
} s_budget_t;

static int
s_count_step (pcre2_callout_block *block, void *data)
{
    (void) block;
    s_budget_t *budget = data;
    if (budget->steps == 0)
        return PCRE2_ERROR_MATCHLIMIT; /* negative: abandon the match */
    budget->steps--;
    return 0;
}

static void
s_error (char *err, size_t err_len, const char *fmt, const char *detail, size_t at)
{
    if (err && err_len)
        snprintf (err, err_len, fmt, detail, at);
}

static pcre2_code *
s_compile (const char *pattern, size_t len, zc_code_t *code, char *err, size_t err_len)
{
    *code = ZC_ERR_BAD_PATTERN;
    if (len > ZC_PATTERN_MAX) {
        s_error (err, err_len, "%s (%zu bytes)", "pattern longer than 256 bytes", len);
        return NULL;
    }
    pcre2_compile_context *cctx = pcre2_compile_context_create (NULL);
    if (cctx == NULL) {
        *code = ZC_ERR_INTERNAL;
        return NULL;
    }
    pcre2_set_max_pattern_length (cctx, ZC_PATTERN_MAX);
    int errcode = 0;
    PCRE2_SIZE erroff = 0;
    pcre2_code *re = pcre2_compile ((PCRE2_SPTR) pattern, len,
                                    PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C | PCRE2_AUTO_CALLOUT,
                                    &errcode, &erroff, cctx);
    pcre2_compile_context_free (cctx);
    if (re == NULL) {
        PCRE2_UCHAR message [160];
        if (pcre2_get_error_message (errcode, message, sizeof (message)) < 0)
            strcpy ((char *) message, "pattern does not compile");
        s_error (err, err_len, "%s at offset %zu", (const char *) message, (size_t) erroff);
        return NULL;
    }
    *code = ZC_OK;
    return re;
}

/* Fills matched[] with the users whose name matches re (all users when re is NULL). */
static zc_code_t
s_collect (const chat_t *self, const pcre2_code *re, chat_user_t **matched, size_t *n_out,
           char *err, size_t err_len)
{
    pcre2_match_data *md = re ? pcre2_match_data_create (1, NULL) : NULL;
    pcre2_match_context *mctx = re ? pcre2_match_context_create (NULL) : NULL;
    if (re && (md == NULL || mctx == NULL)) {
        pcre2_match_data_free (md);
        pcre2_match_context_free (mctx);
        return ZC_ERR_INTERNAL;
    }
    s_budget_t budget = { CHAT_LIST_STEPS };
    if (mctx) {
        pcre2_set_match_limit (mctx, CHAT_MATCH_LIMIT);
        pcre2_set_depth_limit (mctx, CHAT_DEPTH_LIMIT);
        pcre2_set_heap_limit (mctx, CHAT_HEAP_LIMIT_KIB);
        pcre2_set_callout (mctx, s_count_step, &budget);
    }
    zc_code_t code = ZC_OK;
    size_t n = 0;
    for (size_t i = 0; self->users.items && i <= self->users.mask; i++) {
        chat_user_t *user = self->users.items [i];
        if (user == NULL)
            continue;
        if (re == NULL) {
            matched [n++] = user;
            continue;
        }
        int rc = pcre2_match (re, (PCRE2_SPTR) user->name, user->name_len, 0, 0, md, mctx);
        if (rc >= 0)
            matched [n++] = user;
        else if (rc != PCRE2_ERROR_NOMATCH) {
            PCRE2_UCHAR message [160];
            if (budget.steps == 0)
                strcpy ((char *) message, "pattern too costly over all users");
            else if (pcre2_get_error_message (rc, message, sizeof (message)) < 0)
                strcpy ((char *) message, "match failed");
            if (err && err_len)
                snprintf (err, err_len, "%s (at user '%.*s')", (const char *) message,
                          (int) user->name_len, user->name);
            code = ZC_ERR_PATTERN_TOO_COMPLEX;
            break;
        }
    }
    pcre2_match_data_free (md);
    pcre2_match_context_free (mctx);
    *n_out = n;
    return code;
}

zc_code_t
chat_list (const chat_t *self, const char *pattern, size_t pattern_len, zc_bytes_t *names,
           size_t max, size_t *n_out, char *err, size_t err_len)
{
    *n_out = 0;
    if (err && err_len)
        err [0] = 0;
    zc_code_t code = ZC_OK;
    pcre2_code *re = NULL;
    if (pattern && pattern_len) {
        re = s_compile (pattern, pattern_len, &code, err, err_len);
        if (re == NULL)
            return code;
    }
    size_t count = self->users.count;
    chat_user_t **matched = malloc ((count ? count : 1) * sizeof (chat_user_t *));
    if (matched == NULL) {
        pcre2_code_free (re);
        return ZC_ERR_INTERNAL;
    }
    size_t n = 0;
    code = s_collect (self, re, matched, &n, err, err_len);
    pcre2_code_free (re);
    if (code == ZC_OK) {
        qsort (matched, n, sizeof (chat_user_t *), chat_user_cmp);
        for (size_t i = 0; i < n && i < max; i++)
            names [i] = (zc_bytes_t) { matched [i]->name, matched [i]->name_len };
        *n_out = n;
    }
    free (matched);
    return code;
}
