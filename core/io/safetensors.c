/* safetensors.c — the .safetensors reader (sdk safetensors.h): maps one file
 * read-only, validates its whole header before returning it, and hands out
 * tensors lazily through the mapping. sb_safetensors_load copies one tensor
 * into a new tensor, converting its dtype on the host. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spatialboost/safetensors.h"
#include "st_internal.h"
#include "tensor_impl.h"
#include "util.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the safetensors reader assumes a little-endian host"
#endif

/* The safetensors crate refuses headers longer than this; so do we. */
#define ST_MAX_HEADER ((uint64_t)100000000)
#define ST_DTYPES "F32, F16, BF16, I32, I64, U8"

typedef struct st_entry {
  sb_st_tensor t;  /* first, so &entry->t is what callers see */
  int64_t begin, end; /* data_offsets */
  size_t order;    /* position in the header, to break ties */
} st_entry;

/* The file's mapping, shared with tensors that use their values in place
 * (sb_safetensors_alias); unmapped when the last user lets go. */
typedef struct st_mapping {
  atomic_int refcount;
  void *addr;
  size_t len;
} st_mapping;

struct sb_safetensors {
  char *path;
  st_mapping *mapping;
  void *map;
  size_t map_len;
  const unsigned char *data; /* the data buffer, after the header */
  uint64_t data_len;
  st_entry *entries; /* sorted by data offset */
  size_t count;
  sb_map by_name;    /* name -> st_entry */
  char **meta_keys, **meta_vals;
  size_t meta_count;
};

/* ---- messages ---- */

static int st_fail(const sb_safetensors *f, const char *tensor, const char *fmt, ...)
    SB_PRINTF(3, 4);

