/*  raft_msg.h - Raft log entries and peer messages: the types replication/ works on,
    and their wire encoding between replicas (PUB/SUB and DEALER/ROUTER).

    A peer frame is: 1 byte version (1), then one msgpack array (see PROTOCOL.md).
    Peer frames can be larger than client frames (batched entries): at most
    RAFT_PEER_FRAME_MAX. Decoded entries point into the frame buffer. */
#ifndef ZC_RAFT_MSG_H
#define ZC_RAFT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zc_codes.h"

#define RAFT_PEER_FRAME_MAX (4u * 1024 * 1024)
#define RAFT_MAX_NODES      7 /* members of one configuration, voters and learners */
#define RAFT_MAX_ID         63 /* replica ids are 1..RAFT_MAX_ID: a replaced member's id is never reused */
#define RAFT_BROADCAST      0 /* msg.to for AppendEntries published to every follower */

typedef struct {
    uint64_t term;
    uint64_t index;
    uint32_t len;
    const uint8_t *data; /* zc_command_t encoding; owner depends on who made it */
} raft_entry_t;

typedef enum {
    RAFT_MSG_APPEND = 1,      /* leader -> follower(s): entries or heartbeat */
    RAFT_MSG_APPEND_RESP = 2, /* follower -> leader, after the entries are durable */
    RAFT_MSG_VOTE = 3,        /* candidate -> all (pre-vote when prevote is set) */
    RAFT_MSG_VOTE_RESP = 4,
    RAFT_MSG_SNAPSHOT = 5,    /* leader -> follower: "install my snapshot (index, term)";
                                   the bytes travel separately (broker's snapshot transfer) */
    RAFT_MSG_TIMEOUT_NOW = 6, /* leader -> follower: start an election now (transfer) */
    RAFT_MSG__COUNT
} raft_msg_type_t;

typedef struct {
    raft_msg_type_t type;
    uint32_t from; /* replica ids are 1..RAFT_MAX_ID */
    uint32_t to;   /* RAFT_BROADCAST only for APPEND */
    uint64_t term;
    /* APPEND */
    uint64_t prev_index;
    uint64_t prev_term;
    uint64_t commit;
    const raft_entry_t *entries;
    uint32_t n_entries;
    /* APPEND_RESP: success => match is the follower's durable match index;
       reject => hint is the follower's last log index (leader retries from there) */
    bool reject;
    uint64_t match;
    uint64_t hint;
    /* VOTE / VOTE_RESP */
    bool prevote;
    uint64_t last_index;
    uint64_t last_term;
    bool granted;
    /* VOTE: a campaign the leader asked for (TIMEOUT_NOW, leadership transfer): voters
       grant it even while they still hear from that leader (etcd's "transfer" campaign) */
    bool transfer;
    /* APPEND heartbeats carry a read context; responses echo it (ReadIndex) */
    uint64_t read_ctx;
    /* SNAPSHOT */
    uint64_t snap_index;
    uint64_t snap_term;
} raft_msg_t;

/* Encode msg (with its entries) into a freshly malloc'd buffer; caller frees *buf_out.
   Returns ZC_OK, or ZC_ERR_TOO_LARGE above RAFT_PEER_FRAME_MAX. */
zc_code_t raft_msg_encode (const raft_msg_t *msg, uint8_t **buf_out, size_t *len_out);

/* Decode a peer frame. Entries are written into entries[0..max_entries) with data
   pointing into buf. Validates types, counts and that entry indexes are consecutive
   starting at prev_index + 1. Returns ZC_OK or a decoder code. */
zc_code_t raft_msg_decode (const uint8_t *buf, size_t len, raft_msg_t *msg, raft_entry_t *entries,
                           uint32_t max_entries);

#endif
