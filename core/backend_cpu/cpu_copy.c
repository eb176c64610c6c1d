/* cpu_copy.c — cpu kernels that move values: dtype casts, strided copies
 * (any dtype, any strides) and fills. */
#include <string.h>

#include "cpu_backend.h"
#include "tensor_impl.h"

SB_CPU_KERNEL(cast) {
  const sb_kp_cast *p = KP(call, sb_kp_cast);
  sb_convert(call->bufs[0].ptr, (sb_dtype)p->dst_dtype, call->bufs[1].ptr, (sb_dtype)p->src_dtype,
             p->n);
  return SB_OK;
}

/* Collapses dims that are contiguous in both src and dst, so most copies
 * become a few long memcpy runs. Returns the new ndim. */
static int collapse(int ndim, int64_t *shape, int64_t *ds, int64_t *ss) {
  int out = 0;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] == 1) continue;
    if (out > 0 && ds[out - 1] == ds[i] * shape[i] && ss[out - 1] == ss[i] * shape[i]) {
      shape[out - 1] *= shape[i];
      ds[out - 1] = ds[i], ss[out - 1] = ss[i];
    } else {
      shape[out] = shape[i], ds[out] = ds[i], ss[out] = ss[i];
      out++;
    }
  }
  return out;
}

SB_CPU_KERNEL(copy_strided) {
  const sb_kp_copy *p = KP(call, sb_kp_copy);
  int64_t shape[SB_KMAX_DIMS], ds[SB_KMAX_DIMS], ss[SB_KMAX_DIMS];
  for (int i = 0; i < p->ndim; i++) {
    if (p->shape[i] == 0) return SB_OK;
    shape[i] = p->shape[i], ds[i] = p->dst_strides[i], ss[i] = p->src_strides[i];
  }
  int nd = collapse(p->ndim, shape, ds, ss);
  char *dst = call->bufs[0].ptr;
  const char *src = call->bufs[1].ptr;
  const int64_t es = p->elsize;
  if (nd == 0) {
    memcpy(dst, src, (size_t)es);
    return SB_OK;
  }
  /* Innermost dim as a run; outer dims enumerated by a flat index. */
  int64_t inner = shape[nd - 1], outer = 1;
  for (int i = 0; i < nd - 1; i++) outer *= shape[i];
  bool run = ds[nd - 1] == 1 && ss[nd - 1] == 1;
#pragma omp parallel for schedule(static) if (outer * inner > 65536)
  for (int64_t o = 0; o < outer; o++) {
    int64_t rem = o, doff = 0, soff = 0;
    for (int i = nd - 2; i >= 0; i--) {
      int64_t idx = rem % shape[i];
      rem /= shape[i];
      doff += idx * ds[i], soff += idx * ss[i];
    }
    char *d = dst + doff * es;
    const char *s = src + soff * es;
    if (run) {
      memcpy(d, s, (size_t)(inner * es));
    } else if (es == 4) {
      for (int64_t j = 0; j < inner; j++)
        memcpy(d + j * ds[nd - 1] * 4, s + j * ss[nd - 1] * 4, 4);
    } else {
      for (int64_t j = 0; j < inner; j++)
        memcpy(d + j * ds[nd - 1] * es, s + j * ss[nd - 1] * es, (size_t)es);
    }
  }
  return SB_OK;
}

SB_CPU_KERNEL(fill) {
  const sb_kp_fill *p = KP(call, sb_kp_fill);
  void *dst = call->bufs[0].ptr;
  int64_t n = p->n;
  switch ((sb_dtype)p->dtype) {
  case SB_DTYPE_F32: {
    float v = (float)p->value, *d = dst;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) d[i] = v;
    break;
  }
  case SB_DTYPE_BF16:
  case SB_DTYPE_F16: {
    uint16_t v = p->dtype == SB_DTYPE_BF16 ? sb_f32_to_bf16((float)p->value) : sb_f32_to_f16((float)p->value);
    uint16_t *d = dst;
    for (int64_t i = 0; i < n; i++) d[i] = v;
    break;
  }
  case SB_DTYPE_I32: {
    int32_t v = (int32_t)p->value, *d = dst;
    for (int64_t i = 0; i < n; i++) d[i] = v;
    break;
  }
  case SB_DTYPE_I64: {
    int64_t v = (int64_t)p->value, *d = dst;
    for (int64_t i = 0; i < n; i++) d[i] = v;
    break;
  }
  case SB_DTYPE_U8: memset(dst, (int)(uint8_t)p->value, (size_t)n); break;
  default: return sb_error("fill: unknown dtype %d", p->dtype);
  }
  return SB_OK;
}
