/* probe_heads.h — the linear heads of the probes and their solvers, in
 * double precision (PROBES.md, "Heads"): feature standardisation, ridge
 * regression in closed form (normal equations, Cholesky) and multinomial
 * logistic regression by full-batch Adam. Internal to core/probe. */
#ifndef SB_CORE_PROBE_HEADS_H
#define SB_CORE_PROBE_HEADS_H

#include <stdint.h>

#include "spatialboost/defs.h"

/* A selection of feature rows: row k is x[idx[k] · dim .. + dim) (idx NULL:
 * row k is x's row k). */
typedef struct sb_probe_rows {
  const float *x;
  int64_t dim;
  const int64_t *idx;
  int64_t n;
} sb_probe_rows;

/* A linear head on raw features: out[k] = b[k] + Σ_j w[k·dim + j] · x[j].
 * (Heads are fitted on standardised features and folded back.) */
typedef struct sb_probe_linear {
  int64_t dim, n_out;
  double *w; /* [n_out, dim] */
  double *b; /* [n_out] */
} sb_probe_linear;

void sb_probe_linear_free(sb_probe_linear *h);
/* out [n_out] for one feature row x [dim]. */
void sb_probe_linear_apply(const sb_probe_linear *h, const float *x, double *out);

/* Solves (a + ridge·I) x = b for a symmetric positive semi-definite a
 * [d, d] (only its upper triangle is read; a is left unchanged) by
 * Cholesky. b, x: [d]. Fails when the matrix is not positive definite. */
int sb_probe_ridge_solve(const double *a, const double *b, int64_t d, double ridge, double *x);

/* Ridge regression of y [rows->n] on the rows, features standardised over
 * those rows (mean 0, variance 1; constant features get weight 0), the
 * intercept unpenalised: minimises mean((ŷ − y)²) + lambda · ‖w_std‖².
 * out: a 1-output head. */
int sb_probe_ridge_fit(const sb_probe_rows *rows, const double *y, double lambda, sb_probe_linear *out);
/* The same for n_lambda values at once (one Gram matrix): out [n_lambda]. */
int sb_probe_ridge_fit_path(const sb_probe_rows *rows, const double *y, const double *lambdas, int n_lambda,
                            sb_probe_linear *out);

typedef struct sb_probe_logreg_opts {
  int steps;   /* full-batch Adam steps (0: 500) */
  double lr;   /* peak learning rate, cosine-decayed to 0 (0: min(0.2, 1/√dim)) */
  double l2;   /* weight of (1/2)·‖W_std‖² (biases unpenalised) */
} sb_probe_logreg_opts;

/* Multinomial logistic regression of labels y [rows->n] (0..n_classes-1)
 * on the standardised rows: minimises mean cross-entropy + l2/2 · ‖W‖²
 * from W = 0, b = 0. out: an n_classes-output head (logits). */
int sb_probe_logreg_fit(const sb_probe_rows *rows, const int32_t *y, int n_classes, const sb_probe_logreg_opts *opts,
                        sb_probe_linear *out);

#endif
