/* synth_scene.c — drawing synthetic scenes from a seed (synth.h): the
 * objects (shape, colour, size, material, place on the floor), the cameras
 * in front of them and the caption. The choices are written down in
 * SCENES.md, "Synthetic scenes". */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "synth.h"
#include "util.h"

#define PI 3.14159265358979323846
#define DEG (PI / 180.0)

typedef struct color_def {
  const char *name;
  uint8_t rgb[3];
} color_def;

static const color_def k_colors[] = {
    {"red", {200, 40, 40}},     {"green", {50, 160, 60}},  {"blue", {45, 85, 215}},
    {"yellow", {235, 205, 45}}, {"purple", {135, 55, 185}}, {"cyan", {45, 195, 205}},
    {"gray", {120, 120, 120}},  {"brown", {135, 85, 45}},  {"orange", {240, 135, 35}},
};
static const char *const k_shapes[] = {"sphere", "cube", "cylinder", "cone"};
static const char *const k_materials[] = {"metal", "rubber"};
static const char *const k_size_names[] = {"small", "large"};
static const double k_size_metres[] = {0.3, 0.6}; /* diameter or edge, and height */

/* Where object footprints may lie (world x and z), and the free gap between
 * two footprints' boxes. */
#define AREA_X0 (-1.3)
#define AREA_X1 1.3
#define AREA_Z0 (-1.2)
#define AREA_Z1 1.0
#define GAP 0.1
#define PLACE_TRIES 200

/* Cameras: distance to the target, elevation, azimuth range (0 = straight
 * in front, on +z), horizontal field of view. */
#define CAM_DIST0 3.2
#define CAM_DIST1 4.2
#define CAM_ELEV0 15.0
#define CAM_ELEV1 45.0
#define CAM_AZ_SPREAD 55.0
#define CAM_HFOV 60.0
#define CAM_TRIES 100

static uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t sb_synth_scene_seed(uint64_t seed, uint64_t index) {
  return mix64(mix64(seed) ^ index) & ((1ull << 53) - 1);
}

static double uniform(sb_rng *r, double lo, double hi) { return lo + (hi - lo) * sb_rng_uniform(r); }
static int pick(sb_rng *r, int n) { return (int)(sb_rng_uniform(r) * n); }
static double mm(double v) { return sb_scene_json_snap(round(v * 1000.0) / 1000.0); }

static void draw_attributes(sb_rng *r, sb_scene_object *o) {
  const color_def *c = &k_colors[pick(r, (int)SB_ARRAY_LEN(k_colors))];
  snprintf(o->shape, sizeof o->shape, "%s", k_shapes[pick(r, 4)]);
  snprintf(o->color, sizeof o->color, "%s", c->name);
  memcpy(o->rgb, c->rgb, 3);
  snprintf(o->size, sizeof o->size, "%s", k_size_names[pick(r, 2)]);
  snprintf(o->material, sizeof o->material, "%s", k_materials[pick(r, 2)]);
  snprintf(o->name, sizeof o->name, "%s %s %s %s", o->size, o->color, o->material, o->shape);
}

static bool name_taken(const sb_scene *s, const char *name) {
  for (int i = 0; i < s->n_objects; i++)
    if (strcmp(s->objects[i].name, name) == 0) return true;
  return false;
}

/* Footprint boxes of two objects closer than GAP. */
static bool too_close(const sb_scene_object *a, const sb_scene_object *b) {
  return a->box_min[0] < b->box_max[0] + GAP && b->box_min[0] < a->box_max[0] + GAP &&
         a->box_min[2] < b->box_max[2] + GAP && b->box_min[2] < a->box_max[2] + GAP;
}

/* Every shape fills its box: side `size`, standing on the floor. */
static void place(sb_scene_object *o, double x, double z, double size) {
  double half = 0.5 * size;
  double c[3] = {x, half, z};
  for (int a = 0; a < 3; a++) {
    o->center[a] = sb_scene_json_snap(c[a]);
    o->box_min[a] = sb_scene_json_snap(a == 1 ? 0.0 : c[a] - half);
    o->box_max[a] = sb_scene_json_snap(a == 1 ? size : c[a] + half);
  }
}

/* One more object with a name not yet used and a free footprint; false
 * when none fits. */
