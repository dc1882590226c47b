/*  test_raft.c - protocol traces for the Raft core (replication/raft.h).

    A tiny fixture holds up to five cores, a clock, and a FIFO of messages copied out
    of each ready (entries deep-copied, as the network would). Tests drive it step by
    step and assert exactly what each replica says and does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "raft.h"

#define MAXN 5
#define QMAX 4096
#define ET   100 /* election timeout */
#define HB   10  /* heartbeat */

typedef struct {
    raft_msg_t msg;
    raft_entry_t *ents; /* owned copies */
} qmsg_t;

typedef struct {
    raft_t *node [MAXN + 1];
    uint32_t n;
    uint64_t now;
    bool cut [MAXN + 1][MAXN + 1]; /* cut[a][b]: a's messages to b are dropped */
    qmsg_t q [QMAX];
    size_t qn;
    raft_ready_t last_rd [MAXN + 1]; /* copy of each node's last ready (pointers stale) */
    raft_hardstate_t hs [MAXN + 1];  /* "persisted" */
    raft_msg_t held_snap;            /* SNAPSHOT messages are held for the test */
    bool snap_held;
} fixture_t;

static raft_conf_t s_conf; /* every test's nodes form one cluster of s_config's n voters */

static raft_config_t
s_config (uint32_t id, uint32_t n)
{
    raft_conf_voters_1_to_n (&s_conf, n);
    raft_config_t cfg = { .id = id, .election_timeout_ms = ET, .heartbeat_ms = HB, .seed = 7 };
    raft_config_defaults (&cfg);
    return cfg;
}

static fixture_t *
s_fixture (uint32_t n)
{
    fixture_t *f = calloc (1, sizeof *f);
    f->n = n;
    raft_hardstate_t hs = { 0, 0 };
    for (uint32_t id = 1; id <= n; id++) {
        /* node 1 starts its clock first, so its election timer is the first to fire */
        raft_config_t cfg = s_config (id, n);
        f->node [id] = raft_new (&cfg, &hs, 0, 0, &s_conf, id == 1 ? 0 : ET);
    }
    return f;
}

static void
s_qmsg_free (qmsg_t *m)
{
    for (uint32_t i = 0; i < m->msg.n_entries; i++)
        free ((void *) m->ents [i].data);
    free (m->ents);
}

static void
s_fixture_destroy (fixture_t **f_p)
{
    fixture_t *f = *f_p;
    for (size_t i = 0; i < f->qn; i++)
        s_qmsg_free (&f->q [i]);
    for (uint32_t id = 1; id <= f->n; id++)
        raft_destroy (&f->node [id]);
    free (f);
    *f_p = NULL;
}

static void
s_enqueue (fixture_t *f, const raft_msg_t *msg, uint32_t to)
{
    assert_true (f->qn < QMAX);
    qmsg_t *m = &f->q [f->qn++];
    m->msg = *msg;
    m->msg.to = msg->to;
    m->ents = calloc (msg->n_entries + 1, sizeof *m->ents);
    for (uint32_t i = 0; i < msg->n_entries; i++) {
        m->ents [i] = msg->entries [i];
        m->ents [i].data = NULL;
        if (msg->entries [i].len) {
            uint8_t *d = malloc (msg->entries [i].len);
            memcpy (d, msg->entries [i].data, msg->entries [i].len);
            m->ents [i].data = d;
        }
    }
    m->msg.entries = m->ents;
    /* remember the destination in 'to' only for point-to-point; broadcast fans out */
    (void) to;
}

/* Run one ready/advance cycle on node id: persist, queue messages, advance. */
static bool
s_pump (fixture_t *f, uint32_t id)
{
    raft_ready_t rd;
    if (!raft_ready (f->node [id], &rd))
        return false;
    if (rd.hardstate_changed)
        f->hs [id] = rd.hardstate;
    for (uint32_t i = 0; i < rd.n_msgs; i++)
        s_enqueue (f, &rd.msgs [i], rd.msgs [i].to);
    f->last_rd [id] = rd;
    raft_advance (f->node [id], &rd);
    return true;
}

static void
s_pump_all (fixture_t *f)
{
    for (int round = 0; round < 16; round++) {
        bool any = false;
        for (uint32_t id = 1; id <= f->n; id++)
            any |= s_pump (f, id);
        if (!any)
            return;
    }
}

/* Deliver every queued message (and what they cause) until the network is quiet. */
static void
s_deliver (fixture_t *f)
{
    for (int guard = 0; guard < 10000; guard++) {
        s_pump_all (f);
        if (f->qn == 0)
            return;
        qmsg_t m = f->q [0];
        memmove (f->q, f->q + 1, (f->qn - 1) * sizeof *f->q);
        f->qn--;
        if (m.msg.type == RAFT_MSG_SNAPSHOT) {
            f->held_snap = m.msg;
            f->snap_held = true;
        }
        for (uint32_t to = 1; to <= f->n && m.msg.type != RAFT_MSG_SNAPSHOT; to++) {
            if (to == m.msg.from || f->cut [m.msg.from][to])
                continue;
            if (m.msg.to != RAFT_BROADCAST && m.msg.to != to)
                continue;
            raft_msg_t copy = m.msg;
            copy.to = to;
            if (getenv ("RAFT_TRACE"))
                fprintf (stderr,
                         "t=%lu %u->%u type %d term %lu prev %lu/%lu n %u commit %lu rej %d match "
                         "%lu hint %lu gr %d pv %d tr %d\n",
                         (unsigned long) f->now, m.msg.from, to, m.msg.type,
                         (unsigned long) m.msg.term, (unsigned long) m.msg.prev_index,
                         (unsigned long) m.msg.prev_term, m.msg.n_entries,
                         (unsigned long) m.msg.commit, m.msg.reject, (unsigned long) m.msg.match,
                         (unsigned long) m.msg.hint, m.msg.granted, m.msg.prevote, m.msg.transfer);
            raft_step (f->node [to], &copy);
        }
        s_qmsg_free (&m);
    }
    fail_msg ("network never went quiet");
}

/* Advance time for everyone in steps of HB, delivering as we go. */
static void
s_run (fixture_t *f, uint64_t ms)
{
    uint64_t end = f->now + ms;
    while (f->now < end) {
        f->now += HB / 2;
        for (uint32_t id = 1; id <= f->n; id++)
            raft_tick (f->node [id], f->now);
        s_deliver (f);
    }
}

