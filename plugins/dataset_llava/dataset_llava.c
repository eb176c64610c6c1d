/* dataset_llava.c — the dataset_llava plugin: LLaVA-style conversation data
 * (LLaVA-Instruct-150K, LLaVA-665K, LCS-558K, LLaVA-NeXT multi-image) from a
 * JSON array or a JSONL file. This file owns the options, the policy for
 * samples whose images are missing, the limit, and the vtable; reading and
 * LLaVA's record rules are in llava_read.c and llava_record.c. All records
 * are read at create into read-only memory, so get() is thread-safe. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "llava.h"

typedef struct dataset {
  llava_record *recs;
  size_t n, cap;
} dataset;

static const sb_option k_options[] = {
    {"path", SB_OPTION_PATH, NULL, "LLaVA JSON (a list of records) or JSONL (one record per line)", NULL},
    {"image_root", SB_OPTION_PATH, "\"\"",
     "folder relative image paths are resolved against; empty: the data file's folder", NULL},
    {"on_missing", SB_OPTION_ENUM, "error",
     "a sample whose image file does not exist: an error, or skipped (counted on stderr)", "error|skip"},
    {"limit", SB_OPTION_INT, "0", "use only the first N samples (after skipping); 0: all", NULL},
};

/* What reading needs besides the dataset. */
typedef struct read_ctx {
  dataset *d;
  const char *image_dir;
  bool skip_missing;
  int64_t limit;
  size_t skipped;
  char *first_skipped_id, *first_skipped_path;
} read_ctx;

static bool file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* The first image of r that does not exist, or NULL. */
static const char *missing_image(const llava_record *r) {
  for (int i = 0; i < r->n_images; i++)
    if (!file_exists(r->images[i])) return r->images[i];
  return NULL;
}

static int note_skipped(read_ctx *c, const llava_record *r, const char *path) {
  if (c->skipped++) return SB_OK;
  c->first_skipped_id = llava_strdup(r->id);
  c->first_skipped_path = llava_strdup(path);
  return c->first_skipped_id && c->first_skipped_path ? SB_OK : SB_ERR_NOMEM;
}

static int push(dataset *d, llava_record *r) {
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 256;
    llava_record *g = realloc(d->recs, cap * sizeof *g);
    if (!g) return sb_error_set(SB_ERR_NOMEM, "dataset_llava: out of memory");
    d->recs = g, d->cap = cap;
  }
  d->recs[d->n++] = *r;
  return SB_OK;
}

/* One record of the file: parse, check its images, keep or skip it. */
static int take_record(void *ctx, const sb_json *rec, const llava_where *w) {
  read_ctx *c = ctx;
  llava_record r;
  if (llava_record_parse(rec, w, c->image_dir, &r)) return sb_error_code();
  const char *missing = missing_image(&r);
  int rc = SB_OK;
  if (missing && !c->skip_missing) {
    char where[1024];
    rc = sb_error_set(SB_ERR_IO, "%s: sample '%s': image '%s' does not exist (on_missing: skip leaves such "
                      "samples out)", llava_where_text(w, where, sizeof where), r.id, missing);
  } else if (missing) {
    rc = note_skipped(c, &r, missing);
  } else if (!(rc = push(c->d, &r))) {
    return c->limit > 0 && (int64_t)c->d->n >= c->limit ? 1 : SB_OK;
  }
  llava_record_free(&r);
  return rc;
}

static void dataset_destroy(void *self) {
  dataset *d = self;
  if (!d) return;
  for (size_t i = 0; i < d->n; i++) llava_record_free(&d->recs[i]);
  free(d->recs);
  free(d);
}

/* The folder of a file ("" when it has none), malloc'd. */
static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return llava_strdup("");
  return llava_strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

static int read_options(const sb_config *o, const char **path, const char **root, int *on_missing,
                        int64_t *limit) {
  static const char *const choices[] = {"error", "skip", NULL};
  if (sb_config_get_path(o, "path", path) || sb_config_get_path(o, "image_root", root) ||
      sb_config_get_enum(o, "on_missing", choices, on_missing) || sb_config_get_int(o, "limit", limit))
    return SB_ERR;
  if (*limit < 0) return sb_config_error(o, "limit", "%lld samples; expected 0 (all) or more", (long long)*limit);
  if (!(*path)[0]) return sb_config_error(o, "path", "empty; expected a LLaVA JSON or JSONL file");
  return SB_OK;
}

static void *dataset_create(const sb_plugin_ctx *ctx) {
  const char *path, *root;
  int on_missing;
  int64_t limit;
  if (read_options(ctx->options, &path, &root, &on_missing, &limit)) return NULL;
  dataset *d = calloc(1, sizeof *d);
  char *dir = root[0] ? llava_strdup(root) : dir_of(path);
  if (!d || !dir) {
    if (!d) sb_error_set(SB_ERR_NOMEM, "dataset_llava: out of memory");
    free(d), free(dir);
    return NULL;
  }
  read_ctx c = {.d = d, .image_dir = dir, .skip_missing = on_missing == 1, .limit = limit};
  int rc = llava_read_file(path, take_record, &c);
  if (rc == SB_OK && d->n == 0)
    rc = sb_error_set(SB_ERR_FORMAT, "%s: no samples%s", path,
                      c.skipped ? " (every sample has a missing image)" : "");
  if (rc == SB_OK && c.skipped)
    fprintf(stderr, "dataset_llava: skipped %zu samples with missing images (first: id %s, path %s)\n", c.skipped,
            c.first_skipped_id, c.first_skipped_path);
  free(c.first_skipped_id), free(c.first_skipped_path), free(dir);
  if (rc) {
    dataset_destroy(d);
    return NULL;
  }
  return d;
}

static int64_t dataset_size(void *self) { return (int64_t)((dataset *)self)->n; }

static int dataset_get(void *self, int64_t index, sb_sample *s) {
  dataset *d = self;
  if (index < 0 || (size_t)index >= d->n)
    return sb_error("dataset_llava: sample %lld out of range (%zu samples)", (long long)index, d->n);
  const llava_record *r = &d->recs[index];
  int rc = sb_sample_set_id(s, r->id);
  for (int i = 0; i < r->n_turns && rc == SB_OK; i++) rc = sb_sample_add_turn(s, r->turns[i].role, r->turns[i].text);
  for (int i = 0; i < r->n_images && rc == SB_OK; i++) rc = sb_sample_add_image_path(s, r->images[i]);
  if (rc == SB_OK && r->meta) rc = sb_sample_set_meta(s, r->meta);
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
    .name = "dataset_llava",
    .version = "1.0.0",
    .kind = SB_PLUGIN_DATASET,
    .description = "LLaVA conversation data (JSON list or JSONL): turns with <image> markers and image paths",
    .options = k_options,
    .n_options = SB_OPTIONS_COUNT(k_options),
    .vtable = &k_vtable,
};

SB_PLUGIN_DEFINE(dataset_llava, k_descriptor)
