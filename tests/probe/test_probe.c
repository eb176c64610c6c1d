/* test_probe.c — `spatialboost probe` (core/probe), with encoder_dinov3
 * compiled in statically:
 *   1. the ridge solver and fit against closed forms (2-D), exact recovery;
 *   2. the logistic trainer on a separable toy set (100 %), constant heads;
 *   3. the metrics: RMSE, mIoU from a hand-computed confusion matrix, top-1,
 *      group weights and the bootstrap;
 *   4. per-patch targets (box average, majority, the half rule, uneven grids);
 *   5. every layout on tiny folders written here, predefined splits, the
 *      seeded split keeping scenes whole;
 *   6. probes of the dinov3_tiny fixture on rendered scenes (finite numbers,
 *      paired deltas, JSON), determinism, nyu and imagefolder runs;
 *   7. each error case and its message.
 * Everything lives in a temporary folder removed at the end. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/check.h"
#include "datagen.h"
#include "probe.h"
#include "probe_data.h"
#include "probe_heads.h"
#include "probe_metrics.h"
#include "spatialboost/spatialboost.h"

static char g_tmp[] = "/tmp/sb_probe_test_XXXXXX";
static char g_tiny[1024]; /* the dinov3_tiny fixture */
static char g_scenes[1200];

/* ---- files ---- */

static const char *path_of(char *buf, size_t size, const char *rel) {
  snprintf(buf, size, "%s/%s", g_tmp, rel);
  return buf;
}

/* Creates every folder of <tmp>/rel. */
static void make_dirs(const char *rel) {
  char p[1200];
  path_of(p, sizeof p, rel);
  for (char *s = p + strlen(g_tmp) + 1; *s; s++)
    if (*s == '/') *s = 0, mkdir(p, 0755), *s = '/';
  mkdir(p, 0755);
}

/* An RGB PNG at <tmp>/rel: a gradient tinted by `tint` (0 red .. 2 blue). */
static void write_rgb(const char *rel, int w, int h, int tint) {
  char p[1200];
  sb_image img = {w, h, 3, malloc((size_t)w * h * 3)};
  for (int i = 0; i < w * h; i++)
    for (int c = 0; c < 3; c++) img.data[i * 3 + c] = (uint8_t)((c == tint ? 180 : 30) + (i * 7 + c * 13) % 60);
  CHECK(sb_image_save_png(&img, path_of(p, sizeof p, rel)) == SB_OK, "writing %s: %s", rel, sb_error_message());
  free(img.data);
}

/* A 16-bit PNG at <tmp>/rel with value(i) at pixel i. */
static void write_u16(const char *rel, int w, int h, uint16_t (*value)(int i, int w)) {
  char p[1200];
  sb_image16 img = {w, h, malloc((size_t)w * h * 2)};
  for (int i = 0; i < w * h; i++) img.data[i] = value(i, w);
  CHECK(sb_image16_save_png(&img, path_of(p, sizeof p, rel)) == SB_OK, "writing %s: %s", rel, sb_error_message());
  free(img.data);
}

static void write_bytes(const char *rel, const char *text) {
  char p[1200];
  FILE *f = fopen(path_of(p, sizeof p, rel), "wb");
  CHECK(f != NULL, "cannot write %s", p);
  if (f) fputs(text, f), fclose(f);
}

static uint16_t depth_mm(int i, int w) { return (uint16_t)(i == 0 ? 0 : 1000 + 10 * (i / w) + (i % w)); }
static uint16_t ade_label(int i, int w) { return (uint16_t)((i % w) < 2 ? 0 : 1 + ((i / w) >= 4)); }

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

/* ---- running the command ---- */

static char g_table[16384];

/* Runs `probe` with the NULL-terminated arguments; the table into g_table,
 * the message into the error state. */
static int run_probe(const char *const *args) {
  char *argv[64];
  int argc = 0;
  argv[argc++] = "probe";
  for (; args[argc - 1] && argc < 63; argc++) argv[argc] = (char *)args[argc - 1];
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  int rc = sb_probe_main_to(argc, argv, f);
  fclose(f);
  snprintf(g_table, sizeof g_table, "%s", buf ? buf : "");
  free(buf);
  return rc;
}

/* ---- 1. ridge ---- */

static void test_ridge_solve(void) {
  double a[4] = {4, 1, 1, 3}, b[2] = {1, 2}, x[2];
  CHECK(sb_probe_ridge_solve(a, b, 2, 0.5, x) == SB_OK, "%s", sb_error_message());
  /* (a + 0.5 I) = [[4.5, 1], [1, 3.5]], det 14.75: Cramer's rule */
  CHECK(fabs(x[0] - 1.5 / 14.75) < 1e-14 && fabs(x[1] - 8.0 / 14.75) < 1e-14, "x = %g %g", x[0], x[1]);
  double bad[4] = {1, 2, 2, 1};
  CHECK(sb_probe_ridge_solve(bad, b, 2, 0, x) != SB_OK, "an indefinite matrix is refused");
  CHECK_ERROR("not positive definite");
}

