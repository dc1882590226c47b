/*  replica_identity.c - which cluster a replica's data belongs to, and which life of
    its data directory this is.

    The identity file holds both. A new cluster's replicas all derive the cluster id
    from what they share (replica_config_t.cluster_seed: the cluster's server key); a
    replica started with --join learns it from the first member it hears and keeps
    it. Every status gossip carries both, so that:
      - a peer's Raft frames and snapshot chunks are stepped in only once its gossip
        named our cluster (or none: a new member, an older replica), if we subscribe
        to it (others' gossip cannot reach us: see s_may_hear in replica.c); one of another
        cluster (a data directory or an address from elsewhere) is shut out from its
        very first frame on;
      - a replica whose every voting peer says another cluster is the stray one: it
        holds its votes for good and says how to bring the machine back (replace);
      - a member that comes back with a new data directory (a new incarnation under
        an old id) is reported by its peers, which tell the operator to replace it. */
#include "replica_internal.h"
#include "blog.h"

#define IDENTITY_LOG_MS 10000 /* how often one peer's mismatch is logged again */

int
replica_identity_begin (replica_t *self, const replica_disk_t *disk, char *err, size_t err_len)
{
    if (disk->found_identity) {
        self->cluster = disk->cluster;
        self->incarnation = disk->incarnation;
        return 0;
    }
    /* a new directory, or one written before identities: it is of the cluster at hand */
    self->cluster = self->config.join ? 0 : self->config.cluster_seed;
    self->incarnation = self->config.incarnation_seed ? self->config.incarnation_seed : 1;
    if (self->io.identity_put
        && self->io.identity_put (self->io.arg, self->cluster, self->incarnation)) {
        snprintf (err, err_len, "cannot write the identity file in %s", self->config.name);
        return -1;
    }
    return 0;
}

static void
s_adopt (replica_t *self, uint64_t cluster, uint32_t from)
{
    self->cluster = cluster;
    if (self->io.identity_put)
        self->io.identity_put (self->io.arg, self->cluster, self->incarnation);
    blog ("cluster_joined", "cluster=%016llx heard_from=%u", (unsigned long long) cluster, from);
}

/* Every other voter we heard from says another cluster: we are the stray one. */
static void
s_maybe_stray (replica_t *self)
{
    const raft_conf_t *conf = raft_conf (self->raft);
    uint32_t others = 0, foreign = 0;
    for (uint32_t i = 0; i < conf->n; i++) {
        uint32_t id = conf->members [i].id;
        if (id == self->config.raft.id || !conf->members [i].voter)
            continue;
        others++;
        foreign += self->views [id].foreign;
    }
    if (self->stray || others == 0 || foreign < others)
        return;
    self->stray = true;
    replica_rejoin_begin (self, "this data directory belongs to another cluster");
    blog ("stray_data",
          "level=error data=%s cluster=%016llx note=\"every member says another"
          " cluster: this data directory is not theirs. It will not vote. Move it away and"
          " start this machine as a new member (--join, then zchat admin replace OLD NEW"
          " HOST:PORT)\"",
          self->config.name, (unsigned long long) self->cluster);
}

bool
replica_identity_heard (replica_t *self, const zc_status_gossip_t *gossip, uint64_t now_ms)
{
    replica_peer_view_t *view = &self->views [gossip->id];
    if (gossip->cluster && !self->cluster)
        s_adopt (self, gossip->cluster, gossip->id);
    bool foreign = gossip->cluster && gossip->cluster != self->cluster;
    bool logged_lately =
        view->identity_logged_ms && now_ms - view->identity_logged_ms < IDENTITY_LOG_MS;
    if (foreign && !logged_lately) {
        view->identity_logged_ms = now_ms;
        blog ("foreign_peer",
              "level=error peer=%u peer_cluster=%016llx cluster=%016llx note=\"that replica's"
              " data belongs to another cluster: everything it sends is ignored\"",
              gossip->id, (unsigned long long) gossip->cluster, (unsigned long long) self->cluster);
    }
    view->foreign = foreign;
    view->verified = !foreign;
    if (!foreign && gossip->incarnation && view->incarnation
        && gossip->incarnation != view->incarnation)
        blog ("member_new_disk",
              "level=warning peer=%u incarnation=%016llx was=%016llx note=\"replica %u came"
              " back with a new data directory under its old id: it holds its votes until it"
              " is safe; to retire the id, replace it (zchat admin replace)\"",
              gossip->id, (unsigned long long) gossip->incarnation,
              (unsigned long long) view->incarnation, gossip->id);
    if (!foreign && gossip->incarnation)
        view->incarnation = gossip->incarnation;
    s_maybe_stray (self);
    return !foreign;
}
