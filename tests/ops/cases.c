/* cases.c — the op cases of the op test: one table entry per case (the
 * inputs with their shapes, value ranges and views, the op call, the
 * reference of ref_ops.c, the expected outputs and the tolerances), and the
 * small run functions that call the project's ops. test_ops.c runs each entry
 * on every backend.
 *
 * Parameters (c->ip, c->fp) per op family:
 *   linear       (none; a third input is the bias)
 *   matmul       ip[0] trans_a, ip[1] trans_b
 *   binary       ip[0] SB_BINARY_*
 *   unary        ip[0] UN_*, fp[0] s, fp[1] c (scale: s·x, affine: s·x + c)
 *   reduce       ip[0] dim, ip[1] keepdim, ip[2] mean, ip[3] over all elements
 *   reshape      ip[0] ndim, ip[1..] the shape (one -1)
 *   permute      ip[0..ndim-1] the permutation
 *   transpose    ip[0], ip[1] the dims
 *   narrow       ip[0] dim, ip[1] start, ip[2] length
 *   slice        ip[0] dim, ip[1] start, ip[2] end
 *   cast         ip[0] the destination dtype
 *   concat       ip[0] dim
 *   split        ip[0] dim, ip[1] pieces, ip[2..] sizes
 *   index_select ip[0] dim (in[1] the index)
 *   embedding    ip[0] padding_idx (in[1] the ids)
 *   layer_norm   ip[0] has weight, ip[1] has bias, fp[0] eps
 *   rms_norm     ip[0] has weight, fp[0] eps
 *   attention    ip[0] causal, ip[1] key mask (in[3]), fp[0] scale (0: default)
 *   rope         ip[0] ROPE_* table kind, ip[1] first, ip[2] R (rows for 2-D),
 *                ip[3] cols (2-D), fp[0] theta (in[1] positions when the kind has them)
 *   cross_entropy ip[0] ignore_index, ip[1] sb_reduction, fp[0] divisor
 *   linear_cross_entropy  the same, and ip[2] the block of columns
 *   patchify     ip[0] patch size
 *   mix          ip[0] sb_mix_mode
 *
 * Tolerances, as |got - want| <= atol + rtol·|want|. Inputs are O(1) by
 * construction (|x| <= 3 unless a case says otherwise; the output weights R
 * are in [-1, 1]); u = U32 = 2^-24, the float32 unit roundoff. The expected
 * gradients come from central differences of the double reference whose own
 * error (~1e-10, see test_ops.c expected_grad) is added to atol per element.
 *
 *   T_EXACT       data movement (copies, gathers, views, casts compared with
 *                 an IEEE-rounded reference): bit-exact.
 *   T_ROUND       one correctly rounded float32 operation per element, or a
 *                 sum accumulated in double and rounded once: u·|y|.
 *   T_ROUND2      two of them (e.g. a float32 1/n times a double sum): 2u·|y|.
 *   T_AFFINE      s·x + c: the product rounds (u·|s·x| <= 4.5u for |s| 1.5,
 *                 |x| 3), then the sum (u·|y|).
 *   T_BIN(K)      binary ops and their gradients: at most 3 roundings per
 *                 term (the divisor's -gy·a/b²), so rtol 4u; a gradient
 *                 reduced over K broadcast terms adds each term's rounding,
 *                 a term being at most 6 (|a| <= 1.5, |gy| <= 1, |b| >= 0.5):
 *                 atol 4u·6·K.
 *   T_SCATTER     sums of a few (<= 4) float32 values in float32 order
 *                 (scatter-add of repeated indices): 4u·Σ|terms| <= 4u·4.
 *   T_LIBM        float32 libm functions (expf, erff, tanhf: <= 2 ulp) in
 *                 formulas of <= 8 more roundings on values <= 3 in
 *                 magnitude: 32u relative to max(1, |y|).
 *   T_LIBM_SUM(K) the same, summed over K terms (a mix alpha gradient over K
 *                 rows): 32u·K absolute.
 *   T_DOT(K)      K-term float32 dot products (sgemm): Higham's γ_K bound,
 *                 |err| <= K·u·Σ|a_i·b_i| <= K²·u for operands <= 1, plus the
 *                 result's rounding (2u relative).
 *   T_NORM(K)     layer/RMS norm with K rows: the statistics accumulate in
 *                 double, so the float32 error is <= 6 roundings per element
 *                 of values <= |x - mean|·rstd·|w| + |b| <= 2·2·1.5 + 1, plus
 *                 the rounded mean (<= 2) entering x - mean, times rstd (<= 2):
 *                 16u·max(1, |y|); weight and bias gradients sum one such term
 *                 per row: atol 16u·K.
 *   T_SOFTMAX     expf of (x - max) (1 ulp + the subtraction's u·6), a
 *                 double sum rounded once, one product: 16u relative; the
 *                 backward y·(g - Σ g·y) adds the cancellation of g - dot
 *                 (u·2) times y: 16u absolute.
 *   T_ATTN(K)     attention: two chained K-term float32 products (scores,
 *                 then P·V; K = max(head_dim, Tk) <= 8) around an expf
 *                 softmax. Scores: γ_K·Σ|q·k| <= K²·u·scale; P·V: γ_K·Σ p|v|
 *                 <= K·u (p sums to 1); so rtol 2K·u, atol 2K²·u. The backward
 *                 has the same depth (dP = dO·Vᵀ, dS, then dQ/dK/dV).
 *   T_ROPE(A)     the tables' angles are float32 products pos·inv_freq with
 *                 inv_freq rounded (<= 3u·|angle| <= 3u·A for |angle| <= A),
 *                 cosf/sinf 1 ulp, then 2 products and a sum on |x| <= 1:
 *                 atol 4u·(A + 1)·2, rtol 4u.
 *   T_XENT        log-sum-exp in float32 (expf of z - max: u·6, log of a
 *                 double sum, mx + log: u·|lse| <= u·5), loss = lse - z_t,
 *                 row weights, a double sum: 16u absolute and relative.
 *   T_LXENT(K, V) cross-entropy of logits from K-term float32 products
 *                 (operands <= 1: each logit errs by <= K²u, see T_DOT,
 *                 moving lse and z_t by as much: 2K²u) over V columns in
 *                 blocks (the running sum of exp is float32, one rounding
 *                 per block: <= V·u in lse); the gradient also sums V
 *                 float32 products p·w (<= V·u·Σp|w| <= V·u). On top of
 *                 T_XENT: atol (16 + 2K² + 2V)·u.
 */
#include <math.h>

#include "test_ops.h"

#define NARGS(...) NARGS_(__VA_ARGS__, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define NARGS_(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, n, ...) n
#define SH(...) .ndim = NARGS(__VA_ARGS__), .shape = {__VA_ARGS__}
#define VALS(...) .values = (const double[]){__VA_ARGS__}, .n_values = NARGS(__VA_ARGS__)
#define PERM(...) {.kind = V_PERMUTE, .perm = {__VA_ARGS__}}
#define NARROW(d, s, l) {.kind = V_NARROW, .dim = (d), .start = (s), .len = (l)}
#define RESHAPE(...) {.kind = V_RESHAPE, SH(__VA_ARGS__)}

#define T_EXACT {0.0, 0.0}
#define T_ROUND {U32, 0.0}
#define T_ROUND2 {2 * U32, 0.0}
#define T_AFFINE {U32, 4.5 * U32}
#define T_BIN(K) {4 * U32, 4 * U32 * 6 * (K)}
#define T_SCATTER {4 * U32, 16 * U32}
#define T_LIBM {32 * U32, 32 * U32}
#define T_LIBM_SUM(K) {32 * U32, 32 * U32 * (K)}
#define T_DOT(K) {2 * U32, (K) * (K) * U32}
#define T_NORM(K) {16 * U32, 16 * U32 * (K)}
#define T_SOFTMAX {16 * U32, 16 * U32}
#define T_ATTN(K) {2 * (K) * U32, 2 * (K) * (K) * U32}
#define T_ROPE(A) {4 * U32, 8 * U32 * ((A) + 1)}
#define T_XENT {16 * U32, 16 * U32}
#define T_LXENT(K, V) {16 * U32, (16 + 2 * (K) * (K) + 2 * (V)) * U32}

/* ---- run functions: the op calls ---- */

