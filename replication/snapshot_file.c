/*  snapshot_file.c - the snapshot file and the Raft hard state on disk.

    Invariant: <dir>/snapshot and <dir>/hardstate are only ever replaced whole, by
    writing a temp file, fsync'ing it, renaming it over the old one and fsync'ing the
    directory; so after a crash each is either the old or the new version. A reader
    trusts nothing: sizes, magic and CRC are checked before any byte is returned, and
    allocation is bounded by the real file size, never by a length field. */
#include "snapshot_file.h"
#include "crc32c.h"
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAP_MAGIC        "ZCSNAP01"
#define SNAP_HEADER_BYTES 32u
#define HS_MAGIC          "ZCHS0001"
#define HS_BYTES          24u
#define ID_MAGIC          "ZCID0001"
#define ID_BYTES          28u
#define SF_PATH_BYTES     (PATH_MAX + 32)

static void
s_put_le (uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p [i] = (uint8_t) (v >> (8 * i));
}

static uint64_t
s_get_le (const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p [i];
    return v;
}

/* Replace dir/name atomically with head + body (temp file, fsync, rename, dir fsync). */
static int
s_replace (const char *dir, const char *name, const uint8_t *head, size_t head_len,
           const uint8_t *body, size_t body_len, char *err, size_t err_len)
{
    char path [SF_PATH_BYTES], tmp [SF_PATH_BYTES];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    snprintf (tmp, sizeof tmp, "%s/%s.tmp", dir, name);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fileio_err (err, err_len, "%s: %s", tmp, strerror (errno));
        return -1;
    }
    int rc = fileio_pwrite_all (fd, head, head_len, 0);
    if (rc == 0 && body_len)
        rc = fileio_pwrite_all (fd, body, body_len, head_len);
    if (rc == 0)
        rc = fsync (fd);
    if (rc) {
        fileio_err (err, err_len, "%s: %s", tmp, strerror (errno ? errno : EIO));
        close (fd);
        unlink (tmp);
        return -1;
    }
    close (fd);
    if (rename (tmp, path) || fileio_fsync_dir (dir)) {
        fileio_err (err, err_len, "%s: %s", path, strerror (errno));
        return -1;
    }
    return 0;
}

/* Open dir/name for reading: 1 with *fd_out and *size_out, 0 when absent, -1. */
static int
s_open_read (const char *path, int *fd_out, uint64_t *size_out, char *err, size_t err_len)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        fileio_err (err, err_len, "%s: %s", path, strerror (errno));
        return -1;
    }
    struct stat st;
    if (fstat (fd, &st)) {
        fileio_err (err, err_len, "%s: %s", path, strerror (errno));
        close (fd);
        return -1;
    }
    *fd_out = fd;
    *size_out = (uint64_t) st.st_size;
    return 1;
}

void
snapshot_file_path (const char *dir, char *path, size_t path_len)
{
    snprintf (path, path_len, "%s/snapshot", dir);
}

/* The CRC covers index, term and length as well as the body: a flipped bit in the
   index would otherwise load the right state under the wrong log position. */
static uint32_t
s_snap_crc (const uint8_t *head, const uint8_t *body, size_t len)
{
    return zc_crc32c (zc_crc32c (0, head + 8, 20), body, len);
}

int
snapshot_file_write (const char *dir, uint64_t index, uint64_t term, const uint8_t *body,
                     size_t len, char *err, size_t err_len)
{
    return snapshot_file_write_at (dir, "snapshot", index, term, body, len, err, err_len);
}

int
snapshot_file_write_at (const char *dir, const char *name, uint64_t index, uint64_t term,
                        const uint8_t *body, size_t len, char *err, size_t err_len)
{
    if (len > UINT32_MAX || (len && !body)) {
        fileio_err (err, err_len, "snapshot body of %zu bytes cannot be stored", len);
        return -1;
    }
    uint8_t head [SNAP_HEADER_BYTES];
    memcpy (head, SNAP_MAGIC, 8);
    s_put_le (head + 8, index, 8);
    s_put_le (head + 16, term, 8);
    s_put_le (head + 24, len, 4);
    s_put_le (head + 28, s_snap_crc (head, body, len), 4);
    return s_replace (dir, name, head, sizeof head, body, len, err, err_len);
}

/* Check the header against the real file size; on success *len is the body length. */
static int
s_check_snap_header (const char *path, const uint8_t *head, uint64_t size, size_t *len, char *err,
                     size_t err_len)
{
    if (memcmp (head, SNAP_MAGIC, 8)) {
        fileio_err (err, err_len, "%s: not a zchat snapshot (bad magic): file is corrupt", path);
        return -1;
    }
    uint64_t body_len = s_get_le (head + 24, 4);
    if (body_len != size - SNAP_HEADER_BYTES) {
        fileio_err (err, err_len,
                    "%s: header announces %" PRIu64 " body bytes but the file"
                    " holds %" PRIu64 ": file is corrupt or truncated",
                    path, body_len, size - SNAP_HEADER_BYTES);
        return -1;
    }
    *len = (size_t) body_len;
    return 0;
}

