/*  replica.h - one replica's durable core: the Raft core joined to its storage, its
    peers and its state machine by the ready/advance cycle.

    replica_process performs each raft_ready in the order raft.h demands: hard state
    durable, entries appended and synced once per batch (group commit), snapshot
    installed, messages sent, committed entries applied, confirmed reads served. All
    of that goes through the injected replica_io_t and replica_fsm_t (replica_io.h):
    the replica holds no socket, file or clock, so the simulator runs this very code.
    It owns no client state: what applying means to clients (replies, pushes) is the
    state machine's owner's, told through hooks. */
#ifndef REPLICA_H
#define REPLICA_H

#include <stdbool.h>
#include <stdint.h>
#include "raft.h"
#include "replica_io.h"

typedef struct replica replica_t;

typedef struct {
    raft_config_t raft;        /* id, timeouts, seed, batching */
    raft_conf_t bootstrap;     /* members when neither snapshot nor log names any: the
                                       --peers list, or none for a replica joining a
                                       running cluster (it waits to be added) */
    uint64_t snapshot_entries; /* snapshot after this many applied entries */
    const char *name;          /* for log lines, e.g. the data directory */
    bool rejoin;               /* hold votes from the start (replica_rejoin.c) */
    const char *advertise;     /* "host:port" clients dial for this replica, told to
                                       peers in gossip; NULL = none (must outlive us) */
    bool join;                 /* a new member: learns its cluster id from its peers */
    uint64_t cluster_seed;     /* the id a new cluster's data takes (replica_identity.c) */
    uint64_t incarnation_seed; /* a fresh random value for a new data directory */
} replica_config_t;

typedef struct {
    /* a ReadIndex read is safe to serve now (ok) or can no longer be confirmed */
    void (*read_ready) (void *arg, uint64_t ctx, bool ok);
    /* role, leader or term changed */
    void (*role_changed) (void *arg, raft_role_t role, uint32_t leader, uint64_t term);
} replica_hooks_t;

/* What a replica knows of one member, itself from its core, the others from gossip. */
typedef struct {
    uint32_t id;
    bool voter;     /* false: a learner, catching up */
    bool reachable; /* heard from lately (always true for itself) */
    raft_role_t role;
    uint64_t term, commit, applied, last_index;
    uint64_t match;        /* when self is leader: the member's durable index */
    const char *advertise; /* its advertised client address, "" = none known */
    const char *addr;      /* its address in the configuration */
} replica_member_t;

/* The newest snapshot this replica made durable (taken or installed) since it started. */
typedef struct {
    uint64_t index;       /* 0: none since start */
    uint64_t at_ms;       /* on the now_ms clock */
    uint64_t duration_ms; /* of a background write; 0 inline or installed */
} replica_snapshot_info_t;

/* Load hard state, snapshot (into fsm) and log through io and start as a follower.
   io and fsm are copied. Returns NULL with a reason in err when the data is corrupt
   or unreadable. */
replica_t *replica_new (const replica_config_t *config, const replica_io_t *io,
                        const replica_fsm_t *fsm, const replica_hooks_t *hooks, void *hooks_arg,
                        uint64_t now_ms, char *err, size_t err_len);
void replica_destroy (replica_t **self_p);

/* A frame from a peer (any kind). Invalid frames are logged and dropped. */
void replica_peer_frame (replica_t *self, const uint8_t *frame, size_t len, uint64_t now_ms);

void replica_tick (replica_t *self, uint64_t now_ms);

/* Propose a command (copied). RAFT_ERR_NOT_LEADER, RAFT_ERR_BUSY, RAFT_ERR_TOO_LARGE. */
raft_err_t replica_propose (replica_t *self, const uint8_t *data, size_t len);

/* Request a linearizable read; read_ready fires later with ctx. */
raft_err_t replica_read (replica_t *self, uint64_t ctx);

/* Run ready cycles until the core is idle. Returns 0, or -1 after a storage error
   (the replica must stop: it can no longer promise durability). */
int replica_process (replica_t *self, uint64_t now_ms);

/* Fill out[0..n-1] with every member of the configuration in force, ascending ids,
   then this replica if it is not one of them. Returns n. */
uint32_t replica_members (const replica_t *self, uint64_t now_ms, replica_member_t *out,
                          uint32_t max);

void replica_snapshot_info (const replica_t *self, replica_snapshot_info_t *info);

/* The log position the state machine's state is of: the last applied index and the
   term of that entry. */
void replica_applied (const replica_t *self, uint64_t *index, uint64_t *term);

/* The core, read-only: for the simulator's invariant checks. */
const raft_t *replica_raft (const replica_t *self);

/* Hand leadership to member target (raft_transfer_leadership; 0 = the most up-to-date
   follower); which transfer is under way: raft_transfer_target (replica_raft ()). */
raft_err_t replica_transfer (replica_t *self, uint32_t target);

/* Propose one membership change (raft_propose_conf). */
raft_err_t replica_change_members (replica_t *self, const raft_conf_t *next);

#endif
