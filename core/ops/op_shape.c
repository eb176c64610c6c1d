/* op_shape.c — ops that change shape or layout: contiguous, cast, reshape,
 * permute, transpose, narrow, slice, concat and split. Reshape (of a
 * contiguous tensor), permute, transpose and narrow are views. */
#include <string.h>

#include "op_common.h"

typedef struct shape_ctx {
  int perm[SB_MAX_DIMS];
  int dim;
  int64_t start;
  sb_dtype src_dtype;
} shape_ctx;

/* ---- contiguous ---- */

static int contiguous_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  gin[0] = g[0];
  return SB_OK;
}

sb_tensor *sb_op_contiguous(sb_tensor *x) {
  if (!x) return NULL;
  if (sb_tensor_is_contiguous(x)) return sb_scope_adopt(sb_tensor_retain(x));
  sb_tensor *y = sb_tensor_new_on(x->storage->backend, x->dtype, x->ndim, x->shape);
  if (!y || sb_k_copy(y, x)) return NULL;
  if (sb_autograd_should_record(&x, 1))
    y = sb_op_node_attach(sb_op_node_new("contiguous", contiguous_backward, &x, 1), y, 0);
  return y;
}

/* ---- cast ---- */

static int cast_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  gin[0] = g[0]; /* gradients are float32 whatever the forward dtype */
  return SB_OK;
}

sb_tensor *sb_op_cast(sb_tensor *x, sb_dtype dtype) {
  if (!x) return NULL;
  if ((unsigned)dtype >= SB_DTYPE_COUNT) return sb_op_fail("cast", "unknown dtype %d", (int)dtype);
  if (x->dtype == dtype) return sb_scope_adopt(sb_tensor_retain(x));
  sb_tensor *c = sb_op_contiguous(x);
  sb_tensor *y = c ? sb_tensor_new_on(x->storage->backend, dtype, x->ndim, x->shape) : NULL;
  if (!y) return NULL;
  sb_kp_cast p = {sb_tensor_numel(x), (int32_t)dtype, (int32_t)x->dtype};
  sb_kbuf b[2] = {sb_kbuf_of(y, SB_ACCESS_OUT), sb_kbuf_of(c, SB_ACCESS_IN)};
  if (sb_run(x->storage->backend, SB_K_CAST, &p, 2, b)) return NULL;
  if (sb_dtype_is_float(dtype) && sb_autograd_should_record(&c, 1))
    y = sb_op_node_attach(sb_op_node_new("cast", cast_backward, &c, 1), y, 0);
  return y;
}

/* ---- reshape ---- */

static int reshape_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  gin[0] = sb_op_reshape(g[0], n->in_ndim[0], n->in_shape[0]);
  return gin[0] ? SB_OK : SB_ERR;
}

sb_tensor *sb_op_reshape(sb_tensor *x, int ndim, const int64_t *shape) {
  if (!x) return NULL;
  if (ndim < 0 || ndim > SB_MAX_DIMS) return sb_op_fail("reshape", "%d dims requested", ndim);
  int64_t s[SB_MAX_DIMS], known = 1, numel = sb_tensor_numel(x);
  int infer = -1;
  for (int i = 0; i < ndim; i++) {
    s[i] = shape[i];
    if (s[i] == -1) {
      if (infer >= 0) return sb_op_fail("reshape", "more than one -1 in the new shape");
      infer = i;
    } else if (s[i] < 0) {
      return sb_op_fail("reshape", "size %lld in dim %d", (long long)s[i], i);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) s[infer] = known ? numel / known : 0;
  char a[64], b[64];
  if (sb_shape_numel(ndim, s) != numel)
    return sb_op_fail("reshape", "cannot view %s (%lld elements) as %s", sb_tensor_shape_str(x, a, 64),
                      (long long)numel, sb_shape_str(ndim, s, b, 64));
  sb_tensor *c = sb_op_contiguous(x);
  if (!c) return NULL;
  int64_t st[SB_MAX_DIMS];
  sb_contiguous_strides(ndim, s, st);
  sb_tensor *y = sb_tensor_view(c, ndim, s, st, c->offset);
  if (y && sb_autograd_should_record(&c, 1))
    y = sb_op_node_attach(sb_op_node_new("reshape", reshape_backward, &c, 1), y, 0);
  return y;
}

/* ---- permute / transpose ---- */

static int permute_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  const shape_ctx *c = SB_NODE_CTX(n, shape_ctx);
  int inv[SB_MAX_DIMS];
  for (int i = 0; i < n->in_ndim[0]; i++) inv[c->perm[i]] = i;
  gin[0] = sb_op_permute(g[0], inv);
  return gin[0] ? SB_OK : SB_ERR;
}

