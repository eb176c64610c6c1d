/* recipe.c — loading a recipe: the include: chain and its merge, command-line
 * overrides (--set a.b.c=value), and the recipe's lifetime. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "recipe_impl.h"

sb_recipe *sb_recipe_new(const char *path) {
  sb_recipe *r = sb_calloc(1, sizeof *r);
  if (!r) return NULL;
  sb_map_init(&r->files);
  sb_map_init(&r->default_of);
  if (!(r->path = sb_strdup(path))) {
    free(r);
    return NULL;
  }
  return r;
}

static void view_free(sb_config *v) {
  free(v->path), free(v->where), free(v->owner), free(v->prefix);
  free(v);
}

void sb_recipe_free(sb_recipe *r) {
  if (!r) return;
  sb_node_free(r->root);
  for (size_t k = 0; k < r->views.len; k++) view_free(r->views.items[k]);
  sb_ptrvec_free(&r->views);
  for (size_t k = 0; k < r->defaults.len; k++) sb_node_free(r->defaults.items[k]);
  sb_ptrvec_free(&r->defaults);
  sb_map_free(&r->default_of);
  for (size_t k = 0; k < r->files.cap; k++)
    if (r->files.keys[k]) free(r->files.vals[k]);
  sb_map_free(&r->files);
  for (size_t k = 0; k < r->n_stages; k++) sb_recipe_free(r->stage_cache[k]);
  free(r->stage_cache);
  free(r->path);
  free(r);
}

const char *sb_recipe_path(const sb_recipe *r) { return r->path; }
const sb_config *sb_recipe_root(const sb_recipe *r) { return r->root_view; }

/* ---- file names --------------------------------------------------------- */

/* Drops "." and folds "dir/.." so that messages name files plainly. */
static char *path_normalize(const char *path) {
  char *copy = sb_strdup(path);
  sb_ptrvec segs = {0};
  bool abs = path[0] == '/';
  char *save = NULL;
  for (char *seg = copy ? strtok_r(copy, "/", &save) : NULL; seg; seg = strtok_r(NULL, "/", &save)) {
    bool up = !strcmp(seg, "..");
    bool can_pop = segs.len && strcmp(segs.items[segs.len - 1], "..") != 0;
    if (!strcmp(seg, ".") || (up && abs && !segs.len)) continue;
    if (up && can_pop) segs.len--;
    else sb_ptrvec_push(&segs, seg);
  }
  sb_strbuf b;
  sb_strbuf_init(&b);
  sb_strbuf_append(&b, abs ? "/" : "");
  for (size_t k = 0; k < segs.len; k++) sb_strbuf_printf(&b, "%s%s", k ? "/" : "", (char *)segs.items[k]);
  if (!b.len) sb_strbuf_append(&b, ".");
  sb_ptrvec_free(&segs);
  free(copy);
  return copy ? sb_strbuf_take(&b) : NULL;
}

char *sb_recipe_file_near(const char *file, const char *name) {
  if (!*name || sb_path_is_absolute(name) || !file) return path_normalize(*name ? name : ".");
  char *dir = sb_path_dirname(file);
  char *joined = dir ? sb_path_join(dir, name) : NULL;
  char *out = joined ? path_normalize(joined) : NULL;
  free(dir), free(joined);
  return out;
}

/* ---- include: ----------------------------------------------------------- */

/* The files being loaded, innermost first (for cycle detection). */
typedef struct include_chain {
  const char *real, *shown;
  const struct include_chain *up;
} include_chain;

static void chain_print(sb_strbuf *b, const include_chain *c) {
  if (c->up) {
    chain_print(b, c->up);
    sb_strbuf_append(b, " -> ");
  }
  sb_strbuf_append(b, c->shown);
}

static int check_cycle(const include_chain *me, sb_loc from) {
  for (const include_chain *c = me->up; c; c = c->up) {
    if (strcmp(c->real, me->real) != 0) continue;
    sb_strbuf b;
    sb_strbuf_init(&b);
    chain_print(&b, me);
    int rc = sb_loc_error(from, SB_ERR_FORMAT, "include cycle: %s", b.data ? b.data : "");
    sb_strbuf_free(&b);
    return rc;
  }
  return SB_OK;
}

static sb_node *load_chain(sb_recipe *r, const char *path, const include_chain *up,
                           const char *from, sb_loc from_loc);

