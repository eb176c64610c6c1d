/* test_geometry.c — the spatial generator's parts in memory: back-projection
 * in both pixel-centre conventions, percentiles and the per-object depth
 * band (invalid depths, outliers, contiguous tails), cubes, rigid
 * transforms and multi-view fusion, the normalised frame, nearest-point
 * distances, wording (distances, depths, cubes), the JSON writer, colour
 * names; conversations from hand-made flat objects with known answers (one
 * and two views) and their skips and errors; the input readers: .npy,
 * .npz (stored and deflated zips), id PNG and RLE JSON masks, intrinsics
 * (presets, literals, JSON with K, scaling) and --objects descriptions. */
#include <zlib.h>

#include "geometry.h"
#include "qa_input.h"
#include "qa_internal.h"
#include "rle.h"
#include "spatial_io.h"
#include "sq_common.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

/* ---- geometry ---- */

static void test_backproject(void) {
  sb_intrinsics k = {100, 120, 50, 40, 0.5};
  double p[3], u, v;
  sb_backproject(&k, 50, 40, 2.0, p);
  CHECK(NEAR(p[0], 0.01, 1e-12) && NEAR(p[1], 0.5 * 2.0 / 120, 1e-12) && p[2] == 2.0, "(%g %g %g)", p[0], p[1], p[2]);
  for (int pc = 0; pc < 2; pc++) {
    k.pixel_center = pc ? 0.0 : 0.5;
    for (int uu = 0; uu < 100; uu += 13) {
      sb_backproject(&k, uu, 7, 3.5, p);
      sb_project(&k, p, &u, &v);
      CHECK((int)floor(u) == uu && (int)floor(v) == 7 && NEAR(u - floor(u), 0.5, 1e-9),
            "pixel_center %g: %d -> %g, %g", k.pixel_center, uu, u, v);
    }
  }
  sb_intrinsics kin = {525, 525, 319.5, 239.5, 0.0}; /* Kinect: the middle of 640 columns is on the axis */
  sb_backproject(&kin, 319, 239, 1.0, p);
  double q[3];
  sb_backproject(&kin, 320, 240, 1.0, q);
  CHECK(NEAR(p[0], -q[0], 1e-12) && NEAR(p[1], -q[1], 1e-12), "Kinect centre not symmetric");
  CHECK(sb_depth_valid(1.0f) && !sb_depth_valid(0.0f) && !sb_depth_valid(-1.0f) && !sb_depth_valid(NAN) &&
            !sb_depth_valid(INFINITY),
        "depth validity");
}

static void test_percentile_band(void) {
  double v[5] = {5, 1, 4, 2, 3};
  CHECK(sb_percentile(v, 5, 0) == 1 && sb_percentile(v, 5, 50) == 3 && sb_percentile(v, 5, 100) == 5 &&
            NEAR(sb_percentile(v, 5, 10), 1.4, 1e-12),
        "percentiles");
  /* a 12×12 map: a flat object at 2 m, two flying pixels, invalid values */
  float depth[144];
  uint32_t px[144];
  for (int i = 0; i < 144; i++) depth[i] = 2.0f + 0.001f * (float)(i % 12), px[i] = (uint32_t)i;
  depth[5] = 5.0f, depth[6] = 0.5f, depth[7] = NAN, depth[8] = INFINITY, depth[9] = 0, depth[10] = -1;
  sb_intrinsics k = {10, 10, 6, 6, 0.5};
  sb_cloud c;
  size_t nv;
  CHECK(sb_object_cloud(depth, 12, 12, &k, px, 144, 0, 100, &c, &nv) == SB_OK && nv == 140 && c.n == 140,
        "no band: %zu valid, %zu points", nv, c.n);
  sb_cloud_free(&c);
  CHECK(sb_object_cloud(depth, 12, 12, &k, px, 144, 2, 98, &c, &nv) == SB_OK && nv == 140 && c.n == 138,
        "band: %zu valid, %zu points (the two flying pixels go)", nv, c.n);
  sb_box3 b;
  sb_cloud_bounds(&c, &b);
  CHECK(NEAR(b.min[2], 2.0, 1e-6) && NEAR(b.max[2], 2.011, 1e-6), "z range %g %g", b.min[2], b.max[2]);
  sb_cloud_free(&c);
  /* a receding surface with a long thin tail keeps it: steps of 2 cm */
  for (int i = 0; i < 144; i++) depth[i] = i < 140 ? 2.0f : 2.0f + 0.02f * (float)(i - 139);
  CHECK(sb_object_cloud(depth, 12, 12, &k, px, 144, 2, 98, &c, NULL) == SB_OK && c.n == 144,
        "contiguous tail cut: %zu points", c.n);
  sb_cloud_free(&c);
  uint32_t none[3] = {7, 8, 9};
  depth[7] = NAN, depth[8] = INFINITY, depth[9] = 0;
  CHECK(sb_object_cloud(depth, 12, 12, &k, none, 3, 2, 98, &c, &nv) == SB_OK && nv == 0 && c.n == 0,
        "invalid only: %zu", c.n);
  sb_cloud_free(&c);
}

