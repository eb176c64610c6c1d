/* qwen2_forward.c — the Qwen2 decoder's computation (MODELS.md C.2), all
 * through the core's differentiable ops, batched over every token: the
 * embedding lookup, the decoder layers (RMSNorm, q/k/v with bias, RoPE,
 * causal + key-padding attention with grouped KV heads, o_proj, RMSNorm,
 * SwiGLU MLP, residuals), the final norm, and the output layer applied to
 * chosen rows only. With a KV cache the new tokens' keys and values are
 * written into the cache and attention runs over everything cached. */
#include <stdlib.h>

#include "qwen2.h"

/* What every layer of one forward shares. */
typedef struct block_ctx {
  int64_t B, S;          /* the new tokens: batch and length */
  sb_tensor *cos, *sin;  /* RoPE tables [S, hd] or [B, S, hd] */
  sb_tensor *key_mask;   /* [B, Tk] (nonzero = attend) or NULL */
  sb_llm_cache *cache;   /* NULL in training */
} block_ctx;

/* ---- embedding ---- */

/* Every id of ids [...] (I32/I64) in [0, V), checked on the host so a bad id
 * is reported with the vocabulary size on every backend. */
static int check_ids(const qwen2 *m, sb_tensor *ids) {
  sb_dtype dt = sb_tensor_dtype(ids);
  if (dt != SB_DTYPE_I32 && dt != SB_DTYPE_I64)
    return sb_error_set(SB_ERR_SHAPE, "llm_qwen2: token ids are %s, expected I32 or I64", sb_dtype_name(dt));
  size_t n = (size_t)sb_tensor_numel(ids), es = sb_dtype_size(dt);
  void *host = malloc(es * (n ? n : 1));
  if (!host) return sb_error_set(SB_ERR_NOMEM, "llm_qwen2: out of memory");
  int rc = sb_tensor_to_host(ids, host, es * n);
  for (size_t i = 0; rc == SB_OK && i < n; i++) {
    int64_t id = dt == SB_DTYPE_I64 ? ((const int64_t *)host)[i] : ((const int32_t *)host)[i];
    if (id < 0 || id >= m->cfg.vocab_size)
      rc = sb_error_set(SB_ERR_SHAPE, "llm_qwen2: token id %lld (element %zu of the ids) is outside the "
                        "vocabulary [0, %lld)", (long long)id, i, (long long)m->cfg.vocab_size);
  }
  free(host);
  return rc;
}

/* ids [...] -> [..., D]. The padding row (config pad_token_id) gets no
 * gradient, as nn.Embedding(padding_idx=...). */
sb_tensor *qwen2_embed(void *self, sb_tensor *ids) {
  qwen2 *m = self;
  if (!ids) {
    sb_error("llm_qwen2: embed: no token ids");
    return NULL;
  }
  if (check_ids(m, ids)) return NULL;
  return sb_op_embedding(m->embed, ids, m->cfg.pad_token_id);
}

/* ---- RoPE tables ---- */

/* Positions start .. start+S-1 as an I64 tensor [S]. */
static sb_tensor *positions_from(int64_t start, int64_t S) {
  int64_t *p = malloc(sizeof(int64_t) * (size_t)(S ? S : 1));
  if (!p) {
    sb_error_set(SB_ERR_NOMEM, "llm_qwen2: out of memory");
    return NULL;
  }
  for (int64_t i = 0; i < S; i++) p[i] = start + i;
  sb_tensor *t = sb_tensor_from_host(SB_DTYPE_I64, 1, &S, p);
  free(p);
  return t;
}

int qwen2_rope_tables(const qwen2 *m, sb_tensor *position_ids, int64_t B, int64_t S, int64_t start,
                      sb_tensor **cos, sb_tensor **sin) {
  const int64_t hd = m->cfg.head_dim;
  const double theta = m->cfg.rope_theta;
  if (!position_ids) {
    sb_tensor *pos = start ? positions_from(start, S) : NULL;
    if (start && !pos) return SB_ERR;
    return sb_rope_tables_1d(pos, S, hd, theta, cos, sin);
  }
  /* One row of tables per token: [B·S, hd] viewed as [B, S, hd]. */
  if (sb_rope_tables_1d(position_ids, B * S, hd, theta, cos, sin)) return sb_error_prefix("llm_qwen2: position_ids");
  const int64_t shape[3] = {B, S, hd};
  *cos = sb_op_reshape(*cos, 3, shape);
  *sin = sb_op_reshape(*sin, 3, shape);
  return *cos && *sin ? SB_OK : SB_ERR;
}

/* ---- one decoder layer ---- */

