/*  fuzz_raft_conf.c - libFuzzer target for the configuration decoder (log entries and
    the head of snapshot bodies). Any input: 0 or -1, never a crash; a decoded
    configuration has ascending ids, a voter, bounded addresses, and re-encodes to bytes
    that decode and encode again identically. */
#include <stdlib.h>
#include <string.h>
#include "raft_conf.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    raft_conf_t conf;
    size_t used;
    if (raft_conf_decode_prefix (data, size, &conf, &used) != 0)
        return 0;
    if (used > size || conf.n < 1 || conf.n > RAFT_MAX_NODES || raft_conf_voters (&conf) == 0)
        abort ();
    for (uint32_t i = 0; i < conf.n; i++)
        if (conf.members [i].id < 1 || conf.members [i].id > RAFT_MAX_ID
            || (i && conf.members [i].id <= conf.members [i - 1].id)
            || strnlen (conf.members [i].addr, RAFT_CONF_ADDR_MAX) >= RAFT_CONF_ADDR_MAX)
            abort ();
    uint8_t once [RAFT_CONF_ENCODED_MAX], twice [RAFT_CONF_ENCODED_MAX];
    size_t len1 = raft_conf_encode (&conf, once, sizeof once);
    raft_conf_t again;
    if (raft_conf_decode (once, len1, &again) != 0 || !raft_conf_equal (&conf, &again))
        abort ();
    size_t len2 = raft_conf_encode (&again, twice, sizeof twice);
    if (len1 != len2 || memcmp (once, twice, len1) != 0)
        abort ();
    return 0;
}
