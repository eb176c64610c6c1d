/* cpu_rope.c — rotary position embedding, half-split ("rotate_half")
 * convention, and its transpose for the backward pass. */
#include "cpu_backend.h"

SB_CPU_KERNEL(rope) {
  const sb_kp_rope *p = KP(call, sb_kp_rope);
  float *y = KB(call, 0, float);
  const float *x = KB(call, 1, const float), *cs = KB(call, 2, const float),
              *sn = KB(call, 3, const float);
  const int64_t hd = p->hd, half = hd / 2, rows = p->B * p->T * p->H;
#pragma omp parallel for schedule(static) if (rows * hd > 32768)
  for (int64_t row = 0; row < rows; row++) {
    int64_t b = row / (p->T * p->H), t = (row / p->H) % p->T;
    const float *xr = x + row * hd;
    float *yr = y + row * hd;
    int64_t r = t - p->first;
    if (r < 0 || r >= p->R) {
      for (int64_t j = 0; j < hd; j++) yr[j] = xr[j];
      continue;
    }
    const float *c = cs + b * p->cos_batch_stride + r * hd, *s = sn + b * p->cos_batch_stride + r * hd;
    for (int64_t j = 0; j < half; j++) {
      float x1 = xr[j], x2 = xr[j + half];
      if (!p->inverse) { /* y = x⊙cos + [-x2, x1]⊙sin */
        yr[j] = x1 * c[j] - x2 * s[j];
        yr[j + half] = x2 * c[j + half] + x1 * s[j + half];
      } else { /* the transpose of the above */
        yr[j] = x1 * c[j] + x2 * s[j + half];
        yr[j + half] = x2 * c[j + half] - x1 * s[j];
      }
    }
  }
  return SB_OK;
}
