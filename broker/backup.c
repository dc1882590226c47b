/*  backup.c - see backup.h. */
#include "server_internal.h"
#include "backup.h"
#include "blog.h"

#define BACKUP_IDLE_MS 30000

struct backup {
    uint64_t index, term;
    uint8_t *body; /* NULL: no image */
    size_t len;
    uint64_t used_ms;
};

backup_t *
backup_new (void)
{
    return (backup_t *) zmalloc (sizeof (backup_t));
}

static void
s_drop (backup_t *self)
{
    free (self->body);
    self->body = NULL;
    self->len = 0;
}

void
backup_destroy (backup_t **self_p)
{
    if (!*self_p)
        return;
    s_drop (*self_p);
    free (*self_p);
    *self_p = NULL;
}

void
backup_expire (backup_t *self, uint64_t now_ms)
{
    if (self->body && now_ms - self->used_ms > BACKUP_IDLE_MS) {
        blog ("backup_dropped", "index=%llu reason=idle", (unsigned long long) self->index);
        s_drop (self);
    }
}

static bool
s_take (server_t *server, backup_t *self)
{
    s_drop (self);
    replica_applied (server->replica, &self->index, &self->term);
    self->used_ms = server->now_ms;
    if (chat_snapshot_save (server->chat, &self->body, &self->len)) {
        self->body = NULL;
        return false;
    }
    blog ("backup_image", "index=%llu term=%llu bytes=%zu", (unsigned long long) self->index,
          (unsigned long long) self->term, self->len);
    return true;
}

void
backup_request (server_t *server, conn_t *conn, const zc_frame_t *frame)
{
    backup_t *self = server->backup;
    if (!server->leader) { /* the image must be of a committed state: the leader's */
        server_redirect (server, conn->id, conn->len, ZC_CMD_BACKUP, frame->seq);
        return;
    }
    if (!admin_authorised (server, conn, frame))
        return;
    bool fresh = !(frame->fields & ZC_F_INDEX);
    if (fresh && frame->offset != 0) {
        server_error (server, conn->id, conn->len, ZC_CMD_BACKUP, frame->seq, ZC_ERR_WRONG_STATE,
                      "a backup starts at offset 0; later requests name the image's index");
        return;
    }
    if (fresh && !s_take (server, self)) {
        server_error (server, conn->id, conn->len, ZC_CMD_BACKUP, frame->seq, ZC_ERR_INTERNAL,
                      "cannot serialize the state (out of memory)");
        return;
    }
    if (!self->body || (!fresh && frame->index != self->index) || frame->offset > self->len) {
        server_error (server, conn->id, conn->len, ZC_CMD_BACKUP, frame->seq, ZC_ERR_WRONG_STATE,
                      "this backup image is gone or has no such offset: start again at 0");
        return;
    }
    self->used_ms = server->now_ms;
    size_t left = self->len - frame->offset;
    zc_frame_t reply;
    zc_frame_init (&reply, ZC_CMD_REPLY);
    reply.fields = ZC_F_RE | ZC_F_SEQ | ZC_F_CODE | ZC_F_INDEX | ZC_F_TERM | ZC_F_OFFSET
                   | ZC_F_TOTAL | ZC_F_DATA;
    reply.re = ZC_CMD_BACKUP;
    reply.seq = frame->seq;
    reply.index = self->index;
    reply.term = self->term;
    reply.offset = frame->offset;
    reply.total = self->len;
    reply.data = (zc_bytes_t) { (const char *) self->body + frame->offset,
                                (uint32_t) (left < ZC_BACKUP_CHUNK ? left : ZC_BACKUP_CHUNK) };
    server_send (server, conn->id, conn->len, &reply);
}
