/*  mpwrite.h - msgpack-c packing into a fixed caller buffer (schema-internal).
    The write callback refuses instead of overflowing, so an encoder learns that its
    output does not fit and answers ZC_ERR_TOO_LARGE; nothing is allocated. */
#ifndef ZC_MPWRITE_H
#define ZC_MPWRITE_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>
#include "frame.h"

typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len; /* bytes written so far (start past any header) */
} mpw_t;

/* msgpack_packer write callback over an mpw_t. */
int mpw_write (void *data, const char *bytes, size_t n);

/* Pack a byte view as a msgpack str. Returns 0, or -1 when it does not fit. */
int mpw_pack_str (msgpack_packer *pk, zc_bytes_t bytes);

#endif