/* Run until node 1, whose timer fires first, is leader. */
static void
s_elect (fixture_t *f)
{
    s_run (f, 2 * ET - HB);
    assert_int_equal (raft_role (f->node [1]), RAFT_LEADER);
}

static void
s_set_cut (fixture_t *f, uint32_t a, bool cut)
{
    for (uint32_t b = 1; b <= f->n; b++)
        if (b != a)
            f->cut [a][b] = f->cut [b][a] = cut;
}

static raft_msg_t
s_msg (raft_msg_type_t type, uint32_t from, uint32_t to, uint64_t term)
{
    raft_msg_t m;
    memset (&m, 0, sizeof m);
    m.type = type;
    m.from = from;
    m.to = to;
    m.term = term;
    return m;
}

/* The first message of type in a ready. */
static const raft_msg_t *
s_find (const raft_ready_t *rd, raft_msg_type_t type)
{
    for (uint32_t i = 0; i < rd->n_msgs; i++)
        if (rd->msgs [i].type == type)
            return &rd->msgs [i];
    return NULL;
}

/* ---- tests ---- */

static void
single_node_elects_itself_and_commits (void **state)
{
    (void) state;
    raft_config_t cfg = s_config (1, 1);
    raft_hardstate_t hs = { 0, 0 };
    raft_t *r = raft_new (&cfg, &hs, 0, 0, &s_conf, 1000);
    raft_ready_t rd;
    raft_tick (r, 1000);
    assert_int_equal (raft_role (r), RAFT_LEADER);
    assert_true (raft_ready (r, &rd));
    assert_true (rd.hardstate_changed);
    assert_int_equal (rd.hardstate.term, 1);
    assert_int_equal (rd.hardstate.vote, 1);
    assert_int_equal (rd.n_entries, 1); /* the NOOP */
    assert_int_equal (rd.entries [0].len, 0);
    assert_int_equal (rd.n_committed, 0); /* not durable yet */
    raft_advance (r, &rd);
    assert_int_equal (raft_commit_index (r), 1);
    uint64_t index = 0;
    assert_int_equal (raft_propose (r, (const uint8_t *) "hi", 2, &index), RAFT_OK);
    assert_int_equal (index, 2);
    assert_true (raft_ready (r, &rd));
    assert_int_equal (rd.n_committed, 1); /* the NOOP, durable last ready */
    assert_int_equal (rd.n_entries, 1);
    raft_advance (r, &rd);
    assert_true (raft_ready (r, &rd));
    assert_int_equal (rd.n_committed, 1);
    assert_int_equal (rd.committed [0].index, 2);
    assert_memory_equal (rd.committed [0].data, "hi", 2);
    raft_advance (r, &rd);
    assert_false (raft_ready (r, &rd));
    assert_int_equal (raft_applied_index (r), 2);
    raft_destroy (&r);
    assert_null (r);
}

static void
three_nodes_elect_one_leader (void **state)
{
    (void) state;
    fixture_t *f = s_fixture (3);
    s_elect (f);
    assert_int_equal (raft_term (f->node [1]), 1);
    for (uint32_t id = 2; id <= 3; id++) {
        assert_int_equal (raft_role (f->node [id]), RAFT_FOLLOWER);
        assert_int_equal (raft_leader (f->node [id]), 1);
        assert_int_equal (raft_term (f->node [id]), 1);
        assert_int_equal (f->hs [id].vote, 1); /* vote persisted */
    }
    /* the NOOP commits everywhere after a heartbeat */
    s_run (f, 3 * HB);
    for (uint32_t id = 1; id <= 3; id++)
        assert_int_equal (raft_commit_index (f->node [id]), 1);
    s_fixture_destroy (&f);
}

static void
vote_not_granted_to_stale_log (void **state)
{
    (void) state;
    raft_config_t cfg = s_config (2, 3);
    raft_hardstate_t hs = { 1, 0 };
    raft_t *r = raft_new (&cfg, &hs, 0, 0, &s_conf, 0);
    raft_entry_t e = { .term = 1, .index = 1, .len = 1, .data = (const uint8_t *) "a" };
    raft_restore_entry (r, &e);
    raft_msg_t vote = s_msg (RAFT_MSG_VOTE, 1, 2, 2);
    vote.last_index = 0;
    vote.last_term = 0;
    raft_step (r, &vote);
    raft_ready_t rd;
    assert_true (raft_ready (r, &rd));
    const raft_msg_t *resp = s_find (&rd, RAFT_MSG_VOTE_RESP);
    assert_non_null (resp);
    assert_false (resp->granted);
    assert_int_equal (rd.hardstate.term, 2); /* the term is learnt */
    assert_int_equal (rd.hardstate.vote, 0); /* but no vote given */
    raft_advance (r, &rd);
    raft_destroy (&r);
}

static void
one_vote_per_term (void **state)
{
    (void) state;
    raft_config_t cfg = s_config (3, 3);
    raft_hardstate_t hs = { 0, 0 };
    raft_t *r = raft_new (&cfg, &hs, 0, 0, &s_conf, 0);
    raft_msg_t v1 = s_msg (RAFT_MSG_VOTE, 1, 3, 1);
    raft_step (r, &v1);
    raft_ready_t rd;
    assert_true (raft_ready (r, &rd));
    assert_true (s_find (&rd, RAFT_MSG_VOTE_RESP)->granted);
    assert_true (rd.hardstate_changed); /* persisted before the grant is sent */
    assert_int_equal (rd.hardstate.vote, 1);
    raft_advance (r, &rd);
    raft_msg_t v2 = s_msg (RAFT_MSG_VOTE, 2, 3, 1);
    raft_step (r, &v2);
    assert_true (raft_ready (r, &rd));
    assert_false (s_find (&rd, RAFT_MSG_VOTE_RESP)->granted);
    raft_advance (r, &rd);
    raft_step (r, &v1); /* a retransmission is re-granted */
    assert_true (raft_ready (r, &rd));
    assert_true (s_find (&rd, RAFT_MSG_VOTE_RESP)->granted);
    raft_advance (r, &rd);
    raft_destroy (&r);
}

