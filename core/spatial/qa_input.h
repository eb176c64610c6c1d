/* qa_input.h — the generator's input (qa.h) from a scene folder or from real
 * files: an image, a depth map, masks and a camera per view. */
#ifndef SB_CORE_QA_INPUT_H
#define SB_CORE_QA_INPUT_H

#include "qa.h"
#include "scene.h"
#include "spatial_io.h"

/* Skip reasons of inputs (besides qa.h's). */
#define SB_QA_SKIP_SIZES "depth and masks of different sizes"
#define SB_QA_SKIP_NO_DEPTH_FILE "no depth map for the image"
#define SB_QA_SKIP_NO_MASKS_FILE "no masks for the image"
#define SB_QA_SKIP_NO_CAMERA_FILE "no intrinsics for the image"

/* "<scene id>_v00" or "<scene id>_v02-00-01": the sample of these views. */
char *sb_qa_scene_sample_id(const sb_scene *s, const int *views, int n_views);
/* The views (indices into s->views; the first is the reference frame) with
 * their depth, instance ids, images and cameras; the objects' names as
 * descriptions; the caption when views[0] is 0. Image paths are the views'
 * image.png. */
int sb_qa_input_from_scene(const sb_scene *s, const int *views, int n_views, sb_qa_input *out);

/* One view's files. */
typedef struct sb_qa_files {
  const char *image;      /* read for colours; NULL: none */
  const char *image_path; /* written into the record (NULL: image) */
  const char *depth, *masks;
  const char *camera;     /* a preset, literal numbers or a JSON file (spatial_io.h) */
} sb_qa_files;

typedef struct sb_qa_file_options {
  double depth_units;  /* PNG / integer depth values per metre (1000: mm) */
  double pixel_center; /* for intrinsics that do not say (0.5 or 0) */
} sb_qa_file_options;

/* Several views need a cam_to_world in each camera JSON. Returns SB_OK,
 * SB_QA_SKIP (depth and masks of different sizes; *skip_reason, message
 * in sb_error_message()) or an error. */
int sb_qa_input_from_files(const sb_qa_files *views, int n_views, const sb_qa_file_options *o, const char *id,
                           sb_qa_input *out, const char **skip_reason);

/* ---- folders (spatial_files.c) ---- */

/* The entries of dir that keep() accepts (NULL: all but dot files), sorted
 * by strcmp; malloc'd names. */
int sb_list_dir(const char *dir, bool (*keep)(const char *dir, const char *name), char ***names, int *n);
void sb_free_names(char **names, int n);
/* The scene folders under dir, sorted: dir itself when it holds scene.json,
 * else its subfolders that do. None is an error naming dir. */
int sb_list_scenes(const char *dir, char ***paths, int *n);
/* dir/stem + the first extension that exists, or NULL (no message). */
char *sb_find_with_ext(const char *dir, const char *stem, const char *const *exts);
/* The views of sample k of a scene with n_scene views when `want` per
 * sample are asked for: view k mod n first (the reference frame), then
 * others drawn from (seed, scene id, k). Returns how many (want, or all the
 * scene has). */
int sb_pick_views(const char *scene_id, int n_scene, int want, int64_t k, uint64_t seed, int *views);

#endif
