/* op_elementwise.c — elementwise ops: add/sub/mul/div with NumPy
 * broadcasting, scale/affine, the activation functions and the fused
 * SwiGLU product; forward and backward. */
#include <string.h>

#include "op_common.h"

/* ---- broadcasting binary ops ---- */

typedef struct binary_ctx {
  int op;
} binary_ctx;

/* saved: a, b (for mul/div). */
static int binary_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  int op = SB_NODE_CTX(n, binary_ctx)->op;
  sb_tensor *gy = sb_op_contiguous(g[0]); /* kernels read it as a contiguous buffer */
  if (!gy) return SB_ERR;
  sb_tensor *a = n->n_saved > 0 ? n->saved[0] : NULL, *b = n->n_saved > 1 ? n->saved[1] : NULL;
  for (int i = 0; i < 2; i++) {
    if (!n->needs_grad[i]) continue;
    sb_tensor *t = gy;
    if (op == SB_BINARY_SUB && i == 1) t = sb_k_affine(gy, -1.0f, 0.0f);
    else if (op == SB_BINARY_MUL) t = sb_op_mul(gy, i == 0 ? b : a);
    else if (op == SB_BINARY_DIV && i == 0) t = sb_op_div(gy, b);
    else if (op == SB_BINARY_DIV && i == 1) /* -gy·a/b² */
      t = sb_op_scale(sb_op_div(sb_op_mul(gy, a), sb_op_mul(b, b)), -1.0f);
    if (!t) return SB_ERR;
    if (!(gin[i] = sb_reduce_to_shape(sb_op_contiguous(t), n->in_ndim[i], n->in_shape[i])))
      return SB_ERR;
  }
  return SB_OK;
}

static const char *k_binary_names[] = {"add", "sub", "mul", "div"};

static sb_tensor *binary(sb_binary_op op, sb_tensor *a, sb_tensor *b) {
  const char *name = k_binary_names[op];
  if (!sb_op_inputs_ok(name, SB_OP_ARGS(a, b), 2)) return NULL;
  if (!sb_op_check_float(name, "a", a) || !sb_op_check_float(name, "b", b)) return NULL;
  if (a->dtype != SB_DTYPE_F32) a = sb_op_cast(a, SB_DTYPE_F32);
  if (b->dtype != SB_DTYPE_F32) b = sb_op_cast(b, SB_DTYPE_F32);
  if (!a || !b) return NULL;
  int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
  sb_kp_binary p = {.op = op, .ndim = nd};
  for (int i = 0; i < nd; i++) {
    int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
    int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      char s1[64], s2[64];
      return sb_op_fail(name, "shapes %s and %s do not broadcast", sb_tensor_shape_str(a, s1, 64),
                        sb_tensor_shape_str(b, s2, 64));
    }
    p.shape[i] = da == 1 ? db : da;
    p.a_strides[i] = (ia < 0 || da == 1) ? 0 : a->stride[ia];
    p.b_strides[i] = (ib < 0 || db == 1) ? 0 : b->stride[ib];
  }
  sb_tensor *y = sb_op_new(a->storage->backend, nd, p.shape);
  if (!y) return NULL;
  sb_kbuf bufs[3] = {sb_kbuf_of(y, SB_ACCESS_OUT), sb_kbuf_of(a, SB_ACCESS_IN),
                     sb_kbuf_of(b, SB_ACCESS_IN)};
  if (sb_run(a->storage->backend, SB_K_BINARY, &p, 3, bufs)) return NULL;
  sb_tensor *inputs[2] = {a, b};
  if (sb_autograd_should_record(inputs, 2)) {
    sb_op_node *n = sb_op_node_new(name, binary_backward, inputs, 2);
    if (!n) return NULL;
    SB_NODE_CTX(n, binary_ctx)->op = op;
    if (op == SB_BINARY_MUL || op == SB_BINARY_DIV) {
      sb_op_node_save(n, a);
      sb_op_node_save(n, b);
    }
    y = sb_op_node_attach(n, y, 0);
  }
  return y;
}

sb_tensor *sb_op_add(sb_tensor *a, sb_tensor *b) { return binary(SB_BINARY_ADD, a, b); }
sb_tensor *sb_op_sub(sb_tensor *a, sb_tensor *b) { return binary(SB_BINARY_SUB, a, b); }
sb_tensor *sb_op_mul(sb_tensor *a, sb_tensor *b) { return binary(SB_BINARY_MUL, a, b); }
sb_tensor *sb_op_div(sb_tensor *a, sb_tensor *b) { return binary(SB_BINARY_DIV, a, b); }

/* ---- unary functions ---- */

typedef struct unary_ctx {
  sb_kp_unary p;
} unary_ctx;

/* saved: x */
static int unary_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  const unary_ctx *c = SB_NODE_CTX(n, unary_ctx);
  sb_tensor *gy = sb_op_contiguous(g[0]); /* the kernels read it as a contiguous buffer */
  if (!gy) return SB_ERR;
  if (c->p.op == SB_UNARY_AFFINE) {
    gin[0] = sb_k_affine(gy, c->p.alpha, 0.0f);
    return gin[0] ? SB_OK : SB_ERR;
  }
  sb_tensor *gx = sb_op_new(n->backend, n->in_ndim[0], n->in_shape[0]);
  if (!gx) return SB_ERR;
  sb_kbuf b[3] = {sb_kbuf_of(gx, SB_ACCESS_OUT), sb_kbuf_of(n->saved[0], SB_ACCESS_IN),
                  sb_kbuf_of(gy, SB_ACCESS_IN)};
  if (sb_run(n->backend, SB_K_UNARY_BACKWARD, &c->p, 3, b)) return SB_ERR;
  gin[0] = gx;
  return SB_OK;
}

