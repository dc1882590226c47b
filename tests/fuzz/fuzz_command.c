/*  fuzz_command.c - libFuzzer target for the log-entry command decoder.
    Any input: a code, never a crash. A decoded command re-encodes to bytes that decode
    and encode again identically. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "command.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    zc_command_t cmd;
    zc_code_t rc = zc_command_decode (data, size, &cmd);
    if (rc >= ZC_CODE__COUNT)
        abort ();
    if (rc != ZC_OK)
        return 0;
    uint8_t once [ZC_COMMAND_MAX], twice [ZC_COMMAND_MAX];
    size_t len1, len2;
    if (zc_command_encode (&cmd, once, sizeof once, &len1) != ZC_OK)
        abort ();
    zc_command_t again;
    if (zc_command_decode (once, len1, &again) != ZC_OK)
        abort ();
    if (zc_command_encode (&again, twice, sizeof twice, &len2) != ZC_OK)
        abort ();
    if (len1 != len2 || memcmp (once, twice, len1) != 0)
        abort ();
    return 0;
}
