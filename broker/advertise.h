/*  advertise.h - the client address of a replica, as clients should be told it (the
    `leader` of NOT_LEADER, the new leader in a TRANSFER reply).

    A replica's own address is its --advertise, else its --peers entry. Another one's
    is what it advertises in its status gossip; until that is heard, its --peers entry,
    unless this replica advertises an address of its own: the cluster then names
    replicas in a way clients cannot use (the compose network's zchat2:7004 seen from
    the host), and no hint is better than one that costs the client a timeout. */
#ifndef ADVERTISE_H
#define ADVERTISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "replica.h"

/* "host:port" of replica id into out; false when there is none to give. */
bool advertise_address (const config_t *config, const replica_t *replica, uint32_t id, char *out,
                        size_t size);

#endif
