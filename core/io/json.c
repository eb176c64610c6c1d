/* json.c — the sdk's JSON reader (json.h) on top of Jansson: documents,
 * borrowed value handles that remember their file, and typed getters whose
 * errors name the file and the key. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spatialboost/json.h"
#include "util.h"

struct sb_json {
  json_t *j;
  sb_json_doc *doc;
};

struct sb_json_doc {
  json_t *root;
  char *source;
  sb_map handles; /* "%p" of a json_t -> its sb_json */
};

static const sb_json *handle(const sb_json_doc *cdoc, json_t *j) {
  if (!j) return NULL;
  sb_json_doc *doc = (sb_json_doc *)cdoc;
  char key[32];
  snprintf(key, sizeof key, "%p", (void *)j);
  sb_json *h = sb_map_get(&doc->handles, key);
  if (h) return h;
  if (!(h = sb_malloc(sizeof *h))) return NULL;
  h->j = j, h->doc = doc;
  if (sb_map_set(&doc->handles, key, h)) {
    free(h);
    return NULL;
  }
  return h;
}

static sb_json_doc *doc_new(json_t *root, const char *source) {
  sb_json_doc *d = sb_calloc(1, sizeof *d);
  if (!d || !(d->source = sb_strdup(source))) {
    free(d);
    json_decref(root);
    return NULL;
  }
  d->root = root;
  sb_map_init(&d->handles);
  return d;
}

sb_json_doc *sb_json_load(const char *path) {
  json_error_t e;
  json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
  if (!root) {
    if (!sb_path_exists(path)) sb_error_set(SB_ERR_IO, "%s: no such file", path);
    else sb_error_set(SB_ERR_FORMAT, "%s:%d:%d: not valid JSON: %s", path, e.line, e.column, e.text);
    return NULL;
  }
  return doc_new(root, path);
}

sb_json_doc *sb_json_parse(const char *text, const char *name) {
  json_error_t e;
  json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &e);
  if (!root) {
    sb_error_set(SB_ERR_FORMAT, "%s:%d:%d: not valid JSON: %s", name, e.line, e.column, e.text);
    return NULL;
  }
  return doc_new(root, name);
}

void sb_json_free(sb_json_doc *d) {
  if (!d) return;
  for (size_t i = 0; i < d->handles.cap; i++) free(d->handles.vals[i]);
  sb_map_free(&d->handles);
  json_decref(d->root);
  free(d->source);
  free(d);
}

const sb_json *sb_json_root(const sb_json_doc *d) { return handle(d, d->root); }
const char *sb_json_source(const sb_json *v) { return v ? v->doc->source : "?"; }

sb_json_type sb_json_typeof(const sb_json *v) {
  if (!v) return SB_JSON_NULL;
  switch (json_typeof(v->j)) {
  case JSON_TRUE: case JSON_FALSE: return SB_JSON_BOOL;
  case JSON_INTEGER: return SB_JSON_INT;
  case JSON_REAL: return SB_JSON_FLOAT;
  case JSON_STRING: return SB_JSON_STRING;
  case JSON_ARRAY: return SB_JSON_ARRAY;
  case JSON_OBJECT: return SB_JSON_OBJECT;
  default: return SB_JSON_NULL;
  }
}

static const char *type_words(json_t *j) {
  switch (json_typeof(j)) {
  case JSON_TRUE: case JSON_FALSE: return "a boolean";
  case JSON_INTEGER: return "an integer";
  case JSON_REAL: return "a number";
  case JSON_STRING: return "a string";
  case JSON_ARRAY: return "a list";
  case JSON_OBJECT: return "an object";
  default: return "null";
  }
}

const sb_json *sb_json_get(const sb_json *obj, const char *key) {
  if (!obj || !key) return NULL;
  json_t *j = obj->j;
  const char *p = key;
  while (j && json_is_object(j)) {
    const char *dot = strchr(p, '.');
    if (!dot) return handle(obj->doc, json_object_get(j, p));
    char part[256];
    size_t n = (size_t)(dot - p) < sizeof part - 1 ? (size_t)(dot - p) : sizeof part - 1;
    memcpy(part, p, n);
    part[n] = 0;
    j = json_object_get(j, part);
    p = dot + 1;
  }
  return NULL;
}

/* The member, or NULL for absent/null (the caller uses its default). */
static json_t *member(const sb_json *obj, const char *key) {
  const sb_json *v = sb_json_get(obj, key);
  return v && !json_is_null(v->j) ? v->j : NULL;
}

static int wrong(const sb_json *obj, const char *key, const char *want, json_t *got) {
  return sb_error_set(SB_ERR_FORMAT, "%s: '%s': expected %s, got %s", sb_json_source(obj), key, want,
                      type_words(got));
}

int sb_json_get_int(const sb_json *obj, const char *key, int64_t def, int64_t *out) {
  json_t *j = member(obj, key);
  if (!j) return *out = def, SB_OK;
  if (json_is_integer(j)) return *out = (int64_t)json_integer_value(j), SB_OK;
  if (json_is_real(j) && json_real_value(j) == (double)(int64_t)json_real_value(j))
    return *out = (int64_t)json_real_value(j), SB_OK; /* 2.0 written for 2 */
  return wrong(obj, key, "an integer", j);
}

