/*  config.c - flag and environment parsing for zchat-broker. A flag beats its
    environment variable, which beats the default. */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
config_print_help (const char *program)
{
    printf (
        "usage: %s --id N --peers HOST:PORT[,HOST:PORT...] [--data DIR] [options]\n"
        "       %s PORT            (one replica on PORT, data in ./zchat-data-PORT)\n"
        "\n"
        "One replica of a zchat cluster. Replica N serves clients on the Nth port of --peers\n"
        "and talks to the other replicas on the next two ports (PORT+1 publishes the log,\n"
        "PORT+2 receives votes, acks and catch-up).\n"
        "\n"
        "  --id N                 this replica's id: its position in --peers   (ZCHAT_ID)\n"
        "                         from 1, or the ID of an ID=HOST:PORT entry\n"
        "  --peers LIST           every replica's client address, HOST:PORT in id order\n"
        "                         or ID=HOST:PORT (ids 1-63)                  (ZCHAT_PEERS)\n"
        "  --join                 a new member of a running cluster: wait to be added by\n"
        "                         `zchat admin add` (README: Changing members) (ZCHAT_JOIN=1)\n"
        "  --data DIR             data directory: log, snapshot, term/vote     (ZCHAT_DATA,\n"
        "                         default ./zchat-data-PORT)\n"
        "  --bind HOST            interface to listen on (default: all)        (ZCHAT_BIND)\n"
        "  --election-timeout MS  base election timeout (default 500)          "
        "(ZCHAT_ELECTION_TIMEOUT_MS)\n"
        "  --heartbeat MS         leader heartbeat period (default 50)         "
        "(ZCHAT_HEARTBEAT_MS)\n"
        "  --session-timeout MS   drop a client silent this long (default "
        "15000)(ZCHAT_SESSION_TIMEOUT_MS)\n"
        "  --max-connections N    client connections at once (default 10000)   "
        "(ZCHAT_MAX_CONNECTIONS)\n"
        "  --max-users N          users (default 100000)                       (ZCHAT_MAX_USERS)\n"
        "  --max-queue N          queued messages per user (default 100000)    (ZCHAT_MAX_QUEUE)\n"
        "  --snapshot-entries N   snapshot and compact the log every N entries "
        "(ZCHAT_SNAPSHOT_ENTRIES,\n"
        "                         default 100000)\n"
        "  --repair               cut a damaged log at the damage instead of   (ZCHAT_REPAIR=1)\n"
        "                         refusing to start; one replica at a time, see\n"
        "                         README \"Repairing a replica\"\n"
        "  --metrics HOST:PORT    serve Prometheus metrics at http://HOST:PORT/metrics "
        "(ZCHAT_METRICS,\n"
        "                         default off; HOST an IPv4 address, * or localhost)\n"
        "  --restore FILE         seed an empty data directory from a backup made by\n"
        "                         `zchat admin backup`; every replica of the new cluster\n"
        "                         from the same file                           (ZCHAT_RESTORE)\n"
        "  --rejoin               this replica's data was lost (a new disk under an old id):\n"
        "                         follow, but vote only once every member's term is known\n"
        "                         (ZCHAT_REJOIN=1; an empty data directory in a cluster with\n"
        "                         history does this by itself)\n"
        "\n"
        "Security (README: Security):\n"
        "  --keys DIR             CURVE keys made by `zchat-keys init DIR`      (ZCHAT_KEYS,\n"
        "                         default ./zchat-keys)\n"
        "  --insecure             no encryption, no peer authentication: tests only "
        "(ZCHAT_INSECURE=1)\n"
        "  --require-login        refuse SEND from a connection not connected as a user\n"
        "                         (default: such a SEND shows as from nobody)  "
        "(ZCHAT_REQUIRE_LOGIN=1)\n"
        "  --pwhash-ops N         Argon2id passes per secret check (default 2) (ZCHAT_PWHASH_OPS)\n"
        "  --pwhash-mem-kib N     Argon2id memory per check (default 19456)     "
        "(ZCHAT_PWHASH_MEM_KIB)\n"
        "  --auth-threads N       threads that check secrets (default 2)       "
        "(ZCHAT_AUTH_THREADS)\n"
        "\n"
        "Operating (README: Operating zchat):\n"
        "  --advertise HOST:PORT  the client address other replicas tell clients for this one\n"
        "                         in NOT_LEADER hints (default: its --peers entry) "
        "(ZCHAT_ADVERTISE)\n"
        "  --admin-secret-file F  admin commands (zchat admin transfer) need the secret on the\n"
        "                         first line of F; without it they are refused  "
        "(ZCHAT_ADMIN_SECRET_FILE)\n"
        "  --help                 this text\n"
        "\n"
        "Logs one logfmt line per event on stderr. SIGTERM or SIGINT shuts down cleanly; a\n"
        "leader first hands its leadership to the most up-to-date follower (at most one\n"
        "election timeout).\n",
        program, program);
}

