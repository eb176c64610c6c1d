/* probe_heads.c — the probes' linear heads (probe_heads.h): standardising
 * feature rows, ridge regression through the normal equations and a
 * Cholesky factorisation, and multinomial logistic regression trained by
 * full-batch Adam with a cosine learning rate. Everything is double
 * precision and runs in a fixed order, so a fit is deterministic. Large
 * matrix products go through BLAS (dgemm), small ones are plain loops. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probe_heads.h"
#include "util.h"

enum { BLOCK_ROWS = 2048 }; /* rows standardised at a time for the Gram matrix */
/* Products of fewer multiply-adds run as plain loops: BLAS threads cost
 * more than they save on them (and spin against other work on few cores). */
static const double k_blas_min = 1 << 24;

/* ---- matrix products ---- */

/* c [m, n] = a [m, k] · b [n, k]ᵀ + beta · c. */
static void gemm_nt(int64_t m, int64_t n, int64_t k, const double *a, const double *b, double beta, double *c) {
  if (k == 0) {
    for (int64_t i = 0; i < m * n; i++) c[i] *= beta;
  } else if ((double)m * (double)n * (double)k >= k_blas_min) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.0, a, (int)k, b, (int)k, beta, c, (int)n);
  } else {
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) {
        double s = 0;
        for (int64_t t = 0; t < k; t++) s += a[i * k + t] * b[j * k + t];
        c[i * n + j] = beta * c[i * n + j] + s;
      }
  }
}

/* c [m, n] = a [k, m]ᵀ · b [k, n] + beta · c. */
static void gemm_tn(int64_t m, int64_t n, int64_t k, const double *a, const double *b, double beta, double *c) {
  if (m == 0 || n == 0) return;
  if ((double)m * (double)n * (double)k >= k_blas_min) {
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0, a, (int)m, b, (int)n, beta, c, (int)n);
    return;
  }
  for (int64_t i = 0; i < m * n; i++) c[i] *= beta;
  for (int64_t t = 0; t < k; t++)
    for (int64_t i = 0; i < m; i++) {
      double ai = a[t * m + i];
      for (int64_t j = 0; j < n; j++) c[i * n + j] += ai * b[t * n + j];
    }
}

void sb_probe_linear_free(sb_probe_linear *h) {
  if (!h) return;
  free(h->w);
  free(h->b);
  memset(h, 0, sizeof *h);
}

void sb_probe_linear_apply(const sb_probe_linear *h, const float *x, double *out) {
  for (int64_t k = 0; k < h->n_out; k++) {
    const double *w = h->w + k * h->dim;
    double s = h->b[k];
    for (int64_t j = 0; j < h->dim; j++) s += w[j] * x[j];
    out[k] = s;
  }
}

static int linear_alloc(sb_probe_linear *h, int64_t dim, int64_t n_out) {
  memset(h, 0, sizeof *h);
  h->dim = dim, h->n_out = n_out;
  h->w = sb_calloc((size_t)(dim * n_out), sizeof *h->w);
  h->b = sb_calloc((size_t)n_out, sizeof *h->b);
  if (!h->w || !h->b) return sb_probe_linear_free(h), SB_ERR_NOMEM;
  return SB_OK;
}

/* ---- standardisation ---- */

static const float *row_of(const sb_probe_rows *r, int64_t k) { return r->x + (r->idx ? r->idx[k] : k) * r->dim; }

/* mean [dim] and inv_std [dim] = 1/std over the rows (0 for a constant
 * feature, which then contributes nothing). Two passes, in double. */
static void scaler_fit(const sb_probe_rows *r, double *mean, double *inv_std) {
  int64_t d = r->dim;
  memset(mean, 0, (size_t)d * sizeof *mean);
  memset(inv_std, 0, (size_t)d * sizeof *inv_std);
  for (int64_t k = 0; k < r->n; k++) {
    const float *x = row_of(r, k);
    for (int64_t j = 0; j < d; j++) mean[j] += x[j];
  }
  for (int64_t j = 0; j < d; j++) mean[j] /= (double)r->n;
  for (int64_t k = 0; k < r->n; k++) {
    const float *x = row_of(r, k);
    for (int64_t j = 0; j < d; j++) inv_std[j] += (x[j] - mean[j]) * (x[j] - mean[j]);
  }
  for (int64_t j = 0; j < d; j++) {
    double sd = sqrt(inv_std[j] / (double)r->n);
    inv_std[j] = sd > 1e-12 * (1.0 + fabs(mean[j])) ? 1.0 / sd : 0.0;
  }
}

