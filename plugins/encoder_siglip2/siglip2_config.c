/* siglip2_config.c — reads a SigLIP / SigLIP2 checkpoint's config.json
 * (spec/MODELS.md B.1, B.2) and preprocessor_config.json (B.7) into plain
 * structs, with the Hugging Face class defaults for absent keys (real
 * google/siglip* configs omit keys equal to the defaults, e.g. so400m has no
 * hidden_act or layer_norm_eps). A value this plugin cannot run is an error
 * naming the file, the key and the value. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "siglip2.h"

/* ---- config.json ---- */

/* Where the vision settings live, and whether the tower is NaFlex.
 * vprefix gets "vision_config." or "". */
static int vision_section(const sb_json *root, const char *file, bool *naflex, const char **vprefix) {
  const char *type;
  if (sb_json_get_string(root, "model_type", "", &type)) return SB_ERR;
  static const char *const fixed[] = {"siglip", "siglip_vision_model"};
  static const char *const flex[] = {"siglip2", "siglip2_vision_model"};
  bool is_fixed = !strcmp(type, fixed[0]) || !strcmp(type, fixed[1]);
  bool is_flex = !strcmp(type, flex[0]) || !strcmp(type, flex[1]);
  if (!is_fixed && !is_flex)
    return sb_error_set(SB_ERR_FORMAT,
                        "%s: 'model_type': '%s' is not a SigLIP vision tower (expected siglip, "
                        "siglip_vision_model, siglip2 or siglip2_vision_model)", file, type);
  *naflex = is_flex;
  const sb_json *vc = sb_json_get(root, "vision_config");
  *vprefix = vc && sb_json_typeof(vc) == SB_JSON_OBJECT ? "vision_config." : "";
  if (vc && sb_json_typeof(vc) != SB_JSON_OBJECT && sb_json_typeof(vc) != SB_JSON_NULL)
    return sb_error_set(SB_ERR_FORMAT, "%s: 'vision_config': expected an object", file);
  /* A nested vision model_type must agree with the top one. */
  const char *vtype = "";
  if (**vprefix && sb_json_get_string(vc, "model_type", "", &vtype)) return SB_ERR;
  if (*vtype && strcmp(vtype, is_flex ? flex[1] : fixed[1]) != 0)
    return sb_error_set(SB_ERR_FORMAT, "%s: 'vision_config.model_type': '%s' does not go with model_type '%s' "
                        "(expected '%s')", file, vtype, type, is_flex ? flex[1] : fixed[1]);
  return SB_OK;
}

/* The largest sizes accepted (far above any released tower; they keep
 * every product of sizes well inside 64 bits). */
#define MAX_WIDTH ((int64_t)1 << 20)
#define MAX_SIDE ((int64_t)1 << 16)

/* An integer key of the vision section, with its default; must lie in
 * [min, max]. */
static int vint(const sb_json *root, const char *file, const char *vp, const char *key, int64_t def,
                int64_t min, int64_t max, int64_t *out) {
  char full[128];
  snprintf(full, sizeof full, "%s%s", vp, key);
  if (sb_json_get_int(root, full, def, out)) return SB_ERR;
  if (*out < min || *out > max)
    return sb_error_set(SB_ERR_FORMAT, "%s: '%s': %lld is not supported (expected %lld to %lld)", file, full,
                        (long long)*out, (long long)min, (long long)max);
  return SB_OK;
}

/* hidden_act: gelu_pytorch_tanh (the class default) or gelu. */
static int read_act(const sb_json *root, const char *file, const char *vp, bool *exact) {
  char full[128];
  const char *act;
  snprintf(full, sizeof full, "%shidden_act", vp);
  if (sb_json_get_string(root, full, "gelu_pytorch_tanh", &act)) return SB_ERR;
  if (strcmp(act, "gelu_pytorch_tanh") && strcmp(act, "gelu"))
    return sb_error_set(SB_ERR_FORMAT, "%s: '%s': '%s' is not supported (expected gelu_pytorch_tanh or gelu)",
                        file, full, act);
  *exact = !strcmp(act, "gelu");
  return SB_OK;
}

/* layer_norm_eps > 0, attention_dropout = 0 (there is no dropout here). */
static int read_floats(const sb_json *root, const char *file, const char *vp, double *eps) {
  char full[128];
  double drop;
  snprintf(full, sizeof full, "%slayer_norm_eps", vp);
  if (sb_json_get_float(root, full, 1e-6, eps)) return SB_ERR;
  if (!(*eps > 0.0 && isfinite(*eps)))
    return sb_error_set(SB_ERR_FORMAT, "%s: '%s': %g is not supported (expected a positive number)", file, full,
                        *eps);
  snprintf(full, sizeof full, "%sattention_dropout", vp);
  if (sb_json_get_float(root, full, 0.0, &drop)) return SB_ERR;
  if (drop != 0.0)
    return sb_error_set(SB_ERR_FORMAT, "%s: '%s': %g is not supported (expected 0.0; this plugin has no "
                        "attention dropout)", file, full, drop);
  return SB_OK;
}