static int
s_parse_u64 (const char *what, const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long value = strtoull (text, &end, 10);
    if (errno || end == text || *end || text [0] == '-' || value < min || value > max) {
        fprintf (stderr, "zchat-broker: %s must be a number from %llu to %llu, not '%s'\n", what,
                 (unsigned long long) min, (unsigned long long) max, text);
        return -1;
    }
    *out = value;
    return 0;
}

static int
s_parse_u32 (const char *what, const char *text, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t value;
    if (s_parse_u64 (what, text, min, max, &value))
        return -1;
    *out = (uint32_t) value;
    return 0;
}

/* "host:port,host:port" or "id=host:port,..." into config->peers. */
static int
s_parse_peers (config_t *config, const char *list)
{
    char copy [4096];
    if (strlen (list) >= sizeof copy) {
        fprintf (stderr, "zchat-broker: --peers is too long\n");
        return -1;
    }
    strcpy (copy, list);
    config->n = 0;
    char *save = NULL;
    for (char *item = strtok_r (copy, ",", &save); item; item = strtok_r (NULL, ",", &save)) {
        if (config->n == RAFT_MAX_NODES) {
            fprintf (stderr, "zchat-broker: at most %d replicas in --peers\n", RAFT_MAX_NODES);
            return -1;
        }
        uint32_t id = config->n + 1;
        char *equals = strchr (item, '=');
        if (equals) {
            *equals = 0;
            if (s_parse_u32 ("a peer id", item, 1, RAFT_MAX_ID, &id))
                return -1;
            item = equals + 1;
        }
        if (config_peer (config, id)) {
            fprintf (stderr, "zchat-broker: replica id %u appears twice in --peers\n", id);
            return -1;
        }
        char *colon = strrchr (item, ':');
        if (!colon || colon == item || colon - item >= CONFIG_HOST_BYTES) {
            fprintf (stderr, "zchat-broker: peer '%s' is not HOST:PORT\n", item);
            return -1;
        }
        config_peer_t *peer = &config->peers [config->n++];
        peer->id = id;
        memcpy (peer->host, item, (size_t) (colon - item));
        peer->host [colon - item] = 0;
        uint32_t port;
        if (s_parse_u32 ("a peer port", colon + 1, 1, 65533, &port))
            return -1;
        peer->port = (uint16_t) port;
    }
    if (config->n == 0) {
        fprintf (stderr, "zchat-broker: --peers names no replica\n");
        return -1;
    }
    return 0;
}

static void
s_defaults (config_t *config)
{
    memset (config, 0, sizeof *config);
    strcpy (config->bind_host, "*");
    config->election_timeout_ms = 500;
    config->heartbeat_ms = 50;
    config->session_timeout_ms = 15000; /* 3 of the client's idle PINGs (5 s) */
    config->max_connections = 10000;
    config->snapshot_entries = 100000;
    chat_limits_defaults (&config->limits);
    auth_params_defaults (&config->auth);
}

typedef enum {
    OPT_ID = 1,
    OPT_PEERS,
    OPT_DATA,
    OPT_BIND,
    OPT_ELECTION,
    OPT_HEARTBEAT,
    OPT_SESSION,
    OPT_MAXCONN,
    OPT_MAXUSERS,
    OPT_MAXQUEUE,
    OPT_SNAPSHOT,
    OPT_KEYS,
    OPT_INSECURE,
    OPT_REQUIRE_LOGIN,
    OPT_PWHASH_OPS,
    OPT_PWHASH_MEM,
    OPT_AUTH_THREADS,
    OPT_REPAIR,
    OPT_ADVERTISE,
    OPT_ADMIN_SECRET,
    OPT_METRICS,
    OPT_RESTORE,
    OPT_REJOIN,
    OPT_JOIN,
    OPT_HELP
} opt_t;

