/* probe_layout.c — datasets for the probes (PROBES.md, "Layouts"):
 * detecting the layout of a folder, listing its images and annotations,
 * class-name tables, predefined train/val folders, the seeded subset and
 * the seeded hold-out split. Loading pixels is probe_sample.c's. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "probe_data.h"
#include "scene.h"
#include "util.h"

/* ---- names ---- */

static const char *const k_layout_names[] = {"auto", "scenes", "nyu", "ade", "imagefolder"};

const char *sb_probe_layout_name(sb_probe_layout l) {
  return (unsigned)l < SB_ARRAY_LEN(k_layout_names) ? k_layout_names[l] : "?";
}

int sb_probe_layout_parse(const char *name) {
  for (size_t i = 0; i < SB_ARRAY_LEN(k_layout_names); i++)
    if (strcmp(name, k_layout_names[i]) == 0) return (int)i;
  return -1;
}

unsigned sb_probe_layout_tasks(sb_probe_layout l) {
  switch (l) {
  case SB_PROBE_LAYOUT_SCENES: return SB_PROBE_ALL_TASKS;
  case SB_PROBE_LAYOUT_NYU: return SB_PROBE_DEPTH;
  case SB_PROBE_LAYOUT_ADE: return SB_PROBE_SEG;
  case SB_PROBE_LAYOUT_IMAGEFOLDER: return SB_PROBE_CLS;
  default: return 0;
  }
}

/* ---- folder listings ---- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool is_image_name(const char *name) {
  const char *dot = strrchr(name, '.');
  return dot && name[0] != '.' &&
         (strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0);
}

/* The entries of dir (no dot files), sorted; folders only or image files
 * only. Fills *names (caller frees each and the array) and returns the
 * count, or -1 with an error naming dir. */
static int list_dir(const char *dir, bool folders, char ***names) {
  *names = NULL;
  DIR *d = opendir(dir);
  if (!d) return sb_error_set(SB_ERR_IO, "%s: cannot open folder", dir), -1;
  sb_ptrvec v = {0};
  struct dirent *e;
  int rc = SB_OK;
  while (rc == SB_OK && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char *p = sb_path_join(dir, e->d_name);
    bool keep = p && (folders ? sb_path_is_dir(p) : (is_image_name(e->d_name) && !sb_path_is_dir(p)));
    free(p);
    char *name = keep ? sb_strdup(e->d_name) : NULL;
    if (keep && (!name || sb_ptrvec_push(&v, name))) rc = SB_ERR_NOMEM;
  }
  closedir(d);
  if (rc != SB_OK) {
    for (size_t i = 0; i < v.len; i++) free(v.items[i]);
    sb_ptrvec_free(&v);
    return -1;
  }
  if (v.len) qsort(v.items, v.len, sizeof *v.items, cmp_str);
  *names = (char **)v.items;
  return (int)v.len;
}

static void free_names(char **names, int n) {
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
}

/* dir/a/b as one malloc'd path. */
static char *join3(const char *dir, const char *a, const char *b) {
  char *ab = sb_path_join(a, b);
  char *p = ab ? sb_path_join(dir, ab) : NULL;
  free(ab);
  return p;
}

static bool is_dir2(const char *dir, const char *name) {
  char *p = sb_path_join(dir, name);
  bool r = p && sb_path_is_dir(p);
  free(p);
  return r;
}

/* Whether some subfolder of dir holds `file` (scene.json), or (file NULL)
 * holds at least one image. */
static bool some_subdir_has(const char *dir, const char *file) {
  char **sub;
  int n = list_dir(dir, true, &sub);
  bool found = false;
  for (int i = 0; i < n && !found; i++) {
    char *p = sb_path_join(dir, sub[i]);
    if (file) {
      char *f = p ? sb_path_join(p, file) : NULL;
      found = f && sb_path_exists(f);
      free(f);
    } else if (p) {
      char **imgs;
      int k = list_dir(p, false, &imgs);
      found = k > 0;
      free_names(imgs, k);
    }
    free(p);
  }
  free_names(sub, n);
  sb_error_clear();
  return found;
}

