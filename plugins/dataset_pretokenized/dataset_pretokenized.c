/* dataset_pretokenized.c — the dataset_pretokenized plugin: samples that
 * are already token ids and labels, from one .safetensors file or a folder
 * of *.safetensors shards (read in file-name order). This file owns the
 * options, finding the shards, the global sample index and get(); a shard's
 * layout and checks are in pretok_shard.c. Padding (attention_mask 0) is
 * dropped from each sample and image placeholders become -200. Images given
 * as paths go on the sample as paths; images given as pixel_values go on it
 * as preprocessed float pixels (sb_sample_add_pixels). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pretok.h"

typedef struct dataset {
  pt_shard *shards;
  size_t n_shards;
  int64_t total;
} dataset;

static const sb_option k_options[] = {
    {"path", SB_OPTION_PATH, NULL, "a .safetensors file, or a folder of *.safetensors shards (file-name order)",
     NULL},
    {"image_root", SB_OPTION_PATH, "\"\"",
     "folder relative metadata image_paths resolve against; empty: the shard's folder", NULL},
    {"image_token_id", SB_OPTION_INT, "-200",
     "the image placeholder id in input_ids when a shard's metadata has no image_token_id", NULL},
};

static void dataset_destroy(void *self) {
  dataset *d = self;
  if (!d) return;
  for (size_t i = 0; i < d->n_shards; i++) pt_shard_close(&d->shards[i]);
  free(d->shards);
  free(d);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool is_shard_name(const char *name) {
  size_t n = strlen(name), m = strlen(".safetensors");
  return name[0] != '.' && n > m && strcmp(name + n - m, ".safetensors") == 0;
}

static void free_names(char **names, size_t n) {
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
}

/* The folder's *.safetensors files, sorted by name, as full paths. */
static int list_shards(const char *dir, char ***out, size_t *n_out) {
  DIR *dp = opendir(dir);
  if (!dp) return sb_error_set(SB_ERR_IO, "%s: cannot open the folder", dir);
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = SB_OK;
  for (struct dirent *e; rc == SB_OK && (e = readdir(dp));) {
    if (!is_shard_name(e->d_name)) continue;
    if (n == cap) {
      char **g = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof *g);
      if (!g) rc = sb_error_set(SB_ERR_NOMEM, "dataset_pretokenized: out of memory");
      else names = g;
    }
    size_t len = strlen(dir) + strlen(e->d_name) + 2;
    if (rc == SB_OK && (names[n] = malloc(len))) snprintf(names[n++], len, "%s/%s", dir, e->d_name);
    else if (rc == SB_OK) rc = sb_error_set(SB_ERR_NOMEM, "dataset_pretokenized: out of memory");
  }
  closedir(dp);
  if (rc == SB_OK && !n) rc = sb_error_set(SB_ERR_NOT_FOUND, "%s: no *.safetensors files in the folder", dir);
  if (rc) {
    free_names(names, n);
    return rc;
  }
  qsort(names, n, sizeof *names, cmp_names);
  *out = names, *n_out = n;
  return SB_OK;
}

static int open_shards(dataset *d, char **paths, size_t n, const char *image_root, int64_t token_id) {
  if (!(d->shards = calloc(n, sizeof *d->shards)))
    return sb_error_set(SB_ERR_NOMEM, "dataset_pretokenized: out of memory");
  for (size_t i = 0; i < n; i++) {
    pt_shard *s = &d->shards[d->n_shards++];
    if (pt_shard_open(s, paths[i], image_root, token_id)) return sb_error_code();
    s->base = d->total;
    d->total += s->rows;
  }
  return SB_OK;
}

static void *dataset_create(const sb_plugin_ctx *ctx) {
  const sb_config *o = ctx->options;
  const char *path, *root;
  int64_t token_id;
  if (sb_config_get_path(o, "path", &path) || sb_config_get_path(o, "image_root", &root) ||
      sb_config_get_int(o, "image_token_id", &token_id))
    return NULL;
  struct stat st;
  if (stat(path, &st) != 0) {
    sb_error_set(SB_ERR_IO, "%s: no such file or folder", path);
    return NULL;
  }
  char **paths = NULL, *one = (char *)path;
  size_t n = 1;
  if (S_ISDIR(st.st_mode) && list_shards(path, &paths, &n)) return NULL;
  dataset *d = calloc(1, sizeof *d);
  int rc = d ? open_shards(d, paths ? paths : &one, n, root, token_id)
             : sb_error_set(SB_ERR_NOMEM, "dataset_pretokenized: out of memory");
  if (rc == SB_OK && d->total == 0) rc = sb_error_set(SB_ERR_FORMAT, "%s: no samples", path);
  if (paths) free_names(paths, n);
  if (rc) {
    dataset_destroy(d);
    return NULL;
  }
  return d;
}