/* The ridge fit of y on two features against the closed form written out:
 * standardise, G = ZᵀZ/n, c = Zᵀ(y−ȳ)/n, (G + λI) w = c by Cramer, fold. */
static void test_ridge_fit(void) {
  enum { N = 7 };
  float x[N * 2] = {1, 2, 2, 1, 3, 5, 4, 4, 5, 2, 6, 7, 7, 3};
  double y[N] = {1.5, 0.2, 3.1, 2.2, 4.8, 2.9, 7.3}, lambda = 0.3;
  double mu[2] = {0, 0}, sd[2] = {0, 0}, ym = 0, g[3] = {0, 0, 0}, c[2] = {0, 0};
  for (int k = 0; k < N; k++) mu[0] += x[2 * k] / (double)N, mu[1] += x[2 * k + 1] / (double)N, ym += y[k] / N;
  for (int k = 0; k < N; k++)
    for (int j = 0; j < 2; j++) sd[j] += (x[2 * k + j] - mu[j]) * (x[2 * k + j] - mu[j]) / N;
  sd[0] = sqrt(sd[0]), sd[1] = sqrt(sd[1]);
  for (int k = 0; k < N; k++) {
    double z0 = (x[2 * k] - mu[0]) / sd[0], z1 = (x[2 * k + 1] - mu[1]) / sd[1];
    g[0] += z0 * z0 / N, g[1] += z0 * z1 / N, g[2] += z1 * z1 / N;
    c[0] += z0 * (y[k] - ym) / N, c[1] += z1 * (y[k] - ym) / N;
  }
  double a00 = g[0] + lambda, a11 = g[2] + lambda, det = a00 * a11 - g[1] * g[1];
  double w0 = (c[0] * a11 - g[1] * c[1]) / det / sd[0], w1 = (a00 * c[1] - g[1] * c[0]) / det / sd[1];
  double b = ym - w0 * mu[0] - w1 * mu[1];
  sb_probe_rows rows = {x, 2, NULL, N};
  sb_probe_linear h;
  CHECK(sb_probe_ridge_fit(&rows, y, lambda, &h) == SB_OK, "%s", sb_error_message());
  CHECK(fabs(h.w[0] - w0) < 1e-12 && fabs(h.w[1] - w1) < 1e-12 && fabs(h.b[0] - b) < 1e-12,
        "ridge w %.15g %.15g b %.15g, closed form %.15g %.15g %.15g", h.w[0], h.w[1], h.b[0], w0, w1, b);
  sb_probe_linear_free(&h);
  /* exact data: y = 2·x0 − 3·x1 + 1 is recovered with a tiny λ */
  double ye[N];
  for (int k = 0; k < N; k++) ye[k] = 2.0 * x[2 * k] - 3.0 * x[2 * k + 1] + 1.0;
  double lam[2] = {1e-12, 0.3};
  sb_probe_linear path[2];
  CHECK(sb_probe_ridge_fit_path(&rows, ye, lam, 2, path) == SB_OK, "%s", sb_error_message());
  double worst = 0;
  for (int k = 0; k < N; k++) {
    double p;
    sb_probe_linear_apply(&path[0], &x[2 * k], &p);
    worst = fmax(worst, fabs(p - ye[k]));
  }
  CHECK(worst < 1e-8, "exact linear data: worst error %g", worst);
  CHECK(fabs(path[0].w[0] - 2) < 1e-8 && fabs(path[0].w[1] + 3) < 1e-8 && fabs(path[0].b[0] - 1) < 1e-8, "w %g %g b %g",
        path[0].w[0], path[0].w[1], path[0].b[0]);
  sb_probe_linear_free(&path[0]), sb_probe_linear_free(&path[1]);
  /* no features: the intercept alone, the training mean */
  sb_probe_rows none = {x, 0, NULL, N};
  CHECK(sb_probe_ridge_fit(&none, y, 1e-3, &h) == SB_OK && fabs(h.b[0] - ym) < 1e-12, "constant head %g vs mean %g", h.b[0], ym);
  sb_probe_linear_free(&h);
}

/* ---- 2. logistic regression ---- */

/* Three separated clusters in 2-D (corners of a triangle), n points. */
static void toy_set(int n, uint32_t seed, float *x, int32_t *y) {
  static const float centre[3][2] = {{0, 0}, {6, 0}, {0, 6}};
  for (int k = 0; k < n; k++) {
    y[k] = k % 3;
    for (int j = 0; j < 2; j++) {
      seed = seed * 1664525u + 1013904223u;
      x[2 * k + j] = centre[y[k]][j] + 2.0f * ((float)(seed >> 8) / 16777216.0f - 0.5f);
    }
  }
}

static int argmax(const double *v, int n) {
  int b = 0;
  for (int j = 1; j < n; j++)
    if (v[j] > v[b]) b = j;
  return b;
}

