/* spatial_io.h — reading the generator's real-world inputs: depth maps
 * (16-bit PNG in millimetres or other units, NumPy .npy/.npz, safetensors),
 * instance masks (16-bit id PNGs, SA-1B / COCO RLE JSON), intrinsics
 * (per-image JSON, presets, literal numbers) and object descriptions. */
#ifndef SB_CORE_SPATIAL_IO_H
#define SB_CORE_SPATIAL_IO_H

#include "qa.h"
#include "spatialboost/json.h"

/* ---- depth ---- */

typedef struct sb_depth_map {
  int width, height;
  float *z; /* metres; 0 where the file has no value */
} sb_depth_map;

/* By extension: .png (16-bit greyscale; value / units_per_metre metres, 0 =
 * none; 1000 for NYUv2/ScanNet millimetres, 5000 for TUM), .npy and .npz
 * (float arrays in metres, integer arrays divided by units_per_metre; an
 * .npz's member "depth", else its only member), .safetensors (tensor
 * "depth", else its only tensor; float metres). 2-D arrays, or 3-D with a
 * last dimension of 1. Non-finite values are kept (the generator ignores
 * them). */
int sb_depth_load(const char *path, double units_per_metre, sb_depth_map *out);
void sb_depth_free(sb_depth_map *d);

/* A NumPy array as float64: shape (up to 3 dims, C order after reading). */
typedef struct sb_npy {
  int ndim;
  int64_t shape[3];
  bool is_float; /* the file's dtype was a float type */
  double *data;
} sb_npy;
/* A .npy file's bytes. name is for messages. */
int sb_npy_parse(const uint8_t *buf, size_t len, const char *name, sb_npy *out);
int sb_npy_load(const char *path, sb_npy *out);
/* Member `member` ("x" or "x.npy"; NULL: the only one, or "depth" when
 * present) of an .npz (a zip, stored or deflated). */
int sb_npz_load(const char *path, const char *member, sb_npy *out);
void sb_npy_free(sb_npy *a);
/* The bytes of a zip member (malloc'd). */
int sb_zip_read(const char *path, const char *member, uint8_t **data, size_t *len);
/* The members' names of a zip, in directory order (malloc'd list of
 * malloc'd strings). */
int sb_zip_list(const char *path, char ***names, int *n);

/* ---- masks ---- */

typedef struct sb_mask_set {
  int width, height;
  sb_qa_mask *masks;
  int n;
} sb_mask_set;

/* By extension: .png (instance ids, 0 = background; one mask per id, in
 * increasing id order) or .json (SA-1B: {"annotations": [{"segmentation":
 * {"size": [h, w], "counts": "..." or [runs]}, ...}]}, or a plain list of
 * such annotations; an annotation's id is its "object_id", else its "id",
 * else its position + 1). Empty masks are left out. */
int sb_masks_load(const char *path, sb_mask_set *out);
/* One mask per nonzero id of a w×h id image. */
int sb_masks_from_ids(const uint16_t *ids, int width, int height, sb_mask_set *out);
void sb_masks_free(sb_mask_set *m);

/* ---- intrinsics ---- */

/* A camera for a w×h depth map: intrinsics and pose (identity if none). */
typedef struct sb_view_camera {
  sb_intrinsics k;
  double cam_to_world[16];
  bool has_pose;
} sb_view_camera;

/* spec: a preset ("nyuv2", "kinect"), "fx,fy,cx,cy[,pixel_center]", or a
 * JSON file {"fx", "fy", "cx", "cy"} or {"K": 3×3} with optional "width",
 * "height" (the size the intrinsics belong to: scaled to the depth map's
 * size when they differ), "pixel_center" (default `pixel_center`) and
 * "cam_to_world" (16 numbers, row-major); SCENES.md's camera.json is such a
 * file. Presets carry their size and are scaled the same way. */
int sb_camera_resolve(const char *spec, int width, int height, double pixel_center, sb_view_camera *out);
/* Whether spec names a preset or literal numbers (not a file). */
bool sb_camera_is_inline(const char *spec);

/* ---- descriptions ---- */

/* Descriptions (and a caption) of image `key` from an --objects document:
 * {"<key>": {"caption": "...", "objects": {"1": "red chair", ...} or
 * [{"id": 1, "name": "..."}...]}} or {"<key>": {"1": "..."}} or
 * {"<key>": [{"id": 1, "name": "..."}]}. A key that is absent adds
 * nothing. */
int sb_objects_describe(const sb_json *root, const char *key, sb_qa_input *in);

#endif