/* The position table's geometry: fixed-res (image_size/patch)², NaFlex a
 * square num_patches. */
static int read_positions(const sb_json *root, const char *file, const char *vp, siglip2_config *c) {
  char full[128];
  if (!c->naflex) {
    if (vint(root, file, vp, "image_size", 224, c->patch, MAX_SIDE, &c->image_size)) return SB_ERR;
    c->grid = c->image_size / c->patch;
    c->num_patches = c->grid * c->grid;
    return SB_OK;
  }
  if (vint(root, file, vp, "num_patches", 256, 1, MAX_WIDTH, &c->num_patches)) return SB_ERR;
  c->grid = (int64_t)llround(sqrt((double)c->num_patches));
  if (c->grid * c->grid != c->num_patches) {
    snprintf(full, sizeof full, "%snum_patches", vp);
    return sb_error_set(SB_ERR_FORMAT, "%s: '%s': %lld is not supported (the position table must be a "
                        "square grid, e.g. 256 = 16x16)", file, full, (long long)c->num_patches);
  }
  return SB_OK;
}

static int read_sizes(const sb_json *root, const char *file, const char *vp, siglip2_config *c) {
  int64_t channels;
  if (vint(root, file, vp, "hidden_size", 768, 1, MAX_WIDTH, &c->hidden) ||
      vint(root, file, vp, "intermediate_size", 3072, 1, MAX_WIDTH, &c->intermediate) ||
      vint(root, file, vp, "num_hidden_layers", 12, 1, 4096, &c->layers) ||
      vint(root, file, vp, "num_attention_heads", 12, 1, MAX_WIDTH, &c->heads) ||
      vint(root, file, vp, "patch_size", 16, 1, 1024, &c->patch) ||
      vint(root, file, vp, "num_channels", 3, 1, MAX_WIDTH, &channels))
    return SB_ERR;
  if (channels != 3)
    return sb_error_set(SB_ERR_FORMAT, "%s: '%snum_channels': %lld is not supported (expected 3)", file, vp,
                        (long long)channels);
  if (c->hidden % c->heads)
    return sb_error_set(SB_ERR_FORMAT, "%s: '%shidden_size' %lld is not a multiple of num_attention_heads %lld",
                        file, vp, (long long)c->hidden, (long long)c->heads);
  return SB_OK;
}

int siglip2_config_read(const char *dir, siglip2_config *c) {
  char file[4096];
  snprintf(file, sizeof file, "%s/config.json", dir);
  memset(c, 0, sizeof *c);
  sb_json_doc *doc = sb_json_load(file);
  if (!doc) return SB_ERR;
  const sb_json *root = sb_json_root(doc);
  const char *vp = "";
  int rc = SB_OK;
  if (sb_json_typeof(root) != SB_JSON_OBJECT) rc = sb_error_set(SB_ERR_FORMAT, "%s: expected a JSON object", file);
  if (!rc) rc = vision_section(root, file, &c->naflex, &vp);
  if (!rc) rc = read_sizes(root, file, vp, c);
  if (!rc) rc = read_act(root, file, vp, &c->gelu_exact);
  if (!rc) rc = read_floats(root, file, vp, &c->eps);
  if (!rc) rc = read_positions(root, file, vp, c);
  char key[128];
  snprintf(key, sizeof key, "%svision_use_head", vp);
  if (!rc) rc = sb_json_get_bool(root, key, true, &c->has_head);
  sb_json_free(doc);
  return rc;
}

/* ---- preprocessor_config.json ---- */

/* image_mean / image_std: a number or a list of 3 numbers. */
static int read_triple(const sb_json *root, const char *file, const char *key, double *out) {
  const sb_json *v = sb_json_get(root, key);
  if (!v || sb_json_typeof(v) == SB_JSON_NULL) return SB_OK;
  if (sb_json_typeof(v) == SB_JSON_INT || sb_json_typeof(v) == SB_JSON_FLOAT) {
    if (sb_json_float(v, &out[0])) return SB_ERR;
    out[1] = out[2] = out[0];
    return SB_OK;
  }
  if (sb_json_get_floats(root, key, out, 3)) return sb_error_prefix("%s: '%s' (3 channels)", file, key);
  return SB_OK;
}

