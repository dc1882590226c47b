/*  fuzz_raft_msg.c - libFuzzer target for the peer frame (Raft message) decoder.
    Any input: a code, never a crash. A decoded message re-encodes to bytes that
    decode and encode again identically. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "raft_msg.h"

#define MAX_ENTRIES 4096

static raft_entry_t s_entries [MAX_ENTRIES];
static raft_entry_t s_entries2 [MAX_ENTRIES];

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    raft_msg_t msg;
    zc_code_t rc = raft_msg_decode (data, size, &msg, s_entries, MAX_ENTRIES);
    if (rc >= ZC_CODE__COUNT)
        abort ();
    if (rc != ZC_OK)
        return 0;
    uint8_t *once, *twice;
    size_t len1, len2;
    if (raft_msg_encode (&msg, &once, &len1) != ZC_OK)
        abort ();
    raft_msg_t again;
    if (raft_msg_decode (once, len1, &again, s_entries2, MAX_ENTRIES) != ZC_OK)
        abort ();
    if (raft_msg_encode (&again, &twice, &len2) != ZC_OK)
        abort ();
    if (len1 != len2 || memcmp (once, twice, len1) != 0)
        abort ();
    free (once);
    free (twice);
    return 0;
}