/* Rotation about a unit axis by angle, with translation t. */
static void rigid(const double axis[3], double angle, const double t[3], double m[16]) {
  double c = cos(angle), s = sin(angle), x = axis[0], y = axis[1], z = axis[2], C = 1 - c;
  double r[9] = {c + x * x * C,     x * y * C - z * s, x * z * C + y * s, y * x * C + z * s, c + y * y * C,
                 y * z * C - x * s, z * x * C - y * s, z * y * C + x * s, c + z * z * C};
  sb_mat4_identity(m);
  for (int i = 0; i < 3; i++) {
    for (int j = 0; j < 3; j++) m[4 * i + j] = r[3 * i + j];
    m[4 * i + 3] = t[i];
  }
}

static void test_transforms(void) {
  double ax[3] = {0.48, 0.6, 0.64}, t[3] = {1, -2, 0.5}, m[16], inv[16], id[16];
  rigid(ax, 0.7, t, m);
  sb_mat4_rigid_inverse(m, inv);
  sb_mat4_mul(inv, m, id);
  double err = 0;
  for (int i = 0; i < 16; i++) err = fmax(err, fabs(id[i] - (i % 5 == 0)));
  CHECK(err < 1e-12, "inverse error %g", err);
  CHECK(sb_mat4_is_rigid(m, 1e-9), "a rotation is not rigid");
  m[0] *= 1.1;
  CHECK(!sb_mat4_is_rigid(m, 1e-3), "a scaled matrix is rigid");
  /* a world point seen by two cameras: back-projected in view 1 and carried
   * to view 0 it is where view 0 sees it */
  double c0[16], c1[16], t0[3] = {0, 1.5, 4}, t1[3] = {2.5, 1.2, 3}, ay[3] = {0, 1, 0};
  rigid(ay, 0.1, t0, c0), rigid(ay, 0.6, t1, c1);
  double X[3] = {0.3, 0.4, -0.2}, x0[3], x1[3], w2c[16];
  sb_mat4_rigid_inverse(c0, w2c), sb_mat4_apply(w2c, X, x0);
  sb_mat4_rigid_inverse(c1, w2c), sb_mat4_apply(w2c, X, x1);
  sb_intrinsics k = {200, 200, 100, 80, 0.5};
  double u, v, p[3], to0[16];
  sb_project(&k, x1, &u, &v);
  p[2] = x1[2], p[0] = (u - 0.5 + 0.5 - k.cx) * p[2] / k.fx, p[1] = (v - k.cy) * p[2] / k.fy; /* continuous */
  sb_view_to_ref(c0, c1, to0);
  sb_mat4_apply(to0, p, p);
  CHECK(NEAR(p[0], x0[0], 1e-9) && NEAR(p[1], x0[1], 1e-9) && NEAR(p[2], x0[2], 1e-9),
        "fused (%g %g %g) vs (%g %g %g)", p[0], p[1], p[2], x0[0], x0[1], x0[2]);
}

static void test_frame_and_distance(void) {
  sb_cloud s = {0};
  for (int i = 0; i <= 1000; i++) {
    double p[3] = {i / 100.0, 10 - i / 100.0, (i * 7 % 1001) / 100.0};
    sb_cloud_push(&s, p);
  }
  double far[3] = {1000, 1000, 1000};
  sb_cloud_push(&s, far);
  sb_norm_frame f;
  CHECK(sb_norm_frame_make(&s, NULL, 0, &f) == SB_OK, "%s", sb_error_message());
  CHECK(f.hi[0] < 10.5 && f.lo[0] > -0.5 && f.hi[2] < 10.5, "a far outlier stretched the frame: %g..%g", f.lo[0],
        f.hi[0]);
  sb_box3 cube = {{-1, 2, 3}, {12, 4, 5}};
  CHECK(sb_norm_frame_make(&s, &cube, 1, &f) == SB_OK && f.lo[0] == -1 && f.hi[0] == 12, "cubes widen the frame");
  double n6[6], q[3], big[3] = {50, -50, 5};
  sb_norm_box(&f, &cube, n6);
  CHECK(n6[0] == 0 && n6[3] == 1, "the widest cube spans [0, 1]: %g %g", n6[0], n6[3]);
  sb_norm_point(&f, big, q);
  CHECK(q[0] == 1 && q[1] == 0, "clamping");
  sb_cloud_free(&s);
  sb_box3 flat = {{1, 1, 1}, {1, 1, 1}};
  CHECK(sb_norm_frame_make(NULL, &flat, 1, &f) == SB_OK && NEAR(f.hi[0] - f.lo[0], 0.01, 1e-12), "a flat axis");
  CHECK(sb_norm_frame_make(NULL, NULL, 0, &f) != SB_OK, "an empty frame");

  /* two parallel 20×20 grids 0.5 m apart: every nearest point is opposite */
  sb_cloud a = {0}, b = {0};
  for (int i = 0; i < 400; i++) {
    double p[3] = {(i % 20) * 0.01, (i / 20) * 0.01, 2.0}, r[3] = {p[0], p[1], 2.5};
    sb_cloud_push(&a, p), sb_cloud_push(&b, r);
  }
  CHECK(NEAR(sb_cloud_distance(&a, &b, 1 << 20, 1 << 20), 0.5, 1e-12), "planes: %g",
        sb_cloud_distance(&a, &b, 1 << 20, 1 << 20));
  CHECK(NEAR(sb_cloud_distance(&a, &b, 50, 100), 0.5, 1e-12), "thinned planes");
  sb_cloud_free(&a), sb_cloud_free(&b);
  /* asymmetric: one point against two at 1 and 2 m */
  double o[3] = {0, 0, 0}, p1[3] = {1, 0, 0}, p2[3] = {0, 2, 0};
  sb_cloud_push(&a, o), sb_cloud_push(&b, p1), sb_cloud_push(&b, p2);
  CHECK(sb_cloud_directed_distance(&a, &b) == 1 && sb_cloud_directed_distance(&b, &a) == 1.5 &&
            sb_cloud_distance(&a, &b, 10, 10) == 1.25,
        "directed distances");
  sb_cloud_free(&a), sb_cloud_free(&b);
}

