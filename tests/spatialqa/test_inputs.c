/* test_inputs.c — `datagen spatial` on real-style input folders (images,
 * depth maps, masks, intrinsics, descriptions) written here, good and bad:
 *   skipped samples, each with its reason counted and reported at the end:
 *   depth and masks of different sizes, every object without a cube (empty
 *   masks), no valid depth at all (zeros), an image without a depth map,
 *   without masks or without its intrinsics JSON;
 *   objects left out with their reason: a mask whose depths are all NaN,
 *   inf or zero, an object too small for a cube;
 *   zero/NaN/inf depths never reaching an answer;
 *   the written samples passing every record check, descriptions and
 *   captions from --objects, colour names otherwise, intrinsics per image,
 *   two views with poses, and the errors: a corrupt PNG, unknown options,
 *   conflicting inputs, a bad band, no pose for a multi-view sample,
 *   nothing written. */
#include "sq_common.h"

#define W 96
#define H 72

/* A scene: a wall at 4 m and rectangles (id, x0, y0, x1, y1 in pixels,
 * depth in metres, RGB). */
typedef struct rect {
  int id, x0, y0, x1, y1;
  float z;
  uint8_t rgb[3];
} rect;

static const rect k_rects[] = {
    {1, 8, 10, 30, 40, 2.0f, {200, 40, 40}},
    {2, 40, 30, 60, 60, 3.0f, {50, 160, 60}},
    {3, 70, 8, 90, 30, 2.5f, {45, 85, 215}},
};

static void paint(float *z, uint16_t *ids, uint8_t *rgb, int n_rects) {
  for (int i = 0; i < W * H; i++) z[i] = 4.0f, ids[i] = 0, rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = 128;
  for (int r = 0; r < n_rects; r++)
    for (int y = k_rects[r].y0; y < k_rects[r].y1; y++)
      for (int x = k_rects[r].x0; x < k_rects[r].x1; x++) {
        z[y * W + x] = k_rects[r].z, ids[y * W + x] = (uint16_t)k_rects[r].id;
        memcpy(rgb + 3 * (y * W + x), k_rects[r].rgb, 3);
      }
}

static void write_depth_png(const char *path, const float *z) {
  uint16_t mm[W * H];
  for (int i = 0; i < W * H; i++) mm[i] = isfinite(z[i]) && z[i] > 0 ? (uint16_t)lroundf(z[i] * 1000) : 0;
  write_png16(path, mm, W, H);
}

static char *pathf(const char *dir, const char *name) {
  static char buf[8][700];
  static int k;
  char *b = buf[k++ % 8];
  snprintf(b, 700, "%s/%s%s%s", g_tmp, dir, name[0] ? "/" : "", name);
  return b;
}

/* One sample's files: image NAME.png, depth NAME.png or .npy, masks. */
static void sample(const char *name, int n_rects, bool npy) {
  float z[W * H];
  uint16_t ids[W * H];
  uint8_t rgb[W * H * 3];
  paint(z, ids, rgb, n_rects);
  char f[128];
  snprintf(f, sizeof f, "%s.png", name);
  write_rgb(pathf("images", f), rgb, W, H);
  if (npy) snprintf(f, sizeof f, "%s.npy", name), write_npy_f32(pathf("depth", f), z, W, H);
  else write_depth_png(pathf("depth", f), z);
  snprintf(f, sizeof f, "%s.png", name);
  write_png16(pathf("masks", f), ids, W, H);
}

