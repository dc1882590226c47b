/*  json_out.c - JSON line builder (see json_out.h).
    Invariant: buf always holds a NUL-terminated prefix of valid JSON text; need_comma
    [depth] says whether the current container already has a member. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "json_out.h"
#include "frame.h"

struct json_out {
    char *buf;
    size_t len;
    size_t cap;
    bool ok;
    uint32_t depth;
    bool need_comma [JSON_OUT_DEPTH + 1];
};

json_out_t *
json_out_new (void)
{
    json_out_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->cap = 256;
    self->buf = malloc (self->cap);
    if (!self->buf) {
        free (self);
        return NULL;
    }
    json_out_reset (self);
    return self;
}

void
json_out_destroy (json_out_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->buf);
    free (*self_p);
    *self_p = NULL;
}

void
json_out_reset (json_out_t *self)
{
    self->len = 0;
    self->buf [0] = 0;
    self->ok = true;
    self->depth = 0;
    memset (self->need_comma, 0, sizeof self->need_comma);
}

static void
s_append (json_out_t *self, const char *bytes, size_t n)
{
    if (!self->ok)
        return;
    if (self->len + n + 1 > JSON_OUT_MAX) {
        self->ok = false;
        return;
    }
    if (self->len + n + 1 > self->cap) {
        size_t cap = self->cap;
        while (self->len + n + 1 > cap)
            cap *= 2;
        char *buf = realloc (self->buf, cap);
        if (!buf) {
            self->ok = false;
            return;
        }
        self->buf = buf;
        self->cap = cap;
    }
    memcpy (self->buf + self->len, bytes, n);
    self->len += n;
    self->buf [self->len] = 0;
}

static void
s_escaped (json_out_t *self, const char *value, size_t len)
{
    bool utf8 = zc_utf8_valid (value, len);
    s_append (self, "\"", 1);
    size_t run = 0; /* bytes copied verbatim in one go */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) value [i];
        const char *esc = NULL;
        char hex [8];
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\b')
            esc = "\\b";
        else if (c == '\f')
            esc = "\\f";
        else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) {
            snprintf (hex, sizeof hex, "\\u%04x", c);
            esc = hex;
        }
        if (!esc)
            continue;
        s_append (self, value + run, i - run);
        s_append (self, esc, strlen (esc));
        run = i + 1;
    }
    s_append (self, value + run, len - run);
    s_append (self, "\"", 1);
}

/* Comma and key before a member. */
static void
s_member (json_out_t *self, const char *key)
{
    if (self->need_comma [self->depth])
        s_append (self, ",", 1);
    self->need_comma [self->depth] = true;
    if (key) {
        s_escaped (self, key, strlen (key));
        s_append (self, ":", 1);
    }
}

static void
s_open (json_out_t *self, const char *key, const char *bracket)
{
    if (self->depth == JSON_OUT_DEPTH) {
        self->ok = false;
        return;
    }
    s_member (self, key);
    s_append (self, bracket, 1);
    self->need_comma [++self->depth] = false;
}

static void
s_close (json_out_t *self, const char *bracket)
{
    if (self->depth == 0) {
        self->ok = false;
        return;
    }
    self->depth--;
    s_append (self, bracket, 1);
}

void
json_out_object_begin (json_out_t *self, const char *key)
{
    s_open (self, key, "{");
}
void
json_out_object_end (json_out_t *self)
{
    s_close (self, "}");
}
void
json_out_array_begin (json_out_t *self, const char *key)
{
    s_open (self, key, "[");
}
void
json_out_array_end (json_out_t *self)
{
    s_close (self, "]");
}

void
json_out_str (json_out_t *self, const char *key, const char *value, size_t len)
{
    s_member (self, key);
    s_escaped (self, value ? value : "", value ? len : 0);
}

void
json_out_cstr (json_out_t *self, const char *key, const char *value)
{
    json_out_str (self, key, value, value ? strlen (value) : 0);
}

void
json_out_uint (json_out_t *self, const char *key, uint64_t value)
{
    char num [32];
    s_member (self, key);
    s_append (self, num, (size_t) snprintf (num, sizeof num, "%llu", (unsigned long long) value));
}

void
json_out_int (json_out_t *self, const char *key, int64_t value)
{
    char num [32];
    s_member (self, key);
    s_append (self, num, (size_t) snprintf (num, sizeof num, "%lld", (long long) value));
}

void
json_out_double (json_out_t *self, const char *key, double value)
{
    char num [64];
    s_member (self, key);
    if (!isfinite (value))
        s_append (self, "null", 4);
    else
        s_append (self, num, (size_t) snprintf (num, sizeof num, "%.3f", value));
}

void
json_out_bool (json_out_t *self, const char *key, bool value)
{
    s_member (self, key);
    s_append (self, value ? "true" : "false", value ? 4 : 5);
}

bool
json_out_ok (const json_out_t *self)
{
    return self->ok;
}
const char *
json_out_text (const json_out_t *self)
{
    return self->buf;
}
size_t
json_out_len (const json_out_t *self)
{
    return self->len;
}

int
json_out_print_line (json_out_t *self, FILE *stream)
{
    int rc = fwrite (self->buf, 1, self->len, stream) == self->len && fputc ('\n', stream) != EOF
                 ? 0
                 : -1;
    json_out_reset (self);
    return rc;
}
