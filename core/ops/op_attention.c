/* op_attention.c — fused scaled dot-product attention (multi-head, grouped
 * key/value heads, causal and key-padding masks), forward and backward. */
#include <math.h>
#include <string.h>

#include "op_common.h"

typedef struct attention_ctx {
  sb_kp_attention p;
} attention_ctx;

/* q, k, v viewed with a contiguous head vector: contiguous copy otherwise. */
static sb_tensor *head_contiguous(sb_tensor *x) {
  if (x->dtype == SB_DTYPE_F32 && x->stride[3] == 1) return x;
  return sb_op_f32c(x);
}

/* saved: q, k, v, o, lse, mask (optional) */
static int attention_backward(sb_op_node *n, sb_tensor *const *g, sb_tensor **gin) {
  const attention_ctx *c = SB_NODE_CTX(n, attention_ctx);
  sb_tensor *q = n->saved[0], *k = n->saved[1], *v = n->saved[2], *o = n->saved[3],
            *lse = n->saved[4], *mask = n->n_saved > 5 ? n->saved[5] : NULL;
  sb_tensor *gq = sb_op_new(n->backend, 4, q->shape), *gk = sb_op_new(n->backend, 4, k->shape),
            *gv = sb_op_new(n->backend, 4, v->shape);
  sb_tensor *go = sb_op_contiguous(g[0]); /* the kernel reads it as a contiguous buffer */
  if (!gq || !gk || !gv || !go) return SB_ERR;
  sb_kbuf b[10] = {sb_kbuf_of(gq, SB_ACCESS_OUT), sb_kbuf_of(gk, SB_ACCESS_OUT),
                   sb_kbuf_of(gv, SB_ACCESS_OUT), sb_kbuf_of(go, SB_ACCESS_IN),
                   sb_kbuf_of(q, SB_ACCESS_IN),   sb_kbuf_of(k, SB_ACCESS_IN),
                   sb_kbuf_of(v, SB_ACCESS_IN),   sb_kbuf_of(o, SB_ACCESS_IN),
                   sb_kbuf_of(lse, SB_ACCESS_IN), sb_kbuf_of(mask, SB_ACCESS_IN)};
  if (sb_run(n->backend, SB_K_ATTENTION_BACKWARD, &c->p, 10, b)) return SB_ERR;
  gin[0] = gq, gin[1] = gk, gin[2] = gv;
  return SB_OK;
}

static sb_tensor *check(sb_tensor *q, sb_tensor *k, sb_tensor *v, const sb_tensor *mask) {
  char a[64], b[64], c[64];
  if (q->ndim != 4 || k->ndim != 4 || v->ndim != 4)
    return sb_op_fail("attention", "q %s, k %s, v %s: expected [B, T, H, head_dim] each",
                      sb_tensor_shape_str(q, a, 64), sb_tensor_shape_str(k, b, 64), sb_tensor_shape_str(v, c, 64));
  if (!sb_tensor_same_shape(k, v) || q->shape[0] != k->shape[0] || q->shape[3] != k->shape[3] ||
      k->shape[2] == 0 || q->shape[2] % k->shape[2] != 0)
    return sb_op_fail("attention",
                      "q %s, k %s, v %s: k and v must match, batch and head_dim agree, and the "
                      "query heads be a multiple of the key/value heads",
                      sb_tensor_shape_str(q, a, 64), sb_tensor_shape_str(k, b, 64), sb_tensor_shape_str(v, c, 64));
  if (mask && (mask->ndim != 2 || mask->shape[0] != k->shape[0] || mask->shape[1] != k->shape[1]))
    return sb_op_fail("attention", "key_mask %s, expected [%lld, %lld]", sb_tensor_shape_str(mask, a, 64),
                      (long long)k->shape[0], (long long)k->shape[1]);
  if (mask && sb_dtype_is_float(mask->dtype) && mask->dtype != SB_DTYPE_F32)
    return sb_op_fail("attention", "key_mask is %s; use U8, I32, I64 or F32", sb_dtype_name(mask->dtype));
  return q;
}

sb_tensor *sb_op_attention(sb_tensor *q, sb_tensor *k, sb_tensor *v, const sb_attention_opts *opts) {
  sb_tensor *mask = opts ? opts->key_mask : NULL;
  if (!sb_op_inputs_ok("attention", SB_OP_ARGS(q, k, v), 3) ||
      (mask && !sb_op_inputs_ok("attention", SB_OP_ARGS(q, mask), 2)))
    return NULL;
  if (!check(q, k, v, mask)) return NULL;
  sb_tensor *qc = head_contiguous(q), *kc = head_contiguous(k), *vc = head_contiguous(v);
  sb_tensor *mc = mask ? sb_op_contiguous(mask) : NULL;
  if (!qc || !kc || !vc || (mask && !mc)) return NULL;
  sb_kp_attention p = {.B = q->shape[0], .Tq = q->shape[1], .Tk = k->shape[1], .Hq = q->shape[2],
                       .Hkv = k->shape[2], .hd = q->shape[3], .causal = opts && opts->causal,
                       .mask_dtype = mc ? (int32_t)mc->dtype : -1};
  p.scale = opts && opts->scale != 0.0f ? opts->scale : 1.0f / sqrtf((float)p.hd);
  for (int i = 0; i < 3; i++)
    p.q_strides[i] = qc->stride[i], p.k_strides[i] = kc->stride[i], p.v_strides[i] = vc->stride[i];
  sb_backend *be = q->storage->backend;
  int64_t ls[3] = {p.B, p.Hq, p.Tq};
  sb_tensor *o = sb_op_new(be, 4, q->shape), *lse = sb_op_new(be, 3, ls);
  if (!o || !lse) return NULL;
  sb_kbuf b[6] = {sb_kbuf_of(o, SB_ACCESS_OUT), sb_kbuf_of(lse, SB_ACCESS_OUT),
                  sb_kbuf_of(qc, SB_ACCESS_IN), sb_kbuf_of(kc, SB_ACCESS_IN),
                  sb_kbuf_of(vc, SB_ACCESS_IN), sb_kbuf_of(mc, SB_ACCESS_IN)};
  if (sb_run(be, SB_K_ATTENTION, &p, 6, b)) return NULL;
  sb_tensor *inputs[3] = {qc, kc, vc};
  if (sb_autograd_should_record(inputs, 3)) {
    sb_op_node *n = sb_op_node_new("attention", attention_backward, inputs, 3);
    if (!n) return NULL;
    SB_NODE_CTX(n, attention_ctx)->p = p;
    sb_op_node_save(n, qc);
    sb_op_node_save(n, kc);
    sb_op_node_save(n, vc);
    sb_op_node_save(n, o);
    sb_op_node_save(n, lse);
    if (mc) sb_op_node_save(n, mc);
    o = sb_op_node_attach(n, o, 0);
  }
  return o;
}