static int64_t dataset_size(void *self) { return ((dataset *)self)->total; }

/* The shard holding global index i (binary search on the bases). */
static const pt_shard *shard_of(const dataset *d, int64_t i) {
  size_t lo = 0, hi = d->n_shards;
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (d->shards[mid].base <= i) lo = mid;
    else hi = mid;
  }
  return &d->shards[lo];
}

/* Row k of the shard's pixel_values [n, C, H, W] (F32, BF16 or F16, maybe
 * unaligned in the mapping) onto the sample as float pixels. */
static int add_pixels(sb_sample *smp, const pt_shard *s, int64_t k) {
  const sb_st_tensor *px = sb_safetensors_find(s->f, "pixel_values");
  int64_t c = px->shape[1], h = px->shape[2], w = px->shape[3], n = c * h * w;
  size_t es = sb_dtype_size(px->dtype);
  const unsigned char *row = (const unsigned char *)px->data + (size_t)(k * n) * es;
  float *chw = malloc(sizeof(float) * (size_t)n);
  if (!chw) return sb_error_set(SB_ERR_NOMEM, "dataset_pretokenized: out of memory");
  for (int64_t i = 0; i < n; i++) {
    if (px->dtype == SB_DTYPE_F32) {
      memcpy(&chw[i], row + 4 * i, 4);
    } else {
      uint16_t u;
      memcpy(&u, row + 2 * i, 2);
      chw[i] = px->dtype == SB_DTYPE_BF16 ? sb_bf16_to_f32(u) : sb_f16_to_f32(u);
    }
  }
  int rc = sb_sample_add_pixels(smp, chw, (int)c, (int)h, (int)w);
  free(chw);
  return rc;
}

static int fill(sb_sample *smp, const pt_shard *s, int64_t r, int64_t *ids, int64_t *labels) {
  char id[64];
  const char *base = strrchr(s->path, '/');
  snprintf(id, sizeof id, "%.40s:%lld", base ? base + 1 : s->path, (long long)r);
  int64_t n = pt_shard_row(s, r, ids, labels), first = s->first_image[r], count = s->first_image[r + 1] - first;
  int rc = sb_sample_set_id(smp, id);
  if (rc == SB_OK) rc = sb_sample_set_tokens(smp, ids, labels, n);
  for (int64_t k = 0; k < count && rc == SB_OK && s->image_paths; k++)
    rc = sb_sample_add_image_path(smp, s->image_paths[first + k]);
  for (int64_t k = 0; k < count && rc == SB_OK && s->pixels; k++) rc = add_pixels(smp, s, first + k);
  return rc;
}

static int dataset_get(void *self, int64_t index, sb_sample *smp) {
  dataset *d = self;
  if (index < 0 || index >= d->total)
    return sb_error("dataset_pretokenized: sample %lld out of range (%lld samples)", (long long)index,
                    (long long)d->total);
  const pt_shard *s = shard_of(d, index);
  int64_t *buf = malloc(2 * sizeof *buf * (size_t)s->cols);
  if (!buf) return sb_error_set(SB_ERR_NOMEM, "dataset_pretokenized: out of memory");
  int rc = fill(smp, s, index - s->base, buf, buf + s->cols);
  free(buf);
  return rc;
}

static const sb_dataset_vtable k_vtable = {
    .struct_size = sizeof(sb_dataset_vtable),
    .create = dataset_create,
    .destroy = dataset_destroy,
    .size = dataset_size,
    .get = dataset_get,
};

static const sb_plugin_descriptor k_descriptor = {
    SB_PLUGIN_HEADER,
    .name = "dataset_pretokenized",
    .version = "1.0.0",
    .kind = SB_PLUGIN_DATASET,
    .description = "pre-tokenized samples (input_ids, labels, attention_mask) from safetensors shards",
    .options = k_options,
    .n_options = SB_OPTIONS_COUNT(k_options),
    .vtable = &k_vtable,
};

SB_PLUGIN_DEFINE(dataset_pretokenized, k_descriptor)
