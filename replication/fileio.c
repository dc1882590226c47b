/*  fileio.c - see fileio.h. */
#include "fileio.h"
#include <errno.h>
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
