/*  raft.h - the Raft consensus core: a pure state machine, no I/O.

    Events go in (raft_tick, raft_step, raft_propose, raft_read_index, ...), and the
    work to do comes out as a raft_ready_t, etcd/raft style. The caller (broker/ or the
    simulator) must, for each ready, in this order:
      1. persist rd.hardstate if rd.hardstate_changed (fsync'd before step 3);
      2. if rd.n_entries: drop its stored log after rd.entries[0].index - 1, append the
         entries, and make them durable (one fdatasync for the batch: group commit);
      3. send rd.msgs (RAFT_BROADCAST = publish to every peer);
      2b. if rd.install_index: install the snapshot received for it (see raft_step);
      4. apply rd.committed in order, then serve rd.reads whose index <= applied;
      5. call raft_advance (which marks everything in rd persisted and sent).
    Nothing here reads a clock or a random source: time comes in through raft_tick and
    randomness from cfg.seed, so a seeded simulator replays a run exactly.

    Invariants kept: one vote per term, persisted before it is sent; a leader commits
    only an entry of its own term by majority of durable matches (earlier entries ride
    along); a follower acks only durable entries; pre-vote and check-quorum keep a
    partitioned replica from disrupting, and make a leader that lost its majority step
    down after one election timeout. */
#ifndef RAFT_H
#define RAFT_H

#include <stdbool.h>
#include <stdint.h>
#include "raft_conf.h"
#include "raft_msg.h"

typedef struct raft raft_t;

typedef enum { RAFT_FOLLOWER = 0, RAFT_PRECANDIDATE, RAFT_CANDIDATE, RAFT_LEADER } raft_role_t;

/* The core's own refusals; callers map them to their wire codes. */
typedef enum {
    RAFT_OK = 0,
    RAFT_ERR_NOT_LEADER,   /* ask the leader (raft_leader) */
    RAFT_ERR_BUSY,         /* too much uncommitted or pending: back off */
    RAFT_ERR_TOO_LARGE,    /* entry over RAFT_ENTRY_MAX */
    RAFT_ERR_NO_SUCH_NODE, /* transfer: no member with that id, or none other */
    RAFT_ERR_BAD_CONF      /* not one change, or data posing as a configuration */
} raft_err_t;

typedef struct {
    uint32_t id;                  /* this replica, 1..RAFT_MAX_ID */
    uint32_t election_timeout_ms; /* randomized in [t, 2t) per election; default 500 */
    uint32_t heartbeat_ms;        /* leader heartbeat period; default 50 */
    uint64_t seed;                /* for the election timeout jitter */
    uint32_t max_batch_entries;   /* entries per APPEND message; default 1024 */
    uint32_t max_batch_bytes;     /* data bytes per APPEND message; default 1 MiB */
    uint32_t max_uncommitted;     /* proposals beyond commit before RAFT_ERR_BUSY; default 65536 */
} raft_config_t;

typedef struct {
    uint64_t term;
    uint32_t vote; /* 0 = none */
} raft_hardstate_t;

typedef struct {
    uint64_t ctx;   /* caller's read context */
    uint64_t index; /* serve the read once applied >= index */
} raft_read_t;

typedef struct {
    bool hardstate_changed;
    raft_hardstate_t hardstate;
    const raft_entry_t *entries; /* to persist; owned by the core until raft_advance */
    uint32_t n_entries;
    const raft_msg_t *msgs; /* to send; owned by the core until raft_advance */
    uint32_t n_msgs;
    const raft_entry_t *committed; /* to apply, consecutive from applied + 1 */
    uint32_t n_committed;
    const raft_read_t *reads; /* confirmed reads (ReadIndex) */
    uint32_t n_reads;
    const uint64_t *failed_reads; /* read contexts that can no longer be confirmed */
    uint32_t n_failed_reads;
    uint64_t install_index; /* nonzero: before advance, replace the state machine and
                                     the stored log with the snapshot received for
                                     (install_index, install_term), durably */
    uint64_t install_term;
    bool conf_changed; /* the configuration in force changed (raft_conf): connect to
                                  its members, drop the others */
    raft_role_t role;  /* current role and leader, for logging and NOT_LEADER */
    uint32_t leader;   /* 0 = unknown */
    uint64_t term;
    uint64_t commit;
} raft_ready_t;

/* Fill defaults for every zero field of cfg (except id). */
void raft_config_defaults (raft_config_t *cfg);

/* New core starting from persisted state: hardstate, and a snapshot covering the log
   up to (snap_index, snap_term) (0, 0 for none) and conf, the configuration as of
   snap_index (with no snapshot: the bootstrap configuration; none (n = 0) for a
   replica joining a running cluster, which waits to be sent one). Then feed the log
   entries after snap_index with raft_restore_entry, in order: configurations among
   them take over. now_ms starts the election timer. */
raft_t *raft_new (const raft_config_t *cfg, const raft_hardstate_t *hs, uint64_t snap_index,
                  uint64_t snap_term, const raft_conf_t *conf, uint64_t now_ms);

/* Restore one persisted entry (index must be last + 1); copies the data. */
void raft_restore_entry (raft_t *self, const raft_entry_t *entry);

