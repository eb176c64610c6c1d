/* op_reduce.c — sum and mean over one dim or over everything, and their
 * backward (the gradient broadcast back over the reduced dims). */
#include <string.h>

#include "op_common.h"

typedef struct reduce_ctx {
  float scale;
} reduce_ctx;

static int reduce_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  float s = SB_NODE_CTX(n, reduce_ctx)->scale;
  /* g has the kept-dims shape with size-1 reduced dims (see sb_op_sum), so
   * it broadcasts against the input's shape. */
  sb_tensor *gx = sb_k_broadcast_to(g[0], n->in_ndim[0], n->in_shape[0]);
  if (gx && s != 1.0f) gx = sb_k_affine(gx, s, 0.0f);
  gin[0] = gx;
  return gx ? SB_OK : SB_ERR;
}

/* Sums x over the dims in mask into a tensor with those dims of size 1. */
static sb_tensor *reduce(const char *name, sb_tensor *x, uint32_t mask, float scale) {
  if (!sb_op_check_float(name, "x", x)) return NULL;
  sb_tensor *xc = sb_op_f32c(x);
  if (!xc) return NULL;
  int64_t os[SB_MAX_DIMS];
  sb_kp_reduce p = {.ndim = x->ndim, .reduce_mask = mask, .scale = scale};
  for (int i = 0; i < x->ndim; i++) {
    p.shape[i] = x->shape[i];
    os[i] = (mask >> i) & 1u ? 1 : x->shape[i];
  }
  sb_tensor *y = sb_op_new(x->storage->backend, x->ndim, os);
  if (!y) return NULL;
  sb_kbuf b[2] = {sb_kbuf_of(y, SB_ACCESS_OUT), sb_kbuf_of(xc, SB_ACCESS_IN)};
  if (sb_run(x->storage->backend, SB_K_REDUCE, &p, 2, b)) return NULL;
  if (sb_autograd_should_record(&xc, 1)) {
    sb_op_node *n = sb_op_node_new(name, reduce_backward, &xc, 1);
    if (!n) return NULL;
    SB_NODE_CTX(n, reduce_ctx)->scale = scale;
    y = sb_op_node_attach(n, y, 0);
  }
  return y;
}

static sb_tensor *reduce_dim(const char *name, sb_tensor *x, int dim, bool keepdim, bool mean) {
  if (!x) return NULL;
  int d = sb_norm_dim(name, dim, x->ndim);
  if (d < 0) return NULL;
  float scale = mean ? (x->shape[d] ? 1.0f / (float)x->shape[d] : 0.0f) : 1.0f;
  sb_tensor *y = reduce(name, x, 1u << d, scale);
  if (!y || keepdim) return y;
  int64_t s[SB_MAX_DIMS];
  int k = 0;
  for (int i = 0; i < x->ndim; i++)
    if (i != d) s[k++] = x->shape[i];
  return sb_op_reshape(y, k, s);
}

static sb_tensor *reduce_all(const char *name, sb_tensor *x, bool mean) {
  if (!x) return NULL;
  int64_t n = sb_tensor_numel(x);
  uint32_t mask = x->ndim ? (1u << x->ndim) - 1u : 0u;
  sb_tensor *y = reduce(name, x, mask, mean ? (n ? 1.0f / (float)n : 0.0f) : 1.0f);
  return y ? sb_op_reshape(y, 0, NULL) : NULL;
}

sb_tensor *sb_op_sum(sb_tensor *x, int dim, bool keepdim) { return reduce_dim("sum", x, dim, keepdim, false); }
sb_tensor *sb_op_mean(sb_tensor *x, int dim, bool keepdim) { return reduce_dim("mean", x, dim, keepdim, true); }
sb_tensor *sb_op_sum_all(sb_tensor *x) { return reduce_all("sum", x, false); }
sb_tensor *sb_op_mean_all(sb_tensor *x) { return reduce_all("mean", x, true); }
