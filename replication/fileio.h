/*  fileio.h - whole-buffer reads and positioned writes that retry short transfers and EINTR,
    shared by the log and the snapshot files. */
#ifndef FILEIO_H
#define FILEIO_H

#include <stddef.h>
#include <stdint.h>

/* Write all len bytes at offset off. Returns 0, or -1 with errno set. */
int fileio_pwrite_all (int fd, const uint8_t *p, size_t len, uint64_t off);

/* Read exactly len bytes. Returns 0, or -1 (errno set; 0 at a premature end of file). */
int fileio_read_all (int fd, uint8_t *p, size_t len);

#endif
