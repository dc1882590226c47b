/*  utf8.c - text validity checks shared by every decoder.
    zc_utf8_valid accepts exactly the well-formed sequences of RFC 3629 table 3.7 of
    Unicode: no overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF. */
#include <string.h>
#include "frame.h"

/* Length of the well-formed sequence starting at s[0] (s has n > 0 bytes), 0 if bad. */
static size_t
utf8_seq (const uint8_t *s, size_t n)
{
    uint8_t b = s [0];
    if (b < 0x80)
        return 1;
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (b >= 0xc2 && b <= 0xdf)
        len = 2;
    else if (b >= 0xe0 && b <= 0xef) {
        len = 3;
        if (b == 0xe0)
            lo = 0xa0; /* overlong */
        if (b == 0xed)
            hi = 0x9f; /* surrogates */
    }
    else if (b >= 0xf0 && b <= 0xf4) {
        len = 4;
        if (b == 0xf0)
            lo = 0x90; /* overlong */
        if (b == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    }
    else
        return 0; /* continuation byte, C0/C1, F5..FF */
    if (n < len || s [1] < lo || s [1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s [i] & 0xc0) != 0x80)
            return 0;
    return len;
}

bool
zc_utf8_valid (const char *bytes, size_t len)
{
    const uint8_t *s = (const uint8_t *) bytes;
    size_t i = 0;
    while (i < len) {
        /* ASCII fast path, 8 bytes at a time: most chat text is ASCII */
        while (i + 8 <= len) {
            uint64_t word;
            memcpy (&word, s + i, sizeof word);
            if (word & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= len)
            break;
        size_t step = utf8_seq (s + i, len - i);
        if (step == 0)
            return false;
        i += step;
    }
    return true;
}

bool
zc_name_valid (const char *name, size_t len)
{
    if (name == NULL || len < 1 || len > ZC_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name [i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                  || c == '_' || c == '.' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}
