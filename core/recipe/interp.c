/* interp.c — ${a.b.c} interpolation, resolved once per recipe after include,
 * merge and overrides. References to the recipe's own keys are resolved
 * first (recursively, with cycle detection); inside a pipeline stage,
 * ${pipeline.<key>} reads the pipeline's root and ${stages.<name>.<key>} an
 * earlier stage. "$${" is a literal "${". Referenced keys count as read. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "recipe_impl.h"

typedef struct interp {
  sb_recipe *r;
  const sb_recipe *pipeline; /* when r is a stage of it */
  size_t stage;
  sb_ptrvec stack;           /* scalars being resolved, outermost first */
} interp;

static int resolve_node(interp *it, sb_node *n);

/* "loc: path: message" about the value n. */
static int value_error(const sb_node *n, const char *fmt, ...) SB_PRINTF(2, 3);
static int value_error(const sb_node *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = sb_vasprintf(fmt, ap);
  va_end(ap);
  char *path = sb_node_path(n);
  int rc = sb_loc_error(n->loc, SB_ERR_FORMAT, "%s: %s", path ? path : "?", msg ? msg : "?");
  free(msg), free(path);
  return rc;
}

static bool is_inside(const sb_node *n, const sb_node *outer) {
  for (; n; n = n->parent)
    if (n == outer) return true;
  return false;
}

static int cycle_error(const interp *it, const sb_node *n) {
  size_t first = 0;
  while (first < it->stack.len && !is_inside(it->stack.items[first], n)) first++;
  sb_strbuf b;
  sb_strbuf_init(&b);
  for (size_t k = first; k < it->stack.len; k++) {
    char *p = sb_node_path(it->stack.items[k]);
    sb_strbuf_printf(&b, "%s -> ", p ? p : "?");
    free(p);
  }
  char *p = sb_node_path(n);
  sb_strbuf_append(&b, p ? p : "?");
  free(p);
  const sb_node *at = it->stack.len ? it->stack.items[it->stack.len - 1] : n;
  int rc = value_error(at, "interpolation cycle: %s", b.data);
  sb_strbuf_free(&b);
  return rc;
}

/* ---- finding a reference's target --------------------------------------- */

static const char *close_key(const sb_node *map, const char *seg) {
  const char *best = NULL;
  int best_d = 1 << 30;
  for (size_t k = 0; map->kind == SB_NODE_MAP && k < map->len; k++) {
    const char *key = map->entries[k].key;
    int d = sb_str_distance(seg, key);
    if (sb_key_is_close(seg, key) && d < best_d) best = key, best_d = d;
  }
  return best;
}

static int unknown_ref(const sb_node *from, const char *ref, const sb_node *deepest,
                       const char *seg, size_t seg_off) {
  const char *hint = deepest ? close_key(deepest, seg) : NULL;
  if (!hint) return value_error(from, "unknown reference ${%s}", ref);
  return value_error(from, "unknown reference ${%s} (did you mean ${%.*s%s}?)", ref, (int)seg_off,
                     ref, hint);
}

/* Walks path from root; own: root is r's, so values on the way are resolved
 * first. Sets *out, or reports an unknown reference written at `from`. */
static int walk(interp *it, sb_node *root, const char *path, size_t skip, bool own,
                const sb_node *from, sb_node **out) {
  char *copy = sb_strdup(path + skip);
  if (!copy) return SB_ERR_NOMEM;
  sb_node *cur = root;
  int rc = SB_OK;
  for (char *seg = copy, *next; seg && !rc; seg = next) {
    next = strchr(seg, '.');
    if (next) *next++ = 0;
    if (own && cur->kind == SB_NODE_SCALAR && (rc = resolve_node(it, cur))) break;
    sb_entry *e = *seg ? sb_node_child(cur, seg) : NULL;
    if (!e) rc = unknown_ref(from, path, cur, seg, skip + (size_t)(seg - copy));
    else cur = e->val;
  }
  free(copy);
  if (!rc && own && cur->interp == SB_INTERP_BUSY) rc = cycle_error(it, cur);
  if (!rc && own) rc = resolve_node(it, cur);
  if (!rc) *out = cur;
  return rc;
}

static int stage_target(interp *it, const sb_node *from, const char *ref, sb_node **out) {
  const char *name = ref + strlen("stages."), *dot = strchr(name, '.');
  char *stage = dot ? sb_strndup(name, (size_t)(dot - name)) : sb_strdup(name);
  size_t j = stage ? sb_pipeline_stage_index(it->pipeline, stage) : SIZE_MAX;
  int rc = SB_OK;
  if (j == SIZE_MAX)
    rc = value_error(from, "unknown reference ${%s}: the pipeline has no stage '%s'", ref,
                     stage ? stage : "?");
  else if (j >= it->stage)
    rc = value_error(from, "${%s}: stage '%s' does not come before this stage", ref, stage);
  else if (!dot)
    rc = value_error(from, "${%s}: name a key of stage '%s' (${stages.%s.<key>})", ref, stage, stage);
  free(stage);
  if (rc) return rc;
  const sb_recipe *s = sb_pipeline_stage_cached(it->pipeline, j);
  if (!s) return sb_error_code() ? sb_error_code() : SB_ERR;
  return walk(it, s->root, ref, (size_t)(dot + 1 - ref), false, from, out);
}

