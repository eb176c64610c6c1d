/* probe_data.h — the data side of `spatialboost probe` (PROBES.md): finding
 * a dataset's layout, listing its images with their annotations, the
 * seeded train/test split, loading one image's pixels and annotations, and
 * turning per-pixel annotations into per-patch targets. Internal to
 * core/probe. */
#ifndef SB_CORE_PROBE_DATA_H
#define SB_CORE_PROBE_DATA_H

#include <stdint.h>

#include "spatialboost/image.h"

/* The probes. */
enum {
  SB_PROBE_DEPTH = 1,
  SB_PROBE_SEG = 2,
  SB_PROBE_CLS = 4,
  SB_PROBE_ALL_TASKS = 7,
};

typedef enum sb_probe_layout {
  SB_PROBE_LAYOUT_AUTO = 0,
  SB_PROBE_LAYOUT_SCENES,      /* datagen synth scene folders (SCENES.md) */
  SB_PROBE_LAYOUT_NYU,         /* rgb/ + depth/ (16-bit PNG) */
  SB_PROBE_LAYOUT_ADE,         /* images/ + annotations/ (class-id PNG, 0 = ignore) */
  SB_PROBE_LAYOUT_IMAGEFOLDER, /* <class>/ folders of images */
} sb_probe_layout;

/* "auto", "scenes", ... and back; -1 for an unknown name. */
const char *sb_probe_layout_name(sb_probe_layout l);
int sb_probe_layout_parse(const char *name);
/* The tasks (SB_PROBE_* bits) a layout has annotations for. */
unsigned sb_probe_layout_tasks(sb_probe_layout l);

/* One image. Paths are owned by the dataset. */
typedef struct sb_probe_sample {
  char *name;     /* for messages and ordering: "scene_000003/view_01", "rgb/0001.png", ... */
  char *image;    /* the RGB file */
  char *depth;    /* nyu: the 16-bit depth PNG; scenes: the view folder; else NULL */
  char *labels;   /* ade: the class-id PNG; scenes: the view folder; else NULL */
  int scene;      /* scenes: index into the dataset's scene table; else -1 */
  int cls;        /* imagefolder: the class index; scenes: computed when loaded; else -1 */
  int group;      /* the split unit: the scene (scenes) or the image itself */
  int split;      /* SB_PROBE_TRAIN or SB_PROBE_TEST */
} sb_probe_sample;

enum { SB_PROBE_TRAIN = 0, SB_PROBE_TEST = 1 };

/* scenes: one scene's objects, as seg classes. */
typedef struct sb_probe_scene {
  int n_objects;
  int *object_ids;   /* [n_objects] instance ids of scene.json */
  int *object_class; /* [n_objects] index into the dataset's class names */
} sb_probe_scene;

typedef struct sb_probe_dataset {
  char *root;
  sb_probe_layout layout;
  bool predefined_split;  /* train/ + val/ (or test/) folders gave the split */
  double depth_scale;     /* nyu: metres per depth unit (default 0.001: millimetres) */
  int n_samples;
  sb_probe_sample *samples;
  int n_groups;           /* groups are numbered 0..n_groups-1 */
  char **group_names;     /* [n_groups] */
  int n_scenes;
  sb_probe_scene *scenes;
  /* Class names where the layout names them: scenes (seg: "background" and
   * the shapes; cls: the shapes) and imagefolder (cls: the folders). ADE's
   * classes are the numeric ids of its annotation files. */
  int n_class_names;
  char **class_names;
} sb_probe_dataset;

/* Finds the layout of `root` (or checks the one asked for) and lists its
 * images, sorted by name. A folder with train/ and val/ (or test/)
 * subfolders, or ADE's images/training + images/validation, gives the split;
 * otherwise every sample is SB_PROBE_TRAIN until sb_probe_split. Errors
 * name the folder or file. */
int sb_probe_dataset_open(const char *root, sb_probe_layout layout, double depth_scale,
                          sb_probe_dataset *out);
void sb_probe_dataset_free(sb_probe_dataset *ds);

/* Keeps a seeded random subset of whole groups with at most max_images
 * images (at least one group), in the original order; groups renumbered.
 * No-op when max_images <= 0 or the dataset is small enough. */
int sb_probe_subset(sb_probe_dataset *ds, int max_images, uint64_t seed);
/* Without a predefined split: marks round(holdout · groups) groups (at
 * least 1, at most all but 1) SB_PROBE_TEST, chosen by a Fisher-Yates
 * shuffle of the groups seeded with (seed, "probe.split"). */
int sb_probe_split(sb_probe_dataset *ds, double holdout, uint64_t seed);

/* One image's pixels and annotations, all width×height. */
typedef struct sb_probe_pixels {
  sb_image image;      /* RGB */
  int width, height;
  float *depth;        /* metres; 0 or non-finite = no value. NULL unless asked for */
  int32_t *labels;     /* class ids, -1 = ignore. NULL unless asked for */
  int cls;             /* class index, -1 = none */
} sb_probe_pixels;

/* Loads sample i's image and the annotations `tasks` needs (tasks the
 * layout lacks are skipped). Errors name the file: an image that does not
 * decode, an annotation of another size than its image, an instance id that
 * scene.json does not list. */
int sb_probe_pixels_load(const sb_probe_dataset *ds, int i, unsigned tasks, sb_probe_pixels *out);
void sb_probe_pixels_free(sb_probe_pixels *p);

/* Per-patch targets on a grid_h×grid_w patch grid laid over the whole
 * width×height image (the encoders resize the whole image, no crop): pixel
 * (u, v) belongs to patch (⌊(v+½)·grid_h/height⌋, ⌊(u+½)·grid_w/width⌋).
 * A patch has a target when at least half of its pixels have one:
 *   depth: the mean of the patch's valid depths (box average), else NAN;
 *   labels: the most frequent label among its labelled pixels (ties: the
 *           smaller id), else -1.
 * depth_out / label_out: [grid_h · grid_w], row-major. */
int sb_probe_patch_depth(const float *depth, int width, int height, int grid_h, int grid_w,
                         float *depth_out);
int sb_probe_patch_labels(const int32_t *labels, int width, int height, int grid_h, int grid_w,
                          int32_t *label_out);

#endif
