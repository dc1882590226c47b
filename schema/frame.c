/*  frame.c - client frame codec (layout in schema/PROTOCOL.md).

    Invariants: the encoder writes only into the caller's buffer (never past cap) and
    emits exactly the keys whose ZC_F_* bit is set, in bit order. The decoder reads
    only inside [buf, buf + len), allocates nothing, and returns ZC_OK only for a frame
    that satisfies every rule of PROTOCOL.md section "Validation"; its views point
    into buf. Header checks, in order: size, UTF-8 of the name, NUL padding, known name. */
#include <assert.h>
#include <string.h>
#include <msgpack.h>
#include "frame.h"
#include "mpread.h"
#include "mpwrite.h"

static const char *const s_cmd_names [ZC_CMD__COUNT] = {
    "CREATE", "DELETE", "CONNECT", "LIST", "SEND",   "ACK",      "STATUS", "PING",    "PASSWD",
    "REPLY",  "ERROR",  "MESSAGE", "PONG", "CLOSED", "TRANSFER", "BACKUP", "MEMBERS",
};

/* Keys by ZC_F_* bit number; also the order the encoder writes them in. */
static const char *const s_keys [] = {
    "ts",         "cid",   "seq",   "name",   "from",   "text",     "mseq",  "epoch",
    "code",       "re",    "users", "more",   "leader", "replicas", "stats", "secret",
    "new_secret", "index", "term",  "offset", "total",  "data",
};
#define N_KEYS     (sizeof s_keys / sizeof s_keys [0])
#define ALL_FIELDS ((1u << N_KEYS) - 1)

/* Fields a frame must carry, by command (PROTOCOL.md "Commands"). */
static const uint32_t s_required [ZC_CMD__COUNT] = {
    [ZC_CMD_CREATE] = ZC_F_CID | ZC_F_SEQ | ZC_F_NAME | ZC_F_SECRET,
    [ZC_CMD_DELETE] = ZC_F_CID | ZC_F_SEQ | ZC_F_NAME | ZC_F_SECRET,
    [ZC_CMD_CONNECT] = ZC_F_CID | ZC_F_SEQ | ZC_F_NAME | ZC_F_SECRET,
    [ZC_CMD_LIST] = ZC_F_CID | ZC_F_SEQ,
    [ZC_CMD_SEND] = ZC_F_CID | ZC_F_SEQ | ZC_F_NAME | ZC_F_TEXT,
    [ZC_CMD_ACK] = ZC_F_CID | ZC_F_NAME | ZC_F_EPOCH | ZC_F_MSEQ,
    [ZC_CMD_STATUS] = ZC_F_CID | ZC_F_SEQ,
    [ZC_CMD_PING] = ZC_F_CID,
    [ZC_CMD_PASSWD] = ZC_F_CID | ZC_F_SEQ | ZC_F_NAME | ZC_F_SECRET | ZC_F_NEW_SECRET,
    [ZC_CMD_REPLY] = ZC_F_RE | ZC_F_SEQ | ZC_F_CODE,
    [ZC_CMD_ERROR] = ZC_F_SEQ | ZC_F_CODE | ZC_F_TEXT,
    [ZC_CMD_MESSAGE] = ZC_F_NAME | ZC_F_EPOCH | ZC_F_MSEQ | ZC_F_TS | ZC_F_TEXT,
    [ZC_CMD_PONG] = ZC_F_TS,
    [ZC_CMD_CLOSED] = ZC_F_NAME | ZC_F_CODE | ZC_F_TEXT,
    [ZC_CMD_TRANSFER] = ZC_F_CID | ZC_F_SEQ | ZC_F_SECRET,
    [ZC_CMD_BACKUP] = ZC_F_CID | ZC_F_SEQ | ZC_F_SECRET | ZC_F_OFFSET,
    [ZC_CMD_MEMBERS] = ZC_F_CID | ZC_F_SEQ | ZC_F_SECRET,
};

