/* npy.c — NumPy arrays for depth inputs: the .npy format (versions 1–3,
 * little- or big-endian floats and integers, C or Fortran order) and .npz
 * archives (a zip of .npy members, stored or deflated; read through the
 * central directory, inflated with zlib). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "spatial_io.h"
#include "spatialboost/tensor.h"
#include "util.h"

/* ---- .npy ---- */

static uint32_t le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const uint8_t *p) { return le16(p) | le16(p + 2) << 16; }

/* The value of 'key': in the header dict, or NULL. */
static const char *dict_value(const char *hdr, const char *key) {
  char pat[32];
  snprintf(pat, sizeof pat, "'%s':", key);
  const char *p = strstr(hdr, pat);
  if (!p) return NULL;
  p += strlen(pat);
  while (*p == ' ') p++;
  return p;
}

typedef struct npy_type {
  char kind; /* 'f', 'i', 'u', 'b' */
  int size;
  bool big;
} npy_type;

static int parse_descr(const char *v, const char *name, npy_type *t) {
  if (!v || *v != '\'') return sb_error_set(SB_ERR_FORMAT, "%s: NumPy header without a 'descr'", name);
  char order = v[1], kind = v[2];
  int size = atoi(v + 3);
  t->kind = kind, t->size = size, t->big = order == '>';
  bool ok = (order == '<' || order == '>' || order == '|' || order == '=') &&
            ((kind == 'f' && (size == 4 || size == 8 || size == 2)) ||
             ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
             (kind == 'b' && size == 1));
  if (!ok) return sb_error_set(SB_ERR_FORMAT, "%s: NumPy dtype %.8s is not a number type this reader takes", name, v);
  return SB_OK;
}

static int parse_shape(const char *v, const char *name, sb_npy *out) {
  if (!v || *v != '(') return sb_error_set(SB_ERR_FORMAT, "%s: NumPy header without a 'shape'", name);
  out->ndim = 0;
  for (const char *p = v + 1; *p && *p != ')';) {
    char *end;
    long long d = strtoll(p, &end, 10);
    if (end == p) {
      p++;
      continue;
    }
    if (out->ndim == 3 || d < 0) return sb_error_set(SB_ERR_SHAPE, "%s: NumPy shape %.40s: expected 1 to 3 dimensions", name, v);
    out->shape[out->ndim++] = d;
    p = end;
  }
  if (out->ndim == 0) return sb_error_set(SB_ERR_SHAPE, "%s: a NumPy scalar, expected an array", name);
  return SB_OK;
}

static double read_value(const uint8_t *p, const npy_type *t) {
  uint8_t b[8];
  for (int i = 0; i < t->size; i++) b[i] = t->big ? p[t->size - 1 - i] : p[i];
  uint64_t u = 0;
  for (int i = t->size - 1; i >= 0; i--) u = u << 8 | b[i];
  switch (t->kind) {
  case 'f':
    if (t->size == 8) {
      double d;
      memcpy(&d, &u, 8);
      return d;
    } else if (t->size == 4) {
      uint32_t u32 = (uint32_t)u;
      float f;
      memcpy(&f, &u32, 4);
      return f;
    }
    return sb_f16_to_f32((uint16_t)u);
  case 'i': {
    int shift = 64 - 8 * t->size;
    return (double)((int64_t)(u << shift) >> shift);
  }
  default:
    return (double)u;
  }
}

/* Fortran order to C order, in place through a copy. */
static int to_c_order(sb_npy *a) {
  if (a->ndim < 2) return SB_OK;
  size_t n = 1;
  for (int i = 0; i < a->ndim; i++) n *= (size_t)a->shape[i];
  double *c = sb_malloc(n * sizeof *c);
  if (!c) return SB_ERR_NOMEM;
  int64_t d0 = a->shape[0], d1 = a->shape[1], d2 = a->ndim == 3 ? a->shape[2] : 1;
  for (int64_t i = 0; i < d0; i++)
    for (int64_t j = 0; j < d1; j++)
      for (int64_t k = 0; k < d2; k++) c[(i * d1 + j) * d2 + k] = a->data[i + d0 * (j + d1 * k)];
  free(a->data);
  a->data = c;
  return SB_OK;
}

