/*  zcc_events.c - events handed to the caller, and those zcc_call holds back.

    Invariants: the FIFO is bounded and never drops an event: its capacity covers every
    outstanding request's reply, the ZCC_FIFO_MSGS messages zcc_session_on_message lets
    through during a call, and a few CLOSED events. A queued event keeps a copy of its
    frame's bytes, because its views pointed into a receive buffer reused since. The
    LIST names of the event last returned belong to the library until the next call. */
#include "zcc_internal.h"

void
zcc_events_users_free (char **users, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        free (users [i]);
    free (users);
}

/* event->error: "" for OK, else the server's text or the code's. */
void
zcc_events_fill_error (zcc_t *self, zcc_event_t *event)
{
    if (event->code == ZC_OK)
        event->error = "";
    else if (event->frame.fields & ZC_F_TEXT) {
        memcpy (self->err, event->frame.text.ptr, event->frame.text.len);
        self->err [event->frame.text.len] = 0;
        event->error = self->err;
    }
    else
        event->error = zc_code_text ((int) event->code);
}

/* The caller gets event; its names are freed at the next poll or call. */
void
zcc_events_hand_over (zcc_t *self, const zcc_event_t *event)
{
    self->ev_users = event->users;
    self->ev_n_users = event->n_users;
}

void
zcc_events_release (zcc_t *self)
{
    zcc_events_users_free (self->ev_users, self->ev_n_users);
    self->ev_users = NULL;
    self->ev_n_users = 0;
}

/* Keep an event (whose frame is the one in self->rx) for a later zcc_poll. */
void
zcc_events_push (zcc_t *self, const zcc_event_t *event)
{
    zcc_fifo_t *fifo = &self->fifo;
    if (!fifo->ring) {
        fifo->cap = self->reqs.max_inflight + ZCC_FIFO_MSGS + ZCC_FIFO_OTHER;
        fifo->ring = calloc (fifo->cap, sizeof *fifo->ring);
        if (!fifo->ring) {
            fifo->cap = 0;
            return;
        }
    }
    if (fifo->len == fifo->cap) {
        zcc_events_users_free (event->users, event->n_users);
        return;
    }
    zcc_queued_t *q = &fifo->ring [(fifo->head + fifo->len) % fifo->cap];
    fifo->len++;
    q->ev = *event;
    /* An ERROR from the wire always has a text (the decoder requires it). */
    bool synthetic = event->frame.cmd == ZC_CMD_ERROR && !(event->frame.fields & ZC_F_TEXT);
    q->raw_len = synthetic ? 0 : self->rx_len;
    if (q->raw_len)
        memcpy (q->raw, self->rx, q->raw_len);
    if (event->type == ZCC_EV_MESSAGE)
        fifo->msgs++;
}

/* The oldest kept event, handed over; false when there is none. */
bool
zcc_events_pop (zcc_t *self, zcc_event_t *event)
{
    zcc_fifo_t *fifo = &self->fifo;
    if (!fifo->len)
        return false;
    zcc_queued_t *q = &fifo->ring [fifo->head];
    fifo->head = (fifo->head + 1) % fifo->cap;
    fifo->len--;
    *event = q->ev;
    if (event->type == ZCC_EV_MESSAGE)
        fifo->msgs--;
    if (q->raw_len) {
        memcpy (self->rx, q->raw, q->raw_len);
        zc_frame_decode (self->rx, q->raw_len, &event->frame); /* decoded fine before */
    }
    zcc_events_fill_error (self, event);
    if (event->type == ZCC_EV_MESSAGE)
        event->error = "";
    zcc_events_hand_over (self, event);
    return true;
}

void
zcc_events_destroy (zcc_t *self)
{
    zcc_fifo_t *fifo = &self->fifo;
    for (uint32_t i = 0; i < fifo->len; i++) {
        zcc_queued_t *q = &fifo->ring [(fifo->head + i) % fifo->cap];
        zcc_events_users_free (q->ev.users, q->ev.n_users);
    }
    free (fifo->ring);
    fifo->ring = NULL;
    fifo->len = 0;
    zcc_events_release (self);
}
