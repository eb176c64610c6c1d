/* mvqa.h — the multi-view VQA generator of `datagen mvqa` (stage 2): view
 * pairs in a band of perceptual distance, with general questions (objects
 * in both views, counts, colours, presence) that need no spatial reasoning. */
#ifndef SB_CORE_MVQA_H
#define SB_CORE_MVQA_H

#include "spatialboost/image.h"

/* Per-image feature vectors for the perceptual distance. */
typedef struct sb_mvqa_featurizer sb_mvqa_featurizer;

/* An encoder plugin with its weights and further options ("key=value",
 * e.g. "select_layer=-2"); encoder NULL: 32×32 greyscale thumbnails. */
int sb_mvqa_featurizer_open(const char *encoder, const char *weights, const char *const *sets, int n_sets,
                            sb_mvqa_featurizer **out);
void sb_mvqa_featurizer_close(sb_mvqa_featurizer *f);
/* [n, *dim] floats (malloc'd, also on failure: free it). */
int sb_mvqa_features(sb_mvqa_featurizer *f, const sb_image *imgs, int n, float **out, int *dim);
/* 1 − cos(a, b): 0 for the same direction, up to 2. */
double sb_cosine_distance(const float *a, const float *b, int d);

#endif
