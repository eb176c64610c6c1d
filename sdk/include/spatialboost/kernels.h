/* spatialboost/kernels.h — the kernel ids of the backend table, and for each
 * its parameter struct and buffer list (backend.h: sb_kcall).
 *
 * Conventions: shapes and strides in elements; buffers are float32 and
 * contiguous unless stated; "(opt)" buffers may be NULL. Buffer order in
 * sb_kcall.bufs is the order given after "bufs:". Ids are append-only. */
#ifndef SPATIALBOOST_KERNELS_H
#define SPATIALBOOST_KERNELS_H

#include "defs.h"

SB_BEGIN_DECLS

#define SB_KMAX_DIMS 8

typedef enum sb_kernel_id {
  SB_K_CAST = 0,               /* sb_kp_cast      bufs: dst OUT, src IN */
  SB_K_COPY_STRIDED = 1,       /* sb_kp_copy      bufs: dst INOUT, src IN (any dtype) */
  SB_K_FILL = 2,               /* sb_kp_fill      bufs: dst OUT */
  SB_K_GEMM = 3,               /* sb_kp_gemm      bufs: C INOUT, A IN, B IN */
  SB_K_BINARY = 4,             /* sb_kp_binary    bufs: out OUT, a IN, b IN */
  SB_K_REDUCE = 5,             /* sb_kp_reduce    bufs: out OUT/INOUT, in IN */
  SB_K_UNARY = 6,              /* sb_kp_unary     bufs: y OUT, x IN */
  SB_K_UNARY_BACKWARD = 7,     /* sb_kp_unary     bufs: gx OUT, x IN, gy IN */
  SB_K_LAYER_NORM = 8,         /* sb_kp_norm      bufs: y OUT, mean OUT, rstd OUT, x, w (opt), b (opt) */
  SB_K_LAYER_NORM_BACKWARD = 9,/* sb_kp_norm      bufs: gx OUT(opt), gw OUT(opt), gb OUT(opt), gy, x, w (opt), mean, rstd */
  SB_K_RMS_NORM = 10,          /* sb_kp_norm      bufs: y OUT, rstd OUT, x, w (opt) */
  SB_K_RMS_NORM_BACKWARD = 11, /* sb_kp_norm      bufs: gx OUT(opt), gw OUT(opt), gy, x, w (opt), rstd */
  SB_K_SOFTMAX = 12,           /* sb_kp_rows      bufs: y OUT, x */
  SB_K_SOFTMAX_BACKWARD = 13,  /* sb_kp_rows      bufs: gx OUT, y, gy */
  SB_K_ATTENTION = 14,         /* sb_kp_attention bufs: o OUT, lse OUT, q, k, v, mask (opt) */
  SB_K_ATTENTION_BACKWARD = 15,/* sb_kp_attention bufs: gq OUT, gk OUT, gv OUT, go, q, k, v, o, lse, mask (opt) */
  SB_K_ROPE = 16,              /* sb_kp_rope      bufs: y OUT, x, cos, sin */
  SB_K_CROSS_ENTROPY = 17,     /* sb_kp_xent      bufs: loss OUT [N], lse OUT [N], logits, targets */
  SB_K_CROSS_ENTROPY_BACKWARD = 18, /* sb_kp_xent bufs: glogits OUT (or INOUT, the logits' own buffer), logits, lse, targets, grow [N] */
  SB_K_GATHER = 19,            /* sb_kp_gather    bufs: out OUT, src, index */
  SB_K_SCATTER_ADD = 20,       /* sb_kp_gather    bufs: gsrc INOUT, gout, index */
  SB_K_PATCHIFY = 21,          /* sb_kp_patch     bufs: out OUT, x */
  SB_K_UNPATCHIFY = 22,        /* sb_kp_patch     bufs: gx OUT, gout */
  SB_K_MIX = 23,               /* sb_kp_mix       bufs: y OUT, a, b, alpha */
  SB_K_MIX_BACKWARD = 24,      /* sb_kp_mix       bufs: ga OUT(opt), gb OUT(opt), galpha OUT(opt), gy, a, b, alpha */
  SB_K_SWIGLU = 25,            /* sb_kp_rows      bufs: y OUT, gate, up (rows=1, n=numel) */
  SB_K_SWIGLU_BACKWARD = 26,   /* sb_kp_rows      bufs: ggate OUT(opt), gup OUT(opt), gy, gate, up */
  SB_K_ADAMW = 27,             /* sb_kp_adamw     bufs: p INOUT, g, m INOUT, v INOUT */
  SB_K_SGD = 28,               /* sb_kp_sgd       bufs: p INOUT, g */
  SB_K_XENT_BLOCK = 29,        /* sb_kp_xent_block bufs: z INOUT [N, Vb], m INOUT [N], s INOUT [N], zt INOUT [N], targets, acc INOUT (opt) [N, D] */
  SB_K_XENT_FINISH = 30,       /* sb_kp_xent_block bufs: loss OUT [N], lse OUT [N], m, s, zt, targets, acc INOUT (opt), w (opt) [V, D] */
  SB_K_XENT_BLOCK_BACKWARD = 31, /* sb_kp_xent_block bufs: z INOUT [N, Vb], lse, targets, grow [N] */
  SB_K_COUNT
} sb_kernel_id;

