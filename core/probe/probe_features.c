/* probe_features.c — the probes' feature pass (probe_features.h): encoder
 * specs from the command line, the encoder built from recipe overrides
 * (the same keys as `spatialboost encode`, dual-channel weights included),
 * and one frozen forward over the dataset in batches, caching patch tokens,
 * pooled vectors and per-patch targets in memory. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "probe_features.h"
#include "recipe.h"
#include "spatialboost/spatialboost.h"
#include "util.h"

/* ---- specs ---- */

int sb_probe_encoder_spec_parse(const char *arg, sb_probe_encoder_spec *out) {
  memset(out, 0, sizeof *out);
  const char *eq = strchr(arg, '='), *c1 = eq ? strchr(eq + 1, ':') : NULL, *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  if (!eq || !c1 || eq == arg || c1 == eq + 1 || c1[1] == 0 || c1[1] == ':' || (c2 && !c2[1]))
    return sb_error_set(SB_ERR, "--encoder '%s': expected LABEL=PLUGIN:WEIGHTS[:DUAL]", arg);
  if (strcspn(arg, ".:") < (size_t)(eq - arg))
    return sb_error_set(SB_ERR, "--encoder '%s': the label may not contain '.' or ':'", arg);
  out->label = sb_strndup(arg, (size_t)(eq - arg));
  out->plugin = sb_strndup(eq + 1, (size_t)(c1 - eq - 1));
  out->weights = c2 ? sb_strndup(c1 + 1, (size_t)(c2 - c1 - 1)) : sb_strdup(c1 + 1);
  if (c2) out->dual = sb_strdup(c2 + 1);
  if (!out->label || !out->plugin || !out->weights || (c2 && !out->dual)) return sb_probe_encoder_spec_free(out), SB_ERR_NOMEM;
  return SB_OK;
}

int sb_probe_encoder_spec_add_set(sb_probe_encoder_spec *s, const char *key_value) {
  char **n = sb_realloc(s->sets, (size_t)(s->n_sets + 1) * sizeof *n);
  if (!n) return SB_ERR_NOMEM;
  s->sets = n;
  if (!(n[s->n_sets] = sb_strdup(key_value))) return SB_ERR_NOMEM;
  s->n_sets++;
  return SB_OK;
}

void sb_probe_encoder_spec_free(sb_probe_encoder_spec *s) {
  if (!s) return;
  free(s->label), free(s->plugin), free(s->weights), free(s->dual);
  for (int i = 0; i < s->n_sets; i++) free(s->sets[i]);
  free(s->sets);
  memset(s, 0, sizeof *s);
}

/* ---- building the encoder ---- */

/* The recipe of the encoder: model.encoder.{plugin, weights, dual_attention.*,
 * <the spec's --set keys>}. */
static sb_recipe *encoder_recipe(const sb_probe_encoder_spec *s) {
  size_t n_max = (size_t)s->n_sets + 4, n = 0;
  char **ov = sb_calloc(n_max, sizeof *ov);
  if (!ov) return NULL;
  ov[n++] = sb_asprintf("model.encoder.plugin=%s", s->plugin);
  ov[n++] = sb_asprintf("model.encoder.weights=%s", s->weights);
  if (s->dual || sb_weights_hold_dual(s->weights)) ov[n++] = sb_strdup("model.encoder.dual_attention.enabled=true");
  if (s->dual) ov[n++] = sb_asprintf("model.encoder.dual_attention.weights=%s", s->dual);
  for (int i = 0; i < s->n_sets; i++) ov[n++] = sb_asprintf("model.encoder.%s", s->sets[i]);
  bool ok = true;
  for (size_t i = 0; i < n; i++) ok = ok && ov[i];
  sb_recipe *r = ok ? sb_recipe_from_overrides("<command line>", (const char *const *)ov, n) : NULL;
  for (size_t i = 0; i < n; i++) free(ov[i]);
  free(ov);
  return r;
}

/* ---- growing the cache ---- */

/* Room for `more` patch rows in f. */
static int reserve_patches(sb_probe_features *f, unsigned tasks, int64_t more, int64_t *cap) {
  if (f->n_patches + more <= *cap) return SB_OK;
  int64_t c = SB_MAX(*cap * 2, f->n_patches + more);
  float *p = sb_realloc(f->patch, (size_t)(c * f->dim) * sizeof *p);
  if (p) f->patch = p;
  int32_t *pi = p ? sb_realloc(f->patch_image, (size_t)c * sizeof *pi) : NULL;
  if (pi) f->patch_image = pi;
  if (!p || !pi) return SB_ERR_NOMEM;
  if (tasks & SB_PROBE_DEPTH) {
    float *d = sb_realloc(f->depth, (size_t)c * sizeof *d);
    if (!d) return SB_ERR_NOMEM;
    f->depth = d;
  }
  if (tasks & SB_PROBE_SEG) {
    int32_t *l = sb_realloc(f->label, (size_t)c * sizeof *l);
    if (!l) return SB_ERR_NOMEM;
    f->label = l;
  }
  *cap = c;
  return SB_OK;
}

/* ---- one batch ---- */