/* h [B, S, D] (normed) -> the attention branch after o_proj, [B, S, D]. */
static sb_tensor *self_attention(const qwen2 *m, int64_t l, sb_tensor *h, const block_ctx *bc) {
  const qwen2_config *c = &m->cfg;
  const qwen2_layer *w = &m->layers[l];
  const int64_t qs[4] = {bc->B, bc->S, c->num_heads, c->head_dim};
  const int64_t ks[4] = {bc->B, bc->S, c->num_kv_heads, c->head_dim};
  /* biases are added before the rotation */
  sb_tensor *q = sb_op_rope(sb_op_reshape(sb_op_linear(h, w->wq, w->bq), 4, qs), bc->cos, bc->sin, 0);
  sb_tensor *k = sb_op_rope(sb_op_reshape(sb_op_linear(h, w->wk, w->bk), 4, ks), bc->cos, bc->sin, 0);
  sb_tensor *v = sb_op_reshape(sb_op_linear(h, w->wv, w->bv), 4, ks);
  if (!q || !k || !v) return NULL;
  if (bc->cache && qwen2_cache_put_kv(bc->cache, l, k, v, &k, &v)) return NULL;
  /* [B, S, H, hd]; causal with Tk >= Tq lines the new block up with the end
   * of the cached keys; query head h reads kv head h / (H / KV). */
  sb_attention_opts opts = {.causal = true, .scale = 0.0f, .key_mask = bc->key_mask};
  sb_tensor *a = sb_op_attention(q, k, v, &opts);
  const int64_t as[3] = {bc->B, bc->S, c->num_heads * c->head_dim};
  return sb_op_linear(sb_op_reshape(a, 3, as), w->wo, NULL);
}

/* h [B, S, D] (normed) -> down(silu(gate(h)) ⊙ up(h)), [B, S, D]. */
static sb_tensor *mlp(const qwen2_layer *w, sb_tensor *h) {
  sb_tensor *g = sb_op_swiglu(sb_op_linear(h, w->gate, NULL), sb_op_linear(h, w->up, NULL));
  return sb_op_linear(g, w->down, NULL);
}

/* x [B, S, D] -> the layer's output [B, S, D]. Temporaries live in a scope of
 * their own; the tape keeps what the backward pass needs. */
static sb_tensor *decoder_layer(const qwen2 *m, int64_t l, sb_tensor *x, const block_ctx *bc) {
  const qwen2_layer *w = &m->layers[l];
  const float eps = (float)m->cfg.rms_norm_eps;
  sb_scope_begin();
  sb_tensor *h = sb_op_add(x, self_attention(m, l, sb_op_rms_norm(x, w->input_norm, eps), bc));
  sb_tensor *y = sb_op_add(h, mlp(w, sb_op_rms_norm(h, w->post_norm, eps)));
  if (y) sb_scope_keep(y);
  sb_scope_end();
  if (!y) sb_error_prefix("llm_qwen2: layer %lld", (long long)l);
  return y;
}

/* Gradient checkpointing: the layer runs without recording; its backward
 * reruns it from the saved input. The RoPE tables and the key mask travel
 * as inputs so the node keeps them alive; the model and the layer index
 * come from the layer's own slot in m->layers (valid as long as the model). */
static int layer_fn(void *ctx, sb_tensor *const *in, int n_in, sb_tensor **out, int n_out) {
  (void)n_out;
  const qwen2_layer *w = ctx;
  const qwen2 *m = w->model;
  block_ctx bc = {.B = sb_tensor_dim(in[0], 0), .S = sb_tensor_dim(in[0], 1), .cos = in[1], .sin = in[2],
                  .key_mask = n_in > 3 ? in[3] : NULL};
  out[0] = decoder_layer(m, w - m->layers, in[0], &bc);
  return out[0] ? SB_OK : SB_ERR;
}

static sb_tensor *checkpointed_layer(const qwen2 *m, int64_t l, sb_tensor *x, const block_ctx *bc) {
  sb_tensor *in[4] = {x, bc->cos, bc->sin, bc->key_mask}, *y = NULL;
  if (sb_checkpoint(layer_fn, (void *)&m->layers[l], in, bc->key_mask ? 4 : 3, &y, 1)) return NULL;
  return y;
}

/* ---- the decoder ---- */

static bool is_index_dtype(sb_dtype d) { return d == SB_DTYPE_I32 || d == SB_DTYPE_I64; }

