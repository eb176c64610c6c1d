/* dinov3.h — internal to the encoder_dinov3 plugin: the model's
 * configuration (config.json), its preprocessing (preprocessor_config.json),
 * the parameter handles, and the functions its files share:
 *   encoder_dinov3.c     options, create/destroy/describe, the descriptor
 *   dinov3_config.c      config.json and preprocessor_config.json
 *   dinov3_params.c      declaring and loading the weights (base and dual)
 *   dinov3_forward.c     the forward pass
 *   dinov3_preprocess.c  images -> pixel_values
 * Nothing here is part of the sdk. */
#ifndef ENCODER_DINOV3_H
#define ENCODER_DINOV3_H

#include <spatialboost/spatialboost.h>

#define DINOV3_PATH_MAX 4096

typedef enum dinov3_act {
  DINOV3_ACT_GELU = 0, /* exact erf GELU */
  DINOV3_ACT_SILU = 1,
} dinov3_act;

/* config.json (MODELS.md A.1), with the class defaults for absent keys. */
typedef struct dinov3_config {
  char file[DINOV3_PATH_MAX]; /* the config.json read, for messages */
  int64_t patch_size, hidden_size, intermediate_size, num_layers, num_heads;
  int64_t num_registers, num_channels, image_size;
  double layer_norm_eps, rope_theta, initializer_range, layerscale_value;
  bool query_bias, key_bias, value_bias, proj_bias, mlp_bias;
  bool gated_mlp;  /* use_gated_mlp (older: use_swiglu_ffn) */
  dinov3_act act;  /* hidden_act */
} dinov3_config;

/* preprocessor_config.json (MODELS.md A.6), or its defaults. */
typedef struct dinov3_preproc {
  bool do_resize, do_rescale, do_normalize;
  double rescale_factor;
  double mean[3], std[3];
  int height, width;      /* target size when shortest_edge is 0 */
  int shortest_edge;      /* > 0: short side to this, aspect kept (HF rule) */
  sb_resample resample;
} dinov3_preproc;

/* One attention module's projections (biases NULL where the config has none). */
typedef struct dinov3_attn {
  sb_tensor *q_w, *q_b, *k_w, *k_b, *v_w, *v_b, *o_w, *o_b;
} dinov3_attn;

typedef struct dinov3_layer {
  sb_tensor *norm1_w, *norm1_b, *norm2_w, *norm2_b;
  dinov3_attn attn;
  dinov3_attn dual;        /* the SpatialBoost copy A' (only with dual attention) */
  sb_tensor *dual_alpha;   /* [D], group "dual" */
  sb_tensor *ls1, *ls2;    /* LayerScale lambda1 [D] */
  sb_tensor *up_w, *up_b, *down_w, *down_b, *gate_w, *gate_b; /* gate only when gated */
  const struct dinov3 *model; /* the model that holds this layer */
} dinov3_layer;

typedef struct dinov3 {
  dinov3_config cfg;
  dinov3_preproc pre;
  int64_t select_layer;    /* HF hidden_states index, negative from the end */
  bool drop_prefix;
  bool dual;               /* dual-channel attention on */
  bool gradient_checkpointing; /* option: recompute each block in the backward pass */
  sb_mix_mode mix;
  sb_tensor *cls, *mask_token, *registers; /* registers NULL when R = 0 and absent */
  sb_tensor *patch_w, *patch_b, *norm_w, *norm_b;
  dinov3_layer *layers;    /* num_layers */
} dinov3;

/* dinov3_config.c */
/* The folder holding config.json for a weights path (a folder, a
 * .safetensors file or a model.safetensors.index.json). */
int dinov3_weights_dir(const char *weights, char *dir, size_t size);
/* Reads <dir>/config.json. Errors name the file, the key and the value. */
int dinov3_read_config(const char *dir, dinov3_config *cfg);
/* Reads <dir>/preprocessor_config.json when present, else the defaults;
 * image_size > 0 forces an image_size x image_size resize. */
int dinov3_read_preproc(const char *dir, const dinov3_config *cfg, int64_t image_size, dinov3_preproc *pre);

/* dinov3_params.c */
/* Declares every parameter and fills it: from `weights` (strict), or
 * randomly (random_init); then the dual copy when m->dual, from the weights
 * folder, `dual_file` (may be ""), or as a copy of the base attention. */
int dinov3_params_setup(dinov3 *m, sb_params *p, const char *weights, bool random_init,
                        const char *dual_file);

/* dinov3_forward.c */
int dinov3_forward(dinov3 *m, const sb_encoder_input *in, unsigned flags, sb_encoder_output *out);

/* dinov3_preprocess.c */
int dinov3_preprocess(const dinov3 *m, const sb_image *images, int n, sb_encoder_input *out);

#endif
