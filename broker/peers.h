/*  peers.h - the replica-to-replica transport.

    Each replica binds a PUB (port+1) on which the leader publishes AppendEntries and
    heartbeats and every replica publishes its status, and a ROUTER (port+2) that
    receives point-to-point traffic; it SUBscribes to every other replica's PUB and
    keeps one DEALER into every other replica's ROUTER for votes, acks, repair and
    snapshot chunks. A peer it has no DEALER to (its address is in no configuration
    this replica holds yet) is answered back through the ROUTER, by the routing id
    its DEALER announces ("zchat-peer-ID"). All sends are non-blocking: a full or absent peer drops the frame
    (Raft's indexes and retries, not the socket, decide delivery). */
#ifndef PEERS_H
#define PEERS_H

#include <czmq.h>
#include "config.h"
#include "curve.h"
#include "raft_conf.h"
#include "raft_msg.h"

typedef struct peers peers_t;

/* Bind, every socket secured by curve (curve.h). Returns NULL with a logged reason
   when a port cannot be bound. Reaches nobody until peers_set_members. */
peers_t *peers_new (const config_t *config, curve_t *curve);

/* Reach every member of conf but self (their PUB and ROUTER, next to the client port
   of their address), and stop reaching anyone else. */
void peers_set_members (peers_t *self, const raft_conf_t *conf);
void peers_destroy (peers_t **self_p);

/* Sockets to poll for incoming peer frames. */
zsock_t *peers_sub (peers_t *self);
zsock_t *peers_router (peers_t *self);

/* Send an encoded peer frame (malloc'd; ownership passes, it is sent without a copy)
   to one peer's ROUTER, or publish it (to = RAFT_BROADCAST). Returns 0 when queued,
   -1 when dropped (peer full or unknown). */
int peers_send (peers_t *self, uint32_t to, uint8_t *frame, size_t len);

/* The DEALERs, for the rare frame a peer answers on them (s_send_back in peers.c):
   start with *cursor = 0; NULL after the last. */
zsock_t *peers_dealer (peers_t *self, uint32_t *cursor);

/* Receive one frame from sock (non-blocking). Returns a zframe_t the caller destroys,
   or NULL when none is waiting. Drops the ROUTER's envelope. */
zframe_t *peers_recv (peers_t *self, zsock_t *sock);

#endif
