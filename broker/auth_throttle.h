/*  auth_throttle.h - growing delays after failed logins, per user and per connection.

    After a few failures in a row, the next attempt for that user (or from that
    connection) is refused with THROTTLED until a delay has passed; each further
    failure doubles the delay, up to a cap. The per-user cap is short so that a stream
    of wrong guesses slows the owner down but never locks them out; the per-connection
    cap is long. A success clears both. Checks still running count as failures-to-be:
    32 guesses sent at once would otherwise all be admitted before the first failure is
    known. Leader-local and bounded: when the table is full of live entries, new keys
    are refused (fail closed) rather than forgotten. */
#ifndef AUTH_THROTTLE_H
#define AUTH_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define THROTTLE_MAX_KEYS 100000

typedef struct auth_throttle auth_throttle_t;

typedef enum { THROTTLE_USER, THROTTLE_CONN } throttle_kind_t;

auth_throttle_t *auth_throttle_new (void);
void auth_throttle_destroy (auth_throttle_t **self_p);

/* 0 when an attempt for key may run now, else how many ms until it may. */
uint64_t auth_throttle_wait_ms (auth_throttle_t *self, throttle_kind_t kind, const char *key,
                                uint64_t now_ms);
/* An attempt for key starts (its check is running). Each begin ends in exactly one of
   failed, succeeded or abandoned. */
void auth_throttle_begin (auth_throttle_t *self, throttle_kind_t kind, const char *key);
/* The check failed; returns the failures in a row now counted for key. */
uint32_t auth_throttle_failed (auth_throttle_t *self, throttle_kind_t kind, const char *key,
                               uint64_t now_ms);
void auth_throttle_succeeded (auth_throttle_t *self, throttle_kind_t kind, const char *key);
/* The attempt ended without a check (unknown user, lost leadership, queue full). */
void auth_throttle_abandoned (auth_throttle_t *self, throttle_kind_t kind, const char *key);
/* Forget everything (leadership lost: checks in flight will never report). */
void auth_throttle_clear (auth_throttle_t *self);

/* The delay after `fails` failures in a row (0 below the threshold). */
uint64_t auth_throttle_delay_ms (throttle_kind_t kind, uint32_t fails);

/* Drop entries idle long enough to be forgotten. */
void auth_throttle_sweep (auth_throttle_t *self, uint64_t now_ms);

size_t auth_throttle_size (const auth_throttle_t *self);

#endif