int sb_npy_parse(const uint8_t *buf, size_t len, const char *name, sb_npy *out) {
  memset(out, 0, sizeof *out);
  if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) return sb_error_set(SB_ERR_FORMAT, "%s: not a NumPy .npy array", name);
  size_t hlen = buf[6] == 1 ? le16(buf + 8) : le32(buf + 8), start = buf[6] == 1 ? 10 : 12;
  if (start + hlen > len) return sb_error_set(SB_ERR_FORMAT, "%s: NumPy header runs past the end", name);
  char *hdr = sb_strndup((const char *)buf + start, hlen);
  if (!hdr) return SB_ERR_NOMEM;
  npy_type t = {0};
  const char *fo = dict_value(hdr, "fortran_order");
  bool fortran = fo && strncmp(fo, "True", 4) == 0;
  int rc = parse_descr(dict_value(hdr, "descr"), name, &t);
  if (rc == SB_OK) rc = parse_shape(dict_value(hdr, "shape"), name, out);
  free(hdr);
  if (rc) return rc;
  size_t n = 1;
  for (int i = 0; i < out->ndim; i++) {
    if (out->shape[i] > ((int64_t)1 << 32) || (out->shape[i] && n > ((size_t)1 << 36) / (size_t)out->shape[i]))
      return sb_error_set(SB_ERR_SHAPE, "%s: NumPy array too large", name);
    n *= (size_t)out->shape[i];
  }
  if (len - start - hlen < n * (size_t)t.size)
    return sb_error_set(SB_ERR_FORMAT, "%s: NumPy data holds %zu bytes, the shape needs %zu", name, len - start - hlen,
                        n * (size_t)t.size);
  if (!(out->data = sb_malloc((n ? n : 1) * sizeof *out->data))) return SB_ERR_NOMEM;
  const uint8_t *p = buf + start + hlen;
  for (size_t i = 0; i < n; i++) out->data[i] = read_value(p + i * (size_t)t.size, &t);
  out->is_float = t.kind == 'f';
  if (fortran && (rc = to_c_order(out))) sb_npy_free(out);
  return rc;
}

int sb_npy_load(const char *path, sb_npy *out) {
  size_t len;
  char *buf = sb_file_read(path, &len);
  if (!buf) return sb_error_set(SB_ERR_IO, "%s: cannot read", path);
  int rc = sb_npy_parse((const uint8_t *)buf, len, path, out);
  free(buf);
  return rc;
}

void sb_npy_free(sb_npy *a) {
  if (!a) return;
  free(a->data);
  memset(a, 0, sizeof *a);
}

/* ---- zip ---- */

typedef struct zip_entry {
  char *name;
  int method;
  uint32_t comp, size, offset;
} zip_entry;

typedef struct zip {
  uint8_t *buf;
  size_t len;
  zip_entry *e;
  int n;
} zip;

static void zip_close(zip *z) {
  for (int i = 0; i < z->n; i++) free(z->e[i].name);
  free(z->e), free(z->buf);
  memset(z, 0, sizeof *z);
}

/* The end-of-central-directory record, searched from the end. */
static const uint8_t *find_eocd(const zip *z) {
  if (z->len < 22) return NULL;
  size_t stop = z->len > 22 + 65535 ? z->len - 22 - 65535 : 0;
  for (size_t i = z->len - 22 + 1; i-- > stop;)
    if (le32(z->buf + i) == 0x06054b50) return z->buf + i;
  return NULL;
}

static int read_directory(zip *z, const char *path) {
  const uint8_t *eocd = find_eocd(z);
  if (!eocd) return sb_error_set(SB_ERR_FORMAT, "%s: not a zip archive (no end of central directory)", path);
  uint32_t count = le16(eocd + 10), off = le32(eocd + 16);
  if (count == 0xffff || off == 0xffffffffu) return sb_error_set(SB_ERR_FORMAT, "%s: zip64 archives are not read", path);
  if (!(z->e = sb_calloc(count ? count : 1, sizeof *z->e))) return SB_ERR_NOMEM;
  for (uint32_t i = 0; i < count; i++) {
    if ((size_t)off + 46 > z->len || le32(z->buf + off) != 0x02014b50)
      return sb_error_set(SB_ERR_FORMAT, "%s: corrupt zip central directory", path);
    const uint8_t *c = z->buf + off;
    uint32_t nlen = le16(c + 28), xlen = le16(c + 30), clen = le16(c + 32);
    if ((size_t)off + 46 + nlen > z->len) return sb_error_set(SB_ERR_FORMAT, "%s: corrupt zip central directory", path);
    zip_entry *e = &z->e[z->n];
    e->method = (int)le16(c + 10), e->comp = le32(c + 20), e->size = le32(c + 24), e->offset = le32(c + 42);
    if (!(e->name = sb_strndup((const char *)c + 46, nlen))) return SB_ERR_NOMEM;
    z->n++;
    off += 46 + nlen + xlen + clen;
  }
  return SB_OK;
}

static int zip_open(zip *z, const char *path) {
  memset(z, 0, sizeof *z);
  if (!(z->buf = (uint8_t *)sb_file_read(path, &z->len))) return sb_error_set(SB_ERR_IO, "%s: cannot read", path);
  int rc = read_directory(z, path);
  if (rc) zip_close(z);
  return rc;
}

