/* spatialboost/ops.h — differentiable tensor ops.
 *
 * Every op runs on the backend of its inputs (all inputs on one backend),
 * computes in float32 (integer inputs are indices or labels), returns a new
 * tensor owned by the current scope (tensor.h), and, when grad mode is on and
 * an input requires a gradient, records itself on the autograd tape with a
 * hand-written backward pass. Inputs may be any strided view; outputs are
 * contiguous unless the op is a view (reshape, permute, transpose, narrow).
 * A NULL input gives a NULL result (tensor.h, "NULL propagation"); a misuse
 * (shapes, dtypes, backends) gives NULL and a message naming the op, the
 * argument and the shapes involved.
 *
 * Shapes below: [..., n] means any leading dims. Negative dims count from the
 * end as in PyTorch. */
#ifndef SPATIALBOOST_OPS_H
#define SPATIALBOOST_OPS_H

#include "tensor.h"

SB_BEGIN_DECLS

/* ---- matrix products (BLAS on cpu) ---- */

/* y = x·wᵀ + b. x [..., in], w [out, in] (nn.Linear layout), b [out] or NULL.
 * Returns [..., out]. */
SB_API sb_tensor *sb_op_linear(sb_tensor *x, sb_tensor *w, sb_tensor *b);
/* Batched a·b with optional transposes of the last two dims.
 * a [..., M, K] (or [..., K, M] with trans_a), b [..., K, N] (or [..., N, K]
 * with trans_b); leading dims equal, or b 2-D and shared. Returns [..., M, N]. */
SB_API sb_tensor *sb_op_matmul(sb_tensor *a, sb_tensor *b, bool trans_a, bool trans_b);

/* ---- elementwise with NumPy broadcasting ---- */
SB_API sb_tensor *sb_op_add(sb_tensor *a, sb_tensor *b);
SB_API sb_tensor *sb_op_sub(sb_tensor *a, sb_tensor *b);
SB_API sb_tensor *sb_op_mul(sb_tensor *a, sb_tensor *b);
SB_API sb_tensor *sb_op_div(sb_tensor *a, sb_tensor *b);
/* y = s·x + c */
SB_API sb_tensor *sb_op_scale(sb_tensor *x, float s);
SB_API sb_tensor *sb_op_affine(sb_tensor *x, float s, float c);

/* ---- elementwise functions ---- */
SB_API sb_tensor *sb_op_gelu(sb_tensor *x);      /* exact: 0.5x(1+erf(x/√2)) */
SB_API sb_tensor *sb_op_gelu_tanh(sb_tensor *x); /* tanh approximation */
SB_API sb_tensor *sb_op_silu(sb_tensor *x);
SB_API sb_tensor *sb_op_sigmoid(sb_tensor *x);
SB_API sb_tensor *sb_op_tanh(sb_tensor *x);
SB_API sb_tensor *sb_op_relu(sb_tensor *x);
SB_API sb_tensor *sb_op_exp(sb_tensor *x);
SB_API sb_tensor *sb_op_square(sb_tensor *x);
/* silu(gate) ⊙ up, the SwiGLU product, fused. Same shapes. */
SB_API sb_tensor *sb_op_swiglu(sb_tensor *gate, sb_tensor *up);

/* ---- reductions ---- */
SB_API sb_tensor *sb_op_sum(sb_tensor *x, int dim, bool keepdim);
SB_API sb_tensor *sb_op_mean(sb_tensor *x, int dim, bool keepdim);
/* Over all elements: 0-d result. */
SB_API sb_tensor *sb_op_sum_all(sb_tensor *x);
SB_API sb_tensor *sb_op_mean_all(sb_tensor *x);

