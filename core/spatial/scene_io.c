/* scene_io.c — reading and writing scene folders (scene.h, SCENES.md):
 * scene.json and the views' camera.json both ways, one view's pixels
 * (image, depth, instances) with their sizes checked against each other,
 * and the atomic JSON writer the synthetic scenes use (synth.h). Errors name
 * the file and what is wrong with it. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rle.h"
#include "spatialboost/json.h"
#include "spatialboost/safetensors.h"
#include "synth.h"
#include "util.h"

/* ---- writing JSON ---- */

double sb_scene_json_snap(double v) {
  char text[40];
  snprintf(text, sizeof text, "%.12g", v);
  return strtod(text, NULL);
}

int sb_scene_json_write(const json_t *v, const char *path) {
  char *text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
  if (!text) return sb_error_set(SB_ERR_NOMEM, "%s: cannot format the JSON", path);
  char *tmp = sb_asprintf("%s.tmp.%d", path, (int)getpid());
  FILE *f = tmp ? fopen(tmp, "wb") : NULL;
  size_t len = strlen(text);
  bool ok = f && fwrite(text, 1, len, f) == len && fputc('\n', f) != EOF;
  if (f && fclose(f) != 0) ok = false;
  int err = errno;
  if (ok && rename(tmp, path) != 0) ok = false, err = errno;
  if (!ok && tmp) remove(tmp);
  free(text);
  free(tmp);
  return ok ? SB_OK : sb_error_set(SB_ERR_IO, "%s: cannot write: %s", path, strerror(err));
}

static json_t *json_doubles(const double *v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) json_array_append_new(a, json_real(v[i]));
  return a;
}

static json_t *camera_json(const sb_camera *c) {
  json_t *j = json_object();
  json_object_set_new(j, "width", json_integer(c->width));
  json_object_set_new(j, "height", json_integer(c->height));
  json_object_set_new(j, "fx", json_real(c->fx));
  json_object_set_new(j, "fy", json_real(c->fy));
  json_object_set_new(j, "cx", json_real(c->cx));
  json_object_set_new(j, "cy", json_real(c->cy));
  json_object_set_new(j, "cam_to_world", json_doubles(c->cam_to_world, 16));
  return j;
}

static json_t *object_json(const sb_scene_object *o) {
  json_t *j = json_object(), *rgb = json_array();
  for (int a = 0; a < 3; a++) json_array_append_new(rgb, json_integer(o->rgb[a]));
  json_object_set_new(j, "id", json_integer(o->id));
  json_object_set_new(j, "name", json_string(o->name));
  json_object_set_new(j, "shape", json_string(o->shape));
  json_object_set_new(j, "color", json_string(o->color));
  json_object_set_new(j, "rgb", rgb);
  json_object_set_new(j, "material", json_string(o->material));
  json_object_set_new(j, "size", json_string(o->size));
  json_object_set_new(j, "center", json_doubles(o->center, 3));
  json_object_set_new(j, "box_min", json_doubles(o->box_min, 3));
  json_object_set_new(j, "box_max", json_doubles(o->box_max, 3));
  return j;
}

static json_t *scene_json(const sb_scene *s) {
  json_t *j = json_object(), *objects = json_array(), *views = json_array();
  json_object_set_new(j, "id", json_string(s->id ? s->id : ""));
  json_object_set_new(j, "seed", json_integer((json_int_t)s->seed));
  json_object_set_new(j, "caption", json_string(s->caption ? s->caption : ""));
  for (int i = 0; i < s->n_objects; i++) json_array_append_new(objects, object_json(&s->objects[i]));
  for (int i = 0; i < s->n_views; i++) json_array_append_new(views, json_string(sb_path_basename(s->views[i].dir)));
  json_object_set_new(j, "objects", objects);
  json_object_set_new(j, "views", views);
  return j;
}

/* camera.json of view i goes into <scene dir>/<last part of the view's dir>,
 * the folder scene.json's "views" names; scene.json is written last. */
