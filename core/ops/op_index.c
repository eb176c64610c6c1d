/* op_index.c — row selection: index_select along any dim and the
 * embedding lookup, with their scatter-add backward. */
#include <string.h>

#include "op_common.h"

typedef struct gather_ctx {
  sb_kp_gather p;
} gather_ctx;

/* saved: index */
static int gather_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  const gather_ctx *c = SB_NODE_CTX(n, gather_ctx);
  sb_tensor *gy = sb_op_contiguous(g[0]); /* the kernel reads it as a contiguous buffer */
  sb_tensor *gx = gy ? sb_op_zeros(n->backend, n->in_ndim[0], n->in_shape[0]) : NULL;
  if (!gx) return SB_ERR;
  sb_kbuf b[3] = {sb_kbuf_of(gx, SB_ACCESS_INOUT), sb_kbuf_of(gy, SB_ACCESS_IN),
                  sb_kbuf_of(n->saved[0], SB_ACCESS_IN)};
  if (sb_run(n->backend, SB_K_SCATTER_ADD, &c->p, 3, b)) return SB_ERR;
  gin[0] = gx;
  return SB_OK;
}

static bool index_ok(const char *op, const sb_tensor *idx) {
  if (idx->dtype == SB_DTYPE_I32 || idx->dtype == SB_DTYPE_I64) return true;
  sb_op_fail(op, "index is %s, expected I32 or I64", sb_dtype_name(idx->dtype));
  return false;
}

/* x [outer, n_src, inner] rows picked by flat idx -> out of shape os. */
static sb_tensor *gather(const char *op, sb_tensor *x, sb_tensor *idx, int64_t outer, int64_t n_src,
                         int64_t inner, int64_t skip, int out_ndim, const int64_t *os) {
  sb_tensor *xc = sb_op_f32c(x), *ic = sb_op_contiguous(idx);
  if (!xc || !ic) return NULL;
  sb_kp_gather p = {outer, n_src, inner, sb_tensor_numel(idx), skip, (int32_t)idx->dtype};
  sb_tensor *y = sb_op_new(x->storage->backend, out_ndim, os);
  if (!y) return NULL;
  sb_kbuf b[3] = {sb_kbuf_of(y, SB_ACCESS_OUT), sb_kbuf_of(xc, SB_ACCESS_IN), sb_kbuf_of(ic, SB_ACCESS_IN)};
  if (sb_run(x->storage->backend, SB_K_GATHER, &p, 3, b)) {
    sb_error_prefix("%s", op);
    return NULL;
  }
  if (sb_autograd_should_record(&xc, 1)) {
    sb_op_node *n = sb_op_node_new(op, gather_backward, &xc, 1);
    if (!n) return NULL;
    SB_NODE_CTX(n, gather_ctx)->p = p;
    sb_op_node_save(n, ic);
    y = sb_op_node_attach(n, y, 0);
  }
  return y;
}

sb_tensor *sb_op_index_select(sb_tensor *x, int dim, sb_tensor *index) {
  if (!sb_op_inputs_ok("index_select", SB_OP_ARGS(x, index), 2)) return NULL;
  int d = sb_norm_dim("index_select", dim, x->ndim);
  if (d < 0 || !index_ok("index_select", index)) return NULL;
  if (index->ndim != 1) return sb_op_fail("index_select", "index must be 1-D, got %d dims", index->ndim);
  if (!sb_op_check_float("index_select", "x", x)) return NULL;
  int64_t outer = sb_shape_numel(d, x->shape), inner = sb_shape_numel(x->ndim - d - 1, x->shape + d + 1);
  int64_t os[SB_MAX_DIMS];
  memcpy(os, x->shape, sizeof(int64_t) * (size_t)x->ndim);
  os[d] = index->shape[0];
  return gather("index_select", x, index, outer, x->shape[d], inner, -1, x->ndim, os);
}

sb_tensor *sb_op_embedding(sb_tensor *weight, sb_tensor *ids, int64_t padding_idx) {
  if (!sb_op_inputs_ok("embedding", SB_OP_ARGS(weight, ids), 2)) return NULL;
  if (!index_ok("embedding", ids)) return NULL;
  if (weight->ndim != 2) {
    char a[64];
    return sb_op_fail("embedding", "weight %s, expected [vocab, dim]", sb_tensor_shape_str(weight, a, 64));
  }
  if (ids->ndim + 1 > SB_MAX_DIMS) return sb_op_fail("embedding", "ids have too many dims");
  int64_t os[SB_MAX_DIMS];
  memcpy(os, ids->shape, sizeof(int64_t) * (size_t)ids->ndim);
  os[ids->ndim] = weight->shape[1];
  return gather("embedding", weight, ids, 1, weight->shape[0], weight->shape[1], padding_idx,
                ids->ndim + 1, os);
}
