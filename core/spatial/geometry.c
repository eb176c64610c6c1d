/* geometry.c — back-projection, clouds, per-object clouds with the depth
 * percentile band, cubes, rigid transforms, the normalised scene frame and
 * nearest-point distances (see geometry.h). */
#include "geometry.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

bool sb_depth_valid(float z) { return isfinite(z) && z > 0.0f; }

void sb_backproject(const sb_intrinsics *k, int u, int v, double z, double out[3]) {
  out[0] = ((double)u + k->pixel_center - k->cx) * z / k->fx;
  out[1] = ((double)v + k->pixel_center - k->cy) * z / k->fy;
  out[2] = z;
}

void sb_project(const sb_intrinsics *k, const double p[3], double *u, double *v) {
  *u = k->fx * p[0] / p[2] + k->cx - k->pixel_center + 0.5;
  *v = k->fy * p[1] / p[2] + k->cy - k->pixel_center + 0.5;
}

/* ---- clouds ---- */

static int cloud_reserve(sb_cloud *c, size_t n) {
  if (n <= c->cap) return SB_OK;
  size_t cap = c->cap ? c->cap : 64;
  while (cap < n) cap *= 2;
  double *p = sb_realloc(c->p, cap * 3 * sizeof *p);
  if (!p) return SB_ERR_NOMEM;
  c->p = p, c->cap = cap;
  return SB_OK;
}

int sb_cloud_push(sb_cloud *c, const double xyz[3]) {
  if (cloud_reserve(c, c->n + 1)) return SB_ERR_NOMEM;
  memcpy(c->p + 3 * c->n++, xyz, 3 * sizeof *xyz);
  return SB_OK;
}

int sb_cloud_append(sb_cloud *dst, const sb_cloud *src) {
  if (!src->n) return SB_OK;
  if (cloud_reserve(dst, dst->n + src->n)) return SB_ERR_NOMEM;
  memcpy(dst->p + 3 * dst->n, src->p, 3 * src->n * sizeof *src->p);
  dst->n += src->n;
  return SB_OK;
}

void sb_cloud_free(sb_cloud *c) {
  if (!c) return;
  free(c->p);
  memset(c, 0, sizeof *c);
}

