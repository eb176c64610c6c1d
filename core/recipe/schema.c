/* schema.c — option schemas (plugin.h sb_option) applied to recipe mappings:
 * binding a view to a schema, finding a key's option, parsing defaults, and
 * validating a whole mapping (unknown keys with hints, types, enums). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recipe_impl.h"

const sb_config *sb_config_bind(const sb_config *c, const char *owner, const sb_option *schema,
                                size_t n) {
  sb_config *v = sb_config_new_view(c->r, c->node, c->path, c->loc);
  if (!v) return NULL;
  v->bound = true;
  v->schema = schema, v->n_schema = n;
  v->owner = sb_strdup(owner ? owner : "?");
  v->prefix = sb_strdup("");
  return v->owner && v->prefix ? v : NULL;
}

/* Whether `outer` is a strict dotted prefix of `key` ("a" of "a.b"). */
static bool is_dotted_prefix(const char *outer, const char *key) {
  size_t n = strlen(outer);
  return !strncmp(outer, key, n) && key[n] == '.';
}

sb_schema_match sb_schema_find(const sb_config *c, const char *key, const sb_option **opt) {
  char *full = sb_key_join(c->prefix, key);
  sb_schema_match m = SB_SCHEMA_NONE;
  *opt = NULL;
  for (size_t k = 0; full && k < c->n_schema && m == SB_SCHEMA_NONE; k++)
    if (!strcmp(c->schema[k].key, full)) m = SB_SCHEMA_OPTION, *opt = &c->schema[k];
  for (size_t k = 0; full && k < c->n_schema && m == SB_SCHEMA_NONE; k++)
    if (is_dotted_prefix(full, c->schema[k].key)) m = SB_SCHEMA_PREFIX;
  for (size_t k = 0; full && k < c->n_schema && m == SB_SCHEMA_NONE; k++) {
    const sb_option *o = &c->schema[k];
    if ((o->type == SB_OPTION_MAP || o->type == SB_OPTION_LIST) && is_dotted_prefix(o->key, full))
      m = SB_SCHEMA_INSIDE, *opt = o;
  }
  free(full);
  return m;
}

sb_node *sb_schema_default(const sb_config *c, const sb_option *opt) {
  char id[32];
  snprintf(id, sizeof id, "%p", (const void *)opt);
  sb_recipe *r = c->r;
  sb_node *n = sb_map_get(&r->default_of, id);
  if (n) return n;
  sb_loc loc = {sb_recipe_intern(r, c->owner), 0, 0, SB_LOC_DEFAULT};
  if (!(n = sb_yaml_load_text(r, opt->default_value, loc))) {
    sb_error_prefix("%s: option '%s' (a bug in %s)", c->owner, opt->key, c->owner);
    return NULL;
  }
  if (sb_ptrvec_push(&r->defaults, n)) {
    sb_node_free(n);
    return NULL;
  }
  sb_map_set(&r->default_of, id, n);
  return n;
}

const char *sb_option_expected(sb_option_type type) {
  switch (type) {
    case SB_OPTION_BOOL: return "true or false";
    case SB_OPTION_INT: return "an integer";
    case SB_OPTION_FLOAT: return "a number";
    case SB_OPTION_STRING: return "a string";
    case SB_OPTION_PATH: return "a path";
    case SB_OPTION_ENUM: return "one of the choices";
    case SB_OPTION_LIST: return "a list";
    case SB_OPTION_MAP: return "a mapping";
  }
  return "a value";
}

/* Whether s is one of "a|b|c". */
static bool choices_have(const char *choices, const char *s) {
  size_t n = strlen(s);
  for (const char *p = choices; p; p = strchr(p, '|'), p = p ? p + 1 : NULL) {
    const char *end = strchr(p, '|');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && !strncmp(p, s, n)) return true;
  }
  return false;
}

bool sb_option_accepts(const sb_option *opt, const sb_node *n) {
  bool scalar = n->kind == SB_NODE_SCALAR;
  switch (opt->type) {
    case SB_OPTION_BOOL: return scalar && n->type == SB_SCALAR_BOOL;
    case SB_OPTION_INT: return scalar && n->type == SB_SCALAR_INT;
    case SB_OPTION_FLOAT: return scalar && (n->type == SB_SCALAR_INT || n->type == SB_SCALAR_FLOAT);
    case SB_OPTION_STRING:
    case SB_OPTION_PATH: return scalar;
    case SB_OPTION_ENUM: return scalar && opt->choices && choices_have(opt->choices, n->text);
    case SB_OPTION_LIST: return n->kind == SB_NODE_LIST;
    case SB_OPTION_MAP: return n->kind == SB_NODE_MAP;
  }
  return false;
}

/* ---- validation --------------------------------------------------------- */

typedef struct checker {
  const sb_config *view; /* the bound view being checked */
  sb_strbuf out;
  size_t count;
} checker;

