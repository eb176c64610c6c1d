/* cpu_attention.c — scaled dot-product attention on the cpu, forward and
 * backward. One (batch, head) at a time and a block of queries at a time, so
 * the score buffer is [block, Tk] and never all heads' [Tq, Tk] matrices.
 * Products go through sgemm; the softmax and masking run in OpenMP loops.
 * The forward saves each query row's log-sum-exp; the backward recomputes
 * the probabilities from it (as FlashAttention does).
 *
 * Layouts (kernels.h, sb_kp_attention): q [B, Tq, Hq, hd], k/v [B, Tk, Hkv,
 * hd] through strides (batch, token, head) with contiguous head vectors;
 * o/go/gq [B, Tq, Hq, hd] and gk/gv [B, Tk, Hkv, hd] contiguous; lse
 * [B, Hq, Tq]. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_backend.h"
#include "spatialboost/error.h"
#include "spatialboost/tensor.h"

#define SCORE_BUDGET (1 << 20) /* floats per score buffer */

static bool key_visible(const sb_kp_attention *p, const void *mask, int64_t b, int64_t i,
                        int64_t j) {
  if (p->causal && j > i + (p->Tk - p->Tq)) return false;
  if (!mask) return true;
  int64_t at = b * p->Tk + j;
  switch (p->mask_dtype) {
  case SB_DTYPE_U8: return ((const uint8_t *)mask)[at] != 0;
  case SB_DTYPE_I32: return ((const int32_t *)mask)[at] != 0;
  case SB_DTYPE_I64: return ((const int64_t *)mask)[at] != 0;
  case SB_DTYPE_F32: return ((const float *)mask)[at] != 0.0f;
  default: return true;
  }
}

static int64_t query_block(const sb_kp_attention *p) {
  int64_t qb = SCORE_BUDGET / (p->Tk > 0 ? p->Tk : 1);
  if (qb < 1) qb = 1;
  return qb < p->Tq ? qb : p->Tq;
}

/* sgemm with row-major operands and explicit leading dims. */
static void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                 int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
    return;
  }
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              (blasint)m, (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c,
              (blasint)ldc);
}

/* Scores of queries q0..q0+nq-1 of head (b, h) against all keys, masked
 * entries at -inf: S[r, j] = scale · q·k. */
static void scores(const sb_kp_attention *p, const float *q, const float *k, const void *mask,
                   int64_t b, int64_t h, int64_t q0, int64_t nq, float *S) {
  int64_t g = h / (p->Hq / p->Hkv);
  const float *qh = q + b * p->q_strides[0] + q0 * p->q_strides[1] + h * p->q_strides[2];
  const float *kh = k + b * p->k_strides[0] + g * p->k_strides[2];
  gemm(false, true, nq, p->Tk, p->hd, p->scale, qh, p->q_strides[1], kh, p->k_strides[1], 0.0f, S,
       p->Tk);
  if (!p->causal && !mask) return;
#pragma omp parallel for schedule(static) if (nq * p->Tk > 16384)
  for (int64_t r = 0; r < nq; r++)
    for (int64_t j = 0; j < p->Tk; j++)
      if (!key_visible(p, mask, b, q0 + r, j)) S[r * p->Tk + j] = -INFINITY;
}

SB_CPU_KERNEL(attention) {
  const sb_kp_attention *p = KP(call, sb_kp_attention);
  float *o = KB(call, 0, float), *lse = KB(call, 1, float);
  const float *q = KB(call, 2, const float), *k = KB(call, 3, const float),
              *v = KB(call, 4, const float);
  const void *mask = call->bufs[5].ptr;
  const int64_t Tk = p->Tk, qb = query_block(p), ldo = p->Hq * p->hd;
  float *S = malloc(sizeof(float) * (size_t)(qb * (Tk ? Tk : 1)));
  if (!S) return sb_error_set(SB_ERR_NOMEM, "attention: out of memory");
  for (int64_t b = 0; b < p->B; b++) {
    for (int64_t h = 0; h < p->Hq; h++) {
      int64_t g = h / (p->Hq / p->Hkv);
      const float *vh = v + b * p->v_strides[0] + g * p->v_strides[2];
      for (int64_t q0 = 0; q0 < p->Tq; q0 += qb) {
        int64_t nq = q0 + qb <= p->Tq ? qb : p->Tq - q0;
        scores(p, q, k, mask, b, h, q0, nq, S);
        float *lrow = lse + (b * p->Hq + h) * p->Tq + q0;
#pragma omp parallel for schedule(static) if (nq * Tk > 16384)
        for (int64_t r = 0; r < nq; r++) { /* softmax in place, lse saved */
          float *s = S + r * Tk, mx = -INFINITY;
          for (int64_t j = 0; j < Tk; j++) mx = s[j] > mx ? s[j] : mx;
          if (mx == -INFINITY) {
            for (int64_t j = 0; j < Tk; j++) s[j] = 0.0f;
            lrow[r] = -INFINITY;
            continue;
          }
          double sum = 0.0;
          for (int64_t j = 0; j < Tk; j++) sum += (s[j] = expf(s[j] - mx));
          float inv = (float)(1.0 / sum);
          for (int64_t j = 0; j < Tk; j++) s[j] *= inv;
          lrow[r] = mx + (float)log(sum);
        }
        float *oh = o + (b * p->Tq + q0) * ldo + h * p->hd;
        gemm(false, false, nq, p->hd, Tk, 1.0f, S, Tk, vh, p->v_strides[1], 0.0f, oh, ldo);
      }
    }
  }
  free(S);
  return SB_OK;
}