/* The layout of dir by its contents, or AUTO when none fits. */
static sb_probe_layout detect(const char *dir) {
  if (some_subdir_has(dir, "scene.json")) return SB_PROBE_LAYOUT_SCENES;
  if (is_dir2(dir, "rgb") && is_dir2(dir, "depth")) return SB_PROBE_LAYOUT_NYU;
  if (is_dir2(dir, "images") && is_dir2(dir, "annotations")) return SB_PROBE_LAYOUT_ADE;
  if (some_subdir_has(dir, NULL)) return SB_PROBE_LAYOUT_IMAGEFOLDER;
  return SB_PROBE_LAYOUT_AUTO;
}

/* ---- building the dataset ---- */

/* The index of class `name`, added when new. */
static int class_index(sb_probe_dataset *ds, const char *name) {
  for (int i = 0; i < ds->n_class_names; i++)
    if (strcmp(ds->class_names[i], name) == 0) return i;
  char **n = sb_realloc(ds->class_names, (size_t)(ds->n_class_names + 1) * sizeof *n);
  if (!n) return -1;
  ds->class_names = n;
  if (!(n[ds->n_class_names] = sb_strdup(name))) return -1;
  return ds->n_class_names++;
}

/* A new group named `name`; returns its index or -1. */
static int add_group(sb_probe_dataset *ds, const char *name) {
  char **g = sb_realloc(ds->group_names, (size_t)(ds->n_groups + 1) * sizeof *g);
  if (!g) return -1;
  ds->group_names = g;
  if (!(g[ds->n_groups] = sb_strdup(name))) return -1;
  return ds->n_groups++;
}

/* Appends a sample, taking ownership of the malloc'd paths (NULL allowed
 * for depth/labels). group < 0 makes a group of its own. */
static int add_sample(sb_probe_dataset *ds, const char *name, char *image, char *depth, char *labels, int scene,
                      int cls, int group, int split) {
  sb_probe_sample *s = sb_realloc(ds->samples, (size_t)(ds->n_samples + 1) * sizeof *s);
  if (s) ds->samples = s;
  if (group < 0 && s) group = add_group(ds, name);
  char *nm = s ? sb_strdup(name) : NULL;
  if (!s || !nm || !image || group < 0) {
    free(nm), free(image), free(depth), free(labels);
    return SB_ERR_NOMEM;
  }
  s[ds->n_samples++] = (sb_probe_sample){nm, image, depth, labels, scene, cls, group, split};
  return SB_OK;
}

/* "prefix/name" or "name". */
static char *qualified(const char *prefix, const char *name) {
  return prefix ? sb_asprintf("%s/%s", prefix, name) : sb_strdup(name);
}

/* ---- scenes ---- */

/* A scene's objects (sb_scene_load) into a scene table entry: instance ids
 * and shape classes. */
static int scene_objects(sb_probe_dataset *ds, const sb_scene *scene, sb_probe_scene *sc) {
  size_t n = (size_t)scene->n_objects;
  sc->n_objects = scene->n_objects;
  sc->object_ids = sb_calloc(n + 1, sizeof *sc->object_ids);
  sc->object_class = sb_calloc(n + 1, sizeof *sc->object_class);
  if (!sc->object_ids || !sc->object_class) return SB_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    const sb_scene_object *o = &scene->objects[i];
    if (!o->shape[0]) return sb_error_set(SB_ERR_FORMAT, "%s/scene.json: object %d has no 'shape'", scene->dir, o->id);
    sc->object_ids[i] = o->id;
    if ((sc->object_class[i] = class_index(ds, o->shape)) < 0) return SB_ERR_NOMEM;
  }
  return SB_OK;
}

/* One scene folder (read by sb_scene_load): its objects and a sample per
 * view, all in one group. */
