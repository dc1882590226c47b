/*  grow.h - the one growth rule for zchat's heap arrays: when an array is full its
    capacity doubles (or starts at a first size), and the size computation is checked
    so that no array can wrap around to a small allocation. It lives at the bottom
    layer so that every directory can use it. */
#ifndef ZC_GROW_H
#define ZC_GROW_H

#include <stddef.h>

/* Make room in items (capacity *cap items of item_bytes each, all of it in use) for at
   least one more: returns the reallocated array and updates *cap. On out of memory or
   overflow returns NULL and leaves items (still the caller's) and *cap unchanged. */
void *zc_grow (void *items, size_t *cap, size_t item_bytes, size_t first_cap);

#endif
