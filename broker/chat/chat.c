/*  chat.c - applying committed commands to users, queues and the client table.

    Invariant: chat_apply is a pure function of (state, index, command). It reads no
    clock and no randomness, and a command that fails changes nothing but the client
    table entry recording that failure (so a retry gets the same answer). Running out of
    memory while applying aborts: a replica that skipped an entry would silently diverge
    from the others, which is worse than stopping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "chat_internal.h"

static void
s_out_of_memory (void)
{
    fprintf (stderr, "chat: out of memory while applying a committed entry\n");
    abort ();
}

void
chat_limits_defaults (chat_limits_t *limits)
{
    limits->max_users = 100000;
    limits->max_queue = 100000;
    limits->max_clients = 10000;
}

chat_t *
chat_new (const chat_limits_t *limits)
{
    chat_t *self = calloc (1, sizeof (chat_t));
    if (self == NULL)
        return NULL;
    if (limits)
        self->limits = *limits;
    else
        chat_limits_defaults (&self->limits);
    return self;
}

static void
s_user_free (chat_user_t *user)
{
    chat_msg_t *msg = user->head;
    while (msg) {
        chat_msg_t *next = msg->next;
        free (msg);
        msg = next;
    }
    free (user);
}

void
chat_clear (chat_t *self)
{
    for (size_t i = 0; self->users.items && i <= self->users.mask; i++)
        if (self->users.items [i])
            s_user_free (self->users.items [i]);
    chat_map_free (&self->users);
    chat_client_t *client = self->oldest;
    while (client) {
        chat_client_t *newer = client->newer;
        free (client);
        client = newer;
    }
    chat_map_free (&self->clients);
    self->oldest = self->newest = NULL;
    self->queued = 0;
    self->queued_bytes = 0;
}

void
chat_destroy (chat_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    chat_clear (*self_p);
    free (*self_p);
    *self_p = NULL;
}

/* ---- users and messages ---- */

typedef struct {
    const char *name;
    size_t len;
} s_name_key_t;

static bool
s_user_eq (const void *item, const void *key)
{
    const chat_user_t *user = item;
    const s_name_key_t *k = key;
    return user->name_len == k->len && memcmp (user->name, k->name, k->len) == 0;
}

chat_user_t *
chat_user_find (const chat_t *self, const char *name, size_t len)
{
    if (len == 0 || len > ZC_NAME_MAX)
        return NULL;
    s_name_key_t key = { name, len };
    return chat_map_find (&self->users, chat_hash_bytes (name, len), s_user_eq, &key);
}

chat_user_t *
chat_user_add (chat_t *self, const char *name, size_t len, uint64_t epoch)
{
    chat_user_t *user = calloc (1, sizeof (chat_user_t));
    if (user == NULL || chat_map_reserve (&self->users) != 0) {
        free (user);
        return NULL;
    }
    user->hash = chat_hash_bytes (name, len);
    user->epoch = epoch;
    user->next_mseq = 1;
    user->name_len = (uint8_t) len;
    memcpy (user->name, name, len);
    chat_map_insert (&self->users, user->hash, user);
    return user;
}

void
chat_user_set_cred (chat_user_t *user, zc_bytes_t cred)
{
    user->cred_len = (uint8_t) cred.len;
    if (cred.len)
        memcpy (user->cred, cred.ptr, cred.len);
}

static void
s_user_remove (chat_t *self, chat_user_t *user)
{
    s_name_key_t key = { user->name, user->name_len };
    chat_map_remove (&self->users, user->hash, s_user_eq, &key);
    for (chat_msg_t *msg = user->head; msg; msg = msg->next) {
        self->queued--;
        self->queued_bytes -= msg->text_len;
    }
    s_user_free (user);
}

chat_msg_t *
chat_msg_new (uint64_t mseq, uint64_t ts, zc_bytes_t from, zc_bytes_t text)
{
    chat_msg_t *msg = malloc (sizeof (chat_msg_t) + from.len + text.len);
    if (msg == NULL)
        return NULL;
    msg->next = NULL;
    msg->mseq = mseq;
    msg->ts = ts;
    msg->from_len = (uint16_t) from.len;
    msg->text_len = (uint16_t) text.len;
    if (from.len)
        memcpy (msg->data, from.ptr, from.len);
    if (text.len)
        memcpy (msg->data + from.len, text.ptr, text.len);
    return msg;
}

