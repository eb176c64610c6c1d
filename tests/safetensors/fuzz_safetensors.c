/* fuzz_safetensors.c — a deterministic mutation fuzzer of the safetensors
 * reader (built with AddressSanitizer and UBSan). It writes a few valid seed
 * files, then N times mutates one (bit flips, header bytes, truncation, the
 * header length field, digits, dtypes, moved data_offsets, extra dims,
 * deleted characters and fields, inserted JSON tokens, junk at the end),
 * opens the result with sb_safetensors_open and, when it opens, loads every
 * tensor. Every eighth round it also mutates a sharded index and
 * opens it as a set. It fails on a crash, a sanitizer report, a rejection
 * without a message naming the file, or an accepted file whose tensors break
 * the reader's promises.
 *
 * Usage: fuzz_safetensors [iterations [seed]]; SB_FUZZ_VERBOSE=1 prints each
 * rejection's message. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spatialboost/error.h"
#include "spatialboost/safetensors.h"
#include "spatialboost/tensor.h"

typedef struct buf {
  unsigned char *p;
  size_t len, cap;
} buf;

static uint64_t g_rng = 0x5eedf00dULL;
static int g_failures;
static char g_dir[256];
static bool g_verbose; /* SB_FUZZ_VERBOSE set: print every rejection */

static uint64_t rnd(void) { /* xorshift64* */
  g_rng ^= g_rng >> 12;
  g_rng ^= g_rng << 25;
  g_rng ^= g_rng >> 27;
  return g_rng * 0x2545f4914f6cdd1dULL;
}

static size_t rnd_below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

static void fail(const char *what, const char *detail) {
  g_failures++;
  fprintf(stderr, "fuzz: %s (%s)\n", what, detail);
}

/* ---- byte buffers ---- */

static void buf_reserve(buf *b, size_t n) {
  if (n <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < n) cap *= 2;
  b->p = realloc(b->p, cap);
  if (!b->p) abort();
  b->cap = cap;
}

static void buf_set(buf *b, const buf *src) {
  buf_reserve(b, src->len);
  memcpy(b->p, src->p, src->len);
  b->len = src->len;
}

/* Replaces `del` bytes at pos with ins[0..n). */
static void buf_splice(buf *b, size_t pos, size_t del, const void *ins, size_t n) {
  if (pos > b->len) pos = b->len;
  if (del > b->len - pos) del = b->len - pos;
  buf_reserve(b, b->len - del + n);
  memmove(b->p + pos + n, b->p + pos + del, b->len - pos - del);
  memcpy(b->p + pos, ins, n);
  b->len = b->len - del + n;
}

static bool buf_read(buf *b, const char *path) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return false;
  fseek(fp, 0, SEEK_END);
  long n = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  buf_reserve(b, (size_t)n + 1);
  b->len = fread(b->p, 1, (size_t)n, fp);
  fclose(fp);
  return b->len == (size_t)n;
}

static void buf_write(const buf *b, const char *path) {
  FILE *fp = fopen(path, "wb");
  if (!fp || fwrite(b->p, 1, b->len, fp) != b->len) {
    fprintf(stderr, "fuzz: cannot write %s\n", path);
    exit(2);
  }
  fclose(fp);
}

/* ---- the header inside a file ---- */

static uint64_t get_len(const buf *b) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = (n << 8) | b->p[i];
  return n;
}

static void put_len(buf *b, uint64_t n) {
  for (int i = 0; i < 8; i++) b->p[i] = (unsigned char)(n >> (8 * i));
}

/* The header's length when the length field points inside the file, else 0. */
static size_t header_len(const buf *b) {
  if (b->len < 8) return 0;
  uint64_t n = get_len(b);
  return n <= b->len - 8 ? (size_t)n : 0;
}

/* Splices inside the header; usually keeps the length field in step. */
static void header_splice(buf *b, size_t at, size_t del, const char *ins) {
  size_t n = header_len(b);
  if (!n) return;
  if (at > n) at = n;
  if (del > n - at) del = n - at;
  buf_splice(b, 8 + at, del, ins, strlen(ins));
  if (rnd_below(8)) put_len(b, n - del + strlen(ins));
}

