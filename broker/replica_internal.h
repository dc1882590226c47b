/*  replica_internal.h - the replica's state, shared by its files: replica.c (the
    ready cycle), replica_snapshot.c (taking, sending, receiving and installing
    snapshots), replica_status.c (what members say of themselves), replica_members.c
    (configurations in snapshots and at the peer transport) and replica_rejoin.c. */
#ifndef REPLICA_INTERNAL_H
#define REPLICA_INTERNAL_H

#include "replica.h"
#include <assert.h>
#include <string.h>
#include "peer_aux.h"

#define REPLICA_READS_MAX      4096 /* confirmed reads waiting to be applied */
#define REPLICA_DECODE_ENTRIES 4096 /* entries one peer frame may carry */

typedef struct {
    uint64_t ctx;
    uint64_t index;
} replica_wait_t;

/* One peer, as seen from here: its last gossip and the snapshot last sent to it. */
typedef struct {
    zc_status_gossip_t gossip;
    uint64_t heard_ms; /* 0 = never */
    uint64_t snapshot_sent_ms;
    uint64_t snapshot_sent_index;
    bool foreign;                /* its data belongs to another cluster: ignored */
    bool verified;               /* its gossip named our cluster (or none): heard */
    uint64_t incarnation;        /* of its data directory, as last heard */
    uint64_t identity_logged_ms; /* last foreign_peer line about it */
} replica_peer_view_t;

/* A snapshot arriving in chunks, handed to the core once whole. */
typedef struct {
    uint32_t from;
    uint64_t term;
    uint64_t snap_index, snap_term;
    uint64_t total, received;
    uint8_t *body;
    bool complete;
} replica_incoming_t;

/* A snapshot being written in the background. */
typedef struct {
    bool running;
    uint64_t index, term;
    uint64_t started_ms;
} replica_writing_t;

struct replica {
    replica_config_t config;
    replica_io_t io;
    replica_fsm_t fsm;
    replica_hooks_t hooks;
    void *hooks_arg;
    raft_t *raft;
    uint64_t applied;
    uint64_t snap_index, snap_term; /* newest durable snapshot */
    replica_wait_t reads [REPLICA_READS_MAX];
    size_t n_reads;
    raft_entry_t decoded [REPLICA_DECODE_ENTRIES];
    replica_peer_view_t views [RAFT_MAX_ID + 1];
    raft_conf_t applied_conf; /* the configuration as of applied: snapshots hold it */
    raft_conf_t reached;      /* whom the transport was last told to reach */
    bool reached_once;
    uint64_t gossip_sent_ms;
    replica_incoming_t incoming;
    replica_writing_t writing;
    uint64_t snapshot_retry_ms; /* after a failed writer, not before this */
    replica_snapshot_info_t snapshot_info;
    raft_role_t role;
    uint32_t leader;
    uint64_t term;
    bool started_empty; /* no hard state, snapshot or log at start */
    bool warned_history;
    bool rejoin_heard [RAFT_MAX_ID + 1]; /* members heard since votes were held */
    uint64_t cluster, incarnation;       /* replica_identity.c */
    bool stray;                          /* its data is another cluster's: votes held for good */
    uint64_t rejoin_term;                /* the highest term they said */
};

/* replica_snapshot.c */
void replica_snapshot_send (replica_t *self, const raft_msg_t *msg, uint64_t now_ms);
void replica_snapshot_chunk (replica_t *self, const zc_snapshot_chunk_t *chunk);
/* The core accepted the snapshot held for (index, term): make it the state, durably. */
int replica_snapshot_install (replica_t *self, uint64_t index, uint64_t term, uint64_t now_ms);
/* Snapshot once enough has been applied; finish one written in the background. */
int replica_snapshot_maybe (replica_t *self, uint64_t now_ms);
void replica_snapshot_free (replica_t *self);

/* replica_members.c */
/* The snapshot body a replica stores: the configuration, then the state machine's. */
int replica_members_save (void *replica, uint8_t **body, size_t *len);
/* Load a stored body into the state machine; *conf gets its configuration, or the
   bootstrap one when the body has none (written before membership changes). */
int replica_members_load (replica_t *self, const uint8_t *body, size_t len, raft_conf_t *conf);
/* A committed configuration entry was applied. */
void replica_members_applied (replica_t *self, const raft_entry_t *entry);
/* The ready says the configuration in force changed (or we just started). */
void replica_members_changed (replica_t *self);
/* The leader changed: keep reaching it while it leaves (see replica_members.c). */
void replica_members_reach (replica_t *self);

/* replica_identity.c */
int replica_identity_begin (replica_t *self, const replica_disk_t *disk, char *err, size_t err_len);
/* A peer's gossip: false when it belongs to another cluster (drop what it sends). */
bool replica_identity_heard (replica_t *self, const zc_status_gossip_t *gossip, uint64_t now_ms);

/* replica_rejoin.c: votes held after a lost disk until every member's term is known */
void replica_rejoin_begin (replica_t *self, const char *why);
void replica_rejoin_heard (replica_t *self, uint32_t id, uint64_t term);

/* replica_status.c */
void replica_status_gossip (replica_t *self, uint64_t now_ms);
void replica_status_heard (replica_t *self, const zc_status_gossip_t *gossip, uint64_t now_ms);

#endif
