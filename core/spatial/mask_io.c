/* mask_io.c — instance masks for the generator (spatial_io.h): 16-bit id
 * PNGs (one mask per nonzero id) and SA-1B / COCO RLE JSON (compressed
 * counts strings or plain run lists, decoded with rle.c), each mask kept as
 * the list of its pixels. */
#include <stdlib.h>
#include <string.h>

#include "rle.h"
#include "spatial_io.h"
#include "spatialboost/image.h"
#include "util.h"

void sb_masks_free(sb_mask_set *m) {
  if (!m) return;
  for (int i = 0; i < m->n; i++) free(m->masks[i].pixels);
  free(m->masks);
  memset(m, 0, sizeof *m);
}

int sb_masks_from_ids(const uint16_t *ids, int width, int height, sb_mask_set *out) {
  memset(out, 0, sizeof *out);
  out->width = width, out->height = height;
  size_t n_px = (size_t)width * (size_t)height;
  size_t *count = sb_calloc(65536, sizeof *count);
  if (!count) return SB_ERR_NOMEM;
  for (size_t i = 0; i < n_px; i++) count[ids[i]]++;
  int n = 0;
  for (int id = 1; id < 65536; id++) n += count[id] > 0;
  int rc = (out->masks = sb_calloc((size_t)(n ? n : 1), sizeof *out->masks)) ? SB_OK : SB_ERR_NOMEM;
  int *slot = rc ? NULL : sb_malloc(65536 * sizeof *slot);
  if (!rc && !slot) rc = SB_ERR_NOMEM;
  for (int id = 1; rc == SB_OK && id < 65536; id++) {
    slot[id] = -1;
    if (!count[id]) continue;
    sb_qa_mask *m = &out->masks[out->n];
    m->id = id;
    if (!(m->pixels = sb_malloc(count[id] * sizeof *m->pixels))) rc = SB_ERR_NOMEM;
    slot[id] = out->n++;
  }
  for (size_t i = 0; rc == SB_OK && i < n_px; i++)
    if (ids[i]) {
      sb_qa_mask *m = &out->masks[slot[ids[i]]];
      m->pixels[m->n++] = (uint32_t)i;
    }
  free(count), free(slot);
  if (rc) sb_masks_free(out);
  return rc;
}

static int load_id_png(const char *path, sb_mask_set *out) {
  sb_image16 img;
  if (sb_image16_load(path, &img)) return sb_error_code();
  int rc = sb_masks_from_ids(img.data, img.width, img.height, out);
  sb_image16_free(&img);
  return rc;
}

/* ---- RLE JSON ---- */

/* An uncompressed RLE: "counts" as a list of runs. */
static int runs_from_list(const sb_json *counts, int h, int w, sb_rle *r, const char *where) {
  size_t n = sb_json_array_size(counts);
  r->height = h, r->width = w, r->n = n;
  if (!(r->counts = sb_malloc((n ? n : 1) * sizeof *r->counts))) return SB_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    int64_t v;
    if (sb_json_int(sb_json_array_at(counts, i), &v) || v < 0 || v > UINT32_MAX)
      return sb_error_set(SB_ERR_FORMAT, "%s: counts[%zu]: expected a run length", where, i);
    r->counts[i] = (uint32_t)v;
  }
  return SB_OK;
}

/* The size [h, w] of a segmentation. */
static int seg_size(const sb_json *seg, int *h, int *w, const char *where) {
  double s[2];
  if (sb_json_get_floats(seg, "size", s, 2)) return sb_error_prefix("%s", where);
  if (s[0] < 1 || s[1] < 1 || s[0] > 65535 || s[1] > 65535)
    return sb_error_set(SB_ERR_FORMAT, "%s: size [%g, %g] is not a valid mask size", where, s[0], s[1]);
  *h = (int)s[0], *w = (int)s[1];
  return SB_OK;
}