int sb_scene_save(const sb_scene *s) {
  if (!s->dir || !s->id) return sb_error_set(SB_ERR_FORMAT, "scene: no folder or id to save to");
  for (int i = 0; i < s->n_views; i++)
    if (!s->views[i].dir || !*sb_path_basename(s->views[i].dir))
      return sb_error_set(SB_ERR_FORMAT, "%s: view %d has no folder name", s->dir, i);
  for (int i = 0; i < s->n_views; i++) {
    char *vdir = sb_path_join(s->dir, sb_path_basename(s->views[i].dir));
    char *path = vdir ? sb_path_join(vdir, "camera.json") : NULL;
    json_t *j = camera_json(&s->views[i].cam);
    int rc = path ? sb_scene_json_write(j, path) : SB_ERR_NOMEM;
    json_decref(j);
    free(vdir);
    free(path);
    if (rc) return rc;
  }
  char *path = sb_path_join(s->dir, "scene.json");
  json_t *j = scene_json(s);
  int rc = path ? sb_scene_json_write(j, path) : SB_ERR_NOMEM;
  json_decref(j);
  free(path);
  return rc;
}

/* ---- reading scene.json and camera.json ---- */

/* Rewrites the current "<file>: <what>" message to "<file>: <where>: <what>". */
static int within(const char *file, const char *where) {
  const char *m = sb_error_message();
  size_t n = strlen(file);
  const char *rest = strncmp(m, file, n) == 0 && strncmp(m + n, ": ", 2) == 0 ? m + n + 2 : m;
  char *msg = sb_strdup(rest);
  int rc = sb_error_set(SB_ERR_FORMAT, "%s: %s: %s", file, where, msg ? msg : "");
  free(msg);
  return rc;
}

/* An optional string member into a fixed buffer. */
static int get_text(const sb_json *o, const char *key, char *buf, size_t cap) {
  const char *s;
  if (sb_json_get_string(o, key, "", &s)) return SB_ERR_FORMAT;
  if (strlen(s) >= cap)
    return sb_error_set(SB_ERR_FORMAT, "%s: '%s': \"%s\" is longer than %zu characters", sb_json_source(o), key, s,
                        cap - 1);
  memcpy(buf, s, strlen(s) + 1);
  return SB_OK;
}

static int get_rgb(const sb_json *o, uint8_t rgb[3]) {
  if (!sb_json_get(o, "rgb")) return SB_OK;
  double v[3];
  if (sb_json_get_floats(o, "rgb", v, 3)) return SB_ERR_FORMAT;
  for (int a = 0; a < 3; a++) {
    if (!(v[a] >= 0 && v[a] <= 255))
      return sb_error_set(SB_ERR_FORMAT, "%s: 'rgb': %g is not in 0..255", sb_json_source(o), v[a]);
    rgb[a] = (uint8_t)lround(v[a]);
  }
  return SB_OK;
}

/* id, name, box_min and box_max are required; center defaults to the box's. */
static int parse_object(const sb_json *o, sb_scene_object *out) {
  int64_t id;
  memset(out, 0, sizeof *out);
  if (sb_json_typeof(o) != SB_JSON_OBJECT) return sb_error_set(SB_ERR_FORMAT, "%s: not an object", sb_json_source(o));
  if (!sb_json_require(o, "id", SB_JSON_INT) || sb_json_get_int(o, "id", 0, &id)) return SB_ERR_FORMAT;
  if (id < 1 || id > 65535)
    return sb_error_set(SB_ERR_FORMAT, "%s: 'id': %lld is not in 1..65535", sb_json_source(o), (long long)id);
  out->id = (int)id;
  if (!sb_json_require(o, "name", SB_JSON_STRING)) return SB_ERR_FORMAT;
  if (get_text(o, "name", out->name, sizeof out->name) || get_text(o, "shape", out->shape, sizeof out->shape) ||
      get_text(o, "color", out->color, sizeof out->color) ||
      get_text(o, "material", out->material, sizeof out->material) ||
      get_text(o, "size", out->size, sizeof out->size) || get_rgb(o, out->rgb))
    return SB_ERR_FORMAT;
  if (sb_json_get_floats(o, "box_min", out->box_min, 3) || sb_json_get_floats(o, "box_max", out->box_max, 3))
    return SB_ERR_FORMAT;
  for (int a = 0; a < 3; a++) {
    if (!(out->box_min[a] <= out->box_max[a]))
      return sb_error_set(SB_ERR_FORMAT, "%s: 'box_min' [%g, %g, %g] is not below 'box_max' [%g, %g, %g]",
                          sb_json_source(o), out->box_min[0], out->box_min[1], out->box_min[2], out->box_max[0],
                          out->box_max[1], out->box_max[2]);
    out->center[a] = 0.5 * (out->box_min[a] + out->box_max[a]);
  }
  if (sb_json_get(o, "center") && sb_json_get_floats(o, "center", out->center, 3)) return SB_ERR_FORMAT;
  return SB_OK;
}