/* ---- wording and JSON ---- */

static void check_text(const char *got, const char *want) { CHECK(!strcmp(got, want), "'%s', expected '%s'", got, want); }

static void test_wording(void) {
  char b[128];
  qa_distance_text(0.5, b, sizeof b), check_text(b, "50 centimeters");
  qa_distance_text(0.004, b, sizeof b), check_text(b, "1 centimeter");
  qa_distance_text(0.994, b, sizeof b), check_text(b, "99 centimeters");
  qa_distance_text(0.996, b, sizeof b), check_text(b, "1 meter");
  qa_distance_text(1.256, b, sizeof b), check_text(b, "1.26 meters");
  qa_distance_text(2.5, b, sizeof b), check_text(b, "2.5 meters");
  qa_depth_text(2.5, b, sizeof b), check_text(b, "2.50 meters");
  qa_depth_text(0.285, b, sizeof b), check_text(b, "0.29 meters");
  double cube[6] = {0.124, 0.4, 0, 0.255, 1, 0.3333};
  qa_cube_text(cube, b, sizeof b), check_text(b, "[0.12, 0.40, 0.00, 0.26, 1.00, 0.33]");
  CHECK(qa_round2(0.285) == 0.29 && qa_round2(-0.285) == -0.29 && qa_round2(0.2849) == 0.28, "round2");
  sb_format_num(b, sizeof b, -0.00001, 2), check_text(b, "0");
  sb_format_num(b, sizeof b, 3.10, 4), check_text(b, "3.1");
  char *f = qa_fill("{A} and {B}, {C}{D}{E}", "x", "y", NULL, "w");
  check_text(f, "x and y, w{E}");
  free(f);
  char *c = qa_cap("the red one");
  check_text(c, "The red one");
  free(c);
  static const struct {
    double rgb[3];
    const char *name;
  } colours[] = {{{200, 40, 40}, "red"},      {{50, 160, 60}, "green"},  {{45, 85, 215}, "blue"},
                 {{235, 205, 45}, "yellow"},  {{135, 55, 185}, "purple"}, {{45, 195, 205}, "cyan"},
                 {{120, 120, 120}, "grey"},   {{135, 85, 45}, "brown"},  {{240, 135, 35}, "orange"},
                 {{250, 250, 250}, "white"},  {{10, 10, 10}, "black"}};
  for (size_t i = 0; i < SB_ARRAY_LEN(colours); i++) check_text(qa_colour_name(colours[i].rgb), colours[i].name);
}

static void test_json_writer(void) {
  sb_jw w;
  sb_jw_init(&w);
  sb_jw_object(&w);
  sb_jw_key(&w, "s"), sb_jw_string(&w, "q\"u\\o\nte\x01");
  sb_jw_key(&w, "n"), sb_jw_nums(&w, (double[]){1.5, -0.0, NAN, 2.123456}, 4, 3);
  sb_jw_key(&w, "o"), sb_jw_object(&w), sb_jw_key(&w, "b"), sb_jw_bool(&w, true), sb_jw_end(&w);
  sb_jw_key(&w, "e"), sb_jw_array(&w), sb_jw_end(&w);
  sb_jw_key(&w, "r"), sb_jw_raw(&w, "[1,2]");
  sb_jw_key(&w, "i"), sb_jw_int(&w, -7);
  sb_jw_end(&w);
  char *s = sb_jw_finish(&w);
  check_text(s, "{\"s\":\"q\\\"u\\\\o\\nte\\u0001\",\"n\":[1.5,0,null,2.123],\"o\":{\"b\":true},\"e\":[],"
                "\"r\":[1,2],\"i\":-7}");
  sb_json_doc *d = sb_json_parse(s, "writer");
  CHECK(d != NULL, "the writer's JSON does not parse: %s", sb_error_message());
  sb_json_free(d);
  free(s);
}

/* ---- conversations from flat objects ---- */

/* A 160×120 view of a wall at 5 m with camera-facing rectangles. */
static void flat_view(sb_qa_view *v, double tx) {
  memset(v, 0, sizeof *v);
  v->width = 160, v->height = 120;
  v->depth = malloc(sizeof(float) * 160 * 120);
  for (int i = 0; i < 160 * 120; i++) v->depth[i] = 5.0f;
  v->k = (sb_intrinsics){100, 100, 80, 60, 0.5};
  sb_mat4_identity(v->cam_to_world);
  v->cam_to_world[3] = tx;
  v->masks = calloc(8, sizeof *v->masks);
  v->image_path = sb_strdup("img.png");
}

