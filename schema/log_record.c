/*  log_record.c - encode and decode one WAL record (see log_record.h, STORAGE.md).

    Invariant: the decoder reads only inside [buf, buf + len) and returns OK only for
    a record whose length is sane, whose CRC32C matches and whose body is exactly
    msgpack [uint term, uint index >= 1, bin data] with nothing after it. The msgpack
    subset is written by hand: it is tiny, and replay speed depends on it. */
#include "log_record.h"
#include "crc32c.h"

#include <string.h>

/* Bytes of CRC work the after-damage search may spend before giving up (fail safe). */
#define SCAN_SEARCH_BUDGET (256u * 1024 * 1024)
/* Smallest possible body: fixarray, two fixints, bin8 of length 0. */
#define BODY_MIN 5u

static void
s_put_le32 (uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) v;
    p[1] = (uint8_t) (v >> 8);
    p[2] = (uint8_t) (v >> 16);
    p[3] = (uint8_t) (v >> 24);
}

static uint32_t
s_get_le32 (const uint8_t *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
         | (uint32_t) p[3] << 24;
}

static uint64_t
s_get_be (const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static size_t
s_put_uint (uint8_t *p, uint64_t v)
{
    if (v < 128) {
        p[0] = (uint8_t) v;
        return 1;
    }
    size_t n = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffu ? 4 : 8;
    p[0] = n == 1 ? 0xcc : n == 2 ? 0xcd : n == 4 ? 0xce : 0xcf;
    for (size_t i = 0; i < n; i++)
        p[1 + i] = (uint8_t) (v >> (8 * (n - 1 - i)));
    return 1 + n;
}

const char *
log_record_status_text (log_record_status_t status)
{
    switch (status) {
        case LOG_RECORD_OK:         return "ok";
        case LOG_RECORD_INCOMPLETE: return "record cut off by end of file";
        case LOG_RECORD_BAD_LENGTH: return "bad record length";
        case LOG_RECORD_BAD_CRC:    return "CRC mismatch";
        case LOG_RECORD_BAD_BODY:   return "malformed record body";
    }
    return "unknown status";
}

size_t
log_record_size_max (uint32_t data_len)
{
    return LOG_RECORD_HEAD_MAX + (size_t) data_len;
}

size_t
log_record_encode_head (const raft_entry_t *entry, uint8_t *head)
{
    uint8_t *p = head + LOG_RECORD_HEADER_BYTES;
    *p++ = 0x93;
    p += s_put_uint (p, entry->term);
    p += s_put_uint (p, entry->index);
    uint32_t n = entry->len;
    if (n <= 0xff) {
        *p++ = 0xc4;
        *p++ = (uint8_t) n;
    }
    else if (n <= 0xffff) {
        *p++ = 0xc5;
        *p++ = (uint8_t) (n >> 8);
        *p++ = (uint8_t) n;
    }
    else {
        *p++ = 0xc6;
        for (int i = 3; i >= 0; i--)
            *p++ = (uint8_t) (n >> (8 * i));
    }
    size_t prefix = (size_t) (p - head) - LOG_RECORD_HEADER_BYTES;
    if ((uint64_t) prefix + n > LOG_RECORD_BODY_MAX)
        return 0;
    uint32_t crc = zc_crc32c (0, head + LOG_RECORD_HEADER_BYTES, prefix);
    if (n)
        crc = zc_crc32c (crc, entry->data, n);
    s_put_le32 (head, (uint32_t) (prefix + n));
    s_put_le32 (head + 4, crc);
    return (size_t) (p - head);
}

size_t
log_record_encode (const raft_entry_t *entry, uint8_t *buf, size_t cap)
{
    uint8_t head [LOG_RECORD_HEAD_MAX];
    size_t head_len = log_record_encode_head (entry, head);
    if (head_len == 0 || head_len + entry->len > cap)
        return 0;
    memcpy (buf, head, head_len);
    if (entry->len)
        memcpy (buf + head_len, entry->data, entry->len);
    return head_len + entry->len;
}

/* Read one non-negative msgpack integer at *p (before end). Returns false if the
   type is not an integer, it is negative, or it does not fit. */
static bool
s_get_uint (const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    if (*p >= end)
        return false;
    uint8_t t = **p;
    size_t n;
    bool is_signed = false;
    if (t < 0x80) {
        *v = t;
        (*p)++;
        return true;
    }
    if (t >= 0xcc && t <= 0xcf)
        n = (size_t) 1 << (t - 0xcc);
    else if (t >= 0xd0 && t <= 0xd3) {
        n = (size_t) 1 << (t - 0xd0);
        is_signed = true;
    }
    else
        return false;
    if ((size_t) (end - *p) < 1 + n)
        return false;
    if (is_signed && ((*p)[1] & 0x80))
        return false;
    *v = s_get_be (*p + 1, n);
    *p += 1 + n;
    return true;
}

static bool
s_decode_body (const uint8_t *p, const uint8_t *end, raft_entry_t *entry)
{
    if (p >= end)
        return false;
    if (*p == 0x93)
        p++;
    else if (*p == 0xdc && end - p >= 3 && s_get_be (p + 1, 2) == 3)
        p += 3;
    else if (*p == 0xdd && end - p >= 5 && s_get_be (p + 1, 4) == 3)
        p += 5;
    else
        return false;
    uint64_t term, index;
    if (!s_get_uint (&p, end, &term) || !s_get_uint (&p, end, &index) || index == 0)
        return false;
    if (p >= end || *p < 0xc4 || *p > 0xc6)
        return false;
    size_t n_len = (size_t) 1 << (*p - 0xc4);
    if ((size_t) (end - p) < 1 + n_len)
        return false;
    uint64_t data_len = s_get_be (p + 1, n_len);
    p += 1 + n_len;
    if (data_len != (uint64_t) (end - p))
        return false;           /* short data or trailing bytes */
    entry->term = term;
    entry->index = index;
    entry->len = (uint32_t) data_len;
    entry->data = p;
    return true;
}

log_record_status_t
log_record_decode (const uint8_t *buf, size_t len, raft_entry_t *entry,
                   size_t *record_len)
{
    if (len < LOG_RECORD_HEADER_BYTES)
        return LOG_RECORD_INCOMPLETE;
    uint32_t body_len = s_get_le32 (buf);
    if (body_len == 0 || body_len > LOG_RECORD_BODY_MAX)
        return LOG_RECORD_BAD_LENGTH;
    if (len - LOG_RECORD_HEADER_BYTES < body_len)
        return LOG_RECORD_INCOMPLETE;
    const uint8_t *body = buf + LOG_RECORD_HEADER_BYTES;
    if (zc_crc32c (0, body, body_len) != s_get_le32 (buf + 4))
        return LOG_RECORD_BAD_CRC;
    if (!s_decode_body (body, body + body_len, entry))
        return LOG_RECORD_BAD_BODY;
    *record_len = LOG_RECORD_HEADER_BYTES + body_len;
    return LOG_RECORD_OK;
}

/* Is there a valid record starting anywhere in buf[from..len)? Cheap header checks
   come before the CRC; past the work budget, answer yes (callers then refuse to
   truncate, which is the safe side). */
static bool
s_valid_record_after (const uint8_t *buf, size_t len, size_t from)
{
    uint64_t budget = SCAN_SEARCH_BUDGET;
    for (size_t p = from; p + LOG_RECORD_HEADER_BYTES + BODY_MIN <= len; p++) {
        uint32_t body_len = s_get_le32 (buf + p);
        if (body_len < BODY_MIN || body_len > LOG_RECORD_BODY_MAX
        ||  body_len > len - p - LOG_RECORD_HEADER_BYTES)
            continue;
        uint8_t first = buf [p + LOG_RECORD_HEADER_BYTES];
        if (first != 0x93 && first != 0xdc && first != 0xdd)
            continue;
        if (budget < body_len)
            return true;
        budget -= body_len;
        raft_entry_t entry;
        size_t record_len;
        if (log_record_decode (buf + p, len - p, &entry, &record_len) == LOG_RECORD_OK)
            return true;
    }
    return false;
}

void
log_record_scan (const uint8_t *buf, size_t len, log_record_visit_fn *visit,
                 void *arg, log_record_scan_t *result)
{
    memset (result, 0, sizeof *result);
    size_t off = 0;
    while (off < len) {
        raft_entry_t entry;
        size_t record_len = 0;
        log_record_status_t st = log_record_decode (buf + off, len - off, &entry,
                                                    &record_len);
        if (st != LOG_RECORD_OK) {
            result->status = st;
            result->torn_tail = st != LOG_RECORD_BAD_BODY
                             && !s_valid_record_after (buf, len, off + 1);
            break;
        }
        if (visit && visit (arg, &entry, off) != 0) {
            result->stopped = true;
            break;
        }
        off += record_len;
        result->n_records++;
    }
    result->valid_bytes = off;
}
