/*  snapshot_file.h - durable snapshot files and the persisted Raft hard state.

    snapshot: <dir>/snapshot (one file) = magic "ZCSNAP01", u64 LE index, u64 LE term,
    u32 LE body length, u32 LE CRC32C(index, term, length, body), body. Written to snapshot.tmp, fsync'd,
    renamed over snapshot, then the directory is fsync'd: a crash leaves either the
    old or the new snapshot, never a mix.
    hardstate: <dir>/hardstate = magic "ZCHS0001", u64 LE term, u32 LE vote, u32 LE
    CRC32C of the preceding 20 bytes; same temp/fsync/rename/dir-fsync dance.
    identity: <dir>/identity = magic "ZCID0001", u64 LE cluster id, u64 LE incarnation,
    u32 LE CRC32C of the preceding 24 bytes; same dance. */
#ifndef SNAPSHOT_FILE_H
#define SNAPSHOT_FILE_H

#include <stddef.h>
#include <stdint.h>
#include "raft.h"

/* Write the snapshot durably. Returns 0, or -1 with err filled. */
int snapshot_file_write (const char *dir, uint64_t index, uint64_t term, const uint8_t *body,
                         size_t len, char *err, size_t err_len);

/* Load the snapshot. Returns 1 and a malloc'd *body_out (caller frees) when one exists,
   0 when there is none, -1 on corruption or I/O error with err filled. */
int snapshot_file_read (const char *dir, uint64_t *index, uint64_t *term, uint8_t **body_out,
                        size_t *len_out, char *err, size_t err_len);

/* The same, under another name in dir (a backup: `zchat admin backup`). */
int snapshot_file_write_at (const char *dir, const char *name, uint64_t index, uint64_t term,
                            const uint8_t *body, size_t len, char *err, size_t err_len);
/* The same, from any path (a backup given to `zchat-broker --restore`). */
int snapshot_file_read_at (const char *path, uint64_t *index, uint64_t *term, uint8_t **body_out,
                           size_t *len_out, char *err, size_t err_len);

/* Path of the snapshot file in dir, for streaming it to a follower. */
void snapshot_file_path (const char *dir, char *path, size_t path_len);

/* Which cluster the data belongs to, and which life of the directory it is. */
int identity_write (const char *dir, uint64_t cluster, uint64_t incarnation, char *err,
                    size_t err_len);
/* 1 found, 0 absent (a new directory, or one from before identities), -1 corrupt. */
int identity_read (const char *dir, uint64_t *cluster, uint64_t *incarnation, char *err,
                   size_t err_len);

int hardstate_write (const char *dir, const raft_hardstate_t *hs, char *err, size_t err_len);
/* Returns 1 when found, 0 when absent (fresh replica: term 0, no vote), -1 on corruption. */
int hardstate_read (const char *dir, raft_hardstate_t *hs, char *err, size_t err_len);

#endif