/* Checks in's tensors against each other and the model; sets B and S. */
static int check_input(const qwen2 *m, const sb_llm_input *in, int64_t *B, int64_t *S) {
  char a[64], b[64];
  sb_tensor *x = in ? in->inputs_embeds : NULL;
  if (!x) return sb_error("llm_qwen2: forward: no inputs_embeds");
  if (sb_tensor_ndim(x) != 3 || sb_tensor_dim(x, 2) != m->cfg.hidden_size || !sb_dtype_is_float(sb_tensor_dtype(x)))
    return sb_error_set(SB_ERR_SHAPE, "llm_qwen2: inputs_embeds %s %s, expected float [B, S, %lld]",
                        sb_dtype_name(sb_tensor_dtype(x)), sb_tensor_shape_str(x, a, 64),
                        (long long)m->cfg.hidden_size);
  *B = sb_tensor_dim(x, 0), *S = sb_tensor_dim(x, 1);
  if (*B == 0 || *S == 0)
    return sb_error_set(SB_ERR_SHAPE, "llm_qwen2: inputs_embeds %s holds no tokens", sb_tensor_shape_str(x, a, 64));
  const int64_t bs[2] = {*B, *S};
  if (in->attention_mask && (sb_tensor_ndim(in->attention_mask) != 2 ||
                             sb_tensor_dim(in->attention_mask, 0) != *B || sb_tensor_dim(in->attention_mask, 1) != *S))
    return sb_error_set(SB_ERR_SHAPE, "llm_qwen2: attention_mask %s, expected %s (the new tokens)",
                        sb_tensor_shape_str(in->attention_mask, a, 64), sb_shape_str(2, bs, b, 64));
  sb_tensor *p = in->position_ids;
  if (p && (sb_tensor_ndim(p) != 2 || sb_tensor_dim(p, 0) != *B || sb_tensor_dim(p, 1) != *S ||
            !is_index_dtype(sb_tensor_dtype(p))))
    return sb_error_set(SB_ERR_SHAPE, "llm_qwen2: position_ids %s %s, expected I32/I64 %s",
                        sb_dtype_name(sb_tensor_dtype(p)), sb_tensor_shape_str(p, a, 64), sb_shape_str(2, bs, b, 64));
  if (in->cache) return qwen2_cache_check(in->cache, *B, *S);
  if (*S > m->max_length)
    return sb_error_set(SB_ERR_SHAPE, "llm_qwen2: a sequence of %lld tokens is longer than max_length %lld",
                        (long long)*S, (long long)m->max_length);
  return SB_OK;
}

sb_tensor *qwen2_forward_traced(qwen2 *m, const sb_llm_input *in, sb_tensor **hidden_states,
                                sb_tensor **prenorm) {
  int64_t B = 0, S = 0;
  if (check_input(m, in, &B, &S)) return NULL;
  sb_llm_cache *cache = in->cache;
  block_ctx bc = {.B = B, .S = S, .key_mask = in->attention_mask, .cache = cache};
  if (qwen2_rope_tables(m, in->position_ids, B, S, cache ? cache->length : 0, &bc.cos, &bc.sin)) return NULL;
  if (cache && !(bc.key_mask = qwen2_cache_put_mask(cache, in->attention_mask, S))) return NULL;
  sb_tensor *x = in->inputs_embeds;
  if (hidden_states) hidden_states[0] = x;
  const bool ckpt = m->gradient_checkpointing && !cache && sb_grad_enabled();
  for (int64_t l = 0; l < m->cfg.num_layers; l++) {
    if (!(x = ckpt ? checkpointed_layer(m, l, x, &bc) : decoder_layer(m, l, x, &bc))) return NULL;
    if (hidden_states) hidden_states[l + 1] = x;
  }
  if (prenorm) *prenorm = x;
  sb_tensor *y = sb_op_rms_norm(x, m->final_norm, (float)m->cfg.rms_norm_eps);
  if (!y) return NULL;
  if (hidden_states) hidden_states[m->cfg.num_layers] = y; /* HF replaces the last entry */
  if (cache) cache->length += S;
  return y;
}

sb_tensor *qwen2_forward(void *self, const sb_llm_input *in) {
  return qwen2_forward_traced(self, in, NULL, NULL);
}

/* ---- output layer ---- */

sb_tensor *qwen2_logits(void *self, sb_tensor *hidden) {
  qwen2 *m = self;
  char a[64];
  if (!hidden) {
    sb_error("llm_qwen2: logits: no hidden states");
    return NULL;
  }
  if (sb_tensor_ndim(hidden) < 1 || sb_tensor_dim(hidden, -1) != m->cfg.hidden_size) {
    sb_error_set(SB_ERR_SHAPE, "llm_qwen2: logits: hidden %s, expected [N, %lld]",
                 sb_tensor_shape_str(hidden, a, 64), (long long)m->cfg.hidden_size);
    return NULL;
  }
  return sb_op_linear(hidden, m->lm_head, NULL);
}

/* logits = h·lm_headᵀ exactly, so the core may fuse the output layer with
 * the loss. */
sb_tensor *qwen2_output_weight(void *self) { return ((qwen2 *)self)->lm_head; }
