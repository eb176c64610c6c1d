/* cpu_index.c — row gathers (index_select, embedding lookup) and their
 * scatter-add backward, and the patchify im2col of a stride = kernel
 * convolution with its inverse. */
#include <string.h>

#include "cpu_backend.h"
#include "spatialboost/error.h"
#include "spatialboost/tensor.h"

static int64_t index_at(const void *idx, int32_t dtype, int64_t i) {
  return dtype == SB_DTYPE_I32 ? ((const int32_t *)idx)[i] : ((const int64_t *)idx)[i];
}

static int check_indices(const sb_kp_gather *p, const void *idx, const char *op) {
  for (int64_t i = 0; i < p->n_index; i++) {
    int64_t v = index_at(idx, p->index_dtype, i);
    if (v < 0 || v >= p->n_src)
      return sb_error_set(SB_ERR_SHAPE, "%s: index %lld at position %lld is outside [0, %lld)", op,
                          (long long)v, (long long)i, (long long)p->n_src);
  }
  return SB_OK;
}

SB_CPU_KERNEL(gather) {
  const sb_kp_gather *p = KP(call, sb_kp_gather);
  float *out = KB(call, 0, float);
  const float *src = KB(call, 1, const float);
  const void *idx = call->bufs[2].ptr;
  if (check_indices(p, idx, "gather")) return SB_ERR_SHAPE;
  const int64_t inner = p->inner;
#pragma omp parallel for schedule(static) if (p->outer * p->n_index * inner > 65536)
  for (int64_t oi = 0; oi < p->outer * p->n_index; oi++) {
    int64_t o = oi / p->n_index, i = oi % p->n_index;
    int64_t s = index_at(idx, p->index_dtype, i);
    memcpy(out + oi * inner, src + (o * p->n_src + s) * inner, sizeof(float) * (size_t)inner);
  }
  return SB_OK;
}

SB_CPU_KERNEL(scatter_add) {
  const sb_kp_gather *p = KP(call, sb_kp_gather);
  float *gsrc = KB(call, 0, float);
  const float *gout = KB(call, 1, const float);
  const void *idx = call->bufs[2].ptr;
  if (check_indices(p, idx, "scatter_add")) return SB_ERR_SHAPE;
  const int64_t inner = p->inner;
  /* Duplicated indices add into one row: parallel over the inner dim (and
   * outer), serial over indices, so no two threads touch one element. */
#pragma omp parallel for collapse(2) schedule(static) if (p->outer * inner > 4096)
  for (int64_t o = 0; o < p->outer; o++) {
    for (int64_t c = 0; c < inner; c++) {
      for (int64_t i = 0; i < p->n_index; i++) {
        int64_t s = index_at(idx, p->index_dtype, i);
        if (s == p->skip_index) continue;
        gsrc[(o * p->n_src + s) * inner + c] += gout[(o * p->n_index + i) * inner + c];
      }
    }
  }
  return SB_OK;
}

/* out[b, gy·Wp + gx, (c·P + ky)·P + kx] = x[b, c, gy·P + ky, gx·P + kx] */
SB_CPU_KERNEL(patchify) {
  const sb_kp_patch *p = KP(call, sb_kp_patch);
  float *out = KB(call, 0, float);
  const float *x = KB(call, 1, const float);
  const int64_t P = p->P, Hp = p->H / P, Wp = p->W / P, K = p->C * P * P;
#pragma omp parallel for schedule(static) if (p->B * Hp * Wp * K > 65536)
  for (int64_t bp = 0; bp < p->B * Hp * Wp; bp++) {
    int64_t b = bp / (Hp * Wp), gy = (bp / Wp) % Hp, gx = bp % Wp;
    float *o = out + bp * K;
    for (int64_t c = 0; c < p->C; c++)
      for (int64_t ky = 0; ky < P; ky++)
        memcpy(o + (c * P + ky) * P, x + ((b * p->C + c) * p->H + gy * P + ky) * p->W + gx * P,
               sizeof(float) * (size_t)P);
  }
  return SB_OK;
}

SB_CPU_KERNEL(unpatchify) {
  const sb_kp_patch *p = KP(call, sb_kp_patch);
  float *gx = KB(call, 0, float);
  const float *g = KB(call, 1, const float);
  const int64_t P = p->P, Hp = p->H / P, Wp = p->W / P, K = p->C * P * P;
  memset(gx, 0, sizeof(float) * (size_t)(p->B * p->C * p->H * p->W)); /* dropped pixels get 0 */
#pragma omp parallel for schedule(static) if (p->B * Hp * Wp * K > 65536)
  for (int64_t bp = 0; bp < p->B * Hp * Wp; bp++) {
    int64_t b = bp / (Hp * Wp), gy = (bp / Wp) % Hp, gxx = bp % Wp;
    const float *o = g + bp * K;
    for (int64_t c = 0; c < p->C; c++)
      for (int64_t ky = 0; ky < P; ky++)
        memcpy(gx + ((b * p->C + c) * p->H + gy * P + ky) * p->W + gxx * P, o + (c * P + ky) * P,
               sizeof(float) * (size_t)P);
  }
  return SB_OK;
}