/* The pixels of one annotation's RLE (row-major indices). */
static int decode_annotation(const sb_json *seg, int h, int w, sb_qa_mask *m, const char *where) {
  const sb_json *counts = sb_json_get(seg, "counts");
  sb_rle r = {0};
  int rc;
  if (counts && sb_json_typeof(counts) == SB_JSON_STRING) rc = sb_rle_from_string(sb_json_string(counts), h, w, &r);
  else if (counts && sb_json_typeof(counts) == SB_JSON_ARRAY) rc = runs_from_list(counts, h, w, &r, where);
  else rc = sb_error_set(SB_ERR_FORMAT, "%s: 'counts' must be an RLE string or a list of runs", where);
  uint8_t *mask = rc ? NULL : sb_malloc((size_t)h * (size_t)w);
  if (!rc && !mask) rc = SB_ERR_NOMEM;
  if (!rc && (rc = sb_rle_decode(&r, mask))) sb_error_prefix("%s", where);
  size_t n = 0;
  for (size_t i = 0; !rc && i < (size_t)h * (size_t)w; i++) n += mask[i] != 0;
  if (!rc && !(m->pixels = sb_malloc((n ? n : 1) * sizeof *m->pixels))) rc = SB_ERR_NOMEM;
  for (size_t i = 0; !rc && i < (size_t)h * (size_t)w; i++)
    if (mask[i]) m->pixels[m->n++] = (uint32_t)i;
  free(mask);
  sb_rle_free(&r);
  return rc;
}

static int annotation_id(const sb_json *a, size_t index, int *id, const char *where) {
  int64_t v = (int64_t)index + 1;
  const char *key = sb_json_get(a, "object_id") ? "object_id" : sb_json_get(a, "id") ? "id" : NULL;
  if (key && sb_json_get_int(a, key, v, &v)) return sb_error_prefix("%s", where);
  if (v < 1 || v > 65535) return sb_error_set(SB_ERR_FORMAT, "%s: id %lld: expected 1 to 65535", where, (long long)v);
  *id = (int)v;
  return SB_OK;
}

static int load_annotation(const sb_json *a, size_t i, const char *path, sb_mask_set *out) {
  char where[600];
  snprintf(where, sizeof where, "%s: annotations[%zu]", path, i);
  const sb_json *seg = sb_json_get(a, "segmentation");
  if (!seg) return sb_error_set(SB_ERR_FORMAT, "%s: no 'segmentation'", where);
  if (sb_json_typeof(seg) == SB_JSON_ARRAY)
    return sb_error_set(SB_ERR_FORMAT, "%s: a polygon segmentation; only RLE masks are read (convert with "
                        "pycocotools' frPyObjects)", where);
  int h = 0, w = 0, id = 0;
  if (seg_size(seg, &h, &w, where) || annotation_id(a, i, &id, where)) return sb_error_code();
  if (out->width && (h != out->height || w != out->width))
    return sb_error_set(SB_ERR_SHAPE, "%s: a %d×%d mask among %d×%d ones", where, w, h, out->width, out->height);
  out->height = h, out->width = w;
  sb_qa_mask m = {.id = id};
  int rc = decode_annotation(seg, h, w, &m, where);
  if (rc || !m.n) {
    free(m.pixels);
    return rc;
  }
  out->masks[out->n++] = m;
  return SB_OK;
}

static int load_rle_json(const char *path, sb_mask_set *out) {
  sb_json_doc *doc = sb_json_load(path);
  if (!doc) return sb_error_code();
  const sb_json *root = sb_json_root(doc), *list = root;
  if (sb_json_typeof(root) == SB_JSON_OBJECT) list = sb_json_require(root, "annotations", SB_JSON_ARRAY);
  int rc = list && sb_json_typeof(list) == SB_JSON_ARRAY
               ? SB_OK
               : list ? sb_error_set(SB_ERR_FORMAT, "%s: expected {\"annotations\": [...]} or a list of annotations", path)
                      : sb_error_code();
  size_t n = rc ? 0 : sb_json_array_size(list);
  if (!rc && !(out->masks = sb_calloc(n ? n : 1, sizeof *out->masks))) rc = SB_ERR_NOMEM;
  for (size_t i = 0; !rc && i < n; i++) rc = load_annotation(sb_json_array_at(list, i), i, path, out);
  sb_json_free(doc);
  return rc;
}

int sb_masks_load(const char *path, sb_mask_set *out) {
  memset(out, 0, sizeof *out);
  int rc;
  if (sb_str_ends_with(path, ".png") || sb_str_ends_with(path, ".PNG")) rc = load_id_png(path, out);
  else if (sb_str_ends_with(path, ".json")) rc = load_rle_json(path, out);
  else rc = sb_error_set(SB_ERR_FORMAT, "%s: unknown mask format (expected an id .png or RLE .json)", path);
  if (rc) sb_masks_free(out);
  return rc;
}
