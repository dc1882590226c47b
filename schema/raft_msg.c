/*  raft_msg.c - peer frame codec (layout in PROTOCOL.md "Peer frames").
        byte 0: version (1)
        bytes 1..: one msgpack array [type, from, to, term, <type-specific fields>]
    Each type has a fixed arity; entries are [term, index, bin data].
    Invariant: decode returns ZC_OK only for a frame a Raft core can act on without
    further shape checks: known type, exact arity, ids in range, entry count within the
    caller's array, entry indexes consecutive from prev_index + 1, entry terms
    non-decreasing, >= prev_term and <= the message term. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <msgpack.h>
#include "raft_msg.h"
#include "mpread.h"
#include "mpwrite.h"

#define RAFT_WIRE_VERSION 1

/* Array length for each type, including the 4 common fields. A VOTE of a transfer
   campaign has one more element (transfer = true); every other VOTE keeps the 7 of
   earlier releases, so replicas of both kinds still elect each other. */
static const uint32_t s_arity [RAFT_MSG__COUNT] = {
    [RAFT_MSG_APPEND] = 9,    [RAFT_MSG_APPEND_RESP] = 8, [RAFT_MSG_VOTE] = 7,
    [RAFT_MSG_VOTE_RESP] = 6, [RAFT_MSG_SNAPSHOT] = 6,    [RAFT_MSG_TIMEOUT_NOW] = 4,
};

static int
pack_bool (msgpack_packer *pk, bool b)
{
    return b ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
}

static int
pack_entries (msgpack_packer *pk, const raft_msg_t *m)
{
    int rc = msgpack_pack_array (pk, m->n_entries);
    for (uint32_t i = 0; i < m->n_entries && rc == 0; i++) {
        const raft_entry_t *e = &m->entries [i];
        rc = msgpack_pack_array (pk, 3) || msgpack_pack_uint64 (pk, e->term)
             || msgpack_pack_uint64 (pk, e->index) || msgpack_pack_bin (pk, e->len)
             || msgpack_pack_bin_body (pk, e->data, e->len);
    }
    return rc;
}

static int
pack_body (msgpack_packer *pk, const raft_msg_t *m)
{
    bool transfer = m->type == RAFT_MSG_VOTE && m->transfer;
    int rc = msgpack_pack_array (pk, s_arity [m->type] + (transfer ? 1 : 0))
             || msgpack_pack_uint32 (pk, (uint32_t) m->type) || msgpack_pack_uint32 (pk, m->from)
             || msgpack_pack_uint32 (pk, m->to) || msgpack_pack_uint64 (pk, m->term);
    if (rc != 0)
        return rc;
    switch (m->type) {
        case RAFT_MSG_APPEND:
            return msgpack_pack_uint64 (pk, m->prev_index) || msgpack_pack_uint64 (pk, m->prev_term)
                   || msgpack_pack_uint64 (pk, m->commit) || msgpack_pack_uint64 (pk, m->read_ctx)
                   || pack_entries (pk, m);
        case RAFT_MSG_APPEND_RESP:
            return pack_bool (pk, m->reject) || msgpack_pack_uint64 (pk, m->match)
                   || msgpack_pack_uint64 (pk, m->hint) || msgpack_pack_uint64 (pk, m->read_ctx);
        case RAFT_MSG_VOTE:
            return pack_bool (pk, m->prevote) || msgpack_pack_uint64 (pk, m->last_index)
                   || msgpack_pack_uint64 (pk, m->last_term) || (transfer && pack_bool (pk, true));
        case RAFT_MSG_VOTE_RESP: return pack_bool (pk, m->prevote) || pack_bool (pk, m->granted);
        case RAFT_MSG_SNAPSHOT:
            return msgpack_pack_uint64 (pk, m->snap_index)
                   || msgpack_pack_uint64 (pk, m->snap_term);
        default: return 0;
    }
}

zc_code_t
raft_msg_encode (const raft_msg_t *msg, uint8_t **buf_out, size_t *len_out)
{
    assert (msg && buf_out && len_out);
    assert (msg->type >= RAFT_MSG_APPEND && msg->type < RAFT_MSG__COUNT);
    assert (msg->n_entries == 0 || msg->entries);
    *buf_out = NULL;
    *len_out = 0;
    /* One allocation of the exact bound, no growth: the data bytes plus at most 32
       bytes of msgpack per entry and 128 for the header fields. */
    uint64_t data = 0;
    for (uint32_t i = 0; i < msg->n_entries; i++)
        data += msg->entries [i].len;
    if (data > RAFT_PEER_FRAME_MAX)
        return ZC_ERR_TOO_LARGE; /* refuse before allocating */
    size_t cap = (size_t) data + 32 * (size_t) msg->n_entries + 128;
    mpw_t w = { (uint8_t *) malloc (cap), cap, 0 };
    if (!w.buf)
        return ZC_ERR_INTERNAL; /* out of memory */
    msgpack_packer pk;
    msgpack_packer_init (&pk, &w, mpw_write);
    const char version = RAFT_WIRE_VERSION;
    if (mpw_write (&w, &version, 1) || pack_body (&pk, msg)) {
        free (w.buf);
        return ZC_ERR_INTERNAL; /* cannot happen: cap is an upper bound */
    }
    if (w.len > RAFT_PEER_FRAME_MAX) {
        free (w.buf);
        return ZC_ERR_TOO_LARGE;
    }
    *len_out = w.len;
    *buf_out = w.buf;
    return ZC_OK;
}

static zc_code_t
read_entry (mpr_t *r, raft_entry_t *e)
{
    uint32_t n;
    zc_code_t rc = mpr_array (r, &n);
    if (rc == ZC_OK && n != 3)
        return ZC_ERR_BAD_TYPE;
    if (rc == ZC_OK)
        rc = mpr_uint (r, &e->term);
    if (rc == ZC_OK)
        rc = mpr_uint (r, &e->index);
    if (rc == ZC_OK)
        rc = mpr_bin (r, &e->data, &e->len);
    return rc;
}

