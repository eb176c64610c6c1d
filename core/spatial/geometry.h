/* geometry.h — the geometry of the spatial data generator: back-projection
 * of depth pixels with pinhole intrinsics, point clouds, per-object clouds
 * from masks with a depth-percentile outlier band, axis-aligned cubes, rigid
 * transforms for multi-view fusion into the first view's camera frame, the
 * normalised per-scene frame the conversations speak in, and the
 * nearest-point distance between two clouds.
 *
 * Frames (SCENES.md): camera x right, y down, z forward, metres; depth is
 * the camera z of a pixel, not the length of its ray. */
#ifndef SB_CORE_GEOMETRY_H
#define SB_CORE_GEOMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Pinhole intrinsics. `pixel_center` is where pixel u's centre lies in the
 * convention of cx: 0.5 when pixel u covers [u, u+1) (SCENES.md, the
 * synthetic scenes), 0 when pixel centres sit on integers (PCL's Kinect
 * frames with cx = 319.5 for 640 columns, OpenCV's calibration). */
typedef struct sb_intrinsics {
  double fx, fy, cx, cy;
  double pixel_center;
} sb_intrinsics;

/* A depth value that counts: finite and above zero (0 marks "no value"). */
bool sb_depth_valid(float z);
/* Pixel (u, v) (integer indices) at depth z to camera coordinates. */
void sb_backproject(const sb_intrinsics *k, int u, int v, double z, double out[3]);
/* A camera point to continuous pixel coordinates in index space (the
 * pixel that contains it is (floor(*u), floor(*v)) for pixel_center 0.5). */
void sb_project(const sb_intrinsics *k, const double p[3], double *u, double *v);

/* A growable cloud of points, xyz interleaved. */
typedef struct sb_cloud {
  double *p;
  size_t n, cap;
} sb_cloud;

int sb_cloud_push(sb_cloud *c, const double xyz[3]);
int sb_cloud_append(sb_cloud *dst, const sb_cloud *src);
void sb_cloud_free(sb_cloud *c);
/* At most max_n points of `in`, every k-th in order (deterministic). */
int sb_cloud_subsample(const sb_cloud *in, size_t max_n, sb_cloud *out);

/* The value at percentile pct (0..100, linear between order statistics)
 * of v; sorts v in place. n must be > 0. */
double sb_percentile(double *v, size_t n, double pct);

/* An object's cloud from its pixels (indices into the row-major w×h depth
 * map): pixels with a valid depth are back-projected, then those outside
 * the object's depth band are dropped. The band starts as the [pct_lo,
 * pct_hi] percentiles of its valid depths and extends over each tail for as
 * long as the sorted depths stay contiguous (no step larger than 3 cm + 1 %
 * of the depth): a surface's thin front or back (a corner, an apex) stays,
 * so distances are not biased, while flying pixels and background bleeding
 * into the mask, which lie apart, go. *n_valid (may be NULL) gets the count
 * before the band. pct_lo = 0 and pct_hi = 100 keep every valid point. */
#define SB_BAND_GAP_M 0.03
#define SB_BAND_GAP_REL 0.01
int sb_object_cloud(const float *depth, int w, int h, const sb_intrinsics *k, const uint32_t *pixels,
                    size_t n_pixels, double pct_lo, double pct_hi, sb_cloud *out, size_t *n_valid);

/* Axis-aligned boxes ("cubes"). */
typedef struct sb_box3 {
  double min[3], max[3];
} sb_box3;
/* The box of a cloud (n > 0). */
void sb_cloud_bounds(const sb_cloud *c, sb_box3 *out);
void sb_box_center(const sb_box3 *b, double out[3]);

/* Row-major 4×4 rigid transforms: X' = R·X + t. */
void sb_mat4_identity(double m[16]);
void sb_mat4_mul(const double a[16], const double b[16], double out[16]);
/* The inverse of a rigid transform (R orthonormal): [Rᵀ, −Rᵀt]. */
void sb_mat4_rigid_inverse(const double m[16], double out[16]);
void sb_mat4_apply(const double m[16], const double p[3], double out[3]);
void sb_cloud_transform(sb_cloud *c, const double m[16]);
/* View i's camera frame to the reference view's camera frame, from both
 * cam_to_world poses: inverse(ref) · view. */
void sb_view_to_ref(const double cam_to_world_ref[16], const double cam_to_world_view[16], double out[16]);
/* Whether the upper 3×3 is a rotation (orthonormal, det +1) within tol and
 * the last row is 0 0 0 1. */
bool sb_mat4_is_rigid(const double m[16], double tol);

/* The normalised per-scene frame: each axis of the fused reference camera
 * frame mapped linearly from [lo, hi] onto [0, 1] (x right, y down, z
 * forward, as the camera's). */
typedef struct sb_norm_frame {
  double lo[3], hi[3];
} sb_norm_frame;

/* The frame of a scene: per axis, from the 1st to the 99th percentile of
 * the scene's points (background included, so a stray far pixel does not
 * squeeze it), widened to hold every object cube in full. An axis of zero
 * width gets 1 cm. scene may be empty (then only the cubes count); cubes
 * may be NULL when n_cubes is 0; not both empty. */
int sb_norm_frame_make(const sb_cloud *scene, const sb_box3 *cubes, size_t n_cubes, sb_norm_frame *out);
/* A point in the frame (clamped to [0, 1]). */
void sb_norm_point(const sb_norm_frame *f, const double p[3], double out[3]);
/* A cube as [x_min, y_min, z_min, x_max, y_max, z_max] in the frame. */
void sb_norm_box(const sb_norm_frame *f, const sb_box3 *b, double out[6]);

/* Mean over the points of a of the distance to the nearest point of b. */
double sb_cloud_directed_distance(const sb_cloud *a, const sb_cloud *b);
/* The scene-level distance between two objects: the mean of the two
 * directed nearest-point distances (a symmetric Chamfer distance, as
 * SpatialRGPT measures it). Each query side is thinned to max_query points
 * and each target side to max_target (deterministically) to bound the cost. */
double sb_cloud_distance(const sb_cloud *a, const sb_cloud *b, size_t max_query, size_t max_target);

#endif