static void make_inputs(void) {
  const char *dirs[] = {"images", "depth", "masks", "cams", "bad", "bad/images", "bad/depth", "bad/masks"};
  for (size_t i = 0; i < SB_ARRAY_LEN(dirs); i++) mkdir(tp(dirs[i]), 0755);
  sample("a_good", 3, false);
  sample("b_tiny", 3, false); /* object 3 shrunk to 9 pixels below */
  uint16_t ids[W * H];
  float z[W * H];
  uint8_t rgb[W * H * 3];
  paint(z, ids, rgb, 3);
  for (int i = 0; i < W * H; i++)
    if (ids[i] == 3 && !(i % W >= 70 && i % W < 73 && i / W >= 8 && i / W < 11)) ids[i] = 0;
  write_png16(pathf("masks", "b_tiny.png"), ids, W, H);
  /* c_invalid: object 1's depths NaN, inf or 0; zeros, NaN and inf across the wall */
  paint(z, ids, rgb, 3);
  for (int i = 0; i < W * H; i++) {
    if (ids[i] == 1) z[i] = i % 3 == 0 ? NAN : i % 3 == 1 ? INFINITY : 0.0f;
    else if (ids[i] == 0 && i % 7 == 0) z[i] = i % 2 ? NAN : 0.0f;
    else if (ids[i] == 0 && i % 11 == 0) z[i] = -INFINITY;
  }
  write_rgb(pathf("images", "c_invalid.png"), rgb, W, H);
  write_npy_f32(pathf("depth", "c_invalid.npy"), z, W, H);
  write_png16(pathf("masks", "c_invalid.png"), ids, W, H);
  /* d_sizes: masks of another size */
  sample("d_sizes", 3, false);
  uint16_t small[80 * 60] = {0};
  small[5] = 1;
  write_png16(pathf("masks", "d_sizes.png"), small, 80, 60);
  /* e_empty: no annotations */
  sample("e_empty", 3, false);
  write_text(pathf("masks", "e_empty.json"), "{\"annotations\": []}");
  remove(pathf("masks", "e_empty.png"));
  /* f_zero: a depth of zeros everywhere */
  sample("f_zero", 3, false);
  uint16_t zeros[W * H] = {0};
  write_png16(pathf("depth", "f_zero.png"), zeros, W, H);
  /* g_lonely: an image without depth */
  sample("g_lonely", 3, false);
  remove(pathf("depth", "g_lonely.png"));
  /* intrinsics for some images only */
  const char *with_cam[] = {"a_good", "b_tiny", "c_invalid", "d_sizes", "e_empty", "f_zero"};
  for (size_t i = 0; i < SB_ARRAY_LEN(with_cam); i++) {
    char f[128];
    snprintf(f, sizeof f, "%s.json", with_cam[i]);
    write_text(pathf("cams", f), "{\"fx\": 80, \"fy\": 80, \"cx\": 48, \"cy\": 36, \"width\": 96, \"height\": 72}");
  }
  write_text(tp("objects.json"), "{\"a_good\": {\"caption\": \"Three boards in front of a wall.\", "
                                 "\"objects\": {\"1\": \"red board\", \"2\": \"a green board\"}}}");
}

static void check_records(const char *path, int want, int views) {
  jsonl j = jsonl_load(path);
  CHECK(j.n == want, "%s: %d records, expected %d", path, j.n, want);
  for (int i = 0; i < j.n; i++) {
    check_record(rec(&j, i), views);
    CHECK(!strstr(j.lines[i], "nan") && !strstr(j.lines[i], "inf") && !strstr(j.lines[i], "null"),
          "%s: a non-finite value in %s", path, jstr(rec(&j, i), "id"));
  }
  jsonl_free(&j);
}