static void
prevote_keeps_partitioned_node_from_bumping_terms (void **state)
{
    (void) state;
    fixture_t *f = s_fixture (3);
    s_elect (f);
    s_run (f, 3 * HB);
    s_set_cut (f, 3, true);
    s_run (f, 10 * ET); /* node 3 campaigns alone */
    assert_int_not_equal (raft_role (f->node [3]), RAFT_LEADER);
    assert_int_equal (raft_term (f->node [3]), 1); /* pre-votes changed no term */
    s_set_cut (f, 3, false);
    s_run (f, 3 * ET);
    assert_int_equal (raft_role (f->node [1]), RAFT_LEADER);
    assert_int_equal (raft_term (f->node [1]), 1); /* leader undisturbed */
    assert_int_equal (raft_role (f->node [3]), RAFT_FOLLOWER);
    assert_int_equal (raft_leader (f->node [3]), 1);
    s_fixture_destroy (&f);
}

static void
leader_steps_down_without_quorum (void **state)
{
    (void) state;
    fixture_t *f = s_fixture (3);
    s_elect (f);
    s_run (f, 3 * HB);
    s_set_cut (f, 1, true);
    f->cut [2][3] = f->cut [3][2] = true; /* and no one else can lead */
    s_run (f, ET);
    assert_int_equal (raft_role (f->node [1]), RAFT_LEADER);
    s_run (f, ET + HB);
    assert_int_equal (raft_role (f->node [1]), RAFT_FOLLOWER);
    assert_int_equal (raft_term (f->node [1]), 1);
    s_fixture_destroy (&f);
}

static void
follower_truncates_conflicting_entries (void **state)
{
    (void) state;
    raft_config_t cfg = s_config (2, 3);
    raft_hardstate_t hs = { 2, 0 };
    raft_t *r = raft_new (&cfg, &hs, 0, 0, &s_conf, 0);
    raft_entry_t old [3] = { { .term = 1, .index = 1, .len = 1, .data = (const uint8_t *) "a" },
                             { .term = 1, .index = 2, .len = 1, .data = (const uint8_t *) "b" },
                             { .term = 2, .index = 3, .len = 1, .data = (const uint8_t *) "x" } };
    for (int i = 0; i < 3; i++)
        raft_restore_entry (r, &old [i]);
    raft_entry_t ents [2] = { { .term = 3, .index = 3, .len = 1, .data = (const uint8_t *) "c" },
                              { .term = 3, .index = 4, .len = 1, .data = (const uint8_t *) "d" } };
    raft_msg_t app = s_msg (RAFT_MSG_APPEND, 1, RAFT_BROADCAST, 3);
    app.prev_index = 2;
    app.prev_term = 1;
    app.entries = ents;
    app.n_entries = 2;
    app.commit = 2;
    raft_step (r, &app);
    raft_ready_t rd;
    assert_true (raft_ready (r, &rd));
    assert_int_equal (rd.n_entries, 2); /* persist from the conflict on */
    assert_int_equal (rd.entries [0].index, 3);
    assert_int_equal (rd.entries [0].term, 3);
    assert_memory_equal (rd.entries [1].data, "d", 1);
    const raft_msg_t *ack = s_find (&rd, RAFT_MSG_APPEND_RESP);
    assert_non_null (ack);
    assert_false (ack->reject);
    assert_int_equal (ack->match, 4);
    assert_int_equal (ack->to, 1);
    raft_advance (r, &rd);
    assert_int_equal (raft_last_index (r), 4);
    assert_int_equal (raft_commit_index (r), 2);
    raft_destroy (&r);
}

static void
mismatch_is_rejected_with_last_index_hint (void **state)
{
    (void) state;
    raft_config_t cfg = s_config (2, 3);
    raft_hardstate_t hs = { 1, 0 };
    raft_t *r = raft_new (&cfg, &hs, 0, 0, &s_conf, 0);
    raft_entry_t e = { .term = 1, .index = 1, .len = 0, .data = NULL };
    raft_restore_entry (r, &e);
    raft_msg_t app = s_msg (RAFT_MSG_APPEND, 1, RAFT_BROADCAST, 1);
    app.prev_index = 5; /* a gap: 2..5 never arrived */
    app.prev_term = 1;
    raft_step (r, &app);
    raft_ready_t rd;
    assert_true (raft_ready (r, &rd));
    const raft_msg_t *resp = s_find (&rd, RAFT_MSG_APPEND_RESP);
    assert_true (resp->reject);
    assert_int_equal (resp->hint, 1);
    assert_int_equal (rd.n_entries, 0);
    raft_advance (r, &rd);
    raft_destroy (&r);
}

/* Make r (node 1 of 3) leader by feeding it the votes of node 2. */
static void
s_win_with_node2 (raft_t *r, uint64_t now)
{
    raft_ready_t rd;
    raft_tick (r, now);
    assert_int_equal (raft_role (r), RAFT_PRECANDIDATE);
    uint64_t term = raft_term (r);
    raft_msg_t pv = s_msg (RAFT_MSG_VOTE_RESP, 2, 1, term + 1);
    pv.prevote = true;
    pv.granted = true;
    raft_step (r, &pv);
    assert_int_equal (raft_role (r), RAFT_CANDIDATE);
    raft_msg_t v = s_msg (RAFT_MSG_VOTE_RESP, 2, 1, term + 1);
    v.granted = true;
    raft_step (r, &v);
    assert_int_equal (raft_role (r), RAFT_LEADER);
    assert_true (raft_ready (r, &rd));
    raft_advance (r, &rd); /* NOOP durable on the leader */
}

static raft_msg_t
s_ack (uint32_t from, uint64_t term, uint64_t match, uint64_t ctx)
{
    raft_msg_t m = s_msg (RAFT_MSG_APPEND_RESP, from, 1, term);
    m.match = match;
    m.read_ctx = ctx;
    return m;
}

static void
commit_requires_entry_of_current_term (void **state)
{
    (void) state;
    /* Figure 8: index 2 (term 2) is on a majority, but the new leader of term 3 must
       not count that as committed until an entry of term 3 is on a majority too. */
    raft_config_t cfg = s_config (1, 3);
    raft_hardstate_t hs = { 2, 0 };
    raft_t *r = raft_new (&cfg, &hs, 0, 0, &s_conf, 0);
    raft_entry_t old [2] = { { .term = 1, .index = 1 }, { .term = 2, .index = 2 } };
    raft_restore_entry (r, &old [0]);
    raft_restore_entry (r, &old [1]);
    s_win_with_node2 (r, 2 * ET);
    assert_int_equal (raft_term (r), 3);
    raft_msg_t ack = s_ack (2, 3, 2, 0);
    raft_step (r, &ack);
    assert_int_equal (raft_commit_index (r), 0); /* term-2 entry alone: no */
    ack = s_ack (2, 3, 3, 0);
    raft_step (r, &ack);
    assert_int_equal (raft_commit_index (r), 3); /* the NOOP carries it */
    raft_destroy (&r);
}

