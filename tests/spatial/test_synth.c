/* test_synth.c — `datagen synth` and scene folders (core/spatial): renders
 * 3 scenes of 2 views at 96×96 and checks every pixel against the ground
 * truth (back-projected depth lies on the surface of the object its id
 * names, or on the floor or wall, and nothing stands in front of it), the
 * depth units, masks.json against instances.png, determinism across runs
 * and thread counts, reading back with sb_scene_load / sb_view_data_load,
 * and the errors of bad folders and bad options. */
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/check.h"
#include "datagen.h"
#include "rle.h"
#include "scene.h"
#include "spatialboost/error.h"
#include "spatialboost/safetensors.h"
#include "synth.h"
#include "util.h"

#define SIDE 96
#define N_SCENES 3
#define N_VIEWS 2
#define SEED "4" /* its 3 scenes hold 15 objects of all four shapes */
#define TOL 1e-4

static char g_tmp[256];

static int synth(const char *out, const char *seed, const char *threads) {
  char *argv[] = {"synth", "-n", "3", "-o", (char *)out, "--views", "2", "--size", "96x96", "--seed", (char *)seed,
                  "--threads", (char *)threads};
  return sb_datagen_synth((int)SB_ARRAY_LEN(argv), argv);
}

static char *tmp_path(const char *name) { return sb_path_join(g_tmp, name); }

static char *view_file(const char *root, int scene, int view, const char *file) {
  return sb_asprintf("%s/scene_%06d/view_%02d/%s", root, scene, view, file);
}

/* ---- geometry of the ground truth ---- */

/* Signed distance-like measure to the object's surface (exact on the
 * surface, negative inside), from its shape and box. */
static double surface_distance(const sb_scene_object *o, const double *p) {
  double c[3], h[3];
  for (int a = 0; a < 3; a++)
    c[a] = 0.5 * (o->box_min[a] + o->box_max[a]), h[a] = 0.5 * (o->box_max[a] - o->box_min[a]);
  double dx = p[0] - c[0], dy = p[1] - c[1], dz = p[2] - c[2], rho = sqrt(dx * dx + dz * dz);
  if (!strcmp(o->shape, "sphere")) return sqrt(dx * dx + dy * dy + dz * dz) - h[0];
  if (!strcmp(o->shape, "cube")) return fmax(fmax(fabs(dx) - h[0], fabs(dy) - h[1]), fabs(dz) - h[2]);
  if (!strcmp(o->shape, "cylinder")) return fmax(rho - h[0], fabs(dy) - h[1]);
  double k = h[0] / (2 * h[1]); /* cone: radius over height */
  double side = (rho - k * (o->box_max[1] - p[1])) / sqrt(1 + k * k);
  return fmax(side, o->box_min[1] - p[1]);
}

static void back_project(const sb_camera *cam, int u, int v, double z, double *p) {
  double x[3] = {(u + 0.5 - cam->cx) * z / cam->fx, (v + 0.5 - cam->cy) * z / cam->fy, z};
  const double *m = cam->cam_to_world;
  for (int a = 0; a < 3; a++) p[a] = m[4 * a] * x[0] + m[4 * a + 1] * x[1] + m[4 * a + 2] * x[2] + m[4 * a + 3];
}

/* Some object's inside on the segment from the camera to p (1 cm steps,
 * stopping 1 cm short of p). */
static bool blocked(const sb_scene *s, const sb_camera *cam, const double *p) {
  const double *o = &cam->cam_to_world[0];
  double from[3] = {o[3], o[7], o[11]}, d[3] = {p[0] - from[0], p[1] - from[1], p[2] - from[2]};
  double len = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
  for (double t = 0.01; t < len - 0.01; t += 0.01) {
    double q[3] = {from[0] + d[0] * t / len, from[1] + d[1] * t / len, from[2] + d[2] * t / len};
    for (int i = 0; i < s->n_objects; i++) {
      const sb_scene_object *b = &s->objects[i];
      if (q[0] < b->box_min[0] || q[0] > b->box_max[0] || q[1] > b->box_max[1] || q[2] < b->box_min[2] ||
          q[2] > b->box_max[2])
        continue;
      if (surface_distance(b, q) < -1e-3) return true;
    }
  }
  return false;
}

typedef struct pixel_faults {
  int off_surface, off_background, occluded, no_hit_with_id, bad_id;
} pixel_faults;

