/*  advertise.c - which client address to give for a replica (see advertise.h). */
#include "advertise.h"
#include <stdio.h>

bool
advertise_address (const config_t *config, const replica_t *replica, uint32_t id, char *out,
                   size_t size)
{
    replica_member_t members [RAFT_MAX_NODES];
    uint32_t n = replica_members (replica, 0, members, RAFT_MAX_NODES);
    const replica_member_t *member = NULL;
    for (uint32_t i = 0; i < n; i++)
        if (members [i].id == id)
            member = &members [i];
    if (member && *member->advertise) {
        snprintf (out, size, "%s", member->advertise);
        return true;
    }
    if (id != config->id && *config->advertise)
        return false; /* its peer address is not what clients here can dial */
    const config_peer_t *peer = config_peer (config, id);
    if (member && *member->addr)
        snprintf (out, size, "%s", member->addr);
    else if (peer)
        snprintf (out, size, "%s:%u", peer->host, peer->port);
    else
        return false;
    return true;
}