/* Records "<file>: tensor '<name>': <what>" (or "<file>: <what>") as a format error. */
static int st_fail(const sb_safetensors *f, const char *tensor, const char *fmt, ...) {
  char what[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (tensor) return sb_error_set(SB_ERR_FORMAT, "%s: tensor '%s': %s", f->path, tensor, what);
  return sb_error_set(SB_ERR_FORMAT, "%s: %s", f->path, what);
}

/* ---- header fields ---- */

static int st_parse_dtype(sb_safetensors *f, const char *name, json_t *v, sb_dtype *out) {
  if (!json_is_string(v)) return st_fail(f, name, "field 'dtype' is not a string");
  const char *s = json_string_value(v);
  for (int i = 0; i < SB_DTYPE_COUNT; i++)
    if (strcmp(s, sb_dtype_name((sb_dtype)i)) == 0) {
      *out = (sb_dtype)i;
      return SB_OK;
    }
  return st_fail(f, name, "unsupported dtype '%s' (supported: " ST_DTYPES ")", s);
}

static int st_parse_shape(sb_safetensors *f, const char *name, json_t *v, sb_st_tensor *t) {
  if (!json_is_array(v)) return st_fail(f, name, "field 'shape' is not an array");
  size_t n = json_array_size(v);
  if (n > SB_MAX_DIMS)
    return st_fail(f, name, "shape has %zu dims (at most %d)", n, SB_MAX_DIMS);
  for (size_t i = 0; i < n; i++) {
    json_t *d = json_array_get(v, i);
    if (!json_is_integer(d)) return st_fail(f, name, "shape entry %zu is not an integer", i);
    if (json_integer_value(d) < 0)
      return st_fail(f, name, "shape entry %zu is negative (%lld)", i,
                     (long long)json_integer_value(d));
    t->shape[i] = (int64_t)json_integer_value(d);
  }
  t->ndim = (int)n;
  return SB_OK;
}

static int st_parse_offsets(sb_safetensors *f, const char *name, json_t *v, st_entry *e) {
  if (!json_is_array(v) || json_array_size(v) != 2)
    return st_fail(f, name, "field 'data_offsets' is not [begin, end]");
  int64_t off[2];
  for (size_t i = 0; i < 2; i++) {
    json_t *o = json_array_get(v, i);
    if (!json_is_integer(o))
      return st_fail(f, name, "data_offsets entry %zu is not an integer", i);
    off[i] = (int64_t)json_integer_value(o);
    if (off[i] < 0)
      return st_fail(f, name, "data_offsets entry %zu is negative (%lld)", i, (long long)off[i]);
  }
  if (off[0] > off[1])
    return st_fail(f, name, "data_offsets begin %lld is after end %lld", (long long)off[0],
                   (long long)off[1]);
  if ((uint64_t)off[1] > f->data_len)
    return st_fail(f, name, "data_offsets end %lld is past the end of the data (%llu bytes)",
                   (long long)off[1], (unsigned long long)f->data_len);
  e->begin = off[0], e->end = off[1];
  return SB_OK;
}

/* numel * dtype size, checked for overflow; -1 (with a message) when it overflows. */
static int64_t st_byte_size(sb_safetensors *f, const char *name, const sb_st_tensor *t) {
  int64_t n = 1;
  bool overflow = false;
  for (int i = 0; i < t->ndim; i++) {
    if (t->shape[i] == 0) return 0; /* an empty tensor, whatever the other sizes */
    overflow |= __builtin_mul_overflow(n, t->shape[i], &n);
  }
  int64_t bytes;
  overflow |= __builtin_mul_overflow(n, (int64_t)sb_dtype_size(t->dtype), &bytes);
  if (overflow) {
    char sh[256];
    st_fail(f, name, "shape %s of %s overflows the byte size",
            sb_shape_str(t->ndim, t->shape, sh, sizeof sh), sb_dtype_name(t->dtype));
    return -1;
  }
  return bytes;
}

static int st_check_fields(sb_safetensors *f, const char *name, json_t *v) {
  static const char *const k_fields[] = {"dtype", "shape", "data_offsets"};
  const char *key;
  json_t *val;
  json_object_foreach(v, key, val) {
    bool known = false;
    for (size_t i = 0; i < SB_ARRAY_LEN(k_fields); i++) known |= strcmp(key, k_fields[i]) == 0;
    if (!known) return st_fail(f, name, "unexpected field '%s'", key);
  }
  for (size_t i = 0; i < SB_ARRAY_LEN(k_fields); i++)
    if (!json_object_get(v, k_fields[i]))
      return st_fail(f, name, "missing field '%s'", k_fields[i]);
  return SB_OK;
}

static int st_parse_tensor(sb_safetensors *f, const char *name, json_t *v, st_entry *e) {
  if (!json_is_object(v))
    return st_fail(f, name, "entry is not an object (expected dtype, shape and data_offsets)");
  int rc = st_check_fields(f, name, v);
  if (!rc) rc = st_parse_dtype(f, name, json_object_get(v, "dtype"), &e->t.dtype);
  if (!rc) rc = st_parse_shape(f, name, json_object_get(v, "shape"), &e->t);
  if (!rc) rc = st_parse_offsets(f, name, json_object_get(v, "data_offsets"), e);
  if (rc) return rc;
  int64_t bytes = st_byte_size(f, name, &e->t);
  if (bytes < 0) return SB_ERR_FORMAT;
  if (e->end - e->begin != bytes) {
    char sh[256];
    return st_fail(f, name, "data_offsets span %lld bytes, but dtype %s with shape %s needs %lld",
                   (long long)(e->end - e->begin), sb_dtype_name(e->t.dtype),
                   sb_shape_str(e->t.ndim, e->t.shape, sh, sizeof sh), (long long)bytes);
  }
  if (!(e->t.name = sb_strdup(name))) return SB_ERR_NOMEM;
  e->t.data = f->data + e->begin;
  e->t.nbytes = (size_t)bytes;
  e->t.file = f->path;
  return SB_OK;
}

static int st_parse_metadata(sb_safetensors *f, json_t *v) {
  if (!json_is_object(v))
    return st_fail(f, NULL, "__metadata__ is not an object of strings");
  size_t n = json_object_size(v);
  f->meta_keys = sb_calloc(n, sizeof(char *));
  f->meta_vals = sb_calloc(n, sizeof(char *));
  if (!f->meta_keys || !f->meta_vals) return SB_ERR_NOMEM;
  const char *key;
  json_t *val;
  json_object_foreach(v, key, val) {
    if (!json_is_string(val))
      return st_fail(f, NULL, "__metadata__ value of '%s' is not a string", key);
    size_t i = f->meta_count;
    f->meta_keys[i] = sb_strdup(key);
    f->meta_vals[i] = sb_strdup(json_string_value(val));
    if (!f->meta_keys[i] || !f->meta_vals[i]) {
      free(f->meta_keys[i]), free(f->meta_vals[i]);
      return SB_ERR_NOMEM;
    }
    f->meta_count++;
  }
  return SB_OK;
}

/* ---- ordering and overlap ---- */

static int st_entry_cmp(const void *pa, const void *pb) {
  const st_entry *a = pa, *b = pb;
  if (a->begin != b->begin) return a->begin < b->begin ? -1 : 1;
  if (a->end != b->end) return a->end < b->end ? -1 : 1;
  return a->order < b->order ? -1 : a->order > b->order;
}

/* Entries are sorted by begin; empty tensors overlap nothing. */
static int st_check_overlap(sb_safetensors *f) {
  const st_entry *last = NULL; /* the non-empty tensor reaching furthest so far */
  for (size_t i = 0; i < f->count; i++) {
    const st_entry *e = &f->entries[i];
    if (e->begin == e->end) continue;
    if (last && e->begin < last->end)
      return st_fail(f, e->t.name, "its data [%lld, %lld) and tensor '%s' [%lld, %lld) overlap",
                     (long long)e->begin, (long long)e->end, last->t.name,
                     (long long)last->begin, (long long)last->end);
    if (!last || e->end > last->end) last = e;
  }
  return SB_OK;
}

static int st_index(sb_safetensors *f) {
  qsort(f->entries, f->count, sizeof *f->entries, st_entry_cmp);
  int rc = st_check_overlap(f);
  for (size_t i = 0; i < f->count && !rc; i++)
    rc = sb_map_set(&f->by_name, f->entries[i].t.name, &f->entries[i]);
  return rc;
}

/* ---- the header ---- */

static int st_parse_entries(sb_safetensors *f, json_t *root) {
  size_t n = json_object_size(root);
  if (!(f->entries = sb_calloc(n, sizeof *f->entries))) return SB_ERR_NOMEM;
  const char *key;
  json_t *val;
  json_object_foreach(root, key, val) {
    int rc;
    if (strcmp(key, "__metadata__") == 0) {
      rc = st_parse_metadata(f, val);
    } else {
      st_entry *e = &f->entries[f->count];
      e->order = f->count;
      rc = st_parse_tensor(f, key, val, e);
      if (!rc) f->count++;
    }
    if (rc) return rc;
  }
  return st_index(f);
}

static int st_parse_header(sb_safetensors *f, const char *text, size_t len) {
  json_error_t err;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
  if (!root)
    return st_fail(f, NULL, "header is not valid JSON at line %d column %d: %s", err.line,
                   err.column, err.text);
  int rc = json_is_object(root) ? st_parse_entries(f, root)
                                : st_fail(f, NULL, "header is not a JSON object");
  json_decref(root);
  return rc;
}

/* ---- the file ---- */

static uint64_t st_read_u64le(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static int st_map_file(sb_safetensors *f) {
  int fd = open(f->path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sb_error_set(SB_ERR_IO, "%s: cannot open: %s", f->path, strerror(errno));
  struct stat st;
  int rc = SB_OK;
  if (fstat(fd, &st) != 0)
    rc = sb_error_set(SB_ERR_IO, "%s: cannot stat: %s", f->path, strerror(errno));
  else if (S_ISDIR(st.st_mode))
    rc = sb_error_set(SB_ERR_IO, "%s: is a folder, not a .safetensors file (sb_st_set_open "
                      "opens folders)", f->path);
  else if (!S_ISREG(st.st_mode))
    rc = sb_error_set(SB_ERR_IO, "%s: is not a regular file", f->path);
  else if (st.st_size == 0)
    rc = st_fail(f, NULL, "file is empty (a safetensors file starts with an 8-byte header "
                 "length)");
  else if (st.st_size < 8)
    rc = st_fail(f, NULL, "file is too small (%lld bytes) to hold the 8-byte header length",
                 (long long)st.st_size);
  if (rc == SB_OK) {
    /* Private and writable: tensors that alias the mapping can be trained in
     * place; the pages they write become private copies and the file never
     * changes. */
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED)
      rc = sb_error_set(SB_ERR_IO, "%s: cannot map: %s", f->path, strerror(errno));
    else if (!(f->mapping = sb_malloc(sizeof *f->mapping))) {
      munmap(m, (size_t)st.st_size);
      rc = SB_ERR_NOMEM;
    } else {
      f->map = m, f->map_len = (size_t)st.st_size;
      atomic_init(&f->mapping->refcount, 1);
      f->mapping->addr = m, f->mapping->len = f->map_len;
    }
  }
  close(fd);
  return rc;
}

static int st_load(sb_safetensors *f) {
  int rc = st_map_file(f);
  if (rc) return rc;
  const unsigned char *bytes = f->map;
  uint64_t n = st_read_u64le(bytes), avail = f->map_len - 8;
  if (n > ST_MAX_HEADER)
    return st_fail(f, NULL, "header length %llu is too large (at most %llu bytes)",
                   (unsigned long long)n, (unsigned long long)ST_MAX_HEADER);
  if (n > avail)
    return st_fail(f, NULL, "header length %llu is past the end of the file (%llu bytes follow "
                   "the length field)", (unsigned long long)n, (unsigned long long)avail);
  f->data = bytes + 8 + n;
  f->data_len = avail - n;
  return st_parse_header(f, (const char *)bytes + 8, (size_t)n);
}

sb_safetensors *sb_safetensors_open(const char *path) {
  if (!path) {
    sb_error("safetensors_open: no path");
    return NULL;
  }
  sb_safetensors *f = sb_calloc(1, sizeof *f);
  if (!f) return NULL;
  sb_map_init(&f->by_name);
  if (!(f->path = sb_strdup(path)) || st_load(f)) {
    sb_safetensors_close(f);
    return NULL;
  }
  return f;
}

static void mapping_release(void *ctx);

void sb_safetensors_close(sb_safetensors *f) {
  if (!f) return;
  for (size_t i = 0; i < f->count; i++) free((char *)f->entries[i].t.name);
  free(f->entries);
  for (size_t i = 0; i < f->meta_count; i++) free(f->meta_keys[i]), free(f->meta_vals[i]);
  free(f->meta_keys), free(f->meta_vals);
  sb_map_free(&f->by_name);
  mapping_release(f->mapping);
  free(f->path);
  free(f);
}

static void mapping_release(void *ctx) {
  st_mapping *m = ctx;
  if (!m || atomic_fetch_sub(&m->refcount, 1) != 1) return;
  munmap(m->addr, m->len);
  free(m);
}

bool sb_safetensors_alias(const sb_safetensors *f, const sb_st_tensor *t, sb_tensor *dst) {
  if (!f || !f->mapping || !t || t->dtype != SB_DTYPE_F32 || sb_tensor_dtype(dst) != SB_DTYPE_F32 ||
      sb_backend_device_type(sb_tensor_backend(dst)) != SB_DEVICE_CPU || (uintptr_t)t->data % 4 != 0 ||
      sb_tensor_numel(dst) * 4 != (int64_t)t->nbytes || t->nbytes == 0)
    return false;
  atomic_fetch_add(&f->mapping->refcount, 1);
  if (sb_tensor_use_external(dst, (void *)t->data, t->nbytes, mapping_release, f->mapping)) {
    mapping_release(f->mapping);
    return false;
  }
  return true;
}

/* ---- accessors ---- */

size_t sb_safetensors_count(const sb_safetensors *f) { return f ? f->count : 0; }

const sb_st_tensor *sb_safetensors_at(const sb_safetensors *f, size_t i) {
  return f && i < f->count ? &f->entries[i].t : NULL;
}

const sb_st_tensor *sb_safetensors_find(const sb_safetensors *f, const char *name) {
  if (!f || !name) return NULL;
  st_entry *e = sb_map_get(&f->by_name, name);
  return e ? &e->t : NULL;
}

const char *sb_safetensors_metadata(const sb_safetensors *f, const char *key) {
  if (!f || !key) return NULL;
  for (size_t i = 0; i < f->meta_count; i++)
    if (strcmp(f->meta_keys[i], key) == 0) return f->meta_vals[i];
  return NULL;
}

size_t sb_safetensors_metadata_count(const sb_safetensors *f) { return f ? f->meta_count : 0; }

int sb_safetensors_metadata_at(const sb_safetensors *f, size_t i, const char **key,
                               const char **value) {
  if (!f || i >= f->meta_count)
    return sb_error_set(SB_ERR_NOT_FOUND, "%s: no metadata entry %zu (it has %zu)",
                        f ? f->path : "safetensors", i, f ? f->meta_count : 0);
  if (key) *key = f->meta_keys[i];
  if (value) *value = f->meta_vals[i];
  return SB_OK;
}

/* ---- loading ---- */

/* The closest tensor name, for a "did you mean" hint, or NULL. */
static const char *st_closest_name(const sb_safetensors *f, const char *name) {
  const char *best = NULL;
  int best_d = (int)SB_MIN(strlen(name) / 3 + 2, (size_t)8); /* beat this to count */
  for (size_t i = 0; i < f->count; i++) {
    int d = sb_str_distance(name, f->entries[i].t.name);
    if (d < best_d) best = f->entries[i].t.name, best_d = d;
  }
  return best;
}

static const sb_st_tensor *st_find_or_fail(const sb_safetensors *f, const char *name) {
  const sb_st_tensor *t = sb_safetensors_find(f, name);
  if (t) return t;
  const char *hint = st_closest_name(f, name);
  if (hint)
    sb_error_set(SB_ERR_NOT_FOUND, "%s: no tensor named '%s' (did you mean '%s'?)", f->path, name,
                 hint);
  else
    sb_error_set(SB_ERR_NOT_FOUND, "%s: no tensor named '%s'", f->path, name);
  return NULL;
}

static int64_t st_int_get(const void *src, sb_dtype d, int64_t i) {
  switch (d) {
  case SB_DTYPE_I32: return ((const int32_t *)src)[i];
  case SB_DTYPE_I64: return ((const int64_t *)src)[i];
  default: return ((const uint8_t *)src)[i];
  }
}

/* Integer dtypes among themselves; narrowing keeps the low bits (as numpy's astype). */
static void st_convert_int(void *dst, sb_dtype dd, const void *src, sb_dtype sd, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    uint64_t v = (uint64_t)st_int_get(src, sd, i);
    switch (dd) {
    case SB_DTYPE_I32: ((uint32_t *)dst)[i] = (uint32_t)v; break;
    case SB_DTYPE_I64: ((uint64_t *)dst)[i] = v; break;
    default: ((uint8_t *)dst)[i] = (uint8_t)v; break;
    }
  }
}

/* Float dtypes through sb_convert, integer ones here (the caller keeps them apart). */
static void st_convert(void *dst, sb_dtype dst_dtype, const void *src, sb_dtype src_dtype,
                       int64_t n) {
  if (sb_dtype_is_float(dst_dtype))
    sb_convert(dst, dst_dtype, src, src_dtype, n);
  else
    st_convert_int(dst, dst_dtype, src, src_dtype, n);
}

/* Converts t's data (possibly unaligned) into a new host buffer of dtype. */
static void *st_converted(const sb_st_tensor *t, sb_dtype dtype, int64_t numel) {
  void *dst = sb_malloc((size_t)numel * sb_dtype_size(dtype));
  void *tmp = NULL;
  const void *src = t->data;
  if ((uintptr_t)src % sb_dtype_size(t->dtype) != 0) { /* sb_convert reads aligned values */
    if ((tmp = sb_malloc(t->nbytes))) memcpy(tmp, t->data, t->nbytes);
    src = tmp;
  }
  if (dst && src) {
    st_convert(dst, dtype, src, t->dtype, numel);
  } else {
    free(dst);
    dst = NULL;
  }
  free(tmp);
  return dst;
}

sb_tensor *sb_safetensors_load(const sb_safetensors *f, const char *name, sb_dtype dtype) {
  if (!f || !name) {
    sb_error("safetensors_load: %s", f ? "no tensor name" : "no file");
    return NULL;
  }
  const sb_st_tensor *t = st_find_or_fail(f, name);
  if (!t) return NULL;
  if ((unsigned)dtype >= SB_DTYPE_COUNT) {
    sb_error_set(SB_ERR_SHAPE, "%s: tensor '%s': cannot load as unknown dtype %d", f->path, name,
                 (int)dtype);
    return NULL;
  }
  if (dtype == t->dtype) {
    sb_tensor *r = sb_tensor_from_host(dtype, t->ndim, t->shape, t->data);
    if (!r) sb_error_prefix("%s: tensor '%s'", f->path, name);
    return r;
  }
  if (sb_dtype_is_float(dtype) != sb_dtype_is_float(t->dtype)) {
    sb_error_set(SB_ERR_SHAPE, "%s: tensor '%s': cannot load %s as %s (float and integer dtypes "
                 "do not convert into each other)", f->path, name, sb_dtype_name(t->dtype),
                 sb_dtype_name(dtype));
    return NULL;
  }
  /* numel * 8 cannot overflow: numel * (at least 1 byte) fits in the mapping. */
  int64_t numel = (int64_t)(t->nbytes / sb_dtype_size(t->dtype));
  void *buf = st_converted(t, dtype, numel);
  sb_tensor *r = buf ? sb_tensor_from_host(dtype, t->ndim, t->shape, buf) : NULL;
  free(buf);
  if (!r) sb_error_prefix("%s: tensor '%s'", f->path, name);
  return r;
}