static int list_scene(sb_probe_dataset *ds, const char *dir, const char *name, const char *prefix, int split) {
  char *sdir = sb_path_join(dir, name), *gname = qualified(prefix, name);
  sb_scene scene;
  memset(&scene, 0, sizeof scene);
  int rc = sdir && gname ? sb_scene_load(sdir, &scene) : SB_ERR_NOMEM;
  sb_probe_scene *t = rc == SB_OK ? sb_realloc(ds->scenes, (size_t)(ds->n_scenes + 1) * sizeof *t) : NULL;
  if (rc == SB_OK && !t) rc = SB_ERR_NOMEM;
  if (t) {
    ds->scenes = t;
    memset(&t[ds->n_scenes++], 0, sizeof *t);
    rc = scene_objects(ds, &scene, &t[ds->n_scenes - 1]);
  }
  if (rc == SB_OK && scene.n_views == 0) rc = sb_error_set(SB_ERR_FORMAT, "%s/scene.json: the scene has no views", sdir);
  int group = rc == SB_OK ? add_group(ds, gname) : -1;
  if (rc == SB_OK && group < 0) rc = SB_ERR_NOMEM;
  for (int v = 0; rc == SB_OK && v < scene.n_views; v++) {
    const char *vdir = scene.views[v].dir;
    char *sname = sb_asprintf("%s/%s", gname, sb_path_basename(vdir));
    rc = add_sample(ds, sname ? sname : "", sb_path_join(vdir, "image.png"), sb_strdup(vdir), sb_strdup(vdir),
                    ds->n_scenes - 1, -1, group, split);
    free(sname);
  }
  sb_scene_free(&scene);
  free(gname), free(sdir);
  return rc;
}

static int list_scenes(sb_probe_dataset *ds, const char *dir, const char *prefix, int split) {
  char **sub;
  int n = list_dir(dir, true, &sub), rc = n < 0 ? SB_ERR : SB_OK;
  for (int i = 0; rc == SB_OK && i < n; i++) {
    char *json = join3(dir, sub[i], "scene.json");
    bool is_scene = json && sb_path_exists(json);
    free(json);
    if (is_scene) rc = list_scene(ds, dir, sub[i], prefix, split);
  }
  free_names(sub, n);
  return rc;
}

/* ---- paired folders: nyu (rgb/ + depth/) and ade (images/ + annotations/) ---- */

/* Each image of img_dir with the PNG of the same stem in ann_dir. */
static int list_pairs(sb_probe_dataset *ds, const char *img_dir, const char *ann_dir, bool depth, const char *prefix,
                      int split) {
  char **imgs;
  int n = list_dir(img_dir, false, &imgs), rc = n < 0 ? SB_ERR : SB_OK;
  if (rc == SB_OK && !sb_path_is_dir(ann_dir)) rc = sb_error_set(SB_ERR_IO, "%s: no such folder", ann_dir);
  for (int i = 0; rc == SB_OK && i < n; i++) {
    const char *dot = strrchr(imgs[i], '.');
    char *stem = sb_strndup(imgs[i], (size_t)(dot - imgs[i])), *png = stem ? sb_asprintf("%s.png", stem) : NULL;
    char *image = sb_path_join(img_dir, imgs[i]), *ann = png ? sb_path_join(ann_dir, png) : NULL;
    if (ann && image && !sb_path_exists(ann)) {
      rc = sb_error_set(SB_ERR_IO, "%s has no %s (%s)", image, depth ? "depth map" : "annotation", ann);
      free(ann), free(image);
    } else if (ann && image) {
      char *name = qualified(prefix, imgs[i]);
      rc = add_sample(ds, name ? name : "", image, depth ? ann : NULL, depth ? NULL : ann, -1, -1, -1, split);
      free(name);
    } else {
      free(ann), free(image);
      rc = SB_ERR_NOMEM;
    }
    free(stem), free(png);
  }
  if (rc == SB_OK && n == 0) rc = sb_error_set(SB_ERR_NOT_FOUND, "%s: no images (.png, .jpg)", img_dir);
  free_names(imgs, n > 0 ? n : 0);
  return rc;
}

/* ---- imagefolder ---- */