/* z [count, dim] = standardised rows from .. from+count. */
static void standardise(const sb_probe_rows *r, const double *mean, const double *inv_std, int64_t from, int64_t count,
                        double *z) {
  for (int64_t k = 0; k < count; k++) {
    const float *x = row_of(r, from + k);
    double *zk = z + k * r->dim;
    for (int64_t j = 0; j < r->dim; j++) zk[j] = (x[j] - mean[j]) * inv_std[j];
  }
}

/* Folds a head on standardised features (w_std [n_out, dim], b_std) into
 * one on raw features: w = w_std · inv_std, b = b_std − Σ w · mean. */
static void fold(sb_probe_linear *h, const double *mean, const double *inv_std) {
  for (int64_t k = 0; k < h->n_out; k++) {
    double *w = h->w + k * h->dim;
    for (int64_t j = 0; j < h->dim; j++) {
      w[j] *= inv_std[j];
      h->b[k] -= w[j] * mean[j];
    }
  }
}

/* ---- ridge ---- */

int sb_probe_ridge_solve(const double *a, const double *b, int64_t d, double ridge, double *x) {
  double *l = sb_malloc((size_t)(d * d + 1) * sizeof *l);
  if (!l) return SB_ERR_NOMEM;
  /* l: lower-triangular Cholesky factor of a + ridge·I, row-major */
  for (int64_t i = 0; i < d; i++) {
    for (int64_t j = 0; j <= i; j++) {
      double s = a[j * d + i] + (i == j ? ridge : 0.0); /* upper triangle of a */
      for (int64_t k = 0; k < j; k++) s -= l[i * d + k] * l[j * d + k];
      if (i == j && !(s > 0)) {
        free(l);
        return sb_error_set(SB_ERR, "ridge: the regularised Gram matrix is not positive definite (pivot %lld is %g)",
                            (long long)i, s);
      }
      l[i * d + j] = i == j ? sqrt(s) : s / l[j * d + j];
    }
  }
  for (int64_t i = 0; i < d; i++) { /* L·t = b */
    double s = b[i];
    for (int64_t k = 0; k < i; k++) s -= l[i * d + k] * x[k];
    x[i] = s / l[i * d + i];
  }
  for (int64_t i = d - 1; i >= 0; i--) { /* Lᵀ·x = t */
    double s = x[i];
    for (int64_t k = i + 1; k < d; k++) s -= l[k * d + i] * x[k];
    x[i] = s / l[i * d + i];
  }
  free(l);
  return SB_OK;
}

/* gram [d, d] (upper triangle) = ZᵀZ / n and rhs [d] = Zᵀ(y − ȳ) / n over
 * the standardised rows, a block of rows at a time. */
static int normal_equations(const sb_probe_rows *r, const double *y, double y_mean, const double *mean,
                            const double *inv_std, double *gram, double *rhs) {
  int64_t d = r->dim, nb = SB_MIN(r->n, (int64_t)BLOCK_ROWS);
  double *z = sb_malloc((size_t)(nb * d + 1) * sizeof *z), *yc = sb_malloc((size_t)(nb + 1) * sizeof *yc);
  if (!z || !yc) return free(z), free(yc), SB_ERR_NOMEM;
  memset(gram, 0, (size_t)(d * d) * sizeof *gram);
  memset(rhs, 0, (size_t)d * sizeof *rhs);
  for (int64_t from = 0; from < r->n; from += nb) {
    int64_t m = SB_MIN(nb, r->n - from);
    standardise(r, mean, inv_std, from, m, z);
    for (int64_t k = 0; k < m; k++) yc[k] = y[from + k] - y_mean;
    gemm_tn(d, d, m, z, z, 1.0, gram); /* the whole square: symmetric */
    gemm_tn(d, 1, m, z, yc, 1.0, rhs);
  }
  for (int64_t i = 0; i < d * d; i++) gram[i] /= (double)r->n;
  for (int64_t j = 0; j < d; j++) rhs[j] /= (double)r->n;
  free(z), free(yc);
  return SB_OK;
}