static int check_rotation(const double *m, const char *path) {
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      double d = m[i] * m[j] + m[4 + i] * m[4 + j] + m[8 + i] * m[8 + j];
      if (fabs(d - (i == j)) > 1e-4)
        return sb_error_set(SB_ERR_FORMAT, "%s: 'cam_to_world': its 3×3 part is not a rotation", path);
    }
  if (m[12] != 0 || m[13] != 0 || m[14] != 0 || m[15] != 1)
    return sb_error_set(SB_ERR_FORMAT, "%s: 'cam_to_world': the last row is not [0, 0, 0, 1]", path);
  return SB_OK;
}

static int parse_camera(const sb_json *j, const char *path, sb_camera *c) {
  int64_t w, h;
  memset(c, 0, sizeof *c);
  if (!sb_json_require(j, "width", SB_JSON_INT) || !sb_json_require(j, "height", SB_JSON_INT) ||
      sb_json_get_int(j, "width", 0, &w) || sb_json_get_int(j, "height", 0, &h))
    return SB_ERR_FORMAT;
  if (w < 1 || h < 1 || w > 65535 || h > 65535)
    return sb_error_set(SB_ERR_FORMAT, "%s: a %lld×%lld image is not a valid size", path, (long long)w, (long long)h);
  c->width = (int)w, c->height = (int)h;
  const char *keys[] = {"fx", "fy", "cx", "cy"};
  double *vals[] = {&c->fx, &c->fy, &c->cx, &c->cy};
  for (int i = 0; i < 4; i++)
    if (!sb_json_require(j, keys[i], SB_JSON_FLOAT) || sb_json_get_float(j, keys[i], 0, vals[i])) return SB_ERR_FORMAT;
  if (!(c->fx > 0) || !(c->fy > 0))
    return sb_error_set(SB_ERR_FORMAT, "%s: the focal lengths fx %g, fy %g must be positive", path, c->fx, c->fy);
  if (sb_json_get_floats(j, "cam_to_world", c->cam_to_world, 16)) return SB_ERR_FORMAT;
  return check_rotation(c->cam_to_world, path);
}

static int load_camera(const char *view_dir, sb_camera *c) {
  char *path = sb_path_join(view_dir, "camera.json");
  if (!path) return SB_ERR_NOMEM;
  sb_json_doc *doc = sb_json_load(path);
  int rc = doc ? parse_camera(sb_json_root(doc), path, c) : SB_ERR_IO;
  sb_json_free(doc);
  free(path);
  return rc;
}

static int load_objects(const sb_json *root, const char *path, sb_scene *s) {
  const sb_json *objs = sb_json_require(root, "objects", SB_JSON_ARRAY);
  if (!objs) return SB_ERR_FORMAT;
  size_t n = sb_json_array_size(objs);
  if (n && !(s->objects = sb_calloc(n, sizeof *s->objects))) return SB_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    char where[32];
    snprintf(where, sizeof where, "objects[%zu]", i);
    if (parse_object(sb_json_array_at(objs, i), &s->objects[i])) return within(path, where);
    for (size_t k = 0; k < i; k++)
      if (s->objects[k].id == s->objects[i].id)
        return sb_error_set(SB_ERR_FORMAT, "%s: %s: the id %d is already objects[%zu]'s", path, where,
                            s->objects[i].id, k);
    s->n_objects++;
  }
  return SB_OK;
}