int sb_cloud_subsample(const sb_cloud *in, size_t max_n, sb_cloud *out) {
  memset(out, 0, sizeof *out);
  size_t step = max_n && in->n > max_n ? (in->n + max_n - 1) / max_n : 1;
  if (cloud_reserve(out, in->n / step + 1)) return SB_ERR_NOMEM;
  for (size_t i = 0; i < in->n; i += step) memcpy(out->p + 3 * out->n++, in->p + 3 * i, 3 * sizeof *in->p);
  return SB_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double sb_percentile(double *v, size_t n, double pct) {
  qsort(v, n, sizeof *v, cmp_double);
  double pos = pct / 100.0 * (double)(n - 1);
  if (pos <= 0) return v[0];
  if (pos >= (double)(n - 1)) return v[n - 1];
  size_t i = (size_t)pos;
  double f = pos - (double)i;
  return v[i] + f * (v[i + 1] - v[i]);
}

/* The valid depths of the pixels, in pixel order. */
static double *valid_depths(const float *depth, size_t n_px, const uint32_t *pixels, size_t n, size_t *n_valid) {
  double *z = sb_malloc((n ? n : 1) * sizeof *z);
  size_t k = 0;
  for (size_t i = 0; z && i < n; i++)
    if (pixels[i] < n_px && sb_depth_valid(depth[pixels[i]])) z[k++] = depth[pixels[i]];
  *n_valid = k;
  return z;
}

/* Widens [lo, hi] over the sorted depths z outward for as long as the
 * tails stay contiguous: no step between neighbouring depths larger than
 * SB_BAND_GAP_M plus SB_BAND_GAP_REL of the depth. */
static void contiguous_tails(const double *z, size_t n, double *lo, double *hi) {
  size_t i = 0, j = n - 1;
  while (i + 1 < n && z[i + 1] <= *lo) i++;
  while (j > 0 && z[j - 1] >= *hi) j--;
  while (i > 0 && z[i] - z[i - 1] <= SB_BAND_GAP_M + SB_BAND_GAP_REL * z[i]) i--;
  while (j + 1 < n && z[j + 1] - z[j] <= SB_BAND_GAP_M + SB_BAND_GAP_REL * z[j]) j++;
  *lo = fmin(*lo, z[i]), *hi = fmax(*hi, z[j]);
}

int sb_object_cloud(const float *depth, int w, int h, const sb_intrinsics *k, const uint32_t *pixels,
                    size_t n_pixels, double pct_lo, double pct_hi, sb_cloud *out, size_t *n_valid) {
  memset(out, 0, sizeof *out);
  size_t n_px = (size_t)w * (size_t)h, nv = 0;
  double *z = valid_depths(depth, n_px, pixels, n_pixels, &nv);
  if (!z) return SB_ERR_NOMEM;
  if (n_valid) *n_valid = nv;
  double lo = -INFINITY, hi = INFINITY;
  if (nv && (pct_lo > 0 || pct_hi < 100)) {
    lo = sb_percentile(z, nv, pct_lo);
    hi = sb_percentile(z, nv, pct_hi); /* z is sorted now */
    contiguous_tails(z, nv, &lo, &hi);
  }
  free(z);
  if (nv && cloud_reserve(out, nv)) return SB_ERR_NOMEM;
  for (size_t i = 0; i < n_pixels; i++) {
    uint32_t px = pixels[i];
    if (px >= n_px || !sb_depth_valid(depth[px]) || depth[px] < lo || depth[px] > hi) continue;
    sb_backproject(k, (int)(px % (uint32_t)w), (int)(px / (uint32_t)w), depth[px], out->p + 3 * out->n++);
  }
  return SB_OK;
}

void sb_cloud_bounds(const sb_cloud *c, sb_box3 *out) {
  for (int a = 0; a < 3; a++) out->min[a] = DBL_MAX, out->max[a] = -DBL_MAX;
  for (size_t i = 0; i < c->n; i++)
    for (int a = 0; a < 3; a++) {
      double x = c->p[3 * i + a];
      if (x < out->min[a]) out->min[a] = x;
      if (x > out->max[a]) out->max[a] = x;
    }
}

void sb_box_center(const sb_box3 *b, double out[3]) {
  for (int a = 0; a < 3; a++) out[a] = 0.5 * (b->min[a] + b->max[a]);
}

/* ---- transforms ---- */

void sb_mat4_identity(double m[16]) {
  memset(m, 0, 16 * sizeof *m);
  m[0] = m[5] = m[10] = m[15] = 1.0;
}

void sb_mat4_mul(const double a[16], const double b[16], double out[16]) {
  double r[16];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) {
      double s = 0;
      for (int k = 0; k < 4; k++) s += a[4 * i + k] * b[4 * k + j];
      r[4 * i + j] = s;
    }
  memcpy(out, r, sizeof r);
}

void sb_mat4_rigid_inverse(const double m[16], double out[16]) {
  double r[16];
  sb_mat4_identity(r);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) r[4 * i + j] = m[4 * j + i];
  for (int i = 0; i < 3; i++) r[4 * i + 3] = -(r[4 * i] * m[3] + r[4 * i + 1] * m[7] + r[4 * i + 2] * m[11]);
  memcpy(out, r, sizeof r);
}

void sb_mat4_apply(const double m[16], const double p[3], double out[3]) {
  double r[3];
  for (int i = 0; i < 3; i++) r[i] = m[4 * i] * p[0] + m[4 * i + 1] * p[1] + m[4 * i + 2] * p[2] + m[4 * i + 3];
  memcpy(out, r, sizeof r);
}

void sb_cloud_transform(sb_cloud *c, const double m[16]) {
  for (size_t i = 0; i < c->n; i++) sb_mat4_apply(m, c->p + 3 * i, c->p + 3 * i);
}

void sb_view_to_ref(const double cam_to_world_ref[16], const double cam_to_world_view[16], double out[16]) {
  double inv[16];
  sb_mat4_rigid_inverse(cam_to_world_ref, inv);
  sb_mat4_mul(inv, cam_to_world_view, out);
}

