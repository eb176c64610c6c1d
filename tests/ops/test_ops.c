/* test_ops.c — the op test, in the spirit of ggml's test-backend-ops: every
 * op case of cases.c runs on every backend, its forward is compared with a
 * double-precision reference (ref_ops.c) and the gradient of every trainable
 * input with central differences of that reference; then the autograd and
 * checkpointing checks of autograd_checks.c run. A backend other than cpu is
 * compared with the cpu results as well: bit for bit for the debug device
 * (debug_backend.c runs the cpu kernels through the host fallback), within
 * the case's tolerances for any other.
 *
 *   test_ops [-b backend] [-o op-substring] [-v]
 *
 * One line per case and backend, "OK" or "FAIL" with the largest errors; a
 * summary; the exit status is non-zero when anything failed.
 *
 * Per case (run_case):
 *   1. inputs: leaves with deterministic random values (seeded by the case
 *      name, so every backend sees the same numbers), viewed as the case says;
 *   2. forward on the device vs the reference on the same values in double;
 *   3. sb_backward of sum(out ⊙ R) with an explicit grad_out R; each trainable
 *      leaf's gradient vs central differences of the reference (eps 1e-6 in
 *      double), frozen and integer inputs must have no gradient buffer;
 *   4. the same backward seeded with a non-contiguous grad_out of equal
 *      values must give the same gradients (bit for bit on cpu and debug);
 *   5. optionally central differences through the float32 op itself;
 *   6. the backend's arena must be back where it started (no leaked tensor). */
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spatialboost/plugin.h"
#include "spatialboost/backend_plugin.h"
#include "spatialboost/registry.h"
#include "test_ops.h"

/* ---- reporting ---- */

static int g_passed, g_failed;
static bool g_verbose;

void report(const char *label, const char *name, bool ok, const char *fmt, ...) {
  char detail[512] = "";
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
  }
  printf("%-6s %-40s %s  %s\n", label, name, ok ? "OK  " : "FAIL", detail);
  fflush(stdout);
  if (ok) g_passed++;
  else g_failed++;
}

/* Failure notes of one case, printed under its line. */
static char g_notes[4096];

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...) {
  size_t n = strlen(g_notes);
  if (n + 8 >= sizeof g_notes) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_notes + n, sizeof g_notes - n, fmt, ap);
  va_end(ap);
  n = strlen(g_notes);
  if (n + 1 < sizeof g_notes) g_notes[n] = '\n', g_notes[n + 1] = '\0';
}

/* ---- crashes ---- */

/* What runs now, for the crash report: on the debug device a fault means the
 * core touched device memory from the host. */
static char g_running[160] = "startup";

static void on_fault(int sig) {
  static const char head[] = "\nCRASH (signal) while running: ";
  static const char tail[] = "\n  (on the debug device: the core dereferenced device memory on the host)\n";
  (void)!write(2, head, sizeof head - 1);
  (void)!write(2, g_running, strlen(g_running));
  (void)!write(2, tail, sizeof tail - 1);
  signal(sig, SIG_DFL);
  raise(sig);
}

/* ---- deterministic random numbers (splitmix64) ---- */

typedef struct rng {
  uint64_t s;
} rng;