static void check_pixel(const sb_scene *s, const sb_camera *cam, const sb_view_data *vd, int u, int v,
                        pixel_faults *f) {
  size_t i = (size_t)v * SIDE + (size_t)u;
  int id = vd->ids[i];
  double z = vd->depth[i], p[3];
  if (z <= 0) {
    f->no_hit_with_id += id != 0;
    return;
  }
  back_project(cam, u, v, z, p);
  if (id > s->n_objects) {
    f->bad_id++;
    return;
  }
  if (id) f->off_surface += fabs(surface_distance(&s->objects[id - 1], p)) > TOL;
  else f->off_background += fabs(p[1]) > TOL && fabs(p[2] - SB_SYNTH_WALL_Z) > TOL;
  f->occluded += blocked(s, cam, p);
}

static void check_pixels(const sb_scene *s, int view, const sb_view_data *vd) {
  pixel_faults f = {0};
  const sb_camera *cam = &s->views[view].cam;
  for (int v = 0; v < SIDE; v++)
    for (int u = 0; u < SIDE; u++) check_pixel(s, cam, vd, u, v, &f);
  CHECK(f.bad_id == 0, "%s view %d: %d pixels with ids of no object", s->id, view, f.bad_id);
  CHECK(f.off_surface == 0, "%s view %d: %d object pixels off their object's surface", s->id, view, f.off_surface);
  CHECK(f.off_background == 0, "%s view %d: %d id-0 pixels off the floor and wall", s->id, view, f.off_background);
  CHECK(f.occluded == 0, "%s view %d: %d pixels behind an object", s->id, view, f.occluded);
  CHECK(f.no_hit_with_id == 0, "%s view %d: %d pixels without depth but with an id", s->id, view, f.no_hit_with_id);
}

/* ---- the files of a view ---- */

/* depth.png holds round(depth.safetensors · 1000) millimetres. */
static void check_depth_units(const char *root, int scene, int view, const sb_view_data *vd) {
  char *path = view_file(root, scene, view, "depth.png");
  sb_image16 mm;
  CHECK(sb_image16_load(path, &mm) == SB_OK, "%s: %s", path, sb_error_message());
  int bad = 0, hits = 0;
  for (size_t i = 0; mm.data && i < (size_t)SIDE * SIDE; i++) {
    long want = vd->depth[i] > 0 ? lround((double)vd->depth[i] * 1000.0) : 0;
    bad += mm.data[i] != want;
    hits += vd->depth[i] > 0;
  }
  CHECK(mm.width == SIDE && mm.height == SIDE, "%s: %d×%d", path, mm.width, mm.height);
  CHECK(bad == 0, "%s: %d pixels differ from round(depth · 1000)", path, bad);
  CHECK(hits > SIDE * SIDE / 2, "%s: only %d pixels with depth", path, hits);
  sb_image16_free(&mm);
  free(path);
}

