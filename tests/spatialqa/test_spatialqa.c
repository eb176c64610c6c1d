/* test_spatialqa.c — `datagen spatial` on synthetic scenes with known
 * geometry (rendered here with `datagen synth`: 5 scenes, 3 views, 160×120):
 *   every record: LLaVA shape, one <image> per view, pixel → object →
 *   scene → caption order, answers agreeing with meta and the text;
 *   every left/right, above/below, front/behind answer against the objects'
 *   true boxes from scene.json in the first view's camera frame (centres for
 *   x and y, the true nearest surface depth of each shape for z);
 *   depth answers against depth.safetensors (two decimals: within 5 mm),
 *   each cube inside its object's true box, distances within 2 cm + 5 % of
 *   a brute-force Chamfer distance of the ground-truth clouds and between
 *   the boxes' gap and the centre distance plus half diagonals;
 *   multi-view fusion: pixels seen in two views land on the same point;
 *   reproducibility (same seed, same bytes; another seed, other text);
 *   sb_spatial_generate and the dataset_spatial plugin (through a recipe,
 *   from two threads) giving the same conversations as the JSONL, and
 *   dataset_llava reading the JSONL back. */
#include <pthread.h>

#include "geometry.h"
#include "model.h"
#include "recipe.h"
#include "scene.h"
#include "sq_common.h"

#define N_SCENES 5
#define N_VIEWS 3

static sb_scene g_scenes[N_SCENES];

/* ---- ground truth ---- */

static void world_to_cam(const sb_camera *c, const double *p, double *out) {
  double inv[16];
  sb_mat4_rigid_inverse(c->cam_to_world, inv);
  sb_mat4_apply(inv, p, out);
}

/* The camera's z axis in world coordinates and its position. */
static void cam_axis(const sb_camera *c, double *a, double *t) {
  for (int i = 0; i < 3; i++) a[i] = c->cam_to_world[4 * i + 2], t[i] = c->cam_to_world[4 * i + 3];
}

/* The smallest camera z over a horizontal circle (centre c, radius r). */
static double rim_min_z(const sb_camera *cam, const double *c, double r) {
  double a[3], t[3];
  cam_axis(cam, a, t);
  double z = a[0] * (c[0] - t[0]) + a[1] * (c[1] - t[1]) + a[2] * (c[2] - t[2]);
  return z - r * sqrt(a[0] * a[0] + a[2] * a[2]);
}

/* The true nearest depth of an object's surface (shapes fill their boxes). */
static double true_min_depth(const sb_camera *cam, const sb_scene_object *o) {
  double c[3], p[3], q[3], r = 0.5 * (o->box_max[0] - o->box_min[0]);
  for (int i = 0; i < 3; i++) c[i] = 0.5 * (o->box_min[i] + o->box_max[i]);
  if (!strcmp(o->shape, "sphere")) return world_to_cam(cam, c, q), q[2] - r;
  if (!strcmp(o->shape, "cube")) {
    double best = INFINITY;
    for (int k = 0; k < 8; k++) {
      p[0] = k & 1 ? o->box_max[0] : o->box_min[0], p[1] = k & 2 ? o->box_max[1] : o->box_min[1];
      p[2] = k & 4 ? o->box_max[2] : o->box_min[2];
      world_to_cam(cam, p, q);
      best = fmin(best, q[2]);
    }
    return best;
  }
  double lo[3] = {c[0], o->box_min[1], c[2]}, hi[3] = {c[0], o->box_max[1], c[2]};
  double base = rim_min_z(cam, lo, r);
  if (!strcmp(o->shape, "cylinder")) return fmin(base, rim_min_z(cam, hi, r));
  world_to_cam(cam, hi, q); /* cone: base rim or apex */
  return fmin(base, q[2]);
}

static void true_box_cam(const sb_camera *cam, const sb_scene_object *o, sb_box3 *b) {
  sb_cloud c = {0};
  for (int k = 0; k < 8; k++) {
    double p[3] = {k & 1 ? o->box_max[0] : o->box_min[0], k & 2 ? o->box_max[1] : o->box_min[1],
                   k & 4 ? o->box_max[2] : o->box_min[2]};
    world_to_cam(cam, p, p);
    sb_cloud_push(&c, p);
  }
  sb_cloud_bounds(&c, b);
  sb_cloud_free(&c);
}

