/*  log_record.h - one record of a WAL segment: a Raft log entry or a sync mark.

    Record = u32 LE body length, u32 LE CRC32C(body), body = msgpack [term, index,
    data(bin)] for an entry, or msgpack [offset] for a sync mark: "every byte of this
    segment before offset, which is where this mark starts, was covered by a completed
    fdatasync before this mark was written". The decoder never reads past the buffer and
    tells a record that is merely cut off by the end of the buffer (a torn write) apart
    from one that is damaged (bad length, CRC mismatch, malformed body). No ZeroMQ, no
    I/O. Byte layout and recovery rules: schema/STORAGE.md. */
#ifndef ZC_LOG_RECORD_H
#define ZC_LOG_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "raft_msg.h"

#define LOG_RECORD_HEADER_BYTES 8u
#define LOG_RECORD_BODY_MAX     (16u * 1024 * 1024)
/* Largest msgpack prefix before the data: fixarray + 2 x uint64 + bin32 header. */
#define LOG_RECORD_PREFIX_MAX (1u + 9u + 9u + 5u)
#define LOG_RECORD_HEAD_MAX   (LOG_RECORD_HEADER_BYTES + LOG_RECORD_PREFIX_MAX)
/* Largest sync mark: header, fixarray, uint64. */
#define LOG_RECORD_MARK_MAX (LOG_RECORD_HEADER_BYTES + 1u + 9u)

typedef enum {
    LOG_RECORD_OK = 0,
    LOG_RECORD_INCOMPLETE = 1, /* buffer ends inside the record: torn at the tail */
    LOG_RECORD_BAD_LENGTH = 2, /* body length 0 or above LOG_RECORD_BODY_MAX */
    LOG_RECORD_BAD_CRC = 3,    /* whole record present, checksum does not match */
    LOG_RECORD_BAD_BODY = 4,   /* checksum fine, body is neither [uint, uint, bin] nor
                                   [uint], or a mark names another offset than its own */
    LOG_RECORD_MARK = 5        /* a well-formed sync mark: not an entry, skip it */
} log_record_status_t;

/* Readable name of a status ("bad CRC"). */
const char *log_record_status_text (log_record_status_t status);

/* Encode everything of the record except the data bytes into head (at least
   LOG_RECORD_HEAD_MAX bytes): the 8-byte header and the msgpack prefix. The record on
   disk is head[0..return) followed by entry->data. Returns 0 when the body would
   exceed LOG_RECORD_BODY_MAX. */
size_t log_record_encode_head (const raft_entry_t *entry, uint8_t *head);

/* Encode a whole record into buf. Returns bytes written, or 0 when it does not fit
   in cap or the body would exceed LOG_RECORD_BODY_MAX. */
size_t log_record_encode (const raft_entry_t *entry, uint8_t *buf, size_t cap);

/* Encode a sync mark that starts at byte offset of its segment into buf (at least
   LOG_RECORD_MARK_MAX bytes). Returns its length. */
size_t log_record_encode_mark (uint64_t offset, uint8_t *buf);

/* Upper bound of the encoded size of a record holding data_len bytes. */
size_t log_record_size_max (uint32_t data_len);

/* Decode the record at the start of buf. On LOG_RECORD_OK fills *entry (data points
   into buf) and *record_len (bytes used). Entries with index 0 are BAD_BODY. On
   LOG_RECORD_MARK only *record_len is set (whether the mark names its own offset is
   checked by log_record_scan, which knows where the record lies). */
log_record_status_t log_record_decode (const uint8_t *buf, size_t len, raft_entry_t *entry,
                                       size_t *record_len);

/* Called for each valid entry found by log_record_scan, with its byte offset.
   Return 0 to continue; non-zero stops the scan (the record counts as damage). */
typedef int (log_record_visit_fn) (void *arg, const raft_entry_t *entry, size_t offset);

typedef struct {
    size_t valid_bytes;         /* prefix made of whole valid, accepted records */
    uint64_t n_records;         /* entries in that prefix (marks not counted) */
    log_record_status_t status; /* of the record at valid_bytes; OK if none failed */
    bool stopped;               /* the visitor rejected the record at valid_bytes */
    bool torn_tail;             /* the damage may be a torn write: INCOMPLETE, bad
                                    length or bad CRC, with no sync mark anywhere after
                                    it in buf. False when nothing failed. */
    size_t mark_after;          /* offset of the first sync mark after the damage (so
                                    the damaged bytes had been durable); 0 when none */
} log_record_scan_t;

/* Walk the records of a segment image buf[0..len), calling visit for each valid entry
   and skipping sync marks, and classify what stops the walk. */
void log_record_scan (const uint8_t *buf, size_t len, log_record_visit_fn *visit, void *arg,
                      log_record_scan_t *result);

#endif
