/* scene.h — scene folders (SCENES.md): the objects and cameras of a scene
 * and, per view, its image, depth and instance masks. The synthetic
 * renderer writes them; the spatial data generator, the dataset_spatial
 * plugin and the probes read them. */
#ifndef SB_CORE_SCENE_H
#define SB_CORE_SCENE_H

#include "spatialboost/image.h"

typedef struct sb_camera {
  int width, height;
  double fx, fy, cx, cy;
  double cam_to_world[16]; /* row-major 4x4 */
} sb_camera;

typedef struct sb_scene_object {
  int id;
  char name[96], shape[16], color[16], material[16], size[16];
  uint8_t rgb[3];
  double center[3], box_min[3], box_max[3]; /* world frame, metres */
} sb_scene_object;

typedef struct sb_scene_view {
  char *dir;     /* the view's folder */
  sb_camera cam;
} sb_scene_view;

typedef struct sb_scene {
  char *id, *dir, *caption;
  uint64_t seed;
  int n_objects, n_views;
  sb_scene_object *objects;
  sb_scene_view *views;
} sb_scene;

/* Reads scene.json and every view's camera.json. */
int sb_scene_load(const char *dir, sb_scene *out);
void sb_scene_free(sb_scene *s);
/* Writes scene.json and each view's camera.json (the view folders must
 * exist); the per-view images are written by their producers. */
int sb_scene_save(const sb_scene *s);

/* One view's pixels: RGB, depth in metres (float, 0 where unknown) and
 * instance ids (0 = background), all W×H. */
typedef struct sb_view_data {
  sb_image image;
  int width, height;
  float *depth;
  uint16_t *ids;
} sb_view_data;

/* Loads image.png, depth (depth.safetensors, else depth.png in mm) and the
 * instances (instances.png, else masks.json), checking they agree in size. */
int sb_view_data_load(const char *view_dir, sb_view_data *out);
void sb_view_data_free(sb_view_data *v);

#endif