/* A rectangle of depth z whose metric box is given in the frame of a camera
 * at x = 0, drawn into a view whose camera stands at x = tx. */
static void flat_rect(sb_qa_view *v, int id, double x0, double y0, double x1, double y1, double z, double tx) {
  sb_qa_mask *m = &v->masks[v->n_masks++];
  m->id = id, m->pixels = malloc(sizeof(uint32_t) * 160 * 120), m->n = 0;
  for (int py = 0; py < 120; py++)
    for (int px = 0; px < 160; px++) {
      double x = (px + 0.5 - 80) * z / 100 + tx, y = (py + 0.5 - 60) * z / 100;
      if (x < x0 || x > x1 || y < y0 || y > y1) continue;
      v->depth[py * 160 + px] = (float)z;
      m->pixels[m->n++] = (uint32_t)(py * 160 + px);
    }
}

/* Objects: 1 left, high, near; 2 middle, low, middle; 3 right, high, far. */
static void flat_scene(sb_qa_input *in, int n_views) {
  memset(in, 0, sizeof *in);
  in->id = sb_strdup("flat");
  in->n_views = n_views, in->views = calloc((size_t)n_views, sizeof *in->views);
  for (int i = 0; i < n_views; i++) {
    double tx = 0.4 * i;
    flat_view(&in->views[i], tx);
    flat_rect(&in->views[i], 1, -1.5, -1.0, -0.9, -0.3, 2.0, tx);
    flat_rect(&in->views[i], 2, -0.3, 0.3, 0.5, 1.0, 3.0, tx);
    flat_rect(&in->views[i], 3, 0.9, -1.5, 1.9, -0.5, 4.0, tx);
  }
  sb_qa_input_describe(in, 1, "a red box");
  sb_qa_input_describe(in, 2, "The green ball.");
}

static const double k_truth[4][3] = {{0}, {-1.2, -0.65, 2.0}, {0.1, 0.65, 3.0}, {1.4, -1.0, 4.0}};

static void check_flat(const sb_qa_result *r, const char *what) {
  sb_json_doc *d = sb_json_parse(r->meta, what);
  CHECK(d != NULL, "%s: meta does not parse", what);
  if (!d) return;
  const sb_json *qs = sb_json_get(sb_json_root(d), "questions");
  int objects = 0;
  for (size_t i = 0; i < sb_json_array_size(qs); i++) {
    const sb_json *q = sb_json_array_at(qs, i);
    if (strcmp(jstr(q, "level"), "object")) continue;
    int64_t a, b, which = 0;
    sb_json_get_int(q, "a", 0, &a), sb_json_get_int(q, "b", 0, &b);
    const char *t = jstr(q, "type");
    int axis = !strcmp(t, "left") || !strcmp(t, "right") ? 0 : !strcmp(t, "above") || !strcmp(t, "below") ? 1 : 2;
    bool smaller = !strcmp(t, "left") || !strcmp(t, "above") || !strcmp(t, "front");
    bool truth = smaller ? k_truth[a][axis] < k_truth[b][axis] : k_truth[a][axis] > k_truth[b][axis];
    if (!strcmp(jstr(q, "form"), "yesno")) {
      CHECK(!strcmp(jstr(q, "answer"), truth ? "yes" : "no"), "%s: %s", what, t);
    } else {
      sb_json_get_int(q, "answer", 0, &which);
      CHECK(which == (truth ? a : b), "%s: which %s", what, t);
    }
    objects++;
  }
  CHECK(objects >= 3, "%s: %d object questions", what, objects);
  const sb_json *objs = sb_json_get(sb_json_root(d), "objects");
  for (size_t i = 0; i < sb_json_array_size(objs); i++) {
    const sb_json *o = sb_json_array_at(objs, i), *cm = sb_json_get(o, "cube_m");
    int64_t id = 0;
    sb_json_get_int(o, "id", 0, &id);
    CHECK(NEAR(jat(cm, 2), k_truth[id][2], 1e-4) && NEAR(0.5 * (jat(cm, 0) + jat(cm, 3)), k_truth[id][0], 0.05),
          "%s: object %lld cube x %g..%g z %g", what, (long long)id, jat(cm, 0), jat(cm, 3), jat(cm, 2));
  }
  const char *names = r->meta;
  CHECK(strstr(names, "\"the red box\"") && strstr(names, "\"the green ball\"") && strstr(names, "\"the object\""),
        "%s: names %s", what, names);
  sb_json_free(d);
}

