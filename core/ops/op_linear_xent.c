/* op_linear_xent.c — an output layer fused with cross-entropy: the loss of
 * logits = h·wᵀ computed one block of vocabulary columns at a time, so the
 * [N, V] logits (Qwen2: 151,936 columns) and their gradient never exist.
 *
 * Forward, per block of Vb columns: z = h·w_blkᵀ (GEMM), then an online
 * log-sum-exp (kernels.h, SB_K_XENT_BLOCK). When h needs a gradient and w
 * does not (a frozen output layer), the forward also accumulates
 * acc = Σ_v softmax_v·w_v (a second GEMM per block) and the backward is a
 * row scaling, dh = (acc - w[target])·grow: the two GEMMs per block of an
 * unfused linear + cross_entropy, one pass of exp instead of two, and no
 * [N, V] buffer. When w needs a gradient, the backward recomputes each
 * block's logits (one GEMM more than unfused) and forms dh and dw from the
 * block's gradient. */
#include <math.h>

#include "op_common.h"

/* Default block: about 2^22 floats (16 MB) of logits, 256 columns at least. */
static int64_t block_cols(int64_t N, int64_t V, int64_t block) {
  int64_t vb = block > 0 ? block : SB_MAX(256, (((int64_t)1 << 22) / SB_MAX(N, 1)) / 64 * 64);
  return SB_MAX(1, SB_MIN(vb, V));
}

typedef struct lxent_ctx {
  sb_kp_xent_block p;
  bool acc_mode; /* saved: acc, rw; otherwise h, w, lse, targets, rw */
} lxent_ctx;

/* The rows [v0, v0 + rows) of a contiguous [*, cols] tensor. */
static sb_tensor *rows_of(sb_tensor *t, int64_t v0, int64_t rows, int64_t cols) {
  return sb_tensor_view(t, 2, (int64_t[]){rows, cols}, (int64_t[]){cols, 1}, t->offset + v0 * cols);
}

static int lxent_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  const lxent_ctx *c = SB_NODE_CTX(n, lxent_ctx);
  sb_kp_xent_block p = c->p;
  float gy;
  if (sb_tensor_item(g[0], &gy)) return SB_ERR;
  if (c->acc_mode) { /* dh = acc · (row weight · gy) */
    sb_tensor *grow = sb_op_reshape(sb_k_affine(n->saved[1], gy, 0.0f), 2, (int64_t[]){p.N, 1});
    return (gin[0] = grow ? sb_op_mul(n->saved[0], grow) : NULL) ? SB_OK : SB_ERR;
  }
  sb_tensor *h = n->saved[0], *w = n->saved[1], *lse = n->saved[2], *t = n->saved[3];
  sb_tensor *grow = sb_k_affine(n->saved[4], gy, 0.0f);
  sb_tensor *gh = n->needs_grad[0] ? sb_op_zeros(n->backend, 2, (int64_t[]){p.N, p.D}) : NULL;
  sb_tensor *gw = n->needs_grad[1] ? sb_op_new(n->backend, 2, (int64_t[]){p.V, p.D}) : NULL;
  sb_tensor *z = sb_op_new(n->backend, 2, (int64_t[]){p.N, p.Vb});
  if (!grow || !z || (n->needs_grad[0] && !gh) || (n->needs_grad[1] && !gw)) return SB_ERR;
  const int64_t Vb = p.Vb;
  for (int64_t v0 = 0; v0 < p.V; v0 += Vb) {
    p.v0 = v0, p.Vb = SB_MIN(Vb, p.V - v0);
    sb_tensor *wb = rows_of(w, v0, p.Vb, p.D), *zb = rows_of(z, 0, p.N, p.Vb);
    if (!wb || !zb || sb_k_gemm(zb, h, wb, false, true, p.N, p.Vb, p.D, 0.0f, 1, 0, 0, 0)) return SB_ERR;
    sb_kbuf b[4] = {sb_kbuf_of(zb, SB_ACCESS_INOUT), sb_kbuf_of(lse, SB_ACCESS_IN), sb_kbuf_of(t, SB_ACCESS_IN),
                    sb_kbuf_of(grow, SB_ACCESS_IN)};
    if (sb_run(n->backend, SB_K_XENT_BLOCK_BACKWARD, &p, 4, b)) return SB_ERR;
    if (gh && sb_k_gemm(gh, zb, wb, false, false, p.N, p.D, p.Vb, 1.0f, 1, 0, 0, 0)) return SB_ERR;
    sb_tensor *gwb = gw ? rows_of(gw, v0, p.Vb, p.D) : NULL;
    if (gw && (!gwb || sb_k_gemm(gwb, zb, h, true, false, p.Vb, p.D, p.N, 0.0f, 1, 0, 0, 0))) return SB_ERR;
  }
  gin[0] = gh, gin[1] = gw;
  return SB_OK;
}