/* masks.json decodes to exactly instances.png's pixels, object by object. */
static void check_masks(const char *root, int scene, int view, const sb_scene *s, const sb_view_data *vd) {
  char *path = view_file(root, scene, view, "masks.json");
  json_error_t e;
  json_t *j = json_load_file(path, 0, &e), *anns = json_object_get(j, "annotations");
  CHECK(j && json_array_size(anns) > 0, "%s: %s", path, j ? "no annotations" : e.text);
  CHECK(json_integer_value(json_object_get(json_object_get(j, "image"), "width")) == SIDE, "%s: image width", path);
  int covered[SB_SYNTH_MAX_OBJECTS + 1] = {0}, bad = 0;
  uint8_t mask[SIDE * SIDE];
  for (size_t k = 0; k < json_array_size(anns); k++) {
    json_t *a = json_array_get(anns, k), *seg = json_object_get(a, "segmentation");
    int id = (int)json_integer_value(json_object_get(a, "object_id"));
    sb_rle r;
    CHECK(sb_rle_from_string(json_string_value(json_object_get(seg, "counts")), SIDE, SIDE, &r) == SB_OK,
          "%s: annotation %zu: %s", path, k, sb_error_message());
    if (!r.counts || id < 1 || id > s->n_objects) {
      bad++;
      continue;
    }
    covered[id] = 1;
    sb_rle_decode(&r, mask);
    int area = 0, x0 = SIDE, y0 = SIDE, x1 = -1, y1 = -1;
    for (int y = 0; y < SIDE; y++)
      for (int x = 0; x < SIDE; x++) {
        bool in = vd->ids[y * SIDE + x] == id;
        bad += mask[y * SIDE + x] != in;
        if (in) area++, x0 = x < x0 ? x : x0, y0 = y < y0 ? y : y0, x1 = x > x1 ? x : x1, y1 = y > y1 ? y : y1;
      }
    double bb[4] = {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
    json_t *box = json_object_get(a, "bbox");
    for (int c = 0; c < 4; c++) bad += json_number_value(json_array_get(box, (size_t)c)) != bb[c];
    bad += json_integer_value(json_object_get(a, "area")) != area || area == 0;
    bad += json_integer_value(json_object_get(a, "id")) != id;
    sb_rle_free(&r);
  }
  for (size_t i = 0; i < (size_t)SIDE * SIDE; i++) bad += vd->ids[i] && !covered[vd->ids[i]];
  CHECK(bad == 0, "%s: %d disagreements with instances.png", path, bad);
  json_decref(j);
  free(path);
}

static void check_scene_objects(const sb_scene *s) {
  CHECK(s->n_objects >= 2 && s->n_objects <= 6, "%s: %d objects", s->id, s->n_objects);
  CHECK(s->n_views == N_VIEWS, "%s: %d views", s->id, s->n_views);
  CHECK(s->caption && strstr(s->caption, "left"), "%s: caption \"%s\"", s->id, s->caption);
  for (int i = 0; i < s->n_objects; i++) {
    const sb_scene_object *o = &s->objects[i];
    char name[128];
    snprintf(name, sizeof name, "%s %s %s %s", o->size, o->color, o->material, o->shape);
    CHECK(o->id == i + 1 && !strcmp(o->name, name), "%s: object %d \"%s\"", s->id, o->id, o->name);
    double side = o->box_max[0] - o->box_min[0];
    CHECK(o->box_min[1] == 0 && fabs(side - (strcmp(o->size, "small") ? 0.6 : 0.3)) < 1e-9 &&
              fabs(o->box_max[1] - side) < 1e-9 && fabs(o->box_max[2] - o->box_min[2] - side) < 1e-9,
          "%s: object %d's box", s->id, o->id);
    CHECK(strstr(s->caption, o->name) != NULL, "%s: the caption lacks \"%s\"", s->id, o->name);
    for (int k = 0; k < i; k++) {
      const sb_scene_object *b = &s->objects[k];
      bool apart = o->box_min[0] >= b->box_max[0] || b->box_min[0] >= o->box_max[0] ||
                   o->box_min[2] >= b->box_max[2] || b->box_min[2] >= o->box_max[2];
      CHECK(apart, "%s: objects %d and %d overlap on the floor", s->id, b->id, o->id);
    }
  }
}

static void check_view_files(const char *root, int scene, int view) {
  static const char *const files[] = {"image.png",     "depth.png",  "depth.safetensors",
                                      "instances.png", "masks.json", "camera.json"};
  for (size_t i = 0; i < SB_ARRAY_LEN(files); i++) {
    char *p = view_file(root, scene, view, files[i]);
    CHECK(sb_path_exists(p), "%s missing", p);
    free(p);
  }
}

/* Which shapes the checked pixels covered (all four, or the checks miss one). */
static int g_shape_pixels[4];

static void count_shapes(const sb_scene *s, const sb_view_data *vd) {
  static const char *const shapes[] = {"sphere", "cube", "cylinder", "cone"};
  for (size_t i = 0; i < (size_t)SIDE * SIDE; i++)
    for (int k = 0; vd->ids[i] && vd->ids[i] <= s->n_objects && k < 4; k++)
      g_shape_pixels[k] += !strcmp(s->objects[vd->ids[i] - 1].shape, shapes[k]);
}

static void check_output(const char *root) {
  for (int sc = 0; sc < N_SCENES; sc++) {
    char *dir = sb_asprintf("%s/scene_%06d", root, sc);
    sb_scene s;
    CHECK(sb_scene_load(dir, &s) == SB_OK, "%s: %s", dir, sb_error_message());
    free(dir);
    if (!s.id) continue;
    check_scene_objects(&s);
    for (int v = 0; v < s.n_views; v++) {
      const sb_camera *cam = &s.views[v].cam;
      CHECK(cam->width == SIDE && cam->height == SIDE && cam->cx == 48 && fabs(cam->fx - 48 / tan(M_PI / 6)) < 1e-6,
            "%s view %d: intrinsics", s.id, v);
      check_view_files(root, sc, v);
      sb_view_data vd;
      CHECK(sb_view_data_load(s.views[v].dir, &vd) == SB_OK, "%s: %s", s.views[v].dir, sb_error_message());
      if (!vd.depth) continue;
      CHECK(vd.width == SIDE && vd.height == SIDE && vd.image.channels == 3, "%s view %d: sizes", s.id, v);
      check_pixels(&s, v, &vd);
      count_shapes(&s, &vd);
      check_depth_units(root, sc, v, &vd);
      check_masks(root, sc, v, &s, &vd);
      sb_view_data_free(&vd);
    }
    sb_scene_free(&s);
  }
  CHECK(g_shape_pixels[0] > 50 && g_shape_pixels[1] > 50 && g_shape_pixels[2] > 50 && g_shape_pixels[3] > 50,
        "pixels of spheres %d, cubes %d, cylinders %d, cones %d", g_shape_pixels[0], g_shape_pixels[1],
        g_shape_pixels[2], g_shape_pixels[3]);
}

/* ---- determinism and reading back ---- */

static bool same_bytes(const char *a, const char *b) {
  size_t la, lb;
  char *x = sb_file_read(a, &la), *y = sb_file_read(b, &lb);
  bool same = x && y && la == lb && memcmp(x, y, la) == 0;
  free(x), free(y);
  return same;
}

static void check_identical(const char *a, const char *b, const char *what) {
  static const char *const files[] = {"image.png",     "depth.png",  "depth.safetensors",
                                      "instances.png", "masks.json", "camera.json"};
  int differ = 0;
  for (int sc = 0; sc < N_SCENES; sc++) {
    char *pa = sb_asprintf("%s/scene_%06d/scene.json", a, sc), *pb = sb_asprintf("%s/scene_%06d/scene.json", b, sc);
    differ += !same_bytes(pa, pb);
    free(pa), free(pb);
    for (int v = 0; v < N_VIEWS; v++)
      for (size_t f = 0; f < SB_ARRAY_LEN(files); f++) {
        pa = view_file(a, sc, v, files[f]), pb = view_file(b, sc, v, files[f]);
        differ += !same_bytes(pa, pb);
        free(pa), free(pb);
      }
  }
  CHECK(differ == 0, "%s: %d files differ", what, differ);
}

static bool cameras_equal(const sb_camera *a, const sb_camera *b) {
  return a->width == b->width && a->height == b->height && a->fx == b->fx && a->fy == b->fy && a->cx == b->cx &&
         a->cy == b->cy && memcmp(a->cam_to_world, b->cam_to_world, sizeof a->cam_to_world) == 0;
}

/* What sb_scene_load reads is, bit for bit, the scene the generator drew. */
static void check_read_back(const char *root) {
  char *dir = sb_asprintf("%s/scene_000001", root);
  sb_scene drawn, loaded;
  CHECK(sb_synth_scene(sb_synth_scene_seed(4, 1), "scene_000001", dir, N_VIEWS, SIDE, SIDE, &drawn) == SB_OK,
        "draw: %s", sb_error_message());
  CHECK(sb_scene_load(dir, &loaded) == SB_OK, "load: %s", sb_error_message());
  CHECK(loaded.seed == drawn.seed && !strcmp(loaded.id, drawn.id) && !strcmp(loaded.caption, drawn.caption),
        "seed, id, caption");
  CHECK(loaded.n_objects == drawn.n_objects && loaded.n_views == drawn.n_views, "counts");
  for (int i = 0; i < drawn.n_objects && i < loaded.n_objects; i++)
    CHECK(memcmp(&drawn.objects[i], &loaded.objects[i], sizeof drawn.objects[i]) == 0, "object %d differs", i + 1);
  for (int v = 0; v < drawn.n_views && v < loaded.n_views; v++) {
    CHECK(cameras_equal(&drawn.views[v].cam, &loaded.views[v].cam), "camera %d differs", v);
    CHECK(!strcmp(drawn.views[v].dir, loaded.views[v].dir), "view dir %s", loaded.views[v].dir);
  }
  /* saved elsewhere and read again: the same */
  char *copy = tmp_path("copy");
  free(loaded.dir);
  loaded.dir = sb_strdup(copy);
  for (int v = 0; v < loaded.n_views; v++) {
    char *vd = sb_asprintf("%s/view_%02d", copy, v);
    sb_path_mkdirs(vd);
    free(vd);
  }
  CHECK(sb_scene_save(&loaded) == SB_OK, "save: %s", sb_error_message());
  sb_scene again;
  CHECK(sb_scene_load(copy, &again) == SB_OK, "reload: %s", sb_error_message());
  CHECK(again.n_objects == drawn.n_objects && again.n_views == drawn.n_views &&
            memcmp(again.objects, drawn.objects, sizeof *drawn.objects * (size_t)drawn.n_objects) == 0 &&
            cameras_equal(&again.views[N_VIEWS - 1].cam, &drawn.views[N_VIEWS - 1].cam),
        "the saved copy differs");
  sb_scene_free(&again), sb_scene_free(&loaded), sb_scene_free(&drawn);
  free(copy), free(dir);
}

/* ---- errors ---- */

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f) fputs(text, f), fclose(f);
}

