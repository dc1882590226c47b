/*  raft_internal.h - the Raft core's private state, shared by its files:
    raft.c (lifecycle, dispatch, inspection), raft_log.c (in-memory log),
    raft_election.c (roles, votes, check-quorum), raft_replication.c (log
    replication, commit, snapshots), raft_read.c (ReadIndex), raft_ready.c (the
    ready/advance cycle and the outbox).

    Invariants: snap_index <= applied <= commit; stable <= last; commit never
    decreases; messages carrying entries are built only inside raft_ready, so their
    entry pointers into the log stay valid until raft_advance (no mutating call is
    allowed in between). */
#ifndef RAFT_INTERNAL_H
#define RAFT_INTERNAL_H

#include "raft.h"

#define RAFT_OUTBOX_MAX          256  /* messages per ready */
#define RAFT_READY_MAX_ENTRIES   8192 /* entries to persist per ready */
#define RAFT_READY_MAX_COMMITTED 8192
#define RAFT_MAX_READS           1024 /* pending ReadIndex requests */
#define RAFT_MAX_INFLIGHT        4    /* point-to-point batches in flight per peer */
#define RAFT_ENTRY_MAX           (RAFT_PEER_FRAME_MAX / 2)

/* Entry data lives in large blocks filled in index order (one allocation per block,
   not per entry); a block is freed when compaction or truncation passes all of it. */
typedef struct raft_block {
    struct raft_block *next;          /* newer */
    uint64_t first_index, last_index; /* entries with data in this block (upper bound) */
    size_t used, cap;
    uint8_t data [];
} raft_block_t;

/* The in-memory log: entries (snap_index, snap_index + count], data owned here. */
typedef struct {
    raft_entry_t *ents; /* live entries are ents[off .. off + count) */
    size_t cap;
    uint64_t off, count;
    uint64_t snap_index, snap_term; /* the entry just before the first one */
    raft_block_t *oldest, *newest;  /* the data blocks, oldest first */
} raft_log_t;

/* Leader's view of one follower. */
typedef struct {
    uint64_t match;       /* highest index known durable on the peer */
    uint64_t next;        /* next index to send point to point */
    bool p2p;             /* being repaired point to point (not broadcast) */
    uint64_t p2p_prev;    /* prev index the current p2p stream starts at */
    uint32_t inflight;    /* p2p batches sent and not acked */
    uint64_t progress_ms; /* last progress (or stream start): resend timer */
    bool snap_pending;
    uint64_t snap_index; /* snapshot index sent while snap_pending */
    uint64_t snap_sent_ms;
    bool active;          /* heard from since the last check-quorum */
    uint64_t acked_round; /* highest heartbeat round echoed (ReadIndex) */
} raft_progress_t;

typedef struct {
    uint64_t ctx, index, round;
} raft_pending_read_t;

struct raft {
    raft_config_t cfg;
    raft_role_t role;
    uint64_t term;
    uint32_t vote;
    uint32_t leader;
    bool hs_dirty;

    raft_log_t log;
    uint64_t commit, applied, stable;

    uint64_t now_ms;
    uint64_t rng;
    uint64_t election_deadline_ms;
    uint64_t leader_contact_ms; /* last message from the current leader */
    bool votes_granted [RAFT_MAX_ID + 1];
    bool votes_rejected [RAFT_MAX_ID + 1];

    /* membership (raft_members.c): the newest configuration in the log is in force */
    raft_conf_t conf;
    uint64_t conf_index;   /* its entry; snap_index (or 0) when it is the snapshot's */
    raft_conf_t snap_conf; /* the configuration as of log.snap_index */
    bool conf_changed;     /* reported by the next ready */
    bool install_conf_set; /* raft_install_conf gave the incoming snapshot's */
    raft_conf_t install_conf;

    /* leader */
    raft_progress_t peers [RAFT_MAX_ID + 1];
    uint64_t bcast_index;      /* last index published by broadcast */
    uint64_t term_start_index; /* the NOOP of this term */
    uint64_t heartbeat_due_ms;
    uint64_t quorum_check_ms;

    /* ReadIndex */
    raft_pending_read_t pending [RAFT_MAX_READS];
    uint32_t n_pending;
    uint64_t round;    /* heartbeat rounds sent this term */
    bool round_wanted; /* a read waits for a round not sent yet */
    raft_read_t reads [RAFT_MAX_READS];
    uint32_t n_reads;
    uint64_t failed [RAFT_MAX_READS];
    uint32_t n_failed;

