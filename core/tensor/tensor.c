/* tensor.c — tensor handles: creation on a backend, views, references, host
 * transfers and facts (sdk tensor.h). Memory comes from the backend's arena. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd_impl.h"
#include "tensor_impl.h"
#include "util.h"

int64_t sb_shape_numel(int ndim, const int64_t *shape) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  return n;
}

void sb_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides) {
  int64_t s = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] ? shape[i] : 1;
  }
}

int sb_norm_dim(const char *op, int dim, int ndim) {
  int d = dim < 0 ? dim + ndim : dim;
  if (d < 0 || d >= ndim) {
    sb_error_set(SB_ERR_SHAPE, "%s: dim %d out of range for a %d-d tensor", op, dim, ndim);
    return -1;
  }
  return d;
}

static int check_shape(const char *what, int ndim, const int64_t *shape) {
  if (ndim < 0 || ndim > SB_MAX_DIMS)
    return sb_error_set(SB_ERR_SHAPE, "%s: %d dims (at most %d)", what, ndim, SB_MAX_DIMS);
  int64_t n = 8; /* bytes of the widest dtype: the byte size must fit too */
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0)
      return sb_error_set(SB_ERR_SHAPE, "%s: negative size %lld in dim %d", what, (long long)shape[i], i);
    if (__builtin_mul_overflow(n, shape[i], &n)) {
      char buf[160];
      return sb_error_set(SB_ERR_SHAPE, "%s: shape %s is too large", what, sb_shape_str(ndim, shape, buf, sizeof buf));
    }
  }
  return SB_OK;
}

static sb_storage *storage_new(sb_backend *be, size_t nbytes) {
  sb_storage *s = sb_calloc(1, sizeof *s);
  if (!s) return NULL;
  s->data = sb_arena_alloc(be, nbytes ? nbytes : 1, &s->block_bytes);
  if (!s->data) {
    free(s);
    return NULL;
  }
  atomic_init(&s->refcount, 1);
  s->backend = be;
  s->nbytes = nbytes;
  return s;
}

static void storage_release(sb_storage *s) {
  if (!s || atomic_fetch_sub(&s->refcount, 1) != 1) return;
  if (s->block_bytes) sb_arena_free(s->backend, s->data, s->block_bytes);
  else if (s->release) s->release(s->release_ctx);
  free(s);
}

int sb_tensor_use_external(sb_tensor *t, void *data, size_t nbytes, void (*release)(void *), void *ctx) {
  if (!sb_tensor_is_contiguous(t) || nbytes != sb_tensor_nbytes(t))
    return sb_error("tensor '%s': cannot use external memory of %zu bytes", sb_tensor_name(t), nbytes);
  sb_storage *s = sb_calloc(1, sizeof *s);
  if (!s) return SB_ERR_NOMEM;
  atomic_init(&s->refcount, 1);
  s->backend = t->storage->backend;
  s->data = data, s->nbytes = nbytes;
  s->release = release, s->release_ctx = ctx;
  storage_release(t->storage);
  t->storage = s;
  t->offset = 0;
  return SB_OK;
}

static sb_tensor *tensor_alloc_header(void) {
  sb_tensor *t = sb_calloc(1, sizeof *t);
  if (t) atomic_init(&t->refcount, 1);
  return t;
}

sb_tensor *sb_tensor_new_on(sb_backend *be, sb_dtype dtype, int ndim, const int64_t *shape) {
  if ((unsigned)dtype >= SB_DTYPE_COUNT) {
    sb_error_set(SB_ERR_SHAPE, "tensor: unknown dtype %d", (int)dtype);
    return NULL;
  }
  if (check_shape("tensor", ndim, shape)) return NULL;
  sb_tensor *t = tensor_alloc_header();
  if (!t) return NULL;
  t->dtype = dtype;
  t->ndim = ndim;
  memcpy(t->shape, shape, sizeof(int64_t) * (size_t)ndim);
  sb_contiguous_strides(ndim, shape, t->stride);
  t->storage = storage_new(be, (size_t)sb_shape_numel(ndim, shape) * sb_dtype_size(dtype));
  if (!t->storage) {
    free(t);
    return NULL;
  }
  return sb_scope_adopt(t);
}

sb_tensor *sb_tensor_new(sb_dtype dtype, int ndim, const int64_t *shape) {
  return sb_tensor_new_on(sb_backend_current(), dtype, ndim, shape);
}