static int load_views(const sb_json *root, const char *path, sb_scene *s) {
  const sb_json *views = sb_json_require(root, "views", SB_JSON_ARRAY);
  if (!views) return SB_ERR_FORMAT;
  size_t n = sb_json_array_size(views);
  if (n && !(s->views = sb_calloc(n, sizeof *s->views))) return SB_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    const char *name = sb_json_string(sb_json_array_at(views, i));
    if (!name || !name[0] || strchr(name, '/'))
      return sb_error_set(SB_ERR_FORMAT, "%s: views[%zu]: expected a folder name", path, i);
    if (!(s->views[i].dir = sb_path_join(s->dir, name))) return SB_ERR_NOMEM;
    s->n_views++;
    if (load_camera(s->views[i].dir, &s->views[i].cam)) return SB_ERR_FORMAT;
  }
  return SB_OK;
}

static int parse_scene(const sb_json *root, const char *path, sb_scene *s) {
  const char *id, *caption;
  int64_t seed;
  if (sb_json_typeof(root) != SB_JSON_OBJECT) return sb_error_set(SB_ERR_FORMAT, "%s: not a JSON object", path);
  if (!sb_json_require(root, "id", SB_JSON_STRING) || sb_json_get_string(root, "id", "", &id) ||
      sb_json_get_string(root, "caption", "", &caption) || sb_json_get_int(root, "seed", 0, &seed))
    return SB_ERR_FORMAT;
  if (seed < 0) return sb_error_set(SB_ERR_FORMAT, "%s: 'seed': %lld is negative", path, (long long)seed);
  s->seed = (uint64_t)seed;
  if (!(s->id = sb_strdup(id)) || !(s->caption = sb_strdup(caption))) return SB_ERR_NOMEM;
  if (load_objects(root, path, s)) return SB_ERR_FORMAT;
  return load_views(root, path, s);
}

int sb_scene_load(const char *dir, sb_scene *out) {
  memset(out, 0, sizeof *out);
  if (!(out->dir = sb_strdup(dir))) return SB_ERR_NOMEM;
  char *path = sb_path_join(dir, "scene.json");
  sb_json_doc *doc = path ? sb_json_load(path) : NULL;
  int rc = doc ? parse_scene(sb_json_root(doc), path, out) : sb_error_code();
  sb_json_free(doc);
  free(path);
  if (rc) sb_scene_free(out);
  return rc;
}

void sb_scene_free(sb_scene *s) {
  if (!s) return;
  for (int i = 0; i < s->n_views; i++) free(s->views[i].dir);
  free(s->views);
  free(s->objects);
  free(s->id), free(s->dir), free(s->caption);
  memset(s, 0, sizeof *s);
}

/* ---- one view's pixels ---- */

static int size_mismatch(const char *path, const char *what, int w, int h, const sb_view_data *v) {
  return sb_error_set(SB_ERR_SHAPE, "%s: %s is %d×%d, image.png is %d×%d", path, what, w, h, v->width, v->height);
}

static int load_depth_st(const char *path, sb_view_data *v) {
  sb_safetensors *f = sb_safetensors_open(path);
  if (!f) return SB_ERR_FORMAT;
  const sb_st_tensor *t = sb_safetensors_find(f, "depth");
  int rc = SB_OK;
  if (!t) rc = sb_error_set(SB_ERR_FORMAT, "%s: no tensor \"depth\"", path);
  else if (t->dtype != SB_DTYPE_F32)
    rc = sb_error_set(SB_ERR_FORMAT, "%s: \"depth\" is %s, expected F32 (metres)", path, sb_dtype_name(t->dtype));
  else if (t->ndim != 2)
    rc = sb_error_set(SB_ERR_SHAPE, "%s: \"depth\" has %d dimensions, expected [H, W]", path, t->ndim);
  else if (t->shape[0] != v->height || t->shape[1] != v->width)
    rc = size_mismatch(path, "\"depth\"", (int)t->shape[1], (int)t->shape[0], v);
  else if (!(v->depth = sb_malloc(t->nbytes))) rc = SB_ERR_NOMEM;
  else memcpy(v->depth, t->data, t->nbytes); /* the mapping may be unaligned */
  sb_safetensors_close(f);
  return rc;
}

