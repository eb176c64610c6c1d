/* encoder_siglip2.c — the encoder_siglip2 plugin: SigLIP / SigLIP2 vision
 * towers from Hugging Face folders, fixed-resolution (model_type "siglip":
 * Conv2d patches, learned position table) and NaFlex (model_type "siglip2":
 * Linear patches, the table resized per image), with the MAP pooling head
 * and SpatialBoost dual-channel attention. This file owns the option
 * schema, create/destroy/describe and the descriptor; see siglip2.h for the
 * other files and README.md for the options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "siglip2.h"

static const sb_option k_options[] = {
    {"weights", SB_OPTION_PATH, NULL,
     "Hugging Face folder (config.json, model.safetensors or a sharded index, optional "
     "preprocessor_config.json), or a .safetensors / index file inside one", NULL},
    {"random_init", SB_OPTION_BOOL, "false", "read only config.json and start from random weights (benchmarks)",
     NULL},
    {"select_layer", SB_OPTION_INT, "-1",
     "hidden_states index of the features (HF indexing: 0 embeddings, -1 last block's raw output)", NULL},
    {"use_head", SB_OPTION_BOOL, "true", "compute the pooled vector with the MAP head (when the checkpoint has one)",
     NULL},
    {"image_size", SB_OPTION_INT, "0",
     "fixed-res input side in pixels; 0: preprocessor_config.json's size, else config.json's image_size", NULL},
    {"max_num_patches", SB_OPTION_INT, "0",
     "NaFlex patches per image; 0: preprocessor_config.json's max_num_patches, else 256", NULL},
    {"dual_attention.enabled", SB_OPTION_BOOL, "false", "SpatialBoost dual-channel attention in every layer", NULL},
    {"dual_attention.mix", SB_OPTION_ENUM, "sigmoid",
     "sigmoid: σ(a)·A + (1-σ(a))·A' (paper); tanh_gate: A + tanh(a)·A'", "sigmoid|tanh_gate"},
    {"dual_attention.weights", SB_OPTION_PATH, "\"\"",
     "safetensors with the self_attn_dual.* / *_dual_alpha tensors; empty: from `weights` or a copy of A", NULL},
    {"gradient_checkpointing", SB_OPTION_BOOL, "false",
     "in training, keep only each layer's input and recompute the layer in the backward pass (layers "
     "with a trainable weight or a trainable input only)", NULL},
};

typedef struct options {
  const char *weights, *dual_weights;
  bool random_init, use_head, use_head_set, dual, ckpt;
  int64_t select_layer, image_size, max_patches;
  int mix;
} options;

static int read_options(const sb_config *o, options *op) {
  static const char *const mixes[] = {"sigmoid", "tanh_gate", NULL};
  op->use_head_set = sb_config_has(o, "use_head");
  return sb_config_get_path(o, "weights", &op->weights) || sb_config_get_bool(o, "random_init", &op->random_init) ||
                 sb_config_get_int(o, "select_layer", &op->select_layer) ||
                 sb_config_get_bool(o, "use_head", &op->use_head) ||
                 sb_config_get_int(o, "image_size", &op->image_size) ||
                 sb_config_get_int(o, "max_num_patches", &op->max_patches) ||
                 sb_config_get_bool(o, "dual_attention.enabled", &op->dual) ||
                 sb_config_get_enum(o, "dual_attention.mix", mixes, &op->mix) ||
                 sb_config_get_path(o, "dual_attention.weights", &op->dual_weights) ||
                 sb_config_get_bool(o, "gradient_checkpointing", &op->ckpt)
             ? SB_ERR
             : SB_OK;
}

/* The folder of config.json: `weights` itself, or the folder of the file
 * it names. dir gets at most size bytes. */
static int weights_folder(const sb_config *o, const char *weights, char *dir, size_t size) {
  struct stat st;
  if (!weights[0] || stat(weights, &st) != 0)
    return sb_config_error(o, "weights", "'%s' does not exist (expected a Hugging Face model folder)", weights);
  if (strlen(weights) >= size) return sb_config_error(o, "weights", "path too long");
  strcpy(dir, weights);
  if (S_ISDIR(st.st_mode)) return SB_OK;
  char *slash = strrchr(dir, '/');
  if (slash) *slash = 0;
  else strcpy(dir, ".");
  return SB_OK;
}

/* select_layer (HF: -(L+1) .. L) to an index 0 .. L. */
static int resolve_select(const sb_config *o, siglip2 *m, int64_t sel) {
  int64_t L = m->cfg.layers;
  if (sel < -(L + 1) || sel > L)
    return sb_config_error(o, "select_layer", "%lld is out of range for %lld layers (expected %lld to %lld)",
                           (long long)sel, (long long)L, (long long)-(L + 1), (long long)L);
  m->select = (int)(sel < 0 ? sel + L + 1 : sel);
  return SB_OK;
}

