/* encoder_dinov3.c — the encoder_dinov3 plugin: Meta's DINOv3 ViT (Hugging
 * Face DINOv3ViTModel) as a SpatialBoost vision encoder, with optional
 * dual-channel attention. This file owns the option schema, create /
 * destroy / describe and the descriptor; the model lives in dinov3_*.c
 * (see dinov3.h). */
#include <stdlib.h>
#include <string.h>

#include "dinov3.h"

static const sb_option k_options[] = {
    {"weights", SB_OPTION_PATH, NULL,
     "Hugging Face DINOv3 folder (config.json, model.safetensors or its sharded index, optional "
     "preprocessor_config.json)", NULL},
    {"random_init", SB_OPTION_BOOL, "false",
     "read config.json only and initialise the weights randomly (benchmarks, tiny demo models)", NULL},
    {"select_layer", SB_OPTION_INT, "-1",
     "hidden state that feeds the LLM: 0 = embeddings, i = output of block i-1, -1 = last block (not "
     "final-normed), -2 = LLaVA's penultimate", NULL},
    {"drop_prefix", SB_OPTION_BOOL, "true", "drop the CLS and register tokens from the features", NULL},
    {"image_size", SB_OPTION_INT, "0",
     "side images are resized to; 0 = preprocessor_config.json's size, else config.json's image_size", NULL},
    {"dual_attention.enabled", SB_OPTION_BOOL, "false",
     "SpatialBoost dual-channel attention: a copy A' of every attention, mixed by a per-channel alpha", NULL},
    {"dual_attention.mix", SB_OPTION_ENUM, "sigmoid",
     "mixing rule: sigmoid(a)*A + (1-sigmoid(a))*A' (paper) or A + tanh(a)*A'", "sigmoid|tanh_gate"},
    {"dual_attention.weights", SB_OPTION_PATH, "\"\"",
     "safetensors file with the dual parameters to start from; empty: A' = A, alpha = 0 (or the "
     "weights folder's own dual tensors)", NULL},
    {"gradient_checkpointing", SB_OPTION_BOOL, "false",
     "in training, keep only each block's input and recompute the block in the backward pass (blocks "
     "with a trainable weight or a trainable input only)", NULL},
};

typedef struct options {
  const char *weights, *dual_file;
  bool random_init, drop_prefix, dual, ckpt;
  int64_t select_layer, image_size;
  int mix;
} options;

static int read_options(const sb_config *o, options *opt) {
  static const char *const mixes[] = {"sigmoid", "tanh_gate", NULL};
  if (sb_config_get_path(o, "weights", &opt->weights) || sb_config_get_bool(o, "random_init", &opt->random_init) ||
      sb_config_get_int(o, "select_layer", &opt->select_layer) ||
      sb_config_get_bool(o, "drop_prefix", &opt->drop_prefix) ||
      sb_config_get_int(o, "image_size", &opt->image_size) ||
      sb_config_get_bool(o, "dual_attention.enabled", &opt->dual) ||
      sb_config_get_enum(o, "dual_attention.mix", mixes, &opt->mix) ||
      sb_config_get_path(o, "dual_attention.weights", &opt->dual_file) ||
      sb_config_get_bool(o, "gradient_checkpointing", &opt->ckpt))
    return SB_ERR;
  if (opt->image_size < 0 || opt->image_size > 65536)
    return sb_config_error(o, "image_size", "%lld; expected 0 (from the model's files) to 65536",
                           (long long)opt->image_size);
  if (opt->dual_file[0] && !opt->dual)
    return sb_config_error(o, "dual_attention.weights", "given, but dual_attention.enabled is false");
  return SB_OK;
}

static void encoder_destroy(void *self) {
  dinov3 *m = self;
  if (!m) return;
  free(m->layers);
  free(m);
}