bool sb_mat4_is_rigid(const double m[16], double tol) {
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      double d = 0;
      for (int k = 0; k < 3; k++) d += m[4 * k + i] * m[4 * k + j];
      if (fabs(d - (i == j)) > tol) return false;
    }
  double det = m[0] * (m[5] * m[10] - m[6] * m[9]) - m[1] * (m[4] * m[10] - m[6] * m[8]) +
               m[2] * (m[4] * m[9] - m[5] * m[8]);
  return fabs(det - 1) <= tol && m[12] == 0 && m[13] == 0 && m[14] == 0 && m[15] == 1;
}

/* ---- the normalised frame ---- */

/* The 1st and 99th percentiles of one axis of the scene cloud. */
static int axis_band(const sb_cloud *scene, int a, double *lo, double *hi) {
  double *v = sb_malloc(scene->n * sizeof *v);
  if (!v) return SB_ERR_NOMEM;
  for (size_t i = 0; i < scene->n; i++) v[i] = scene->p[3 * i + a];
  *lo = sb_percentile(v, scene->n, 1.0);
  *hi = sb_percentile(v, scene->n, 99.0);
  free(v);
  return SB_OK;
}

int sb_norm_frame_make(const sb_cloud *scene, const sb_box3 *cubes, size_t n_cubes, sb_norm_frame *out) {
  if ((!scene || !scene->n) && !n_cubes) return sb_error("normalised frame: no points and no cubes");
  for (int a = 0; a < 3; a++) {
    double lo = DBL_MAX, hi = -DBL_MAX;
    if (scene && scene->n && axis_band(scene, a, &lo, &hi)) return SB_ERR_NOMEM;
    for (size_t i = 0; i < n_cubes; i++) {
      if (cubes[i].min[a] < lo) lo = cubes[i].min[a];
      if (cubes[i].max[a] > hi) hi = cubes[i].max[a];
    }
    if (hi - lo < 0.01) {
      double mid = 0.5 * (lo + hi);
      lo = mid - 0.005, hi = mid + 0.005;
    }
    out->lo[a] = lo, out->hi[a] = hi;
  }
  return SB_OK;
}

void sb_norm_point(const sb_norm_frame *f, const double p[3], double out[3]) {
  for (int a = 0; a < 3; a++) {
    double t = (p[a] - f->lo[a]) / (f->hi[a] - f->lo[a]);
    out[a] = t < 0 ? 0 : t > 1 ? 1 : t;
  }
}

void sb_norm_box(const sb_norm_frame *f, const sb_box3 *b, double out[6]) {
  sb_norm_point(f, b->min, out);
  sb_norm_point(f, b->max, out + 3);
}

/* ---- distances ---- */

double sb_cloud_directed_distance(const sb_cloud *a, const sb_cloud *b) {
  if (!a->n || !b->n) return NAN;
  double sum = 0;
  for (size_t i = 0; i < a->n; i++) {
    const double *p = a->p + 3 * i;
    double best = DBL_MAX;
    for (size_t j = 0; j < b->n; j++) {
      const double *q = b->p + 3 * j;
      double dx = p[0] - q[0], dy = p[1] - q[1], dz = p[2] - q[2];
      double d = dx * dx + dy * dy + dz * dz;
      if (d < best) best = d;
    }
    sum += sqrt(best);
  }
  return sum / (double)a->n;
}

double sb_cloud_distance(const sb_cloud *a, const sb_cloud *b, size_t max_query, size_t max_target) {
  sb_cloud aq, bq, at, bt;
  int rc = sb_cloud_subsample(a, max_query, &aq) | sb_cloud_subsample(b, max_query, &bq) |
           sb_cloud_subsample(a, max_target, &at) | sb_cloud_subsample(b, max_target, &bt);
  double d = rc ? NAN : 0.5 * (sb_cloud_directed_distance(&aq, &bt) + sb_cloud_directed_distance(&bq, &at));
  sb_cloud_free(&aq), sb_cloud_free(&bq), sb_cloud_free(&at), sb_cloud_free(&bt);
  return d;
}
