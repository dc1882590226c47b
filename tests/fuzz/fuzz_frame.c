/*  fuzz_frame.c - libFuzzer target for the client frame decoder.
    Any input: decode must return a code without crashing or reading out of bounds.
    A decoded frame must re-encode, and that encoding must decode to a frame that
    encodes to the very same bytes (decode and encode agree on every field). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "frame.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    zc_frame_t frame;
    zc_code_t rc = zc_frame_decode (data, size, &frame);
    if (rc >= ZC_CODE__COUNT)
        abort ();
    if (rc != ZC_OK)
        return 0;
    uint8_t once [ZC_FRAME_MAX], twice [ZC_FRAME_MAX];
    size_t len1, len2;
    if (zc_frame_encode (&frame, once, sizeof once, &len1) != ZC_OK)
        abort (); /* a valid frame always fits again */
    zc_frame_t again;
    if (zc_frame_decode (once, len1, &again) != ZC_OK)
        abort ();
    if (zc_frame_encode (&again, twice, sizeof twice, &len2) != ZC_OK)
        abort ();
    if (len1 != len2 || memcmp (once, twice, len1) != 0)
        abort ();
    return 0;
}