static void test_logreg(void) {
  enum { N = 90 };
  float x[N * 2], xt[N * 2];
  int32_t y[N], yt[N];
  toy_set(N, 1, x, y), toy_set(N, 2, xt, yt);
  sb_probe_rows rows = {x, 2, NULL, N};
  sb_probe_logreg_opts o = {.l2 = 1e-4};
  sb_probe_linear h;
  CHECK(sb_probe_logreg_fit(&rows, y, 3, &o, &h) == SB_OK, "%s", sb_error_message());
  int right = 0, right_t = 0;
  for (int k = 0; k < N; k++) {
    double l[3];
    sb_probe_linear_apply(&h, &x[2 * k], l);
    right += argmax(l, 3) == y[k];
    sb_probe_linear_apply(&h, &xt[2 * k], l);
    right_t += argmax(l, 3) == yt[k];
  }
  CHECK(right == N && right_t == N, "separable toy set: %d/%d train, %d/%d fresh points", right, N, right_t, N);
  sb_probe_linear_free(&h);
  /* bad labels are refused */
  y[5] = 3;
  CHECK(sb_probe_logreg_fit(&rows, y, 3, &o, &h) != SB_OK, "label 3 of 3 classes");
  CHECK_ERROR("out of 0..2");
  /* no features: the biases alone pick the most frequent class */
  int32_t yc[6] = {2, 2, 1, 2, 0, 2};
  sb_probe_rows none = {x, 0, NULL, 6};
  CHECK(sb_probe_logreg_fit(&none, yc, 3, &o, &h) == SB_OK, "%s", sb_error_message());
  CHECK(argmax(h.b, 3) == 2, "constant classifier picks class %d", argmax(h.b, 3));
  sb_probe_linear_free(&h);
}

/* ---- 3. metrics ---- */

static void test_metrics(void) {
  double se[4] = {1, 4, 9, 0};
  int32_t grp[4] = {0, 0, 1, 1};
  sb_probe_items r = {.kind = SB_PROBE_RMSE, .n = 4, .sq_err = se};
  CHECK(fabs(sb_probe_metric(&r, NULL, NULL) - sqrt(14.0 / 4)) < 1e-15, "rmse");
  r.group = grp;
  double w[2] = {2, 0};
  CHECK(fabs(sb_probe_metric(&r, w, NULL) - sqrt(5.0 / 2)) < 1e-15, "group weights: only group 0, twice");
  /* truth → pred confusion (rows truth, columns pred):
   *        p0 p1 p2 p3
   *   t0 [  3  1  0  0 ]   IoU0 = 3 / (4 + 4 − 3) = 0.6
   *   t1 [  0  2  1  0 ]   IoU1 = 2 / (3 + 3 − 2) = 0.5
   *   t2 [  1  0  0  1 ]   IoU2 = 0 / (2 + 1 − 0) = 0
   *   t3 [  0  0  0  0 ]   absent from the truth: not averaged
   * mIoU = (0.6 + 0.5 + 0) / 3; top-1 = 5 / 9. */
  int32_t truth[9] = {0, 0, 0, 0, 1, 1, 1, 2, 2}, pred[9] = {0, 0, 0, 1, 1, 1, 2, 0, 3};
  sb_probe_items m = {.kind = SB_PROBE_MIOU, .n = 9, .truth = truth, .pred = pred, .n_classes = 4};
  double iou[4];
  double miou = sb_probe_metric(&m, NULL, iou);
  CHECK(fabs(miou - 1.1 / 3) < 1e-15, "mIoU %g", miou);
  CHECK(fabs(iou[0] - 0.6) < 1e-15 && fabs(iou[1] - 0.5) < 1e-15 && iou[2] == 0 && isnan(iou[3]), "IoU %g %g %g %g", iou[0],
        iou[1], iou[2], iou[3]);
  m.kind = SB_PROBE_TOP1;
  CHECK(fabs(sb_probe_metric(&m, NULL, NULL) - 5.0 / 9) < 1e-15, "top-1");
  /* bootstrap draws: n_groups per resample, reproducible, seed-dependent */
  double *b1 = sb_probe_bootstrap_weights(5, 50, 7), *b2 = sb_probe_bootstrap_weights(5, 50, 7),
         *b3 = sb_probe_bootstrap_weights(5, 50, 8);
  bool sums = true;
  for (int s = 0; s < 50; s++) {
    double t = 0;
    for (int g = 0; g < 5; g++) t += b1[s * 5 + g];
    sums = sums && t == 5;
  }
  CHECK(sums, "each resample draws 5 groups");
  CHECK(memcmp(b1, b2, 250 * sizeof *b1) == 0 && memcmp(b1, b3, 250 * sizeof *b1) != 0, "draws follow the seed");
  /* the paired difference of identical items has zero spread */
  double s1, d1;
  int32_t g5[9] = {0, 1, 2, 3, 4, 0, 1, 2, 3};
  m.group = g5;
  sb_probe_bootstrap_se(&m, &m, b1, 50, 5, &s1, &d1);
  CHECK(s1 > 0 && d1 == 0, "bootstrap se %g, paired delta se %g", s1, d1);
  free(b1), free(b2), free(b3);
}