static bool draw_object(sb_rng *r, sb_scene *s) {
  sb_scene_object *o = &s->objects[s->n_objects];
  for (int t = 0; t < PLACE_TRIES; t++) {
    memset(o, 0, sizeof *o);
    draw_attributes(r, o);
    double size = k_size_metres[strcmp(o->size, "large") == 0];
    double x = mm(uniform(r, AREA_X0 + 0.5 * size, AREA_X1 - 0.5 * size));
    double z = mm(uniform(r, AREA_Z0 + 0.5 * size, AREA_Z1 - 0.5 * size));
    place(o, x, z, size);
    if (name_taken(s, o->name)) continue;
    bool clear = true;
    for (int i = 0; i < s->n_objects && clear; i++) clear = !too_close(o, &s->objects[i]);
    if (!clear) continue;
    o->id = s->n_objects + 1;
    s->n_objects++;
    return true;
  }
  return false;
}

static int draw_objects(uint64_t seed, sb_scene *s) {
  sb_rng r;
  sb_rng_seed_named(&r, seed, "synth-objects");
  int n = SB_SYNTH_MIN_OBJECTS + pick(&r, SB_SYNTH_MAX_OBJECTS - SB_SYNTH_MIN_OBJECTS + 1);
  if (!(s->objects = sb_calloc((size_t)n, sizeof *s->objects))) return SB_ERR_NOMEM;
  while (s->n_objects < n && draw_object(&r, s)) {
  }
  return SB_OK;
}

static void cross3(const double *a, const double *b, double *out) {
  out[0] = a[1] * b[2] - a[2] * b[1], out[1] = a[2] * b[0] - a[0] * b[2], out[2] = a[0] * b[1] - a[1] * b[0];
}

static void unit3(double *v) {
  double l = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  v[0] /= l, v[1] /= l, v[2] /= l;
}

/* OpenCV camera at `pos` looking at `target`, the world's y up: columns of
 * R are right, down, forward. */
static void look_at(const double *pos, const double *target, sb_camera *cam) {
  double f[3] = {target[0] - pos[0], target[1] - pos[1], target[2] - pos[2]}, up[3] = {0, 1, 0}, right[3], down[3];
  unit3(f);
  cross3(f, up, right);
  unit3(right);
  cross3(f, right, down);
  const double *cols[3] = {right, down, f};
  memset(cam->cam_to_world, 0, sizeof cam->cam_to_world);
  for (int a = 0; a < 3; a++) {
    for (int c = 0; c < 3; c++) cam->cam_to_world[4 * a + c] = sb_scene_json_snap(cols[c][a]);
    cam->cam_to_world[4 * a + 3] = sb_scene_json_snap(pos[a]);
  }
  cam->cam_to_world[15] = 1;
}

/* World point to pixel coordinates; false when behind the camera. */
static bool project(const sb_camera *cam, const double *p, double *u, double *v) {
  const double *m = cam->cam_to_world;
  double d[3] = {p[0] - m[3], p[1] - m[7], p[2] - m[11]}, x[3];
  for (int c = 0; c < 3; c++) x[c] = m[c] * d[0] + m[4 + c] * d[1] + m[8 + c] * d[2]; /* Rᵀ d */
  if (x[2] < 0.1) return false;
  *u = cam->fx * x[0] / x[2] + cam->cx, *v = cam->fy * x[1] / x[2] + cam->cy;
  return true;
}

/* Every corner of every object's box inside the image. */
static bool sees_all(const sb_camera *cam, const sb_scene *s) {
  for (int i = 0; i < s->n_objects; i++)
    for (int k = 0; k < 8; k++) {
      const sb_scene_object *o = &s->objects[i];
      double p[3] = {(k & 1) ? o->box_max[0] : o->box_min[0], (k & 2) ? o->box_max[1] : o->box_min[1],
                     (k & 4) ? o->box_max[2] : o->box_min[2]}, u, v;
      if (!project(cam, p, &u, &v) || u < 0 || v < 0 || u > cam->width || v > cam->height) return false;
    }
  return true;
}

static void draw_camera(sb_rng *r, double az0, double az1, sb_camera *cam) {
  double az = uniform(r, az0, az1) * DEG, el = uniform(r, CAM_ELEV0, CAM_ELEV1) * DEG;
  double dist = uniform(r, CAM_DIST0, CAM_DIST1);
  double target[3] = {uniform(r, -0.15, 0.15), 0.25, 0.5 * (AREA_Z0 + AREA_Z1) + uniform(r, -0.15, 0.15)};
  double pos[3] = {target[0] + dist * sin(az) * cos(el), target[1] + dist * sin(el),
                   target[2] + dist * cos(az) * cos(el)};
  look_at(pos, target, cam);
}

/* View i's azimuth lies in the i-th of n equal parts of the spread, so the
 * views go round the scene from left to right. A camera that cuts an object
 * off is drawn again (up to CAM_TRIES times). */