static void test_flat_conversations(void) {
  sb_qa_options o;
  sb_qa_options_default(&o);
  for (int views = 1; views <= 2; views++) {
    sb_qa_input in;
    flat_scene(&in, views);
    for (uint64_t seed = 0; seed < 6; seed++) {
      sb_qa_result r;
      const char *why;
      sb_qa_stats st = {0};
      int rc = sb_qa_generate(&in, &o, seed, &st, &r, &why);
      CHECK(rc == SB_OK, "%d views seed %llu: %s", views, (unsigned long long)seed, sb_error_message());
      if (rc) continue;
      char *line = sb_qa_result_to_json(&r);
      sb_json_doc *d = sb_json_parse(line, "record");
      CHECK(d != NULL, "record does not parse");
      if (d) check_record(sb_json_root(d), views);
      sb_json_free(d);
      check_flat(&r, views == 1 ? "one view" : "two views");
      free(line);
      sb_qa_result_free(&r);
    }
    sb_qa_input_free(&in);
  }
}

static void test_flat_skips(void) {
  sb_qa_options o;
  sb_qa_options_default(&o);
  sb_qa_input in;
  sb_qa_result r;
  const char *why;
  sb_qa_stats st = {0};
  flat_scene(&in, 1);
  in.views[0].n_masks = 1; /* one object */
  CHECK(sb_qa_generate(&in, &o, 0, &st, &r, &why) == SB_QA_SKIP && why && !strcmp(why, SB_QA_SKIP_FEW_OBJECTS),
        "one object: %s", sb_error_message());
  in.views[0].n_masks = 3;
  for (size_t i = 0; i < in.views[0].masks[2].n; i++) in.views[0].depth[in.views[0].masks[2].pixels[i]] = NAN;
  for (int m = 0; m < 2; m++) in.views[0].masks[m].n = 20; /* small */
  CHECK(sb_qa_generate(&in, &o, 0, &st, &r, &why) == SB_QA_SKIP, "all objects dropped");
  CHECK(sb_qa_tally_count(&st.dropped, SB_QA_DROP_SMALL) == 2 && sb_qa_tally_count(&st.dropped, SB_QA_DROP_NO_DEPTH) == 1,
        "dropped: %ld small, %ld no depth", sb_qa_tally_count(&st.dropped, SB_QA_DROP_SMALL),
        sb_qa_tally_count(&st.dropped, SB_QA_DROP_NO_DEPTH));
  for (int i = 0; i < 160 * 120; i++) in.views[0].depth[i] = i % 2 ? 0.0f : INFINITY;
  CHECK(sb_qa_generate(&in, &o, 0, &st, &r, &why) == SB_QA_SKIP && !strcmp(why, SB_QA_SKIP_NO_DEPTH),
        "no valid depth: %s", why ? why : "(none)");
  CHECK_ERROR("no pixel has a valid depth");
  sb_qa_input_free(&in);

  flat_scene(&in, 1);
  in.views[0].cam_to_world[0] = 2;
  CHECK(sb_qa_generate(&in, &o, 0, &st, &r, &why) < 0, "a scaled pose");
  CHECK_ERROR("not a rigid transform");
  in.views[0].cam_to_world[0] = 1, in.views[0].k.fx = 0;
  CHECK(sb_qa_generate(&in, &o, 0, &st, &r, &why) < 0, "fx 0");
  CHECK_ERROR("intrinsics");
  in.views[0].k.fx = 100, in.views[0].masks[0].pixels[0] = 160 * 120;
  CHECK(sb_qa_generate(&in, &o, 0, &st, &r, &why) < 0, "a pixel outside");
  CHECK_ERROR("outside the 160×120 depth map");
  in.views[0].masks[0].pixels[0] = 0;
  o.margin_m = 100; /* nothing is that far apart */
  CHECK(sb_qa_generate(&in, &o, 0, &st, &r, &why) == SB_QA_SKIP && !strcmp(why, SB_QA_SKIP_NO_QUESTION), "margin");
  o.margin_m = 0.1, o.pct_lo = 50, o.pct_hi = 40;
  CHECK(sb_qa_generate(&in, &o, 0, &st, &r, &why) < 0, "band 50-40");
  CHECK_ERROR("percentile band");
  sb_qa_input_free(&in);
  sb_qa_range rg;
  CHECK(sb_qa_range_parse("3-4", &rg) == SB_OK && rg.min == 3 && rg.max == 4, "3-4");
  CHECK(sb_qa_range_parse("2", &rg) == SB_OK && rg.min == 2 && rg.max == 2, "2");
  CHECK(sb_qa_range_parse("4-3", &rg) != SB_OK && sb_qa_range_parse("3-", &rg) != SB_OK &&
            sb_qa_range_parse("17", &rg) != SB_OK && sb_qa_range_parse("x", &rg) != SB_OK,
        "bad ranges accepted");
}

/* ---- readers ---- */

static void write_bytes(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (f) fwrite(data, 1, n, f), fclose(f);
}

static size_t npy_bytes(uint8_t *out, const char *descr, const char *shape, bool fortran, const void *data, size_t n) {
  char hdr[128];
  int h = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }\n", descr,
                   fortran ? "True" : "False", shape);
  memcpy(out, "\x93NUMPY\x01\x00", 8);
  out[8] = (uint8_t)h, out[9] = 0;
  memcpy(out + 10, hdr, (size_t)h);
  memcpy(out + 10 + h, data, n);
  return 10 + (size_t)h + n;
}