static zc_code_t
read_entries (mpr_t *r, raft_msg_t *m, raft_entry_t *entries, uint32_t max)
{
    uint32_t n;
    zc_code_t rc = mpr_array (r, &n);
    if (rc != ZC_OK)
        return rc;
    if (n > max)
        return ZC_ERR_TOO_LARGE;
    if (m->prev_index > UINT64_MAX - n)
        return ZC_ERR_BAD_TYPE;
    uint64_t last_term = m->prev_term;
    for (uint32_t i = 0; i < n; i++) {
        raft_entry_t *e = &entries [i];
        rc = read_entry (r, e);
        if (rc != ZC_OK)
            return rc;
        if (e->index != m->prev_index + 1 + i)
            return ZC_ERR_BAD_TYPE; /* not consecutive */
        if (e->term < last_term || e->term > m->term)
            return ZC_ERR_BAD_TYPE; /* terms can only grow, up to the sender's */
        last_term = e->term;
    }
    m->entries = entries;
    m->n_entries = n;
    return ZC_OK;
}

static zc_code_t
read_common (mpr_t *r, raft_msg_t *m, uint32_t *arity)
{
    uint64_t type, from, to;
    zc_code_t rc = mpr_array (r, arity);
    if (rc == ZC_OK)
        rc = mpr_uint (r, &type);
    if (rc != ZC_OK)
        return rc;
    if (type < RAFT_MSG_APPEND || type >= RAFT_MSG__COUNT)
        return ZC_ERR_UNKNOWN_COMMAND;
    m->type = (raft_msg_type_t) type;
    if (*arity != s_arity [m->type]
        && !(m->type == RAFT_MSG_VOTE && *arity == s_arity [m->type] + 1))
        return ZC_ERR_BAD_TYPE;
    rc = mpr_uint (r, &from);
    if (rc == ZC_OK)
        rc = mpr_uint (r, &to);
    if (rc == ZC_OK)
        rc = mpr_uint (r, &m->term);
    if (rc != ZC_OK)
        return rc;
    if (from < 1 || from > RAFT_MAX_ID || to > RAFT_MAX_ID)
        return ZC_ERR_BAD_TYPE;
    if (to == RAFT_BROADCAST && m->type != RAFT_MSG_APPEND)
        return ZC_ERR_BAD_TYPE;
    m->from = (uint32_t) from;
    m->to = (uint32_t) to;
    return ZC_OK;
}

static zc_code_t
read_fields (mpr_t *r, raft_msg_t *m, uint32_t arity, raft_entry_t *entries, uint32_t max)
{
    zc_code_t rc = ZC_OK;
    switch (m->type) {
        case RAFT_MSG_APPEND:
            if (rc == ZC_OK)
                rc = mpr_uint (r, &m->prev_index);
            if (rc == ZC_OK)
                rc = mpr_uint (r, &m->prev_term);
            if (rc == ZC_OK)
                rc = mpr_uint (r, &m->commit);
            if (rc == ZC_OK)
                rc = mpr_uint (r, &m->read_ctx);
            if (rc == ZC_OK)
                rc = read_entries (r, m, entries, max);
            return rc;
        case RAFT_MSG_APPEND_RESP:
            if (rc == ZC_OK)
                rc = mpr_bool (r, &m->reject);
            if (rc == ZC_OK)
                rc = mpr_uint (r, &m->match);
            if (rc == ZC_OK)
                rc = mpr_uint (r, &m->hint);
            if (rc == ZC_OK)
                rc = mpr_uint (r, &m->read_ctx);
            return rc;
        case RAFT_MSG_VOTE:
            if (rc == ZC_OK)
                rc = mpr_bool (r, &m->prevote);
            if (rc == ZC_OK)
                rc = mpr_uint (r, &m->last_index);
            if (rc == ZC_OK)
                rc = mpr_uint (r, &m->last_term);
            if (rc == ZC_OK && arity > s_arity [RAFT_MSG_VOTE])
                rc = mpr_bool (r, &m->transfer);
            return rc;
        case RAFT_MSG_VOTE_RESP:
            if (rc == ZC_OK)
                rc = mpr_bool (r, &m->prevote);
            if (rc == ZC_OK)
                rc = mpr_bool (r, &m->granted);
            return rc;
        case RAFT_MSG_SNAPSHOT:
            if (rc == ZC_OK)
                rc = mpr_uint (r, &m->snap_index);
            if (rc == ZC_OK)
                rc = mpr_uint (r, &m->snap_term);
            return rc;
        default: return ZC_OK;
    }
}

zc_code_t
raft_msg_decode (const uint8_t *buf, size_t len, raft_msg_t *msg, raft_entry_t *entries,
                 uint32_t max_entries)
{
    assert (msg);
    assert (entries || max_entries == 0);
    memset (msg, 0, sizeof *msg);
    if (len > RAFT_PEER_FRAME_MAX)
        return ZC_ERR_TOO_LARGE;
    if (buf == NULL || len < 2)
        return ZC_ERR_TRUNCATED;
    if (buf [0] != RAFT_WIRE_VERSION)
        return ZC_ERR_BAD_TYPE;
    mpr_t r;
    mpr_init (&r, buf + 1, len - 1);
    uint32_t arity;
    zc_code_t rc = read_common (&r, msg, &arity);
    if (rc == ZC_OK)
        rc = read_fields (&r, msg, arity, entries, max_entries);
    if (rc == ZC_OK && !mpr_done (&r))
        rc = ZC_ERR_TRAILING;
    return rc;
}
