/* op_rope.c — rotary position embedding (half-split convention) and the
 * tables for its 1-D (token position) and 2-D axial (patch grid) forms. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "op_common.h"

typedef struct rope_ctx {
  sb_kp_rope p;
} rope_ctx;

/* saved: cos, sin */
static int rope_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  sb_kp_rope p = SB_NODE_CTX(n, rope_ctx)->p;
  p.inverse = 1;
  sb_tensor *gy = sb_op_contiguous(g[0]); /* the kernel reads it as a contiguous buffer */
  sb_tensor *gx = gy ? sb_op_new(n->backend, 4, gy->shape) : NULL;
  if (!gx) return SB_ERR;
  sb_kbuf b[4] = {sb_kbuf_of(gx, SB_ACCESS_OUT), sb_kbuf_of(gy, SB_ACCESS_IN),
                  sb_kbuf_of(n->saved[0], SB_ACCESS_IN), sb_kbuf_of(n->saved[1], SB_ACCESS_IN)};
  if (sb_run(n->backend, SB_K_ROPE, &p, 4, b)) return SB_ERR;
  gin[0] = gx;
  return SB_OK;
}

sb_tensor *sb_op_rope(sb_tensor *x, sb_tensor *cos, sb_tensor *sin, int64_t first) {
  if (!sb_op_inputs_ok("rope", SB_OP_ARGS(x, cos, sin), 3)) return NULL;
  char a[64], b[64];
  if (x->ndim != 4 || x->shape[3] % 2)
    return sb_op_fail("rope", "x %s, expected [B, T, H, head_dim] with an even head_dim",
                      sb_tensor_shape_str(x, a, 64));
  int64_t B = x->shape[0], T = x->shape[1], hd = x->shape[3];
  bool batched = cos->ndim == 3;
  int64_t R = cos->shape[cos->ndim - 2];
  bool ok = (cos->ndim == 2 || (batched && cos->shape[0] == B)) && sb_tensor_same_shape(cos, sin) &&
            cos->shape[cos->ndim - 1] == hd;
  if (!ok)
    return sb_op_fail("rope", "cos %s / sin %s do not fit x %s (expected [R, %lld] or [%lld, R, %lld])",
                      sb_tensor_shape_str(cos, a, 64), sb_tensor_shape_str(sin, b, 64),
                      sb_tensor_shape_str(x, a, 64), (long long)hd, (long long)B, (long long)hd);
  if (first < 0 || first + R > T)
    return sb_op_fail("rope", "tokens [%lld, %lld) to rotate, x has %lld", (long long)first,
                      (long long)(first + R), (long long)T);
  sb_tensor *xc = sb_op_f32c(x);
  sb_grad_push(false); /* the tables are constants */
  sb_tensor *cc = sb_op_f32c(cos), *sc = sb_op_f32c(sin);
  sb_grad_pop();
  if (!xc || !cc || !sc) return NULL;
  sb_kp_rope p = {B, T, x->shape[2], hd, first, R, batched ? R * hd : 0, 0};
  sb_tensor *y = sb_op_new(x->storage->backend, 4, x->shape);
  if (!y) return NULL;
  sb_kbuf bufs[4] = {sb_kbuf_of(y, SB_ACCESS_OUT), sb_kbuf_of(xc, SB_ACCESS_IN),
                     sb_kbuf_of(cc, SB_ACCESS_IN), sb_kbuf_of(sc, SB_ACCESS_IN)};
  if (sb_run(x->storage->backend, SB_K_ROPE, &p, 4, bufs)) return NULL;
  if (sb_autograd_should_record(&xc, 1)) {
    sb_op_node *n = sb_op_node_new("rope", rope_backward, &xc, 1);
    if (!n) return NULL;
    SB_NODE_CTX(n, rope_ctx)->p = p;
    sb_op_node_save(n, cc);
    sb_op_node_save(n, sc);
    y = sb_op_node_attach(n, y, 0);
  }
  return y;
}

static int upload_tables(int64_t R, int64_t hd, const float *ang, sb_tensor **cos, sb_tensor **sin) {
  float *c = malloc(sizeof(float) * (size_t)(R * hd)), *s = malloc(sizeof(float) * (size_t)(R * hd));
  if (!c || !s) {
    free(c), free(s);
    return sb_error_set(SB_ERR_NOMEM, "rope tables: out of memory");
  }
  for (int64_t i = 0; i < R * hd; i++) c[i] = cosf(ang[i]), s[i] = sinf(ang[i]);
  int64_t shape[2] = {R, hd};
  *cos = sb_tensor_from_host(SB_DTYPE_F32, 2, shape, c);
  *sin = sb_tensor_from_host(SB_DTYPE_F32, 2, shape, s);
  free(c), free(s);
  return *cos && *sin ? SB_OK : SB_ERR;
}

