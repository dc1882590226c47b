/*  sim_guarantees.c - G4-G6 over what the log does to each user, checked once per
    committed index, on its first application (first applications come in index
    order: a replica that skips an index by snapshot got it from one that applied it).

    - G4: each message a recipient gets has the next per-recipient sequence number
      of its incarnation (1, 2, 3 ... in log order, no gap, no repeat);
    - G5: per sender and recipient, messages take effect in the order sent (a
      client's seqs increase along the log);
    - G6: after a delete takes effect, every send to the name fails until a create
      succeeds; a re-created user has a newer epoch and starts at sequence 1. */
#include <stdlib.h>
#include <string.h>
#include "sim.h"

#define SIM_USERS_MAX   8
#define SIM_SENDERS_MAX 8

typedef struct {
    char name [ZC_NAME_MAX + 1];
    bool exists;
    uint64_t epoch, last_mseq;
    uint64_t sender_cid [SIM_SENDERS_MAX], sender_seq [SIM_SENDERS_MAX];
} s_user_t;

struct sim_userreg {
    s_user_t users [SIM_USERS_MAX];
    size_t n;
};

static s_user_t *
s_user (sim_t *sim, zc_bytes_t name)
{
    if (!sim->userreg && !(sim->userreg = calloc (1, sizeof *sim->userreg)))
        abort ();
    struct sim_userreg *reg = sim->userreg;
    for (size_t i = 0; i < reg->n; i++)
        if (strlen (reg->users [i].name) == name.len
            && !memcmp (reg->users [i].name, name.ptr, name.len))
            return &reg->users [i];
    if (reg->n == SIM_USERS_MAX || name.len > ZC_NAME_MAX)
        abort (); /* the simulated clients use a handful of short names */
    s_user_t *user = &reg->users [reg->n++];
    memcpy (user->name, name.ptr, name.len);
    return user;
}

static void
s_check_order (sim_t *sim, uint64_t index, s_user_t *user, const zc_command_t *cmd)
{
    size_t slot = 0;
    while (slot < SIM_SENDERS_MAX && user->sender_cid [slot] && user->sender_cid [slot] != cmd->cid)
        slot++;
    if (slot == SIM_SENDERS_MAX)
        return;
    if (user->sender_cid [slot] == cmd->cid && cmd->seq <= user->sender_seq [slot])
        sim_fail (sim,
                  "G5: at %llu, client %llx's seq %llu to '%s' takes effect after its "
                  "seq %llu",
                  (unsigned long long) index, (unsigned long long) cmd->cid,
                  (unsigned long long) cmd->seq, user->name,
                  (unsigned long long) user->sender_seq [slot]);
    user->sender_cid [slot] = cmd->cid;
    user->sender_seq [slot] = cmd->seq;
}

static void
s_on_send (sim_t *sim, uint64_t index, s_user_t *user, const zc_command_t *cmd,
           const chat_result_t *res)
{
    if (!user->exists) {
        if (res->code == ZC_OK)
            sim_fail (sim, "G6: send to deleted '%s' at %llu succeeded", user->name,
                      (unsigned long long) index);
        return;
    }
    if (res->code != ZC_OK)
        return;
    if (res->epoch != user->epoch || res->mseq != user->last_mseq + 1)
        sim_fail (sim, "G4: message at %llu for '%s' got %llu/%llu, expected %llu/%llu",
                  (unsigned long long) index, user->name, (unsigned long long) res->epoch,
                  (unsigned long long) res->mseq, (unsigned long long) user->epoch,
                  (unsigned long long) user->last_mseq + 1);
    user->last_mseq = res->mseq;
    s_check_order (sim, index, user, cmd);
}

void
sim_check_user_effects (sim_t *sim, uint64_t index, const zc_command_t *cmd,
                        const chat_result_t *res)
{
    if (res->duplicate || cmd->op == ZC_OP_NOOP)
        return;
    s_user_t *user = s_user (sim, cmd->name);
    switch (cmd->op) {
        case ZC_OP_CREATE:
            if (res->code != ZC_OK)
                return;
            if (user->exists || res->epoch <= user->epoch)
                sim_fail (sim, "G6: create of '%s' at %llu: existed %d, epoch %llu after %llu",
                          user->name, (unsigned long long) index, user->exists,
                          (unsigned long long) res->epoch, (unsigned long long) user->epoch);
            *user = (s_user_t) { .exists = true, .epoch = res->epoch };
            memcpy (user->name, cmd->name.ptr, cmd->name.len);
            return;
        case ZC_OP_DELETE:
            if (res->code == ZC_OK)
                user->exists = false;
            return;
        case ZC_OP_SEND: s_on_send (sim, index, user, cmd, res); return;
        default: return;
    }
}

void
sim_check_users_free (sim_t *sim)
{
    free (sim->userreg);
    sim->userreg = NULL;
}
