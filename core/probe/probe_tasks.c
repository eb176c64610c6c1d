/* probe_tasks.c — the depth, segmentation and classification probes on one
 * encoder's cached features (probe_tasks.h): rows split into fit /
 * validation / train / test by the plan, the regularisation chosen on the
 * validation slice, the head refitted on the whole training split, and the
 * held-out items that the metrics and the bootstrap read. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probe_heads.h"
#include "probe_tasks.h"
#include "util.h"

const double sb_probe_ridge_grid[] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};
const int sb_probe_ridge_grid_len = (int)SB_ARRAY_LEN(sb_probe_ridge_grid);
const double sb_probe_logreg_grid[] = {1e-4, 1e-3, 1e-2};
const int sb_probe_logreg_grid_len = (int)SB_ARRAY_LEN(sb_probe_logreg_grid);
/* Used when the training split is one group (nothing to validate on). */
static const double k_ridge_default = 1e-3, k_logreg_default = 1e-3;
/* The classifiers train on at most this many rows (a seeded sample). */
static const int64_t k_max_fit_rows = 20000;

/* ---- the plan ---- */

int sb_probe_plan_make(const sb_probe_dataset *ds, double val_fraction, uint64_t seed, sb_probe_plan *out) {
  memset(out, 0, sizeof *out);
  int ng = ds->n_groups;
  out->n_groups = ng, out->seed = seed;
  out->test_index = sb_malloc(((size_t)ng + 1) * sizeof *out->test_index);
  out->is_val = sb_calloc((size_t)ng + 1, 1);
  int *train = sb_malloc(((size_t)ng + 1) * sizeof *train);
  if (!out->test_index || !out->is_val || !train) return free(train), sb_probe_plan_free(out), SB_ERR_NOMEM;
  for (int g = 0; g < ng; g++) out->test_index[g] = -1;
  for (int i = 0; i < ds->n_samples; i++)
    if (ds->samples[i].split == SB_PROBE_TEST) out->test_index[ds->samples[i].group] = 0;
  int n_train = 0;
  for (int g = 0; g < ng; g++) {
    if (out->test_index[g] >= 0) out->test_index[g] = out->n_test_groups++;
    else train[n_train++] = g;
  }
  int n_val = n_train >= 2 ? SB_MAX(1, SB_MIN(n_train - 1, (int)(val_fraction * n_train + 0.5))) : 0;
  sb_rng r;
  sb_rng_seed_named(&r, seed, "probe.val");
  for (int k = 0; k < n_val; k++) { /* the first n_val of a Fisher-Yates shuffle */
    int j = k + (int)(sb_rng_u64(&r) % (uint64_t)(n_train - k)), t = train[k];
    train[k] = train[j], train[j] = t;
    out->is_val[train[k]] = 1;
  }
  free(train);
  return SB_OK;
}

void sb_probe_plan_free(sb_probe_plan *p) {
  if (!p) return;
  free(p->test_index), free(p->is_val);
  memset(p, 0, sizeof *p);
}

void sb_probe_result_free(sb_probe_result *r) {
  if (!r) return;
  sb_probe_items_free(&r->items);
  free(r->class_ids);
  memset(r, 0, sizeof *r);
}

/* ---- rows ---- */

enum { FIT = 0, VAL = 1, TRAIN = 2, TEST = 3 };

typedef struct rowsets {
  int64_t *idx[4]; /* row indices of each set */
  int64_t n[4];
} rowsets;

static void rowsets_free(rowsets *s) {
  for (int k = 0; k < 4; k++) free(s->idx[k]);
}

/* Rows r < n_rows with label[r] >= 0 (or, label NULL, a finite depth[r])
 * into the sets, by the group of their sample (row_sample[r], or r). */