static const sb_scene_object *scene_object(const sb_scene *s, int64_t id) {
  for (int i = 0; i < s->n_objects; i++)
    if (s->objects[i].id == id) return &s->objects[i];
  return NULL;
}

/* The scene and view indices of a sample id "scene_000003_v02-00-01". */
static int sample_views(const char *id, int *scene, int *views) {
  const char *v = strstr(id, "_v");
  *scene = atoi(id + strlen("scene_"));
  int n = 0;
  for (const char *p = v ? v + 2 : ""; *p && n < 8; p += (p[2] == '-' ? 3 : 2)) views[n++] = atoi(p);
  return n;
}

/* ---- checks against the ground truth ---- */

static double true_value(const sb_camera *cam, const sb_scene_object *o, const char *type) {
  double c[3], q[3];
  for (int i = 0; i < 3; i++) c[i] = 0.5 * (o->box_min[i] + o->box_max[i]);
  world_to_cam(cam, c, q);
  if (!strcmp(type, "left") || !strcmp(type, "right")) return q[0];
  if (!strcmp(type, "above") || !strcmp(type, "below")) return q[1];
  return true_min_depth(cam, o);
}

static int g_relations[6];

static void check_truth_object(const sb_json *r, const sb_scene *s, const sb_camera *cam, const sb_json *q) {
  static const char *const types[] = {"left", "right", "above", "below", "front", "behind"};
  int64_t a = 0, b = 0, which = 0;
  sb_json_get_int(q, "a", 0, &a), sb_json_get_int(q, "b", 0, &b);
  const char *t = jstr(q, "type");
  double ta = true_value(cam, scene_object(s, a), t), tb = true_value(cam, scene_object(s, b), t);
  bool smaller = !strcmp(t, "left") || !strcmp(t, "above") || !strcmp(t, "front");
  bool truth = smaller ? ta < tb : ta > tb;
  for (int i = 0; i < 6; i++) g_relations[i] += !strcmp(t, types[i]);
  if (!strcmp(jstr(q, "form"), "yesno"))
    CHECK(!strcmp(jstr(q, "answer"), truth ? "yes" : "no"), "%s: is %lld %s %lld? answered %s; true values %.3f %.3f",
          jstr(r, "id"), (long long)a, t, (long long)b, jstr(q, "answer"), ta, tb);
  else {
    sb_json_get_int(q, "answer", 0, &which);
    CHECK(which == (truth ? a : b), "%s: which %s of %lld, %lld: answered %lld; true values %.3f %.3f",
          jstr(r, "id"), t, (long long)a, (long long)b, (long long)which, ta, tb);
  }
}

static int g_depths;

static void check_truth_depth(const sb_json *r, const sb_scene *s, const int *views, const sb_json *q) {
  int64_t view = 0;
  sb_json_get_int(q, "view", 0, &view);
  sb_view_data vd;
  if (sb_view_data_load(s->views[views[view]].dir, &vd)) {
    CHECK(0, "%s", sb_error_message());
    return;
  }
  const sb_json *px = sb_json_get(q, "pixel"), *pt = sb_json_get(q, "point");
  int u = (int)jat(px, 0), v = (int)jat(px, 1);
  CHECK(u == (int)floor(jat(pt, 0) * vd.width + 1e-9) && v == (int)floor(jat(pt, 1) * vd.height + 1e-9),
        "%s: point (%.2f, %.2f) is not pixel (%d, %d)", jstr(r, "id"), jat(pt, 0), jat(pt, 1), u, v);
  double truth = vd.depth[(size_t)v * (size_t)vd.width + (size_t)u];
  CHECK(fabs(jnum(q, "depth_m") - truth) < 1e-4, "%s: depth %g at (%d, %d), the map has %g", jstr(r, "id"),
        jnum(q, "depth_m"), u, v, truth);
  CHECK(fabs(jnum(q, "answer_m") - truth) <= 0.005 + 1e-6, "%s: answered %.2f m, true %.4f", jstr(r, "id"),
        jnum(q, "answer_m"), truth);
  g_depths++;
  sb_view_data_free(&vd);
}

/* The ground-truth cloud of object id over the sample's views, in the
 * first view's frame (every valid pixel, no percentile band). */
