/*  admin_members.c - MEMBERS (see admin_members.h). */
#include "admin_members.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blog.h"
#include "server_internal.h"

#define MEMBERS_WAIT_MS 5000 /* a change not committed by then is reported as such */

struct admin_members {
    bool waiting;
    uint8_t routing [ROUTING_ID_MAX];
    size_t routing_len;
    uint64_t seq;
    uint64_t index, term; /* the change's log entry */
    uint64_t deadline_ms;
};

admin_members_t *
admin_members_new (void)
{
    return (admin_members_t *) calloc (1, sizeof (admin_members_t));
}

void
admin_members_destroy (admin_members_t **self_p)
{
    free (*self_p);
    *self_p = NULL;
}

/* "1 voter zchat1:7001 (log 120)" per member, one per line. */
static void
s_describe (server_t *server, char *text, size_t size)
{
    replica_member_t members [RAFT_MAX_NODES];
    uint32_t n = replica_members (server->replica, server->now_ms, members, RAFT_MAX_NODES);
    const raft_t *raft = replica_raft (server->replica);
    size_t at = (size_t) snprintf (
        text, size, "members (log index %llu):", (unsigned long long) raft_conf_index (raft));
    for (uint32_t i = 0; i < n && at < size; i++) {
        const replica_member_t *m = &members [i];
        const raft_member_t *c = raft_conf_find (raft_conf (raft), m->id);
        if (!c)
            continue; /* itself, removed and handing over: not a member */
        at += (size_t) snprintf (text + at, size - at, "\n%u %s %s match %llu of %llu", m->id,
                                 m->voter     ? "voter"
                                 : c->promote ? "learner(promoting)"
                                              : "learner",
                                 m->addr, (unsigned long long) m->match,
                                 (unsigned long long) raft_last_index (raft));
    }
}

static void
s_reply (server_t *server, const uint8_t *routing, size_t routing_len, uint64_t seq)
{
    char text [ZC_TEXT_MAX + 1];
    s_describe (server, text, sizeof text);
    zc_frame_t frame;
    zc_frame_init (&frame, ZC_CMD_REPLY);
    frame.fields = ZC_F_RE | ZC_F_SEQ | ZC_F_CODE | ZC_F_TEXT;
    frame.re = ZC_CMD_MEMBERS;
    frame.seq = seq;
    frame.text = (zc_bytes_t) { text, (uint32_t) strlen (text) };
    server_send (server, routing, routing_len, &frame);
}

static bool
s_parse_id (const char *word, uint32_t *id)
{
    char *end;
    unsigned long v = strtoul (word, &end, 10);
    *id = (uint32_t) v;
    return *word >= '0' && *word <= '9' && *end == 0 && v >= 1 && v <= RAFT_MAX_ID;
}

/* HOST:PORT with a port that leaves room for the two peer ports after it. */
static bool
s_valid_addr (const char *addr)
{
    const char *colon = strrchr (addr, ':');
    if (!colon || colon == addr || strlen (addr) >= RAFT_CONF_ADDR_MAX)
        return false;
    char *end;
    unsigned long port = strtoul (colon + 1, &end, 10);
    return colon [1] && *end == 0 && port >= 1 && port <= 65533;
}

/* Build the next configuration from the request's words; NULL, or why not. */
static const char *
s_next (const raft_conf_t *cur, char *words [], int n_words, raft_conf_t *next, zc_code_t *code)
{
    *next = *cur;
    *code = ZC_ERR_BAD_MEMBERS;
    uint32_t id;
    if (n_words >= 2 && !s_parse_id (words [1], &id))
        return "a replica id is a number from 1 to 63";
    if (strcmp (words [0], "add") == 0 && (n_words == 3 || n_words == 4)) {
        bool learner = n_words == 4;
        if (learner && strcmp (words [3], "learner") != 0)
            return "usage: add ID HOST:PORT [learner]";
        if (raft_conf_find (cur, id))
            return "that id is a member already (ids of removed replicas are not reused"
                   " either: pick a new one)";
        if (!s_valid_addr (words [2]))
            return "the address must be HOST:PORT of its client port (at most 65533)";
        if (cur->n == RAFT_MAX_NODES)
            return "a configuration holds at most 7 members: remove one first";
        raft_member_t m = { .id = id, .voter = false, .promote = !learner };
        snprintf (m.addr, sizeof m.addr, "%s", words [2]);
        raft_conf_put (next, &m);
        return NULL;
    }
    if (strcmp (words [0], "remove") == 0 && n_words == 2) {
        if (!raft_conf_find (cur, id)) {
            *code = ZC_ERR_NO_SUCH_REPLICA;
            return "no member has that id";
        }
        if (raft_conf_is_voter (cur, id) && raft_conf_voters (cur) == 1)
            return "the last voter cannot be removed";
        raft_conf_remove (next, id);
        return NULL;
    }
    return "usage: list | add ID HOST:PORT [learner] | remove ID";
}