sb_tensor *sb_op_linear_cross_entropy(sb_tensor *hidden, sb_tensor *weight, sb_tensor *targets,
                                      int64_t ignore_index, sb_reduction reduction, float divisor,
                                      int64_t block) {
  const char *op = "linear_cross_entropy";
  if (!sb_op_inputs_ok(op, SB_OP_ARGS(hidden, weight, targets), 3)) return NULL;
  char a[64], b[64], c[64];
  if (hidden->ndim != 2 || weight->ndim != 2 || targets->ndim != 1 || hidden->shape[1] != weight->shape[1] ||
      targets->shape[0] != hidden->shape[0])
    return sb_op_fail(op, "hidden %s, weight %s and targets %s: expected [N, D], [V, D] and [N]",
                      sb_tensor_shape_str(hidden, a, 64), sb_tensor_shape_str(weight, b, 64),
                      sb_tensor_shape_str(targets, c, 64));
  if (targets->dtype != SB_DTYPE_I64 && targets->dtype != SB_DTYPE_I32)
    return sb_op_fail(op, "targets are %s, expected I32 or I64", sb_dtype_name(targets->dtype));
  if (!sb_op_check_float(op, "hidden", hidden) || !sb_op_check_float(op, "weight", weight)) return NULL;
  const int64_t N = hidden->shape[0], D = hidden->shape[1], V = weight->shape[0];
  if (V == 0) return sb_op_fail(op, "weight %s has no rows", sb_tensor_shape_str(weight, b, 64));
  sb_tensor *h = sb_op_f32c(hidden), *w = sb_op_f32c(weight), *t = sb_op_contiguous(targets);
  sb_tensor *rw = h && w && t ? sb_xent_row_weights(op, t, N, V, ignore_index, reduction, divisor) : NULL;
  if (!rw) return NULL;
  sb_backend *be = h->storage->backend;
  const bool need_h = sb_autograd_should_record(&h, 1), need_w = sb_autograd_should_record(&w, 1);
  const bool acc_mode = need_h && !need_w;
  sb_tensor *m = sb_op_new(be, 1, &N); /* running max: -inf before the first block */
  if (!m || sb_tensor_fill(m, -INFINITY)) return NULL;
  sb_tensor *s = sb_op_zeros(be, 1, &N), *zt = sb_op_zeros(be, 1, &N);
  sb_tensor *acc = acc_mode ? sb_op_zeros(be, 2, (int64_t[]){N, D}) : NULL;
  sb_kp_xent_block p = {N, V, D, 0, block_cols(N, V, block), ignore_index, (int32_t)t->dtype};
  sb_tensor *z = sb_op_new(be, 2, (int64_t[]){N, p.Vb});
  if (!s || !zt || (acc_mode && !acc) || !z) return NULL;
  const int64_t Vb = p.Vb;
  for (int64_t v0 = 0; v0 < V; v0 += Vb) {
    p.v0 = v0, p.Vb = SB_MIN(Vb, V - v0);
    sb_tensor *wb = rows_of(w, v0, p.Vb, D), *zb = rows_of(z, 0, N, p.Vb);
    if (!wb || !zb || sb_k_gemm(zb, h, wb, false, true, N, p.Vb, D, 0.0f, 1, 0, 0, 0)) return NULL;
    sb_kbuf kb[6] = {sb_kbuf_of(zb, SB_ACCESS_INOUT), sb_kbuf_of(m, SB_ACCESS_INOUT), sb_kbuf_of(s, SB_ACCESS_INOUT),
                     sb_kbuf_of(zt, SB_ACCESS_INOUT), sb_kbuf_of(t, SB_ACCESS_IN),
                     sb_kbuf_of(acc, SB_ACCESS_INOUT)};
    if (sb_run(be, SB_K_XENT_BLOCK, &p, 6, kb)) return NULL;
    if (acc && sb_k_gemm(acc, zb, wb, false, false, N, D, p.Vb, 1.0f, 1, 0, 0, 0)) return NULL;
  }
  p.v0 = 0, p.Vb = Vb;
  sb_tensor *loss_rows = sb_op_new(be, 1, &N), *lse = sb_op_new(be, 1, &N);
  if (!loss_rows || !lse) return NULL;
  sb_kbuf fb[8] = {sb_kbuf_of(loss_rows, SB_ACCESS_OUT), sb_kbuf_of(lse, SB_ACCESS_OUT), sb_kbuf_of(m, SB_ACCESS_IN),
                   sb_kbuf_of(s, SB_ACCESS_IN), sb_kbuf_of(zt, SB_ACCESS_IN), sb_kbuf_of(t, SB_ACCESS_IN),
                   sb_kbuf_of(acc, SB_ACCESS_INOUT), sb_kbuf_of(acc ? w : NULL, SB_ACCESS_IN)};
  if (sb_run(be, SB_K_XENT_FINISH, &p, 8, fb)) return NULL;
  sb_grad_push(false);
  sb_tensor *loss = sb_op_sum_all(sb_op_mul(loss_rows, rw));
  sb_grad_pop();
  if (!loss || !(need_h || need_w)) return loss;
  sb_tensor *inputs[2] = {h, w};
  sb_op_node *n = sb_op_node_new(op, lxent_backward, inputs, 2);
  if (!n) return NULL;
  *SB_NODE_CTX(n, lxent_ctx) = (lxent_ctx){p, acc_mode};
  if (acc_mode) {
    sb_op_node_save(n, acc);
    sb_op_node_save(n, rw);
  } else {
    sb_op_node_save(n, h);
    sb_op_node_save(n, w);
    sb_op_node_save(n, lse);
    sb_op_node_save(n, t);
    sb_op_node_save(n, rw);
  }
  return sb_op_node_attach(n, loss, 0);
}