static int inflate_raw(const uint8_t *src, size_t n, uint8_t *dst, size_t size, const char *what) {
  z_stream s;
  memset(&s, 0, sizeof s);
  if (inflateInit2(&s, -15) != Z_OK) return sb_error("%s: zlib cannot start", what);
  s.next_in = (Bytef *)src, s.avail_in = (uInt)n, s.next_out = dst, s.avail_out = (uInt)size;
  int zr = inflate(&s, Z_FINISH);
  size_t got = s.total_out;
  inflateEnd(&s);
  if (zr != Z_STREAM_END || got != size) return sb_error_set(SB_ERR_FORMAT, "%s: corrupt deflate data", what);
  return SB_OK;
}

static int entry_data(const zip *z, const zip_entry *e, const char *path, uint8_t **data, size_t *len) {
  const uint8_t *h = z->buf + e->offset;
  if ((size_t)e->offset + 30 > z->len || le32(h) != 0x04034b50)
    return sb_error_set(SB_ERR_FORMAT, "%s: %s: corrupt zip local header", path, e->name);
  size_t start = (size_t)e->offset + 30 + le16(h + 26) + le16(h + 28);
  if (start + e->comp > z->len) return sb_error_set(SB_ERR_FORMAT, "%s: %s: runs past the end", path, e->name);
  if (e->method != 0 && e->method != 8)
    return sb_error_set(SB_ERR_FORMAT, "%s: %s: zip method %d (only stored and deflated are read)", path, e->name,
                        e->method);
  if (!(*data = sb_malloc(e->size ? e->size : 1))) return SB_ERR_NOMEM;
  *len = e->size;
  if (e->method == 0) {
    if (e->comp != e->size) return sb_error_set(SB_ERR_FORMAT, "%s: %s: stored sizes differ", path, e->name);
    memcpy(*data, z->buf + start, e->size);
    return SB_OK;
  }
  char what[512];
  snprintf(what, sizeof what, "%s: %s", path, e->name);
  return inflate_raw(z->buf + start, e->comp, *data, e->size, what);
}

int sb_zip_read(const char *path, const char *member, uint8_t **data, size_t *len) {
  *data = NULL, *len = 0;
  zip z;
  int rc = zip_open(&z, path);
  if (rc) return rc;
  const zip_entry *e = NULL;
  for (int i = 0; i < z.n && !e; i++)
    if (strcmp(z.e[i].name, member) == 0) e = &z.e[i];
  if (!e) rc = sb_error_set(SB_ERR_NOT_FOUND, "%s: no member '%s'", path, member);
  else rc = entry_data(&z, e, path, data, len);
  if (rc) free(*data), *data = NULL;
  zip_close(&z);
  return rc;
}

int sb_zip_list(const char *path, char ***names, int *n) {
  *names = NULL, *n = 0;
  zip z;
  int rc = zip_open(&z, path);
  if (rc) return rc;
  if (!(*names = sb_calloc((size_t)(z.n ? z.n : 1), sizeof **names))) rc = SB_ERR_NOMEM;
  for (int i = 0; rc == SB_OK && i < z.n; i++) (*names)[i] = z.e[i].name, z.e[i].name = NULL, (*n)++;
  zip_close(&z);
  return rc;
}

/* The member to read: "x.npy" for "x"; "depth.npy" or the only member for NULL. */
static char *pick_member(const char *path, const char *member) {
  if (member) return sb_str_ends_with(member, ".npy") ? sb_strdup(member) : sb_asprintf("%s.npy", member);
  char **names;
  int n;
  if (sb_zip_list(path, &names, &n)) return NULL;
  char *pick = NULL;
  for (int i = 0; i < n && !pick; i++)
    if (strcmp(names[i], "depth.npy") == 0) pick = sb_strdup(names[i]);
  if (!pick && n == 1) pick = sb_strdup(names[0]);
  if (!pick) sb_error_set(SB_ERR_FORMAT, "%s: %d arrays and none named 'depth'; say which", path, n);
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
  return pick;
}

int sb_npz_load(const char *path, const char *member, sb_npy *out) {
  memset(out, 0, sizeof *out);
  char *name = pick_member(path, member);
  if (!name) return sb_error_code() ? sb_error_code() : SB_ERR;
  uint8_t *data;
  size_t len;
  int rc = sb_zip_read(path, name, &data, &len);
  if (rc == SB_OK) {
    char what[600];
    snprintf(what, sizeof what, "%s: %s", path, name);
    rc = sb_npy_parse(data, len, what, out);
    free(data);
  }
  free(name);
  return rc;
}
