/* st_writer.c — the .safetensors writer (sdk safetensors.h). Owns collecting
 * tensors (copied when added) and metadata, laying out the header (tensors in
 * insertion order, then "__metadata__", padded with spaces to 8 bytes) and
 * writing the file atomically: "<path>.tmp.<pid>", fsync, rename. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spatialboost/safetensors.h"
#include "util.h"

#define ST_WHO "safetensors writer"

typedef struct st_item {
  char *name;
  sb_dtype dtype;
  int ndim;
  int64_t shape[SB_MAX_DIMS];
  void *data; /* owned copy */
  size_t nbytes;
} st_item;

struct sb_st_writer {
  st_item *items; /* in insertion order */
  size_t count, cap;
  sb_map names;   /* tensor names already added */
  char **meta_keys, **meta_vals;
  size_t meta_count, meta_cap;
};

sb_st_writer *sb_st_writer_new(void) {
  sb_st_writer *w = sb_calloc(1, sizeof *w);
  if (w) sb_map_init(&w->names);
  return w;
}

void sb_st_writer_free(sb_st_writer *w) {
  if (!w) return;
  for (size_t i = 0; i < w->count; i++) free(w->items[i].name), free(w->items[i].data);
  free(w->items);
  for (size_t i = 0; i < w->meta_count; i++) free(w->meta_keys[i]), free(w->meta_vals[i]);
  free(w->meta_keys), free(w->meta_vals);
  sb_map_free(&w->names);
  free(w);
}

/* ---- adding ---- */

static bool st_is_utf8(const char *s) {
  json_t *j = json_string(s); /* NULL unless s is valid UTF-8 */
  json_decref(j);
  return j != NULL;
}

static int st_check_name(const sb_st_writer *w, const char *name) {
  if (!w) return sb_error(ST_WHO ": no writer");
  if (!name || !name[0]) return sb_error_set(SB_ERR_FORMAT, ST_WHO ": a tensor name is empty");
  if (strcmp(name, "__metadata__") == 0)
    return sb_error_set(SB_ERR_FORMAT, ST_WHO ": '__metadata__' is reserved, not a tensor name");
  if (!st_is_utf8(name))
    return sb_error_set(SB_ERR_FORMAT, ST_WHO ": tensor name '%s' is not valid UTF-8", name);
  if (sb_map_has(&w->names, name))
    return sb_error_set(SB_ERR_FORMAT, ST_WHO ": tensor '%s' was already added", name);
  return SB_OK;
}

/* Checks dtype and shape; *nbytes = numel * dtype size. */
static int st_check_layout(const char *name, sb_dtype dtype, int ndim, const int64_t *shape,
                           size_t *nbytes) {
  if ((unsigned)dtype >= SB_DTYPE_COUNT)
    return sb_error_set(SB_ERR_SHAPE, ST_WHO ": tensor '%s': unknown dtype %d", name, (int)dtype);
  if (ndim < 0 || ndim > SB_MAX_DIMS || (ndim > 0 && !shape))
    return sb_error_set(SB_ERR_SHAPE, ST_WHO ": tensor '%s': %d dims (expected 0 to %d, with a "
                        "shape)", name, ndim, SB_MAX_DIMS);
  bool empty = false;
  for (int i = 0; i < ndim; i++) {
    if (shape[i] < 0)
      return sb_error_set(SB_ERR_SHAPE, ST_WHO ": tensor '%s': negative size %lld in dim %d", name,
                          (long long)shape[i], i);
    empty |= shape[i] == 0;
  }
  int64_t n = empty ? 0 : (int64_t)sb_dtype_size(dtype);
  for (int i = 0; i < ndim && !empty; i++)
    if (__builtin_mul_overflow(n, shape[i], &n))
      return sb_error_set(SB_ERR_SHAPE, ST_WHO ": tensor '%s': its byte size overflows", name);
  *nbytes = (size_t)n;
  return SB_OK;
}