/* Extra fields a REPLY must carry, by the command it answers. */
static const uint32_t s_reply_required [ZC_CMD__COUNT] = {
    [ZC_CMD_CREATE] = ZC_F_EPOCH,
    [ZC_CMD_CONNECT] = ZC_F_NAME | ZC_F_EPOCH | ZC_F_MSEQ,
    [ZC_CMD_LIST] = ZC_F_USERS | ZC_F_MORE,
    [ZC_CMD_STATUS] = ZC_F_REPLICAS | ZC_F_STATS,
    [ZC_CMD_BACKUP] = ZC_F_INDEX | ZC_F_TERM | ZC_F_OFFSET | ZC_F_TOTAL | ZC_F_DATA,
};

const char *
zc_cmd_name (zc_cmd_t cmd)
{
    return (int) cmd >= 0 && cmd < ZC_CMD__COUNT ? s_cmd_names [cmd] : NULL;
}

int
zc_cmd_from_name (const char *name, size_t len)
{
    for (int i = 0; i < ZC_CMD__COUNT; i++)
        if (strlen (s_cmd_names [i]) == len && memcmp (s_cmd_names [i], name, len) == 0)
            return i;
    return -1;
}

void
zc_frame_init (zc_frame_t *frame, zc_cmd_t cmd)
{
    assert (frame);
    memset (frame, 0, sizeof *frame);
    frame->cmd = cmd;
}

/* ---- encoding ------------------------------------------------------------------- */

#define pack_bytes mpw_pack_str

static int
pack_cstr (msgpack_packer *pk, const char *s)
{
    zc_bytes_t b = { s, (uint32_t) strlen (s) };
    return pack_bytes (pk, b);
}

static int
pack_replica (msgpack_packer *pk, const zc_replica_status_t *rs)
{
    zc_bytes_t role = { rs->role, (uint32_t) strnlen (rs->role, sizeof rs->role) };
    return msgpack_pack_map (pk, 6) || pack_cstr (pk, "id") || msgpack_pack_uint32 (pk, rs->id)
           || pack_cstr (pk, "role") || pack_bytes (pk, role) || pack_cstr (pk, "term")
           || msgpack_pack_uint64 (pk, rs->term) || pack_cstr (pk, "commit")
           || msgpack_pack_uint64 (pk, rs->commit) || pack_cstr (pk, "applied")
           || msgpack_pack_uint64 (pk, rs->applied) || pack_cstr (pk, "last")
           || msgpack_pack_uint64 (pk, rs->last_index);
}

static int
pack_lists (msgpack_packer *pk, const zc_frame_t *f, uint32_t bit)
{
    int rc = 0;
    if (bit == ZC_F_USERS) {
        rc = msgpack_pack_array (pk, f->n_users);
        for (uint32_t i = 0; i < f->n_users && rc == 0; i++)
            rc = pack_bytes (pk, f->users [i]);
    }
    else if (bit == ZC_F_REPLICAS) {
        rc = msgpack_pack_array (pk, f->n_replicas);
        for (uint32_t i = 0; i < f->n_replicas && rc == 0; i++)
            rc = pack_replica (pk, &f->replicas [i]);
    }
    else {
        assert (bit == ZC_F_STATS);
        rc = msgpack_pack_array (pk, 3) || msgpack_pack_uint64 (pk, f->n_users_total)
             || msgpack_pack_uint64 (pk, f->n_queued) || msgpack_pack_uint64 (pk, f->n_sessions);
    }
    return rc;
}