int sb_probe_ridge_fit_path(const sb_probe_rows *rows, const double *y, const double *lambdas, int n_lambda,
                            sb_probe_linear *out) {
  memset(out, 0, (size_t)n_lambda * sizeof *out);
  if (rows->n <= 0) return sb_error_set(SB_ERR, "ridge: no rows to fit");
  int64_t d = rows->dim;
  double *mean = sb_malloc((size_t)d * sizeof *mean), *inv_std = sb_malloc((size_t)d * sizeof *inv_std);
  double *gram = sb_malloc((size_t)(d * d) * sizeof *gram), *rhs = sb_malloc((size_t)d * sizeof *rhs);
  int rc = mean && inv_std && gram && rhs ? SB_OK : SB_ERR_NOMEM;
  double y_mean = 0;
  for (int64_t k = 0; k < rows->n; k++) y_mean += y[k];
  y_mean /= (double)rows->n;
  if (rc == SB_OK) {
    scaler_fit(rows, mean, inv_std);
    rc = normal_equations(rows, y, y_mean, mean, inv_std, gram, rhs);
  }
  for (int i = 0; rc == SB_OK && i < n_lambda; i++) {
    rc = linear_alloc(&out[i], d, 1);
    if (rc == SB_OK) rc = sb_probe_ridge_solve(gram, rhs, d, lambdas[i], out[i].w);
    if (rc == SB_OK) {
      out[i].b[0] = y_mean;
      fold(&out[i], mean, inv_std);
    }
  }
  if (rc != SB_OK)
    for (int i = 0; i < n_lambda; i++) sb_probe_linear_free(&out[i]);
  free(mean), free(inv_std), free(gram), free(rhs);
  return rc;
}

int sb_probe_ridge_fit(const sb_probe_rows *rows, const double *y, double lambda, sb_probe_linear *out) {
  return sb_probe_ridge_fit_path(rows, y, &lambda, 1, out);
}

/* ---- logistic regression ---- */

typedef struct adam {
  double *m, *v;
  int64_t n;
} adam;

/* One Adam step (β = 0.9, 0.999, ε = 1e-8) of p [n] along g [n]. */
static void adam_step(adam *a, double *p, const double *g, double lr, int t) {
  double c1 = 1.0 - pow(0.9, t), c2 = 1.0 - pow(0.999, t);
  for (int64_t i = 0; i < a->n; i++) {
    a->m[i] = 0.9 * a->m[i] + 0.1 * g[i];
    a->v[i] = 0.999 * a->v[i] + 0.001 * g[i] * g[i];
    p[i] -= lr * (a->m[i] / c1) / (sqrt(a->v[i] / c2) + 1e-8);
  }
}

/* One row's logits l [C] → (softmax − onehot(y)) / n, the gradient of the
 * mean cross-entropy with respect to them, in place. */
static void softmax_grad_row(double *l, int32_t y, int64_t n, int c) {
  double mx = l[0], s = 0;
  for (int j = 1; j < c; j++) mx = fmax(mx, l[j]);
  for (int j = 0; j < c; j++) s += (l[j] = exp(l[j] - mx));
  for (int j = 0; j < c; j++) l[j] = (l[j] / s - (j == y)) / (double)n;
}