static void copy_file(const char *from, const char *to) {
  size_t n;
  char *x = sb_file_read(from, &n);
  FILE *f = fopen(to, "wb");
  if (f && x) fwrite(x, 1, n, f);
  if (f) fclose(f);
  free(x);
}

/* A copy of view 0 of scene 0 to break. */
static char *view_copy(const char *root) {
  static const char *const files[] = {"image.png",     "depth.png",  "depth.safetensors",
                                      "instances.png", "masks.json", "camera.json"};
  char *dir = tmp_path("broken");
  sb_path_remove_tree(dir);
  sb_path_mkdirs(dir);
  for (size_t i = 0; i < SB_ARRAY_LEN(files); i++) {
    char *from = view_file(root, 0, 0, files[i]), *to = sb_path_join(dir, files[i]);
    copy_file(from, to);
    free(from), free(to);
  }
  return dir;
}

static void check_view_fallbacks(const char *root) {
  char *dir = view_copy(root), *p;
  sb_view_data full, v;
  sb_view_data_load(dir, &full);
  unlink(p = sb_path_join(dir, "depth.safetensors")), free(p);
  unlink(p = sb_path_join(dir, "instances.png")), free(p);
  CHECK(sb_view_data_load(dir, &v) == SB_OK, "depth.png and masks.json: %s", sb_error_message());
  int bad_depth = 0, bad_ids = 0;
  for (size_t i = 0; v.depth && full.depth && i < (size_t)SIDE * SIDE; i++) {
    bad_depth += fabsf(v.depth[i] - full.depth[i]) > 0.0005f + 1e-6f;
    bad_ids += v.ids[i] != full.ids[i];
  }
  CHECK(bad_depth == 0 && bad_ids == 0, "fallbacks: %d depths, %d ids differ", bad_depth, bad_ids);
  sb_view_data_free(&v), sb_view_data_free(&full);
  write_text(p = sb_path_join(dir, "masks.json"),
             "{\"annotations\": [{\"segmentation\": {\"size\": [96, 96], \"counts\": \"32 1\"}}]}");
  CHECK(sb_view_data_load(dir, &v) != SB_OK, "a malformed counts string");
  CHECK_ERROR("masks.json: annotations[0]: RLE counts string");
  unlink(p), free(p);
  CHECK(sb_view_data_load(dir, &v) != SB_OK, "no instances at all");
  CHECK_ERROR("instances.png");
  free(dir);
}

