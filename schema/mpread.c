/*  mpread.c - bounded msgpack reader: every byte read is first checked against r->end.
    A value is parsed in two steps: mpr_head reads its header without moving the reader,
    then the caller checks the kind and that the payload fits, and only then advances. */
#include "mpread.h"
#include "frame.h"

typedef enum { K_INT, K_NIL, K_BOOL, K_FLOAT, K_STR, K_BIN, K_EXT, K_ARRAY, K_MAP } kind_t;

typedef struct {
    kind_t kind;
    bool neg;    /* K_INT: value is negative (u holds nothing useful then) */
    uint64_t u;  /* K_INT value, K_BOOL value */
    uint32_t n;  /* payload bytes (STR, BIN, EXT, FLOAT) or element count */
    size_t hlen; /* header bytes, including an int's value bytes */
} mph_t;

static uint64_t
be (const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p [i];
    return v;
}

static size_t
avail (const mpr_t *r)
{
    return (size_t) (r->end - r->pos);
}

/* Header with a big-endian length/count of lenbytes after the tag (plus extra bytes). */
static zc_code_t
head_sized (const mpr_t *r, mph_t *h, kind_t kind, size_t lenbytes, size_t extra)
{
    if (avail (r) < 1 + lenbytes + extra)
        return ZC_ERR_TRUNCATED;
    h->kind = kind;
    h->n = (uint32_t) be (r->pos + 1, lenbytes);
    h->hlen = 1 + lenbytes + extra;
    return ZC_OK;
}

static zc_code_t
head_int (const mpr_t *r, mph_t *h, size_t nbytes, bool is_signed)
{
    if (avail (r) < 1 + nbytes)
        return ZC_ERR_TRUNCATED;
    uint64_t v = be (r->pos + 1, nbytes);
    h->kind = K_INT;
    h->hlen = 1 + nbytes;
    h->neg = is_signed && (v >> (nbytes * 8 - 1)) & 1;
    h->u = v;
    return ZC_OK;
}

static zc_code_t
head_fixed (mph_t *h, kind_t kind, size_t hlen, uint32_t payload)
{
    h->kind = kind;
    h->hlen = hlen;
    h->n = payload;
    return ZC_OK;
}

static zc_code_t
head_raw (const mpr_t *r, mph_t *h)
{
    if (avail (r) < 1)
        return ZC_ERR_TRUNCATED;
    uint8_t t = r->pos [0];
    h->neg = false;
    h->u = 0;
    h->n = 0;
    if (t <= 0x7f) {
        h->kind = K_INT;
        h->u = t;
        h->hlen = 1;
        return ZC_OK;
    }
    if (t >= 0xe0) {
        h->kind = K_INT;
        h->neg = true;
        h->hlen = 1;
        return ZC_OK;
    }
    if (t <= 0x8f)
        return head_fixed (h, K_MAP, 1, t & 0x0f);
    if (t <= 0x9f)
        return head_fixed (h, K_ARRAY, 1, t & 0x0f);
    if (t <= 0xbf)
        return head_fixed (h, K_STR, 1, t & 0x1f);
    switch (t) {
        case 0xc0: return head_fixed (h, K_NIL, 1, 0);
        case 0xc2:
        case 0xc3: h->u = t & 1; return head_fixed (h, K_BOOL, 1, 0);
        case 0xc4: return head_sized (r, h, K_BIN, 1, 0);
        case 0xc5: return head_sized (r, h, K_BIN, 2, 0);
        case 0xc6: return head_sized (r, h, K_BIN, 4, 0);
        case 0xc7: return head_sized (r, h, K_EXT, 1, 1);
        case 0xc8: return head_sized (r, h, K_EXT, 2, 1);
        case 0xc9: return head_sized (r, h, K_EXT, 4, 1);
        case 0xca: return head_fixed (h, K_FLOAT, 1, 4);
        case 0xcb: return head_fixed (h, K_FLOAT, 1, 8);
        case 0xcc: return head_int (r, h, 1, false);
        case 0xcd: return head_int (r, h, 2, false);
        case 0xce: return head_int (r, h, 4, false);
        case 0xcf: return head_int (r, h, 8, false);
        case 0xd0: return head_int (r, h, 1, true);
        case 0xd1: return head_int (r, h, 2, true);
        case 0xd2: return head_int (r, h, 4, true);
        case 0xd3: return head_int (r, h, 8, true);
        case 0xd4: return head_fixed (h, K_EXT, 2, 1);
        case 0xd5: return head_fixed (h, K_EXT, 2, 2);
        case 0xd6: return head_fixed (h, K_EXT, 2, 4);
        case 0xd7: return head_fixed (h, K_EXT, 2, 8);
        case 0xd8: return head_fixed (h, K_EXT, 2, 16);
        case 0xd9: return head_sized (r, h, K_STR, 1, 0);
        case 0xda: return head_sized (r, h, K_STR, 2, 0);
        case 0xdb: return head_sized (r, h, K_STR, 4, 0);
        case 0xdc: return head_sized (r, h, K_ARRAY, 2, 0);
        case 0xdd: return head_sized (r, h, K_ARRAY, 4, 0);
        case 0xde: return head_sized (r, h, K_MAP, 2, 0);
        case 0xdf: return head_sized (r, h, K_MAP, 4, 0);
        default: return ZC_ERR_BAD_TYPE; /* 0xc1: never used */
    }
}

