/* test_safetensors.c — the safetensors reader, sets and writer: round trips
 * of every dtype, the real fixture files, sharded indexes, each corrupt-file
 * message, and atomic writes. Exits non-zero when a check fails. */
#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spatialboost/error.h"
#include "spatialboost/safetensors.h"
#include "spatialboost/tensor.h"

static int g_checks, g_failures;

#define CHECK(cond)                                                                        \
  do {                                                                                     \
    g_checks++;                                                                            \
    if (!(cond)) {                                                                         \
      g_failures++;                                                                        \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n  last error: %s\n", __FILE__, __LINE__,   \
              #cond, sb_error_message());                                                  \
    }                                                                                      \
  } while (0)

/* The last error mentions every one of the given phrases. */
#define CHECK_MSG(...) check_msg(__FILE__, __LINE__, __VA_ARGS__, (const char *)NULL)

static void check_msg(const char *file, int line, ...) {
  const char *msg = sb_error_message();
  va_list ap;
  va_start(ap, line);
  for (const char *p; (p = va_arg(ap, const char *));) {
    g_checks++;
    if (!strstr(msg, p)) {
      g_failures++;
      fprintf(stderr, "%s:%d: message lacks \"%s\"\n  message: %s\n", file, line, p, msg);
    }
  }
  va_end(ap);
}

static char g_tmp[256];

static char *tmp_path(const char *name) {
  static char buf[8][512];
  static int k;
  char *p = buf[k++ % 8];
  snprintf(p, 512, "%s/%s", g_tmp, name);
  return p;
}

static void write_file(const char *path, const void *data, size_t n) {
  FILE *fp = fopen(path, "wb");
  if (!fp || fwrite(data, 1, n, fp) != n) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(2);
  }
  fclose(fp);
}

/* A safetensors file with the given header text and `data_len` data bytes (0, 1, 2, ...). */
static void write_st(const char *path, const char *header, size_t data_len) {
  size_t n = strlen(header), total = 8 + n + data_len;
  unsigned char *b = malloc(total);
  for (int i = 0; i < 8; i++) b[i] = (unsigned char)((uint64_t)n >> (8 * i));
  memcpy(b + 8, header, n);
  for (size_t i = 0; i < data_len; i++) b[8 + n + i] = (unsigned char)i;
  write_file(path, b, total);
  free(b);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  return remove(path);
}

/* Number of entries in dir whose name contains ".tmp.". */
static int count_tmp_files(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *de; d && (de = readdir(d));) n += strstr(de->d_name, ".tmp.") != NULL;
  if (d) closedir(d);
  return n;
}

static bool bytes_equal_tensor(const sb_st_tensor *st, const sb_tensor *t) {
  void *buf = malloc(st->nbytes ? st->nbytes : 1);
  bool ok = sb_tensor_to_host(t, buf, st->nbytes) == SB_OK &&
            memcmp(buf, st->data, st->nbytes) == 0;
  free(buf);
  return ok;
}

/* ---- round trip ---- */

static const float k_f32[6] = {1.5f, -2.25f, 3.0f, 0.0f, -0.0f, 1e30f};
static const uint16_t k_bf16[4] = {0x3f80, 0xc040, 0x7f80, 0x0001};
static const uint16_t k_f16[3] = {0x3c00, 0xc500, 0x0001};
static const int32_t k_i32[5] = {1, -2, 300, -2147483647 - 1, 2147483647};
static const int64_t k_i64[4] = {-1, 1, 4294967296LL, 258};
static const uint8_t k_u8[7] = {0, 1, 2, 128, 255, 7, 9};
static const float k_scalar = 42.5f;

static void write_all_dtypes(const char *path) {
  sb_st_writer *w = sb_st_writer_new();
  CHECK(w);
  int64_t s23[2] = {2, 3}, s4[1] = {4}, s31[2] = {3, 1}, s5[1] = {5}, s22[2] = {2, 2},
          s7[1] = {7}, s03[2] = {0, 3}, s0[1] = {0};
  CHECK(sb_st_writer_add(w, "f32", SB_DTYPE_F32, 2, s23, k_f32) == SB_OK);
  /* 7 bytes of u8 leave the tensors after it unaligned in the file. */
  CHECK(sb_st_writer_add(w, "u8", SB_DTYPE_U8, 1, s7, k_u8) == SB_OK);
  CHECK(sb_st_writer_add(w, "bf16", SB_DTYPE_BF16, 1, s4, k_bf16) == SB_OK);
  CHECK(sb_st_writer_add(w, "f16", SB_DTYPE_F16, 2, s31, k_f16) == SB_OK);
  CHECK(sb_st_writer_add(w, "i32", SB_DTYPE_I32, 1, s5, k_i32) == SB_OK);
  CHECK(sb_st_writer_add(w, "empty", SB_DTYPE_F32, 2, s03, NULL) == SB_OK);
  CHECK(sb_st_writer_add(w, "i64", SB_DTYPE_I64, 2, s22, k_i64) == SB_OK);
  CHECK(sb_st_writer_add(w, "scalar", SB_DTYPE_F32, 0, NULL, &k_scalar) == SB_OK);
  CHECK(sb_st_writer_add(w, "empty_i64", SB_DTYPE_I64, 1, s0, NULL) == SB_OK);
  CHECK(sb_st_writer_set_metadata(w, "format", "pt") == SB_OK);
  CHECK(sb_st_writer_set_metadata(w, "note", "h\xc3\xa9llo \"quoted\"") == SB_OK);
  CHECK(sb_st_writer_set_metadata(w, "format", "np") == SB_OK); /* replaces */
  CHECK(sb_st_writer_write(w, path) == SB_OK);
  sb_st_writer_free(w);
}

