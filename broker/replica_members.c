/*  replica_members.c - the replica's side of membership: configurations kept in the
    snapshot beside the state machine's body, and handed to the peer transport.

    A stored snapshot body is a configuration entry's encoding (raft_conf.h, it
    starts with 0xC1) followed by the state machine's body; a body that starts
    otherwise predates membership changes and means the bootstrap configuration. */
#include "replica_internal.h"
#include <stdlib.h>
#include "blog.h"

int
replica_members_save (void *arg, uint8_t **body, size_t *len)
{
    replica_t *self = (replica_t *) arg;
    uint8_t *fsm_body;
    size_t fsm_len;
    if (self->fsm.save (self->fsm.arg, &fsm_body, &fsm_len))
        return -1;
    uint8_t *out = (uint8_t *) malloc (RAFT_CONF_ENCODED_MAX + fsm_len);
    if (!out) {
        free (fsm_body);
        return -1;
    }
    /* none yet (a replica that joined, before the entry that added it): no prefix, so
       a restart from it takes its bootstrap configuration, none, as before */
    size_t head = self->applied_conf.n
                      ? raft_conf_encode (&self->applied_conf, out, RAFT_CONF_ENCODED_MAX)
                      : 0;
    memcpy (out + head, fsm_body, fsm_len);
    free (fsm_body);
    *body = out;
    *len = head + fsm_len;
    return 0;
}

int
replica_members_load (replica_t *self, const uint8_t *body, size_t len, raft_conf_t *conf)
{
    size_t head = 0;
    if (raft_conf_is_entry (body, len)) {
        if (raft_conf_decode_prefix (body, len, conf, &head))
            return -1;
    }
    else
        *conf = self->config.bootstrap;
    return self->fsm.load (self->fsm.arg, body + head, len - head);
}

void
replica_members_applied (replica_t *self, const raft_entry_t *entry)
{
    raft_conf_t conf;
    if (raft_conf_decode (entry->data, entry->len, &conf) == 0)
        self->applied_conf = conf;
    else
        blog ("members_undecodable", "level=error index=%llu", (unsigned long long) entry->index);
}

/* Whom to reach: the members, and a leader that is no longer one. A leader removes
   itself with an entry the others must still ack to commit; dropping it at once would
   leave that entry uncommitted until an election. */
void
replica_members_reach (replica_t *self)
{
    raft_conf_t reach = *raft_conf (self->raft);
    uint32_t leader = raft_leader (self->raft);
    const raft_member_t *old = raft_conf_find (&self->reached, leader);
    if (leader && leader != self->config.raft.id && !raft_conf_find (&reach, leader) && old) {
        raft_member_t keep = *old;
        keep.voter = false;
        raft_conf_put (&reach, &keep);
    }
    if (self->reached_once && raft_conf_equal (&reach, &self->reached))
        return;
    self->reached = reach;
    self->reached_once = true;
    if (self->io.members_changed)
        self->io.members_changed (self->io.arg, &reach);
}

void
replica_members_changed (replica_t *self)
{
    const raft_conf_t *conf = raft_conf (self->raft);
    char text [RAFT_MAX_NODES * (RAFT_CONF_ADDR_MAX + 8)];
    raft_conf_describe (conf, text, sizeof text);
    blog ("members", "index=%llu members=\"%s\" self=%s",
          (unsigned long long) raft_conf_index (self->raft), text,
          raft_conf_is_voter (conf, self->config.raft.id) ? "voter"
          : raft_conf_find (conf, self->config.raft.id)   ? "learner"
                                                          : "not-a-member");
    replica_members_reach (self);
}