static int run_linear(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_linear(in[0], in[1], c->n_in > 2 ? in[2] : NULL);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_matmul(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_matmul(in[0], in[1], c->ip[0], c->ip[1]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_binary(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  switch (c->ip[0]) {
  case SB_BINARY_ADD: out[0] = sb_op_add(in[0], in[1]); break;
  case SB_BINARY_SUB: out[0] = sb_op_sub(in[0], in[1]); break;
  case SB_BINARY_MUL: out[0] = sb_op_mul(in[0], in[1]); break;
  default: out[0] = sb_op_div(in[0], in[1]); break;
  }
  return out[0] ? SB_OK : SB_ERR;
}

static sb_tensor *unary_op(const op_case *c, sb_tensor *x) {
  switch (c->ip[0]) {
  case UN_SCALE: return sb_op_scale(x, (float)c->fp[0]);
  case UN_AFFINE: return sb_op_affine(x, (float)c->fp[0], (float)c->fp[1]);
  case UN_GELU: return sb_op_gelu(x);
  case UN_GELU_TANH: return sb_op_gelu_tanh(x);
  case UN_SILU: return sb_op_silu(x);
  case UN_SIGMOID: return sb_op_sigmoid(x);
  case UN_TANH: return sb_op_tanh(x);
  case UN_RELU: return sb_op_relu(x);
  case UN_EXP: return sb_op_exp(x);
  default: return sb_op_square(x);
  }
}

static int run_unary(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = unary_op(c, in[0]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_swiglu(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_swiglu(in[0], in[1]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_reduce(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  if (c->ip[3]) out[0] = c->ip[2] ? sb_op_mean_all(in[0]) : sb_op_sum_all(in[0]);
  else out[0] = c->ip[2] ? sb_op_mean(in[0], c->ip[0], c->ip[1]) : sb_op_sum(in[0], c->ip[0], c->ip[1]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_reshape(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  int64_t shape[SB_MAX_DIMS];
  for (int i = 0; i < c->ip[0]; i++) shape[i] = c->ip[1 + i];
  out[0] = sb_op_reshape(in[0], c->ip[0], shape);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_contiguous(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_contiguous(in[0]);
  if (out[0] && !sb_tensor_is_contiguous(out[0])) return sb_error("contiguous: result is strided");
  return out[0] ? SB_OK : SB_ERR;
}

static int run_permute(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_permute(in[0], c->ip);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_transpose(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_transpose(in[0], c->ip[0], c->ip[1]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_narrow(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_narrow(in[0], c->ip[0], c->ip[1], c->ip[2]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_slice(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_slice(in[0], c->ip[0], c->ip[1], c->ip[2]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_cast(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_cast(in[0], (sb_dtype)c->ip[0]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_concat(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_concat(in, c->n_in, c->ip[0]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_split(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  int64_t sizes[8];
  for (int k = 0; k < c->ip[1]; k++) sizes[k] = c->ip[2 + k];
  return sb_op_split(in[0], c->ip[0], sizes, c->ip[1], out);
}

static int run_index_select(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_index_select(in[0], c->ip[0], in[1]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_embedding(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_embedding(in[0], in[1], c->ip[0]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_layer_norm(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  sb_tensor *w = c->ip[0] ? in[1] : NULL, *b = c->ip[1] ? in[c->ip[0] ? 2 : 1] : NULL;
  out[0] = sb_op_layer_norm(in[0], w, b, (float)c->fp[0]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_rms_norm(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_rms_norm(in[0], c->ip[0] ? in[1] : NULL, (float)c->fp[0]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_softmax(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_softmax(in[0]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_attention(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  sb_attention_opts o = {.causal = c->ip[0], .scale = (float)c->fp[0], .key_mask = c->ip[1] ? in[3] : NULL};
  out[0] = sb_op_attention(in[0], in[1], in[2], &o);
  return out[0] ? SB_OK : SB_ERR;
}

/* The tables of the case's kind, on the current backend. */
static int rope_tables(const op_case *c, sb_tensor *pos, int64_t B, int64_t hd, sb_tensor **cs, sb_tensor **sn) {
  switch (c->ip[0]) {
  case ROPE_1D_POS: return sb_rope_tables_1d(pos, c->ip[2], hd, c->fp[0], cs, sn);
  case ROPE_1D_NULL: return sb_rope_tables_1d(NULL, c->ip[2], hd, c->fp[0], cs, sn);
  case ROPE_2D: return sb_rope_tables_2d(c->ip[2], c->ip[3], hd, c->fp[0], cs, sn);
  default: { /* one table per batch entry from its row of positions, stacked to [B, R, hd] */
    sb_tensor *cb[8], *sbt[8];
    int64_t R = c->ip[2], s3[3] = {1, R, hd};
    for (int64_t b = 0; b < B; b++) {
      sb_tensor *c2, *s2;
      if (sb_rope_tables_1d(sb_op_narrow(pos, 0, b, 1), R, hd, c->fp[0], &c2, &s2)) return SB_ERR;
      cb[b] = sb_op_reshape(c2, 3, s3), sbt[b] = sb_op_reshape(s2, 3, s3);
    }
    *cs = sb_op_concat(cb, (int)B, 0), *sn = sb_op_concat(sbt, (int)B, 0);
    return *cs && *sn ? SB_OK : SB_ERR;
  }
  }
}

static int run_rope(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  sb_tensor *cs, *sn;
  if (rope_tables(c, c->n_in > 1 ? in[1] : NULL, sb_tensor_dim(in[0], 0), sb_tensor_dim(in[0], 3), &cs, &sn))
    return SB_ERR;
  if (sb_tensor_requires_grad(cs) || sb_tensor_requires_grad(sn)) return sb_error("rope tables require a gradient");
  out[0] = sb_op_rope(in[0], cs, sn, c->ip[1]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_rope_tables(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  return rope_tables(c, c->n_in > 0 ? in[0] : NULL, 1, c->out[0].shape[1], &out[0], &out[1]);
}

static int run_cross_entropy(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_cross_entropy(in[0], in[1], c->ip[0], (sb_reduction)c->ip[1], (float)c->fp[0]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_linear_cross_entropy(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_linear_cross_entropy(in[0], in[1], in[2], c->ip[0], (sb_reduction)c->ip[1], (float)c->fp[0],
                                      c->ip[2]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_mse(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_mse(in[0], in[1]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_patchify(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_patchify(in[0], c->ip[0]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_mix(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_mix(in[0], in[1], in[2], (sb_mix_mode)c->ip[0]);
  return out[0] ? SB_OK : SB_ERR;
}

/* ---- compositions ---- */

/* logits = embedding(W, ids) · Wᵀ: gradients from both uses meet in W */
static int run_tied_embedding(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_linear(sb_op_embedding(in[0], in[1], -1), in[0], NULL);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_mul_self(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_mul(in[0], in[0]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_add_self(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_add(in[0], in[0]);
  return out[0] ? SB_OK : SB_ERR;
}

/* permute(f(x)): f's backward receives a permuted (non-contiguous) gradient */
static int run_unary_then_permute(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_permute(unary_op(c, in[0]), c->ip + 1);
  return out[0] ? SB_OK : SB_ERR;
}

/* concat(softmax(a), softmax(b)) along the last dim: each softmax backward
 * receives a narrowed (non-contiguous) slice of the gradient */
static int run_concat_of_softmax(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  sb_tensor *s[2] = {sb_op_softmax(in[0]), sb_op_softmax(in[1])};
  out[0] = sb_op_concat(s, 2, c->ip[0]);
  return out[0] ? SB_OK : SB_ERR;
}

static int run_x_plus_xt(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  out[0] = sb_op_add(in[0], sb_op_transpose(in[0], -1, -2));
  return out[0] ? SB_OK : SB_ERR;
}

/* ---- the table ---- */

/* a divisor-safe value range for the second operand of the binary ops */
#define B_RANGE .lo = -1.5, .hi = 1.5, .min_abs = 0.5

/* One broadcasting pattern set per binary op. */
#define BINARY_CASES(OP, NAME)                                                                         \
  {.name = NAME "/same_shape", .run = run_binary, .ref = ref_binary, .ip = {OP}, .n_in = 2,             \
   .in = {{SH(2, 3, 4)}, {SH(2, 3, 4), B_RANGE}}, .out = {{SH(2, 3, 4)}}, .fwd = T_ROUND, .grad = T_BIN(1)}, \
  {.name = NAME "/scalar_rhs", .run = run_binary, .ref = ref_binary, .ip = {OP}, .n_in = 2,             \
   .in = {{SH(2, 3, 4)}, {.ndim = 0, B_RANGE}}, .out = {{SH(2, 3, 4)}}, .fwd = T_ROUND, .grad = T_BIN(24)}, \
  {.name = NAME "/scalar_lhs", .run = run_binary, .ref = ref_binary, .ip = {OP}, .n_in = 2,             \
   .in = {{.ndim = 0}, {SH(2, 3), B_RANGE}}, .out = {{SH(2, 3)}}, .fwd = T_ROUND, .grad = T_BIN(6)},   \
  {.name = NAME "/leading_dims", .run = run_binary, .ref = ref_binary, .ip = {OP}, .n_in = 2,           \
   .in = {{SH(2, 3, 4)}, {SH(4), B_RANGE}}, .out = {{SH(2, 3, 4)}}, .fwd = T_ROUND, .grad = T_BIN(6)}, \
  {.name = NAME "/middle_dim", .run = run_binary, .ref = ref_binary, .ip = {OP}, .n_in = 2,             \
   .in = {{SH(2, 3, 4)}, {SH(2, 1, 4), B_RANGE}}, .out = {{SH(2, 3, 4)}}, .fwd = T_ROUND, .grad = T_BIN(3)}, \
  {.name = NAME "/both_broadcast", .run = run_binary, .ref = ref_binary, .ip = {OP}, .n_in = 2,         \
   .in = {{SH(2, 1, 4)}, {SH(3, 1), B_RANGE}}, .out = {{SH(2, 3, 4)}}, .fwd = T_ROUND, .grad = T_BIN(8)}, \
  {.name = NAME "/lhs_broadcast", .run = run_binary, .ref = ref_binary, .ip = {OP}, .n_in = 2,          \
   .in = {{SH(3, 1)}, {SH(2, 3, 4), B_RANGE}}, .out = {{SH(2, 3, 4)}}, .fwd = T_ROUND, .grad = T_BIN(8)}, \
  {.name = NAME "/strided", .run = run_binary, .ref = ref_binary, .ip = {OP}, .n_in = 2,                \
   .in = {{SH(4, 2, 3), .view = {PERM(1, 2, 0)}}, {SH(2, 5, 4), B_RANGE, .view = {NARROW(1, 1, 3)}}},   \
   .out = {{SH(2, 3, 4)}}, .fwd = T_ROUND, .grad = T_BIN(1)},                                          \
  {.name = NAME "/strided_bcast", .run = run_binary, .ref = ref_binary, .ip = {OP}, .n_in = 2,          \
   .in = {{SH(3, 2, 4), .view = {PERM(1, 0, 2)}}, {SH(4, 3), B_RANGE, .view = {NARROW(1, 0, 1), PERM(1, 0)}}}, \
   .out = {{SH(2, 3, 4)}}, .fwd = T_ROUND, .grad = T_BIN(6)}

#define UNARY_CASE(NAME, OP, S, C, LO, HI, MINABS, FWD, GRAD, FD)                                      \
  {.name = NAME, .run = run_unary, .ref = ref_unary, .ip = {OP}, .fp = {S, C}, .n_in = 1,               \
   .in = {{SH(3, 5), .lo = LO, .hi = HI, .min_abs = MINABS}}, .out = {{SH(3, 5)}}, .fwd = FWD,          \
   .grad = GRAD, .fd32 = FD}

#define REDUCE_CASE(NAME, DIM, KEEP, MEAN, TOL, ...)                                                    \
  {.name = NAME, .run = run_reduce, .ref = ref_reduce, .ip = {DIM, KEEP, MEAN, 0}, .n_in = 1,           \
   .in = {{SH(2, 3, 4)}}, .out = {{SH(__VA_ARGS__)}}, .fwd = TOL, .grad = TOL}

#define ATT_IN(...) {SH(__VA_ARGS__)}

const op_case g_cases[] = {
    /* ---- linear ---- */
    {.name = "linear/bias", .run = run_linear, .ref = ref_linear, .n_in = 3,
     .in = {{SH(2, 3, 5)}, {SH(4, 5)}, {SH(4)}}, .out = {{SH(2, 3, 4)}},
     .fwd = T_DOT(6), .grad = T_DOT(6), .fd32 = 1e-2},
    {.name = "linear/no_bias", .run = run_linear, .ref = ref_linear, .n_in = 2,
     .in = {{SH(2, 3, 5)}, {SH(4, 5)}}, .out = {{SH(2, 3, 4)}}, .fwd = T_DOT(5), .grad = T_DOT(6)},
    {.name = "linear/1d_input", .run = run_linear, .ref = ref_linear, .n_in = 3,
     .in = {{SH(5)}, {SH(4, 5)}, {SH(4)}}, .out = {{SH(4)}}, .fwd = T_DOT(6), .grad = T_DOT(4)},
    {.name = "linear/strided_x", .run = run_linear, .ref = ref_linear, .n_in = 3,
     .in = {{SH(5, 2, 3), .view = {PERM(1, 2, 0)}}, {SH(4, 5)}, {SH(4)}}, .out = {{SH(2, 3, 4)}},
     .fwd = T_DOT(6), .grad = T_DOT(6)},
    {.name = "linear/frozen_weight", .run = run_linear, .ref = ref_linear, .n_in = 3,
     .in = {{SH(3, 5)}, {.kind = IN_FROZEN, SH(4, 5)}, {.kind = IN_FROZEN, SH(4)}}, .out = {{SH(3, 4)}},
     .fwd = T_DOT(6), .grad = T_DOT(4)},
    {.name = "linear/frozen_input", .run = run_linear, .ref = ref_linear, .n_in = 3,
     .in = {{.kind = IN_FROZEN, SH(3, 5)}, {SH(4, 5)}, {SH(4)}}, .out = {{SH(3, 4)}},
     .fwd = T_DOT(6), .grad = T_DOT(3)},

    /* ---- matmul: all transposes, batched, a shared 2-D b ---- */
    {.name = "matmul/nn", .run = run_matmul, .ref = ref_matmul, .n_in = 2, .ip = {0, 0},
     .in = {{SH(2, 3, 4)}, {SH(2, 4, 5)}}, .out = {{SH(2, 3, 5)}}, .fwd = T_DOT(4), .grad = T_DOT(5)},
    {.name = "matmul/tn", .run = run_matmul, .ref = ref_matmul, .n_in = 2, .ip = {1, 0},
     .in = {{SH(2, 4, 3)}, {SH(2, 4, 5)}}, .out = {{SH(2, 3, 5)}}, .fwd = T_DOT(4), .grad = T_DOT(5)},
    {.name = "matmul/nt", .run = run_matmul, .ref = ref_matmul, .n_in = 2, .ip = {0, 1},
     .in = {{SH(2, 3, 4)}, {SH(2, 5, 4)}}, .out = {{SH(2, 3, 5)}}, .fwd = T_DOT(4), .grad = T_DOT(5),
     .fd32 = 1e-2},
    {.name = "matmul/tt", .run = run_matmul, .ref = ref_matmul, .n_in = 2, .ip = {1, 1},
     .in = {{SH(2, 4, 3)}, {SH(2, 5, 4)}}, .out = {{SH(2, 3, 5)}}, .fwd = T_DOT(4), .grad = T_DOT(5)},
    {.name = "matmul/2d", .run = run_matmul, .ref = ref_matmul, .n_in = 2,
     .in = {{SH(3, 4)}, {SH(4, 5)}}, .out = {{SH(3, 5)}}, .fwd = T_DOT(4), .grad = T_DOT(5)},
    {.name = "matmul/4d_batched", .run = run_matmul, .ref = ref_matmul, .n_in = 2, .ip = {0, 1},
     .in = {{SH(2, 2, 3, 4)}, {SH(2, 2, 5, 4)}}, .out = {{SH(2, 2, 3, 5)}}, .fwd = T_DOT(4), .grad = T_DOT(5)},
    {.name = "matmul/shared_b_nn", .run = run_matmul, .ref = ref_matmul, .n_in = 2, .ip = {0, 0},
     .in = {{SH(2, 3, 4)}, {SH(4, 5)}}, .out = {{SH(2, 3, 5)}}, .fwd = T_DOT(4), .grad = T_DOT(6)},
    {.name = "matmul/shared_b_tn", .run = run_matmul, .ref = ref_matmul, .n_in = 2, .ip = {1, 0},
     .in = {{SH(2, 4, 3)}, {SH(4, 5)}}, .out = {{SH(2, 3, 5)}}, .fwd = T_DOT(4), .grad = T_DOT(6)},
    {.name = "matmul/shared_b_nt", .run = run_matmul, .ref = ref_matmul, .n_in = 2, .ip = {0, 1},
     .in = {{SH(2, 3, 4)}, {SH(5, 4)}}, .out = {{SH(2, 3, 5)}}, .fwd = T_DOT(4), .grad = T_DOT(6)},
    {.name = "matmul/shared_b_tt", .run = run_matmul, .ref = ref_matmul, .n_in = 2, .ip = {1, 1},
     .in = {{SH(2, 4, 3)}, {SH(5, 4)}}, .out = {{SH(2, 3, 5)}}, .fwd = T_DOT(4), .grad = T_DOT(6)},
    {.name = "matmul/shared_b_4d", .run = run_matmul, .ref = ref_matmul, .n_in = 2, .ip = {0, 0},
     .in = {{SH(2, 2, 3, 4)}, {SH(4, 5)}}, .out = {{SH(2, 2, 3, 5)}}, .fwd = T_DOT(4), .grad = T_DOT(12)},
    {.name = "matmul/strided", .run = run_matmul, .ref = ref_matmul, .n_in = 2, .ip = {0, 1},
     .in = {{SH(4, 2, 3), .view = {PERM(1, 2, 0)}}, {SH(2, 7, 4), .view = {NARROW(1, 1, 5)}}},
     .out = {{SH(2, 3, 5)}}, .fwd = T_DOT(4), .grad = T_DOT(5)},
    {.name = "matmul/frozen_b", .run = run_matmul, .ref = ref_matmul, .n_in = 2, .ip = {1, 0},
     .in = {{SH(2, 4, 3)}, {.kind = IN_FROZEN, SH(4, 5)}}, .out = {{SH(2, 3, 5)}}, .fwd = T_DOT(4),
     .grad = T_DOT(5)},

    /* ---- broadcasting binary ops ---- */
    BINARY_CASES(SB_BINARY_ADD, "add"),
    BINARY_CASES(SB_BINARY_SUB, "sub"),
    BINARY_CASES(SB_BINARY_MUL, "mul"),
    BINARY_CASES(SB_BINARY_DIV, "div"),
    {.name = "div/fd32", .run = run_binary, .ref = ref_binary, .ip = {SB_BINARY_DIV}, .n_in = 2,
     .in = {{SH(2, 3)}, {SH(3), B_RANGE}}, .out = {{SH(2, 3)}}, .fwd = T_ROUND, .grad = T_BIN(2), .fd32 = 1e-2},
    {.name = "mul/frozen_rhs", .run = run_binary, .ref = ref_binary, .ip = {SB_BINARY_MUL}, .n_in = 2,
     .in = {{SH(2, 3)}, {.kind = IN_FROZEN, SH(3)}}, .out = {{SH(2, 3)}}, .fwd = T_ROUND, .grad = T_BIN(1)},

    /* ---- scale, affine and the activation functions (x in [-3, 3]) ---- */
    UNARY_CASE("scale", UN_SCALE, 2.5, 0, -3, 3, 0, T_ROUND, T_ROUND, 0),
    UNARY_CASE("affine", UN_AFFINE, -1.5, 0.75, -3, 3, 0, T_AFFINE, T_ROUND, 0),
    UNARY_CASE("gelu", UN_GELU, 0, 0, -3, 3, 0, T_LIBM, T_LIBM, 1e-2),
    UNARY_CASE("gelu_tanh", UN_GELU_TANH, 0, 0, -3, 3, 0, T_LIBM, T_LIBM, 0),
    UNARY_CASE("silu", UN_SILU, 0, 0, -3, 3, 0, T_LIBM, T_LIBM, 0),
    UNARY_CASE("sigmoid", UN_SIGMOID, 0, 0, -3, 3, 0, T_LIBM, T_LIBM, 0),
    UNARY_CASE("tanh", UN_TANH, 0, 0, -3, 3, 0, T_LIBM, T_LIBM, 1e-2),
    /* relu: |x| >= 0.05, far from the kink at 0 compared with the 1e-6 step */
    UNARY_CASE("relu", UN_RELU, 0, 0, -3, 3, 0.05, T_EXACT, T_EXACT, 0),
    UNARY_CASE("exp", UN_EXP, 0, 0, -2, 2, 0, T_LIBM, T_LIBM, 1e-2),
    UNARY_CASE("square", UN_SQUARE, 0, 0, -3, 3, 0, T_ROUND, T_ROUND, 0),
    {.name = "gelu/strided", .run = run_unary, .ref = ref_unary, .ip = {UN_GELU}, .n_in = 1,
     .in = {{SH(5, 3), .lo = -3, .hi = 3, .view = {PERM(1, 0)}}}, .out = {{SH(3, 5)}},
     .fwd = T_LIBM, .grad = T_LIBM},
    {.name = "swiglu", .run = run_swiglu, .ref = ref_swiglu, .n_in = 2,
     .in = {{SH(2, 3, 4), .lo = -3, .hi = 3}, {SH(2, 3, 4)}}, .out = {{SH(2, 3, 4)}},
     .fwd = T_LIBM, .grad = T_LIBM, .fd32 = 1e-2},
    {.name = "swiglu/frozen_up_strided", .run = run_swiglu, .ref = ref_swiglu, .n_in = 2,
     .in = {{SH(4, 3), .lo = -3, .hi = 3, .view = {PERM(1, 0)}}, {.kind = IN_FROZEN, SH(3, 4)}},
     .out = {{SH(3, 4)}}, .fwd = T_LIBM, .grad = T_LIBM},

    /* ---- reductions: each dim, keepdim on and off, sum and mean ---- */
    REDUCE_CASE("sum/dim0_keep", 0, 1, 0, T_ROUND, 1, 3, 4),
    REDUCE_CASE("sum/dim0", 0, 0, 0, T_ROUND, 3, 4),
    REDUCE_CASE("sum/dim1_keep", 1, 1, 0, T_ROUND, 2, 1, 4),
    REDUCE_CASE("sum/dim1", 1, 0, 0, T_ROUND, 2, 4),
    REDUCE_CASE("sum/dim2_keep", 2, 1, 0, T_ROUND, 2, 3, 1),
    REDUCE_CASE("sum/dim2", 2, 0, 0, T_ROUND, 2, 3),
    REDUCE_CASE("sum/dim-1_keep", -1, 1, 0, T_ROUND, 2, 3, 1),
    REDUCE_CASE("sum/dim-2", -2, 0, 0, T_ROUND, 2, 4),
    REDUCE_CASE("mean/dim0_keep", 0, 1, 1, T_ROUND2, 1, 3, 4),
    REDUCE_CASE("mean/dim0", 0, 0, 1, T_ROUND2, 3, 4),
    REDUCE_CASE("mean/dim1_keep", 1, 1, 1, T_ROUND2, 2, 1, 4),
    REDUCE_CASE("mean/dim1", 1, 0, 1, T_ROUND2, 2, 4),
    REDUCE_CASE("mean/dim2_keep", 2, 1, 1, T_ROUND2, 2, 3, 1),
    REDUCE_CASE("mean/dim2", 2, 0, 1, T_ROUND2, 2, 3),
    REDUCE_CASE("mean/dim-1", -1, 0, 1, T_ROUND2, 2, 3),
    REDUCE_CASE("mean/dim-3_keep", -3, 1, 1, T_ROUND2, 1, 3, 4),
    {.name = "sum_all", .run = run_reduce, .ref = ref_reduce, .ip = {0, 0, 0, 1}, .n_in = 1,
     .in = {{SH(2, 3, 4)}}, .out = {{.ndim = 0}}, .fwd = T_ROUND, .grad = T_ROUND},
    {.name = "mean_all", .run = run_reduce, .ref = ref_reduce, .ip = {0, 0, 1, 1}, .n_in = 1,
     .in = {{SH(2, 3, 4)}}, .out = {{.ndim = 0}}, .fwd = T_ROUND2, .grad = T_ROUND2},
    {.name = "sum/strided_dim1", .run = run_reduce, .ref = ref_reduce, .ip = {1, 0, 0, 0}, .n_in = 1,
     .in = {{SH(4, 2, 3), .view = {PERM(1, 2, 0)}}}, .out = {{SH(2, 4)}}, .fwd = T_ROUND, .grad = T_ROUND},
    {.name = "mean_all/strided", .run = run_reduce, .ref = ref_reduce, .ip = {0, 0, 1, 1}, .n_in = 1,
     .in = {{SH(3, 5), .view = {NARROW(1, 1, 3)}}}, .out = {{.ndim = 0}}, .fwd = T_ROUND2, .grad = T_ROUND2},

    /* ---- shapes and copies ---- */
    {.name = "reshape/infer", .run = run_reshape, .ref = ref_identity, .ip = {2, 4, -1}, .n_in = 1,
     .in = {{SH(2, 3, 4)}}, .out = {{SH(4, 6)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "reshape/flat_infer", .run = run_reshape, .ref = ref_identity, .ip = {1, -1}, .n_in = 1,
     .in = {{SH(2, 3, 4)}}, .out = {{SH(24)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "reshape/more_dims", .run = run_reshape, .ref = ref_identity, .ip = {4, 2, -1, 2, 3}, .n_in = 1,
     .in = {{SH(4, 6)}}, .out = {{SH(2, 2, 2, 3)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "reshape/of_strided", .run = run_reshape, .ref = ref_identity, .ip = {2, -1, 4}, .n_in = 1,
     .in = {{SH(4, 2, 3), .view = {PERM(1, 2, 0)}}}, .out = {{SH(6, 4)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "permute/3d", .run = run_permute, .ref = ref_permute, .ip = {2, 0, 1}, .n_in = 1,
     .in = {{SH(2, 3, 4)}}, .out = {{SH(4, 2, 3)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "permute/4d", .run = run_permute, .ref = ref_permute, .ip = {0, 2, 1, 3}, .n_in = 1,
     .in = {{SH(2, 3, 4, 2)}}, .out = {{SH(2, 4, 3, 2)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "permute/of_narrowed", .run = run_permute, .ref = ref_permute, .ip = {1, 0}, .n_in = 1,
     .in = {{SH(3, 6), .view = {NARROW(1, 2, 3)}}}, .out = {{SH(3, 3)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "transpose/0_2", .run = run_transpose, .ref = ref_transpose, .ip = {0, 2}, .n_in = 1,
     .in = {{SH(2, 3, 4)}}, .out = {{SH(4, 3, 2)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "transpose/-1_-2", .run = run_transpose, .ref = ref_transpose, .ip = {-1, -2}, .n_in = 1,
     .in = {{SH(2, 3, 4)}}, .out = {{SH(2, 4, 3)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "narrow/dim1", .run = run_narrow, .ref = ref_narrow, .ip = {1, 1, 2}, .n_in = 1,
     .in = {{SH(2, 4, 3)}}, .out = {{SH(2, 2, 3)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "narrow/dim-1", .run = run_narrow, .ref = ref_narrow, .ip = {-1, 2, 3}, .n_in = 1,
     .in = {{SH(2, 6)}}, .out = {{SH(2, 3)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "narrow/of_permuted", .run = run_narrow, .ref = ref_narrow, .ip = {0, 1, 2}, .n_in = 1,
     .in = {{SH(4, 3), .view = {PERM(1, 0)}}}, .out = {{SH(2, 4)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "slice/negative", .run = run_slice, .ref = ref_slice, .ip = {1, -3, -1}, .n_in = 1,
     .in = {{SH(2, 5, 3)}}, .out = {{SH(2, 2, 3)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "slice/end_clamped", .run = run_slice, .ref = ref_slice, .ip = {0, 1, 100}, .n_in = 1,
     .in = {{SH(3, 4)}}, .out = {{SH(2, 4)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "slice/start_clamped", .run = run_slice, .ref = ref_slice, .ip = {-1, -10, 2}, .n_in = 1,
     .in = {{SH(3, 4)}}, .out = {{SH(3, 2)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "slice/empty", .run = run_slice, .ref = ref_slice, .ip = {1, 3, 1}, .n_in = 1,
     .in = {{SH(2, 5, 3)}}, .out = {{SH(2, 0, 3)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "contiguous/of_permuted", .run = run_contiguous, .ref = ref_identity, .n_in = 1,
     .in = {{SH(2, 3, 4), .view = {PERM(2, 0, 1)}}}, .out = {{SH(4, 2, 3)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "contiguous/already", .run = run_contiguous, .ref = ref_identity, .n_in = 1,
     .in = {{SH(3, 4)}}, .out = {{SH(3, 4)}}, .fwd = T_EXACT, .grad = T_EXACT},

    /* ---- casts: ties to even, f16 subnormals and overflow; straight-through gradient ---- */
    {.name = "cast/f32_to_bf16", .run = run_cast, .ref = ref_cast, .ref_grad = ref_grad_cast,
     .ip = {SB_DTYPE_BF16}, .n_in = 1,
     .in = {{SH(4, 5), VALS(1.00390625, 1.01171875, -1.00390625, 3.0e-39, 1e-3, -2.5e38)}},
     .out = {{.dtype = SB_DTYPE_BF16, SH(4, 5)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "cast/f32_to_f16", .run = run_cast, .ref = ref_cast, .ref_grad = ref_grad_cast,
     .ip = {SB_DTYPE_F16}, .n_in = 1,
     .in = {{SH(4, 5), VALS(1.00048828125, 1.00146484375, 3e-6, 0x1p-25, 0x3p-25, 0x1p-26, 65519, 65520,
                            70000, -70000, -3e-6, 6.1e-5)}},
     .out = {{.dtype = SB_DTYPE_F16, SH(4, 5)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "cast/bf16_to_f32", .run = run_cast, .ref = ref_cast, .ref_grad = ref_grad_cast,
     .ip = {SB_DTYPE_F32}, .n_in = 1, .in = {{.dtype = SB_DTYPE_BF16, SH(3, 4), .lo = -3, .hi = 3}},
     .out = {{SH(3, 4)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "cast/f16_to_f32", .run = run_cast, .ref = ref_cast, .ref_grad = ref_grad_cast,
     .ip = {SB_DTYPE_F32}, .n_in = 1,
     .in = {{.dtype = SB_DTYPE_F16, SH(3, 4), .lo = -3, .hi = 3, VALS(0x1p-24, -0x3p-20, 65504)}},
     .out = {{SH(3, 4)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "cast/bf16_to_f16", .run = run_cast, .ref = ref_cast, .ref_grad = ref_grad_cast,
     .ip = {SB_DTYPE_F16}, .n_in = 1, .in = {{.dtype = SB_DTYPE_BF16, SH(3, 4), .lo = -3, .hi = 3}},
     .out = {{.dtype = SB_DTYPE_F16, SH(3, 4)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "cast/strided_f32_to_bf16", .run = run_cast, .ref = ref_cast, .ip = {SB_DTYPE_BF16},
     .n_in = 1, .in = {{.kind = IN_FROZEN, SH(4, 3), .view = {PERM(1, 0)}}},
     .out = {{.dtype = SB_DTYPE_BF16, SH(3, 4)}}, .fwd = T_EXACT},
    /* integer casts: forward only (truncation toward zero, as C and PyTorch) */
    {.name = "cast/f32_to_i32", .run = run_cast, .ref = ref_cast, .ip = {SB_DTYPE_I32}, .n_in = 1,
     .in = {{.kind = IN_FROZEN, SH(2, 5), .lo = -50, .hi = 50, VALS(-2.7, 3.9, -0.5, 0.5)}},
     .out = {{.dtype = SB_DTYPE_I32, SH(2, 5)}}, .fwd = T_EXACT},
    {.name = "cast/i64_to_f32", .run = run_cast, .ref = ref_cast, .ip = {SB_DTYPE_F32}, .n_in = 1,
     .in = {{.kind = IN_INDEX, .dtype = SB_DTYPE_I64, SH(2, 4), .lo = -1000, .hi = 1000,
             VALS(16777217, -16777219, 0x1p40 + 1)}},
     .out = {{SH(2, 4)}}, .fwd = T_EXACT},
    {.name = "cast/i32_to_i64", .run = run_cast, .ref = ref_cast, .ip = {SB_DTYPE_I64}, .n_in = 1,
     .in = {{.kind = IN_INDEX, .dtype = SB_DTYPE_I32, SH(6), .lo = -1000, .hi = 1000}},
     .out = {{.dtype = SB_DTYPE_I64, SH(6)}}, .fwd = T_EXACT},
    {.name = "cast/i64_to_i32", .run = run_cast, .ref = ref_cast, .ip = {SB_DTYPE_I32}, .n_in = 1,
     .in = {{.kind = IN_INDEX, .dtype = SB_DTYPE_I64, SH(6), .lo = -100000, .hi = 100000}},
     .out = {{.dtype = SB_DTYPE_I32, SH(6)}}, .fwd = T_EXACT},
    {.name = "cast/u8_to_f32", .run = run_cast, .ref = ref_cast, .ip = {SB_DTYPE_F32}, .n_in = 1,
     .in = {{.kind = IN_INDEX, .dtype = SB_DTYPE_U8, SH(2, 3), .lo = 0, .hi = 255, VALS(0, 255)}},
     .out = {{SH(2, 3)}}, .fwd = T_EXACT},

    /* ---- concat (several inputs, each dim) and split ---- */
    {.name = "concat/dim0", .run = run_concat, .ref = ref_concat, .ip = {0}, .n_in = 3,
     .in = {{SH(1, 3, 2)}, {SH(2, 3, 2)}, {SH(1, 3, 2)}}, .out = {{SH(4, 3, 2)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "concat/dim1", .run = run_concat, .ref = ref_concat, .ip = {1}, .n_in = 3,
     .in = {{SH(2, 1, 4)}, {SH(2, 3, 4)}, {SH(2, 2, 4)}}, .out = {{SH(2, 6, 4)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "concat/dim-1", .run = run_concat, .ref = ref_concat, .ip = {-1}, .n_in = 3,
     .in = {{SH(2, 3, 1)}, {SH(2, 3, 2)}, {SH(2, 3, 3)}}, .out = {{SH(2, 3, 6)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "concat/strided_and_frozen", .run = run_concat, .ref = ref_concat, .ip = {1}, .n_in = 3,
     .in = {{SH(3, 2), .view = {PERM(1, 0)}}, {.kind = IN_FROZEN, SH(2, 2)}, {SH(2, 5), .view = {NARROW(1, 1, 2)}}},
     .out = {{SH(2, 7)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "concat/ten_inputs", .run = run_concat, .ref = ref_concat, .ip = {0}, .n_in = 10,
     .in = {{SH(1, 3)}, {SH(2, 3)}, {SH(1, 3)}, {SH(1, 3)}, {SH(1, 3)}, {SH(1, 3)}, {SH(3, 3)}, {SH(1, 3)},
            {SH(1, 3)}, {SH(2, 3)}},
     .out = {{SH(14, 3)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "split/dim1", .run = run_split, .ref = ref_split, .ip = {1, 3, 1, 3, 2}, .n_in = 1, .n_out = 3,
     .in = {{SH(4, 6)}}, .out = {{SH(4, 1)}, {SH(4, 3)}, {SH(4, 2)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "split/dim0", .run = run_split, .ref = ref_split, .ip = {0, 2, 3, 1}, .n_in = 1, .n_out = 2,
     .in = {{SH(4, 2, 3)}}, .out = {{SH(3, 2, 3)}, {SH(1, 2, 3)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "split/dim-1", .run = run_split, .ref = ref_split, .ip = {-1, 2, 2, 2}, .n_in = 1, .n_out = 2,
     .in = {{SH(2, 3, 4)}}, .out = {{SH(2, 3, 2)}, {SH(2, 3, 2)}}, .fwd = T_EXACT, .grad = T_EXACT},

    /* ---- index_select (each dim, repeated indices) and embedding ---- */
    {.name = "index_select/dim0_i64", .run = run_index_select, .ref = ref_index_select, .ip = {0}, .n_in = 2,
     .in = {{SH(3, 4, 5)}, {.kind = IN_INDEX, .dtype = SB_DTYPE_I64, SH(4), VALS(2, 0, 2, 1)}},
     .out = {{SH(4, 4, 5)}}, .fwd = T_EXACT, .grad = T_SCATTER},
    {.name = "index_select/dim1_i32", .run = run_index_select, .ref = ref_index_select, .ip = {1}, .n_in = 2,
     .in = {{SH(3, 4, 5)}, {.kind = IN_INDEX, .dtype = SB_DTYPE_I32, SH(3), VALS(3, 3, 0)}},
     .out = {{SH(3, 3, 5)}}, .fwd = T_EXACT, .grad = T_SCATTER},
    {.name = "index_select/dim2_i64", .run = run_index_select, .ref = ref_index_select, .ip = {2}, .n_in = 2,
     .in = {{SH(3, 4, 5)}, {.kind = IN_INDEX, .dtype = SB_DTYPE_I64, SH(5), VALS(4, 0, 4, 4, 1)}},
     .out = {{SH(3, 4, 5)}}, .fwd = T_EXACT, .grad = T_SCATTER},
    {.name = "index_select/dim-2_strided", .run = run_index_select, .ref = ref_index_select, .ip = {-2},
     .n_in = 2, .in = {{SH(4, 3), .view = {PERM(1, 0)}}, {.kind = IN_INDEX, .dtype = SB_DTYPE_I32, SH(4), VALS(1, 2, 1, 0)}},
     .out = {{SH(4, 4)}}, .fwd = T_EXACT, .grad = T_SCATTER},
    {.name = "embedding/padding_idx", .run = run_embedding, .ref = ref_embedding,
     .ref_grad = ref_grad_embedding, .ip = {2}, .n_in = 2,
     .in = {{SH(6, 4)}, {.kind = IN_INDEX, .dtype = SB_DTYPE_I64, SH(2, 3), VALS(1, 2, 1, 5, 2, 0)}},
     .out = {{SH(2, 3, 4)}}, .fwd = T_EXACT, .grad = T_SCATTER},
    {.name = "embedding/repeated_i32", .run = run_embedding, .ref = ref_embedding, .ip = {-1}, .n_in = 2,
     .in = {{SH(5, 3)}, {.kind = IN_INDEX, .dtype = SB_DTYPE_I32, SH(7), VALS(4, 0, 4, 1, 4, 0, 3)}},
     .out = {{SH(7, 3)}}, .fwd = T_EXACT, .grad = T_SCATTER},
    {.name = "embedding/padding_absent", .run = run_embedding, .ref = ref_embedding,
     .ref_grad = ref_grad_embedding, .ip = {5}, .n_in = 2,
     .in = {{SH(6, 2)}, {.kind = IN_INDEX, .dtype = SB_DTYPE_I64, SH(4), VALS(0, 1, 1, 3)}},
     .out = {{SH(4, 2)}}, .fwd = T_EXACT, .grad = T_SCATTER},

    /* ---- layer norm and RMS norm (x in [-1, 3]: a non-zero mean) ---- */
    {.name = "layer_norm/weight_bias", .run = run_layer_norm, .ref = ref_layer_norm, .ip = {1, 1},
     .fp = {1e-5}, .n_in = 3, .in = {{SH(2, 3, 8), .lo = -1, .hi = 3}, {SH(8), .lo = -1.5, .hi = 1.5}, {SH(8)}},
     .out = {{SH(2, 3, 8)}}, .fwd = T_NORM(6), .grad = T_NORM(6), .fd32 = 1e-2},
    {.name = "layer_norm/weight_only", .run = run_layer_norm, .ref = ref_layer_norm, .ip = {1, 0},
     .fp = {1e-5}, .n_in = 2, .in = {{SH(3, 8), .lo = -1, .hi = 3}, {SH(8), .lo = -1.5, .hi = 1.5}},
     .out = {{SH(3, 8)}}, .fwd = T_NORM(3), .grad = T_NORM(3)},
    {.name = "layer_norm/bias_only", .run = run_layer_norm, .ref = ref_layer_norm, .ip = {0, 1},
     .fp = {1e-5}, .n_in = 2, .in = {{SH(3, 8), .lo = -1, .hi = 3}, {SH(8)}},
     .out = {{SH(3, 8)}}, .fwd = T_NORM(3), .grad = T_NORM(3)},
    {.name = "layer_norm/plain", .run = run_layer_norm, .ref = ref_layer_norm, .ip = {0, 0},
     .fp = {1e-5}, .n_in = 1, .in = {{SH(4, 8), .lo = -1, .hi = 3}},
     .out = {{SH(4, 8)}}, .fwd = T_NORM(4), .grad = T_NORM(4)},
    /* eps comparable to the variance, so where eps enters shows */
    {.name = "layer_norm/large_eps", .run = run_layer_norm, .ref = ref_layer_norm, .ip = {1, 1},
     .fp = {0.25}, .n_in = 3, .in = {{SH(3, 6)}, {SH(6), .lo = -1.5, .hi = 1.5}, {SH(6)}},
     .out = {{SH(3, 6)}}, .fwd = T_NORM(3), .grad = T_NORM(3)},
    {.name = "layer_norm/frozen_params_strided", .run = run_layer_norm, .ref = ref_layer_norm, .ip = {1, 1},
     .fp = {1e-5}, .n_in = 3,
     .in = {{SH(8, 3), .lo = -1, .hi = 3, .view = {PERM(1, 0)}}, {.kind = IN_FROZEN, SH(8), .lo = -1.5, .hi = 1.5},
            {.kind = IN_FROZEN, SH(8)}},
     .out = {{SH(3, 8)}}, .fwd = T_NORM(3), .grad = T_NORM(3)},
    {.name = "layer_norm/frozen_input", .run = run_layer_norm, .ref = ref_layer_norm, .ip = {1, 1},
     .fp = {1e-5}, .n_in = 3, .in = {{.kind = IN_FROZEN, SH(5, 8), .lo = -1, .hi = 3}, {SH(8), .lo = -1.5, .hi = 1.5}, {SH(8)}},
     .out = {{SH(5, 8)}}, .fwd = T_NORM(5), .grad = T_NORM(5)},
    {.name = "rms_norm/weight", .run = run_rms_norm, .ref = ref_rms_norm, .ip = {1}, .fp = {1e-6}, .n_in = 2,
     .in = {{SH(2, 3, 8)}, {SH(8), .lo = -1.5, .hi = 1.5}}, .out = {{SH(2, 3, 8)}},
     .fwd = T_NORM(6), .grad = T_NORM(6), .fd32 = 1e-2},
    {.name = "rms_norm/plain", .run = run_rms_norm, .ref = ref_rms_norm, .ip = {0}, .fp = {1e-6}, .n_in = 1,
     .in = {{SH(4, 8)}}, .out = {{SH(4, 8)}}, .fwd = T_NORM(4), .grad = T_NORM(4)},
    {.name = "rms_norm/large_eps", .run = run_rms_norm, .ref = ref_rms_norm, .ip = {1}, .fp = {0.25}, .n_in = 2,
     .in = {{SH(3, 6)}, {SH(6), .lo = -1.5, .hi = 1.5}}, .out = {{SH(3, 6)}}, .fwd = T_NORM(3), .grad = T_NORM(3)},
    {.name = "rms_norm/frozen_weight_strided", .run = run_rms_norm, .ref = ref_rms_norm, .ip = {1}, .fp = {1e-6},
     .n_in = 2, .in = {{SH(8, 3), .view = {PERM(1, 0)}}, {.kind = IN_FROZEN, SH(8), .lo = -1.5, .hi = 1.5}},
     .out = {{SH(3, 8)}}, .fwd = T_NORM(3), .grad = T_NORM(3)},

    /* ---- softmax ---- */
    {.name = "softmax/2d", .run = run_softmax, .ref = ref_softmax, .n_in = 1,
     .in = {{SH(3, 7), .lo = -3, .hi = 3}}, .out = {{SH(3, 7)}}, .fwd = T_SOFTMAX, .grad = T_SOFTMAX, .fd32 = 1e-2},
    {.name = "softmax/3d", .run = run_softmax, .ref = ref_softmax, .n_in = 1,
     .in = {{SH(2, 2, 5), .lo = -3, .hi = 3}}, .out = {{SH(2, 2, 5)}}, .fwd = T_SOFTMAX, .grad = T_SOFTMAX},
    {.name = "softmax/strided", .run = run_softmax, .ref = ref_softmax, .n_in = 1,
     .in = {{SH(7, 3), .lo = -3, .hi = 3, .view = {PERM(1, 0)}}}, .out = {{SH(3, 7)}},
     .fwd = T_SOFTMAX, .grad = T_SOFTMAX},
    {.name = "softmax/large_logits", .run = run_softmax, .ref = ref_softmax, .n_in = 1,
     .in = {{SH(2, 6), .lo = 40, .hi = 44}}, .out = {{SH(2, 6)}}, .fwd = T_SOFTMAX, .grad = T_SOFTMAX},

    /* ---- attention: q [B, Tq, Hq, hd], k, v [B, Tk, Hkv, hd] ---- */
    {.name = "attention/mha", .run = run_attention, .ref = ref_attention, .n_in = 3,
     .in = {ATT_IN(2, 5, 2, 8), ATT_IN(2, 5, 2, 8), ATT_IN(2, 5, 2, 8)}, .out = {{SH(2, 5, 2, 8)}},
     .fwd = T_ATTN(8), .grad = T_ATTN(8)},
    {.name = "attention/gqa_causal", .run = run_attention, .ref = ref_attention, .ip = {1}, .n_in = 3,
     .in = {ATT_IN(2, 5, 4, 8), ATT_IN(2, 5, 2, 8), ATT_IN(2, 5, 2, 8)}, .out = {{SH(2, 5, 4, 8)}},
     .fwd = T_ATTN(8), .grad = T_ATTN(8), .fd32 = 1e-2},
    {.name = "attention/mask_u8", .run = run_attention, .ref = ref_attention, .ip = {0, 1}, .n_in = 4,
     .in = {ATT_IN(2, 5, 2, 8), ATT_IN(2, 5, 2, 8), ATT_IN(2, 5, 2, 8),
            {.kind = IN_INDEX, .dtype = SB_DTYPE_U8, SH(2, 5), VALS(1, 1, 0, 1, 1, 1, 0, 1, 1, 0)}},
     .out = {{SH(2, 5, 2, 8)}}, .fwd = T_ATTN(8), .grad = T_ATTN(8)},
    /* batch 1 hides key 0, so its query 0 (causal: sees key 0 only) sees nothing */
    {.name = "attention/gqa_causal_mask_i32", .run = run_attention, .ref = ref_attention, .ip = {1, 1}, .n_in = 4,
     .in = {ATT_IN(2, 5, 4, 8), ATT_IN(2, 5, 2, 8), ATT_IN(2, 5, 2, 8),
            {.kind = IN_INDEX, .dtype = SB_DTYPE_I32, SH(2, 5), VALS(1, 1, 1, 0, 1, 0, 1, 1, 1, 1)}},
     .out = {{SH(2, 5, 4, 8)}}, .fwd = T_ATTN(8), .grad = T_ATTN(8), .fd32 = 1e-2},
    /* batch 1 masks every key: all its query rows are 0 */
    {.name = "attention/mask_i64_all_masked", .run = run_attention, .ref = ref_attention, .ip = {0, 1}, .n_in = 4,
     .in = {ATT_IN(2, 4, 2, 8), ATT_IN(2, 4, 2, 8), ATT_IN(2, 4, 2, 8),
            {.kind = IN_INDEX, .dtype = SB_DTYPE_I64, SH(2, 4), VALS(1, 0, 1, 1, 0, 0, 0, 0)}},
     .out = {{SH(2, 4, 2, 8)}}, .fwd = T_ATTN(8), .grad = T_ATTN(8)},
    {.name = "attention/causal_tq_lt_tk", .run = run_attention, .ref = ref_attention, .ip = {1}, .n_in = 3,
     .in = {ATT_IN(2, 3, 2, 8), ATT_IN(2, 5, 2, 8), ATT_IN(2, 5, 2, 8)}, .out = {{SH(2, 3, 2, 8)}},
     .fwd = T_ATTN(8), .grad = T_ATTN(8)},
    /* Tq > Tk: queries 0 and 1 see no key (j <= i - 2) */
    {.name = "attention/causal_tq_gt_tk", .run = run_attention, .ref = ref_attention, .ip = {1}, .n_in = 3,
     .in = {ATT_IN(2, 5, 2, 8), ATT_IN(2, 3, 2, 8), ATT_IN(2, 3, 2, 8)}, .out = {{SH(2, 5, 2, 8)}},
     .fwd = T_ATTN(8), .grad = T_ATTN(8)},
    /* q, k, v narrowed out of one fused [B, T, 3, H, hd] tensor (seen as [B, T, 3H, hd]) */
    {.name = "attention/fused_qkv_views", .run = run_attention, .ref = ref_attention, .ip = {1}, .n_in = 3,
     .in = {{SH(2, 5, 3, 2, 8), .view = {RESHAPE(2, 5, 6, 8), NARROW(2, 0, 2)}},
            {.alias = 1, .view = {RESHAPE(2, 5, 6, 8), NARROW(2, 2, 2)}},
            {.alias = 1, .view = {RESHAPE(2, 5, 6, 8), NARROW(2, 4, 2)}}},
     .out = {{SH(2, 5, 2, 8)}}, .fwd = T_ATTN(8), .grad = T_ATTN(8)},
    /* head-major [B, H, T, hd] storage seen through a transpose */
    {.name = "attention/head_major_views", .run = run_attention, .ref = ref_attention, .n_in = 3,
     .in = {{SH(2, 4, 5, 8), .view = {PERM(0, 2, 1, 3)}}, {SH(2, 2, 5, 8), .view = {PERM(0, 2, 1, 3)}},
            {SH(2, 2, 5, 8), .view = {PERM(0, 2, 1, 3)}}},
     .out = {{SH(2, 5, 4, 8)}}, .fwd = T_ATTN(8), .grad = T_ATTN(8)},
    /* head_dim not contiguous: the op must copy */
    {.name = "attention/strided_head_dim", .run = run_attention, .ref = ref_attention, .ip = {1}, .n_in = 3,
     .in = {{SH(2, 5, 8, 2), .view = {PERM(0, 1, 3, 2)}}, {SH(2, 5, 8, 2), .view = {PERM(0, 1, 3, 2)}},
            ATT_IN(2, 5, 2, 8)},
     .out = {{SH(2, 5, 2, 8)}}, .fwd = T_ATTN(8), .grad = T_ATTN(8)},
    {.name = "attention/custom_scale", .run = run_attention, .ref = ref_attention, .fp = {0.7}, .n_in = 3,
     .in = {ATT_IN(1, 4, 4, 8), ATT_IN(1, 6, 1, 8), ATT_IN(1, 6, 1, 8)}, .out = {{SH(1, 4, 4, 8)}},
     .fwd = T_ATTN(8), .grad = T_ATTN(8)},
    {.name = "attention/frozen_kv", .run = run_attention, .ref = ref_attention, .ip = {1}, .n_in = 3,
     .in = {ATT_IN(2, 4, 2, 8), {.kind = IN_FROZEN, SH(2, 4, 2, 8)}, {.kind = IN_FROZEN, SH(2, 4, 2, 8)}},
     .out = {{SH(2, 4, 2, 8)}}, .fwd = T_ATTN(8), .grad = T_ATTN(8)},

    /* ---- rotary embedding ---- */
    {.name = "rope/1d_positions_i64", .run = run_rope, .ref = ref_rope, .ip = {ROPE_1D_POS, 0, 5},
     .fp = {10000}, .n_in = 2,
     .in = {{SH(2, 5, 2, 8)}, {.kind = IN_INDEX, .dtype = SB_DTYPE_I64, SH(5), VALS(3, 7, 1, 12, 0)}},
     .out = {{SH(2, 5, 2, 8)}}, .fwd = T_ROPE(12), .grad = T_ROPE(12), .fd32 = 1e-2},
    {.name = "rope/1d_positions_i32_first2", .run = run_rope, .ref = ref_rope, .ip = {ROPE_1D_POS, 2, 4},
     .fp = {10000}, .n_in = 2,
     .in = {{SH(2, 6, 2, 8)}, {.kind = IN_INDEX, .dtype = SB_DTYPE_I32, SH(4), VALS(5, 6, 7, 8)}},
     .out = {{SH(2, 6, 2, 8)}}, .fwd = T_ROPE(8), .grad = T_ROPE(8)},
    {.name = "rope/1d_null_positions", .run = run_rope, .ref = ref_rope, .ip = {ROPE_1D_NULL, 0, 4},
     .fp = {1000000}, .n_in = 1, .in = {{SH(1, 4, 3, 4)}}, .out = {{SH(1, 4, 3, 4)}},
     .fwd = T_ROPE(3), .grad = T_ROPE(3)},
    {.name = "rope/2d_axial_first2", .run = run_rope, .ref = ref_rope, .ip = {ROPE_2D, 2, 2, 3}, .fp = {100},
     .n_in = 1, .in = {{SH(2, 8, 2, 8)}}, .out = {{SH(2, 8, 2, 8)}}, .fwd = T_ROPE(7), .grad = T_ROPE(7),
     .fd32 = 1e-2},
    {.name = "rope/batched_tables_first1", .run = run_rope, .ref = ref_rope, .ip = {ROPE_1D_BATCHED, 1, 4},
     .fp = {10000}, .n_in = 2,
     .in = {{SH(2, 5, 2, 8)}, {.kind = IN_INDEX, .dtype = SB_DTYPE_I64, SH(2, 4), VALS(0, 1, 2, 3, 10, 11, 12, 13)}},
     .out = {{SH(2, 5, 2, 8)}}, .fwd = T_ROPE(13), .grad = T_ROPE(13)},
    /* tokens before and after the rotated range pass unchanged */
    {.name = "rope/1d_middle_range", .run = run_rope, .ref = ref_rope, .ip = {ROPE_1D_NULL, 1, 3},
     .fp = {10000}, .n_in = 1, .in = {{SH(1, 6, 2, 8)}}, .out = {{SH(1, 6, 2, 8)}},
     .fwd = T_ROPE(2), .grad = T_ROPE(2)},
    {.name = "rope/strided_x", .run = run_rope, .ref = ref_rope, .ip = {ROPE_1D_NULL, 0, 5}, .fp = {10000},
     .n_in = 1, .in = {{SH(2, 2, 5, 8), .view = {PERM(0, 2, 1, 3)}}}, .out = {{SH(2, 5, 2, 8)}},
     .fwd = T_ROPE(4), .grad = T_ROPE(4)},
    {.name = "rope_tables/1d_positions", .run = run_rope_tables, .ref = ref_rope_tables,
     .ip = {ROPE_1D_POS, 0, 5}, .fp = {10000}, .n_in = 1, .n_out = 2,
     .in = {{.kind = IN_INDEX, .dtype = SB_DTYPE_I64, SH(5), VALS(0, 1, 7, 31, 100)}},
     .out = {{SH(5, 8)}, {SH(5, 8)}}, .fwd = T_ROPE(100)},
    {.name = "rope_tables/1d_null", .run = run_rope_tables, .ref = ref_rope_tables,
     .ip = {ROPE_1D_NULL, 0, 6}, .fp = {10000}, .n_in = 0, .n_out = 2,
     .out = {{SH(6, 16)}, {SH(6, 16)}}, .fwd = T_ROPE(5)},
    {.name = "rope_tables/2d", .run = run_rope_tables, .ref = ref_rope_tables, .ip = {ROPE_2D, 0, 3, 2},
     .fp = {100}, .n_in = 0, .n_out = 2, .out = {{SH(6, 8)}, {SH(6, 8)}}, .fwd = T_ROPE(7)},
    {.name = "rope_tables/2d_non_square", .run = run_rope_tables, .ref = ref_rope_tables,
     .ip = {ROPE_2D, 0, 4, 5}, .fp = {100}, .n_in = 0, .n_out = 2, .out = {{SH(20, 16)}, {SH(20, 16)}},
     .fwd = T_ROPE(7)},

    /* ---- losses (logits in [-3, 3]) ---- */
    {.name = "cross_entropy/mean_i64_ignore", .run = run_cross_entropy, .ref = ref_cross_entropy,
     .ip = {-100, SB_REDUCTION_MEAN}, .n_in = 2,
     .in = {{SH(6, 7), .lo = -3, .hi = 3}, {.kind = IN_INDEX, .dtype = SB_DTYPE_I64, SH(6), VALS(3, -100, 0, 6, -100, 2)}},
     .out = {{.ndim = 0}}, .fwd = T_XENT, .grad = T_XENT, .fd32 = 1e-2},
    {.name = "cross_entropy/sum_divisor_i32", .run = run_cross_entropy, .ref = ref_cross_entropy,
     .ip = {-100, SB_REDUCTION_SUM}, .fp = {4.5}, .n_in = 2,
     .in = {{SH(6, 7), .lo = -3, .hi = 3}, {.kind = IN_INDEX, .dtype = SB_DTYPE_I32, SH(6), VALS(1, 2, -100, 4, 5, 0)}},
     .out = {{.ndim = 0}}, .fwd = T_XENT, .grad = T_XENT},
    {.name = "cross_entropy/sum_no_divisor", .run = run_cross_entropy, .ref = ref_cross_entropy,
     .ip = {-100, SB_REDUCTION_SUM}, .fp = {0}, .n_in = 2,
     .in = {{SH(4, 5), .lo = -3, .hi = 3}, {.kind = IN_INDEX, .dtype = SB_DTYPE_I64, SH(4), VALS(4, 0, -100, 1)}},
     .out = {{.ndim = 0}}, .fwd = T_XENT, .grad = T_XENT},
    {.name = "cross_entropy/all_ignored", .run = run_cross_entropy, .ref = ref_cross_entropy,
     .ip = {-100, SB_REDUCTION_MEAN}, .n_in = 2,
     .in = {{SH(3, 5), .lo = -3, .hi = 3}, {.kind = IN_INDEX, .dtype = SB_DTYPE_I64, SH(3), VALS(-100, -100, -100)}},
     .out = {{.ndim = 0}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "cross_entropy/ignore_index_2_strided", .run = run_cross_entropy, .ref = ref_cross_entropy,
     .ip = {2, SB_REDUCTION_MEAN}, .n_in = 2,
     .in = {{SH(6, 5), .lo = -3, .hi = 3, .view = {PERM(1, 0)}}, {.kind = IN_INDEX, .dtype = SB_DTYPE_I32, SH(5), VALS(2, 0, 5, 2, 1)}},
     .out = {{.ndim = 0}}, .fwd = T_XENT, .grad = T_XENT},
    /* fused output layer (hidden, weight in [-1, 1]); blocks that do not
     * divide V; a frozen weight takes the forward-accumulated gradient.
     * 8 rows over 6 blocks: rows whose running max moves to a later block
     * (the rescaling of the accumulated gradient) are all but certain. */
    {.name = "linear_cross_entropy/frozen_weight_blocks", .run = run_linear_cross_entropy,
     .ref = ref_linear_cross_entropy, .ip = {-100, SB_REDUCTION_MEAN, 2}, .n_in = 3,
     .in = {{SH(8, 6)}, {.kind = IN_FROZEN, SH(11, 6)},
            {.kind = IN_INDEX, .dtype = SB_DTYPE_I64, SH(8), VALS(3, -100, 10, 0, 7, 1, 5, 9)}},
     .out = {{.ndim = 0}}, .fwd = T_LXENT(6, 11), .grad = T_LXENT(6, 11), .fd32 = 1e-2},
    {.name = "linear_cross_entropy/trained_weight_sum_i32", .run = run_linear_cross_entropy,
     .ref = ref_linear_cross_entropy, .ip = {-100, SB_REDUCTION_SUM, 3}, .fp = {2.5}, .n_in = 3,
     .in = {{SH(4, 5)}, {SH(7, 5)}, {.kind = IN_INDEX, .dtype = SB_DTYPE_I32, SH(4), VALS(6, 0, -100, 2)}},
     .out = {{.ndim = 0}}, .fwd = T_LXENT(5, 7), .grad = T_LXENT(5, 7), .fd32 = 1e-2},
    {.name = "linear_cross_entropy/weight_only_strided_one_block", .run = run_linear_cross_entropy,
     .ref = ref_linear_cross_entropy, .ip = {2, SB_REDUCTION_MEAN, 0}, .n_in = 3,
     .in = {{.kind = IN_FROZEN, SH(3, 4)}, {SH(4, 9), .view = {PERM(1, 0)}},
            {.kind = IN_INDEX, .dtype = SB_DTYPE_I64, SH(3), VALS(8, 2, 1)}},
     .out = {{.ndim = 0}}, .fwd = T_LXENT(4, 9), .grad = T_LXENT(4, 9)},
    {.name = "linear_cross_entropy/all_ignored", .run = run_linear_cross_entropy,
     .ref = ref_linear_cross_entropy, .ip = {-100, SB_REDUCTION_MEAN, 2}, .n_in = 3,
     .in = {{SH(2, 3)}, {.kind = IN_FROZEN, SH(5, 3)},
            {.kind = IN_INDEX, .dtype = SB_DTYPE_I64, SH(2), VALS(-100, -100)}},
     .out = {{.ndim = 0}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "mse", .run = run_mse, .ref = ref_mse, .n_in = 2, .in = {{SH(3, 4)}, {SH(3, 4)}},
     .out = {{.ndim = 0}}, .fwd = T_ROUND2, .grad = {4 * U32, 0}, .fd32 = 1e-2},
    {.name = "mse/frozen_target_strided", .run = run_mse, .ref = ref_mse, .n_in = 2,
     .in = {{SH(4, 3), .view = {PERM(1, 0)}}, {.kind = IN_FROZEN, SH(3, 4)}},
     .out = {{.ndim = 0}}, .fwd = T_ROUND2, .grad = {4 * U32, 0}},

    /* ---- vision ---- */
    /* H = 7, W = 8 with P = 3: one row and two columns are cropped */
    {.name = "patchify/cropped", .run = run_patchify, .ref = ref_patchify, .ip = {3}, .n_in = 1,
     .in = {{SH(2, 3, 7, 8)}}, .out = {{SH(2, 4, 27)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "patchify/p2_strided", .run = run_patchify, .ref = ref_patchify, .ip = {2}, .n_in = 1,
     .in = {{SH(1, 5, 5, 2), .view = {PERM(0, 3, 1, 2)}}}, .out = {{SH(1, 4, 8)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "mix/sigmoid", .run = run_mix, .ref = ref_mix, .ip = {SB_MIX_SIGMOID}, .n_in = 3,
     .in = {{SH(2, 3, 5)}, {SH(2, 3, 5)}, {SH(5), .lo = -2, .hi = 2}}, .out = {{SH(2, 3, 5)}},
     .fwd = T_LIBM, .grad = T_LIBM_SUM(6), .fd32 = 1e-2},
    {.name = "mix/tanh_gate", .run = run_mix, .ref = ref_mix, .ip = {SB_MIX_TANH_GATE}, .n_in = 3,
     .in = {{SH(2, 3, 5)}, {SH(2, 3, 5)}, {SH(5), .lo = -2, .hi = 2}}, .out = {{SH(2, 3, 5)}},
     .fwd = T_LIBM, .grad = T_LIBM_SUM(6), .fd32 = 1e-2},
    {.name = "mix/sigmoid_frozen_alpha", .run = run_mix, .ref = ref_mix, .ip = {SB_MIX_SIGMOID}, .n_in = 3,
     .in = {{SH(4, 3)}, {SH(4, 3)}, {.kind = IN_FROZEN, SH(3), .lo = -2, .hi = 2}}, .out = {{SH(4, 3)}},
     .fwd = T_LIBM, .grad = T_LIBM},
    {.name = "mix/tanh_only_alpha_strided", .run = run_mix, .ref = ref_mix, .ip = {SB_MIX_TANH_GATE}, .n_in = 3,
     .in = {{.kind = IN_FROZEN, SH(3, 4), .view = {PERM(1, 0)}}, {.kind = IN_FROZEN, SH(4, 3)}, {SH(3), .lo = -2, .hi = 2}},
     .out = {{SH(4, 3)}}, .fwd = T_LIBM, .grad = T_LIBM_SUM(4)},

    /* ---- compositions: one tensor used twice, gradients arriving non-contiguous ---- */
    {.name = "compose/tied_embedding_linear", .run = run_tied_embedding, .ref = ref_tied_embedding, .n_in = 2,
     .in = {{SH(6, 4)}, {.kind = IN_INDEX, .dtype = SB_DTYPE_I64, SH(5), VALS(1, 3, 1, 0, 5)}},
     .out = {{SH(5, 6)}}, .fwd = T_DOT(4), .grad = T_DOT(8)},
    {.name = "compose/mul_x_x", .run = run_mul_self, .ref = ref_unary, .ip = {UN_SQUARE}, .n_in = 1,
     .in = {{SH(3, 4)}}, .out = {{SH(3, 4)}}, .fwd = T_ROUND, .grad = T_ROUND},
    {.name = "compose/add_x_x", .run = run_add_self, .ref = ref_unary, .ip = {UN_SCALE}, .fp = {2}, .n_in = 1,
     .in = {{SH(3, 4)}}, .out = {{SH(3, 4)}}, .fwd = T_EXACT, .grad = T_EXACT},
    {.name = "compose/x_plus_transpose_x", .run = run_x_plus_xt, .ref = ref_x_plus_xt, .n_in = 1,
     .in = {{SH(2, 3, 3)}}, .out = {{SH(2, 3, 3)}}, .fwd = T_ROUND, .grad = T_ROUND},
    {.name = "compose/gelu_then_permute", .run = run_unary_then_permute, .ref = ref_unary_then_permute,
     .ip = {UN_GELU, 2, 0, 1}, .n_in = 1, .in = {{SH(2, 3, 4), .lo = -3, .hi = 3}}, .out = {{SH(4, 2, 3)}},
     .fwd = T_LIBM, .grad = T_LIBM},
    {.name = "compose/scale_then_permute", .run = run_unary_then_permute, .ref = ref_unary_then_permute,
     .ip = {UN_SCALE, 1, 0}, .fp = {-0.5}, .n_in = 1, .in = {{SH(3, 4)}}, .out = {{SH(4, 3)}},
     .fwd = T_ROUND, .grad = T_ROUND},
    {.name = "compose/softmax_then_concat", .run = run_concat_of_softmax, .ref = ref_concat_of_softmax,
     .ip = {-1}, .n_in = 2, .in = {{SH(2, 3), .lo = -3, .hi = 3}, {SH(2, 4), .lo = -3, .hi = 3}},
     .out = {{SH(2, 7)}}, .fwd = T_SOFTMAX, .grad = T_SOFTMAX},
};

const int g_n_cases = (int)(sizeof g_cases / sizeof g_cases[0]);
