/*  raft_conf.c - configurations: lookup, single-change check and their log encoding. */
#include "raft_conf.h"
#include <stdio.h>
#include <string.h>

#define CONF_MARK0   0xC1
#define CONF_MARK1   'C'
#define CONF_VERSION 1
#define FLAG_VOTER   1
#define FLAG_PROMOTE 2

const raft_member_t *
raft_conf_find (const raft_conf_t *conf, uint32_t id)
{
    for (uint32_t i = 0; i < conf->n; i++)
        if (conf->members [i].id == id)
            return &conf->members [i];
    return NULL;
}

bool
raft_conf_is_voter (const raft_conf_t *conf, uint32_t id)
{
    const raft_member_t *m = raft_conf_find (conf, id);
    return m && m->voter;
}

uint32_t
raft_conf_voters (const raft_conf_t *conf)
{
    uint32_t voters = 0;
    for (uint32_t i = 0; i < conf->n; i++)
        voters += conf->members [i].voter;
    return voters;
}

void
raft_conf_voters_1_to_n (raft_conf_t *conf, uint32_t n)
{
    memset (conf, 0, sizeof *conf);
    for (uint32_t id = 1; id <= n && id <= RAFT_MAX_NODES; id++)
        conf->members [conf->n++] = (raft_member_t) { .id = id, .voter = true };
}

int
raft_conf_put (raft_conf_t *conf, const raft_member_t *member)
{
    if (member->id < 1 || member->id > RAFT_MAX_ID)
        return -1;
    uint32_t i = 0;
    while (i < conf->n && conf->members [i].id < member->id)
        i++;
    if (i < conf->n && conf->members [i].id == member->id) {
        conf->members [i] = *member;
        return 0;
    }
    if (conf->n == RAFT_MAX_NODES)
        return -1;
    memmove (&conf->members [i + 1], &conf->members [i], (conf->n - i) * sizeof (raft_member_t));
    conf->members [i] = *member;
    conf->n++;
    return 0;
}

int
raft_conf_remove (raft_conf_t *conf, uint32_t id)
{
    for (uint32_t i = 0; i < conf->n; i++) {
        if (conf->members [i].id != id)
            continue;
        memmove (&conf->members [i], &conf->members [i + 1],
                 (conf->n - i - 1) * sizeof (raft_member_t));
        conf->n--;
        return 0;
    }
    return -1;
}

static bool
s_member_equal (const raft_member_t *a, const raft_member_t *b)
{
    return a->id == b->id && a->voter == b->voter && a->promote == b->promote
           && strcmp (a->addr, b->addr) == 0;
}

bool
raft_conf_equal (const raft_conf_t *a, const raft_conf_t *b)
{
    if (a->n != b->n)
        return false;
    for (uint32_t i = 0; i < a->n; i++)
        if (!s_member_equal (&a->members [i], &b->members [i]))
            return false;
    return true;
}

/* Members of a not in b, or in b with other flags or address. */
static uint32_t
s_changed (const raft_conf_t *a, const raft_conf_t *b, bool *only_flags)
{
    uint32_t changed = 0;
    for (uint32_t i = 0; i < a->n; i++) {
        const raft_member_t *other = raft_conf_find (b, a->members [i].id);
        if (other && s_member_equal (&a->members [i], other))
            continue;
        changed++;
        if (!other || strcmp (other->addr, a->members [i].addr) != 0)
            *only_flags = false;
    }
    return changed;
}

bool
raft_conf_single_change (const raft_conf_t *cur, const raft_conf_t *next)
{
    if (raft_conf_voters (next) == 0)
        return false;
    bool only_flags = true;
    uint32_t gone = s_changed (cur, next, &only_flags);
    bool unused = true;
    uint32_t added = s_changed (next, cur, &unused);
    if (gone == 0 && added == 0)
        return false;
    if (cur->n == next->n)
        return gone == 1 && added == 1 && only_flags; /* one member's flags */
    return gone + added == 1;                         /* one member in or out */
}

static void
s_put16 (uint8_t *p, uint32_t v)
{
    p [0] = (uint8_t) v;
    p [1] = (uint8_t) (v >> 8);
}

size_t
raft_conf_encode (const raft_conf_t *conf, uint8_t *buf, size_t cap)
{
    if (cap < RAFT_CONF_ENCODED_MAX)
        return 0;
    size_t at = 0;
    buf [at++] = CONF_MARK0;
    buf [at++] = CONF_MARK1;
    buf [at++] = CONF_VERSION;
    buf [at++] = (uint8_t) conf->n;
    for (uint32_t i = 0; i < conf->n; i++) {
        const raft_member_t *m = &conf->members [i];
        size_t len = strnlen (m->addr, RAFT_CONF_ADDR_MAX - 1);
        buf [at++] = (uint8_t) m->id;
        buf [at++] = (uint8_t) ((m->voter ? FLAG_VOTER : 0) | (m->promote ? FLAG_PROMOTE : 0));
        s_put16 (buf + at, (uint32_t) len);
        at += 2;
        memcpy (buf + at, m->addr, len);
        at += len;
    }
    return at;
}

bool
raft_conf_is_entry (const uint8_t *data, size_t len)
{
    return len >= 2 && data [0] == CONF_MARK0 && data [1] == CONF_MARK1;
}

int
raft_conf_decode (const uint8_t *data, size_t len, raft_conf_t *conf)
{
    size_t used;
    return raft_conf_decode_prefix (data, len, conf, &used) == 0 && used == len ? 0 : -1;
}

int
raft_conf_decode_prefix (const uint8_t *data, size_t len, raft_conf_t *conf, size_t *used)
{
    memset (conf, 0, sizeof *conf);
    if (len < 4 || !raft_conf_is_entry (data, len) || data [2] != CONF_VERSION
        || data [3] > RAFT_MAX_NODES)
        return -1;
    uint32_t n = data [3];
    size_t at = 4;
    for (uint32_t i = 0; i < n; i++) {
        if (len - at < 4)
            return -1;
        raft_member_t *m = &conf->members [i];
        m->id = data [at];
        uint8_t flags = data [at + 1];
        size_t addr_len = (size_t) data [at + 2] | (size_t) data [at + 3] << 8;
        at += 4;
        if (m->id < 1 || m->id > RAFT_MAX_ID || (i > 0 && m->id <= conf->members [i - 1].id)
            || (flags & ~(FLAG_VOTER | FLAG_PROMOTE)) || addr_len >= RAFT_CONF_ADDR_MAX
            || len - at < addr_len || memchr (data + at, 0, addr_len))
            return -1;
        m->voter = flags & FLAG_VOTER;
        m->promote = (flags & FLAG_PROMOTE) && !m->voter;
        memcpy (m->addr, data + at, addr_len);
        at += addr_len;
    }
    conf->n = n;
    *used = at;
    return raft_conf_voters (conf) ? 0 : -1;
}

void
raft_conf_describe (const raft_conf_t *conf, char *buf, size_t cap)
{
    size_t at = 0;
    buf [0] = 0;
    for (uint32_t i = 0; i < conf->n && at < cap; i++) {
        const raft_member_t *m = &conf->members [i];
        int w = snprintf (buf + at, cap - at, "%s%u%s%s", i ? "," : "", m->id, m->voter ? "=" : "~",
                          m->addr);
        if (w < 0)
            break;
        at += (size_t) w;
    }
}
