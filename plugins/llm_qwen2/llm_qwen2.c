/* llm_qwen2.c — the llm_qwen2 plugin: Qwen2 / Qwen2.5 causal language
 * models (Qwen2ForCausalLM) from Hugging Face folders. This file owns the
 * plugin's descriptor and option schema, create() (options, config.json,
 * declaring the parameters under their Hugging Face names, loading or
 * random initialisation), destroy and describe. The computation is in
 * qwen2_forward.c, the KV cache in qwen2_cache.c, config.json in
 * qwen2_config.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qwen2.h"

static const sb_option k_options[] = {
    {"weights", SB_OPTION_PATH, NULL,
     "Hugging Face Qwen2/Qwen2.5 folder: config.json and model.safetensors (or a sharded "
     "model.safetensors.index.json)", NULL},
    {"random_init", SB_OPTION_BOOL, "false",
     "read only config.json and draw the weights: normal(0, initializer_range), norms 1, biases 0", NULL},
    {"max_length", SB_OPTION_INT, "0",
     "longest sequence accepted; 0: max_position_embeddings", NULL},
    {"gradient_checkpointing", SB_OPTION_BOOL, "false",
     "in training, keep only each decoder layer's input and recompute the layer in the backward pass "
     "(less memory for one more forward of the layers)", NULL},
};

/* ---- declaring the parameters ---- */

/* How fresh parameters start: from the file (zeros, overwritten by the
 * load) or drawn (random_init), as Hugging Face's _init_weights. */
typedef struct inits {
  sb_init weight, bias, norm;
} inits;

static sb_tensor *declare(sb_params *p, const char *name, int64_t rows, int64_t cols, sb_init init) {
  const int64_t shape[2] = {rows, cols};
  return sb_params_add(p, name, cols ? 2 : 1, shape, init, NULL);
}

/* Declares "model.layers.<l>.<suffix>"; shape [rows] when cols is 0. */
static sb_tensor *declare_in_layer(sb_params *p, int64_t l, const char *suffix, int64_t rows, int64_t cols,
                                   sb_init init) {
  char name[128];
  snprintf(name, sizeof name, "model.layers.%lld.%s", (long long)l, suffix);
  return declare(p, name, rows, cols, init);
}

/* Layer l's parameters, shapes as in MODELS.md C.4. */
static int declare_layer(sb_params *p, const qwen2_config *c, int64_t l, const inits *in, qwen2_layer *w) {
  const int64_t D = c->hidden_size, I = c->intermediate_size;
  const int64_t q = c->num_heads * c->head_dim, kv = c->num_kv_heads * c->head_dim;
  w->input_norm = declare_in_layer(p, l, "input_layernorm.weight", D, 0, in->norm);
  w->wq = declare_in_layer(p, l, "self_attn.q_proj.weight", q, D, in->weight);
  w->bq = declare_in_layer(p, l, "self_attn.q_proj.bias", q, 0, in->bias);
  w->wk = declare_in_layer(p, l, "self_attn.k_proj.weight", kv, D, in->weight);
  w->bk = declare_in_layer(p, l, "self_attn.k_proj.bias", kv, 0, in->bias);
  w->wv = declare_in_layer(p, l, "self_attn.v_proj.weight", kv, D, in->weight);
  w->bv = declare_in_layer(p, l, "self_attn.v_proj.bias", kv, 0, in->bias);
  w->wo = declare_in_layer(p, l, "self_attn.o_proj.weight", D, q, in->weight);
  w->post_norm = declare_in_layer(p, l, "post_attention_layernorm.weight", D, 0, in->norm);
  w->gate = declare_in_layer(p, l, "mlp.gate_proj.weight", I, D, in->weight);
  w->up = declare_in_layer(p, l, "mlp.up_proj.weight", I, D, in->weight);
  w->down = declare_in_layer(p, l, "mlp.down_proj.weight", D, I, in->weight);
  bool ok = w->input_norm && w->wq && w->bq && w->wk && w->bk && w->wv && w->bv && w->wo && w->post_norm &&
            w->gate && w->up && w->down;
  return ok ? SB_OK : SB_ERR;
}

/* Every parameter. With tied embeddings the output layer IS the embedding
 * (one parameter used twice: its gradient is the sum of both uses). */
static int declare_all(qwen2 *m, sb_params *p, bool random) {
  const qwen2_config *c = &m->cfg;
  inits in = {{SB_INIT_ZEROS, 0, 0}, {SB_INIT_ZEROS, 0, 0}, {SB_INIT_ONES, 0, 0}};
  if (random) in.weight = (sb_init){SB_INIT_NORMAL, 0.0, c->initializer_range};
  if (!(m->embed = declare(p, "model.embed_tokens.weight", c->vocab_size, c->hidden_size, in.weight)))
    return SB_ERR;
  for (int64_t l = 0; l < c->num_layers; l++) {
    m->layers[l].model = m;
    if (declare_layer(p, c, l, &in, &m->layers[l])) return SB_ERR;
  }
  if (!(m->final_norm = declare(p, "model.norm.weight", c->hidden_size, 0, in.norm))) return SB_ERR;
  m->lm_head = c->tie_word_embeddings ? m->embed
                                      : declare(p, "lm_head.weight", c->vocab_size, c->hidden_size, in.weight);
  return m->lm_head ? SB_OK : SB_ERR;
}

