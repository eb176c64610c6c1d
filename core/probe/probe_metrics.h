/* probe_metrics.h — the probes' metrics over held-out items (patches or
 * images), weighted per group so that one routine gives both the point
 * value and the bootstrap resamples (PROBES.md, "Metrics"): RMSE, mIoU,
 * top-1 accuracy, and bootstrap standard errors, paired between encoders.
 * Internal to core/probe. */
#ifndef SB_CORE_PROBE_METRICS_H
#define SB_CORE_PROBE_METRICS_H

#include <stdint.h>

#include "spatialboost/defs.h"

typedef enum sb_probe_metric_kind {
  SB_PROBE_RMSE = 0, /* sqrt(Σ w·sq_err / Σ w) */
  SB_PROBE_MIOU = 1, /* mean over classes present in the truth of TP / (TP + FP + FN) */
  SB_PROBE_TOP1 = 2, /* Σ w·[pred = truth] / Σ w */
} sb_probe_metric_kind;

/* Held-out items of one probe. Arrays [n]; group NULL = every item in
 * group 0. Classes are dense indices 0..n_classes-1 (pred may be -1: no
 * prediction, always wrong). */
typedef struct sb_probe_items {
  sb_probe_metric_kind kind;
  int64_t n;
  int32_t *group;
  double *sq_err;          /* RMSE */
  int32_t *truth, *pred;   /* MIOU, TOP1 */
  int n_classes;           /* MIOU */
} sb_probe_items;

void sb_probe_items_free(sb_probe_items *it);

/* The metric with item weights group_weight[group[i]] (NULL: all 1). NAN
 * when no item has weight (or, for mIoU, no class is present). mIoU is a
 * fraction (0..1), top-1 too. iou: [n_classes] per-class IoU (NAN for
 * classes absent from the truth), or NULL. */
double sb_probe_metric(const sb_probe_items *it, const double *group_weight, double *iou);

/* Bootstrap weights [n_resamples, n_groups]: how often each group is drawn
 * in n_groups draws with replacement, from the (seed, "probe.bootstrap")
 * generator. The same (n_groups, n_resamples, seed) gives the same draws,
 * so encoders evaluated on one split share their resamples (paired). */
double *sb_probe_bootstrap_weights(int n_groups, int n_resamples, uint64_t seed);

/* The standard deviation over resamples of the metric (*se) and, when
 * `base` is given, of metric − base metric on the same resamples
 * (*delta_se). Resamples where a value is NAN are left out. */
void sb_probe_bootstrap_se(const sb_probe_items *it, const sb_probe_items *base, const double *weights, int n_resamples,
                           int n_groups, double *se, double *delta_se);

#endif
