/* op_norm.c — layer norm, RMS norm and softmax over the last dim, forward
 * and backward. */
#include <string.h>

#include "op_common.h"

typedef struct norm_ctx {
  sb_kp_norm p;
  bool has_w, has_b;
} norm_ctx;

static bool check_param(const char *op, const char *arg, const sb_tensor *p, int64_t d) {
  if (!p) return true;
  if (p->ndim == 1 && p->shape[0] == d) return sb_op_check_float(op, arg, p);
  char s[64];
  sb_op_fail(op, "%s %s, expected [%lld] (the last dim of x)", arg, sb_tensor_shape_str(p, s, 64),
             (long long)d);
  return false;
}

/* ---- layer norm: saved x, w (or none), mean, rstd ---- */

static int layer_norm_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  const norm_ctx *c = SB_NODE_CTX(n, norm_ctx);
  int64_t d = c->p.d;
  sb_tensor *gy = sb_op_contiguous(g[0]); /* the kernel reads it as a contiguous buffer */
  if (!gy) return SB_ERR;
  sb_tensor *gx = n->needs_grad[0] ? sb_op_new(n->backend, n->in_ndim[0], n->in_shape[0]) : NULL;
  sb_tensor *gw = c->has_w && n->needs_grad[1] ? sb_op_new(n->backend, 1, &d) : NULL;
  sb_tensor *gb = c->has_b && n->needs_grad[2] ? sb_op_new(n->backend, 1, &d) : NULL;
  sb_tensor *w = c->has_w ? n->saved[1] : NULL;
  int k = c->has_w ? 2 : 1;
  sb_kbuf b[8] = {sb_kbuf_of(gx, SB_ACCESS_OUT), sb_kbuf_of(gw, SB_ACCESS_OUT),
                  sb_kbuf_of(gb, SB_ACCESS_OUT), sb_kbuf_of(gy, SB_ACCESS_IN),
                  sb_kbuf_of(n->saved[0], SB_ACCESS_IN), sb_kbuf_of(w, SB_ACCESS_IN),
                  sb_kbuf_of(n->saved[k], SB_ACCESS_IN), sb_kbuf_of(n->saved[k + 1], SB_ACCESS_IN)};
  if (sb_run(n->backend, SB_K_LAYER_NORM_BACKWARD, &c->p, 8, b)) return SB_ERR;
  gin[0] = gx, gin[1] = gw, gin[2] = gb;
  return SB_OK;
}

sb_tensor *sb_op_layer_norm(sb_tensor *x, sb_tensor *w, sb_tensor *b, float eps) {
  if (!x || (w && !sb_op_inputs_ok("layer_norm", SB_OP_ARGS(x, w), 2)) ||
      (b && !sb_op_inputs_ok("layer_norm", SB_OP_ARGS(x, b), 2)))
    return NULL;
  if (x->ndim < 1) return sb_op_fail("layer_norm", "x is 0-d");
  int64_t d = x->shape[x->ndim - 1], rows = sb_rows(x);
  if (!sb_op_check_float("layer_norm", "x", x) || !check_param("layer_norm", "weight", w, d) ||
      !check_param("layer_norm", "bias", b, d))
    return NULL;
  sb_tensor *xc = sb_op_f32c(x), *wc = w ? sb_op_f32c(w) : NULL, *bc = b ? sb_op_f32c(b) : NULL;
  if (!xc || (w && !wc) || (b && !bc)) return NULL;
  sb_backend *be = x->storage->backend;
  sb_tensor *y = sb_op_new(be, x->ndim, x->shape), *mean = sb_op_new(be, 1, &rows),
            *rstd = sb_op_new(be, 1, &rows);
  if (!y || !mean || !rstd) return NULL;
  sb_kp_norm p = {rows, d, eps};
  sb_kbuf bufs[6] = {sb_kbuf_of(y, SB_ACCESS_OUT), sb_kbuf_of(mean, SB_ACCESS_OUT),
                     sb_kbuf_of(rstd, SB_ACCESS_OUT), sb_kbuf_of(xc, SB_ACCESS_IN),
                     sb_kbuf_of(wc, SB_ACCESS_IN), sb_kbuf_of(bc, SB_ACCESS_IN)};
  if (sb_run(be, SB_K_LAYER_NORM, &p, 6, bufs)) return NULL;
  sb_tensor *inputs[3] = {xc, wc, bc};
  if (sb_autograd_should_record(inputs, 3)) {
    sb_op_node *n = sb_op_node_new("layer_norm", layer_norm_backward, inputs, 3);
    if (!n) return NULL;
    *SB_NODE_CTX(n, norm_ctx) = (norm_ctx){p, wc != NULL, bc != NULL};
    sb_op_node_save(n, xc);
    if (wc) sb_op_node_save(n, wc);
    sb_op_node_save(n, mean);
    sb_op_node_save(n, rstd);
    y = sb_op_node_attach(n, y, 0);
  }
  return y;
}

/* ---- RMS norm: saved x, w (or none), rstd ---- */

