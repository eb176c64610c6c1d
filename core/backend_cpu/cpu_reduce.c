/* cpu_reduce.c — sums over any set of dims (sum, mean, and the reduction of
 * broadcast gradients). Accumulates in double. */
#include <stdlib.h>
#include <string.h>

#include "cpu_backend.h"

/* Merges neighbouring dims that are both reduced or both kept. */
static int canonical(const sb_kp_reduce *p, int64_t *shape, bool *red) {
  int n = 0;
  for (int i = 0; i < p->ndim; i++) {
    bool r = (p->reduce_mask >> i) & 1u;
    if (p->shape[i] == 1) continue;
    if (n > 0 && red[n - 1] == r) {
      shape[n - 1] *= p->shape[i];
    } else {
      shape[n] = p->shape[i], red[n] = r, n++;
    }
  }
  return n;
}

static inline void store(float *out, int64_t i, double v, const sb_kp_reduce *p) {
  float r = (float)(v * p->scale);
  out[i] = p->accumulate ? out[i] + r : r;
}

SB_CPU_KERNEL(reduce) {
  const sb_kp_reduce *p = KP(call, sb_kp_reduce);
  float *out = KB(call, 0, float);
  const float *in = KB(call, 1, const float);
  int64_t shape[SB_KMAX_DIMS];
  bool red[SB_KMAX_DIMS];
  int n = canonical(p, shape, red);
  int64_t total = 1;
  for (int i = 0; i < p->ndim; i++) total *= p->shape[i];
  int64_t n_out = 1;
  for (int i = 0; i < n; i++)
    if (!red[i]) n_out *= shape[i];
  if (total == 0) { /* sums over nothing are 0 */
    for (int64_t i = 0; i < n_out; i++) store(out, i, 0.0, p);
    return SB_OK;
  }
  if (n == 0 || (n == 1 && !red[0])) { /* nothing to reduce */
    for (int64_t i = 0; i < n_out; i++) store(out, i, in[i], p);
    return SB_OK;
  }
  if (n == 1 || (n == 2 && !red[0])) { /* [R] or [K, R]: contiguous row sums */
    int64_t rows = n == 1 ? 1 : shape[0], len = shape[n - 1];
#pragma omp parallel for schedule(static) if (total > 32768)
    for (int64_t r = 0; r < rows; r++) {
      double acc = 0.0;
      const float *x = in + r * len;
      for (int64_t j = 0; j < len; j++) acc += x[j];
      store(out, r, acc, p);
    }
    return SB_OK;
  }
  if (n == 2 && red[0]) { /* [R, K]: column sums, threads own column blocks */
    int64_t rows = shape[0], cols = shape[1];
    const int64_t block = 256;
#pragma omp parallel for schedule(static) if (total > 32768)
    for (int64_t c0 = 0; c0 < cols; c0 += block) {
      int64_t c1 = c0 + block < cols ? c0 + block : cols;
      double acc[256];
      for (int64_t c = c0; c < c1; c++) acc[c - c0] = 0.0;
      for (int64_t r = 0; r < rows; r++) {
        const float *x = in + r * cols;
        for (int64_t c = c0; c < c1; c++) acc[c - c0] += x[c];
      }
      for (int64_t c = c0; c < c1; c++) store(out, c, acc[c - c0], p);
    }
    return SB_OK;
  }
  /* General: for each output, walk the reduced index space. */
  int64_t stride[SB_KMAX_DIMS], s = 1;
  for (int i = n - 1; i >= 0; i--) stride[i] = s, s *= shape[i];
  int64_t n_red = total / n_out;
#pragma omp parallel for schedule(static) if (total > 32768)
  for (int64_t o = 0; o < n_out; o++) {
    int64_t base = 0, rem = o;
    for (int i = n - 1; i >= 0; i--) {
      if (red[i]) continue;
      base += (rem % shape[i]) * stride[i];
      rem /= shape[i];
    }
    double acc = 0.0;
    for (int64_t q = 0; q < n_red; q++) {
      int64_t off = base, rq = q;
      for (int i = n - 1; i >= 0; i--) {
        if (!red[i]) continue;
        off += (rq % shape[i]) * stride[i];
        rq /= shape[i];
      }
      acc += in[off];
    }
    store(out, o, acc, p);
  }
  return SB_OK;
}
