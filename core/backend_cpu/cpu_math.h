/* cpu_math.h — an exponential the compiler can vectorise, and the sum of
 * exponentials over a row, for the kernels whose time is exp over long rows
 * (cross-entropy over a 151,936-word vocabulary: glibc's scalar expf made it
 * slower than the output layer's matrix product; attention's softmax). */
#ifndef SB_CORE_CPU_MATH_H
#define SB_CORE_CPU_MATH_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* e^x in float: x = n·ln2 + r with |r| <= ln2/2, e^r by Cephes' degree-7
 * polynomial, 2^n through the exponent bits. Relative error below 1.5e-7
 * (about 1 ulp; tests/unit/test_cpu_math.c checks it against exp() over
 * the whole range). e^x for x < -87.33 (where float turns subnormal) is 0,
 * as is e^-inf; above 88 it saturates at e^88 (softmax and cross-entropy
 * only take arguments <= 0). NaN stays NaN. Branch-free, so loops over it
 * vectorise at -O2/-O3 without -ffast-math. */
static inline float sb_cpu_expf(float x) {
  const float lo = -87.3365478515625f, hi = 88.0f;
  float xc = x > hi ? hi : x;
  xc = xc < lo ? lo : xc;
  /* n = round(x / ln2): adding and taking away 1.5·2^23 rounds to an integer */
  const float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = xc - n * 0.693359375f; /* ln2 in two parts: exact product, then the rest */
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = ((int32_t)n + 127) << 23; /* n in [-126, 127]: a normal 2^n */
  float two_n;
  memcpy(&two_n, &bits, sizeof two_n);
  const float y = p * two_n;
  return x < lo ? 0.0f : y;
}

/* Loops over long rows keep SB_CPU_LANES independent partial results: the
 * compiler vectorises them without reassociating floating point (no
 * -ffast-math). */
#define SB_CPU_LANES 16

/* max over z[0..n) (-inf when n is 0) */
static inline float sb_cpu_row_max(const float *z, int64_t n) {
  float m[SB_CPU_LANES];
  for (int k = 0; k < SB_CPU_LANES; k++) m[k] = -INFINITY;
  int64_t j = 0;
  for (; j + SB_CPU_LANES <= n; j += SB_CPU_LANES)
    for (int k = 0; k < SB_CPU_LANES; k++) m[k] = z[j + k] > m[k] ? z[j + k] : m[k];
  for (; j < n; j++) m[0] = z[j] > m[0] ? z[j] : m[0];
  float mx = m[0];
  for (int k = 1; k < SB_CPU_LANES; k++) mx = m[k] > mx ? m[k] : mx;
  return mx;
}

/* Σ exp(z[j] - mx) for mx >= max z: SB_CPU_SB_CPU_LANES float partial sums (so the
 * loop vectorises without reassociating) over blocks of 4096, added in
 * double (every term is <= 1, so a block's float sum keeps ~7 digits). With store,
 * each term also replaces z[j] (z is written only then). Inlined with a
 * constant store, so each caller gets its own loop. */
static inline double sb_cpu_exp_sum(const float *z, int64_t n, float mx, bool store) {
  float *zw = (float *)z;
  double s = 0.0;
  for (int64_t b = 0; b < n; b += 4096) {
    const int64_t e = b + 4096 < n ? b + 4096 : n;
    float acc[SB_CPU_LANES] = {0};
    int64_t j = b;
    for (; j + SB_CPU_LANES <= e; j += SB_CPU_LANES)
      for (int k = 0; k < SB_CPU_LANES; k++) {
        const float t = sb_cpu_expf(z[j + k] - mx);
        if (store) zw[j + k] = t;
        acc[k] += t;
      }
    for (; j < e; j++) {
      const float t = sb_cpu_expf(z[j] - mx);
      if (store) zw[j] = t;
      acc[0] += t;
    }
    for (int k = 0; k < SB_CPU_LANES; k++) s += acc[k];
  }
  return s;
}

#endif
