/* node.c — the recipe tree: nodes, scalar typing (YAML 1.2 core schema,
 * decimal ints), copy/merge, used-marks, paths, and source locations. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recipe_impl.h"

/* ---- locations ---------------------------------------------------------- */

char *sb_loc_str(sb_loc loc) {
  switch (loc.kind) {
    case SB_LOC_CLI: return sb_asprintf("<command line>:--set #%d", loc.col);
    case SB_LOC_DEFAULT: return sb_asprintf("<default of %s>", loc.file ? loc.file : "?");
    case SB_LOC_FILE: break;
  }
  return sb_asprintf("%s:%d:%d", loc.file ? loc.file : "?", loc.line, loc.col);
}

int sb_loc_error(sb_loc loc, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = sb_vasprintf(fmt, ap);
  va_end(ap);
  char *where = sb_loc_str(loc);
  sb_error_set(code, "%s: %s", where ? where : "?", msg ? msg : "?");
  free(msg), free(where);
  return code;
}

/* Files first (by name, line, column), then command-line values by index. */
int sb_loc_compare(const sb_loc *a, const sb_loc *b) {
  if (a->kind != b->kind) return (int)a->kind - (int)b->kind;
  int c = strcmp(a->file ? a->file : "", b->file ? b->file : "");
  if (c) return c;
  if (a->line != b->line) return a->line < b->line ? -1 : 1;
  if (a->col != b->col) return a->col < b->col ? -1 : 1;
  return 0;
}

const char *sb_recipe_intern(sb_recipe *r, const char *file) {
  if (!file) return NULL;
  char *s = sb_map_get(&r->files, file);
  if (s) return s;
  if (!(s = sb_strdup(file))) return NULL;
  if (sb_map_set(&r->files, file, s)) {
    free(s);
    return NULL;
  }
  return s;
}

/* ---- scalar typing ------------------------------------------------------ */

static bool text_is_null(const char *s) {
  return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
         !strcmp(s, "NULL");
}

static bool text_to_bool(const char *s, bool *out) {
  if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) return *out = true, true;
  if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) return *out = false, true;
  return false;
}

static bool text_to_int(const char *s, int64_t *out) {
  const char *p = s + (*s == '+' || *s == '-');
  if (!*p) return false;
  for (; *p; p++)
    if (!isdigit((unsigned char)*p)) return false;
  errno = 0;
  long long v = strtoll(s, NULL, 10);
  if (errno == ERANGE) return false;
  *out = (int64_t)v;
  return true;
}

static size_t skip_digits(const char **p) {
  size_t n = 0;
  while (isdigit((unsigned char)**p)) (*p)++, n++;
  return n;
}

static bool text_to_float(const char *s, double *out) {
  const char *p = s;
  double sign = 1.0;
  if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1.0 : 1.0;
  if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) return *out = sign * INFINITY, true;
  if (p == s && (!strcmp(p, ".nan") || !strcmp(p, ".NaN") || !strcmp(p, ".NAN"))) return *out = NAN, true;
  size_t digits = skip_digits(&p);
  if (*p == '.') p++, digits += skip_digits(&p);
  if (!digits) return false;
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!skip_digits(&p)) return false;
  }
  if (*p) return false;
  *out = strtod(s, NULL);
  return true;
}

sb_scalar_type sb_text_type(const char *text) {
  sb_node n = {.text = (char *)text};
  sb_node_classify(&n);
  return n.type;
}

void sb_node_classify(sb_node *n) {
  const char *s = n->text;
  if (n->quoted) n->type = SB_SCALAR_STRING;
  else if (text_is_null(s)) n->type = SB_SCALAR_NULL;
  else if (text_to_bool(s, &n->b)) n->type = SB_SCALAR_BOOL;
  else if (text_to_int(s, &n->i)) n->type = SB_SCALAR_INT, n->f = (double)n->i;
  else if (text_to_float(s, &n->f)) n->type = SB_SCALAR_FLOAT;
  else n->type = SB_SCALAR_STRING;
}