/* depth.png in millimetres; 0 stays 0 (no value). */
static int load_depth_png(const char *path, sb_view_data *v) {
  sb_image16 d;
  if (sb_image16_load(path, &d)) return SB_ERR_FORMAT;
  size_t n = (size_t)d.width * (size_t)d.height;
  int rc = SB_OK;
  if (d.width != v->width || d.height != v->height) rc = size_mismatch(path, "the depth", d.width, d.height, v);
  else if (!(v->depth = sb_malloc(n * sizeof(float)))) rc = SB_ERR_NOMEM;
  for (size_t i = 0; rc == SB_OK && i < n; i++) v->depth[i] = (float)d.data[i] / 1000.0f;
  sb_image16_free(&d);
  return rc;
}

static int load_ids_png(const char *path, sb_view_data *v) {
  sb_image16 d;
  if (sb_image16_load(path, &d)) return SB_ERR_FORMAT;
  if (d.width != v->width || d.height != v->height) {
    int rc = size_mismatch(path, "the instance image", d.width, d.height, v);
    sb_image16_free(&d);
    return rc;
  }
  v->ids = d.data; /* stb's allocation: freed with free() as sb_image16_free does */
  return SB_OK;
}

/* A COCO uncompressed RLE: the runs as a list of integers. */
static int counts_list(const sb_json *counts, const char *path, int height, int width, sb_rle *rle) {
  size_t n = sb_json_array_size(counts);
  if (sb_json_typeof(counts) != SB_JSON_ARRAY || !n)
    return sb_error_set(SB_ERR_FORMAT, "%s: 'counts': expected a string or a list of run lengths", path);
  rle->height = height, rle->width = width, rle->n = 0;
  if (!(rle->counts = sb_malloc(n * sizeof *rle->counts))) return SB_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    int64_t c;
    if (sb_json_int(sb_json_array_at(counts, i), &c) || c < 0 || c > (int64_t)UINT32_MAX) {
      sb_rle_free(rle);
      return sb_error_set(SB_ERR_FORMAT, "%s: 'counts'[%zu]: expected a run length", path, i);
    }
    rle->counts[rle->n++] = (uint32_t)c;
  }
  return SB_OK;
}

/* One annotation's mask, checked against the view's size. */
static int annotation_rle(const sb_json *a, const char *path, const sb_view_data *v, sb_rle *rle) {
  memset(rle, 0, sizeof *rle);
  const sb_json *seg = sb_json_require(a, "segmentation", SB_JSON_OBJECT);
  double size[2];
  if (!seg || sb_json_get_floats(seg, "size", size, 2)) return SB_ERR_FORMAT;
  if (size[0] != v->height || size[1] != v->width)
    return size_mismatch(path, "the mask", (int)size[1], (int)size[0], v);
  const sb_json *counts = sb_json_get(seg, "counts");
  int rc = sb_json_typeof(counts) == SB_JSON_STRING
               ? sb_rle_from_string(sb_json_string(counts), v->height, v->width, rle)
               : counts_list(counts, path, v->height, v->width, rle);
  uint64_t total = 0;
  for (size_t i = 0; rc == SB_OK && i < rle->n; i++) total += rle->counts[i];
  if (rc == SB_OK && total != (uint64_t)v->width * (uint64_t)v->height) {
    sb_rle_free(rle);
    rc = sb_error_set(SB_ERR_FORMAT, "%s: the runs cover %llu pixels, the image has %llu", path,
                      (unsigned long long)total, (unsigned long long)v->width * (unsigned long long)v->height);
  }
  return rc;
}

typedef struct mask_item {
  sb_rle rle;
  uint64_t area;
  int object_id;
  size_t index;
} mask_item;

/* Larger masks first, so that smaller ones (parts, nested objects) are
 * painted over them. */
