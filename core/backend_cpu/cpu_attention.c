/* cpu_attention.c — scaled dot-product attention on the cpu, forward and
 * backward. One (batch, head) at a time and a block of queries at a time, so
 * a thread's score buffer is [block, Tk], never all heads' [Tq, Tk]
 * matrices. Heads (forward) or key/value heads (backward, which accumulates
 * into them) run in OpenMP threads, each calling single-threaded sgemm.
 * The forward saves each query row's log-sum-exp; the backward recomputes
 * the probabilities from it (as FlashAttention does).
 *
 * Layouts (kernels.h, sb_kp_attention): q [B, Tq, Hq, hd], k/v [B, Tk, Hkv,
 * hd] through strides (batch, token, head) with contiguous head vectors;
 * o/go/gq [B, Tq, Hq, hd] and gk/gv [B, Tk, Hkv, hd] contiguous; lse
 * [B, Hq, Tq]. */
#include <cblas.h>
#include <omp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_backend.h"
#include "cpu_math.h"
#include "spatialboost/error.h"
#include "spatialboost/tensor.h"

#define SCORE_BUDGET (1 << 20) /* floats per score buffer */

/* The keys a query row sees: [0, jmax) for causal, then the key mask. */
static void mask_row(const sb_kp_attention *p, const void *mask, int64_t b, int64_t i, float *s) {
  if (p->causal) {
    int64_t jmax = i + (p->Tk - p->Tq) + 1; /* keys j < jmax are visible */
    for (int64_t j = jmax < 0 ? 0 : jmax; j < p->Tk; j++) s[j] = -INFINITY;
  }
  if (!mask) return;
  const int64_t at = b * p->Tk;
  switch (p->mask_dtype) {
  case SB_DTYPE_U8: for (int64_t j = 0; j < p->Tk; j++) if (!((const uint8_t *)mask)[at + j]) s[j] = -INFINITY; break;
  case SB_DTYPE_I32: for (int64_t j = 0; j < p->Tk; j++) if (!((const int32_t *)mask)[at + j]) s[j] = -INFINITY; break;
  case SB_DTYPE_I64: for (int64_t j = 0; j < p->Tk; j++) if (!((const int64_t *)mask)[at + j]) s[j] = -INFINITY; break;
  case SB_DTYPE_F32: for (int64_t j = 0; j < p->Tk; j++) if (((const float *)mask)[at + j] == 0.0f) s[j] = -INFINITY; break;
  default: break;
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
  if (p->causal || mask)
    for (int64_t r = 0; r < nq; r++) mask_row(p, mask, b, q0 + r, S + r * p->Tk);
}

/* Runs the per-head work in OpenMP threads, each calling a single-threaded
 * sgemm: the two thread pools never compete for the cores. */
typedef struct blas_threads {
  int saved;
} blas_threads;

/* OpenBLAS built for OpenMP (openblas_get_parallel() == 2) already runs
 * single-threaded inside an OpenMP region, and its set_num_threads would
 * shrink our OpenMP team too; the pthread build needs telling. */
static blas_threads blas_single(void) {
  blas_threads t = {openblas_get_parallel() == 2 ? 0 : openblas_get_num_threads()};
  if (t.saved) openblas_set_num_threads(1);
  return t;
}

static void blas_restore(blas_threads t) {
  if (t.saved) openblas_set_num_threads(t.saved);
}

/* Softmax of one row of scores in place; returns its log-sum-exp. */
static float softmax_row(float *s, int64_t n) {
  const float mx = sb_cpu_row_max(s, n);
  if (mx == -INFINITY) {
    for (int64_t j = 0; j < n; j++) s[j] = 0.0f;
    return -INFINITY;
  }
  const double sum = sb_cpu_exp_sum(s, n, mx, true);
  float inv = (float)(1.0 / sum);
  for (int64_t j = 0; j < n; j++) s[j] *= inv;
  return mx + (float)log(sum);
}

SB_CPU_KERNEL(attention) {
  const sb_kp_attention *p = KP(call, sb_kp_attention);
  float *o = KB(call, 0, float), *lse = KB(call, 1, float);
  const float *q = KB(call, 2, const float), *k = KB(call, 3, const float),
              *v = KB(call, 4, const float);
  const void *mask = call->bufs[5].ptr;
  const int64_t Tk = p->Tk, qb = query_block(p), ldo = p->Hq * p->hd;
  const int64_t n_blocks = (p->Tq + qb - 1) / (qb ? qb : 1), n_tasks = p->B * p->Hq * n_blocks;
  int failed = 0;
  blas_threads bt = blas_single();
#pragma omp parallel
  {
    float *S = malloc(sizeof(float) * (size_t)(qb * (Tk ? Tk : 1)));
    if (!S) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < n_tasks; task++) {
      if (!S) continue;
      int64_t b = task / (p->Hq * n_blocks), h = (task / n_blocks) % p->Hq, q0 = (task % n_blocks) * qb;
      int64_t nq = q0 + qb <= p->Tq ? qb : p->Tq - q0;
      int64_t g = h / (p->Hq / p->Hkv);
      const float *vh = v + b * p->v_strides[0] + g * p->v_strides[2];
      scores(p, q, k, mask, b, h, q0, nq, S);
      float *lrow = lse + (b * p->Hq + h) * p->Tq + q0;
      for (int64_t r = 0; r < nq; r++) lrow[r] = softmax_row(S + r * Tk, Tk);
      float *oh = o + (b * p->Tq + q0) * ldo + h * p->hd;
      gemm(false, false, nq, p->hd, Tk, 1.0f, S, Tk, vh, p->v_strides[1], 0.0f, oh, ldo);
    }
    free(S);
  }
  blas_restore(bt);
  return failed ? sb_error_set(SB_ERR_NOMEM, "attention: out of memory") : SB_OK;
}