static const struct {
    opt_t opt;
    const char *env;
} s_env [] = {
    { OPT_ID, "ZCHAT_ID" },
    { OPT_PEERS, "ZCHAT_PEERS" },
    { OPT_DATA, "ZCHAT_DATA" },
    { OPT_BIND, "ZCHAT_BIND" },
    { OPT_ELECTION, "ZCHAT_ELECTION_TIMEOUT_MS" },
    { OPT_HEARTBEAT, "ZCHAT_HEARTBEAT_MS" },
    { OPT_SESSION, "ZCHAT_SESSION_TIMEOUT_MS" },
    { OPT_MAXCONN, "ZCHAT_MAX_CONNECTIONS" },
    { OPT_MAXUSERS, "ZCHAT_MAX_USERS" },
    { OPT_MAXQUEUE, "ZCHAT_MAX_QUEUE" },
    { OPT_SNAPSHOT, "ZCHAT_SNAPSHOT_ENTRIES" },
    { OPT_KEYS, "ZCHAT_KEYS" },
    { OPT_INSECURE, "ZCHAT_INSECURE" },
    { OPT_REQUIRE_LOGIN, "ZCHAT_REQUIRE_LOGIN" },
    { OPT_PWHASH_OPS, "ZCHAT_PWHASH_OPS" },
    { OPT_PWHASH_MEM, "ZCHAT_PWHASH_MEM_KIB" },
    { OPT_AUTH_THREADS, "ZCHAT_AUTH_THREADS" },
    { OPT_REPAIR, "ZCHAT_REPAIR" },
    { OPT_ADVERTISE, "ZCHAT_ADVERTISE" },
    { OPT_ADMIN_SECRET, "ZCHAT_ADMIN_SECRET_FILE" },
    { OPT_METRICS, "ZCHAT_METRICS" },
    { OPT_RESTORE, "ZCHAT_RESTORE" },
    { OPT_REJOIN, "ZCHAT_REJOIN" },
    { OPT_JOIN, "ZCHAT_JOIN" },
};

/* A switch: the flag alone (value NULL) or its variable set to 1/true/yes (0/false/no). */
static int
s_parse_switch (const char *what, const char *value, bool *out)
{
    if (!value || !strcmp (value, "1") || !strcmp (value, "true") || !strcmp (value, "yes")) {
        *out = true;
        return 0;
    }
    if (!strcmp (value, "0") || !strcmp (value, "false") || !strcmp (value, "no")) {
        *out = false;
        return 0;
    }
    fprintf (stderr, "zchat-broker: %s must be 1 or 0, not '%s'\n", what, value);
    return -1;
}

/* HOST:PORT as a client would dial it. */
static int
s_parse_advertise (config_t *config, const char *value)
{
    const char *colon = strrchr (value, ':');
    uint32_t port;
    if (strlen (value) >= sizeof config->advertise || !colon || colon == value
        || strchr (value, ',') || strchr (value, ' ')) {
        fprintf (stderr, "zchat-broker: --advertise must be HOST:PORT, not '%s'\n", value);
        return -1;
    }
    if (s_parse_u32 ("the --advertise port", colon + 1, 1, 65535, &port))
        return -1;
    strcpy (config->advertise, value);
    return 0;
}

