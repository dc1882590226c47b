/*  server.h - zchat-broker's event loop: the client ROUTER, the peer sockets and the
    replica, driven from one thread. Client requests become proposals or reads;
    applied entries become replies and pushes. */
#ifndef SERVER_H
#define SERVER_H

#include "config.h"

typedef struct server server_t;

/* Bind sockets and load the data directory. NULL (reason logged) on failure. */
server_t *server_new (const config_t *config);
void server_destroy (server_t **self_p);

/* Serve until *stop becomes non-zero (set from a signal handler). Returns 0 on a clean
   stop, -1 when storage failed and the replica had to stop. */
int server_run (server_t *self, volatile int *stop);

#endif
