/* spatialboost/encoder.h — the vision encoder kind. */
#ifndef SPATIALBOOST_ENCODER_H
#define SPATIALBOOST_ENCODER_H

#include "image.h"
#include "plugin.h"

SB_BEGIN_DECLS

typedef struct sb_encoder_info {
  size_t struct_size;
  int64_t hidden_size;
  int64_t num_layers;
  int64_t patch_size;
  int64_t num_prefix_tokens;   /* CLS + registers in front of the patch tokens */
  int64_t image_height, image_width; /* the input size its preprocessing makes */
  /* Visual tokens one preprocessed image gives the LLM (features' length);
   * 0 when it depends on the image. */
  int64_t num_visual_tokens;
} sb_encoder_info;

/* Pixels as Hugging Face models take them. Fixed-size towers fill
 * pixel_values [B, 3, H, W]; patch-list towers (NaFlex) fill pixel_values
 * [B, N, 3·P·P], pixel_attention_mask [B, N] and spatial_shapes [B, 2]. */
typedef struct sb_encoder_input {
  size_t struct_size;
  sb_tensor *pixel_values;
  sb_tensor *pixel_attention_mask;
  sb_tensor *spatial_shapes;
} sb_encoder_input;

typedef enum sb_encoder_flags {
  SB_ENCODER_HIDDEN_STATES = 1, /* fill hidden_states */
  SB_ENCODER_POOLED = 2,        /* fill pooled */
} sb_encoder_flags;

typedef struct sb_encoder_output {
  size_t struct_size;
  sb_tensor *last_hidden_state;  /* [B, T, D] as Hugging Face defines it */
  sb_tensor *features;           /* [B, N, D]: the visual tokens for the LLM
                                    (the selected layer, prefix dropped as the
                                    plugin's options say) */
  sb_tensor *pooled;             /* [B, D] (CLS or attention pooling) or NULL */
  /* With SB_ENCODER_HIDDEN_STATES: the caller provides room for
   * max_hidden_states entries; the plugin fills num_layers + 1 of them
   * (index 0 = embeddings, i = output of block i-1). */
  sb_tensor **hidden_states;
  int max_hidden_states;
  int n_hidden_states;
} sb_encoder_output;

typedef struct sb_encoder_vtable {
  size_t struct_size;
  void *(*create)(const sb_plugin_ctx *ctx);
  void (*destroy)(void *self);
  int (*describe)(void *self, sb_encoder_info *out);
  /* Images to the encoder's input, as its preprocessor_config.json says. */
  int (*preprocess)(void *self, const sb_image *images, int n, sb_encoder_input *out);
  int (*forward)(void *self, const sb_encoder_input *in, unsigned flags, sb_encoder_output *out);
} sb_encoder_vtable;

SB_END_DECLS
#endif
