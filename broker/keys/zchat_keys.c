/*  zchat_keys.c - zchat-keys: makes and rotates the CURVE keys of a cluster (layout in
    broker/curve.h) and its admin secret. Never overwrites a key by accident: init only
    fills in what is missing, rotate keeps the old key beside the new one. */
#include <czmq.h>
#include <fcntl.h>
#include <sys/stat.h>

#define KEYS_MAX_ID 63 /* replica ids (RAFT_MAX_ID) */

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "usage: zchat-keys init DIR [--replicas N]   make every missing key for replicas 1..N\n"
        "                                            (default 3; up to 63: run it again with a\n"
        "                                            larger N to add members) and admin.secret\n"
        "       zchat-keys rotate DIR server|replica-N   replace one key (old one kept as *.old)\n"
        "       zchat-keys show DIR                      print the public keys\n"
        "\n"
        "DIR/server.cert           the cluster's public key: give it to clients\n"
        "                          (ZCHAT_SERVER_KEY=DIR/server.cert or --server-key)\n"
        "DIR/server.cert_secret    its secret key: on every replica, nowhere else\n"
        "DIR/replica-N.cert_secret replica N's own peer key: on replica N only\n"
        "DIR/members/replica-N.cert  every replica's public peer key: on every replica;\n"
        "                          delete one to shut that key out of the cluster at once\n"
        "DIR/admin.secret          a random admin secret (zchat-broker --admin-secret-file,\n"
        "                          zchat --admin-secret-file): admin commands\n"
        "Secret files are written mode 600. See README, Security.\n");
}

static bool
s_exists (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0;
}

/* A new key as NAME_secret (both halves) in DIR and NAME's public half in PUBDIR. */
static int
s_make (const char *dir, const char *pubdir, const char *name)
{
    char secret [PATH_MAX + 80], public [PATH_MAX + 80];
    snprintf (secret, sizeof secret, "%s/%s_secret", dir, name);
    snprintf (public, sizeof public, "%s/%s", pubdir, name);
    zcert_t *cert = zcert_new ();
    if (!cert)
        return -1;
    zcert_set_meta (cert, "name", "%s", name);
    zcert_set_meta (cert, "created", "%" PRId64, zclock_time () / 1000);
    int rc = zcert_save_secret (cert, secret) || zcert_save_public (cert, public);
    if (rc == 0)
        chmod (public, 0644); /* public halves are meant to be handed out */
    if (rc == 0)
        printf ("zchat-keys: made %s (public key %s)\n", secret, zcert_public_txt (cert));
    else
        fprintf (stderr, "zchat-keys: cannot write %s or %s: %s\n", secret, public,
                 strerror (errno));
    zcert_destroy (&cert);
    return rc ? -1 : 0;
}

static int
s_ensure (const char *dir, const char *pubdir, const char *name)
{
    char secret [PATH_MAX + 80];
    snprintf (secret, sizeof secret, "%s/%s_secret", dir, name);
    if (s_exists (secret)) {
        printf ("zchat-keys: kept %s\n", secret);
        return 0;
    }
    return s_make (dir, pubdir, name);
}

