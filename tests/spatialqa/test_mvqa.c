/* test_mvqa.c — `datagen mvqa` on synthetic scenes (3 scenes, 3 views,
 * 128×96): every pair in a wide band with thumbnails as the distance, the
 * band filtering pairs, each answer against the scene's instance masks and
 * scene.json (objects in both views, counts, colours, presence of objects
 * there or made up), byte-identical reruns, the encoder distance with the
 * dinov3_tiny fixture (compiled in), the cosine distance itself, and the
 * command's errors. */
#include "geometry.h"
#include "mvqa.h"
#include "scene.h"
#include "sq_common.h"

#define N_SCENES 3
#define MIN_PIXELS 30

static sb_scene g_scenes[N_SCENES];

/* Whether view v of scene s shows object id with at least MIN_PIXELS. */
static bool visible(const sb_scene *s, int v, int64_t id) {
  sb_view_data vd;
  if (sb_view_data_load(s->views[v].dir, &vd)) return false;
  long n = 0;
  for (int i = 0; i < vd.width * vd.height; i++) n += vd.ids[i] == id;
  sb_view_data_free(&vd);
  return n >= MIN_PIXELS;
}

static const sb_scene_object *object_of(const sb_scene *s, int64_t id) {
  for (int i = 0; i < s->n_objects; i++)
    if (s->objects[i].id == id) return &s->objects[i];
  return NULL;
}

static void check_question(const sb_json *r, const sb_scene *s, const int *views, const sb_json *q) {
  const char *type = jstr(q, "type"), *id = jstr(r, "id");
  int64_t turn = 0, image = 0, obj = 0, n = 0;
  sb_json_get_int(q, "turn", 0, &turn), sb_json_get_int(q, "image", 0, &image), sb_json_get_int(q, "object", 0, &obj);
  const char *ans = turn_text(r, (int)turn + 1);
  if (!strcmp(type, "both")) {
    const sb_json *a = sb_json_get(q, "answer");
    int want = 0;
    for (int i = 0; i < s->n_objects; i++) {
      bool both = visible(s, views[0], s->objects[i].id) && visible(s, views[1], s->objects[i].id);
      bool listed = false;
      for (size_t k = 0; k < sb_json_array_size(a); k++) listed |= jat(a, k) == s->objects[i].id;
      CHECK(both == listed, "%s: object %d %s in both views", id, s->objects[i].id, both ? "is" : "is not");
      if (both) CHECK(strstr(ans, s->objects[i].name) != NULL, "%s: '%s' lacks %s", id, ans, s->objects[i].name);
      want += both;
    }
    if (!want) CHECK(strstr(ans, "No object") != NULL, "%s: %s", id, ans);
  } else if (!strcmp(type, "count")) {
    int want = 0;
    for (int i = 0; i < s->n_objects; i++) want += visible(s, views[image - 1], s->objects[i].id);
    sb_json_get_int(q, "answer", -1, &n);
    char num[32];
    snprintf(num, sizeof num, " %d object", want);
    CHECK(n == want && strstr(ans, num), "%s: count %lld, %d visible: %s", id, (long long)n, want, ans);
  } else if (!strcmp(type, "colour")) {
    const sb_scene_object *o = object_of(s, obj);
    CHECK(o && !strcmp(jstr(q, "answer"), o->color) && strstr(ans, o->color), "%s: colour %s: %s", id,
          jstr(q, "answer"), ans);
    CHECK(o && strstr(turn_text(r, (int)turn), o->shape) && !strstr(turn_text(r, (int)turn), o->color),
          "%s: the question gives the colour away: %s", id, turn_text(r, (int)turn));
  } else if (!strcmp(type, "presence")) {
    const char *name = jstr(q, "name");
    bool yes = obj > 0 && visible(s, views[image - 1], obj);
    if (obj == 0)
      for (int i = 0; i < s->n_objects; i++)
        CHECK(strcmp(s->objects[i].name, name) != 0, "%s: made-up '%s' is in the scene", id, name);
    CHECK(!strcmp(jstr(q, "answer"), yes ? "yes" : "no") && !strncmp(ans, yes ? "Yes" : "No", yes ? 3 : 2),
          "%s: presence of '%s' in image %lld: %s", id, name, (long long)image, ans);
  } else CHECK(0, "%s: unknown question type %s", id, type);
}