sb_tensor *sb_tensor_zeros_on(sb_backend *be, sb_dtype dtype, int ndim, const int64_t *shape) {
  sb_tensor *t = sb_tensor_new_on(be, dtype, ndim, shape);
  if (t && be->vt->zero(be->self, t->storage->data, t->storage->nbytes)) {
    if (sb_scope_depth() == 0) sb_tensor_release(t);
    return NULL;
  }
  return t;
}

sb_tensor *sb_tensor_zeros(sb_dtype dtype, int ndim, const int64_t *shape) {
  return sb_tensor_zeros_on(sb_backend_current(), dtype, ndim, shape);
}

int sb_tensor_fill(sb_tensor *t, double value) {
  if (!t) return SB_ERR;
  if (!sb_tensor_is_contiguous(t)) return sb_error("fill: tensor is not contiguous");
  sb_kp_fill p = {sb_tensor_numel(t), (int32_t)t->dtype, value};
  sb_kbuf b[1] = {sb_kbuf_of(t, SB_ACCESS_OUT)};
  return sb_run(t->storage->backend, SB_K_FILL, &p, 1, b);
}

sb_tensor *sb_tensor_full(sb_dtype dtype, int ndim, const int64_t *shape, double value) {
  sb_tensor *t = sb_tensor_new(dtype, ndim, shape);
  if (t && sb_tensor_fill(t, value)) return NULL;
  return t;
}

sb_tensor *sb_tensor_from_host_on(sb_backend *be, sb_dtype dtype, int ndim, const int64_t *shape,
                                  const void *data) {
  sb_tensor *t = sb_tensor_new_on(be, dtype, ndim, shape);
  if (!t) return NULL;
  if (t->storage->nbytes && be->vt->upload(be->self, t->storage->data, data, t->storage->nbytes)) {
    if (sb_scope_depth() == 0) sb_tensor_release(t); /* else the scope releases it */
    return NULL;
  }
  return t;
}

sb_tensor *sb_tensor_from_host(sb_dtype dtype, int ndim, const int64_t *shape, const void *data) {
  return sb_tensor_from_host_on(sb_backend_current(), dtype, ndim, shape, data);
}

sb_tensor *sb_tensor_scalar(float value) { return sb_tensor_from_host(SB_DTYPE_F32, 0, NULL, &value); }

sb_tensor *sb_tensor_view(sb_tensor *base, int ndim, const int64_t *shape, const int64_t *strides,
                          int64_t offset) {
  sb_tensor *t = tensor_alloc_header();
  if (!t) return NULL;
  t->dtype = base->dtype;
  t->ndim = ndim;
  memcpy(t->shape, shape, sizeof(int64_t) * (size_t)ndim);
  memcpy(t->stride, strides, sizeof(int64_t) * (size_t)ndim);
  t->offset = offset;
  t->storage = base->storage;
  atomic_fetch_add(&t->storage->refcount, 1);
  return sb_scope_adopt(t);
}

sb_tensor *sb_tensor_retain(sb_tensor *t) {
  if (t) atomic_fetch_add(&t->refcount, 1);
  return t;
}

void sb_tensor_release(sb_tensor *t) {
  if (!t || atomic_fetch_sub(&t->refcount, 1) != 1) return;
  if (t->grad_fn) sb_op_node_release(t->grad_fn);
  sb_tensor_release(t->grad);
  storage_release(t->storage);
  free(t->name);
  free(t);
}

void *sb_tensor_ptr(const sb_tensor *t) {
  return (char *)t->storage->data + t->offset * (int64_t)sb_dtype_size(t->dtype);
}

size_t sb_tensor_nbytes(const sb_tensor *t) {
  return (size_t)sb_tensor_numel(t) * sb_dtype_size(t->dtype);
}

size_t sb_tensor_span_bytes(const sb_tensor *t) {
  if (sb_tensor_numel(t) == 0) return 0;
  int64_t last = 0;
  for (int i = 0; i < t->ndim; i++) last += (t->shape[i] - 1) * t->stride[i];
  return (size_t)(last + 1) * sb_dtype_size(t->dtype);
}

