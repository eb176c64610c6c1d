/* op_common.c — shared op helpers (op_common.h). */
#include <stdarg.h>
#include <string.h>

#include "op_common.h"

bool sb_op_inputs_ok(const char *op, sb_tensor *const *xs, int n) {
  sb_backend *be = NULL;
  for (int i = 0; i < n; i++) {
    if (!xs[i]) return false;
    if (!be) be = xs[i]->storage->backend;
    else if (xs[i]->storage->backend != be) {
      sb_error_set(SB_ERR_SHAPE, "%s: inputs live on different backends (%s and %s)", op,
                   be->vt->name, xs[i]->storage->backend->vt->name);
      return false;
    }
  }
  return true;
}

sb_tensor *sb_op_fail(const char *op, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sb_error_set(SB_ERR_SHAPE, "%s: %s", op, msg);
  return NULL;
}

bool sb_op_check_float(const char *op, const char *arg, const sb_tensor *x) {
  if (sb_dtype_is_float(x->dtype)) return true;
  sb_op_fail(op, "%s is %s, expected a float tensor", arg, sb_dtype_name(x->dtype));
  return false;
}

sb_tensor *sb_op_f32c(sb_tensor *x) {
  if (!x) return NULL;
  if (x->dtype != SB_DTYPE_F32) x = sb_op_cast(x, SB_DTYPE_F32);
  return sb_op_contiguous(x);
}

sb_tensor *sb_op_new(sb_backend *be, int ndim, const int64_t *shape) {
  return sb_tensor_new_on(be, SB_DTYPE_F32, ndim, shape);
}

sb_tensor *sb_op_zeros(sb_backend *be, int ndim, const int64_t *shape) {
  return sb_tensor_zeros_on(be, SB_DTYPE_F32, ndim, shape);
}

int64_t sb_rows(const sb_tensor *x) {
  return x->ndim ? sb_tensor_numel(x) / (x->shape[x->ndim - 1] ? x->shape[x->ndim - 1] : 1) : 1;
}

sb_tensor *sb_k_affine(sb_tensor *x, float alpha, float beta) {
  sb_tensor *y = sb_op_new(x->storage->backend, x->ndim, x->shape);
  if (!y) return NULL;
  sb_kp_unary p = {SB_UNARY_AFFINE, sb_tensor_numel(x), alpha, beta};
  sb_kbuf b[2] = {sb_kbuf_of(y, SB_ACCESS_OUT), sb_kbuf_of(x, SB_ACCESS_IN)};
  return sb_run(x->storage->backend, SB_K_UNARY, &p, 2, b) ? NULL : y;
}

sb_tensor *sb_k_binary_same(sb_binary_op op, sb_tensor *a, sb_tensor *b) {
  sb_tensor *y = sb_op_new(a->storage->backend, a->ndim, a->shape);
  if (!y) return NULL;
  sb_kp_binary p = {.op = op, .ndim = a->ndim};
  memcpy(p.shape, a->shape, sizeof(int64_t) * (size_t)a->ndim);
  memcpy(p.a_strides, a->stride, sizeof(int64_t) * (size_t)a->ndim);
  memcpy(p.b_strides, b->stride, sizeof(int64_t) * (size_t)b->ndim);
  sb_kbuf bufs[3] = {sb_kbuf_of(y, SB_ACCESS_OUT), sb_kbuf_of(a, SB_ACCESS_IN),
                     sb_kbuf_of(b, SB_ACCESS_IN)};
  return sb_run(a->storage->backend, SB_K_BINARY, &p, 3, bufs) ? NULL : y;
}

int sb_k_copy(sb_tensor *dst, const sb_tensor *src) {
  sb_kp_copy p = {.ndim = dst->ndim, .elsize = (int32_t)sb_dtype_size(dst->dtype)};
  memcpy(p.shape, dst->shape, sizeof(int64_t) * (size_t)dst->ndim);
  memcpy(p.dst_strides, dst->stride, sizeof(int64_t) * (size_t)dst->ndim);
  memcpy(p.src_strides, src->stride, sizeof(int64_t) * (size_t)src->ndim);
  sb_kbuf b[2] = {sb_kbuf_of(dst, SB_ACCESS_INOUT), sb_kbuf_of(src, SB_ACCESS_IN)};
  return sb_run(dst->storage->backend, SB_K_COPY_STRIDED, &p, 2, b);
}

sb_tensor *sb_k_broadcast_to(sb_tensor *x, int ndim, const int64_t *shape) {
  sb_tensor *y = sb_tensor_new_on(x->storage->backend, x->dtype, ndim, shape);
  if (!y) return NULL;
  sb_kp_copy p = {.ndim = ndim, .elsize = (int32_t)sb_dtype_size(x->dtype)};
  memcpy(p.shape, shape, sizeof(int64_t) * (size_t)ndim);
  memcpy(p.dst_strides, y->stride, sizeof(int64_t) * (size_t)ndim);
  int off = ndim - x->ndim;
  for (int i = 0; i < ndim; i++) {
    int j = i - off;
    p.src_strides[i] = (j < 0 || x->shape[j] == 1) ? 0 : x->stride[j];
  }
  sb_kbuf b[2] = {sb_kbuf_of(y, SB_ACCESS_INOUT), sb_kbuf_of(x, SB_ACCESS_IN)};
  return sb_run(x->storage->backend, SB_K_COPY_STRIDED, &p, 2, b) ? NULL : y;
}

sb_tensor *sb_reduce_to_shape(sb_tensor *g, int ndim, const int64_t *shape) {
  if (g->ndim == ndim && memcmp(g->shape, shape, sizeof(int64_t) * (size_t)ndim) == 0) return g;
  sb_kp_reduce p = {.ndim = g->ndim, .scale = 1.0f};
  memcpy(p.shape, g->shape, sizeof(int64_t) * (size_t)g->ndim);
  int off = g->ndim - ndim;
  for (int i = 0; i < g->ndim; i++) {
    int j = i - off;
    if (j < 0 || (shape[j] == 1 && g->shape[i] != 1)) p.reduce_mask |= 1u << i;
  }
  sb_tensor *out = sb_op_new(g->storage->backend, ndim, shape);
  if (!out) return NULL;
  sb_kbuf b[2] = {sb_kbuf_of(out, SB_ACCESS_OUT), sb_kbuf_of(g, SB_ACCESS_IN)};
  return sb_run(g->storage->backend, SB_K_REDUCE, &p, 2, b) ? NULL : out;
}

int sb_k_gemm(sb_tensor *C, const sb_tensor *A, const sb_tensor *B, bool ta, bool tb, int64_t m, int64_t n,
              int64_t k, float beta, int64_t batch, int64_t sa, int64_t sb_, int64_t sc) {
  sb_kp_gemm p = {.trans_a = ta, .trans_b = tb, .m = m, .n = n, .k = k, .alpha = 1.0f,
                  .beta = beta, .lda = ta ? m : k, .ldb = tb ? k : n, .ldc = n,
                  .batch = batch, .stride_a = sa, .stride_b = sb_, .stride_c = sc};
  sb_kbuf b[3] = {sb_kbuf_of(C, SB_ACCESS_INOUT), sb_kbuf_of(A, SB_ACCESS_IN),
                  sb_kbuf_of(B, SB_ACCESS_IN)};
  return sb_run(C->storage->backend, SB_K_GEMM, &p, 3, b);
}