static void check_header_layout(const char *path) {
  FILE *fp = fopen(path, "rb");
  unsigned char len8[8];
  CHECK(fp && fread(len8, 1, 8, fp) == 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = (n << 8) | len8[i];
  CHECK(n % 8 == 0 && n < 4096);
  char *h = calloc(1, n + 1);
  CHECK(fp && fread(h, 1, n, fp) == n);
  if (fp) fclose(fp);
  static const char *const order[] = {"\"f32\"", "\"u8\"", "\"bf16\"", "\"f16\"", "\"i32\"",
                                      "\"empty\"", "\"i64\"", "\"scalar\"", "\"empty_i64\"",
                                      "\"__metadata__\""};
  const char *prev = h;
  for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
    const char *at = strstr(h, order[i]);
    CHECK(at && at >= prev);
    if (at) prev = at;
  }
  CHECK(strstr(h, "\"scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[") != NULL);
  CHECK(h[n - 1] == ' ' || h[n - 1] == '}');
  free(h);
}

static void check_tensor(const sb_safetensors *f, size_t i, const char *name, sb_dtype dtype,
                         int ndim, const int64_t *shape, const void *data, size_t nbytes) {
  const sb_st_tensor *t = sb_safetensors_at(f, i);
  CHECK(t && strcmp(t->name, name) == 0);
  if (!t) return;
  CHECK(sb_safetensors_find(f, name) == t);
  CHECK(t->dtype == dtype && t->ndim == ndim && t->nbytes == nbytes);
  for (int d = 0; d < ndim && d < t->ndim; d++) CHECK(t->shape[d] == shape[d]);
  CHECK(nbytes == 0 || memcmp(t->data, data, nbytes) == 0);
}

static void check_loads(const sb_safetensors *f) {
  sb_scope_begin();
  float v[6];
  sb_tensor *t = sb_safetensors_load(f, "f32", SB_DTYPE_F32);
  CHECK(t && sb_tensor_to_host(t, v, sizeof v) == SB_OK && memcmp(v, k_f32, sizeof v) == 0);
  t = sb_safetensors_load(f, "bf16", SB_DTYPE_F32); /* unaligned source */
  CHECK(t && sb_tensor_dtype(t) == SB_DTYPE_F32 && sb_tensor_to_host(t, v, 16) == SB_OK);
  for (int i = 0; t && i < 4; i++) {
    float want = sb_bf16_to_f32(k_bf16[i]);
    CHECK(memcmp(&v[i], &want, 4) == 0);
  }
  t = sb_safetensors_load(f, "f16", SB_DTYPE_F32);
  CHECK(t && sb_tensor_to_host(t, v, 12) == SB_OK && v[0] == 1.0f && v[1] == -5.0f &&
        v[2] == sb_f16_to_f32(1));
  uint16_t h[6];
  t = sb_safetensors_load(f, "f32", SB_DTYPE_BF16);
  CHECK(t && sb_tensor_to_host(t, h, 12) == SB_OK && h[0] == sb_f32_to_bf16(1.5f) &&
        h[5] == sb_f32_to_bf16(1e30f));
  int64_t q[7];
  t = sb_safetensors_load(f, "i32", SB_DTYPE_I64);
  CHECK(t && sb_tensor_to_host(t, q, 40) == SB_OK && q[2] == 300 && q[3] == k_i32[3]);
  t = sb_safetensors_load(f, "u8", SB_DTYPE_I64);
  CHECK(t && sb_tensor_to_host(t, q, 56) == SB_OK && q[4] == 255);
  uint8_t b[4];
  t = sb_safetensors_load(f, "i64", SB_DTYPE_U8); /* narrowing keeps the low bits */
  CHECK(t && sb_tensor_to_host(t, b, 4) == SB_OK && b[0] == 255 && b[2] == 0 && b[3] == 2);
  int32_t w[5];
  t = sb_safetensors_load(f, "i32", SB_DTYPE_I32);
  CHECK(t && sb_tensor_to_host(t, w, 20) == SB_OK && memcmp(w, k_i32, 20) == 0);
  float item = 0;
  t = sb_safetensors_load(f, "scalar", SB_DTYPE_F32);
  CHECK(t && sb_tensor_ndim(t) == 0 && sb_tensor_item(t, &item) == SB_OK && item == 42.5f);
  t = sb_safetensors_load(f, "empty", SB_DTYPE_BF16);
  CHECK(t && sb_tensor_numel(t) == 0 && sb_tensor_dim(t, 1) == 3);
  CHECK(sb_safetensors_load(f, "f32", SB_DTYPE_I32) == NULL);
  CHECK_MSG("float and integer", "'f32'", "F32", "I32");
  CHECK(sb_safetensors_load(f, "i64", SB_DTYPE_F16) == NULL);
  CHECK_MSG("float and integer");
  CHECK(sb_safetensors_load(f, "f3", SB_DTYPE_F32) == NULL);
  CHECK_MSG("no tensor named 'f3'", "did you mean 'f32'");
  CHECK(sb_error_code() == SB_ERR_NOT_FOUND);
  sb_scope_end();
}