/* ---- nodes -------------------------------------------------------------- */

sb_node *sb_node_new(sb_node_kind kind, sb_loc loc) {
  sb_node *n = sb_calloc(1, sizeof *n);
  if (!n) return NULL;
  n->kind = kind;
  n->loc = loc;
  n->base_file = loc.kind == SB_LOC_FILE ? loc.file : NULL;
  return n;
}

sb_node *sb_node_new_scalar(const char *text, size_t len, bool quoted, sb_loc loc) {
  sb_node *n = sb_node_new(SB_NODE_SCALAR, loc);
  if (!n) return NULL;
  if (!(n->text = sb_strndup(text, len))) {
    free(n);
    return NULL;
  }
  n->quoted = quoted;
  sb_node_classify(n);
  return n;
}

static void node_clear(sb_node *n) {
  for (size_t k = 0; k < n->len; k++) {
    free(n->entries[k].key);
    sb_node_free(n->entries[k].val);
  }
  free(n->entries);
  n->entries = NULL, n->len = n->cap = 0;
  free(n->text), n->text = NULL;
  free(n->resolved_path), n->resolved_path = NULL;
  for (size_t k = 0; k < n->missed.len; k++) free(n->missed.items[k]);
  sb_ptrvec_free(&n->missed);
}

void sb_node_free(sb_node *n) {
  if (!n) return;
  node_clear(n);
  free(n->kwhere);
  free(n);
}

int sb_node_append(sb_node *n, char *key, sb_loc kloc, sb_node *val) {
  if (n->len == n->cap) {
    size_t cap = n->cap ? n->cap * 2 : 8;
    sb_entry *e = sb_realloc(n->entries, cap * sizeof *e);
    if (!e) return SB_ERR_NOMEM;
    n->entries = e, n->cap = cap;
  }
  n->entries[n->len++] = (sb_entry){key, kloc, val};
  val->parent = n;
  return SB_OK;
}

sb_entry *sb_node_find(const sb_node *map, const char *key) {
  if (map->kind != SB_NODE_MAP) return NULL;
  for (size_t k = 0; k < map->len; k++)
    if (!strcmp(map->entries[k].key, key)) return &map->entries[k];
  return NULL;
}

void sb_node_remove(sb_node *map, const char *key) {
  sb_entry *e = sb_node_find(map, key);
  if (!e) return;
  free(e->key);
  sb_node_free(e->val);
  size_t k = (size_t)(e - map->entries);
  memmove(e, e + 1, (map->len - k - 1) * sizeof *e);
  map->len--;
}

static bool seg_to_index(const char *seg, size_t *out) {
  if (!*seg) return false;
  size_t v = 0;
  for (const char *p = seg; *p; p++) {
    if (!isdigit((unsigned char)*p) || v > SIZE_MAX / 16) return false;
    v = v * 10 + (size_t)(*p - '0');
  }
  *out = v;
  return true;
}

sb_entry *sb_node_child(const sb_node *n, const char *seg) {
  if (n->kind == SB_NODE_MAP) return sb_node_find(n, seg);
  size_t i;
  if (n->kind == SB_NODE_LIST && seg_to_index(seg, &i) && i < n->len) return &n->entries[i];
  return NULL;
}

static sb_loc loc_into(sb_loc loc, sb_recipe *dst) {
  loc.file = sb_recipe_intern(dst, loc.file);
  return loc;
}

static int copy_entries(sb_node *c, const sb_node *n, sb_recipe *dst) {
  for (size_t k = 0; k < n->len; k++) {
    const sb_entry *e = &n->entries[k];
    char *key = e->key ? sb_strdup(e->key) : NULL;
    sb_node *v = sb_node_copy(e->val, dst);
    if ((e->key && !key) || !v || sb_node_append(c, key, loc_into(e->kloc, dst), v)) {
      free(key), sb_node_free(v);
      return SB_ERR_NOMEM;
    }
  }
  return SB_OK;
}