static void
append_acked_and_committed_only_when_durable (void **state)
{
    (void) state;
    raft_config_t cfg = s_config (1, 3);
    raft_hardstate_t hs = { 0, 0 };
    raft_t *r = raft_new (&cfg, &hs, 0, 0, &s_conf, 0);
    s_win_with_node2 (r, 2 * ET);
    raft_msg_t ack = s_ack (2, 1, 1, 0);
    raft_step (r, &ack);
    assert_int_equal (raft_commit_index (r), 1);
    uint64_t index;
    assert_int_equal (raft_propose (r, (const uint8_t *) "m", 1, &index), RAFT_OK);
    ack = s_ack (2, 1, 2, 0);
    raft_step (r, &ack);
    /* a follower holds it durably, but the leader's own copy is not yet: 1 of 3 */
    assert_int_equal (raft_commit_index (r), 1);
    raft_ready_t rd;
    assert_true (raft_ready (r, &rd));
    assert_int_equal (rd.n_entries, 1);
    raft_advance (r, &rd);
    assert_int_equal (raft_commit_index (r), 2);
    raft_destroy (&r);

    /* follower side: no acknowledgement before the ready that persists the entries */
    cfg = s_config (2, 3);
    r = raft_new (&cfg, &hs, 0, 0, &s_conf, 0);
    raft_entry_t e = { .term = 1, .index = 1, .len = 1, .data = (const uint8_t *) "m" };
    raft_msg_t app = s_msg (RAFT_MSG_APPEND, 1, 2, 1);
    app.entries = &e;
    app.n_entries = 1;
    raft_step (r, &app);
    assert_true (raft_ready (r, &rd));
    assert_int_equal (rd.n_entries, 1);
    const raft_msg_t *resp = s_find (&rd, RAFT_MSG_APPEND_RESP);
    assert_int_equal (resp->match, 1); /* sent after step 2 persisted it */
    raft_advance (r, &rd);
    raft_destroy (&r);
}

static void
read_index_waits_for_majority_heartbeat (void **state)
{
    (void) state;
    raft_config_t cfg = s_config (1, 3);
    raft_hardstate_t hs = { 0, 0 };
    raft_t *r = raft_new (&cfg, &hs, 0, 0, &s_conf, 0);
    raft_ready_t rd;
    assert_int_equal (raft_read_index (r, 9), RAFT_ERR_NOT_LEADER);
    s_win_with_node2 (r, 2 * ET);
    raft_msg_t ack = s_ack (2, 1, 1, 0);
    raft_step (r, &ack); /* NOOP committed */
    assert_true (raft_ready (r, &rd));
    raft_advance (r, &rd);
    assert_int_equal (raft_read_index (r, 42), RAFT_OK);
    assert_true (raft_ready (r, &rd));
    const raft_msg_t *hb = s_find (&rd, RAFT_MSG_APPEND);
    assert_non_null (hb); /* a round goes out at once */
    assert_int_equal (hb->to, RAFT_BROADCAST);
    uint64_t round = hb->read_ctx;
    assert_int_equal (rd.n_reads, 0);
    raft_advance (r, &rd);
    ack = s_ack (3, 1, 1, round - 1); /* an older round proves nothing */
    raft_step (r, &ack);
    if (raft_ready (r, &rd)) {
        assert_int_equal (rd.n_reads, 0);
        raft_advance (r, &rd);
    }
    ack = s_ack (3, 1, 1, round);
    raft_step (r, &ack);
    assert_true (raft_ready (r, &rd));
    assert_int_equal (rd.n_reads, 1);
    assert_int_equal (rd.reads [0].ctx, 42);
    assert_int_equal (rd.reads [0].index, 1);
    raft_advance (r, &rd);
    /* a read pending when leadership is lost fails */
    assert_int_equal (raft_read_index (r, 43), RAFT_OK);
    raft_msg_t higher = s_msg (RAFT_MSG_APPEND_RESP, 2, 1, 5);
    higher.reject = true;
    raft_step (r, &higher);
    assert_int_equal (raft_role (r), RAFT_FOLLOWER);
    assert_true (raft_ready (r, &rd));
    assert_int_equal (rd.n_failed_reads, 1);
    assert_int_equal (rd.failed_reads [0], 43);
    raft_advance (r, &rd);
    raft_destroy (&r);
}

static void
snapshot_catches_up_follower_behind_compaction (void **state)
{
    (void) state;
    fixture_t *f = s_fixture (3);
    s_elect (f);
    s_set_cut (f, 3, true);
    for (int i = 0; i < 10; i++)
        assert_int_equal (raft_propose (f->node [1], (const uint8_t *) "e", 1, NULL), RAFT_OK);
    s_run (f, 3 * HB);
    assert_int_equal (raft_applied_index (f->node [1]), 11);
    raft_compact (f->node [1], 11);
    assert_int_equal (raft_first_index (f->node [1]), 12);
    s_set_cut (f, 3, false);
    /* node 3 rejects a heartbeat; the leader answers with a SNAPSHOT message */
    for (int i = 0; i < 20 && !f->snap_held; i++)
        s_run (f, HB);
    assert_true (f->snap_held);
    raft_msg_t snap = f->held_snap;
    assert_int_equal (snap.to, 3);
    assert_int_equal (snap.snap_index, 11);
    assert_int_equal (snap.snap_term, 1);
    raft_step (f->node [3], &snap);
    raft_ready_t rd;
    assert_true (raft_ready (f->node [3], &rd));
    assert_int_equal (rd.install_index, 11);
    assert_int_equal (rd.install_term, 1);
    raft_advance (f->node [3], &rd);
    assert_int_equal (raft_first_index (f->node [3]), 12);
    assert_int_equal (raft_commit_index (f->node [3]), 11);
    assert_int_equal (raft_applied_index (f->node [3]), 11);
    assert_true (raft_ready (f->node [3], &rd));
    const raft_msg_t *ack = s_find (&rd, RAFT_MSG_APPEND_RESP);
    assert_non_null (ack);
    assert_int_equal (ack->match, 11);
    raft_advance (f->node [3], &rd);
    assert_int_equal (raft_propose (f->node [1], (const uint8_t *) "z", 1, NULL), RAFT_OK);
    s_run (f, 5 * HB);
    assert_int_equal (raft_commit_index (f->node [3]), 12);
    assert_int_equal (raft_peer_match (f->node [1], 3), 12);
    s_fixture_destroy (&f);
}

