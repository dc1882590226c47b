/*  auth_worker.h - Argon2id hashing and verification off the event loop.

    Checking a secret is deliberately slow (milliseconds of CPU and MiBs of memory per
    try, libsodium's crypto_pwhash), so it never runs on the replica's event loop: jobs
    go to worker threads (CZMQ actors, at a lower scheduling priority) and results come
    back on the actors' pipes, which the loop polls. Bounded: at most AUTH_QUEUE_MAX
    jobs outstanding; the caller answers BUSY beyond that. Secrets are wiped from every
    buffer they pass through once the job is done. */
#ifndef AUTH_WORKER_H
#define AUTH_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <czmq.h>
#include "command.h"

#define AUTH_QUEUE_MAX   64
#define AUTH_THREADS_MAX 8

typedef enum {
    AUTH_JOB_HASH,   /* cred_out = hash (secret) */
    AUTH_JOB_VERIFY, /* ok = secret matches cred_in */
    AUTH_JOB_CHANGE  /* ok = secret matches cred_in; if so cred_out = hash (new_secret) */
} auth_job_kind_t;

typedef struct {
    auth_job_kind_t kind;
    uint64_t cid, seq, gen; /* the caller's key for the result */
    char secret [ZC_SECRET_MAX];
    uint32_t secret_len;
    char new_secret [ZC_SECRET_MAX];
    uint32_t new_secret_len;
    char cred_in [ZC_CRED_MAX + 1]; /* NUL-terminated stored hash */
    /* results */
    bool ok;
    char cred_out [ZC_CRED_MAX + 1]; /* NUL-terminated new hash */
} auth_job_t;

typedef struct {
    uint32_t threads;       /* default 2 */
    uint64_t ops_limit;     /* Argon2id passes; default 2 */
    uint64_t mem_limit_kib; /* Argon2id memory; default 19456 (19 MiB, OWASP) */
} auth_params_t;

typedef struct auth_worker auth_worker_t;

void auth_params_defaults (auth_params_t *params);

/* Start the threads. NULL when libsodium cannot start or a thread cannot be made. */
auth_worker_t *auth_worker_new (const auth_params_t *params);
void auth_worker_destroy (auth_worker_t **self_p);

/* Queue a copy of job (the caller's copy may be wiped at once). Returns 0, or -1 when
   AUTH_QUEUE_MAX jobs are outstanding. */
int auth_worker_submit (auth_worker_t *self, const auth_job_t *job);

/* The pipes to poll, n_out of them. */
void auth_worker_pipes (auth_worker_t *self, void **pipes, uint32_t *n_out);

/* Take one finished job from pipe (returned by auth_worker_pipes) into *job; false
   when none is waiting. The caller wipes *job when done (auth_job_wipe). */
bool auth_worker_recv (auth_worker_t *self, void *pipe, auth_job_t *job);

uint32_t auth_worker_outstanding (const auth_worker_t *self);

void auth_job_wipe (auth_job_t *job);

#endif