sb_dtype sb_tensor_dtype(const sb_tensor *t) { return t->dtype; }
int sb_tensor_ndim(const sb_tensor *t) { return t->ndim; }
const int64_t *sb_tensor_shape(const sb_tensor *t) { return t->shape; }
const int64_t *sb_tensor_strides(const sb_tensor *t) { return t->stride; }
int64_t sb_tensor_numel(const sb_tensor *t) { return sb_shape_numel(t->ndim, t->shape); }
sb_backend *sb_tensor_backend(const sb_tensor *t) { return t->storage->backend; }

int64_t sb_tensor_dim(const sb_tensor *t, int dim) {
  int d = dim < 0 ? dim + t->ndim : dim;
  return d >= 0 && d < t->ndim ? t->shape[d] : -1;
}

bool sb_tensor_is_contiguous(const sb_tensor *t) {
  int64_t s = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    if (t->shape[i] != 1 && t->stride[i] != s) return false;
    s *= t->shape[i];
  }
  return true;
}

bool sb_tensor_same_shape(const sb_tensor *a, const sb_tensor *b) {
  return a->ndim == b->ndim && memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim) == 0;
}

const char *sb_shape_str(int ndim, const int64_t *shape, char *buf, size_t size) {
  size_t n = 0;
  n += (size_t)snprintf(buf + n, size - n, "[");
  for (int i = 0; i < ndim && n < size; i++)
    n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? ", " : "", (long long)shape[i]);
  if (n < size) snprintf(buf + n, size - n, "]");
  return buf;
}

const char *sb_tensor_shape_str(const sb_tensor *t, char *buf, size_t size) {
  return sb_shape_str(t->ndim, t->shape, buf, size);
}

const char *sb_tensor_name(const sb_tensor *t) { return t->name ? t->name : ""; }

void sb_tensor_set_name(sb_tensor *t, const char *name) {
  free(t->name);
  t->name = name ? sb_strdup(name) : NULL;
}