sb_node *sb_node_copy(const sb_node *n, sb_recipe *dst) {
  sb_node *c = sb_node_new(n->kind, loc_into(n->loc, dst));
  if (!c) return NULL;
  c->interp = n->interp;
  c->quoted = n->quoted, c->type = n->type;
  c->b = n->b, c->i = n->i, c->f = n->f;
  c->base_file = sb_recipe_intern(dst, n->base_file);
  if ((n->text && !(c->text = sb_strdup(n->text))) || copy_entries(c, n, dst)) {
    sb_node_free(c);
    return NULL;
  }
  return c;
}

void sb_node_take(sb_node *dst, sb_node *src) {
  node_clear(dst);
  dst->kind = src->kind;
  dst->text = src->text, src->text = NULL;
  dst->quoted = src->quoted, dst->type = src->type;
  dst->b = src->b, dst->i = src->i, dst->f = src->f;
  dst->base_file = src->base_file;
  dst->interp = src->interp;
  dst->entries = src->entries, dst->len = src->len, dst->cap = src->cap;
  for (size_t k = 0; k < dst->len; k++) dst->entries[k].val->parent = dst;
  src->entries = NULL, src->len = src->cap = 0;
  sb_node_free(src);
}

void sb_node_merge(sb_node *base, sb_node *over) {
  for (size_t k = 0; k < over->len; k++) {
    sb_entry *o = &over->entries[k];
    sb_entry *b = sb_node_find(base, o->key);
    if (!b) {
      if (sb_node_append(base, o->key, o->kloc, o->val)) free(o->key), sb_node_free(o->val);
    } else if (b->val->kind == SB_NODE_MAP && o->val->kind == SB_NODE_MAP) {
      sb_node_merge(b->val, o->val);
      b->kloc = o->kloc;
      free(o->key);
    } else {
      sb_node_free(b->val);
      b->val = o->val, b->kloc = o->kloc;
      o->val->parent = base;
      free(o->key);
    }
    o->key = NULL, o->val = NULL;
  }
  over->len = 0;
  sb_node_free(over);
}

/* ---- marks and paths ---------------------------------------------------- */

void sb_node_mark(sb_node *n) {
  for (; n && !n->used; n = n->parent) n->used = true;
}

static void mark_below(sb_node *n) {
  n->used = true;
  for (size_t k = 0; k < n->len; k++) mark_below(n->entries[k].val);
}

void sb_node_mark_tree(sb_node *n) {
  if (!n) return;
  mark_below(n);
  sb_node_mark(n->parent);
}

static void path_prepend(sb_strbuf *b, const sb_node *n) {
  const sb_node *p = n->parent;
  if (!p) return;
  path_prepend(b, p);
  size_t k = 0;
  while (k < p->len && p->entries[k].val != n) k++;
  if (b->len) sb_strbuf_append(b, ".");
  if (p->kind == SB_NODE_MAP) sb_strbuf_append(b, p->entries[k].key);
  else sb_strbuf_printf(b, "%zu", k);
}

char *sb_node_path(const sb_node *n) {
  sb_strbuf b;
  sb_strbuf_init(&b);
  path_prepend(&b, n);
  return sb_strbuf_take(&b);
}

char *sb_node_describe(const sb_node *n) {
  if (n->kind == SB_NODE_MAP) return sb_strdup("a mapping");
  if (n->kind == SB_NODE_LIST) return sb_strdup("a list");
  if (n->type == SB_SCALAR_NULL) return sb_strdup("null");
  size_t len = strlen(n->text);
  if (len > 60) return sb_asprintf("\"%.57s...\"", n->text);
  return sb_asprintf("\"%s\"", n->text);
}

char *sb_key_join(const char *a, const char *b) {
  if (!a || !*a) return sb_strdup(b);
  return sb_asprintf("%s.%s", a, b);
}

bool sb_key_is_close(const char *typed, const char *known) {
  size_t n = strlen(known);
  int limit = n <= 3 ? 1 : n <= 6 ? 2 : 3;
  int d = sb_str_distance(typed, known);
  return d > 0 && d <= limit;
}