/* DIR/admin.secret: 32 random bytes in Z85 (40 characters), if there is none. */
static int
s_ensure_admin_secret (const char *dir)
{
    char path [PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/admin.secret", dir);
    if (s_exists (path)) {
        printf ("zchat-keys: kept %s\n", path);
        return 0;
    }
    char unused [41], text [41];
    if (zmq_curve_keypair (unused, text)) { /* a fresh secret key: 32 random bytes, Z85 */
        fprintf (stderr, "zchat-keys: no CURVE in this libzmq to draw a secret with\n");
        return -1;
    }
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *file = fd >= 0 ? fdopen (fd, "w") : NULL;
    int rc =
        file && fprintf (file, "%s\n", text) > 0 && fflush (file) == 0 && fsync (fd) == 0 ? 0 : -1;
    if (file)
        fclose (file);
    else if (fd >= 0)
        close (fd);
    if (rc == 0)
        printf ("zchat-keys: made %s\n", path);
    else
        fprintf (stderr, "zchat-keys: cannot write %s: %s\n", path, strerror (errno));
    explicit_bzero (text, sizeof text);
    return rc;
}

static int
s_init (const char *dir, int replicas)
{
    char members [PATH_MAX + 16];
    snprintf (members, sizeof members, "%s/members", dir);
    if ((mkdir (dir, 0700) && errno != EEXIST) || (mkdir (members, 0700) && errno != EEXIST)) {
        fprintf (stderr, "zchat-keys: cannot make %s: %s\n", members, strerror (errno));
        return 1;
    }
    if (s_ensure (dir, dir, "server.cert"))
        return 1;
    for (int id = 1; id <= replicas; id++) {
        char name [64];
        snprintf (name, sizeof name, "replica-%d.cert", id);
        if (s_ensure (dir, members, name))
            return 1;
    }
    return s_ensure_admin_secret (dir) ? 1 : 0;
}

static int
s_rotate (const char *dir, const char *which)
{
    int id = 0;
    char name [64];
    if (strcmp (which, "server") == 0)
        snprintf (name, sizeof name, "server.cert");
    else if (sscanf (which, "replica-%d", &id) == 1 && id >= 1 && id <= KEYS_MAX_ID)
        snprintf (name, sizeof name, "replica-%d.cert", id);
    else {
        fprintf (stderr, "zchat-keys: rotate takes server or replica-N, not '%s'\n", which);
        return 2;
    }
    char pubdir [PATH_MAX], from [2][PATH_MAX + 80], to [2][PATH_MAX + 96];
    snprintf (pubdir, sizeof pubdir, id ? "%s/members" : "%s", dir);
    snprintf (from [0], sizeof from [0], "%s/%s_secret", dir, name);
    snprintf (to [0], sizeof to [0], "%s.old", from [0]);
    snprintf (from [1], sizeof from [1], "%s/%s", pubdir, name);
    /* the old public key leaves members/ too: zauth stops accepting it at once */
    snprintf (to [1], sizeof to [1], "%s/%s.old", dir, name);
    for (int i = 0; i < 2; i++)
        if (s_exists (from [i]) && rename (from [i], to [i]) != 0) {
            fprintf (stderr, "zchat-keys: cannot move %s aside: %s\n", from [i], strerror (errno));
            return 1;
        }
    return s_make (dir, pubdir, name) ? 1 : 0;
}

static int
s_show (const char *dir)
{
    char path [PATH_MAX + 64];
    snprintf (path, sizeof path, "%s/server.cert", dir);
    zcert_t *cert = zcert_load (path);
    if (!cert) {
        fprintf (stderr, "zchat-keys: no %s\n", path);
        return 1;
    }
    printf ("server %s\n", zcert_public_txt (cert));
    zcert_destroy (&cert);
    for (int id = 1; id <= KEYS_MAX_ID; id++) {
        snprintf (path, sizeof path, "%s/members/replica-%d.cert", dir, id);
        if ((cert = zcert_load (path))) {
            printf ("replica-%d %s\n", id, zcert_public_txt (cert));
            zcert_destroy (&cert);
        }
    }
    return 0;
}

int
main (int argc, char **argv)
{
    zsys_set_logstream (stderr);
    umask (077);
    if (argc >= 2 && (!strcmp (argv [1], "--help") || !strcmp (argv [1], "-h"))) {
        s_usage (stdout);
        return 0;
    }
    if (argc < 3) {
        s_usage (stderr);
        return 2;
    }
    const char *cmd = argv [1], *dir = argv [2];
    if (!strcmp (cmd, "init")) {
        int replicas = 3;
        if (argc == 5 && !strcmp (argv [3], "--replicas"))
            replicas = atoi (argv [4]);
        else if (argc != 3)
            replicas = 0;
        if (replicas < 1 || replicas > KEYS_MAX_ID) {
            fprintf (stderr, "zchat-keys: --replicas takes 1 to %d\n", KEYS_MAX_ID);
            return 2;
        }
        return s_init (dir, replicas);
    }
    if (!strcmp (cmd, "rotate") && argc == 4)
        return s_rotate (dir, argv [3]);
    if (!strcmp (cmd, "show") && argc == 3)
        return s_show (dir);
    s_usage (stderr);
    return 2;
}
