/*  raft_conf.h - cluster membership: who votes, who only follows, and where they are.

    A configuration is a log entry like any other (Raft thesis 4.1): a member takes it
    up as soon as the entry is in its log, committed or not, and falls back to the one
    before when the entry is truncated away. Changes go one server at a time (add a
    member, remove one, or change one member's voting flag), so any two consecutive
    configurations share a majority. A new member joins as a learner: it is sent the
    log but neither votes nor counts towards a commit until it has caught up and the
    leader promotes it.

    Encoding of a configuration entry (opaque to everyone but this file): 0xC1 (a byte
    msgpack never uses, so no command encoding starts with it), 'C', version 1, the
    member count, then per member in id order: id (1 byte), flags (1 byte: bit 0
    voter, bit 1 promote-when-caught-up), address length (2 bytes LE), address. */
#ifndef RAFT_CONF_H
#define RAFT_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "raft_msg.h"

#define RAFT_CONF_ADDR_MAX 264 /* "host:port" of its client port, NUL included */
#define RAFT_CONF_ENCODED_MAX                                                                      \
    (4 + RAFT_MAX_NODES * (4 + RAFT_CONF_ADDR_MAX)) /* bytes of one encoded entry */

typedef struct {
    uint32_t id; /* 1..RAFT_MAX_ID */
    bool voter;
    bool promote;                   /* learner: the leader promotes it once its log has caught up */
    char addr [RAFT_CONF_ADDR_MAX]; /* where its peers reach it; opaque to the core */
} raft_member_t;

typedef struct {
    uint32_t n;                             /* members, voters and learners */
    raft_member_t members [RAFT_MAX_NODES]; /* ascending ids */
} raft_conf_t;

/* The member with id, or NULL. */
const raft_member_t *raft_conf_find (const raft_conf_t *conf, uint32_t id);
bool raft_conf_is_voter (const raft_conf_t *conf, uint32_t id);
uint32_t raft_conf_voters (const raft_conf_t *conf);

/* ids 1..n, all voters, no addresses (tests, and the seed of a bootstrap). */
void raft_conf_voters_1_to_n (raft_conf_t *conf, uint32_t n);

/* Add (or replace) member by id, keeping ids ascending. -1 when full or id invalid. */
int raft_conf_put (raft_conf_t *conf, const raft_member_t *member);
/* Remove member id. -1 when absent. */
int raft_conf_remove (raft_conf_t *conf, uint32_t id);

bool raft_conf_equal (const raft_conf_t *a, const raft_conf_t *b);

/* Whether next differs from cur by exactly one change (one member added, one
   removed, or one member's flags changed; addresses of the others unchanged) and
   keeps at least one voter. */
bool raft_conf_single_change (const raft_conf_t *cur, const raft_conf_t *next);

/* Encode into buf (RAFT_CONF_ENCODED_MAX is always enough). Returns the length. */
size_t raft_conf_encode (const raft_conf_t *conf, uint8_t *buf, size_t cap);
/* Decode; checks ids (valid, ascending, so unique), counts, at least one voter and
   addresses (no NUL, bounded). 0, or -1 when the bytes are not a configuration. */
int raft_conf_decode (const uint8_t *data, size_t len, raft_conf_t *conf);

/* The same for a configuration followed by other bytes: *used is its length. */
int raft_conf_decode_prefix (const uint8_t *data, size_t len, raft_conf_t *conf, size_t *used);

/* Whether the entry's data is a configuration (its first two bytes). */
bool raft_conf_is_entry (const uint8_t *data, size_t len);

/* "1=host:7001,2=host:7004,3~host:7007" (= voter, ~ learner), for logs. */
void raft_conf_describe (const raft_conf_t *conf, char *buf, size_t cap);

#endif