static void test_round_trip(void) {
  const char *path = tmp_path("all.safetensors");
  write_all_dtypes(path);
  CHECK(count_tmp_files(g_tmp) == 0);
  check_header_layout(path);
  sb_safetensors *f = sb_safetensors_open(path);
  CHECK(f);
  if (!f) return;
  CHECK(sb_safetensors_count(f) == 9);
  int64_t s23[2] = {2, 3}, s4[1] = {4}, s31[2] = {3, 1}, s5[1] = {5}, s22[2] = {2, 2},
          s7[1] = {7}, s03[2] = {0, 3}, s0[1] = {0};
  check_tensor(f, 0, "f32", SB_DTYPE_F32, 2, s23, k_f32, 24);
  check_tensor(f, 1, "u8", SB_DTYPE_U8, 1, s7, k_u8, 7);
  check_tensor(f, 2, "bf16", SB_DTYPE_BF16, 1, s4, k_bf16, 8);
  check_tensor(f, 3, "f16", SB_DTYPE_F16, 2, s31, k_f16, 6);
  check_tensor(f, 4, "i32", SB_DTYPE_I32, 1, s5, k_i32, 20);
  check_tensor(f, 5, "empty", SB_DTYPE_F32, 2, s03, NULL, 0);
  check_tensor(f, 6, "i64", SB_DTYPE_I64, 2, s22, k_i64, 32);
  check_tensor(f, 7, "scalar", SB_DTYPE_F32, 0, NULL, &k_scalar, 4);
  check_tensor(f, 8, "empty_i64", SB_DTYPE_I64, 1, s0, NULL, 0);
  CHECK(sb_safetensors_at(f, 9) == NULL);
  CHECK(sb_safetensors_find(f, "nope") == NULL);
  CHECK(strcmp(sb_safetensors_at(f, 0)->file, path) == 0);
  CHECK(sb_safetensors_metadata_count(f) == 2);
  const char *k = NULL, *v = NULL;
  CHECK(sb_safetensors_metadata_at(f, 0, &k, &v) == SB_OK && k && strcmp(k, "format") == 0 &&
        strcmp(v, "np") == 0);
  CHECK(sb_safetensors_metadata(f, "note") &&
        strcmp(sb_safetensors_metadata(f, "note"), "h\xc3\xa9llo \"quoted\"") == 0);
  CHECK(sb_safetensors_metadata(f, "missing") == NULL);
  CHECK(sb_safetensors_metadata_at(f, 2, &k, &v) != SB_OK);
  check_loads(f);
  sb_safetensors_close(f);
}

/* sb_st_writer_add_tensor copies a tensor's values at add time. */
static void test_add_tensor(void) {
  const char *path = tmp_path("from_tensor.safetensors");
  sb_scope_begin();
  int64_t shape[2] = {2, 2};
  float vals[4] = {1, 2, 3, 4};
  sb_tensor *t = sb_tensor_from_host(SB_DTYPE_F32, 2, shape, vals);
  sb_st_writer *w = sb_st_writer_new();
  CHECK(t && sb_st_writer_add_tensor(w, "t", t) == SB_OK);
  CHECK(sb_tensor_fill(t, 9.0) == SB_OK); /* later changes do not reach the writer */
  CHECK(sb_st_writer_add_tensor(w, "t", t) != SB_OK);
  CHECK_MSG("'t'", "already added");
  CHECK(sb_st_writer_add_tensor(w, "null", NULL) != SB_OK);
  CHECK(sb_st_writer_write(w, path) == SB_OK);
  sb_st_writer_free(w);
  sb_safetensors *f = sb_safetensors_open(path);
  const sb_st_tensor *st = f ? sb_safetensors_find(f, "t") : NULL;
  CHECK(st && st->dtype == SB_DTYPE_F32 && st->nbytes == 16 && memcmp(st->data, vals, 16) == 0);
  CHECK(f && sb_safetensors_metadata_count(f) == 0);
  sb_safetensors_close(f);
  sb_scope_end();
}

