/* cpu_optim.c — optimizer update kernels (PyTorch semantics). */
#include <math.h>

#include "cpu_backend.h"

SB_CPU_KERNEL(adamw) {
  const sb_kp_adamw *p = KP(call, sb_kp_adamw);
  float *w = KB(call, 0, float), *m = KB(call, 2, float), *v = KB(call, 3, float);
  const float *g = KB(call, 1, const float);
  const float lr = p->lr, b1 = p->beta1, b2 = p->beta2, eps = p->eps;
  const float decay = 1.0f - p->lr * p->weight_decay;
  const float bc1 = p->bias_correction1, sqrt_bc2 = sqrtf(p->bias_correction2);
#pragma omp parallel for schedule(static) if (p->n > 65536)
  for (int64_t i = 0; i < p->n; i++) {
    w[i] *= decay;
    m[i] = b1 * m[i] + (1.0f - b1) * g[i];
    v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
    /* torch: denom = sqrt(v) / sqrt(bc2) + eps; p -= (lr / bc1) * m / denom */
    w[i] -= (lr / bc1) * m[i] / (sqrtf(v[i]) / sqrt_bc2 + eps);
  }
  return SB_OK;
}

SB_CPU_KERNEL(sgd) {
  const sb_kp_sgd *p = KP(call, sb_kp_sgd);
  float *w = KB(call, 0, float);
  const float *g = KB(call, 1, const float);
#pragma omp parallel for schedule(static) if (p->n > 65536)
  for (int64_t i = 0; i < p->n; i++) w[i] -= p->lr * (g[i] + p->weight_decay * w[i]);
  return SB_OK;
}