static void
propose_busy_at_max_uncommitted (void **state)
{
    (void) state;
    raft_config_t cfg = s_config (1, 3);
    cfg.max_uncommitted = 4;
    raft_hardstate_t hs = { 0, 0 };
    raft_t *r = raft_new (&cfg, &hs, 0, 0, &s_conf, 0);
    s_win_with_node2 (r, 2 * ET); /* NOOP at 1, uncommitted */
    for (int i = 0; i < 3; i++)
        assert_int_equal (raft_propose (r, (const uint8_t *) "p", 1, NULL), RAFT_OK);
    assert_int_equal (raft_propose (r, (const uint8_t *) "p", 1, NULL), RAFT_ERR_BUSY);
    raft_ready_t rd;
    assert_true (raft_ready (r, &rd));
    raft_advance (r, &rd);
    raft_msg_t ack = s_ack (2, 1, 4, 0);
    raft_step (r, &ack);
    assert_int_equal (raft_propose (r, (const uint8_t *) "p", 1, NULL), RAFT_OK);
    raft_destroy (&r);
}

static void
hostile_messages_are_ignored (void **state)
{
    (void) state;
    raft_config_t cfg = s_config (2, 3);
    raft_hardstate_t hs = { 1, 0 };
    raft_t *r = raft_new (&cfg, &hs, 0, 0, &s_conf, 0);
    raft_msg_t m = s_msg (RAFT_MSG_APPEND, RAFT_MAX_ID + 1, 2, 5); /* no such id */
    raft_step (r, &m);
    m = s_msg (RAFT_MSG_APPEND, 0, 2, 5);
    raft_step (r, &m);
    m = s_msg (RAFT_MSG_APPEND, 2, 2, 5); /* from itself */
    raft_step (r, &m);
    m = s_msg (RAFT_MSG_VOTE, 1, RAFT_BROADCAST, 5); /* vote cannot be broadcast */
    raft_step (r, &m);
    raft_entry_t e = { .term = 1, .index = 7 }; /* not prev_index + 1 */
    m = s_msg (RAFT_MSG_APPEND, 1, 2, 1);
    m.entries = &e;
    m.n_entries = 1;
    raft_step (r, &m);
    m = s_msg (99, 1, 2, 5);
    raft_step (r, &m);
    raft_ready_t rd;
    assert_false (raft_ready (r, &rd));
    assert_int_equal (raft_term (r), 1);
    assert_int_equal (raft_last_index (r), 0);
    raft_destroy (&r);
}

/* ---- leadership transfer (Raft thesis 3.10) ---- */

/* Messages of type from -> to waiting in the network. */
static int
s_queued (const fixture_t *f, raft_msg_type_t type, uint32_t from, uint32_t to)
{
    int n = 0;
    for (size_t i = 0; i < f->qn; i++)
        n += f->q [i].msg.type == type && f->q [i].msg.from == from && f->q [i].msg.to == to;
    return n;
}

static raft_err_t
s_propose (fixture_t *f, uint32_t id, const char *text)
{
    uint64_t index;
    return raft_propose (f->node [id], (const uint8_t *) text, (uint32_t) strlen (text), &index);
}

/* A settled cluster: node 1 leads term 1, "a" and "b" committed everywhere. */
static fixture_t *
s_settled (void)
{
    fixture_t *f = s_fixture (3);
    s_elect (f);
    assert_int_equal (s_propose (f, 1, "a"), RAFT_OK);
    assert_int_equal (s_propose (f, 1, "b"), RAFT_OK);
    s_run (f, 3 * HB);
    for (uint32_t id = 1; id <= 3; id++)
        assert_int_equal (raft_commit_index (f->node [id]), 3);
    return f;
}

static void
transfer_to_up_to_date_follower_is_immediate (void **state)
{
    (void) state;
    fixture_t *f = s_settled ();
    uint64_t t0 = f->now;
    assert_int_equal (raft_transfer_leadership (f->node [1], 2), RAFT_OK);
    assert_int_equal (raft_transfer_target (f->node [1]), 2);
    s_pump (f, 1); /* node 2 holds all: hand over now */
    assert_int_equal (s_queued (f, RAFT_MSG_TIMEOUT_NOW, 1, 2), 1);
    s_deliver (f);                 /* no pre-vote; 1 and 3 grant */
    assert_int_equal (f->now, t0); /* no election timeout waited */
    assert_int_equal (raft_role (f->node [2]), RAFT_LEADER);
    assert_int_equal (raft_term (f->node [2]), 2);
    assert_int_equal (raft_role (f->node [1]), RAFT_FOLLOWER);
    assert_int_equal (f->hs [1].vote, 2); /* the old leader voted for it */
    assert_int_equal (f->hs [3].vote, 2);
    s_run (f, 2 * HB);
    for (uint32_t id = 1; id <= 3; id++) {
        assert_int_equal (raft_leader (f->node [id]), 2);
        assert_int_equal (raft_commit_index (f->node [id]), 4); /* a, b, both NOOPs */
    }
    s_fixture_destroy (&f);
}

static void
transfer_to_lagging_follower_waits_for_catch_up (void **state)
{
    (void) state;
    fixture_t *f = s_settled ();
    s_set_cut (f, 3, true);
    assert_int_equal (s_propose (f, 1, "c"), RAFT_OK);
    assert_int_equal (s_propose (f, 1, "d"), RAFT_OK);
    s_run (f, 2 * HB);
    assert_int_equal (raft_commit_index (f->node [1]), 5); /* with node 2 */
    assert_int_equal (raft_last_index (f->node [3]), 3);   /* node 3 missed c, d */
    s_set_cut (f, 3, false);
    assert_int_equal (raft_transfer_leadership (f->node [1], 3), RAFT_OK);
    s_pump (f, 1);
    assert_int_equal (s_queued (f, RAFT_MSG_TIMEOUT_NOW, 1, 3), 0); /* not yet */
    s_run (f, 3 * HB);                                              /* repaired, then handed over */
    assert_int_equal (raft_role (f->node [3]), RAFT_LEADER);
    assert_int_equal (raft_term (f->node [3]), 2);
    s_run (f, 2 * HB);
    for (uint32_t id = 1; id <= 3; id++) {
        assert_int_equal (raft_leader (f->node [id]), 3);
        assert_int_equal (raft_commit_index (f->node [id]), 6); /* c, d kept */
        assert_memory_equal (raft_entry_at (f->node [id], 5)->data, "d", 1);
    }
    s_fixture_destroy (&f);
}

