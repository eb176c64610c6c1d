/* camera_io.c — intrinsics and poses for real inputs (spatial_io.h):
 * presets (NYUv2's colour camera, the Kinect defaults PCL and TUM use),
 * literal "fx,fy,cx,cy[,pixel_center]", and per-image JSON files; scaled to
 * the depth map's size when they were calibrated at another. Also the
 * --objects descriptions file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spatial_io.h"
#include "util.h"

typedef struct preset {
  const char *name;
  int width, height;
  double fx, fy, cx, cy, pixel_center;
} preset;

/* NYUv2: the toolbox's camera_params.m (colour camera), whose MATLAB code
 * puts pixel centres at 1-based integers (pixel_center 1). Kinect: PCL's
 * and TUM's defaults (fx = fy = 525, centres on integers). */
static const preset k_presets[] = {
    {"nyuv2", 640, 480, 518.8579011745019, 519.4696111212749, 325.5824494111903, 253.7361663340047, 1.0},
    {"kinect", 640, 480, 525.0, 525.0, 319.5, 239.5, 0.0},
};

static const preset *find_preset(const char *name) {
  for (size_t i = 0; i < SB_ARRAY_LEN(k_presets); i++)
    if (strcmp(k_presets[i].name, name) == 0) return &k_presets[i];
  return NULL;
}

/* "fx,fy,cx,cy[,pixel_center]" into v; returns how many numbers (0: not that form). */
static int parse_literal(const char *spec, double v[5]) {
  int n = 0;
  const char *p = spec;
  while (*p && n < 5) {
    char *end;
    v[n] = strtod(p, &end);
    if (end == p) return 0;
    n++;
    p = end;
    if (*p == ',') p++;
    else break;
  }
  return *p || n < 4 ? 0 : n;
}

bool sb_camera_is_inline(const char *spec) {
  double v[5];
  return find_preset(spec) || parse_literal(spec, v) > 0;
}

/* Intrinsics calibrated at w0×h0 for a w×h map: the continuous image
 * coordinates scale, pixel-centre convention kept. */
static void scale_to(sb_intrinsics *k, int w0, int h0, int w, int h) {
  if (w0 <= 0 || h0 <= 0 || (w0 == w && h0 == h)) return;
  double sx = (double)w / w0, sy = (double)h / h0, pc = k->pixel_center;
  k->fx *= sx, k->fy *= sy;
  k->cx = sx * (k->cx - pc + 0.5) - 0.5 + pc;
  k->cy = sy * (k->cy - pc + 0.5) - 0.5 + pc;
}

/* K as 9 numbers, flat or as 3 rows. */
static int read_matrix(const sb_json *K, double m[9]) {
  size_t k = 0;
  for (size_t i = 0; i < sb_json_array_size(K); i++) {
    const sb_json *row = sb_json_array_at(K, i);
    bool nested = sb_json_typeof(row) == SB_JSON_ARRAY;
    for (size_t j = 0; j < (nested ? sb_json_array_size(row) : 1); j++)
      if (k == 9 || sb_json_float(nested ? sb_json_array_at(row, j) : row, &m[k++])) return SB_ERR_FORMAT;
  }
  return k == 9 ? SB_OK : SB_ERR_FORMAT;
}

static int read_k(const sb_json *root, sb_intrinsics *k) {
  const sb_json *K = sb_json_get(root, "K");
  if (K) {
    double m[9];
    if (read_matrix(K, m)) return sb_error_set(SB_ERR_FORMAT, "%s: 'K' must be a 3×3 matrix", sb_json_source(root));
    k->fx = m[0], k->fy = m[4], k->cx = m[2], k->cy = m[5];
    return SB_OK;
  }
  const char *keys[4] = {"fx", "fy", "cx", "cy"};
  double *dst[4] = {&k->fx, &k->fy, &k->cx, &k->cy};
  for (int i = 0; i < 4; i++) {
    if (!sb_json_get(root, keys[i]))
      return sb_error_set(SB_ERR_FORMAT, "%s: no '%s' (intrinsics need fx, fy, cx, cy or K)", sb_json_source(root),
                          keys[i]);
    if (sb_json_get_float(root, keys[i], 0, dst[i])) return sb_error_code();
  }
  return SB_OK;
}

