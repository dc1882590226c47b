/*  replica.h - one replica's durable core: the Raft core, its log and snapshot on
    disk, and the chat state machine, joined by the ready/advance cycle.

    replica_process performs each raft_ready in the order raft.h demands: hard state
    fsync'd, entries appended and fdatasync'd once per batch (group commit), snapshot
    installed, messages sent, committed entries applied, confirmed reads served. It
    owns no client state: what applying means to clients (replies, pushes) is the
    server's, told through hooks. */
#ifndef REPLICA_H
#define REPLICA_H

#include <stdbool.h>
#include <stdint.h>
#include "chat.h"
#include "config.h"
#include "peers.h"
#include "raft.h"
#include "../schema/frame.h"

typedef struct replica replica_t;

typedef struct {
    /* a committed entry was applied to the chat state */
    void (*applied) (void *arg, uint64_t index, const zc_command_t *cmd, const chat_result_t *result);
    /* a ReadIndex read is safe to serve now (ok) or can no longer be confirmed */
    void (*read_ready) (void *arg, uint64_t ctx, bool ok);
    /* role, leader or term changed */
    void (*role_changed) (void *arg, raft_role_t role, uint32_t leader, uint64_t term);
} replica_hooks_t;

/* Load the data directory (snapshot, hard state, log) and start as a follower.
   Returns NULL with a reason in err when the data is corrupt or unreadable. */
replica_t *replica_new (const config_t *config, peers_t *peers, const replica_hooks_t *hooks,
                        void *hooks_arg, uint64_t now_ms, char *err, size_t err_len);
void replica_destroy (replica_t **self_p);

/* A frame from a peer socket (any kind). Invalid frames are logged and dropped. */
void replica_peer_frame (replica_t *self, const uint8_t *frame, size_t len, uint64_t now_ms);

void replica_tick (replica_t *self, uint64_t now_ms);

/* Propose a chat command; the leader stamps ts. ZC_ERR_NOT_LEADER, ZC_ERR_BUSY. */
zc_code_t replica_propose (replica_t *self, zc_command_t *cmd, uint64_t now_ms);

/* Request a linearizable read; read_ready fires later with ctx. */
zc_code_t replica_read (replica_t *self, uint64_t ctx);

/* Run ready cycles until the core is idle. Returns 0, or -1 after a storage error
   (the replica must stop: it can no longer promise durability). */
int replica_process (replica_t *self, uint64_t now_ms);

const chat_t *replica_chat (const replica_t *self);

/* Leadership transfer (raft.h raft_transfer_leadership; target 0 = the most up to
   date follower) and the replica it is under way to (0 = none). */
zc_code_t replica_transfer (replica_t *self, uint32_t target);
uint32_t replica_transfer_target (const replica_t *self);

/* The client address peer id advertises in its status gossip ("" = none heard). */
const char *replica_peer_advertise (const replica_t *self, uint32_t id);

/* Fill replicas/stats of a STATUS reply: self from the core, peers from gossip. */
void replica_status (replica_t *self, uint64_t now_ms, zc_frame_t *reply);

#endif
