/*  replica_io_host.h - the replica's I/O on a real machine: the WAL and snapshot
    files in a data directory (replication/), a forked snapshot writer, and the peer
    sockets (peers.h). */
#ifndef REPLICA_IO_HOST_H
#define REPLICA_IO_HOST_H

#include "config.h"
#include "peers.h"
#include "metrics.h"
#include "replica_io.h"

typedef struct replica_io_host replica_io_host_t;

/* peers is borrowed and must outlive the result. Creates the data directory
   durably; NULL with a reason in err when it cannot. */
replica_io_host_t *replica_io_host_new (const config_t *config, peers_t *peers, char *err,
                                        size_t err_len);
void replica_io_host_destroy (replica_io_host_t **self_p);

/* The table to hand to replica_new; valid while self lives. */
replica_io_t replica_io_host_io (replica_io_host_t *self);

/* How long each log fdatasync took. */
const metrics_histogram_t *replica_io_host_fsync (const replica_io_host_t *self);

#endif
