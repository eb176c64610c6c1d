/* cpu_elementwise.c — elementwise cpu kernels: broadcasting binary ops,
 * activation functions and their derivatives, the fused SwiGLU product and
 * the dual-channel mix. */
#include <math.h>

#include "cpu_backend.h"
#include "spatialboost/ops.h"

#define PAR_THRESHOLD 32768

static inline float binary_apply(int op, float a, float b) {
  switch (op) {
  case SB_BINARY_ADD: return a + b;
  case SB_BINARY_SUB: return a - b;
  case SB_BINARY_MUL: return a * b;
  default: return a / b;
  }
}

SB_CPU_KERNEL(binary) {
  const sb_kp_binary *p = KP(call, sb_kp_binary);
  float *out = KB(call, 0, float);
  const float *a = KB(call, 1, const float), *b = KB(call, 2, const float);
  const int nd = p->ndim, op = p->op;
  int64_t n = 1;
  for (int i = 0; i < nd; i++) n *= p->shape[i];
  if (n == 0) return SB_OK;
  /* Rows over the last dim; the outer index walks the other dims. */
  int64_t inner = nd ? p->shape[nd - 1] : 1, outer = n / inner;
  int64_t as = nd ? p->a_strides[nd - 1] : 0, bs = nd ? p->b_strides[nd - 1] : 0;
#pragma omp parallel for schedule(static) if (n > PAR_THRESHOLD)
  for (int64_t o = 0; o < outer; o++) {
    int64_t rem = o, ao = 0, bo = 0;
    for (int i = nd - 2; i >= 0; i--) {
      int64_t idx = rem % p->shape[i];
      rem /= p->shape[i];
      ao += idx * p->a_strides[i], bo += idx * p->b_strides[i];
    }
    float *y = out + o * inner;
    const float *x = a + ao, *z = b + bo;
    if (as == 1 && bs == 1) {
      switch (op) {
      case SB_BINARY_ADD: for (int64_t j = 0; j < inner; j++) y[j] = x[j] + z[j]; break;
      case SB_BINARY_SUB: for (int64_t j = 0; j < inner; j++) y[j] = x[j] - z[j]; break;
      case SB_BINARY_MUL: for (int64_t j = 0; j < inner; j++) y[j] = x[j] * z[j]; break;
      default: for (int64_t j = 0; j < inner; j++) y[j] = x[j] / z[j]; break;
      }
    } else {
      for (int64_t j = 0; j < inner; j++) y[j] = binary_apply(op, x[j * as], z[j * bs]);
    }
  }
  return SB_OK;
}

static const float k_sqrt_2_over_pi = 0.7978845608028654f;
static const float k_gelu_c = 0.044715f;

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

static inline float unary_apply(int op, float x, float alpha, float beta) {
  switch (op) {
  case SB_UNARY_AFFINE: return alpha * x + beta;
  case SB_UNARY_GELU: return 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2));
  case SB_UNARY_GELU_TANH:
    return 0.5f * x * (1.0f + tanhf(k_sqrt_2_over_pi * (x + k_gelu_c * x * x * x)));
  case SB_UNARY_SILU: return x * sigmoidf(x);
  case SB_UNARY_SIGMOID: return sigmoidf(x);
  case SB_UNARY_TANH: return tanhf(x);
  case SB_UNARY_RELU: return x > 0 ? x : 0;
  case SB_UNARY_EXP: return expf(x);
  default: return x * x; /* SQUARE */
  }
}

/* d f(x) / dx */
static inline float unary_derivative(int op, float x, float alpha) {
  switch (op) {
  case SB_UNARY_AFFINE: return alpha;
  case SB_UNARY_GELU: {
    float cdf = 0.5f * (1.0f + erff(x * (float)M_SQRT1_2));
    float pdf = expf(-0.5f * x * x) * 0.3989422804014327f;
    return cdf + x * pdf;
  }
  case SB_UNARY_GELU_TANH: {
    float u = k_sqrt_2_over_pi * (x + k_gelu_c * x * x * x), t = tanhf(u);
    return 0.5f * (1.0f + t) +
           0.5f * x * (1.0f - t * t) * k_sqrt_2_over_pi * (1.0f + 3.0f * k_gelu_c * x * x);
  }
  case SB_UNARY_SILU: {
    float s = sigmoidf(x);
    return s * (1.0f + x * (1.0f - s));
  }
  case SB_UNARY_SIGMOID: {
    float s = sigmoidf(x);
    return s * (1.0f - s);
  }
  case SB_UNARY_TANH: {
    float t = tanhf(x);
    return 1.0f - t * t;
  }
  case SB_UNARY_RELU: return x > 0 ? 1.0f : 0.0f;
  case SB_UNARY_EXP: return expf(x);
  default: return 2.0f * x; /* SQUARE */
  }
}