static int list_classes(sb_probe_dataset *ds, const char *dir, const char *prefix, int split) {
  char **cls;
  int nc = list_dir(dir, true, &cls), rc = nc < 0 ? SB_ERR : SB_OK, total = 0;
  for (int c = 0; rc == SB_OK && c < nc; c++) {
    char *cdir = sb_path_join(dir, cls[c]), **imgs = NULL;
    int n = cdir ? list_dir(cdir, false, &imgs) : -1, k = n > 0 ? class_index(ds, cls[c]) : 0;
    if (n < 0 || k < 0) rc = SB_ERR;
    for (int i = 0; rc == SB_OK && i < n; i++) {
      char *rel = sb_asprintf("%s/%s", cls[c], imgs[i]), *name = rel ? qualified(prefix, rel) : NULL;
      rc = add_sample(ds, name ? name : "", sb_path_join(cdir, imgs[i]), NULL, NULL, -1, k, -1, split);
      free(rel), free(name);
    }
    total += n > 0 ? n : 0;
    free_names(imgs, n > 0 ? n : 0);
    free(cdir);
  }
  if (rc == SB_OK && total == 0) rc = sb_error_set(SB_ERR_NOT_FOUND, "%s: no class folders with images", dir);
  free_names(cls, nc > 0 ? nc : 0);
  return rc;
}

/* ---- one folder of a layout ---- */

static int list_layout(sb_probe_dataset *ds, const char *dir, const char *prefix, int split) {
  switch (ds->layout) {
  case SB_PROBE_LAYOUT_SCENES: { /* "background" is class 0 (instance id 0) even in scenes without one */
    int before = ds->n_samples, rc = class_index(ds, "background") < 0 ? SB_ERR_NOMEM : list_scenes(ds, dir, prefix, split);
    if (rc == SB_OK && ds->n_samples == before)
      rc = sb_error_set(SB_ERR_NOT_FOUND, "%s: no scene folders (subfolders with scene.json)", dir);
    return rc;
  }
  case SB_PROBE_LAYOUT_NYU:
  case SB_PROBE_LAYOUT_ADE: {
    bool nyu = ds->layout == SB_PROBE_LAYOUT_NYU;
    char *img = sb_path_join(dir, nyu ? "rgb" : "images"), *ann = sb_path_join(dir, nyu ? "depth" : "annotations");
    int rc = img && ann ? SB_OK : SB_ERR_NOMEM;
    if (rc == SB_OK && !sb_path_is_dir(img)) rc = sb_error_set(SB_ERR_IO, "%s: no such folder", img);
    if (rc == SB_OK) rc = list_pairs(ds, img, ann, nyu, prefix, split);
    free(img), free(ann);
    return rc;
  }
  case SB_PROBE_LAYOUT_IMAGEFOLDER: return list_classes(ds, dir, prefix, split);
  default: return sb_error("no layout");
  }
}

/* ---- class names in a fixed order ---- */

/* Rank of a scenes class name: background, the four datagen shapes, then
 * the rest alphabetically. */
static int scene_rank(const char *name) {
  static const char *const order[] = {"background", "sphere", "cube", "cylinder", "cone"};
  for (int i = 0; i < (int)SB_ARRAY_LEN(order); i++)
    if (strcmp(name, order[i]) == 0) return i;
  return (int)SB_ARRAY_LEN(order);
}

static sb_probe_layout g_sort_layout; /* for cmp_class: qsort has no context */

static int cmp_class(const void *a, const void *b) {
  const char *x = *(char *const *)a, *y = *(char *const *)b;
  if (g_sort_layout == SB_PROBE_LAYOUT_SCENES) {
    int rx = scene_rank(x), ry = scene_rank(y);
    if (rx != ry) return rx < ry ? -1 : 1;
  }
  return strcmp(x, y);
}

/* Sorts the class names (so indices do not depend on listing order) and
 * renumbers every reference to them. */
static int sort_classes(sb_probe_dataset *ds) {
  int n = ds->n_class_names;
  char **sorted = sb_calloc((size_t)n + 1, sizeof *sorted);
  int *map = sb_calloc((size_t)n + 1, sizeof *map);
  if (!sorted || !map) return free(sorted), free(map), SB_ERR_NOMEM;
  memcpy(sorted, ds->class_names, (size_t)n * sizeof *sorted);
  g_sort_layout = ds->layout;
  if (n) qsort(sorted, (size_t)n, sizeof *sorted, cmp_class);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      if (ds->class_names[i] == sorted[j]) map[i] = j;
  for (int i = 0; i < ds->n_samples; i++)
    if (ds->samples[i].cls >= 0) ds->samples[i].cls = map[ds->samples[i].cls];
  for (int s = 0; s < ds->n_scenes; s++)
    for (int o = 0; o < ds->scenes[s].n_objects; o++) ds->scenes[s].object_class[o] = map[ds->scenes[s].object_class[o]];
  free(ds->class_names);
  ds->class_names = sorted;
  free(map);
  return SB_OK;
}

