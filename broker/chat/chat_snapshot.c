/*  chat_snapshot.c - the chat state as msgpack bytes (schema/SNAPSHOT_BODY.md), and back.

    Invariant: save writes one canonical encoding of a state (users sorted by name,
    clients oldest activity first, counters), so equal states give equal bytes, and the
    digest is simply a hash of those bytes. Load trusts nothing: every count is checked
    against the limits before use and never preallocated, every value is checked against
    the invariants apply keeps (chat_internal.h); the first violation empties the state
    and returns its code. Whatever apply can produce, load accepts. */
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include "chat_internal.h"
#include "mpread.h"

#define SNAPSHOT_MAGIC   "zchat.chat"
#define SNAPSHOT_VERSION 2 /* 2 added each user's credential; 1 still loads */
#define BITMAP_BYTES     (CHAT_DEDUP_WINDOW / 8)

/* ---- save ---- */

static int
s_pack_bytes (msgpack_packer *pk, bool bin, const char *ptr, size_t len)
{
    int rc = bin ? msgpack_pack_bin (pk, len) : msgpack_pack_str (pk, len);
    if (rc == 0 && len)
        rc = bin ? msgpack_pack_bin_body (pk, ptr, len) : msgpack_pack_str_body (pk, ptr, len);
    return rc;
}

static int
s_pack_user (msgpack_packer *pk, const chat_user_t *user)
{
    int rc = msgpack_pack_array (pk, 5);
    rc |= s_pack_bytes (pk, false, user->name, user->name_len);
    rc |= msgpack_pack_uint64 (pk, user->epoch);
    rc |= msgpack_pack_uint64 (pk, user->next_mseq);
    rc |= s_pack_bytes (pk, false, user->cred, user->cred_len);
    rc |= msgpack_pack_array (pk, user->queued);
    for (const chat_msg_t *msg = user->head; msg && rc == 0; msg = msg->next) {
        rc |= msgpack_pack_array (pk, 4);
        rc |= msgpack_pack_uint64 (pk, msg->mseq);
        rc |= msgpack_pack_uint64 (pk, msg->ts);
        rc |= s_pack_bytes (pk, false, msg->data, msg->from_len);
        rc |= s_pack_bytes (pk, true, msg->data + msg->from_len, msg->text_len);
    }
    return rc;
}

static int
s_pack_client (msgpack_packer *pk, const chat_client_t *client)
{
    uint8_t bitmap [BITMAP_BYTES];
    for (size_t i = 0; i < BITMAP_BYTES; i++)
        bitmap [i] = (uint8_t) (client->applied [i / 8] >> (8 * (i % 8)));
    int rc = msgpack_pack_array (pk, 6);
    rc |= msgpack_pack_uint64 (pk, client->cid);
    rc |= msgpack_pack_uint64 (pk, client->highest);
    rc |= msgpack_pack_uint64 (pk, client->last_active);
    rc |= s_pack_bytes (pk, true, (const char *) bitmap, BITMAP_BYTES);
    rc |= s_pack_bytes (pk, true, (const char *) client->codes, CHAT_DEDUP_WINDOW);
    uint32_t applied = 0;
    for (size_t slot = 0; slot < CHAT_DEDUP_WINDOW; slot++)
        applied += (client->applied [slot / 64] >> (slot % 64)) & 1;
    rc |= msgpack_pack_array (pk, applied);
    for (size_t slot = 0; slot < CHAT_DEDUP_WINDOW; slot++)
        if ((client->applied [slot / 64] >> (slot % 64)) & 1)
            rc |= msgpack_pack_uint64 (pk, client->values [slot]);
    return rc;
}

int
chat_snapshot_save (const chat_t *self, uint8_t **buf_out, size_t *len_out)
{
    chat_user_t **users;
    size_t n_users;
    if (chat_users_sorted (self, &users, &n_users) != 0)
        return -1;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    int rc = msgpack_pack_array (&pk, 5);
    rc |= s_pack_bytes (&pk, false, SNAPSHOT_MAGIC, strlen (SNAPSHOT_MAGIC));
    rc |= msgpack_pack_uint64 (&pk, SNAPSHOT_VERSION);
    rc |= msgpack_pack_array (&pk, 3);
    rc |= msgpack_pack_uint64 (&pk, self->users.count);
    rc |= msgpack_pack_uint64 (&pk, self->queued);
    rc |= msgpack_pack_uint64 (&pk, self->queued_bytes);
    rc |= msgpack_pack_array (&pk, n_users);
    for (size_t i = 0; i < n_users && rc == 0; i++)
        rc |= s_pack_user (&pk, users [i]);
    free (users);
    rc |= msgpack_pack_array (&pk, self->clients.count);
    for (const chat_client_t *c = self->oldest; c && rc == 0; c = c->newer)
        rc |= s_pack_client (&pk, c);
    if (rc != 0) {
        msgpack_sbuffer_destroy (&sbuf);
        return -1;
    }
    *buf_out = (uint8_t *) sbuf.data;
    *len_out = sbuf.size;
    return 0;
}

