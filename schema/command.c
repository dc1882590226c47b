/*  command.c - log-entry command codec. The encoding is on disk, so it never changes:
        msgpack array of exactly 10 elements
        [op uint, ts uint, cid uint, seq uint, name str, from str, text str, epoch uint,
         mseq uint, cred str]
    Entries of the first format (9 elements: no cred) are still accepted on decode.
    Every element is always present (empty str / 0 when the op does not use it), so the
    layout does not depend on op. Decoding accepts exactly this shape and nothing else:
    a replica must never apply an entry it only half understood. */
#include <assert.h>
#include <string.h>
#include <msgpack.h>
#include "command.h"
#include "mpread.h"
#include "mpwrite.h"

#define COMMAND_ARITY    10
#define COMMAND_ARITY_V1 9 /* before credentials */

#define pack_str mpw_pack_str

zc_code_t
zc_command_encode (const zc_command_t *cmd, uint8_t *buf, size_t cap, size_t *len_out)
{
    assert (cmd && buf && len_out);
    assert ((int) cmd->op >= 0 && cmd->op < ZC_OP__COUNT);
    mpw_t w = { buf, cap, 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &w, mpw_write);
    int rc = msgpack_pack_array (&pk, COMMAND_ARITY)
             || msgpack_pack_uint32 (&pk, (uint32_t) cmd->op) || msgpack_pack_uint64 (&pk, cmd->ts)
             || msgpack_pack_uint64 (&pk, cmd->cid) || msgpack_pack_uint64 (&pk, cmd->seq)
             || pack_str (&pk, cmd->name) || pack_str (&pk, cmd->from) || pack_str (&pk, cmd->text)
             || msgpack_pack_uint64 (&pk, cmd->epoch) || msgpack_pack_uint64 (&pk, cmd->mseq)
             || pack_str (&pk, cmd->cred);
    if (rc != 0)
        return ZC_ERR_TOO_LARGE;
    *len_out = w.len;
    return ZC_OK;
}

static zc_code_t
read_op (mpr_t *r, zc_command_t *cmd)
{
    uint64_t op;
    zc_code_t rc = mpr_uint (r, &op);
    if (rc == ZC_OK && op >= ZC_OP__COUNT)
        return ZC_ERR_UNKNOWN_COMMAND;
    cmd->op = (zc_op_t) op;
    return rc;
}

zc_code_t
zc_command_decode (const uint8_t *buf, size_t len, zc_command_t *cmd)
{
    assert (cmd);
    memset (cmd, 0, sizeof *cmd);
    if (len > ZC_COMMAND_MAX)
        return ZC_ERR_TOO_LARGE;
    if (buf == NULL || len == 0)
        return ZC_ERR_TRUNCATED;
    mpr_t r;
    mpr_init (&r, buf, len);
    uint32_t n;
    zc_code_t rc = mpr_array (&r, &n);
    if (rc == ZC_OK && n != COMMAND_ARITY && n != COMMAND_ARITY_V1)
        return ZC_ERR_BAD_TYPE;
    if (rc == ZC_OK)
        rc = read_op (&r, cmd);
    if (rc == ZC_OK)
        rc = mpr_uint (&r, &cmd->ts);
    if (rc == ZC_OK)
        rc = mpr_uint (&r, &cmd->cid);
    if (rc == ZC_OK)
        rc = mpr_uint (&r, &cmd->seq);
    if (rc == ZC_OK)
        rc = mpr_str (&r, &cmd->name.ptr, &cmd->name.len);
    if (rc == ZC_OK)
        rc = mpr_str (&r, &cmd->from.ptr, &cmd->from.len);
    if (rc == ZC_OK)
        rc = mpr_str (&r, &cmd->text.ptr, &cmd->text.len);
    if (rc == ZC_OK)
        rc = mpr_uint (&r, &cmd->epoch);
    if (rc == ZC_OK)
        rc = mpr_uint (&r, &cmd->mseq);
    if (rc == ZC_OK && n == COMMAND_ARITY)
        rc = mpr_str (&r, &cmd->cred.ptr, &cmd->cred.len);
    if (rc == ZC_OK && cmd->cred.len > ZC_CRED_MAX)
        rc = ZC_ERR_TOO_LARGE;
    if (rc == ZC_OK && !mpr_done (&r))
        rc = ZC_ERR_TRAILING;
    return rc;
}