/* Appends an item that takes ownership of data. */
static int st_push(sb_st_writer *w, const char *name, sb_dtype dtype, int ndim,
                   const int64_t *shape, void *data, size_t nbytes) {
  if (w->count == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 16;
    st_item *items = sb_realloc(w->items, cap * sizeof *items);
    if (!items) return SB_ERR_NOMEM;
    w->items = items, w->cap = cap;
  }
  st_item *it = &w->items[w->count];
  memset(it, 0, sizeof *it);
  if (!(it->name = sb_strdup(name)) || sb_map_set(&w->names, name, NULL)) {
    free(it->name);
    return SB_ERR_NOMEM;
  }
  it->dtype = dtype, it->ndim = ndim, it->data = data, it->nbytes = nbytes;
  if (ndim) memcpy(it->shape, shape, sizeof(int64_t) * (size_t)ndim);
  w->count++;
  return SB_OK;
}

int sb_st_writer_add(sb_st_writer *w, const char *name, sb_dtype dtype, int ndim,
                     const int64_t *shape, const void *data) {
  size_t nbytes = 0;
  int rc = st_check_name(w, name);
  if (!rc) rc = st_check_layout(name, dtype, ndim, shape, &nbytes);
  if (rc) return rc;
  if (nbytes && !data)
    return sb_error_set(SB_ERR, ST_WHO ": tensor '%s': no data for %zu bytes", name, nbytes);
  void *copy = sb_malloc(nbytes);
  if (!copy) return SB_ERR_NOMEM;
  if (nbytes) memcpy(copy, data, nbytes);
  rc = st_push(w, name, dtype, ndim, shape, copy, nbytes);
  if (rc) free(copy);
  return rc;
}

int sb_st_writer_add_tensor(sb_st_writer *w, const char *name, const sb_tensor *t) {
  int rc = st_check_name(w, name);
  if (rc) return rc;
  if (!t) return sb_error(ST_WHO ": tensor '%s': no tensor given", name);
  size_t nbytes = 0;
  int ndim = sb_tensor_ndim(t);
  const int64_t *shape = sb_tensor_shape(t);
  if ((rc = st_check_layout(name, sb_tensor_dtype(t), ndim, shape, &nbytes))) return rc;
  void *copy = sb_malloc(nbytes);
  if (!copy) return SB_ERR_NOMEM;
  rc = sb_tensor_to_host(t, copy, nbytes);
  if (rc) sb_error_prefix(ST_WHO ": tensor '%s'", name);
  if (!rc) rc = st_push(w, name, sb_tensor_dtype(t), ndim, shape, copy, nbytes);
  if (rc) free(copy);
  return rc;
}

static int st_meta_grow(sb_st_writer *w) {
  if (w->meta_count < w->meta_cap) return SB_OK;
  size_t cap = w->meta_cap ? w->meta_cap * 2 : 8;
  char **keys = sb_realloc(w->meta_keys, cap * sizeof *keys);
  if (!keys) return SB_ERR_NOMEM;
  w->meta_keys = keys;
  char **vals = sb_realloc(w->meta_vals, cap * sizeof *vals);
  if (!vals) return SB_ERR_NOMEM;
  w->meta_vals = vals, w->meta_cap = cap;
  return SB_OK;
}

int sb_st_writer_set_metadata(sb_st_writer *w, const char *key, const char *value) {
  if (!w || !key || !value) return sb_error(ST_WHO ": metadata needs a writer, a key and a value");
  if (!st_is_utf8(key) || !st_is_utf8(value))
    return sb_error_set(SB_ERR_FORMAT, ST_WHO ": metadata '%s' is not valid UTF-8", key);
  char *v = sb_strdup(value);
  if (!v) return SB_ERR_NOMEM;
  for (size_t i = 0; i < w->meta_count; i++)
    if (strcmp(w->meta_keys[i], key) == 0) { /* a key set again takes the new value */
      free(w->meta_vals[i]);
      w->meta_vals[i] = v;
      return SB_OK;
    }
  char *k = st_meta_grow(w) == SB_OK ? sb_strdup(key) : NULL;
  if (!k) {
    free(v);
    return SB_ERR_NOMEM;
  }
  w->meta_keys[w->meta_count] = k;
  w->meta_vals[w->meta_count++] = v;
  return SB_OK;
}

/* ---- the header ---- */

static json_t *st_item_json(const st_item *it, uint64_t begin) {
  json_t *shape = json_array();
  for (int i = 0; shape && i < it->ndim; i++)
    json_array_append_new(shape, json_integer(it->shape[i]));
  json_t *offs = json_pack("[II]", (json_int_t)begin, (json_int_t)(begin + it->nbytes));
  return json_pack("{s:s, s:o, s:o}", "dtype", sb_dtype_name(it->dtype), "shape", shape,
                   "data_offsets", offs);
}

