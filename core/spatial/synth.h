/* synth.h — internal to core/spatial: the synthetic scene generator
 * (synth_scene.c), its ray-casting renderer (render.c), the writer of a
 * view's files (synth_write.c) and the JSON helpers scene_io.c shares with
 * them. The world they share: the floor is the plane y = 0, the back wall
 * the plane z = SB_SYNTH_WALL_Z facing +z, the cameras stand on the +z side
 * (SCENES.md, "Synthetic scenes"). */
#ifndef SB_CORE_SYNTH_H
#define SB_CORE_SYNTH_H

#include <jansson.h>

#include "scene.h"

#define SB_SYNTH_WALL_Z (-2.2)
#define SB_SYNTH_MIN_OBJECTS 2
#define SB_SYNTH_MAX_OBJECTS 6
#define SB_SYNTH_MAX_VIEWS 99

/* The seed of scene `index` of a run with `seed` (53 bits, so that any JSON
 * reader keeps it exact). The scene is drawn from it alone. */
uint64_t sb_synth_scene_seed(uint64_t seed, uint64_t index);

/* Draws a scene from its seed: 2–6 objects on the floor and n_views cameras
 * of width×height pixels, the caption from view 0. out->dir is `dir`, the
 * views are dir/view_00, ...; nothing is written. Free with sb_scene_free. */
int sb_synth_scene(uint64_t scene_seed, const char *id, const char *dir, int n_views, int width, int height,
                   sb_scene *out);

/* One rendered view: RGB (interleaved), depth (camera-frame z in metres, 0
 * where a ray meets nothing) and instance ids (0 = floor, wall, nothing). */
typedef struct sb_synth_frame {
  int width, height;
  uint8_t *rgb;
  float *depth;
  uint16_t *ids;
} sb_synth_frame;

/* Ray casts the scene's objects (by shape and box, as scene.json gives
 * them), the floor and the wall through `cam`, rows spread over `threads`
 * OpenMP threads (0: all). The result does not depend on the thread count. */
int sb_synth_render(const sb_scene *s, const sb_camera *cam, int threads, sb_synth_frame *out);
void sb_synth_frame_free(sb_synth_frame *f);

/* Writes image.png, depth.png, depth.safetensors, instances.png and
 * masks.json of a frame into the folder `dir` (which must exist), the
 * files spread over `threads` OpenMP threads (0: all). */
int sb_synth_write_view(const sb_synth_frame *f, const char *dir, int threads);
/* masks.json (SA-1B layout) of an id image: one annotation per id present. */
int sb_masks_save(const uint16_t *ids, int width, int height, const char *path);

/* Writes `v` as indented JSON to path atomically (a temporary name in the
 * same folder, then rename). Reals keep 12 significant digits. Does not
 * take the reference. */
int sb_scene_json_write(const json_t *v, const char *path);
/* The nearest double to v written with 12 significant digits: values passed
 * through it survive sb_scene_json_write and a reload bit for bit. */
double sb_scene_json_snap(double v);

#endif
