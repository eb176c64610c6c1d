/* cpu_xent.c — cross-entropy over rows of logits with an ignore index,
 * one row at a time through a log-sum-exp (no softmax copy is kept); the
 * backward recomputes the probabilities from the saved log-sum-exp. */
#include <math.h>

#include "cpu_backend.h"
#include "cpu_math.h"
#include "spatialboost/error.h"
#include "spatialboost/tensor.h"

static int64_t target_at(const void *t, int32_t dtype, int64_t r) {
  return dtype == SB_DTYPE_I32 ? ((const int32_t *)t)[r] : ((const int64_t *)t)[r];
}

/* Rows are long (a vocabulary), so the loops below keep LANES independent
 * partial results: the compiler vectorises them without reassociating
 * floating point (no -ffast-math). */
#define LANES 16

/* max over z[0..n) */
static float row_max(const float *z, int64_t n) {
  float m[LANES];
  for (int k = 0; k < LANES; k++) m[k] = -INFINITY;
  int64_t j = 0;
  for (; j + LANES <= n; j += LANES)
    for (int k = 0; k < LANES; k++) m[k] = z[j + k] > m[k] ? z[j + k] : m[k];
  for (; j < n; j++) m[0] = z[j] > m[0] ? z[j] : m[0];
  float mx = m[0];
  for (int k = 1; k < LANES; k++) mx = m[k] > mx ? m[k] : mx;
  return mx;
}

/* Σ exp(z[j] - mx): float partial sums over blocks of 4096, added in double
 * (every term is <= 1, so a block's float sum keeps ~7 digits). */
static double row_sum_exp(const float *z, int64_t n, float mx) {
  double s = 0.0;
  for (int64_t b = 0; b < n; b += 4096) {
    const int64_t e = b + 4096 < n ? b + 4096 : n;
    float acc[LANES] = {0};
    int64_t j = b;
    for (; j + LANES <= e; j += LANES)
      for (int k = 0; k < LANES; k++) acc[k] += sb_cpu_expf(z[j + k] - mx);
    for (; j < e; j++) acc[0] += sb_cpu_expf(z[j] - mx);
    for (int k = 0; k < LANES; k++) s += acc[k];
  }
  return s;
}

SB_CPU_KERNEL(cross_entropy) {
  const sb_kp_xent *p = KP(call, sb_kp_xent);
  float *loss = KB(call, 0, float), *lse = KB(call, 1, float);
  const float *z = KB(call, 2, const float);
  const void *tg = call->bufs[3].ptr;
  int64_t bad_row = -1, bad_target = 0;
#pragma omp parallel for schedule(dynamic, 1) if (p->N * p->V > 65536)
  for (int64_t r = 0; r < p->N; r++) {
    int64_t t = target_at(tg, p->target_dtype, r);
    if (t == p->ignore_index) {
      loss[r] = 0.0f, lse[r] = 0.0f;
      continue;
    }
    if (t < 0 || t >= p->V) {
#pragma omp critical
      bad_row = r, bad_target = t;
      loss[r] = 0.0f, lse[r] = 0.0f;
      continue;
    }
    const float *zr = z + r * p->V;
    const float mx = row_max(zr, p->V);
    float l = mx + (float)log(row_sum_exp(zr, p->V, mx));
    lse[r] = l;
    loss[r] = l - zr[t];
  }
  if (bad_row >= 0)
    return sb_error_set(SB_ERR_SHAPE, "cross_entropy: target %lld in row %lld is outside [0, %lld)",
                        (long long)bad_target, (long long)bad_row, (long long)p->V);
  return SB_OK;
}

SB_CPU_KERNEL(cross_entropy_backward) {
  const sb_kp_xent *p = KP(call, sb_kp_xent);
  float *gz = KB(call, 0, float);
  const float *z = KB(call, 1, const float), *lse = KB(call, 2, const float),
              *grow = KB(call, 4, const float);
  const void *tg = call->bufs[3].ptr;
#pragma omp parallel for schedule(dynamic, 1) if (p->N * p->V > 65536)
  for (int64_t r = 0; r < p->N; r++) {
    int64_t t = target_at(tg, p->target_dtype, r);
    float *gr = gz + r * p->V;
    if (t == p->ignore_index || t < 0 || t >= p->V) {
      for (int64_t j = 0; j < p->V; j++) gr[j] = 0.0f;
      continue;
    }
    const float *zr = z + r * p->V;
    float l = lse[r], g = grow[r];
    for (int64_t j = 0; j < p->V; j++) gr[j] = sb_cpu_expf(zr[j] - l) * g;
    gr[t] -= g;
  }
  return SB_OK;
}