/* Makes a contiguous copy on the same backend when t is strided. */
static sb_tensor *contiguous_copy(const sb_tensor *t) {
  sb_tensor *c = sb_tensor_new_on(t->storage->backend, t->dtype, t->ndim, t->shape);
  if (!c) return NULL;
  sb_kp_copy p = {.ndim = t->ndim, .elsize = (int32_t)sb_dtype_size(t->dtype)};
  memcpy(p.shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
  memcpy(p.dst_strides, c->stride, sizeof(int64_t) * (size_t)t->ndim);
  memcpy(p.src_strides, t->stride, sizeof(int64_t) * (size_t)t->ndim);
  sb_kbuf b[2] = {sb_kbuf_of(c, SB_ACCESS_INOUT), sb_kbuf_of(t, SB_ACCESS_IN)};
  if (sb_run(t->storage->backend, SB_K_COPY_STRIDED, &p, 2, b)) return NULL;
  return c;
}

int sb_tensor_to_host(const sb_tensor *t, void *dst, size_t dst_bytes) {
  if (!t) return SB_ERR;
  size_t nbytes = sb_tensor_nbytes(t);
  if (dst_bytes != nbytes)
    return sb_error_set(SB_ERR_SHAPE, "to_host: buffer of %zu bytes for a tensor of %zu bytes",
                        dst_bytes, nbytes);
  if (!nbytes) return SB_OK;
  sb_backend *be = t->storage->backend;
  if (sb_tensor_is_contiguous(t)) return be->vt->download(be->self, dst, sb_tensor_ptr(t), nbytes);
  sb_scope_begin();
  sb_tensor *c = contiguous_copy(t);
  int rc = c ? be->vt->download(be->self, dst, sb_tensor_ptr(c), nbytes) : SB_ERR;
  sb_scope_end();
  return rc;
}

int sb_tensor_to_host_f32(const sb_tensor *t, float *dst, size_t n) {
  if (!t) return SB_ERR;
  if ((int64_t)n != sb_tensor_numel(t))
    return sb_error_set(SB_ERR_SHAPE, "to_host_f32: room for %zu values, tensor has %lld", n,
                        (long long)sb_tensor_numel(t));
  if (t->dtype == SB_DTYPE_F32) return sb_tensor_to_host(t, dst, n * 4);
  void *tmp = sb_malloc(sb_tensor_nbytes(t));
  if (!tmp) return SB_ERR_NOMEM;
  int rc = sb_tensor_to_host(t, tmp, sb_tensor_nbytes(t));
  if (rc == SB_OK) sb_convert(dst, SB_DTYPE_F32, tmp, t->dtype, (int64_t)n);
  free(tmp);
  return rc;
}

int sb_tensor_item(const sb_tensor *t, float *out) {
  if (!t) return SB_ERR;
  if (sb_tensor_numel(t) != 1)
    return sb_error_set(SB_ERR_SHAPE, "item: tensor has %lld elements, expected 1",
                        (long long)sb_tensor_numel(t));
  return sb_tensor_to_host_f32(t, out, 1);
}

int sb_tensor_assign(sb_tensor *dst, const sb_tensor *src) {
  if (!dst || !src) return SB_ERR;
  if (sb_tensor_numel(dst) != sb_tensor_numel(src)) {
    char a[64], b[64];
    return sb_error_set(SB_ERR_SHAPE, "assign: shape %s into %s", sb_tensor_shape_str(src, a, 64),
                        sb_tensor_shape_str(dst, b, 64));
  }
  if (dst->storage->backend != src->storage->backend) { /* through the host */
    size_t n = sb_tensor_nbytes(src);
    void *tmp = sb_malloc(n);
    if (!tmp) return SB_ERR_NOMEM;
    int rc = sb_tensor_to_host(src, tmp, n);
    if (rc == SB_OK) rc = sb_tensor_assign_host(dst, tmp, src->dtype);
    free(tmp);
    return rc;
  }
  sb_backend *be = dst->storage->backend;
  int rc = SB_OK;
  sb_scope_begin();
  const sb_tensor *s = src;
  if (src->dtype != dst->dtype) {
    const sb_tensor *cs = sb_tensor_is_contiguous(src) ? src : contiguous_copy(src);
    sb_tensor *cast = cs ? sb_tensor_new_on(be, dst->dtype, src->ndim, src->shape) : NULL;
    if (!cast) rc = SB_ERR;
    else {
      sb_kp_cast p = {sb_tensor_numel(src), (int32_t)dst->dtype, (int32_t)src->dtype};
      sb_kbuf b[2] = {sb_kbuf_of(cast, SB_ACCESS_OUT), sb_kbuf_of(cs, SB_ACCESS_IN)};
      rc = sb_run(be, SB_K_CAST, &p, 2, b);
    }
    s = cast;
  }
  if (rc == SB_OK) {
    /* Copy s into dst's strided layout, viewing s in dst's shape. */
    sb_kp_copy p = {.ndim = dst->ndim, .elsize = (int32_t)sb_dtype_size(dst->dtype)};
    memcpy(p.shape, dst->shape, sizeof(int64_t) * (size_t)dst->ndim);
    memcpy(p.dst_strides, dst->stride, sizeof(int64_t) * (size_t)dst->ndim);
    const sb_tensor *sc = sb_tensor_is_contiguous(s) ? s : contiguous_copy(s);
    if (!sc) rc = SB_ERR;
    else {
      sb_contiguous_strides(dst->ndim, dst->shape, p.src_strides);
      sb_kbuf b[2] = {sb_kbuf_of(dst, SB_ACCESS_INOUT), sb_kbuf_of(sc, SB_ACCESS_IN)};
      rc = sb_run(be, SB_K_COPY_STRIDED, &p, 2, b);
    }
  }
  sb_scope_end();
  return rc;
}

int sb_tensor_assign_host(sb_tensor *dst, const void *data, sb_dtype data_dtype) {
  if (!dst) return SB_ERR;
  int64_t n = sb_tensor_numel(dst);
  sb_backend *be = dst->storage->backend;
  const void *src = data;
  void *tmp = NULL;
  if (data_dtype != dst->dtype) {
    if (!(tmp = sb_malloc((size_t)n * sb_dtype_size(dst->dtype)))) return SB_ERR_NOMEM;
    sb_convert(tmp, dst->dtype, data, data_dtype, n);
    src = tmp;
  }
  int rc;
  if (sb_tensor_is_contiguous(dst)) {
    rc = be->vt->upload(be->self, sb_tensor_ptr(dst), src, sb_tensor_nbytes(dst));
  } else {
    sb_scope_begin();
    sb_tensor *c = sb_tensor_from_host_on(be, dst->dtype, dst->ndim, dst->shape, src);
    rc = c ? sb_tensor_assign(dst, c) : SB_ERR;
    sb_scope_end();
  }
  free(tmp);
  return rc;
}
