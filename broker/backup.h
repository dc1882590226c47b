/*  backup.h - BACKUP on the leader: an image of the chat state at the applied index
    (a committed one), served to `zchat admin backup` in chunks of ZC_BACKUP_CHUNK
    bytes, since a frame holds at most 1024.

    One image at a time: a request at offset 0 without an index takes a new one
    (replacing any other), later requests name its index and an offset. An image
    unused for BACKUP_IDLE_MS is dropped; a request for a gone image gets
    WRONG_STATE, and the client starts again. The image is what a snapshot holds, so
    `zchat-broker --restore` seeds a cluster from it. */
#ifndef BACKUP_H
#define BACKUP_H

#include "server.h"
#include "session.h"
#include "frame.h"

typedef struct backup backup_t;

backup_t *backup_new (void);
void backup_destroy (backup_t **self_p);

/* A BACKUP request reached this replica. */
void backup_request (server_t *server, conn_t *conn, const zc_frame_t *frame);

/* Every so often: drop an image nobody asked for lately. */
void backup_expire (backup_t *self, uint64_t now_ms);

#endif
