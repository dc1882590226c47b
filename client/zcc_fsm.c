/*  zcc_fsm.c - the connection/session lifecycle of the client library.

    Invariant: self->state is the only record of whether a user is bound, whether SENDs
    wait for our re-CONNECT and whether a server switch is due; it changes only here,
    one input at a time, and every action a transition needs is taken here. The other
    files only read it (zcc_fsm_bound, zcc_fsm_moving, zcc_fsm_sends_wait) and report
    inputs.

    state \ input   SILENCE   REDIRECT  SWITCH_DUE BIND      BIND_STALE LOST     RESUMED CLOSED
    OPEN            MOVING    MOVING    .          BOUND     RESUMING   .        .       .
    BOUND           B_MOVING  B_MOVING  .          .         RESUMING   RESUMING .       OPEN
    RESUMING        B_MOVING  B_MOVING  .          .         RESUMING   .        BOUND   OPEN
    MOVING          .         MOVING    OPEN       B_MOVING  B_MOVING   .        .       .
    BOUND_MOVING    .         B_MOVING  RESUMING   .         .          .        .       MOVING

    ("." = stays; B_MOVING = BOUND_MOVING.) Entering RESUMING sends a fresh re-CONNECT;
    a moving state arms the switch, a REDIRECT re-arms it at once; a switch resends every
    request; leaving RESUMING (or closing) sends what waited for the session. */
#include "zcc_internal.h"

bool
zcc_fsm_bound (const zcc_t *self)
{
    return self->state == ZCC_STATE_BOUND || self->state == ZCC_STATE_RESUMING
           || self->state == ZCC_STATE_BOUND_MOVING;
}

bool
zcc_fsm_moving (const zcc_t *self)
{
    return self->state == ZCC_STATE_MOVING || self->state == ZCC_STATE_BOUND_MOVING;
}

/* SENDs wait for our re-CONNECT: sent before the session is back, they would go out
   as from nobody. */
bool
zcc_fsm_sends_wait (const zcc_t *self)
{
    return self->state == ZCC_STATE_RESUMING;
}

/* Leave for another server: after a backoff, or at once for a leader hint. */
static void
s_move (zcc_t *self, zcc_input_t input, zcc_state_t next)
{
    self->state = next;
    if (input == ZCC_IN_REDIRECT)
        zcc_conn_redirect (self);
    else
        zcc_conn_backoff (self);
}

/* CONNECT the bound user again; SENDs wait for its answer. */
static void
s_resume (zcc_t *self)
{
    self->state = ZCC_STATE_RESUMING;
    zcc_session_reconnect (self);
}

/* The session is over; what waited for it goes out now, answered as from nobody. */
static void
s_close (zcc_t *self, zcc_state_t next)
{
    self->state = next;
    zcc_session_unbind (self);
    if (next == ZCC_STATE_OPEN)
        zcc_request_resend (self, true);
}

static void
s_open (zcc_t *self, zcc_input_t input)
{
    switch (input) {
        case ZCC_IN_SILENCE:
        case ZCC_IN_REDIRECT: s_move (self, input, ZCC_STATE_MOVING); break;
        case ZCC_IN_BIND: self->state = ZCC_STATE_BOUND; break;
        case ZCC_IN_BIND_STALE: s_resume (self); break;
        default: break; /* no session to lose, resume or close */
    }
}

static void
s_bound (zcc_t *self, zcc_input_t input)
{
    switch (input) {
        case ZCC_IN_SILENCE:
        case ZCC_IN_REDIRECT: s_move (self, input, ZCC_STATE_BOUND_MOVING); break;
        case ZCC_IN_BIND_STALE:
        case ZCC_IN_LOST: s_resume (self); break;
        case ZCC_IN_CLOSED: s_close (self, ZCC_STATE_OPEN); break;
        default: break;
    }
}

static void
s_resuming (zcc_t *self, zcc_input_t input)
{
    switch (input) {
        case ZCC_IN_SILENCE:
        case ZCC_IN_REDIRECT: s_move (self, input, ZCC_STATE_BOUND_MOVING); break;
        /* Sent on an earlier connection too: that one may be the bound one. */
        case ZCC_IN_BIND_STALE: s_resume (self); break;
        case ZCC_IN_RESUMED:
            self->state = ZCC_STATE_BOUND;
            zcc_request_resend (self, true); /* the SENDs held for it */
            break;
        case ZCC_IN_CLOSED: s_close (self, ZCC_STATE_OPEN); break;
        default: break; /* LOST: our re-CONNECT is on its way */
    }
}

static void
s_moving (zcc_t *self, zcc_input_t input)
{
    switch (input) {
        case ZCC_IN_REDIRECT: s_move (self, input, ZCC_STATE_MOVING); break;
        case ZCC_IN_SWITCH_DUE:
            self->state = ZCC_STATE_OPEN;
            zcc_conn_switch (self);
            zcc_request_resend (self, false);
            break;
        case ZCC_IN_BIND:
        case ZCC_IN_BIND_STALE: self->state = ZCC_STATE_BOUND_MOVING; break;
        default: break; /* SILENCE: a switch is on its way */
    }
}

static void
s_bound_moving (zcc_t *self, zcc_input_t input)
{
    switch (input) {
        case ZCC_IN_REDIRECT: s_move (self, input, ZCC_STATE_BOUND_MOVING); break;
        case ZCC_IN_SWITCH_DUE:
            /* The old re-CONNECT may have been applied where it cannot bind this
               connection; a fresh seq makes the new server bind us instead of
               answering from its cache. */
            zcc_conn_switch (self);
            s_resume (self);
            zcc_request_resend (self, false);
            break;
        case ZCC_IN_CLOSED: s_close (self, ZCC_STATE_MOVING); break;
        default: break; /* the switch CONNECTs and resends anyway */
    }
}

void
zcc_fsm_execute (zcc_t *self, zcc_input_t input)
{
    switch (self->state) {
        case ZCC_STATE_OPEN: s_open (self, input); break;
        case ZCC_STATE_BOUND: s_bound (self, input); break;
        case ZCC_STATE_RESUMING: s_resuming (self, input); break;
        case ZCC_STATE_MOVING: s_moving (self, input); break;
        case ZCC_STATE_BOUND_MOVING: s_bound_moving (self, input); break;
    }
}
