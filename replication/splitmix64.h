/*  splitmix64.h - the seeded pseudo-random generator of the replication core (election
    timeouts) and of anything that must replay it: small, and the same sequence for the
    same seed on every platform, so a seed fully describes a run. Not for secrets. */
#ifndef SPLITMIX64_H
#define SPLITMIX64_H

#include <stdint.h>

/* Advance *state and return the next value of its sequence. */
uint64_t splitmix64_next (uint64_t *state);

#endif
