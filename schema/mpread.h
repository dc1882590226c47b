/*  mpread.h - a bounded msgpack reader over an untrusted byte range (schema-internal).

    Invariant: a reader never reads at or past `end`. Each call either consumes exactly
    one complete value (or container header) and returns ZC_OK, or returns a code and
    leaves the reader where it was:
        ZC_ERR_TRUNCATED  the buffer ends inside the value
        ZC_ERR_BAD_TYPE   the value is not of the asked type (or is the unused tag 0xc1)
        ZC_ERR_BAD_UTF8   a str is not valid UTF-8
        ZC_ERR_TOO_LARGE  nesting deeper than MPR_MAX_DEPTH while skipping
    Nothing allocates; str/bin results are views into the buffer. A container header's
    count is never trusted: callers iterate and every element consumes at least one
    byte, so a huge count ends in TRUNCATED, bounded by the buffer length. */
#ifndef ZC_MPREAD_H
#define ZC_MPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zc_codes.h"

#define MPR_MAX_DEPTH 8

typedef struct {
    const uint8_t *pos;
    const uint8_t *end;
} mpr_t;

static inline void
mpr_init (mpr_t *r, const uint8_t *buf, size_t len)
{
    r->pos = buf;
    r->end = buf + len;
}

static inline bool
mpr_done (const mpr_t *r)
{
    return r->pos >= r->end;
}

/* Non-negative integer in any msgpack int encoding (uint or int with value >= 0). */
zc_code_t mpr_uint (mpr_t *r, uint64_t *out);
/* Same, and the value must be <= max (else ZC_ERR_TOO_LARGE). */
zc_code_t mpr_uint_max (mpr_t *r, uint64_t max, uint64_t *out);
zc_code_t mpr_bool (mpr_t *r, bool *out);
/* str (fix/8/16/32), checked to be valid UTF-8. */
zc_code_t mpr_str (mpr_t *r, const char **ptr, uint32_t *len);
/* bin (8/16/32). */
zc_code_t mpr_bin (mpr_t *r, const uint8_t **ptr, uint32_t *len);
zc_code_t mpr_array (mpr_t *r, uint32_t *count);
zc_code_t mpr_map (mpr_t *r, uint32_t *count);
/* Skip one complete value of any type (strs inside are UTF-8 checked too). */
zc_code_t mpr_skip (mpr_t *r);

#endif