/* ---- fixtures ---- */

static void check_fixture_file(const char *path, size_t expect_count) {
  sb_safetensors *f = sb_safetensors_open(path);
  CHECK(f);
  if (!f) return;
  CHECK(expect_count == 0 || sb_safetensors_count(f) == expect_count);
  CHECK(sb_safetensors_count(f) > 0);
  sb_scope_begin();
  const char *prev_end = NULL;
  for (size_t i = 0; i < sb_safetensors_count(f); i++) {
    const sb_st_tensor *t = sb_safetensors_at(f, i);
    int64_t numel = 1;
    for (int d = 0; d < t->ndim; d++) numel *= t->shape[d];
    CHECK((size_t)numel * sb_dtype_size(t->dtype) == t->nbytes);
    CHECK(!prev_end || (const char *)t->data >= prev_end); /* file order */
    prev_end = (const char *)t->data + t->nbytes;
    sb_tensor *x = sb_safetensors_load(f, t->name, t->dtype);
    CHECK(x && bytes_equal_tensor(t, x));
  }
  sb_scope_end();
  sb_safetensors_close(f);
}

static void test_fixtures(const char *fx) {
  static const struct {
    const char *dir;
    size_t model, expected; /* tensor counts */
  } k_fx[] = {
      {"dinov3_tiny", 41, 7},           {"dinov3_tiny_gated", 41, 7},
      {"qwen2_tiny_tied_bf16", 26, 35}, {"qwen2_tiny_untied", 27, 36},
      {"siglip2_fixedres_tiny", 48, 5}, {"siglip2_naflex_tiny", 48, 10},
      {"llava_tiny/language_model", 27, 0}, {"llava_tiny/vision_tower", 41, 0},
      {"llava_tiny", 0, 221},
  };
  char path[1024];
  for (size_t i = 0; i < sizeof k_fx / sizeof *k_fx; i++) {
    if (k_fx[i].model) {
      snprintf(path, sizeof path, "%s/%s/model.safetensors", fx, k_fx[i].dir);
      check_fixture_file(path, k_fx[i].model);
    }
    if (k_fx[i].expected) {
      snprintf(path, sizeof path, "%s/%s/expected.safetensors", fx, k_fx[i].dir);
      check_fixture_file(path, k_fx[i].expected);
    }
  }
}