static int rms_norm_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  const norm_ctx *c = SB_NODE_CTX(n, norm_ctx);
  int64_t d = c->p.d;
  sb_tensor *gy = sb_op_contiguous(g[0]); /* the kernel reads it as a contiguous buffer */
  if (!gy) return SB_ERR;
  sb_tensor *gx = n->needs_grad[0] ? sb_op_new(n->backend, n->in_ndim[0], n->in_shape[0]) : NULL;
  sb_tensor *gw = c->has_w && n->needs_grad[1] ? sb_op_new(n->backend, 1, &d) : NULL;
  sb_tensor *w = c->has_w ? n->saved[1] : NULL;
  sb_kbuf b[6] = {sb_kbuf_of(gx, SB_ACCESS_OUT), sb_kbuf_of(gw, SB_ACCESS_OUT),
                  sb_kbuf_of(gy, SB_ACCESS_IN), sb_kbuf_of(n->saved[0], SB_ACCESS_IN),
                  sb_kbuf_of(w, SB_ACCESS_IN), sb_kbuf_of(n->saved[c->has_w ? 2 : 1], SB_ACCESS_IN)};
  if (sb_run(n->backend, SB_K_RMS_NORM_BACKWARD, &c->p, 6, b)) return SB_ERR;
  gin[0] = gx, gin[1] = gw;
  return SB_OK;
}

sb_tensor *sb_op_rms_norm(sb_tensor *x, sb_tensor *w, float eps) {
  if (!x || (w && !sb_op_inputs_ok("rms_norm", SB_OP_ARGS(x, w), 2))) return NULL;
  if (x->ndim < 1) return sb_op_fail("rms_norm", "x is 0-d");
  int64_t d = x->shape[x->ndim - 1], rows = sb_rows(x);
  if (!sb_op_check_float("rms_norm", "x", x) || !check_param("rms_norm", "weight", w, d)) return NULL;
  sb_tensor *xc = sb_op_f32c(x), *wc = w ? sb_op_f32c(w) : NULL;
  if (!xc || (w && !wc)) return NULL;
  sb_backend *be = x->storage->backend;
  sb_tensor *y = sb_op_new(be, x->ndim, x->shape), *rstd = sb_op_new(be, 1, &rows);
  if (!y || !rstd) return NULL;
  sb_kp_norm p = {rows, d, eps};
  sb_kbuf bufs[4] = {sb_kbuf_of(y, SB_ACCESS_OUT), sb_kbuf_of(rstd, SB_ACCESS_OUT),
                     sb_kbuf_of(xc, SB_ACCESS_IN), sb_kbuf_of(wc, SB_ACCESS_IN)};
  if (sb_run(be, SB_K_RMS_NORM, &p, 4, bufs)) return NULL;
  sb_tensor *inputs[2] = {xc, wc};
  if (sb_autograd_should_record(inputs, 2)) {
    sb_op_node *n = sb_op_node_new("rms_norm", rms_norm_backward, inputs, 2);
    if (!n) return NULL;
    *SB_NODE_CTX(n, norm_ctx) = (norm_ctx){p, wc != NULL, false};
    sb_op_node_save(n, xc);
    if (wc) sb_op_node_save(n, wc);
    sb_op_node_save(n, rstd);
    y = sb_op_node_attach(n, y, 0);
  }
  return y;
}

/* ---- softmax: saved y ---- */

static int softmax_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  sb_tensor *y = n->saved[0], *gy = sb_op_contiguous(g[0]); /* the kernel reads gy as contiguous */
  sb_tensor *gx = gy ? sb_op_new(n->backend, y->ndim, y->shape) : NULL;
  if (!gx) return SB_ERR;
  sb_kp_rows p = {sb_rows(y), y->shape[y->ndim - 1]};
  sb_kbuf b[3] = {sb_kbuf_of(gx, SB_ACCESS_OUT), sb_kbuf_of(y, SB_ACCESS_IN), sb_kbuf_of(gy, SB_ACCESS_IN)};
  if (sb_run(n->backend, SB_K_SOFTMAX_BACKWARD, &p, 3, b)) return SB_ERR;
  gin[0] = gx;
  return SB_OK;
}

sb_tensor *sb_op_softmax(sb_tensor *x) {
  if (!x) return NULL;
  if (x->ndim < 1) return sb_op_fail("softmax", "x is 0-d");
  if (!sb_op_check_float("softmax", "x", x)) return NULL;
  sb_tensor *xc = sb_op_f32c(x);
  sb_tensor *y = xc ? sb_op_new(x->storage->backend, x->ndim, x->shape) : NULL;
  if (!y) return NULL;
  sb_kp_rows p = {sb_rows(x), x->shape[x->ndim - 1]};
  sb_kbuf b[2] = {sb_kbuf_of(y, SB_ACCESS_OUT), sb_kbuf_of(xc, SB_ACCESS_IN)};
  if (sb_run(x->storage->backend, SB_K_SOFTMAX, &p, 2, b)) return NULL;
  if (sb_autograd_should_record(&xc, 1)) {
    sb_op_node *n = sb_op_node_new("softmax", softmax_backward, &xc, 1);
    if (!n) return NULL;
    sb_op_node_save(n, y);
    y = sb_op_node_attach(n, y, 0);
  }
  return y;
}
