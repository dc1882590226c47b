/*  log_record.c - encode and decode one WAL record (see log_record.h, STORAGE.md).

    Invariant: the decoder reads only inside [buf, buf + len) and returns OK only for
    a record whose length is sane, whose CRC32C matches and whose body is exactly
    msgpack [uint term, uint index >= 1, bin data] with nothing after it, and MARK only
    for such a record whose body is exactly [uint offset]. The msgpack subset is written
    by hand: it is tiny, and replay speed depends on it. */
#include "log_record.h"
#include "crc32c.h"

#include <string.h>

/* Sync mark bodies: fixarray of one, then a fixint (2 bytes) up to a uint64 (10). */
#define MARK_BODY_MIN 2u
#define MARK_BODY_MAX 10u

static void
s_put_le32 (uint8_t *p, uint32_t v)
{
    p [0] = (uint8_t) v;
    p [1] = (uint8_t) (v >> 8);
    p [2] = (uint8_t) (v >> 16);
    p [3] = (uint8_t) (v >> 24);
}

static uint32_t
s_get_le32 (const uint8_t *p)
{
    return (uint32_t) p [0] | (uint32_t) p [1] << 8 | (uint32_t) p [2] << 16
           | (uint32_t) p [3] << 24;
}

static uint64_t
s_get_be (const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p [i];
    return v;
}

static size_t
s_put_uint (uint8_t *p, uint64_t v)
{
    if (v < 128) {
        p [0] = (uint8_t) v;
        return 1;
    }
    size_t n = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffu ? 4 : 8;
    p [0] = n == 1 ? 0xcc : n == 2 ? 0xcd : n == 4 ? 0xce : 0xcf;
    for (size_t i = 0; i < n; i++)
        p [1 + i] = (uint8_t) (v >> (8 * (n - 1 - i)));
    return 1 + n;
}

const char *
log_record_status_text (log_record_status_t status)
{
    switch (status) {
        case LOG_RECORD_OK: return "ok";
        case LOG_RECORD_INCOMPLETE: return "record cut off by end of file";
        case LOG_RECORD_BAD_LENGTH: return "bad record length";
        case LOG_RECORD_BAD_CRC: return "CRC mismatch";
        case LOG_RECORD_BAD_BODY: return "malformed record body";
        case LOG_RECORD_MARK: return "sync mark";
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
log_record_encode_mark (uint64_t offset, uint8_t *buf)
{
    uint8_t *body = buf + LOG_RECORD_HEADER_BYTES;
    body [0] = 0x91;
    size_t body_len = 1 + s_put_uint (body + 1, offset);
    s_put_le32 (buf, (uint32_t) body_len);
    s_put_le32 (buf + 4, zc_crc32c (0, body, body_len));
    return LOG_RECORD_HEADER_BYTES + body_len;
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
    if (is_signed && ((*p) [1] & 0x80))
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
        return false; /* short data or trailing bytes */
    entry->term = term;
    entry->index = index;
    entry->len = (uint32_t) data_len;
    entry->data = p;
    return true;
}

/* A mark body is exactly [uint offset]. */
static bool
s_decode_mark (const uint8_t *p, const uint8_t *end, uint64_t *offset)
{
    if (p >= end || *p != 0x91)
        return false;
    p++;
    return s_get_uint (&p, end, offset) && p == end;
}

/* Decode one record; for a mark, *mark gets the offset it names. */
static log_record_status_t
s_decode (const uint8_t *buf, size_t len, raft_entry_t *entry, size_t *record_len, uint64_t *mark)
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
    log_record_status_t st = s_decode_mark (body, body + body_len, mark)    ? LOG_RECORD_MARK
                             : s_decode_body (body, body + body_len, entry) ? LOG_RECORD_OK
                                                                            : LOG_RECORD_BAD_BODY;
    if (st != LOG_RECORD_BAD_BODY)
        *record_len = LOG_RECORD_HEADER_BYTES + body_len;
    return st;
}

log_record_status_t
log_record_decode (const uint8_t *buf, size_t len, raft_entry_t *entry, size_t *record_len)
{
    uint64_t mark;
    return s_decode (buf, len, entry, record_len, &mark);
}

/* Offset of the first valid sync mark at or after from that names its own offset, or
   0 when there is none. Cheap header checks come before the CRC; marks are tiny. */
static size_t
s_mark_after (const uint8_t *buf, size_t len, size_t from)
{
    for (size_t p = from; p + LOG_RECORD_HEADER_BYTES + MARK_BODY_MIN <= len; p++) {
        uint32_t body_len = s_get_le32 (buf + p);
        if (body_len < MARK_BODY_MIN || body_len > MARK_BODY_MAX
            || buf [p + LOG_RECORD_HEADER_BYTES] != 0x91)
            continue;
        raft_entry_t entry;
        size_t record_len;
        uint64_t mark;
        if (s_decode (buf + p, len - p, &entry, &record_len, &mark) == LOG_RECORD_MARK && mark == p)
            return p;
    }
    return 0;
}

/* Classify the damage at off: a torn write unless a sync mark after it shows that the
   bytes were durable, or the checksum matched (a malformed body is never torn). */
static void
s_classify (const uint8_t *buf, size_t len, size_t off, log_record_status_t st,
            log_record_scan_t *result)
{
    result->status = st;
    if (st == LOG_RECORD_BAD_BODY)
        return;
    result->mark_after = s_mark_after (buf, len, off + 1);
    result->torn_tail = result->mark_after == 0;
}

void
log_record_scan (const uint8_t *buf, size_t len, log_record_visit_fn *visit, void *arg,
                 log_record_scan_t *result)
{
    memset (result, 0, sizeof *result);
    size_t off = 0;
    while (off < len) {
        raft_entry_t entry;
        size_t record_len = 0;
        uint64_t mark = 0;
        log_record_status_t st = s_decode (buf + off, len - off, &entry, &record_len, &mark);
        if (st == LOG_RECORD_MARK && mark != off)
            st = LOG_RECORD_BAD_BODY; /* a mark must name where it lies */
        if (st != LOG_RECORD_OK && st != LOG_RECORD_MARK) {
            s_classify (buf, len, off, st, result);
            break;
        }
        if (st == LOG_RECORD_OK) {
            if (visit && visit (arg, &entry, off) != 0) {
                result->stopped = true;
                break;
            }
            result->n_records++;
        }
        off += record_len;
    }
    result->valid_bytes = off;
}