static float bf16_bits_to_f32(const unsigned char *p) {
  uint32_t u = ((uint32_t)p[0] | (uint32_t)p[1] << 8) << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static void test_bf16_fixture(const char *fx) {
  char path[1024];
  snprintf(path, sizeof path, "%s/qwen2_tiny_tied_bf16/model.safetensors", fx);
  sb_safetensors *f = sb_safetensors_open(path);
  CHECK(f);
  if (!f) return;
  const sb_st_tensor *st = sb_safetensors_find(f, "model.embed_tokens.weight");
  CHECK(st && st->dtype == SB_DTYPE_BF16 && st->ndim == 2 && st->shape[0] == 384 &&
        st->shape[1] == 32);
  sb_scope_begin();
  sb_tensor *t = st ? sb_safetensors_load(f, st->name, SB_DTYPE_F32) : NULL;
  size_t n = 384 * 32;
  float *v = malloc(n * sizeof *v);
  CHECK(t && sb_tensor_dtype(t) == SB_DTYPE_F32 && sb_tensor_to_host(t, v, n * 4) == SB_OK);
  static const size_t k_idx[] = {0, 1, 2, 31, 32, 1000, 12287};
  bool nonzero = false;
  for (size_t i = 0; t && i < sizeof k_idx / sizeof *k_idx; i++) {
    float want = bf16_bits_to_f32((const unsigned char *)st->data + 2 * k_idx[i]);
    CHECK(memcmp(&v[k_idx[i]], &want, 4) == 0);
    nonzero |= want != 0;
  }
  CHECK(nonzero);
  free(v);
  sb_scope_end();
  sb_safetensors_close(f);
  /* The folder opens as a set through model.safetensors. */
  snprintf(path, sizeof path, "%s/qwen2_tiny_tied_bf16", fx);
  sb_st_set *s = sb_st_set_open(path);
  CHECK(s && sb_st_set_count(s) == 26 && sb_st_set_find(s, "model.embed_tokens.weight"));
  CHECK(s && strstr(sb_st_set_path(s), "qwen2_tiny_tied_bf16/model.safetensors"));
  sb_scope_begin();
  sb_tensor *emb = s ? sb_st_set_load(s, "model.embed_tokens.weight", SB_DTYPE_F32) : NULL;
  CHECK(emb && sb_tensor_dtype(emb) == SB_DTYPE_F32 && sb_tensor_ndim(emb) == 2);
  CHECK(s && sb_st_set_load(s, "model.nope", SB_DTYPE_F32) == NULL);
  CHECK(strstr(sb_error_message(), "no tensor named 'model.nope'") != NULL);
  sb_scope_end();
  sb_st_set_close(s);
  /* llava_tiny holds four .safetensors files and no model.safetensors. */
  snprintf(path, sizeof path, "%s/llava_tiny", fx);
  CHECK(sb_st_set_open(path) == NULL);
  CHECK_MSG("llava_tiny", "no safetensors checkpoint", "model.safetensors.index.json",
            "found 4", "mm_projector.safetensors");
}

/* ---- sharded sets ---- */

static void write_shard(const char *path, const char *a, const char *b, float base) {
  float va[3] = {base, base + 1, base + 2}, vb[2] = {base + 3, base + 4};
  int64_t s3[1] = {3}, s2[1] = {2};
  sb_st_writer *w = sb_st_writer_new();
  CHECK(sb_st_writer_add(w, a, SB_DTYPE_F32, 1, s3, va) == SB_OK);
  CHECK(sb_st_writer_add(w, b, SB_DTYPE_F32, 1, s2, vb) == SB_OK);
  CHECK(sb_st_writer_write(w, path) == SB_OK);
  sb_st_writer_free(w);
}

static void check_sharded_set(sb_st_set *s, const char *dir) {
  CHECK(s);
  if (!s) return;
  CHECK(sb_st_set_count(s) == 4);
  static const char *const names[] = {"z.first", "a.second", "m.third", "b.fourth"};
  for (size_t i = 0; i < 4; i++) {
    const sb_st_tensor *t = sb_st_set_at(s, i);
    CHECK(t && strcmp(t->name, names[i]) == 0 && sb_st_set_find(s, names[i]) == t);
    const char *shard = i < 2 ? "model-00001-of-00002.safetensors"
                              : "model-00002-of-00002.safetensors";
    CHECK(t && strstr(t->file, dir) == t->file && strstr(t->file, shard));
  }
  CHECK(sb_st_set_at(s, 4) == NULL && sb_st_set_find(s, "nope") == NULL);
  const sb_st_tensor *t = sb_st_set_find(s, "m.third");
  CHECK(t && ((const float *)t->data)[0] == 10.0f);
  CHECK(strstr(sb_st_set_path(s), "model.safetensors.index.json") != NULL);
}

static const char *k_index =
    "{\"metadata\": {\"total_size\": 40}, \"weight_map\": {\"b.fourth\": "
    "\"model-00002-of-00002.safetensors\", \"z.first\": \"model-00001-of-00002.safetensors\", "
    "\"m.third\": \"model-00002-of-00002.safetensors\", \"a.second\": "
    "\"model-00001-of-00002.safetensors\"}}";

static void expect_index_error(const char *dir, const char *index, const char *phrase) {
  char path[600];
  snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
  write_file(path, index, strlen(index));
  CHECK(sb_st_set_open(dir) == NULL);
  CHECK_MSG(phrase, "model.safetensors.index.json");
}

static void test_sharded(void) {
  char dir[512], path[600];
  snprintf(dir, sizeof dir, "%s/sharded", g_tmp);
  mkdir(dir, 0755);
  snprintf(path, sizeof path, "%s/model-00001-of-00002.safetensors", dir);
  write_shard(path, "z.first", "a.second", 0);
  snprintf(path, sizeof path, "%s/model-00002-of-00002.safetensors", dir);
  write_shard(path, "m.third", "b.fourth", 10);
  snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
  write_file(path, k_index, strlen(k_index));
  sb_st_set *s = sb_st_set_open(dir);
  check_sharded_set(s, dir);
  sb_st_set_close(s);
  s = sb_st_set_open(path);
  check_sharded_set(s, dir);
  sb_st_set_close(s);
  /* A single shard opens as a one-file set. */
  snprintf(path, sizeof path, "%s/model-00002-of-00002.safetensors", dir);
  s = sb_st_set_open(path);
  CHECK(s && sb_st_set_count(s) == 2 && strcmp(sb_st_set_at(s, 0)->name, "m.third") == 0);
  CHECK(s && strcmp(sb_st_set_path(s), path) == 0);
  sb_st_set_close(s);

  expect_index_error(dir, "{\"weight_map\": {\"z.first\": \"model-00001-of-00002.safetensors\", "
                     "\"ghost\": \"model-00001-of-00002.safetensors\"}}",
                     "weight_map puts tensor 'ghost' in shard 'model-00001-of-00002.safetensors', "
                     "but that shard has no such tensor");
  expect_index_error(dir, "{\"weight_map\": {\"m.third\": \"model-00001-of-00002.safetensors\", "
                     "\"b.fourth\": \"model-00002-of-00002.safetensors\"}}",
                     "it is in 'model-00002-of-00002.safetensors'");
  expect_index_error(dir, "{\"weight_map\": {\"z.first\": \"model-00009-of-00009.safetensors\"}}",
                     "shard 'model-00009-of-00009.safetensors' (holding tensor 'z.first' in "
                     "weight_map) is missing");
  snprintf(path, sizeof path, "%s/extra.safetensors", dir);
  write_shard(path, "a.second", "other", 20);
  expect_index_error(dir, "{\"weight_map\": {\"z.first\": \"model-00001-of-00002.safetensors\", "
                     "\"other\": \"extra.safetensors\"}}",
                     "tensor 'a.second' is in two shards");
  CHECK_MSG("extra.safetensors", "model-00001-of-00002.safetensors");
  expect_index_error(dir, "{\"weight_map\": {\"z.first\": \"../x.safetensors\"}}",
                     "not a file next to the index");
  expect_index_error(dir, "{\"weight_map\": {\"z.first\": 3}}", "is not a file name");
  expect_index_error(dir, "{\"metadata\": {}}", "no \"weight_map\" object");
  expect_index_error(dir, "{\"weight_map\": {", "not valid JSON at line 1 column");
  expect_index_error(dir, "{\"weight_map\": {\"x\": \"a\", \"x\": \"a\"}}", "duplicate");
  /* A broken shard names the index and the shard. */
  snprintf(path, sizeof path, "%s/broken.safetensors", dir);
  write_file(path, "abc", 3);
  expect_index_error(dir, "{\"weight_map\": {\"z.first\": \"broken.safetensors\"}}",
                     "broken.safetensors: file is too small");
  /* A folder without any checkpoint. */
  snprintf(path, sizeof path, "%s/nothing", g_tmp);
  mkdir(path, 0755);
  CHECK(sb_st_set_open(path) == NULL);
  CHECK_MSG("nothing", "no safetensors checkpoint", "found 0");
  CHECK(sb_st_set_open(tmp_path("does-not-exist.safetensors")) == NULL);
  CHECK_MSG("does-not-exist.safetensors", "cannot open");
}

/* ---- corrupt files ---- */

typedef struct bad_case {
  const char *header;
  size_t data_len;
  const char *phrase;
  const char *tensor; /* named in the message, or NULL */
} bad_case;

static const bad_case k_bad[] = {
    {"{abc", 0, "header is not valid JSON at line 1 column", NULL},
    {"{\"\xff\xfe\": 1}", 0, "header is not valid JSON", NULL},
    {"{\"a\": {}, \"a\": {}}", 0, "duplicate", NULL},
    {"[1, 2]", 0, "header is not a JSON object", NULL},
    {"{\"a\": 1}", 0, "entry is not an object", "'a'"},
    {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4, "missing field 'data_offsets'", "'a'"},
    {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4], \"x\": 1}}", 4,
     "unexpected field 'x'", "'a'"},
    {"{\"a\": {\"dtype\": 5, \"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
     "field 'dtype' is not a string", "'a'"},
    {"{\"a\": {\"dtype\": \"F64\", \"shape\": [1], \"data_offsets\": [0, 8]}}", 8,
     "unsupported dtype 'F64'", "'a'"},
    {"{\"b\": {\"dtype\": \"BOOL\", \"shape\": [1], \"data_offsets\": [0, 1]}}", 1,
     "unsupported dtype 'BOOL'", "'b'"},
    {"{\"a\": {\"dtype\": \"F32\", \"shape\": 1, \"data_offsets\": [0, 4]}}", 4,
     "field 'shape' is not an array", "'a'"},
    {"{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}", 4,
     "shape entry 0 is negative", "'a'"},
    {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", 4,
     "shape entry 0 is not an integer", "'a'"},
    {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1, \"2\"], \"data_offsets\": [0, 8]}}", 8,
     "shape entry 1 is not an integer", "'a'"},
    {"{\"a\": {\"dtype\": \"U8\", \"shape\": [1,1,1,1,1,1,1,1,1], \"data_offsets\": [0, 1]}}", 1,
     "shape has 9 dims (at most 8)", "'a'"},
    {"{\"a\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296], \"data_offsets\": "
     "[0, 4]}}", 4, "overflows the byte size", "'a'"},
    {"{\"a\": {\"dtype\": \"I64\", \"shape\": [1152921504606846976], \"data_offsets\": [0, 8]}}",
     8, "overflows the byte size", "'a'"},
    {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", 4,
     "field 'data_offsets' is not [begin, end]", "'a'"},
    {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": {}}}", 4,
     "field 'data_offsets' is not [begin, end]", "'a'"},
    {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4.0]}}", 4,
     "data_offsets entry 1 is not an integer", "'a'"},
    {"{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}", 4,
     "data_offsets entry 0 is negative", "'a'"},
    {"{\"a\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [4, 0]}}", 4,
     "data_offsets begin 4 is after end 0", "'a'"},
    {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 7,
     "data_offsets end 8 is past the end of the data (7 bytes)", "'a'"},
    {"{\"a\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 20]}}", 24,
     "data_offsets span 20 bytes, but dtype F32 with shape [2, 3] needs 24", "'a'"},
    {"{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}, \"b\": {\"dtype\": "
     "\"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}", 16, "overlap", "'b'"},
    {"{\"a\": {\"dtype\": \"U8\", \"shape\": [16], \"data_offsets\": [0, 16]}, \"e\": {\"dtype\": "
     "\"U8\", \"shape\": [0], \"data_offsets\": [4, 4]}, \"c\": {\"dtype\": \"U8\", "
     "\"shape\": [2], \"data_offsets\": [10, 12]}}", 16, "overlap", "'c'"},
    {"{\"__metadata__\": [\"x\"]}", 0, "__metadata__ is not an object", NULL},
    {"{\"__metadata__\": {\"k\": 1}}", 0, "__metadata__ value of 'k' is not a string", NULL},
    {"", 0, "header is not valid JSON", NULL},
};

