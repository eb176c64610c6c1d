/* mvqa_features.c — the perceptual distance `datagen mvqa` bands view pairs
 * by: the cosine distance between per-image feature vectors, from an
 * encoder plugin's pooled output (its CLS or attention pooling; the mean of
 * its visual tokens when it has none), or, with no network at all, from
 * 32×32 greyscale thumbnails with their mean removed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "mvqa.h"
#include "recipe.h"
#include "spatialboost/spatialboost.h"
#include "util.h"

#define THUMB 32

struct sb_mvqa_featurizer {
  sb_recipe *recipe;
  sb_model model;
  bool built, pixels;
};

int sb_mvqa_featurizer_open(const char *encoder, const char *weights, const char *const *sets, int n_sets,
                            sb_mvqa_featurizer **out) {
  *out = NULL;
  sb_mvqa_featurizer *f = sb_calloc(1, sizeof *f);
  if (!f) return SB_ERR_NOMEM;
  if (!encoder) {
    f->pixels = true;
    *out = f;
    return SB_OK;
  }
  char **own = sb_calloc((size_t)n_sets + 2, sizeof *own);
  int rc = own ? SB_OK : SB_ERR_NOMEM;
  if (rc == SB_OK) {
    own[0] = sb_asprintf("model.encoder.plugin=%s", encoder);
    own[1] = sb_asprintf("model.encoder.weights=%s", weights);
    for (int i = 0; i < n_sets; i++) own[i + 2] = sb_asprintf("model.encoder.%s", sets[i]);
    for (int i = 0; i < n_sets + 2; i++)
      if (!own[i]) rc = SB_ERR_NOMEM;
  }
  if (rc == SB_OK && !(f->recipe = sb_recipe_from_overrides("<command line>", (const char *const *)own,
                                                             (size_t)n_sets + 2)))
    rc = sb_error_code();
  if (rc == SB_OK) rc = sb_model_build(&f->model, sb_recipe_root(f->recipe), 0, SB_MODEL_CREATE), f->built = true;
  if (rc == SB_OK) rc = sb_recipe_check_unused(f->recipe);
  if (rc == SB_OK && !f->model.encoder.self) rc = sb_error("no encoder was made from '%s'", encoder);
  for (int i = 0; own && i < n_sets + 2; i++) free(own[i]);
  free(own);
  if (rc) sb_mvqa_featurizer_close(f);
  else *out = f;
  return rc;
}

void sb_mvqa_featurizer_close(sb_mvqa_featurizer *f) {
  if (!f) return;
  if (f->built) sb_model_free(&f->model);
  sb_recipe_free(f->recipe);
  free(f);
}

/* A mean-free 32×32 greyscale thumbnail. */
static int thumbnail(const sb_image *img, float *out) {
  sb_image small;
  if (sb_image_resize(img, THUMB, THUMB, SB_RESAMPLE_BILINEAR, &small)) return sb_error_code();
  double mean = 0;
  for (int i = 0; i < THUMB * THUMB; i++) {
    const uint8_t *p = small.data + (size_t)i * (size_t)small.channels;
    out[i] = small.channels >= 3 ? 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2] : p[0];
    mean += out[i];
  }
  mean /= THUMB * THUMB;
  for (int i = 0; i < THUMB * THUMB; i++) out[i] -= (float)mean;
  sb_image_free(&small);
  return SB_OK;
}

/* [n, d] of the pooled output, or the token mean of the features. */
static int encoder_vectors(sb_mvqa_featurizer *f, const sb_image *imgs, int n, float **out, int *dim) {
  const sb_encoder_vtable *vt = f->model.encoder.vtable;
  void *self = f->model.encoder.self;
  sb_encoder_input in = {.struct_size = sizeof in};
  sb_encoder_output o = {.struct_size = sizeof o};
  int rc = vt->preprocess(self, imgs, n, &in);
  if (rc == SB_OK) rc = vt->forward(self, &in, SB_ENCODER_POOLED, &o);
  if (rc) return sb_error_prefix("%s", f->model.encoder.desc->name);
  sb_tensor *t = o.pooled;
  if (!t) t = sb_op_mean(o.features ? o.features : o.last_hidden_state, 1, false);
  if (!t) return sb_error_code();
  *dim = (int)sb_tensor_dim(t, sb_tensor_ndim(t) - 1);
  if (!(*out = sb_malloc((size_t)n * (size_t)*dim * sizeof **out))) return SB_ERR_NOMEM;
  return sb_tensor_to_host_f32(t, *out, (size_t)n * (size_t)*dim);
}

int sb_mvqa_features(sb_mvqa_featurizer *f, const sb_image *imgs, int n, float **out, int *dim) {
  *out = NULL, *dim = 0;
  if (f->pixels) {
    *dim = THUMB * THUMB;
    if (!(*out = sb_malloc((size_t)n * THUMB * THUMB * sizeof **out))) return SB_ERR_NOMEM;
    for (int i = 0; i < n; i++)
      if (thumbnail(&imgs[i], *out + (size_t)i * THUMB * THUMB)) return sb_error_code();
    return SB_OK;
  }
  sb_scope_begin();
  sb_grad_push(false);
  int rc = encoder_vectors(f, imgs, n, out, dim);
  sb_grad_pop();
  sb_scope_end();
  return rc;
}

double sb_cosine_distance(const float *a, const float *b, int d) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < d; i++) ab += (double)a[i] * b[i], aa += (double)a[i] * a[i], bb += (double)b[i] * b[i];
  if (aa <= 0 || bb <= 0) return aa <= 0 && bb <= 0 ? 0.0 : 1.0;
  return 1.0 - ab / sqrt(aa * bb);
}