static void
transfer_to_dead_target_is_abandoned_and_leader_resumes (void **state)
{
    (void) state;
    fixture_t *f = s_settled ();
    s_set_cut (f, 3, true); /* node 3 is dead */
    assert_int_equal (raft_transfer_leadership (f->node [1], 3), RAFT_OK);
    s_run (f, ET - HB);
    assert_int_equal (raft_role (f->node [1]), RAFT_LEADER);
    assert_int_equal (raft_transfer_target (f->node [1]), 3);
    assert_int_equal (s_propose (f, 1, "c"), RAFT_ERR_BUSY);
    s_run (f, 2 * HB); /* one election timeout: give up */
    assert_int_equal (raft_transfer_target (f->node [1]), 0);
    assert_int_equal (raft_role (f->node [1]), RAFT_LEADER);
    assert_int_equal (raft_term (f->node [1]), 1);
    assert_int_equal (s_propose (f, 1, "c"), RAFT_OK); /* serving again */
    s_run (f, 2 * HB);
    assert_int_equal (raft_commit_index (f->node [1]), 4);
    assert_int_equal (raft_commit_index (f->node [2]), 4);
    s_fixture_destroy (&f);
}

static void
proposals_are_refused_during_transfer (void **state)
{
    (void) state;
    fixture_t *f = s_settled ();
    assert_int_equal (raft_transfer_leadership (f->node [1], 2), RAFT_OK);
    assert_int_equal (s_propose (f, 1, "c"), RAFT_ERR_BUSY); /* the log stays put */
    assert_int_equal (raft_last_index (f->node [1]), 3);
    s_deliver (f);
    assert_int_equal (s_propose (f, 1, "c"), RAFT_ERR_NOT_LEADER);
    assert_int_equal (s_propose (f, 2, "c"), RAFT_OK);
    s_fixture_destroy (&f);
}

static void
transfer_vote_passes_leader_stickiness (void **state)
{
    (void) state;
    raft_config_t cfg = s_config (2, 3);
    raft_hardstate_t hs = { 1, 1 };
    raft_t *r = raft_new (&cfg, &hs, 0, 0, &s_conf, 0);
    raft_msg_t hb = s_msg (RAFT_MSG_APPEND, 1, RAFT_BROADCAST, 1);
    raft_step (r, &hb); /* node 1 is a live leader */
    raft_ready_t rd;
    assert_true (raft_ready (r, &rd));
    raft_advance (r, &rd);
    raft_msg_t vote = s_msg (RAFT_MSG_VOTE, 3, 2, 2);
    raft_step (r, &vote); /* an ordinary campaign: ignored */
    assert_int_equal (raft_term (r), 1);
    assert_false (raft_ready (r, &rd));
    vote.transfer = true; /* the leader asked for this one */
    raft_step (r, &vote);
    assert_true (raft_ready (r, &rd));
    assert_true (s_find (&rd, RAFT_MSG_VOTE_RESP)->granted);
    assert_int_equal (rd.hardstate.term, 2);
    assert_int_equal (rd.hardstate.vote, 3);
    raft_advance (r, &rd);
    raft_destroy (&r);
}

static void
transfer_target_zero_picks_most_up_to_date_and_bad_targets_fail (void **state)
{
    (void) state;
    fixture_t *f = s_settled ();
    assert_int_equal (raft_transfer_leadership (f->node [2], 1), RAFT_ERR_NOT_LEADER);
    assert_int_equal (raft_transfer_leadership (f->node [1], 9), RAFT_ERR_NO_SUCH_NODE);
    assert_int_equal (raft_transfer_leadership (f->node [1], 1), RAFT_OK); /* already */
    assert_int_equal (raft_transfer_target (f->node [1]), 0);
    s_set_cut (f, 2, true);
    assert_int_equal (s_propose (f, 1, "c"), RAFT_OK);
    s_run (f, 2 * HB); /* node 3 has c, node 2 not */
    s_set_cut (f, 2, false);
    assert_int_equal (raft_transfer_leadership (f->node [1], 0), RAFT_OK);
    assert_int_equal (raft_transfer_target (f->node [1]), 3);
    s_deliver (f);
    assert_int_equal (raft_role (f->node [3]), RAFT_LEADER);
    s_fixture_destroy (&f);
}

/* Node 3's disk is wiped: it comes back at term 0 with an empty log, after acking
   up to 3. The leader must send it everything again (its rejects name less than it
   once acked), or a write that needs its ack would never commit. */
static void
a_follower_that_lost_its_log_is_sent_it_again (void **state)
{
    (void) state;
    fixture_t *f = s_settled ();
    raft_destroy (&f->node [3]);
    raft_config_t cfg = s_config (3, 3);
    raft_hardstate_t empty = { 0, 0 };
    f->node [3] = raft_new (&cfg, &empty, 0, 0, &s_conf, f->now);
    f->hs [3] = empty;
    s_set_cut (f, 2, true); /* commit needs node 3 now */
    assert_int_equal (s_propose (f, 1, "c"), RAFT_OK);
    s_run (f, 5 * HB);
    assert_int_equal (raft_commit_index (f->node [1]), 4);
    assert_int_equal (raft_last_index (f->node [3]), 4);
    assert_int_equal (raft_commit_index (f->node [3]), 4);
    s_fixture_destroy (&f);
}

/* While its votes are held (its disk was lost: it may have voted in terms it does
   not remember), node 3 neither campaigns nor grants, so without node 1 nobody can
   lead. Once it adopts node 2's term as voted in, it grants the next one. */
static void
held_votes_are_not_given_until_a_term_is_adopted (void **state)
{
    (void) state;
    fixture_t *f = s_settled ();
    raft_destroy (&f->node [3]); /* its disk lost: term 0, no vote */
    raft_config_t cfg = s_config (3, 3);
    raft_hardstate_t empty = { 0, 0 };
    f->node [3] = raft_new (&cfg, &empty, 0, 0, &s_conf, f->now);
    f->hs [3] = empty;
    raft_hold_votes (f->node [3], true);
    assert_true (raft_votes_held (f->node [3]));
    s_set_cut (f, 1, true);
    s_run (f, 10 * ET);
    assert_int_not_equal (raft_role (f->node [2]), RAFT_LEADER);
    assert_int_not_equal (raft_role (f->node [3]), RAFT_LEADER);
    assert_int_equal (raft_term (f->node [3]), 0); /* it never campaigned */
    uint64_t seen = raft_term (f->node [2]);
    raft_adopt_term (f->node [3], seen);
    raft_hold_votes (f->node [3], false);
    s_run (f, 1);
    assert_int_equal (f->hs [3].term, seen);
    assert_int_equal (f->hs [3].vote, 3); /* that term counts as voted in */
    s_run (f, 10 * ET);
    uint32_t leader = raft_role (f->node [2]) == RAFT_LEADER ? 2 : 3;
    assert_int_equal (raft_role (f->node [leader]), RAFT_LEADER);
    assert_true (raft_term (f->node [leader]) > seen);
    s_fixture_destroy (&f);
}


