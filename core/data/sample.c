/* sample.c — the sample a dataset plugin fills (sdk dataset.h): turns of
 * text with image references, or pre-tokenized ids and labels. */
#include <stdlib.h>
#include <string.h>

#include "spatialboost/dataset.h"
#include "util.h"

typedef struct sample_turn {
  sb_role role;
  char *text;
} sample_turn;

typedef struct sample_image {
  char *path;
  sb_image img; /* owned copy when given as 8-bit pixels */
  bool has_img;
  float *chw;   /* owned copy when given preprocessed */
  int c, h, w;
} sample_image;

struct sb_sample {
  char *id;
  sample_turn *turns;
  int n_turns, cap_turns;
  sample_image *images;
  int n_images, cap_images;
  int64_t *ids, *labels, n_tokens;
  char *meta;
};

sb_sample *sb_sample_new(void) { return sb_calloc(1, sizeof(sb_sample)); }

void sb_sample_free(sb_sample *s) {
  if (!s) return;
  for (int i = 0; i < s->n_turns; i++) free(s->turns[i].text);
  for (int i = 0; i < s->n_images; i++) {
    free(s->images[i].path);
    free(s->images[i].img.data);
    free(s->images[i].chw);
  }
  free(s->turns), free(s->images), free(s->ids), free(s->labels), free(s->meta), free(s->id);
  free(s);
}

static int set_str(char **dst, const char *src) {
  char *c = sb_strdup(src);
  if (!c) return SB_ERR_NOMEM;
  free(*dst);
  *dst = c;
  return SB_OK;
}

int sb_sample_set_id(sb_sample *s, const char *id) { return set_str(&s->id, id); }
int sb_sample_set_meta(sb_sample *s, const char *json) { return set_str(&s->meta, json); }

int sb_sample_add_turn(sb_sample *s, sb_role role, const char *text) {
  if (role < SB_ROLE_SYSTEM || role > SB_ROLE_ASSISTANT) return sb_error("sample: unknown role %d", (int)role);
  if (s->n_turns == s->cap_turns) {
    int cap = s->cap_turns ? s->cap_turns * 2 : 8;
    sample_turn *t = sb_realloc(s->turns, sizeof *t * (size_t)cap);
    if (!t) return SB_ERR_NOMEM;
    s->turns = t, s->cap_turns = cap;
  }
  char *c = sb_strdup(text);
  if (!c) return SB_ERR_NOMEM;
  s->turns[s->n_turns++] = (sample_turn){role, c};
  return SB_OK;
}

static sample_image *push_image(sb_sample *s) {
  if (s->n_images == s->cap_images) {
    int cap = s->cap_images ? s->cap_images * 2 : 4;
    sample_image *t = sb_realloc(s->images, sizeof *t * (size_t)cap);
    if (!t) return NULL;
    s->images = t, s->cap_images = cap;
  }
  sample_image *im = &s->images[s->n_images];
  memset(im, 0, sizeof *im);
  return im;
}

int sb_sample_add_image_path(sb_sample *s, const char *path) {
  sample_image *im = push_image(s);
  if (!im || !(im->path = sb_strdup(path))) return SB_ERR_NOMEM;
  s->n_images++;
  return SB_OK;
}

int sb_sample_add_image(sb_sample *s, const sb_image *img) {
  if (img->width <= 0 || img->height <= 0 || img->channels < 1 || img->channels > 4 || !img->data)
    return sb_error("sample: image of %dx%d with %d channels is not valid", img->width, img->height,
                    img->channels);
  sample_image *im = push_image(s);
  if (!im) return SB_ERR_NOMEM;
  size_t n = (size_t)img->width * (size_t)img->height * (size_t)img->channels;
  im->img = *img;
  if (!(im->img.data = sb_malloc(n))) return SB_ERR_NOMEM;
  memcpy(im->img.data, img->data, n);
  im->has_img = true;
  s->n_images++;
  return SB_OK;
}

int sb_sample_add_pixels(sb_sample *s, const float *chw, int c, int h, int w) {
  if (!chw || c <= 0 || h <= 0 || w <= 0)
    return sb_error("sample '%s': pixels of %dx%dx%d are not valid", sb_sample_id(s), c, h, w);
  sample_image *im = push_image(s);
  if (!im) return SB_ERR_NOMEM;
  size_t n = (size_t)c * (size_t)h * (size_t)w;
  if (!(im->chw = sb_malloc(n * sizeof(float)))) return SB_ERR_NOMEM;
  memcpy(im->chw, chw, n * sizeof(float));
  im->c = c, im->h = h, im->w = w;
  s->n_images++;
  return SB_OK;
}

int sb_sample_pixels(const sb_sample *s, int i, const float **chw, int *c, int *h, int *w) {
  if (i < 0 || i >= s->n_images) return sb_error("sample '%s': no image %d", sb_sample_id(s), i);
  const sample_image *im = &s->images[i];
  *chw = im->chw, *c = im->c, *h = im->h, *w = im->w;
  return SB_OK;
}

int sb_sample_set_tokens(sb_sample *s, const int64_t *ids, const int64_t *labels, int64_t n) {
  if (n < 0) return sb_error("sample: negative token count");
  int64_t *a = sb_malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
  int64_t *b = sb_malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
  if (!a || !b) {
    free(a), free(b);
    return SB_ERR_NOMEM;
  }
  memcpy(a, ids, sizeof(int64_t) * (size_t)n);
  memcpy(b, labels, sizeof(int64_t) * (size_t)n);
  free(s->ids), free(s->labels);
  s->ids = a, s->labels = b, s->n_tokens = n;
  return SB_OK;
}

const char *sb_sample_id(const sb_sample *s) { return s->id ? s->id : ""; }
int sb_sample_n_turns(const sb_sample *s) { return s->n_turns; }

int sb_sample_turn(const sb_sample *s, int i, sb_role *role, const char **text) {
  if (i < 0 || i >= s->n_turns) return sb_error("sample '%s': no turn %d", sb_sample_id(s), i);
  *role = s->turns[i].role, *text = s->turns[i].text;
  return SB_OK;
}

int sb_sample_n_images(const sb_sample *s) { return s->n_images; }

int sb_sample_image(const sb_sample *s, int i, const char **path, const sb_image **img) {
  if (i < 0 || i >= s->n_images) return sb_error("sample '%s': no image %d", sb_sample_id(s), i);
  *path = s->images[i].path;
  *img = s->images[i].has_img ? &s->images[i].img : NULL;
  return SB_OK;
}

int64_t sb_sample_n_tokens(const sb_sample *s) { return s->n_tokens; }
const int64_t *sb_sample_ids(const sb_sample *s) { return s->ids; }
const int64_t *sb_sample_labels(const sb_sample *s) { return s->labels; }
const char *sb_sample_meta(const sb_sample *s) { return s->meta; }