static int split_rows(const sb_probe_dataset *ds, const sb_probe_plan *plan, int64_t n_rows, const int32_t *row_sample,
                      const int32_t *label, const float *depth, rowsets *s) {
  memset(s, 0, sizeof *s);
  for (int k = 0; k < 4; k++)
    if (!(s->idx[k] = sb_malloc(((size_t)n_rows + 1) * sizeof *s->idx[k]))) return rowsets_free(s), SB_ERR_NOMEM;
  for (int64_t r = 0; r < n_rows; r++) {
    if (label ? label[r] < 0 : !isfinite(depth[r])) continue;
    int g = ds->samples[row_sample ? row_sample[r] : r].group;
    if (plan->test_index[g] >= 0) {
      s->idx[TEST][s->n[TEST]++] = r;
      continue;
    }
    s->idx[TRAIN][s->n[TRAIN]++] = r;
    int k = plan->is_val[g] ? VAL : FIT;
    s->idx[k][s->n[k]++] = r;
  }
  return SB_OK;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Keeps a sample of at most `max` of the rows idx [*n] (a partial
 * Fisher-Yates shuffle by the (seed, stream) generator), in row order. */
static void cap_rows(int64_t *idx, int64_t *n, int64_t max, uint64_t seed, const char *stream) {
  if (*n <= max) return;
  sb_rng r;
  sb_rng_seed_named(&r, seed, stream);
  for (int64_t k = 0; k < max; k++) {
    int64_t j = k + (int64_t)(sb_rng_u64(&r) % (uint64_t)(*n - k)), t = idx[k];
    idx[k] = idx[j], idx[j] = t;
  }
  *n = max;
  qsort(idx, (size_t)max, sizeof *idx, cmp_i64);
}

/* The test group of a row. */
static int32_t test_group(const sb_probe_dataset *ds, const sb_probe_plan *plan, const int32_t *row_sample, int64_t r) {
  return plan->test_index[ds->samples[row_sample ? row_sample[r] : r].group];
}

static int need_rows(const rowsets *s, const char *task, const char *what) {
  if (s->n[TRAIN] == 0) return sb_error_set(SB_ERR, "%s probe: no training %s", task, what);
  if (s->n[TEST] == 0) return sb_error_set(SB_ERR, "%s probe: no held-out %s", task, what);
  return SB_OK;
}

/* ---- depth ---- */

/* y [n] = depth of the rows idx [n]. */
static double *gather_depth(const float *depth, const int64_t *idx, int64_t n) {
  double *y = sb_malloc(((size_t)n + 1) * sizeof *y);
  for (int64_t k = 0; y && k < n; k++) y[k] = depth[idx[k]];
  return y;
}

/* The ridge λ of the grid with the smallest validation MSE (ties: the
 * larger λ); the default when there is no validation slice. */
static int choose_ridge_lambda(const sb_probe_features *f, const rowsets *s, double *lambda, bool *validated) {
  *lambda = k_ridge_default, *validated = false;
  if (s->n[FIT] == 0 || s->n[VAL] == 0) return SB_OK;
  int ng = sb_probe_ridge_grid_len;
  sb_probe_linear heads[16];
  double *y = gather_depth(f->depth, s->idx[FIT], s->n[FIT]);
  sb_probe_rows rows = {f->patch, f->dim, s->idx[FIT], s->n[FIT]};
  int rc = y ? sb_probe_ridge_fit_path(&rows, y, sb_probe_ridge_grid, ng, heads) : SB_ERR_NOMEM;
  double best = INFINITY;
  for (int i = ng - 1; rc == SB_OK && i >= 0; i--) {
    double se = 0, pred;
    for (int64_t k = 0; k < s->n[VAL]; k++) {
      int64_t r = s->idx[VAL][k];
      sb_probe_linear_apply(&heads[i], f->patch + r * f->dim, &pred);
      se += (pred - f->depth[r]) * (pred - f->depth[r]);
    }
    if (se < best) best = se, *lambda = sb_probe_ridge_grid[i], *validated = true;
  }
  for (int i = 0; rc == SB_OK && i < ng; i++) sb_probe_linear_free(&heads[i]);
  free(y);
  return rc;
}

int sb_probe_run_depth(const sb_probe_dataset *ds, const sb_probe_features *f, const sb_probe_plan *plan,
                       sb_probe_result *out) {
  memset(out, 0, sizeof *out);
  rowsets s;
  int rc = split_rows(ds, plan, f->n_patches, f->patch_image, NULL, f->depth, &s);
  if (rc == SB_OK) rc = need_rows(&s, "depth", "patches with depth");
  if (rc == SB_OK) rc = choose_ridge_lambda(f, &s, &out->lambda, &out->lambda_validated);
  sb_probe_linear head = {0};
  double *y = rc == SB_OK ? gather_depth(f->depth, s.idx[TRAIN], s.n[TRAIN]) : NULL;
  if (rc == SB_OK && !y) rc = SB_ERR_NOMEM;
  sb_probe_rows rows = {f->patch, f->dim, s.idx[TRAIN], s.n[TRAIN]};
  if (rc == SB_OK) rc = sb_probe_ridge_fit(&rows, y, out->lambda, &head);
  sb_probe_items *it = &out->items;
  it->kind = SB_PROBE_RMSE, it->n = s.n[TEST];
  if (rc == SB_OK && (!(it->group = sb_malloc(((size_t)it->n + 1) * sizeof *it->group)) ||
                      !(it->sq_err = sb_malloc(((size_t)it->n + 1) * sizeof *it->sq_err))))
    rc = SB_ERR_NOMEM;
  for (int64_t k = 0; rc == SB_OK && k < it->n; k++) {
    int64_t r = s.idx[TEST][k];
    double pred;
    sb_probe_linear_apply(&head, f->patch + r * f->dim, &pred);
    it->sq_err[k] = (pred - f->depth[r]) * (pred - f->depth[r]);
    it->group[k] = test_group(ds, plan, f->patch_image, r);
  }
  if (rc == SB_OK) {
    out->done = true, out->metric = sb_probe_metric(it, NULL, NULL);
    out->n_train = out->n_fit = s.n[TRAIN], out->n_test = s.n[TEST];
  }
  sb_probe_linear_free(&head);
  free(y);
  rowsets_free(&s);
  return rc;
}

/* ---- classifiers (seg, cls) ---- */

static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

/* The sorted distinct labels of rows idx [n] (and of extra [n_extra] rows,
 * when given) into *classes; returns their number, -1 on failure. */
static int distinct(const int32_t *label, const int64_t *idx, int64_t n, const int64_t *extra, int64_t n_extra,
                    int32_t **classes) {
  int32_t *c = sb_malloc(((size_t)(n + n_extra) + 1) * sizeof *c);
  if (!c) return -1;
  for (int64_t k = 0; k < n; k++) c[k] = label[idx[k]];
  for (int64_t k = 0; k < n_extra; k++) c[n + k] = label[extra[k]];
  int64_t m = 0, total = n + n_extra;
  if (total) qsort(c, (size_t)total, sizeof *c, cmp_i32);
  for (int64_t k = 0; k < total; k++)
    if (m == 0 || c[m - 1] != c[k]) c[m++] = c[k];
  *classes = c;
  return (int)m;
}

/* The index of label l in classes [n], or -1. */
static int class_of(const int32_t *classes, int n, int32_t l) {
  const int32_t *p = bsearch(&l, classes, (size_t)n, sizeof *classes, cmp_i32);
  return p ? (int)(p - classes) : -1;
}

/* What a classifier probe reads: rows of x [n_rows, dim] with labels. */
typedef struct cls_input {
  const float *x;
  int64_t dim, n_rows;
  const int32_t *row_sample; /* NULL: row r is sample r */
  const int32_t *label;
} cls_input;

/* A logistic head on the rows idx [n], labels mapped onto `classes`. */
static int fit_classifier(const cls_input *in, const int64_t *idx, int64_t n, const int32_t *classes, int n_classes,
                          double l2, sb_probe_linear *head) {
  int32_t *y = sb_malloc(((size_t)n + 1) * sizeof *y);
  if (!y) return SB_ERR_NOMEM;
  for (int64_t k = 0; k < n; k++) y[k] = class_of(classes, n_classes, in->label[idx[k]]);
  sb_probe_rows rows = {in->x, in->dim, idx, n};
  sb_probe_logreg_opts o = {.l2 = l2};
  int rc = sb_probe_logreg_fit(&rows, y, n_classes, &o, head);
  free(y);
  return rc;
}

/* Mean cross-entropy of the head on rows idx [n] whose label it knows. */
static double cross_entropy(const cls_input *in, const sb_probe_linear *h, const int64_t *idx, int64_t n,
                            const int32_t *classes, int n_classes, double *logits) {
  double sum = 0;
  int64_t m = 0;
  for (int64_t k = 0; k < n; k++) {
    int c = class_of(classes, n_classes, in->label[idx[k]]);
    if (c < 0) continue;
    sb_probe_linear_apply(h, in->x + idx[k] * in->dim, logits);
    double mx = logits[0], s = 0;
    for (int j = 1; j < n_classes; j++) mx = fmax(mx, logits[j]);
    for (int j = 0; j < n_classes; j++) s += exp(logits[j] - mx);
    sum += mx + log(s) - logits[c], m++;
  }
  return m ? sum / (double)m : INFINITY;
}

/* The l2 of the grid with the smallest validation cross-entropy (ties: the
 * larger); the default when there is no validation slice. */
static int choose_l2(const cls_input *in, const rowsets *s, double *l2, bool *validated) {
  *l2 = k_logreg_default, *validated = false;
  if (s->n[FIT] == 0 || s->n[VAL] == 0) return SB_OK;
  int32_t *classes = NULL;
  int nc = distinct(in->label, s->idx[FIT], s->n[FIT], NULL, 0, &classes);
  double *logits = nc > 0 ? sb_malloc((size_t)nc * sizeof *logits) : NULL, best = INFINITY;
  int rc = logits ? SB_OK : SB_ERR_NOMEM;
  for (int i = sb_probe_logreg_grid_len - 1; rc == SB_OK && i >= 0; i--) {
    sb_probe_linear h;
    rc = fit_classifier(in, s->idx[FIT], s->n[FIT], classes, nc, sb_probe_logreg_grid[i], &h);
    double ce = rc == SB_OK ? cross_entropy(in, &h, s->idx[VAL], s->n[VAL], classes, nc, logits) : INFINITY;
    if (ce < best) best = ce, *l2 = sb_probe_logreg_grid[i], *validated = true;
    sb_probe_linear_free(&h);
  }
  free(logits);
  free(classes);
  return rc;
}

/* Held-out items: truth and prediction as indices into *all (the training
 * classes and the held-out truths, sorted; kept for the report), the
 * prediction the argmax over the training classes. */
static int classifier_items(const sb_probe_dataset *ds, const sb_probe_plan *plan, const cls_input *in,
                            const sb_probe_linear *h, const rowsets *s, const int32_t *train_cls, int n_train_cls,
                            sb_probe_items *it, int32_t **all_out) {
  int32_t *all = NULL;
  int n_all = distinct(in->label, s->idx[TRAIN], s->n[TRAIN], s->idx[TEST], s->n[TEST], &all);
  *all_out = all;
  it->n = s->n[TEST], it->n_classes = n_all;
  it->group = sb_malloc(((size_t)it->n + 1) * sizeof *it->group);
  it->truth = sb_malloc(((size_t)it->n + 1) * sizeof *it->truth);
  it->pred = sb_malloc(((size_t)it->n + 1) * sizeof *it->pred);
  double *logits = sb_malloc(((size_t)n_train_cls + 1) * sizeof *logits);
  int rc = n_all >= 0 && it->group && it->truth && it->pred && logits ? SB_OK : SB_ERR_NOMEM;
  for (int64_t k = 0; rc == SB_OK && k < it->n; k++) {
    int64_t r = s->idx[TEST][k];
    sb_probe_linear_apply(h, in->x + r * in->dim, logits);
    int best = 0;
    for (int j = 1; j < n_train_cls; j++)
      if (logits[j] > logits[best]) best = j;
    it->truth[k] = class_of(all, n_all, in->label[r]);
    it->pred[k] = class_of(all, n_all, train_cls[best]);
    it->group[k] = test_group(ds, plan, in->row_sample, r);
  }
  free(logits);
  return rc;
}

static int run_classifier(const sb_probe_dataset *ds, const sb_probe_plan *plan, const cls_input *in,
                          sb_probe_metric_kind kind, const char *task, const char *what, sb_probe_result *out) {
  memset(out, 0, sizeof *out);
  out->items.kind = kind;
  rowsets s;
  int rc = split_rows(ds, plan, in->n_rows, in->row_sample, in->label, NULL, &s);
  if (rc == SB_OK) rc = need_rows(&s, task, what);
  int64_t n_train = s.n[TRAIN];
  if (rc == SB_OK) {
    cap_rows(s.idx[FIT], &s.n[FIT], k_max_fit_rows, plan->seed, "probe.fit_rows");
    cap_rows(s.idx[TRAIN], &s.n[TRAIN], k_max_fit_rows, plan->seed, "probe.train_rows");
    rc = choose_l2(in, &s, &out->lambda, &out->lambda_validated);
  }
  int32_t *classes = NULL;
  int nc = rc == SB_OK ? distinct(in->label, s.idx[TRAIN], s.n[TRAIN], NULL, 0, &classes) : 0;
  if (nc < 0) rc = SB_ERR_NOMEM;
  sb_probe_linear h = {0};
  if (rc == SB_OK) rc = fit_classifier(in, s.idx[TRAIN], s.n[TRAIN], classes, nc, out->lambda, &h);
  if (rc == SB_OK) rc = classifier_items(ds, plan, in, &h, &s, classes, nc, &out->items, &out->class_ids);
  if (rc == SB_OK) {
    out->done = true, out->metric = sb_probe_metric(&out->items, NULL, NULL);
    out->n_train = n_train, out->n_fit = s.n[TRAIN], out->n_test = s.n[TEST], out->n_classes = nc;
  }
  sb_probe_linear_free(&h);
  free(classes);
  rowsets_free(&s);
  return rc;
}

int sb_probe_run_seg(const sb_probe_dataset *ds, const sb_probe_features *f, const sb_probe_plan *plan,
                     sb_probe_result *out) {
  cls_input in = {f->patch, f->dim, f->n_patches, f->patch_image, f->label};
  return run_classifier(ds, plan, &in, SB_PROBE_MIOU, "segmentation", "patches with a class", out);
}

int sb_probe_run_cls(const sb_probe_dataset *ds, const sb_probe_features *f, const sb_probe_plan *plan,
                     sb_probe_result *out) {
  cls_input in = {f->pooled, f->dim, f->n_images, NULL, f->cls};
  return run_classifier(ds, plan, &in, SB_PROBE_TOP1, "classification", "images with a class", out);
}
