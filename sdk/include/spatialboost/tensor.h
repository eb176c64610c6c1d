/* spatialboost/tensor.h — tensors: dtype, shape, strides, refcounted storage
 * on a backend's device, and scopes that own temporaries.
 *
 * A tensor is an opaque handle: a view (shape, strides in elements, offset)
 * of a refcounted storage that lives on one backend (host memory for "cpu",
 * device memory for others). Its data is never touched directly: values move
 * in and out with sb_tensor_from_host / sb_tensor_to_host and change only
 * through ops (ops.h), so the same code runs on every backend.
 *
 * Ownership. Every function that returns a new tensor hands one reference to
 * the innermost open scope (sb_scope_begin/end); the scope releases it when it
 * ends. With no scope open the caller owns the reference and releases it. To
 * keep a tensor past its scope, sb_tensor_retain it (and release it later), or
 * move it to the enclosing scope with sb_scope_keep. Tensors that autograd
 * needs for the backward pass are retained by the tape, not by scopes.
 *
 * NULL propagation. Ops given a NULL input return NULL without recording a new
 * message, so a chain of ops can be checked once at its end. */
#ifndef SPATIALBOOST_TENSOR_H
#define SPATIALBOOST_TENSOR_H

#include "defs.h"

SB_BEGIN_DECLS

typedef enum sb_dtype {
  SB_DTYPE_F32 = 0,
  SB_DTYPE_BF16 = 1,
  SB_DTYPE_F16 = 2,
  SB_DTYPE_I32 = 3,
  SB_DTYPE_I64 = 4,
  SB_DTYPE_U8 = 5,
  SB_DTYPE_COUNT
} sb_dtype;

#define SB_MAX_DIMS 8

typedef struct sb_tensor sb_tensor;
typedef struct sb_backend sb_backend;

/* dtype facts. Names are the safetensors spellings ("F32", "BF16", ...). */
SB_API size_t sb_dtype_size(sb_dtype dtype);
SB_API const char *sb_dtype_name(sb_dtype dtype);
SB_API int sb_dtype_from_name(const char *name, sb_dtype *out);
SB_API bool sb_dtype_is_float(sb_dtype dtype);

/* Scalar conversions, exact as IEEE round-to-nearest-even. */
SB_API float sb_bf16_to_f32(uint16_t h);
SB_API uint16_t sb_f32_to_bf16(float f);
SB_API float sb_f16_to_f32(uint16_t h);
SB_API uint16_t sb_f32_to_f16(float f);

/* Creation, on the current backend (sb_backend_current()).
 * shape: ndim sizes (0 <= ndim <= SB_MAX_DIMS; ndim 0 is a scalar). */
SB_API sb_tensor *sb_tensor_new(sb_dtype dtype, int ndim, const int64_t *shape);
SB_API sb_tensor *sb_tensor_zeros(sb_dtype dtype, int ndim, const int64_t *shape);
SB_API sb_tensor *sb_tensor_full(sb_dtype dtype, int ndim, const int64_t *shape, double value);
/* Copies nbytes = numel * dtype size from host memory. */
SB_API sb_tensor *sb_tensor_from_host(sb_dtype dtype, int ndim, const int64_t *shape,
                                      const void *data);
/* A 0-d float32 tensor. */
SB_API sb_tensor *sb_tensor_scalar(float value);

/* Copies the values (gathered in row-major order whatever the strides) to
 * host memory of dst_bytes; fails unless dst_bytes == numel * dtype size. */
SB_API int sb_tensor_to_host(const sb_tensor *t, void *dst, size_t dst_bytes);
/* Same, converting any dtype to float32; dst holds numel floats. */
SB_API int sb_tensor_to_host_f32(const sb_tensor *t, float *dst, size_t n);
/* One float32 value of a tensor with exactly one element. */
SB_API int sb_tensor_item(const sb_tensor *t, float *out);
/* Overwrites dst's values with src's (same shape; dtypes may differ and are
 * converted). Not recorded by autograd; for loading and optimizers. */
SB_API int sb_tensor_assign(sb_tensor *dst, const sb_tensor *src);
SB_API int sb_tensor_assign_host(sb_tensor *dst, const void *data, sb_dtype data_dtype);
SB_API int sb_tensor_fill(sb_tensor *t, double value);

/* References. */
SB_API sb_tensor *sb_tensor_retain(sb_tensor *t);
SB_API void sb_tensor_release(sb_tensor *t);

/* Facts about a tensor. */
SB_API sb_dtype sb_tensor_dtype(const sb_tensor *t);
SB_API int sb_tensor_ndim(const sb_tensor *t);
/* Size of dimension dim; negative dims count from the end. */
SB_API int64_t sb_tensor_dim(const sb_tensor *t, int dim);
SB_API const int64_t *sb_tensor_shape(const sb_tensor *t);
SB_API const int64_t *sb_tensor_strides(const sb_tensor *t);
SB_API int64_t sb_tensor_numel(const sb_tensor *t);
SB_API bool sb_tensor_is_contiguous(const sb_tensor *t);
SB_API sb_backend *sb_tensor_backend(const sb_tensor *t);
SB_API bool sb_tensor_same_shape(const sb_tensor *a, const sb_tensor *b);
/* "[2, 3, 4]" into buf; returns buf. */
SB_API const char *sb_tensor_shape_str(const sb_tensor *t, char *buf, size_t size);
SB_API const char *sb_shape_str(int ndim, const int64_t *shape, char *buf, size_t size);

/* Name (used in messages and by the parameter store). Copied. */
SB_API const char *sb_tensor_name(const sb_tensor *t);
SB_API void sb_tensor_set_name(sb_tensor *t, const char *name);

/* Scopes own temporaries (see the top of this file). */
SB_API void sb_scope_begin(void);
SB_API void sb_scope_end(void);
/* Moves one reference of t from the innermost scope to the enclosing one (or
 * to the caller when there is none); returns t. Call before sb_scope_end. */
SB_API sb_tensor *sb_scope_keep(sb_tensor *t);
SB_API int sb_scope_depth(void);

SB_END_DECLS
#endif
