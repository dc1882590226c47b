/*  replica_io_host.c - replica_io_t over the data directory and the peer sockets.
    Each call maps onto one module: hardstate and snapshot files (snapshot_file.h),
    the segmented log (wal.h), the forked writer (snapshot_writer.h), peers.h. */
#include "replica_io_host.h"
#include <czmq.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "blog.h"
#include "fileio.h"
#include "snapshot_file.h"
#include "snapshot_writer.h"
#include "wal.h"

struct replica_io_host {
    const config_t *config;
    const char *dir;
    peers_t *peers;
    wal_t *wal;
    snapshot_writer_t writer;
    metrics_histogram_t fsync;
};

replica_io_host_t *
replica_io_host_new (const config_t *config, peers_t *peers, char *err, size_t err_len)
{
    if (fileio_mkdir_durable (config->data_dir, NULL)) {
        snprintf (err, err_len, "cannot create data directory %s: %s", config->data_dir,
                  strerror (errno));
        return NULL;
    }
    replica_io_host_t *self = (replica_io_host_t *) calloc (1, sizeof (replica_io_host_t));
    if (!self) {
        snprintf (err, err_len, "out of memory");
        return NULL;
    }
    self->config = config;
    self->dir = config->data_dir;
    self->peers = peers;
    return self;
}

void
replica_io_host_destroy (replica_io_host_t **self_p)
{
    if (!*self_p)
        return;
    replica_io_host_t *self = *self_p;
    snapshot_writer_abort (&self->writer);
    wal_destroy (&self->wal);
    free (self);
    *self_p = NULL;
}

static int
s_load (void *arg, replica_disk_t *disk, char *err, size_t err_len)
{
    replica_io_host_t *self = (replica_io_host_t *) arg;
    int found = hardstate_read (self->dir, &disk->hardstate, err, err_len);
    if (found < 0)
        return -1;
    disk->found_hardstate = found == 1;
    found = identity_read (self->dir, &disk->cluster, &disk->incarnation, err, err_len);
    if (found < 0)
        return -1;
    disk->found_identity = found == 1;
    found = snapshot_file_read (self->dir, &disk->snap_index, &disk->snap_term, &disk->snap_body,
                                &disk->snap_len, err, err_len);
    return found < 0 ? -1 : 0;
}

typedef struct {
    replica_restore_fn *fn;
    void *arg;
} replay_t;

static int
s_replay (void *arg, const raft_entry_t *entry)
{
    replay_t *replay = (replay_t *) arg;
    replay->fn (replay->arg, entry);
    return 0;
}

static void
s_note_repair (replica_io_host_t *self)
{
    const char *note = wal_repair_note (self->wal);
    if (*note)
        blog ("log_repaired", "level=warning data=%s cut=\"%s\"", self->dir, note);
    else
        blog ("log_repair_found_nothing", "data=%s", self->dir);
}

static int
s_log_open (void *arg, uint64_t after_index, replica_restore_fn *fn, void *fn_arg,
            uint64_t *last_index, char *err, size_t err_len)
{
    replica_io_host_t *self = (replica_io_host_t *) arg;
    replay_t replay = { fn, fn_arg };
    self->wal = (self->config->repair ? wal_open_repair : wal_open) (
        self->dir, after_index, self->config->segment_bytes, s_replay, &replay, err, err_len);
    if (!self->wal)
        return -1;
    if (self->config->repair)
        s_note_repair (self);
    *last_index = wal_last_index (self->wal);
    blog ("replica_loaded",
          "data=%s snapshot_index=%llu log_first=%llu log_last=%llu torn_bytes_cut=%llu", self->dir,
          (unsigned long long) after_index, (unsigned long long) wal_first_index (self->wal),
          (unsigned long long) *last_index, (unsigned long long) wal_truncated_bytes (self->wal));
    return 0;
}

static int
s_hardstate_put (void *arg, const raft_hardstate_t *hs)
{
    replica_io_host_t *self = (replica_io_host_t *) arg;
    char err [256];
    if (hardstate_write (self->dir, hs, err, sizeof err) == 0)
        return 0;
    blog ("storage_failed", "op=hardstate reason=\"%s\"", err);
    return -1;
}

static int
s_log_append (void *arg, const raft_entry_t *entries, uint32_t n)
{
    return wal_append (((replica_io_host_t *) arg)->wal, entries, n);
}

static int
s_log_sync (void *arg)
{
    replica_io_host_t *self = (replica_io_host_t *) arg;
    int64_t started_us = zclock_usecs ();
    int rc = wal_sync (self->wal);
    metrics_observe (&self->fsync, (double) (zclock_usecs () - started_us) / 1e6);
    return rc;
}