static void check_mvqa(const char *path, int want) {
  jsonl j = jsonl_load(path);
  CHECK(j.n == want, "%s: %d records, expected %d", path, j.n, want);
  for (int i = 0; i < j.n; i++) {
    const sb_json *r = rec(&j, i), *meta = sb_json_get(r, "meta");
    int scene = atoi(jstr(meta, "scene") + strlen("scene_"));
    int views[2] = {(int)jat(sb_json_get(meta, "views"), 0), (int)jat(sb_json_get(meta, "views"), 1)};
    CHECK(sb_json_array_size(sb_json_get(r, "image")) == 2 && count_substr(turn_text(r, 0), "<image>") == 2,
          "%s: two images", jstr(r, "id"));
    const sb_json *qs = sb_json_get(meta, "questions"), *conv = sb_json_get(r, "conversations");
    CHECK(sb_json_array_size(qs) >= 3 && sb_json_array_size(qs) <= 4 &&
              sb_json_array_size(conv) == 2 * sb_json_array_size(qs),
          "%s: %zu questions, %zu turns", jstr(r, "id"), sb_json_array_size(qs), sb_json_array_size(conv));
    for (size_t k = 0; k < sb_json_array_size(qs) && scene < N_SCENES; k++)
      check_question(r, &g_scenes[scene], views, sb_json_array_at(qs, k));
    double d = jnum(meta, "distance"), lo = jat(sb_json_get(meta, "band"), 0), hi = jat(sb_json_get(meta, "band"), 1);
    CHECK(d >= lo && d <= hi, "%s: distance %g outside [%g, %g]", jstr(r, "id"), d, lo, hi);
  }
  jsonl_free(&j);
}

static void test_pixels(void) {
  run_out o = RUN(sb_datagen_mvqa, "mvqa", "--scenes", (char *)tp("scenes"), "-o", (char *)tp("all.jsonl"), "--metric",
                  "pixels", "--band", "0-2", "--seed", "4");
  CHECK(o.rc == 0 && strstr(o.out, "wrote 9 samples"), "rc %d: %s %s", o.rc, o.out, o.err);
  run_free(&o);
  check_mvqa(tp("all.jsonl"), 9);
  o = RUN(sb_datagen_mvqa, "mvqa", "--scenes", (char *)tp("scenes"), "-o", (char *)tp("again.jsonl"), "--metric",
          "pixels", "--band", "0-2", "--seed", "4");
  char *a = read_all(tp("all.jsonl")), *b = read_all(tp("again.jsonl"));
  CHECK(!strcmp(a, b), "a rerun gave other bytes");
  free(a), free(b), run_free(&o);
  /* a band around the median distance keeps some pairs, not all */
  jsonl j = jsonl_load(tp("all.jsonl"));
  double d[9];
  for (int i = 0; i < j.n && i < 9; i++) d[i] = jnum(sb_json_get(rec(&j, i), "meta"), "distance");
  double mid = sb_percentile(d, (size_t)(j.n < 9 ? j.n : 9), 50);
  jsonl_free(&j);
  char band[64];
  snprintf(band, sizeof band, "%.4f-2", mid);
  o = RUN(sb_datagen_mvqa, "mvqa", "--scenes", (char *)tp("scenes"), "-o", (char *)tp("band.jsonl"), "--metric",
          "pixels", "--band", band, "--max-pairs", "2");
  CHECK(o.rc == 0 && strstr(o.out, "pairs outside the band"), "rc %d: %s", o.rc, o.err);
  run_free(&o);
  jsonl k = jsonl_load(tp("band.jsonl"));
  CHECK(k.n >= 2 && k.n < 9, "%d pairs in the upper half of the band", k.n);
  jsonl_free(&k);
  o = RUN(sb_datagen_mvqa, "mvqa", "--scenes", (char *)tp("scenes"), "-o", (char *)tp("none.jsonl"), "--metric",
          "pixels", "--band", "1.99-2");
  CHECK(o.rc == 1 && strstr(o.err, "no pair of views within the band 1.99-2"), "rc %d: %s", o.rc, o.err);
  run_free(&o);
}