/* ---- 4. patch targets ---- */

static void test_patch_targets(void) {
  /* 4×4 depth on a 2×2 grid: each patch is a 2×2 block */
  float d[16] = {1, 2, 0, 0,  /* top-left: 1, 2, 3, 4 → 2.5; top-right: 3 of 4 missing → none */
                 3, 4, 0, 5,
                 2, NAN, 7, 7, /* bottom-left: 2, 4 valid (half) → 3; bottom-right 7s */
                 0, 4, 7, 7};
  float out[4];
  CHECK(sb_probe_patch_depth(d, 4, 4, 2, 2, out) == SB_OK, "%s", sb_error_message());
  CHECK(out[0] == 2.5f && isnan(out[1]) && out[2] == 3.0f && out[3] == 7.0f, "depth targets %g %g %g %g", out[0], out[1],
        out[2], out[3]);
  /* 5 rows onto 2 cells by pixel centres: rows 0-1 → cell 0, rows 2-4 → cell 1 */
  float col[5] = {1, 1, 2, 2, 2}, o2[2];
  CHECK(sb_probe_patch_depth(col, 1, 5, 2, 1, o2) == SB_OK && o2[0] == 1 && o2[1] == 2, "uneven grid %g %g", o2[0], o2[1]);
  int32_t l[16] = {1, 1, -1, -1,
                   1, 2, -1, 3,
                   4, 5, 6, 6,
                   5, 4, 6, 7};
  int32_t lo[4];
  CHECK(sb_probe_patch_labels(l, 4, 4, 2, 2, lo) == SB_OK, "%s", sb_error_message());
  CHECK(lo[0] == 1 && lo[1] == -1 && lo[2] == 4 && lo[3] == 6, "label targets %d %d %d %d (tie → the smaller id)", lo[0],
        lo[1], lo[2], lo[3]);
  CHECK(sb_probe_patch_labels(l, 4, 4, 0, 2, lo) != SB_OK, "an empty grid is refused");
}

/* ---- 5. layouts ---- */

static void write_nyu(const char *dir, int n) {
  char rel[256];
  snprintf(rel, sizeof rel, "%s/rgb", dir), make_dirs(rel);
  snprintf(rel, sizeof rel, "%s/depth", dir), make_dirs(rel);
  for (int i = 0; i < n; i++) {
    snprintf(rel, sizeof rel, "%s/rgb/%04d.png", dir, i), write_rgb(rel, 32, 32, i % 3);
    snprintf(rel, sizeof rel, "%s/depth/%04d.png", dir, i), write_u16(rel, 32, 32, depth_mm);
  }
}

static void test_layout_nyu(void) {
  write_nyu("nyu", 4);
  char p[1200];
  sb_probe_dataset ds;
  CHECK(sb_probe_dataset_open(path_of(p, sizeof p, "nyu"), SB_PROBE_LAYOUT_AUTO, 0.001, &ds) == SB_OK, "%s", sb_error_message());
  CHECK(ds.layout == SB_PROBE_LAYOUT_NYU && ds.n_samples == 4 && ds.n_groups == 4, "nyu: layout %d, %d samples", ds.layout,
        ds.n_samples);
  CHECK(ds.n_samples == 4 && strcmp(ds.samples[1].name, "0001.png") == 0, "names sorted");
  sb_probe_pixels px;
  CHECK(sb_probe_pixels_load(&ds, 1, SB_PROBE_ALL_TASKS, &px) == SB_OK, "%s", sb_error_message());
  CHECK(px.width == 32 && px.depth && !px.labels && px.depth[0] == 0 && fabsf(px.depth[33] - 1.011f) < 1e-6f,
        "nyu depth in metres: %g %g", px.depth ? px.depth[0] : -1, px.depth ? px.depth[33] : -1);
  sb_probe_pixels_free(&px);
  CHECK(sb_probe_split(&ds, 0.25, 1) == SB_OK, "%s", sb_error_message());
  int test = 0;
  for (int i = 0; i < ds.n_samples; i++) test += ds.samples[i].split == SB_PROBE_TEST;
  CHECK(test == 1, "holdout 0.25 of 4 images: %d held out", test);
  sb_probe_dataset_free(&ds);
}