static void test_bad_headers(void) {
  for (size_t i = 0; i < sizeof k_bad / sizeof *k_bad; i++) {
    char name[64];
    snprintf(name, sizeof name, "bad-%02zu.safetensors", i);
    const char *path = tmp_path(name);
    write_st(path, k_bad[i].header, k_bad[i].data_len);
    sb_error_clear();
    sb_safetensors *f = sb_safetensors_open(path);
    CHECK(f == NULL);
    sb_safetensors_close(f);
    CHECK(sb_error_code() == SB_ERR_FORMAT);
    CHECK_MSG(k_bad[i].phrase, name);
    if (k_bad[i].tensor) CHECK_MSG(k_bad[i].tensor);
  }
}

static void write_len_field(const char *path, uint64_t n, size_t total) {
  unsigned char *b = calloc(1, total);
  for (int i = 0; i < 8 && (size_t)i < total; i++) b[i] = (unsigned char)(n >> (8 * i));
  if (total > 8) memcpy(b + 8, "{}", total - 8 < 2 ? total - 8 : 2);
  write_file(path, b, total);
  free(b);
}

static void test_bad_files(void) {
  const char *path = tmp_path("raw.safetensors");
  write_file(path, "", 0);
  CHECK(sb_safetensors_open(path) == NULL);
  CHECK_MSG("raw.safetensors", "file is empty");
  write_file(path, "\x02\0\0\0\0", 5);
  CHECK(sb_safetensors_open(path) == NULL);
  CHECK_MSG("raw.safetensors", "file is too small (5 bytes)");
  write_len_field(path, 3, 10); /* one byte past the end */
  CHECK(sb_safetensors_open(path) == NULL);
  CHECK_MSG("raw.safetensors", "header length 3 is past the end of the file (2 bytes");
  write_len_field(path, (uint64_t)1 << 40, 16);
  CHECK(sb_safetensors_open(path) == NULL);
  CHECK_MSG("raw.safetensors", "header length 1099511627776 is too large");
  write_len_field(path, UINT64_MAX, 16);
  CHECK(sb_safetensors_open(path) == NULL);
  CHECK_MSG("raw.safetensors", "is too large");
  write_len_field(path, 2, 10); /* "{}": a valid file without tensors */
  sb_safetensors *f = sb_safetensors_open(path);
  CHECK(f && sb_safetensors_count(f) == 0 && sb_safetensors_at(f, 0) == NULL);
  sb_safetensors_close(f);
  CHECK(sb_safetensors_open(tmp_path("missing.safetensors")) == NULL);
  CHECK_MSG("missing.safetensors", "cannot open");
  CHECK(sb_error_code() == SB_ERR_IO);
  CHECK(sb_safetensors_open(g_tmp) == NULL);
  CHECK_MSG(g_tmp, "is a folder");
  /* Padding spaces after the JSON and trailing data after the tensors are fine. */
  write_st(path, "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]}}     ", 9);
  f = sb_safetensors_open(path);
  CHECK(f && sb_safetensors_count(f) == 1 &&
        ((const unsigned char *)sb_safetensors_at(f, 0)->data)[0] == 1);
  sb_safetensors_close(f);
}