/* One query head's block of the backward pass (see the top of the file). */
typedef struct bwd_scratch {
  float *P, *dP, *D;
} bwd_scratch;

static void backward_block(const sb_kp_attention *p, const sb_kcall *call, int64_t b, int64_t h, int64_t q0,
                           int64_t nq, bwd_scratch *w) {
  float *gq = KB(call, 0, float), *gk = KB(call, 1, float), *gv = KB(call, 2, float);
  const float *go = KB(call, 3, const float), *q = KB(call, 4, const float), *k = KB(call, 5, const float),
              *v = KB(call, 6, const float), *o = KB(call, 7, const float), *lse = KB(call, 8, const float);
  const void *mask = call->bufs[9].ptr;
  const int64_t Tk = p->Tk, hd = p->hd, ldq = p->Hq * hd, ldkv = p->Hkv * hd;
  int64_t g = h / (p->Hq / p->Hkv);
  const float *kh = k + b * p->k_strides[0] + g * p->k_strides[2];
  const float *vh = v + b * p->v_strides[0] + g * p->v_strides[2];
  float *gkh = gk + b * Tk * ldkv + g * hd, *gvh = gv + b * Tk * ldkv + g * hd;
  const float *qh = q + b * p->q_strides[0] + q0 * p->q_strides[1] + h * p->q_strides[2];
  const float *goh = go + (b * p->Tq + q0) * ldq + h * hd;
  const float *oh = o + (b * p->Tq + q0) * ldq + h * hd;
  const float *lrow = lse + (b * p->Hq + h) * p->Tq + q0;
  float *P = w->P, *dP = w->dP, *D = w->D;
  scores(p, q, k, mask, b, h, q0, nq, P);
  for (int64_t r = 0; r < nq; r++) { /* P = exp(S - lse); D = rowsum(dO ⊙ O) */
    float *s = P + r * Tk, l = lrow[r];
    if (l == -INFINITY)
      for (int64_t j = 0; j < Tk; j++) s[j] = 0.0f;
    else
      for (int64_t j = 0; j < Tk; j++) s[j] = sb_cpu_expf(s[j] - l);
    double d = 0.0;
    for (int64_t c = 0; c < hd; c++) d += (double)goh[r * ldq + c] * oh[r * ldq + c];
    D[r] = (float)d;
  }
  gemm(true, false, Tk, hd, nq, 1.0f, P, Tk, goh, ldq, 1.0f, gvh, ldkv);               /* dV += Pᵀ dO */
  gemm(false, true, nq, Tk, hd, 1.0f, goh, ldq, vh, p->v_strides[1], 0.0f, dP, Tk);   /* dP = dO Vᵀ */
  for (int64_t r = 0; r < nq; r++) /* dS = P ⊙ (dP - D), in dP */
    for (int64_t j = 0; j < Tk; j++) dP[r * Tk + j] = P[r * Tk + j] * (dP[r * Tk + j] - D[r]);
  float *gqh = gq + (b * p->Tq + q0) * ldq + h * hd;
  gemm(false, false, nq, hd, Tk, p->scale, dP, Tk, kh, p->k_strides[1], 0.0f, gqh, ldq); /* dQ = c·dS K */
  gemm(true, false, Tk, hd, nq, p->scale, dP, Tk, qh, p->q_strides[1], 1.0f, gkh, ldkv); /* dK += c·dSᵀ Q */
}

SB_CPU_KERNEL(attention_backward) {
  const sb_kp_attention *p = KP(call, sb_kp_attention);
  float *gk = KB(call, 1, float), *gv = KB(call, 2, float);
  const int64_t Tk = p->Tk, qb = query_block(p), ldkv = p->Hkv * p->hd;
  memset(gk, 0, sizeof(float) * (size_t)(p->B * Tk * ldkv));
  memset(gv, 0, sizeof(float) * (size_t)(p->B * Tk * ldkv));
  /* One task per (batch, kv head): the query heads sharing a kv head
   * accumulate into the same dK, dV rows, so they run in one thread. */
  const int64_t group = p->Hq / p->Hkv, n_tasks = p->B * p->Hkv;
  int failed = 0;
  blas_threads bt = blas_single();
#pragma omp parallel
  {
    bwd_scratch w = {malloc(sizeof(float) * (size_t)(qb * (Tk ? Tk : 1))),
                     malloc(sizeof(float) * (size_t)(qb * (Tk ? Tk : 1))), malloc(sizeof(float) * (size_t)(qb ? qb : 1))};
    if (!w.P || !w.dP || !w.D) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(dynamic, 1)
    for (int64_t task = 0; task < n_tasks; task++) {
      if (!w.P || !w.dP || !w.D) continue;
      int64_t b = task / p->Hkv, g = task % p->Hkv;
      for (int64_t h = g * group; h < (g + 1) * group; h++)
        for (int64_t q0 = 0; q0 < p->Tq; q0 += qb)
          backward_block(p, call, b, h, q0, q0 + qb <= p->Tq ? qb : p->Tq - q0, &w);
    }
    free(w.P), free(w.dP), free(w.D);
  }
  blas_restore(bt);
  return failed ? sb_error_set(SB_ERR_NOMEM, "attention backward: out of memory") : SB_OK;
}
