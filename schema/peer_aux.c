/*  peer_aux.c - codecs for snapshot chunks and status gossip. Decoding checks every
    type and bound with msgpack-c's unpacker on a stack zone; nothing is trusted. */
#include "peer_aux.h"
#include <msgpack.h>
#include <string.h>

typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int overflow;
} s_writer_t;

static int
s_write (void *data, const char *bytes, size_t len)
{
    s_writer_t *writer = (s_writer_t *) data;
    if (writer->len + len > writer->cap) {
        writer->overflow = 1;
        return -1;
    }
    memcpy (writer->buf + writer->len, bytes, len);
    writer->len += len;
    return 0;
}

zc_code_t
zc_snapshot_chunk_encode (const zc_snapshot_chunk_t *chunk, uint8_t *buf, size_t cap, size_t *len_out)
{
    if (cap < 1 || chunk->len > ZC_SNAPSHOT_CHUNK_MAX)
        return ZC_ERR_TOO_LARGE;
    buf [0] = ZC_PEER_KIND_SNAPSHOT_CHUNK;
    s_writer_t writer = { buf, cap, 1, 0 };
    msgpack_packer packer;
    msgpack_packer_init (&packer, &writer, s_write);
    msgpack_pack_array (&packer, 7);
    msgpack_pack_uint32 (&packer, chunk->from);
    msgpack_pack_uint64 (&packer, chunk->term);
    msgpack_pack_uint64 (&packer, chunk->snap_index);
    msgpack_pack_uint64 (&packer, chunk->snap_term);
    msgpack_pack_uint64 (&packer, chunk->total);
    msgpack_pack_uint64 (&packer, chunk->offset);
    msgpack_pack_bin (&packer, chunk->len);
    msgpack_pack_bin_body (&packer, chunk->data, chunk->len);
    if (writer.overflow)
        return ZC_ERR_TOO_LARGE;
    *len_out = writer.len;
    return ZC_OK;
}

/* Unpack the array after the kind byte; the zone owns nothing we keep except views. */
static zc_code_t
s_unpack_array (const uint8_t *buf, size_t len, uint8_t kind, uint32_t count,
                msgpack_unpacked *result)
{
    if (len < 2)
        return ZC_ERR_TRUNCATED;
    if (buf [0] != kind)
        return ZC_ERR_BAD_TYPE;
    size_t offset = 1;
    msgpack_unpack_return rc = msgpack_unpack_next (result, (const char *) buf, len, &offset);
    if (rc == MSGPACK_UNPACK_CONTINUE)
        return ZC_ERR_TRUNCATED;
    if (rc != MSGPACK_UNPACK_SUCCESS)
        return ZC_ERR_BAD_TYPE;
    if (offset != len)
        return ZC_ERR_TRAILING;
    const msgpack_object *root = &result->data;
    if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size != count)
        return ZC_ERR_BAD_TYPE;
    for (uint32_t i = 0; i + 1 < count; i++)
        if (root->via.array.ptr [i].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return ZC_ERR_BAD_TYPE;
    return ZC_OK;
}

zc_code_t
zc_snapshot_chunk_decode (const uint8_t *buf, size_t len, zc_snapshot_chunk_t *chunk)
{
    if (len > ZC_SNAPSHOT_CHUNK_MAX + 128)
        return ZC_ERR_TOO_LARGE;
    msgpack_unpacked result;
    msgpack_unpacked_init (&result);
    zc_code_t code = s_unpack_array (buf, len, ZC_PEER_KIND_SNAPSHOT_CHUNK, 7, &result);
    if (code == ZC_OK) {
        const msgpack_object *item = result.data.via.array.ptr;
        if (item [6].type != MSGPACK_OBJECT_BIN || item [0].via.u64 > UINT32_MAX)
            code = ZC_ERR_BAD_TYPE;
        else {
            chunk->from = (uint32_t) item [0].via.u64;
            chunk->term = item [1].via.u64;
            chunk->snap_index = item [2].via.u64;
            chunk->snap_term = item [3].via.u64;
            chunk->total = item [4].via.u64;
            chunk->offset = item [5].via.u64;
            chunk->len = item [6].via.bin.size;
            /* the bin's bytes are inside buf: msgpack-c refers, not copies, for bin */
            chunk->data = (const uint8_t *) item [6].via.bin.ptr;
            if (chunk->total > ZC_SNAPSHOT_MAX || chunk->offset > chunk->total
                || chunk->len > chunk->total - chunk->offset)
                code = ZC_ERR_BAD_TYPE;
        }
    }
    msgpack_unpacked_destroy (&result);
    return code;
}

zc_code_t
zc_status_gossip_encode (const zc_status_gossip_t *gossip, uint8_t *buf, size_t cap, size_t *len_out)
{
    if (cap < 1)
        return ZC_ERR_TOO_LARGE;
    buf [0] = ZC_PEER_KIND_STATUS;
    s_writer_t writer = { buf, cap, 1, 0 };
    msgpack_packer packer;
    msgpack_packer_init (&packer, &writer, s_write);
    msgpack_pack_array (&packer, 7);
    msgpack_pack_uint32 (&packer, gossip->id);
    msgpack_pack_uint32 (&packer, gossip->role);
    msgpack_pack_uint64 (&packer, gossip->term);
    msgpack_pack_uint64 (&packer, gossip->commit);
    msgpack_pack_uint64 (&packer, gossip->applied);
    msgpack_pack_uint64 (&packer, gossip->last_index);
    msgpack_pack_nil (&packer);   /* reserved */
    if (writer.overflow)
        return ZC_ERR_TOO_LARGE;
    *len_out = writer.len;
    return ZC_OK;
}

zc_code_t
zc_status_gossip_decode (const uint8_t *buf, size_t len, zc_status_gossip_t *gossip)
{
    if (len > 256)
        return ZC_ERR_TOO_LARGE;
    msgpack_unpacked result;
    msgpack_unpacked_init (&result);
    zc_code_t code = s_unpack_array (buf, len, ZC_PEER_KIND_STATUS, 7, &result);
    if (code == ZC_OK) {
        const msgpack_object *item = result.data.via.array.ptr;
        if (item [0].via.u64 > UINT32_MAX || item [1].via.u64 > 3)
            code = ZC_ERR_BAD_TYPE;
        else {
            gossip->id = (uint32_t) item [0].via.u64;
            gossip->role = (uint32_t) item [1].via.u64;
            gossip->term = item [2].via.u64;
            gossip->commit = item [3].via.u64;
            gossip->applied = item [4].via.u64;
            gossip->last_index = item [5].via.u64;
        }
    }
    msgpack_unpacked_destroy (&result);
    return code;
}