static void *encoder_create(const sb_plugin_ctx *ctx) {
  const sb_config *o = ctx->options;
  options opt;
  char dir[DINOV3_PATH_MAX];
  if (read_options(o, &opt)) return NULL;
  if (!ctx->params) {
    sb_error("encoder_dinov3: created without a parameter store");
    return NULL;
  }
  dinov3 *m = calloc(1, sizeof *m);
  if (!m) {
    sb_error_set(SB_ERR_NOMEM, "encoder_dinov3: out of memory");
    return NULL;
  }
  m->drop_prefix = opt.drop_prefix, m->dual = opt.dual, m->gradient_checkpointing = opt.ckpt;
  m->mix = opt.mix == 1 ? SB_MIX_TANH_GATE : SB_MIX_SIGMOID;
  int rc = dinov3_weights_dir(opt.weights, dir, sizeof dir);
  if (rc == SB_OK) rc = dinov3_read_config(dir, &m->cfg);
  if (rc == SB_OK) rc = dinov3_read_preproc(dir, &m->cfg, opt.image_size, &m->pre);
  int64_t L = m->cfg.num_layers;
  if (rc == SB_OK && (opt.select_layer < -(L + 1) || opt.select_layer > L))
    rc = sb_config_error(o, "select_layer", "%lld, but the model has %lld layers: hidden states 0..%lld "
                         "(or -1..-%lld from the end)", (long long)opt.select_layer, (long long)L,
                         (long long)L, (long long)(L + 1));
  m->select_layer = opt.select_layer;
  if (rc == SB_OK && !(m->layers = calloc((size_t)L, sizeof *m->layers)))
    rc = sb_error_set(SB_ERR_NOMEM, "encoder_dinov3: out of memory");
  if (rc == SB_OK) rc = dinov3_params_setup(m, ctx->params, opt.weights, opt.random_init, opt.dual_file);
  if (rc != SB_OK) {
    encoder_destroy(m);
    return NULL;
  }
  return m;
}

static int encoder_describe(void *self, sb_encoder_info *out) {
  const dinov3 *m = self;
  out->hidden_size = m->cfg.hidden_size;
  out->num_layers = m->cfg.num_layers;
  out->patch_size = m->cfg.patch_size;
  out->num_prefix_tokens = 1 + m->cfg.num_registers;
  /* with shortest_edge the size depends on the image; its short side is given */
  out->image_height = m->pre.shortest_edge ? m->pre.shortest_edge : m->pre.height;
  out->image_width = m->pre.shortest_edge ? m->pre.shortest_edge : m->pre.width;
  int64_t P = m->cfg.patch_size;
  out->num_visual_tokens = m->pre.shortest_edge ? 0
                         : (out->image_height / P) * (out->image_width / P) + (m->drop_prefix ? 0 : out->num_prefix_tokens);
  return SB_OK;
}

static int encoder_preprocess(void *self, const sb_image *images, int n, sb_encoder_input *out) {
  return dinov3_preprocess(self, images, n, out);
}

static int encoder_forward(void *self, const sb_encoder_input *in, unsigned flags, sb_encoder_output *out) {
  return dinov3_forward(self, in, flags, out);
}

static const sb_encoder_vtable k_vtable = {
    .struct_size = sizeof(sb_encoder_vtable),
    .create = encoder_create,
    .destroy = encoder_destroy,
    .describe = encoder_describe,
    .preprocess = encoder_preprocess,
    .forward = encoder_forward,
};

static const sb_plugin_descriptor k_descriptor = {
    SB_PLUGIN_HEADER,
    .name = "encoder_dinov3",
    .version = "1.0.0",
    .kind = SB_PLUGIN_ENCODER,
    .description = "DINOv3 ViT vision encoder (Hugging Face layout, 2-D RoPE, registers) with SpatialBoost "
                   "dual-channel attention",
    .options = k_options,
    .n_options = SB_OPTIONS_COUNT(k_options),
    .vtable = &k_vtable,
};

SB_PLUGIN_DEFINE(encoder_dinov3, k_descriptor)
