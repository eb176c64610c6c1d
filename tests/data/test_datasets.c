/* test_datasets.c — the dataset plugins, compiled in statically and created
 * through recipes and the model builder as a run makes them:
 *   dataset_llava on data/llava.json and data/llava.jsonl (single-image,
 *   multi-image, text-only, system turns, a leading gpt turn, LLaVA-NeXT
 *   keys, <image> placement, meta as JSON text), image paths resolved
 *   against image_root or the file's folder, every error with its message,
 *   on_missing skip, limit, and get() from 4 threads at once;
 *   dataset_pretokenized on llava_tiny's inputs.safetensors and on shards
 *   written here (file-name order, masks, image paths, every error).
 * Images and generated files live in a temporary folder removed at the end. */
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/check.h"
#include "model.h"
#include "recipe.h"
#include "spatialboost/spatialboost.h"

static char g_tmp[256];       /* the temporary folder */
static char g_img[300];       /* g_tmp/img: a.png, sub/b.png */
static const char *g_fixtures;

/* ---- files ---- */

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CHECK(f, "cannot write %s", path);
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return calloc(1, 1);
  char *buf = calloc(1, 65536);
  size_t n = fread(buf, 1, 65535, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

static const char *tmp_path(const char *name) {
  static _Thread_local char buf[8][512];
  static _Thread_local int k;
  char *b = buf[k++ % 8];
  snprintf(b, 512, "%s/%s", g_tmp, name);
  return b;
}

static void write_png(const char *path) {
  uint8_t px[2 * 2 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9};
  sb_image img = {2, 2, 3, px};
  CHECK(sb_image_save_png(&img, path) == SB_OK, "png %s: %s", path, sb_error_message());
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

/* ---- datasets made through a recipe and the model builder ---- */

typedef struct ds {
  sb_recipe *r;
  sb_model m;
  bool built;
  const sb_dataset_vtable *vt;
  void *self;
} ds;

/* Writes a recipe with `data:` = block (YAML lines, indented by 2) and
 * builds it. Returns SB_OK or the error (message in sb_error_message). */
static int ds_open(ds *d, const char *block) {
  memset(d, 0, sizeof *d);
  char yaml[4096];
  snprintf(yaml, sizeof yaml, "model: {}\ndata:\n%s", block);
  write_file(tmp_path("recipe.yaml"), yaml);
  if (!(d->r = sb_recipe_load(tmp_path("recipe.yaml"), NULL, 0))) return SB_ERR;
  d->built = true;
  int rc = sb_model_build(&d->m, sb_recipe_root(d->r), 0, SB_MODEL_CREATE);
  if (rc) return rc;
  d->vt = d->m.data.vtable, d->self = d->m.data.self;
  if (!d->self) return sb_error("no data component");
  return SB_OK;
}

static void ds_close(ds *d) {
  if (d->self) CHECK(sb_recipe_check_unused(d->r) == SB_OK, "unused keys: %s", sb_error_message());
  if (d->built) sb_model_free(&d->m);
  sb_recipe_free(d->r);
  memset(d, 0, sizeof *d);
}

static char *llava_block(const char *path, const char *extra) {
  static char b[2048];
  snprintf(b, sizeof b, "  plugin: dataset_llava\n  path: \"%s\"\n  image_root: \"%s\"\n%s", path, g_img,
           extra ? extra : "");
  return b;
}

/* Opening must fail with a message holding every needle (NULL-ended). */
static void expect_fail(const char *block, const char *const *needles, const char *what) {
  ds d;
  int rc = ds_open(&d, block);
  CHECK(rc != SB_OK, "%s: created, expected an error", what);
  if (rc != SB_OK) printf("%-22s %s\n", what, sb_error_message());
  for (const char *const *n = needles; rc != SB_OK && *n; n++)
    CHECK(strstr(sb_error_message(), *n) != NULL, "%s: message \"%s\" lacks \"%s\"", what, sb_error_message(), *n);
  ds_close(&d);
}

/* A LLaVA file written to tmp must be refused with these needles. */
static void llava_fail(const char *name, const char *text, const char *const *needles) {
  write_file(tmp_path(name), text);
  expect_fail(llava_block(tmp_path(name), NULL), needles, name);
}

static sb_sample *get(const ds *d, int64_t i) {
  sb_sample *s = sb_sample_new();
  int rc = d->vt->get(d->self, i, s);
  CHECK(rc == SB_OK, "get(%lld): %s", (long long)i, sb_error_message());
  return s;
}

static void check_turn(const sb_sample *s, int i, sb_role role, const char *text) {
  sb_role r = SB_ROLE_SYSTEM;
  const char *t = "";
  CHECK(sb_sample_turn(s, i, &r, &t) == SB_OK, "sample '%s': no turn %d", sb_sample_id(s), i);
  CHECK(r == role, "sample '%s' turn %d: role %d, expected %d", sb_sample_id(s), i, (int)r, (int)role);
  CHECK(strcmp(t, text) == 0, "sample '%s' turn %d: \"%s\", expected \"%s\"", sb_sample_id(s), i, t, text);
}

/* Image i is the file `rel` under dir. */
static void check_image(const sb_sample *s, int i, const char *dir, const char *rel) {
  const char *path = NULL;
  const sb_image *img = NULL;
  char want[600];
  if (rel[0] == '/') snprintf(want, sizeof want, "%s", rel);
  else snprintf(want, sizeof want, "%s/%s", dir, rel);
  CHECK(sb_sample_image(s, i, &path, &img) == SB_OK, "sample '%s': no image %d", sb_sample_id(s), i);
  CHECK(path && strcmp(path, want) == 0 && !img, "sample '%s' image %d: \"%s\", expected \"%s\"",
        sb_sample_id(s), i, path ? path : "(pixels)", want);
}

/* ---- dataset_llava ---- */

static void test_llava_json(void) {
  ds d;
  int rc = ds_open(&d, llava_block(SB_TEST_DATA "/llava.json", NULL));
  CHECK(rc == SB_OK, "llava.json: %s", sb_error_message());
  if (rc) return ds_close(&d);
  CHECK(d.vt->size(d.self) == 6, "size %lld, expected 6", (long long)d.vt->size(d.self));

  sb_sample *s = get(&d, 0); /* one image, tag inside the turn: moved to the front */
  CHECK(strcmp(sb_sample_id(s), "single") == 0, "id %s", sb_sample_id(s));
  CHECK(sb_sample_n_turns(s) == 2 && sb_sample_n_images(s) == 1, "turns %d images %d", sb_sample_n_turns(s),
        sb_sample_n_images(s));
  check_turn(s, 0, SB_ROLE_USER, "<image>\nWhat is this?");
  check_turn(s, 1, SB_ROLE_ASSISTANT, "A cat.");
  check_image(s, 0, g_img, "a.png");
  const char *meta = sb_sample_meta(s);
  const char *want_meta = "{\"answer\":\"cat\",\"box\":[1,2.5,-3e-05],\"nested\":{\"ok\":true,"
                          "\"n\":null},\"s\":\"q\\\"uote\\n\xc3\xa9\"}";
  CHECK(meta && strcmp(meta, want_meta) == 0, "meta %s\n   expected %s", meta ? meta : "(none)", want_meta);
  sb_sample_free(s);

  s = get(&d, 1); /* numeric id, one image and no tag: "<image>\n" added to the first human turn */
  CHECK(strcmp(sb_sample_id(s), "7") == 0, "id %s", sb_sample_id(s));
  CHECK(sb_sample_n_turns(s) == 4, "turns %d", sb_sample_n_turns(s));
  check_turn(s, 0, SB_ROLE_USER, "<image>\nDescribe it.");
  check_turn(s, 1, SB_ROLE_ASSISTANT, "Red.");
  check_turn(s, 2, SB_ROLE_USER, "More?");
  check_turn(s, 3, SB_ROLE_ASSISTANT, "No.");
  check_image(s, 0, g_img, "sub/b.png");
  CHECK(!sb_sample_meta(s), "meta on a record without one");
  sb_sample_free(s);

  s = get(&d, 2); /* several images: tags stay where they are */
  CHECK(sb_sample_n_images(s) == 2, "images %d", sb_sample_n_images(s));
  check_turn(s, 0, SB_ROLE_USER, "Compare <image> and <image>.");
  check_image(s, 0, g_img, "a.png");
  check_image(s, 1, g_img, "sub/b.png");
  sb_sample_free(s);

  s = get(&d, 3); /* text-only with a system turn */
  CHECK(sb_sample_n_images(s) == 0 && sb_sample_n_turns(s) == 3, "images %d turns %d", sb_sample_n_images(s),
        sb_sample_n_turns(s));
  check_turn(s, 0, SB_ROLE_SYSTEM, "Be brief.");
  check_turn(s, 1, SB_ROLE_USER, "Hi <b>");
  check_turn(s, 2, SB_ROLE_ASSISTANT, "Hello");
  CHECK(sb_sample_n_tokens(s) == 0, "a conversation sample with tokens");
  sb_sample_free(s);

  s = get(&d, 4); /* leading gpt turn dropped; a lone tag stripped to "<image>" */
  CHECK(sb_sample_n_turns(s) == 2, "turns %d", sb_sample_n_turns(s));
  check_turn(s, 0, SB_ROLE_USER, "<image>");
  check_turn(s, 1, SB_ROLE_ASSISTANT, "ok");
  sb_sample_free(s);

  s = get(&d, 5); /* LLaVA-NeXT role/content keys; "<image>What?" gets its newline */
  check_turn(s, 0, SB_ROLE_SYSTEM, "You see.");
  check_turn(s, 1, SB_ROLE_USER, "<image>\nWhat?");
  check_turn(s, 2, SB_ROLE_ASSISTANT, "That.");
  sb_sample_free(s);

  s = sb_sample_new();
  CHECK(d.vt->get(d.self, 6, s) != SB_OK, "get past the end succeeded");
  CHECK_ERROR("out of range");
  sb_sample_free(s);
  ds_close(&d);
}

static void test_llava_jsonl(void) {
  ds d;
  int rc = ds_open(&d, llava_block(SB_TEST_DATA "/llava.jsonl", NULL));
  CHECK(rc == SB_OK, "llava.jsonl: %s", sb_error_message());
  if (rc) return ds_close(&d);
  CHECK(d.vt->size(d.self) == 3, "size %lld, expected 3 (blank lines are not records)", (long long)d.vt->size(d.self));
  sb_sample *s = get(&d, 0);
  CHECK(strcmp(sb_sample_id(s), "j0") == 0, "id %s", sb_sample_id(s));
  check_turn(s, 0, SB_ROLE_USER, "<image>\nLook:  now");
  check_image(s, 0, g_img, "a.png");
  sb_sample_free(s);
  s = get(&d, 1);
  CHECK(sb_sample_n_turns(s) == 2 && sb_sample_n_images(s) == 0, "turns %d images %d", sb_sample_n_turns(s),
        sb_sample_n_images(s));
  check_turn(s, 0, SB_ROLE_USER, "Text only");
  check_turn(s, 1, SB_ROLE_ASSISTANT, "Yes");
  sb_sample_free(s);
  s = get(&d, 2);
  check_turn(s, 0, SB_ROLE_USER, "<image><image> two");
  check_image(s, 0, g_img, "sub/b.png");
  check_image(s, 1, g_img, "a.png");
  CHECK(sb_sample_meta(s) && strcmp(sb_sample_meta(s), "{\"k\":1}") == 0, "meta %s",
        sb_sample_meta(s) ? sb_sample_meta(s) : "(none)");
  sb_sample_free(s);
  ds_close(&d);

  /* JSONL told by content: a .txt file whose first character is '{' */
  char *text = read_text(SB_TEST_DATA "/llava.jsonl");
  write_file(tmp_path("records.txt"), text);
  free(text);
  rc = ds_open(&d, llava_block(tmp_path("records.txt"), NULL));
  CHECK(rc == SB_OK && d.vt->size(d.self) == 3, "records.txt: %s", rc ? sb_error_message() : "wrong size");
  ds_close(&d);
}

/* Relative paths against the data file's folder when image_root is empty;
 * absolute paths as written. */
static void test_llava_paths(void) {
  char json[1024], path[512];
  snprintf(json, sizeof json,
           "[{\"id\": \"r\", \"image\": [\"a.png\", \"%s/sub/b.png\"], \"conversations\": "
           "[{\"from\": \"human\", \"value\": \"<image> <image>\"}, {\"from\": \"gpt\", \"value\": \"x\"}]}]",
           g_img);
  snprintf(path, sizeof path, "%s/rel.json", g_img);
  write_file(path, json);
  char block[1024];
  snprintf(block, sizeof block, "  plugin: llava\n  path: \"%s\"\n", path); /* kind prefix implied */
  ds d;
  int rc = ds_open(&d, block);
  CHECK(rc == SB_OK, "rel.json: %s", sb_error_message());
  if (rc == SB_OK) {
    sb_sample *s = get(&d, 0);
    char abs_b[600];
    snprintf(abs_b, sizeof abs_b, "%s/sub/b.png", g_img);
    check_image(s, 0, g_img, "a.png");
    check_image(s, 1, g_img, abs_b);
    sb_sample_free(s);
  }
  ds_close(&d);
  remove(path);
}

static void test_llava_errors(void) {
  const char *turns = "\"conversations\": [{\"from\": \"human\", \"value\": \"q\"}, {\"from\": \"gpt\", \"value\": \"a\"}]";
  char buf[2048];

  /* syntax: file and line:column */
  llava_fail("syntax.json", "[\n  {\"id\": \"x\",\n   \"image\": }\n]\n",
             (const char *[]){"syntax.json:3:", "not valid JSON", NULL});
  llava_fail("syntax.jsonl", "{\"id\": 1, \"conversations\": [{\"from\": \"human\", \"value\": \"q\"}]}\n\n{\"id\": 2,, }\n",
             (const char *[]){"syntax.jsonl:3:", "not valid JSON", NULL});
  llava_fail("string.json", "\"hello\"", (const char *[]){"string.json:1:", "not valid JSON", NULL});
  llava_fail("notrecord.json", "[1]", (const char *[]){"notrecord.json: record 0", "expected a record", NULL});

  /* record errors name the record and the id (JSONL: the line) */
  snprintf(buf, sizeof buf, "[{\"id\": \"ok\", %s}, {\"id\": \"noconv\"}]", turns);
  llava_fail("noconv.json", buf, (const char *[]){"noconv.json: record 1", "sample 'noconv'", "no 'conversations'", NULL});
  snprintf(buf, sizeof buf, "{\"id\": \"ok\", %s}\n{\"id\": \"e\", \"conversations\": []}\n", turns);
  llava_fail("empty.jsonl", buf, (const char *[]){"empty.jsonl:2: sample 'e'", "empty conversation", NULL});
  llava_fail("notext.json", "[{\"id\": \"t\", \"conversations\": [{\"from\": \"human\", \"value\": \"q\"}, {\"from\": \"gpt\"}]}]",
             (const char *[]){"sample 't'", "conversations[1]: a turn without text", NULL});
  llava_fail("textnum.json", "[{\"id\": \"t\", \"conversations\": [{\"from\": \"human\", \"value\": 3}]}]",
             (const char *[]){"sample 't'", "conversations[0]: 'value': expected a string, got an integer", NULL});
  llava_fail("norole.json", "[{\"id\": \"t\", \"conversations\": [{\"value\": \"q\"}]}]",
             (const char *[]){"conversations[0]: no 'from' (or 'role')", NULL});
  llava_fail("badrole.json", "[{\"id\": \"t\", \"conversations\": [{\"from\": \"bot\", \"value\": \"q\"}]}]",
             (const char *[]){"sample 't'", "unknown role 'bot'", NULL});
  snprintf(buf, sizeof buf, "[{\"id\": \"img\", \"image\": 5, %s}]", turns);
  llava_fail("imgtype.json", buf, (const char *[]){"sample 'img'", "'image': expected a path or a list of paths, got an integer", NULL});
  snprintf(buf, sizeof buf, "[{\"id\": \"img\", \"image\": [\"a.png\", {}], %s}]", turns);
  llava_fail("imglist.json", buf, (const char *[]){"sample 'img'", "'image'[1]: expected a path, got an object", NULL});
  snprintf(buf, sizeof buf, "[{\"id\": true, %s}]", turns);
  llava_fail("idtype.json", buf, (const char *[]){"record 0", "'id': expected a string or a number", NULL});
  llava_fail("alt.jsonl",
             "{\"id\": \"alt\", \"conversations\": [{\"from\": \"human\", \"value\": \"a\"}, {\"from\": \"human\", \"value\": \"b\"}]}\n",
             (const char *[]){"alt.jsonl:1: sample 'alt'", "conversations[1]: expected a gpt turn, got human", NULL});
  llava_fail("alt2.json",
             "[{\"id\": \"a2\", \"conversations\": [{\"from\": \"gpt\", \"value\": \"a\"}, {\"from\": \"gpt\", \"value\": \"b\"}]}]",
             (const char *[]){"sample 'a2'", "conversations[1]: expected a human turn, got gpt", NULL});
  llava_fail("sysmid.json",
             "[{\"id\": \"s\", \"conversations\": [{\"from\": \"human\", \"value\": \"a\"}, {\"from\": \"system\", \"value\": \"b\"}]}]",
             (const char *[]){"sample 's'", "conversations[1]: a system turn after the conversation started", NULL});
  llava_fail("onlygpt.json", "[{\"id\": \"g\", \"conversations\": [{\"from\": \"gpt\", \"value\": \"a\"}]}]",
             (const char *[]){"sample 'g'", "no human turn (after dropping the leading gpt turn)", NULL});
  llava_fail("tags1.json",
             "[{\"id\": \"m\", \"image\": [\"a.png\", \"a.png\"], \"conversations\": [{\"from\": \"human\", \"value\": \"<image> q\"}]}]",
             (const char *[]){"sample 'm'", "1 <image> tag for 2 images", NULL});
  llava_fail("tags2.json",
             "[{\"id\": \"m\", \"image\": \"a.png\", \"conversations\": [{\"from\": \"human\", \"value\": \"<image> <image>\"}]}]",
             (const char *[]){"sample 'm'", "2 <image> tags for 1 image", NULL});
  llava_fail("tags0.json", "[{\"id\": \"m\", \"conversations\": [{\"from\": \"human\", \"value\": \"<image> q\"}]}]",
             (const char *[]){"sample 'm'", "1 <image> tag but no image", NULL});
  snprintf(buf, sizeof buf, "[{\"id\": \"meta\", \"meta\": [1], %s}]", turns);
  llava_fail("metatype.json", buf, (const char *[]){"sample 'meta'", "'meta': expected an object, got a list", NULL});
  snprintf(buf, sizeof buf, "[{\"id\": \"meta\", \"meta\": {\"flags\": [true]}, %s}]", turns);
  llava_fail("metabool.json", buf, (const char *[]){"sample 'meta'", "true/false value inside a list", NULL});
  snprintf(buf, sizeof buf, "[{\"id\": \"miss\", \"image\": \"nope.png\", %s}]", turns);
  char needle[600];
  snprintf(needle, sizeof needle, "image '%s/nope.png' does not exist", g_img);
  llava_fail("missing.json", buf, (const char *[]){"missing.json: record 0: sample 'miss'", needle, NULL});
  expect_fail(llava_block(tmp_path("absent.json"), NULL), (const char *[]){"absent.json", NULL}, "absent file");
  expect_fail(llava_block(SB_TEST_DATA "/llava.json", "  limit: -1\n"), (const char *[]){"limit", NULL}, "limit -1");
  expect_fail(llava_block(SB_TEST_DATA "/llava.json", "  on_missing: ignore\n"),
              (const char *[]){"on_missing", NULL}, "on_missing ignore");
  llava_fail("none.json", "[]", (const char *[]){"none.json: no samples", NULL});
}

/* Redirects stderr into a file while creating a dataset. */
static int stderr_begin(void) {
  fflush(stderr);
  int saved = dup(2), fd = open(tmp_path("stderr.txt"), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  dup2(fd, 2);
  close(fd);
  return saved;
}

static char *stderr_end(int saved) {
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  return read_text(tmp_path("stderr.txt"));
}

static void test_llava_skip_and_limit(void) {
  const char *turns = "\"conversations\": [{\"from\": \"human\", \"value\": \"q\"}, {\"from\": \"gpt\", \"value\": \"a\"}]";
  const char *turns2 = "\"conversations\": [{\"from\": \"human\", \"value\": \"<image> <image>\"}]";
  char buf[4096];
  snprintf(buf, sizeof buf,
           "[{\"id\": \"k0\", \"image\": \"a.png\", %s},\n {\"id\": \"m1\", \"image\": \"gone1.png\", %s},\n"
           " {\"id\": \"k2\", %s},\n {\"id\": \"m3\", \"image\": [\"a.png\", \"gone3.png\"], %s},\n"
           " {\"id\": \"k4\", \"image\": \"sub/b.png\", %s}]",
           turns, turns, turns, turns2, turns);
  write_file(tmp_path("skip.json"), buf);
  ds d;
  int saved = stderr_begin();
  int rc = ds_open(&d, llava_block(tmp_path("skip.json"), "  on_missing: skip\n"));
  char *err = stderr_end(saved);
  CHECK(rc == SB_OK, "skip: %s", sb_error_message());
  char want[700];
  snprintf(want, sizeof want, "dataset_llava: skipped 2 samples with missing images (first: id m1, path %s/gone1.png)\n",
           g_img);
  CHECK(strcmp(err, want) == 0, "stderr \"%s\", expected \"%s\"", err, want);
  free(err);
  if (rc == SB_OK) {
    CHECK(d.vt->size(d.self) == 3, "size %lld, expected 3", (long long)d.vt->size(d.self));
    const char *ids[] = {"k0", "k2", "k4"};
    for (int i = 0; i < 3 && d.vt->size(d.self) == 3; i++) {
      sb_sample *s = get(&d, i);
      CHECK(strcmp(sb_sample_id(s), ids[i]) == 0, "sample %d: id %s, expected %s", i, sb_sample_id(s), ids[i]);
      sb_sample_free(s);
    }
  }
  ds_close(&d);

  /* limit counts kept samples; records after the last kept one are not read */
  saved = stderr_begin();
  rc = ds_open(&d, llava_block(tmp_path("skip.json"), "  on_missing: skip\n  limit: 2\n"));
  err = stderr_end(saved);
  CHECK(strstr(err, "skipped 1 samples") != NULL, "stderr \"%s\"", err);
  free(err);
  CHECK(rc == SB_OK && d.vt->size(d.self) == 2, "skip+limit: %s", rc ? sb_error_message() : "wrong size");
  if (rc == SB_OK) {
    sb_sample *s = get(&d, 1);
    CHECK(strcmp(sb_sample_id(s), "k2") == 0, "id %s, expected k2", sb_sample_id(s));
    sb_sample_free(s);
  }
  ds_close(&d);
  rc = ds_open(&d, llava_block(SB_TEST_DATA "/llava.json", "  limit: 4\n"));
  CHECK(rc == SB_OK && d.vt->size(d.self) == 4, "limit 4: %s", rc ? sb_error_message() : "wrong size");
  ds_close(&d);
  rc = ds_open(&d, llava_block(SB_TEST_DATA "/llava.json", "  limit: 100\n"));
  CHECK(rc == SB_OK && d.vt->size(d.self) == 6, "limit 100: %s", rc ? sb_error_message() : "wrong size");
  ds_close(&d);

  /* default on_missing: error, naming the id and the path */
  snprintf(want, sizeof want, "image '%s/gone1.png' does not exist", g_img);
  expect_fail(llava_block(tmp_path("skip.json"), NULL), (const char *[]){"record 1: sample 'm1'", want, NULL},
              "on_missing error");
  snprintf(buf, sizeof buf, "[{\"id\": \"m\", \"image\": \"gone.png\", %s}]", turns);
  write_file(tmp_path("allgone.json"), buf);
  saved = stderr_begin();
  expect_fail(llava_block(tmp_path("allgone.json"), "  on_missing: skip\n"),
              (const char *[]){"no samples (every sample has a missing image)", NULL}, "all skipped");
  free(stderr_end(saved));
}

/* ---- get() from several threads ---- */

/* Everything a sample holds, as one string. */
static char *sample_text(const sb_sample *s) {
  size_t cap = 4096, n = 0;
  char *b = malloc(cap);
  n += (size_t)snprintf(b + n, cap - n, "id=%s|", sb_sample_id(s));
  for (int i = 0; i < sb_sample_n_turns(s); i++) {
    sb_role r;
    const char *t;
    sb_sample_turn(s, i, &r, &t);
    n += (size_t)snprintf(b + n, cap - n, "%d:%s|", (int)r, t);
  }
  for (int i = 0; i < sb_sample_n_images(s); i++) {
    const char *p;
    const sb_image *img;
    sb_sample_image(s, i, &p, &img);
    n += (size_t)snprintf(b + n, cap - n, "img=%s|", p ? p : "(pixels)");
  }
  for (int64_t i = 0; i < sb_sample_n_tokens(s) && n < cap - 64; i++)
    n += (size_t)snprintf(b + n, cap - n, "%lld/%lld,", (long long)sb_sample_ids(s)[i],
                          (long long)sb_sample_labels(s)[i]);
  snprintf(b + n, cap - n, "|meta=%s", sb_sample_meta(s) ? sb_sample_meta(s) : "");
  return b;
}

typedef struct worker {
  const ds *d;
  char **want;
  int64_t n;
  int id, mismatches, failures;
} worker;

static void *worker_run(void *arg) {
  worker *w = arg;
  for (int rep = 0; rep < 200; rep++)
    for (int64_t k = 0; k < w->n; k++) {
      int64_t i = (k * 7 + w->id + rep) % w->n; /* each thread in its own order */
      sb_sample *s = sb_sample_new();
      if (w->d->vt->get(w->d->self, i, s)) w->failures++;
      char *t = sample_text(s);
      w->mismatches += strcmp(t, w->want[i]) != 0;
      free(t);
      sb_sample_free(s);
    }
  return NULL;
}

static void check_concurrent(const ds *d, const char *what) {
  int64_t n = d->vt->size(d->self);
  char **want = calloc((size_t)n, sizeof *want);
  for (int64_t i = 0; i < n; i++) {
    sb_sample *s = get(d, i);
    want[i] = sample_text(s);
    sb_sample_free(s);
  }
  pthread_t th[4];
  worker w[4];
  for (int t = 0; t < 4; t++) {
    w[t] = (worker){d, want, n, t, 0, 0};
    CHECK(pthread_create(&th[t], NULL, worker_run, &w[t]) == 0, "thread %d", t);
  }
  for (int t = 0; t < 4; t++) {
    pthread_join(th[t], NULL);
    CHECK(w[t].mismatches == 0 && w[t].failures == 0, "%s: thread %d: %d mismatches, %d failed gets", what, t,
          w[t].mismatches, w[t].failures);
  }
  for (int64_t i = 0; i < n; i++) free(want[i]);
  free(want);
}

static void test_llava_concurrent(void) {
  ds d;
  int rc = ds_open(&d, llava_block(SB_TEST_DATA "/llava.json", NULL));
  CHECK(rc == SB_OK, "llava.json: %s", sb_error_message());
  if (rc == SB_OK) check_concurrent(&d, "dataset_llava");
  ds_close(&d);
}

/* ---- dataset_pretokenized ---- */

static char *pretok_block(const char *path, const char *extra) {
  static char b[2048];
  snprintf(b, sizeof b, "  plugin: dataset_pretokenized\n  path: \"%s\"\n%s", path, extra ? extra : "");
  return b;
}

static void check_tokens(const sb_sample *s, const int64_t *ids, const int64_t *labels, int64_t n) {
  CHECK(sb_sample_n_tokens(s) == n, "sample '%s': %lld tokens, expected %lld", sb_sample_id(s),
        (long long)sb_sample_n_tokens(s), (long long)n);
  if (sb_sample_n_tokens(s) != n) return;
  for (int64_t i = 0; i < n; i++) {
    CHECK(sb_sample_ids(s)[i] == ids[i], "sample '%s' id[%lld] = %lld, expected %lld", sb_sample_id(s), (long long)i,
          (long long)sb_sample_ids(s)[i], (long long)ids[i]);
    CHECK(sb_sample_labels(s)[i] == labels[i], "sample '%s' label[%lld] = %lld, expected %lld", sb_sample_id(s),
          (long long)i, (long long)sb_sample_labels(s)[i], (long long)labels[i]);
  }
}

/* llava_tiny's inputs: placeholder 383 (an option: the file has no
 * metadata), right padding dropped by the mask, pixel_values referenced. */
static void test_pretok_fixture(void) {
  char path[1024];
  snprintf(path, sizeof path, "%s/llava_tiny/inputs.safetensors", g_fixtures);
  sb_safetensors *f = sb_safetensors_open(path);
  CHECK(f, "fixture: %s", sb_error_message());
  if (!f) return;
  const sb_st_tensor *ti = sb_safetensors_find(f, "input_ids"), *tl = sb_safetensors_find(f, "labels"),
                     *tm = sb_safetensors_find(f, "attention_mask");
  int64_t ids[24], labels[24], mask[24];
  memcpy(ids, ti->data, sizeof ids), memcpy(labels, tl->data, sizeof labels), memcpy(mask, tm->data, sizeof mask);
  sb_safetensors_close(f);

  ds d;
  int rc = ds_open(&d, pretok_block(path, "  image_token_id: 383\n"));
  CHECK(rc == SB_OK, "inputs.safetensors: %s", sb_error_message());
  if (rc) return ds_close(&d);
  CHECK(d.vt->size(d.self) == 2, "size %lld", (long long)d.vt->size(d.self));
  for (int r = 0; r < 2; r++) {
    int64_t want_ids[12], want_labels[12], n = 0;
    for (int c = 0; c < 12; c++) {
      if (!mask[r * 12 + c]) continue;
      want_ids[n] = ids[r * 12 + c] == 383 ? -200 : ids[r * 12 + c];
      want_labels[n++] = labels[r * 12 + c];
    }
    CHECK(n == (r == 0 ? 12 : 9), "fixture row %d has %lld real tokens", r, (long long)n);
    sb_sample *s = get(&d, r);
    check_tokens(s, want_ids, want_labels, n);
    char id[64];
    snprintf(id, sizeof id, "inputs.safetensors:%d", r);
    CHECK(strcmp(sb_sample_id(s), id) == 0, "id %s", sb_sample_id(s));
    CHECK(sb_sample_n_images(s) == 1 && sb_sample_n_turns(s) == 0, "images %d turns %d", sb_sample_n_images(s),
          sb_sample_n_turns(s));
    /* the image is the fixture's pixel_values row r, as float pixels */
    const float *chw = NULL;
    int c = 0, h = 0, w = 0;
    CHECK(sb_sample_pixels(s, 0, &chw, &c, &h, &w) == SB_OK && chw && c == 3 && h == 64 && w == 64, "pixels");
    if (chw) {
      sb_safetensors *pf = sb_safetensors_open(path);
      const sb_st_tensor *px = pf ? sb_safetensors_find(pf, "pixel_values") : NULL;
      CHECK(px && memcmp(chw, (const float *)px->data + r * 3 * 64 * 64, sizeof(float) * 3 * 64 * 64) == 0,
            "pixel row %d", r);
      sb_safetensors_close(pf);
    }
    sb_sample_free(s);
  }
  ds_close(&d);
  /* without the option the placeholder is -200: the 2 images match nothing */
  expect_fail(pretok_block(path, NULL),
              (const char *[]){"inputs.safetensors: 0 image placeholders (id -200) but 'pixel_values' holds 2 images", NULL},
              "fixture without image_token_id");
}

/* A shard of rows x cols tables; any table NULL is left out. */
typedef struct shard_spec {
  int64_t rows, cols;
  const int64_t *ids, *labels, *mask;
  sb_dtype ids_dtype;
  const char *token_id, *paths; /* metadata, or NULL */
  int64_t n_pixels;             /* > 0: pixel_values [n, 3, 2, 2] */
} shard_spec;

static int add_table(sb_st_writer *w, const char *name, const int64_t *v, int64_t rows, int64_t cols, sb_dtype dt) {
  int64_t shape[2] = {rows, cols};
  if (dt == SB_DTYPE_I64) return sb_st_writer_add(w, name, dt, 2, shape, v);
  void *buf = calloc((size_t)(rows * cols), 4);
  for (int64_t i = 0; i < rows * cols; i++) {
    if (dt == SB_DTYPE_I32) ((int32_t *)buf)[i] = (int32_t)v[i];
    else ((float *)buf)[i] = (float)v[i];
  }
  int rc = sb_st_writer_add(w, name, dt, 2, shape, buf);
  free(buf);
  return rc;
}

static void write_shard(const char *path, const shard_spec *sp) {
  sb_st_writer *w = sb_st_writer_new();
  int rc = SB_OK;
  if (sp->ids) rc |= add_table(w, "input_ids", sp->ids, sp->rows, sp->cols, sp->ids_dtype);
  if (sp->labels) rc |= add_table(w, "labels", sp->labels, sp->rows, sp->cols, SB_DTYPE_I64);
  if (sp->mask) rc |= add_table(w, "attention_mask", sp->mask, sp->rows, sp->cols, SB_DTYPE_I64);
  if (sp->token_id) rc |= sb_st_writer_set_metadata(w, "image_token_id", sp->token_id);
  if (sp->paths) rc |= sb_st_writer_set_metadata(w, "image_paths", sp->paths);
  if (sp->n_pixels) {
    float px[4 * 12] = {0};
    rc |= sb_st_writer_add(w, "pixel_values", SB_DTYPE_F32, 4, (int64_t[]){sp->n_pixels, 3, 2, 2}, px);
  }
  rc |= sb_st_writer_write(w, path);
  CHECK(rc == SB_OK, "writing %s: %s", path, sb_error_message());
  sb_st_writer_free(w);
}

/* Two shards in a folder, read in name order: a (mask, image paths,
 * placeholder 9 from metadata) then b (I32 ids, no mask, no images). */
static void test_pretok_shards(void) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/shards", g_tmp);
  mkdir(dir, 0755);
  const int64_t a_ids[] = {5, 9, 6, 0, /**/ 9, 7, 9, 8}, a_labels[] = {-100, -100, 6, -100, -100, 7, -100, 8},
                a_mask[] = {1, 1, 1, 0, /**/ 1, 1, 1, 1};
  char paths[600];
  snprintf(paths, sizeof paths, "[\"p0.png\", \"sub/p1.png\", \"%s/abs.png\"]", g_tmp);
  char pa[600], pb[600];
  snprintf(pa, sizeof pa, "%s/a.safetensors", dir);
  snprintf(pb, sizeof pb, "%s/b.safetensors", dir);
  write_shard(pa, &(shard_spec){2, 4, a_ids, a_labels, a_mask, SB_DTYPE_I64, "9", paths, 0});
  const int64_t b_ids[] = {1, 2, 3}, b_labels[] = {-100, 2, 3};
  write_shard(pb, &(shard_spec){1, 3, b_ids, b_labels, NULL, SB_DTYPE_I32, NULL, NULL, 0});
  write_file(tmp_path("shards/notes.txt"), "not a shard");

  ds d;
  int rc = ds_open(&d, pretok_block(dir, NULL));
  CHECK(rc == SB_OK, "shards: %s", sb_error_message());
  if (rc == SB_OK) {
    CHECK(d.vt->size(d.self) == 3, "size %lld", (long long)d.vt->size(d.self));
    sb_sample *s = get(&d, 0);
    CHECK(strcmp(sb_sample_id(s), "a.safetensors:0") == 0, "id %s", sb_sample_id(s));
    check_tokens(s, (const int64_t[]){5, -200, 6}, (const int64_t[]){-100, -100, 6}, 3);
    CHECK(sb_sample_n_images(s) == 1 && !sb_sample_meta(s), "images %d", sb_sample_n_images(s));
    check_image(s, 0, dir, "p0.png");
    sb_sample_free(s);
    s = get(&d, 1);
    check_tokens(s, (const int64_t[]){-200, 7, -200, 8}, a_labels + 4, 4);
    CHECK(sb_sample_n_images(s) == 2, "images %d", sb_sample_n_images(s));
    check_image(s, 0, dir, "sub/p1.png");
    check_image(s, 1, g_tmp, "abs.png");
    sb_sample_free(s);
    s = get(&d, 2);
    CHECK(strcmp(sb_sample_id(s), "b.safetensors:0") == 0, "id %s", sb_sample_id(s));
    check_tokens(s, b_ids, b_labels, 3);
    CHECK(sb_sample_n_images(s) == 0, "images %d", sb_sample_n_images(s));
    sb_sample_free(s);
    check_concurrent(&d, "dataset_pretokenized");
  }
  ds_close(&d);

  rc = ds_open(&d, pretok_block(pa, "  image_root: \"/data/img\"\n"));
  CHECK(rc == SB_OK, "image_root: %s", sb_error_message());
  if (rc == SB_OK) {
    sb_sample *s = get(&d, 1);
    check_image(s, 0, "/data/img", "sub/p1.png");
    sb_sample_free(s);
  }
  ds_close(&d);
  remove(pa), remove(pb), remove(tmp_path("shards/notes.txt"));
  expect_fail(pretok_block(dir, NULL), (const char *[]){"shards: no *.safetensors files in the folder", NULL},
              "empty folder");
}

/* Writes spec to tmp/name and expects create to fail with the needles. */
static void pretok_fail(const char *name, const shard_spec *sp, const char *extra, const char *const *needles) {
  write_shard(tmp_path(name), sp);
  expect_fail(pretok_block(tmp_path(name), extra), needles, name);
}

static void test_pretok_errors(void) {
  const int64_t ids[] = {1, 9, 2, 3, 4, 5}, labels[] = {-100, -100, 2, -100, 4, 5}, mask[] = {1, 1, 1, 1, 1, 0};
  pretok_fail("nolabels.safetensors", &(shard_spec){2, 3, ids, NULL, NULL, SB_DTYPE_I64, NULL, NULL, 0}, NULL,
              (const char *[]){"nolabels.safetensors: no 'labels' tensor", NULL});
  pretok_fail("noids.safetensors", &(shard_spec){2, 3, NULL, labels, NULL, SB_DTYPE_I64, NULL, NULL, 0}, NULL,
              (const char *[]){"noids.safetensors: no 'input_ids' tensor", NULL});
  /* labels of another length: written as [3, 2] against ids [2, 3] */
  sb_st_writer *w = sb_st_writer_new();
  sb_st_writer_add(w, "input_ids", SB_DTYPE_I64, 2, (int64_t[]){2, 3}, ids);
  sb_st_writer_add(w, "labels", SB_DTYPE_I64, 2, (int64_t[]){3, 2}, labels);
  sb_st_writer_write(w, tmp_path("len.safetensors"));
  sb_st_writer_free(w);
  expect_fail(pretok_block(tmp_path("len.safetensors"), NULL),
              (const char *[]){"len.safetensors: 'labels' has shape [3, 2] but 'input_ids' has [2, 3]", NULL}, "len");
  w = sb_st_writer_new();
  sb_st_writer_add(w, "input_ids", SB_DTYPE_I64, 1, (int64_t[]){6}, ids);
  sb_st_writer_add(w, "labels", SB_DTYPE_I64, 1, (int64_t[]){6}, labels);
  sb_st_writer_write(w, tmp_path("flat.safetensors"));
  sb_st_writer_free(w);
  expect_fail(pretok_block(tmp_path("flat.safetensors"), NULL),
              (const char *[]){"flat.safetensors: 'input_ids' has shape [6]; expected [N, S]", NULL}, "flat");
  w = sb_st_writer_new();
  sb_st_writer_add(w, "input_ids", SB_DTYPE_I64, 2, (int64_t[]){2, 3}, ids);
  sb_st_writer_add(w, "labels", SB_DTYPE_I64, 2, (int64_t[]){2, 3}, labels);
  sb_st_writer_add(w, "attention_mask", SB_DTYPE_I64, 2, (int64_t[]){1, 6}, mask);
  sb_st_writer_write(w, tmp_path("mask.safetensors"));
  sb_st_writer_free(w);
  expect_fail(pretok_block(tmp_path("mask.safetensors"), NULL),
              (const char *[]){"mask.safetensors: 'attention_mask' has shape [1, 6] but 'input_ids' has [2, 3]", NULL},
              "mask");
  pretok_fail("f32.safetensors", &(shard_spec){2, 3, ids, labels, NULL, SB_DTYPE_F32, NULL, NULL, 0}, NULL,
              (const char *[]){"f32.safetensors: 'input_ids' must hold integers", NULL});
  pretok_fail("fewpaths.safetensors", &(shard_spec){2, 3, ids, labels, mask, SB_DTYPE_I64, "9", "[\"x.png\", \"y.png\"]", 0},
              NULL, (const char *[]){"fewpaths.safetensors: 1 image placeholder (id 9) but 2 image_paths", NULL});
  pretok_fail("noimages.safetensors", &(shard_spec){2, 3, ids, labels, mask, SB_DTYPE_I64, NULL, NULL, 0},
              "  image_token_id: 9\n",
              (const char *[]){"noimages.safetensors: 1 image placeholder (id 9) but neither", NULL});
  pretok_fail("both.safetensors", &(shard_spec){2, 3, ids, labels, mask, SB_DTYPE_I64, "9", "[\"x.png\"]", 1}, NULL,
              (const char *[]){"both.safetensors: both 'pixel_values' and metadata 'image_paths'", NULL});
  pretok_fail("pixels.safetensors", &(shard_spec){2, 3, ids, labels, mask, SB_DTYPE_I64, "9", NULL, 3}, NULL,
              (const char *[]){"pixels.safetensors: 1 image placeholder (id 9) but 'pixel_values' holds 3 images", NULL});
  pretok_fail("pathsjson.safetensors", &(shard_spec){2, 3, ids, labels, mask, SB_DTYPE_I64, "9", "[\"x.png\",", 0}, NULL,
              (const char *[]){"pathsjson.safetensors: metadata 'image_paths'", "not valid JSON", NULL});
  pretok_fail("tokid.safetensors", &(shard_spec){2, 3, ids, labels, mask, SB_DTYPE_I64, "nine", NULL, 0}, NULL,
              (const char *[]){"tokid.safetensors: metadata 'image_token_id' is \"nine\"", NULL});
  const int64_t pad_mask[] = {1, 1, 1, 0, 0, 0};
  pretok_fail("padrow.safetensors", &(shard_spec){2, 3, ids, labels, pad_mask, SB_DTYPE_I64, "9", "[\"x.png\"]", 0}, NULL,
              (const char *[]){"padrow.safetensors: row 1 has no real tokens", NULL});
  const int64_t neg[] = {1, -5, 2, 3, 4, 5};
  pretok_fail("neg.safetensors", &(shard_spec){2, 3, neg, labels, NULL, SB_DTYPE_I64, NULL, NULL, 0}, NULL,
              (const char *[]){"neg.safetensors: input_ids[0][1] is -5", NULL});
  expect_fail(pretok_block(tmp_path("absent.safetensors"), NULL),
              (const char *[]){"absent.safetensors: no such file or folder", NULL}, "absent");
}

int main(void) {
  g_fixtures = getenv("SB_FIXTURES");
  if (!g_fixtures || !g_fixtures[0]) g_fixtures = SB_TEST_FIXTURES;
  snprintf(g_tmp, sizeof g_tmp, "/tmp/sb_datasets_XXXXXX");
  CHECK(mkdtemp(g_tmp), "mkdtemp");
  snprintf(g_img, sizeof g_img, "%s/img", g_tmp);
  mkdir(g_img, 0755);
  mkdir(tmp_path("img/sub"), 0755);
  write_png(tmp_path("img/a.png"));
  write_png(tmp_path("img/sub/b.png"));

  test_llava_json();
  test_llava_jsonl();
  test_llava_paths();
  test_llava_errors();
  test_llava_skip_and_limit();
  test_llava_concurrent();
  test_pretok_fixture();
  test_pretok_shards();
  test_pretok_errors();

  nftw(g_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return check_summary("datasets");
}
