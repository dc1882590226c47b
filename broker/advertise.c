/*  advertise.c - which client address to give for a replica (see advertise.h). */
#include "advertise.h"
#include <stdio.h>

bool
advertise_address (const config_t *config, const replica_t *replica, uint32_t id, char *out,
                   size_t size)
{
    if (id < 1 || id > config->n)
        return false;
    replica_member_t members [RAFT_MAX_NODES];
    uint32_t n = replica_members (replica, 0, members, RAFT_MAX_NODES);
    const char *told = id <= n ? members [id - 1].advertise : "";
    if (*told) {
        snprintf (out, size, "%s", told);
        return true;
    }
    if (id != config->id && *config->advertise)
        return false;
    const config_peer_t *peer = &config->peers [id - 1];
    snprintf (out, size, "%s:%u", peer->host, peer->port);
    return true;
}
