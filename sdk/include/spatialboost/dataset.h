/* spatialboost/dataset.h — the dataset kind: samples by index.
 *
 * A sample is either a conversation (turns of text with image references; the
 * core applies the chat template and tokenizes it) or pre-tokenized ids and
 * labels. Plugins fill an opaque sb_sample with the builder functions below;
 * the trainer's loader threads call get() concurrently, so get() must be
 * safe to call from several threads at once. */
#ifndef SPATIALBOOST_DATASET_H
#define SPATIALBOOST_DATASET_H

#include "image.h"
#include "plugin.h"

SB_BEGIN_DECLS

typedef struct sb_sample sb_sample;

typedef enum sb_role {
  SB_ROLE_SYSTEM = 0,
  SB_ROLE_USER = 1,
  SB_ROLE_ASSISTANT = 2,
} sb_role;

SB_API sb_sample *sb_sample_new(void);
SB_API void sb_sample_free(sb_sample *s);
SB_API int sb_sample_set_id(sb_sample *s, const char *id);
/* A turn; "<image>" in text marks where an image's visual tokens go. */
SB_API int sb_sample_add_turn(sb_sample *s, sb_role role, const char *text);
/* Images in order of their placeholders: a file, or decoded pixels (copied). */
SB_API int sb_sample_add_image_path(sb_sample *s, const char *path);
SB_API int sb_sample_add_image(sb_sample *s, const sb_image *img);
/* An image already preprocessed: float pixels [c, h, w] as the encoder
 * takes them (copied). The loader stacks them without preprocessing. */
SB_API int sb_sample_add_pixels(sb_sample *s, const float *chw, int c, int h, int w);
/* Pre-tokenized form: ids and labels of n tokens (placeholder id -200 marks an
 * image's position, labels -100 are not trained). Copied. */
SB_API int sb_sample_set_tokens(sb_sample *s, const int64_t *ids, const int64_t *labels, int64_t n);
/* Free-form JSON text kept with the sample (e.g. ground truth). */
SB_API int sb_sample_set_meta(sb_sample *s, const char *json);

SB_API const char *sb_sample_id(const sb_sample *s);
SB_API int sb_sample_n_turns(const sb_sample *s);
SB_API int sb_sample_turn(const sb_sample *s, int i, sb_role *role, const char **text);
SB_API int sb_sample_n_images(const sb_sample *s);
/* Image i: its path (NULL if given as pixels) and pixels (NULL if a path). */
SB_API int sb_sample_image(const sb_sample *s, int i, const char **path, const sb_image **img);
/* Image i's preprocessed float pixels, when it was given that way: *chw is
 * NULL otherwise. */
SB_API int sb_sample_pixels(const sb_sample *s, int i, const float **chw, int *c, int *h, int *w);
SB_API int64_t sb_sample_n_tokens(const sb_sample *s);
SB_API const int64_t *sb_sample_ids(const sb_sample *s);
SB_API const int64_t *sb_sample_labels(const sb_sample *s);
SB_API const char *sb_sample_meta(const sb_sample *s);

typedef struct sb_dataset_vtable {
  size_t struct_size;
  void *(*create)(const sb_plugin_ctx *ctx);
  void (*destroy)(void *self);
  int64_t (*size)(void *self);
  /* Fills the empty sample s with sample `index` (0 <= index < size). */
  int (*get)(void *self, int64_t index, sb_sample *s);
} sb_dataset_vtable;

SB_END_DECLS
#endif
