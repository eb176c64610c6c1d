/* siglip2.h — internal interface of the encoder_siglip2 plugin, shared by
 * its source files (and by its test, which compiles them in): the model
 * settings read from config.json / preprocessor_config.json, the parameter
 * handles, the resampling matrices and the NaFlex helpers. Not part of the
 * sdk: nothing here is exported from the plugin's shared object.
 *
 * Files of the plugin:
 *   encoder_siglip2.c   options, create/destroy/describe, the descriptor
 *   siglip2_config.c    config.json and preprocessor_config.json
 *   siglip2_weights.c   parameter declaration, loading, dual-channel start
 *   siglip2_resample.c  resampling weight matrices, NaFlex target size
 *   siglip2_forward.c   the forward pass (fixed-res and NaFlex)
 *   siglip2_preprocess.c images to pixel_values (B.7) */
#ifndef SB_PLUGIN_SIGLIP2_H
#define SB_PLUGIN_SIGLIP2_H

#include <spatialboost/spatialboost.h>

#define SIGLIP2_NAME "encoder_siglip2"

/* The vision tower's config.json settings (spec/MODELS.md B.2). */
typedef struct siglip2_config {
  bool naflex;             /* model_type siglip2 (Siglip2VisionTransformer) */
  int64_t hidden;          /* hidden_size D */
  int64_t intermediate;    /* intermediate_size I */
  int64_t layers;          /* num_hidden_layers L */
  int64_t heads;           /* num_attention_heads H */
  int64_t patch;           /* patch_size P */
  int64_t image_size;      /* fixed-res: image_size S (0 for NaFlex) */
  int64_t num_patches;     /* NaFlex: position table rows (a square); fixed: (S/P)² */
  int64_t grid;            /* side of the position table's square grid */
  double eps;              /* layer_norm_eps */
  bool gelu_exact;         /* hidden_act gelu (erf) instead of gelu_pytorch_tanh */
  bool has_head;           /* vision_use_head (absent: true) */
} siglip2_config;

/* preprocessor_config.json (B.7), with the processor class defaults. */
typedef struct siglip2_preproc {
  bool do_resize, do_rescale, do_normalize; /* (images always become RGB) */
  int resample;            /* 2 bilinear, 3 bicubic (Pillow numbering) */
  double rescale;          /* rescale_factor */
  double mean[3], std[3];
  int64_t height, width;   /* fixed-res: size.{height,width} (0: absent) */
  int64_t max_num_patches; /* NaFlex (0: absent) */
  int64_t patch;           /* NaFlex: patch_size (0: absent) */
} siglip2_preproc;

/* Reads <dir>/config.json. Errors name the file, the key and the value. */
int siglip2_config_read(const char *dir, siglip2_config *cfg);
/* Reads <dir>/preprocessor_config.json if present (defaults otherwise). */
int siglip2_preproc_read(const char *dir, const siglip2_config *cfg, siglip2_preproc *pp);

/* One attention block's projections (nn.Linear layout [out, in], bias [out]). */
typedef struct siglip2_attn {
  sb_tensor *qw, *qb, *kw, *kb, *vw, *vb, *ow, *ob;
} siglip2_attn;

typedef struct siglip2_layer {
  sb_tensor *ln1_w, *ln1_b;
  siglip2_attn attn;
  siglip2_attn dual;       /* SpatialBoost copy A' (NULLs without dual attention) */
  sb_tensor *alpha;        /* [D], the mixing vector (NULL without) */
  sb_tensor *ln2_w, *ln2_b;
  sb_tensor *fc1_w, *fc1_b, *fc2_w, *fc2_b;
  const struct siglip2 *model; /* the model that holds this layer */
} siglip2_layer;

/* The MAP head (B.5). */
typedef struct siglip2_head {
  sb_tensor *probe;        /* [1, 1, D] */
  sb_tensor *in_w, *in_b;  /* [3D, D] rows [Wq; Wk; Wv], [3D] */
  sb_tensor *out_w, *out_b;
  sb_tensor *ln_w, *ln_b;
  sb_tensor *fc1_w, *fc1_b, *fc2_w, *fc2_b;
} siglip2_head;

