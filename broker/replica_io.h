/*  replica_io.h - everything a replica reaches outside its own memory, injected.

    The replica (replica.h) touches storage, peers and the state machine only through
    these two tables of functions, as canonical/raft's struct raft_io and hashicorp's
    FSM do. Production fills them with the WAL, snapshot files, a forked snapshot
    writer and the peer sockets (replica_io_host.h); the simulator (tests/sim/) with
    an in-memory disk and network that lose unsynced writes, tear appends, reorder,
    partition and crash at any call. Time comes in as the now_ms arguments of
    replica.h, randomness as replica_config_t.raft.seed.

    Durability contract: a call that says "durable" has reached stable storage when it
    returns 0; log_append is not durable until the next log_sync. A call that fails
    (returns -1) means the replica can no longer promise durability: it stops. */
#ifndef REPLICA_IO_H
#define REPLICA_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "raft.h"

/* What the data directory held at start. */
typedef struct {
    raft_hardstate_t hardstate;
    bool found_hardstate;
    uint64_t snap_index, snap_term; /* 0, 0: no snapshot */
    uint8_t *snap_body;             /* malloc'd, the replica frees it */
    size_t snap_len;
    bool found_identity;
    uint64_t cluster;     /* the cluster the data belongs to; 0 = not known yet */
    uint64_t incarnation; /* chosen when the directory was first used */
} replica_disk_t;

/* Called for every log entry found on open, in index order; data valid only during
   the call. */
typedef void (replica_restore_fn) (void *arg, const raft_entry_t *entry);

typedef struct {
    void *arg;
    /* Read hard state and snapshot. -1 with err filled when they are unreadable. */
    int (*load) (void *arg, replica_disk_t *disk, char *err, size_t err_len);
    /* Replay the log after after_index to fn. Sets *last_index (0: empty log). */
    int (*log_open) (void *arg, uint64_t after_index, replica_restore_fn *fn, void *fn_arg,
                     uint64_t *last_index, char *err, size_t err_len);
    /* Durable. */
    int (*hardstate_put) (void *arg, const raft_hardstate_t *hs);
    /* Durable: the data directory's cluster id and incarnation. */
    int (*identity_put) (void *arg, uint64_t cluster, uint64_t incarnation);
    /* Drop stored entries from entries[0].index on, then append: not yet durable. */
    int (*log_append) (void *arg, const raft_entry_t *entries, uint32_t n);
    /* Make every append so far durable (one fdatasync: group commit). */
    int (*log_sync) (void *arg);
    /* The log is covered up to index by a durable snapshot: drop that part. */
    void (*log_compact) (void *arg, uint64_t index);
    /* Durable: the snapshot replaces the old one and the whole log, which restarts
       after index. */
    int (*snapshot_install) (void *arg, uint64_t index, uint64_t term, const uint8_t *body,
                             size_t len);
    /* Durable: the snapshot replaces the old one; the log is untouched. */
    int (*snapshot_put) (void *arg, uint64_t index, uint64_t term, const uint8_t *body, size_t len);
    /* The newest snapshot, malloc'd (caller frees). 1 found, 0 none, -1 unreadable. */
    int (*snapshot_get) (void *arg, uint64_t *index, uint64_t *term, uint8_t **body, size_t *len);
    /* Start writing a snapshot of the state as of (index, term) in the background,
       serialized by save(save_arg). 0 started, -1 cannot (the replica does it inline). */
    int (*snapshot_begin) (void *arg, int (*save) (void *, uint8_t **, size_t *), void *save_arg,
                           uint64_t index, uint64_t term);
    /* Without blocking: 0 while it runs (or none does), 1 when the snapshot it began
       is durable, -1 when it failed. */
    int (*snapshot_poll) (void *arg);
    /* Stop a background snapshot: another is about to replace it. */
    void (*snapshot_abort) (void *arg);
    /* Send frame (malloc'd, ownership passes) to peer to, or to every peer when to is
       RAFT_BROADCAST. Best effort: -1 when dropped; Raft's retries decide delivery. */
    int (*send) (void *arg, uint32_t to, uint8_t *frame, size_t len);
    /* The configuration in force changed: reach its members (conf->members[i].addr),
       stop reaching the others. Called once at start too. */
    void (*members_changed) (void *arg, const raft_conf_t *conf);
} replica_io_t;

/* The replicated state machine. apply sees every committed command (not the
   leader's empty no-ops, nor configurations: the replica keeps those and puts them
   in the snapshot beside the state machine's body) exactly once per incarnation, in log order; it must be
   deterministic: the bytes alone decide the result. */
typedef struct {
    void *arg;
    void (*apply) (void *arg, uint64_t index, const uint8_t *data, size_t len);
    /* The whole state, malloc'd. May run in a forked child. 0, or -1. */
    int (*save) (void *arg, uint8_t **body, size_t *len);
    /* Replace the whole state. 0, or -1 when the bytes do not decode. */
    int (*load) (void *arg, const uint8_t *body, size_t len);
} replica_fsm_t;

#endif