static void add_line(checker *ck, sb_loc loc, const char *fmt, ...) SB_PRINTF(3, 4);
static void add_line(checker *ck, sb_loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = sb_vasprintf(fmt, ap);
  va_end(ap);
  char *where = sb_loc_str(loc);
  sb_strbuf_printf(&ck->out, "%s%s: %s", ck->count ? "\n" : "", where ? where : "?", msg ? msg : "?");
  ck->count++;
  free(where), free(msg);
}

/* The closest option name at the level of rel (the mapping holding key). */
static char *closest_option(const checker *ck, const char *rel, const char *key) {
  const sb_config *v = ck->view;
  char *best = NULL;
  int best_d = 1 << 30;
  for (size_t k = 0; k < v->n_schema; k++) {
    const char *name = v->schema[k].key;
    if (*rel && !is_dotted_prefix(rel, name)) continue;
    if (*rel) name += strlen(rel) + 1;
    const char *dot = strchr(name, '.');
    char *seg = dot ? sb_strndup(name, (size_t)(dot - name)) : sb_strdup(name);
    int d = seg ? sb_str_distance(key, seg) : best_d;
    if (seg && sb_key_is_close(key, seg) && d < best_d) free(best), best = seg, best_d = d;
    else free(seg);
  }
  return best;
}

static void check_unknown(checker *ck, const sb_entry *e, const char *rel) {
  char *hint = closest_option(ck, rel, e->key);
  char *path = sb_node_path(e->val);
  if (hint)
    add_line(ck, e->kloc, "unknown key '%s' for %s (did you mean '%s'?)", path, ck->view->owner, hint);
  else
    add_line(ck, e->kloc, "unknown key '%s' for %s", path, ck->view->owner);
  free(hint), free(path);
}

/* The choice of "a|b|c" closest to n's text when close enough (caller frees). */
static char *closest_choice(const char *choices, const sb_node *n) {
  if (!choices || n->kind != SB_NODE_SCALAR) return NULL;
  char *best = NULL;
  int best_d = 1 << 30;
  for (const char *p = choices; p; p = strchr(p, '|'), p = p ? p + 1 : NULL) {
    const char *end = strchr(p, '|');
    char *choice = end ? sb_strndup(p, (size_t)(end - p)) : sb_strdup(p);
    int d = choice ? sb_str_distance(n->text, choice) : best_d;
    if (choice && sb_key_is_close(n->text, choice) && d < best_d) free(best), best = choice, best_d = d;
    else free(choice);
  }
  return best;
}

static void check_value(checker *ck, const sb_option *opt, const sb_node *n) {
  if (sb_option_accepts(opt, n)) return;
  char *path = sb_node_path(n), *got = sb_node_describe(n);
  char *hint = opt->type == SB_OPTION_ENUM ? closest_choice(opt->choices, n) : NULL;
  if (hint)
    add_line(ck, n->loc, "%s: expected one of %s, got %s (did you mean '%s'?)", path, opt->choices,
             got, hint);
  else if (opt->type == SB_OPTION_ENUM)
    add_line(ck, n->loc, "%s: expected one of %s, got %s", path, opt->choices ? opt->choices : "?", got);
  else
    add_line(ck, n->loc, "%s: expected %s, got %s", path, sb_option_expected(opt->type), got);
  free(path), free(got);
  free(hint);
}

static void check_map(checker *ck, const sb_node *m, const char *rel) {
  for (size_t k = 0; k < m->len; k++) {
    const sb_entry *e = &m->entries[k];
    if (e->val->used && e->val->kind != SB_NODE_MAP) continue; /* consumed (e.g. plugin:) */
    char *key = sb_key_join(rel, e->key);
    const sb_option *opt;
    sb_schema_match match = key ? sb_schema_find(ck->view, key, &opt) : SB_SCHEMA_NONE;
    if (match == SB_SCHEMA_NONE) check_unknown(ck, e, rel);
    else if (match == SB_SCHEMA_OPTION) check_value(ck, opt, e->val);
    else if (match == SB_SCHEMA_PREFIX && e->val->kind == SB_NODE_MAP) check_map(ck, e->val, key);
    else if (match == SB_SCHEMA_PREFIX) {
      sb_option as_map = {.key = key, .type = SB_OPTION_MAP};
      check_value(ck, &as_map, e->val);
    }
    free(key);
  }
}

int sb_config_validate(const sb_config *c, const char *owner, const sb_option *schema, size_t n) {
  sb_config view = *c;
  view.bound = true;
  view.owner = (char *)(owner ? owner : "?");
  view.schema = schema, view.n_schema = n;
  view.prefix = (char *)"";
  checker ck = {.view = &view};
  sb_strbuf_init(&ck.out);
  check_map(&ck, c->node, "");
  int rc = SB_OK;
  if (ck.count) rc = sb_error_set(SB_ERR_FORMAT, "%s", ck.out.data);
  sb_strbuf_free(&ck.out);
  return rc;
}
