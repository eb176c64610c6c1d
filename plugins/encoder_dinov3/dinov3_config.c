/* dinov3_config.c — reads a Hugging Face DINOv3 folder's config.json (every
 * key of MODELS.md A.1, with DINOv3ViTConfig's defaults when absent) and its
 * optional preprocessor_config.json (A.6). A value the plugin cannot honour
 * is an error naming the file, the key and the value; nothing is guessed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "dinov3.h"

int dinov3_weights_dir(const char *weights, char *dir, size_t size) {
  struct stat st;
  if (!weights || !weights[0]) return sb_error("weights: no path given (a Hugging Face DINOv3 folder)");
  if (stat(weights, &st) != 0)
    return sb_error_set(SB_ERR_IO, "weights '%s' does not exist (%s); expected a Hugging Face DINOv3 folder "
                        "with config.json and model.safetensors", weights, strerror(errno));
  if (strlen(weights) + 1 > size) return sb_error("weights path '%s' is too long", weights);
  strcpy(dir, weights);
  if (S_ISDIR(st.st_mode)) return SB_OK;
  char *slash = strrchr(dir, '/'); /* a file: its folder */
  if (!slash) strcpy(dir, ".");
  else if (slash == dir) dir[1] = '\0';
  else *slash = '\0';
  return SB_OK;
}

/* ---- config.json ---- */

static int bad_value(const dinov3_config *c, const char *key, const char *value, const char *why) {
  return sb_error_set(SB_ERR_FORMAT, "%s: '%s' is %s; %s", c->file, key, value, why);
}

static int bad_int(const dinov3_config *c, const char *key, int64_t v, const char *why) {
  char text[32];
  snprintf(text, sizeof text, "%lld", (long long)v);
  return bad_value(c, key, text, why);
}

/* The integer keys and their defaults. */
static int read_ints(const sb_json *root, dinov3_config *c) {
  struct {
    const char *key;
    int64_t def, *out;
  } keys[] = {
      {"patch_size", 16, &c->patch_size},
      {"hidden_size", 384, &c->hidden_size},
      {"intermediate_size", 1536, &c->intermediate_size},
      {"num_hidden_layers", 12, &c->num_layers},
      {"num_attention_heads", 6, &c->num_heads},
      {"num_register_tokens", 0, &c->num_registers},
      {"num_channels", 3, &c->num_channels},
      {"image_size", 224, &c->image_size},
  };
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    if (sb_json_get_int(root, keys[i].key, keys[i].def, keys[i].out)) return SB_ERR;
    bool may_be_zero = keys[i].out == &c->num_registers;
    if (*keys[i].out < (may_be_zero ? 0 : 1) || *keys[i].out > (1 << 20))
      return bad_int(c, keys[i].key, *keys[i].out, may_be_zero ? "expected 0 or more" : "expected 1 or more");
  }
  if (c->num_channels != 3)
    return bad_int(c, "num_channels", c->num_channels, "encoder_dinov3 takes RGB images (3 channels)");
  if (c->hidden_size % c->num_heads)
    return bad_int(c, "num_attention_heads", c->num_heads, "it must divide hidden_size");
  if ((c->hidden_size / c->num_heads) % 4)
    return bad_int(c, "num_attention_heads", c->num_heads,
                   "the head size hidden_size / num_attention_heads must be a multiple of 4 (2-D RoPE)");
  return SB_OK;
}

/* The float keys; attention_dropout and drop_path_rate are read for their
 * type only (training-time regularisers, never applied: eval semantics). */
static int read_floats(const sb_json *root, dinov3_config *c) {
  double dropout, drop_path;
  if (sb_json_get_float(root, "layer_norm_eps", 1e-5, &c->layer_norm_eps) ||
      sb_json_get_float(root, "rope_theta", 100.0, &c->rope_theta) ||
      sb_json_get_float(root, "initializer_range", 0.02, &c->initializer_range) ||
      sb_json_get_float(root, "attention_dropout", 0.0, &dropout) ||
      sb_json_get_float(root, "drop_path_rate", 0.0, &drop_path))
    return SB_ERR;
  const sb_json *ls = sb_json_get(root, "layerscale_value");
  if (ls && sb_json_typeof(ls) == SB_JSON_NULL)
    return bad_value(c, "layerscale_value", "null", "DINOv3 blocks always have LayerScale; expected a number");
  if (sb_json_get_float(root, "layerscale_value", 1.0, &c->layerscale_value)) return SB_ERR;
  char text[64];
  if (!(c->layer_norm_eps > 0))
    return snprintf(text, sizeof text, "%g", c->layer_norm_eps), bad_value(c, "layer_norm_eps", text, "expected > 0");
  if (!(c->rope_theta > 0))
    return snprintf(text, sizeof text, "%g", c->rope_theta), bad_value(c, "rope_theta", text, "expected > 0");
  for (size_t i = 0; i < 3; i++) { /* augmentations: a number or null (train mode only) */
    static const char *const aug[] = {"pos_embed_shift", "pos_embed_jitter", "pos_embed_rescale"};
    const sb_json *v = sb_json_get(root, aug[i]);
    double unused;
    if (v && sb_json_typeof(v) != SB_JSON_NULL && sb_json_get_float(root, aug[i], 0.0, &unused)) return SB_ERR;
  }
  return SB_OK;
}

