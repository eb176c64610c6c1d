/* pretok_shard.c — opening one pre-tokenized shard and checking it whole:
 * input_ids and labels [N, S] (I64 or I32), an optional attention_mask of
 * the same shape (nonzero = real), the placeholder id (metadata
 * image_token_id, else the plugin's option), and the images: the rows of
 * pixel_values [n_images, C, H, W] or the metadata image_paths (a JSON list
 * of paths), one per placeholder on a real position, in order across the
 * shard's rows. Every error names the file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pretok.h"

char *pt_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *c = malloc(n);
  if (!c) sb_error_set(SB_ERR_NOMEM, "dataset_pretokenized: out of memory");
  else memcpy(c, s, n);
  return c;
}

/* Element i of an integer tensor (the mapping may be unaligned). */
static int64_t elem(const sb_st_tensor *t, int64_t i) {
  const unsigned char *p = t->data;
  if (t->dtype == SB_DTYPE_I64) {
    int64_t v;
    memcpy(&v, p + 8 * i, 8);
    return v;
  }
  if (t->dtype == SB_DTYPE_I32) {
    int32_t v;
    memcpy(&v, p + 4 * i, 4);
    return v;
  }
  return p[i]; /* U8 */
}

static const char *shape_text(const sb_st_tensor *t, char *buf, size_t size) {
  size_t n = (size_t)snprintf(buf, size, "[");
  for (int d = 0; d < t->ndim && n < size; d++)
    n += (size_t)snprintf(buf + n, size - n, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
  if (n < size) snprintf(buf + n, size - n, "]");
  return buf;
}

static const char *plural(int64_t n) { return n == 1 ? "" : "s"; }

static bool is_int(const sb_st_tensor *t, bool u8_too) {
  return t->dtype == SB_DTYPE_I64 || t->dtype == SB_DTYPE_I32 || (u8_too && t->dtype == SB_DTYPE_U8);
}

/* A [N, S] integer tensor, of the shape of `like` when given. */
static int check_table(const pt_shard *s, const sb_st_tensor *t, const char *name, const sb_st_tensor *like,
                       bool u8_too) {
  char a[64], b[64];
  if (!is_int(t, u8_too))
    return sb_error_set(SB_ERR_FORMAT, "%s: '%s' must hold integers (I64%s), not %s", s->path, name,
                        u8_too ? ", I32 or U8" : " or I32", sb_dtype_name(t->dtype));
  if (!like && t->ndim != 2)
    return sb_error_set(SB_ERR_SHAPE, "%s: '%s' has shape %s; expected [N, S] (samples x positions)", s->path, name,
                        shape_text(t, a, sizeof a));
  if (like && (t->ndim != 2 || t->shape[0] != like->shape[0] || t->shape[1] != like->shape[1]))
    return sb_error_set(SB_ERR_SHAPE, "%s: '%s' has shape %s but 'input_ids' has %s", s->path, name,
                        shape_text(t, a, sizeof a), shape_text(like, b, sizeof b));
  return SB_OK;
}

static int find_tables(pt_shard *s) {
  s->ids = sb_safetensors_find(s->f, "input_ids");
  s->labels = sb_safetensors_find(s->f, "labels");
  s->mask = sb_safetensors_find(s->f, "attention_mask");
  if (!s->ids) return sb_error_set(SB_ERR_FORMAT, "%s: no 'input_ids' tensor ([N, S] I64)", s->path);
  if (!s->labels) return sb_error_set(SB_ERR_FORMAT, "%s: no 'labels' tensor ([N, S] I64, like input_ids)", s->path);
  if (check_table(s, s->ids, "input_ids", NULL, false) || check_table(s, s->labels, "labels", s->ids, false) ||
      (s->mask && check_table(s, s->mask, "attention_mask", s->ids, true)))
    return SB_ERR_SHAPE;
  s->rows = s->ids->shape[0], s->cols = s->ids->shape[1];
  return SB_OK;
}

static int read_token_id(pt_shard *s, int64_t def) {
  const char *v = sb_safetensors_metadata(s->f, "image_token_id");
  if (!v) return s->image_token_id = def, SB_OK;
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (errno || end == v || *end)
    return sb_error_set(SB_ERR_FORMAT, "%s: metadata 'image_token_id' is \"%s\"; expected an integer", s->path, v);
  s->image_token_id = x;
  return SB_OK;
}

static bool is_real(const pt_shard *s, int64_t i) { return !s->mask || elem(s->mask, i) != 0; }

/* Counts each row's real tokens and placeholders; refuses empty rows and
 * negative ids other than the placeholder. */
static int count_rows(pt_shard *s) {
  if (!(s->first_image = calloc((size_t)s->rows + 1, sizeof *s->first_image)))
    return sb_error_set(SB_ERR_NOMEM, "dataset_pretokenized: out of memory");
  for (int64_t r = 0; r < s->rows; r++) {
    int64_t real = 0, images = 0;
    for (int64_t c = 0; c < s->cols; c++) {
      int64_t i = r * s->cols + c, id = elem(s->ids, i);
      if (!is_real(s, i)) continue;
      real++;
      if (id == s->image_token_id) images++;
      else if (id < 0)
        return sb_error_set(SB_ERR_FORMAT, "%s: input_ids[%lld][%lld] is %lld: negative, and not the image "
                            "placeholder %lld", s->path, (long long)r, (long long)c, (long long)id,
                            (long long)s->image_token_id);
    }
    if (!real)
      return sb_error_set(SB_ERR_FORMAT, "%s: row %lld has no real tokens (attention_mask is 0 everywhere)", s->path,
                          (long long)r);
    s->first_image[r + 1] = s->first_image[r] + images;
  }
  return SB_OK;
}

static char *resolve(const char *dir, const char *p) {
  if (p[0] == '/' || !dir[0]) return pt_strdup(p);
  size_t a = strlen(dir), b = strlen(p);
  char *out = malloc(a + b + 2);
  if (!out) {
    sb_error_set(SB_ERR_NOMEM, "dataset_pretokenized: out of memory");
    return NULL;
  }
  snprintf(out, a + b + 2, "%s%s%s", dir, dir[a - 1] == '/' ? "" : "/", p);
  return out;
}

/* The folder of the shard, for relative image paths without image_root. */
static char *folder_of(const char *path) {
  char *d = pt_strdup(path);
  char *slash = d ? strrchr(d, '/') : NULL;
  if (slash) slash[slash == d ? 1 : 0] = 0;
  else if (d) d[0] = 0;
  return d;
}

static int take_paths(pt_shard *s, const sb_json *list, const char *dir) {
  size_t n = sb_json_array_size(list);
  if (sb_json_typeof(list) != SB_JSON_ARRAY)
    return sb_error_set(SB_ERR_FORMAT, "%s: metadata 'image_paths' must be a JSON list of paths", s->path);
  if ((int64_t)n != s->first_image[s->rows])
    return sb_error_set(SB_ERR_FORMAT, "%s: %lld image placeholder%s (id %lld) but %zu image_paths", s->path,
                        (long long)s->first_image[s->rows], plural(s->first_image[s->rows]),
                        (long long)s->image_token_id, n);
  if (!(s->image_paths = calloc(n ? n : 1, sizeof *s->image_paths)))
    return sb_error_set(SB_ERR_NOMEM, "dataset_pretokenized: out of memory");
  for (size_t i = 0; i < n; i++) {
    const char *p = sb_json_string(sb_json_array_at(list, i));
    if (!p || !p[0])
      return sb_error_set(SB_ERR_FORMAT, "%s: metadata 'image_paths'[%zu] is not a path", s->path, i);
    if (!(s->image_paths[i] = resolve(dir, p))) return SB_ERR_NOMEM;
  }
  return SB_OK;
}

static int read_paths(pt_shard *s, const char *text, const char *image_root) {
  char name[1100];
  snprintf(name, sizeof name, "%s: metadata 'image_paths'", s->path);
  sb_json_doc *doc = sb_json_parse(text, name);
  if (!doc) return sb_error_code();
  char *dir = image_root[0] ? pt_strdup(image_root) : folder_of(s->path);
  int rc = dir ? take_paths(s, sb_json_root(doc), dir) : SB_ERR_NOMEM;
  free(dir);
  sb_json_free(doc);
  return rc;
}

static int check_pixels(pt_shard *s, const sb_st_tensor *px) {
  char a[64];
  if (px->dtype != SB_DTYPE_F32 && px->dtype != SB_DTYPE_BF16 && px->dtype != SB_DTYPE_F16)
    return sb_error_set(SB_ERR_FORMAT, "%s: 'pixel_values' must hold floats (F32, BF16 or F16), not %s", s->path,
                        sb_dtype_name(px->dtype));
  if (px->ndim != 4)
    return sb_error_set(SB_ERR_SHAPE, "%s: 'pixel_values' has shape %s; expected [n_images, 3, H, W]", s->path,
                        shape_text(px, a, sizeof a));
  if (px->shape[0] != s->first_image[s->rows])
    return sb_error_set(SB_ERR_SHAPE, "%s: %lld image placeholder%s (id %lld) but 'pixel_values' holds %lld images",
                        s->path, (long long)s->first_image[s->rows], plural(s->first_image[s->rows]),
                        (long long)s->image_token_id,
                        (long long)px->shape[0]);
  s->pixels = true;
  return SB_OK;
}

static int read_images(pt_shard *s, const char *image_root) {
  const sb_st_tensor *px = sb_safetensors_find(s->f, "pixel_values");
  const char *paths = sb_safetensors_metadata(s->f, "image_paths");
  if (px && paths)
    return sb_error_set(SB_ERR_FORMAT, "%s: both 'pixel_values' and metadata 'image_paths'; give one", s->path);
  if (px) return check_pixels(s, px);
  if (paths) return read_paths(s, paths, image_root);
  if (s->first_image[s->rows])
    return sb_error_set(SB_ERR_FORMAT, "%s: %lld image placeholder%s (id %lld) but neither 'pixel_values' nor "
                        "metadata 'image_paths'", s->path, (long long)s->first_image[s->rows],
                        plural(s->first_image[s->rows]),
                        (long long)s->image_token_id);
  return SB_OK;
}

int pt_shard_open(pt_shard *s, const char *path, const char *image_root, int64_t default_token_id) {
  memset(s, 0, sizeof *s);
  if (!(s->path = pt_strdup(path))) return SB_ERR_NOMEM;
  if (!(s->f = sb_safetensors_open(path))) return sb_error_code();
  int rc = find_tables(s);
  if (!rc) rc = read_token_id(s, default_token_id);
  if (!rc) rc = count_rows(s);
  if (!rc) rc = read_images(s, image_root);
  return rc;
}

void pt_shard_close(pt_shard *s) {
  if (s->image_paths)
    for (int64_t i = 0; i < s->first_image[s->rows]; i++) free(s->image_paths[i]);
  free(s->image_paths), free(s->first_image), free(s->path);
  if (s->f) sb_safetensors_close(s->f);
  memset(s, 0, sizeof *s);
}

int64_t pt_shard_row(const pt_shard *s, int64_t r, int64_t *ids, int64_t *labels) {
  int64_t n = 0;
  for (int64_t c = 0; c < s->cols; c++) {
    int64_t i = r * s->cols + c;
    if (!is_real(s, i)) continue;
    int64_t id = elem(s->ids, i);
    ids[n] = id == s->image_token_id ? PT_IMAGE_ID : id;
    labels[n++] = elem(s->labels, i);
  }
  return n;
}
