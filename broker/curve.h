/*  curve.h - CURVE encryption and authentication of every socket a replica opens.

    Keys live in one directory (made by zchat-keys):
        server.cert, server.cert_secret     the key clients know the cluster by (like
                                            SSH's known_hosts), shared by every replica
        replica-N.cert_secret               replica N's own peer key (only on replica N)
        members/replica-N.cert              every member's public peer key
    The client ROUTER is a CURVE server with the cluster key; it accepts any client key
    (clients prove who they are with their user's secret, not a certificate). Every peer
    socket is a CURVE server or client with the replica's own key, and the zauth actor
    lets in only keys found in members/: a process outside the cluster can neither read
    the log stream nor inject into it. zauth checks every CURVE socket of the CZMQ
    context, so the client ROUTER lives in a context of its own (server.c).
    With --insecure nothing is applied: sockets are plain ZeroMQ. */
#ifndef CURVE_H
#define CURVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"

typedef struct curve curve_t;

/* Load the keys for config->id and start zauth. Returns NULL with a reason in err when
   a key is missing or unreadable. With config->insecure, returns a curve that applies
   nothing (after logging the warning). */
curve_t *curve_new (const config_t *config, char *err, size_t err_len);
void curve_destroy (curve_t **self_p);

bool curve_enabled (const curve_t *self);

/* The id a new cluster's data takes: from the cluster's server key, which every one
   of its replicas holds and no other cluster does (a constant under --insecure). */
uint64_t curve_cluster_seed (const curve_t *self);

/* Make sock (a raw libzmq or CZMQ socket) the CURVE server clients connect to. */
void curve_serve_clients (curve_t *self, void *sock);
/* Make sock a peer-facing CURVE server (PUB, ROUTER) with this replica's key. */
void curve_serve_peers (curve_t *self, void *sock);
/* Before connecting sock to peer's PUB or ROUTER: this replica's key, peer's public key
   (members/replica-ID.cert, read when first needed). 0, or -1 when it is missing. */
int curve_connect_peer (curve_t *self, void *sock, uint32_t peer);

#endif
