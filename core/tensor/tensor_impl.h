/* tensor_impl.h — the layout of tensors, storages and backends inside the
 * core, and the helpers ops use to build kernel calls. Not part of the sdk:
 * plugins see only opaque handles. */
#ifndef SB_CORE_TENSOR_IMPL_H
#define SB_CORE_TENSOR_IMPL_H

#include <stdatomic.h>

#include "spatialboost/backend.h"
#include "spatialboost/tensor.h"
#include "arena.h"

struct sb_op_node;

typedef struct sb_storage {
  atomic_int refcount;
  sb_backend *backend;
  void *data;          /* device pointer (host pointer on cpu) */
  size_t nbytes;       /* usable bytes */
  size_t block_bytes;  /* size class in the arena (0: external memory) */
  void (*release)(void *ctx); /* external memory: called when the storage ends */
  void *release_ctx;
} sb_storage;

struct sb_tensor {
  atomic_int refcount;
  sb_dtype dtype;
  int ndim;
  int64_t shape[SB_MAX_DIMS];
  int64_t stride[SB_MAX_DIMS]; /* in elements */
  int64_t offset;              /* in elements, into storage */
  sb_storage *storage;
  bool requires_grad;          /* a leaf that collects a gradient */
  struct sb_op_node *grad_fn;     /* the recorded op that made it (retained) */
  int grad_fn_output;          /* which output of grad_fn it is */
  sb_tensor *grad;             /* a leaf's gradient (owned) */
  char *name;
};

struct sb_backend {
  const sb_backend_vtable *vt;
  void *self;
  sb_arena arena;
};

/* Device pointer to element 0 of the view. */
void *sb_tensor_ptr(const sb_tensor *t);
/* Byte span from element 0 to one past the last element (for strided views). */
size_t sb_tensor_span_bytes(const sb_tensor *t);
size_t sb_tensor_nbytes(const sb_tensor *t);
/* New uninitialised contiguous tensor on be. Owned by the current scope. */
sb_tensor *sb_tensor_new_on(sb_backend *be, sb_dtype dtype, int ndim, const int64_t *shape);
sb_tensor *sb_tensor_from_host_on(sb_backend *be, sb_dtype dtype, int ndim, const int64_t *shape,
                                  const void *data);
sb_tensor *sb_tensor_zeros_on(sb_backend *be, sb_dtype dtype, int ndim, const int64_t *shape);
/* New view of base's storage. Owned by the current scope. */
sb_tensor *sb_tensor_view(sb_tensor *base, int ndim, const int64_t *shape, const int64_t *strides,
                          int64_t offset);
/* Points t (contiguous, not yet shared with views) at external memory of
 * nbytes instead of its own; release(ctx) runs when that storage ends. */
int sb_tensor_use_external(sb_tensor *t, void *data, size_t nbytes, void (*release)(void *), void *ctx);
/* Hands a new reference to the innermost scope (no-op without one). */
sb_tensor *sb_scope_adopt(sb_tensor *t);
/* Row-major contiguous strides for shape. */
void sb_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides);
int64_t sb_shape_numel(int ndim, const int64_t *shape);
/* Normalises a possibly negative dim; -1 (with a message) when out of range. */
int sb_norm_dim(const char *op, int dim, int ndim);

/* Kernel-call helpers. */
static inline sb_kbuf sb_kbuf_of(const sb_tensor *t, sb_access access) {
  sb_kbuf b = {NULL, 0, access};
  if (t) b.ptr = sb_tensor_ptr(t), b.bytes = sb_tensor_span_bytes(t);
  return b;
}
int sb_run(sb_backend *be, sb_kernel_id id, const void *params, int n_bufs, const sb_kbuf *bufs);

/* dtype conversion of n values between host buffers. */
void sb_convert(void *dst, sb_dtype dst_dtype, const void *src, sb_dtype src_dtype, int64_t n);

#endif