/* ---- writer errors and atomic writes ---- */

static void test_writer_errors(void) {
  sb_st_writer *w = sb_st_writer_new();
  int64_t s2[2] = {2, 2}, neg[1] = {-1}, big[2] = {INT64_MAX / 2, 4};
  float v[4] = {0};
  CHECK(sb_st_writer_add(w, "x", SB_DTYPE_F32, 2, s2, v) == SB_OK);
  CHECK(sb_st_writer_add(w, "x", SB_DTYPE_F32, 2, s2, v) != SB_OK);
  CHECK_MSG("tensor 'x' was already added");
  CHECK(sb_st_writer_add(w, "d", (sb_dtype)42, 2, s2, v) != SB_OK);
  CHECK_MSG("'d'", "unknown dtype 42");
  CHECK(sb_st_writer_add(w, "n", SB_DTYPE_F32, 1, neg, v) != SB_OK);
  CHECK_MSG("'n'", "negative size -1");
  CHECK(sb_st_writer_add(w, "m", SB_DTYPE_F32, 9, s2, v) != SB_OK);
  CHECK_MSG("'m'", "9 dims");
  CHECK(sb_st_writer_add(w, "o", SB_DTYPE_F32, 2, big, v) != SB_OK);
  CHECK_MSG("'o'", "overflows");
  CHECK(sb_st_writer_add(w, "__metadata__", SB_DTYPE_F32, 2, s2, v) != SB_OK);
  CHECK_MSG("reserved");
  CHECK(sb_st_writer_add(w, "", SB_DTYPE_F32, 2, s2, v) != SB_OK);
  CHECK_MSG("empty");
  CHECK(sb_st_writer_add(w, "bad\xff", SB_DTYPE_F32, 2, s2, v) != SB_OK);
  CHECK_MSG("UTF-8");
  CHECK(sb_st_writer_add(w, "nodata", SB_DTYPE_F32, 2, s2, NULL) != SB_OK);
  CHECK_MSG("'nodata'", "no data");
  CHECK(sb_st_writer_set_metadata(w, "k", "\xc3") != SB_OK);
  CHECK_MSG("UTF-8");
  CHECK(count_tmp_files(g_tmp) == 0); /* failed adds write nothing */
  const char *path = tmp_path("after_errors.safetensors");
  CHECK(sb_st_writer_write(w, path) == SB_OK);
  sb_st_writer_free(w);
  sb_safetensors *f = sb_safetensors_open(path);
  CHECK(f && sb_safetensors_count(f) == 1 && sb_safetensors_find(f, "x"));
  sb_safetensors_close(f);
  CHECK(count_tmp_files(g_tmp) == 0);
}

