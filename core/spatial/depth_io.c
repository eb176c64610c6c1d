/* depth_io.c — depth maps in the formats real datasets and depth networks
 * write (spatial_io.h): 16-bit PNGs in millimetres (NYUv2, ScanNet) or
 * other units, NumPy .npy/.npz arrays (Depth Pro and most Python tools),
 * and safetensors (the synthetic scenes' depth.safetensors). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "spatial_io.h"
#include "spatialboost/image.h"
#include "spatialboost/safetensors.h"
#include "spatialboost/tensor.h"
#include "util.h"

void sb_depth_free(sb_depth_map *d) {
  if (!d) return;
  free(d->z);
  memset(d, 0, sizeof *d);
}

static int alloc_map(sb_depth_map *out, int64_t h, int64_t w, const char *path) {
  if (h <= 0 || w <= 0 || h > 65535 || w > 65535)
    return sb_error_set(SB_ERR_SHAPE, "%s: a %lld×%lld depth map is not a valid size", path, (long long)w, (long long)h);
  out->width = (int)w, out->height = (int)h;
  return (out->z = sb_malloc((size_t)(w * h) * sizeof *out->z)) ? SB_OK : SB_ERR_NOMEM;
}

static int load_png(const char *path, double units, sb_depth_map *out) {
  sb_image16 img;
  if (sb_image16_load(path, &img)) return sb_error_code();
  int rc = alloc_map(out, img.height, img.width, path);
  for (size_t i = 0; rc == SB_OK && i < (size_t)img.width * (size_t)img.height; i++)
    out->z[i] = (float)(img.data[i] / units);
  sb_image16_free(&img);
  return rc;
}

/* A (h, w) or (h, w, 1) array to a map; integer arrays are in `units`. */
static int from_array(const sb_npy *a, double units, const char *path, sb_depth_map *out) {
  if (!(a->ndim == 2 || (a->ndim == 3 && a->shape[2] == 1)))
    return sb_error_set(SB_ERR_SHAPE, "%s: a depth array has shape (H, W) or (H, W, 1); this one has %d dimension%s%s",
                        path, a->ndim, a->ndim == 1 ? "" : "s", a->ndim == 3 ? " with more than one channel" : "");
  int rc = alloc_map(out, a->shape[0], a->shape[1], path);
  double scale = a->is_float ? 1.0 : 1.0 / units;
  for (size_t i = 0; rc == SB_OK && i < (size_t)out->width * (size_t)out->height; i++)
    out->z[i] = (float)(a->data[i] * scale);
  return rc;
}

static int load_numpy(const char *path, double units, bool npz, sb_depth_map *out) {
  sb_npy a;
  int rc = npz ? sb_npz_load(path, NULL, &a) : sb_npy_load(path, &a);
  if (rc) return rc;
  rc = from_array(&a, units, path, out);
  sb_npy_free(&a);
  return rc;
}

/* Element i of a float tensor in the file (little-endian, maybe unaligned). */
static double st_value(const sb_st_tensor *t, size_t i) {
  const uint8_t *p = (const uint8_t *)t->data + i * sb_dtype_size(t->dtype);
  if (t->dtype == SB_DTYPE_F32) {
    float f;
    memcpy(&f, p, 4);
    return f;
  }
  uint16_t h;
  memcpy(&h, p, 2);
  return t->dtype == SB_DTYPE_BF16 ? sb_bf16_to_f32(h) : sb_f16_to_f32(h);
}

static int load_safetensors(const char *path, sb_depth_map *out) {
  sb_safetensors *f = sb_safetensors_open(path);
  if (!f) return sb_error_code();
  const sb_st_tensor *t = sb_safetensors_find(f, "depth");
  if (!t && sb_safetensors_count(f) == 1) t = sb_safetensors_at(f, 0);
  int rc = SB_OK;
  if (!t) rc = sb_error_set(SB_ERR_NOT_FOUND, "%s: no tensor 'depth' (and not exactly one tensor)", path);
  else if (!(t->ndim == 2 || (t->ndim == 3 && t->shape[2] == 1)) ||
           !(t->dtype == SB_DTYPE_F32 || t->dtype == SB_DTYPE_BF16 || t->dtype == SB_DTYPE_F16))
    rc = sb_error_set(SB_ERR_SHAPE, "%s: tensor '%s': expected float32/16 depth [H, W] in metres", path, t->name);
  if (!rc) rc = alloc_map(out, t->shape[0], t->shape[1], path);
  for (size_t i = 0; !rc && i < (size_t)out->width * (size_t)out->height; i++) out->z[i] = (float)st_value(t, i);
  sb_safetensors_close(f);
  return rc;
}

int sb_depth_load(const char *path, double units_per_metre, sb_depth_map *out) {
  memset(out, 0, sizeof *out);
  if (!(units_per_metre > 0)) return sb_error_set(SB_ERR_FORMAT, "depth units per metre %g: expected > 0", units_per_metre);
  int rc;
  if (sb_str_ends_with(path, ".png") || sb_str_ends_with(path, ".PNG")) rc = load_png(path, units_per_metre, out);
  else if (sb_str_ends_with(path, ".npy")) rc = load_numpy(path, units_per_metre, false, out);
  else if (sb_str_ends_with(path, ".npz")) rc = load_numpy(path, units_per_metre, true, out);
  else if (sb_str_ends_with(path, ".safetensors")) rc = load_safetensors(path, out);
  else
    rc = sb_error_set(SB_ERR_FORMAT, "%s: unknown depth format (expected .png, .npy, .npz or .safetensors)", path);
  if (rc) sb_depth_free(out);
  return rc;
}
