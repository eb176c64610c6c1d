/* cpu_gemm.c — batched, strided matrix products through OpenBLAS sgemm
 * (row-major). Called from one thread; OpenBLAS threads each product. */
#include <cblas.h>

#include "cpu_backend.h"

SB_CPU_KERNEL(gemm) {
  const sb_kp_gemm *p = KP(call, sb_kp_gemm);
  float *C = KB(call, 0, float);
  const float *A = KB(call, 1, const float), *B = KB(call, 2, const float);
  if (p->m == 0 || p->n == 0) return SB_OK;
  for (int64_t b = 0; b < p->batch; b++) {
    const float *a = A + b * p->stride_a, *bb = B + b * p->stride_b;
    float *c = C + b * p->stride_c;
    if (p->k == 0) { /* sgemm with k = 0 only scales C by beta */
      for (int64_t i = 0; i < p->m; i++)
        for (int64_t j = 0; j < p->n; j++)
          c[i * p->ldc + j] = p->beta == 0.0f ? 0.0f : c[i * p->ldc + j] * p->beta;
      continue;
    }
    cblas_sgemm(CblasRowMajor, p->trans_a ? CblasTrans : CblasNoTrans,
                p->trans_b ? CblasTrans : CblasNoTrans, (blasint)p->m, (blasint)p->n,
                (blasint)p->k, p->alpha, a, (blasint)p->lda, bb, (blasint)p->ldb, p->beta, c,
                (blasint)p->ldc);
  }
  return SB_OK;
}