static int read_bools(const sb_json *root, dinov3_config *c) {
  if (sb_json_get_bool(root, "query_bias", true, &c->query_bias) ||
      sb_json_get_bool(root, "key_bias", false, &c->key_bias) ||
      sb_json_get_bool(root, "value_bias", true, &c->value_bias) ||
      sb_json_get_bool(root, "proj_bias", true, &c->proj_bias) ||
      sb_json_get_bool(root, "mlp_bias", true, &c->mlp_bias))
    return SB_ERR;
  /* use_gated_mlp, named use_swiglu_ffn by older transformers versions */
  bool gated = false, swiglu = false;
  bool has_gated = sb_json_get(root, "use_gated_mlp") != NULL, has_swiglu = sb_json_get(root, "use_swiglu_ffn") != NULL;
  if (sb_json_get_bool(root, "use_gated_mlp", false, &gated) ||
      sb_json_get_bool(root, "use_swiglu_ffn", false, &swiglu))
    return SB_ERR;
  if (has_gated && has_swiglu && gated != swiglu)
    return bad_value(c, "use_swiglu_ffn", swiglu ? "true" : "false",
                     "it contradicts use_gated_mlp (the newer name of the same key)");
  c->gated_mlp = has_gated ? gated : swiglu;
  return SB_OK;
}

static int read_activation(const sb_json *root, dinov3_config *c) {
  const char *act;
  if (sb_json_get_string(root, "hidden_act", "gelu", &act)) return SB_ERR;
  char quoted[96];
  snprintf(quoted, sizeof quoted, "\"%.80s\"", act);
  if (strcmp(act, "gelu") == 0) c->act = DINOV3_ACT_GELU;
  else if (strcmp(act, "silu") == 0 || strcmp(act, "swish") == 0) c->act = DINOV3_ACT_SILU;
  else return bad_value(c, "hidden_act", quoted, "encoder_dinov3 supports \"gelu\" (exact) or \"silu\"");
  if (c->gated_mlp && c->act != DINOV3_ACT_SILU)
    return bad_value(c, "hidden_act", quoted,
                     "a gated (SwiGLU) MLP (use_gated_mlp: true) needs \"silu\" in encoder_dinov3");
  return SB_OK;
}

int dinov3_read_config(const char *dir, dinov3_config *c) {
  memset(c, 0, sizeof *c);
  if ((size_t)snprintf(c->file, sizeof c->file, "%s/config.json", dir) >= sizeof c->file)
    return sb_error("weights folder path '%s' is too long", dir);
  struct stat st;
  if (stat(c->file, &st) != 0)
    return sb_error_set(SB_ERR_IO, "%s does not exist (%s): a DINOv3 weights folder needs the Hugging Face "
                        "config.json", c->file, strerror(errno));
  sb_json_doc *doc = sb_json_load(c->file);
  if (!doc) return SB_ERR;
  const sb_json *root = sb_json_root(doc);
  const char *type;
  int rc = sb_json_typeof(root) == SB_JSON_OBJECT ? SB_OK
                                                    : sb_error_set(SB_ERR_FORMAT, "%s: expected a JSON object", c->file);
  if (rc == SB_OK) rc = sb_json_get_string(root, "model_type", "dinov3_vit", &type);
  if (rc == SB_OK && strcmp(type, "dinov3_vit") != 0) {
    char quoted[96];
    snprintf(quoted, sizeof quoted, "\"%.80s\"", type);
    rc = bad_value(c, "model_type", quoted, "encoder_dinov3 reads \"dinov3_vit\" models");
  }
  if (rc == SB_OK) rc = read_ints(root, c);
  if (rc == SB_OK) rc = read_floats(root, c);
  if (rc == SB_OK) rc = read_bools(root, c);
  if (rc == SB_OK) rc = read_activation(root, c);
  sb_json_free(doc);
  return rc;
}

/* ---- preprocessor_config.json ---- */

static int bad_pre(const char *file, const char *key, const char *why) {
  return sb_error_set(SB_ERR_FORMAT, "%s: '%s': %s", file, key, why);
}