void
chat_user_push (chat_t *self, chat_user_t *user, chat_msg_t *msg)
{
    if (user->tail)
        user->tail->next = msg;
    else
        user->head = msg;
    user->tail = msg;
    user->queued++;
    self->queued++;
    self->queued_bytes += msg->text_len;
}

/* Drop user's messages with mseq <= upto (cumulative ack). */
static void
s_user_ack (chat_t *self, chat_user_t *user, uint64_t upto)
{
    if (user->cursor && user->cursor->mseq <= upto)
        user->cursor = NULL;
    while (user->head && user->head->mseq <= upto) {
        chat_msg_t *msg = user->head;
        user->head = msg->next;
        user->queued--;
        self->queued--;
        self->queued_bytes -= msg->text_len;
        free (msg);
    }
    if (user->head == NULL)
        user->tail = NULL;
}

/* ---- the commands ---- */

static bool
s_from_valid (zc_bytes_t from)
{
    return from.len == 0 || zc_name_valid (from.ptr, from.len);
}

static zc_code_t
s_check (const chat_t *self, const zc_command_t *cmd, chat_user_t **user_out)
{
    if (!zc_name_valid (cmd->name.ptr, cmd->name.len))
        return ZC_ERR_BAD_NAME;
    chat_user_t *user = chat_user_find (self, cmd->name.ptr, cmd->name.len);
    *user_out = user;
    switch (cmd->op) {
        case ZC_OP_CREATE:
            if (user)
                return ZC_ERR_USER_EXISTS;
            if (self->users.count >= self->limits.max_users)
                return ZC_ERR_TOO_MANY_USERS;
            return ZC_OK;
        case ZC_OP_SEND:
            if (!s_from_valid (cmd->from))
                return ZC_ERR_BAD_NAME;
            if (user == NULL)
                return ZC_ERR_NO_SUCH_USER;
            if (cmd->text.len > ZC_TEXT_MAX)
                return ZC_ERR_TEXT_TOO_LONG;
            if (user->queued >= self->limits.max_queue)
                return ZC_ERR_QUEUE_FULL;
            return ZC_OK;
        case ZC_OP_DELETE:
        case ZC_OP_CONNECT:
        case ZC_OP_PASSWD:
            /* epoch = the incarnation whose secret the leader checked (0: an entry
               from before credentials); a user re-created since is another user */
            if (user == NULL || (cmd->epoch && cmd->epoch != user->epoch))
                return ZC_ERR_NO_SUCH_USER;
            if (cmd->op == ZC_OP_PASSWD && cmd->cred.len == 0)
                return ZC_ERR_BAD_SECRET;
            return ZC_OK;
        default: return ZC_ERR_UNKNOWN_COMMAND;
    }
}

/* The command's own effect, without the client table. */
static void
s_execute (chat_t *self, uint64_t index, const zc_command_t *cmd, chat_result_t *result)
{
    chat_user_t *user = NULL;
    result->code = s_check (self, cmd, &user);
    if (result->code != ZC_OK)
        return;
    switch (cmd->op) {
        case ZC_OP_CREATE:
            user = chat_user_add (self, cmd->name.ptr, cmd->name.len, index);
            if (user == NULL)
                s_out_of_memory ();
            chat_user_set_cred (user, cmd->cred);
            result->epoch = index;
            break;
        case ZC_OP_DELETE: s_user_remove (self, user); break;
        case ZC_OP_SEND: {
            chat_msg_t *msg = chat_msg_new (user->next_mseq, cmd->ts, cmd->from, cmd->text);
            if (msg == NULL)
                s_out_of_memory ();
            chat_user_push (self, user, msg);
            result->epoch = user->epoch;
            result->mseq = user->next_mseq++;
            break;
        }
        case ZC_OP_CONNECT:
            result->epoch = user->epoch;
            result->mseq = user->next_mseq - 1;
            break;
        case ZC_OP_PASSWD:
            chat_user_set_cred (user, cmd->cred);
            result->epoch = user->epoch;
            break;
        default: break;
    }
}

/* ---- the client table ---- */

static bool
s_client_eq (const void *item, const void *key)
{
    return ((const chat_client_t *) item)->cid == *(const uint64_t *) key;
}

