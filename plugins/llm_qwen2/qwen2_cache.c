/* qwen2_cache.c — the KV cache for generation: per layer the keys (after
 * RoPE) and values of every token seen so far, [B, max_length, KV, hd], and
 * a key mask [B, max_length] remembering which of them are real tokens. A
 * forward writes its new tokens at the cache's length with
 * sb_tensor_assign into narrow views (not recorded by autograd: generation
 * runs with grad mode off) and attends over positions [0, length + S). */
#include <stdlib.h>

#include "qwen2.h"

/* Allocates one zero tensor and takes a reference of our own, whatever
 * scope is open. */
static sb_tensor *owned_zeros(int ndim, const int64_t *shape) {
  sb_scope_begin();
  sb_tensor *t = sb_tensor_zeros(SB_DTYPE_F32, ndim, shape);
  if (t) sb_tensor_retain(t);
  sb_scope_end();
  return t;
}

void qwen2_cache_free(void *self, sb_llm_cache *c) {
  (void)self;
  if (!c) return;
  for (int64_t l = 0; l < c->num_layers; l++) {
    if (c->k) sb_tensor_release(c->k[l]);
    if (c->v) sb_tensor_release(c->v[l]);
  }
  sb_tensor_release(c->mask);
  free(c->k), free(c->v), free(c);
}

/* batch >= 1; max_length 0 means the model's max_length. */
sb_llm_cache *qwen2_cache_new(void *self, int64_t batch, int64_t max_length) {
  qwen2 *m = self;
  if (max_length == 0) max_length = m->max_length;
  if (batch <= 0 || max_length <= 0 || max_length > m->max_length) {
    sb_error_set(SB_ERR_SHAPE, "llm_qwen2: KV cache for batch %lld and %lld positions: expected batch >= 1 "
                 "and 1 to %lld positions (max_length)", (long long)batch, (long long)max_length,
                 (long long)m->max_length);
    return NULL;
  }
  sb_llm_cache *c = calloc(1, sizeof *c);
  if (c) {
    c->k = calloc((size_t)m->cfg.num_layers, sizeof *c->k);
    c->v = calloc((size_t)m->cfg.num_layers, sizeof *c->v);
  }
  if (!c || !c->k || !c->v) {
    if (c) free(c->k), free(c->v), free(c);
    sb_error_set(SB_ERR_NOMEM, "llm_qwen2: out of memory");
    return NULL;
  }
  c->batch = batch, c->max_length = max_length, c->num_layers = m->cfg.num_layers;
  const int64_t kv[4] = {batch, max_length, m->cfg.num_kv_heads, m->cfg.head_dim}, ms[2] = {batch, max_length};
  bool ok = (c->mask = owned_zeros(2, ms)) != NULL;
  for (int64_t l = 0; ok && l < c->num_layers; l++)
    ok = (c->k[l] = owned_zeros(4, kv)) && (c->v[l] = owned_zeros(4, kv));
  if (!ok) {
    qwen2_cache_free(self, c);
    sb_error_prefix("llm_qwen2: KV cache");
    return NULL;
  }
  return c;
}

int qwen2_cache_check(const sb_llm_cache *c, int64_t B, int64_t S) {
  if (sb_grad_enabled())
    return sb_error("llm_qwen2: a forward with a KV cache needs grad mode off (sb_grad_push(false)); "
                    "the cache is for generation and is not differentiable");
  if (B != c->batch)
    return sb_error_set(SB_ERR_SHAPE, "llm_qwen2: a batch of %lld sequences given to a KV cache made for %lld",
                        (long long)B, (long long)c->batch);
  if (c->length + S > c->max_length)
    return sb_error_set(SB_ERR_SHAPE, "llm_qwen2: KV cache overflow: %lld cached + %lld new tokens exceed "
                        "the cache's %lld positions", (long long)c->length, (long long)S,
                        (long long)c->max_length);
  return SB_OK;
}

/* mask [B, S] or NULL (all real) -> the mask of every key so far [B, length + S]. */
sb_tensor *qwen2_cache_put_mask(sb_llm_cache *c, sb_tensor *mask, int64_t S) {
  const int64_t shape[2] = {c->batch, S};
  sb_tensor *src = mask ? mask : sb_tensor_full(SB_DTYPE_F32, 2, shape, 1.0);
  if (sb_tensor_assign(sb_op_narrow(c->mask, 1, c->length, S), src)) {
    sb_error_prefix("llm_qwen2: writing the KV cache's mask");
    return NULL;
  }
  return sb_op_narrow(c->mask, 1, 0, c->length + S);
}

/* k, v [B, S, KV, hd] -> k_all, v_all [B, length + S, KV, hd] (views of the cache). */
int qwen2_cache_put_kv(sb_llm_cache *c, int64_t l, sb_tensor *k, sb_tensor *v, sb_tensor **k_all,
                       sb_tensor **v_all) {
  const int64_t S = sb_tensor_dim(k, 1);
  if (sb_tensor_assign(sb_op_narrow(c->k[l], 1, c->length, S), k) ||
      sb_tensor_assign(sb_op_narrow(c->v[l], 1, c->length, S), v))
    return sb_error_prefix("llm_qwen2: writing the KV cache of layer %lld", (long long)l);
  *k_all = sb_op_narrow(c->k[l], 1, 0, c->length + S);
  *v_all = sb_op_narrow(c->v[l], 1, 0, c->length + S);
  return *k_all && *v_all ? SB_OK : SB_ERR;
}
