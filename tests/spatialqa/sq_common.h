/* sq_common.h — what the spatial generator's tests share: a temporary
 * folder, running a datagen command with its stdout and stderr captured,
 * reading a JSONL output record by record, small file writers (16-bit PNGs,
 * .npy arrays, JSON text), depth clustering into instance masks, and the
 * checks every generated record must pass (LLaVA shape, turn order, meta
 * answers agreeing with the text). Header-only: each test includes it once. */
#ifndef SB_TEST_SQ_COMMON_H
#define SB_TEST_SQ_COMMON_H

#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/check.h"
#include "datagen.h"
#include "spatialboost/spatialboost.h"
#include "util.h"

static char g_tmp[256];

static inline void tmp_init(const char *name) {
  snprintf(g_tmp, sizeof g_tmp, "/tmp/sb_%s_XXXXXX", name);
  if (!mkdtemp(g_tmp)) {
    perror("mkdtemp");
    exit(1);
  }
}

static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static inline void tmp_cleanup(void) { nftw(g_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* g_tmp/name in one of 16 rotating buffers. */
static inline const char *tp(const char *name) {
  static char buf[16][600];
  static int k;
  char *b = buf[k++ % 16];
  snprintf(b, 600, "%s/%s", g_tmp, name);
  return b;
}

static inline void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CHECK(f != NULL, "cannot write %s", path);
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

static inline char *read_all(const char *path) {
  size_t n;
  char *s = sb_file_read(path, &n);
  return s ? s : sb_strdup("");
}

/* ---- running datagen ---- */

typedef int (*datagen_fn)(int, char **);

typedef struct run_out {
  int rc;
  char *out, *err;
} run_out;

static inline void run_free(run_out *r) {
  free(r->out), free(r->err);
  memset(r, 0, sizeof *r);
}

/* Runs fn(argc, argv) with stdout and stderr going to files. */
static inline run_out run_datagen(datagen_fn fn, int argc, char **argv) {
  fflush(stdout), fflush(stderr);
  int so = dup(1), se = dup(2);
  int fo = open(tp("stdout.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int fe = open(tp("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(fo, 1), dup2(fe, 2);
  run_out r = {0};
  sb_error_clear();
  r.rc = fn(argc, argv);
  fflush(stdout), fflush(stderr);
  dup2(so, 1), dup2(se, 2);
  close(so), close(se), close(fo), close(fe);
  r.out = read_all(tp("stdout.txt"));
  r.err = read_all(tp("stderr.txt"));
  return r;
}

#define RUN(fn, ...)                                                  \
  ({                                                                  \
    char *argv_[] = {__VA_ARGS__};                                    \
    run_datagen((fn), (int)(sizeof argv_ / sizeof argv_[0]), argv_); \
  })

/* ---- JSONL ---- */

typedef struct jsonl {
  sb_json_doc **docs;
  char **lines;
  int n;
} jsonl;

static inline jsonl jsonl_load(const char *path) {
  jsonl j = {0};
  char *text = read_all(path);
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    j.docs = realloc(j.docs, (size_t)(j.n + 1) * sizeof *j.docs);
    j.lines = realloc(j.lines, (size_t)(j.n + 1) * sizeof *j.lines);
    j.lines[j.n] = sb_strdup(line);
    j.docs[j.n] = sb_json_parse(line, path);
    CHECK(j.docs[j.n] != NULL, "%s: line %d is not JSON: %s", path, j.n + 1, sb_error_message());
    if (j.docs[j.n]) j.n++;
    else free(j.lines[j.n]);
  }
  free(text);
  return j;
}

static inline void jsonl_free(jsonl *j) {
  for (int i = 0; i < j->n; i++) sb_json_free(j->docs[i]), free(j->lines[i]);
  free(j->docs), free(j->lines);
  memset(j, 0, sizeof *j);
}

static inline const sb_json *rec(const jsonl *j, int i) { return sb_json_root(j->docs[i]); }

static inline double jnum(const sb_json *o, const char *key) {
  double v = NAN;
  if (sb_json_get_float(o, key, NAN, &v)) sb_error_clear();
  return v;
}

static inline double jat(const sb_json *arr, size_t i) {
  double v = NAN;
  sb_json_float(sb_json_array_at(arr, i), &v);
  return v;
}

static inline const char *jstr(const sb_json *o, const char *key) {
  const sb_json *v = sb_json_get(o, key);
  const char *s = v ? sb_json_string(v) : NULL;
  return s ? s : "";
}

/* Turn t's text ("" when absent). */
static inline const char *turn_text(const sb_json *r, int t) {
  const sb_json *conv = sb_json_get(r, "conversations");
  return jstr(sb_json_array_at(conv, (size_t)t), "value");
}

static inline int count_substr(const char *s, const char *needle) {
  int n = 0;
  for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) n++;
  return n;
}

/* The object with this id in meta.objects. */
static inline const sb_json *meta_object(const sb_json *meta, int64_t id) {
  const sb_json *objs = sb_json_get(meta, "objects");
  for (size_t i = 0; i < sb_json_array_size(objs); i++) {
    int64_t v = -1;
    sb_json_get_int(sb_json_array_at(objs, i), "id", -1, &v);
    if (v == id) return sb_json_array_at(objs, i);
  }
  return NULL;
}

static inline void cube_text(const sb_json *cube, char *buf, size_t n) {
  snprintf(buf, n, "[%.2f, %.2f, %.2f, %.2f, %.2f, %.2f]", jat(cube, 0), jat(cube, 1), jat(cube, 2), jat(cube, 3),
           jat(cube, 4), jat(cube, 5));
}

/* ---- the checks every record passes ---- */

static inline int level_rank(const char *level) {
  return !strcmp(level, "pixel") ? 0 : !strcmp(level, "object") ? 1 : !strcmp(level, "scene") ? 2
                                                                                                 : !strcmp(level, "caption") ? 3 : -1;
}

/* The normalised deciding value of an object question, from the cubes. */
static inline void object_values(const sb_json *meta, const sb_json *q, double *va, double *vb) {
  int64_t a = 0, b = 0;
  sb_json_get_int(q, "a", 0, &a), sb_json_get_int(q, "b", 0, &b);
  const sb_json *ca = sb_json_get(meta_object(meta, a), "cube"), *cb = sb_json_get(meta_object(meta, b), "cube");
  const char *t = jstr(q, "type");
  int axis = (!strcmp(t, "left") || !strcmp(t, "right")) ? 0 : (!strcmp(t, "above") || !strcmp(t, "below")) ? 1 : 2;
  if (axis == 2) *va = jat(ca, 2), *vb = jat(cb, 2);
  else {
    *va = floor((jat(ca, axis) + jat(ca, axis + 3)) * 50 + 0.5 + 1e-9) / 100;
    *vb = floor((jat(cb, axis) + jat(cb, axis + 3)) * 50 + 0.5 + 1e-9) / 100;
  }
}

/* Object-level: the answer follows from the cubes in meta by the decision
 * rules, the text states both cubes and ends with the verdict. */
static inline void check_object_question(const sb_json *r, const sb_json *meta, const sb_json *q, int turn) {
  double va, vb;
  object_values(meta, q, &va, &vb);
  const char *t = jstr(q, "type"), *form = jstr(q, "form");
  bool smaller_first = !strcmp(t, "left") || !strcmp(t, "above") || !strcmp(t, "front");
  bool truth = smaller_first ? va < vb : va > vb;
  const char *ans = turn_text(r, turn + 1);
  int64_t a = 0, b = 0, which = -1;
  sb_json_get_int(q, "a", 0, &a), sb_json_get_int(q, "b", 0, &b);
  char ca[96], cb[96];
  cube_text(sb_json_get(meta_object(meta, a), "cube"), ca, sizeof ca);
  cube_text(sb_json_get(meta_object(meta, b), "cube"), cb, sizeof cb);
  CHECK(strstr(ans, ca) && strstr(ans, cb) && strstr(ans, ca) < strstr(ans, cb),
        "%s turn %d: the answer does not state %s then %s: %s", jstr(r, "id"), turn, ca, cb, ans);
  CHECK(fabs(va - vb) >= 0.02 - 1e-9, "%s turn %d: values %.2f and %.2f too close to ask", jstr(r, "id"), turn, va, vb);
  if (!strcmp(form, "yesno")) {
    const char *want = truth ? "yes" : "no";
    CHECK(!strcmp(jstr(q, "answer"), want), "%s turn %d: meta answer %s, the cubes say %s", jstr(r, "id"), turn,
          jstr(q, "answer"), want);
    size_t n = strlen(ans);
    CHECK(n > 4 && !strcmp(ans + n - (truth ? 4 : 3), truth ? "Yes." : "No."), "%s turn %d: verdict: %s",
          jstr(r, "id"), turn, ans);
  } else {
    sb_json_get_int(q, "answer", -1, &which);
    CHECK(which == (truth ? a : b), "%s turn %d: which-answer %lld, the cubes say %lld", jstr(r, "id"), turn,
          (long long)which, (long long)(truth ? a : b));
  }
}

static inline void check_distance_question(const sb_json *r, const sb_json *q, int turn) {
  double d = jnum(q, "distance_m");
  char want[64];
  long cm = lround(d * 100);
  if (cm < 100) snprintf(want, sizeof want, "%ld centimeter%s", cm < 1 ? 1 : cm, cm <= 1 ? "" : "s");
  else {
    char num[32];
    snprintf(num, sizeof num, "%.2f", floor(d * 100 + 0.5 + 1e-9) / 100);
    size_t n = strlen(num);
    while (num[n - 1] == '0') num[--n] = 0;
    if (num[n - 1] == '.') num[--n] = 0;
    snprintf(want, sizeof want, "%s meter%s", num, strcmp(num, "1") ? "s" : "");
  }
  CHECK(isfinite(d) && d >= 0, "%s turn %d: distance %g", jstr(r, "id"), turn, d);
  CHECK(!strcmp(jstr(q, "spoken"), want), "%s turn %d: spoken '%s', expected '%s'", jstr(r, "id"), turn,
        jstr(q, "spoken"), want);
  CHECK(strstr(turn_text(r, turn + 1), want) != NULL, "%s turn %d: answer lacks '%s': %s", jstr(r, "id"), turn, want,
        turn_text(r, turn + 1));
}

static inline void check_pixel_question(const sb_json *r, const sb_json *q, int turn) {
  const char *t = jstr(q, "type");
  const char *ans = turn_text(r, turn + 1);
  if (!strcmp(t, "depth")) {
    char d[32];
    snprintf(d, sizeof d, "%.2f meters", jnum(q, "answer_m"));
    CHECK(fabs(jnum(q, "answer_m") - jnum(q, "depth_m")) <= 0.005 + 1e-4, "%s turn %d: answer %g for depth %g",
          jstr(r, "id"), turn, jnum(q, "answer_m"), jnum(q, "depth_m"));
    CHECK(strstr(ans, d) != NULL, "%s turn %d: answer lacks %s: %s", jstr(r, "id"), turn, d, ans);
    return;
  }
  const sb_json *ds = sb_json_get(q, "depths_m");
  double d1 = jat(ds, 0), d2 = jat(ds, 1);
  int64_t which = 0;
  sb_json_get_int(q, "answer", 0, &which);
  bool closer = !strcmp(t, "closer");
  int64_t want = closer ? (d1 < d2 ? 1 : 2) : (d1 > d2 ? 1 : 2);
  CHECK(which == want, "%s turn %d: %s answer %lld for depths %g, %g", jstr(r, "id"), turn, t, (long long)which, d1, d2);
  char w[16];
  snprintf(w, sizeof w, "Point %lld", (long long)which);
  CHECK(strstr(ans, w) != NULL, "%s turn %d: answer lacks %s: %s", jstr(r, "id"), turn, w, ans);
}

/* The LLaVA shape, the level order, each question's turn and its answer. */
static inline void check_record(const sb_json *r, int n_views) {
  const sb_json *conv = sb_json_get(r, "conversations"), *meta = sb_json_get(r, "meta");
  size_t nt = sb_json_array_size(conv);
  CHECK(nt >= 2 && nt % 2 == 0, "%s: %zu turns", jstr(r, "id"), nt);
  for (size_t t = 0; t < nt; t++)
    CHECK(!strcmp(jstr(sb_json_array_at(conv, t), "from"), t % 2 ? "gpt" : "human"), "%s: turn %zu role %s",
          jstr(r, "id"), t, jstr(sb_json_array_at(conv, t), "from"));
  const sb_json *img = sb_json_get(r, "image");
  int n_img = sb_json_typeof(img) == SB_JSON_STRING ? 1 : (int)sb_json_array_size(img);
  CHECK(n_img == n_views, "%s: %d images for %d views", jstr(r, "id"), n_img, n_views);
  int markers = 0;
  for (size_t t = 0; t < nt; t++) markers += count_substr(turn_text(r, (int)t), "<image>");
  CHECK(markers == n_views && count_substr(turn_text(r, 0), "<image>") == n_views, "%s: %d <image> markers",
        jstr(r, "id"), markers);
  const sb_json *qs = sb_json_get(meta, "questions");
  CHECK((size_t)sb_json_array_size(qs) * 2 == nt, "%s: %zu questions for %zu turns", jstr(r, "id"),
        sb_json_array_size(qs), nt);
  int last_rank = 0, last_turn = -2;
  for (size_t i = 0; i < sb_json_array_size(qs); i++) {
    const sb_json *q = sb_json_array_at(qs, i);
    int64_t turn = -1;
    sb_json_get_int(q, "turn", -1, &turn);
    int rank = level_rank(jstr(q, "level"));
    CHECK(rank >= last_rank, "%s: %s question after a later level (order pixel, object, scene, caption)",
          jstr(r, "id"), jstr(q, "level"));
    CHECK(turn == last_turn + 2, "%s: question %zu at turn %lld after %d", jstr(r, "id"), i, (long long)turn, last_turn);
    last_rank = rank, last_turn = (int)turn;
    if (rank == 0) check_pixel_question(r, q, (int)turn);
    else if (rank == 1) check_object_question(r, meta, q, (int)turn);
    else if (rank == 2) check_distance_question(r, q, (int)turn);
  }
  CHECK(last_rank == 3, "%s: the conversation does not end with the caption", jstr(r, "id"));
}

/* ---- inputs ---- */

static inline void write_png16(const char *path, const uint16_t *v, int w, int h) {
  sb_image16 img = {w, h, (uint16_t *)v};
  CHECK(sb_image16_save_png(&img, path) == SB_OK, "%s: %s", path, sb_error_message());
}

static inline void write_rgb(const char *path, const uint8_t *rgb, int w, int h) {
  sb_image img = {w, h, 3, (uint8_t *)rgb};
  CHECK(sb_image_save_png(&img, path) == SB_OK, "%s: %s", path, sb_error_message());
}

/* A little-endian float32 .npy of shape (h, w). */
static inline void write_npy_f32(const char *path, const float *v, int w, int h) {
  char hdr[128];
  int n = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", h, w);
  int total = 10 + n + 1;
  int pad = (64 - total % 64) % 64;
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL, "cannot write %s", path);
  if (!f) return;
  uint16_t hl = (uint16_t)(n + pad + 1);
  fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  fwrite(&hl, 2, 1, f);
  fwrite(hdr, 1, (size_t)n, f);
  for (int i = 0; i < pad; i++) fputc(' ', f);
  fputc('\n', f);
  fwrite(v, sizeof *v, (size_t)w * (size_t)h, f);
  fclose(f);
}

/* Instance ids by depth clustering: 4-connected regions whose neighbouring
 * depths differ by less than rel (relative), the `keep` largest regions of
 * at least min_px pixels numbered 1.. by size; the rest 0. */
static inline int depth_clusters(const float *z, int w, int h, double rel, int min_px, int keep, uint16_t *ids) {
  size_t n = (size_t)w * (size_t)h;
  int *lab = malloc(n * sizeof *lab), *stack = malloc(n * sizeof *stack);
  size_t *size = calloc(n + 1, sizeof *size);
  for (size_t i = 0; i < n; i++) lab[i] = -1;
  int nl = 0;
  for (size_t s = 0; s < n; s++) {
    if (lab[s] >= 0 || !(z[s] > 0) || !isfinite(z[s])) continue;
    int top = 0;
    stack[top++] = (int)s, lab[s] = nl;
    while (top) {
      int p = stack[--top], x = p % w, y = p / w;
      size[nl]++;
      int nb[4][2] = {{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}};
      for (int k = 0; k < 4; k++) {
        int qx = nb[k][0], qy = nb[k][1];
        if (qx < 0 || qy < 0 || qx >= w || qy >= h) continue;
        int q = qy * w + qx;
        if (lab[q] >= 0 || !(z[q] > 0) || !isfinite(z[q]) || fabsf(z[q] - z[p]) > rel * z[p]) continue;
        lab[q] = nl, stack[top++] = q;
      }
    }
    nl++;
  }
  int *rank = malloc((size_t)(nl ? nl : 1) * sizeof *rank), got = 0;
  for (int l = 0; l < nl; l++) rank[l] = 0;
  for (int k = 0; k < keep; k++) { /* the k-th largest region */
    int best = -1;
    for (int l = 0; l < nl; l++)
      if (!rank[l] && size[l] >= (size_t)min_px && (best < 0 || size[l] > size[best])) best = l;
    if (best < 0) break;
    rank[best] = ++got;
  }
  for (size_t i = 0; i < n; i++) ids[i] = lab[i] >= 0 ? (uint16_t)rank[lab[i]] : 0;
  free(lab), free(stack), free(size), free(rank);
  return got;
}

#endif