typedef struct batch_ctx {
  const sb_component *enc;
  const sb_probe_dataset *ds;
  unsigned tasks;
  sb_probe_features *f;
  int64_t cap;
} batch_ctx;

/* The patch grid (rows, cols) of image b of the preprocessed batch. */
static int grid_of(const batch_ctx *c, const sb_encoder_input *in, const int64_t *shapes, int b, int *gh, int *gw) {
  int64_t p = c->f->info.patch_size;
  if (sb_tensor_ndim(in->pixel_values) == 4) {
    *gh = (int)(sb_tensor_dim(in->pixel_values, 2) / p), *gw = (int)(sb_tensor_dim(in->pixel_values, 3) / p);
  } else if (shapes) { /* NaFlex: spatial_shapes [B, 2] in patches */
    *gh = (int)shapes[2 * b], *gw = (int)shapes[2 * b + 1];
  } else {
    return sb_error("the encoder's input is neither [B, 3, H, W] pixels nor patches with spatial_shapes");
  }
  return *gh > 0 && *gw > 0 ? SB_OK : sb_error("the encoder's input has an empty patch grid");
}

/* Image b of the batch: its patch rows [n, D] from hidden [T, D], their
 * targets, its pooled vector (pooled [D] or the mean of the patch rows). */
static int add_image(batch_ctx *c, int sample, const sb_probe_pixels *px, const float *hidden, int64_t tokens,
                     const float *pooled, int gh, int gw) {
  sb_probe_features *f = c->f;
  int64_t n = (int64_t)gh * gw, pre = f->info.num_prefix_tokens, d = f->dim;
  if (pre + n > tokens)
    return sb_error("%lld tokens for %lld prefix tokens and a %dx%d patch grid", (long long)tokens, (long long)pre, gw, gh);
  float *prow = f->pooled + (int64_t)sample * d;
  f->pooled_is_mean |= !pooled;
  if (pooled) memcpy(prow, pooled, (size_t)d * sizeof *prow);
  else
    for (int64_t j = 0; j < d; j++) {
      double s = 0;
      for (int64_t k = 0; k < n; k++) s += hidden[(pre + k) * d + j];
      prow[j] = (float)(s / (double)n);
    }
  f->cls[sample] = px->cls;
  if (!(c->tasks & (SB_PROBE_DEPTH | SB_PROBE_SEG))) return SB_OK;
  int rc = reserve_patches(f, c->tasks, n, &c->cap);
  if (rc) return rc;
  memcpy(f->patch + f->n_patches * d, hidden + pre * d, (size_t)(n * d) * sizeof *f->patch);
  for (int64_t k = 0; k < n; k++) f->patch_image[f->n_patches + k] = sample;
  if (c->tasks & SB_PROBE_DEPTH) rc = sb_probe_patch_depth(px->depth, px->width, px->height, gh, gw, f->depth + f->n_patches);
  if (rc == SB_OK && (c->tasks & SB_PROBE_SEG))
    rc = sb_probe_patch_labels(px->labels, px->width, px->height, gh, gw, f->label + f->n_patches);
  if (rc == SB_OK) f->n_patches += n;
  return rc;
}

/* Runs the encoder on px [m] (samples first..first+m-1) and caches them. */
static int run_batch(batch_ctx *c, int first, const sb_probe_pixels *px, int m) {
  const sb_encoder_vtable *vt = c->enc->vtable;
  sb_image *imgs = sb_calloc((size_t)m, sizeof *imgs);
  if (!imgs) return SB_ERR_NOMEM;
  for (int b = 0; b < m; b++) imgs[b] = px[b].image;
  sb_scope_begin();
  sb_encoder_input in = {.struct_size = sizeof in};
  sb_encoder_output o = {.struct_size = sizeof o};
  int rc = vt->preprocess(c->enc->self, imgs, m, &in);
  if (rc == SB_OK) rc = vt->forward(c->enc->self, &in, SB_ENCODER_POOLED, &o);
  if (rc == SB_OK && (!o.last_hidden_state || sb_tensor_ndim(o.last_hidden_state) != 3 ||
                      sb_tensor_dim(o.last_hidden_state, 0) != m || sb_tensor_dim(o.last_hidden_state, 2) != c->f->dim))
    rc = sb_error("the encoder gave no last_hidden_state [%d, T, %lld]", m, (long long)c->f->dim);
  int64_t t = rc == SB_OK ? sb_tensor_dim(o.last_hidden_state, 1) : 0, d = c->f->dim;
  float *h = rc == SB_OK ? sb_malloc((size_t)(m * t * d) * sizeof *h) : NULL, *pool = NULL;
  int64_t *shapes = NULL;
  if (rc == SB_OK && !h) rc = SB_ERR_NOMEM;
  if (rc == SB_OK) rc = sb_tensor_to_host_f32(o.last_hidden_state, h, (size_t)(m * t * d));
  if (rc == SB_OK && o.pooled && !(pool = sb_malloc((size_t)(m * d) * sizeof *pool))) rc = SB_ERR_NOMEM;
  if (rc == SB_OK && pool) rc = sb_tensor_to_host_f32(o.pooled, pool, (size_t)(m * d));
  if (rc == SB_OK && in.spatial_shapes && !(shapes = sb_malloc((size_t)(2 * m) * sizeof *shapes))) rc = SB_ERR_NOMEM;
  if (rc == SB_OK && shapes && sb_tensor_dtype(in.spatial_shapes) != SB_DTYPE_I64) rc = sb_error("spatial_shapes is not I64");
  if (rc == SB_OK && shapes) rc = sb_tensor_to_host(in.spatial_shapes, shapes, (size_t)(2 * m) * sizeof *shapes);
  for (int b = 0; rc == SB_OK && b < m; b++) {
    int gh = 0, gw = 0;
    rc = grid_of(c, &in, shapes, b, &gh, &gw);
    if (rc == SB_OK) rc = add_image(c, first + b, &px[b], h + b * t * d, t, pool ? pool + b * d : NULL, gh, gw);
    if (rc) sb_error_prefix("%s", c->ds->samples[first + b].image);
  }
  sb_scope_end();
  free(h), free(pool), free(shapes), free(imgs);
  return rc;
}

