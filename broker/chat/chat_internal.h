/*  chat_internal.h - the chat state's private layout, shared by chat.c (apply),
    chat_map.c (hash tables), chat_list.c (PCRE2 list) and chat_snapshot.c.

    Invariants the files rely on:
    - every user is in self->users exactly once, keyed by its name; its queue is a
      singly linked FIFO head..tail of `queued` messages with strictly increasing mseq,
      all < next_mseq; self->queued and self->queued_bytes are the sums over users.
    - every client entry is in self->clients exactly once, keyed by cid != 0, and on the
      activity list ordered oldest..newest by last_active (log indexes only grow, so
      moving an entry to the newest end on activity keeps the list sorted).
    - a client's window covers seqs (highest - CHAT_DEDUP_WINDOW, highest]; slot
      seq % CHAT_DEDUP_WINDOW has its bit set iff that seq was applied, and its code
      byte is the code then returned (0 when the bit is clear). */
#ifndef CHAT_INTERNAL_H
#define CHAT_INTERNAL_H

#include "chat.h"

/* One queued message: one allocation, from and text bytes inline after the header. */
typedef struct chat_msg {
    struct chat_msg *next;
    uint64_t mseq;
    uint64_t ts;
    uint16_t from_len;
    uint16_t text_len;
    char data []; /* from_len bytes of from, then text_len bytes of text */
} chat_msg_t;

typedef struct {
    uint64_t hash; /* of the name; kept to probe and grow without rehashing */
    uint64_t epoch;
    uint64_t next_mseq; /* mseq the next send gets; highest assigned = this - 1 */
    chat_msg_t *head;
    chat_msg_t *tail;
    /* where the last peek stopped, so pushing a long queue is not quadratic; a cache
       only (not state): cleared when acks free that message */
    chat_msg_t *cursor;
    uint32_t queued;
    uint8_t name_len;
    uint8_t cred_len; /* 0: a user created before credentials (cannot log in) */
    char name [ZC_NAME_MAX];
    char cred [ZC_CRED_MAX]; /* Argon2id hash string (libsodium), never the secret */
} chat_user_t;

#define CHAT_WINDOW_WORDS (CHAT_DEDUP_WINDOW / 64)

typedef struct chat_client {
    uint64_t cid;
    uint64_t highest;     /* highest seq applied */
    uint64_t last_active; /* log index of the last applied request */
    struct chat_client *older;
    struct chat_client *newer;
    uint64_t applied [CHAT_WINDOW_WORDS];
    uint8_t codes [CHAT_DEDUP_WINDOW];
    /* the result value a retry must get back: epoch (CREATE, CONNECT) or mseq (SEND) */
    uint64_t values [CHAT_DEDUP_WINDOW];
} chat_client_t;

/* Open-addressing hash table of item pointers (linear probing, backward-shift delete,
   load <= 1/2). The table owns its arrays, not the items. */
typedef struct {
    void **items;
    uint64_t *hashes;
    size_t mask; /* capacity - 1; capacity is a power of two, 0 if none */
    size_t count;
} chat_map_t;

typedef bool (chat_map_eq_fn) (const void *item, const void *key);

struct chat {
    chat_limits_t limits;
    chat_map_t users;
    chat_map_t clients;
    chat_client_t *oldest; /* activity list, oldest..newest */
    chat_client_t *newest;
    uint64_t queued;
    uint64_t queued_bytes;
};

/* chat_map.c */
uint64_t chat_hash_bytes (const void *bytes, size_t len);
uint64_t chat_hash_u64 (uint64_t value);
void *chat_map_find (const chat_map_t *map, uint64_t hash, chat_map_eq_fn *eq, const void *key);
/* Make room for one more item; 0, or -1 when out of memory (map unchanged). */
int chat_map_reserve (chat_map_t *map);
/* Insert an item that is not in the map; chat_map_reserve must have succeeded. */
void chat_map_insert (chat_map_t *map, uint64_t hash, void *item);
void *chat_map_remove (chat_map_t *map, uint64_t hash, chat_map_eq_fn *eq, const void *key);
void chat_map_free (chat_map_t *map);

/* chat.c: building blocks the snapshot loader shares with apply. */
void chat_clear (chat_t *self);
chat_user_t *chat_user_find (const chat_t *self, const char *name, size_t len);
/* Adds a user with an empty queue; NULL when out of memory. Name must be valid. */
chat_user_t *chat_user_add (chat_t *self, const char *name, size_t len, uint64_t epoch);
/* Store a credential (cred.len <= ZC_CRED_MAX). */
void chat_user_set_cred (chat_user_t *user, zc_bytes_t cred);
/* A message, not yet queued; NULL when out of memory. */
chat_msg_t *chat_msg_new (uint64_t mseq, uint64_t ts, zc_bytes_t from, zc_bytes_t text);
void chat_user_push (chat_t *self, chat_user_t *user, chat_msg_t *msg);
chat_client_t *chat_client_find (const chat_t *self, uint64_t cid);
/* Adds a client entry as the newest; NULL when out of memory. Does not evict. */
chat_client_t *chat_client_add (chat_t *self, uint64_t cid);
/* All users sorted bytewise by name, malloc'd (caller frees); -1 when out of memory. */
int chat_users_sorted (const chat_t *self, chat_user_t ***out, size_t *n_out);
int chat_user_cmp (const void *a, const void *b);

#endif