/* dtype codes are sb_dtype values (tensor.h). */

typedef struct sb_kp_cast { int64_t n; int32_t dst_dtype, src_dtype; } sb_kp_cast;

/* dst[i] = src[i] over an ndim index space; element size elsize bytes.
 * Pointers point at element 0 of each view. */
typedef struct sb_kp_copy {
  int32_t ndim, elsize;
  int64_t shape[SB_KMAX_DIMS];
  int64_t dst_strides[SB_KMAX_DIMS];
  int64_t src_strides[SB_KMAX_DIMS];
} sb_kp_copy;

typedef struct sb_kp_fill { int64_t n; int32_t dtype; double value; } sb_kp_fill;

/* Row-major, batched: C_b = alpha · op(A_b) · op(B_b) + beta · C_b, op(A) is
 * [m, k], op(B) [k, n]; ld* are row strides; stride_* the batch strides
 * (stride_b 0: B shared by every batch entry). */
typedef struct sb_kp_gemm {
  int32_t trans_a, trans_b;
  int64_t m, n, k;
  float alpha, beta;
  int64_t lda, ldb, ldc;
  int64_t batch, stride_a, stride_b, stride_c;
} sb_kp_gemm;

typedef enum sb_binary_op { SB_BINARY_ADD = 0, SB_BINARY_SUB = 1, SB_BINARY_MUL = 2, SB_BINARY_DIV = 3 } sb_binary_op;
/* out (contiguous, shape) = a op b, with a and b read through their strides
 * (0 along broadcast dims). */
typedef struct sb_kp_binary {
  int32_t op, ndim;
  int64_t shape[SB_KMAX_DIMS];
  int64_t a_strides[SB_KMAX_DIMS];
  int64_t b_strides[SB_KMAX_DIMS];
} sb_kp_binary;

/* Sum of the contiguous input of `shape` over the dims whose bit is set in
 * reduce_mask, times scale; out is contiguous with those dims of size 1.
 * accumulate: out += result instead of out = result. */
typedef struct sb_kp_reduce {
  int32_t ndim;
  uint32_t reduce_mask;
  int32_t accumulate;
  float scale;
  int64_t shape[SB_KMAX_DIMS];
} sb_kp_reduce;

typedef enum sb_unary_op {
  SB_UNARY_AFFINE = 0,  /* alpha·x + beta */
  SB_UNARY_GELU = 1,
  SB_UNARY_GELU_TANH = 2,
  SB_UNARY_SILU = 3,
  SB_UNARY_SIGMOID = 4,
  SB_UNARY_TANH = 5,
  SB_UNARY_RELU = 6,
  SB_UNARY_EXP = 7,
  SB_UNARY_SQUARE = 8,
} sb_unary_op;
/* Backward: gx = gy · f'(x). */
typedef struct sb_kp_unary { int32_t op; int64_t n; float alpha, beta; } sb_kp_unary;

/* Row-wise over the last dim. mean and rstd are [rows]. */
typedef struct sb_kp_norm { int64_t rows, d; float eps; } sb_kp_norm;
typedef struct sb_kp_rows { int64_t rows, n; } sb_kp_rows;

