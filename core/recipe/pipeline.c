/* pipeline.c — pipelines: checking `stages:`, loading one stage (its recipe,
 * its `set:`, then ${stages.*} and ${pipeline.*}), and routing
 * --set stages.<name>.<key>=value into a stage's `set:`. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "recipe_impl.h"

static const char *const stage_keys[] = {"name", "recipe", "set"};

static const sb_node *stage_list(const sb_recipe *r) {
  const sb_entry *e = sb_node_find(r->root, "stages");
  return e ? e->val : NULL;
}

static const sb_node *stage_item(const sb_recipe *r, size_t i) {
  return stage_list(r)->entries[i].val;
}

static const sb_node *stage_field(const sb_node *item, const char *key) {
  const sb_entry *e = sb_node_find(item, key);
  return e ? e->val : NULL;
}

static bool name_is_valid(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-') return false;
  return true;
}

static int unknown_stage_key(const sb_entry *e, size_t i) {
  const char *hint = NULL;
  for (size_t k = 0; k < SB_ARRAY_LEN(stage_keys); k++)
    if (sb_key_is_close(e->key, stage_keys[k])) hint = stage_keys[k];
  if (hint)
    return sb_loc_error(e->kloc, SB_ERR_FORMAT, "stages.%zu.%s: unknown stage key (did you mean '%s'?)",
                        i, e->key, hint);
  return sb_loc_error(e->kloc, SB_ERR_FORMAT,
                      "stages.%zu.%s: unknown stage key (a stage has name, recipe and set)", i, e->key);
}

static int check_stage_name(const sb_node *list, size_t i, const sb_node *item) {
  const sb_node *name = stage_field(item, "name");
  if (!name) return sb_loc_error(item->loc, SB_ERR_FORMAT, "stages.%zu: missing 'name'", i);
  if (name->kind != SB_NODE_SCALAR || !name_is_valid(name->text))
    return sb_loc_error(name->loc, SB_ERR_FORMAT,
                        "stages.%zu.name: expected a name of letters, digits, '_' and '-'", i);
  for (size_t k = 0; k < i; k++) {
    const sb_node *other = stage_field(list->entries[k].val, "name");
    if (!strcmp(other->text, name->text))
      return sb_loc_error(name->loc, SB_ERR_FORMAT, "stages.%zu.name: a stage '%s' already exists",
                          i, name->text);
  }
  return SB_OK;
}

static int check_stage(const sb_node *list, size_t i) {
  const sb_node *item = list->entries[i].val;
  if (item->kind != SB_NODE_MAP)
    return sb_loc_error(item->loc, SB_ERR_FORMAT,
                        "stages.%zu: expected a mapping {name, recipe, set}", i);
  for (size_t k = 0; k < item->len; k++) {
    const sb_entry *e = &item->entries[k];
    if (strcmp(e->key, "name") && strcmp(e->key, "recipe") && strcmp(e->key, "set"))
      return unknown_stage_key(e, i);
  }
  int rc = check_stage_name(list, i, item);
  if (rc) return rc;
  const sb_node *rec = stage_field(item, "recipe");
  if (!rec) return sb_loc_error(item->loc, SB_ERR_FORMAT, "stages.%zu: missing 'recipe'", i);
  if (rec->kind != SB_NODE_SCALAR || rec->type == SB_SCALAR_NULL)
    return sb_loc_error(rec->loc, SB_ERR_FORMAT, "stages.%zu.recipe: expected a file name", i);
  const sb_node *set = stage_field(item, "set");
  if (set && set->kind != SB_NODE_MAP)
    return sb_loc_error(set->loc, SB_ERR_FORMAT,
                        "stages.%zu.set: expected a mapping of dotted keys to values", i);
  return SB_OK;
}

int sb_pipeline_init(sb_recipe *r) {
  sb_entry *e = sb_node_find(r->root, "stages");
  if (!e) return SB_OK;
  sb_node *list = e->val;
  if (list->kind != SB_NODE_LIST)
    return sb_loc_error(list->loc, SB_ERR_FORMAT,
                        "stages: a pipeline's stages must be a list of {name, recipe, set}");
  if (!list->len) return sb_loc_error(list->loc, SB_ERR_FORMAT, "stages: a pipeline needs a stage");
  for (size_t i = 0; i < list->len; i++) {
    int rc = check_stage(list, i);
    if (rc) return rc;
  }
  if (!(r->stage_cache = sb_calloc(list->len, sizeof *r->stage_cache))) return SB_ERR_NOMEM;
  r->n_stages = list->len;
  r->pipeline = true;
  sb_node_mark_tree(list);
  return SB_OK;
}

size_t sb_pipeline_stage_index(const sb_recipe *p, const char *name) {
  for (size_t i = 0; i < p->n_stages; i++)
    if (!strcmp(stage_field(stage_item(p, i), "name")->text, name)) return i;
  return SIZE_MAX;
}

/* The stage's set: mapping, created when absent. */
static sb_node *stage_set_map(sb_node *item, sb_loc loc) {
  sb_entry *e = sb_node_find(item, "set");
  if (e) return e->val;
  sb_node *m = sb_node_new(SB_NODE_MAP, loc);
  char *key = sb_strdup("set");
  if (!m || !key || sb_node_append(item, key, loc, m)) {
    sb_node_free(m), free(key);
    return NULL;
  }
  return m;
}

