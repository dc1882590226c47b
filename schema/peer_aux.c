/*  peer_aux.c - codecs for snapshot chunks and status gossip. Encoding uses msgpack-c;
    decoding uses the bounded reader (mpread.h): nothing is trusted or allocated. */
#include "peer_aux.h"
#include <msgpack.h>
#include <string.h>
#include "mpread.h"
#include "mpwrite.h"

zc_code_t
zc_snapshot_chunk_encode (const zc_snapshot_chunk_t *chunk, uint8_t *buf, size_t cap,
                          size_t *len_out)
{
    if (cap < 1 || chunk->len > ZC_SNAPSHOT_CHUNK_MAX)
        return ZC_ERR_TOO_LARGE;
    buf [0] = ZC_PEER_KIND_SNAPSHOT_CHUNK;
    mpw_t writer = { buf, cap, 1 };
    msgpack_packer packer;
    msgpack_packer_init (&packer, &writer, mpw_write);
    int rc = 0;
    rc |= msgpack_pack_array (&packer, 7);
    rc |= msgpack_pack_uint32 (&packer, chunk->from);
    rc |= msgpack_pack_uint64 (&packer, chunk->term);
    rc |= msgpack_pack_uint64 (&packer, chunk->snap_index);
    rc |= msgpack_pack_uint64 (&packer, chunk->snap_term);
    rc |= msgpack_pack_uint64 (&packer, chunk->total);
    rc |= msgpack_pack_uint64 (&packer, chunk->offset);
    rc |= msgpack_pack_bin (&packer, chunk->len);
    rc |= msgpack_pack_bin_body (&packer, chunk->data, chunk->len);
    if (rc)
        return ZC_ERR_TOO_LARGE;
    *len_out = writer.len;
    return ZC_OK;
}

/* Open the array after the kind byte with the bounded reader: msgpack-c's unpacker
   would allocate whatever a hostile frame announces. */
static zc_code_t
s_open_n (mpr_t *r, const uint8_t *buf, size_t len, uint8_t kind, uint32_t *n)
{
    if (len < 2)
        return ZC_ERR_TRUNCATED;
    if (buf [0] != kind)
        return ZC_ERR_BAD_TYPE;
    mpr_init (r, buf + 1, len - 1);
    return mpr_array (r, n);
}

static zc_code_t
s_open (mpr_t *r, const uint8_t *buf, size_t len, uint8_t kind, uint32_t count)
{
    uint32_t n;
    zc_code_t code = s_open_n (r, buf, len, kind, &n);
    if (code == ZC_OK && n != count)
        code = ZC_ERR_BAD_TYPE;
    return code;
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        zc_code_t rc_ = (expr);                                                                    \
        if (rc_ != ZC_OK)                                                                          \
            return rc_;                                                                            \
    } while (0)

zc_code_t
zc_snapshot_chunk_decode (const uint8_t *buf, size_t len, zc_snapshot_chunk_t *chunk)
{
    if (len > ZC_SNAPSHOT_CHUNK_MAX + 128)
        return ZC_ERR_TOO_LARGE;
    mpr_t r;
    uint64_t from;
    TRY (s_open (&r, buf, len, ZC_PEER_KIND_SNAPSHOT_CHUNK, 7));
    TRY (mpr_uint_max (&r, UINT32_MAX, &from));
    TRY (mpr_uint (&r, &chunk->term));
    TRY (mpr_uint (&r, &chunk->snap_index));
    TRY (mpr_uint (&r, &chunk->snap_term));
    TRY (mpr_uint (&r, &chunk->total));
    TRY (mpr_uint (&r, &chunk->offset));
    TRY (mpr_bin (&r, &chunk->data, &chunk->len));
    if (!mpr_done (&r))
        return ZC_ERR_TRAILING;
    chunk->from = (uint32_t) from;
    if (chunk->total > ZC_SNAPSHOT_MAX || chunk->offset > chunk->total
        || chunk->len > chunk->total - chunk->offset)
        return ZC_ERR_BAD_TYPE;
    return ZC_OK;
}

zc_code_t
zc_status_gossip_encode (const zc_status_gossip_t *gossip, uint8_t *buf, size_t cap,
                         size_t *len_out)
{
    if (cap < 1)
        return ZC_ERR_TOO_LARGE;
    buf [0] = ZC_PEER_KIND_STATUS;
    mpw_t writer = { buf, cap, 1 };
    msgpack_packer packer;
    msgpack_packer_init (&packer, &writer, mpw_write);
    int rc = 0;
    rc |= msgpack_pack_array (&packer, 9);
    rc |= msgpack_pack_uint32 (&packer, gossip->id);
    rc |= msgpack_pack_uint32 (&packer, gossip->role);
    rc |= msgpack_pack_uint64 (&packer, gossip->term);
    rc |= msgpack_pack_uint64 (&packer, gossip->commit);
    rc |= msgpack_pack_uint64 (&packer, gossip->applied);
    rc |= msgpack_pack_uint64 (&packer, gossip->last_index);
    size_t advertise = strnlen (gossip->advertise, sizeof gossip->advertise);
    if (advertise > ZC_ADVERTISE_MAX)
        return ZC_ERR_TOO_LARGE;
    if (advertise) {
        rc |= msgpack_pack_str (&packer, advertise);
        rc |= msgpack_pack_str_body (&packer, gossip->advertise, advertise);
    }
    else
        rc |= msgpack_pack_nil (&packer);
    rc |= msgpack_pack_uint64 (&packer, gossip->cluster);
    rc |= msgpack_pack_uint64 (&packer, gossip->incarnation);
    if (rc)
        return ZC_ERR_TOO_LARGE;
    *len_out = writer.len;
    return ZC_OK;
}

zc_code_t
zc_status_gossip_decode (const uint8_t *buf, size_t len, zc_status_gossip_t *gossip)
{
    if (len > ZC_STATUS_GOSSIP_MAX)
        return ZC_ERR_TOO_LARGE;
    mpr_t r;
    uint64_t id, role;
    memset (gossip, 0, sizeof *gossip); /* every byte defined: it is compared and copied */
    uint32_t n;
    TRY (s_open_n (&r, buf, len, ZC_PEER_KIND_STATUS, &n));
    if (n != 7 && n != 9) /* 7: a replica from before cluster ids */
        return ZC_ERR_BAD_TYPE;
    TRY (mpr_uint_max (&r, UINT32_MAX, &id));
    TRY (mpr_uint_max (&r, 3, &role));
    TRY (mpr_uint (&r, &gossip->term));
    TRY (mpr_uint (&r, &gossip->commit));
    TRY (mpr_uint (&r, &gossip->applied));
    TRY (mpr_uint (&r, &gossip->last_index));
    gossip->advertise [0] = 0;
    if (r.pos < r.end && *r.pos == 0xc0)
        r.pos++; /* nil: no --advertise (or a replica from before it) */
    else {
        const char *text;
        uint32_t text_len;
        TRY (mpr_str (&r, &text, &text_len));
        if (text_len > ZC_ADVERTISE_MAX || memchr (text, 0, text_len))
            return ZC_ERR_TOO_LARGE;
        memcpy (gossip->advertise, text, text_len);
        gossip->advertise [text_len] = 0;
    }
    if (n == 9) {
        TRY (mpr_uint (&r, &gossip->cluster));
        TRY (mpr_uint (&r, &gossip->incarnation));
    }
    if (!mpr_done (&r))
        return ZC_ERR_TRAILING;
    gossip->id = (uint32_t) id;
    gossip->role = (uint32_t) role;
    return ZC_OK;
}