static void test_skips(void) {
  run_out o = RUN(sb_datagen_spatial, "spatial", "--images", pathf("images", ""), "--depth", pathf("depth", ""),
                  "--masks", pathf("masks", ""), "--intrinsics", pathf("cams", ""), "--objects",
                  (char *)tp("objects.json"), "-o", (char *)tp("real.jsonl"));
  CHECK(o.rc == 0, "rc %d: %s", o.rc, o.err);
  const char *want[] = {"wrote 3 samples", "skipped 4", "1 × depth and masks of different sizes",
                        "1 × fewer than 2 objects with a cube", "1 × no valid depth in the view",
                        "1 × no depth map for the image", "left out 2 objects", "1 × mask has no valid depth",
                        "1 × too few points for a cube"};
  for (size_t i = 0; i < SB_ARRAY_LEN(want); i++) CHECK(strstr(o.out, want[i]) != NULL, "summary lacks '%s': %s", want[i], o.out);
  const char *notes[] = {"skipped d_sizes: ", "is 96×72 but", "is 80×60", "skipped e_empty: sample 'e_empty': 0 objects with a cube",
                         "skipped f_zero: ", "no pixel has a valid depth", "skipped g_lonely: no depth file"};
  for (size_t i = 0; i < SB_ARRAY_LEN(notes); i++) CHECK(strstr(o.err, notes[i]) != NULL, "stderr lacks '%s': %s", notes[i], o.err);
  printf("summary: %sskip notes:\n%s", o.out, o.err);
  run_free(&o);
  check_records(tp("real.jsonl"), 3, 1);
  jsonl j = jsonl_load(tp("real.jsonl"));
  if (j.n == 3) {
    const sb_json *meta = sb_json_get(rec(&j, 0), "meta");
    CHECK(!strcmp(jstr(rec(&j, 0), "id"), "a_good") && !strcmp(jstr(meta_object(meta, 1), "name"), "the red board") &&
              !strcmp(jstr(meta_object(meta, 2), "name"), "the green board") &&
              !strcmp(jstr(meta_object(meta, 3), "name"), "the blue object"),
          "names: %s", j.lines[0]);
    CHECK(strstr(j.lines[0], "Three boards in front of a wall.") || !strstr(j.lines[0], "\"describe\""),
          "the caption from --objects is not used");
    CHECK(strstr(j.lines[1], "\"reason\":\"too few points for a cube (min_points)\"") != NULL,
          "b_tiny's meta lacks the dropped object");
    const sb_json *m2 = sb_json_get(rec(&j, 2), "meta");
    CHECK(meta_object(m2, 1) == NULL && meta_object(m2, 2) && meta_object(m2, 3), "c_invalid keeps objects 2 and 3");
    CHECK(!strcmp(jstr(rec(&j, 2), "image"), "images/c_invalid.png"), "image path %s", jstr(rec(&j, 2), "image"));
  }
  jsonl_free(&j);
}

/* The only image without intrinsics is skipped for it; a cube needs
 * more points than the objects have: every sample skipped, exit 1. */
static void test_nothing_written(void) {
  run_out o = RUN(sb_datagen_spatial, "spatial", "--images", pathf("images", ""), "--depth", pathf("depth", ""),
                  "--masks", pathf("masks", ""), "--intrinsics", "80,80,48,36", "--min-points", "100000", "-o",
                  (char *)tp("none.jsonl"));
  CHECK(o.rc == 1 && strstr(o.err, "no sample could be made"), "rc %d: %s", o.rc, o.err);
  CHECK(strstr(o.out, "wrote 0 samples") != NULL, "summary: %s", o.out);
  CHECK(!sb_path_exists(tp("none.jsonl")), "an empty output was left");
  run_free(&o);
  char cams[600];
  snprintf(cams, sizeof cams, "%s", pathf("cams", ""));
  remove(pathf("cams", "a_good.json"));
  o = RUN(sb_datagen_spatial, "spatial", "--images", pathf("images", ""), "--depth", pathf("depth", ""), "--masks",
          pathf("masks", ""), "--intrinsics", cams, "-o", (char *)tp("nocam.jsonl"));
  CHECK(o.rc == 0 && strstr(o.out, "1 × no intrinsics for the image"), "rc %d: %s", o.rc, o.out);
  run_free(&o);
}

static void test_errors(void) {
  write_text(pathf("bad/images", "x.png"), "not a png");
  write_text(pathf("bad/depth", "x.png"), "not a png");
  write_text(pathf("bad/masks", "x.png"), "not a png");
  run_out o = RUN(sb_datagen_spatial, "spatial", "--images", pathf("bad/images", ""), "--depth",
                  pathf("bad/depth", ""), "--masks", pathf("bad/masks", ""), "-o", (char *)tp("bad.jsonl"));
  CHECK(o.rc == 1 && strstr(o.err, "bad/depth/x.png") && strstr(o.err, "cannot decode"), "rc %d: %s", o.rc, o.err);
  run_free(&o);
  struct {
    const char *a1, *v1, *needle;
  } usage[] = {{"--bogus", "1", "unknown argument '--bogus'"},
               {"--band", "90-10", "--band '90-10'"},
               {"--pixel-turns", "9-3", "--pixel-turns"},
               {"--views", "0", "--views '0'"},
               {"--scenes", "/nowhere", "not both"}};
  for (size_t i = 0; i < SB_ARRAY_LEN(usage); i++) {
    o = RUN(sb_datagen_spatial, "spatial", "--images", pathf("images", ""), "--depth", pathf("depth", ""), "--masks",
            pathf("masks", ""), "-o", (char *)tp("u.jsonl"), (char *)usage[i].a1, (char *)usage[i].v1);
    CHECK(o.rc == 2 && strstr(o.err, usage[i].needle), "%s %s: rc %d: %s", usage[i].a1, usage[i].v1, o.rc, o.err);
    run_free(&o);
  }
  o = RUN(sb_datagen_spatial, "spatial", "--images", pathf("images", ""), "-o", (char *)tp("u.jsonl"));
  CHECK(o.rc == 2 && strstr(o.err, "all of --images, --depth and --masks"), "rc %d: %s", o.rc, o.err);
  run_free(&o);
  o = RUN(sb_datagen_spatial, "spatial", "--help");
  CHECK(o.rc == 0 && strstr(o.out, "usage: spatialboost datagen spatial"), "help");
  run_free(&o);
}