static int
pack_value (msgpack_packer *pk, const zc_frame_t *f, uint32_t bit)
{
    switch (bit) {
        case ZC_F_TS: return msgpack_pack_uint64 (pk, f->ts);
        case ZC_F_CID: return msgpack_pack_uint64 (pk, f->cid);
        case ZC_F_SEQ: return msgpack_pack_uint64 (pk, f->seq);
        case ZC_F_NAME: return pack_bytes (pk, f->name);
        case ZC_F_FROM: return pack_bytes (pk, f->from);
        case ZC_F_TEXT: return pack_bytes (pk, f->text);
        case ZC_F_MSEQ: return msgpack_pack_uint64 (pk, f->mseq);
        case ZC_F_EPOCH: return msgpack_pack_uint64 (pk, f->epoch);
        case ZC_F_CODE: return msgpack_pack_uint32 (pk, f->code);
        case ZC_F_RE: return pack_cstr (pk, zc_cmd_name (f->re));
        case ZC_F_MORE: return f->more ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
        case ZC_F_LEADER: return pack_bytes (pk, f->leader);
        case ZC_F_SECRET: return pack_bytes (pk, f->secret);
        case ZC_F_NEW_SECRET: return pack_bytes (pk, f->new_secret);
        case ZC_F_INDEX: return msgpack_pack_uint64 (pk, f->index);
        case ZC_F_TERM: return msgpack_pack_uint64 (pk, f->term);
        case ZC_F_OFFSET: return msgpack_pack_uint64 (pk, f->offset);
        case ZC_F_TOTAL: return msgpack_pack_uint64 (pk, f->total);
        case ZC_F_DATA:
            return msgpack_pack_bin (pk, f->data.len)
                   || msgpack_pack_bin_body (pk, f->data.ptr, f->data.len);
        default: return pack_lists (pk, f, bit);
    }
}

zc_code_t
zc_frame_encode (const zc_frame_t *frame, uint8_t *buf, size_t cap, size_t *len_out)
{
    assert (frame && buf && len_out);
    const char *name = zc_cmd_name (frame->cmd);
    assert (name);
    assert (!(frame->fields & ZC_F_RE) || zc_cmd_name (frame->re));
    if ((frame->fields & ZC_F_USERS) && frame->n_users > ZC_LIST_MAX_NAMES)
        return ZC_ERR_TOO_LARGE;
    if ((frame->fields & ZC_F_REPLICAS) && frame->n_replicas > ZC_STATUS_MAX_REPLICAS)
        return ZC_ERR_TOO_LARGE;
    if (cap < ZC_COMMAND_LEN)
        return ZC_ERR_TOO_LARGE;
    memset (buf, 0, ZC_COMMAND_LEN);
    memcpy (buf, name, strlen (name));

    uint32_t fields = frame->fields & ALL_FIELDS;
    mpw_t w = { buf, cap, ZC_COMMAND_LEN };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &w, mpw_write);
    int rc = msgpack_pack_map (&pk, (size_t) __builtin_popcount (fields));
    for (uint32_t i = 0; i < N_KEYS && rc == 0; i++) {
        uint32_t bit = 1u << i;
        if (fields & bit)
            rc = pack_cstr (&pk, s_keys [i]) || pack_value (&pk, frame, bit);
    }
    if (rc != 0)
        return ZC_ERR_TOO_LARGE;
    *len_out = w.len;
    return ZC_OK;
}

/* ---- decoding ------------------------------------------------------------------- */

static zc_code_t
read_bytes (mpr_t *r, zc_bytes_t *out)
{
    return mpr_str (r, &out->ptr, &out->len);
}

static zc_code_t
read_users (mpr_t *r, zc_frame_t *f)
{
    uint32_t n;
    zc_code_t rc = mpr_array (r, &n);
    if (rc == ZC_OK && n > ZC_LIST_MAX_NAMES)
        return ZC_ERR_TOO_LARGE;
    for (uint32_t i = 0; i < n && rc == ZC_OK; i++)
        rc = read_bytes (r, &f->users [i]);
    f->n_users = n;
    return rc;
}