uint64_t
chat_digest (const chat_t *self)
{
    uint8_t *buf;
    size_t len;
    if (chat_snapshot_save (self, &buf, &len) != 0)
        return 0;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= buf [i];
        h *= 0x100000001b3ULL;
    }
    free (buf);
    return h;
}

/* ---- load ---- */

/* Each step below returns ZC_OK or the code of the first thing wrong. */
#define TRY(expr)                                                                                  \
    do {                                                                                           \
        zc_code_t rc_ = (expr);                                                                    \
        if (rc_ != ZC_OK)                                                                          \
            return rc_;                                                                            \
    } while (0)

static zc_code_t
s_expect_array (mpr_t *r, uint32_t want)
{
    uint32_t n;
    TRY (mpr_array (r, &n));
    return n == want ? ZC_OK : ZC_ERR_BAD_TYPE;
}

static zc_code_t
s_load_msg (chat_t *self, mpr_t *r, chat_user_t *user)
{
    uint64_t mseq, ts;
    zc_bytes_t from, text;
    const uint8_t *text_ptr;
    TRY (s_expect_array (r, 4));
    TRY (mpr_uint (r, &mseq));
    TRY (mpr_uint (r, &ts));
    TRY (mpr_str (r, &from.ptr, &from.len));
    TRY (mpr_bin (r, &text_ptr, &text.len));
    text.ptr = (const char *) text_ptr;
    uint64_t last = user->tail ? user->tail->mseq : 0;
    if (mseq <= last || mseq >= user->next_mseq)
        return ZC_ERR_BAD_TYPE;
    if (from.len && !zc_name_valid (from.ptr, from.len))
        return ZC_ERR_BAD_NAME;
    if (text.len > ZC_TEXT_MAX)
        return ZC_ERR_TOO_LARGE;
    chat_msg_t *msg = chat_msg_new (mseq, ts, from, text);
    if (msg == NULL)
        return ZC_ERR_INTERNAL;
    chat_user_push (self, user, msg);
    return ZC_OK;
}

static zc_code_t
s_load_user (chat_t *self, mpr_t *r, uint64_t version, zc_bytes_t *prev)
{
    zc_bytes_t name, cred = { "", 0 };
    uint64_t epoch, next_mseq;
    uint32_t n_msgs;
    TRY (s_expect_array (r, version == 1 ? 4 : 5));
    TRY (mpr_str (r, &name.ptr, &name.len));
    if (!zc_name_valid (name.ptr, name.len))
        return ZC_ERR_BAD_NAME;
    /* Strictly ascending names: canonical, and proves there are no duplicates. */
    size_t common = name.len < prev->len ? name.len : prev->len;
    int cmp = prev->len ? memcmp (prev->ptr, name.ptr, common) : -1;
    if (cmp > 0 || (cmp == 0 && prev->len >= name.len))
        return ZC_ERR_BAD_TYPE;
    *prev = name;
    TRY (mpr_uint (r, &epoch));
    TRY (mpr_uint (r, &next_mseq));
    if (next_mseq == 0)
        return ZC_ERR_BAD_TYPE;
    if (version > 1)
        TRY (mpr_str (r, &cred.ptr, &cred.len));
    if (cred.len > ZC_CRED_MAX)
        return ZC_ERR_TOO_LARGE;
    TRY (mpr_array (r, &n_msgs));
    if (n_msgs > self->limits.max_queue)
        return ZC_ERR_TOO_LARGE;
    chat_user_t *user = chat_user_add (self, name.ptr, name.len, epoch);
    if (user == NULL)
        return ZC_ERR_INTERNAL;
    user->next_mseq = next_mseq;
    chat_user_set_cred (user, cred);
    for (uint32_t i = 0; i < n_msgs; i++)
        TRY (s_load_msg (self, r, user));
    return ZC_OK;
}

/* The window bitmap and codes must be what apply leaves: codes only for applied
   seqs, nothing outside (highest - window, highest], and highest itself applied. */