static void test_npy(void) {
  uint8_t buf[512];
  sb_npy a;
  float f[6] = {1, 2, 3, 4, 5, NAN};
  size_t n = npy_bytes(buf, "<f4", "(2, 3)", false, f, sizeof f);
  CHECK(sb_npy_parse(buf, n, "f4", &a) == SB_OK && a.ndim == 2 && a.shape[1] == 3 && a.data[4] == 5 &&
            isnan(a.data[5]) && a.is_float,
        "f4: %s", sb_error_message());
  sb_npy_free(&a);
  uint8_t be[16] = {0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0}; /* 1.0, 2.0 big-endian */
  n = npy_bytes(buf, ">f8", "(2,)", false, be, 16);
  CHECK(sb_npy_parse(buf, n, "f8", &a) == SB_OK && a.data[0] == 1 && a.data[1] == 2, "big-endian f8");
  sb_npy_free(&a);
  uint16_t u[6] = {1, 2, 3, 4, 5, 6}; /* Fortran order: columns first */
  n = npy_bytes(buf, "<u2", "(2, 3)", true, u, sizeof u);
  CHECK(sb_npy_parse(buf, n, "u2", &a) == SB_OK && a.data[1] == 3 && a.data[3] == 2 && !a.is_float, "fortran u2");
  sb_npy_free(&a);
  CHECK(sb_npy_parse(buf, n - 2, "short", &a) != SB_OK, "short data accepted");
  CHECK_ERROR("the shape needs");
  n = npy_bytes(buf, "<U8", "(2,)", false, u, 4);
  CHECK(sb_npy_parse(buf, n, "str", &a) != SB_OK, "a string array accepted");
  CHECK(sb_npy_parse((const uint8_t *)"hello world", 11, "x", &a) != SB_OK, "not npy");
  CHECK_ERROR("not a NumPy");
}