SB_CPU_KERNEL(unary) {
  const sb_kp_unary *p = KP(call, sb_kp_unary);
  float *y = KB(call, 0, float);
  const float *x = KB(call, 1, const float);
  const int op = p->op;
  const float alpha = p->alpha, beta = p->beta;
#pragma omp parallel for schedule(static) if (p->n > PAR_THRESHOLD)
  for (int64_t i = 0; i < p->n; i++) y[i] = unary_apply(op, x[i], alpha, beta);
  return SB_OK;
}

SB_CPU_KERNEL(unary_backward) {
  const sb_kp_unary *p = KP(call, sb_kp_unary);
  float *gx = KB(call, 0, float);
  const float *x = KB(call, 1, const float), *gy = KB(call, 2, const float);
  const int op = p->op;
  const float alpha = p->alpha;
#pragma omp parallel for schedule(static) if (p->n > PAR_THRESHOLD)
  for (int64_t i = 0; i < p->n; i++) gx[i] = gy[i] * unary_derivative(op, x[i], alpha);
  return SB_OK;
}

SB_CPU_KERNEL(swiglu) {
  const sb_kp_rows *p = KP(call, sb_kp_rows);
  float *y = KB(call, 0, float);
  const float *g = KB(call, 1, const float), *u = KB(call, 2, const float);
  int64_t n = p->rows * p->n;
#pragma omp parallel for schedule(static) if (n > PAR_THRESHOLD)
  for (int64_t i = 0; i < n; i++) y[i] = g[i] * sigmoidf(g[i]) * u[i];
  return SB_OK;
}

SB_CPU_KERNEL(swiglu_backward) {
  const sb_kp_rows *p = KP(call, sb_kp_rows);
  float *gg = KB(call, 0, float), *gu = KB(call, 1, float);
  const float *gy = KB(call, 2, const float), *g = KB(call, 3, const float),
              *u = KB(call, 4, const float);
  int64_t n = p->rows * p->n;
#pragma omp parallel for schedule(static) if (n > PAR_THRESHOLD)
  for (int64_t i = 0; i < n; i++) {
    float s = sigmoidf(g[i]);
    if (gg) gg[i] = gy[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
    if (gu) gu[i] = gy[i] * g[i] * s;
  }
  return SB_OK;
}

/* The mix weight of a (wa) and of b (wb) for one alpha, and their
 * derivatives with respect to alpha. */
static inline void mix_weights(int mode, float alpha, float *wa, float *wb, float *dwa, float *dwb) {
  if (mode == SB_MIX_SIGMOID) {
    float s = sigmoidf(alpha);
    *wa = s, *wb = 1.0f - s, *dwa = s * (1.0f - s), *dwb = -s * (1.0f - s);
  } else { /* SB_MIX_TANH_GATE */
    float t = tanhf(alpha);
    *wa = 1.0f, *wb = t, *dwa = 0.0f, *dwb = 1.0f - t * t;
  }
}

SB_CPU_KERNEL(mix) {
  const sb_kp_mix *p = KP(call, sb_kp_mix);
  float *y = KB(call, 0, float);
  const float *a = KB(call, 1, const float), *b = KB(call, 2, const float),
              *al = KB(call, 3, const float);
  const int64_t d = p->d;
#pragma omp parallel for schedule(static) if (p->rows * d > PAR_THRESHOLD)
  for (int64_t r = 0; r < p->rows; r++) {
    for (int64_t j = 0; j < d; j++) {
      float wa, wb, dwa, dwb;
      mix_weights(p->mode, al[j], &wa, &wb, &dwa, &dwb);
      y[r * d + j] = wa * a[r * d + j] + wb * b[r * d + j];
    }
  }
  return SB_OK;
}

SB_CPU_KERNEL(mix_backward) {
  const sb_kp_mix *p = KP(call, sb_kp_mix);
  float *ga = KB(call, 0, float), *gb = KB(call, 1, float), *gal = KB(call, 2, float);
  const float *gy = KB(call, 3, const float), *a = KB(call, 4, const float),
              *b = KB(call, 5, const float), *al = KB(call, 6, const float);
  const int64_t d = p->d, rows = p->rows;
  /* Parallel over channels: each thread owns whole columns, so the alpha
   * gradient needs no reduction across threads. */
#pragma omp parallel for schedule(static) if (rows * d > PAR_THRESHOLD)
  for (int64_t j = 0; j < d; j++) {
    float wa, wb, dwa, dwb;
    mix_weights(p->mode, al[j], &wa, &wb, &dwa, &dwb);
    double acc = 0.0;
    for (int64_t r = 0; r < rows; r++) {
      int64_t i = r * d + j;
      if (ga) ga[i] = gy[i] * wa;
      if (gb) gb[i] = gy[i] * wb;
      acc += (double)gy[i] * (dwa * a[i] + dwb * b[i]);
    }
    if (gal) gal[j] = (float)acc;
  }
  return SB_OK;
}