static void test_encoder(void) {
  run_out o = RUN(sb_datagen_mvqa, "mvqa", "--scenes", (char *)tp("scenes"), "-o", (char *)tp("enc.jsonl"),
                  "--encoder", "dinov3", "--weights", SB_TEST_FIXTURES "/dinov3_tiny", "--band", "0-2");
  CHECK(o.rc == 0 && strstr(o.out, "wrote 9 samples"), "rc %d: %s %s", o.rc, o.out, o.err);
  run_free(&o);
  check_mvqa(tp("enc.jsonl"), 9);
  jsonl j = jsonl_load(tp("enc.jsonl"));
  CHECK(j.n && !strcmp(jstr(sb_json_get(rec(&j, 0), "meta"), "metric"), "encoder:dinov3"), "metric name");
  jsonl_free(&j);
  sb_mvqa_featurizer *f = NULL;
  CHECK(sb_mvqa_featurizer_open("dinov3", SB_TEST_FIXTURES "/dinov3_tiny", NULL, 0, &f) == SB_OK, "%s",
        sb_error_message());
  sb_image imgs[3];
  char p[600];
  for (int i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s/image.png", g_scenes[0].views[i == 2 ? 1 : 0].dir);
    sb_image_load(p, &imgs[i]);
  }
  float *feat = NULL;
  int dim = 0;
  CHECK(f && sb_mvqa_features(f, imgs, 3, &feat, &dim) == SB_OK && dim == 32, "features: %s", sb_error_message());
  if (feat) {
    double same = sb_cosine_distance(feat, feat + dim, dim), other = sb_cosine_distance(feat, feat + 2 * dim, dim);
    CHECK(same < 1e-6 && other > same && other <= 2, "distances: same image %g, other view %g", same, other);
  }
  free(feat);
  for (int i = 0; i < 3; i++) sb_image_free(&imgs[i]);
  sb_mvqa_featurizer_close(f);
  float a[3] = {1, 0, 0}, b[3] = {-2, 0, 0}, c[3] = {0, 5, 0};
  CHECK(sb_cosine_distance(a, b, 3) == 2 && sb_cosine_distance(a, c, 3) == 1 && sb_cosine_distance(a, a, 3) == 0,
        "cosine distance");
}

static void test_errors(void) {
  struct {
    const char *a, *v, *needle;
  } cases[] = {{"--metric", "lpips", "--metric 'lpips'"},
               {"--band", "0.5-0.1", "--band '0.5-0.1'"},
               {"--questions", "0", "at least 1 question"},
               {"--bogus", "1", "unknown argument"}};
  for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
    run_out o = RUN(sb_datagen_mvqa, "mvqa", "--scenes", (char *)tp("scenes"), "-o", (char *)tp("e.jsonl"),
                    (char *)cases[i].a, (char *)cases[i].v);
    CHECK(o.rc == 2 && strstr(o.err, cases[i].needle), "%s %s: rc %d: %s", cases[i].a, cases[i].v, o.rc, o.err);
    run_free(&o);
  }
  run_out o = RUN(sb_datagen_mvqa, "mvqa", "--scenes", (char *)tp("scenes"), "-o", (char *)tp("e.jsonl"));
  CHECK(o.rc == 2 && strstr(o.err, "--encoder NAME --weights DIR"), "no encoder: %s", o.err);
  run_free(&o);
  o = RUN(sb_datagen_mvqa, "mvqa", "--scenes", (char *)tp("scenes"), "-o", (char *)tp("e.jsonl"), "--encoder",
          "nosuch", "--weights", "/nowhere");
  CHECK(o.rc == 1 && strstr(o.err, "nosuch"), "a missing encoder plugin: %s", o.err);
  run_free(&o);
}

int main(void) {
  tmp_init("sqmvqa");
  run_out o = RUN(sb_datagen_synth, "synth", "-n", "3", "-o", (char *)tp("scenes"), "--views", "3", "--size", "128x96",
                  "--seed", "2", "--threads", "2");
  CHECK(o.rc == 0, "synth: %s", o.err);
  run_free(&o);
  for (int i = 0; i < N_SCENES; i++) {
    char name[64];
    snprintf(name, sizeof name, "scenes/scene_%06d", i);
    CHECK(sb_scene_load(tp(name), &g_scenes[i]) == SB_OK, "%s: %s", name, sb_error_message());
  }
  test_pixels();
  test_encoder();
  test_errors();
  for (int i = 0; i < N_SCENES; i++) sb_scene_free(&g_scenes[i]);
  tmp_cleanup();
  return check_summary("spatialqa-mvqa");
}
