/* config.c — the read-only config handle of sdk config.h: views of a
 * recipe's mappings, the typed getters (with schema defaults on bound views),
 * used-marks, locations and located errors. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "recipe_impl.h"

sb_config *sb_config_new_view(sb_recipe *r, sb_node *node, const char *path, sb_loc loc) {
  sb_config *v = sb_calloc(1, sizeof *v);
  if (!v) return NULL;
  v->r = r, v->node = node, v->loc = loc;
  if (!(v->path = sb_strdup(path)) || sb_ptrvec_push(&r->views, v)) {
    free(v->path), free(v);
    return NULL;
  }
  return v;
}

/* ---- finding keys ------------------------------------------------------- */

/* What a getter found: the value, or the parsed schema default. */
typedef struct found {
  sb_node *node;
  const sb_option *opt; /* the option, on a bound view */
  bool is_default;
} found;

/* "loc: path: message". */
static int path_error(sb_loc loc, const char *path, int code, const char *fmt, ...) SB_PRINTF(4, 5);
static int path_error(sb_loc loc, const char *path, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = sb_vasprintf(fmt, ap);
  va_end(ap);
  int rc = path && *path ? sb_loc_error(loc, code, "%s: %s", path, msg ? msg : "?")
                         : sb_loc_error(loc, code, "%s", msg ? msg : "?");
  free(msg);
  return rc;
}

/* Finds key (dotted) under c's mapping. *out: its entry, NULL when absent;
 * then *deepest is the container where the search stopped and *rest the part
 * of key not found. A scalar on the way is an error (unless quiet). */
static int view_walk(const sb_config *c, const char *key, bool quiet, sb_entry **out,
                     sb_node **deepest, const char **rest) {
  sb_node *cur = c->node;
  *out = NULL, *deepest = cur, *rest = key;
  for (const char *seg = key;;) {
    const char *dot = strchr(seg, '.');
    size_t len = dot ? (size_t)(dot - seg) : strlen(seg);
    char *name = sb_strndup(seg, len);
    if (!name) return SB_ERR_NOMEM;
    sb_entry *e = len ? sb_node_child(cur, name) : NULL;
    free(name);
    *deepest = cur, *rest = seg;
    if (!e) return SB_OK;
    if (!dot) return *out = e, SB_OK;
    cur = e->val, seg = dot + 1;
    if (cur->kind != SB_NODE_SCALAR) continue;
    if (quiet) return SB_OK;
    char *path = sb_node_path(cur), *got = sb_node_describe(cur);
    int rc = path_error(cur->loc, path, SB_ERR_FORMAT, "expected a mapping, got %s", got);
    free(path), free(got);
    return rc;
  }
}

static void record_missed(sb_node *at, const char *rest) {
  for (size_t k = 0; k < at->missed.len; k++)
    if (!strcmp(at->missed.items[k], rest)) return;
  char *s = sb_strdup(rest);
  if (s && sb_ptrvec_push(&at->missed, s)) free(s);
}

static int undeclared(const sb_config *c, const char *key) {
  char *full = sb_key_join(c->prefix, key);
  int rc = sb_error("%s: reads option '%s' that its option schema does not declare (a bug in %s)",
                    c->owner, full ? full : key, c->owner);
  free(full);
  return rc;
}

/* A close key present at `at`, for "missing key" messages. */
static const char *present_close(const sb_node *at, const char *rest) {
  if (at->kind != SB_NODE_MAP) return NULL;
  const char *dot = strchr(rest, '.');
  char *seg = dot ? sb_strndup(rest, (size_t)(dot - rest)) : sb_strdup(rest);
  const char *hint = NULL;
  for (size_t k = 0; seg && k < at->len && !hint; k++)
    if (!at->entries[k].val->used && sb_key_is_close(at->entries[k].key, seg)) hint = at->entries[k].key;
  free(seg);
  return hint;
}

static int missing(const sb_config *c, const char *key, const found *f, const sb_node *at,
                   const char *rest) {
  const char *close = present_close(at, rest);
  sb_strbuf msg;
  sb_strbuf_init(&msg);
  sb_strbuf_printf(&msg, "missing %skey '%s'", f->opt ? "required " : "", key);
  if (f->opt && f->opt->help && *f->opt->help) sb_strbuf_printf(&msg, " (%s)", f->opt->help);
  if (close) sb_strbuf_printf(&msg, " (found '%s'; a typo?)", close);
  int code = f->opt ? SB_ERR : SB_ERR_NOT_FOUND;
  int rc = path_error(c->loc, c->path, code, "%s", msg.data ? msg.data : "");
  sb_strbuf_free(&msg);
  return rc;
}