const metrics_histogram_t *
replica_io_host_fsync (const replica_io_host_t *self)
{
    return &self->fsync;
}

static void
s_log_compact (void *arg, uint64_t index)
{
    replica_io_host_t *self = (replica_io_host_t *) arg;
    if (wal_compact (self->wal, index))
        blog ("log_compact_failed", "index=%llu reason=\"%s\"", (unsigned long long) index,
              strerror (errno)); /* not fatal: the segments stay until the next one */
}

static int
s_snapshot_put (void *arg, uint64_t index, uint64_t term, const uint8_t *body, size_t len)
{
    replica_io_host_t *self = (replica_io_host_t *) arg;
    char err [256];
    if (snapshot_file_write (self->dir, index, term, body, len, err, sizeof err) == 0)
        return 0;
    blog ("storage_failed", "op=snapshot reason=\"%s\"", err);
    return -1;
}

static int
s_snapshot_install (void *arg, uint64_t index, uint64_t term, const uint8_t *body, size_t len)
{
    replica_io_host_t *self = (replica_io_host_t *) arg;
    snapshot_writer_abort (&self->writer); /* it writes the same file */
    if (s_snapshot_put (arg, index, term, body, len))
        return -1;
    return wal_reset (self->wal, index + 1);
}

static int
s_snapshot_get (void *arg, uint64_t *index, uint64_t *term, uint8_t **body, size_t *len)
{
    replica_io_host_t *self = (replica_io_host_t *) arg;
    char err [256];
    int found = snapshot_file_read (self->dir, index, term, body, len, err, sizeof err);
    if (found < 0)
        blog ("snapshot_read_failed", "reason=\"%s\"", err);
    return found;
}

static int
s_snapshot_begin (void *arg, int (*save) (void *, uint8_t **, size_t *), void *save_arg,
                  uint64_t index, uint64_t term)
{
    replica_io_host_t *self = (replica_io_host_t *) arg;
    if (snapshot_writer_start (&self->writer, save, save_arg, self->dir, index, term) == 0)
        return 0;
    blog ("snapshot_fork_failed", "reason=\"%s\"", strerror (errno));
    return -1;
}

static int
s_snapshot_poll (void *arg)
{
    replica_io_host_t *self = (replica_io_host_t *) arg;
    int done = snapshot_writer_poll (&self->writer);
    if (done == 1)
        blog ("snapshot_written", "index=%llu fork_ms=%lld",
              (unsigned long long) self->writer.index, (long long) self->writer.fork_ms);
    return done;
}

static void
s_snapshot_abort (void *arg)
{
    snapshot_writer_abort (&((replica_io_host_t *) arg)->writer);
}

static int
s_send (void *arg, uint32_t to, uint8_t *frame, size_t len)
{
    return peers_send (((replica_io_host_t *) arg)->peers, to, frame, len);
}

/* A replica started with --join knows no members until the leader's log reaches it:
   meanwhile it listens to, and answers, every replica of its --peers list. */
static int
s_identity_put (void *arg, uint64_t cluster, uint64_t incarnation)
{
    replica_io_host_t *self = (replica_io_host_t *) arg;
    char err [PATH_MAX + 128];
    if (identity_write (self->dir, cluster, incarnation, err, sizeof err) == 0)
        return 0;
    blog ("storage_failed", "op=identity reason=\"%s\"", err);
    return -1;
}

static void
s_members_changed (void *arg, const raft_conf_t *conf)
{
    replica_io_host_t *self = (replica_io_host_t *) arg;
    if (conf->n) {
        peers_set_members (self->peers, conf);
        return;
    }
    raft_conf_t contacts;
    config_members (self->config, false, &contacts);
    peers_set_members (self->peers, &contacts);
}

replica_io_t
replica_io_host_io (replica_io_host_t *self)
{
    return (replica_io_t) { .arg = self,
                            .load = s_load,
                            .log_open = s_log_open,
                            .hardstate_put = s_hardstate_put,
                            .identity_put = s_identity_put,
                            .log_append = s_log_append,
                            .log_sync = s_log_sync,
                            .log_compact = s_log_compact,
                            .snapshot_install = s_snapshot_install,
                            .snapshot_put = s_snapshot_put,
                            .snapshot_get = s_snapshot_get,
                            .snapshot_begin = s_snapshot_begin,
                            .snapshot_poll = s_snapshot_poll,
                            .snapshot_abort = s_snapshot_abort,
                            .send = s_send,
                            .members_changed = s_members_changed };
}
