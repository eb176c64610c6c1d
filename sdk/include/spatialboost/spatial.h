/* spatialboost/spatial.h — spatial chain-of-thought conversations from scene
 * folders (the layout `spatialboost datagen synth` writes; see the core's
 * SCENES.md), for dataset plugins that generate them on the fly (e.g.
 * dataset_spatial) instead of reading a JSONL written by `datagen spatial`.
 *
 * A conversation runs pixel level (depths at normalised points) → object
 * level (left/right, above/below, in front/behind, each answer stating both
 * objects' cubes first) → scene level (metric distances) → caption, and the
 * sample's meta holds what was asked with the true answers. Everything is
 * reproducible from the seed; the functions are safe to call from several
 * threads at once. */
#ifndef SPATIALBOOST_SPATIAL_H
#define SPATIALBOOST_SPATIAL_H

#include "dataset.h"

SB_BEGIN_DECLS

typedef struct sb_spatial_options {
  size_t struct_size;
  /* Turns per level, each drawn from [min, max] (0..16). */
  int pixel_turns_min, pixel_turns_max;
  int object_turns_min, object_turns_max;
  int scene_turns_min, scene_turns_max;
  int caption_turns_min, caption_turns_max;
  double percentile_low, percentile_high; /* per-object depth band kept, percent */
  int min_points;                         /* points an object needs for a cube */
  int max_objects;                        /* the largest kept; 0: all */
  double margin;                          /* metres a relation's values must differ by */
  double point_gap;                       /* metres between compared points' depths */
} sb_spatial_options;

/* The defaults: turns 3-4, 3-4, 2-3, 1-2; band 2-98 %; 40 points; 8
 * objects; margins 0.10 m. */
SB_API void sb_spatial_options_init(sb_spatial_options *o);

/* The scene folders under dir (dir itself when it holds scene.json, else
 * its subfolders that do), sorted. Free with sb_spatial_free_list. */
SB_API int sb_spatial_list_scenes(const char *dir, char ***paths, int *n);
SB_API void sb_spatial_free_list(char **paths, int n);
/* How many views a scene folder has (reads its scene.json). */
SB_API int sb_spatial_scene_views(const char *scene_dir, int *n_views);
/* Which views sample k of a scene uses when `want` are asked for: view
 * k mod n first, the others drawn from (seed, k). Returns the count. */
SB_API int sb_spatial_pick_views(const char *scene_dir, int n_scene_views, int want, int64_t k, uint64_t seed,
                                 int *views);

/* The result of sb_spatial_generate when the views cannot make a
 * conversation (fewer than two objects with a cube, no valid depth, ...):
 * positive, not an error; sb_error_message() says why. */
#define SB_SPATIAL_SKIP 1

/* One conversation about views[0..n_views) of a scene folder (views[0] is
 * the reference frame) into the empty sample `out`: id, turns (the first
 * user turn holds one <image> per view), the views' image paths and the
 * meta JSON. Returns SB_OK, SB_SPATIAL_SKIP, or a negative error. */
SB_API int sb_spatial_generate(const char *scene_dir, const int *views, int n_views, uint64_t seed,
                               const sb_spatial_options *o, sb_sample *out);

SB_END_DECLS
#endif