static zc_code_t
read_replica_field (mpr_t *r, zc_replica_status_t *rs, zc_bytes_t key)
{
    uint64_t id;
    zc_code_t rc;
#define KEY_IS(s) (key.len == sizeof (s) - 1 && memcmp (key.ptr, s, key.len) == 0)
    if (KEY_IS ("id")) {
        rc = mpr_uint_max (r, UINT32_MAX, &id);
        rs->id = (uint32_t) id;
        return rc;
    }
    if (KEY_IS ("role")) {
        zc_bytes_t role;
        rc = read_bytes (r, &role);
        if (rc == ZC_OK && role.len >= sizeof rs->role)
            return ZC_ERR_TOO_LARGE;
        if (rc == ZC_OK) {
            memset (rs->role, 0, sizeof rs->role); /* a repeated key must not mix */
            memcpy (rs->role, role.ptr, role.len);
        }
        return rc;
    }
    if (KEY_IS ("term"))
        return mpr_uint (r, &rs->term);
    if (KEY_IS ("commit"))
        return mpr_uint (r, &rs->commit);
    if (KEY_IS ("applied"))
        return mpr_uint (r, &rs->applied);
    if (KEY_IS ("last"))
        return mpr_uint (r, &rs->last_index);
#undef KEY_IS
    return mpr_skip (r);
}

static zc_code_t
read_replica (mpr_t *r, zc_replica_status_t *rs)
{
    uint32_t n;
    memset (rs, 0, sizeof *rs);
    zc_code_t rc = mpr_map (r, &n);
    for (uint32_t i = 0; i < n && rc == ZC_OK; i++) {
        zc_bytes_t key;
        rc = read_bytes (r, &key);
        if (rc == ZC_OK)
            rc = read_replica_field (r, rs, key);
    }
    return rc;
}

static zc_code_t
read_replicas (mpr_t *r, zc_frame_t *f)
{
    uint32_t n;
    zc_code_t rc = mpr_array (r, &n);
    if (rc == ZC_OK && n > ZC_STATUS_MAX_REPLICAS)
        return ZC_ERR_TOO_LARGE;
    for (uint32_t i = 0; i < n && rc == ZC_OK; i++)
        rc = read_replica (r, &f->replicas [i]);
    f->n_replicas = n;
    return rc;
}

/* "stats": at least [users, queued, sessions]; later elements are for future use. */
static zc_code_t
read_stats (mpr_t *r, zc_frame_t *f)
{
    uint32_t n;
    zc_code_t rc = mpr_array (r, &n);
    if (rc == ZC_OK && n < 3)
        return ZC_ERR_BAD_TYPE;
    if (rc == ZC_OK)
        rc = mpr_uint (r, &f->n_users_total);
    if (rc == ZC_OK)
        rc = mpr_uint (r, &f->n_queued);
    if (rc == ZC_OK)
        rc = mpr_uint (r, &f->n_sessions);
    for (uint32_t i = 3; i < n && rc == ZC_OK; i++)
        rc = mpr_skip (r);
    return rc;
}

/* "re" names a command; "" means the same as absent (answer to an undecodable frame). */
static zc_code_t
read_re (mpr_t *r, zc_frame_t *f, bool *present)
{
    zc_bytes_t re;
    zc_code_t rc = read_bytes (r, &re);
    if (rc != ZC_OK)
        return rc;
    *present = re.len > 0;
    if (re.len == 0)
        return ZC_OK;
    int cmd = zc_cmd_from_name (re.ptr, re.len);
    if (cmd < 0)
        return ZC_ERR_UNKNOWN_COMMAND;
    f->re = (zc_cmd_t) cmd;
    return ZC_OK;
}

