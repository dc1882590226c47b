/*  server_reply.c - what the loop sends clients outside a session: replies' framing,
    errors with a readable text, NOT_LEADER with the leader's advertised address.
    Invariant: every send is non-blocking; a gone or full client fails here, never
    blocks the loop. */
#include "server_internal.h"
#include "advertise.h"
#include "blog.h"

/* ---- sending */

/* Returns false when the frame was not queued (client gone or its pipe full). */
bool
server_send (server_t *self, const uint8_t *routing, size_t routing_len, const zc_frame_t *frame)
{
    uint8_t buf [ZC_FRAME_MAX];
    size_t len;
    zc_code_t code = zc_frame_encode (frame, buf, sizeof buf, &len);
    if (code != ZC_OK) {
        blog ("encode_failed", "cmd=%s code=%s", zc_cmd_name (frame->cmd), zc_code_name (code));
        return false;
    }
    void *sock = self->clients;
    /* ROUTER_MANDATORY: a gone or full client fails here instead of silently; once the
       routing part is accepted, the body part always is (same pipe, atomic message) */
    if (zmq_send (sock, routing, routing_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) != (int) routing_len)
        return false;
    return zmq_send (sock, buf, len, ZMQ_DONTWAIT) == (int) len;
}


static void
s_error_text (zc_code_t code, const char *name, size_t name_len, char *text, size_t size)
{
    int n = (int) name_len;
    switch (code) {
        case ZC_ERR_NO_SUCH_USER:
            snprintf (text, size, "user '%.*s' does not exist", n, name);
            break;
        case ZC_ERR_USER_EXISTS:
            snprintf (text, size, "user '%.*s' already exists", n, name);
            break;
        case ZC_ERR_BAD_NAME:
            snprintf (text, size, "bad user name '%.*s': use 1-32 of A-Z a-z 0-9 _ . -", n, name);
            break;
        case ZC_ERR_QUEUE_FULL:
            snprintf (text, size, "queue of user '%.*s' is full", n, name);
            break;
        default: snprintf (text, size, "%s", zc_code_text (code)); break;
    }
}

void
server_error (server_t *self, const uint8_t *routing, size_t routing_len, int re, uint64_t seq,
              zc_code_t code, const char *text)
{
    zc_frame_t frame;
    zc_frame_init (&frame, ZC_CMD_ERROR);
    if (code > 0 && code < ZC_CODE__COUNT)
        self->stats.refused [code]++;
    if (!text)
        text = zc_code_text (code);
    frame.fields = ZC_F_SEQ | ZC_F_CODE | ZC_F_TEXT;
    frame.seq = seq;
    frame.code = code;
    frame.text = (zc_bytes_t) { text, (uint32_t) strlen (text) };
    if (re >= 0) {
        frame.fields |= ZC_F_RE;
        frame.re = (zc_cmd_t) re;
    }
    char leader [300];
    if (code == ZC_ERR_NOT_LEADER && self->leader_id
        && advertise_address (self->config, self->replica, self->leader_id, leader,
                              sizeof leader)) {
        frame.fields |= ZC_F_LEADER;
        frame.leader = (zc_bytes_t) { leader, (uint32_t) strlen (leader) };
    }
    server_send (self, routing, routing_len, &frame);
}

void
server_error_about (server_t *self, const uint8_t *routing, size_t routing_len, int re,
                    uint64_t seq, zc_code_t code, const char *name, size_t name_len)
{
    char text [256];
    s_error_text (code, name ? name : "", name ? name_len : 0, text, sizeof text);
    server_error (self, routing, routing_len, re, seq, code, text);
}

/* Not the leader: say who is, or that nobody is known to be. */
void
server_redirect (server_t *self, const uint8_t *routing, size_t routing_len, int re, uint64_t seq)
{
    server_error_about (self, routing, routing_len, re, seq,
                        self->leader_id ? ZC_ERR_NOT_LEADER : ZC_ERR_UNAVAILABLE, NULL, 0);
}
