/* op_linear.c — matrix products: linear (x·wᵀ + b) and batched matmul with
 * transposes, forward and backward, through the GEMM kernel. */
#include <string.h>

#include "op_common.h"

/* ---- linear ---- */

/* saved: x2 [N, in] (for gw), w [out, in] (for gx) */
static int linear_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  sb_tensor *x = n->saved[0], *w = n->saved[1];
  int64_t N = x->shape[0], in = x->shape[1], out = w->shape[0];
  int64_t g2s[2] = {N, out};
  sb_tensor *g2 = sb_op_reshape(g[0], 2, g2s);
  if (!g2) return SB_ERR;
  if (n->needs_grad[0]) {
    sb_tensor *gx = sb_op_new(n->backend, 2, x->shape);
    if (!gx || sb_k_gemm(gx, g2, w, false, false, N, in, out, 0.0f, 1, 0, 0, 0)) return SB_ERR;
    if (!(gin[0] = sb_op_reshape(gx, n->in_ndim[0], n->in_shape[0]))) return SB_ERR;
  }
  if (n->needs_grad[1]) {
    sb_tensor *gw = sb_op_new(n->backend, 2, w->shape);
    if (!gw || sb_k_gemm(gw, g2, x, true, false, out, in, N, 0.0f, 1, 0, 0, 0)) return SB_ERR;
    gin[1] = gw;
  }
  if (n->n_inputs > 2 && n->needs_grad[2]) {
    if (!(gin[2] = sb_reduce_to_shape(g2, 1, &out))) return SB_ERR;
  }
  return SB_OK;
}

sb_tensor *sb_op_linear(sb_tensor *x, sb_tensor *w, sb_tensor *b) {
  if (!sb_op_inputs_ok("linear", SB_OP_ARGS(x, w), 2) || (b && !sb_op_inputs_ok("linear", SB_OP_ARGS(x, b), 2)))
    return NULL;
  char a[64], c[64];
  if (w->ndim != 2 || x->ndim < 1 || x->shape[x->ndim - 1] != w->shape[1])
    return sb_op_fail("linear", "x %s does not fit weight %s (expected x [..., %lld])",
                      sb_tensor_shape_str(x, a, 64), sb_tensor_shape_str(w, c, 64),
                      (long long)(w->ndim == 2 ? w->shape[1] : -1));
  if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
    return sb_op_fail("linear", "bias %s does not fit weight %s (expected [%lld])",
                      sb_tensor_shape_str(b, a, 64), sb_tensor_shape_str(w, c, 64),
                      (long long)w->shape[0]);
  if (!sb_op_check_float("linear", "x", x) || !sb_op_check_float("linear", "weight", w) ||
      (b && !sb_op_check_float("linear", "bias", b)))
    return NULL;
  int64_t in = w->shape[1], out = w->shape[0], N = sb_rows(x);
  int64_t s2[2] = {N, in};
  sb_tensor *x2 = sb_op_reshape(sb_op_f32c(x), 2, s2);
  sb_tensor *wc = sb_op_f32c(w), *bc = b ? sb_op_f32c(b) : NULL;
  if (!x2 || !wc || (b && !bc)) return NULL;
  int64_t ys[2] = {N, out};
  sb_tensor *y = sb_op_new(x->storage->backend, 2, ys);
  if (!y) return NULL;
  float beta = 0.0f;
  if (bc) { /* every row starts as the bias, then the product adds on top */
    sb_tensor *rows = sb_tensor_view(y, 2, ys, (int64_t[]){out, 1}, 0);
    sb_tensor *brow = sb_tensor_view(bc, 2, ys, (int64_t[]){0, bc->stride[0]}, bc->offset);
    if (!rows || !brow || sb_k_copy(rows, brow)) return NULL;
    beta = 1.0f;
  }
  if (sb_k_gemm(y, x2, wc, false, true, N, out, in, beta, 1, 0, 0, 0)) return NULL;
  sb_tensor *inputs[3] = {x2, wc, bc};
  int n_in = bc ? 3 : 2;
  if (sb_autograd_should_record(inputs, n_in)) {
    sb_op_node *n = sb_op_node_new("linear", linear_backward, inputs, n_in);
    if (!n) return NULL;
    sb_op_node_save(n, x2);
    sb_op_node_save(n, wc);
    y = sb_op_node_attach(n, y, 0);
  }
  int64_t os[SB_MAX_DIMS];
  memcpy(os, x->shape, sizeof(int64_t) * (size_t)x->ndim);
  os[x->ndim - 1] = out;
  return sb_op_reshape(y, x->ndim, os);
}

/* ---- matmul ---- */

typedef struct matmul_ctx {
  bool ta, tb, shared_b;
  int64_t batch, m, n, k;
} matmul_ctx;

