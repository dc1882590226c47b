/*  auth_worker.c - worker threads for crypto_pwhash (see auth_worker.h).

    Each worker is a CZMQ actor: a job arrives as one frame holding an auth_job_t,
    goes back as one frame with the result filled in. Frames are wiped before they are
    freed, since they held a secret. */
#include "auth_worker.h"
#include <sodium.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Below the event loops of the replicas sharing the machine: a burst of logins slows
   logins, not sends. */
#define AUTH_NICE 10

struct auth_worker {
    zactor_t *actors [AUTH_THREADS_MAX];
    uint32_t outstanding [AUTH_THREADS_MAX];
    uint32_t n;
    uint32_t total;
};

typedef struct {
    uint64_t ops_limit;
    size_t mem_limit;
} s_limits_t;

void
auth_params_defaults (auth_params_t *params)
{
    params->threads = 2;
    params->ops_limit = 2;
    params->mem_limit_kib = 19456;
}

void
auth_job_wipe (auth_job_t *job)
{
    sodium_memzero (job, sizeof *job);
}

static void
s_frame_wipe_destroy (zframe_t **frame_p)
{
    if (*frame_p)
        sodium_memzero (zframe_data (*frame_p), zframe_size (*frame_p));
    zframe_destroy (frame_p);
}

static bool
s_hash (const s_limits_t *limits, const char *secret, uint32_t len, char *out)
{
    char hash [crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str (hash, secret, len, limits->ops_limit, limits->mem_limit) != 0)
        return false; /* out of memory */
    if (strlen (hash) > ZC_CRED_MAX)
        return false;
    strcpy (out, hash);
    return true;
}

static void
s_run (const s_limits_t *limits, auth_job_t *job)
{
    job->ok = false;
    job->cred_out [0] = 0;
    bool verified =
        job->kind == AUTH_JOB_HASH
        || (job->cred_in [0]
            && crypto_pwhash_str_verify (job->cred_in, job->secret, job->secret_len) == 0);
    if (!verified)
        return;
    if (job->kind == AUTH_JOB_HASH)
        job->ok = s_hash (limits, job->secret, job->secret_len, job->cred_out);
    else if (job->kind == AUTH_JOB_CHANGE)
        job->ok = s_hash (limits, job->new_secret, job->new_secret_len, job->cred_out);
    else
        job->ok = true;
}

static void
s_actor (zsock_t *pipe, void *args)
{
    s_limits_t limits = *(s_limits_t *) args;
    free (args);
    setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), AUTH_NICE);
    zsock_signal (pipe, 0);
    while (true) {
        zframe_t *frame = zframe_recv (pipe);
        if (!frame)
            break;
        if (zframe_size (frame) != sizeof (auth_job_t)) {
            zframe_destroy (&frame); /* "$TERM" */
            break;
        }
        auth_job_t *job = (auth_job_t *) zframe_data (frame);
        s_run (&limits, job);
        sodium_memzero (job->secret, sizeof job->secret);
        sodium_memzero (job->new_secret, sizeof job->new_secret);
        if (zframe_send (&frame, pipe, 0) != 0)
            s_frame_wipe_destroy (&frame);
    }
}

auth_worker_t *
auth_worker_new (const auth_params_t *params)
{
    if (sodium_init () < 0)
        return NULL;
    auth_worker_t *self = (auth_worker_t *) zmalloc (sizeof (auth_worker_t));
    self->n = params->threads < 1                  ? 1
              : params->threads > AUTH_THREADS_MAX ? AUTH_THREADS_MAX
                                                   : params->threads;
    for (uint32_t i = 0; i < self->n; i++) {
        s_limits_t *limits = (s_limits_t *) malloc (sizeof *limits);
        if (!limits) {
            auth_worker_destroy (&self);
            return NULL;
        }
        limits->ops_limit = params->ops_limit;
        limits->mem_limit = (size_t) params->mem_limit_kib * 1024;
        self->actors [i] = zactor_new (s_actor, limits);
        if (!self->actors [i]) {
            free (limits);
            auth_worker_destroy (&self);
            return NULL;
        }
    }
    return self;
}

void
auth_worker_destroy (auth_worker_t **self_p)
{
    if (!*self_p)
        return;
    auth_worker_t *self = *self_p;
    for (uint32_t i = 0; i < AUTH_THREADS_MAX; i++)
        zactor_destroy (&self->actors [i]);
    free (self);
    *self_p = NULL;
}

int
auth_worker_submit (auth_worker_t *self, const auth_job_t *job)
{
    if (self->total >= AUTH_QUEUE_MAX)
        return -1;
    uint32_t best = 0;
    for (uint32_t i = 1; i < self->n; i++)
        if (self->outstanding [i] < self->outstanding [best])
            best = i;
    zframe_t *frame = zframe_new (job, sizeof *job);
    if (!frame)
        return -1;
    if (zframe_send (&frame, self->actors [best], 0) != 0) {
        s_frame_wipe_destroy (&frame);
        return -1;
    }
    self->outstanding [best]++;
    self->total++;
    return 0;
}

void
auth_worker_pipes (auth_worker_t *self, void **pipes, uint32_t *n_out)
{
    for (uint32_t i = 0; i < self->n; i++)
        pipes [i] = zsock_resolve (self->actors [i]);
    *n_out = self->n;
}

bool
auth_worker_recv (auth_worker_t *self, void *pipe, auth_job_t *job)
{
    for (uint32_t i = 0; i < self->n; i++) {
        if (zsock_resolve (self->actors [i]) != pipe)
            continue;
        if (!(zsock_events (self->actors [i]) & ZMQ_POLLIN))
            return false;
        zframe_t *frame = zframe_recv (self->actors [i]);
        if (!frame)
            return false;
        bool ok = zframe_size (frame) == sizeof *job;
        if (ok)
            memcpy (job, zframe_data (frame), sizeof *job);
        s_frame_wipe_destroy (&frame);
        self->outstanding [i]--;
        self->total--;
        return ok;
    }
    return false;
}

uint32_t
auth_worker_outstanding (const auth_worker_t *self)
{
    return self->total;
}