/* Input size (fixed-res) or patches per image (NaFlex). */
static int resolve_size(const sb_config *o, siglip2 *m, const options *op) {
  const siglip2_config *c = &m->cfg;
  if (c->naflex) {
    if (op->image_size)
      return sb_config_error(o, "image_size", "applies to fixed-resolution towers; this NaFlex tower takes "
                             "max_num_patches");
    if (op->max_patches < 0 || op->max_patches > 65536)
      return sb_config_error(o, "max_num_patches", "%lld is not supported (expected 1 to 65536, or 0 for the "
                             "default)", (long long)op->max_patches);
    m->max_patches = op->max_patches ? op->max_patches : m->pre.max_num_patches ? m->pre.max_num_patches : 256;
    return SB_OK;
  }
  if (op->max_patches)
    return sb_config_error(o, "max_num_patches", "applies to NaFlex towers; this fixed-resolution tower takes "
                           "image_size");
  if (op->image_size && (op->image_size < c->patch || op->image_size > 65536))
    return sb_config_error(o, "image_size", "%lld is not supported (expected %lld to 65536, or 0 for the default)",
                           (long long)op->image_size, (long long)c->patch);
  m->in_h = op->image_size ? op->image_size : m->pre.height ? m->pre.height : c->image_size;
  m->in_w = op->image_size ? op->image_size : m->pre.width ? m->pre.width : c->image_size;
  return SB_OK;
}

static int configure(const sb_config *o, siglip2 *m, const options *op, const char *dir) {
  if (siglip2_config_read(dir, &m->cfg) || siglip2_preproc_read(dir, &m->cfg, &m->pre)) return SB_ERR;
  if (resolve_select(o, m, op->select_layer) || resolve_size(o, m, op)) return SB_ERR;
  if (op->use_head && op->use_head_set && !m->cfg.has_head)
    return sb_config_error(o, "use_head", "the checkpoint has no MAP head (config.json: vision_use_head false)");
  m->use_head = op->use_head && m->cfg.has_head;
  m->dual = op->dual;
  m->gradient_checkpointing = op->ckpt;
  m->mix = op->mix == 1 ? SB_MIX_TANH_GATE : SB_MIX_SIGMOID;
  if (op->dual_weights[0] && !op->dual)
    return sb_config_error(o, "dual_attention.weights", "is set but dual_attention.enabled is false");
  return SB_OK;
}

static void siglip2_destroy(void *self) {
  siglip2 *m = self;
  if (!m) return;
  free(m->layer), free(m->params), free(m);
}

static void *siglip2_create(const sb_plugin_ctx *ctx) {
  const sb_config *o = ctx->options;
  options op;
  char dir[4096];
  if (!ctx->params) {
    sb_error(SIGLIP2_NAME ": needs a parameter store");
    return NULL;
  }
  if (read_options(o, &op) || weights_folder(o, op.weights, dir, sizeof dir)) return NULL;
  siglip2 *m = calloc(1, sizeof *m);
  if (!m) {
    sb_error_set(SB_ERR_NOMEM, SIGLIP2_NAME ": out of memory");
    return NULL;
  }
  int rc = configure(o, m, &op, dir);
  if (!rc) rc = siglip2_declare(m, ctx->params);
  if (!rc) rc = siglip2_load(m, ctx->params, op.random_init ? NULL : op.weights, op.dual_weights);
  if (rc) {
    siglip2_destroy(m);
    return NULL;
  }
  return m;
}

static int siglip2_describe(void *self, sb_encoder_info *out) {
  const siglip2 *m = self;
  out->hidden_size = m->cfg.hidden;
  out->num_layers = m->cfg.layers;
  out->patch_size = m->cfg.patch;
  out->num_prefix_tokens = 0; /* SigLIP has no CLS or register tokens */
  /* NaFlex: each image keeps its own size (0 here); it yields max_num_patches tokens */
  out->image_height = m->cfg.naflex ? 0 : m->in_h;
  out->image_width = m->cfg.naflex ? 0 : m->in_w;
  out->num_visual_tokens = m->cfg.naflex ? m->max_patches
                                         : (m->in_h / m->cfg.patch) * (m->in_w / m->cfg.patch);
  return SB_OK;
}

static const sb_encoder_vtable k_vtable = {
    .struct_size = sizeof(sb_encoder_vtable),
    .create = siglip2_create,
    .destroy = siglip2_destroy,
    .describe = siglip2_describe,
    .preprocess = siglip2_preprocess,
    .forward = siglip2_forward,
};

static const sb_plugin_descriptor k_descriptor = {
    SB_PLUGIN_HEADER,
    .name = SIGLIP2_NAME,
    .version = "1.0.0",
    .kind = SB_PLUGIN_ENCODER,
    .description = "SigLIP / SigLIP2 vision tower (fixed-res and NaFlex), MAP head, dual-channel attention",
    .options = k_options,
    .n_options = SB_OPTIONS_COUNT(k_options),
    .vtable = &k_vtable,
};

SB_PLUGIN_DEFINE(encoder_siglip2, k_descriptor)
