/* llava_json.c — writing a json.h value back as compact JSON text (for a
 * record's `meta`). json.h has no serialiser, so this walks the value with
 * its public getters. Two things json.h cannot read are refused with an
 * error rather than written wrongly: a true/false inside a list, and a
 * true/false under a key containing '.' (json.h reads booleans only as
 * object members, by a key that it splits at dots). */
#include <stdlib.h>
#include <string.h>

#include "llava.h"

typedef struct text_buf {
  char *p;
  size_t n, cap;
} text_buf;

static int put(text_buf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + n + 1) cap *= 2;
    char *g = realloc(b->p, cap);
    if (!g) return sb_error_set(SB_ERR_NOMEM, "dataset_llava: out of memory");
    b->p = g, b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
  return SB_OK;
}

static int puts_(text_buf *b, const char *s) { return put(b, s, strlen(s)); }

static int put_string(text_buf *b, const char *s) {
  int rc = put(b, "\"", 1);
  for (const unsigned char *c = (const unsigned char *)s; *c && rc == SB_OK; c++) {
    char esc[8];
    switch (*c) {
    case '"': rc = puts_(b, "\\\""); break;
    case '\\': rc = puts_(b, "\\\\"); break;
    case '\n': rc = puts_(b, "\\n"); break;
    case '\r': rc = puts_(b, "\\r"); break;
    case '\t': rc = puts_(b, "\\t"); break;
    case '\b': rc = puts_(b, "\\b"); break;
    case '\f': rc = puts_(b, "\\f"); break;
    default:
      if (*c < 0x20) snprintf(esc, sizeof esc, "\\u%04x", *c), rc = puts_(b, esc);
      else rc = put(b, (const char *)c, 1);
    }
  }
  return rc ? rc : put(b, "\"", 1);
}

/* The shortest %g form that reads back to the same double, kept a float
 * ("2.0", not "2"). */
static int put_float(text_buf *b, double x) {
  char s[40];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(s, sizeof s, "%.*g", prec, x);
    if (strtod(s, NULL) == x) break;
  }
  if (!strpbrk(s, ".eEn")) strcat(s, ".0"); /* 'n': inf/nan never come from JSON */
  return puts_(b, s);
}

typedef struct value_ctx {
  const sb_json *parent; /* the object holding the value, or NULL in a list */
  const char *key;
  const char *what;      /* for messages */
} value_ctx;

static int put_value(text_buf *b, const sb_json *v, const value_ctx *c);

static int put_bool(text_buf *b, const value_ctx *c) {
  bool x;
  if (!c->parent || strchr(c->key, '.'))
    return sb_error_set(SB_ERR_UNSUPPORTED, "%s: a true/false value %s cannot be read through json.h "
                        "(no boolean accessor for values)", c->what,
                        c->parent ? "under a key containing '.'" : "inside a list");
  if (sb_json_get_bool(c->parent, c->key, false, &x)) return sb_error_code();
  return puts_(b, x ? "true" : "false");
}

static int put_array(text_buf *b, const sb_json *v, const value_ctx *c) {
  int rc = put(b, "[", 1);
  value_ctx item = {NULL, NULL, c->what};
  for (size_t i = 0; i < sb_json_array_size(v) && rc == SB_OK; i++) {
    if (i) rc = put(b, ",", 1);
    if (rc == SB_OK) rc = put_value(b, sb_json_array_at(v, i), &item);
  }
  return rc ? rc : put(b, "]", 1);
}

static int put_object(text_buf *b, const sb_json *v, const value_ctx *c) {
  int rc = put(b, "{", 1);
  for (size_t i = 0; i < sb_json_object_size(v) && rc == SB_OK; i++) {
    value_ctx member = {v, sb_json_object_key(v, i), c->what};
    if (i) rc = put(b, ",", 1);
    if (rc == SB_OK) rc = put_string(b, member.key);
    if (rc == SB_OK) rc = put(b, ":", 1);
    if (rc == SB_OK) rc = put_value(b, sb_json_object_value(v, i), &member);
  }
  return rc ? rc : put(b, "}", 1);
}

static int put_value(text_buf *b, const sb_json *v, const value_ctx *c) {
  int64_t i;
  double x;
  switch (sb_json_typeof(v)) {
  case SB_JSON_NULL: return puts_(b, "null");
  case SB_JSON_BOOL: return put_bool(b, c);
  case SB_JSON_INT: {
    char s[24];
    if (sb_json_int(v, &i)) return sb_error_code();
    snprintf(s, sizeof s, "%lld", (long long)i);
    return puts_(b, s);
  }
  case SB_JSON_FLOAT: return sb_json_float(v, &x) ? sb_error_code() : put_float(b, x);
  case SB_JSON_STRING: return put_string(b, sb_json_string(v));
  case SB_JSON_ARRAY: return put_array(b, v, c);
  case SB_JSON_OBJECT: return put_object(b, v, c);
  }
  return sb_error("%s: unknown JSON value", c->what);
}

char *llava_json_text(const sb_json *v, const char *what) {
  text_buf b = {0};
  value_ctx c = {NULL, NULL, what};
  if (put_value(&b, v, &c)) {
    free(b.p);
    return NULL;
  }
  return b.p;
}