/* Loads up to `batch` samples from `first` on that share the first one's
 * size into px; returns how many (0 on error). */
static int load_batch(const sb_probe_dataset *ds, unsigned tasks, int first, int batch, sb_probe_pixels *px, int *rc) {
  int m = 0;
  while (m < batch && first + m < ds->n_samples) {
    if ((*rc = sb_probe_pixels_load(ds, first + m, tasks, &px[m]))) break;
    if (m > 0 && (px[m].width != px[0].width || px[m].height != px[0].height)) {
      sb_probe_pixels_free(&px[m]); /* starts the next batch (loaded again then) */
      break;
    }
    m++;
  }
  if (*rc)
    for (int b = 0; b < m; b++) sb_probe_pixels_free(&px[b]);
  return *rc ? 0 : m;
}

/* Every sample through the built encoder. */
static int run_all(batch_ctx *c, int batch) {
  sb_probe_pixels *px = sb_calloc((size_t)batch, sizeof *px);
  if (!px) return SB_ERR_NOMEM;
  int rc = SB_OK;
  for (int first = 0; rc == SB_OK && first < c->ds->n_samples;) {
    int m = load_batch(c->ds, c->tasks, first, batch, px, &rc);
    if (rc == SB_OK) rc = run_batch(c, first, px, m);
    for (int b = 0; b < m; b++) sb_probe_pixels_free(&px[b]);
    first += m;
  }
  free(px);
  return rc;
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Describes the built encoder into f and allocates the per-image arrays. */
static int describe(const sb_component *enc, int n_images, sb_probe_features *f) {
  f->info.struct_size = sizeof f->info;
  const sb_encoder_vtable *vt = enc->vtable;
  int rc = vt->describe(enc->self, &f->info);
  if (rc == SB_OK && (f->info.hidden_size <= 0 || f->info.patch_size <= 0 || f->info.num_prefix_tokens < 0))
    rc = sb_error("the encoder describes itself with hidden size %lld, patch %lld",
                  (long long)f->info.hidden_size, (long long)f->info.patch_size);
  if (rc) return rc;
  snprintf(f->plugin, sizeof f->plugin, "%s", enc->desc->name);
  f->dim = f->info.hidden_size, f->n_images = n_images;
  f->pooled = sb_calloc((size_t)n_images * (size_t)f->dim + 1, sizeof *f->pooled);
  f->cls = sb_calloc((size_t)n_images + 1, sizeof *f->cls);
  return f->pooled && f->cls ? SB_OK : SB_ERR_NOMEM;
}

int sb_probe_features_compute(const sb_probe_encoder_spec *spec, const sb_probe_dataset *ds, unsigned tasks, int batch,
                              sb_probe_features *out) {
  memset(out, 0, sizeof *out);
  double t0 = now_seconds();
  sb_recipe *r = encoder_recipe(spec);
  sb_model m;
  memset(&m, 0, sizeof m);
  int rc = r ? sb_model_build(&m, sb_recipe_root(r), 0, SB_MODEL_CREATE) : SB_ERR;
  if (rc == SB_OK) rc = sb_recipe_check_unused(r);
  if (rc == SB_OK && !m.encoder.self) rc = sb_error("plugin '%s' gave no encoder", spec->plugin);
  if (rc == SB_OK) rc = describe(&m.encoder, ds->n_samples, out);
  sb_grad_push(false);
  batch_ctx c = {&m.encoder, ds, tasks, out, 0};
  if (rc == SB_OK) rc = run_all(&c, batch > 0 ? batch : 16);
  sb_grad_pop();
  sb_model_free(&m);
  sb_recipe_free(r);
  out->seconds = now_seconds() - t0;
  if (rc) {
    sb_error_prefix("encoder '%s'", spec->label);
    sb_probe_features_free(out);
  }
  return rc;
}

void sb_probe_features_free(sb_probe_features *f) {
  if (!f) return;
  free(f->patch), free(f->patch_image), free(f->depth), free(f->label), free(f->pooled), free(f->cls);
  memset(f, 0, sizeof *f);
}
