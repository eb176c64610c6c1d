/* probe_report.h — the output of `spatialboost probe`: the table comparing
 * encoders and the JSON file with the same numbers. Internal to
 * core/probe. */
#ifndef SB_CORE_PROBE_REPORT_H
#define SB_CORE_PROBE_REPORT_H

#include <stdio.h>

#include "probe_data.h"
#include "probe_features.h"
#include "probe_tasks.h"

enum { SB_PROBE_N_TASKS = 3 }; /* depth, seg, cls: result index = task bit position */

/* One encoder's row (or the constant baseline's). */
typedef struct sb_probe_row {
  const sb_probe_encoder_spec *spec;
  bool baseline;        /* the constant predictor: no features, intercepts only */
  sb_encoder_info info;
  char plugin[64];
  bool pooled_is_mean;
  int64_t n_patches;
  double seconds;
  sb_probe_result result[SB_PROBE_N_TASKS];
} sb_probe_row;

/* Everything the report shows. */
typedef struct sb_probe_report {
  const sb_probe_dataset *ds;
  const sb_probe_plan *plan;
  unsigned tasks;
  double holdout;
  uint64_t seed;
  int bootstrap;   /* resamples (0: no standard errors) */
  int n_rows;
  sb_probe_row *rows;
} sb_probe_report;

/* Fills se, delta and delta_se of every result (paired bootstrap over the
 * held-out groups; deltas against the first row). */
int sb_probe_report_bootstrap(sb_probe_report *r);
void sb_probe_report_table(const sb_probe_report *r, FILE *out);
int sb_probe_report_json(const sb_probe_report *r, const char *path);

#endif
