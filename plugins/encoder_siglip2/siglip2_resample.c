/* siglip2_resample.c — the resampling matrices of the position table and
 * the NaFlex target size:
 *   - antialiased bilinear weights (PyTorch interpolate(bilinear,
 *     align_corners=False, antialias=True), spec/MODELS.md B.7.3), used by
 *     NaFlex to resize the grid×grid table to each image's patch grid (B.4);
 *   - plain bicubic weights (interpolate(bicubic, align_corners=False),
 *     a = -0.75), used by fixed-res towers run at another image size than
 *     their table's (HF interpolate_pos_encoding, B.3);
 *   - the binary search of Siglip2ImageProcessor for the target size (B.7.2).
 * The weights are computed on the host in double; the resize itself is one
 * sb_op_matmul, so it is differentiable with respect to the table. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "siglip2.h"

static double triangle(double x) {
  x = fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

void siglip2_aa_bilinear_weights(int64_t n_in, int64_t n_out, double *w) {
  memset(w, 0, sizeof(double) * (size_t)(n_in * n_out));
  double scale = (double)n_in / (double)n_out, fs = scale < 1.0 ? 1.0 : scale, support = fs;
  for (int64_t i = 0; i < n_out; i++) {
    double center = ((double)i + 0.5) * scale, total = 0.0, *row = w + i * n_in;
    int64_t lo = (int64_t)(center - support + 0.5), hi = (int64_t)(center + support + 0.5);
    if (lo < 0) lo = 0;
    if (hi > n_in) hi = n_in;
    for (int64_t j = lo; j < hi; j++) total += row[j] = triangle(((double)j - center + 0.5) / fs);
    for (int64_t j = lo; j < hi && total != 0.0; j++) row[j] /= total;
  }
}

/* Keys' cubic convolution kernel with a = -0.75 (PyTorch's upsample_bicubic). */
static double cubic_near(double x, double a) { return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0; }
static double cubic_far(double x, double a) { return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a; }

void siglip2_bicubic_weights(int64_t n_in, int64_t n_out, double *w) {
  const double a = -0.75;
  memset(w, 0, sizeof(double) * (size_t)(n_in * n_out));
  double scale = (double)n_in / (double)n_out;
  for (int64_t i = 0; i < n_out; i++) {
    double real = scale * ((double)i + 0.5) - 0.5; /* not clamped for cubic */
    double base = floor(real), t = real - base;
    double k[4] = {cubic_far(t + 1.0, a), cubic_near(t, a), cubic_near(1.0 - t, a), cubic_far(2.0 - t, a)};
    for (int j = 0; j < 4; j++) {
      int64_t at = (int64_t)base - 1 + j; /* border taps clamp to the edge */
      at = at < 0 ? 0 : at >= n_in ? n_in - 1 : at;
      w[i * n_in + at] += k[j];
    }
  }
}

/* max(P, ceil(size·scale / P)·P), as the processor computes it. */
static int64_t scaled_side(double scale, int64_t size, int64_t patch) {
  double s = ceil((double)size * scale / (double)patch) * (double)patch;
  return s < (double)patch ? patch : (int64_t)s;
}

void siglip2_naflex_size(int64_t height, int64_t width, int64_t patch, int64_t max_patches, int64_t *out_h,
                         int64_t *out_w) {
  const double eps = 1e-5;
  double lo = eps / 10.0, hi = 100.0;
  while (hi - lo >= eps) {
    double s = (lo + hi) / 2.0;
    int64_t th = scaled_side(s, height, patch), tw = scaled_side(s, width, patch);
    if ((th / patch) * (tw / patch) <= max_patches) lo = s;
    else hi = s;
  }
  *out_h = scaled_side(lo, height, patch);
  *out_w = scaled_side(lo, width, patch);
}

/* Rows b·N .. b·N+N-1 of the resize matrix for an h×w patch grid:
 * row i·w + j = Wh[i] ⊗ Ww[j] over the table's G×G cells; rows h·w .. N-1
 * repeat row 0 (the padding of B.4). m [N, G²], zeroed. */
static int fill_image_rows(const siglip2 *s, int64_t h, int64_t w, int64_t N, float *m) {
  int64_t G = s->cfg.grid, G2 = G * G;
  double *wh = malloc(sizeof(double) * (size_t)(h * G)), *ww = malloc(sizeof(double) * (size_t)(w * G));
  if (!wh || !ww) {
    free(wh), free(ww);
    return sb_error_set(SB_ERR_NOMEM, SIGLIP2_NAME ": out of memory");
  }
  void (*weights)(int64_t, int64_t, double *) = s->cfg.naflex ? siglip2_aa_bilinear_weights : siglip2_bicubic_weights;
  weights(G, h, wh), weights(G, w, ww);
  for (int64_t i = 0; i < h; i++)
    for (int64_t j = 0; j < w; j++) {
      float *row = m + (i * w + j) * G2;
      for (int64_t r = 0; r < G; r++)
        for (int64_t c = 0; c < G; c++) row[r * G + c] = (float)(wh[i * G + r] * ww[j * G + c]);
    }
  for (int64_t p = h * w; p < N; p++) memcpy(m + p * G2, m, sizeof(float) * (size_t)G2);
  free(wh), free(ww);
  return SB_OK;
}

sb_tensor *siglip2_position_embeddings(const siglip2 *s, const int64_t *shapes, int64_t B, int64_t N) {
  int64_t G2 = s->cfg.grid * s->cfg.grid, D = s->cfg.hidden;
  float *m = calloc((size_t)(B * N * G2), sizeof(float));
  if (!m) {
    sb_error_set(SB_ERR_NOMEM, SIGLIP2_NAME ": out of memory for the position resize matrix [%lld, %lld]",
                 (long long)(B * N), (long long)G2);
    return NULL;
  }
  int rc = SB_OK;
  for (int64_t b = 0; b < B && !rc; b++) rc = fill_image_rows(s, shapes[2 * b], shapes[2 * b + 1], N, m + b * N * G2);
  sb_tensor *mt = rc ? NULL : sb_tensor_from_host(SB_DTYPE_F32, 2, (int64_t[]){B * N, G2}, m);
  free(m);
  sb_tensor *y = sb_op_matmul(mt, s->pos, false, false); /* [B·N, D] */
  return sb_op_reshape(y, 3, (int64_t[]){B, N, D});
}