static int by_area_desc(const void *a, const void *b) {
  const mask_item *x = a, *y = b;
  if (x->area != y->area) return x->area > y->area ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

static int read_mask_item(const sb_json *a, size_t i, const char *path, const sb_view_data *v, mask_item *m) {
  int64_t oid;
  if (sb_json_typeof(a) != SB_JSON_OBJECT) return sb_error_set(SB_ERR_FORMAT, "%s: not an object", path);
  if (sb_json_get_int(a, "object_id", (int64_t)i + 1, &oid) || annotation_rle(a, path, v, &m->rle))
    return SB_ERR_FORMAT;
  if (oid < 1 || oid > 65535) {
    sb_rle_free(&m->rle);
    return sb_error_set(SB_ERR_FORMAT, "%s: 'object_id': %lld is not in 1..65535", path, (long long)oid);
  }
  m->object_id = (int)oid, m->index = i, m->area = sb_rle_area(&m->rle);
  return SB_OK;
}

static int paint_masks(mask_item *items, size_t n, sb_view_data *v) {
  size_t n_px = (size_t)v->width * (size_t)v->height;
  uint8_t *mask = sb_malloc(n_px);
  if (!mask) return SB_ERR_NOMEM;
  qsort(items, n, sizeof *items, by_area_desc);
  for (size_t k = 0; k < n; k++) {
    sb_rle_decode(&items[k].rle, mask); /* checked when read */
    for (size_t i = 0; i < n_px; i++)
      if (mask[i]) v->ids[i] = (uint16_t)items[k].object_id;
  }
  free(mask);
  return SB_OK;
}

/* masks.json: each annotation's pixels take its object_id (else its index
 * + 1); where masks overlap the smaller one wins. */
static int load_ids_masks(const char *path, sb_view_data *v) {
  sb_json_doc *doc = sb_json_load(path);
  if (!doc) return SB_ERR_FORMAT;
  const sb_json *anns = sb_json_require(sb_json_root(doc), "annotations", SB_JSON_ARRAY);
  size_t n = sb_json_array_size(anns), got = 0;
  mask_item *items = sb_calloc(n ? n : 1, sizeof *items);
  v->ids = sb_calloc((size_t)v->width * (size_t)v->height, sizeof *v->ids);
  int rc = !anns ? SB_ERR_FORMAT : !items || !v->ids ? SB_ERR_NOMEM : SB_OK;
  for (; rc == SB_OK && got < n; got++) {
    char where[40];
    snprintf(where, sizeof where, "annotations[%zu]", got);
    if (read_mask_item(sb_json_array_at(anns, got), got, path, v, &items[got])) rc = within(path, where);
  }
  if (rc == SB_OK) rc = paint_masks(items, n, v);
  for (size_t i = 0; i < got && items; i++) sb_rle_free(&items[i].rle);
  free(items);
  sb_json_free(doc);
  return rc;
}

/* The first of two files that exists, or NULL (an error naming both). */
static char *either(const char *dir, const char *first, const char *second, const char *what) {
  char *a = sb_path_join(dir, first), *b = sb_path_join(dir, second);
  char *found = a && sb_path_exists(a) ? a : b && sb_path_exists(b) ? b : NULL;
  if (!found && a && b) sb_error_set(SB_ERR_IO, "%s: no %s (neither %s nor %s)", dir, what, first, second);
  if (found != a) free(a);
  if (found != b) free(b);
  return found;
}

static int load_image(const char *dir, sb_view_data *v) {
  char *path = sb_path_join(dir, "image.png");
  int rc = !path ? SB_ERR_NOMEM
           : !sb_path_exists(path) ? sb_error_set(SB_ERR_IO, "%s: no such file", path)
                                   : sb_image_load(path, &v->image);
  free(path);
  v->width = v->image.width, v->height = v->image.height;
  return rc;
}

int sb_view_data_load(const char *view_dir, sb_view_data *out) {
  memset(out, 0, sizeof *out);
  int rc = load_image(view_dir, out);
  char *depth = rc ? NULL : either(view_dir, "depth.safetensors", "depth.png", "depth");
  if (!rc && !depth) rc = SB_ERR_IO;
  if (!rc) rc = sb_str_ends_with(depth, ".png") ? load_depth_png(depth, out) : load_depth_st(depth, out);
  char *ids = rc ? NULL : either(view_dir, "instances.png", "masks.json", "instance masks");
  if (!rc && !ids) rc = SB_ERR_IO;
  if (!rc) rc = sb_str_ends_with(ids, ".png") ? load_ids_png(ids, out) : load_ids_masks(ids, out);
  free(depth);
  free(ids);
  if (rc) sb_view_data_free(out);
  return rc;
}

void sb_view_data_free(sb_view_data *v) {
  if (!v) return;
  sb_image_free(&v->image);
  free(v->depth);
  free(v->ids);
  memset(v, 0, sizeof *v);
}
