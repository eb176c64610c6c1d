/* resize.c — antialiased separable resampling: Pillow's 8-bit fixed-point
 * Image.resize and torch's float interpolate(antialias=True). Both compute
 * the same filter weights (Pillow's Resample.c algorithm, restated in
 * spec/MODELS.md B.7.3); they differ in quantisation and pass order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "spatialboost/error.h"
#include "spatialboost/image.h"
#include "util.h"

#define PRECISION_BITS (32 - 8 - 2)

static double filter_eval(sb_resample f, double x) {
  x = fabs(x);
  if (f == SB_RESAMPLE_BILINEAR) return x < 1.0 ? 1.0 - x : 0.0;
  const double a = -0.5; /* bicubic */
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

/* For each output index: the first input index, the number of taps, and
 * the normalised weights (ksize per output). */
typedef struct coeffs {
  int ksize;
  int *start, *count;
  double *w;
} coeffs;

static void coeffs_free(coeffs *c) { free(c->start), free(c->count), free(c->w); }

static int coeffs_make(int in, int out, sb_resample f, coeffs *c) {
  double support0 = f == SB_RESAMPLE_BILINEAR ? 1.0 : 2.0;
  double scale = (double)in / out, fs = scale < 1.0 ? 1.0 : scale, support = support0 * fs;
  c->ksize = (int)ceil(support) * 2 + 1;
  c->start = sb_malloc(sizeof(int) * (size_t)out), c->count = sb_malloc(sizeof(int) * (size_t)out);
  c->w = sb_calloc((size_t)out * (size_t)c->ksize, sizeof(double));
  if (!c->start || !c->count || !c->w) {
    coeffs_free(c);
    return SB_ERR_NOMEM;
  }
  for (int i = 0; i < out; i++) {
    double center = (i + 0.5) * scale, ss = 1.0 / fs, total = 0.0;
    int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
    if (xmin < 0) xmin = 0;
    if (xmax > in) xmax = in;
    int n = xmax - xmin;
    double *w = c->w + (size_t)i * (size_t)c->ksize;
    for (int x = 0; x < n; x++) total += (w[x] = filter_eval(f, (x + xmin - center + 0.5) * ss));
    for (int x = 0; x < n; x++)
      if (total != 0.0) w[x] /= total;
    c->start[i] = xmin, c->count[i] = n;
  }
  return SB_OK;
}

static int check_sizes(const char *what, int w, int h, int ow, int oh) {
  if (w <= 0 || h <= 0 || ow <= 0 || oh <= 0 || ow > 65536 || oh > 65536)
    return sb_error_set(SB_ERR_SHAPE, "%s: cannot resize %dx%d to %dx%d", what, w, h, ow, oh);
  return SB_OK;
}

static int filter_ok(const char *what, sb_resample f) {
  if (f == SB_RESAMPLE_BILINEAR || f == SB_RESAMPLE_BICUBIC) return SB_OK;
  return sb_error_set(SB_ERR_FORMAT, "%s: unknown resampling filter %d (2 bilinear or 3 bicubic)", what, (int)f);
}

static inline uint8_t clip8(int64_t v) {
  if (v <= 0) return 0;
  v >>= PRECISION_BITS;
  return v > 255 ? 255 : (uint8_t)v;
}

/* One 8-bit pass along rows (horizontal) or columns (vertical). */
static void pass_u8(const uint8_t *src, int w, int h, int ch, uint8_t *dst, int ow, int oh, const coeffs *c,
                    bool horizontal) {
  int32_t *k = malloc(sizeof(int32_t) * (size_t)c->ksize);
  int n_out = horizontal ? ow : oh;
  for (int o = 0; o < n_out; o++) {
    const double *wd = c->w + (size_t)o * (size_t)c->ksize;
    for (int x = 0; x < c->count[o]; x++) /* Pillow's rounding to fixed point */
      k[x] = (int32_t)(wd[x] < 0 ? -0.5 + wd[x] * (1 << PRECISION_BITS) : 0.5 + wd[x] * (1 << PRECISION_BITS));
    int lines = horizontal ? h : ow;
    for (int l = 0; l < lines; l++) {
      for (int cc = 0; cc < ch; cc++) {
        int64_t acc = (int64_t)1 << (PRECISION_BITS - 1);
        for (int x = 0; x < c->count[o]; x++) {
          int at = c->start[o] + x;
          uint8_t v = horizontal ? src[((size_t)l * w + at) * ch + cc] : src[((size_t)at * w + l) * ch + cc];
          acc += (int64_t)v * k[x];
        }
        if (horizontal) dst[((size_t)l * ow + o) * ch + cc] = clip8(acc);
        else dst[((size_t)o * ow + l) * ch + cc] = clip8(acc);
      }
    }
  }
  free(k);
}