int sb_rope_tables_1d(sb_tensor *positions, int64_t R, int64_t hd, double theta, sb_tensor **cos,
                      sb_tensor **sin) {
  if (hd <= 0 || hd % 2) return sb_error_set(SB_ERR_SHAPE, "rope tables: head_dim %lld must be even", (long long)hd);
  int64_t *pos = malloc(sizeof(int64_t) * (size_t)(R ? R : 1));
  float *ang = malloc(sizeof(float) * (size_t)(R * hd > 0 ? R * hd : 1));
  int rc = pos && ang ? SB_OK : sb_error_set(SB_ERR_NOMEM, "rope tables: out of memory");
  if (rc == SB_OK && positions) {
    if (sb_tensor_numel(positions) != R ||
        (positions->dtype != SB_DTYPE_I32 && positions->dtype != SB_DTYPE_I64))
      rc = sb_error_set(SB_ERR_SHAPE, "rope tables: positions are %s %lld values, expected %lld I32 or I64",
                        sb_dtype_name(positions->dtype), (long long)sb_tensor_numel(positions), (long long)R);
    else if (positions->dtype == SB_DTYPE_I64)
      rc = sb_tensor_to_host(positions, pos, sizeof(int64_t) * (size_t)R);
    else {
      int32_t *tmp = malloc(sizeof(int32_t) * (size_t)(R ? R : 1));
      rc = tmp ? sb_tensor_to_host(positions, tmp, sizeof(int32_t) * (size_t)R) : SB_ERR_NOMEM;
      for (int64_t i = 0; rc == SB_OK && i < R; i++) pos[i] = tmp[i];
      free(tmp);
    }
  } else if (rc == SB_OK) {
    for (int64_t i = 0; i < R; i++) pos[i] = i;
  }
  if (rc == SB_OK) {
    const int64_t half = hd / 2;
    for (int64_t i = 0; i < half; i++) {
      /* as Hugging Face: inv_freq = 1 / theta^(arange(0, hd, 2)/hd) in float32 */
      float inv = (float)(1.0 / pow(theta, (double)(float)(2.0f * (float)i / (float)hd)));
      for (int64_t r = 0; r < R; r++) {
        float a = (float)pos[r] * inv;
        ang[r * hd + i] = a, ang[r * hd + i + half] = a;
      }
    }
    rc = upload_tables(R, hd, ang, cos, sin);
  }
  free(pos), free(ang);
  return rc;
}

int sb_rope_tables_2d(int64_t rows, int64_t cols, int64_t hd, double theta, sb_tensor **cos,
                      sb_tensor **sin) {
  if (hd <= 0 || hd % 4)
    return sb_error_set(SB_ERR_SHAPE, "rope tables: head_dim %lld must be a multiple of 4", (long long)hd);
  int64_t R = rows * cols, F = hd / 4;
  float *ang = malloc(sizeof(float) * (size_t)(R * hd > 0 ? R * hd : 1));
  if (!ang) return sb_error_set(SB_ERR_NOMEM, "rope tables: out of memory");
  for (int64_t i = 0; i < rows; i++) {
    for (int64_t j = 0; j < cols; j++) {
      /* patch centres normalised per axis to [-1, 1], in float32 */
      float cy = 2.0f * (((float)i + 0.5f) / (float)rows) - 1.0f;
      float cx = 2.0f * (((float)j + 0.5f) / (float)cols) - 1.0f;
      float *a = ang + (i * cols + j) * hd;
      for (int64_t k = 0; k < F; k++) {
        float inv = (float)(1.0 / pow(theta, (double)(4.0f * (float)k / (float)hd)));
        float ay = 2.0f * (float)M_PI * cy * inv, ax = 2.0f * (float)M_PI * cx * inv;
        a[k] = ay, a[F + k] = ax, a[2 * F + k] = ay, a[3 * F + k] = ax;
      }
    }
  }
  int rc = upload_tables(R, hd, ang, cos, sin);
  free(ang);
  return rc;
}