static int stage_key_error(const sb_recipe *r, const char *key, sb_loc kloc) {
  sb_strbuf names;
  sb_strbuf_init(&names);
  for (size_t i = 0; i < r->n_stages; i++)
    sb_strbuf_printf(&names, "%s%s", i ? ", " : "", sb_recipe_stage_name(r, i));
  int rc = sb_loc_error(kloc, SB_ERR, "cannot set '%s': write stages.<stage>.<key>=value with a stage of %s",
                        key, names.data ? names.data : "");
  sb_strbuf_free(&names);
  return rc;
}

int sb_pipeline_set(sb_recipe *r, const char *key, sb_node *val, sb_loc kloc) {
  if (strcmp(key, "stages") != 0 && !sb_str_starts_with(key, "stages.")) return 1;
  const char *rest = key + strlen("stages"), *dot = *rest ? strchr(rest + 1, '.') : NULL;
  char *name = dot ? sb_strndup(rest + 1, (size_t)(dot - rest - 1)) : NULL;
  size_t i = name ? sb_pipeline_stage_index(r, name) : SIZE_MAX;
  free(name);
  sb_node *set = i != SIZE_MAX && dot[1] ? stage_set_map((sb_node *)stage_item(r, i), kloc) : NULL;
  if (!set) {
    sb_node_free(val);
    return i != SIZE_MAX && dot[1] ? SB_ERR_NOMEM : stage_key_error(r, key, kloc);
  }
  sb_entry *e = sb_node_find(set, dot + 1);
  char *sub = e ? NULL : sb_strdup(dot + 1);
  if (e) {
    sb_node_free(e->val);
    e->val = val, e->kloc = kloc, val->parent = set;
  } else if (!sub || sb_node_append(set, sub, kloc, val)) {
    free(sub), sb_node_free(val);
    return SB_ERR_NOMEM;
  }
  sb_node_mark_tree(val);
  return SB_OK;
}

/* Applies a stage's set: entries to the stage's recipe s. */
static int apply_set(sb_recipe *s, const sb_node *set) {
  for (size_t k = 0; set && k < set->len; k++) {
    const sb_entry *e = &set->entries[k];
    sb_node *val = sb_node_copy(e->val, s);
    sb_loc kloc = e->kloc;
    kloc.file = sb_recipe_intern(s, kloc.file);
    int rc = val ? sb_recipe_set(s, e->key, val, kloc, true) : SB_ERR_NOMEM;
    if (rc) return rc;
  }
  return SB_OK;
}

/* The stage's recipe file: relative to the file that named it. */
static char *stage_file(const sb_node *rec) { return sb_recipe_file_near(rec->base_file, rec->text); }

static int stage_fill(sb_recipe *s, const sb_recipe *p, size_t i) {
  const sb_node *item = stage_item(p, i), *rec = stage_field(item, "recipe");
  const char *name = stage_field(item, "name")->text;
  char *where = sb_loc_str(rec->loc);
  char *from = where ? sb_asprintf("stage '%s' at %s", name, where) : NULL;
  s->root = from ? sb_recipe_load_tree(s, s->path, from) : NULL;
  free(where), free(from);
  if (!s->root) return sb_error_code() ? sb_error_code() : SB_ERR;
  if (sb_node_find(s->root, "stages"))
    return sb_loc_error(rec->loc, SB_ERR_FORMAT, "stage '%s': %s is itself a pipeline", name, s->path);
  int rc = apply_set(s, stage_field(item, "set"));
  if (!rc) rc = sb_interp_resolve(s, p, i);
  sb_loc top = {sb_recipe_intern(s, s->path), 1, 1, SB_LOC_FILE};
  if (!rc && !(s->root_view = sb_config_new_view(s, s->root, "", top))) rc = SB_ERR_NOMEM;
  return rc;
}

static sb_recipe *stage_load(const sb_recipe *p, size_t i) {
  char *file = stage_file(stage_field(stage_item(p, i), "recipe"));
  sb_recipe *s = file ? sb_recipe_new(file) : NULL;
  free(file);
  if (s && stage_fill(s, p, i)) {
    sb_recipe_free(s);
    return NULL;
  }
  return s;
}

const sb_recipe *sb_pipeline_stage_cached(const sb_recipe *p, size_t j) {
  sb_recipe *mp = (sb_recipe *)p; /* the cache is not part of the recipe's value */
  if (!mp->stage_cache[j]) mp->stage_cache[j] = stage_load(p, j);
  return mp->stage_cache[j];
}

bool sb_recipe_is_pipeline(const sb_recipe *r) { return r->pipeline; }
size_t sb_recipe_stage_count(const sb_recipe *r) { return r->pipeline ? r->n_stages : 0; }

const char *sb_recipe_stage_name(const sb_recipe *r, size_t i) {
  if (!r->pipeline || i >= r->n_stages) return NULL;
  return stage_field(stage_item(r, i), "name")->text;
}

sb_recipe *sb_recipe_stage(const sb_recipe *r, size_t i) {
  if (!r->pipeline) {
    sb_error("%s is not a pipeline (it has no stages:)", r->path);
    return NULL;
  }
  if (i >= r->n_stages) {
    sb_error("%s: no stage %zu (the pipeline has %zu)", r->path, i, r->n_stages);
    return NULL;
  }
  return stage_load(r, i);
}