/* ---- opening ---- */

/* The held-out folder of a train/ + val/ (or test/) dataset, or NULL. */
static const char *heldout_folder(const char *root) {
  if (!is_dir2(root, "train")) return NULL;
  if (is_dir2(root, "val")) return "val";
  if (is_dir2(root, "test")) return "test";
  return NULL;
}

/* Lists root as `layout`, with a predefined split when it has one. */
static int list_root(sb_probe_dataset *ds, const char *root) {
  const char *held = heldout_folder(root);
  char *tdir = held ? sb_path_join(root, "train") : NULL, *vdir = held ? sb_path_join(root, held) : NULL;
  bool ade_split = !held && ds->layout == SB_PROBE_LAYOUT_ADE && is_dir2(root, "images/training") &&
                   is_dir2(root, "images/validation");
  int rc = SB_OK;
  if (held) {
    if (ds->layout == SB_PROBE_LAYOUT_AUTO && (ds->layout = detect(tdir)) == SB_PROBE_LAYOUT_AUTO)
      rc = sb_error_set(SB_ERR_FORMAT, "%s: cannot tell the layout (see --layout)", tdir);
    if (rc == SB_OK) rc = list_layout(ds, tdir, "train", SB_PROBE_TRAIN);
    if (rc == SB_OK) rc = list_layout(ds, vdir, held, SB_PROBE_TEST);
  } else if (ade_split) { /* ADEChallengeData2016: images/{training,validation} */
    const char *part[2] = {"training", "validation"};
    for (int k = 0; k < 2 && rc == SB_OK; k++) {
      char *img = join3(root, "images", part[k]), *ann = join3(root, "annotations", part[k]);
      rc = img && ann ? list_pairs(ds, img, ann, false, part[k], k ? SB_PROBE_TEST : SB_PROBE_TRAIN) : SB_ERR_NOMEM;
      free(img), free(ann);
    }
  } else {
    rc = list_layout(ds, root, NULL, SB_PROBE_TRAIN);
  }
  ds->predefined_split = held != NULL || ade_split;
  free(tdir), free(vdir);
  return rc;
}

int sb_probe_dataset_open(const char *root, sb_probe_layout layout, double depth_scale, sb_probe_dataset *out) {
  memset(out, 0, sizeof *out);
  out->depth_scale = depth_scale > 0 ? depth_scale : 0.001;
  if (!sb_path_is_dir(root)) return sb_error_set(SB_ERR_IO, "%s: no such folder", root);
  if (!(out->root = sb_strdup(root))) return SB_ERR_NOMEM;
  out->layout = layout;
  if (layout == SB_PROBE_LAYOUT_AUTO && !heldout_folder(root) && (out->layout = detect(root)) == SB_PROBE_LAYOUT_AUTO)
    return sb_error_set(SB_ERR_FORMAT,
                        "%s: cannot tell the layout: expected scene folders (*/scene.json), rgb/ + depth/, "
                        "images/ + annotations/ or class folders of images (or say --layout)",
                        root);
  int rc = list_root(out, root);
  if (rc == SB_OK) rc = sort_classes(out);
  return rc;
}

void sb_probe_dataset_free(sb_probe_dataset *ds) {
  if (!ds) return;
  for (int i = 0; i < ds->n_samples; i++) {
    sb_probe_sample *s = &ds->samples[i];
    free(s->name), free(s->image), free(s->depth), free(s->labels);
  }
  free(ds->samples);
  free_names(ds->group_names, ds->n_groups);
  for (int i = 0; i < ds->n_scenes; i++) free(ds->scenes[i].object_ids), free(ds->scenes[i].object_class);
  free(ds->scenes);
  free_names(ds->class_names, ds->n_class_names);
  free(ds->root);
  memset(ds, 0, sizeof *ds);
}

/* ---- subset and split ---- */