static void test_layout_ade(void) {
  make_dirs("ade/images"), make_dirs("ade/annotations");
  write_rgb("ade/images/a.png", 8, 8, 0), write_rgb("ade/images/b.png", 8, 8, 1);
  write_u16("ade/annotations/a.png", 8, 8, ade_label), write_u16("ade/annotations/b.png", 8, 8, ade_label);
  char p[1200];
  sb_probe_dataset ds;
  CHECK(sb_probe_dataset_open(path_of(p, sizeof p, "ade"), SB_PROBE_LAYOUT_AUTO, 0, &ds) == SB_OK, "%s", sb_error_message());
  CHECK(ds.layout == SB_PROBE_LAYOUT_ADE && ds.n_samples == 2 && !ds.predefined_split, "ade layout");
  sb_probe_pixels px;
  CHECK(sb_probe_pixels_load(&ds, 0, SB_PROBE_ALL_TASKS, &px) == SB_OK, "%s", sb_error_message());
  CHECK(px.labels && !px.depth && px.labels[0] == -1 && px.labels[2] == 1 && px.labels[8 * 5 + 3] == 2, "ade labels (0 = ignore)");
  sb_probe_pixels_free(&px);
  sb_probe_dataset_free(&ds);
  /* ADEChallengeData2016's training/validation folders give the split */
  make_dirs("ade2/images/training"), make_dirs("ade2/images/validation");
  make_dirs("ade2/annotations/training"), make_dirs("ade2/annotations/validation");
  write_rgb("ade2/images/training/t.png", 8, 8, 0), write_u16("ade2/annotations/training/t.png", 8, 8, ade_label);
  write_rgb("ade2/images/validation/v.png", 8, 8, 0), write_u16("ade2/annotations/validation/v.png", 8, 8, ade_label);
  CHECK(sb_probe_dataset_open(path_of(p, sizeof p, "ade2"), SB_PROBE_LAYOUT_AUTO, 0, &ds) == SB_OK, "%s", sb_error_message());
  CHECK(ds.predefined_split && ds.n_samples == 2 && ds.samples[0].split == SB_PROBE_TRAIN &&
            ds.samples[1].split == SB_PROBE_TEST && strcmp(ds.samples[1].name, "validation/v.png") == 0,
        "ade training/validation split");
  sb_probe_dataset_free(&ds);
}

static void test_layout_imagefolder(void) {
  const char *files[] = {"imgf/cat/1.png", "imgf/cat/2.png", "imgf/dog/1.png", "imgf/dog/2.png",
                         "split/train/cat/a.png", "split/train/dog/b.png", "split/val/cat/c.png", "split/val/dog/d.png"};
  make_dirs("imgf/cat"), make_dirs("imgf/dog"), make_dirs("imgf/empty");
  make_dirs("split/train/cat"), make_dirs("split/train/dog"), make_dirs("split/val/cat"), make_dirs("split/val/dog");
  for (int i = 0; i < 8; i++) write_rgb(files[i], 16, 16, strstr(files[i], "dog") ? 2 : 0);
  char p[1200];
  sb_probe_dataset ds;
  CHECK(sb_probe_dataset_open(path_of(p, sizeof p, "imgf"), SB_PROBE_LAYOUT_AUTO, 0, &ds) == SB_OK, "%s", sb_error_message());
  CHECK(ds.layout == SB_PROBE_LAYOUT_IMAGEFOLDER && ds.n_samples == 4 && ds.n_class_names == 2, "imagefolder: %d samples, %d classes",
        ds.n_samples, ds.n_class_names);
  CHECK(ds.n_samples == 4 && ds.samples[0].cls == 0 && ds.samples[3].cls == 1 && strcmp(ds.class_names[1], "dog") == 0,
        "classes by folder, sorted");
  sb_probe_dataset_free(&ds);
  CHECK(sb_probe_dataset_open(path_of(p, sizeof p, "split"), SB_PROBE_LAYOUT_AUTO, 0, &ds) == SB_OK, "%s", sb_error_message());
  CHECK(ds.predefined_split && ds.layout == SB_PROBE_LAYOUT_IMAGEFOLDER && ds.n_samples == 4, "train/ + val/ split");
  int test = 0;
  for (int i = 0; i < ds.n_samples; i++) test += ds.samples[i].split == SB_PROBE_TEST && strncmp(ds.samples[i].name, "val/", 4) == 0;
  CHECK(test == 2, "val/ is held out (%d)", test);
  CHECK(sb_probe_split(&ds, 0.5, 3) == SB_OK && ds.samples[0].split == SB_PROBE_TRAIN, "a predefined split stays");
  sb_probe_dataset_free(&ds);
}

static void render_scenes(const char *rel, int n, const char *seed) {
  char p[1200], count[16];
  snprintf(count, sizeof count, "%d", n);
  char *argv[] = {"synth", "-n", count, "-o", (char *)path_of(p, sizeof p, rel), "--views", "2", "--size", "64x64",
                  "--seed", (char *)seed, "--threads", "2"};
  FILE *saved = stdout;
  stdout = fopen("/dev/null", "w"); /* its progress line */
  int rc = sb_datagen_synth((int)(sizeof argv / sizeof *argv), argv);
  fclose(stdout);
  stdout = saved;
  CHECK(rc == SB_OK, "datagen synth: %s", sb_error_message());
}