sb_tensor *sb_op_permute(sb_tensor *x, const int *perm) {
  if (!x) return NULL;
  bool seen[SB_MAX_DIMS] = {0};
  int64_t shape[SB_MAX_DIMS], strides[SB_MAX_DIMS];
  for (int i = 0; i < x->ndim; i++) {
    int d = perm[i];
    if (d < 0 || d >= x->ndim || seen[d])
      return sb_op_fail("permute", "perm is not a permutation of 0..%d", x->ndim - 1);
    seen[d] = true;
    shape[i] = x->shape[d], strides[i] = x->stride[d];
  }
  sb_tensor *y = sb_tensor_view(x, x->ndim, shape, strides, x->offset);
  if (y && sb_autograd_should_record(&x, 1)) {
    sb_op_node *n = sb_op_node_new("permute", permute_backward, &x, 1);
    if (n) memcpy(SB_NODE_CTX(n, shape_ctx)->perm, perm, sizeof(int) * (size_t)x->ndim);
    y = sb_op_node_attach(n, y, 0);
  }
  return y;
}

sb_tensor *sb_op_transpose(sb_tensor *x, int dim0, int dim1) {
  if (!x) return NULL;
  int a = sb_norm_dim("transpose", dim0, x->ndim), b = sb_norm_dim("transpose", dim1, x->ndim);
  if (a < 0 || b < 0) return NULL;
  int perm[SB_MAX_DIMS];
  for (int i = 0; i < x->ndim; i++) perm[i] = i;
  perm[a] = b, perm[b] = a;
  return sb_op_permute(x, perm);
}

/* ---- narrow / slice ---- */

static int narrow_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  const shape_ctx *c = SB_NODE_CTX(n, shape_ctx);
  sb_tensor *z = sb_op_zeros(n->backend, n->in_ndim[0], n->in_shape[0]);
  if (!z) return SB_ERR;
  sb_tensor *dst = sb_tensor_view(z, z->ndim, g[0]->shape, z->stride, c->start * z->stride[c->dim]);
  if (!dst || sb_k_copy(dst, g[0])) return SB_ERR;
  gin[0] = z;
  return SB_OK;
}

sb_tensor *sb_op_narrow(sb_tensor *x, int dim, int64_t start, int64_t length) {
  if (!x) return NULL;
  int d = sb_norm_dim("narrow", dim, x->ndim);
  if (d < 0) return NULL;
  if (start < 0 || length < 0 || start + length > x->shape[d])
    return sb_op_fail("narrow", "range [%lld, %lld) outside dim %d of size %lld", (long long)start,
                      (long long)(start + length), d, (long long)x->shape[d]);
  int64_t shape[SB_MAX_DIMS];
  memcpy(shape, x->shape, sizeof(int64_t) * (size_t)x->ndim);
  shape[d] = length;
  sb_tensor *y = sb_tensor_view(x, x->ndim, shape, x->stride, x->offset + start * x->stride[d]);
  if (y && sb_autograd_should_record(&x, 1)) {
    sb_op_node *n = sb_op_node_new("narrow", narrow_backward, &x, 1);
    if (n) SB_NODE_CTX(n, shape_ctx)->dim = d, SB_NODE_CTX(n, shape_ctx)->start = start;
    y = sb_op_node_attach(n, y, 0);
  }
  return y;
}