static int
s_apply (config_t *config, opt_t opt, const char *value)
{
    switch (opt) {
        case OPT_ID: return s_parse_u32 ("--id", value, 1, RAFT_MAX_ID, &config->id);
        case OPT_PEERS: return s_parse_peers (config, value);
        case OPT_DATA:
            if (strlen (value) >= sizeof config->data_dir) {
                fprintf (stderr, "zchat-broker: --data path too long\n");
                return -1;
            }
            strcpy (config->data_dir, value);
            return 0;
        case OPT_BIND:
            if (strlen (value) >= sizeof config->bind_host) {
                fprintf (stderr, "zchat-broker: --bind too long\n");
                return -1;
            }
            strcpy (config->bind_host, value);
            return 0;
        case OPT_ELECTION:
            return s_parse_u32 ("--election-timeout", value, 10, 60000,
                                &config->election_timeout_ms);
        case OPT_HEARTBEAT:
            return s_parse_u32 ("--heartbeat", value, 1, 10000, &config->heartbeat_ms);
        case OPT_SESSION:
            return s_parse_u32 ("--session-timeout", value, 100, 3600000,
                                &config->session_timeout_ms);
        case OPT_MAXCONN:
            return s_parse_u32 ("--max-connections", value, 1, 1000000, &config->max_connections);
        case OPT_MAXUSERS:
            return s_parse_u32 ("--max-users", value, 1, 10000000, &config->limits.max_users);
        case OPT_MAXQUEUE:
            return s_parse_u32 ("--max-queue", value, 1, 100000000, &config->limits.max_queue);
        case OPT_SNAPSHOT:
            return s_parse_u64 ("--snapshot-entries", value, 100, UINT64_MAX / 2,
                                &config->snapshot_entries);
        case OPT_KEYS:
            if (strlen (value) >= sizeof config->keys_dir - 64) {
                fprintf (stderr, "zchat-broker: --keys path too long\n");
                return -1;
            }
            strcpy (config->keys_dir, value);
            return 0;
        case OPT_INSECURE: return s_parse_switch ("ZCHAT_INSECURE", value, &config->insecure);
        case OPT_REQUIRE_LOGIN:
            return s_parse_switch ("ZCHAT_REQUIRE_LOGIN", value, &config->require_login);
        case OPT_PWHASH_OPS:
            return s_parse_u64 ("--pwhash-ops", value, 1, 100, &config->auth.ops_limit);
        case OPT_PWHASH_MEM:
            return s_parse_u64 ("--pwhash-mem-kib", value, 8, 4194304, &config->auth.mem_limit_kib);
        case OPT_AUTH_THREADS:
            return s_parse_u32 ("--auth-threads", value, 1, AUTH_THREADS_MAX,
                                &config->auth.threads);
        case OPT_REPAIR: return s_parse_switch ("ZCHAT_REPAIR", value, &config->repair);
        case OPT_ADVERTISE: return s_parse_advertise (config, value);
        case OPT_ADMIN_SECRET:
            if (strlen (value) >= sizeof config->admin_secret_file) {
                fprintf (stderr, "zchat-broker: --admin-secret-file path too long\n");
                return -1;
            }
            strcpy (config->admin_secret_file, value);
            return 0;
        case OPT_METRICS:
            if (strlen (value) >= sizeof config->metrics_addr) {
                fprintf (stderr, "zchat-broker: --metrics address too long\n");
                return -1;
            }
            strcpy (config->metrics_addr, value);
            return 0;
        case OPT_REJOIN: return s_parse_switch ("ZCHAT_REJOIN", value, &config->rejoin);
        case OPT_JOIN: return s_parse_switch ("ZCHAT_JOIN", value, &config->join);
        case OPT_RESTORE:
            if (strlen (value) >= sizeof config->restore_file) {
                fprintf (stderr, "zchat-broker: --restore path too long\n");
                return -1;
            }
            strcpy (config->restore_file, value);
            return 0;
        case OPT_HELP: return 0;
    }
    return -1;
}

static int
s_finish (config_t *config, const char *single_port)
{
    if (single_port) {
        if (config->n) {
            fprintf (stderr, "zchat-broker: give either PORT or --peers, not both\n");
            return -1;
        }
        char peers [64];
        snprintf (peers, sizeof peers, "127.0.0.1:%s", single_port);
        if (s_parse_peers (config, peers))
            return -1;
        config->id = 1;
    }
    if (config->n == 0) {
        fprintf (
            stderr,
            "zchat-broker: no replicas given: use --peers (or ZCHAT_PEERS) or PORT; see --help\n");
        return -1;
    }
    if (config->id == 0 && config->n == 1)
        config->id = config->peers [0].id;
    if (!config_peer (config, config->id)) {
        fprintf (stderr, "zchat-broker: --id must name one of --peers (positions from 1, or the"
                         " ID of an ID=HOST:PORT entry)\n");
        return -1;
    }
    if (config->join && (config->rejoin || config->restore_file [0])) {
        fprintf (stderr, "zchat-broker: --join is for a new member: not with --rejoin or "
                         "--restore\n");
        return -1;
    }
    if (config->heartbeat_ms * 2 > config->election_timeout_ms) {
        fprintf (stderr, "zchat-broker: --heartbeat must be at most half of --election-timeout\n");
        return -1;
    }
    if (config->keys_dir [0] == 0)
        strcpy (config->keys_dir, "zchat-keys");
    if (config->data_dir [0] == 0)
        snprintf (config->data_dir, sizeof config->data_dir, "zchat-data-%u",
                  config_self (config)->port);
    return 0;
}

