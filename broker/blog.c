/*  blog.c - logfmt event lines on stderr; a line is written with one fprintf so
    concurrent writers never interleave within it. */
#include "blog.h"
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

static uint32_t s_replica_id;
static uint64_t s_term;
static FILE *s_stream;
static bool s_stream_set;

void
blog_set_identity (uint32_t replica_id)
{
    s_replica_id = replica_id;
}

void
blog_set_term (uint64_t term)
{
    s_term = term;
}

void
blog_set_stream (FILE *stream)
{
    s_stream = stream;
    s_stream_set = true;
}

void
blog (const char *event, const char *fields_fmt, ...)
{
    FILE *out = s_stream_set ? s_stream : stderr;
    if (!out)
        return;
    char fields [768] = "";
    if (fields_fmt) {
        va_list args;
        va_start (args, fields_fmt);
        vsnprintf (fields, sizeof fields, fields_fmt, args);
        va_end (args);
    }
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r (&now.tv_sec, &tm);
    char stamp [32];
    strftime (stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf (out, "ts=%s.%03ldZ replica=%u term=%llu event=%s%s%s\n", stamp, now.tv_nsec / 1000000,
             s_replica_id, (unsigned long long) s_term, event, fields [0] ? " " : "", fields);
}
