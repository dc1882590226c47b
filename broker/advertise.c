/*  advertise.c - which client address to give for a replica (see advertise.h). */
#include "advertise.h"
#include <stdio.h>

bool
advertise_address (const config_t *config, const replica_t *replica, uint32_t id,
                   char *out, size_t size)
{
    if (id < 1 || id > config->n)
        return false;
    const char *told = id == config->id ? config->advertise
                                        : replica_peer_advertise (replica, id);
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
