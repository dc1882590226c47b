/*  chat_map.c - the open-addressing hash table behind users (by name) and clients
    (by cid). Linear probing keeps a lookup to one or two cache lines; deletion shifts
    the following run back instead of leaving tombstones, so a table that sees many
    create/delete cycles never degrades. Load stays <= 1/2. The hash is fixed (no
    random seed) so that the layout, like everything in chat, is a function of the log. */
#include <stdlib.h>
#include "chat_internal.h"

#define MAP_MIN_CAPACITY 16

static uint64_t
s_mix (uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

uint64_t
chat_hash_bytes (const void *bytes, size_t len)
{
    const uint8_t *p = bytes;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p [i];
        h *= 0x100000001b3ULL;
    }
    return s_mix (h ^ len);
}

uint64_t
chat_hash_u64 (uint64_t value)
{
    return s_mix (value + 0x9e3779b97f4a7c15ULL);
}

void *
chat_map_find (const chat_map_t *map, uint64_t hash, chat_map_eq_fn *eq, const void *key)
{
    if (map->items == NULL)
        return NULL;
    for (size_t i = hash & map->mask; map->items [i]; i = (i + 1) & map->mask)
        if (map->hashes [i] == hash && eq (map->items [i], key))
            return map->items [i];
    return NULL;
}

static void
s_place (void **items, uint64_t *hashes, size_t mask, uint64_t hash, void *item)
{
    size_t i = hash & mask;
    while (items [i])
        i = (i + 1) & mask;
    items [i] = item;
    hashes [i] = hash;
}

int
chat_map_reserve (chat_map_t *map)
{
    size_t capacity = map->items ? map->mask + 1 : 0;
    if ((map->count + 1) * 2 <= capacity)
        return 0;
    size_t grown = capacity ? capacity * 2 : MAP_MIN_CAPACITY;
    void **items = calloc (grown, sizeof (void *));
    uint64_t *hashes = calloc (grown, sizeof (uint64_t));
    if (items == NULL || hashes == NULL) {
        free (items);
        free (hashes);
        return -1;
    }
    for (size_t i = 0; i < capacity; i++)
        if (map->items [i])
            s_place (items, hashes, grown - 1, map->hashes [i], map->items [i]);
    free (map->items);
    free (map->hashes);
    map->items = items;
    map->hashes = hashes;
    map->mask = grown - 1;
    return 0;
}

void
chat_map_insert (chat_map_t *map, uint64_t hash, void *item)
{
    s_place (map->items, map->hashes, map->mask, hash, item);
    map->count++;
}

void *
chat_map_remove (chat_map_t *map, uint64_t hash, chat_map_eq_fn *eq, const void *key)
{
    if (map->items == NULL)
        return NULL;
    size_t i = hash & map->mask;
    while (map->items [i] && !(map->hashes [i] == hash && eq (map->items [i], key)))
        i = (i + 1) & map->mask;
    void *found = map->items [i];
    if (found == NULL)
        return NULL;
    /* Shift back every later item of the run whose home slot is not in (i, j]. */
    size_t j = i;
    while (true) {
        j = (j + 1) & map->mask;
        if (map->items [j] == NULL)
            break;
        size_t home = map->hashes [j] & map->mask;
        bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        map->items [i] = map->items [j];
        map->hashes [i] = map->hashes [j];
        i = j;
    }
    map->items [i] = NULL;
    map->hashes [i] = 0;
    map->count--;
    return found;
}

void
chat_map_free (chat_map_t *map)
{
    free (map->items);
    free (map->hashes);
    map->items = NULL;
    map->hashes = NULL;
    map->mask = 0;
    map->count = 0;
}