/* The value of key, or its schema default; marks what it finds. */
static int config_find(const sb_config *c, const char *key, found *f) {
  *f = (found){0};
  sb_schema_match m = c->bound ? sb_schema_find(c, key, &f->opt) : SB_SCHEMA_NONE;
  if (c->bound && m == SB_SCHEMA_NONE) return undeclared(c, key);
  if (m != SB_SCHEMA_OPTION) f->opt = NULL;
  sb_entry *e;
  sb_node *at;
  const char *rest;
  int rc = view_walk(c, key, false, &e, &at, &rest);
  if (rc) return rc;
  if (e) {
    f->node = e->val;
    sb_node_mark(e->val);
    return SB_OK;
  }
  record_missed(at, rest);
  if (!f->opt || !f->opt->default_value) return missing(c, key, f, at, rest);
  f->node = sb_schema_default(c, f->opt);
  f->is_default = true;
  return f->node ? SB_OK : sb_error_code();
}

/* ---- typed reads -------------------------------------------------------- */

static bool is_scalar(const sb_node *n, sb_scalar_type t) {
  return n->kind == SB_NODE_SCALAR && n->type == t;
}

static bool looks_like_yaml11_bool(const sb_node *n) {
  static const char *const words[] = {"yes", "no", "on", "off", "y", "n"};
  for (size_t k = 0; n->kind == SB_NODE_SCALAR && k < SB_ARRAY_LEN(words); k++)
    if (!strcasecmp(n->text, words[k])) return true;
  return false;
}

/* "expected <expected>, got <value><extra>" at the value (or about a bad default). */
static int type_error_hint(const sb_config *c, const found *f, const char *expected, const char *extra) {
  char *got = sb_node_describe(f->node);
  int rc;
  if (f->is_default) {
    rc = sb_error("%s: the default of option '%s' is %s, not %s (a bug in %s)", c->owner,
                  f->opt->key, got ? got : "?", expected, c->owner);
  } else {
    char *path = sb_node_path(f->node);
    rc = path_error(f->node->loc, path, SB_ERR_FORMAT, "expected %s, got %s%s", expected,
                    got ? got : "?", extra);
    free(path);
  }
  free(got);
  return rc;
}

static int type_error(const sb_config *c, const found *f, const char *expected) {
  bool yaml11 = !strcmp(expected, "true or false") && looks_like_yaml11_bool(f->node);
  return type_error_hint(c, f, expected,
                         yaml11 ? " (recipes use YAML 1.2: only true and false are bools)" : "");
}

bool sb_config_has(const sb_config *c, const char *key) {
  sb_entry *e;
  sb_node *at;
  const char *rest;
  return !view_walk(c, key, true, &e, &at, &rest) && e;
}

int sb_config_get_bool(const sb_config *c, const char *key, bool *out) {
  found f = {0};
  int rc = config_find(c, key, &f);
  if (rc) return rc;
  if (!is_scalar(f.node, SB_SCALAR_BOOL)) return type_error(c, &f, "true or false");
  *out = f.node->b;
  return SB_OK;
}

int sb_config_get_int(const sb_config *c, const char *key, int64_t *out) {
  found f = {0};
  int rc = config_find(c, key, &f);
  if (rc) return rc;
  if (!is_scalar(f.node, SB_SCALAR_INT)) return type_error(c, &f, "an integer");
  *out = f.node->i;
  return SB_OK;
}

static bool is_number(const sb_node *n) {
  return is_scalar(n, SB_SCALAR_INT) || is_scalar(n, SB_SCALAR_FLOAT);
}

int sb_config_get_float(const sb_config *c, const char *key, double *out) {
  found f = {0};
  int rc = config_find(c, key, &f);
  if (rc) return rc;
  if (!is_number(f.node)) return type_error(c, &f, "a number");
  *out = f.node->f;
  return SB_OK;
}