static int camera_from_json(const char *path, int w, int h, double pc, sb_view_camera *out) {
  sb_json_doc *doc = sb_json_load(path);
  if (!doc) return sb_error_code();
  const sb_json *root = sb_json_root(doc);
  int64_t w0 = 0, h0 = 0;
  int rc = read_k(root, &out->k);
  if (!rc) rc = sb_json_get_float(root, "pixel_center", pc, &out->k.pixel_center);
  if (!rc) rc = sb_json_get_int(root, "width", 0, &w0);
  if (!rc) rc = sb_json_get_int(root, "height", 0, &h0);
  if (!rc && sb_json_get(root, "cam_to_world")) {
    rc = sb_json_get_floats(root, "cam_to_world", out->cam_to_world, 16);
    out->has_pose = rc == SB_OK;
  }
  if (!rc) scale_to(&out->k, (int)w0, (int)h0, w, h);
  sb_json_free(doc);
  return rc;
}

int sb_camera_resolve(const char *spec, int width, int height, double pixel_center, sb_view_camera *out) {
  memset(out, 0, sizeof *out);
  sb_mat4_identity(out->cam_to_world);
  const preset *p = find_preset(spec);
  double v[5];
  int n;
  if (p) {
    out->k = (sb_intrinsics){p->fx, p->fy, p->cx, p->cy, p->pixel_center};
    scale_to(&out->k, p->width, p->height, width, height);
    return SB_OK;
  }
  if ((n = parse_literal(spec, v)) > 0) {
    out->k = (sb_intrinsics){v[0], v[1], v[2], v[3], n == 5 ? v[4] : pixel_center};
    return SB_OK;
  }
  if (!sb_path_exists(spec))
    return sb_error_set(SB_ERR_NOT_FOUND, "intrinsics '%s': not a preset (nyuv2, kinect), not fx,fy,cx,cy and no such "
                        "file", spec);
  return camera_from_json(spec, width, height, pixel_center, out);
}

/* ---- descriptions ---- */

static int describe_map(const sb_json *objs, sb_qa_input *in) {
  for (size_t i = 0; i < sb_json_object_size(objs); i++) {
    const char *key = sb_json_object_key(objs, i), *text = sb_json_string(sb_json_object_value(objs, i));
    char *end;
    long id = strtol(key, &end, 10);
    if (end == key || *end || id < 1 || id > 65535 || !text)
      return sb_error_set(SB_ERR_FORMAT, "%s: objects: '%s': expected an object id (1–65535) and a description",
                          sb_json_source(objs), key);
    if (sb_qa_input_describe(in, (int)id, text)) return SB_ERR_NOMEM;
  }
  return SB_OK;
}

static int describe_list(const sb_json *objs, sb_qa_input *in) {
  for (size_t i = 0; i < sb_json_array_size(objs); i++) {
    const sb_json *o = sb_json_array_at(objs, i);
    int64_t id;
    const char *text = NULL;
    if (sb_json_typeof(o) != SB_JSON_OBJECT || !sb_json_require(o, "id", SB_JSON_INT) ||
        sb_json_get_int(o, "id", 0, &id))
      return sb_error_prefix("objects[%zu]", i);
    if (sb_json_get_string(o, "name", NULL, &text) || (!text && sb_json_get_string(o, "description", NULL, &text)))
      return sb_error_code();
    if (!text) return sb_error_set(SB_ERR_FORMAT, "%s: objects[%zu]: no 'name'", sb_json_source(o), i);
    if (sb_qa_input_describe(in, (int)id, text)) return SB_ERR_NOMEM;
  }
  return SB_OK;
}

static int describe_any(const sb_json *objs, sb_qa_input *in) {
  return sb_json_typeof(objs) == SB_JSON_ARRAY ? describe_list(objs, in) : describe_map(objs, in);
}

int sb_objects_describe(const sb_json *root, const char *key, sb_qa_input *in) {
  const sb_json *entry = NULL;
  for (size_t i = 0; i < sb_json_object_size(root) && !entry; i++) /* not sb_json_get: keys may hold dots */
    if (strcmp(sb_json_object_key(root, i), key) == 0) entry = sb_json_object_value(root, i);
  if (!entry) return SB_OK;
  if (sb_json_typeof(entry) == SB_JSON_ARRAY) return describe_list(entry, in);
  if (sb_json_typeof(entry) != SB_JSON_OBJECT)
    return sb_error_set(SB_ERR_FORMAT, "%s: '%s': expected an object or a list", sb_json_source(root), key);
  const sb_json *objs = sb_json_get(entry, "objects"), *cap = sb_json_get(entry, "caption");
  if (cap) {
    if (!sb_json_string(cap)) return sb_error_set(SB_ERR_FORMAT, "%s: '%s': caption: expected a string",
                                                  sb_json_source(root), key);
    free(in->caption);
    if (!(in->caption = sb_strdup(sb_json_string(cap)))) return SB_ERR_NOMEM;
  }
  if (objs) return describe_any(objs, in);
  return cap ? SB_OK : describe_map(entry, in);
}
