/* st_set.c — sets of .safetensors files (sdk safetensors.h): one file, a
 * sharded model.safetensors.index.json, or a folder holding either. Owns
 * resolving a folder to its checkpoint, reading the index, opening each shard
 * once and finding every tensor in its shard. */
#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "spatialboost/safetensors.h"
#include "st_internal.h"
#include "util.h"

#define ST_INDEX_NAME "model.safetensors.index.json"
#define ST_SINGLE_NAME "model.safetensors"

struct sb_st_set {
  char *path;                   /* the file or index that was opened */
  sb_safetensors **files;       /* shards, sorted by file name */
  char **shard_names;           /* as the index spells them (the file name for one file) */
  size_t n_files;
  const sb_st_tensor **tensors; /* by shard, then file order */
  size_t count;
  sb_map by_name;               /* name -> sb_st_tensor */
  sb_map shard_of;              /* name -> shard index + 1 */
};

/* ---- resolving a folder ---- */

static int st_strcmp_ptr(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of the *.safetensors files in dir (sorted), or -1 on error. */
static int st_list_safetensors(const char *dir, sb_ptrvec *names) {
  DIR *d = opendir(dir);
  if (!d) return sb_error_set(SB_ERR_IO, "%s: cannot list the folder", dir);
  struct dirent *de;
  int rc = SB_OK;
  while (rc == SB_OK && (de = readdir(d))) {
    if (!sb_str_ends_with(de->d_name, ".safetensors")) continue;
    char *full = sb_path_join(dir, de->d_name);
    bool is_file = full && sb_path_exists(full) && !sb_path_is_dir(full);
    free(full);
    if (!is_file) continue;
    char *name = sb_strdup(de->d_name);
    rc = name ? sb_ptrvec_push(names, name) : SB_ERR_NOMEM;
    if (rc) free(name);
  }
  closedir(d);
  if (names->len) qsort(names->items, names->len, sizeof(void *), st_strcmp_ptr);
  return rc;
}

static void st_names_free(sb_ptrvec *names) {
  for (size_t i = 0; i < names->len; i++) free(names->items[i]);
  sb_ptrvec_free(names);
}

/* The one *.safetensors file in dir, or NULL with a message saying what was looked for. */
static char *st_single_in_dir(const char *dir) {
  sb_ptrvec names = {0};
  char *found = NULL;
  if (st_list_safetensors(dir, &names) == SB_OK) {
    if (names.len == 1) {
      found = sb_path_join(dir, names.items[0]);
    } else {
      sb_strbuf list;
      sb_strbuf_init(&list);
      for (size_t i = 0; i < names.len; i++)
        sb_strbuf_printf(&list, "%s%s", i ? ", " : ": ", (const char *)names.items[i]);
      sb_error_set(SB_ERR_NOT_FOUND, "%s: no safetensors checkpoint in this folder (looked for "
                   ST_INDEX_NAME ", " ST_SINGLE_NAME " or exactly one *.safetensors file; "
                   "found %zu .safetensors files%s)", dir, names.len,
                   list.data ? list.data : "");
      sb_strbuf_free(&list);
    }
  }
  st_names_free(&names);
  return found;
}

/* The file a path names: itself, or for a folder its index, model.safetensors or only file. */
static char *st_resolve(const char *path) {
  if (!sb_path_is_dir(path)) return sb_strdup(path);
  static const char *const k_names[] = {ST_INDEX_NAME, ST_SINGLE_NAME};
  for (size_t i = 0; i < SB_ARRAY_LEN(k_names); i++) {
    char *p = sb_path_join(path, k_names[i]);
    if (!p || sb_path_exists(p)) return p;
    free(p);
  }
  return st_single_in_dir(path);
}

/* ---- gathering tensors ---- */

/* Adds the tensors of shard i, refusing one that another shard already has. */
static int st_gather(sb_st_set *s, size_t i) {
  const sb_safetensors *f = s->files[i];
  for (size_t k = 0; k < sb_safetensors_count(f); k++) {
    const sb_st_tensor *t = sb_safetensors_at(f, k);
    const sb_st_tensor *other = sb_map_get(&s->by_name, t->name);
    if (other)
      return sb_error_set(SB_ERR_FORMAT, "%s: tensor '%s' is in two shards: %s and %s", s->path,
                          t->name, other->file, t->file);
    if (sb_map_set(&s->by_name, t->name, (void *)t) ||
        sb_map_set(&s->shard_of, t->name, (void *)(uintptr_t)(i + 1)))
      return SB_ERR_NOMEM;
    s->tensors[s->count++] = t;
  }
  return SB_OK;
}

static int st_gather_all(sb_st_set *s) {
  size_t total = 0;
  for (size_t i = 0; i < s->n_files; i++) total += sb_safetensors_count(s->files[i]);
  if (!(s->tensors = sb_calloc(total, sizeof *s->tensors))) return SB_ERR_NOMEM;
  for (size_t i = 0; i < s->n_files; i++) {
    int rc = st_gather(s, i);
    if (rc) return rc;
  }
  return SB_OK;
}

static int st_alloc_files(sb_st_set *s, size_t n) {
  s->files = sb_calloc(n, sizeof *s->files);
  s->shard_names = sb_calloc(n, sizeof *s->shard_names);
  if (!s->files || !s->shard_names) return SB_ERR_NOMEM;
  s->n_files = n;
  return SB_OK;
}

static int st_load_single(sb_st_set *s) {
  int rc = st_alloc_files(s, 1);
  if (rc) return rc;
  if (!(s->shard_names[0] = sb_strdup(sb_path_basename(s->path)))) return SB_ERR_NOMEM;
  if (!(s->files[0] = sb_safetensors_open(s->path))) return sb_error_code();
  return st_gather_all(s);
}

/* ---- the index ---- */

/* A tensor the weight map puts in shard (for messages). */
static const char *st_tensor_in(json_t *wm, const char *shard) {
  const char *key;
  json_t *val;
  json_object_foreach(wm, key, val) if (strcmp(json_string_value(val), shard) == 0) return key;
  return "?";
}

static bool st_shard_name_ok(const char *name) {
  if (!name[0] || name[0] == '/') return false;
  for (const char *p = name; p; p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL)
    if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == 0)) return false; /* no ".." */
  return true;
}