/* Decode the value of the known key `bit`; *present is false for an empty "re". */
static zc_code_t
read_value (mpr_t *r, zc_frame_t *f, uint32_t bit, bool *present)
{
    uint64_t code;
    zc_code_t rc;
    *present = true;
    switch (bit) {
        case ZC_F_TS: return mpr_uint (r, &f->ts);
        case ZC_F_CID: return mpr_uint (r, &f->cid);
        case ZC_F_SEQ: return mpr_uint (r, &f->seq);
        case ZC_F_NAME: return read_bytes (r, &f->name);
        case ZC_F_FROM: return read_bytes (r, &f->from);
        case ZC_F_TEXT: return read_bytes (r, &f->text);
        case ZC_F_MSEQ: return mpr_uint (r, &f->mseq);
        case ZC_F_EPOCH: return mpr_uint (r, &f->epoch);
        case ZC_F_CODE:
            rc = mpr_uint_max (r, UINT32_MAX, &code);
            f->code = (uint32_t) code;
            return rc;
        case ZC_F_RE: return read_re (r, f, present);
        case ZC_F_USERS: return read_users (r, f);
        case ZC_F_MORE: return mpr_bool (r, &f->more);
        case ZC_F_LEADER: return read_bytes (r, &f->leader);
        case ZC_F_REPLICAS: return read_replicas (r, f);
        case ZC_F_SECRET: return read_bytes (r, &f->secret);
        case ZC_F_NEW_SECRET: return read_bytes (r, &f->new_secret);
        case ZC_F_INDEX: return mpr_uint (r, &f->index);
        case ZC_F_TERM: return mpr_uint (r, &f->term);
        case ZC_F_OFFSET: return mpr_uint (r, &f->offset);
        case ZC_F_TOTAL: return mpr_uint (r, &f->total);
        case ZC_F_DATA: return mpr_bin (r, (const uint8_t **) &f->data.ptr, &f->data.len);
        default: return read_stats (r, f);
    }
}

static uint32_t
key_bit (zc_bytes_t key)
{
    for (uint32_t i = 0; i < N_KEYS; i++)
        if (strlen (s_keys [i]) == key.len && memcmp (s_keys [i], key.ptr, key.len) == 0)
            return 1u << i;
    return 0;
}

static zc_code_t
read_body (mpr_t *r, zc_frame_t *f)
{
    uint32_t n;
    zc_code_t rc = mpr_map (r, &n);
    for (uint32_t i = 0; i < n && rc == ZC_OK; i++) {
        zc_bytes_t key;
        rc = read_bytes (r, &key);
        if (rc != ZC_OK)
            break;
        uint32_t bit = key_bit (key);
        if (bit == 0) {
            rc = mpr_skip (r); /* unknown key: forward compatibility */
            continue;
        }
        if (f->fields & bit)
            return ZC_ERR_BAD_TYPE; /* duplicate key: ambiguous, refuse */
        bool present;
        rc = read_value (r, f, bit, &present);
        if (present)
            f->fields |= bit;
    }
    if (rc == ZC_OK && !mpr_done (r))
        rc = ZC_ERR_TRAILING;
    return rc;
}

static zc_code_t
read_header (const uint8_t *buf, zc_cmd_t *cmd)
{
    size_t n = 0;
    while (n < ZC_COMMAND_LEN && buf [n] != 0)
        n++;
    if (!zc_utf8_valid ((const char *) buf, n))
        return ZC_ERR_BAD_UTF8;
    for (size_t i = n; i < ZC_COMMAND_LEN; i++)
        if (buf [i] != 0)
            return ZC_ERR_BAD_TYPE; /* padding must be all NUL */
    int c = zc_cmd_from_name ((const char *) buf, n);
    if (c < 0)
        return ZC_ERR_UNKNOWN_COMMAND;
    *cmd = (zc_cmd_t) c;
    return ZC_OK;
}

zc_code_t
zc_frame_decode (const uint8_t *buf, size_t len, zc_frame_t *frame)
{
    assert (frame);
    if (len > ZC_FRAME_MAX)
        return ZC_ERR_TOO_LARGE;
    if (buf == NULL || len <= ZC_COMMAND_LEN)
        return ZC_ERR_TRUNCATED;
    zc_cmd_t cmd;
    zc_code_t rc = read_header (buf, &cmd);
    if (rc != ZC_OK)
        return rc;
    zc_frame_init (frame, cmd);
    mpr_t r;
    mpr_init (&r, buf + ZC_COMMAND_LEN, len - ZC_COMMAND_LEN);
    rc = read_body (&r, frame);
    if (rc != ZC_OK)
        return rc;
    uint32_t need = s_required [cmd];
    if (cmd == ZC_CMD_REPLY && (frame->fields & ZC_F_RE))
        need |= s_reply_required [frame->re];
    if ((frame->fields & need) != need)
        return ZC_ERR_MISSING_FIELD;
    return ZC_OK;
}