chat_client_t *
chat_client_find (const chat_t *self, uint64_t cid)
{
    return chat_map_find (&self->clients, chat_hash_u64 (cid), s_client_eq, &cid);
}

static void
s_client_unlink (chat_t *self, chat_client_t *client)
{
    if (client->older)
        client->older->newer = client->newer;
    else
        self->oldest = client->newer;
    if (client->newer)
        client->newer->older = client->older;
    else
        self->newest = client->older;
    client->older = client->newer = NULL;
}

static void
s_client_link_newest (chat_t *self, chat_client_t *client)
{
    client->older = self->newest;
    client->newer = NULL;
    if (self->newest)
        self->newest->newer = client;
    else
        self->oldest = client;
    self->newest = client;
}

chat_client_t *
chat_client_add (chat_t *self, uint64_t cid)
{
    chat_client_t *client = calloc (1, sizeof (chat_client_t));
    if (client == NULL || chat_map_reserve (&self->clients) != 0) {
        free (client);
        return NULL;
    }
    client->cid = cid;
    chat_map_insert (&self->clients, chat_hash_u64 (cid), client);
    s_client_link_newest (self, client);
    return client;
}

/* A client entry for cid, evicting the least recently active one if the table is full. */
static chat_client_t *
s_client_admit (chat_t *self, uint64_t cid)
{
    if (self->clients.count >= self->limits.max_clients && self->oldest) {
        chat_client_t *victim = self->oldest;
        chat_map_remove (&self->clients, chat_hash_u64 (victim->cid), s_client_eq, &victim->cid);
        s_client_unlink (self, victim);
        free (victim);
    }
    chat_client_t *client = chat_client_add (self, cid);
    if (client == NULL)
        s_out_of_memory ();
    return client;
}

static bool
s_slot_applied (const chat_client_t *client, uint64_t seq)
{
    size_t slot = seq % CHAT_DEDUP_WINDOW;
    return (client->applied [slot / 64] >> (slot % 64)) & 1;
}

/* Slide the window so that seq is its highest: seqs that fall out free their slots. */
static void
s_window_advance (chat_client_t *client, uint64_t seq)
{
    if (seq - client->highest >= CHAT_DEDUP_WINDOW) {
        memset (client->applied, 0, sizeof (client->applied));
        memset (client->codes, 0, sizeof (client->codes));
        memset (client->values, 0, sizeof (client->values));
    }
    else
        for (uint64_t s = client->highest + 1; s <= seq; s++) {
            size_t slot = s % CHAT_DEDUP_WINDOW;
            client->applied [slot / 64] &= ~(1ULL << (slot % 64));
            client->codes [slot] = 0;
            client->values [slot] = 0;
        }
    client->highest = seq;
}

/* The one number of a result that a retry must see again. */
static uint64_t
s_result_value (zc_op_t op, const chat_result_t *result)
{
    if (result->code != ZC_OK)
        return 0;
    return op == ZC_OP_SEND ? result->mseq : result->epoch;
}

static void
s_client_record (chat_t *self, chat_client_t *client, uint64_t index, uint64_t seq, zc_op_t op,
                 const chat_result_t *result)
{
    zc_code_t code = result->code;
    if (seq > client->highest)
        s_window_advance (client, seq);
    size_t slot = seq % CHAT_DEDUP_WINDOW;
    client->applied [slot / 64] |= 1ULL << (slot % 64);
    client->codes [slot] = (uint8_t) code;
    client->values [slot] = s_result_value (op, result);
    client->last_active = index;
    s_client_unlink (self, client);
    s_client_link_newest (self, client);
}

/* How the table answers (cid, seq): ZC_OK = not seen, apply it; otherwise the answer. */
static bool
s_client_answer (const chat_client_t *client, zc_op_t op, uint64_t seq, chat_result_t *result)
{
    if (client == NULL)
        return false;
    if (client->highest >= CHAT_DEDUP_WINDOW && seq <= client->highest - CHAT_DEDUP_WINDOW) {
        result->code = ZC_ERR_STALE_REQUEST;
        return true;
    }
    if (seq <= client->highest && s_slot_applied (client, seq)) {
        result->code = client->codes [seq % CHAT_DEDUP_WINDOW];
        uint64_t value = client->values [seq % CHAT_DEDUP_WINDOW];
        if (op == ZC_OP_SEND)
            result->mseq = value;
        else
            result->epoch = value;
        result->duplicate = true;
        return true;
    }
    return false;
}