SB_CPU_KERNEL(attention_backward) {
  const sb_kp_attention *p = KP(call, sb_kp_attention);
  float *gq = KB(call, 0, float), *gk = KB(call, 1, float), *gv = KB(call, 2, float);
  const float *go = KB(call, 3, const float), *q = KB(call, 4, const float),
              *k = KB(call, 5, const float), *v = KB(call, 6, const float),
              *o = KB(call, 7, const float), *lse = KB(call, 8, const float);
  const void *mask = call->bufs[9].ptr;
  const int64_t Tk = p->Tk, hd = p->hd, qb = query_block(p);
  const int64_t ldq = p->Hq * hd, ldkv = p->Hkv * hd;
  memset(gk, 0, sizeof(float) * (size_t)(p->B * Tk * ldkv));
  memset(gv, 0, sizeof(float) * (size_t)(p->B * Tk * ldkv));
  float *P = malloc(sizeof(float) * (size_t)(qb * (Tk ? Tk : 1)));
  float *dP = malloc(sizeof(float) * (size_t)(qb * (Tk ? Tk : 1)));
  float *D = malloc(sizeof(float) * (size_t)(qb ? qb : 1));
  if (!P || !dP || !D) {
    free(P), free(dP), free(D);
    return sb_error_set(SB_ERR_NOMEM, "attention backward: out of memory");
  }
  for (int64_t b = 0; b < p->B; b++) {
    for (int64_t h = 0; h < p->Hq; h++) {
      int64_t g = h / (p->Hq / p->Hkv);
      const float *kh = k + b * p->k_strides[0] + g * p->k_strides[2];
      const float *vh = v + b * p->v_strides[0] + g * p->v_strides[2];
      float *gkh = gk + b * Tk * ldkv + g * hd, *gvh = gv + b * Tk * ldkv + g * hd;
      for (int64_t q0 = 0; q0 < p->Tq; q0 += qb) {
        int64_t nq = q0 + qb <= p->Tq ? qb : p->Tq - q0;
        const float *qh = q + b * p->q_strides[0] + q0 * p->q_strides[1] + h * p->q_strides[2];
        const float *goh = go + (b * p->Tq + q0) * ldq + h * hd;
        const float *oh = o + (b * p->Tq + q0) * ldq + h * hd;
        const float *lrow = lse + (b * p->Hq + h) * p->Tq + q0;
        scores(p, q, k, mask, b, h, q0, nq, P);
#pragma omp parallel for schedule(static) if (nq * Tk > 16384)
        for (int64_t r = 0; r < nq; r++) { /* P = exp(S - lse); D = rowsum(dO ⊙ O) */
          float *s = P + r * Tk;
          float l = lrow[r];
          for (int64_t j = 0; j < Tk; j++) s[j] = l == -INFINITY ? 0.0f : expf(s[j] - l);
          double d = 0.0;
          for (int64_t c = 0; c < hd; c++) d += (double)goh[r * ldq + c] * oh[r * ldq + c];
          D[r] = (float)d;
        }
        /* dV += Pᵀ dO */
        gemm(true, false, Tk, hd, nq, 1.0f, P, Tk, goh, ldq, 1.0f, gvh, ldkv);
        /* dP = dO Vᵀ */
        gemm(false, true, nq, Tk, hd, 1.0f, goh, ldq, vh, p->v_strides[1], 0.0f, dP, Tk);
#pragma omp parallel for schedule(static) if (nq * Tk > 16384)
        for (int64_t r = 0; r < nq; r++) /* dS = P ⊙ (dP - D), stored in dP */
          for (int64_t j = 0; j < Tk; j++) dP[r * Tk + j] = P[r * Tk + j] * (dP[r * Tk + j] - D[r]);
        /* dQ = scale · dS K ; dK += scale · dSᵀ Q */
        float *gqh = gq + (b * p->Tq + q0) * ldq + h * hd;
        gemm(false, false, nq, hd, Tk, p->scale, dP, Tk, kh, p->k_strides[1], 0.0f, gqh, ldq);
        gemm(true, false, Tk, hd, nq, p->scale, dP, Tk, qh, p->q_strides[1], 1.0f, gkh, ldkv);
      }
    }
  }
  free(P), free(dP), free(D);
  return SB_OK;
}
