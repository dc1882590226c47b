/*  json_out.h - builds one JSON object per line for zchat's machine-readable output
    (the CLI's --json mode and zchat-bench's reports).

    A json_out_t is a growing text buffer plus a nesting stack; each call appends one
    member (a key, or no key inside an array) and inserts commas itself. Strings are
    escaped per RFC 8259: quote, backslash and control characters are escaped, valid
    UTF-8 passes through unchanged, and bytes of invalid UTF-8 are written as \u00XX
    so the output is always valid JSON. Bounded: at most JSON_OUT_DEPTH levels and
    JSON_OUT_MAX bytes; past either, json_out_ok turns false and further calls append
    nothing. */
#ifndef JSON_OUT_H
#define JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_OUT_DEPTH 16
#define JSON_OUT_MAX   (64u * 1024 * 1024)

typedef struct json_out json_out_t;

/* Returns a new empty builder owned by the caller, or NULL when out of memory. */
json_out_t *json_out_new (void);
void json_out_destroy (json_out_t **self_p);

/* Forget the content and nesting: start the next line. */
void json_out_reset (json_out_t *self);

/* key is NULL at the top level and inside arrays. */
void json_out_object_begin (json_out_t *self, const char *key);
void json_out_object_end (json_out_t *self);
void json_out_array_begin (json_out_t *self, const char *key);
void json_out_array_end (json_out_t *self);
void json_out_str (json_out_t *self, const char *key, const char *value, size_t len);
void json_out_cstr (json_out_t *self, const char *key, const char *value);
void json_out_uint (json_out_t *self, const char *key, uint64_t value);
void json_out_int (json_out_t *self, const char *key, int64_t value);
/* Finite values with up to 3 decimals; NaN and infinities are written as null. */
void json_out_double (json_out_t *self, const char *key, double value);
void json_out_bool (json_out_t *self, const char *key, bool value);

/* False after an overflow (depth, size or memory). */
bool json_out_ok (const json_out_t *self);
/* The text so far, NUL-terminated; owned by self, valid until the next call. */
const char *json_out_text (const json_out_t *self);
size_t json_out_len (const json_out_t *self);
/* Write the text and a newline to stream, then reset. Returns 0 or -1. */
int json_out_print_line (json_out_t *self, FILE *stream);

#endif