static void test_layout_scenes(void) {
  render_scenes("scenes", 12, "5");
  path_of(g_scenes, sizeof g_scenes, "scenes");
  sb_probe_dataset ds;
  CHECK(sb_probe_dataset_open(g_scenes, SB_PROBE_LAYOUT_AUTO, 0, &ds) == SB_OK, "%s", sb_error_message());
  CHECK(ds.layout == SB_PROBE_LAYOUT_SCENES && ds.n_samples == 24 && ds.n_groups == 12 && ds.n_scenes == 12,
        "scenes: %d views of %d scenes", ds.n_samples, ds.n_groups);
  CHECK(ds.n_class_names >= 2 && strcmp(ds.class_names[0], "background") == 0, "class 0 is the background");
  static const char *const shapes[] = {"sphere", "cube", "cylinder", "cone"};
  for (int k = 1; k < ds.n_class_names && k <= 4; k++) /* the known shapes come in this order */
    for (int s = 0; s < 4; s++)
      if (strcmp(ds.class_names[k], shapes[s]) == 0)
        for (int j = 1; j < k; j++)
          for (int t = s; t < 4; t++) CHECK(strcmp(ds.class_names[j], shapes[t]) != 0, "shape order at %d", j);
  sb_probe_pixels px;
  CHECK(sb_probe_pixels_load(&ds, 0, SB_PROBE_ALL_TASKS, &px) == SB_OK, "%s", sb_error_message());
  int64_t fg = 0;
  for (int i = 0; px.labels && i < px.width * px.height; i++) fg += px.labels[i] > 0;
  CHECK(px.width == 64 && px.depth && px.labels && fg > 0 && px.cls >= 1 && px.cls < ds.n_class_names,
        "scene view: depth, %lld object pixels, class %d", (long long)fg, px.cls);
  sb_probe_pixels_free(&px);
  CHECK(sb_probe_split(&ds, 0.25, 9) == SB_OK, "%s", sb_error_message());
  int test = 0;
  bool whole = true;
  for (int i = 0; i < ds.n_samples; i++) {
    test += ds.samples[i].split == SB_PROBE_TEST;
    for (int j = 0; j < ds.n_samples; j++)
      if (ds.samples[i].group == ds.samples[j].group) whole = whole && ds.samples[i].split == ds.samples[j].split;
  }
  CHECK(test == 6 && whole, "3 of 12 scenes held out with both views: %d views", test);
  CHECK(sb_probe_subset(&ds, 7, 1) == SB_OK && ds.n_samples == 6 && ds.n_groups == 3, "subset: whole scenes, %d views",
        ds.n_samples);
  sb_probe_dataset_free(&ds);
  /* nothing recognisable */
  make_dirs("empty");
  char p[1200];
  CHECK(sb_probe_dataset_open(path_of(p, sizeof p, "empty"), SB_PROBE_LAYOUT_AUTO, 0, &ds) != SB_OK, "empty folder");
  CHECK_ERROR("cannot tell the layout");
  sb_probe_dataset_free(&ds);
}

/* ---- 6. probes of dinov3_tiny ---- */

static double json_num(const sb_json *root, const char *key) {
  double v = NAN;
  const sb_json *x = sb_json_get(root, key);
  if (x && sb_json_typeof(x) != SB_JSON_NULL) sb_json_float(x, &v);
  return v;
}

