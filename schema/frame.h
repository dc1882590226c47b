/*  frame.h - client wire frames: the bytes between a zchat client and a replica.

    One ZeroMQ message = one frame of at most ZC_FRAME_MAX bytes:
        bytes 0..14   command name, UTF-8, NUL-padded (ZC_COMMAND_LEN)
        bytes 15..    one msgpack map with short string keys (see schema/PROTOCOL.md)
    The decoder never trusts the input: every read is checked against the end of the
    buffer, and each way a frame can be bad has its own code (zc_codes.h).
    zc_frame_t holds views (zc_bytes_t) into the decoded buffer: they stay valid only
    as long as that buffer does. Encoding writes into a caller buffer, no allocation. */
#ifndef ZC_FRAME_H
#define ZC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "zc_codes.h"

#define ZC_FRAME_MAX           1024
#define ZC_COMMAND_LEN         15
#define ZC_NAME_MAX            32 /* user names: 1..32 bytes of [A-Za-z0-9_.-] */
#define ZC_LIST_MAX_NAMES      24 /* names per LIST reply frame; more frames follow */
#define ZC_STATUS_MAX_REPLICAS 7
#define ZC_ROLE_MAX            15  /* longest role name in STATUS: "precandidate", "unreachable" */
#define ZC_SECRET_MAX          128 /* a user's secret: 1..128 bytes */
#define ZC_PATTERN_MAX         256 /* a LIST pattern: at most 256 bytes */
#define ZC_BACKUP_CHUNK        768 /* backup bytes per BACKUP reply frame, at most */

typedef enum {
    /* client -> replica */
    ZC_CMD_CREATE = 0, /* name, secret */
    ZC_CMD_DELETE,     /* name, secret */
    ZC_CMD_CONNECT,    /* name, secret; optional mseq = highest seq the client already showed */
    ZC_CMD_LIST,       /* optional text = pattern */
    ZC_CMD_SEND,       /* name = recipient, text; optional from */
    ZC_CMD_ACK,        /* name, epoch, mseq = cumulative: all <= mseq displayed */
    ZC_CMD_STATUS,
    ZC_CMD_PING,   /* liveness; no reply needed beyond PONG */
    ZC_CMD_PASSWD, /* name, secret (current), new_secret */
    /* replica -> client */
    ZC_CMD_REPLY,   /* re, seq, code = ZC_OK, plus command-specific fields */
    ZC_CMD_ERROR,   /* re, seq, code, text = readable message, optional leader */
    ZC_CMD_MESSAGE, /* name = recipient, from, epoch, mseq, ts, text */
    ZC_CMD_PONG,
    ZC_CMD_CLOSED, /* name, code (REPLACED / USER_DELETED), text */
    /* client -> replica, administration (appended: the values above stay put) */
    ZC_CMD_TRANSFER, /* secret = the admin secret; optional text = target replica id */
    ZC_CMD_BACKUP,   /* secret = the admin secret; offset; optional index = the image */
    ZC_CMD_MEMBERS,  /* secret = the admin secret; optional text = list | add ... | remove ID */
    ZC_CMD__COUNT
} zc_cmd_t;

/* A byte range inside some buffer; not NUL-terminated, not owned. */
typedef struct {
    const char *ptr;
    uint32_t len;
} zc_bytes_t;

typedef struct {
    uint32_t id;
    char role [ZC_ROLE_MAX
               + 1]; /* "leader", "follower", "candidate", "precandidate", "unreachable", "down" */
    uint64_t term;
    uint64_t commit;
    uint64_t applied;
    uint64_t last_index; /* last log index (lag = leader's last - this) */
} zc_replica_status_t;

/* Which optional fields are present; the encoder writes exactly these keys. */
enum {
    ZC_F_TS = 1u << 0,
    ZC_F_CID = 1u << 1,
    ZC_F_SEQ = 1u << 2,
    ZC_F_NAME = 1u << 3,
    ZC_F_FROM = 1u << 4,
    ZC_F_TEXT = 1u << 5,
    ZC_F_MSEQ = 1u << 6,
    ZC_F_EPOCH = 1u << 7,
    ZC_F_CODE = 1u << 8,
    ZC_F_RE = 1u << 9,
    ZC_F_USERS = 1u << 10,
    ZC_F_MORE = 1u << 11,
    ZC_F_LEADER = 1u << 12,
    ZC_F_REPLICAS = 1u << 13,
    ZC_F_STATS = 1u << 14,
    ZC_F_SECRET = 1u << 15,
    ZC_F_NEW_SECRET = 1u << 16,
    ZC_F_INDEX = 1u << 17,
    ZC_F_TERM = 1u << 18,
    ZC_F_OFFSET = 1u << 19,
    ZC_F_TOTAL = 1u << 20,
    ZC_F_DATA = 1u << 21
};