/* One file named by include: (item e of the list, or the scalar itself). */
static sb_node *load_include(sb_recipe *r, const char *path, const include_chain *me,
                             const sb_node *item) {
  char *what = sb_node_describe(item);
  if (item->kind != SB_NODE_SCALAR || item->type == SB_SCALAR_NULL) {
    sb_loc_error(item->loc, SB_ERR_FORMAT, "include: expected a file name or a list of them, got %s",
                 what ? what : "?");
    free(what);
    return NULL;
  }
  free(what);
  char *file = sb_recipe_file_near(path, item->text);
  char *where = sb_loc_str(item->loc);
  char *from = where ? sb_asprintf("included from %s", where) : NULL;
  sb_node *n = file && from ? load_chain(r, file, me, from, item->loc) : NULL;
  free(file), free(where), free(from);
  return n;
}

/* Merges the files named by root's include: under root (consumed). */
static sb_node *apply_includes(sb_recipe *r, const char *path, const include_chain *me,
                               sb_node *root) {
  sb_entry *inc = sb_node_find(root, "include");
  if (!inc) return root;
  const sb_node *v = inc->val;
  size_t n = v->kind == SB_NODE_LIST ? v->len : 1;
  sb_node *base = NULL;
  for (size_t k = 0; k < n; k++) {
    const sb_node *item = v->kind == SB_NODE_LIST ? v->entries[k].val : v;
    sb_node *sub = load_include(r, path, me, item);
    if (!sub) {
      sb_node_free(base), sb_node_free(root);
      return NULL;
    }
    if (base) sb_node_merge(base, sub);
    else base = sub;
  }
  sb_node_remove(root, "include");
  if (!base) return root;
  base->loc = root->loc;
  sb_node_merge(base, root);
  return base;
}

static sb_node *load_chain(sb_recipe *r, const char *path, const include_chain *up,
                           const char *from, sb_loc from_loc) {
  sb_node *root = sb_yaml_load_file(r, path, from);
  if (!root) return NULL;
  char *real = realpath(path, NULL);
  include_chain me = {real ? real : path, path, up};
  if (check_cycle(&me, from_loc)) {
    free(real), sb_node_free(root);
    return NULL;
  }
  root = apply_includes(r, path, &me, root);
  free(real);
  return root;
}

sb_node *sb_recipe_load_tree(sb_recipe *r, const char *path, const char *from) {
  sb_loc start = {sb_recipe_intern(r, path), 1, 1, SB_LOC_FILE};
  return load_chain(r, path, NULL, from, start);
}

/* ---- overrides ---------------------------------------------------------- */

static int set_error(sb_loc kloc, const char *key, const sb_node *at, const char *why) {
  char *path = sb_node_path(at);
  char *where = sb_loc_str(at->loc);
  int rc = sb_loc_error(kloc, SB_ERR, "cannot set '%s': '%s' (%s) is %s", key,
                        path && *path ? path : "the top level", where ? where : "?", why);
  free(path), free(where);
  return rc;
}

/* The mapping or list that holds the last segment of key (created on the way). */
static sb_node *set_parent(sb_recipe *r, const char *key, sb_loc kloc, const char **last) {
  sb_node *cur = r->root;
  const char *seg = key;
  for (const char *dot; (dot = strchr(seg, '.')); seg = dot + 1) {
    char *name = sb_strndup(seg, (size_t)(dot - seg));
    if (!name) return NULL;
    sb_entry *e = sb_node_child(cur, name);
    if (e && e->val->kind == SB_NODE_SCALAR) {
      set_error(kloc, key, e->val, "not a mapping");
      e = NULL, cur = NULL;
    } else if (!e && cur->kind == SB_NODE_LIST) {
      set_error(kloc, key, cur, "a list without that index");
      cur = NULL;
    } else if (!e) {
      sb_node *m = sb_node_new(SB_NODE_MAP, kloc);
      if (!m || sb_node_append(cur, name, kloc, m)) sb_node_free(m), cur = NULL;
      else name = NULL, cur = m;
    }
    if (e) cur = e->val;
    free(name);
    if (!cur) return NULL;
  }
  *last = seg;
  return cur;
}

