/* grad_accum.c — gradient sums for the backward engine (grad_accum.h). */
#include <string.h>

#include "grad_accum.h"

/* out = a + b elementwise; out, a, b of one shape, out contiguous. */
static int add_kernel(sb_tensor *out, const sb_tensor *a, const sb_tensor *b) {
  sb_kp_binary p = {.op = SB_BINARY_ADD, .ndim = out->ndim};
  memcpy(p.shape, out->shape, sizeof(int64_t) * (size_t)out->ndim);
  memcpy(p.a_strides, a->stride, sizeof(int64_t) * (size_t)a->ndim);
  memcpy(p.b_strides, b->stride, sizeof(int64_t) * (size_t)b->ndim);
  sb_kbuf bufs[3] = {sb_kbuf_of(out, SB_ACCESS_OUT), sb_kbuf_of(a, SB_ACCESS_IN),
                     sb_kbuf_of(b, SB_ACCESS_IN)};
  return sb_run(out->storage->backend, SB_K_BINARY, &p, 3, bufs);
}

int sb_grad_add_into(sb_tensor **slot, sb_tensor *g) {
  sb_tensor *old = *slot;
  sb_tensor *sum = sb_tensor_new_on(old->storage->backend, SB_DTYPE_F32, old->ndim, old->shape);
  /* The backward engine always runs inside a scope, which owns the creation
   * reference; the slot takes a reference of its own. */
  if (!sum || add_kernel(sum, old, g)) return SB_ERR;
  sb_tensor_retain(sum);
  sb_tensor_release(old);
  *slot = sum;
  return SB_OK;
}

int sb_grad_accumulate_leaf(sb_tensor *leaf, sb_tensor *g) {
  if (!leaf->grad) {
    sb_tensor *grad = sb_tensor_zeros_on(leaf->storage->backend, SB_DTYPE_F32, leaf->ndim, leaf->shape);
    if (!grad) return SB_ERR;
    leaf->grad = sb_tensor_retain(grad); /* the engine's scope drops the creation reference */
  }
  return add_kernel(leaf->grad, leaf->grad, g);
}
