/*  sim.h - the deterministic simulator of zchat's replicas.

    One run = one seed: N replicas, each the shipped replica code (broker/replica*.c:
    ready cycle, snapshot taking, transfer and install, status gossip) driving the
    shipped chat state machine, over an in-memory replica_io_t (sim_io.c): a disk that
    loses unsynced appends and tears them, snapshots written in the background, and a
    network of byte frames that delays, drops, duplicates, reorders and partitions.
    A crash may strike at any I/O call of a ready; it loses whatever was not durable
    and the replica restarts from its "disk" through replica_new, as the broker does.
    Clients retry with the same (cid, seq). Every random choice comes from one seeded
    PRNG, so a seed replays exactly. With membership changes on (--members), five
    slots hold a cluster that starts as replicas 1-3; the leader is asked now and then
    to add a slot (a learner, mostly one to promote), remove a member or flip one's
    vote (sim_members.c), and the network carries only what the real transport would:
    a replica hears a broadcast from, and reaches, only the members it was told to
    reach (replica_io_t.members_changed). The checker (sim_check.c) verifies the Raft
    invariants and G1-G6 after every step; the first violation ends the run with the
    seed, step and reason. */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "raft.h"
#include "replica.h"
#include "chat.h"

#define SIM_MAX_NODES 5
#define SIM_CLIENTS   3

typedef struct {
    uint64_t state;
} sim_rng_t;

uint64_t sim_rand (sim_rng_t *rng);
uint64_t sim_below (sim_rng_t *rng, uint64_t n); /* [0, n) */
bool sim_chance (sim_rng_t *rng, uint32_t per_million);

/* A snapshot: the chat state as of (index, term). */
typedef struct {
    uint64_t index, term;
    uint8_t *body;
    size_t len;
} sim_snap_t;

void sim_snap_copy (sim_snap_t *dst, const sim_snap_t *src);
void sim_snap_free (sim_snap_t *snap);

/* A frame on the wire, as the replica encoded it. */
typedef struct {
    uint64_t deliver_ms;
    uint32_t from, to;
    uint8_t *frame;
    size_t len;
} sim_packet_t;

typedef struct {
    uint32_t n;
    bool cut [SIM_MAX_NODES + 1][SIM_MAX_NODES + 1]; /* cut[a][b]: a -> b lost */
    uint32_t drop_ppm, dup_ppm;
    sim_packet_t *packets;
    size_t count, cap;
} sim_net_t;

typedef struct sim sim_t;

/* A replica: what survives a crash (disk) and what does not. */
typedef struct {
    sim_t *sim;
    uint32_t id;
    raft_hardstate_t hs; /* disk */
    bool has_hs;
    bool has_identity; /* disk: the identity file */
    uint64_t cluster, disk_incarnation;
    raft_entry_t *log; /* disk: entries snap.index + 1 .. */
    size_t log_n, log_cap;
    size_t synced_n;    /* log [0, synced_n) is durable */
    sim_snap_t snap;    /* disk */
    sim_snap_t writing; /* background snapshot: durable once done */
    uint64_t writing_done_ms;
    bool writing_fails;
    bool up;
    bool crashing;                  /* struck inside a ready: every I/O now fails */
    bool reach [SIM_MAX_NODES + 1]; /* members_changed: whom its transport reaches */
    uint64_t restart_ms;
    uint32_t incarnation;
    replica_t *replica;
    const raft_t *raft; /* the replica's core, for the checks */
    chat_t *chat;
    uint64_t commit_seen; /* for the monotonic-commit check */
    bool was_leader;
} sim_node_t;

typedef struct {
    uint64_t cid, seq;
    bool busy, proposed;
    uint8_t cmd [ZC_COMMAND_MAX];
    size_t len;
    uint32_t node;
    uint64_t deadline_ms, next_ms;
    uint32_t attempts;
} sim_client_t;

typedef struct {
    uint64_t ctx;
    uint32_t node;
    uint64_t min_index; /* max commit anywhere when it was asked */
} sim_read_t;

/* The checker's record of the one committed log. */
typedef struct {
    uint64_t term;
    uint64_t hash;        /* of the data */
    uint64_t commit_term; /* smallest term a node held when seeing it committed */
    bool applied;
    chat_result_t result;
    uint64_t digest; /* chat_digest after applying it */
    bool has_digest;
} sim_oracle_entry_t;

/* How hostile a run is: drawn per seed, so runs range from calm to brutal. */
typedef struct {
    uint32_t partition_ppm, heal_ppm, crash_ppm;
    uint32_t crash_io_ppm; /* per I/O call of a ready */
    uint32_t snapshot_fail_ppm, snapshot_inline_ppm;
    uint64_t snapshot_entries;
    uint32_t batch_entries;
    uint32_t members_ppm; /* membership change asked of the leader, per step */
} sim_profile_t;