/* ---- mutations ---- */

static void mut_bitflip(buf *b) {
  if (b->len) b->p[rnd_below(b->len)] ^= (unsigned char)(1u << rnd_below(8));
}

static void mut_header_byte(buf *b) {
  static const unsigned char k_bytes[] = {'"', '{', '}', '[', ']', ',', ':', '-', '0', '9',
                                          ' ', 0,   0xff, 0xc3, '\\', 'e', '.', 'n'};
  size_t n = header_len(b);
  if (!n) return;
  unsigned char c = rnd_below(4) ? k_bytes[rnd_below(sizeof k_bytes)] : (unsigned char)rnd();
  b->p[8 + rnd_below(n)] = c;
}

static void mut_truncate(buf *b) { b->len = rnd_below(b->len + 1); }

static void mut_length(buf *b) {
  if (b->len < 8) return;
  uint64_t n = get_len(b), len = b->len;
  const uint64_t k_vals[] = {0, 1, n - 1, n + 1, len - 8, len - 7, len, UINT64_MAX,
                             (uint64_t)1 << 63, 100000000, 100000001, rnd(), rnd_below(len),
                             n ^ ((uint64_t)1 << rnd_below(64))};
  put_len(b, k_vals[rnd_below(sizeof k_vals / sizeof *k_vals)]);
}

static void mut_digits(buf *b) {
  static const char *const k_nums[] = {"9", "0", "-", "-1", "99999999999999999999",
                                       "4294967296", "9223372036854775807", "18446744073709551615",
                                       ".5", "e3", "1e400", "00", "2305843009213693952"};
  size_t n = header_len(b);
  if (!n) return;
  size_t start = rnd_below(n), at = start;
  while (!(b->p[8 + at] >= '0' && b->p[8 + at] <= '9')) {
    at = (at + 1) % n;
    if (at == start) return;
  }
  if (rnd_below(2)) {
    b->p[8 + at] = (unsigned char)('0' + rnd_below(10));
  } else {
    header_splice(b, at, rnd_below(3), k_nums[rnd_below(sizeof k_nums / sizeof *k_nums)]);
  }
}

/* Finds `what` in the header from a random point (wrapping); returns its offset or -1. */
static long header_find(const buf *b, const char *what) {
  size_t n = header_len(b), w = strlen(what);
  if (n < w) return -1;
  size_t start = rnd_below(n - w + 1);
  for (size_t k = 0; k <= n - w; k++) {
    size_t at = (start + k) % (n - w + 1);
    if (memcmp(b->p + 8 + at, what, w) == 0) return (long)at;
  }
  return -1;
}

static void mut_dtype(buf *b) {
  static const char *const k_dt[] = {"\"F32\"", "\"F16\"", "\"BF16\"", "\"I32\"", "\"I64\"",
                                     "\"U8\"", "\"F64\"", "\"BOOL\"", "\"I8\"", "\"\"",
                                     "\"f32\"", "\"F8_E4M3\"", "32", "null"};
  const size_t nd = sizeof k_dt / sizeof *k_dt;
  for (int tries = 0; tries < 4; tries++) {
    const char *from = k_dt[rnd_below(6)];
    long at = header_find(b, from);
    if (at >= 0) {
      header_splice(b, (size_t)at, strlen(from), k_dt[rnd_below(nd)]);
      return;
    }
  }
}