static void truth_cloud(const sb_scene *s, const int *views, int nv, int64_t id, sb_cloud *out) {
  memset(out, 0, sizeof *out);
  for (int i = 0; i < nv; i++) {
    const sb_camera *c = &s->views[views[i]].cam;
    sb_view_data vd;
    if (sb_view_data_load(s->views[views[i]].dir, &vd)) continue;
    double m[16];
    sb_view_to_ref(s->views[views[0]].cam.cam_to_world, c->cam_to_world, m);
    sb_intrinsics k = {c->fx, c->fy, c->cx, c->cy, 0.5};
    for (int p = 0; p < vd.width * vd.height; p++)
      if (vd.ids[p] == id && vd.depth[p] > 0) {
        double x[3];
        sb_backproject(&k, p % vd.width, p / vd.width, vd.depth[p], x);
        sb_mat4_apply(m, x, x);
        sb_cloud_push(out, x);
      }
    sb_view_data_free(&vd);
  }
}

static double box_gap(const sb_scene_object *a, const sb_scene_object *b) {
  double s = 0;
  for (int i = 0; i < 3; i++) {
    double g = fmax(0, fmax(a->box_min[i] - b->box_max[i], b->box_min[i] - a->box_max[i]));
    s += g * g;
  }
  return sqrt(s);
}

static double half_diag(const sb_scene_object *o) {
  double s = 0;
  for (int i = 0; i < 3; i++) s += 0.25 * (o->box_max[i] - o->box_min[i]) * (o->box_max[i] - o->box_min[i]);
  return sqrt(s);
}

static int g_distances;

/* The tolerance of distances against the ground-truth clouds' Chamfer
 * distance, relative part: the default depth band drops true points of exact
 * renders (a grazing face's last rows) that can hold the other object's
 * nearest points; with the band off (0-100) only thinning remains. */
static double g_dist_rel = 0.15;

static void check_truth_distance(const sb_json *r, const sb_scene *s, const int *views, int nv, const sb_json *q) {
  int64_t a = 0, b = 0;
  sb_json_get_int(q, "a", 0, &a), sb_json_get_int(q, "b", 0, &b);
  sb_cloud ca, cb;
  truth_cloud(s, views, nv, a, &ca);
  truth_cloud(s, views, nv, b, &cb);
  double ref = sb_cloud_distance(&ca, &cb, 1500, 20000), d = jnum(q, "distance_m");
  const sb_scene_object *oa = scene_object(s, a), *ob = scene_object(s, b);
  double cd = 0;
  for (int i = 0; i < 3; i++) {
    double x = 0.5 * (oa->box_min[i] + oa->box_max[i] - ob->box_min[i] - ob->box_max[i]);
    cd += x * x;
  }
  CHECK(fabs(d - ref) <= 0.02 + g_dist_rel * ref, "%s: distance %lld-%lld %.4f m, ground-truth clouds %.4f m",
        jstr(r, "id"), (long long)a, (long long)b, d, ref);
  CHECK(d >= box_gap(oa, ob) - 0.01 && d <= sqrt(cd) + half_diag(oa) + half_diag(ob),
        "%s: distance %.4f m outside [box gap %.4f, centres %.4f + half diagonals]", jstr(r, "id"), d,
        box_gap(oa, ob), sqrt(cd));
  g_distances++;
  sb_cloud_free(&ca), sb_cloud_free(&cb);
}

/* Each object's metric cube lies inside its true box in the first view's
 * frame (1 cm for depth rounding and the box's corners). */
static void check_cubes(const sb_json *r, const sb_scene *s, const sb_camera *cam) {
  const sb_json *objs = sb_json_get(sb_json_get(r, "meta"), "objects");
  for (size_t i = 0; i < sb_json_array_size(objs); i++) {
    const sb_json *o = sb_json_array_at(objs, i), *cm = sb_json_get(o, "cube_m");
    int64_t id = 0;
    sb_json_get_int(o, "id", 0, &id);
    sb_box3 t;
    true_box_cam(cam, scene_object(s, id), &t);
    for (int a = 0; a < 3; a++)
      CHECK(jat(cm, (size_t)a) >= t.min[a] - 0.01 && jat(cm, (size_t)a + 3) <= t.max[a] + 0.01,
            "%s: object %lld axis %d: cube [%.3f, %.3f] outside its true box [%.3f, %.3f]", jstr(r, "id"),
            (long long)id, a, jat(cm, (size_t)a), jat(cm, (size_t)a + 3), t.min[a], t.max[a]);
    CHECK(!strcmp(jstr(o, "name"), "") == 0, "object without a name");
  }
}