static int read_flags(const sb_json *r, siglip2_preproc *pp) {
  return sb_json_get_bool(r, "do_resize", true, &pp->do_resize) ||
                 sb_json_get_bool(r, "do_rescale", true, &pp->do_rescale) ||
                 sb_json_get_bool(r, "do_normalize", true, &pp->do_normalize) ||
                 sb_json_get_float(r, "rescale_factor", pp->rescale, &pp->rescale)
             ? SB_ERR
             : SB_OK;
}

static int read_resample(const sb_json *r, const char *file, siglip2_preproc *pp) {
  int64_t v;
  if (sb_json_get_int(r, "resample", pp->resample, &v)) return SB_ERR;
  if (v != SB_RESAMPLE_BILINEAR && v != SB_RESAMPLE_BICUBIC)
    return sb_error_set(SB_ERR_FORMAT, "%s: 'resample': %lld is not supported (expected 2 = bilinear or "
                        "3 = bicubic, Pillow's numbering)", file, (long long)v);
  pp->resample = (int)v;
  return SB_OK;
}

/* Fixed-res: size {height, width}; NaFlex: max_num_patches and patch_size. */
static int read_size(const sb_json *r, const char *file, const siglip2_config *c, siglip2_preproc *pp) {
  if (c->naflex) {
    if (sb_json_get_int(r, "max_num_patches", 0, &pp->max_num_patches) ||
        sb_json_get_int(r, "patch_size", 0, &pp->patch))
      return SB_ERR;
    if (pp->max_num_patches < 0)
      return sb_error_set(SB_ERR_FORMAT, "%s: 'max_num_patches': %lld is not supported", file,
                          (long long)pp->max_num_patches);
    if (pp->patch && pp->patch != c->patch)
      return sb_error_set(SB_ERR_FORMAT, "%s: 'patch_size': %lld differs from config.json's patch_size %lld",
                          file, (long long)pp->patch, (long long)c->patch);
    return SB_OK;
  }
  const sb_json *size = sb_json_get(r, "size");
  if (!size || sb_json_typeof(size) == SB_JSON_NULL) return SB_OK;
  if (sb_json_typeof(size) != SB_JSON_OBJECT || !sb_json_get(size, "height") || !sb_json_get(size, "width"))
    return sb_error_set(SB_ERR_FORMAT, "%s: 'size': expected {\"height\": H, \"width\": W}", file);
  if (sb_json_get_int(r, "size.height", 0, &pp->height) || sb_json_get_int(r, "size.width", 0, &pp->width))
    return SB_ERR;
  if (pp->height < c->patch || pp->width < c->patch || pp->height > 65536 || pp->width > 65536)
    return sb_error_set(SB_ERR_FORMAT, "%s: 'size': %lldx%lld is not supported (each side from patch_size %lld "
                        "to 65536)", file, (long long)pp->height, (long long)pp->width, (long long)c->patch);
  return SB_OK;
}

int siglip2_preproc_read(const char *dir, const siglip2_config *c, siglip2_preproc *pp) {
  *pp = (siglip2_preproc){.do_resize = true, .do_rescale = true, .do_normalize = true,
                          /* SiglipImageProcessor defaults to bicubic, Siglip2ImageProcessor to bilinear */
                          .resample = c->naflex ? SB_RESAMPLE_BILINEAR : SB_RESAMPLE_BICUBIC,
                          .rescale = 1.0 / 255.0,
                          .mean = {0.5, 0.5, 0.5}, .std = {0.5, 0.5, 0.5}};
  char file[4096];
  struct stat st;
  snprintf(file, sizeof file, "%s/preprocessor_config.json", dir);
  if (stat(file, &st) != 0) return SB_OK;
  sb_json_doc *doc = sb_json_load(file);
  if (!doc) return SB_ERR;
  const sb_json *r = sb_json_root(doc);
  int rc = sb_json_typeof(r) == SB_JSON_OBJECT ? SB_OK : sb_error_set(SB_ERR_FORMAT, "%s: expected a JSON object", file);
  if (!rc) rc = read_flags(r, pp);
  if (!rc) rc = read_resample(r, file, pp);
  if (!rc) rc = read_triple(r, file, "image_mean", pp->mean);
  if (!rc) rc = read_triple(r, file, "image_std", pp->std);
  if (!rc) rc = read_size(r, file, c, pp);
  for (int i = 0; i < 3 && !rc; i++)
    if (!(pp->std[i] != 0.0 && isfinite(pp->std[i]) && isfinite(pp->mean[i])))
      rc = sb_error_set(SB_ERR_FORMAT, "%s: 'image_std' / 'image_mean': channel %d is %g / %g", file, i,
                        pp->std[i], pp->mean[i]);
  sb_json_free(doc);
  return rc;
}