    /* follower: acknowledgement deferred until its entries are durable */
    bool ack_pending;
    uint32_t ack_to;
    uint64_t ack_match, ack_ctx;

    /* leadership transfer (raft_transfer.c) */
    uint32_t transfer_target;      /* leader: 0 = none; proposals refused while set */
    uint64_t transfer_deadline_ms; /* the transfer is abandoned then */
    uint64_t transfer_sent_ms;     /* last TIMEOUT_NOW sent; 0 = none yet */
    bool campaign_transfer;        /* the next campaign was asked for by the leader */
    bool votes_held;               /* neither campaigns nor grants votes (raft_hold_votes) */

    /* follower: snapshot to install in the next ready */
    uint64_t install_index, install_term;

    raft_msg_t outbox [RAFT_OUTBOX_MAX];
    uint32_t n_out;
    bool in_ready;
};

/* raft_log.c */
void raft_log_init (raft_log_t *log, uint64_t snap_index, uint64_t snap_term);
void raft_log_free (raft_log_t *log);
uint64_t raft_log_last (const raft_log_t *log);
uint64_t raft_log_last_term (const raft_log_t *log);
/* Term at index, 0 when not known (compacted away or beyond the end). */
uint64_t raft_log_term (const raft_log_t *log, uint64_t index);
const raft_entry_t *raft_log_at (const raft_log_t *log, uint64_t index);
/* Append a copy of entry (index must be last + 1). Returns 0, -1 when out of memory. */
int raft_log_append (raft_log_t *log, uint64_t term, const uint8_t *data, uint32_t len);
void raft_log_truncate_after (raft_log_t *log, uint64_t index);
void raft_log_compact (raft_log_t *log, uint64_t index);
void raft_log_reset (raft_log_t *log, uint64_t snap_index, uint64_t snap_term);

/* raft_members.c */
/* The log grew by the entry at index (leader or follower): take up a configuration. */
void raft_members_on_append (raft_t *self, uint64_t index);
/* The log was cut after index: fall back to the configuration then in force. */
void raft_members_on_truncate (raft_t *self, uint64_t index);
/* The log was compacted up to index: remember the configuration as of there. */
void raft_members_on_compact (raft_t *self, uint64_t index);
void raft_members_on_install (raft_t *self);
/* Leader, commit advanced: promote caught-up learners, step down when removed. */
void raft_members_on_commit (raft_t *self);
bool raft_is_voter (const raft_t *self, uint32_t id);
bool raft_is_member (const raft_t *self, uint32_t id);
/* A voter, or one whose removal is not committed yet (see raft_members.c). */
bool raft_may_campaign (const raft_t *self);

/* raft_election.c */
void raft_become_follower (raft_t *self, uint64_t term, uint32_t leader);
void raft_campaign (raft_t *self, bool prevote);
void raft_reset_election_timer (raft_t *self);
void raft_step_vote (raft_t *self, const raft_msg_t *msg);
void raft_step_vote_resp (raft_t *self, const raft_msg_t *msg);
void raft_tick_leader_quorum (raft_t *self);
bool raft_in_lease (const raft_t *self);
uint32_t raft_quorum (const raft_t *self);

/* raft_replication.c */
void raft_leader_init (raft_t *self);
void raft_step_append (raft_t *self, const raft_msg_t *msg);
void raft_step_append_resp (raft_t *self, const raft_msg_t *msg);
void raft_step_snapshot (raft_t *self, const raft_msg_t *msg);
void raft_maybe_commit (raft_t *self);
void raft_send_heartbeat (raft_t *self);
void raft_tick_replication (raft_t *self);
void raft_flush_leader (raft_t *self);
void raft_flush_ack (raft_t *self, uint64_t stable_after);
void raft_finish_install (raft_t *self);

/* raft_read.c */
void raft_reads_on_ack (raft_t *self);
void raft_reads_fail_all (raft_t *self);

/* raft_transfer.c */
void raft_tick_transfer (raft_t *self);
void raft_transfer_on_ack (raft_t *self, uint32_t from);
void raft_step_timeout_now (raft_t *self, const raft_msg_t *msg);
/* The voter other than self with the longest durable log; 0 = none. */
uint32_t raft_most_up_to_date_voter (const raft_t *self);

/* raft_ready.c */
raft_msg_t *raft_outbox_push (raft_t *self, raft_msg_type_t type, uint32_t to);
uint32_t raft_outbox_room (const raft_t *self);

#endif