static void check_truth(const sb_json *r) {
  int scene, views[8];
  int nv = sample_views(jstr(r, "id"), &scene, views);
  if (scene < 0 || scene >= N_SCENES || nv < 1) {
    CHECK(0, "sample id %s", jstr(r, "id"));
    return;
  }
  const sb_scene *s = &g_scenes[scene];
  const sb_camera *cam = &s->views[views[0]].cam;
  check_cubes(r, s, cam);
  const sb_json *qs = sb_json_get(sb_json_get(r, "meta"), "questions");
  for (size_t i = 0; i < sb_json_array_size(qs); i++) {
    const sb_json *q = sb_json_array_at(qs, i);
    const char *level = jstr(q, "level"), *type = jstr(q, "type");
    if (!strcmp(level, "object")) check_truth_object(r, s, cam, q);
    else if (!strcmp(level, "scene")) check_truth_distance(r, s, views, nv, q);
    else if (!strcmp(type, "depth")) check_truth_depth(r, s, views, q);
  }
}

/* ---- the runs ---- */

static void render_scenes(void) {
  run_out o = RUN(sb_datagen_synth, "synth", "-n", "5", "-o", (char *)tp("scenes"), "--views", "3", "--size",
                  "160x120", "--seed", "11", "--threads", "2");
  CHECK(o.rc == 0, "synth: %s", o.err);
  run_free(&o);
  for (int i = 0; i < N_SCENES; i++) {
    char name[64];
    snprintf(name, sizeof name, "scenes/scene_%06d", i);
    CHECK(sb_scene_load(tp(name), &g_scenes[i]) == SB_OK, "%s: %s", name, sb_error_message());
  }
}

static void test_single_view(void) {
  run_out o = RUN(sb_datagen_spatial, "spatial", "--scenes", (char *)tp("scenes"), "-o", (char *)tp("single.jsonl"));
  CHECK(o.rc == 0, "datagen spatial: %s", o.err);
  CHECK(strstr(o.out, "wrote 15 samples") != NULL, "summary: %s", o.out);
  run_free(&o);
  jsonl j = jsonl_load(tp("single.jsonl"));
  CHECK(j.n == N_SCENES * N_VIEWS, "%d records", j.n);
  for (int i = 0; i < j.n; i++) check_record(rec(&j, i), 1), check_truth(rec(&j, i));
  /* the image path is relative to the output's folder */
  CHECK(!strcmp(jstr(rec(&j, 0), "image"), "scenes/scene_000000/view_00/image.png"), "image %s",
        jstr(rec(&j, 0), "image"));
  jsonl_free(&j);
}

/* Two views each, the depth band off: distances within 2 cm + 3 %. */
static void test_multi_view(void) {
  run_out o = RUN(sb_datagen_spatial, "spatial", "--scenes", (char *)tp("scenes"), "-o", (char *)tp("multi.jsonl"),
                  "--views", "2", "--pixel-turns", "4", "--object-turns", "4", "--scene-turns", "3", "--seed", "5",
                  "--band", "0-100");
  g_dist_rel = 0.03;
  CHECK(o.rc == 0, "datagen spatial --views 2: %s", o.err);
  run_free(&o);
  jsonl j = jsonl_load(tp("multi.jsonl"));
  CHECK(j.n == N_SCENES * N_VIEWS, "%d records", j.n);
  for (int i = 0; i < j.n; i++) {
    check_record(rec(&j, i), 2), check_truth(rec(&j, i));
    const sb_json *objs = sb_json_get(sb_json_get(rec(&j, i), "meta"), "objects");
    int64_t views = 0;
    sb_json_get_int(sb_json_array_at(objs, 0), "views", 0, &views);
    CHECK(views == 2, "%s: the first object fused from %lld views", jstr(rec(&j, i), "id"), (long long)views);
    CHECK(strstr(turn_text(rec(&j, i), 0), "Image 2: <image>") != NULL, "first turn %s", turn_text(rec(&j, i), 0));
  }
  jsonl_free(&j);
}

/* A pixel of view 1 on an object, carried into view 0 by the poses, lands
 * where view 0 saw the same surface (when view 0 sees it too). */
