/* spatialboost/llm.h — the language model kind. */
#ifndef SPATIALBOOST_LLM_H
#define SPATIALBOOST_LLM_H

#include "plugin.h"

SB_BEGIN_DECLS

typedef struct sb_llm_info {
  size_t struct_size;
  int64_t hidden_size, vocab_size, num_layers, max_positions;
  int64_t eos_token_ids[4];
  int n_eos_token_ids;
  int64_t pad_token_id;      /* -1 when none */
} sb_llm_info;

/* A key/value cache for generation, owned by the plugin. */
typedef struct sb_llm_cache sb_llm_cache;

typedef struct sb_llm_input {
  size_t struct_size;
  sb_tensor *inputs_embeds;  /* [B, S, D] */
  sb_tensor *attention_mask; /* [B, S] (nonzero = real token) or NULL */
  sb_tensor *position_ids;   /* [B, S] or NULL for 0..S-1 (after the cache's length) */
  sb_llm_cache *cache;       /* NULL in training */
} sb_llm_input;

typedef struct sb_llm_vtable {
  size_t struct_size;
  void *(*create)(const sb_plugin_ctx *ctx);
  void (*destroy)(void *self);
  int (*describe)(void *self, sb_llm_info *out);
  /* ids [...] (I64) -> [..., D] */
  sb_tensor *(*embed)(void *self, sb_tensor *ids);
  /* The decoder: final-normed hidden states [B, S, D]. */
  sb_tensor *(*forward)(void *self, const sb_llm_input *in);
  /* The output layer on chosen rows: hidden [N, D] -> logits [N, V]. */
  sb_tensor *(*logits)(void *self, sb_tensor *hidden);
  sb_llm_cache *(*cache_new)(void *self, int64_t batch, int64_t max_length);
  void (*cache_free)(void *self, sb_llm_cache *cache);
  /* Optional (ABI 1.1): the output weight W [V, D] when logits(h) is exactly
   * h·Wᵀ (no bias, no scaling or capping), so that the core can fuse the
   * output layer with the loss and never hold [N, V] logits. NULL (or a
   * NULL slot): the core always calls logits. */
  sb_tensor *(*output_weight)(void *self);
} sb_llm_vtable;

SB_END_DECLS
#endif