/* saved: a, b (contiguous, 3-D as [batch, rows, cols]; b may be 2-D shared) */
static int matmul_backward(sb_op_node *node, sb_tensor *const *g, sb_tensor **gin) {
  const matmul_ctx *c = SB_NODE_CTX(node, matmul_ctx);
  sb_tensor *A = node->saved[0], *B = node->saved[1], *G = sb_op_contiguous(g[0]);
  if (!G) return SB_ERR;
  const int64_t m = c->m, n = c->n, k = c->k, bt = c->batch;
  const int64_t sa = m * k, sbb = c->shared_b ? 0 : k * n, sg = m * n;
  if (node->needs_grad[0]) { /* dA' = G op(B)ᵀ; with ta, dA = (dA')ᵀ = op(B) Gᵀ */
    sb_tensor *gA = sb_op_new(node->backend, node->in_ndim[0], node->in_shape[0]);
    if (!gA) return SB_ERR;
    int rc = !c->ta ? sb_k_gemm(gA, G, B, false, !c->tb, m, k, n, 0.0f, bt, sg, sbb, sa)
                    : sb_k_gemm(gA, B, G, c->tb, true, k, m, n, 0.0f, bt, sbb, sg, sa);
    if (rc) return SB_ERR;
    gin[0] = gA;
  }
  if (node->needs_grad[1]) { /* dB' = op(A)ᵀ G; with tb, dB = Gᵀ op(A) */
    sb_tensor *gB = sb_op_zeros(node->backend, node->in_ndim[1], node->in_shape[1]);
    if (!gB) return SB_ERR;
    /* A shared B sums over the batch: one product per entry, accumulated. */
    int64_t reps = c->shared_b ? bt : 1, per = c->shared_b ? 1 : bt;
    for (int64_t r = 0; r < reps; r++) {
      sb_tensor *Ar = A, *Gr = G;
      if (c->shared_b) {
        Ar = sb_tensor_view(A, 2, (int64_t[]){c->ta ? k : m, c->ta ? m : k}, (int64_t[]){c->ta ? m : k, 1},
                            A->offset + r * sa);
        Gr = sb_tensor_view(G, 2, (int64_t[]){m, n}, (int64_t[]){n, 1}, G->offset + r * sg);
        if (!Ar || !Gr) return SB_ERR;
      }
      int rc = !c->tb ? sb_k_gemm(gB, Ar, Gr, !c->ta, false, k, n, m, 1.0f, per, sa, sg, c->shared_b ? 0 : k * n)
                      : sb_k_gemm(gB, Gr, Ar, true, c->ta, n, k, m, 1.0f, per, sg, sa, c->shared_b ? 0 : k * n);
      if (rc) return SB_ERR;
    }
    gin[1] = gB;
  }
  return SB_OK;
}

sb_tensor *sb_op_matmul(sb_tensor *a, sb_tensor *b, bool trans_a, bool trans_b) {
  if (!sb_op_inputs_ok("matmul", SB_OP_ARGS(a, b), 2)) return NULL;
  char s1[64], s2[64];
  if (a->ndim < 2 || b->ndim < 2)
    return sb_op_fail("matmul", "operands must have at least 2 dims (got %s and %s)",
                      sb_tensor_shape_str(a, s1, 64), sb_tensor_shape_str(b, s2, 64));
  if (!sb_op_check_float("matmul", "a", a) || !sb_op_check_float("matmul", "b", b)) return NULL;
  int64_t m = a->shape[a->ndim - (trans_a ? 1 : 2)], k = a->shape[a->ndim - (trans_a ? 2 : 1)];
  int64_t kb = b->shape[b->ndim - (trans_b ? 1 : 2)], n = b->shape[b->ndim - (trans_b ? 2 : 1)];
  bool shared_b = b->ndim == 2 && a->ndim > 2;
  bool batch_ok = shared_b || (a->ndim == b->ndim &&
                               memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)(a->ndim - 2)) == 0);
  if (k != kb || !batch_ok)
    return sb_op_fail("matmul", "shapes %s%s and %s%s do not multiply", sb_tensor_shape_str(a, s1, 64),
                      trans_a ? "ᵀ" : "", sb_tensor_shape_str(b, s2, 64), trans_b ? "ᵀ" : "");
  sb_tensor *ac = sb_op_f32c(a), *bc = sb_op_f32c(b);
  if (!ac || !bc) return NULL;
  int64_t batch = sb_shape_numel(a->ndim - 2, a->shape);
  int64_t os[SB_MAX_DIMS];
  memcpy(os, a->shape, sizeof(int64_t) * (size_t)a->ndim);
  os[a->ndim - 2] = m, os[a->ndim - 1] = n;
  sb_tensor *y = sb_op_new(a->storage->backend, a->ndim, os);
  if (!y || sb_k_gemm(y, ac, bc, trans_a, trans_b, m, n, k, 0.0f, batch, m * k, shared_b ? 0 : k * n, m * n))
    return NULL;
  sb_tensor *inputs[2] = {ac, bc};
  if (sb_autograd_should_record(inputs, 2)) {
    sb_op_node *node = sb_op_node_new("matmul", matmul_backward, inputs, 2);
    if (!node) return NULL;
    *SB_NODE_CTX(node, matmul_ctx) = (matmul_ctx){trans_a, trans_b, shared_b, batch, m, n, k};
    sb_op_node_save(node, ac);
    sb_op_node_save(node, bc);
    y = sb_op_node_attach(node, y, 0);
  }
  return y;
}
