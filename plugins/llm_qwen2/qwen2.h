/* qwen2.h — definitions shared by the llm_qwen2 plugin's files: the model
 * configuration read from config.json, the model (its parameters, borrowed
 * from the core's store), the KV cache, and the plugin-internal functions
 * each file provides. Tests compile the plugin in and use the *_traced and
 * rope entry points below; nothing here is part of the sdk. */
#ifndef LLM_QWEN2_H
#define LLM_QWEN2_H

#include <spatialboost/spatialboost.h>

#define QWEN2_MAX_EOS 4 /* sb_llm_info has room for four end-of-sequence ids */

/* Everything of config.json the model uses (MODELS.md C.1), defaults
 * applied. */
typedef struct qwen2_config {
  int64_t vocab_size;
  int64_t hidden_size;       /* D */
  int64_t intermediate_size; /* I */
  int64_t num_layers;        /* L */
  int64_t num_heads;         /* H */
  int64_t num_kv_heads;      /* KV, H a multiple of it */
  int64_t head_dim;          /* hd: `head_dim` when given, else D / H */
  int64_t max_positions;     /* max_position_embeddings */
  double rope_theta, rms_norm_eps, initializer_range;
  bool tie_word_embeddings;
  int64_t eos_token_ids[QWEN2_MAX_EOS];
  int n_eos_token_ids;
  int64_t pad_token_id; /* -1 when none */
} qwen2_config;

/* One decoder layer's parameters (HF shapes, [out, in] for linears). */
typedef struct qwen2_layer {
  sb_tensor *input_norm;               /* [D] */
  sb_tensor *wq, *bq;                  /* [H·hd, D], [H·hd] */
  sb_tensor *wk, *bk, *wv, *bv;        /* [KV·hd, D], [KV·hd] */
  sb_tensor *wo;                       /* [D, H·hd] */
  sb_tensor *post_norm;                /* [D] */
  sb_tensor *gate, *up;                /* [I, D] */
  sb_tensor *down;                     /* [D, I] */
  const struct qwen2 *model;           /* the model that holds this layer */
} qwen2_layer;

typedef struct qwen2 {
  qwen2_config cfg;
  int64_t max_length;     /* longest sequence accepted (option max_length) */
  sb_tensor *embed;       /* [V, D] model.embed_tokens.weight */
  sb_tensor *final_norm;  /* [D] model.norm.weight */
  sb_tensor *lm_head;     /* [V, D]: lm_head.weight, or `embed` when tied */
  qwen2_layer *layers;    /* [L] */
  bool gradient_checkpointing; /* option: recompute each layer in the backward pass */
} qwen2;

/* The KV cache: per layer K and V after RoPE, [B, max_length, KV, hd],
 * positions [0, length) filled; mask [B, max_length] (F32, nonzero = a real
 * token) remembers which cached keys may be attended to. */
struct sb_llm_cache {
  int64_t batch, max_length, length, num_layers;
  sb_tensor **k, **v; /* [L] each, owned (one reference) */
  sb_tensor *mask;    /* owned */
};

/* ---- qwen2_config.c ---- */
/* Reads <dir>/config.json into cfg. Unsupported values are errors naming
 * the file, the key and the value. */
int qwen2_config_read(const char *dir, qwen2_config *cfg);

/* ---- qwen2_forward.c ---- */
/* ids [...] I32/I64 -> [..., D]. */
sb_tensor *qwen2_embed(void *self, sb_tensor *ids);
/* The vtable's forward: final-normed hidden states [B, S, D]. */
sb_tensor *qwen2_forward(void *self, const sb_llm_input *in);
/* The same, also returning (when not NULL) Hugging Face's hidden_states
 * tuple, hidden_states[0..L] each [B, S, D] (0 = the input embeddings, i =
 * output of layer i-1, L = the final-normed output) and the last layer's
 * output before the final norm, prenorm [B, S, D]. */
sb_tensor *qwen2_forward_traced(qwen2 *m, const sb_llm_input *in, sb_tensor **hidden_states,
                                sb_tensor **prenorm);
/* hidden [..., D] -> logits [..., V]. */
sb_tensor *qwen2_logits(void *self, sb_tensor *hidden);
sb_tensor *qwen2_output_weight(void *self);
/* RoPE tables for a [B, S] block of tokens: cos, sin [S, hd] for positions
 * start .. start+S-1 when position_ids is NULL, else [B, S, hd] for
 * position_ids [B, S] (I32/I64). */
int qwen2_rope_tables(const qwen2 *m, sb_tensor *position_ids, int64_t B, int64_t S, int64_t start,
                      sb_tensor **cos, sb_tensor **sin);

/* ---- qwen2_cache.c ---- */
sb_llm_cache *qwen2_cache_new(void *self, int64_t batch, int64_t max_length);
void qwen2_cache_free(void *self, sb_llm_cache *cache);
/* Checks that a block of S new tokens of batch B fits the cache, and that
 * grad mode is off. */
int qwen2_cache_check(const sb_llm_cache *c, int64_t B, int64_t S);
/* Writes the new tokens' key mask (mask [B, S] or NULL = all real) at the
 * cache's length; returns the mask of all keys so far, [B, length + S]. */
sb_tensor *qwen2_cache_put_mask(sb_llm_cache *c, sb_tensor *mask, int64_t S);
/* Writes layer l's new k, v [B, S, KV, hd] at the cache's length; returns
 * every key and value so far, [B, length + S, KV, hd] (views). */
int qwen2_cache_put_kv(sb_llm_cache *c, int64_t l, sb_tensor *k, sb_tensor *v, sb_tensor **k_all,
                       sb_tensor **v_all);

#endif
