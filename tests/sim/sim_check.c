/*  sim_check.c - the invariants the simulator checks after every step.

    The checker keeps its own record of the one committed log (the "oracle", by index)
    and of every (index, term) any replica ever persisted. Checked:
    - election safety: at most one leader per term, ever;
    - log matching: equal (index, term) => equal data and equal previous term, which
      by induction means identical prefixes;
    - leader completeness: an entry committed while some replica was at term t is in
      the log of every leader of a term above t;
    - commit monotonic: a replica's commit index never goes down (a restart starts it
      again at its snapshot, never below);
    - state machine safety: every replica applies the same data at the same index,
      with the same result and the same chat digest;
    - G1: an acknowledged entry stays the committed entry at its index;
    - G3: a (cid, seq) has an effect at most once; a retry gets the original code;
    - G4-G6 per user: sim_guarantees.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim.h"

/* ---- small open-addressing tables ---- */

typedef struct {
    uint64_t k1, k2, v1, v2;
    bool used;
} s_slot_t;

typedef struct {
    s_slot_t *slots;
    size_t cap, count;
} s_table_t;

struct sim_logreg {
    s_table_t t;
};
struct sim_cidreg {
    s_table_t t;
};

static uint64_t
s_mix (uint64_t a, uint64_t b)
{
    uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull);
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    return h ^ (h >> 32);
}

static s_slot_t *
s_table_find (s_table_t *t, uint64_t k1, uint64_t k2, bool insert)
{
    if (insert && (t->count + 1) * 2 > t->cap) {
        s_table_t bigger = { calloc (t->cap ? t->cap * 2 : 1024, sizeof (s_slot_t)),
                             t->cap ? t->cap * 2 : 1024, 0 };
        if (!bigger.slots)
            abort ();
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots [i].used)
                *s_table_find (&bigger, t->slots [i].k1, t->slots [i].k2, true) = t->slots [i];
        free (t->slots);
        *t = bigger;
        t->count = 0;
        for (size_t i = 0; i < t->cap; i++)
            t->count += t->slots [i].used;
    }
    if (t->cap == 0)
        return NULL;
    size_t i = s_mix (k1, k2) & (t->cap - 1);
    while (t->slots [i].used) {
        if (t->slots [i].k1 == k1 && t->slots [i].k2 == k2)
            return &t->slots [i];
        i = (i + 1) & (t->cap - 1);
    }
    if (!insert)
        return NULL;
    t->count++;
    t->slots [i] = (s_slot_t) { .k1 = k1, .k2 = k2, .used = true };
    return &t->slots [i];
}

