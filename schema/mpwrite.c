/*  mpwrite.c - fixed-buffer msgpack writer shared by the schema encoders. */
#include <string.h>
#include "mpwrite.h"

int
mpw_write (void *data, const char *bytes, size_t n)
{
    mpw_t *w = (mpw_t *) data;
    if (n == 0)
        return 0;
    if (w->cap - w->len < n)
        return -1;
    memcpy (w->buf + w->len, bytes, n);
    w->len += n;
    return 0;
}

int
mpw_pack_str (msgpack_packer *pk, zc_bytes_t bytes)
{
    return msgpack_pack_str (pk, bytes.len) || msgpack_pack_str_body (pk, bytes.ptr, bytes.len);
}