/* ---- shapes and copies ---- */
/* One size may be -1 (inferred). A view when x is contiguous, else a copy. */
SB_API sb_tensor *sb_op_reshape(sb_tensor *x, int ndim, const int64_t *shape);
/* View with dims reordered: result dim i is x's dim perm[i]. */
SB_API sb_tensor *sb_op_permute(sb_tensor *x, const int *perm);
SB_API sb_tensor *sb_op_transpose(sb_tensor *x, int dim0, int dim1);
/* View of `length` entries of dim starting at `start`. */
SB_API sb_tensor *sb_op_narrow(sb_tensor *x, int dim, int64_t start, int64_t length);
/* Python-style x[start:end] along dim (negative indices from the end). */
SB_API sb_tensor *sb_op_slice(sb_tensor *x, int dim, int64_t start, int64_t end);
SB_API sb_tensor *sb_op_contiguous(sb_tensor *x);
/* Float to float rounds to nearest even; float to integer truncates toward
 * zero, saturating at the type's range (NaN gives 0); integer narrowing keeps
 * the low bits. Differentiable between float dtypes. */
SB_API sb_tensor *sb_op_cast(sb_tensor *x, sb_dtype dtype);
/* Concatenation of n tensors along dim (other dims equal). */
SB_API sb_tensor *sb_op_concat(sb_tensor *const *xs, int n, int dim);
/* Splits dim into n pieces of sizes[i] (summing to the dim's size); views. */
SB_API int sb_op_split(sb_tensor *x, int dim, const int64_t *sizes, int n, sb_tensor **out);
/* Rows of x along dim picked by index (I32 or I64, 1-D, values in range). */
SB_API sb_tensor *sb_op_index_select(sb_tensor *x, int dim, sb_tensor *index);
/* Embedding lookup: weight [V, D], ids [...] (I32/I64) -> [..., D]. The
 * backward scatter-adds into weight's rows; rows equal to padding_idx (when
 * >= 0) get no gradient, as nn.Embedding(padding_idx=...). */
SB_API sb_tensor *sb_op_embedding(sb_tensor *weight, sb_tensor *ids, int64_t padding_idx);

/* ---- normalisation and softmax (over the last dim) ---- */
/* (x - mean) / sqrt(var + eps) * w + b; w, b [d] or NULL. */
SB_API sb_tensor *sb_op_layer_norm(sb_tensor *x, sb_tensor *w, sb_tensor *b, float eps);
/* x / sqrt(mean(x²) + eps) * w; w [d] or NULL. */
SB_API sb_tensor *sb_op_rms_norm(sb_tensor *x, sb_tensor *w, float eps);
SB_API sb_tensor *sb_op_softmax(sb_tensor *x);

/* ---- attention ---- */
typedef struct sb_attention_opts {
  bool causal;          /* key j visible to query i only when j <= i + (Tk - Tq) */
  float scale;          /* 0: head_dim^-1/2 */
  /* Optional key padding mask [B, Tk] (U8/I32/I64/F32, nonzero = attend). Masked
   * keys get probability exactly 0; a query that sees no key outputs 0. */
  sb_tensor *key_mask;
} sb_attention_opts;
/* Scaled dot-product attention, softmax in float32, fused: one head's scores
 * at a time, never all heads' [Tq, Tk] matrices at once.
 * q [B, Tq, Hq, hd], k and v [B, Tk, Hkv, hd] with Hq a multiple of Hkv (query
 * head h reads kv head h / (Hq/Hkv)). Returns [B, Tq, Hq, hd].
 * opts may be NULL (no mask, not causal, default scale). */
SB_API sb_tensor *sb_op_attention(sb_tensor *q, sb_tensor *k, sb_tensor *v,
                                  const sb_attention_opts *opts);

/* ---- rotary position embedding (half-split "rotate_half" convention) ---- */
/* x [B, T, H, hd]; cos, sin [R, hd] (shared by the batch) or [B, R, hd].
 * Tokens first .. first+R-1 are rotated: y = x⊙cos + rotate_half(x)⊙sin,
 * rotate_half(x) = [-x2, x1]; other tokens pass unchanged. */