static void check_view_errors(const char *root) {
  char *dir = view_copy(root), *p = sb_path_join(dir, "depth.safetensors");
  float small[48 * 64] = {0};
  sb_st_writer *w = sb_st_writer_new();
  sb_st_writer_add(w, "depth", SB_DTYPE_F32, 2, (int64_t[]){48, 64}, small);
  sb_st_writer_write(w, p);
  sb_st_writer_free(w);
  sb_view_data v;
  CHECK(sb_view_data_load(dir, &v) != SB_OK && v.depth == NULL, "a 64×48 depth accepted");
  CHECK_ERROR("depth.safetensors");
  CHECK_ERROR("64×48");
  free(p);
  sb_image16 ids = {32, 32, calloc(32 * 32, 2)};
  sb_image16_save_png(&ids, p = sb_path_join(dir, "instances.png"));
  free(ids.data), free(p);
  unlink(p = sb_path_join(dir, "depth.safetensors")), free(p);
  CHECK(sb_view_data_load(dir, &v) != SB_OK, "32×32 instances accepted");
  CHECK_ERROR("instances.png: the instance image is 32×32");
  unlink(p = sb_path_join(dir, "image.png")), free(p);
  CHECK(sb_view_data_load(dir, &v) != SB_OK, "no image.png accepted");
  CHECK_ERROR("image.png: no such file");
  free(dir);
  check_view_fallbacks(root);
}

