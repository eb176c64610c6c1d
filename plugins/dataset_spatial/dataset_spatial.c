/* dataset_spatial.c — the dataset_spatial plugin: spatial chain-of-thought
 * conversations generated on the fly from a tree of scene folders (what
 * `spatialboost datagen synth` writes, or real captures in that layout), so
 * stage 3 trains without a JSONL step. This file owns the options, the
 * sample index (scene, sample within the scene), what happens when a
 * scene's views cannot make a conversation, and the vtable; the geometry
 * and the conversations come from the core through spatialboost/spatial.h.
 * get() reads only immutable state, so loader threads may call it at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spatialboost/spatialboost.h"

typedef struct scene_entry {
  char *dir;
  int n_views;
  int64_t first; /* index of its first sample */
  int64_t count;
} scene_entry;

typedef struct dataset {
  scene_entry *scenes;
  int n;
  int64_t size;
  int views;
  uint64_t seed;
  bool skip_error;
  sb_spatial_options o;
} dataset;

static const sb_option k_options[] = {
    {"scenes", SB_OPTION_PATH, NULL, "a scene folder, or a folder of them (each with scene.json)", NULL},
    {"views", SB_OPTION_INT, "1", "views per sample, fused into the first view's frame", NULL},
    {"per_scene", SB_OPTION_INT, "0", "samples per scene; 0: one per view (each view once first)", NULL},
    {"seed", SB_OPTION_INT, "-1", "seed of the conversations; -1: the recipe's seed", NULL},
    {"limit", SB_OPTION_INT, "0", "use only the first N samples; 0: all", NULL},
    {"pixel_turns", SB_OPTION_STRING, "3-4", "pixel-level turns: N or N-M", NULL},
    {"object_turns", SB_OPTION_STRING, "3-4", "object-level turns: N or N-M", NULL},
    {"scene_turns", SB_OPTION_STRING, "2-3", "scene-level (distance) turns: N or N-M", NULL},
    {"caption_turns", SB_OPTION_STRING, "1-2", "caption turns: N or N-M (at most 2 are asked)", NULL},
    {"percentile_low", SB_OPTION_FLOAT, "2", "per-object depth band kept: low percentile", NULL},
    {"percentile_high", SB_OPTION_FLOAT, "98", "per-object depth band kept: high percentile", NULL},
    {"min_points", SB_OPTION_INT, "40", "points an object needs for a cube", NULL},
    {"max_objects", SB_OPTION_INT, "8", "the largest objects used; 0: all", NULL},
    {"margin", SB_OPTION_FLOAT, "0.1", "metres two objects must differ by for a relation to be asked", NULL},
    {"point_gap", SB_OPTION_FLOAT, "0.1", "metres between two points' depths for \"which is closer\"", NULL},
    {"on_skip", SB_OPTION_ENUM, "next",
     "views that cannot make a conversation: try other views and then the next samples, or stop", "next|error"},
};

static void dataset_destroy(void *self) {
  dataset *d = self;
  if (!d) return;
  for (int i = 0; i < d->n; i++) free(d->scenes[i].dir);
  free(d->scenes);
  free(d);
}

/* "N" or "N-M" (0 <= N <= M <= 16). */
static int parse_turns(const sb_config *c, const char *key, int *lo, int *hi) {
  const char *s;
  if (sb_config_get_string(c, key, &s)) return SB_ERR;
  char *end;
  long a = strtol(s, &end, 10), b = a;
  bool ok = end != s;
  if (ok && *end == '-') {
    const char *t = end + 1;
    b = strtol(t, &end, 10);
    ok = end != t;
  }
  if (!ok || *end || a < 0 || b < a || b > 16)
    return sb_config_error(c, key, "'%s': expected a turn count N or a range N-M (0 <= N <= M <= 16)", s);
  *lo = (int)a, *hi = (int)b;
  return SB_OK;
}