uint64_t
sim_hash (const uint8_t *data, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= data [i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void
sim_check_init (sim_t *sim)
{
    sim->logreg = calloc (1, sizeof *sim->logreg);
    sim->cidreg = calloc (1, sizeof *sim->cidreg);
    if (!sim->logreg || !sim->cidreg)
        abort ();
}

void
sim_check_free (sim_t *sim)
{
    if (sim->logreg)
        free (sim->logreg->t.slots);
    if (sim->cidreg)
        free (sim->cidreg->t.slots);
    free (sim->logreg);
    free (sim->cidreg);
    free (sim->oracle);
    free (sim->leader_of_term);
    free (sim->acks);
    sim->logreg = NULL;
    sim->cidreg = NULL;
    sim_check_users_free (sim);
}

void
sim_fail (sim_t *sim, const char *fmt, ...)
{
    if (sim->failed)
        return;
    sim->failed = true;
    va_list args;
    va_start (args, fmt);
    vsnprintf (sim->why, sizeof sim->why, fmt, args);
    va_end (args);
}

static sim_oracle_entry_t *
s_oracle (sim_t *sim, uint64_t index)
{
    if (index >= sim->oracle_cap) {
        size_t cap = sim->oracle_cap ? sim->oracle_cap : 1024;
        while (cap <= index)
            cap *= 2;
        sim->oracle = realloc (sim->oracle, cap * sizeof *sim->oracle);
        if (!sim->oracle)
            abort ();
        memset (sim->oracle + sim->oracle_cap, 0, (cap - sim->oracle_cap) * sizeof *sim->oracle);
        sim->oracle_cap = cap;
    }
    return &sim->oracle [index];
}

/* Term of index in node's log as far as we can tell (0: before the log; -1: unknown). */
static int64_t
s_term_at (sim_node_t *node, uint64_t index)
{
    if (index == 0)
        return 0;
    const raft_entry_t *e = raft_entry_at (node->raft, index);
    if (e)
        return (int64_t) e->term;
    if (index == node->snap.index)
        return (int64_t) node->snap.term;
    return -1;
}

void
sim_check_entries (sim_t *sim, sim_node_t *node, const raft_entry_t *entries, uint32_t n)
{
    for (uint32_t i = 0; i < n && !sim->failed; i++) {
        const raft_entry_t *e = &entries [i];
        int64_t prev = i ? (int64_t) entries [i - 1].term : s_term_at (node, e->index - 1);
        uint64_t hash = sim_hash (e->data, e->len);
        s_slot_t *s = s_table_find (&sim->logreg->t, e->index, e->term, true);
        if (s->v1 == 0 && s->v2 == 0) {
            s->v1 = hash | 1; /* never 0: marks "set" */
            s->v2 = prev < 0 ? 0 : (uint64_t) prev + 1;
            continue;
        }
        if (s->v1 != (hash | 1) || (prev >= 0 && s->v2 && s->v2 != (uint64_t) prev + 1))
            sim_fail (sim,
                      "log matching: node %u entry %llu/%llu differs from another "
                      "replica's entry with the same index and term",
                      node->id, (unsigned long long) e->index, (unsigned long long) e->term);
    }
}

static void
s_check_leader (sim_t *sim, sim_node_t *node)
{
    uint64_t term = raft_term (node->raft);
    if (term >= sim->terms_cap) {
        size_t cap = sim->terms_cap ? sim->terms_cap : 256;
        while (cap <= term)
            cap *= 2;
        sim->leader_of_term = realloc (sim->leader_of_term, cap * sizeof (uint32_t));
        if (!sim->leader_of_term)
            abort ();
        memset (sim->leader_of_term + sim->terms_cap, 0,
                (cap - sim->terms_cap) * sizeof (uint32_t));
        sim->terms_cap = cap;
    }
    uint32_t *who = &sim->leader_of_term [term];
    if (*who && *who != node->id) {
        sim_fail (sim, "election safety: nodes %u and %u both leader of term %llu", *who, node->id,
                  (unsigned long long) term);
        return;
    }
    if (*who)
        return;
    *who = node->id;
    sim->elections++;
    sim_trace (sim, "node %u: LEADER of term %llu (last %llu, commit %llu)", node->id,
               (unsigned long long) term, (unsigned long long) raft_last_index (node->raft),
               (unsigned long long) raft_commit_index (node->raft));
    /* leader completeness */
    uint64_t first = raft_first_index (node->raft);
    for (uint64_t i = first; i <= sim->max_commit; i++) {
        const sim_oracle_entry_t *o = s_oracle (sim, i);
        if (!o->term || o->commit_term >= term)
            continue;
        const raft_entry_t *e = raft_entry_at (node->raft, i);
        if (!e || e->term != o->term || sim_hash (e->data, e->len) != o->hash) {
            sim_fail (sim,
                      "leader completeness: leader %u of term %llu lacks committed "
                      "entry %llu/%llu",
                      node->id, (unsigned long long) term, (unsigned long long) i,
                      (unsigned long long) o->term);
            return;
        }
    }
}

/* Record (or compare) entries a node now counts as committed. */
static void
s_check_commit (sim_t *sim, sim_node_t *node)
{
    uint64_t commit = raft_commit_index (node->raft);
    if (commit < node->commit_seen) {
        sim_fail (sim, "node %u: commit went down from %llu to %llu", node->id,
                  (unsigned long long) node->commit_seen, (unsigned long long) commit);
        return;
    }
    uint64_t term = raft_term (node->raft);
    for (uint64_t i = node->commit_seen + 1; i <= commit; i++) {
        const raft_entry_t *e = raft_entry_at (node->raft, i);
        if (!e)
            continue; /* arrived inside a snapshot */
        sim_oracle_entry_t *o = s_oracle (sim, i);
        uint64_t hash = sim_hash (e->data, e->len);
        if (!o->term) {
            o->term = e->term;
            o->hash = hash;
            o->commit_term = term;
        }
        else if (o->term != e->term || o->hash != hash) {
            sim_fail (sim, "committed entry %llu changed: node %u has term %llu, was %llu",
                      (unsigned long long) i, node->id, (unsigned long long) e->term,
                      (unsigned long long) o->term);
            return;
        }
        if (term < o->commit_term)
            o->commit_term = term;
    }
    node->commit_seen = commit;
    if (commit > sim->max_commit)
        sim->max_commit = commit;
}

void
sim_check_node (sim_t *sim, sim_node_t *node)
{
    if (!node->up || sim->failed)
        return;
    s_check_commit (sim, node);
    bool leader = raft_role (node->raft) == RAFT_LEADER;
    if (leader && !sim->failed)
        s_check_leader (sim, node);
    node->was_leader = leader;
}

static void
s_check_g3 (sim_t *sim, uint64_t index, const zc_command_t *cmd, const chat_result_t *res)
{
    if (!cmd || cmd->cid == 0 || res->code == ZC_ERR_STALE_REQUEST)
        return;
    s_slot_t *s = s_table_find (&sim->cidreg->t, cmd->cid, cmd->seq, !res->duplicate);
    if (!res->duplicate) {
        if (s->v1 && s->v1 != index)
            sim_fail (sim, "G3: request %llx/%llu took effect at %llu and again at %llu",
                      (unsigned long long) cmd->cid, (unsigned long long) cmd->seq,
                      (unsigned long long) s->v1, (unsigned long long) index);
        s->v1 = index;
        s->v2 = res->code;
        return;
    }
    if (!s || s->v1 >= index)
        sim_fail (sim, "G3: request %llx/%llu at %llu answered as a duplicate of nothing",
                  (unsigned long long) cmd->cid, (unsigned long long) cmd->seq,
                  (unsigned long long) index);
    else if (s->v2 != (uint64_t) res->code)
        sim_fail (sim, "G3: retry of %llx/%llu answered %s, original was %s",
                  (unsigned long long) cmd->cid, (unsigned long long) cmd->seq,
                  zc_code_name (res->code), zc_code_name ((int) s->v2));
}

void
sim_check_apply (sim_t *sim, sim_node_t *node, const raft_entry_t *entry, const zc_command_t *cmd,
                 const chat_result_t *result)
{
    /* a lone voter commits inside the ready that applies: record its commit first */
    s_check_commit (sim, node);
    sim_oracle_entry_t *o = s_oracle (sim, entry->index);
    uint64_t hash = sim_hash (entry->data, entry->len);
    if (!o->term || o->term != entry->term || o->hash != hash) {
        sim_fail (sim, "state machine safety: node %u applies %llu/%llu, committed was %llu",
                  node->id, (unsigned long long) entry->index, (unsigned long long) entry->term,
                  (unsigned long long) o->term);
        return;
    }
    if (!o->applied) {
        o->applied = true;
        o->result = *result;
        s_check_g3 (sim, entry->index, cmd, result);
        sim_check_user_effects (sim, entry->index, cmd, result);
    }
    else if (o->result.code != result->code || o->result.duplicate != result->duplicate
             || o->result.epoch != result->epoch || o->result.mseq != result->mseq) {
        sim_fail (sim, "state machine safety: node %u result at %llu differs (%s vs %s)", node->id,
                  (unsigned long long) entry->index, zc_code_name (result->code),
                  zc_code_name (o->result.code));
        return;
    }
    /* the digest serializes the whole state: sample it, and always near the end */
    if (entry->index % 8 != 0 && !sim->quiet_phase)
        return;
    uint64_t digest = chat_digest (node->chat);
    if (!o->has_digest) {
        o->digest = digest;
        o->has_digest = true;
    }
    else if (o->digest != digest)
        sim_fail (sim, "state machine safety: node %u digest at %llu differs", node->id,
                  (unsigned long long) entry->index);
}

void
sim_check_install (sim_t *sim, sim_node_t *node)
{
    const sim_oracle_entry_t *o = s_oracle (sim, node->snap.index);
    if (node->snap.index > sim->max_commit)
        sim_fail (sim, "node %u installed snapshot %llu beyond anything committed", node->id,
                  (unsigned long long) node->snap.index);
    else if (o->term && o->term != node->snap.term)
        sim_fail (sim, "node %u installed snapshot %llu of term %llu, committed term %llu",
                  node->id, (unsigned long long) node->snap.index,
                  (unsigned long long) node->snap.term, (unsigned long long) o->term);
    else if (o->has_digest && o->digest != chat_digest (node->chat))
        sim_fail (sim, "node %u: snapshot %llu state differs from the applied state", node->id,
                  (unsigned long long) node->snap.index);
}

void
sim_check_ack (sim_t *sim, uint64_t index, uint64_t term, uint64_t hash)
{
    if (sim->n_acks == sim->acks_cap) {
        sim->acks_cap = sim->acks_cap ? sim->acks_cap * 2 : 256;
        sim->acks = realloc (sim->acks, sim->acks_cap * sizeof *sim->acks);
        if (!sim->acks)
            abort ();
    }
    sim->acks [sim->n_acks].index = index;
    sim->acks [sim->n_acks].term = term;
    sim->acks [sim->n_acks].hash = hash;
    sim->n_acks++;
}

/* Quiet and healed: one leader, every replica at the same commit, applied and digest. */
bool
sim_converged (sim_t *sim)
{
    sim_node_t *leader = NULL;
    for (uint32_t id = 1; id <= sim->n; id++) {
        sim_node_t *node = &sim->nodes [id];
        if (!node->up)
            return false;
        if (raft_role (node->raft) == RAFT_LEADER
            && raft_conf_is_voter (raft_conf (node->raft), id)) {
            if (leader)
                return false;
            leader = node;
        }
    }
    if (!leader || raft_commit_index (leader->raft) != raft_last_index (leader->raft))
        return false;
    uint64_t commit = raft_commit_index (leader->raft);
    for (int c = 0; c < SIM_CLIENTS; c++)
        if (sim->clients [c].busy)
            return false;
    for (uint32_t id = 1; id <= sim->n; id++) {
        const raft_t *r = sim->nodes [id].raft;
        if (!sim_members_counts (sim, leader, id))
            continue; /* removed, or never added: it may stay behind */
        if (raft_commit_index (r) != commit || raft_applied_index (r) != commit
            || raft_term (r) != raft_term (leader->raft))
            return false;
    }
    return true;
}

/* After convergence: equal state everywhere, and every acknowledged entry is there. */
void
sim_check_converged (sim_t *sim, bool final)
{
    (void) final;
    const sim_node_t *leader = NULL;
    for (uint32_t id = 1; id <= sim->n && !leader; id++)
        if (raft_role (sim->nodes [id].raft) == RAFT_LEADER
            && raft_conf_is_voter (raft_conf (sim->nodes [id].raft), id))
            leader = &sim->nodes [id];
    uint64_t digest = chat_digest (leader->chat);
    uint64_t commit = raft_commit_index (leader->raft);
    for (uint32_t id = 1; id <= sim->n && !sim->failed; id++)
        if (sim_members_counts (sim, leader, id) && chat_digest (sim->nodes [id].chat) != digest)
            sim_fail (sim, "converged replicas %u and %u hold different chat states", leader->id,
                      id);
    for (size_t i = 0; i < sim->n_acks && !sim->failed; i++) {
        const sim_oracle_entry_t *o = s_oracle (sim, sim->acks [i].index);
        if (sim->acks [i].index > commit || o->term != sim->acks [i].term
            || o->hash != sim->acks [i].hash)
            sim_fail (sim, "G1: acknowledged entry %llu/%llu is not in the committed log",
                      (unsigned long long) sim->acks [i].index,
                      (unsigned long long) sim->acks [i].term);
    }
}
