/*  zc_codes.c - names and readable texts of the result codes. The tables are indexed
    by code number and must stay in step with zc_codes.h (checked at compile time). */
#include "zc_codes.h"

static const char *const s_names [] = {
    "OK",
    "TOO_LARGE",
    "TRUNCATED",
    "TRAILING",
    "BAD_TYPE",
    "BAD_UTF8",
    "UNKNOWN_COMMAND",
    "MISSING_FIELD",
    "BAD_NAME",
    "BAD_PATTERN",
    "PATTERN_TOO_COMPLEX",
    "USER_EXISTS",
    "NO_SUCH_USER",
    "NOT_CONNECTED",
    "QUEUE_FULL",
    "TOO_MANY_USERS",
    "TOO_MANY_CLIENTS",
    "TEXT_TOO_LONG",
    "NOT_LEADER",
    "UNAVAILABLE",
    "BUSY",
    "STALE_REQUEST",
    "REPLACED",
    "USER_DELETED",
    "WRONG_STATE",
    "TIMEOUT",
    "INTERNAL",
    "AUTH_FAILED",
    "FORBIDDEN",
    "THROTTLED",
    "BAD_SECRET",
    "BAD_CLIENT_ID",
    "NO_SUCH_REPLICA",
    "BAD_MEMBERS",
};

static const char *const s_texts [] = {
    "ok",
    "frame or field too large",
    "frame truncated",
    "trailing bytes after the frame body",
    "field has the wrong type",
    "text is not valid UTF-8",
    "unknown command",
    "required field missing",
    "name must be 1-32 characters of A-Z a-z 0-9 _ . -",
    "pattern does not compile",
    "pattern too complex",
    "user already exists",
    "user does not exist",
    "not connected",
    "recipient's queue is full",
    "too many users",
    "too many clients",
    "text too long",
    "not the leader",
    "cluster unavailable (no quorum)",
    "server busy, retry later",
    "request too old",
    "session taken over by another connection",
    "user was deleted",
    "command not allowed now",
    "no reply from the server",
    "internal error",
    "wrong user or secret",
    "not allowed on this connection",
    "too many failed logins, retry later",
    "secret must be 1-128 bytes",
    "client id must be nonzero",
    "no such replica to hand leadership to",
    "not a single membership change",
};

_Static_assert(sizeof s_names / sizeof s_names [0] == ZC_CODE__COUNT, "code names");
_Static_assert(sizeof s_texts / sizeof s_texts [0] == ZC_CODE__COUNT, "code texts");

const char *
zc_code_name (int code)
{
    return code >= 0 && code < ZC_CODE__COUNT ? s_names [code] : "UNKNOWN";
}

const char *
zc_code_text (int code)
{
    return code >= 0 && code < ZC_CODE__COUNT ? s_texts [code] : "unknown error";
}
