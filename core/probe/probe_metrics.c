/* probe_metrics.c — RMSE, mIoU and top-1 over weighted held-out items, and
 * the group bootstrap behind the probes' standard errors
 * (probe_metrics.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probe_metrics.h"
#include "util.h"

void sb_probe_items_free(sb_probe_items *it) {
  if (!it) return;
  free(it->group), free(it->sq_err), free(it->truth), free(it->pred);
  memset(it, 0, sizeof *it);
}

static double weight_of(const sb_probe_items *it, const double *gw, int64_t i) {
  return gw ? gw[it->group ? it->group[i] : 0] : 1.0;
}

/* sqrt(Σ w·e / Σ w) or, for top-1, Σ w·[pred = truth] / Σ w. */
static double weighted_mean(const sb_probe_items *it, const double *gw) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < it->n; i++) {
    double w = weight_of(it, gw, i);
    num += w * (it->kind == SB_PROBE_RMSE ? it->sq_err[i] : (double)(it->pred[i] == it->truth[i]));
    den += w;
  }
  if (!(den > 0)) return NAN;
  return it->kind == SB_PROBE_RMSE ? sqrt(num / den) : num / den;
}

/* Mean IoU over the classes present in the (weighted) truth. */
static double mean_iou(const sb_probe_items *it, const double *gw, double *iou) {
  int c = it->n_classes;
  double *acc = sb_calloc(3 * (size_t)c + 1, sizeof *acc), *tp = acc, *gt = acc + c, *pr = acc + 2 * c;
  if (!acc) return NAN;
  for (int64_t i = 0; i < it->n; i++) {
    double w = weight_of(it, gw, i);
    int t = it->truth[i], p = it->pred[i];
    gt[t] += w;
    if (p >= 0) pr[p] += w;
    if (p == t) tp[t] += w;
  }
  double sum = 0;
  int present = 0;
  for (int k = 0; k < c; k++) {
    double v = gt[k] > 0 ? tp[k] / (gt[k] + pr[k] - tp[k]) : NAN;
    if (iou) iou[k] = v;
    if (gt[k] > 0) sum += v, present++;
  }
  free(acc);
  return present ? sum / present : NAN;
}

double sb_probe_metric(const sb_probe_items *it, const double *group_weight, double *iou) {
  return it->kind == SB_PROBE_MIOU ? mean_iou(it, group_weight, iou) : weighted_mean(it, group_weight);
}

double *sb_probe_bootstrap_weights(int n_groups, int n_resamples, uint64_t seed) {
  double *w = sb_calloc((size_t)n_groups * (size_t)n_resamples + 1, sizeof *w);
  if (!w) return NULL;
  sb_rng r;
  sb_rng_seed_named(&r, seed, "probe.bootstrap");
  for (int s = 0; s < n_resamples; s++)
    for (int k = 0; k < n_groups; k++) w[(size_t)s * n_groups + sb_rng_u64(&r) % (uint64_t)n_groups] += 1.0;
  return w;
}

/* Sample standard deviation of the finite values of v [n]; NAN under 2. */
static double finite_std(const double *v, int n) {
  double mean = 0, ss = 0;
  int m = 0;
  for (int i = 0; i < n; i++)
    if (isfinite(v[i])) mean += v[i], m++;
  if (m < 2) return NAN;
  mean /= m;
  for (int i = 0; i < n; i++)
    if (isfinite(v[i])) ss += (v[i] - mean) * (v[i] - mean);
  return sqrt(ss / (m - 1));
}

void sb_probe_bootstrap_se(const sb_probe_items *it, const sb_probe_items *base, const double *weights, int n_resamples,
                           int n_groups, double *se, double *delta_se) {
  double *v = sb_calloc(2 * (size_t)n_resamples + 1, sizeof *v), *dv = v + n_resamples;
  *se = NAN;
  if (delta_se) *delta_se = NAN;
  if (!v || n_resamples < 2) return free(v);
  for (int s = 0; s < n_resamples; s++) {
    const double *gw = weights + (size_t)s * n_groups;
    v[s] = sb_probe_metric(it, gw, NULL);
    dv[s] = base ? v[s] - sb_probe_metric(base, gw, NULL) : NAN;
  }
  *se = finite_std(v, n_resamples);
  if (delta_se && base) *delta_se = finite_std(dv, n_resamples);
  free(v);
}