/* ---- membership changes (Raft thesis 4.1) ---- */

/* Nodes 1..voters form the cluster; the others start with no configuration, as a
   replica started with --join does, and node 1 leads term 1. */
static fixture_t *
s_cluster_and_spares (uint32_t nodes, uint32_t voters)
{
    fixture_t *f = calloc (1, sizeof *f);
    f->n = nodes;
    raft_hardstate_t hs = { 0, 0 };
    raft_conf_t none = { 0 };
    for (uint32_t id = 1; id <= nodes; id++) {
        raft_config_t cfg = s_config (id, voters);
        f->node [id] = raft_new (&cfg, &hs, 0, 0, id <= voters ? &s_conf : &none, id == 1 ? 0 : ET);
    }
    s_elect (f);
    assert_int_equal (s_propose (f, 1, "a"), RAFT_OK);
    s_run (f, 3 * HB);
    return f;
}

static raft_conf_t
s_with (const raft_conf_t *conf, uint32_t id, bool voter, bool promote)
{
    raft_conf_t next = *conf;
    raft_member_t m = { .id = id, .voter = voter, .promote = promote };
    snprintf (m.addr, sizeof m.addr, "host%u:7001", id);
    assert_int_equal (raft_conf_put (&next, &m), 0);
    return next;
}

static raft_conf_t
s_without (const raft_conf_t *conf, uint32_t id)
{
    raft_conf_t next = *conf;
    assert_int_equal (raft_conf_remove (&next, id), 0);
    return next;
}

static void
a_learner_catches_up_then_is_promoted_and_counts (void **state)
{
    (void) state;
    fixture_t *f = s_cluster_and_spares (4, 3);
    uint64_t index;
    raft_conf_t next = s_with (raft_conf (f->node [1]), 4, false, true);
    assert_int_equal (raft_propose_conf (f->node [1], &next, &index), RAFT_OK);
    s_run (f, 6 * HB);
    for (uint32_t id = 1; id <= 4; id++) {
        assert_int_equal (raft_conf (f->node [id])->n, 4);
        assert_true (raft_conf_is_voter (raft_conf (f->node [id]), 4)); /* promoted */
        assert_int_equal (raft_commit_index (f->node [id]), raft_last_index (f->node [1]));
    }
    /* four voters: 1 and 4 alone are no majority */
    s_set_cut (f, 2, true);
    s_set_cut (f, 3, true);
    uint64_t commit = raft_commit_index (f->node [1]);
    assert_int_equal (s_propose (f, 1, "b"), RAFT_OK);
    s_run (f, 3 * HB);
    assert_int_equal (raft_commit_index (f->node [1]), commit);
    s_set_cut (f, 3, false);
    s_run (f, 3 * HB);
    assert_true (raft_commit_index (f->node [1]) > commit);
    s_fixture_destroy (&f);
}

static void
a_learner_neither_counts_nor_campaigns (void **state)
{
    (void) state;
    fixture_t *f = s_cluster_and_spares (4, 3);
    uint64_t index;
    raft_conf_t next = s_with (raft_conf (f->node [1]), 4, false, false);
    assert_int_equal (raft_propose_conf (f->node [1], &next, &index), RAFT_OK);
    s_run (f, 6 * HB);
    assert_false (raft_conf_is_voter (raft_conf (f->node [1]), 4)); /* no promote asked */
    assert_int_equal (raft_last_index (f->node [4]), raft_last_index (f->node [1]));
    /* leader and learner without the other voters: nothing commits */
    s_set_cut (f, 2, true);
    s_set_cut (f, 3, true);
    uint64_t commit = raft_commit_index (f->node [1]);
    assert_int_equal (s_propose (f, 1, "b"), RAFT_OK);
    s_run (f, 3 * HB);
    assert_int_equal (raft_commit_index (f->node [1]), commit);
    /* the learner, cut off from everyone, never starts an election */
    s_set_cut (f, 2, false);
    s_set_cut (f, 3, false);
    s_set_cut (f, 4, true);
    uint64_t term = raft_term (f->node [4]);
    s_run (f, 10 * ET);
    assert_int_equal (raft_term (f->node [4]), term);
    assert_int_equal (raft_role (f->node [4]), RAFT_FOLLOWER);
    s_fixture_destroy (&f);
}

static void
only_one_change_at_a_time_and_only_one_member (void **state)
{
    (void) state;
    fixture_t *f = s_cluster_and_spares (5, 3);
    uint64_t index;
    const raft_conf_t *cur = raft_conf (f->node [1]);
    raft_conf_t two = s_with (cur, 4, false, false);
    two = s_with (&two, 5, false, false);
    assert_int_equal (raft_propose_conf (f->node [1], &two, &index), RAFT_ERR_BAD_CONF);
    assert_int_equal (raft_propose_conf (f->node [1], cur, &index), RAFT_ERR_BAD_CONF);
    raft_conf_t none = s_without (cur, 1);
    none = s_without (&none, 2);
    none = s_without (&none, 3);
    assert_int_equal (raft_propose_conf (f->node [1], &none, &index), RAFT_ERR_BAD_CONF);
    assert_int_equal (raft_propose_conf (f->node [2], &two, &index), RAFT_ERR_NOT_LEADER);
    /* data posing as a configuration is refused as a command */
    assert_int_equal (s_propose (f, 1,
                                 "\xc1"
                                 "C"),
                      RAFT_ERR_BAD_CONF);
    raft_conf_t add4 = s_with (cur, 4, false, false);
    assert_int_equal (raft_propose_conf (f->node [1], &add4, &index), RAFT_OK);
    raft_conf_t add5 = s_with (&add4, 5, false, false);
    assert_int_equal (raft_propose_conf (f->node [1], &add5, &index), RAFT_ERR_BUSY);
    s_run (f, 3 * HB);
    assert_int_equal (raft_propose_conf (f->node [1], &add5, &index), RAFT_OK);
    s_fixture_destroy (&f);
}

