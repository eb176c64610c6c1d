/* probe_features.h — the frozen encoders of the probes: parsing
 * `--encoder LABEL=PLUGIN:WEIGHTS[:DUAL]`, building each encoder from
 * recipe overrides as `spatialboost encode` does, and running it once over
 * every image of a dataset to cache its last-layer patch tokens, its pooled
 * vector and the per-patch / per-image targets (PROBES.md, "Features").
 * Internal to core/probe. */
#ifndef SB_CORE_PROBE_FEATURES_H
#define SB_CORE_PROBE_FEATURES_H

#include "probe_data.h"
#include "spatialboost/encoder.h"

typedef struct sb_probe_encoder_spec {
  char *label, *plugin, *weights, *dual; /* dual NULL when not given */
  int n_sets;
  char **sets; /* encoder options "key=value" (model.encoder.<key>) */
} sb_probe_encoder_spec;

/* "LABEL=PLUGIN:WEIGHTS[:DUAL]". The label may not hold '.', '=' or ':'. */
int sb_probe_encoder_spec_parse(const char *arg, sb_probe_encoder_spec *out);
int sb_probe_encoder_spec_add_set(sb_probe_encoder_spec *s, const char *key_value);
void sb_probe_encoder_spec_free(sb_probe_encoder_spec *s);

typedef struct sb_probe_features {
  sb_encoder_info info;
  char plugin[64];      /* the plugin's name */
  int64_t dim;          /* hidden size D */
  int n_images;         /* = the dataset's samples, in its order */
  int64_t n_patches;    /* patch rows over all images */
  float *patch;         /* [n_patches, D] last_hidden_state without prefix tokens (NULL without depth/seg) */
  int32_t *patch_image; /* [n_patches] the sample each row comes from */
  float *depth;         /* [n_patches] depth target in metres, NAN = none (NULL without depth) */
  int32_t *label;       /* [n_patches] class id, -1 = none (NULL without seg) */
  float *pooled;        /* [n_images, D] pooled output, or the mean patch token (pooled_is_mean) */
  bool pooled_is_mean;
  int32_t *cls;         /* [n_images] class index, -1 = none */
  double seconds;       /* wall time of the pass */
} sb_probe_features;

/* Builds the encoder of `spec`, runs it frozen (grad mode off) over every
 * sample in batches of up to `batch` images of one size, and fills `out`.
 * Errors: "encoder 'LABEL': <why>", naming the file where one is at fault. */
int sb_probe_features_compute(const sb_probe_encoder_spec *spec, const sb_probe_dataset *ds, unsigned tasks, int batch,
                              sb_probe_features *out);
void sb_probe_features_free(sb_probe_features *f);

#endif
