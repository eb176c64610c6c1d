/* op_loss.c — cross-entropy with an ignore index (row-wise log-sum-exp; no
 * [N, V] softmax is kept, the backward recomputes it), and mean squared
 * error. */
#include <stdatomic.h>
#include <stdlib.h>

#include "op_common.h"

typedef struct xent_ctx {
  sb_kp_xent p;
} xent_ctx;

/* saved: logits, lse, targets, row weights (scale where counted, else 0) */
static int xent_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  const xent_ctx *c = SB_NODE_CTX(n, xent_ctx);
  float gy;
  if (sb_tensor_item(g[0], &gy)) return SB_ERR;
  sb_tensor *grow = sb_k_affine(n->saved[3], gy, 0.0f), *z = n->saved[0];
  /* When this node holds the only reference to the logits (the usual case:
   * nothing else reads them), their gradient overwrites them in place: the
   * [N, V] logits and their gradient never exist side by side. */
  bool in_place = atomic_load(&z->refcount) == 1 && atomic_load(&z->storage->refcount) == 1;
  sb_tensor *gz = !grow ? NULL : in_place ? sb_scope_adopt(sb_tensor_retain(z)) : sb_op_new(n->backend, 2, n->in_shape[0]);
  if (!gz) return SB_ERR;
  sb_kbuf b[5] = {sb_kbuf_of(gz, in_place ? SB_ACCESS_INOUT : SB_ACCESS_OUT), sb_kbuf_of(z, SB_ACCESS_IN),
                  sb_kbuf_of(n->saved[1], SB_ACCESS_IN), sb_kbuf_of(n->saved[2], SB_ACCESS_IN),
                  sb_kbuf_of(grow, SB_ACCESS_IN)};
  if (sb_run(n->backend, SB_K_CROSS_ENTROPY_BACKWARD, &c->p, 5, b)) return SB_ERR;
  gin[0] = gz;
  return SB_OK;
}

sb_tensor *sb_xent_row_weights(const char *op, sb_tensor *t, int64_t N, int64_t V, int64_t ignore_index,
                               sb_reduction reduction, float divisor) {
  int64_t *tg = malloc(sizeof(int64_t) * (size_t)(N ? N : 1));
  float *w = malloc(sizeof(float) * (size_t)(N ? N : 1));
  sb_tensor *tl = t->dtype == SB_DTYPE_I64 ? t : sb_op_cast(t, SB_DTYPE_I64);
  int rc = tg && w && tl ? sb_tensor_to_host(tl, tg, sizeof(int64_t) * (size_t)N) : SB_ERR_NOMEM;
  int64_t count = 0;
  for (int64_t i = 0; rc == SB_OK && i < N; i++) {
    if (tg[i] == ignore_index) continue;
    if (tg[i] < 0 || tg[i] >= V)
      rc = sb_error_set(SB_ERR_SHAPE, "%s: target %lld in row %lld is outside [0, %lld)", op,
                        (long long)tg[i], (long long)i, (long long)V);
    count++;
  }
  /* mean over counted rows; a batch with none gives loss 0 and zero grads */
  float scale = reduction == SB_REDUCTION_MEAN ? (count ? 1.0f / (float)count : 0.0f)
                                               : (divisor > 0 ? 1.0f / divisor : 1.0f);
  for (int64_t i = 0; rc == SB_OK && i < N; i++) w[i] = tg[i] != ignore_index ? scale : 0.0f;
  sb_tensor *rw = rc == SB_OK ? sb_tensor_from_host_on(t->storage->backend, SB_DTYPE_F32, 1, &N, w) : NULL;
  free(tg), free(w);
  return rw;
}

sb_tensor *sb_op_cross_entropy(sb_tensor *logits, sb_tensor *targets, int64_t ignore_index,
                               sb_reduction reduction, float divisor) {
  if (!sb_op_inputs_ok("cross_entropy", SB_OP_ARGS(logits, targets), 2)) return NULL;
  char a[64], b[64];
  if (logits->ndim != 2 || targets->ndim != 1 || targets->shape[0] != logits->shape[0])
    return sb_op_fail("cross_entropy", "logits %s and targets %s: expected [N, V] and [N]",
                      sb_tensor_shape_str(logits, a, 64), sb_tensor_shape_str(targets, b, 64));
  if (targets->dtype != SB_DTYPE_I64 && targets->dtype != SB_DTYPE_I32)
    return sb_op_fail("cross_entropy", "targets are %s, expected I32 or I64", sb_dtype_name(targets->dtype));
  if (!sb_op_check_float("cross_entropy", "logits", logits)) return NULL;
  int64_t N = logits->shape[0];
  sb_tensor *z = sb_op_f32c(logits), *t = sb_op_contiguous(targets);
  if (!z || !t) return NULL;
  sb_tensor *rw = sb_xent_row_weights("cross_entropy", t, N, logits->shape[1], ignore_index, reduction, divisor);
  if (!rw) return NULL;
  sb_backend *be = logits->storage->backend;
  sb_tensor *loss_rows = sb_op_new(be, 1, &N), *lse = sb_op_new(be, 1, &N);
  if (!loss_rows || !lse) return NULL;
  sb_kp_xent p = {N, logits->shape[1], ignore_index, (int32_t)t->dtype};
  sb_kbuf bufs[4] = {sb_kbuf_of(loss_rows, SB_ACCESS_OUT), sb_kbuf_of(lse, SB_ACCESS_OUT),
                     sb_kbuf_of(z, SB_ACCESS_IN), sb_kbuf_of(t, SB_ACCESS_IN)};
  if (sb_run(be, SB_K_CROSS_ENTROPY, &p, 4, bufs)) return NULL;
  /* loss = Σ rows · weight, as a reduction kernel over the product */
  sb_grad_push(false);
  sb_tensor *loss = sb_op_sum_all(sb_op_mul(loss_rows, rw));
  sb_grad_pop();
  if (!loss) return NULL;
  if (sb_autograd_should_record(&z, 1)) {
    sb_op_node *n = sb_op_node_new("cross_entropy", xent_backward, &z, 1);
    if (!n) return NULL;
    *SB_NODE_CTX(n, xent_ctx) = (xent_ctx){p};
    sb_op_node_save(n, z);
    sb_op_node_save(n, lse);
    sb_op_node_save(n, t);
    sb_op_node_save(n, rw);
    loss = sb_op_node_attach(n, loss, 0);
  }
  return loss;
}

sb_tensor *sb_op_mse(sb_tensor *a, sb_tensor *b) {
  if (!sb_op_inputs_ok("mse", SB_OP_ARGS(a, b), 2)) return NULL;
  if (!sb_tensor_same_shape(a, b)) {
    char s1[64], s2[64];
    return sb_op_fail("mse", "shapes %s and %s differ", sb_tensor_shape_str(a, s1, 64),
                      sb_tensor_shape_str(b, s2, 64));
  }
  return sb_op_mean_all(sb_op_square(sb_op_sub(a, b)));
}