/* Σ a[t]·b[t] with four partial sums (so that it vectorises), fixed order. */
static double dot(const double *a, const double *b, int64_t n) {
  double s[4] = {0, 0, 0, 0};
  int64_t t = 0;
  for (; t + 4 <= n; t += 4)
    for (int q = 0; q < 4; q++) s[q] += a[t + q] * b[t + q];
  for (; t < n; t++) s[0] += a[t] * b[t];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

/* Heads with C·d below this take one pass over the rows per step (each row
 * stays in cache for both products); larger ones use two matrix products. */
static const double k_fused_max = 4096;

typedef struct logreg_work {
  double *z;      /* [n, d] standardised rows */
  double *logits; /* [n, C] (matrix path) or [C] (fused path) */
  double *grad;   /* [C·d + C]: weights then biases */
  double *param;  /* [C·d + C] */
  adam opt;
} logreg_work;

static void logreg_work_free(logreg_work *w) {
  free(w->z), free(w->logits), free(w->grad), free(w->param), free(w->opt.m), free(w->opt.v);
}

/* One full-batch gradient of mean CE + l2/2·‖W‖² into w->grad, a row at
 * a time (small heads). */
static void gradient_fused(logreg_work *w, const int32_t *y, int64_t n, int64_t d, int c, double l2) {
  const double *W = w->param, *b = w->param + c * d;
  double *gw = w->grad, *gb = w->grad + c * d, *l = w->logits;
  for (int64_t i = 0; i < c * d; i++) gw[i] = l2 * W[i];
  memset(gb, 0, (size_t)c * sizeof *gb);
  for (int64_t k = 0; k < n; k++) {
    const double *zk = w->z + k * d;
    for (int j = 0; j < c; j++) l[j] = b[j] + dot(W + j * d, zk, d);
    softmax_grad_row(l, y[k], n, c);
    for (int j = 0; j < c; j++) {
      double *g = gw + j * d;
      for (int64_t t = 0; t < d; t++) g[t] += l[j] * zk[t];
      gb[j] += l[j];
    }
  }
}

/* The same with two matrix products over all rows (large heads). */
static void gradient_matrix(logreg_work *w, const int32_t *y, int64_t n, int64_t d, int c, double l2) {
  const double *W = w->param, *b = w->param + c * d;
  for (int64_t k = 0; k < n; k++) memcpy(w->logits + k * c, b, (size_t)c * sizeof *b);
  gemm_nt(n, c, d, w->z, W, 1.0, w->logits);
  for (int64_t k = 0; k < n; k++) softmax_grad_row(w->logits + k * c, y[k], n, c);
  memcpy(w->grad, W, (size_t)(c * d) * sizeof *W);
  gemm_tn(c, d, n, w->logits, w->z, l2, w->grad);
  double *gb = w->grad + c * d;
  memset(gb, 0, (size_t)c * sizeof *gb);
  for (int64_t k = 0; k < n; k++)
    for (int j = 0; j < c; j++) gb[j] += w->logits[k * c + j];
}

int sb_probe_logreg_fit(const sb_probe_rows *rows, const int32_t *y, int n_classes, const sb_probe_logreg_opts *opts,
                        sb_probe_linear *out) {
  int64_t n = rows->n, d = rows->dim, np = (int64_t)n_classes * d + n_classes;
  if (n <= 0 || n_classes <= 0) return sb_error_set(SB_ERR, "logistic regression: no rows or no classes to fit");
  for (int64_t k = 0; k < n; k++)
    if (y[k] < 0 || y[k] >= n_classes) return sb_error_set(SB_ERR, "logistic regression: label %d out of 0..%d", y[k], n_classes - 1);
  int steps = opts && opts->steps > 0 ? opts->steps : 500;
  double lr = opts && opts->lr > 0 ? opts->lr : fmin(0.2, 1.0 / sqrt((double)SB_MAX(d, 1))), l2 = opts ? opts->l2 : 0;
  logreg_work w = {.opt.n = np};
  bool fused = (double)n_classes * (double)d < k_fused_max;
  double *mean = sb_malloc((size_t)d * sizeof *mean), *inv_std = sb_malloc((size_t)d * sizeof *inv_std);
  w.z = sb_malloc((size_t)(n * d) * sizeof *w.z), w.logits = sb_malloc((size_t)((fused ? 1 : n) * n_classes) * sizeof *w.logits);
  w.grad = sb_malloc((size_t)np * sizeof *w.grad), w.param = sb_calloc((size_t)np, sizeof *w.param);
  w.opt.m = sb_calloc((size_t)np, sizeof *w.opt.m), w.opt.v = sb_calloc((size_t)np, sizeof *w.opt.v);
  int rc = mean && inv_std && w.z && w.logits && w.grad && w.param && w.opt.m && w.opt.v ? SB_OK : SB_ERR_NOMEM;
  if (rc == SB_OK) {
    scaler_fit(rows, mean, inv_std);
    standardise(rows, mean, inv_std, 0, n, w.z);
    for (int t = 1; t <= steps; t++) {
      if (fused) gradient_fused(&w, y, n, d, n_classes, l2);
      else gradient_matrix(&w, y, n, d, n_classes, l2);
      adam_step(&w.opt, w.param, w.grad, lr * 0.5 * (1.0 + cos(M_PI * (t - 1) / steps)), t);
    }
    rc = linear_alloc(out, d, n_classes);
  }
  if (rc == SB_OK) {
    memcpy(out->w, w.param, (size_t)(n_classes * d) * sizeof *out->w);
    memcpy(out->b, w.param + n_classes * d, (size_t)n_classes * sizeof *out->b);
    fold(out, mean, inv_std);
  }
  logreg_work_free(&w);
  free(mean), free(inv_std);
  return rc;
}
