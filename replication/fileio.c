/*  fileio.c - see fileio.h. */
#include "fileio.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
fileio_pwrite_all (int fd, const uint8_t *p, size_t len, uint64_t off)
{
    while (len) {
        ssize_t n = pwrite (fd, p, len, (off_t) off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t) n;
        off += (uint64_t) n;
    }
    return 0;
}

int
fileio_read_all (int fd, uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = read (fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = 0;
            return -1;
        }
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

int
fileio_fsync_dir (const char *path)
{
    int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync (fd);
    int saved = errno;
    close (fd);
    errno = saved;
    return rc;
}

static const fileio_dir_ops_t s_real_dir_ops = { mkdir, fileio_fsync_dir };

/* The parent of the directory path[0..] whose parent prefix is path[0..parent_len):
   "." for a first relative component, "/" for a first absolute one. */
static int
s_fsync_parent (const char *path, size_t parent_len, const fileio_dir_ops_t *ops)
{
    if (parent_len == 0)
        return ops->fsync_dir (path [0] == '/' ? "/" : ".");
    char parent [PATH_MAX];
    memcpy (parent, path, parent_len);
    parent [parent_len] = 0;
    return ops->fsync_dir (parent);
}

int
fileio_mkdir_durable (const char *dir, const fileio_dir_ops_t *ops)
{
    if (!ops)
        ops = &s_real_dir_ops;
    size_t len = strlen (dir);
    if (len == 0 || len >= PATH_MAX)
        return errno = len ? ENAMETOOLONG : ENOENT, -1;
    char path [PATH_MAX];
    memcpy (path, dir, len + 1);
    size_t parent_len = 0;
    for (size_t i = 1; i <= len; i++) {
        if ((i < len && path [i] != '/') || path [i - 1] == '/')
            continue; /* inside a name, or a repeated or trailing '/' */
        char c = path [i];
        path [i] = 0;
        bool made = ops->mkdir (path, 0755) == 0;
        bool ok = made || errno == EEXIST;
        if (made)
            ok = s_fsync_parent (path, parent_len, ops) == 0;
        path [i] = c;
        if (!ok)
            return -1;
        parent_len = i;
    }
    return 0;
}

void
fileio_err (char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || !err_len)
        return;
    va_list args;
    va_start (args, fmt);
    vsnprintf (err, err_len, fmt, args);
    va_end (args);
}