/* One instance of the plugin. */
typedef struct siglip2 {
  siglip2_config cfg;
  siglip2_preproc pre;
  int select;              /* hidden_states index, 0 .. L (resolved from select_layer) */
  bool use_head;           /* compute the pooled output */
  bool dual;               /* dual-channel attention */
  bool gradient_checkpointing; /* option: recompute each layer in the backward pass */
  sb_mix_mode mix;
  int64_t in_h, in_w;      /* fixed-res: the pixel size forward takes */
  int64_t max_patches;     /* NaFlex: patches per image after preprocessing */
  sb_tensor *patch_w;      /* fixed: [D, 3, P, P]; NaFlex: [D, 3·P·P] */
  sb_tensor *patch_b;      /* [D] */
  sb_tensor *pos;          /* [num_patches, D] */
  siglip2_layer *layer;    /* [L] */
  siglip2_head head;       /* all NULL without a head */
  sb_tensor *post_w, *post_b;
  /* Every declared parameter, base ones first (for name checks). */
  sb_tensor **params;
  size_t n_params, cap_params;
  size_t n_base;           /* params[0 .. n_base-1] are the checkpoint's own */
} siglip2;

/* ---- parameters (siglip2_weights.c) ---- */

/* Declares every parameter of the tower under its Hugging Face name
 * ("vision_model.encoder.layers.0.self_attn.q_proj.weight", ...), and the
 * dual-channel ones (group "dual") when m->dual. */
int siglip2_declare(siglip2 *m, sb_params *p);
/* Loads the vision tensors of `weights` (a folder, a .safetensors file or an
 * index): strict about vision_model.* tensors, text-tower tensors ignored.
 * Then starts the dual channel: from the file when it holds dual tensors,
 * else from dual_weights ("" for none), else as a copy of the base. */
int siglip2_load(siglip2 *m, sb_params *p, const char *weights, const char *dual_weights);
/* Dual channel without any file: A' = A, alpha = 0 (random_init). */
int siglip2_dual_start(siglip2 *m);

/* ---- resampling (siglip2_resample.c) ---- */

/* Separable weights [n_out, n_in] (row-major, double) of PyTorch's
 * interpolate(mode=bilinear, align_corners=False, antialias=True) along one
 * axis (spec B.7.3). */
void siglip2_aa_bilinear_weights(int64_t n_in, int64_t n_out, double *w);
/* Same for interpolate(mode=bicubic, align_corners=False, antialias=False)
 * (a = -0.75, border taps clamped), as SigLIP's interpolate_pos_encoding. */
void siglip2_bicubic_weights(int64_t n_in, int64_t n_out, double *w);
/* NaFlex target size (B.7.2): the binary search on the scale. Outputs are
 * multiples of patch. */
void siglip2_naflex_size(int64_t height, int64_t width, int64_t patch, int64_t max_patches,
                         int64_t *out_h, int64_t *out_w);
/* Position embeddings [B, N, D] for images of spatial_shapes[b] = (h_b, w_b)
 * patches (I64 host array [B·2]): the grid×grid table resized to h_b×w_b
 * (antialiased bilinear for NaFlex, plain bicubic for fixed-res), rows
 * h_b·w_b .. N-1 copies of row 0. One matmul with a host-built matrix
 * [B·N, grid²], so gradients reach the table. */
sb_tensor *siglip2_position_embeddings(const siglip2 *m, const int64_t *shapes, int64_t B, int64_t N);

/* ---- forward (siglip2_forward.c) ---- */
int siglip2_forward(void *self, const sb_encoder_input *in, unsigned flags, sb_encoder_output *out);

/* ---- preprocessing (siglip2_preprocess.c) ---- */
int siglip2_preprocess(void *self, const sb_image *images, int n, sb_encoder_input *out);
/* image [3, H, W] (float, H and W multiples of patch) to patches
 * [max_patches, 3·P·P] in (row-major patch, (py, px, c)) order, zero rows
 * after the H/P·W/P real ones. Returns the number of real patches, or -1
 * when they do not fit. */
int64_t siglip2_patchify_pad(const float *chw, int64_t H, int64_t W, int64_t patch, int64_t max_patches,
                             float *out);

#endif