/* Moves one tensor's data_offsets (keeping its span) to overlap or reorder tensors. */
static void mut_offsets(buf *b) {
  static const char key[] = "\"data_offsets\":[";
  long at = header_find(b, key);
  if (at < 0) return;
  size_t n = header_len(b), from = (size_t)at + strlen(key), to = from;
  while (to < n && b->p[8 + to] != ']' && to - from < 60) to++;
  char text[64], *end;
  memcpy(text, b->p + 8 + from, to - from);
  text[to - from] = 0;
  /* Wrapping arithmetic: the digits may already be mutated into anything. */
  uint64_t begin = (uint64_t)strtoll(text, &end, 10);
  uint64_t stop = *end == ',' ? (uint64_t)strtoll(end + 1, NULL, 10) : 0, span = stop - begin;
  const int64_t k_moves[] = {-8, -4, -2, -1, 1, 2, 4, 8};
  uint64_t nb = rnd_below(2) ? begin + (uint64_t)k_moves[rnd_below(8)]
                             : rnd_below(b->len - 8 - n + 1);
  snprintf(text, sizeof text, "%lld,%lld", (long long)nb, (long long)(nb + span));
  header_splice(b, from, to - from, text);
}

/* Adds dims of size 1 to a shape (keeping its byte size), or empties it. */
static void mut_shape(buf *b) {
  static const char *const k_dims[] = {"1,", "1,1,1,1,1,1,1,1,", "0,", "", "1,1,1,1,1,1,1,"};
  long at = header_find(b, "\"shape\":[");
  if (at < 0) return;
  const char *dims = k_dims[rnd_below(sizeof k_dims / sizeof *k_dims)];
  if (dims[0]) {
    header_splice(b, (size_t)at + 9, 0, dims);
  } else { /* "shape":[...] becomes "shape":[] */
    size_t n = header_len(b), to = (size_t)at + 9;
    while (to < n && b->p[8 + to] != ']') to++;
    header_splice(b, (size_t)at + 9, to - ((size_t)at + 9), "");
  }
}

/* Deletes from a quote to the next comma: a field, a key or half an entry. */
static void mut_delete_field(buf *b) {
  long at = header_find(b, "\"");
  size_t n = header_len(b), to = (size_t)(at < 0 ? 0 : at);
  while (to < n && b->p[8 + to] != ',') to++;
  if (at >= 0) header_splice(b, (size_t)at, to + 1 - (size_t)at, "");
}

static void mut_delete(buf *b) {
  size_t n = header_len(b);
  if (n) header_splice(b, rnd_below(n), 1 + rnd_below(4), "");
}

static void mut_insert(buf *b) {
  static const char *const k_tok[] = {
      "-1", "[]", "{}", "1e400", "\"", ",", "null", "\\u0000", "\xff", "\"x\":1,", "[0,0]",
      "\"__metadata__\":{\"k\":1},", "\"shape\":[1,1,1,1,1,1,1,1,1],", "\"data_offsets\":[0,4],",
      "\"e\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]},", ":", "\"dtype\":\"F32\","};
  size_t n = header_len(b);
  if (n) header_splice(b, rnd_below(n + 1), 0, k_tok[rnd_below(sizeof k_tok / sizeof *k_tok)]);
}

static void mut_append(buf *b) {
  unsigned char junk[64];
  size_t n = 1 + rnd_below(sizeof junk);
  for (size_t i = 0; i < n; i++) junk[i] = (unsigned char)rnd();
  buf_splice(b, b->len, 0, junk, n);
}

static void mutate(buf *b) {
  static void (*const k_mut[])(buf *) = {
      mut_bitflip, mut_header_byte, mut_truncate, mut_length,       mut_digits,  mut_dtype,
      mut_delete,  mut_insert,      mut_append,   mut_digits,       mut_offsets, mut_offsets,
      mut_shape,   mut_header_byte, mut_offsets,  mut_delete_field};
  int rounds = 1 + (int)rnd_below(3);
  for (int i = 0; i < rounds; i++) k_mut[rnd_below(sizeof k_mut / sizeof *k_mut)](b);
}

/* ---- checking what the reader returns ---- */

static void check_rejected(const char *path) {
  const char *msg = sb_error_message();
  if (g_verbose) printf("rejected: %s\n", msg);
  if (!msg[0]) fail("rejected without a message", path);
  else if (!strstr(msg, path)) fail("the message does not name the file", msg);
}