/* `size`: {height, width}, {shortest_edge}, or a plain number (square). */
static int read_size(const sb_json *root, const char *file, dinov3_preproc *p) {
  const sb_json *size = sb_json_get(root, "size");
  if (!size || sb_json_typeof(size) == SB_JSON_NULL) return SB_OK;
  int64_t h = 0, w = 0, s = 0;
  if (sb_json_typeof(size) == SB_JSON_INT) {
    if (sb_json_int(size, &s)) return SB_ERR;
    h = w = s, s = 0;
  } else if (sb_json_get(size, "height") || sb_json_get(size, "width")) {
    if (!sb_json_require(size, "height", SB_JSON_INT) || !sb_json_require(size, "width", SB_JSON_INT) ||
        sb_json_get_int(size, "height", 0, &h) || sb_json_get_int(size, "width", 0, &w))
      return SB_ERR;
  } else if (sb_json_get(size, "shortest_edge")) {
    if (sb_json_get_int(size, "shortest_edge", 0, &s)) return SB_ERR;
    if (s < 1 || s > 65536) return bad_pre(file, "size.shortest_edge", "expected 1 to 65536");
    p->shortest_edge = (int)s;
    return SB_OK;
  } else {
    return bad_pre(file, "size", "expected {\"height\": H, \"width\": W} or {\"shortest_edge\": S}");
  }
  if (h < 1 || w < 1 || h > 65536 || w > 65536) return bad_pre(file, "size", "height and width must be 1 to 65536");
  p->height = (int)h, p->width = (int)w;
  return SB_OK;
}

static int read_norm(const sb_json *root, const char *file, dinov3_preproc *p) {
  if (sb_json_get(root, "image_mean") && sb_json_typeof(sb_json_get(root, "image_mean")) != SB_JSON_NULL &&
      sb_json_get_floats(root, "image_mean", p->mean, 3))
    return SB_ERR;
  if (sb_json_get(root, "image_std") && sb_json_typeof(sb_json_get(root, "image_std")) != SB_JSON_NULL &&
      sb_json_get_floats(root, "image_std", p->std, 3))
    return SB_ERR;
  for (int c = 0; c < 3; c++)
    if (!(p->std[c] != 0.0)) return bad_pre(file, "image_std", "a standard deviation of 0");
  return SB_OK;
}

static int read_preproc_file(const char *file, dinov3_preproc *p) {
  sb_json_doc *doc = sb_json_load(file);
  if (!doc) return SB_ERR;
  const sb_json *root = sb_json_root(doc);
  int64_t resample = 2;
  bool crop = false;
  int rc = sb_json_get_bool(root, "do_resize", true, &p->do_resize);
  if (rc == SB_OK) rc = sb_json_get_bool(root, "do_rescale", true, &p->do_rescale);
  if (rc == SB_OK) rc = sb_json_get_bool(root, "do_normalize", true, &p->do_normalize);
  if (rc == SB_OK) rc = sb_json_get_bool(root, "do_center_crop", false, &crop);
  if (rc == SB_OK) rc = sb_json_get_float(root, "rescale_factor", 1.0 / 255.0, &p->rescale_factor);
  if (rc == SB_OK) rc = sb_json_get_int(root, "resample", 2, &resample);
  if (rc == SB_OK) rc = read_size(root, file, p);
  if (rc == SB_OK) rc = read_norm(root, file, p);
  if (rc == SB_OK && crop)
    rc = bad_pre(file, "do_center_crop", "true is not supported (DINOv3's processor resizes without cropping)");
  if (rc == SB_OK && resample != SB_RESAMPLE_BILINEAR && resample != SB_RESAMPLE_BICUBIC)
    rc = bad_pre(file, "resample", "expected 2 (bilinear) or 3 (bicubic)");
  p->resample = (sb_resample)resample;
  sb_json_free(doc);
  return rc;
}

int dinov3_read_preproc(const char *dir, const dinov3_config *cfg, int64_t image_size, dinov3_preproc *p) {
  static const double mean[3] = {0.485, 0.456, 0.406}, stdv[3] = {0.229, 0.224, 0.225};
  *p = (dinov3_preproc){.do_resize = true, .do_rescale = true, .do_normalize = true,
                        .rescale_factor = 1.0 / 255.0, .height = (int)cfg->image_size,
                        .width = (int)cfg->image_size, .resample = SB_RESAMPLE_BILINEAR};
  memcpy(p->mean, mean, sizeof mean), memcpy(p->std, stdv, sizeof stdv);
  char file[DINOV3_PATH_MAX];
  if ((size_t)snprintf(file, sizeof file, "%s/preprocessor_config.json", dir) >= sizeof file)
    return sb_error("weights folder path '%s' is too long", dir);
  struct stat st;
  if (stat(file, &st) == 0 && read_preproc_file(file, p)) return SB_ERR;
  if (image_size > 0) p->height = p->width = (int)image_size, p->shortest_edge = 0;
  return SB_OK;
}