static void check_scene_errors(const char *root) {
  sb_scene s;
  char *dir = tmp_path("nothing_here");
  CHECK(sb_scene_load(dir, &s) != SB_OK, "a missing folder");
  CHECK_ERROR("nothing_here/scene.json: no such file");
  free(dir);
  dir = tmp_path("bad_scene");
  sb_path_mkdirs(dir);
  char *path = sb_path_join(dir, "scene.json");
  write_text(path, "{\"id\": \"x\", \"objects\": [{\"id\": 1, \"name\": \"a\", \"box_min\": [0, 0, 0], "
                   "\"box_max\": \"big\"}], \"views\": []}");
  CHECK(sb_scene_load(dir, &s) != SB_OK, "a string for box_max");
  CHECK_ERROR("scene.json: objects[0]: 'box_max'");
  write_text(path, "{\"id\": \"x\", \"objects\": [], \"views\": [\"view_00\"]}");
  CHECK(sb_scene_load(dir, &s) != SB_OK, "a view without camera.json");
  CHECK_ERROR("view_00/camera.json: no such file");
  char *vdir = sb_path_join(dir, "view_00"), *cam = sb_path_join(vdir, "camera.json");
  sb_path_mkdirs(vdir);
  write_text(
      cam, "{\"width\": 4, \"height\": 4, \"fx\": 1, \"fy\": 1, \"cx\": 2, \"cy\": 2, \"cam_to_world\": [1, 0, 0]}");
  CHECK(sb_scene_load(dir, &s) != SB_OK, "a short cam_to_world");
  CHECK_ERROR("camera.json: 'cam_to_world': expected a list of 16 numbers");
  free(vdir), free(cam), free(path), free(dir);
}

static void check_option_errors(void) {
  char *out = tmp_path("opts"), *file = tmp_path("a_file"), *under = sb_path_join(file, "sub");
  write_text(file, "x");
  struct {
    const char *args[6];
    const char *needle;
  } bad[] = {
      {{"-n", "0", "-o", out}, "-n: '0'"},
      {{"-n", "2", "-o", out, "--size", "0x5"}, "--size: '0x5'"},
      {{"-n", "2", "-o", out, "--size", "abc"}, "--size"},
      {{"-n", "2", "-o", out, "--views", "0"}, "--views"},
      {{"-n", "2", "-o", out, "--seed", "-1"}, "--seed"},
      {{"-n", "2", "--bogus"}, "unknown option '--bogus'"},
      {{"-n", "2"}, "-o DIR"},
      {{"-n", "1", "-o", file}, "not a folder"},
      {{"-n", "1", "-o", under}, "a_file/sub"},
  };
  for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
    char *argv[8] = {"synth"};
    int argc = 1;
    while (argc - 1 < 6 && bad[i].args[argc - 1]) argv[argc] = (char *)bad[i].args[argc - 1], argc++;
    sb_error_clear();
    CHECK(sb_datagen_synth(argc, argv) != 0, "case %zu accepted", i);
    CHECK_ERROR(bad[i].needle);
  }
  char *help[] = {"synth", "--help"};
  CHECK(sb_datagen_synth(2, help) == 0, "--help");
  free(out), free(file), free(under);
}

int main(void) {
  snprintf(g_tmp, sizeof g_tmp, "/tmp/sb_synth_XXXXXX");
  CHECK(mkdtemp(g_tmp) != NULL, "temporary folder");
  char *a = tmp_path("a"), *b = tmp_path("b"), *c = tmp_path("c"), *d = tmp_path("d");
  CHECK(synth(a, SEED, "2") == 0, "synth: %s", sb_error_message());
  check_output(a);
  CHECK(synth(b, SEED, "2") == 0, "synth again");
  check_identical(a, b, "the same seed twice");
  CHECK(synth(c, SEED, "1") == 0, "synth with one thread");
  check_identical(a, c, "1 vs 2 threads");
  CHECK(synth(d, "5", "2") == 0, "synth with another seed");
  char *sa = sb_asprintf("%s/scene_000000/scene.json", a), *sd = sb_asprintf("%s/scene_000000/scene.json", d);
  CHECK(!same_bytes(sa, sd), "another seed, the same scene");
  free(sa), free(sd);
  check_read_back(a);
  check_view_errors(a);
  check_scene_errors(a);
  check_option_errors();
  sb_path_remove_tree(g_tmp);
  free(a), free(b), free(c), free(d);
  return check_summary("synth");
}
