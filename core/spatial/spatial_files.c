/* spatial_files.c — finding the generator's inputs on disk (qa_input.h):
 * sorted folder listings, scene folders, a file by stem and extension, and
 * which views of a scene a sample uses. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "qa_input.h"
#include "util.h"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void sb_free_names(char **names, int n) {
  for (int i = 0; names && i < n; i++) free(names[i]);
  free(names);
}

int sb_list_dir(const char *dir, bool (*keep)(const char *dir, const char *name), char ***names, int *n) {
  *names = NULL, *n = 0;
  DIR *d = opendir(dir);
  if (!d) return sb_error_set(SB_ERR_IO, "%s: cannot open the folder", dir);
  sb_ptrvec v = {0};
  int rc = SB_OK;
  for (struct dirent *e; rc == SB_OK && (e = readdir(d));) {
    if (e->d_name[0] == '.' || (keep && !keep(dir, e->d_name))) continue;
    char *s = sb_strdup(e->d_name);
    rc = s ? sb_ptrvec_push(&v, s) : SB_ERR_NOMEM;
    if (rc) free(s);
  }
  closedir(d);
  if (rc) {
    sb_free_names((char **)v.items, (int)v.len);
    return rc;
  }
  qsort(v.items, v.len, sizeof *v.items, cmp_str);
  *names = (char **)v.items, *n = (int)v.len;
  return SB_OK;
}

static bool holds_scene(const char *dir, const char *name) {
  char *p = sb_asprintf("%s/%s/scene.json", dir, name);
  bool yes = p && sb_path_exists(p);
  free(p);
  return yes;
}

int sb_list_scenes(const char *dir, char ***paths, int *n) {
  *paths = NULL, *n = 0;
  char *own = sb_path_join(dir, "scene.json");
  if (!own) return SB_ERR_NOMEM;
  bool single = sb_path_exists(own);
  free(own);
  if (single) {
    if (!(*paths = sb_malloc(sizeof **paths)) || !((*paths)[0] = sb_strdup(dir))) {
      free(*paths), *paths = NULL;
      return SB_ERR_NOMEM;
    }
    *n = 1;
    return SB_OK;
  }
  if (!sb_path_is_dir(dir)) return sb_error_set(SB_ERR_NOT_FOUND, "%s: no such folder", dir);
  char **names;
  int rc = sb_list_dir(dir, holds_scene, &names, n);
  if (rc) return rc;
  if (*n == 0) {
    sb_free_names(names, 0);
    return sb_error_set(SB_ERR_NOT_FOUND, "%s: no scene folders (folders holding a scene.json) in it", dir);
  }
  for (int i = 0; i < *n && rc == SB_OK; i++) {
    char *p = sb_path_join(dir, names[i]);
    if (!p) rc = SB_ERR_NOMEM;
    free(names[i]);
    names[i] = p;
  }
  if (rc) sb_free_names(names, *n), *n = 0;
  else *paths = names;
  return rc;
}

char *sb_find_with_ext(const char *dir, const char *stem, const char *const *exts) {
  for (const char *const *e = exts; *e; e++) {
    char *p = sb_asprintf("%s/%s%s", dir, stem, *e);
    if (p && sb_path_exists(p) && !sb_path_is_dir(p)) return p;
    free(p);
  }
  return NULL;
}

int sb_pick_views(const char *scene_id, int n_scene, int want, int64_t k, uint64_t seed, int *views) {
  int n = want < n_scene ? want : n_scene;
  if (n < 1) return 0;
  int ref = (int)(k % n_scene), m = 0;
  int *rest = sb_malloc((size_t)n_scene * sizeof *rest);
  if (!rest) return 0;
  for (int v = 0; v < n_scene; v++)
    if (v != ref) rest[m++] = v;
  char name[300];
  snprintf(name, sizeof name, "%s/views/%lld", scene_id, (long long)k);
  sb_rng r;
  sb_rng_seed_named(&r, seed, name);
  for (int i = m - 1; i > 0; i--) { /* Fisher–Yates */
    int j = (int)(sb_rng_u64(&r) % (uint64_t)(i + 1)), t = rest[i];
    rest[i] = rest[j], rest[j] = t;
  }
  views[0] = ref;
  for (int i = 1; i < n; i++) views[i] = rest[i - 1];
  free(rest);
  return n;
}