/* Loads every tensor (in its dtype, and converted) and checks its bytes. */
static void check_loads(const sb_safetensors *f, const sb_st_tensor *t) {
  sb_scope_begin();
  sb_tensor *x = sb_safetensors_load(f, t->name, t->dtype);
  void *host = malloc(t->nbytes ? t->nbytes : 1);
  if (!x) fail("an accepted tensor does not load", sb_error_message());
  else if (sb_tensor_to_host(x, host, t->nbytes) || memcmp(host, t->data, t->nbytes))
    fail("a loaded tensor differs from the file", t->name);
  free(host);
  sb_dtype to = sb_dtype_is_float(t->dtype) ? SB_DTYPE_F32 : SB_DTYPE_I64;
  if (!sb_safetensors_load(f, t->name, to)) fail("a conversion failed", sb_error_message());
  sb_scope_end();
}

/* Where path is mapped in this process (from /proc/self/maps), or NULL. ASan
 * does not watch mappings, so this is how reads past the data are caught. */
static const char *find_mapping(const char *path) {
  FILE *fp = fopen("/proc/self/maps", "r");
  char line[1024];
  const char *base = NULL;
  while (fp && !base && fgets(line, sizeof line, fp)) {
    line[strcspn(line, "\n")] = 0;
    size_t n = strlen(line), k = strlen(path);
    unsigned long lo;
    if (n >= k && strcmp(line + n - k, path) == 0 && sscanf(line, "%lx-", &lo) == 1)
      base = (const char *)(uintptr_t)lo;
  }
  if (fp) fclose(fp);
  return base;
}

static long g_bounds_checked;

/* Every tensor lies inside the data buffer of the mapped file. */
static void check_bounds(const sb_safetensors *f, const buf *b, const char *path) {
  const char *base = find_mapping(path);
  if (!base || b->len < 8) return;
  const char *data = base + 8 + get_len(b), *end = base + b->len;
  for (size_t i = 0; i < sb_safetensors_count(f); i++) {
    const sb_st_tensor *t = sb_safetensors_at(f, i);
    const char *s = t->data;
    if (s < data || s > end || t->nbytes > (size_t)(end - s))
      fail("a tensor lies outside the data buffer", t->name);
    else if (memcmp(s, b->p + (s - base), t->nbytes) != 0)
      fail("a tensor's bytes differ from the file", t->name);
  }
  g_bounds_checked++;
}

static void check_accepted(const sb_safetensors *f, size_t file_len) {
  const char *lo = NULL, *hi = NULL, *end = NULL;
  size_t total = 0;
  for (size_t i = 0; i < sb_safetensors_count(f); i++) {
    const sb_st_tensor *t = sb_safetensors_at(f, i);
    if (!t || sb_safetensors_find(f, t->name) != t) {
      fail("at/find disagree", t ? t->name : "NULL");
      return;
    }
    int64_t n = (int64_t)sb_dtype_size(t->dtype);
    bool bad = t->ndim < 0 || t->ndim > SB_MAX_DIMS;
    for (int d = 0; !bad && d < t->ndim; d++) bad = __builtin_mul_overflow(n, t->shape[d], &n);
    if (bad || (size_t)n != t->nbytes) fail("nbytes does not match dtype and shape", t->name);
    total += t->nbytes;
    if (!t->nbytes) continue;
    const char *s = t->data, *e = s + t->nbytes;
    if (end && s < end) fail("tensors overlap or are out of order", t->name);
    if (!end || e > end) end = e;
    if (!lo || s < lo) lo = s;
    if (!hi || e > hi) hi = e;
    check_loads(f, t);
  }
  if (total > file_len || (size_t)(hi - lo) > file_len) fail("tensors span past the file", "");
}

/* Opens one mutated file; returns whether it was accepted. */
static bool fuzz_one(const buf *b, const char *path) {
  buf_write(b, path);
  sb_error_clear();
  sb_safetensors *f = sb_safetensors_open(path);
  if (!f) {
    check_rejected(path);
    return false;
  }
  check_bounds(f, b, path);
  check_accepted(f, b->len);
  sb_safetensors_close(f);
  return true;
}

