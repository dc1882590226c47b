/*  config.h - zchat-broker's settings: flags, each with an environment variable, and
    defaults. Parsing checks everything up front so a bad setting stops the replica
    with a clear message before it touches its data directory. */
#ifndef CONFIG_H
#define CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include "auth_worker.h"
#include "chat.h"
#include "raft_conf.h"
#include "raft_msg.h"

#define CONFIG_HOST_BYTES 256 /* a host name or address of up to 255 bytes, and its NUL */

typedef struct {
    uint32_t id; /* 1..RAFT_MAX_ID: its position in --peers, or the ID of ID=HOST:PORT */
    char host [CONFIG_HOST_BYTES];
    uint16_t port; /* client port; peers use port+1 (PUB), port+2 (ROUTER) */
} config_peer_t;

typedef struct {
    uint32_t id; /* one of the peers' ids */
    uint32_t n;  /* entries in peers */
    config_peer_t peers [RAFT_MAX_NODES];
    char data_dir [PATH_MAX];
    char bind_host [CONFIG_HOST_BYTES]; /* interface to bind; "*" = all */
    uint32_t election_timeout_ms;
    uint32_t heartbeat_ms;
    uint32_t session_timeout_ms; /* a client silent this long is dropped */
    uint32_t max_connections;    /* client connections tracked at once */
    uint64_t snapshot_entries;   /* take a snapshot after this many applied entries */
    uint64_t segment_bytes;
    bool repair; /* cut a damaged log at the damage instead of refusing */
    char metrics_addr [CONFIG_HOST_BYTES + 8]; /* HOST:PORT of /metrics; "" = off */
    char restore_file [PATH_MAX];              /* seed an empty data directory from this backup */
    bool rejoin;                               /* its disk was lost: hold votes until safe */
    bool join; /* a new member of a running cluster: no configuration of its own */
    chat_limits_t limits;
    char keys_dir [PATH_MAX];          /* CURVE keys (curve.h); "" = ./zchat-keys */
    bool insecure;                     /* no CURVE at all: tests and benches only */
    bool require_login;                /* refuse SEND from a connection with no session */
    auth_params_t auth;                /* Argon2id cost and worker threads */
    char advertise [262];              /* "host:port" clients are told for this replica
                                       (NOT_LEADER hints); "" = its --peers entry */
    char admin_secret_file [PATH_MAX]; /* admin commands (TRANSFER); "" = refused */
} config_t;

/* Parse argv and the environment. Returns 0 when the broker should run, 1 when it
   should exit successfully (--help), -1 on a bad setting (message already printed). */
int config_parse (config_t *config, int argc, char **argv);

void config_print_help (const char *program);

/* The --peers entry of replica id, or NULL. */
const config_peer_t *config_peer (const config_t *config, uint32_t id);
/* This replica's own entry (config_parse made sure there is one). */
const config_peer_t *config_self (const config_t *config);
/* The --peers entries as a configuration, every one a voter (or none of them). */
void config_members (const config_t *config, bool voters, raft_conf_t *conf);

#endif
