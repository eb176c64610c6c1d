/* probe_tasks.h — the three probes on cached features (PROBES.md, "Probes"):
 * depth (ridge on patch tokens, RMSE), segmentation (logistic regression on
 * patch tokens, mIoU) and classification (logistic regression on the pooled
 * vector, top-1), each choosing its regularisation on a validation slice of
 * the training split and then refitting on the whole training split.
 * Internal to core/probe. */
#ifndef SB_CORE_PROBE_TASKS_H
#define SB_CORE_PROBE_TASKS_H

#include "probe_data.h"
#include "probe_features.h"
#include "probe_metrics.h"

/* Which groups are held out, and which training groups validate. */
typedef struct sb_probe_plan {
  int n_groups;
  int n_test_groups;
  int *test_index; /* [n_groups] index among the test groups, -1 for training groups */
  char *is_val;    /* [n_groups] 1 for the validation slice of the training groups */
  uint64_t seed;
} sb_probe_plan;

/* From the dataset's split: round(val_fraction · training groups) of them
 * (at least 1 when there are 2 or more) validate, chosen with the
 * (seed, "probe.val") generator. */
int sb_probe_plan_make(const sb_probe_dataset *ds, double val_fraction, uint64_t seed, sb_probe_plan *out);
void sb_probe_plan_free(sb_probe_plan *p);

typedef struct sb_probe_result {
  bool done;
  double metric;        /* RMSE in metres, mIoU or top-1 as a fraction */
  double se;            /* bootstrap standard error (NAN until computed) */
  double delta, delta_se; /* against the first encoder (NAN for it) */
  double lambda;        /* the regularisation chosen */
  bool lambda_validated; /* chosen on the validation slice (else the default) */
  int64_t n_train, n_test; /* training and held-out items (patches or images) */
  int64_t n_fit;        /* training items the final head was fitted on (classifiers: at most 20000) */
  int n_classes;        /* classes the head knows (seg, cls) */
  sb_probe_items items; /* the held-out items, for the bootstrap */
  int32_t *class_ids;   /* [items.n_classes] the class id of each item class (seg, cls) */
} sb_probe_result;

void sb_probe_result_free(sb_probe_result *r);

/* The regularisation grids (PROBES.md). */
extern const double sb_probe_ridge_grid[];
extern const int sb_probe_ridge_grid_len;
extern const double sb_probe_logreg_grid[];
extern const int sb_probe_logreg_grid_len;

int sb_probe_run_depth(const sb_probe_dataset *ds, const sb_probe_features *f, const sb_probe_plan *plan,
                       sb_probe_result *out);
int sb_probe_run_seg(const sb_probe_dataset *ds, const sb_probe_features *f, const sb_probe_plan *plan,
                     sb_probe_result *out);
int sb_probe_run_cls(const sb_probe_dataset *ds, const sb_probe_features *f, const sb_probe_plan *plan,
                     sb_probe_result *out);

#endif