static uint64_t rng_next(rng *r) {
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static double rng_uniform(rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

static rng rng_for(const char *name, uint64_t salt) {
  uint64_t h = 1469598103934665603ull;
  for (const char *p = name; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ull;
  rng r = {h ^ (salt * 0x2545f4914f6cdd1dull)};
  rng_next(&r);
  return r;
}

/* ---- comparisons ---- */

typedef struct stats {
  double max_err;   /* largest |got - want| */
  double worst;     /* largest |got - want| / (atol + rtol·|want|) */
  int64_t bad;
} stats;

static bool close_enough(double got, double want, double rtol, double atol, stats *s) {
  if (isinf(want) || isnan(want)) {
    bool ok = isnan(want) ? isnan(got) : got == want;
    if (!ok) s->bad++, s->worst = INFINITY;
    return ok;
  }
  double err = fabs(got - want), lim = atol + rtol * fabs(want);
  if (!(err <= lim)) s->bad++; /* NaN lands here too */
  if (!(err <= s->max_err)) s->max_err = err;
  double ratio = lim > 0 ? err / lim : (err > 0 ? INFINITY : 0.0);
  if (!(ratio <= s->worst)) s->worst = ratio;
  return err <= lim;
}

/* ---- host-side values of the inputs ---- */

typedef struct leaf {
  bool own;            /* false: the input aliases another input's leaf */
  rbuf b;              /* values, exactly representable in the leaf's dtype */
} leaf;

static void gen_leaf(const op_case *c, int i, leaf *L) {
  const in_spec *s = &c->in[i];
  L->own = s->alias == 0;
  if (!L->own) return;
  L->b.ndim = s->ndim;
  memcpy(L->b.shape, s->shape, sizeof L->b.shape);
  int64_t n = rb_numel(s->ndim, s->shape);
  L->b.v = malloc(sizeof(double) * (size_t)(n ? n : 1));
  rng r = rng_for(c->name, (uint64_t)i + 1);
  double lo = s->lo, hi = s->hi;
  if (lo == 0 && hi == 0) lo = -1, hi = 1;
  for (int64_t k = 0; k < n; k++) {
    double v;
    if (k < s->n_values) {
      v = s->values[k];
    } else if (s->kind == IN_INDEX) {
      v = lo + floor(rng_uniform(&r) * (hi - lo + 1));
    } else if (s->min_abs > 0) {
      double m = s->min_abs + rng_uniform(&r) * (fmax(fabs(lo), fabs(hi)) - s->min_abs);
      v = rng_uniform(&r) < 0.5 ? -m : m;
    } else {
      v = lo + rng_uniform(&r) * (hi - lo);
    }
    L->b.v[k] = s->kind == IN_INDEX ? v : ref_round_to(v, s->dtype);
  }
}

/* One view step on host values (materialised contiguous). */
static void host_view(const rbuf *src, const view_step *v, rbuf *dst) {
  int64_t st[SB_MAX_DIMS], vst[SB_MAX_DIMS], off = 0;
  rb_strides(src->ndim, src->shape, st);
  dst->ndim = src->ndim;
  memcpy(dst->shape, src->shape, sizeof dst->shape);
  memcpy(vst, st, sizeof vst);
  int64_t n = rb_numel(src->ndim, src->shape);
  if (v->kind == V_PERMUTE) {
    for (int i = 0; i < src->ndim; i++) dst->shape[i] = src->shape[v->perm[i]], vst[i] = st[v->perm[i]];
  } else if (v->kind == V_NARROW) {
    int d = v->dim < 0 ? v->dim + src->ndim : v->dim;
    dst->shape[d] = v->len, off = v->start * st[d];
  } else if (v->kind == V_RESHAPE) { /* values unchanged, new shape (one -1 inferred) */
    int64_t known = 1;
    dst->ndim = v->ndim;
    for (int i = 0; i < v->ndim; i++) known *= v->shape[i] == -1 ? 1 : v->shape[i];
    for (int i = 0; i < v->ndim; i++) dst->shape[i] = v->shape[i] == -1 ? n / known : v->shape[i];
    rb_strides(dst->ndim, dst->shape, vst);
  }
  int64_t m = rb_numel(dst->ndim, dst->shape), idx[SB_MAX_DIMS];
  dst->v = malloc(sizeof(double) * (size_t)(m ? m : 1));
  for (int64_t k = 0; k < m; k++) {
    int64_t rem = k, o = off;
    for (int i = dst->ndim - 1; i >= 0; i--) {
      idx[i] = rem % dst->shape[i];
      rem /= dst->shape[i];
      o += idx[i] * vst[i];
    }
    dst->v[k] = src->v[o];
  }
}

static const rbuf *leaf_of(const op_case *c, const leaf *L, int i) {
  return c->in[i].alias ? &L[c->in[i].alias - 1].b : &L[i].b;
}

/* The inputs as the op sees them (views applied). Free with free_rbufs. */
static void host_inputs(const op_case *c, const leaf *L, rbuf *eff) {
  for (int i = 0; i < c->n_in; i++) {
    rbuf cur = *leaf_of(c, L, i);
    int64_t n = rb_numel(cur.ndim, cur.shape);
    double *copy = malloc(sizeof(double) * (size_t)(n ? n : 1));
    memcpy(copy, cur.v, sizeof(double) * (size_t)n);
    cur.v = copy;
    for (int k = 0; k < MAX_VIEW && c->in[i].view[k].kind != V_NONE; k++) {
      rbuf next;
      host_view(&cur, &c->in[i].view[k], &next);
      free(cur.v);
      cur = next;
    }
    eff[i] = cur;
  }
}

static void free_rbufs(rbuf *b, int n) {
  for (int i = 0; i < n; i++) free(b[i].v), b[i].v = NULL;
}

static int n_outputs(const op_case *c) { return c->n_out ? c->n_out : 1; }

static void alloc_outputs(const op_case *c, rbuf *out) {
  for (int k = 0; k < n_outputs(c); k++) {
    out[k].ndim = c->out[k].ndim;
    memcpy(out[k].shape, c->out[k].shape, sizeof out[k].shape);
    int64_t n = rb_numel(out[k].ndim, out[k].shape);
    out[k].v = calloc((size_t)(n ? n : 1), sizeof(double));
  }
}

/* The reference's outputs for the current leaf values. */
static void eval_ref(const op_case *c, const leaf *L, rbuf *out) {
  rbuf eff[MAX_IN];
  host_inputs(c, L, eff);
  c->ref(c, eff, out);
  free_rbufs(eff, c->n_in);
}

/* ---- device-side tensors ---- */

static sb_tensor *upload(sb_dtype dtype, const rbuf *b) {
  int64_t n = rb_numel(b->ndim, b->shape);
  void *buf = malloc((size_t)(n ? n : 1) * 8);
  for (int64_t k = 0; k < n; k++) {
    double v = b->v[k];
    switch (dtype) {
    case SB_DTYPE_F32: ((float *)buf)[k] = (float)v; break;
    case SB_DTYPE_BF16: { /* v is a bf16 value: its float's top half */
      float f = (float)v;
      uint32_t u;
      memcpy(&u, &f, 4);
      ((uint16_t *)buf)[k] = (uint16_t)(u >> 16);
      break;
    }
    case SB_DTYPE_F16: ((uint16_t *)buf)[k] = sb_f32_to_f16((float)v); break; /* exact: v is an f16 value */
    case SB_DTYPE_I32: ((int32_t *)buf)[k] = (int32_t)v; break;
    case SB_DTYPE_I64: ((int64_t *)buf)[k] = (int64_t)v; break;
    case SB_DTYPE_U8: ((uint8_t *)buf)[k] = (uint8_t)v; break;
    default: break;
    }
  }
  sb_tensor *t = sb_tensor_from_host(dtype, b->ndim, b->shape, buf);
  free(buf);
  return t;
}

static sb_tensor *device_view(sb_tensor *t, const view_step *v) {
  switch (v->kind) {
  case V_PERMUTE: return sb_op_permute(t, v->perm);
  case V_NARROW: return sb_op_narrow(t, v->dim, v->start, v->len);
  case V_RESHAPE: return sb_op_reshape(t, v->ndim, v->shape);
  default: return t;
  }
}

/* Leaves (trainable ones marked) and the viewed inputs, in the current scope. */
static int device_inputs(const op_case *c, const leaf *L, bool trainable, sb_tensor **leaves,
                         sb_tensor **in) {
  for (int i = 0; i < c->n_in; i++) {
    leaves[i] = NULL;
    if (!L[i].own) continue;
    leaves[i] = upload(c->in[i].dtype, &L[i].b);
    if (!leaves[i]) return SB_ERR;
    if (trainable && c->in[i].kind == IN_PARAM && sb_tensor_set_requires_grad(leaves[i], true))
      return SB_ERR;
  }
  for (int i = 0; i < c->n_in; i++) {
    sb_tensor *t = leaves[c->in[i].alias ? c->in[i].alias - 1 : i];
    for (int k = 0; k < MAX_VIEW && c->in[i].view[k].kind != V_NONE; k++) t = device_view(t, &c->in[i].view[k]);
    if (!(in[i] = t)) return SB_ERR;
  }
  return SB_OK;
}

static int run_forward(const op_case *c, sb_tensor *const *in, sb_tensor **out) {
  for (int k = 0; k < MAX_OUT; k++) out[k] = NULL;
  int rc = c->run(c, in, out);
  for (int k = 0; rc == SB_OK && k < n_outputs(c); k++)
    if (!out[k]) rc = SB_ERR;
  return rc;
}

static double *download(const sb_tensor *t) {
  int64_t n = sb_tensor_numel(t);
  float *f = malloc(sizeof(float) * (size_t)(n ? n : 1));
  double *d = malloc(sizeof(double) * (size_t)(n ? n : 1));
  bool ok = sb_tensor_to_host_f32(t, f, (size_t)n) == SB_OK;
  for (int64_t k = 0; k < n; k++) d[k] = ok ? f[k] : NAN;
  free(f);
  return d;
}

/* ---- results kept for the cross-backend comparison ---- */

typedef struct case_result {
  bool ran;
  double *vals; /* outputs, then the gradients of the trainable leaves */
  int64_t n;
} case_result;

static void result_push(case_result *r, const double *v, int64_t n) {
  r->vals = realloc(r->vals, sizeof(double) * (size_t)(r->n + n + 1));
  memcpy(r->vals + r->n, v, sizeof(double) * (size_t)n);
  r->n += n;
}

/* ---- one case on the current backend ---- */

typedef struct backend_info {
  sb_backend *be;
  const char *name;
  bool bitwise_vs_cpu; /* runs the cpu kernels: results must match cpu's bit for bit */
} backend_info;

static bool has_params(const op_case *c) {
  for (int i = 0; i < c->n_in; i++)
    if (c->in[i].kind == IN_PARAM && !c->in[i].alias) return true;
  return false;
}

/* sum_k sum(out_k ⊙ R_k) as one 0-d tensor, for cases with several outputs. */
static sb_tensor *weighted_sum(const op_case *c, sb_tensor **out, sb_tensor **R) {
  sb_tensor *total = NULL;
  for (int k = 0; k < n_outputs(c); k++) {
    sb_tensor *t = sb_op_sum_all(sb_op_mul(out[k], R[k]));
    total = total ? sb_op_add(total, t) : t;
  }
  return total;
}

/* Backward of sum(out ⊙ R). noncontig: pass R as a transposed view. */
static int backward(const op_case *c, sb_tensor **out, const rbuf *R, bool noncontig) {
  sb_tensor *Rt[MAX_OUT];
  for (int k = 0; k < n_outputs(c); k++) {
    if (!noncontig) {
      Rt[k] = upload(SB_DTYPE_F32, &R[k]);
      continue;
    }
    /* the same values stored transposed (dims 0 and last), viewed back */
    int nd = R[k].ndim;
    rbuf T;
    view_step sw = {.kind = V_PERMUTE};
    for (int i = 0; i < nd; i++) sw.perm[i] = i;
    sw.perm[0] = nd - 1, sw.perm[nd - 1] = 0;
    host_view(&R[k], &sw, &T);
    Rt[k] = sb_op_transpose(upload(SB_DTYPE_F32, &T), 0, nd - 1);
    free(T.v);
  }
  if (n_outputs(c) == 1) return sb_backward(out[0], Rt[0]);
  return sb_backward(weighted_sum(c, out, Rt), NULL);
}

/* Whether the backward can be seeded with a non-contiguous grad_out. */
static bool can_transpose_seed(const op_case *c) {
  if (n_outputs(c) != 1 || c->out[0].ndim < 2) return false;
  return c->out[0].shape[0] > 1 && c->out[0].shape[c->out[0].ndim - 1] > 1;
}

static double objective_delta(const op_case *c, const rbuf *op, const rbuf *om, const rbuf *R,
                              double *scale, double *scale_fwd) {
  double d = 0.0;
  *scale = 0.0;
  if (scale_fwd) *scale_fwd = 0.0;
  for (int k = 0; k < n_outputs(c); k++) {
    int64_t n = rb_numel(op[k].ndim, op[k].shape);
    for (int64_t i = 0; i < n; i++) {
      if (op[k].v[i] == om[k].v[i]) continue;
      d += (op[k].v[i] - om[k].v[i]) * R[k].v[i];
      *scale += (fabs(op[k].v[i]) + fabs(om[k].v[i])) * fabs(R[k].v[i]);
      if (scale_fwd)
        *scale_fwd += fabs(R[k].v[i]) * (2 * c->fwd.atol + c->fwd.rtol * (fabs(op[k].v[i]) + fabs(om[k].v[i])));
    }
  }
  return d;
}

/* Expected gradients of leaf i: the conventional one, or central
 * differences of the reference in double. noise[e]: the differences' own
 * error bound (rounding of the reference outputs, ~32 double roundings each,
 * over the step; plus the O(h²) truncation with |f'''| = O(1)). */
static void expected_grad(const op_case *c, leaf *L, int i, const rbuf *R, double *g, double *noise) {
  int64_t n = rb_numel(L[i].b.ndim, L[i].b.shape);
  if (c->ref_grad) {
    rbuf eff[MAX_IN];
    host_inputs(c, L, eff);
    c->ref_grad(c, eff, R, i, g);
    free_rbufs(eff, c->n_in);
    for (int64_t e = 0; e < n; e++) noise[e] = 0.0;
    return;
  }
  rbuf op[MAX_OUT], om[MAX_OUT];
  alloc_outputs(c, op);
  alloc_outputs(c, om);
  for (int64_t e = 0; e < n; e++) {
    double x0 = L[i].b.v[e], h = 1e-6 * fmax(1.0, fabs(x0));
    L[i].b.v[e] = x0 + h;
    double xp = L[i].b.v[e];
    eval_ref(c, L, op);
    L[i].b.v[e] = x0 - h;
    double xm = L[i].b.v[e];
    eval_ref(c, L, om);
    L[i].b.v[e] = x0;
    double scale;
    g[e] = objective_delta(c, op, om, R, &scale, NULL) / (xp - xm);
    noise[e] = 32 * DBL_EPSILON * scale / (xp - xm) + h * h;
  }
  free_rbufs(op, n_outputs(c));
  free_rbufs(om, n_outputs(c));
}

/* Central differences through the float32 op (grad mode off), for a few
 * elements of every trainable leaf, against the analytic gradient g. */
static bool fd32_check(const op_case *c, leaf *L, const rbuf *R, double **grads, stats *st) {
  bool ok = true;
  sb_grad_push(false);
  for (int i = 0; i < c->n_in && ok; i++) {
    if (!L[i].own || c->in[i].kind != IN_PARAM) continue;
    int64_t n = rb_numel(L[i].b.ndim, L[i].b.shape), picks = n < 6 ? n : 6;
    for (int64_t p = 0; p < picks && ok; p++) {
      int64_t e = p * n / picks;
      double x0 = L[i].b.v[e], h = c->fd32 * fmax(1.0, fabs(x0));
      rbuf o[2][MAX_OUT];
      double x[2];
      for (int s = 0; s < 2 && ok; s++) {
        x[s] = L[i].b.v[e] = ref_round_to(x0 + (s ? -h : h), c->in[i].dtype);
        sb_scope_begin();
        sb_tensor *lv[MAX_IN], *in[MAX_IN], *out[MAX_OUT];
        ok = device_inputs(c, L, false, lv, in) == SB_OK && run_forward(c, in, out) == SB_OK;
        for (int k = 0; k < n_outputs(c); k++) {
          o[s][k] = (rbuf){.ndim = c->out[k].ndim};
          memcpy(o[s][k].shape, c->out[k].shape, sizeof o[s][k].shape);
          o[s][k].v = ok ? download(out[k]) : calloc(1, sizeof(double));
        }
        sb_scope_end();
      }
      L[i].b.v[e] = x0;
      if (ok) {
        double scale, scale_fwd;
        double fd = objective_delta(c, o[0], o[1], R, &scale, &scale_fwd) / (x[0] - x[1]);
        /* rounding: each changed output carries the forward tolerance in both
         * evaluations; truncation: h²·|f'''|/6 with |f'''| bounded by the
         * (O(1)-scaled) outputs' weight in the objective. */
        double atol = scale_fwd / (x[0] - x[1]) + h * h * (1.0 + scale);
        if (!close_enough(grads[i][e], fd, 1e-3, atol, st)) {
          note("  fd32: input %d element %lld: analytic %.9g, float32 differences %.9g", i,
               (long long)e, grads[i][e], fd);
          ok = false;
        }
      }
      free_rbufs(o[0], n_outputs(c));
      free_rbufs(o[1], n_outputs(c));
    }
  }
  sb_grad_pop();
  if (!ok && !g_notes[0]) note("  fd32: %s", sb_error_message());
  return ok;
}

static bool check_shape(const op_case *c, int k, const sb_tensor *t) {
  const out_spec *o = &c->out[k];
  bool ok = sb_tensor_ndim(t) == o->ndim && sb_tensor_dtype(t) == o->dtype;
  for (int i = 0; ok && i < o->ndim; i++) ok = sb_tensor_dim(t, i) == o->shape[i];
  if (!ok) {
    char a[64], b[64];
    note("  output %d is %s %s, expected %s %s", k, sb_dtype_name(sb_tensor_dtype(t)),
         sb_tensor_shape_str(t, a, 64), sb_dtype_name(o->dtype), sb_shape_str(o->ndim, o->shape, b, 64));
  }
  return ok;
}

static bool run_case(const op_case *c, const backend_info *bi, const case_result *cpu,
                     case_result *res, bool quiet) {
  g_notes[0] = '\0';
  snprintf(g_running, sizeof g_running, "%s %s", bi->name, c->name);
  bool ok = true, params = has_params(c);
  stats fwd = {0}, grad = {0}, fd32 = {0}, xbe = {0};
  int n_out = n_outputs(c);
  leaf L[MAX_IN];
  rbuf want[MAX_OUT], R[MAX_OUT];
  double *got[MAX_OUT] = {0}, *grads[MAX_IN] = {0};
  memset(L, 0, sizeof L);
  for (int i = 0; i < c->n_in; i++) gen_leaf(c, i, &L[i]);
  alloc_outputs(c, want);
  alloc_outputs(c, R);
  rng rr = rng_for(c->name, 1000);
  for (int k = 0; k < n_out; k++)
    for (int64_t e = 0; e < rb_numel(R[k].ndim, R[k].shape); e++) R[k].v[e] = (float)(2.0 * rng_uniform(&rr) - 1.0); /* as uploaded */
  eval_ref(c, L, want);

  sb_memory_stats m0, m1;
  sb_backend_memory_stats(bi->be, &m0);
  sb_error_clear();
  sb_scope_begin();
  sb_tensor *leaves[MAX_IN], *in[MAX_IN], *out[MAX_OUT];
  /* 2. forward */
  if (device_inputs(c, L, true, leaves, in) || run_forward(c, in, out)) {
    note("  forward failed: %s", sb_error_message());
    ok = false;
  }
  for (int k = 0; ok && k < n_out; k++) {
    if (!check_shape(c, k, out[k])) {
      ok = false;
      break;
    }
    got[k] = download(out[k]);
    int64_t n = rb_numel(c->out[k].ndim, c->out[k].shape);
    for (int64_t e = 0; e < n; e++)
      if (!close_enough(got[k][e], want[k].v[e], c->fwd.rtol, c->fwd.atol, &fwd) && fwd.bad == 1)
        note("  output %d element %lld: got %.9g, want %.9g", k, (long long)e, got[k][e], want[k].v[e]);
    result_push(res, got[k], n);
  }
  if (fwd.bad) ok = false;
  /* 3. backward and gradients */
  if (ok && params) {
    if (backward(c, out, R, false)) {
      note("  backward failed: %s", sb_error_message());
      ok = false;
    } else if (sb_tape_size() != 0) {
      note("  the tape holds %zu nodes after backward", sb_tape_size());
      ok = false;
    }
  }
  for (int i = 0; ok && i < c->n_in; i++) {
    if (!L[i].own) continue;
    sb_tensor *g = sb_tensor_grad(leaves[i]);
    if (c->in[i].kind != IN_PARAM || !params) {
      if (g) {
        note("  input %d (%s) got a gradient buffer", i, c->in[i].kind == IN_INDEX ? "integer" : "frozen");
        ok = false;
      }
      continue;
    }
    if (!g || sb_tensor_dtype(g) != SB_DTYPE_F32 || !sb_tensor_same_shape(g, leaves[i])) {
      note("  input %d: %s", i, g ? "gradient of the wrong shape or dtype" : "no gradient");
      ok = false;
      continue;
    }
    int64_t n = sb_tensor_numel(g);
    grads[i] = download(g);
    double *exp_g = malloc(sizeof(double) * (size_t)(n ? n : 1));
    double *noise = malloc(sizeof(double) * (size_t)(n ? n : 1));
    expected_grad(c, L, i, R, exp_g, noise);
    for (int64_t e = 0; e < n; e++) {
      int64_t before = grad.bad;
      close_enough(grads[i][e], exp_g[e], c->grad.rtol, c->grad.atol + noise[e], &grad);
      if (grad.bad == 1 && before == 0)
        note("  grad of input %d element %lld: got %.9g, want %.9g", i, (long long)e, grads[i][e], exp_g[e]);
    }
    result_push(res, grads[i], n);
    free(exp_g), free(noise);
  }
  if (grad.bad) ok = false;
  sb_scope_end();
  sb_tape_clear();

  /* 4. the same backward seeded with a non-contiguous grad_out */
  bool nc_done = false;
  if (ok && params && can_transpose_seed(c)) {
    sb_scope_begin();
    bool nc_ok = device_inputs(c, L, true, leaves, in) == SB_OK && run_forward(c, in, out) == SB_OK &&
                 backward(c, out, R, true) == SB_OK;
    if (!nc_ok) note("  non-contiguous grad_out: %s", sb_error_message());
    for (int i = 0; nc_ok && i < c->n_in; i++) {
      if (!grads[i]) continue;
      double *g2 = download(sb_tensor_grad(leaves[i]));
      int64_t n = rb_numel(L[i].b.ndim, L[i].b.shape);
      /* cpu and the debug device are deterministic: bit for bit; another
       * device may sum in a different order (atomics): within tolerance */
      bool exact = bi->bitwise_vs_cpu || bi->be == sb_backend_cpu();
      stats ncs = {0};
      for (int64_t e = 0; e < n && nc_ok; e++)
        if (exact ? g2[e] != grads[i][e] : !close_enough(g2[e], grads[i][e], c->grad.rtol, c->grad.atol, &ncs)) {
          note("  non-contiguous grad_out: grad of input %d element %lld is %.9g, %.9g with a contiguous one",
               i, (long long)e, g2[e], grads[i][e]);
          nc_ok = false;
        }
      free(g2);
    }
    sb_scope_end();
    sb_tape_clear();
    ok = ok && nc_ok;
    nc_done = true;
  }
  /* 5. central differences through the float32 op */
  bool fd32_done = false;
  if (ok && params && c->fd32 > 0) {
    ok = fd32_check(c, L, R, grads, &fd32);
    fd32_done = true;
  }
  /* 6. no tensor outlived the case */
  sb_backend_memory_stats(bi->be, &m1);
  if (m1.in_use != m0.in_use) {
    note("  %lld bytes of the %s arena still in use after the case", (long long)(m1.in_use - m0.in_use),
         bi->name);
    ok = false;
  }
  /* cross-backend comparison */
  bool compared = false;
  if (cpu && cpu->ran && res->n == cpu->n) {
    compared = true;
    for (int64_t e = 0; e < res->n; e++) {
      bool same = bi->bitwise_vs_cpu ? memcmp(&res->vals[e], &cpu->vals[e], sizeof(double)) == 0 ||
                                           (isnan(res->vals[e]) && isnan(cpu->vals[e]))
                                     : close_enough(res->vals[e], cpu->vals[e], c->fwd.rtol + c->grad.rtol,
                                                    c->fwd.atol + c->grad.atol, &xbe);
      if (!same) {
        if (!xbe.bad) note("  value %lld differs from cpu: %.9g vs %.9g", (long long)e, res->vals[e], cpu->vals[e]);
        xbe.bad++;
      }
    }
    if (xbe.bad) ok = false;
  } else if (cpu && cpu->ran && ok) {
    note("  %lld values, cpu had %lld", (long long)res->n, (long long)cpu->n);
    ok = false;
  }
  res->ran = ok;

  if (!quiet) {
    char detail[256];
    int n = snprintf(detail, sizeof detail, "fwd %.1e (%.2f)", fwd.max_err, fwd.worst);
    if (params) n += snprintf(detail + n, sizeof detail - (size_t)n, "  grad %.1e (%.2f)", grad.max_err, grad.worst);
    if (fd32_done) n += snprintf(detail + n, sizeof detail - (size_t)n, "  fd32 (%.2f)", fd32.worst);
    if (nc_done) n += snprintf(detail + n, sizeof detail - (size_t)n, "  nc-grad");
    if (compared) snprintf(detail + n, sizeof detail - (size_t)n, "  =cpu%s", bi->bitwise_vs_cpu ? " bitwise" : "");
    report(bi->name, c->name, ok, "%s", detail);
    if (g_verbose)
      note("  tolerances in units of 2^-24: fwd rtol %.1f atol %.1f, grad rtol %.1f atol %.1f%s",
           c->fwd.rtol / U32, c->fwd.atol / U32, c->grad.rtol / U32, c->grad.atol / U32,
           c->ref_grad ? " (conventional gradient)" : "");
    if ((!ok || g_verbose) && g_notes[0]) printf("%s", g_notes);
  }
  for (int k = 0; k < n_out; k++) free(got[k]);
  for (int i = 0; i < c->n_in; i++) free(grads[i]), free(L[i].b.v);
  free_rbufs(want, n_out);
  free_rbufs(R, n_out);
  sb_tape_clear();
  sb_error_clear();
  return ok;
}

/* ---- backends ---- */

/* A backend by name: registered already, or from a backend plugin. */
static sb_backend *find_backend(const char *name) {
  sb_backend *be = sb_backend_get(name);
  if (be) return be;
  const sb_plugin *p = sb_plugin_find(name, SB_PLUGIN_BACKEND);
  const sb_plugin_descriptor *d = p ? sb_plugin_descriptor_of(p) : NULL;
  if (!d || d->kind != SB_PLUGIN_BACKEND) return NULL;
  const sb_backend_plugin_vtable *vt = d->vtable;
  sb_plugin_ctx ctx = {.struct_size = sizeof ctx, .component = "device"};
  return vt->init(&ctx);
}

static void usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [-b backend] [-o op-substring] [-v]\n"
          "  -b NAME  run only on this backend (cpu, debug, or a backend plugin)\n"
          "  -o TEXT  run only the cases whose name contains TEXT\n"
          "  -v       print each case's tolerances and notes\n",
          argv0);
}

int main(int argc, char **argv) {
  const char *only_backend = NULL, *filter = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-b") == 0 && i + 1 < argc) only_backend = argv[++i];
    else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) filter = argv[++i];
    else if (strcmp(argv[i], "-v") == 0) g_verbose = true;
    else {
      usage(argv[0]);
      return 2;
    }
  }
  signal(SIGSEGV, on_fault);
  signal(SIGBUS, on_fault);
  sb_backend *cpu = sb_backend_cpu(), *dbg = debug_backend_register();
  if (!dbg) {
    fprintf(stderr, "cannot register the debug backend: %s\n", sb_error_message());
    return 1;
  }
  /* every registered backend: cpu first (the baseline), the debug device,
   * then any other that is known by name (a device backend registered by a
   * plugin, or the one named with -b) */
  backend_info bes[8];
  int n_be = 0;
  bes[n_be++] = (backend_info){cpu, "cpu", false};
  bes[n_be++] = (backend_info){dbg, "debug", true};
  if (only_backend && strcmp(only_backend, "cpu") != 0 && strcmp(only_backend, "debug") != 0) {
    sb_backend *be = find_backend(only_backend);
    if (!be) {
      fprintf(stderr, "no backend '%s': %s\n", only_backend, sb_error_message());
      return 2;
    }
    bes[n_be++] = (backend_info){be, sb_backend_name(be), false};
  } else {
    sb_backend *be = sb_backend_get("cuda"); /* registered by a plugin loaded earlier */
    sb_error_clear();
    if (be) bes[n_be++] = (backend_info){be, sb_backend_name(be), false};
  }

  case_result *cpu_res = calloc((size_t)g_n_cases, sizeof(case_result));
  for (int b = 0; b < n_be; b++) {
    const backend_info *bi = &bes[b];
    bool selected = !only_backend || strcmp(only_backend, bi->name) == 0;
    if (!selected && b != 0) continue; /* cpu always runs: it is the baseline */
    if (selected) printf("== backend %s: %s\n", bi->name, sb_backend_describe(bi->be));
    sb_backend_set_current(bi->be);
    for (int i = 0; i < g_n_cases; i++) {
      const op_case *c = &g_cases[i];
      if (filter && !strstr(c->name, filter)) continue;
      case_result mine = {0};
      run_case(c, bi, b == 0 ? NULL : &cpu_res[i], b == 0 ? &cpu_res[i] : &mine, !selected);
      free(mine.vals);
    }
    snprintf(g_running, sizeof g_running, "%s autograd checks", bi->name);
    if (selected) run_autograd_checks(bi->name, filter, g_verbose);
    sb_backend_set_current(cpu);
  }
  for (int i = 0; i < g_n_cases; i++) free(cpu_res[i].vals);
  free(cpu_res);
  if (g_passed + g_failed == 0) {
    fprintf(stderr, "no case or check matches '%s'\n", filter ? filter : "");
    return 2;
  }
  printf("== %d passed, %d failed\n", g_passed, g_failed);
  return g_failed ? 1 : 0;
}
