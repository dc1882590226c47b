/*  curve.c - CURVE keys of a replica and the zauth actor (see curve.h). */
#include "curve.h"
#include <sys/stat.h>
#include <czmq.h>
#include <sodium.h>
#include "blog.h"

struct curve {
    bool enabled;
    zcert_t *server; /* clients know the cluster by this */
    zcert_t *own;    /* this replica's peer key */
    char dir [PATH_MAX];
    zcert_t *members [RAFT_MAX_ID + 1]; /* public peer keys by id, loaded when first needed */
    zactor_t *auth;
};

/* A secret key readable by others is as good as published: say so. */
static void
s_check_private (const char *path)
{
    struct stat st;
    if (stat (path, &st) == 0 && (st.st_mode & 077))
        blog ("key_permissions",
              "file=%s mode=%03o advice=\"chmod 600: others can read this secret key\"", path,
              (unsigned) (st.st_mode & 0777));
}

/* Load path (public) and, when want_secret, path_secret. */
static zcert_t *
s_load (const char *dir, const char *name, bool want_secret, char *err, size_t err_len)
{
    char path [PATH_MAX + 64];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    char secret_path [PATH_MAX + 80];
    snprintf (secret_path, sizeof secret_path, "%s_secret", path);
    zcert_t *cert = zcert_load (want_secret ? secret_path : path);
    if (!cert) {
        snprintf (err, err_len, "cannot read key %s (make the keys with: zchat-keys init %s)",
                  want_secret ? secret_path : path, dir);
        return NULL;
    }
    if (want_secret) {
        static const uint8_t zero [32];
        if (memcmp (zcert_secret_key (cert), zero, 32) == 0) {
            snprintf (err, err_len, "%s holds no secret key", secret_path);
            zcert_destroy (&cert);
            return NULL;
        }
        s_check_private (secret_path);
    }
    return cert;
}

static int
s_start_auth (curve_t *self, const char *dir, char *err, size_t err_len)
{
    self->auth = zactor_new (zauth, NULL);
    if (!self->auth) {
        snprintf (err, err_len, "cannot start the ZAP authenticator");
        return -1;
    }
    char members [PATH_MAX + 16];
    snprintf (members, sizeof members, "%s/members", dir);
    /* zcertstore re-reads the directory on each lookup: removing a member's public
       key file revokes it without a restart */
    zstr_sendx (self->auth, "CURVE", members, NULL);
    zsock_wait (self->auth);
    return 0;
}

curve_t *
curve_new (const config_t *config, char *err, size_t err_len)
{
    curve_t *self = (curve_t *) zmalloc (sizeof (curve_t));
    if (config->insecure) {
        blog ("INSECURE",
              "warning=\"--insecure: client and peer traffic is NOT encrypted or "
              "authenticated; anyone on the network can read every message and inject into "
              "the log. Never use this outside a test bench.\"");
        return self;
    }
    if (!zsys_has_curve ()) {
        snprintf (err, err_len,
                  "this libzmq has no CURVE support; run with --insecure only for tests");
        free (self);
        return NULL;
    }
    const char *dir = config->keys_dir;
    char name [64];
    snprintf (name, sizeof name, "replica-%u.cert", config->id);
    self->enabled = true;
    snprintf (self->dir, sizeof self->dir, "%s", dir);
    self->server = s_load (dir, "server.cert", true, err, err_len);
    self->own = self->server ? s_load (dir, name, true, err, err_len) : NULL;
    for (uint32_t i = 0; self->own && i < config->n; i++) {
        uint32_t id = config->peers [i].id;
        snprintf (name, sizeof name, "members/replica-%u.cert", id);
        self->members [id] = s_load (dir, name, false, err, err_len);
        if (!self->members [id]) {
            zcert_destroy (&self->own);
            break;
        }
    }
    if (!self->own
        || memcmp (zcert_public_key (self->own), zcert_public_key (self->members [config->id]),
                   32)) {
        if (self->own)
            snprintf (err, err_len,
                      "%s/replica-%u.cert_secret does not match members/replica-%u.cert", dir,
                      config->id, config->id);
        curve_destroy (&self);
        return NULL;
    }
    if (s_start_auth (self, dir, err, err_len) != 0) {
        curve_destroy (&self);
        return NULL;
    }
    blog ("curve", "keys=%s server_key=%s replica_key=%s", dir, zcert_public_txt (self->server),
          zcert_public_txt (self->own));
    return self;
}

void
curve_destroy (curve_t **self_p)
{
    if (!*self_p)
        return;
    curve_t *self = *self_p;
    zactor_destroy (&self->auth);
    zcert_destroy (&self->server);
    zcert_destroy (&self->own);
    for (uint32_t id = 0; id <= RAFT_MAX_ID; id++)
        zcert_destroy (&self->members [id]);
    free (self);
    *self_p = NULL;
}

bool
curve_enabled (const curve_t *self)
{
    return self->enabled;
}

uint64_t
curve_cluster_seed (const curve_t *self)
{
    static const char insecure [] = "zchat --insecure cluster";
    uint8_t hash [8];
    if (self->enabled)
        crypto_generichash (hash, sizeof hash, zcert_public_key (self->server), 32, NULL, 0);
    else
        crypto_generichash (hash, sizeof hash, (const uint8_t *) insecure, sizeof insecure - 1,
                            NULL, 0);
    uint64_t seed = 0;
    for (int i = 0; i < 8; i++)
        seed = seed << 8 | hash [i];
    return seed ? seed : 1;
}

void
curve_serve_clients (curve_t *self, void *sock)
{
    if (!self->enabled)
        return;
    zcert_apply (self->server, sock);
    zsock_set_curve_server (sock, 1);
}

void
curve_serve_peers (curve_t *self, void *sock)
{
    if (!self->enabled)
        return;
    zcert_apply (self->own, sock);
    zsock_set_curve_server (sock, 1);
    zsock_set_zap_domain (sock, "zchat-peers");
}

int
curve_connect_peer (curve_t *self, void *sock, uint32_t peer)
{
    if (!self->enabled)
        return 0;
    if (!self->members [peer]) {
        /* a member added since we started: its key must be in members/ by now */
        char name [64], err [PATH_MAX + 128];
        snprintf (name, sizeof name, "members/replica-%u.cert", peer);
        self->members [peer] = s_load (self->dir, name, false, err, sizeof err);
        if (!self->members [peer]) {
            blog ("peer_key_missing",
                  "level=error peer=%u reason=\"%s\" note=\"copy the new"
                  " member's public key into members/ of every replica's keys\"",
                  peer, err);
            return -1;
        }
    }
    zcert_apply (self->own, sock);
    zsock_set_curve_serverkey_bin (sock, zcert_public_key (self->members [peer]));
    return 0;
}
