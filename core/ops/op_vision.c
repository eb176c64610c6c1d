/* op_vision.c — vision ops: non-overlapping patch extraction (the im2col of
 * a stride = kernel convolution) and the dual-channel attention mix. */
#include "op_common.h"

typedef struct patch_ctx {
  sb_kp_patch p;
} patch_ctx;

static int patchify_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  sb_tensor *gy = sb_op_contiguous(g[0]); /* the kernel reads it as a contiguous buffer */
  sb_tensor *gx = gy ? sb_op_new(n->backend, 4, n->in_shape[0]) : NULL;
  if (!gx) return SB_ERR;
  sb_kbuf b[2] = {sb_kbuf_of(gx, SB_ACCESS_OUT), sb_kbuf_of(gy, SB_ACCESS_IN)};
  if (sb_run(n->backend, SB_K_UNPATCHIFY, &SB_NODE_CTX(n, patch_ctx)->p, 2, b)) return SB_ERR;
  gin[0] = gx;
  return SB_OK;
}

sb_tensor *sb_op_patchify(sb_tensor *x, int64_t patch) {
  if (!x) return NULL;
  char a[64];
  if (x->ndim != 4) return sb_op_fail("patchify", "x %s, expected [B, C, H, W]", sb_tensor_shape_str(x, a, 64));
  if (patch < 1 || x->shape[2] < patch || x->shape[3] < patch)
    return sb_op_fail("patchify", "patch size %lld does not fit an image of %lldx%lld",
                      (long long)patch, (long long)x->shape[2], (long long)x->shape[3]);
  if (!sb_op_check_float("patchify", "x", x)) return NULL;
  sb_tensor *xc = sb_op_f32c(x);
  if (!xc) return NULL;
  sb_kp_patch p = {x->shape[0], x->shape[1], x->shape[2], x->shape[3], patch};
  int64_t os[3] = {p.B, (p.H / patch) * (p.W / patch), p.C * patch * patch};
  sb_tensor *y = sb_op_new(x->storage->backend, 3, os);
  if (!y) return NULL;
  sb_kbuf b[2] = {sb_kbuf_of(y, SB_ACCESS_OUT), sb_kbuf_of(xc, SB_ACCESS_IN)};
  if (sb_run(x->storage->backend, SB_K_PATCHIFY, &p, 2, b)) return NULL;
  if (sb_autograd_should_record(&xc, 1)) {
    sb_op_node *n = sb_op_node_new("patchify", patchify_backward, &xc, 1);
    if (!n) return NULL;
    SB_NODE_CTX(n, patch_ctx)->p = p;
    y = sb_op_node_attach(n, y, 0);
  }
  return y;
}

typedef struct mix_ctx {
  sb_kp_mix p;
} mix_ctx;

/* saved: a, b, alpha */
static int mix_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  const mix_ctx *c = SB_NODE_CTX(n, mix_ctx);
  sb_tensor *gy = sb_op_contiguous(g[0]); /* the kernel reads it as a contiguous buffer */
  if (!gy) return SB_ERR;
  sb_tensor *ga = n->needs_grad[0] ? sb_op_new(n->backend, n->in_ndim[0], n->in_shape[0]) : NULL;
  sb_tensor *gb = n->needs_grad[1] ? sb_op_new(n->backend, n->in_ndim[1], n->in_shape[1]) : NULL;
  sb_tensor *gal = n->needs_grad[2] ? sb_op_new(n->backend, 1, &c->p.d) : NULL;
  sb_kbuf b[7] = {sb_kbuf_of(ga, SB_ACCESS_OUT), sb_kbuf_of(gb, SB_ACCESS_OUT),
                  sb_kbuf_of(gal, SB_ACCESS_OUT), sb_kbuf_of(gy, SB_ACCESS_IN),
                  sb_kbuf_of(n->saved[0], SB_ACCESS_IN), sb_kbuf_of(n->saved[1], SB_ACCESS_IN),
                  sb_kbuf_of(n->saved[2], SB_ACCESS_IN)};
  if (sb_run(n->backend, SB_K_MIX_BACKWARD, &c->p, 7, b)) return SB_ERR;
  gin[0] = ga, gin[1] = gb, gin[2] = gal;
  return SB_OK;
}

sb_tensor *sb_op_mix(sb_tensor *a, sb_tensor *b, sb_tensor *alpha, sb_mix_mode mode) {
  if (!sb_op_inputs_ok("mix", SB_OP_ARGS(a, b, alpha), 3)) return NULL;
  char s1[64], s2[64], s3[64];
  if (a->ndim < 1 || !sb_tensor_same_shape(a, b) || alpha->ndim != 1 ||
      alpha->shape[0] != a->shape[a->ndim - 1])
    return sb_op_fail("mix", "a %s, b %s, alpha %s: expected a and b [..., d] and alpha [d]",
                      sb_tensor_shape_str(a, s1, 64), sb_tensor_shape_str(b, s2, 64),
                      sb_tensor_shape_str(alpha, s3, 64));
  if (mode != SB_MIX_SIGMOID && mode != SB_MIX_TANH_GATE) return sb_op_fail("mix", "unknown mode %d", (int)mode);
  sb_tensor *ac = sb_op_f32c(a), *bc = sb_op_f32c(b), *lc = sb_op_f32c(alpha);
  sb_tensor *y = ac && bc && lc ? sb_op_new(a->storage->backend, a->ndim, a->shape) : NULL;
  if (!y) return NULL;
  sb_kp_mix p = {sb_rows(a), alpha->shape[0], (int32_t)mode};
  sb_kbuf bufs[4] = {sb_kbuf_of(y, SB_ACCESS_OUT), sb_kbuf_of(ac, SB_ACCESS_IN),
                     sb_kbuf_of(bc, SB_ACCESS_IN), sb_kbuf_of(lc, SB_ACCESS_IN)};
  if (sb_run(a->storage->backend, SB_K_MIX, &p, 4, bufs)) return NULL;
  sb_tensor *inputs[3] = {ac, bc, lc};
  if (sb_autograd_should_record(inputs, 3)) {
    sb_op_node *n = sb_op_node_new("mix", mix_backward, inputs, 3);
    if (!n) return NULL;
    SB_NODE_CTX(n, mix_ctx)->p = p;
    sb_op_node_save(n, ac);
    sb_op_node_save(n, bc);
    sb_op_node_save(n, lc);
    y = sb_op_node_attach(n, y, 0);
  }
  return y;
}
