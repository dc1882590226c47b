/*  cli_backup.c - `zchat admin backup FILE`: fetch the leader's image of the chat
    state in BACKUP chunks and write it as a snapshot file (replication/snapshot_file.h:
    index, term, CRC32C, body) that `zchat-broker --restore FILE` seeds a cluster from.

    A window of requests is kept in flight; every reply is checked against the image
    it belongs to (index, total, offset, length). When the image goes away (a new
    leader, or another backup took its place), the fetch starts again, a few times.
    The file is written only once every byte is in: temp file, fsync, rename. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <czmq.h>
#include <sys/stat.h>
#include "cli.h"
#include "snapshot_file.h"

#define BACKUP_WINDOW   32
#define BACKUP_ATTEMPTS 3
#define BACKUP_SIZE_MAX (1ull << 32) /* a snapshot file's body length is 32 bits */

typedef struct {
    uint64_t index, term, total, received, next;
    uint8_t *body;
    uint64_t seqs [BACKUP_WINDOW];
    uint64_t offsets [BACKUP_WINDOW];
    uint32_t n_out;
} s_fetch_t;

typedef enum { S_DONE, S_AGAIN, S_FAILED } s_outcome_t;

static uint64_t
s_chunk_len (const s_fetch_t *f, uint64_t offset)
{
    uint64_t left = f->total - offset;
    return left < ZC_BACKUP_CHUNK ? left : ZC_BACKUP_CHUNK;
}

/* Wait for the reply to seq; other events go to the CLI as usual. */
static bool
s_wait_reply (cli_t *self, zcc_event_t *ev)
{
    while (!cli_interrupted && !cli_terminated) {
        zcc_event_type_t type = zcc_poll (self->zcc, 200, -1, ev);
        if (type == ZCC_EV_REPLY && ev->re == ZC_CMD_BACKUP)
            return true;
        if (type != ZCC_EV_NONE)
            cli_on_event (self, ev);
    }
    return false;
}

static void
s_fill_window (cli_t *self, s_fetch_t *f, const char *secret)
{
    while (f->n_out < BACKUP_WINDOW && f->next < f->total) {
        zcc_position_t at = { f->index, f->next };
        uint64_t seq = zcc_submit_backup (self->zcc, secret, &at);
        if (!seq)
            return;
        f->seqs [f->n_out] = seq;
        f->offsets [f->n_out++] = f->next;
        f->next += s_chunk_len (f, f->next);
    }
}

/* One reply of the window: its bytes in place, or why the fetch cannot go on. */
static s_outcome_t
s_take_reply (s_fetch_t *f, const zcc_event_t *ev, char *why, size_t why_size)
{
    uint32_t i = 0;
    while (i < f->n_out && f->seqs [i] != ev->seq)
        i++;
    if (i == f->n_out)
        return S_DONE; /* not one of ours (a late reply of an earlier attempt) */
    uint64_t offset = f->offsets [i];
    f->seqs [i] = f->seqs [--f->n_out];
    f->offsets [i] = f->offsets [f->n_out];
    if (ev->code == ZC_ERR_WRONG_STATE || ev->code == ZC_ERR_NOT_LEADER)
        return S_AGAIN;
    const zc_frame_t *r = &ev->frame;
    if (ev->code != ZC_OK) {
        snprintf (why, why_size, "%s: %s", zc_code_name (ev->code), ev->error);
        return S_FAILED;
    }
    if (r->index != f->index || r->total != f->total || r->offset != offset
        || r->data.len != s_chunk_len (f, offset))
        return S_AGAIN; /* another image answered: start over */
    memcpy (f->body + offset, r->data.ptr, r->data.len);
    f->received += r->data.len;
    return S_DONE;
}