typedef struct {
    zc_cmd_t cmd;
    uint32_t fields; /* ZC_F_* bits of the keys present */
    uint64_t ts;     /* "ts": ms since the Unix epoch (sender's clock; leader's in MESSAGE) */
    uint64_t cid;    /* "cid": client id, random per client process */
    uint64_t seq;    /* "seq": request sequence; replies echo it */
    zc_bytes_t name; /* "name": the user the command is about */
    zc_bytes_t from; /* "from": sender's name in SEND / MESSAGE */
    zc_bytes_t text; /* "text": message text, LIST pattern, or error message */
    uint64_t mseq;   /* "mseq": per-recipient message sequence */
    uint64_t epoch;  /* "epoch": incarnation of the user (log index of its create) */
    uint32_t code;   /* "code": zc_code_t */
    zc_cmd_t re;     /* "re": the command a REPLY/ERROR answers */
    zc_bytes_t users [ZC_LIST_MAX_NAMES]; /* "users": LIST reply names, sorted */
    uint32_t n_users;
    bool more;         /* "more": LIST reply continues in the next frame */
    zc_bytes_t leader; /* "leader": "host:port" of the leader, in NOT_LEADER errors
                               and in the REPLY to TRANSFER (the new leader) */
    zc_replica_status_t replicas [ZC_STATUS_MAX_REPLICAS]; /* "replicas": STATUS reply */
    uint32_t n_replicas;
    uint64_t n_users_total; /* "stats": [users, queued messages, sessions] in STATUS reply */
    uint64_t n_queued;
    uint64_t n_sessions;
    zc_bytes_t secret;     /* "secret": the user's secret (CREATE, CONNECT, DELETE, PASSWD) */
    zc_bytes_t new_secret; /* "new_secret": PASSWD's replacement secret */
    uint64_t index;        /* "index": BACKUP: the log index the image is of */
    uint64_t term;         /* "term": BACKUP reply: the term of that entry */
    uint64_t offset;       /* "offset": BACKUP: byte offset in the image */
    uint64_t total;        /* "total": BACKUP reply: the image's size in bytes */
    zc_bytes_t data;       /* "data" (bin): BACKUP reply: image bytes from offset */
} zc_frame_t;

/* Command name ("CREATE") for an enum value, NULL if out of range. */
const char *zc_cmd_name (zc_cmd_t cmd);

/* Look up a command by name (exact, case-sensitive); returns -1 if unknown. */
int zc_cmd_from_name (const char *name, size_t len);

/* Zero a frame and set its command. */
void zc_frame_init (zc_frame_t *frame, zc_cmd_t cmd);

/* Encode into buf (capacity cap; pass ZC_FRAME_MAX). Returns ZC_OK and sets *len_out,
   or ZC_ERR_TOO_LARGE if the frame does not fit. */
zc_code_t zc_frame_encode (const zc_frame_t *frame, uint8_t *buf, size_t cap, size_t *len_out);

/* Decode and validate one frame. On ZC_OK, frame's views point into buf. Any other code
   leaves frame unspecified. Checks: size, header NUL padding and UTF-8, known command,
   body is exactly one map, known keys have the right types, strings are valid UTF-8,
   no trailing bytes. Unknown keys are skipped (forward compatibility). */
zc_code_t zc_frame_decode (const uint8_t *buf, size_t len, zc_frame_t *frame);

/* True if bytes are valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool zc_utf8_valid (const char *bytes, size_t len);

/* True if name is 1..ZC_NAME_MAX bytes of [A-Za-z0-9_.-]. */
bool zc_name_valid (const char *name, size_t len);

/* Largest text that fits in a SEND (and therefore in the MESSAGE pushed for it) when
   names are at their maximum length. */
#define ZC_TEXT_MAX 800

#endif