static void test_fusion_points(void) {
  int matched = 0, off = 0;
  for (int si = 0; si < N_SCENES; si++) {
    const sb_scene *s = &g_scenes[si];
    sb_view_data v0, v1;
    if (sb_view_data_load(s->views[0].dir, &v0) || sb_view_data_load(s->views[1].dir, &v1)) continue;
    const sb_camera *c0 = &s->views[0].cam, *c1 = &s->views[1].cam;
    sb_intrinsics k0 = {c0->fx, c0->fy, c0->cx, c0->cy, 0.5}, k1 = {c1->fx, c1->fy, c1->cx, c1->cy, 0.5};
    double m[16];
    sb_view_to_ref(c0->cam_to_world, c1->cam_to_world, m);
    for (int p = 0; p < v1.width * v1.height; p += 7) {
      if (!v1.ids[p] || !(v1.depth[p] > 0)) continue;
      double x[3], y[3], u, v;
      sb_backproject(&k1, p % v1.width, p / v1.width, v1.depth[p], x);
      sb_mat4_apply(m, x, x);
      sb_project(&k0, x, &u, &v);
      int iu = (int)floor(u), iv = (int)floor(v);
      if (iu < 1 || iv < 1 || iu >= v0.width - 1 || iv >= v0.height - 1) continue;
      size_t q = (size_t)iv * (size_t)v0.width + (size_t)iu;
      if (v0.ids[q] != v1.ids[p] || fabs(v0.depth[q] - x[2]) > 0.01) continue; /* hidden in view 0 */
      sb_backproject(&k0, iu, iv, v0.depth[q], y);
      double d = sqrt((x[0] - y[0]) * (x[0] - y[0]) + (x[1] - y[1]) * (x[1] - y[1]) + (x[2] - y[2]) * (x[2] - y[2]));
      matched++;
      off += d > 1.5 * x[2] / c0->fx + 0.01;
    }
    sb_view_data_free(&v0), sb_view_data_free(&v1);
  }
  CHECK(matched > 200 && off <= matched / 50, "fusion: %d of %d points seen in both views land apart", off, matched);
  printf("fusion: %d points seen in two views, %d apart by more than 1.5 px + 1 cm\n", matched, off);
}

static void test_reproducible(void) {
  run_out a = RUN(sb_datagen_spatial, "spatial", "--scenes", (char *)tp("scenes"), "-o", (char *)tp("again.jsonl"));
  run_out b = RUN(sb_datagen_spatial, "spatial", "--scenes", (char *)tp("scenes"), "-o", (char *)tp("seed9.jsonl"),
                  "--seed", "9");
  char *x = read_all(tp("single.jsonl")), *y = read_all(tp("again.jsonl")), *z = read_all(tp("seed9.jsonl"));
  CHECK(a.rc == 0 && b.rc == 0, "runs: %s %s", a.err, b.err);
  CHECK(strlen(x) > 1000 && !strcmp(x, y), "the same seed gave other bytes");
  CHECK(strcmp(x, z) != 0, "another seed gave the same bytes");
  free(x), free(y), free(z);
  run_free(&a), run_free(&b);
}

/* ---- the sdk function and the plugin ---- */

static void check_same_turns(const sb_sample *s, const sb_json *r) {
  const sb_json *conv = sb_json_get(r, "conversations");
  CHECK(sb_sample_n_turns(s) == (int)sb_json_array_size(conv), "%s: %d turns vs %zu", sb_sample_id(s),
        sb_sample_n_turns(s), sb_json_array_size(conv));
  for (int t = 0; t < sb_sample_n_turns(s) && t < (int)sb_json_array_size(conv); t++) {
    sb_role role;
    const char *text;
    sb_sample_turn(s, t, &role, &text);
    CHECK(!strcmp(text, turn_text(r, t)), "%s turn %d differs:\n  %s\n  %s", sb_sample_id(s), t, text,
          turn_text(r, t));
  }
}