/* q [B, Tq, Hq, hd], k and v [B, Tk, Hkv, hd] read through strides (batch,
 * token, head; the last dim is contiguous). o, go, gq, gk, gv are contiguous
 * in the same layouts. lse [B, Hq, Tq] holds each query row's log-sum-exp of
 * scaled, masked scores (-inf when no key is visible). mask [B, Tk] of
 * mask_dtype (sb_dtype; -1: none), nonzero = attend. Causal: key j visible to
 * query i when j <= i + Tk - Tq. */
typedef struct sb_kp_attention {
  int64_t B, Tq, Tk, Hq, Hkv, hd;
  int64_t q_strides[3], k_strides[3], v_strides[3];
  float scale;
  int32_t causal;
  int32_t mask_dtype;
} sb_kp_attention;

/* x, y [B, T, H, hd] contiguous; cos, sin [R, hd] (+ cos_batch_stride per
 * batch entry, 0 when shared). Tokens first..first+R-1 rotate by +angle (or
 * -angle when inverse, the backward); the others are copied. */
typedef struct sb_kp_rope {
  int64_t B, T, H, hd, first, R, cos_batch_stride;
  int32_t inverse;
} sb_kp_rope;

/* logits [N, V], targets [N] of target_dtype (I32/I64). Rows with target ==
 * ignore_index get loss 0 and (backward) gradient 0. Backward:
 * glogits[r] = (softmax(logits[r]) - onehot(target[r])) · grow[r]. A target
 * outside [0, V) is an error. */
typedef struct sb_kp_xent {
  int64_t N, V, ignore_index;
  int32_t target_dtype;
} sb_kp_xent;

/* Cross-entropy of logits z = h·wᵀ ([N, V], h [N, D], w [V, D]) that exist
 * one block of vocabulary columns at a time, z [N, Vb] holding columns
 * v0..v0+Vb-1 (the op computes it with a GEMM). Rows whose target is
 * ignore_index do not count; the op checks every other target lies in
 * [0, V) before the first block.
 *   block:  an online log-sum-exp per row: m the running max (start
 *           -inf), s the running sum of exp(z - m) (start 0), zt
 *           the target's logit once its block has passed. With acc: acc[r]
 *           is scaled by exp(m_old - m_new) and z is overwritten by
 *           exp(z - m_new) (0 in rows that do not count), so that after
 *           acc += z·w[v0..v0+Vb) acc[r] = Σ_v exp(z_v - m[r])·w[v].
 *   finish: lse = m + log s, loss = lse - zt (both 0 where not counted);
 *           with acc and w, acc[r] = acc[r] / s[r] - w[target[r]], the
 *           gradient of row r's loss with respect to h[r] (0 where not
 *           counted).
 *   block backward: z = (exp(z - lse) - [v0 + j == target])·grow (0 where
 *           not counted), the block of the logits' gradient. */
typedef struct sb_kp_xent_block {
  int64_t N, V, D, v0, Vb, ignore_index;
  int32_t target_dtype;
} sb_kp_xent_block;

/* src [outer, n_src, inner], index [n_index] (index_dtype), out [outer,
 * n_index, inner]: out[o, i, :] = src[o, index[i], :]. Scatter-add does the
 * reverse, skipping indices equal to skip_index (-1: none). An index outside
 * [0, n_src) is an error. */
typedef struct sb_kp_gather {
  int64_t outer, n_src, inner, n_index, skip_index;
  int32_t index_dtype;
} sb_kp_gather;

/* x [B, C, H, W] <-> out [B, (H/P)(W/P), C·P·P]. */
typedef struct sb_kp_patch { int64_t B, C, H, W, P; } sb_kp_patch;

/* a, b, y [rows, d], alpha [d]; mode is sb_mix_mode (ops.h). */
typedef struct sb_kp_mix { int64_t rows, d; int32_t mode; } sb_kp_mix;

/* PyTorch AdamW: p -= lr·wd·p; m = b1·m + (1-b1)·g; v = b2·v + (1-b2)·g²;
 * p -= lr · (m / bias_correction1) / (sqrt(v / bias_correction2) + eps). */
typedef struct sb_kp_adamw {
  int64_t n;
  float lr, beta1, beta2, eps, weight_decay, bias_correction1, bias_correction2;
} sb_kp_adamw;
/* p -= lr · (g + weight_decay · p) */
typedef struct sb_kp_sgd { int64_t n; float lr, weight_decay; } sb_kp_sgd;

SB_END_DECLS
#endif