/* ---- sharded indexes ---- */

static void fuzz_index(const buf *seed, const char *dir) {
  buf b = {0};
  buf_set(&b, seed);
  int rounds = 1 + (int)rnd_below(3);
  for (int i = 0; i < rounds && b.len; i++) {
    static const char *const k_tok[] = {"\"", "{", "}", ",", "\"../x\"", "1", "null", "[]",
                                        "\"c\":\"s1.safetensors\",", "\"b\":\"s1.safetensors\","};
    size_t at = rnd_below(b.len);
    if (rnd_below(2)) {
      b.p[at] = rnd_below(2) ? (unsigned char)rnd() : (unsigned char)"\"{}:,"[rnd_below(5)];
    } else {
      const char *t = k_tok[rnd_below(sizeof k_tok / sizeof *k_tok)];
      buf_splice(&b, at, rnd_below(3), t, strlen(t));
    }
  }
  char path[512];
  snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
  buf_write(&b, path);
  free(b.p);
  sb_error_clear();
  sb_st_set *s = sb_st_set_open(dir);
  if (!s && !strstr(sb_error_message(), dir))
    fail("an index message lacks the path", sb_error_message());
  for (size_t i = 0; s && i < sb_st_set_count(s); i++)
    if (sb_st_set_find(s, sb_st_set_at(s, i)->name) != sb_st_set_at(s, i))
      fail("set at/find disagree", sb_st_set_at(s, i)->name);
  sb_st_set_close(s);
}

/* ---- seeds ---- */

static void add_seed_file(buf *seeds, int *n, const char *path) {
  seeds[*n] = (buf){0};
  if (buf_read(&seeds[*n], path)) (*n)++;
  else fprintf(stderr, "fuzz: cannot read seed %s\n", path);
}

static void write_seed(const char *path, int kind) {
  static const float f[12] = {1, -2, 3.5f, 0, 1e-40f, -0.0f, 7, 8, 9, 10, 11, 12};
  static const uint8_t u[5] = {1, 2, 3, 4, 255};
  static const int64_t q[4] = {-1, 2, 1LL << 40, 7};
  static const int32_t w[3] = {-5, 0, 5};
  static const uint16_t h[7] = {0x3c00, 0xc000, 0x7c00, 0x0001, 0x8000, 0x7e00, 0x3555};
  int64_t s34[2] = {3, 4}, s5[1] = {5}, s23[2] = {2, 3}, s7[1] = {7}, s3[1] = {3},
          s22[2] = {2, 2}, s04[2] = {0, 4}, s1[1] = {1}, s2[1] = {2};
  sb_st_writer *wr = sb_st_writer_new();
  if (kind == 0) {
    sb_st_writer_add(wr, "f32", SB_DTYPE_F32, 2, s34, f);
    sb_st_writer_add(wr, "u8", SB_DTYPE_U8, 1, s5, u);
    sb_st_writer_add(wr, "bf16", SB_DTYPE_BF16, 2, s23, h);
    sb_st_writer_add(wr, "f16", SB_DTYPE_F16, 1, s7, h);
    sb_st_writer_add(wr, "i32", SB_DTYPE_I32, 1, s3, w);
    sb_st_writer_add(wr, "i64", SB_DTYPE_I64, 2, s22, q);
    sb_st_writer_set_metadata(wr, "format", "pt");
  } else if (kind == 1) {
    sb_st_writer_add(wr, "scalar", SB_DTYPE_F32, 0, NULL, f);
    sb_st_writer_add(wr, "empty", SB_DTYPE_F32, 2, s04, NULL);
    sb_st_writer_add(wr, "one", SB_DTYPE_U8, 1, s1, u);
    sb_st_writer_add(wr, "i64s", SB_DTYPE_I64, 0, NULL, q);
  } else {
    char name[32];
    for (int i = 0; i < 10; i++) {
      snprintf(name, sizeof name, "layers.%d.weight", i);
      if (i % 2) sb_st_writer_add(wr, name, SB_DTYPE_F16, 1, s2, h);
      else sb_st_writer_add(wr, name, SB_DTYPE_F32, 1, s2, f);
    }
  }
  if (sb_st_writer_write(wr, path)) {
    fprintf(stderr, "fuzz: cannot write a seed: %s\n", sb_error_message());
    exit(2);
  }
  sb_st_writer_free(wr);
}