static int write_u8_file(const char *path, uint8_t fill, int64_t n) {
  uint8_t *data = malloc((size_t)n);
  memset(data, fill, (size_t)n);
  sb_st_writer *w = sb_st_writer_new();
  int rc = sb_st_writer_add(w, "v", SB_DTYPE_U8, 1, &n, data);
  if (rc == SB_OK) rc = sb_st_writer_write(w, path);
  sb_st_writer_free(w);
  free(data);
  return rc;
}

static bool file_holds(const char *path, uint8_t fill, int64_t n) {
  sb_safetensors *f = sb_safetensors_open(path);
  const sb_st_tensor *t = f ? sb_safetensors_find(f, "v") : NULL;
  bool ok = t && t->shape[0] == n;
  for (int64_t i = 0; ok && i < n; i++) ok = ((const uint8_t *)t->data)[i] == fill;
  sb_safetensors_close(f);
  return ok;
}

static void test_atomic(void) {
  const char *path = tmp_path("atomic.safetensors");
  CHECK(write_u8_file(path, 1, 100) == SB_OK);
  CHECK(file_holds(path, 1, 100));
  /* A write that fails midway (the file size limit stops it) leaves the old file. */
  struct rlimit old, lim;
  CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
  lim = old;
  lim.rlim_cur = 4096;
  signal(SIGXFSZ, SIG_IGN);
  CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
  int rc = write_u8_file(path, 2, 1 << 20);
  CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
  CHECK(rc == SB_ERR_IO);
  CHECK_MSG("atomic.safetensors", "writing", ".tmp.");
  CHECK(file_holds(path, 1, 100));
  CHECK(count_tmp_files(g_tmp) == 0);
  /* A rename that fails (the target is a folder) leaves no temporary file. */
  char dir[600];
  snprintf(dir, sizeof dir, "%s/a_folder.safetensors", g_tmp);
  mkdir(dir, 0755);
  CHECK(write_u8_file(dir, 3, 10) == SB_ERR_IO);
  CHECK_MSG("a_folder.safetensors", "cannot rename");
  CHECK(count_tmp_files(g_tmp) == 0);
  CHECK(write_u8_file(tmp_path("no/such/dir.safetensors"), 3, 10) == SB_ERR_IO);
  CHECK_MSG("no/such/dir.safetensors", "cannot create");
  /* A successful write replaces the file and leaves no temporary file. */
  CHECK(write_u8_file(path, 4, 5000) == SB_OK);
  CHECK(file_holds(path, 4, 5000));
  CHECK(count_tmp_files(g_tmp) == 0);
}

int main(void) {
  const char *fx = getenv("SB_FIXTURES");
  const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  snprintf(g_tmp, sizeof g_tmp, "%s/sb_safetensors_XXXXXX", tmpdir);
  if (!mkdtemp(g_tmp)) {
    perror("mkdtemp");
    return 2;
  }
  test_round_trip();
  test_add_tensor();
  test_bad_headers();
  test_bad_files();
  test_sharded();
  test_writer_errors();
  test_atomic();
  if (fx && fx[0]) {
    test_fixtures(fx);
    test_bf16_fixture(fx);
  } else {
    fprintf(stderr, "SB_FIXTURES is not set: the fixture checks did not run\n");
    g_failures++;
  }
  nftw(g_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  printf("%d checks, %d failed\n", g_checks, g_failures);
  return g_failures ? 1 : 0;
}
