/* cpu_norm.c — row-wise cpu kernels over the last dim: layer norm, RMS norm
 * and softmax, forward and backward. Statistics accumulate in double;
 * weight/bias gradients are summed per thread, then across threads. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_backend.h"
#include "spatialboost/error.h"

SB_CPU_KERNEL(layer_norm) {
  const sb_kp_norm *p = KP(call, sb_kp_norm);
  float *y = KB(call, 0, float), *mean = KB(call, 1, float), *rstd = KB(call, 2, float);
  const float *x = KB(call, 3, const float), *w = KB(call, 4, const float),
              *b = KB(call, 5, const float);
  const int64_t d = p->d;
#pragma omp parallel for schedule(static) if (p->rows * d > 16384)
  for (int64_t r = 0; r < p->rows; r++) {
    const float *xr = x + r * d;
    double s = 0.0;
    for (int64_t j = 0; j < d; j++) s += xr[j];
    double mu = s / (double)d, v = 0.0;
    for (int64_t j = 0; j < d; j++) v += ((double)xr[j] - mu) * ((double)xr[j] - mu);
    float m = (float)mu, rs = (float)(1.0 / sqrt(v / (double)d + p->eps));
    mean[r] = m, rstd[r] = rs;
    float *yr = y + r * d;
    for (int64_t j = 0; j < d; j++) {
      float h = (xr[j] - m) * rs;
      yr[j] = h * (w ? w[j] : 1.0f) + (b ? b[j] : 0.0f);
    }
  }
  return SB_OK;
}

/* Per-thread partial sums for parameter gradients: n_parts rows of d. */
static double *partials_new(int n_parts, int64_t d) {
  double *buf = calloc((size_t)n_parts * (size_t)d, sizeof(double));
  if (!buf) sb_error_set(SB_ERR_NOMEM, "norm backward: out of memory");
  return buf;
}

static void partials_sum(const double *buf, int n_parts, int64_t d, float *out) {
  for (int64_t j = 0; j < d; j++) {
    double s = 0.0;
    for (int t = 0; t < n_parts; t++) s += buf[(size_t)t * (size_t)d + (size_t)j];
    out[j] = (float)s;
  }
}

SB_CPU_KERNEL(layer_norm_backward) {
  const sb_kp_norm *p = KP(call, sb_kp_norm);
  float *gx = KB(call, 0, float), *gw = KB(call, 1, float), *gb = KB(call, 2, float);
  const float *gy = KB(call, 3, const float), *x = KB(call, 4, const float),
              *w = KB(call, 5, const float), *mean = KB(call, 6, const float),
              *rstd = KB(call, 7, const float);
  const int64_t d = p->d;
  int n_parts = omp_get_max_threads();
  double *pw = gw ? partials_new(n_parts, d) : NULL, *pb = gb ? partials_new(n_parts, d) : NULL;
  if ((gw && !pw) || (gb && !pb)) {
    free(pw), free(pb);
    return SB_ERR_NOMEM;
  }
#pragma omp parallel if (p->rows * d > 16384)
  {
    int t = omp_get_thread_num();
    double *tw = pw ? pw + (size_t)t * (size_t)d : NULL, *tb = pb ? pb + (size_t)t * (size_t)d : NULL;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < p->rows; r++) {
      const float *xr = x + r * d, *gr = gy + r * d;
      const float m = mean[r], rs = rstd[r];
      double sg = 0.0, sgx = 0.0;
      for (int64_t j = 0; j < d; j++) {
        float h = (xr[j] - m) * rs, g = gr[j] * (w ? w[j] : 1.0f);
        sg += g, sgx += (double)g * h;
        if (tw) tw[j] += (double)gr[j] * h;
        if (tb) tb[j] += gr[j];
      }
      if (gx) {
        float mg = (float)(sg / (double)d), mgx = (float)(sgx / (double)d);
        float *out = gx + r * d;
        for (int64_t j = 0; j < d; j++) {
          float h = (xr[j] - m) * rs, g = gr[j] * (w ? w[j] : 1.0f);
          out[j] = rs * (g - mg - h * mgx);
        }
      }
    }
  }
  if (gw) partials_sum(pw, n_parts, d, gw);
  if (gb) partials_sum(pb, n_parts, d, gb);
  free(pw), free(pb);
  return SB_OK;
}