/* Two views a metre apart with poses: one sample of both images. */
static void test_two_views(void) {
  const char *dirs[] = {"mv", "mv/images", "mv/depth", "mv/masks", "mv/cams"};
  for (size_t i = 0; i < SB_ARRAY_LEN(dirs); i++) mkdir(tp(dirs[i]), 0755);
  float z[W * H];
  uint16_t ids[W * H];
  uint8_t rgb[W * H * 3];
  paint(z, ids, rgb, 3);
  for (int v = 0; v < 2; v++) {
    char f[64], cam[256];
    snprintf(f, sizeof f, "v%d.png", v);
    write_rgb(pathf("mv/images", f), rgb, W, H);
    write_depth_png(pathf("mv/depth", f), z);
    write_png16(pathf("mv/masks", f), ids, W, H);
    snprintf(f, sizeof f, "v%d.json", v);
    snprintf(cam, sizeof cam, "{\"fx\": 80, \"fy\": 80, \"cx\": 48, \"cy\": 36, \"cam_to_world\": "
                              "[1,0,0,%d, 0,1,0,0, 0,0,1,0, 0,0,0,1]}", v);
    write_text(pathf("mv/cams", f), cam);
  }
  run_out o = RUN(sb_datagen_spatial, "spatial", "--images", pathf("mv/images", ""), "--depth", pathf("mv/depth", ""),
                  "--masks", pathf("mv/masks", ""), "--intrinsics", pathf("mv/cams", ""), "--views", "2", "-o",
                  (char *)tp("mv.jsonl"));
  CHECK(o.rc == 0 && strstr(o.out, "wrote 1 sample"), "rc %d: %s %s", o.rc, o.out, o.err);
  run_free(&o);
  check_records(tp("mv.jsonl"), 1, 2);
  jsonl j = jsonl_load(tp("mv.jsonl"));
  if (j.n == 1) {
    CHECK(!strcmp(jstr(rec(&j, 0), "id"), "v0+v1"), "id %s", jstr(rec(&j, 0), "id"));
    /* the second camera stands 1 m to the right: its copy of each board
     * lands 1 m right of the first view's, so the fused cube is wider */
    const sb_json *cm = sb_json_get(meta_object(sb_json_get(rec(&j, 0), "meta"), 1), "cube_m");
    double width = jat(cm, 3) - jat(cm, 0), one = (30 - 8) * 2.0 / 80;
    CHECK(fabs(width - (one + 1.0)) < 0.05, "fused width %.3f, expected %.3f", width, one + 1.0);
  }
  jsonl_free(&j);
  write_text(pathf("mv/cams", "v1.json"), "{\"fx\": 80, \"fy\": 80, \"cx\": 48, \"cy\": 36}");
  o = RUN(sb_datagen_spatial, "spatial", "--images", pathf("mv/images", ""), "--depth", pathf("mv/depth", ""),
          "--masks", pathf("mv/masks", ""), "--intrinsics", pathf("mv/cams", ""), "--views", "2", "-o",
          (char *)tp("mv2.jsonl"));
  CHECK(o.rc == 1 && strstr(o.err, "no cam_to_world"), "rc %d: %s", o.rc, o.err);
  run_free(&o);
}

int main(void) {
  tmp_init("sqin");
  make_inputs();
  test_skips();
  test_nothing_written();
  test_errors();
  test_two_views();
  tmp_cleanup();
  return check_summary("spatialqa-inputs");
}
