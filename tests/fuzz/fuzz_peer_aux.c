/*  fuzz_peer_aux.c - libFuzzer target for the snapshot-chunk and status-gossip
    decoders (peer frames of kind 2 and 3). Any input: a code, never a crash; a decoded
    frame re-encodes to the same bytes, and a chunk's bytes lie inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "peer_aux.h"

static void
s_chunk (const uint8_t *data, size_t size)
{
    zc_snapshot_chunk_t chunk;
    if (zc_snapshot_chunk_decode (data, size, &chunk) != ZC_OK)
        return;
    if (chunk.len && (chunk.data < data || chunk.data + chunk.len > data + size))
        abort ();
    if (chunk.offset + chunk.len > chunk.total)
        abort ();
    uint8_t *again = malloc (size + 64);
    size_t len;
    if (!again || zc_snapshot_chunk_encode (&chunk, again, size + 64, &len) != ZC_OK)
        abort ();
    zc_snapshot_chunk_t twice;
    if (zc_snapshot_chunk_decode (again, len, &twice) != ZC_OK || twice.len != chunk.len
        || memcmp (twice.data, chunk.data, chunk.len) != 0 || twice.offset != chunk.offset)
        abort ();
    free (again);
}

static void
s_gossip (const uint8_t *data, size_t size)
{
    zc_status_gossip_t gossip;
    if (zc_status_gossip_decode (data, size, &gossip) != ZC_OK)
        return;
    uint8_t again [ZC_STATUS_GOSSIP_MAX];
    size_t len;
    zc_status_gossip_t twice;
    if (zc_status_gossip_encode (&gossip, again, sizeof again, &len) != ZC_OK
        || zc_status_gossip_decode (again, len, &twice) != ZC_OK
        || memcmp (&gossip, &twice, sizeof gossip) != 0)
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_chunk (data, size);
    s_gossip (data, size);
    return 0;
}