int
snapshot_file_read (const char *dir, uint64_t *index, uint64_t *term, uint8_t **body_out,
                    size_t *len_out, char *err, size_t err_len)
{
    char path [SF_PATH_BYTES];
    snapshot_file_path (dir, path, sizeof path);
    return snapshot_file_read_at (path, index, term, body_out, len_out, err, err_len);
}

int
snapshot_file_read_at (const char *path, uint64_t *index, uint64_t *term, uint8_t **body_out,
                       size_t *len_out, char *err, size_t err_len)
{
    int fd;
    uint64_t size;
    int found = s_open_read (path, &fd, &size, err, err_len);
    if (found <= 0)
        return found;
    uint8_t head [SNAP_HEADER_BYTES];
    size_t len = 0;
    uint8_t *body = NULL;
    int rc = -1;
    if (size < SNAP_HEADER_BYTES || fileio_read_all (fd, head, sizeof head))
        fileio_err (err, err_len, "%s: shorter than a snapshot header: file is corrupt", path);
    else if (s_check_snap_header (path, head, size, &len, err, err_len) == 0) {
        body = malloc (len ? len : 1);
        if (!body)
            fileio_err (err, err_len, "%s: out of memory for %zu bytes", path, len);
        else if (fileio_read_all (fd, body, len))
            fileio_err (err, err_len, "%s: read failed: %s", path, strerror (errno ? errno : EIO));
        else if (s_snap_crc (head, body, len) != (uint32_t) s_get_le (head + 28, 4))
            fileio_err (err, err_len, "%s: CRC mismatch in snapshot: file is corrupt", path);
        else
            rc = 1;
    }
    close (fd);
    if (rc != 1) {
        free (body);
        return -1;
    }
    *index = s_get_le (head + 8, 8);
    *term = s_get_le (head + 16, 8);
    *body_out = body;
    *len_out = len;
    return 1;
}

int
hardstate_write (const char *dir, const raft_hardstate_t *hs, char *err, size_t err_len)
{
    uint8_t buf [HS_BYTES];
    memcpy (buf, HS_MAGIC, 8);
    s_put_le (buf + 8, hs->term, 8);
    s_put_le (buf + 16, hs->vote, 4);
    s_put_le (buf + 20, zc_crc32c (0, buf, 20), 4);
    return s_replace (dir, "hardstate", buf, sizeof buf, NULL, 0, err, err_len);
}

int
hardstate_read (const char *dir, raft_hardstate_t *hs, char *err, size_t err_len)
{
    char path [SF_PATH_BYTES];
    snprintf (path, sizeof path, "%s/hardstate", dir);
    int fd;
    uint64_t size;
    hs->term = 0;
    hs->vote = 0;
    int found = s_open_read (path, &fd, &size, err, err_len);
    if (found <= 0)
        return found;
    uint8_t buf [HS_BYTES];
    int ok = size == HS_BYTES && fileio_read_all (fd, buf, sizeof buf) == 0;
    close (fd);
    if (!ok) {
        fileio_err (err, err_len, "%s: %" PRIu64 " bytes instead of %u: file is corrupt", path,
                    size, HS_BYTES);
        return -1;
    }
    if (memcmp (buf, HS_MAGIC, 8)) {
        fileio_err (err, err_len, "%s: not a zchat hardstate (bad magic): file is corrupt", path);
        return -1;
    }
    if (zc_crc32c (0, buf, 20) != (uint32_t) s_get_le (buf + 20, 4)) {
        fileio_err (err, err_len, "%s: CRC mismatch: file is corrupt", path);
        return -1;
    }
    hs->term = s_get_le (buf + 8, 8);
    hs->vote = (uint32_t) s_get_le (buf + 16, 4);
    return 1;
}

int
identity_write (const char *dir, uint64_t cluster, uint64_t incarnation, char *err, size_t err_len)
{
    uint8_t buf [ID_BYTES];
    memcpy (buf, ID_MAGIC, 8);
    s_put_le (buf + 8, cluster, 8);
    s_put_le (buf + 16, incarnation, 8);
    s_put_le (buf + 24, zc_crc32c (0, buf, 24), 4);
    return s_replace (dir, "identity", buf, sizeof buf, NULL, 0, err, err_len);
}

int
identity_read (const char *dir, uint64_t *cluster, uint64_t *incarnation, char *err, size_t err_len)
{
    char path [SF_PATH_BYTES];
    snprintf (path, sizeof path, "%s/identity", dir);
    int fd;
    uint64_t size;
    *cluster = *incarnation = 0;
    int found = s_open_read (path, &fd, &size, err, err_len);
    if (found <= 0)
        return found;
    uint8_t buf [ID_BYTES];
    int ok = size == ID_BYTES && fileio_read_all (fd, buf, sizeof buf) == 0;
    close (fd);
    if (!ok || memcmp (buf, ID_MAGIC, 8)
        || zc_crc32c (0, buf, 24) != (uint32_t) s_get_le (buf + 24, 4)) {
        fileio_err (err, err_len, "%s: not a zchat identity, or damaged: file is corrupt", path);
        return -1;
    }
    *cluster = s_get_le (buf + 8, 8);
    *incarnation = s_get_le (buf + 16, 8);
    return 1;
}
