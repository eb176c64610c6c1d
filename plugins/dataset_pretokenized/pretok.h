/* pretok.h — internal to dataset_pretokenized: one opened, validated shard.
 * Everything is checked and counted at create; afterwards a shard is only
 * read (the safetensors mapping and the arrays below), so get() may run on
 * any number of loader threads. */
#ifndef DATASET_PRETOKENIZED_H
#define DATASET_PRETOKENIZED_H

#include <stdio.h>

#include <spatialboost/spatialboost.h>

/* The placeholder id samples carry (dataset.h). */
#define PT_IMAGE_ID (-200)

typedef struct pt_shard {
  char *path;
  sb_safetensors *f;
  const sb_st_tensor *ids, *labels, *mask; /* mask NULL: every position is real */
  int64_t rows, cols;
  int64_t image_token_id;  /* this shard's placeholder id */
  int64_t *first_image;    /* [rows + 1]: images before each row (real positions only) */
  char **image_paths;      /* resolved, one per placeholder; NULL unless given */
  bool pixels;             /* images are the rows of `pixel_values` */
  int64_t base;            /* global index of row 0 */
} pt_shard;

/* Opens and checks one shard; relative image paths resolve against
 * image_root, or the shard's folder when it is "". */
int pt_shard_open(pt_shard *s, const char *path, const char *image_root, int64_t default_token_id);
void pt_shard_close(pt_shard *s);

/* Row r's real tokens: ids (placeholders turned into PT_IMAGE_ID) and
 * labels, written to arrays of s->cols entries; returns how many. */
int64_t pt_shard_row(const pt_shard *s, int64_t r, int64_t *ids, int64_t *labels);

char *pt_strdup(const char *s);

#endif