static int draw_cameras(uint64_t seed, int n_views, int width, int height, sb_scene *s) {
  sb_rng r;
  sb_rng_seed_named(&r, seed, "synth-cameras");
  if (!(s->views = sb_calloc((size_t)n_views, sizeof *s->views))) return SB_ERR_NOMEM;
  s->n_views = n_views;
  double part = 2 * CAM_AZ_SPREAD / n_views;
  for (int i = 0; i < n_views; i++) {
    sb_camera *cam = &s->views[i].cam;
    cam->width = width, cam->height = height;
    cam->fx = cam->fy = sb_scene_json_snap(0.5 * width / tan(0.5 * CAM_HFOV * DEG));
    cam->cx = 0.5 * width, cam->cy = 0.5 * height;
    for (int t = 0; t < CAM_TRIES; t++) {
      draw_camera(&r, -CAM_AZ_SPREAD + i * part, -CAM_AZ_SPREAD + (i + 1) * part, cam);
      if (sees_all(cam, s)) break;
    }
    char name[16];
    snprintf(name, sizeof name, "view_%02d", i);
    if (!(s->views[i].dir = sb_path_join(s->dir, name))) return SB_ERR_NOMEM;
  }
  return SB_OK;
}

typedef struct ranked {
  double u;
  int index;
} ranked;

static int by_u(const void *a, const void *b) {
  const ranked *x = a, *y = b;
  if (x->u != y->u) return x->u < y->u ? -1 : 1;
  return x->index - y->index;
}

/* "a A, a B and a C" in the given order. */
static void append_list(sb_strbuf *b, const sb_scene *s, const ranked *order) {
  for (int i = 0; i < s->n_objects; i++) {
    const char *sep = i == 0 ? "" : i == s->n_objects - 1 ? " and " : ", ";
    sb_strbuf_printf(b, "%sa %s", sep, s->objects[order[i].index].name);
  }
}

static void append_chain(sb_strbuf *b, const sb_scene *s, const ranked *order) {
  sb_strbuf_printf(b, "a %s stands left of a %s", s->objects[order[0].index].name,
                   s->objects[order[1].index].name);
  for (int i = 2; i < s->n_objects; i++)
    sb_strbuf_printf(b, ", which stands left of a %s", s->objects[order[i].index].name);
  sb_strbuf_append(b, ".");
}

/* One of three templates naming the objects from left to right as view 0
 * sees their centres. */
static int make_caption(uint64_t seed, sb_scene *s) {
  static const char *const k_numbers[] = {"no", "one", "two", "three", "four", "five", "six"};
  ranked order[SB_SYNTH_MAX_OBJECTS];
  for (int i = 0; i < s->n_objects; i++) {
    double v;
    order[i].index = i, order[i].u = 0;
    project(&s->views[0].cam, s->objects[i].center, &order[i].u, &v);
  }
  qsort(order, (size_t)s->n_objects, sizeof order[0], by_u);
  sb_rng r;
  sb_rng_seed_named(&r, seed, "synth-caption");
  sb_strbuf b;
  sb_strbuf_init(&b);
  int form = s->n_objects >= 2 ? pick(&r, 3) : 0;
  if (form == 0) {
    sb_strbuf_append(&b, "from left to right: ");
    append_list(&b, s, order);
    sb_strbuf_append(&b, ", on a floor in front of a wall.");
  } else if (form == 1) {
    sb_strbuf_printf(&b, "%s objects stand on a floor in front of a wall; from left to right, ",
                     k_numbers[s->n_objects]);
    append_list(&b, s, order);
    sb_strbuf_append(&b, ".");
  } else append_chain(&b, s, order);
  if (!b.data) return SB_ERR_NOMEM;
  b.data[0] = (char)(b.data[0] - 'a' + 'A');
  s->caption = sb_strbuf_take(&b);
  return SB_OK;
}

int sb_synth_scene(uint64_t scene_seed, const char *id, const char *dir, int n_views, int width, int height,
                   sb_scene *out) {
  memset(out, 0, sizeof *out);
  if (n_views < 1 || n_views > SB_SYNTH_MAX_VIEWS || width < 1 || height < 1)
    return sb_error_set(SB_ERR_SHAPE, "synth: %d views of %d×%d pixels", n_views, width, height);
  out->seed = scene_seed;
  int rc = (out->id = sb_strdup(id)) && (out->dir = sb_strdup(dir)) ? SB_OK : SB_ERR_NOMEM;
  if (rc == SB_OK) rc = draw_objects(scene_seed, out);
  if (rc == SB_OK) rc = draw_cameras(scene_seed, n_views, width, height, out);
  if (rc == SB_OK) rc = make_caption(scene_seed, out);
  if (rc) sb_scene_free(out);
  return rc;
}