static sb_tensor *unary(const char *name, sb_unary_op op, sb_tensor *x, float alpha, float beta) {
  if (!x) return NULL;
  if (!sb_op_check_float(name, "x", x)) return NULL;
  sb_tensor *xc = sb_op_f32c(x);
  sb_tensor *y = xc ? sb_op_new(x->storage->backend, x->ndim, x->shape) : NULL;
  if (!y) return NULL;
  sb_kp_unary p = {op, sb_tensor_numel(x), alpha, beta};
  sb_kbuf b[2] = {sb_kbuf_of(y, SB_ACCESS_OUT), sb_kbuf_of(xc, SB_ACCESS_IN)};
  if (sb_run(x->storage->backend, SB_K_UNARY, &p, 2, b)) return NULL;
  if (sb_autograd_should_record(&xc, 1)) {
    sb_op_node *n = sb_op_node_new(name, unary_backward, &xc, 1);
    if (!n) return NULL;
    SB_NODE_CTX(n, unary_ctx)->p = p;
    if (op != SB_UNARY_AFFINE) sb_op_node_save(n, xc);
    y = sb_op_node_attach(n, y, 0);
  }
  return y;
}

sb_tensor *sb_op_scale(sb_tensor *x, float s) { return unary("scale", SB_UNARY_AFFINE, x, s, 0.0f); }
sb_tensor *sb_op_affine(sb_tensor *x, float s, float c) { return unary("affine", SB_UNARY_AFFINE, x, s, c); }
sb_tensor *sb_op_gelu(sb_tensor *x) { return unary("gelu", SB_UNARY_GELU, x, 0, 0); }
sb_tensor *sb_op_gelu_tanh(sb_tensor *x) { return unary("gelu_tanh", SB_UNARY_GELU_TANH, x, 0, 0); }
sb_tensor *sb_op_silu(sb_tensor *x) { return unary("silu", SB_UNARY_SILU, x, 0, 0); }
sb_tensor *sb_op_sigmoid(sb_tensor *x) { return unary("sigmoid", SB_UNARY_SIGMOID, x, 0, 0); }
sb_tensor *sb_op_tanh(sb_tensor *x) { return unary("tanh", SB_UNARY_TANH, x, 0, 0); }
sb_tensor *sb_op_relu(sb_tensor *x) { return unary("relu", SB_UNARY_RELU, x, 0, 0); }
sb_tensor *sb_op_exp(sb_tensor *x) { return unary("exp", SB_UNARY_EXP, x, 0, 0); }
sb_tensor *sb_op_square(sb_tensor *x) { return unary("square", SB_UNARY_SQUARE, x, 0, 0); }

/* ---- SwiGLU ---- */

/* saved: gate, up */
static int swiglu_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  sb_tensor *gy = sb_op_contiguous(g[0]); /* the kernel reads it as a contiguous buffer */
  if (!gy) return SB_ERR;
  sb_tensor *gg = n->needs_grad[0] ? sb_op_new(n->backend, n->in_ndim[0], n->in_shape[0]) : NULL;
  sb_tensor *gu = n->needs_grad[1] ? sb_op_new(n->backend, n->in_ndim[1], n->in_shape[1]) : NULL;
  if ((n->needs_grad[0] && !gg) || (n->needs_grad[1] && !gu)) return SB_ERR;
  sb_kp_rows p = {1, sb_tensor_numel(gy)};
  sb_kbuf b[5] = {sb_kbuf_of(gg, SB_ACCESS_OUT), sb_kbuf_of(gu, SB_ACCESS_OUT),
                  sb_kbuf_of(gy, SB_ACCESS_IN), sb_kbuf_of(n->saved[0], SB_ACCESS_IN),
                  sb_kbuf_of(n->saved[1], SB_ACCESS_IN)};
  if (sb_run(n->backend, SB_K_SWIGLU_BACKWARD, &p, 5, b)) return SB_ERR;
  gin[0] = gg, gin[1] = gu;
  return SB_OK;
}

sb_tensor *sb_op_swiglu(sb_tensor *gate, sb_tensor *up) {
  if (!sb_op_inputs_ok("swiglu", SB_OP_ARGS(gate, up), 2)) return NULL;
  if (!sb_tensor_same_shape(gate, up)) {
    char a[64], b[64];
    return sb_op_fail("swiglu", "gate %s and up %s differ in shape", sb_tensor_shape_str(gate, a, 64),
                      sb_tensor_shape_str(up, b, 64));
  }
  if (!sb_op_check_float("swiglu", "gate", gate) || !sb_op_check_float("swiglu", "up", up)) return NULL;
  sb_tensor *gc = sb_op_f32c(gate), *uc = sb_op_f32c(up);
  sb_tensor *y = gc && uc ? sb_op_new(gate->storage->backend, gate->ndim, gate->shape) : NULL;
  if (!y) return NULL;
  sb_kp_rows p = {1, sb_tensor_numel(gate)};
  sb_kbuf b[3] = {sb_kbuf_of(y, SB_ACCESS_OUT), sb_kbuf_of(gc, SB_ACCESS_IN), sb_kbuf_of(uc, SB_ACCESS_IN)};
  if (sb_run(gate->storage->backend, SB_K_SWIGLU, &p, 3, b)) return NULL;
  sb_tensor *inputs[2] = {gc, uc};
  if (sb_autograd_should_record(inputs, 2)) {
    sb_op_node *n = sb_op_node_new("swiglu", swiglu_backward, inputs, 2);
    if (!n) return NULL;
    sb_op_node_save(n, gc);
    sb_op_node_save(n, uc);
    y = sb_op_node_attach(n, y, 0);
  }
  return y;
}