static void
a_removed_leader_hands_over_and_stays_quiet (void **state)
{
    (void) state;
    fixture_t *f = s_cluster_and_spares (3, 3);
    uint64_t index;
    raft_conf_t next = s_without (raft_conf (f->node [1]), 1);
    assert_int_equal (raft_propose_conf (f->node [1], &next, &index), RAFT_OK);
    s_run (f, 4 * HB);
    assert_int_not_equal (raft_role (f->node [1]), RAFT_LEADER);
    s_run (f, 2 * ET);
    uint32_t leader = raft_role (f->node [2]) == RAFT_LEADER ? 2 : 3;
    assert_int_equal (raft_role (f->node [leader]), RAFT_LEADER);
    assert_int_equal (raft_conf (f->node [leader])->n, 2);
    /* the two left commit alone; the removed one never campaigns */
    uint64_t term = raft_term (f->node [1]);
    s_set_cut (f, 1, true);
    assert_int_equal (s_propose (f, leader, "b"), RAFT_OK);
    s_run (f, 10 * ET);
    assert_int_equal (raft_commit_index (f->node [leader]), raft_last_index (f->node [leader]));
    assert_int_equal (raft_role (f->node [leader]), RAFT_LEADER);
    assert_int_equal (raft_term (f->node [1]), term);
    s_fixture_destroy (&f);
}

/* A configuration entry that never committed is cut with the tail it was in: the
   member falls back to the configuration before it. */
static void
an_uncommitted_change_truncated_away_is_undone (void **state)
{
    (void) state;
    fixture_t *f = s_cluster_and_spares (4, 3);
    s_set_cut (f, 1, true);
    uint64_t index;
    raft_conf_t next = s_with (raft_conf (f->node [1]), 4, false, false);
    assert_int_equal (raft_propose_conf (f->node [1], &next, &index), RAFT_OK);
    s_pump_all (f);
    assert_int_equal (raft_conf (f->node [1])->n, 4); /* in force once in the log */
    assert_int_equal (raft_conf_index (f->node [1]), index);
    s_run (f, 4 * ET); /* 2 or 3 takes over in a later term */
    uint32_t leader = raft_role (f->node [2]) == RAFT_LEADER ? 2 : 3;
    assert_int_equal (raft_role (f->node [leader]), RAFT_LEADER);
    assert_int_equal (s_propose (f, leader, "b"), RAFT_OK);
    s_run (f, 3 * HB);
    s_set_cut (f, 1, false);
    s_run (f, 2 * ET);
    assert_int_equal (raft_conf (f->node [1])->n, 3);
    assert_null (raft_conf_find (raft_conf (f->node [1]), 4));
    assert_int_equal (raft_last_index (f->node [1]), raft_last_index (f->node [leader]));
    s_fixture_destroy (&f);
}

static void
configurations_encode_and_refuse_garbage (void **state)
{
    (void) state;
    raft_conf_t conf;
    raft_conf_voters_1_to_n (&conf, 3);
    conf = s_with (&conf, 9, false, true);
    uint8_t buf [RAFT_CONF_ENCODED_MAX];
    size_t len = raft_conf_encode (&conf, buf, sizeof buf);
    assert_true (raft_conf_is_entry (buf, len));
    raft_conf_t back;
    assert_int_equal (raft_conf_decode (buf, len, &back), 0);
    assert_true (raft_conf_equal (&conf, &back));
    for (size_t cut = 0; cut < len; cut++) /* every truncation is refused */
        assert_int_equal (raft_conf_decode (buf, cut, &back), -1);
    uint8_t bad [RAFT_CONF_ENCODED_MAX];
    memcpy (bad, buf, len);
    bad [4] = 0; /* id 0 */
    assert_int_equal (raft_conf_decode (bad, len, &back), -1);
    memcpy (bad, buf, len);
    bad [4 + 4 + strlen (conf.members [0].addr)] = 1; /* second id not ascending */
    assert_int_equal (raft_conf_decode (bad, len, &back), -1);
    raft_conf_t learners_only = { 0 };
    learners_only = s_with (&learners_only, 2, false, false);
    len = raft_conf_encode (&learners_only, buf, sizeof buf);
    assert_int_equal (raft_conf_decode (buf, len, &back), -1); /* no voter */
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (single_node_elects_itself_and_commits),
        cmocka_unit_test (a_learner_catches_up_then_is_promoted_and_counts),
        cmocka_unit_test (a_learner_neither_counts_nor_campaigns),
        cmocka_unit_test (only_one_change_at_a_time_and_only_one_member),
        cmocka_unit_test (a_removed_leader_hands_over_and_stays_quiet),
        cmocka_unit_test (an_uncommitted_change_truncated_away_is_undone),
        cmocka_unit_test (configurations_encode_and_refuse_garbage),
        cmocka_unit_test (a_follower_that_lost_its_log_is_sent_it_again),
        cmocka_unit_test (held_votes_are_not_given_until_a_term_is_adopted),
        cmocka_unit_test (three_nodes_elect_one_leader),
        cmocka_unit_test (vote_not_granted_to_stale_log),
        cmocka_unit_test (one_vote_per_term),
        cmocka_unit_test (prevote_keeps_partitioned_node_from_bumping_terms),
        cmocka_unit_test (leader_steps_down_without_quorum),
        cmocka_unit_test (follower_truncates_conflicting_entries),
        cmocka_unit_test (mismatch_is_rejected_with_last_index_hint),
        cmocka_unit_test (commit_requires_entry_of_current_term),
        cmocka_unit_test (append_acked_and_committed_only_when_durable),
        cmocka_unit_test (read_index_waits_for_majority_heartbeat),
        cmocka_unit_test (snapshot_catches_up_follower_behind_compaction),
        cmocka_unit_test (propose_busy_at_max_uncommitted),
        cmocka_unit_test (hostile_messages_are_ignored),
        cmocka_unit_test (transfer_to_up_to_date_follower_is_immediate),
        cmocka_unit_test (transfer_to_lagging_follower_waits_for_catch_up),
        cmocka_unit_test (transfer_to_dead_target_is_abandoned_and_leader_resumes),
        cmocka_unit_test (proposals_are_refused_during_transfer),
        cmocka_unit_test (transfer_vote_passes_leader_stickiness),
        cmocka_unit_test (transfer_target_zero_picks_most_up_to_date_and_bad_targets_fail),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
