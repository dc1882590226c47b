/*  wal.h - the durable Raft log: append-only segment files in a data directory.

    Each record is: u32 little-endian body length, u32 little-endian CRC32C of the
    body, body = msgpack [term, index, data(bin)] (schema/log_record.h). Segments are
    named log-<first index, 20 digits>.seg and hold consecutive indexes.
    Durability: wal_append only write()s; an entry counts as durable after wal_sync
    (one fdatasync covering every append since the last sync: group commit). The first
    append after a sync starts with a sync mark, a small record saying "every byte
    before me is durable", written and synced with that batch.
    Recovery (wal_open): records are checked in order; damage in the last segment with
    no sync mark after it lies past the last proven fdatasync, so it is a torn tail and
    is truncated; any other damage is corruption and wal_open fails with a message
    naming the file and offset: a replica never serves wrong data. */
#ifndef WAL_H
#define WAL_H

#include <stddef.h>
#include <stdint.h>
#include "raft_msg.h"

typedef struct wal wal_t;

/* Called for every entry found on open, in index order; data valid only during the call.
   Return 0 to continue, non-zero to stop with an error. */
typedef int (wal_replay_fn) (void *arg, const raft_entry_t *entry);

/* Open or create the log in dir, replaying every entry with index > after_index to
   fn (entries <= after_index are covered by a snapshot and skipped). segment_bytes:
   roll to a new segment past this size (0 = 64 MiB). Returns NULL on corruption or
   I/O error, with a readable reason in err. */
wal_t *wal_open (const char *dir, uint64_t after_index, uint64_t segment_bytes, wal_replay_fn *fn,
                 void *arg, char *err, size_t err_len);

/* As wal_open, but damage that wal_open refuses as corruption is cut instead: the
   damaged segment is truncated at the damage and every later segment removed (the
   entries cut are not replayed), and wal_repair_note says what was cut. Still fails
   on I/O errors, a refused replay, and a log starting after after_index + 1. */
wal_t *wal_open_repair (const char *dir, uint64_t after_index, uint64_t segment_bytes,
                        wal_replay_fn *fn, void *arg, char *err, size_t err_len);

void wal_destroy (wal_t **self_p);

/* Index of the first and last entry on disk (0, 0 when empty). */
uint64_t wal_first_index (const wal_t *self);
uint64_t wal_last_index (const wal_t *self);

/* Append entries (index must be last + 1, or any index <= last + 1 after which the
   log is first truncated: Raft conflict resolution). Returns 0, or -1 on I/O error. */
int wal_append (wal_t *self, const raft_entry_t *entries, uint32_t n);

/* Make every append so far durable: flush + one fdatasync (and a directory fsync
   when a segment was created). Returns 0, or -1 on I/O error. */
int wal_sync (wal_t *self);

/* Drop every entry (a snapshot replaced the whole log), e.g. on snapshot install;
   the next append may start at any index. Durable on return. */
int wal_reset (wal_t *self, uint64_t next_index);

/* Remove whole segments whose entries are all <= index (covered by a snapshot). */
int wal_compact (wal_t *self, uint64_t index);

/* Bytes currently on disk across segments. */
uint64_t wal_size_bytes (const wal_t *self);

/* Bytes of torn tail that wal_open cut off the last segment (0 when it was clean),
   for the startup log line. */
uint64_t wal_truncated_bytes (const wal_t *self);

/* What wal_open_repair cut, with the reason, for the log; "" when it cut nothing. */
const char *wal_repair_note (const wal_t *self);

#endif