static void test_sdk_generate(void) {
  jsonl j = jsonl_load(tp("multi.jsonl"));
  int views[2] = {0, 0};
  for (int i = 0; i < j.n && i < 3; i++) {
    int scene;
    sample_views(jstr(rec(&j, i), "id"), &scene, views);
    sb_sample *s = sb_sample_new();
    sb_spatial_options o;
    sb_spatial_options_init(&o);
    o.pixel_turns_min = o.pixel_turns_max = o.object_turns_min = o.object_turns_max = 4;
    o.scene_turns_min = o.scene_turns_max = 3;
    o.percentile_low = 0, o.percentile_high = 100;
    int rc = sb_spatial_generate(g_scenes[scene].dir, views, 2, 5, &o, s);
    CHECK(rc == SB_OK, "sb_spatial_generate: %s", sb_error_message());
    CHECK(!strcmp(sb_sample_id(s), jstr(rec(&j, i), "id")), "id %s vs %s", sb_sample_id(s), jstr(rec(&j, i), "id"));
    CHECK(sb_sample_n_images(s) == 2 && sb_sample_meta(s) && strstr(sb_sample_meta(s), "\"questions\""),
          "images %d meta %s", sb_sample_n_images(s), sb_sample_meta(s) ? "yes" : "no");
    check_same_turns(s, rec(&j, i));
    sb_sample_free(s);
  }
  /* every object dropped: a skip, not an error */
  sb_spatial_options o;
  sb_spatial_options_init(&o);
  o.min_points = 1000000;
  sb_sample *s = sb_sample_new();
  int v0 = 0;
  CHECK(sb_spatial_generate(g_scenes[0].dir, &v0, 1, 0, &o, s) == SB_SPATIAL_SKIP, "no skip: %s", sb_error_message());
  CHECK_ERROR("0 objects with a cube");
  CHECK(sb_sample_n_turns(s) == 0, "a skipped sample has turns");
  sb_sample_free(s);
  jsonl_free(&j);
}

typedef struct ds {
  sb_recipe *r;
  sb_model m;
  const sb_dataset_vtable *vt;
  void *self;
} ds;

static int ds_open_block(ds *d, const char *block) {
  memset(d, 0, sizeof *d);
  char yaml[2048];
  snprintf(yaml, sizeof yaml, "model: {}\ndata:\n%s", block);
  write_text(tp("recipe.yaml"), yaml);
  if (!(d->r = sb_recipe_load(tp("recipe.yaml"), NULL, 0))) return SB_ERR;
  int rc = sb_model_build(&d->m, sb_recipe_root(d->r), 0, SB_MODEL_CREATE);
  if (rc == SB_OK) rc = sb_recipe_check_unused(d->r);
  d->vt = d->m.data.vtable, d->self = d->m.data.self;
  return rc ? rc : d->self ? SB_OK : sb_error("no data component");
}

static int ds_open(ds *d, const char *extra) {
  char block[1536];
  snprintf(block, sizeof block, "  plugin: dataset_spatial\n  scenes: \"%s\"\n%s", tp("scenes"), extra);
  return ds_open_block(d, block);
}

static void ds_close(ds *d) {
  sb_model_free(&d->m);
  sb_recipe_free(d->r);
}

typedef struct thread_job {
  ds *d;
  char *texts[N_SCENES * N_VIEWS];
} thread_job;

static void *thread_get(void *arg) {
  thread_job *job = arg;
  for (int i = 0; i < N_SCENES * N_VIEWS; i++) {
    sb_sample *s = sb_sample_new();
    if (job->d->vt->get(job->d->self, i, s) == SB_OK) {
      sb_role role;
      const char *t;
      sb_sample_turn(s, sb_sample_n_turns(s) - 1, &role, &t);
      job->texts[i] = sb_asprintf("%s|%d|%s", sb_sample_id(s), sb_sample_n_turns(s), t);
    }
    sb_sample_free(s);
  }
  return NULL;
}