static void test_probe_scenes(void) {
  char enc[1200], twin[1200], json[1200];
  snprintf(enc, sizeof enc, "base=dinov3:%s", g_tiny);
  snprintf(twin, sizeof twin, "twin=dinov3:%s", g_tiny);
  path_of(json, sizeof json, "probe.json");
  const char *args[] = {"--data", g_scenes, "--encoder", enc, "--encoder", twin, "--baseline", "--seed", "3",
                        "--json", json, "--quiet", NULL};
  int rc = run_probe(args);
  CHECK(rc == 0, "probe: %s", sb_error_message());
  CHECK(strstr(g_table, "depth RMSE (m)") && strstr(g_table, "seg mIoU (%)") && strstr(g_table, "cls top-1 (%)") &&
            strstr(g_table, "\ntwin ") && strstr(g_table, "  vs base") && strstr(g_table, "\nconstant "),
        "table:\n%s", g_table);
  char first[16384];
  snprintf(first, sizeof first, "%s", g_table);
  sb_json_doc *doc = sb_json_load(json);
  CHECK(doc != NULL, "%s", sb_error_message());
  const sb_json *encs = doc ? sb_json_get(sb_json_root(doc), "encoders") : NULL;
  CHECK(sb_json_array_size(encs) == 3, "three rows in the JSON");
  for (size_t e = 0; e < sb_json_array_size(encs); e++) {
    const sb_json *row = sb_json_array_at(encs, e);
    double d = json_num(sb_json_get(row, "depth"), "value"), s = json_num(sb_json_get(row, "seg"), "value"),
           c = json_num(sb_json_get(row, "cls"), "value"), se = json_num(sb_json_get(row, "depth"), "se");
    CHECK(isfinite(d) && d > 0 && d < 30 && s >= 0 && s <= 1 && c >= 0 && c <= 1 && isfinite(se) && se > 0,
          "row %zu: depth %g ± %g, seg %g, cls %g", e, d, se, s, c);
  }
  const sb_json *tw = sb_json_array_at(encs, 1);
  CHECK(json_num(sb_json_get(tw, "depth"), "delta") == 0 && json_num(sb_json_get(tw, "depth"), "delta_se") == 0 &&
            json_num(sb_json_get(tw, "seg"), "delta") == 0,
        "the same encoder twice: zero differences");
  const sb_json *split = doc ? sb_json_get(sb_json_root(doc), "split") : NULL;
  CHECK(json_num(split, "test_groups") == 2 && json_num(split, "train_groups") == 10, "split of 12 scenes at 0.2");
  sb_json_free(doc);
  /* determinism: the same seed gives the same table, another seed another split */
  rc = run_probe(args);
  CHECK(rc == 0 && strcmp(first, g_table) == 0, "same seed, same table:\n%s\n---\n%s", first, g_table);
  const char *other[] = {"--data", g_scenes, "--encoder", enc, "--seed", "4", "--tasks", "depth", "--quiet", NULL};
  CHECK(run_probe(other) == 0 && strstr(g_table, "seed 4") && !strstr(g_table, "seg mIoU"), "seed 4, depth only:\n%s", g_table);
  /* --max-images keeps whole scenes; --bootstrap 0 drops the errors */
  const char *few[] = {"--data", g_scenes, "--encoder", enc, "--max-images", "10", "--bootstrap", "0", "--tasks", "depth",
                       "--quiet", NULL};
  CHECK(run_probe(few) == 0 && strstr(g_table, "4 train scenes (8 images), 1 held-out scene (2 images)") &&
            !strstr(g_table, "±"),
        "max-images 10:\n%s", g_table);
  /* a larger input: --set reaches the encoder (14×14 patches of the 64×64 views) */
  const char *big[] = {"--data", g_scenes, "--encoder", enc, "--set", "base.image_size=128", "--tasks", "seg",
                       "--json", json, "--quiet", NULL};
  CHECK(run_probe(big) == 0, "%s", sb_error_message());
  doc = sb_json_load(json);
  const sb_json *row = doc ? sb_json_array_at(sb_json_get(sb_json_root(doc), "encoders"), 0) : NULL;
  CHECK(json_num(sb_json_get(row, "seg"), "train_items") > 24 * 16, "image_size=128 gives 8×8 patches per view");
  sb_json_free(doc);
  /* base against boosted: llava_tiny's tower with and without its dual-channel weights */
  char tower[1200], boosted[2600];
  snprintf(tower, sizeof tower, "base=dinov3:%s/../llava_tiny/vision_tower", g_tiny);
  snprintf(boosted, sizeof boosted, "boosted=dinov3:%s/../llava_tiny/vision_tower:%s/../llava_tiny/dual_init.safetensors",
           g_tiny, g_tiny);
  const char *dual[] = {"--data", g_scenes, "--encoder", tower, "--encoder", boosted, "--tasks", "depth,cls",
                        "--json", json, "--quiet", NULL};
  CHECK(run_probe(dual) == 0 && strstr(g_table, "  vs base"), "base vs boosted: %s\n%s", sb_error_message(), g_table);
  doc = sb_json_load(json);
  row = doc ? sb_json_array_at(sb_json_get(sb_json_root(doc), "encoders"), 1) : NULL;
  double delta = json_num(sb_json_get(row, "depth"), "delta"), dse = json_num(sb_json_get(row, "depth"), "delta_se");
  const sb_json *dpath = sb_json_get(row, "dual");
  CHECK(isfinite(delta) && delta != 0 && isfinite(dse) && dse > 0 && sb_json_string(dpath) != NULL,
        "boosted: depth delta %g ± %g", delta, dse);
  sb_json_free(doc);
}

static void test_probe_other_layouts(void) {
  char enc[1200], p[1200];
  snprintf(enc, sizeof enc, "base=dinov3:%s", g_tiny);
  write_nyu("nyu6", 6);
  const char *nyu[] = {"--data", path_of(p, sizeof p, "nyu6"), "--encoder", enc, "--quiet", NULL};
  CHECK(run_probe(nyu) == 0 && strstr(g_table, "layout nyu") && strstr(g_table, "depth RMSE"), "nyu: %s\n%s",
        sb_error_message(), g_table);
  char q[1200];
  const char *cls[] = {"--data", path_of(q, sizeof q, "split"), "--encoder", enc, "--quiet", NULL};
  CHECK(run_probe(cls) == 0 && strstr(g_table, "cls top-1") && strstr(g_table, "from the dataset's folders"),
        "imagefolder with train/val: %s\n%s", sb_error_message(), g_table);
}

/* ---- 7. errors ---- */

static void expect_fail(const char *const *args, int code, const char *needle, const char *needle2) {
  int rc = run_probe(args);
  CHECK(rc == code, "exit %d, expected %d (%s)", rc, code, sb_error_message());
  CHECK_ERROR(needle);
  if (needle2) CHECK_ERROR(needle2);
}