static int find_target(interp *it, const sb_node *from, const char *ref, sb_node **out) {
  int rc;
  if (it->pipeline && sb_str_starts_with(ref, "pipeline."))
    rc = walk(it, it->pipeline->root, ref, strlen("pipeline."), false, from, out);
  else if (it->pipeline && sb_str_starts_with(ref, "stages."))
    rc = stage_target(it, from, ref, out);
  else
    rc = walk(it, it->r->root, ref, 0, true, from, out);
  if (!rc) sb_node_mark_tree(*out);
  return rc;
}

/* ---- substitution ------------------------------------------------------- */

/* n is exactly "${ref}": it takes t's value and type (a copy for containers;
 * a quoted "${ref}" of a scalar is a string). */
static int take_whole(interp *it, sb_node *n, const sb_node *t) {
  if (t->kind != SB_NODE_SCALAR) {
    sb_node *copy = sb_node_copy(t, it->r);
    if (!copy) return SB_ERR_NOMEM;
    sb_node_take(n, copy);
    n->interp = SB_INTERP_BUSY;
    return SB_OK;
  }
  char *text = sb_strdup(t->text);
  if (!text) return SB_ERR_NOMEM;
  free(n->text);
  n->text = text;
  if (n->quoted) { /* "${ref}" in quotes stays a string */
    n->type = SB_SCALAR_STRING;
  } else {
    n->quoted = t->quoted, n->type = t->type;
    n->b = t->b, n->i = t->i, n->f = t->f;
  }
  n->base_file = sb_recipe_intern(it->r, t->base_file);
  return SB_OK;
}

/* Appends the target of the "${...}" at s (ref_len characters inside). */
static int splice(interp *it, sb_node *n, const char *ref, sb_strbuf *out, bool first) {
  sb_node *t;
  int rc = find_target(it, n, ref, &t);
  if (rc) return rc;
  if (t->kind != SB_NODE_SCALAR)
    return value_error(n, "${%s} is %s; only a whole value can refer to one", ref,
                       t->kind == SB_NODE_MAP ? "a mapping" : "a list");
  if (first) n->base_file = sb_recipe_intern(it->r, t->base_file);
  return sb_strbuf_append(out, t->type == SB_SCALAR_NULL ? "" : t->text);
}

static int substitute(interp *it, sb_node *n) {
  const char *s = n->text;
  sb_strbuf out;
  sb_strbuf_init(&out);
  sb_strbuf_append(&out, "");
  int rc = SB_OK;
  for (size_t i = 0; s[i] && !rc;) {
    if (!strncmp(s + i, "$${", 3)) {
      rc = sb_strbuf_append(&out, "${"), i += 3;
      continue;
    }
    if (strncmp(s + i, "${", 2) != 0) {
      rc = sb_strbuf_appendn(&out, s + i, 1), i++;
      continue;
    }
    const char *end = strchr(s + i + 2, '}');
    if (!end) {
      rc = value_error(n, "unterminated ${ (write $${ for a literal ${)");
      break;
    }
    char *ref = sb_strndup(s + i + 2, (size_t)(end - s - i - 2));
    bool whole = i == 0 && !end[1];
    sb_node *t;
    if (!ref) rc = SB_ERR_NOMEM;
    else if (whole && !(rc = find_target(it, n, ref, &t))) rc = take_whole(it, n, t);
    else if (!whole) rc = splice(it, n, ref, &out, i == 0);
    free(ref);
    if (whole) {
      sb_strbuf_free(&out);
      return rc;
    }
    i = (size_t)(end - s) + 1;
  }
  if (!rc) {
    free(n->text);
    n->text = sb_strbuf_take(&out);
    sb_node_classify(n);
  }
  sb_strbuf_free(&out);
  return rc;
}

static int resolve_scalar(interp *it, sb_node *n) {
  if (!strstr(n->text, "${")) return SB_OK;
  int rc = sb_ptrvec_push(&it->stack, n);
  if (rc) return rc;
  rc = substitute(it, n);
  it->stack.len--;
  return rc;
}

static int resolve_node(interp *it, sb_node *n) {
  if (n->interp == SB_INTERP_DONE) return SB_OK;
  if (n->interp == SB_INTERP_BUSY) return cycle_error(it, n);
  n->interp = SB_INTERP_BUSY;
  int rc = SB_OK;
  if (n->kind == SB_NODE_SCALAR) rc = resolve_scalar(it, n);
  for (size_t k = 0; !rc && n->kind != SB_NODE_SCALAR && k < n->len; k++) {
    const sb_entry *e = &n->entries[k];
    bool stages = it->r->pipeline && n == it->r->root && !strcmp(e->key, "stages");
    if (!stages) rc = resolve_node(it, e->val);
  }
  n->interp = SB_INTERP_DONE;
  return rc;
}

int sb_interp_resolve(sb_recipe *r, const sb_recipe *pipeline, size_t stage) {
  interp it = {r, pipeline, stage, {0}};
  int rc = resolve_node(&it, r->root);
  sb_ptrvec_free(&it.stack);
  return rc;
}