static json_t *st_meta_json(const sb_st_writer *w) {
  json_t *meta = json_object();
  for (size_t i = 0; meta && i < w->meta_count; i++)
    if (json_object_set_new(meta, w->meta_keys[i], json_string(w->meta_vals[i]))) {
      json_decref(meta);
      meta = NULL;
    }
  return meta;
}

/* Tensors in insertion order with consecutive offsets, then "__metadata__". */
static json_t *st_header_json(const sb_st_writer *w) {
  json_t *root = json_object();
  bool ok = root != NULL;
  uint64_t at = 0;
  for (size_t i = 0; ok && i < w->count; i++) {
    ok = json_object_set_new(root, w->items[i].name, st_item_json(&w->items[i], at)) == 0;
    at += w->items[i].nbytes;
  }
  if (ok && w->meta_count) ok = json_object_set_new(root, "__metadata__", st_meta_json(w)) == 0;
  if (!ok) {
    json_decref(root);
    return NULL;
  }
  return root;
}

/* The header text padded with spaces to a multiple of 8 bytes; *len its length. */
static char *st_header_text(const sb_st_writer *w, size_t *len) {
  json_t *root = st_header_json(w);
  char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
  json_decref(root);
  if (!text) {
    sb_error_set(SB_ERR_NOMEM, "out of memory building the header");
    return NULL;
  }
  size_t n = strlen(text), padded = (n + 7) / 8 * 8;
  char *out = sb_malloc(padded);
  if (out) {
    memcpy(out, text, n);
    memset(out + n, ' ', padded - n);
    *len = padded;
  }
  free(text);
  return out;
}

/* ---- writing ---- */

static int st_write_bytes(FILE *fp, const void *p, size_t n) {
  return n == 0 || fwrite(p, 1, n, fp) == n ? SB_OK : SB_ERR_IO;
}

/* Writes the whole file to fp and flushes it to disk; errno says why on failure. */
static int st_write_stream(const sb_st_writer *w, FILE *fp, const char *header, size_t hlen) {
  unsigned char len8[8];
  for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
  int rc = st_write_bytes(fp, len8, 8);
  if (!rc) rc = st_write_bytes(fp, header, hlen);
  for (size_t i = 0; !rc && i < w->count; i++)
    rc = st_write_bytes(fp, w->items[i].data, w->items[i].nbytes);
  if (!rc && (fflush(fp) != 0 || fsync(fileno(fp)) != 0)) rc = SB_ERR_IO;
  return rc;
}

/* Best effort: makes the rename itself durable. */
static void st_sync_dir(const char *path) {
  char *dir = sb_path_dirname(path);
  int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  if (fd >= 0) fsync(fd), close(fd);
  free(dir);
}

static int st_write_tmp(const sb_st_writer *w, const char *path, const char *tmp) {
  size_t hlen = 0;
  char *header = st_header_text(w, &hlen);
  if (!header) return sb_error_prefix("%s", path);
  FILE *fp = fopen(tmp, "wb");
  if (!fp) {
    int e = errno;
    free(header);
    return sb_error_set(SB_ERR_IO, "%s: cannot create %s: %s", path, tmp, strerror(e));
  }
  int rc = st_write_stream(w, fp, header, hlen);
  int e = errno;
  free(header);
  if (fclose(fp) != 0 && !rc) rc = SB_ERR_IO, e = errno;
  if (rc) return sb_error_set(SB_ERR_IO, "%s: writing %s failed: %s", path, tmp, strerror(e));
  return SB_OK;
}

int sb_st_writer_write(sb_st_writer *w, const char *path) {
  if (!w || !path || !path[0]) return sb_error(ST_WHO ": %s", w ? "no path" : "no writer");
  char *tmp = sb_asprintf("%s.tmp.%ld", path, (long)getpid());
  if (!tmp) return sb_error_prefix("%s", path);
  int rc = st_write_tmp(w, path, tmp);
  if (!rc && rename(tmp, path) != 0)
    rc = sb_error_set(SB_ERR_IO, "%s: cannot rename %s over it: %s", path, tmp, strerror(errno));
  if (rc) unlink(tmp);
  else st_sync_dir(path);
  free(tmp);
  return rc;
}