struct sim {
    uint64_t seed;
    sim_profile_t profile;
    uint64_t step, steps;
    uint64_t now_ms;
    uint32_t n;       /* slots */
    uint32_t initial; /* replicas 1..initial form the cluster at start; the rest --join */
    bool verbose;
    bool quiet_phase;
    sim_rng_t rng;
    sim_net_t net;
    sim_node_t nodes [SIM_MAX_NODES + 1];
    sim_client_t clients [SIM_CLIENTS];
    sim_read_t *reads;
    size_t n_reads, reads_cap;
    uint64_t next_read_ctx;
    /* checker */
    bool failed;
    char why [512];
    sim_oracle_entry_t *oracle; /* by index */
    size_t oracle_cap;
    uint64_t max_commit;
    uint32_t *leader_of_term; /* by term */
    size_t terms_cap;
    struct sim_logreg *logreg; /* (index, term) -> (hash, prev term) */
    struct sim_cidreg *cidreg; /* (cid, seq) -> first applied index */
    struct {
        uint64_t index, term, hash;
    } * acks; /* G1: every acknowledged entry */
    size_t n_acks, acks_cap;
    struct sim_userreg *userreg; /* G4-G6: per user, what the log did to it */
    uint64_t acked, proposals, elections, crashes, installs, compactions, reads_ok, changes;
};

/* sim_net.c */
void sim_net_init (sim_net_t *net, uint32_t n);
void sim_net_free (sim_net_t *net);
/* Send frame (ownership passes) from one node to another, or to all (RAFT_BROADCAST). */
void sim_net_send (sim_t *sim, uint32_t from, uint32_t to, uint8_t *frame, size_t len);
/* Delivers one due packet (random among due ones). Returns false if none is due. */
bool sim_net_deliver_one (sim_t *sim);
void sim_net_partition (sim_t *sim);
void sim_net_heal (sim_t *sim);

/* sim_io.c: the in-memory disk and network behind replica_io_t */
replica_io_t sim_io (sim_node_t *node);
/* A crash: the disk keeps what was durable (and a torn part of what was not). */
void sim_io_crash (sim_t *sim, sim_node_t *node);
void sim_io_free (sim_node_t *node);

/* sim_node.c */
void sim_node_start (sim_t *sim, sim_node_t *node);
void sim_node_crash (sim_t *sim, sim_node_t *node);
void sim_node_free (sim_node_t *node);
void sim_node_tick (sim_t *sim, sim_node_t *node);
void sim_node_process (sim_t *sim, sim_node_t *node);
void sim_node_receive (sim_t *sim, sim_node_t *node, const sim_packet_t *packet);

/* sim_client.c */
void sim_clients_init (sim_t *sim);
void sim_clients_step (sim_t *sim);
void sim_clients_on_apply (sim_t *sim, sim_node_t *node, uint64_t index, uint64_t term,
                           const zc_command_t *cmd, const chat_result_t *result, uint64_t hash);
void sim_clients_on_crash (sim_t *sim, sim_node_t *node);
void sim_reads_step (sim_t *sim);
void sim_reads_on_ready (sim_t *sim, sim_node_t *node, uint64_t ctx, bool ok);

/* sim_check.c */
void sim_check_init (sim_t *sim);
void sim_check_free (sim_t *sim);
void sim_fail (sim_t *sim, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* entries about to be written to node's log */
void sim_check_entries (sim_t *sim, sim_node_t *node, const raft_entry_t *entries, uint32_t n);
void sim_check_node (sim_t *sim, sim_node_t *node);
void sim_check_apply (sim_t *sim, sim_node_t *node, const raft_entry_t *entry,
                      const zc_command_t *cmd, const chat_result_t *result);
void sim_check_ack (sim_t *sim, uint64_t index, uint64_t term, uint64_t hash);
void sim_check_install (sim_t *sim, sim_node_t *node);
void sim_check_converged (sim_t *sim, bool final);
bool sim_converged (sim_t *sim);
uint64_t sim_hash (const uint8_t *data, size_t len);

/* sim_guarantees.c: G4-G6, on the first application of each committed index */
void sim_check_user_effects (sim_t *sim, uint64_t index, const zc_command_t *cmd,
                             const chat_result_t *res);
void sim_check_users_free (sim_t *sim);

/* sim_members.c */
/* Now and then ask the leader for one membership change. */
void sim_members_chaos (sim_t *sim);
/* Whether node id counts for convergence: a member of the leader's configuration. */
bool sim_members_counts (const sim_t *sim, const sim_node_t *leader, uint32_t id);

/* sim_run.c */
typedef struct {
    uint64_t proposals, acked, elections, crashes, compactions, installs, reads_ok, commits,
        changes;
} sim_stats_t;

/* One run; adds its counters to stats. Returns false (and prints why) on a violation.
   members: membership changes on (n slots, replicas 1-3 at start). */
bool sim_run (uint64_t seed, uint64_t steps, uint32_t n, bool members, bool verbose,
              sim_stats_t *stats);
void sim_trace (sim_t *sim, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

#endif
