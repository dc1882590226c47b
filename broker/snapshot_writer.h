/*  snapshot_writer.h - writes a snapshot of the state machine in a forked child.

    The idea of Redis's BGSAVE: after fork() the child sees the state frozen by
    copy-on-write, serializes it and makes the file durable, while the parent's event
    loop goes on serving. Serializing inline stalled every request for ~0.4 s per
    100,000 entries. The parent compacts its log only once the child reports success,
    so a failed or killed child costs nothing but the work. */
#ifndef SNAPSHOT_WRITER_H
#define SNAPSHOT_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;            /* running child, 0 when none */
    uint64_t index, term; /* what it writes */
    int64_t started_ms;
    int64_t fork_ms; /* how long fork() blocked the event loop */
} snapshot_writer_t;

/* The state serialized, malloc'd; 0 or -1. Runs in the child. */
typedef int (snapshot_save_fn) (void *arg, uint8_t **body, size_t *len);

/* Start writing the state (as of applied index, of term), serialized by save, into
   dir. Returns 0 when a child runs, -1 when it could not be started (errno set;
   nothing changed). */
int snapshot_writer_start (snapshot_writer_t *self, snapshot_save_fn *save, void *save_arg,
                           const char *dir, uint64_t index, uint64_t term);

/* Without blocking: 0 while the child runs (or none does), 1 when it finished and the
   snapshot of self->index is durable, -1 when it failed. */
int snapshot_writer_poll (snapshot_writer_t *self);

/* Stop a running child and wait for it: before another writer of the same file
   (an installed snapshot) and at shutdown. */
void snapshot_writer_abort (snapshot_writer_t *self);

#endif