static bool key_is_valid(const char *key) {
  if (!*key || *key == '.' || key[strlen(key) - 1] == '.') return false;
  return strstr(key, "..") == NULL;
}

int sb_recipe_set(sb_recipe *r, const char *key, sb_node *val, sb_loc kloc, bool merge_maps) {
  if (!key_is_valid(key)) {
    sb_node_free(val);
    return sb_loc_error(kloc, SB_ERR, "invalid key '%s'", key);
  }
  const char *last = NULL;
  sb_node *parent = set_parent(r, key, kloc, &last);
  if (!parent) {
    sb_node_free(val);
    return sb_error_code();
  }
  sb_entry *e = sb_node_child(parent, last);
  if (!e && parent->kind == SB_NODE_LIST) {
    sb_node_free(val);
    return set_error(kloc, key, parent, "a list without that index");
  }
  if (!e) {
    char *name = sb_strdup(last);
    if (!name || sb_node_append(parent, name, kloc, val)) {
      free(name), sb_node_free(val);
      return SB_ERR_NOMEM;
    }
    return SB_OK;
  }
  e->kloc = kloc;
  if (merge_maps && e->val->kind == SB_NODE_MAP && val->kind == SB_NODE_MAP) {
    sb_node_merge(e->val, val);
    return SB_OK;
  }
  sb_node_free(e->val);
  e->val = val;
  val->parent = parent;
  return SB_OK;
}

/* "--set" value: YAML when it starts like YAML flow text, else verbatim. */
static sb_node *parse_cli_value(sb_recipe *r, const char *text, sb_loc loc) {
  if (strchr("[{\"'", text[0]) && text[0]) return sb_yaml_load_text(r, text, loc);
  return sb_node_new_scalar(text, strlen(text), false, loc);
}

static int apply_override(sb_recipe *r, const char *arg, int index) {
  sb_loc loc = {sb_recipe_intern(r, "<command line>"), 0, index, SB_LOC_CLI};
  const char *eq = strchr(arg, '=');
  if (!eq) return sb_loc_error(loc, SB_ERR, "expected key=value, got \"%s\"", arg);
  char *key = sb_strndup(arg, (size_t)(eq - arg));
  sb_node *val = key ? parse_cli_value(r, eq + 1, loc) : NULL;
  if (!val) {
    free(key);
    return sb_error_code() ? sb_error_code() : SB_ERR;
  }
  int rc = r->pipeline ? sb_pipeline_set(r, key, val, loc) : 1; /* 1: not a stage key */
  if (rc == 1) rc = sb_recipe_set(r, key, val, loc, false);
  free(key);
  return rc;
}

sb_recipe *sb_recipe_load(const char *path, const char *const *overrides, size_t n_overrides) {
  sb_recipe *r = sb_recipe_new(path);
  if (!r) return NULL;
  r->root = sb_recipe_load_tree(r, path, NULL);
  int rc = r->root ? sb_pipeline_init(r) : SB_ERR;
  for (size_t k = 0; !rc && k < n_overrides; k++) rc = apply_override(r, overrides[k], (int)k + 1);
  if (!rc) rc = sb_interp_resolve(r, NULL, 0);
  sb_loc top = {sb_recipe_intern(r, path), 1, 1, SB_LOC_FILE};
  if (!rc && !(r->root_view = sb_config_new_view(r, r->root, "", top))) rc = SB_ERR_NOMEM;
  if (rc) {
    sb_recipe_free(r);
    return NULL;
  }
  return r;
}

sb_recipe *sb_recipe_from_overrides(const char *name, const char *const *overrides, size_t n_overrides) {
  sb_recipe *r = sb_recipe_new(name);
  if (!r) return NULL;
  sb_loc top = {sb_recipe_intern(r, name), 1, 1, SB_LOC_FILE};
  r->root = sb_node_new(SB_NODE_MAP, top);
  int rc = r->root ? sb_pipeline_init(r) : SB_ERR_NOMEM;
  for (size_t k = 0; !rc && k < n_overrides; k++) rc = apply_override(r, overrides[k], (int)k + 1);
  if (!rc) rc = sb_interp_resolve(r, NULL, 0);
  if (!rc && !(r->root_view = sb_config_new_view(r, r->root, "", top))) rc = SB_ERR_NOMEM;
  if (rc) {
    sb_recipe_free(r);
    return NULL;
  }
  return r;
}