void
admin_members_request (server_t *server, conn_t *conn, const zc_frame_t *frame)
{
    admin_members_t *self = server->members_admin;
    if (!admin_authorised (server, conn, frame))
        return;
    char line [ZC_TEXT_MAX + 1] = "";
    if (frame->fields & ZC_F_TEXT)
        snprintf (line, sizeof line, "%.*s", (int) frame->text.len, frame->text.ptr);
    char *words [6];
    int n_words = 0;
    char *save = NULL;
    for (char *w = strtok_r (line, " \t", &save); w && n_words < 6;
         w = strtok_r (NULL, " \t", &save))
        words [n_words++] = w;
    if (n_words == 0 || (n_words == 1 && strcmp (words [0], "list") == 0)) {
        s_reply (server, conn->id, conn->len, frame->seq);
        return;
    }
    if (self->waiting) {
        server_error (server, conn->id, conn->len, ZC_CMD_MEMBERS, frame->seq, ZC_ERR_BUSY,
                      "another membership change waits to be committed");
        return;
    }
    const raft_t *raft = replica_raft (server->replica);
    raft_conf_t next;
    zc_code_t code;
    const char *why = s_next (raft_conf (raft), words, n_words, &next, &code);
    if (why) {
        server_error (server, conn->id, conn->len, ZC_CMD_MEMBERS, frame->seq, code, why);
        return;
    }
    code = admin_code (replica_change_members (server->replica, &next));
    if (code != ZC_OK) {
        server_error (server, conn->id, conn->len, ZC_CMD_MEMBERS, frame->seq, code,
                      code == ZC_ERR_BUSY ? "the previous membership change is not committed"
                                            " yet (or leadership just moved): retry"
                                          : NULL);
        return;
    }
    *self = (admin_members_t) { .waiting = true,
                                .routing_len = conn->len,
                                .seq = frame->seq,
                                .index = raft_conf_index (raft),
                                .term = raft_term (raft),
                                .deadline_ms = server->now_ms + MEMBERS_WAIT_MS };
    memcpy (self->routing, conn->id, conn->len);
    char text [RAFT_MAX_NODES * (RAFT_CONF_ADDR_MAX + 8)];
    raft_conf_describe (&next, text, sizeof text);
    blog ("members_change", "index=%llu to=\"%s\"", (unsigned long long) self->index, text);
}

void
admin_members_tick (server_t *server)
{
    admin_members_t *self = server->members_admin;
    if (!self->waiting)
        return;
    const raft_t *raft = replica_raft (server->replica);
    const raft_entry_t *entry = raft_entry_at (raft, self->index);
    bool committed = raft_commit_index (raft) >= self->index;
    bool ours = !entry || entry->term == self->term; /* compacted: it was committed */
    if (committed && ours) {
        s_reply (server, self->routing, self->routing_len, self->seq);
        self->waiting = false;
        return;
    }
    if (!server->leader || !ours) {
        server_error (server, self->routing, self->routing_len, ZC_CMD_MEMBERS, self->seq,
                      ZC_ERR_UNAVAILABLE,
                      "leadership moved before the change was committed: list the members,"
                      " then retry if it is not there");
        self->waiting = false;
        return;
    }
    if (server->now_ms >= self->deadline_ms) {
        server_error (server, self->routing, self->routing_len, ZC_CMD_MEMBERS, self->seq,
                      ZC_ERR_UNAVAILABLE,
                      "the change is in the log but not committed yet (no quorum?): list the"
                      " members to follow it");
        self->waiting = false;
    }
}