/* Tell the core the state machine already reflects entries up to applied (a loaded
   snapshot); committed entries start after it. */
void raft_set_applied (raft_t *self, uint64_t applied);

void raft_destroy (raft_t **self_p);

/* Time passes. Drives elections, heartbeats and check-quorum. */
void raft_tick (raft_t *self, uint64_t now_ms);

/* A peer message arrived. Ill-formed or stale messages are ignored. The entries'
   data is copied, so msg may be freed after the call.
   RAFT_MSG_SNAPSHOT is special: a leader's core emits it when a follower needs the
   snapshot; the leader's caller then transfers its snapshot bytes and the follower's
   caller steps the message in only once it holds all of them. If the core accepts it
   (current term, newer than its commit), the next ready carries install_index. */
void raft_step (raft_t *self, const raft_msg_t *msg);

/* Propose a command (copied). On RAFT_OK *index_out is its log index. Errors:
   RAFT_ERR_NOT_LEADER, RAFT_ERR_BUSY (too many uncommitted entries), RAFT_ERR_TOO_LARGE. */
raft_err_t raft_propose (raft_t *self, const uint8_t *data, uint32_t len, uint64_t *index_out);

/* Propose the configuration next: exactly one change from the one in force
   (raft_conf_single_change). A learner added with promote set is made a voter by the
   leader (a change of its own) once its log has caught up with the commit index. Errors:
   RAFT_ERR_NOT_LEADER; RAFT_ERR_BUSY while the previous change is not committed or
   no entry of this term is (the leader just took over), or during a transfer;
   RAFT_ERR_BAD_CONF when next is not one change away. A leader that removes itself
   (or makes itself a learner) hands over and steps down once the change commits. */
raft_err_t raft_propose_conf (raft_t *self, const raft_conf_t *next, uint64_t *index_out);

/* The configuration in force (the newest in the log) and its log index. */
const raft_conf_t *raft_conf (const raft_t *self);
uint64_t raft_conf_index (const raft_t *self);

/* Between a ready with install_index and its raft_advance: the configuration the
   installed snapshot holds (the core cannot read snapshot bodies). Without it the
   configuration in force stays. */
void raft_install_conf (raft_t *self, const raft_conf_t *conf);

/* Hand leadership to replica target (Raft thesis 3.10); target 0 = the follower with
   the longest durable log. From now on proposals get RAFT_ERR_BUSY; once the target's
   log matches ours it gets TIMEOUT_NOW and campaigns at once (no pre-vote, and voters
   grant despite a live leader). The transfer ends when we step down, or is abandoned
   after one election timeout (proposals are accepted again). A second call replaces
   the target. Errors: RAFT_ERR_NOT_LEADER, RAFT_ERR_NO_SUCH_NODE (no such voter, or
   no other). target == own id: RAFT_OK, nothing to do. */
raft_err_t raft_transfer_leadership (raft_t *self, uint32_t target);

/* A replica whose hard state was lost (a wiped or replaced disk) may have voted in a
   term it no longer remembers: voting again could elect two leaders in that term.
   While held, the core neither campaigns nor grants a vote (pre-votes included); it
   still follows the leader and acks entries. raft_adopt_term then makes term (at
   least the current one) a term it has already voted in (for itself, a vote nobody
   counts), so that it votes only in later ones; the caller picks a term no lower
   than every member's, which is no lower than any term it can have voted in. */
void raft_hold_votes (raft_t *self, bool hold);
bool raft_votes_held (const raft_t *self);
void raft_adopt_term (raft_t *self, uint64_t term);

/* Leader: the replica a transfer is under way to, 0 = none. */
uint32_t raft_transfer_target (const raft_t *self);

/* Ask for a linearizable read point (ReadIndex). The ready later reports ctx in
   reads (with the index to wait for) or in failed_reads. RAFT_ERR_NOT_LEADER if not leader. */
raft_err_t raft_read_index (raft_t *self, uint64_t ctx);

/* The caller made a snapshot covering the log up to index (durable on disk):
   entries up to index may be dropped from memory; lagging followers get the snapshot. */
void raft_compact (raft_t *self, uint64_t index);

/* Ready/advance cycle; see the header comment. raft_ready returns false when there is
   nothing to do (rd is then empty). */
bool raft_ready (raft_t *self, raft_ready_t *rd);
void raft_advance (raft_t *self, const raft_ready_t *rd);

/* Inspection, for status and tests. */
raft_role_t raft_role (const raft_t *self);
const char *raft_role_name (raft_role_t role);
uint32_t raft_leader (const raft_t *self);
uint64_t raft_term (const raft_t *self);
uint64_t raft_commit_index (const raft_t *self);
uint64_t raft_last_index (const raft_t *self);
uint64_t raft_first_index (const raft_t *self); /* first index held in memory */
uint64_t raft_applied_index (const raft_t *self);
/* Leader only: match index of member id (0 when unknown or not leader). */
uint64_t raft_peer_match (const raft_t *self, uint32_t peer);
/* Entry at index if held in memory, else NULL. */
const raft_entry_t *raft_entry_at (const raft_t *self, uint64_t index);

#endif