static zc_code_t
s_load_window (chat_client_t *client, const uint8_t *bitmap, const uint8_t *codes)
{
    for (size_t slot = 0; slot < CHAT_DEDUP_WINDOW; slot++) {
        bool set = (bitmap [slot / 8] >> (slot % 8)) & 1;
        bool in_window = client->highest >= CHAT_DEDUP_WINDOW - 1 || slot <= client->highest;
        if ((set && (!in_window || codes [slot] >= ZC_CODE__COUNT)) || (!set && codes [slot]))
            return ZC_ERR_BAD_TYPE;
        if (set)
            client->applied [slot / 64] |= 1ULL << (slot % 64);
        client->codes [slot] = codes [slot];
    }
    size_t top = client->highest % CHAT_DEDUP_WINDOW;
    return (client->applied [top / 64] >> (top % 64)) & 1 ? ZC_OK : ZC_ERR_BAD_TYPE;
}

/* One value per applied slot, in slot order. */
static zc_code_t
s_load_values (mpr_t *r, chat_client_t *client)
{
    uint32_t applied = 0;
    for (size_t slot = 0; slot < CHAT_DEDUP_WINDOW; slot++)
        applied += (client->applied [slot / 64] >> (slot % 64)) & 1;
    TRY (s_expect_array (r, applied));
    for (size_t slot = 0; slot < CHAT_DEDUP_WINDOW; slot++)
        if ((client->applied [slot / 64] >> (slot % 64)) & 1)
            TRY (mpr_uint (r, &client->values [slot]));
    return ZC_OK;
}

static zc_code_t
s_load_client (chat_t *self, mpr_t *r, uint64_t *prev_active)
{
    uint64_t cid, highest, last_active;
    const uint8_t *bitmap, *codes;
    uint32_t bitmap_len, codes_len;
    TRY (s_expect_array (r, 6));
    TRY (mpr_uint (r, &cid));
    TRY (mpr_uint (r, &highest));
    TRY (mpr_uint (r, &last_active));
    TRY (mpr_bin (r, &bitmap, &bitmap_len));
    TRY (mpr_bin (r, &codes, &codes_len));
    if (cid == 0 || chat_client_find (self, cid) || last_active < *prev_active
        || bitmap_len != BITMAP_BYTES || codes_len != CHAT_DEDUP_WINDOW)
        return ZC_ERR_BAD_TYPE;
    *prev_active = last_active;
    chat_client_t *client = chat_client_add (self, cid);
    if (client == NULL)
        return ZC_ERR_INTERNAL;
    client->highest = highest;
    client->last_active = last_active;
    TRY (s_load_window (client, bitmap, codes));
    return s_load_values (r, client);
}

static zc_code_t
s_load_header (mpr_t *r, uint64_t *version_out, uint64_t counters [3])
{
    const char *magic;
    uint32_t magic_len;
    uint64_t version;
    TRY (s_expect_array (r, 5));
    TRY (mpr_str (r, &magic, &magic_len));
    if (magic_len != strlen (SNAPSHOT_MAGIC) || memcmp (magic, SNAPSHOT_MAGIC, magic_len))
        return ZC_ERR_BAD_TYPE;
    TRY (mpr_uint (r, &version));
    if (version != SNAPSHOT_VERSION && version != 1)
        return ZC_ERR_BAD_TYPE;
    *version_out = version;
    TRY (s_expect_array (r, 3));
    for (int i = 0; i < 3; i++)
        TRY (mpr_uint (r, &counters [i]));
    return ZC_OK;
}

static zc_code_t
s_load (chat_t *self, mpr_t *r)
{
    uint64_t counters [3], version;
    uint32_t n;
    TRY (s_load_header (r, &version, counters));
    TRY (mpr_array (r, &n));
    if (n > self->limits.max_users)
        return ZC_ERR_TOO_LARGE;
    zc_bytes_t prev = { NULL, 0 };
    for (uint32_t i = 0; i < n; i++)
        TRY (s_load_user (self, r, version, &prev));
    TRY (mpr_array (r, &n));
    if (n > self->limits.max_clients)
        return ZC_ERR_TOO_LARGE;
    uint64_t prev_active = 0;
    for (uint32_t i = 0; i < n; i++)
        TRY (s_load_client (self, r, &prev_active));
    if (!mpr_done (r))
        return ZC_ERR_TRAILING;
    if (counters [0] != self->users.count || counters [1] != self->queued
        || counters [2] != self->queued_bytes)
        return ZC_ERR_BAD_TYPE;
    return ZC_OK;
}

zc_code_t
chat_snapshot_load (chat_t *self, const uint8_t *buf, size_t len)
{
    static const uint8_t nothing [1];
    chat_clear (self);
    mpr_t r;
    mpr_init (&r, buf ? buf : nothing, buf ? len : 0);
    zc_code_t code = s_load (self, &r);
    if (code != ZC_OK)
        chat_clear (self);
    return code;
}