int sb_json_get_float(const sb_json *obj, const char *key, double def, double *out) {
  json_t *j = member(obj, key);
  if (!j) return *out = def, SB_OK;
  if (json_is_number(j)) return *out = json_number_value(j), SB_OK;
  return wrong(obj, key, "a number", j);
}

int sb_json_get_bool(const sb_json *obj, const char *key, bool def, bool *out) {
  json_t *j = member(obj, key);
  if (!j) return *out = def, SB_OK;
  if (json_is_boolean(j)) return *out = json_is_true(j), SB_OK;
  return wrong(obj, key, "true or false", j);
}

int sb_json_get_string(const sb_json *obj, const char *key, const char *def, const char **out) {
  json_t *j = member(obj, key);
  if (!j) return *out = def, SB_OK;
  if (json_is_string(j)) return *out = json_string_value(j), SB_OK;
  return wrong(obj, key, "a string", j);
}

const sb_json *sb_json_require(const sb_json *obj, const char *key, sb_json_type type) {
  const sb_json *v = sb_json_get(obj, key);
  static const char *const words[] = {"null", "a boolean", "an integer", "a number", "a string", "a list", "an object"};
  if (!v) {
    sb_error_set(SB_ERR_FORMAT, "%s: missing '%s' (%s)", sb_json_source(obj), key, words[type]);
    return NULL;
  }
  sb_json_type t = sb_json_typeof(v);
  if (t == type || (type == SB_JSON_FLOAT && t == SB_JSON_INT)) return v;
  wrong(obj, key, words[type], v->j);
  return NULL;
}

int sb_json_int(const sb_json *v, int64_t *out) {
  if (!v || !json_is_integer(v->j)) return sb_error_set(SB_ERR_FORMAT, "%s: expected an integer", sb_json_source(v));
  *out = (int64_t)json_integer_value(v->j);
  return SB_OK;
}

int sb_json_float(const sb_json *v, double *out) {
  if (!v || !json_is_number(v->j)) return sb_error_set(SB_ERR_FORMAT, "%s: expected a number", sb_json_source(v));
  *out = json_number_value(v->j);
  return SB_OK;
}

const char *sb_json_string(const sb_json *v) { return v && json_is_string(v->j) ? json_string_value(v->j) : NULL; }
size_t sb_json_array_size(const sb_json *v) { return v && json_is_array(v->j) ? json_array_size(v->j) : 0; }

const sb_json *sb_json_array_at(const sb_json *v, size_t i) {
  return v && json_is_array(v->j) ? handle(v->doc, json_array_get(v->j, i)) : NULL;
}

size_t sb_json_object_size(const sb_json *v) { return v && json_is_object(v->j) ? json_object_size(v->j) : 0; }

/* The i-th key in file order (Jansson keeps insertion order). */
static const char *nth_key(json_t *o, size_t i) {
  const char *k;
  json_t *val;
  size_t n = 0;
  json_object_foreach(o, k, val) {
    if (n++ == i) return k;
  }
  return NULL;
}

const char *sb_json_object_key(const sb_json *v, size_t i) { return v && json_is_object(v->j) ? nth_key(v->j, i) : NULL; }

const sb_json *sb_json_object_value(const sb_json *v, size_t i) {
  const char *k = sb_json_object_key(v, i);
  return k ? handle(v->doc, json_object_get(v->j, k)) : NULL;
}

int sb_json_get_floats(const sb_json *obj, const char *key, double *out, size_t n) {
  const sb_json *a = sb_json_require(obj, key, SB_JSON_ARRAY);
  if (!a) return SB_ERR_FORMAT;
  if (json_array_size(a->j) != n)
    return sb_error_set(SB_ERR_FORMAT, "%s: '%s': expected a list of %zu numbers, got %zu values", sb_json_source(obj),
                        key, n, json_array_size(a->j));
  for (size_t i = 0; i < n; i++) {
    json_t *x = json_array_get(a->j, i);
    if (!json_is_number(x)) return wrong(obj, key, "a list of numbers", x);
    out[i] = json_number_value(x);
  }
  return SB_OK;
}

int sb_json_bool(const sb_json *v, bool *out) {
  if (!v || !json_is_boolean(v->j)) return sb_error_set(SB_ERR_FORMAT, "%s: expected true or false", sb_json_source(v));
  *out = json_is_true(v->j);
  return SB_OK;
}

char *sb_json_dump(const sb_json *v) {
  if (!v) return NULL;
  char *text = json_dumps(v->j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
  if (!text) {
    sb_error_set(SB_ERR_NOMEM, "%s: cannot write the value as JSON", sb_json_source(v));
    return NULL;
  }
  char *copy = sb_strdup(text); /* callers free with free() */
  free(text);
  return copy;
}