void
chat_apply (chat_t *self, uint64_t index, const zc_command_t *cmd, chat_result_t *result)
{
    memset (result, 0, sizeof (*result));
    switch (cmd->op) {
        case ZC_OP_NOOP: return;
        case ZC_OP_ACK: {
            chat_user_t *user = chat_user_find (self, cmd->name.ptr, cmd->name.len);
            if (user && user->epoch == cmd->epoch)
                s_user_ack (self, user, cmd->mseq);
            return;
        }
        case ZC_OP_CREATE:
        case ZC_OP_DELETE:
        case ZC_OP_SEND:
        case ZC_OP_CONNECT:
        case ZC_OP_PASSWD: break;
        default: result->code = ZC_ERR_UNKNOWN_COMMAND; return;
    }
    if (cmd->cid == 0 || self->limits.max_clients == 0) {
        s_execute (self, index, cmd, result);
        return;
    }
    chat_client_t *client = chat_client_find (self, cmd->cid);
    if (s_client_answer (client, cmd->op, cmd->seq, result))
        return;
    if (client == NULL)
        client = s_client_admit (self, cmd->cid);
    s_execute (self, index, cmd, result);
    s_client_record (self, client, index, cmd->seq, cmd->op, result);
}

/* ---- queries ---- */

bool
chat_client_answered (const chat_t *self, uint64_t cid, uint64_t seq, zc_op_t op,
                      chat_result_t *result)
{
    memset (result, 0, sizeof (*result));
    return cid && s_client_answer (chat_client_find (self, cid), op, seq, result);
}

bool
chat_user_exists (const chat_t *self, const char *name, size_t len, uint64_t *epoch_out)
{
    chat_user_t *user = chat_user_find (self, name, len);
    if (user && epoch_out)
        *epoch_out = user->epoch;
    return user != NULL;
}

bool
chat_user_cred (const chat_t *self, const char *name, size_t len, uint64_t *epoch_out,
                zc_bytes_t *cred_out)
{
    chat_user_t *user = chat_user_find (self, name, len);
    if (user == NULL)
        return false;
    *epoch_out = user->epoch;
    *cred_out = (zc_bytes_t) { user->cred, user->cred_len };
    return true;
}

size_t
chat_queue_peek (const chat_t *self, const char *name, size_t len, uint64_t epoch, uint64_t after,
                 chat_message_t *out, size_t max)
{
    chat_user_t *user = chat_user_find (self, name, len);
    if (user == NULL || user->epoch != epoch)
        return 0;
    size_t n = 0;
    chat_msg_t *msg = user->cursor && user->cursor->mseq <= after ? user->cursor : user->head;
    for (; msg && n < max; msg = msg->next) {
        if (msg->mseq <= after)
            continue;
        user->cursor = msg;
        out [n].mseq = msg->mseq;
        out [n].ts = msg->ts;
        out [n].from = (zc_bytes_t) { msg->data, msg->from_len };
        out [n].text = (zc_bytes_t) { msg->data + msg->from_len, msg->text_len };
        n++;
    }
    return n;
}

uint64_t
chat_user_count (const chat_t *self)
{
    return self->users.count;
}

uint64_t
chat_queued_count (const chat_t *self)
{
    return self->queued;
}

uint64_t
chat_queued_bytes (const chat_t *self)
{
    return self->queued_bytes;
}

int
chat_user_cmp (const void *a, const void *b)
{
    const chat_user_t *x = *(chat_user_t *const *) a;
    const chat_user_t *y = *(chat_user_t *const *) b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp (x->name, y->name, n);
    if (c)
        return c;
    return (int) x->name_len - (int) y->name_len;
}

int
chat_users_sorted (const chat_t *self, chat_user_t ***out, size_t *n_out)
{
    size_t n = self->users.count;
    chat_user_t **users = malloc ((n ? n : 1) * sizeof (chat_user_t *));
    if (users == NULL)
        return -1;
    size_t k = 0;
    for (size_t i = 0; self->users.items && i <= self->users.mask; i++)
        if (self->users.items [i])
            users [k++] = self->users.items [i];
    qsort (users, k, sizeof (chat_user_t *), chat_user_cmp);
    *out = users;
    *n_out = k;
    return 0;
}