static s_outcome_t
s_fetch (cli_t *self, s_fetch_t *f, const char *secret, char *why, size_t why_size)
{
    zcc_position_t start = { 0, 0 };
    zcc_event_t ev;
    uint64_t seq = zcc_submit_backup (self->zcc, secret, &start);
    bool got = seq != 0;
    while (got && (got = s_wait_reply (self, &ev)) && ev.seq != seq)
        ; /* a late reply of an abandoned attempt */
    if (!got) {
        snprintf (why, why_size, "interrupted");
        return S_FAILED;
    }
    if (ev.code != ZC_OK) {
        snprintf (why, why_size, "%s: %s", zc_code_name (ev.code), ev.error);
        return ev.code == ZC_ERR_WRONG_STATE ? S_AGAIN : S_FAILED;
    }
    const zc_frame_t *r = &ev.frame;
    if (r->total >= BACKUP_SIZE_MAX || r->offset != 0 || r->data.len > r->total) {
        snprintf (why, why_size, "the leader sent a malformed first chunk");
        return S_FAILED;
    }
    *f = (s_fetch_t) { .index = r->index, .term = r->term, .total = r->total };
    f->body = (uint8_t *) malloc (f->total ? f->total : 1);
    if (!f->body) {
        snprintf (why, why_size, "out of memory for %llu bytes", (unsigned long long) f->total);
        return S_FAILED;
    }
    memcpy (f->body, r->data.ptr, r->data.len);
    f->received = f->next = r->data.len;
    int64_t shown_ms = zclock_mono ();
    while (f->received < f->total) {
        s_fill_window (self, f, secret);
        if (!s_wait_reply (self, &ev)) {
            snprintf (why, why_size, "interrupted");
            return S_FAILED;
        }
        s_outcome_t outcome = s_take_reply (f, &ev, why, why_size);
        if (outcome != S_DONE)
            return outcome;
        if (self->tty && zclock_mono () - shown_ms > 1000) {
            shown_ms = zclock_mono ();
            fprintf (stderr, "backup: %llu of %llu bytes\n", (unsigned long long) f->received,
                     (unsigned long long) f->total);
        }
    }
    return S_DONE;
}

static int
s_write (const char *file, const s_fetch_t *f, char *why, size_t why_size)
{
    char dir [4096];
    const char *slash = strrchr (file, '/');
    const char *name = slash ? slash + 1 : file;
    if (!*name) {
        snprintf (why, why_size, "'%s' names a directory, not a file", file);
        return -1;
    }
    snprintf (dir, sizeof dir, "%.*s", slash ? (int) (slash - file) : 1, slash ? file : ".");
    if (slash == file)
        snprintf (dir, sizeof dir, "/");
    /* every user's messages and credential hashes: readable by its owner only, from the
       temp file's creation on */
    mode_t mask = umask (077);
    int rc =
        snapshot_file_write_at (dir, name, f->index, f->term, f->body, f->total, why, why_size);
    umask (mask);
    return rc;
}

static char *
s_json_result (const char *file, const s_fetch_t *f, const char *why)
{
    json_out_t *j = json_out_new ();
    if (!j)
        return NULL;
    json_out_object_begin (j, NULL);
    json_out_cstr (j, "type", why ? "error" : "reply");
    json_out_cstr (j, "command", "admin backup");
    if (why)
        json_out_cstr (j, "message", why);
    else {
        json_out_cstr (j, "file", file);
        json_out_uint (j, "index", f->index);
        json_out_uint (j, "term", f->term);
        json_out_uint (j, "bytes", f->total);
    }
    json_out_object_end (j);
    char *line = NULL;
    if (json_out_ok (j) && asprintf (&line, "%s\n", json_out_text (j)) < 0)
        line = NULL;
    json_out_destroy (&j);
    return line;
}

static char *
s_result (bool json, const char *file, const s_fetch_t *f, const char *why)
{
    if (json)
        return s_json_result (file, f, why);
    char *line = NULL;
    int rc = why ? asprintf (&line, "error: admin backup: %s\n", why)
                 : asprintf (&line,
                             "ok: backup of log index %llu (term %llu, %llu bytes) written to %s\n",
                             (unsigned long long) f->index, (unsigned long long) f->term,
                             (unsigned long long) f->total, file);
    return rc < 0 ? NULL : line;
}

char *
cli_backup_run (cli_t *self, const char *file, const char *secret, bool *ok)
{
    char why [256] = "";
    s_fetch_t f;
    memset (&f, 0, sizeof f);
    s_outcome_t outcome = S_AGAIN;
    for (int attempt = 0; attempt < BACKUP_ATTEMPTS && outcome == S_AGAIN; attempt++) {
        free (f.body);
        memset (&f, 0, sizeof f);
        outcome = s_fetch (self, &f, secret, why, sizeof why);
    }
    if (outcome == S_AGAIN)
        snprintf (why, sizeof why,
                  "the backup image changed %d times (leader changes?): "
                  "try again",
                  BACKUP_ATTEMPTS);
    else if (outcome == S_DONE && s_write (file, &f, why, sizeof why) == 0)
        *why = 0;
    else if (outcome == S_DONE && !*why)
        snprintf (why, sizeof why, "cannot write %s", file);
    *ok = outcome == S_DONE && !*why;
    char *line = s_result (self->json, file, &f, *ok ? NULL : why);
    free (f.body);
    return line;
}