SB_API sb_tensor *sb_op_rope(sb_tensor *x, sb_tensor *cos, sb_tensor *sin, int64_t first);
/* Tables (not differentiable) for sb_op_rope, float32, on the current backend.
 * 1-D: positions of R values in any shape (I32 or I64; NULL for 0..R-1);
 *   [B, S] positions give R = B·S rows, usable as [B, S, hd] tables after a
 *   reshape,
 *   ang[r, i] = pos[r] · theta^(-2i/hd), i < hd/2; table = [ang, ang].
 * 2-D axial over a rows×cols grid of patch centres normalised to [-1, 1] per
 *   axis (c = 2(i+0.5)/n - 1), ang = 2π·c·theta^(-4k/hd), k < hd/4, laid out
 *   [y..., x..., y..., x...]. Returns R = rows·cols rows. */
SB_API int sb_rope_tables_1d(sb_tensor *positions, int64_t R, int64_t head_dim, double theta,
                             sb_tensor **cos, sb_tensor **sin);
SB_API int sb_rope_tables_2d(int64_t rows, int64_t cols, int64_t head_dim, double theta,
                             sb_tensor **cos, sb_tensor **sin);

/* ---- losses ---- */
typedef enum sb_reduction {
  SB_REDUCTION_MEAN = 0, /* mean over rows whose target is not ignored */
  SB_REDUCTION_SUM = 1,
} sb_reduction;
/* Cross-entropy of logits [N, V] against targets [N] (I32/I64), rows whose
 * target equals ignore_index contribute 0. Computed row by row with a
 * log-sum-exp: no [N, V] softmax copy is kept; the backward recomputes it.
 * With SB_REDUCTION_SUM and divisor > 0 the sum is divided by divisor (the
 * "num_items_in_batch" form used with gradient accumulation). 0-d result.
 * With every row ignored the mean is 0 with zero gradients (PyTorch gives
 * NaN). */
SB_API sb_tensor *sb_op_cross_entropy(sb_tensor *logits, sb_tensor *targets,
                                      int64_t ignore_index, sb_reduction reduction,
                                      float divisor);
/* sb_op_cross_entropy(hidden·weightᵀ, targets, ...) without the [N, V]
 * logits: hidden [N, D], weight [V, D], targets [N] (I32/I64). The logits
 * exist one block of `block` vocabulary columns at a time (0: about 2^22
 * floats of them, at least 256 columns); memory is O(N·block + N·D). With
 * a frozen weight the forward also forms hidden's gradient (no extra
 * products); with a trained weight the backward recomputes each block's
 * logits. Same reductions and ignore rule as sb_op_cross_entropy. 0-d. */
SB_API sb_tensor *sb_op_linear_cross_entropy(sb_tensor *hidden, sb_tensor *weight, sb_tensor *targets,
                                             int64_t ignore_index, sb_reduction reduction, float divisor,
                                             int64_t block);
/* mean((a - b)²), 0-d. */
SB_API sb_tensor *sb_op_mse(sb_tensor *a, sb_tensor *b);

/* ---- vision ---- */
/* Non-overlapping patches (a stride = kernel convolution's im2col):
 * x [B, C, H, W] -> [B, (H/P)·(W/P), C·P·P], patches row-major over the grid,
 * values in (c, ky, kx) order; trailing rows/cols that do not fill a patch are
 * dropped. A Conv2d(C, D, P, stride P) is then sb_op_linear with its weight
 * reshaped to [D, C·P·P]. */
SB_API sb_tensor *sb_op_patchify(sb_tensor *x, int64_t patch);

/* ---- dual-channel attention mixing (SpatialBoost) ---- */
typedef enum sb_mix_mode {
  SB_MIX_SIGMOID = 0,   /* y = σ(α)⊙a + (1-σ(α))⊙b  (paper, Eq. 1) */
  SB_MIX_TANH_GATE = 1, /* y = a + tanh(α)⊙b */
} sb_mix_mode;
/* a, b [..., d], alpha [d]. */
SB_API sb_tensor *sb_op_mix(sb_tensor *a, sb_tensor *b, sb_tensor *alpha, sb_mix_mode mode);

SB_END_DECLS
#endif