static void test_errors(void) {
  char enc[1200], p[1200], q[1200];
  snprintf(enc, sizeof enc, "base=dinov3:%s", g_tiny);
  expect_fail((const char *[]){"--data", "/nonexistent/probe", "--encoder", enc, NULL}, 1, "/nonexistent/probe: no such folder", NULL);
  expect_fail((const char *[]){"--data", g_scenes, NULL}, 2, "at least one --encoder", NULL);
  expect_fail((const char *[]){"--encoder", enc, NULL}, 2, "--data DIR is required", NULL);
  expect_fail((const char *[]){"--data", g_scenes, "--encoder", "base=dinov3", NULL}, 2, "LABEL=PLUGIN:WEIGHTS", NULL);
  expect_fail((const char *[]){"--data", g_scenes, "--encoder", enc, "--encoder", enc, NULL}, 2, "used twice", NULL);
  expect_fail((const char *[]){"--data", g_scenes, "--encoder", enc, "--set", "other.image_size=32", NULL}, 2,
              "no --encoder is labelled 'other'", NULL);
  expect_fail((const char *[]){"--data", g_scenes, "--encoder", enc, "--tasks", "depth,normals", NULL}, 2, "--tasks", NULL);
  expect_fail((const char *[]){"--data", g_scenes, "--encoder", enc, "--holdout", "1.5", NULL}, 2, "--holdout", NULL);
  expect_fail((const char *[]){"--data", g_scenes, "--encoder", enc, "--frobnicate", NULL}, 2, "unknown argument", NULL);
  expect_fail((const char *[]){"--encoder", enc, "--data", NULL}, 2, "--data needs a value", NULL);
  CHECK(run_probe((const char *[]){"--data", "x", "--help", NULL}) == 0 && strstr(g_table, "usage: spatialboost probe"),
        "--help prints the usage");
  /* a task the layout has no annotations for */
  expect_fail((const char *[]){"--data", path_of(p, sizeof p, "nyu6"), "--encoder", enc, "--tasks", "seg", "--quiet", NULL}, 1,
              "the nyu layout has no segmentation labels", NULL);
  /* an encoder that cannot load names its folder */
  char missing[1200];
  snprintf(missing, sizeof missing, "base=dinov3:%s/no_such_model", g_tmp);
  expect_fail((const char *[]){"--data", path_of(p, sizeof p, "nyu6"), "--encoder", missing, "--quiet", NULL}, 1,
              "encoder 'base'", "no_such_model");
  /* an image that does not decode */
  write_nyu("bad_img", 3);
  write_bytes("bad_img/rgb/0001.png", "not a png");
  expect_fail((const char *[]){"--data", path_of(p, sizeof p, "bad_img"), "--encoder", enc, "--quiet", NULL}, 1,
              "bad_img/rgb/0001.png", "cannot decode");
  /* depth of another size than its image */
  write_nyu("bad_size", 3);
  write_u16("bad_size/depth/0002.png", 16, 32, depth_mm);
  expect_fail((const char *[]){"--data", path_of(p, sizeof p, "bad_size"), "--encoder", enc, "--quiet", NULL}, 1,
              "bad_size/depth/0002.png is 16x32, but its image", NULL);
  /* an image without its depth map */
  write_nyu("no_depth", 3);
  snprintf(q, sizeof q, "%s/no_depth/depth/0000.png", g_tmp), remove(q);
  expect_fail((const char *[]){"--data", path_of(p, sizeof p, "no_depth"), "--encoder", enc, "--quiet", NULL}, 1,
              "no_depth/rgb/0000.png has no depth map", NULL);
  /* an instance id that scene.json does not list */
  render_scenes("bad_scene", 2, "1");
  write_u16("bad_scene/scene_000001/view_01/instances.png", 64, 64, depth_mm);
  expect_fail((const char *[]){"--data", path_of(p, sizeof p, "bad_scene"), "--encoder", enc, "--quiet", NULL}, 1,
              "scene_000001/view_01: instance id", "is not an object of scene.json");
  /* one scene cannot be split */
  render_scenes("one_scene", 1, "2");
  expect_fail((const char *[]){"--data", path_of(p, sizeof p, "one_scene"), "--encoder", enc, "--quiet", NULL}, 1,
              "1 scene cannot be split", NULL);
}

int main(void) {
  const char *fx = getenv("SB_FIXTURES");
  snprintf(g_tiny, sizeof g_tiny, "%s/dinov3_tiny", fx && fx[0] ? fx : SB_TEST_FIXTURES);
  if (!mkdtemp(g_tmp)) {
    perror("mkdtemp");
    return 1;
  }
  test_ridge_solve();
  test_ridge_fit();
  test_logreg();
  test_metrics();
  test_patch_targets();
  test_layout_nyu();
  test_layout_ade();
  test_layout_imagefolder();
  test_layout_scenes();
  test_probe_scenes();
  test_probe_other_layouts();
  test_errors();
  nftw(g_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return check_summary("probe");
}