/* Checks the weight map's values and collects its distinct shard names, sorted. */
static int st_index_shards(sb_st_set *s, json_t *wm, sb_ptrvec *shards) {
  sb_map seen;
  sb_map_init(&seen);
  const char *key;
  json_t *val;
  int rc = SB_OK;
  json_object_foreach(wm, key, val) {
    if (!json_is_string(val)) {
      rc = sb_error_set(SB_ERR_FORMAT, "%s: weight_map entry for tensor '%s' is not a file name",
                        s->path, key);
    } else if (!st_shard_name_ok(json_string_value(val))) {
      rc = sb_error_set(SB_ERR_FORMAT, "%s: weight_map puts tensor '%s' in shard '%s', which is "
                        "not a file next to the index", s->path, key, json_string_value(val));
    } else if (!sb_map_has(&seen, json_string_value(val))) {
      rc = sb_map_set(&seen, json_string_value(val), NULL);
      if (!rc) rc = sb_ptrvec_push(shards, (void *)json_string_value(val));
    }
    if (rc) break;
  }
  sb_map_free(&seen);
  if (!rc && shards->len) qsort(shards->items, shards->len, sizeof(void *), st_strcmp_ptr);
  return rc;
}

static int st_open_shard(sb_st_set *s, json_t *wm, const char *dir, size_t i, const char *shard) {
  if (!(s->shard_names[i] = sb_strdup(shard))) return SB_ERR_NOMEM;
  char *full = sb_path_join(dir, shard);
  if (!full) return SB_ERR_NOMEM;
  int rc = SB_OK;
  if (!sb_path_exists(full))
    rc = sb_error_set(SB_ERR_NOT_FOUND, "%s: shard '%s' (holding tensor '%s' in weight_map) is "
                      "missing: no file %s", s->path, shard, st_tensor_in(wm, shard), full);
  else if (!(s->files[i] = sb_safetensors_open(full)))
    rc = sb_error_prefix("%s: shard '%s'", s->path, shard);
  free(full);
  return rc;
}

