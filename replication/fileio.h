/*  fileio.h - whole-buffer reads and positioned writes that retry short transfers and EINTR,
    directory creation that survives a power cut, and the readable error text every
    failure carries; shared by the log and the snapshot files. */
#ifndef FILEIO_H
#define FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Write all len bytes at offset off. Returns 0, or -1 with errno set. */
int fileio_pwrite_all (int fd, const uint8_t *p, size_t len, uint64_t off);

/* Read exactly len bytes. Returns 0, or -1 (errno set; 0 at a premature end of file). */
int fileio_read_all (int fd, uint8_t *p, size_t len);

/* fsync the directory at path (so that entries created or removed in it are durable).
   Returns 0, or -1 with errno set. */
int fileio_fsync_dir (const char *path);

/* The calls fileio_mkdir_durable makes; a test passes its own to record their order. */
typedef struct {
    int (*mkdir) (const char *path, mode_t mode);
    int (*fsync_dir) (const char *path);
} fileio_dir_ops_t;

/* Create dir and its missing parents (mode 0755). A new directory's entry is durable
   only once its parent is fsync'd, so each mkdir that creates one is followed by an
   fsync of its parent before the next component. ops NULL = the real calls. Returns 0,
   or -1 with errno set. */
int fileio_mkdir_durable (const char *dir, const fileio_dir_ops_t *ops);

/* Format the reason for a failure into the caller's err[err_len]; err NULL or err_len 0
   means the caller does not want one. */
void fileio_err (char *err, size_t err_len, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
