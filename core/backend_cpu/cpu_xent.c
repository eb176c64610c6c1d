/* cpu_xent.c — cross-entropy over rows of logits with an ignore index,
 * one row at a time through a log-sum-exp (no softmax copy is kept); the
 * backward recomputes the probabilities from the saved log-sum-exp. Also
 * the blockwise form (kernels.h sb_kp_xent_block): an online log-sum-exp
 * over blocks of vocabulary columns, for logits never held whole. */
#include <math.h>

#include "cpu_backend.h"
#include "cpu_math.h"
#include "spatialboost/error.h"
#include "spatialboost/tensor.h"

static int64_t target_at(const void *t, int32_t dtype, int64_t r) {
  return dtype == SB_DTYPE_I32 ? ((const int32_t *)t)[r] : ((const int64_t *)t)[r];
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
    const float mx = sb_cpu_row_max(zr, p->V);
    float l = mx + (float)log(sb_cpu_exp_sum(zr, p->V, mx, false));
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

/* ---- blockwise (logits one block of columns at a time) ---- */

static bool counts(const sb_kp_xent_block *p, int64_t t) { return t != p->ignore_index && t >= 0 && t < p->V; }

SB_CPU_KERNEL(xent_block) {
  const sb_kp_xent_block *p = KP(call, sb_kp_xent_block);
  float *z = KB(call, 0, float), *m = KB(call, 1, float), *s = KB(call, 2, float), *zt = KB(call, 3, float),
        *acc = KB(call, 5, float);
  const void *tg = call->bufs[4].ptr;
#pragma omp parallel for schedule(dynamic, 1) if (p->N * p->Vb > 65536)
  for (int64_t r = 0; r < p->N; r++) {
    int64_t t = target_at(tg, p->target_dtype, r);
    float *zr = z + r * p->Vb;
    if (!counts(p, t)) {
      if (acc)
        for (int64_t j = 0; j < p->Vb; j++) zr[j] = 0.0f;
      continue;
    }
    if (t >= p->v0 && t < p->v0 + p->Vb) zt[r] = zr[t - p->v0];
    const float mo = m[r], bm = sb_cpu_row_max(zr, p->Vb), mn = bm > mo ? bm : mo;
    const double scale = exp((double)mo - (double)mn); /* 0 for the first block (mo = -inf) */
    if (acc) {
      float *ar = acc + r * p->D;
      if (scale != 1.0)
        for (int64_t d = 0; d < p->D; d++) ar[d] *= (float)scale;
      s[r] = (float)(s[r] * scale + sb_cpu_exp_sum(zr, p->Vb, mn, true));
    } else {
      s[r] = (float)(s[r] * scale + sb_cpu_exp_sum(zr, p->Vb, mn, false));
    }
    m[r] = mn;
  }
  return SB_OK;
}

SB_CPU_KERNEL(xent_finish) {
  const sb_kp_xent_block *p = KP(call, sb_kp_xent_block);
  float *loss = KB(call, 0, float), *lse = KB(call, 1, float), *acc = KB(call, 6, float);
  const float *m = KB(call, 2, const float), *s = KB(call, 3, const float), *zt = KB(call, 4, const float),
              *w = KB(call, 7, const float);
  const void *tg = call->bufs[5].ptr;
  for (int64_t r = 0; r < p->N; r++) {
    int64_t t = target_at(tg, p->target_dtype, r);
    float *ar = acc ? acc + r * p->D : NULL;
    if (!counts(p, t)) {
      loss[r] = lse[r] = 0.0f;
      for (int64_t d = 0; ar && d < p->D; d++) ar[d] = 0.0f;
      continue;
    }
    lse[r] = m[r] + (float)log((double)s[r]);
    loss[r] = lse[r] - zt[r];
    if (!ar || !w) continue;
    const float inv = (float)(1.0 / (double)s[r]), *wt = w + t * p->D;
    for (int64_t d = 0; d < p->D; d++) ar[d] = ar[d] * inv - wt[d];
  }
  return SB_OK;
}

SB_CPU_KERNEL(xent_block_backward) {
  const sb_kp_xent_block *p = KP(call, sb_kp_xent_block);
  float *z = KB(call, 0, float);
  const float *lse = KB(call, 1, const float), *grow = KB(call, 3, const float);
  const void *tg = call->bufs[2].ptr;
#pragma omp parallel for schedule(dynamic, 1) if (p->N * p->Vb > 65536)
  for (int64_t r = 0; r < p->N; r++) {
    int64_t t = target_at(tg, p->target_dtype, r);
    float *zr = z + r * p->Vb;
    if (!counts(p, t)) {
      for (int64_t j = 0; j < p->Vb; j++) zr[j] = 0.0f;
      continue;
    }
    const float l = lse[r], g = grow[r];
    for (int64_t j = 0; j < p->Vb; j++) zr[j] = sb_cpu_expf(zr[j] - l) * g;
    if (t >= p->v0 && t < p->v0 + p->Vb) zr[t - p->v0] -= g;
  }
  return SB_OK;
}