static int read_numbers(const sb_config *c, sb_spatial_options *o) {
  int64_t min_points, max_objects;
  if (sb_config_get_float(c, "percentile_low", &o->percentile_low) ||
      sb_config_get_float(c, "percentile_high", &o->percentile_high) ||
      sb_config_get_int(c, "min_points", &min_points) || sb_config_get_int(c, "max_objects", &max_objects) ||
      sb_config_get_float(c, "margin", &o->margin) || sb_config_get_float(c, "point_gap", &o->point_gap))
    return SB_ERR;
  if (!(o->percentile_low >= 0 && o->percentile_low < o->percentile_high && o->percentile_high <= 100))
    return sb_config_error(c, "percentile_low", "band %g-%g: expected 0 <= low < high <= 100", o->percentile_low,
                           o->percentile_high);
  if (min_points < 1 || min_points > 1000000000) return sb_config_error(c, "min_points", "expected 1 or more");
  if (max_objects != 0 && (max_objects < 2 || max_objects > 65535))
    return sb_config_error(c, "max_objects", "expected 0 (all) or 2 to 65535");
  if (!(o->margin >= 0)) return sb_config_error(c, "margin", "expected 0 or more metres");
  if (!(o->point_gap >= 0)) return sb_config_error(c, "point_gap", "expected 0 or more metres");
  o->min_points = (int)min_points, o->max_objects = (int)max_objects;
  return SB_OK;
}

static int read_generator(const sb_config *c, sb_spatial_options *o) {
  sb_spatial_options_init(o);
  if (parse_turns(c, "pixel_turns", &o->pixel_turns_min, &o->pixel_turns_max) ||
      parse_turns(c, "object_turns", &o->object_turns_min, &o->object_turns_max) ||
      parse_turns(c, "scene_turns", &o->scene_turns_min, &o->scene_turns_max) ||
      parse_turns(c, "caption_turns", &o->caption_turns_min, &o->caption_turns_max))
    return SB_ERR;
  return read_numbers(c, o);
}

typedef struct opts {
  const char *scenes;
  int64_t views, per_scene, seed, limit;
  int on_skip;
} opts;

static int read_options(const sb_config *c, opts *p) {
  static const char *const skip_choices[] = {"next", "error", NULL};
  if (sb_config_get_path(c, "scenes", &p->scenes) || sb_config_get_int(c, "views", &p->views) ||
      sb_config_get_int(c, "per_scene", &p->per_scene) || sb_config_get_int(c, "seed", &p->seed) ||
      sb_config_get_int(c, "limit", &p->limit) || sb_config_get_enum(c, "on_skip", skip_choices, &p->on_skip))
    return SB_ERR;
  if (!p->scenes[0]) return sb_config_error(c, "scenes", "empty; expected a scene folder or a folder of them");
  if (p->views < 1 || p->views > 64) return sb_config_error(c, "views", "%lld: expected 1 to 64", (long long)p->views);
  if (p->per_scene < 0 || p->per_scene > 1000000) return sb_config_error(c, "per_scene", "expected 0 to 1000000");
  if (p->seed < -1) return sb_config_error(c, "seed", "expected -1 (the recipe's) or 0 and more");
  if (p->limit < 0) return sb_config_error(c, "limit", "expected 0 (all) or more");
  return SB_OK;
}

/* Every scene with its views and its range of sample indices. */
static int index_scenes(dataset *d, const char *dir, int64_t per_scene, int64_t limit) {
  char **paths;
  int n;
  if (sb_spatial_list_scenes(dir, &paths, &n)) return SB_ERR;
  int rc = (d->scenes = calloc((size_t)n, sizeof *d->scenes)) ? SB_OK : sb_error_set(SB_ERR_NOMEM, "out of memory");
  for (int i = 0; i < n && rc == SB_OK; i++) {
    scene_entry *e = &d->scenes[d->n];
    rc = sb_spatial_scene_views(paths[i], &e->n_views);
    if (rc == SB_OK && e->n_views < 1) rc = sb_error("%s: a scene without views", paths[i]);
    if (rc) break;
    e->dir = paths[i], paths[i] = NULL;
    e->first = d->size, e->count = per_scene > 0 ? per_scene : e->n_views;
    d->size += e->count, d->n++;
  }
  sb_spatial_free_list(paths, n);
  if (rc == SB_OK && limit > 0 && d->size > limit) d->size = limit;
  return rc;
}