/* A zip of named members, stored (0) or deflated (8). */
static void write_zip(const char *path, const char *const *names, const uint8_t *const *data, const size_t *lens,
                      int n, int method) {
  uint8_t *out = malloc(1 << 20), *cd = malloc(1 << 16);
  size_t o = 0, c = 0;
  for (int i = 0; i < n; i++) {
    uLongf zl = compressBound((uLong)lens[i]);
    uint8_t *z = malloc(zl);
    size_t clen = lens[i];
    if (method == 8) { /* raw deflate */
      z_stream s = {0};
      deflateInit2(&s, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
      s.next_in = (Bytef *)data[i], s.avail_in = (uInt)lens[i], s.next_out = z, s.avail_out = (uInt)zl;
      deflate(&s, Z_FINISH);
      clen = s.total_out;
      deflateEnd(&s);
    } else memcpy(z, data[i], lens[i]);
    uint32_t crc = (uint32_t)crc32(0, data[i], (uInt)lens[i]), nl = (uint32_t)strlen(names[i]);
    uint8_t lh[30] = {0x50, 0x4b, 3, 4, 20, 0, 0, 0, (uint8_t)method, 0};
    memcpy(lh + 14, &crc, 4), memcpy(lh + 18, &(uint32_t){(uint32_t)clen}, 4);
    memcpy(lh + 22, &(uint32_t){(uint32_t)lens[i]}, 4), memcpy(lh + 26, &nl, 2);
    uint8_t ch[46] = {0x50, 0x4b, 1, 2, 20, 0, 20, 0, 0, 0, (uint8_t)method, 0};
    memcpy(ch + 16, &crc, 4), memcpy(ch + 20, &(uint32_t){(uint32_t)clen}, 4);
    memcpy(ch + 24, &(uint32_t){(uint32_t)lens[i]}, 4), memcpy(ch + 28, &nl, 2);
    memcpy(ch + 42, &(uint32_t){(uint32_t)o}, 4);
    memcpy(out + o, lh, 30), memcpy(out + o + 30, names[i], nl), memcpy(out + o + 30 + nl, z, clen);
    o += 30 + nl + clen;
    memcpy(cd + c, ch, 46), memcpy(cd + c + 46, names[i], nl);
    c += 46 + nl;
    free(z);
  }
  uint8_t e[22] = {0x50, 0x4b, 5, 6};
  memcpy(e + 8, &(uint16_t){(uint16_t)n}, 2), memcpy(e + 10, &(uint16_t){(uint16_t)n}, 2);
  memcpy(e + 12, &(uint32_t){(uint32_t)c}, 4), memcpy(e + 16, &(uint32_t){(uint32_t)o}, 4);
  memcpy(out + o, cd, c), memcpy(out + o + c, e, 22);
  write_bytes(path, out, o + c + 22);
  free(out), free(cd);
}

static void test_npz(void) {
  uint8_t a[256], b[256];
  float fa[4] = {1, 2, 3, 4}, fb[4] = {9, 8, 7, 6};
  size_t na = npy_bytes(a, "<f4", "(2, 2)", false, fa, 16), nb = npy_bytes(b, "<f4", "(2, 2)", false, fb, 16);
  const char *names[2] = {"arr_0.npy", "depth.npy"};
  const uint8_t *data[2] = {a, b};
  size_t lens[2] = {na, nb};
  for (int method = 0; method <= 8; method += 8) {
    write_zip(tp("two.npz"), names, data, lens, 2, method);
    sb_npy x;
    CHECK(sb_npz_load(tp("two.npz"), NULL, &x) == SB_OK && x.data[0] == 9, "method %d: depth member: %s", method,
          sb_error_message());
    sb_npy_free(&x);
    CHECK(sb_npz_load(tp("two.npz"), "arr_0", &x) == SB_OK && x.data[3] == 4, "method %d: arr_0", method);
    sb_npy_free(&x);
    CHECK(sb_npz_load(tp("two.npz"), "nope", &x) != SB_OK, "a missing member");
    CHECK_ERROR("no member 'nope.npy'");
    sb_depth_map d;
    CHECK(sb_depth_load(tp("two.npz"), 1000, &d) == SB_OK && d.width == 2 && d.z[1] == 8, "depth from npz");
    sb_depth_free(&d);
  }
  write_zip(tp("one.npz"), names, data, lens, 1, 8);
  sb_npy x;
  CHECK(sb_npz_load(tp("one.npz"), NULL, &x) == SB_OK && x.data[2] == 3, "the only member");
  sb_npy_free(&x);
  const char *three[3] = {"a.npy", "b.npy", "c.npy"};
  const uint8_t *d3[3] = {a, a, a};
  size_t l3[3] = {na, na, na};
  write_zip(tp("three.npz"), three, d3, l3, 3, 0);
  CHECK(sb_npz_load(tp("three.npz"), NULL, &x) != SB_OK, "an ambiguous npz");
  CHECK_ERROR("none named 'depth'");
  static const char bad[] = "PK\x03\x04 not really";
  write_bytes(tp("bad.npz"), bad, sizeof bad - 1);
  CHECK(sb_npz_load(tp("bad.npz"), NULL, &x) != SB_OK, "a broken zip");
  CHECK_ERROR("not a zip");
  /* integer arrays are in depth units */
  uint16_t mm[4] = {1000, 2500, 0, 65535};
  size_t nm = npy_bytes(a, "<u2", "(2, 2)", false, mm, 8);
  write_bytes(tp("mm.npy"), a, nm);
  sb_depth_map d;
  CHECK(sb_depth_load(tp("mm.npy"), 1000, &d) == SB_OK && d.z[0] == 1.0f && d.z[1] == 2.5f && d.z[2] == 0,
        "millimetre npy");
  sb_depth_free(&d);
  float f3[8] = {0};
  nm = npy_bytes(a, "<f4", "(2, 2, 2)", false, f3, 32);
  write_bytes(tp("rgb.npy"), a, nm);
  CHECK(sb_depth_load(tp("rgb.npy"), 1000, &d) != SB_OK, "a 2-channel depth");
  CHECK_ERROR("(H, W)");
  CHECK(sb_depth_load(tp("x.tiff"), 1000, &d) != SB_OK, "tiff");
  CHECK_ERROR("unknown depth format");
}

static void test_masks(void) {
  uint16_t ids[6 * 4] = {0};
  ids[1] = ids[2] = 3, ids[9] = 7, ids[23] = 3;
  write_png16(tp("ids.png"), ids, 6, 4);
  sb_mask_set m;
  CHECK(sb_masks_load(tp("ids.png"), &m) == SB_OK && m.n == 2 && m.masks[0].id == 3 && m.masks[0].n == 3 &&
            m.masks[1].id == 7 && m.masks[1].pixels[0] == 9,
        "ids png: %s", sb_error_message());
  sb_masks_free(&m);
  /* the same masks as RLE: a compressed string and a run list */
  uint8_t bin[24];
  for (int i = 0; i < 24; i++) bin[i] = ids[i] == 3;
  sb_rle r;
  sb_rle_encode(bin, 4, 6, &r);
  char *counts = sb_rle_to_string(&r);
  sb_strbuf runs;
  sb_strbuf_init(&runs);
  for (size_t i = 0; i < r.n; i++) sb_strbuf_printf(&runs, "%s%u", i ? "," : "", r.counts[i]);
  char *json = sb_asprintf("{\"image\": {\"width\": 6, \"height\": 4}, \"annotations\": ["
                           "{\"id\": 1, \"object_id\": 3, \"segmentation\": {\"size\": [4, 6], \"counts\": \"%s\"}},"
                           "{\"id\": 2, \"segmentation\": {\"size\": [4, 6], \"counts\": [%s]}}]}",
                           counts, runs.data);
  write_text(tp("masks.json"), json);
  CHECK(sb_masks_load(tp("masks.json"), &m) == SB_OK && m.n == 2 && m.masks[0].id == 3 && m.masks[1].id == 2 &&
            m.masks[0].n == 3 && m.masks[1].n == 3 && m.masks[1].pixels[2] == 23 && m.width == 6 && m.height == 4,
        "rle json: %s", sb_error_message());
  sb_masks_free(&m);
  free(json), free(counts), sb_strbuf_free(&runs), sb_rle_free(&r);
  write_text(tp("poly.json"), "[{\"segmentation\": [[1, 2, 3, 4, 5, 6]]}]");
  CHECK(sb_masks_load(tp("poly.json"), &m) != SB_OK, "a polygon");
  CHECK_ERROR("polygon");
  write_text(tp("sizes.json"), "[{\"segmentation\": {\"size\": [4, 6], \"counts\": [24]}},"
                               " {\"segmentation\": {\"size\": [5, 6], \"counts\": [30]}}]");
  CHECK(sb_masks_load(tp("sizes.json"), &m) != SB_OK, "masks of two sizes");
  CHECK_ERROR("a 6×5 mask among 6×4 ones");
  write_text(tp("runs.json"), "[{\"segmentation\": {\"size\": [4, 6], \"counts\": [3, 4]}}]");
  CHECK(sb_masks_load(tp("runs.json"), &m) != SB_OK, "runs that do not cover the mask");
  CHECK_ERROR("annotations[0]");
}

static void test_cameras(void) {
  sb_view_camera c;
  CHECK(sb_camera_resolve("nyuv2", 640, 480, 0.5, &c) == SB_OK && NEAR(c.k.fx, 518.8579, 1e-3) &&
            c.k.pixel_center == 1.0,
        "nyuv2");
  CHECK(sb_camera_resolve("nyuv2", 320, 240, 0.5, &c) == SB_OK && NEAR(c.k.fx, 259.42895, 1e-3) &&
            NEAR(c.k.cx, 0.5 * (325.5824494111903 - 0.5) - 0.5 + 1, 1e-9),
        "nyuv2 halved: fx %g cx %g", c.k.fx, c.k.cx);
  CHECK(sb_camera_resolve("kinect", 640, 480, 0.5, &c) == SB_OK && c.k.cx == 319.5 && c.k.pixel_center == 0,
        "kinect");
  CHECK(sb_camera_resolve("500,510,320.5,240", 640, 480, 0.5, &c) == SB_OK && c.k.fy == 510 && c.k.pixel_center == 0.5,
        "literal");
  CHECK(sb_camera_resolve("500,510,320.5,240,0", 640, 480, 0.5, &c) == SB_OK && c.k.pixel_center == 0, "literal pc");
  write_text(tp("k.json"), "{\"K\": [[400, 0, 200], [0, 410, 150], [0, 0, 1]], \"width\": 400, \"height\": 300,"
                           " \"pixel_center\": 0, \"cam_to_world\": [1,0,0,1, 0,1,0,2, 0,0,1,3, 0,0,0,1]}");
  CHECK(sb_camera_resolve(tp("k.json"), 800, 600, 0.5, &c) == SB_OK && c.k.fx == 800 && c.k.fy == 820 &&
            NEAR(c.k.cx, 400.5, 1e-12) && c.has_pose && c.cam_to_world[7] == 2,
        "K json scaled: fx %g cx %g", c.k.fx, c.k.cx);
  write_text(tp("flat.json"), "{\"K\": [400, 0, 200, 0, 410, 150, 0, 0, 1]}");
  CHECK(sb_camera_resolve(tp("flat.json"), 800, 600, 0.5, &c) == SB_OK && c.k.fx == 400 && !c.has_pose, "flat K");
  write_text(tp("nofx.json"), "{\"fy\": 1, \"cx\": 1, \"cy\": 1}");
  CHECK(sb_camera_resolve(tp("nofx.json"), 8, 6, 0.5, &c) != SB_OK, "no fx");
  CHECK_ERROR("no 'fx'");
  CHECK(sb_camera_resolve("nowhere.json", 8, 6, 0.5, &c) != SB_OK, "a missing file");
  CHECK_ERROR("not a preset");
}

static void test_descriptions(void) {
  write_text(tp("objects.json"), "{\"img.1\": {\"caption\": \"A kitchen.\", \"objects\": {\"1\": \"red chair\"}},"
                                 " \"b\": [{\"id\": 2, \"name\": \"mug\"}], \"c\": {\"3\": \"lamp\"},"
                                 " \"bad\": {\"x\": \"lamp\"}}");
  sb_json_doc *d = sb_json_load(tp("objects.json"));
  sb_qa_input in = {0};
  CHECK(sb_objects_describe(sb_json_root(d), "img.1", &in) == SB_OK && in.caption && !strcmp(in.caption, "A kitchen.") &&
            in.n_descs == 1 && !strcmp(in.descs[0].text, "red chair"),
        "dotted key with caption: %s", sb_error_message());
  CHECK(sb_objects_describe(sb_json_root(d), "b", &in) == SB_OK && in.n_descs == 2 && in.descs[1].id == 2, "list");
  CHECK(sb_objects_describe(sb_json_root(d), "c", &in) == SB_OK && in.n_descs == 3, "map");
  CHECK(sb_objects_describe(sb_json_root(d), "absent", &in) == SB_OK && in.n_descs == 3, "absent key");
  CHECK(sb_objects_describe(sb_json_root(d), "bad", &in) != SB_OK, "a non-numeric id");
  CHECK_ERROR("expected an object id");
  sb_qa_input_free(&in);
  sb_json_free(d);
}

int main(void) {
  tmp_init("sqgeo");
  test_backproject();
  test_percentile_band();
  test_transforms();
  test_frame_and_distance();
  test_wording();
  test_json_writer();
  test_flat_conversations();
  test_flat_skips();
  test_npy();
  test_npz();
  test_masks();
  test_cameras();
  test_descriptions();
  tmp_cleanup();
  return check_summary("spatialqa-geometry");
}
