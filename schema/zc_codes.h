/*  zc_codes.h - the one table of stable result codes shared by replies, logs and the CLI.
    A code's number and name never change once released: clients in other languages
    match on them. New codes are only ever appended. */
#ifndef ZC_CODES_H
#define ZC_CODES_H

typedef enum {
    ZC_OK = 0,
    /* the frame itself is bad (decoder) */
    ZC_ERR_TOO_LARGE = 1,       /* frame over 1024 bytes, or a field over its limit */
    ZC_ERR_TRUNCATED = 2,       /* frame ends inside the header or the body */
    ZC_ERR_TRAILING = 3,        /* bytes after the msgpack body */
    ZC_ERR_BAD_TYPE = 4,        /* body is not a map, or a field has the wrong msgpack type */
    ZC_ERR_BAD_UTF8 = 5,        /* command name or a text field is not valid UTF-8 */
    ZC_ERR_UNKNOWN_COMMAND = 6, /* command name not in the protocol */
    ZC_ERR_MISSING_FIELD = 7,   /* a field the command needs is absent */
    /* the request is well formed but cannot be done */
    ZC_ERR_BAD_NAME = 8,             /* user name not 1-32 bytes of [A-Za-z0-9_.-] */
    ZC_ERR_BAD_PATTERN = 9,          /* list pattern does not compile */
    ZC_ERR_PATTERN_TOO_COMPLEX = 10, /* list pattern hit the match or depth limit */
    ZC_ERR_USER_EXISTS = 11,
    ZC_ERR_NO_SUCH_USER = 12,
    ZC_ERR_NOT_CONNECTED = 13, /* ack or disconnect without a session */
    ZC_ERR_QUEUE_FULL = 14,    /* recipient's queue at its limit */
    ZC_ERR_TOO_MANY_USERS = 15,
    ZC_ERR_TOO_MANY_CLIENTS = 16,
    ZC_ERR_TEXT_TOO_LONG = 17,
    ZC_ERR_NOT_LEADER = 18,    /* retry at the replica named in the reply, if any */
    ZC_ERR_UNAVAILABLE = 19,   /* no quorum: the write could not be committed */
    ZC_ERR_BUSY = 20,          /* a bounded queue is full: back off and retry */
    ZC_ERR_STALE_REQUEST = 21, /* request seq too far behind the client's newest */
    ZC_ERR_REPLACED = 22,      /* session taken over by a connect elsewhere */
    ZC_ERR_USER_DELETED = 23,  /* session closed because its user was deleted */
    ZC_ERR_WRONG_STATE = 24,   /* command not allowed in this session state */
    ZC_ERR_TIMEOUT = 25,       /* client side: no reply within the deadline */
    ZC_ERR_INTERNAL = 26,
    /* credentials and permissions */
    ZC_ERR_AUTH_FAILED = 27,     /* wrong secret for the user (or the user has none) */
    ZC_ERR_FORBIDDEN = 28,       /* this connection may not do that (e.g. send as another) */
    ZC_ERR_THROTTLED = 29,       /* too many failed logins: wait, then try again */
    ZC_ERR_BAD_SECRET = 30,      /* secret not 1-128 bytes */
    ZC_ERR_BAD_CLIENT_ID = 31,   /* cid 0: a request must carry a nonzero client id */
    ZC_ERR_NO_SUCH_REPLICA = 32, /* TRANSFER: no replica with that id (or none to hand to) */
    ZC_ERR_BAD_MEMBERS = 33,     /* MEMBERS: not one change away, or a bad id or address */
    ZC_CODE__COUNT
} zc_code_t;

/* Stable upper-case name ("NO_SUCH_USER"); "UNKNOWN" for a number outside the table. */
const char *zc_code_name (int code);

/* Short readable description of the code, without arguments ("user does not exist"). */
const char *zc_code_text (int code);

#endif