static const char *scalar_string(const sb_node *n) {
  return n->type == SB_SCALAR_NULL ? "" : n->text;
}

int sb_config_get_string(const sb_config *c, const char *key, const char **out) {
  found f = {0};
  int rc = config_find(c, key, &f);
  if (rc) return rc;
  if (f.node->kind != SB_NODE_SCALAR) return type_error(c, &f, "a string");
  *out = scalar_string(f.node);
  return SB_OK;
}

int sb_config_get_path(const sb_config *c, const char *key, const char **out) {
  found f = {0};
  int rc = config_find(c, key, &f);
  if (rc) return rc;
  sb_node *n = f.node;
  if (n->kind != SB_NODE_SCALAR) return type_error(c, &f, "a path");
  const char *text = scalar_string(n);
  if (!*text || sb_path_is_absolute(text)) return *out = text, SB_OK;
  /* relative to the file it came from; a --set value to the working directory */
  if (!n->resolved_path &&
      !(n->resolved_path = n->base_file ? sb_recipe_file_near(n->base_file, text) : sb_strdup(text)))
    return SB_ERR_NOMEM;
  *out = n->resolved_path;
  return SB_OK;
}

static int enum_error(const sb_config *c, const found *f, const char *const *choices) {
  sb_strbuf want, hint;
  sb_strbuf_init(&want), sb_strbuf_init(&hint);
  sb_strbuf_append(&want, "one of ");
  sb_strbuf_append(&hint, "");
  const char *best = NULL;
  int best_d = 1 << 30;
  for (size_t k = 0; choices[k]; k++) {
    sb_strbuf_printf(&want, "%s%s", k ? "|" : "", choices[k]);
    if (f->node->kind != SB_NODE_SCALAR || !sb_key_is_close(f->node->text, choices[k])) continue;
    int d = sb_str_distance(f->node->text, choices[k]);
    if (d < best_d) best = choices[k], best_d = d;
  }
  if (best) sb_strbuf_printf(&hint, " (did you mean '%s'?)", best);
  int rc = type_error_hint(c, f, want.data ? want.data : "one of the choices", hint.data ? hint.data : "");
  sb_strbuf_free(&want), sb_strbuf_free(&hint);
  return rc;
}

int sb_config_get_enum(const sb_config *c, const char *key, const char *const *choices, int *out) {
  found f = {0};
  int rc = config_find(c, key, &f);
  if (rc) return rc;
  for (int k = 0; f.node->kind == SB_NODE_SCALAR && choices[k]; k++)
    if (!strcmp(f.node->text, choices[k])) return *out = k, SB_OK;
  return enum_error(c, &f, choices);
}

/* ---- mappings and lists ------------------------------------------------- */

static const sb_config *child_view(const sb_config *c, const char *key, sb_node *n, sb_loc loc,
                                   bool bound) {
  if (!bound && n->view) return n->view;
  char *path = sb_node_path(n);
  sb_config *v = path ? sb_config_new_view(c->r, n, path, loc) : NULL;
  free(path);
  if (!v) return NULL;
  if (!bound) return n->view = v;
  v->bound = true;
  v->schema = c->schema, v->n_schema = c->n_schema;
  v->owner = sb_strdup(c->owner);
  v->prefix = sb_key_join(c->prefix, key);
  return v->owner && v->prefix ? v : NULL;
}

const sb_config *sb_config_get_map(const sb_config *c, const char *key) {
  const sb_option *opt = NULL;
  sb_schema_match m = c->bound ? sb_schema_find(c, key, &opt) : SB_SCHEMA_NONE;
  if (c->bound && m == SB_SCHEMA_NONE) {
    undeclared(c, key);
    return NULL;
  }
  sb_entry *e;
  sb_node *at;
  const char *rest;
  if (view_walk(c, key, false, &e, &at, &rest)) return NULL;
  if (!e && c->bound && opt && opt->type == SB_OPTION_MAP && opt->default_value) {
    /* absent: a view of the schema's default mapping (outside the recipe's
     * tree, so it never counts as unused) */
    sb_node *d = sb_schema_default(c, opt);
    if (!d || d->kind != SB_NODE_MAP) return NULL;
    return child_view(c, key, d, d->loc, false);
  }
  if (!e) {
    record_missed(at, rest);
    return NULL;
  }
  if (e->val->kind != SB_NODE_MAP) {
    found f = {e->val, opt, false};
    type_error(c, &f, "a mapping");
    return NULL;
  }
  sb_node_mark(e->val);
  return child_view(c, key, e->val, e->kloc, c->bound && m == SB_SCHEMA_PREFIX);
}

