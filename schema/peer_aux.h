/*  peer_aux.h - the peer frames that are not Raft messages: snapshot transfer chunks
    and status gossip. Like raft_msg frames they start with one kind byte:
        1 = Raft message (raft_msg.h), 2 = snapshot chunk, 3 = status gossip
    followed by a msgpack array (see PROTOCOL.md, "Peer frames"). */
#ifndef ZC_PEER_AUX_H
#define ZC_PEER_AUX_H

#include <stddef.h>
#include <stdint.h>
#include "zc_codes.h"

#define ZC_PEER_KIND_RAFT           1
#define ZC_PEER_KIND_SNAPSHOT_CHUNK 2
#define ZC_PEER_KIND_STATUS         3
#define ZC_SNAPSHOT_CHUNK_MAX       (1024u * 1024)
#define ZC_SNAPSHOT_MAX             (4ull * 1024 * 1024 * 1024)
#define ZC_ADVERTISE_MAX            261 /* "host:port": a 255-byte host name, ':', 5 digits */
#define ZC_STATUS_GOSSIP_MAX        512 /* bytes: nine fields and an advertised address */

/* One piece of the leader's snapshot on its way to a follower. */
typedef struct {
    uint32_t from;
    uint64_t term; /* leader's term when it sent the chunk */
    uint64_t snap_index;
    uint64_t snap_term;
    uint64_t total;      /* whole snapshot body length */
    uint64_t offset;     /* where this chunk's bytes go */
    const uint8_t *data; /* view into the frame */
    uint32_t len;
} zc_snapshot_chunk_t;

/* What a replica says of itself every few hundred ms, so any replica can answer STATUS. */
typedef struct {
    uint32_t id;
    uint32_t role; /* raft_role_t */
    uint64_t term;
    uint64_t commit;
    uint64_t applied;
    uint64_t last_index;
    /* "host:port" clients should use for this replica (its --advertise), "" = not set;
       on the wire in the element that was reserved (nil), so older replicas skip it */
    char advertise [ZC_ADVERTISE_MAX + 1];
    /* which cluster its data belongs to and which life of its data directory this is;
       0 = not known (a new member before it heard of its cluster, or an older replica,
       which sends 7 elements) */
    uint64_t cluster;
    uint64_t incarnation;
} zc_status_gossip_t;

/* Encode into buf (cap >= len + 64 for chunks; ZC_STATUS_GOSSIP_MAX for gossip). Returns ZC_OK or ZC_ERR_TOO_LARGE. */
zc_code_t zc_snapshot_chunk_encode (const zc_snapshot_chunk_t *chunk, uint8_t *buf, size_t cap,
                                    size_t *len_out);
zc_code_t zc_snapshot_chunk_decode (const uint8_t *buf, size_t len, zc_snapshot_chunk_t *chunk);
zc_code_t zc_status_gossip_encode (const zc_status_gossip_t *gossip, uint8_t *buf, size_t cap,
                                   size_t *len_out);
zc_code_t zc_status_gossip_decode (const uint8_t *buf, size_t len, zc_status_gossip_t *gossip);

#endif