static void *dataset_create(const sb_plugin_ctx *ctx) {
  opts p;
  sb_spatial_options o;
  if (read_options(ctx->options, &p) || read_generator(ctx->options, &o)) return NULL;
  dataset *d = calloc(1, sizeof *d);
  if (!d) return sb_error_set(SB_ERR_NOMEM, "dataset_spatial: out of memory"), NULL;
  d->views = (int)p.views, d->seed = p.seed >= 0 ? (uint64_t)p.seed : ctx->seed;
  d->skip_error = p.on_skip == 1, d->o = o;
  if (index_scenes(d, p.scenes, p.per_scene, p.limit)) {
    dataset_destroy(d);
    return NULL;
  }
  return d;
}

static int64_t dataset_size(void *self) { return ((dataset *)self)->size; }

static const scene_entry *find_scene(const dataset *d, int64_t index) {
  int lo = 0, hi = d->n - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (d->scenes[mid].first <= index) lo = mid;
    else hi = mid - 1;
  }
  return &d->scenes[lo];
}

/* Sample `index` with attempt a: a = 0 is the sample itself; later
 * attempts draw other views and another random stream. */
static int try_sample(const dataset *d, int64_t index, int a, sb_sample *s) {
  const scene_entry *e = find_scene(d, index);
  int views[64];
  int n = sb_spatial_pick_views(e->dir, e->n_views, d->views, index - e->first + a, d->seed + (uint64_t)a, views);
  if (n < 1) return sb_error("%s: cannot pick views", e->dir);
  return sb_spatial_generate(e->dir, views, n, d->seed + (uint64_t)a, &d->o, s);
}

/* A skipped attempt leaves the sample untouched, so the next may fill it. */
static int dataset_get(void *self, int64_t index, sb_sample *s) {
  dataset *d = self;
  if (index < 0 || index >= d->size)
    return sb_error("dataset_spatial: sample %lld out of range (%lld samples)", (long long)index, (long long)d->size);
  int rc = try_sample(d, index, 0, s);
  if (rc != SB_SPATIAL_SKIP) return rc;
  if (d->skip_error)
    return sb_error_prefix("dataset_spatial: sample %lld (on_skip: next would try other views)", (long long)index);
  /* other views of the same scene, then the next samples, deterministically;
   * the id says it is a stand-in: "<id>~<attempt>" */
  int a = 1;
  for (; a < 24 && rc == SB_SPATIAL_SKIP; a++) {
    int64_t j = a < 4 ? index : (index + a - 3) % d->size;
    rc = try_sample(d, j, a < 4 ? a : 0, s);
  }
  if (rc == SB_SPATIAL_SKIP) return sb_error_prefix("dataset_spatial: sample %lld and its fallbacks", (long long)index);
  if (rc == SB_OK) {
    char id[512];
    snprintf(id, sizeof id, "%s~%d", sb_sample_id(s), a - 1);
    rc = sb_sample_set_id(s, id);
  }
  return rc;
}

static const sb_dataset_vtable k_vtable = {
    .struct_size = sizeof(sb_dataset_vtable),
    .create = dataset_create,
    .destroy = dataset_destroy,
    .size = dataset_size,
    .get = dataset_get,
};

static const sb_plugin_descriptor k_descriptor = {
    SB_PLUGIN_HEADER,
    .name = "dataset_spatial",
    .version = "1.0.0",
    .kind = SB_PLUGIN_DATASET,
    .description = "spatial chain-of-thought conversations generated on the fly from scene folders",
    .options = k_options,
    .n_options = SB_OPTIONS_COUNT(k_options),
    .vtable = &k_vtable,
};

SB_PLUGIN_DEFINE(dataset_spatial, k_descriptor)