static void test_plugin(void) {
  ds d;
  int rc = ds_open(&d, "  views: 2\n  seed: 5\n  pixel_turns: 4\n  object_turns: \"4\"\n  scene_turns: 3\n"
                         "  percentile_low: 0\n  percentile_high: 100\n");
  CHECK(rc == SB_OK, "dataset_spatial: %s", sb_error_message());
  if (rc) return ds_close(&d);
  CHECK(d.vt->size(d.self) == N_SCENES * N_VIEWS, "size %lld", (long long)d.vt->size(d.self));
  jsonl j = jsonl_load(tp("multi.jsonl"));
  int same = 0;
  for (int i = 0; i < N_SCENES * N_VIEWS; i++) { /* datagen's record of the same id (it skips what fails) */
    sb_sample *s = sb_sample_new();
    CHECK(d.vt->get(d.self, i, s) == SB_OK, "get %d: %s", i, sb_error_message());
    for (int k = 0; k < j.n; k++)
      if (!strcmp(sb_sample_id(s), jstr(rec(&j, k), "id"))) check_same_turns(s, rec(&j, k)), same++;
    sb_sample_free(s);
  }
  CHECK(same == j.n, "%d of %d plugin samples match a datagen record", same, j.n);
  jsonl_free(&j);
  thread_job jobs[2] = {{.d = &d}, {.d = &d}};
  pthread_t th[2];
  for (int t = 0; t < 2; t++) pthread_create(&th[t], NULL, thread_get, &jobs[t]);
  for (int t = 0; t < 2; t++) pthread_join(th[t], NULL);
  for (int i = 0; i < N_SCENES * N_VIEWS; i++) {
    CHECK(jobs[0].texts[i] && jobs[1].texts[i] && !strcmp(jobs[0].texts[i], jobs[1].texts[i]),
          "threads disagree on sample %d", i);
    free(jobs[0].texts[i]), free(jobs[1].texts[i]);
  }
  sb_sample *s = sb_sample_new();
  CHECK(d.vt->get(d.self, 99, s) != SB_OK, "sample 99 of 15");
  CHECK_ERROR("out of range");
  sb_sample_free(s);
  ds_close(&d);

  CHECK(ds_open(&d, "  min_points: 1000000\n  on_skip: error\n") == SB_OK, "%s", sb_error_message());
  s = sb_sample_new();
  CHECK(d.self && d.vt->get(d.self, 0, s) != SB_OK, "a sample whose objects all lack cubes");
  CHECK_ERROR("objects with a cube");
  sb_sample_free(s);
  ds_close(&d);
  CHECK(ds_open(&d, "  min_points: 1000000\n") == SB_OK, "%s", sb_error_message());
  s = sb_sample_new();
  CHECK(d.self && d.vt->get(d.self, 0, s) != SB_OK, "fallbacks cannot help");
  CHECK_ERROR("and its fallbacks");
  sb_sample_free(s);
  ds_close(&d);

  CHECK(ds_open(&d, "  pixel_turns: 5-2\n") != SB_OK, "turns 5-2 accepted");
  CHECK_ERROR("pixel_turns");
  ds_close(&d);
  CHECK(ds_open(&d, "  views: 0\n") != SB_OK, "views 0 accepted");
  CHECK_ERROR("views");
  ds_close(&d);
}

/* dataset_llava reads what datagen wrote: every record, its images and meta. */
static void test_llava_reads(void) {
  ds d;
  char block[1024];
  snprintf(block, sizeof block, "  plugin: dataset_llava\n  path: \"%s\"\n", tp("multi.jsonl"));
  int rc = ds_open_block(&d, block);
  CHECK(rc == SB_OK, "dataset_llava on datagen's output: %s", sb_error_message());
  if (rc) return ds_close(&d);
  jsonl j = jsonl_load(tp("multi.jsonl"));
  CHECK(d.vt->size(d.self) == j.n, "dataset_llava size %lld of %d", (long long)d.vt->size(d.self), j.n);
  for (int i = 0; i < j.n; i++) {
    sb_sample *s = sb_sample_new();
    CHECK(d.vt->get(d.self, i, s) == SB_OK, "get %d: %s", i, sb_error_message());
    check_same_turns(s, rec(&j, i));
    const char *path = NULL;
    const sb_image *img = NULL;
    sb_sample_image(s, 1, &path, &img);
    CHECK(sb_sample_n_images(s) == 2 && path && sb_path_exists(path) && sb_sample_meta(s), "sample %d images", i);
    sb_sample_free(s);
  }
  jsonl_free(&j);
  ds_close(&d);
}

int main(void) {
  tmp_init("spatialqa");
  render_scenes();
  test_single_view();
  test_multi_view();
  test_fusion_points();
  test_reproducible();
  test_sdk_generate();
  test_plugin();
  test_llava_reads();
  printf("checked %d depth answers, %d distances, relations left %d right %d above %d below %d front %d behind %d\n",
         g_depths, g_distances, g_relations[0], g_relations[1], g_relations[2], g_relations[3], g_relations[4],
         g_relations[5]);
  CHECK(g_relations[0] + g_relations[1] > 5 && g_relations[2] + g_relations[3] > 5 &&
            g_relations[4] + g_relations[5] > 5,
        "too few relations of some kind were checked");
  for (int i = 0; i < N_SCENES; i++) sb_scene_free(&g_scenes[i]);
  tmp_cleanup();
  return check_summary("spatialqa");
}
