/*  grow.c - see grow.h. */
#include "grow.h"
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

void *
zc_grow (void *items, size_t *cap, size_t item_bytes, size_t first_cap)
{
    assert (cap && item_bytes > 0 && first_cap > 0);
    size_t grown = *cap ? *cap * 2 : first_cap;
    if (grown < *cap || grown > SIZE_MAX / item_bytes)
        return NULL;
    void *more = realloc (items, grown * item_bytes);
    if (more)
        *cap = grown;
    return more;
}
