/*  blog.h - the broker's event log: one logfmt line per event on stderr.
    Every line carries the time, the replica id and the current term so that the logs of
    three replicas can be merged and read as one story. */
#ifndef BLOG_H
#define BLOG_H

#include <stdint.h>
#include <stdio.h>

/* Set the fields every line starts with. */
void blog_set_identity (uint32_t replica_id);
void blog_set_term (uint64_t term);
/* Where lines go: stderr by default, NULL for nowhere (the simulator's many runs). */
void blog_set_stream (FILE *stream);

/* Log an event: blog ("role_change", "role=%s leader=%u", ...). fields may be NULL. */
void blog (const char *event, const char *fields_fmt, ...) __attribute__ ((format (printf, 2, 3)));

#endif
