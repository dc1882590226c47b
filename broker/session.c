/*  session.c - connection and session tables. Sessions are owned by the user table;
    connections by the connection table; each points at the other while bound. */
#include "session.h"

struct sessions {
    uint32_t max_connections;
    zhashx_t *conns;   /* hex routing id -> conn_t (owned) */
    zhashx_t *users;   /* user name -> session_t (owned) */
    zlistx_t *marked;  /* session_t (not owned) */
    zlistx_t *ack_due; /* session_t (not owned) */
    uint64_t ack_due_since_ms;
};

static void
s_free (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

sessions_t *
sessions_new (uint32_t max_connections)
{
    sessions_t *self = (sessions_t *) zmalloc (sizeof (sessions_t));
    self->max_connections = max_connections;
    self->conns = zhashx_new ();
    zhashx_set_destructor (self->conns, s_free);
    self->users = zhashx_new ();
    zhashx_set_destructor (self->users, s_free);
    self->marked = zlistx_new ();
    self->ack_due = zlistx_new ();
    return self;
}

void
sessions_destroy (sessions_t **self_p)
{
    if (!*self_p)
        return;
    sessions_t *self = *self_p;
    zlistx_destroy (&self->marked);
    zlistx_destroy (&self->ack_due);
    zhashx_destroy (&self->users);
    zhashx_destroy (&self->conns);
    free (self);
    *self_p = NULL;
}

static void
s_hex (const uint8_t *id, size_t len, char *key)
{
    static const char digits [] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        key [2 * i] = digits [id [i] >> 4];
        key [2 * i + 1] = digits [id [i] & 15];
    }
    key [2 * len] = 0;
}

static conn_t *
s_conn_find (sessions_t *self, const uint8_t *id, size_t len)
{
    if (len == 0 || len > ROUTING_ID_MAX)
        return NULL;
    char key [2 * ROUTING_ID_MAX + 1];
    s_hex (id, len, key);
    return (conn_t *) zhashx_lookup (self->conns, key);
}

conn_t *
sessions_touch (sessions_t *self, const uint8_t *id, size_t len, uint64_t now_ms)
{
    conn_t *conn = s_conn_find (self, id, len);
    if (!conn) {
        if (len == 0 || len > ROUTING_ID_MAX || zhashx_size (self->conns) >= self->max_connections)
            return NULL;
        conn = (conn_t *) zmalloc (sizeof (conn_t));
        memcpy (conn->id, id, len);
        conn->len = len;
        s_hex (id, len, conn->key);
        zhashx_insert (self->conns, conn->key, conn);
    }
    conn->last_seen_ms = now_ms;
    return conn;
}

session_t *
sessions_find (sessions_t *self, const char *user, size_t len)
{
    char name [ZC_NAME_MAX + 1];
    if (len == 0 || len >= sizeof name)
        return NULL;
    memcpy (name, user, len);
    name [len] = 0;
    return (session_t *) zhashx_lookup (self->users, name);
}

static void
s_unmark (sessions_t *self, session_t *session)
{
    if (session->mark)
        zlistx_delete (self->marked, session->mark);
    session->mark = NULL;
    if (session->ack_mark)
        zlistx_delete (self->ack_due, session->ack_mark);
    session->ack_mark = NULL;
}

void
sessions_end (sessions_t *self, session_t *session)
{
    s_unmark (self, session);
    if (session->conn)
        session->conn->session = NULL;
    zhashx_delete (self->users, session->user);
}

session_t *
sessions_bind (sessions_t *self, conn_t *conn, const char *user, uint64_t epoch,
               uint64_t shown_mseq, uint64_t now_ms, conn_t **replaced_conn)
{
    *replaced_conn = NULL;
    session_t *old = (session_t *) zhashx_lookup (self->users, user);
    if (old) {
        if (old->conn != conn)
            *replaced_conn = old->conn;
        else if (old->epoch == epoch && old->acked > shown_mseq)
            shown_mseq = old->acked; /* the same client again: what it acked stays acked */
        sessions_end (self, old);
    }
    if (conn->session)
        sessions_end (self, conn->session); /* one user per connection */
    session_t *session = (session_t *) zmalloc (sizeof (session_t));
    snprintf (session->user, sizeof session->user, "%s", user);
    session->epoch = epoch;
    session->conn = conn;
    session->pushed = shown_mseq;
    session->acked = shown_mseq;
    session->progress_ms = now_ms;
    conn->session = session;
    zhashx_insert (self->users, session->user, session);
    sessions_mark (self, session);
    return session;
}

void
sessions_end_all (sessions_t *self, void (*tell) (void *arg, conn_t *conn, session_t *s), void *arg)
{
    /* collected first: ending each while iterating would rescan emptied buckets */
    zlistx_t *all = zlistx_new ();
    for (session_t *s = (session_t *) zhashx_first (self->users); s;
         s = (session_t *) zhashx_next (self->users))
        zlistx_add_end (all, s);
    for (session_t *s = (session_t *) zlistx_first (all); s; s = (session_t *) zlistx_next (all)) {
        if (tell && s->conn)
            tell (arg, s->conn, s);
        sessions_end (self, s);
    }
    zlistx_destroy (&all);
}

void
sessions_mark (sessions_t *self, session_t *session)
{
    if (!session->mark)
        session->mark = zlistx_add_end (self->marked, session);
}

session_t *
sessions_next_marked (sessions_t *self)
{
    session_t *session = (session_t *) zlistx_detach (self->marked, NULL);
    if (session)
        session->mark = NULL;
    return session;
}

void
sessions_ack_due (sessions_t *self, session_t *session, uint64_t now_ms)
{
    if (session->ack_mark)
        return;
    if (zlistx_size (self->ack_due) == 0)
        self->ack_due_since_ms = now_ms;
    session->ack_mark = zlistx_add_end (self->ack_due, session);
}

session_t *
sessions_next_ack_due (sessions_t *self)
{
    session_t *session = (session_t *) zlistx_detach (self->ack_due, NULL);
    if (session)
        session->ack_mark = NULL;
    return session;
}

bool
sessions_acks_due (const sessions_t *self, uint64_t *since_ms)
{
    *since_ms = self->ack_due_since_ms;
    return zlistx_size (self->ack_due) > 0;
}

size_t
sessions_sweep (sessions_t *self, uint64_t now_ms, uint64_t timeout_ms)
{
    zlistx_t *expired = zlistx_new ();
    for (conn_t *conn = (conn_t *) zhashx_first (self->conns); conn;
         conn = (conn_t *) zhashx_next (self->conns)) {
        if (now_ms - conn->last_seen_ms > timeout_ms)
            zlistx_add_end (expired, conn);
        else if (conn->session && conn->session->blocked) {
            conn->session->blocked = false;
            sessions_mark (self, conn->session);
        }
        else if (conn->session && conn->session->acked < conn->session->pushed
                 && now_ms - conn->session->progress_ms > SESSION_RESEND_MS) {
            conn->session->pushed = conn->session->acked; /* at-least-once: send again */
            conn->session->progress_ms = now_ms;
            sessions_mark (self, conn->session);
        }
    }
    size_t count = zlistx_size (expired);
    for (conn_t *conn = (conn_t *) zlistx_first (expired); conn;
         conn = (conn_t *) zlistx_next (expired)) {
        if (conn->session)
            sessions_end (self, conn->session);
        zhashx_delete (self->conns, conn->key);
    }
    zlistx_destroy (&expired);
    return count;
}

size_t
sessions_count (const sessions_t *self)
{
    return zhashx_size (self->users);
}