static int make_seeds(buf *seeds) {
  int n = 0;
  char path[512];
  for (int k = 0; k < 3; k++) {
    snprintf(path, sizeof path, "%s/seed%d.safetensors", g_dir, k);
    write_seed(path, k);
    add_seed_file(seeds, &n, path);
  }
  const char *fx = getenv("SB_FIXTURES");
  static const char *const k_fx[] = {"qwen2_tiny_tied_bf16/inputs.safetensors",
                                     "siglip2_fixedres_tiny/expected.safetensors"};
  for (size_t i = 0; fx && fx[0] && i < sizeof k_fx / sizeof *k_fx; i++) {
    snprintf(path, sizeof path, "%s/%s", fx, k_fx[i]);
    add_seed_file(seeds, &n, path);
  }
  return n;
}

static void make_shards(char *dir, size_t size, buf *index) {
  snprintf(dir, size, "%s/sharded", g_dir);
  mkdir(dir, 0755);
  char path[512];
  snprintf(path, sizeof path, "%s/s1.safetensors", dir);
  write_seed(path, 1);
  snprintf(path, sizeof path, "%s/s2.safetensors", dir);
  write_seed(path, 2);
  const char *text = "{\"metadata\":{\"total_size\":1},\"weight_map\":{"
                     "\"scalar\":\"s1.safetensors\",\"empty\":\"s1.safetensors\","
                     "\"layers.3.weight\":\"s2.safetensors\"}}";
  *index = (buf){0};
  buf_splice(index, 0, 0, text, strlen(text));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  return remove(path);
}

int main(int argc, char **argv) {
  long iterations = argc > 1 ? atol(argv[1]) : 4000;
  if (argc > 2) g_rng = strtoull(argv[2], NULL, 0) * 0x9e3779b97f4a7c15ULL + 0x5eedf00dULL;
  if (!g_rng) g_rng = 1;
  g_verbose = getenv("SB_FUZZ_VERBOSE") != NULL;
  snprintf(g_dir, sizeof g_dir, "%s/sb_fuzz_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(g_dir)) {
    perror("mkdtemp");
    return 2;
  }
  buf seeds[8], work = {0}, index;
  int n_seeds = make_seeds(seeds);
  char shard_dir[300], path[512];
  make_shards(shard_dir, sizeof shard_dir, &index);
  snprintf(path, sizeof path, "%s/fuzz.safetensors", g_dir);
  for (int i = 0; i < n_seeds; i++)
    if (!fuzz_one(&seeds[i], path)) fail("a seed file is rejected", sb_error_message());
  clock_t t0 = clock();
  long opened = 0, rejected = 0;
  for (long it = 0; it < iterations; it++) {
    buf_set(&work, &seeds[rnd_below((size_t)n_seeds)]);
    mutate(&work);
    if (fuzz_one(&work, path)) opened++;
    else rejected++;
    if (it % 8 == 0) fuzz_index(&index, shard_dir);
  }
  double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
  printf("fuzz: %ld mutated files from %d seeds: %ld opened (%ld bounds-checked in the "
         "mapping), %ld rejected; %ld indexes; %.1f s CPU; %d failures\n", iterations, n_seeds,
         opened, g_bounds_checked, rejected, (iterations + 7) / 8, secs, g_failures);
  for (int i = 0; i < n_seeds; i++) free(seeds[i].p);
  free(work.p), free(index.p);
  nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return g_failures ? 1 : 0;
}