/* Hugging Face zeroes the padding row of a fresh nn.Embedding. */
static int zero_padding_row(qwen2 *m) {
  if (m->cfg.pad_token_id < 0) return SB_OK;
  sb_scope_begin();
  int rc = sb_tensor_fill(sb_op_narrow(m->embed, 0, m->cfg.pad_token_id, 1), 0.0);
  sb_scope_end();
  return rc;
}

/* A tied checkpoint holding its own output layer anyway: say so plainly
 * rather than as an unexpected tensor (which the strict load would report). */
static int check_tied_file(const char *weights) {
  sb_st_set *set = sb_st_set_open(weights);
  if (!set) return SB_ERR;
  const sb_st_tensor *t = sb_st_set_find(set, "lm_head.weight");
  int rc = SB_OK;
  if (t)
    rc = sb_error_set(SB_ERR_FORMAT, "%s: holds 'lm_head.weight' but config.json sets tie_word_embeddings: true "
                      "(the output layer is model.embed_tokens.weight); set tie_word_embeddings to false to "
                      "use that tensor", t->file);
  sb_st_set_close(set);
  return rc;
}

/* ---- create / destroy ---- */

/* The weights option names an existing folder. */
static int check_folder(const sb_config *o, const char *dir) {
  struct stat st;
  if (!dir[0])
    return sb_config_error(o, "weights", "empty: give a Hugging Face Qwen2 folder (config.json + model.safetensors)");
  if (stat(dir, &st) != 0) return sb_config_error(o, "weights", "'%s' does not exist", dir);
  if (!S_ISDIR(st.st_mode))
    return sb_config_error(o, "weights", "'%s' is a file; give the Hugging Face folder that holds "
                           "config.json and the safetensors", dir);
  return SB_OK;
}

static void qwen2_destroy(void *self) {
  qwen2 *m = self;
  if (!m) return;
  free(m->layers);
  free(m);
}

/* Reads the options and config.json; sets max_length. */
static int read_setup(const sb_plugin_ctx *ctx, qwen2 *m, const char **weights, bool *random) {
  const sb_config *o = ctx->options;
  int64_t max_length;
  if (sb_config_get_path(o, "weights", weights) || sb_config_get_bool(o, "random_init", random) ||
      sb_config_get_int(o, "max_length", &max_length) ||
      sb_config_get_bool(o, "gradient_checkpointing", &m->gradient_checkpointing))
    return SB_ERR;
  if (check_folder(o, *weights) || qwen2_config_read(*weights, &m->cfg)) return SB_ERR;
  if (max_length < 0 || max_length > m->cfg.max_positions)
    return sb_config_error(o, "max_length", "%lld; expected 0 (max_position_embeddings) to %lld",
                           (long long)max_length, (long long)m->cfg.max_positions);
  m->max_length = max_length ? max_length : m->cfg.max_positions;
  return SB_OK;
}

static void *qwen2_create(const sb_plugin_ctx *ctx) {
  if (!ctx->params) {
    sb_error("llm_qwen2: no parameter store");
    return NULL;
  }
  qwen2 *m = calloc(1, sizeof *m);
  const char *weights;
  bool random;
  if (!m) {
    sb_error_set(SB_ERR_NOMEM, "llm_qwen2: out of memory");
    return NULL;
  }
  int rc = read_setup(ctx, m, &weights, &random);
  if (rc == SB_OK && !(m->layers = calloc((size_t)m->cfg.num_layers, sizeof *m->layers)))
    rc = sb_error_set(SB_ERR_NOMEM, "llm_qwen2: out of memory");
  if (rc == SB_OK) rc = declare_all(m, ctx->params, random);
  if (rc == SB_OK && random) rc = zero_padding_row(m);
  if (rc == SB_OK && !random && m->cfg.tie_word_embeddings) rc = check_tied_file(weights);
  if (rc == SB_OK && !random && sb_params_load(ctx->params, weights, "", SB_LOAD_STRICT) < 0) rc = SB_ERR;
  if (rc != SB_OK) {
    qwen2_destroy(m);
    return NULL;
  }
  return m;
}

static int qwen2_describe(void *self, sb_llm_info *out) {
  const qwen2 *m = self;
  out->hidden_size = m->cfg.hidden_size;
  out->vocab_size = m->cfg.vocab_size;
  out->num_layers = m->cfg.num_layers;
  out->max_positions = m->max_length;
  out->n_eos_token_ids = m->cfg.n_eos_token_ids;
  for (int i = 0; i < m->cfg.n_eos_token_ids; i++) out->eos_token_ids[i] = m->cfg.eos_token_ids[i];
  out->pad_token_id = m->cfg.pad_token_id;
  return SB_OK;
}

static const sb_llm_vtable k_vtable = {
    .struct_size = sizeof(sb_llm_vtable),
    .create = qwen2_create,
    .destroy = qwen2_destroy,
    .describe = qwen2_describe,
    .embed = qwen2_embed,
    .forward = qwen2_forward,
    .logits = qwen2_logits,
    .cache_new = qwen2_cache_new,
    .cache_free = qwen2_cache_free,
    .output_weight = qwen2_output_weight,
};

static const sb_plugin_descriptor k_descriptor = {
    SB_PLUGIN_HEADER,
    .name = "llm_qwen2",
    .version = "1.0.0",
    .kind = SB_PLUGIN_LLM,
    .description = "Qwen2 / Qwen2.5 causal LM (Qwen2ForCausalLM) from a Hugging Face folder, with a KV cache",
    .options = k_options,
    .n_options = SB_OPTIONS_COUNT(k_options),
    .vtable = &k_vtable,
};

SB_PLUGIN_DEFINE(llm_qwen2, k_descriptor)