int sb_image_resize(const sb_image *src, int width, int height, sb_resample f, sb_image *dst) {
  memset(dst, 0, sizeof *dst);
  if (check_sizes("image resize", src->width, src->height, width, height) || filter_ok("image resize", f))
    return SB_ERR_SHAPE;
  int ch = src->channels;
  coeffs cx = {0}, cy = {0};
  uint8_t *mid = NULL, *out = NULL;
  int rc = coeffs_make(src->width, width, f, &cx);
  if (rc == SB_OK) rc = coeffs_make(src->height, height, f, &cy);
  mid = rc == SB_OK ? sb_malloc((size_t)width * (size_t)src->height * (size_t)ch) : NULL;
  out = mid ? sb_malloc((size_t)width * (size_t)height * (size_t)ch) : NULL;
  if (!out) rc = SB_ERR_NOMEM;
  if (rc == SB_OK) {
    /* Pillow skips a pass whose size does not change */
    if (width != src->width) pass_u8(src->data, src->width, src->height, ch, mid, width, src->height, &cx, true);
    else memcpy(mid, src->data, (size_t)width * (size_t)src->height * (size_t)ch);
    if (height != src->height) pass_u8(mid, width, src->height, ch, out, width, height, &cy, false);
    else memcpy(out, mid, (size_t)width * (size_t)height * (size_t)ch);
    *dst = (sb_image){width, height, ch, out};
    out = NULL;
  }
  coeffs_free(&cx), coeffs_free(&cy);
  free(mid), free(out);
  return rc;
}

/* One float pass over planes: along the last dim when `rows`, else along
 * the middle one. */
static void pass_f32(const float *src, int planes, int h, int w, float *dst, int oh, int ow, const coeffs *c,
                     bool along_width) {
  for (int p = 0; p < planes; p++) {
    const float *s = src + (size_t)p * h * w;
    float *d = dst + (size_t)p * oh * ow;
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < ow; x++) {
        int o = along_width ? x : y;
        const double *k = c->w + (size_t)o * (size_t)c->ksize;
        double acc = 0.0;
        for (int t = 0; t < c->count[o]; t++) {
          int at = c->start[o] + t;
          acc += k[t] * (along_width ? s[(size_t)y * w + at] : s[(size_t)at * w + x]);
        }
        d[(size_t)y * ow + x] = (float)acc;
      }
  }
}

int sb_resize_planes(const float *src, int channels, int height, int width, float *dst, int out_height,
                     int out_width, sb_resample f) {
  if (check_sizes("resize", width, height, out_width, out_height) || filter_ok("resize", f)) return SB_ERR_SHAPE;
  coeffs cx = {0}, cy = {0};
  int rc = coeffs_make(width, out_width, f, &cx);
  if (rc == SB_OK) rc = coeffs_make(height, out_height, f, &cy);
  float *mid = rc == SB_OK ? sb_malloc(sizeof(float) * (size_t)channels * height * out_width) : NULL;
  if (!mid) rc = rc ? rc : SB_ERR_NOMEM;
  if (rc == SB_OK) {
    pass_f32(src, channels, height, width, mid, height, out_width, &cx, true);
    pass_f32(mid, channels, height, out_width, dst, out_height, out_width, &cy, false);
  }
  coeffs_free(&cx), coeffs_free(&cy);
  free(mid);
  return rc;
}