/* The list at key (or its default); marks it and its scalar items. */
static int find_list(const sb_config *c, const char *key, found *f) {
  int rc = config_find(c, key, f);
  if (rc) return rc;
  if (f->node->kind != SB_NODE_LIST) return type_error(c, f, "a list");
  for (size_t k = 0; k < f->node->len; k++)
    if (f->node->entries[k].val->kind == SB_NODE_SCALAR) f->node->entries[k].val->used = true;
  return SB_OK;
}

/* Item i of the list at key, as a `found` (keeps is_default/opt). */
static int find_item(const sb_config *c, const char *key, size_t i, found *item) {
  found f = {0};
  int rc = find_list(c, key, &f);
  if (rc) return rc;
  if (i >= f.node->len) {
    char *path = f.is_default ? sb_key_join(c->path, key) : sb_node_path(f.node);
    rc = path_error(f.node->loc, path, SB_ERR, "item %zu asked for, but the list has %zu", i,
                    f.node->len);
    free(path);
    return rc;
  }
  *item = f;
  item->node = f.node->entries[i].val;
  return SB_OK;
}

int sb_config_list_length(const sb_config *c, const char *key, size_t *out) {
  found f = {0};
  int rc = find_list(c, key, &f);
  if (!rc) *out = f.node->len;
  return rc;
}

int sb_config_list_string(const sb_config *c, const char *key, size_t i, const char **out) {
  found f = {0};
  int rc = find_item(c, key, i, &f);
  if (rc) return rc;
  if (f.node->kind != SB_NODE_SCALAR) return type_error(c, &f, "a string");
  *out = scalar_string(f.node);
  return SB_OK;
}

int sb_config_list_float(const sb_config *c, const char *key, size_t i, double *out) {
  found f = {0};
  int rc = find_item(c, key, i, &f);
  if (rc) return rc;
  if (!is_number(f.node)) return type_error(c, &f, "a number");
  *out = f.node->f;
  return SB_OK;
}

const sb_config *sb_config_list_map(const sb_config *c, const char *key, size_t i) {
  found f = {0};
  if (find_item(c, key, i, &f)) return NULL;
  if (f.node->kind != SB_NODE_MAP) {
    type_error(c, &f, "a mapping");
    return NULL;
  }
  sb_node_mark(f.node);
  return child_view(c, key, f.node, f.node->loc, false);
}

/* ---- marks, locations, errors ------------------------------------------- */

void sb_config_mark_used(const sb_config *c, const char *key) {
  if (!key) {
    sb_node_mark_tree(c->node);
    return;
  }
  sb_entry *e;
  sb_node *at;
  const char *rest;
  if (!view_walk(c, key, true, &e, &at, &rest) && e) sb_node_mark_tree(e->val);
}

const char *sb_config_where(const sb_config *c, const char *key) {
  sb_entry *e = NULL;
  sb_node *at;
  const char *rest;
  if (key && !view_walk(c, key, true, &e, &at, &rest) && e) {
    if (!e->val->kwhere) e->val->kwhere = sb_loc_str(e->kloc);
    if (e->val->kwhere) return e->val->kwhere;
  }
  sb_config *v = (sb_config *)c; /* a cache, not the config's value */
  if (!v->where) v->where = sb_loc_str(c->loc);
  return v->where ? v->where : "?";
}

const char *sb_config_path(const sb_config *c) { return c->path; }

int sb_config_error(const sb_config *c, const char *key, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = sb_vasprintf(fmt, ap);
  va_end(ap);
  sb_entry *e = NULL;
  sb_node *at;
  const char *rest;
  if (key && view_walk(c, key, true, &e, &at, &rest)) e = NULL;
  char *path = e ? sb_node_path(e->val) : key ? sb_key_join(c->path, key) : sb_strdup(c->path);
  path_error(e ? e->val->loc : c->loc, path, SB_ERR, "%s", msg ? msg : "?");
  free(path), free(msg);
  return SB_ERR;
}
