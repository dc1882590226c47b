/*  command.h - the chat commands stored in the replicated log.

    A log entry's data is one msgpack array encoded by zc_command_encode. The leader
    stamps ts (its clock) into the entry so that applying it never reads a local clock.
    The encoding is stable: it is on disk in every replica's log and snapshot. Entries
    written before credentials existed have 9 elements and still decode (cred empty). */
#ifndef ZC_COMMAND_H
#define ZC_COMMAND_H

#include <stddef.h>
#include <stdint.h>
#include "frame.h"

typedef enum {
    ZC_OP_NOOP = 0,    /* leader's first entry of its term */
    ZC_OP_CREATE = 1,  /* name */
    ZC_OP_DELETE = 2,  /* name */
    ZC_OP_SEND = 3,    /* name = recipient, from (may be empty), text */
    ZC_OP_CONNECT = 4, /* name: linearizable existence check that binds a session */
    ZC_OP_ACK = 5,     /* name, epoch, mseq: drop name's messages with seq <= mseq */
    ZC_OP_PASSWD = 6,  /* name, cred: replace the user's credential */
    ZC_OP__COUNT
} zc_op_t;

typedef struct {
    zc_op_t op;
    uint64_t ts;  /* leader's wall clock, ms since the Unix epoch */
    uint64_t cid; /* client id; 0 for entries that are not client requests (ACK, NOOP) */
    uint64_t seq; /* client's request sequence */
    zc_bytes_t name;
    zc_bytes_t from;
    zc_bytes_t text;
    uint64_t epoch;
    uint64_t mseq;
    zc_bytes_t cred; /* CREATE, PASSWD: the Argon2id hash string, never the secret */
} zc_command_t;

/* Longest credential: crypto_pwhash_STRBYTES - 1 (libsodium's Argon2id string). */
#define ZC_CRED_MAX 127

/* Largest encoded command (a SEND with maximum name, from and text). */
#define ZC_COMMAND_MAX 1024

/* Encode into buf. Returns ZC_OK and *len_out, or ZC_ERR_TOO_LARGE. */
zc_code_t zc_command_encode (const zc_command_t *cmd, uint8_t *buf, size_t cap, size_t *len_out);

/* Decode; views point into buf. Returns ZC_OK or a decoder code (never asserts). */
zc_code_t zc_command_decode (const uint8_t *buf, size_t len, zc_command_t *cmd);

#endif
