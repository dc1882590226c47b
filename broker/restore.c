/*  restore.c - see restore.h. Order on disk: snapshot, hard state, then the marker
    `restored` naming the backup's index and term; a crash before the marker leaves
    only pieces of this same backup, which the next start completes. */
#include "restore.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "blog.h"
#include "chat.h"
#include "fileio.h"
#include "snapshot_file.h"

#define MARKER "restored"

/* True when dir holds nothing but pieces of a restore of (index, term). */
static bool
s_only_this_restore (const char *dir, uint64_t index, uint64_t term, bool *marker)
{
    *marker = false;
    DIR *d = opendir (dir);
    if (!d)
        return false;
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir (d))) {
        const char *n = e->d_name;
        if (!strcmp (n, ".") || !strcmp (n, ".."))
            continue;
        if (!strcmp (n, MARKER))
            *marker = true;
        else if (strcmp (n, "snapshot") && strcmp (n, "snapshot.tmp") && strcmp (n, "hardstate")
                 && strcmp (n, "hardstate.tmp"))
            ok = false;
    }
    closedir (d);
    if (!ok)
        return false;
    uint64_t have_index = 0, have_term = 0;
    uint8_t *body = NULL;
    size_t len;
    char err [256];
    int found = snapshot_file_read (dir, &have_index, &have_term, &body, &len, err, sizeof err);
    free (body);
    return found == 0 || (found == 1 && have_index == index && have_term == term);
}

static int
s_read_marker (const char *dir, uint64_t *index, uint64_t *term)
{
    char path [PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/" MARKER, dir);
    FILE *f = fopen (path, "r");
    if (!f)
        return -1;
    unsigned long long i, t;
    int n = fscanf (f, "index=%llu term=%llu", &i, &t);
    fclose (f);
    if (n != 2)
        return -1;
    *index = i;
    *term = t;
    return 0;
}

static int
s_write_marker (const char *dir, uint64_t index, uint64_t term)
{
    char path [PATH_MAX + 16], text [96];
    snprintf (path, sizeof path, "%s/" MARKER, dir);
    int len = snprintf (text, sizeof text, "index=%llu term=%llu\n", (unsigned long long) index,
                        (unsigned long long) term);
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    int rc = fileio_pwrite_all (fd, (const uint8_t *) text, (size_t) len, 0) || fsync (fd);
    close (fd);
    return rc || fileio_fsync_dir (dir) ? -1 : 0;
}

/* The backup must load as a chat state, or the replicas would refuse it later. */
static int
s_check_body (const config_t *config, const uint8_t *body, size_t len)
{
    chat_t *chat = chat_new (&config->limits);
    int rc = chat && chat_snapshot_load (chat, body, len) == ZC_OK ? 0 : -1;
    chat_destroy (&chat);
    return rc;
}

static int
s_seed (const config_t *config, uint64_t index, uint64_t term, const uint8_t *body, size_t len,
        char *err, size_t err_len)
{
    const char *dir = config->data_dir;
    raft_hardstate_t hs = { term, 0 };
    if (snapshot_file_write (dir, index, term, body, len, err, err_len)
        || hardstate_write (dir, &hs, err, err_len))
        return -1;
    if (s_write_marker (dir, index, term)) {
        snprintf (err, err_len, "%s/" MARKER ": %s", dir, strerror (errno));
        return -1;
    }
    return 0;
}

int
restore_seed (const config_t *config, char *err, size_t err_len)
{
    const char *dir = config->data_dir, *file = config->restore_file;
    uint64_t index, term;
    uint8_t *body = NULL;
    size_t len = 0;
    int found = snapshot_file_read_at (file, &index, &term, &body, &len, err, err_len);
    if (found == 0)
        snprintf (err, err_len, "backup %s does not exist", file);
    if (found != 1)
        return -1;
    int rc = -1;
    bool marker;
    uint64_t marked_index, marked_term;
    if (s_check_body (config, body, len))
        snprintf (err, err_len, "backup %s passes its CRC but does not load as a chat state", file);
    else if (fileio_mkdir_durable (dir, NULL))
        snprintf (err, err_len, "cannot create data directory %s: %s", dir, strerror (errno));
    else if (s_read_marker (dir, &marked_index, &marked_term) == 0 && marked_index == index
             && marked_term == term) {
        blog ("restore_already_done", "data=%s index=%llu", dir, (unsigned long long) index);
        rc = 0;
    }
    else if (!s_only_this_restore (dir, index, term, &marker) || marker)
        snprintf (err, err_len,
                  "data directory %s already holds data: --restore seeds an empty"
                  " one (give each replica of the new cluster an empty --data)",
                  dir);
    else if ((rc = s_seed (config, index, term, body, len, err, err_len)) == 0)
        blog ("restored", "data=%s backup=%s index=%llu term=%llu bytes=%zu", dir, file,
              (unsigned long long) index, (unsigned long long) term, len);
    free (body);
    return rc;
}