sb_tensor *sb_op_slice(sb_tensor *x, int dim, int64_t start, int64_t end) {
  if (!x) return NULL;
  int d = sb_norm_dim("slice", dim, x->ndim);
  if (d < 0) return NULL;
  int64_t n = x->shape[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = start < 0 ? 0 : start > n ? n : start;
  end = end < start ? start : end > n ? n : end;
  return sb_op_narrow(x, d, start, end - start);
}

/* ---- concat / split ---- */

static int concat_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  const shape_ctx *c = SB_NODE_CTX(n, shape_ctx);
  int64_t at = 0;
  for (int i = 0; i < n->n_inputs; i++) {
    int64_t len = n->in_shape[i][c->dim];
    if (n->needs_grad[i] && !(gin[i] = sb_op_narrow(g[0], c->dim, at, len))) return SB_ERR;
    at += len;
  }
  return SB_OK;
}

sb_tensor *sb_op_concat(sb_tensor *const *xs, int n, int dim) {
  if (n < 1) return sb_op_fail("concat", "no inputs");
  if (n > SB_NODE_MAX_INPUTS) { /* concatenate in groups so the tape nodes stay small */
    sb_tensor *parts[SB_NODE_MAX_INPUTS];
    int k = 0;
    for (int i = 0; i < n; i += SB_NODE_MAX_INPUTS) {
      int m = n - i < SB_NODE_MAX_INPUTS ? n - i : SB_NODE_MAX_INPUTS;
      parts[k++] = sb_op_concat(xs + i, m, dim);
    }
    return k > SB_NODE_MAX_INPUTS ? sb_op_fail("concat", "too many inputs (%d)", n)
                                  : sb_op_concat(parts, k, dim);
  }
  if (!sb_op_inputs_ok("concat", xs, n)) return NULL;
  const sb_tensor *x0 = xs[0];
  int d = sb_norm_dim("concat", dim, x0->ndim);
  if (d < 0) return NULL;
  int64_t shape[SB_MAX_DIMS];
  memcpy(shape, x0->shape, sizeof(int64_t) * (size_t)x0->ndim);
  shape[d] = 0;
  for (int i = 0; i < n; i++) {
    char a[64], b[64];
    bool ok = xs[i]->ndim == x0->ndim && xs[i]->dtype == x0->dtype;
    for (int j = 0; ok && j < x0->ndim; j++) ok = j == d || xs[i]->shape[j] == x0->shape[j];
    if (!ok)
      return sb_op_fail("concat", "input %d is %s %s, input 0 is %s %s (all but dim %d must match)", i,
                        sb_dtype_name(xs[i]->dtype), sb_tensor_shape_str(xs[i], a, 64),
                        sb_dtype_name(x0->dtype), sb_tensor_shape_str(x0, b, 64), d);
    shape[d] += xs[i]->shape[d];
  }
  sb_tensor *y = sb_tensor_new_on(x0->storage->backend, x0->dtype, x0->ndim, shape);
  if (!y) return NULL;
  int64_t at = 0;
  for (int i = 0; i < n; i++) {
    int64_t part[SB_MAX_DIMS];
    memcpy(part, shape, sizeof(int64_t) * (size_t)x0->ndim);
    part[d] = xs[i]->shape[d];
    sb_tensor *dst = sb_tensor_view(y, y->ndim, part, y->stride, at * y->stride[d]);
    if (!dst || sb_k_copy(dst, xs[i])) return NULL;
    at += part[d];
  }
  if (sb_autograd_should_record(xs, n)) {
    sb_op_node *node = sb_op_node_new("concat", concat_backward, xs, n);
    if (node) SB_NODE_CTX(node, shape_ctx)->dim = d;
    y = sb_op_node_attach(node, y, 0);
  }
  return y;
}

int sb_op_split(sb_tensor *x, int dim, const int64_t *sizes, int n, sb_tensor **out) {
  if (!x) return SB_ERR;
  int d = sb_norm_dim("split", dim, x->ndim);
  if (d < 0) return SB_ERR_SHAPE;
  int64_t total = 0;
  for (int i = 0; i < n; i++) total += sizes[i];
  if (total != x->shape[d])
    return sb_error_set(SB_ERR_SHAPE, "split: sizes add up to %lld, dim %d has %lld",
                        (long long)total, d, (long long)x->shape[d]);
  int64_t at = 0;
  for (int i = 0; i < n; i++) {
    if (!(out[i] = sb_op_narrow(x, d, at, sizes[i]))) return SB_ERR;
    at += sizes[i];
  }
  return SB_OK;
}