const config_peer_t *
config_peer (const config_t *config, uint32_t id)
{
    for (uint32_t i = 0; i < config->n; i++)
        if (config->peers [i].id == id)
            return &config->peers [i];
    return NULL;
}

const config_peer_t *
config_self (const config_t *config)
{
    return config_peer (config, config->id);
}

void
config_members (const config_t *config, bool voters, raft_conf_t *conf)
{
    memset (conf, 0, sizeof *conf);
    for (uint32_t i = 0; i < config->n; i++) {
        raft_member_t m = { .id = config->peers [i].id, .voter = voters };
        snprintf (m.addr, sizeof m.addr, "%s:%u", config->peers [i].host, config->peers [i].port);
        raft_conf_put (conf, &m);
    }
}

int
config_parse (config_t *config, int argc, char **argv)
{
    s_defaults (config);
    for (size_t i = 0; i < sizeof s_env / sizeof s_env [0]; i++) {
        const char *value = getenv (s_env [i].env);
        if (value && *value && s_apply (config, s_env [i].opt, value))
            return -1;
    }
    static const struct option options [] = {
        { "id", required_argument, NULL, OPT_ID },
        { "peers", required_argument, NULL, OPT_PEERS },
        { "data", required_argument, NULL, OPT_DATA },
        { "bind", required_argument, NULL, OPT_BIND },
        { "election-timeout", required_argument, NULL, OPT_ELECTION },
        { "heartbeat", required_argument, NULL, OPT_HEARTBEAT },
        { "session-timeout", required_argument, NULL, OPT_SESSION },
        { "max-connections", required_argument, NULL, OPT_MAXCONN },
        { "max-users", required_argument, NULL, OPT_MAXUSERS },
        { "max-queue", required_argument, NULL, OPT_MAXQUEUE },
        { "snapshot-entries", required_argument, NULL, OPT_SNAPSHOT },
        { "keys", required_argument, NULL, OPT_KEYS },
        { "insecure", no_argument, NULL, OPT_INSECURE },
        { "require-login", no_argument, NULL, OPT_REQUIRE_LOGIN },
        { "pwhash-ops", required_argument, NULL, OPT_PWHASH_OPS },
        { "pwhash-mem-kib", required_argument, NULL, OPT_PWHASH_MEM },
        { "auth-threads", required_argument, NULL, OPT_AUTH_THREADS },
        { "repair", no_argument, NULL, OPT_REPAIR },
        { "advertise", required_argument, NULL, OPT_ADVERTISE },
        { "admin-secret-file", required_argument, NULL, OPT_ADMIN_SECRET },
        { "metrics", required_argument, NULL, OPT_METRICS },
        { "restore", required_argument, NULL, OPT_RESTORE },
        { "rejoin", no_argument, NULL, OPT_REJOIN },
        { "join", no_argument, NULL, OPT_JOIN },
        { "help", no_argument, NULL, OPT_HELP },
        { NULL, 0, NULL, 0 }
    };
    optind = 1;
    int opt;
    while ((opt = getopt_long (argc, argv, "h", options, NULL)) != -1) {
        if (opt == OPT_HELP || opt == 'h') {
            config_print_help (argv [0]);
            return 1;
        }
        if (opt == '?') {
            fprintf (stderr, "zchat-broker: see --help\n");
            return -1;
        }
        if (s_apply (config, (opt_t) opt, optarg))
            return -1;
    }
    if (optind < argc - 1) {
        fprintf (stderr, "zchat-broker: unexpected argument '%s'; see --help\n", argv [optind + 1]);
        return -1;
    }
    const char *single_port = NULL;
    if (optind == argc - 1) {
        uint32_t port;
        if (s_parse_u32 ("PORT", argv [optind], 1, 65533, &port))
            return -1;
        single_port = argv [optind];
    }
    return s_finish (config, single_port);
}