SB_CPU_KERNEL(rms_norm) {
  const sb_kp_norm *p = KP(call, sb_kp_norm);
  float *y = KB(call, 0, float), *rstd = KB(call, 1, float);
  const float *x = KB(call, 2, const float), *w = KB(call, 3, const float);
  const int64_t d = p->d;
#pragma omp parallel for schedule(static) if (p->rows * d > 16384)
  for (int64_t r = 0; r < p->rows; r++) {
    const float *xr = x + r * d;
    double s = 0.0;
    for (int64_t j = 0; j < d; j++) s += (double)xr[j] * xr[j];
    float rs = (float)(1.0 / sqrt(s / (double)d + p->eps));
    rstd[r] = rs;
    float *yr = y + r * d;
    for (int64_t j = 0; j < d; j++) yr[j] = (xr[j] * rs) * (w ? w[j] : 1.0f);
  }
  return SB_OK;
}

SB_CPU_KERNEL(rms_norm_backward) {
  const sb_kp_norm *p = KP(call, sb_kp_norm);
  float *gx = KB(call, 0, float), *gw = KB(call, 1, float);
  const float *gy = KB(call, 2, const float), *x = KB(call, 3, const float),
              *w = KB(call, 4, const float), *rstd = KB(call, 5, const float);
  const int64_t d = p->d;
  int n_parts = omp_get_max_threads();
  double *pw = gw ? partials_new(n_parts, d) : NULL;
  if (gw && !pw) return SB_ERR_NOMEM;
#pragma omp parallel if (p->rows * d > 16384)
  {
    int t = omp_get_thread_num();
    double *tw = pw ? pw + (size_t)t * (size_t)d : NULL;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < p->rows; r++) {
      const float *xr = x + r * d, *gr = gy + r * d;
      const float rs = rstd[r];
      double sgn = 0.0;
      for (int64_t j = 0; j < d; j++) {
        float nrm = xr[j] * rs, g = gr[j] * (w ? w[j] : 1.0f);
        sgn += (double)g * nrm;
        if (tw) tw[j] += (double)gr[j] * nrm;
      }
      if (gx) {
        float m = (float)(sgn / (double)d);
        float *out = gx + r * d;
        for (int64_t j = 0; j < d; j++) {
          float nrm = xr[j] * rs, g = gr[j] * (w ? w[j] : 1.0f);
          out[j] = rs * (g - nrm * m);
        }
      }
    }
  }
  if (gw) partials_sum(pw, n_parts, d, gw);
  free(pw);
  return SB_OK;
}

SB_CPU_KERNEL(softmax) {
  const sb_kp_rows *p = KP(call, sb_kp_rows);
  float *y = KB(call, 0, float);
  const float *x = KB(call, 1, const float);
  const int64_t n = p->n;
#pragma omp parallel for schedule(static) if (p->rows * n > 16384)
  for (int64_t r = 0; r < p->rows; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    float mx = -INFINITY;
    for (int64_t j = 0; j < n; j++) mx = xr[j] > mx ? xr[j] : mx;
    if (mx == -INFINITY) { /* nothing to attend: all zeros */
      for (int64_t j = 0; j < n; j++) yr[j] = 0.0f;
      continue;
    }
    double s = 0.0;
    for (int64_t j = 0; j < n; j++) {
      yr[j] = expf(xr[j] - mx);
      s += yr[j];
    }
    float inv = (float)(1.0 / s);
    for (int64_t j = 0; j < n; j++) yr[j] *= inv;
  }
  return SB_OK;
}

SB_CPU_KERNEL(softmax_backward) {
  const sb_kp_rows *p = KP(call, sb_kp_rows);
  float *gx = KB(call, 0, float);
  const float *y = KB(call, 1, const float), *gy = KB(call, 2, const float);
  const int64_t n = p->n;
#pragma omp parallel for schedule(static) if (p->rows * n > 16384)
  for (int64_t r = 0; r < p->rows; r++) {
    const float *yr = y + r * n, *gr = gy + r * n;
    double dot = 0.0;
    for (int64_t j = 0; j < n; j++) dot += (double)gr[j] * yr[j];
    float fd = (float)dot;
    for (int64_t j = 0; j < n; j++) gx[r * n + j] = yr[j] * (gr[j] - fd);
  }
  return SB_OK;
}