/* Every weight map entry must name the shard that holds the tensor. */
static int st_check_weight_map(sb_st_set *s, json_t *wm) {
  const char *key;
  json_t *val;
  json_object_foreach(wm, key, val) {
    const char *shard = json_string_value(val);
    size_t at = (size_t)(uintptr_t)sb_map_get(&s->shard_of, key);
    if (at && strcmp(s->shard_names[at - 1], shard) == 0) continue;
    if (at)
      return sb_error_set(SB_ERR_FORMAT, "%s: weight_map puts tensor '%s' in shard '%s', but "
                          "that shard has no such tensor (it is in '%s')", s->path, key, shard,
                          s->shard_names[at - 1]);
    return sb_error_set(SB_ERR_FORMAT, "%s: weight_map puts tensor '%s' in shard '%s', but that "
                        "shard has no such tensor", s->path, key, shard);
  }
  return SB_OK;
}

static int st_load_weight_map(sb_st_set *s, json_t *root) {
  json_t *wm = json_is_object(root) ? json_object_get(root, "weight_map") : NULL;
  if (!json_is_object(wm))
    return sb_error_set(SB_ERR_FORMAT, "%s: the index has no \"weight_map\" object", s->path);
  sb_ptrvec shards = {0};
  int rc = st_index_shards(s, wm, &shards);
  if (!rc) rc = st_alloc_files(s, shards.len);
  char *dir = rc ? NULL : sb_path_dirname(s->path);
  if (!rc && !dir) rc = SB_ERR_NOMEM;
  for (size_t i = 0; !rc && i < shards.len; i++) rc = st_open_shard(s, wm, dir, i, shards.items[i]);
  free(dir);
  sb_ptrvec_free(&shards);
  if (!rc) rc = st_gather_all(s);
  if (!rc) rc = st_check_weight_map(s, wm);
  return rc;
}

static int st_load_index(sb_st_set *s) {
  size_t len;
  char *text = sb_file_read(s->path, &len);
  if (!text) return sb_error_code();
  json_error_t err;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
  free(text);
  if (!root)
    return sb_error_set(SB_ERR_FORMAT, "%s: the index is not valid JSON at line %d column %d: %s",
                        s->path, err.line, err.column, err.text);
  int rc = st_load_weight_map(s, root);
  json_decref(root);
  return rc;
}

/* ---- the set ---- */

sb_st_set *sb_st_set_open(const char *path) {
  if (!path) {
    sb_error("st_set_open: no path");
    return NULL;
  }
  char *resolved = st_resolve(path);
  if (!resolved) return NULL;
  sb_st_set *s = sb_calloc(1, sizeof *s);
  if (!s) {
    free(resolved);
    return NULL;
  }
  s->path = resolved;
  sb_map_init(&s->by_name);
  sb_map_init(&s->shard_of);
  int rc = sb_str_ends_with(resolved, ".json") ? st_load_index(s) : st_load_single(s);
  if (rc) {
    sb_st_set_close(s);
    return NULL;
  }
  return s;
}

void sb_st_set_close(sb_st_set *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n_files; i++) {
    sb_safetensors_close(s->files[i]);
    free(s->shard_names[i]);
  }
  free(s->files), free(s->shard_names), free(s->tensors);
  sb_map_free(&s->by_name);
  sb_map_free(&s->shard_of);
  free(s->path);
  free(s);
}

size_t sb_st_set_count(const sb_st_set *s) { return s ? s->count : 0; }

const sb_st_tensor *sb_st_set_at(const sb_st_set *s, size_t i) {
  return s && i < s->count ? s->tensors[i] : NULL;
}

const sb_st_tensor *sb_st_set_find(const sb_st_set *s, const char *name) {
  return s && name ? sb_map_get(&s->by_name, name) : NULL;
}

const char *sb_st_set_path(const sb_st_set *s) { return s ? s->path : NULL; }

sb_tensor *sb_st_set_load(const sb_st_set *s, const char *name, sb_dtype dtype) {
  if (!s || !name) {
    sb_error("st_set_load: %s", s ? "no tensor name" : "no set");
    return NULL;
  }
  size_t shard = (size_t)(uintptr_t)sb_map_get(&s->shard_of, name);
  if (!shard) {
    sb_error_set(SB_ERR_NOT_FOUND, "%s: no tensor named '%s'", s->path, name);
    return NULL;
  }
  return sb_safetensors_load(s->files[shard - 1], name, dtype);
}

const sb_safetensors *sb_st_set_file_of(const sb_st_set *s, const char *name) {
  size_t shard = s && name ? (size_t)(uintptr_t)sb_map_get(&s->shard_of, name) : 0;
  return shard ? s->files[shard - 1] : NULL;
}