/* A permutation of 0..n-1: Fisher-Yates with the (seed, stream) generator. */
static int *shuffled(int n, uint64_t seed, const char *stream) {
  int *p = sb_malloc(((size_t)n + 1) * sizeof *p);
  if (!p) return NULL;
  for (int i = 0; i < n; i++) p[i] = i;
  sb_rng r;
  sb_rng_seed_named(&r, seed, stream);
  for (int i = n - 1; i > 0; i--) {
    int j = (int)(sb_rng_u64(&r) % (uint64_t)(i + 1)), t = p[i];
    p[i] = p[j], p[j] = t;
  }
  return p;
}

/* Marks (keep[g] = 1) whole groups in the order perm while they fit in
 * `budget` images per split (at least one group per split). */
static void pick_groups(const sb_probe_dataset *ds, const int *perm, const int *size, const int *gsplit,
                        const int budget[2], char *keep) {
  int total[2] = {0, 0};
  for (int k = 0; k < ds->n_groups; k++) {
    int g = perm[k], s = gsplit[g];
    if (total[s] && total[s] + size[g] > budget[s]) continue;
    total[s] += size[g], keep[g] = 1;
  }
}

/* Drops the samples and groups with keep[g] == 0, renumbering groups. */
static void drop_groups(sb_probe_dataset *ds, const char *keep, int *newid) {
  int ng = 0, ns = 0;
  for (int g = 0; g < ds->n_groups; g++) {
    newid[g] = keep[g] ? ng : -1;
    if (keep[g]) ds->group_names[ng++] = ds->group_names[g];
    else free(ds->group_names[g]);
  }
  for (int i = 0; i < ds->n_samples; i++) {
    sb_probe_sample *s = &ds->samples[i];
    if (newid[s->group] < 0) {
      free(s->name), free(s->image), free(s->depth), free(s->labels);
      continue;
    }
    s->group = newid[s->group];
    ds->samples[ns++] = *s;
  }
  ds->n_groups = ng, ds->n_samples = ns;
}

int sb_probe_subset(sb_probe_dataset *ds, int max_images, uint64_t seed) {
  if (max_images <= 0 || ds->n_samples <= max_images) return SB_OK;
  size_t ng = (size_t)ds->n_groups + 1;
  int *perm = shuffled(ds->n_groups, seed, "probe.subset");
  int *size = sb_calloc(ng, sizeof *size), *gsplit = sb_calloc(ng, sizeof *gsplit), *newid = sb_calloc(ng, sizeof *newid);
  char *keep = sb_calloc(ng, 1);
  int rc = perm && size && gsplit && newid && keep ? SB_OK : SB_ERR_NOMEM;
  if (rc == SB_OK) {
    int count[2] = {0, 0};
    for (int i = 0; i < ds->n_samples; i++) {
      const sb_probe_sample *s = &ds->samples[i];
      size[s->group]++, gsplit[s->group] = s->split, count[s->split]++;
    }
    /* each split of a predefined split keeps its share of the images */
    int budget[2];
    for (int k = 0; k < 2; k++) budget[k] = (int)((double)max_images * count[k] / ds->n_samples + 0.5);
    pick_groups(ds, perm, size, gsplit, budget, keep);
    drop_groups(ds, keep, newid);
  }
  free(perm), free(size), free(gsplit), free(newid), free(keep);
  return rc;
}

int sb_probe_split(sb_probe_dataset *ds, double holdout, uint64_t seed) {
  if (ds->predefined_split) return SB_OK;
  if (ds->n_groups < 2)
    return sb_error_set(SB_ERR, "%s: %d %s cannot be split into train and test", ds->root, ds->n_groups,
                        ds->layout == SB_PROBE_LAYOUT_SCENES ? "scene" : "image");
  int n_test = (int)(holdout * ds->n_groups + 0.5);
  n_test = SB_MAX(1, SB_MIN(ds->n_groups - 1, n_test));
  int *perm = shuffled(ds->n_groups, seed, "probe.split");
  char *test = sb_calloc((size_t)ds->n_groups, 1);
  if (!perm || !test) return free(perm), free(test), SB_ERR_NOMEM;
  for (int k = 0; k < n_test; k++) test[perm[k]] = 1;
  for (int i = 0; i < ds->n_samples; i++) ds->samples[i].split = test[ds->samples[i].group] ? SB_PROBE_TEST : SB_PROBE_TRAIN;
  free(perm), free(test);
  return SB_OK;
}