/* Read the next value's header without moving the reader; the header lies inside the
   buffer on ZC_OK (its payload may not: callers check that). */
static zc_code_t
mpr_head (const mpr_t *r, mph_t *h)
{
    zc_code_t rc = head_raw (r, h);
    if (rc == ZC_OK && avail (r) < h->hlen)
        return ZC_ERR_TRUNCATED;
    return rc;
}

/* Header of the given kind whose payload of h->n bytes lies inside the buffer. */
static zc_code_t
head_payload (const mpr_t *r, mph_t *h, kind_t kind)
{
    zc_code_t rc = mpr_head (r, h);
    if (rc != ZC_OK)
        return rc;
    if (h->kind != kind)
        return ZC_ERR_BAD_TYPE;
    if (avail (r) - h->hlen < h->n)
        return ZC_ERR_TRUNCATED;
    return ZC_OK;
}

zc_code_t
mpr_uint (mpr_t *r, uint64_t *out)
{
    mph_t h;
    zc_code_t rc = mpr_head (r, &h);
    if (rc != ZC_OK)
        return rc;
    if (h.kind != K_INT || h.neg)
        return ZC_ERR_BAD_TYPE;
    *out = h.u;
    r->pos += h.hlen;
    return ZC_OK;
}

zc_code_t
mpr_uint_max (mpr_t *r, uint64_t max, uint64_t *out)
{
    mpr_t save = *r;
    zc_code_t rc = mpr_uint (r, out);
    if (rc == ZC_OK && *out > max) {
        *r = save;
        return ZC_ERR_TOO_LARGE;
    }
    return rc;
}

zc_code_t
mpr_bool (mpr_t *r, bool *out)
{
    mph_t h;
    zc_code_t rc = mpr_head (r, &h);
    if (rc != ZC_OK)
        return rc;
    if (h.kind != K_BOOL)
        return ZC_ERR_BAD_TYPE;
    *out = h.u != 0;
    r->pos += h.hlen;
    return ZC_OK;
}

zc_code_t
mpr_str (mpr_t *r, const char **ptr, uint32_t *len)
{
    mph_t h;
    zc_code_t rc = head_payload (r, &h, K_STR);
    if (rc != ZC_OK)
        return rc;
    const char *s = (const char *) r->pos + h.hlen;
    if (!zc_utf8_valid (s, h.n))
        return ZC_ERR_BAD_UTF8;
    *ptr = s;
    *len = h.n;
    r->pos += h.hlen + h.n;
    return ZC_OK;
}

zc_code_t
mpr_bin (mpr_t *r, const uint8_t **ptr, uint32_t *len)
{
    mph_t h;
    zc_code_t rc = head_payload (r, &h, K_BIN);
    if (rc != ZC_OK)
        return rc;
    *ptr = r->pos + h.hlen;
    *len = h.n;
    r->pos += h.hlen + h.n;
    return ZC_OK;
}

static zc_code_t
container (mpr_t *r, kind_t kind, uint32_t *count)
{
    mph_t h;
    zc_code_t rc = mpr_head (r, &h);
    if (rc != ZC_OK)
        return rc;
    if (h.kind != kind)
        return ZC_ERR_BAD_TYPE;
    *count = h.n;
    r->pos += h.hlen;
    return ZC_OK;
}

zc_code_t
mpr_array (mpr_t *r, uint32_t *count)
{
    return container (r, K_ARRAY, count);
}

zc_code_t
mpr_map (mpr_t *r, uint32_t *count)
{
    return container (r, K_MAP, count);
}

static zc_code_t
skip_depth (mpr_t *r, int depth)
{
    if (depth > MPR_MAX_DEPTH)
        return ZC_ERR_TOO_LARGE;
    mph_t h;
    zc_code_t rc = mpr_head (r, &h);
    if (rc != ZC_OK)
        return rc;
    if (h.kind == K_STR) {
        const char *ptr;
        uint32_t len;
        return mpr_str (r, &ptr, &len);
    }
    if (h.kind == K_ARRAY || h.kind == K_MAP) {
        /* Each element consumes >= 1 byte or fails, so this loop is bounded by the
           buffer, whatever the announced count. */
        uint64_t items = h.kind == K_MAP ? 2 * (uint64_t) h.n : h.n;
        mpr_t save = *r;
        r->pos += h.hlen;
        for (uint64_t i = 0; i < items; i++) {
            rc = skip_depth (r, depth + 1);
            if (rc != ZC_OK) {
                *r = save;
                return rc;
            }
        }
        return ZC_OK;
    }
    size_t payload = (h.kind == K_BIN || h.kind == K_EXT || h.kind == K_FLOAT) ? h.n : 0;
    if (avail (r) - h.hlen < payload)
        return ZC_ERR_TRUNCATED;
    r->pos += h.hlen + payload;
    return ZC_OK;
}

zc_code_t
mpr_skip (mpr_t *r)
{
    return skip_depth (r, 0);
}
