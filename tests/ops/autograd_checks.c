/* autograd_checks.c — checks of the autograd engine itself, beyond single
 * ops: frozen weights (no gradient buffer, yet gradients flow through them),
 * grad mode off (nothing recorded), accumulation over two backward calls, a
 * tensor used twice, tied weights, detach, the tape's lifetime, and gradient
 * checkpointing of a transformer-style block (equal gradients, fewer tape
 * nodes and less memory held during the forward); also the losses' refusal
 * of a target outside the vocabulary. Each check runs on the current
 * backend and reports one line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_ops.h"

/* ---- helpers ---- */

static char g_why[512];

#define EXPECT(cond, ...)                                                                          \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      snprintf(g_why, sizeof g_why, __VA_ARGS__);                                                  \
      return false;                                                                                \
    }                                                                                              \
  } while (0)

static uint64_t g_seed = 12345;

static double next_uniform(void) {
  g_seed = g_seed * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(g_seed >> 11) * 0x1.0p-53 * 2.0 - 1.0;
}

/* A new float32 tensor of uniform values in [-1, 1]; the values go to *host
 * when host is not NULL (caller frees). */
static sb_tensor *rand_tensor(int ndim, const int64_t *shape, bool trainable, float **host) {
  int64_t n = rb_numel(ndim, shape);
  float *v = malloc(sizeof(float) * (size_t)(n ? n : 1));
  for (int64_t i = 0; i < n; i++) v[i] = (float)next_uniform();
  sb_tensor *t = sb_tensor_from_host(SB_DTYPE_F32, ndim, shape, v);
  if (t && trainable) sb_tensor_set_requires_grad(t, true);
  if (host) *host = v;
  else free(v);
  return t;
}

/* The values of t in a new malloc'd array (NULL when t is NULL). */
static float *values(const sb_tensor *t) {
  if (!t) return NULL;
  int64_t n = sb_tensor_numel(t);
  float *v = malloc(sizeof(float) * (size_t)(n ? n : 1));
  if (sb_tensor_to_host_f32(t, v, (size_t)n)) {
    free(v);
    return NULL;
  }
  return v;
}

static bool same_bits(const float *a, const float *b, int64_t n, double *max_diff) {
  bool same = true;
  *max_diff = 0.0;
  for (int64_t i = 0; i < n; i++) {
    if (memcmp(&a[i], &b[i], sizeof(float)) != 0) same = false;
    *max_diff = fmax(*max_diff, fabs((double)a[i] - (double)b[i]));
  }
  return same;
}

/* ---- frozen weights ---- */

/* y = linear(gelu(x), w, b) with w and b frozen: w and b never get a
 * gradient buffer, x's gradient is gelu'(x)·(R·w). */
static bool chk_frozen_weight(void) {
  int64_t xs[2] = {3, 4}, ws[2] = {5, 4}, bs[1] = {5}, ys[2] = {3, 5};
  float *xv, *wv, *rv;
  sb_tensor *x = rand_tensor(2, xs, true, &xv), *w = rand_tensor(2, ws, false, &wv),
            *b = rand_tensor(1, bs, false, NULL), *R = rand_tensor(2, ys, false, &rv);
  sb_tensor *y = sb_op_linear(sb_op_gelu(x), w, b);
  bool ok = y && sb_tensor_requires_grad(y) && sb_backward(y, R) == SB_OK;
  float *gx = ok ? values(sb_tensor_grad(x)) : NULL;
  bool frozen_clean = !sb_tensor_grad(w) && !sb_tensor_grad(b) && !sb_tensor_requires_grad(w);
  double worst = 0.0;
  for (int64_t i = 0; gx && i < 3; i++)
    for (int64_t j = 0; j < 4; j++) {
      double s = 0.0, xx = xv[i * 4 + j];
      for (int64_t o = 0; o < 5; o++) s += (double)rv[i * 5 + o] * wv[o * 4 + j];
      double d = 0.5 * (1.0 + erf(xx / sqrt(2.0))) + xx * exp(-0.5 * xx * xx) / sqrt(2.0 * M_PI);
      double want = d * s, err = fabs(gx[i * 4 + j] - want);
      /* a 5-term float32 product (T_DOT(5): 25u) times gelu' (T_LIBM: 32u) */
      worst = fmax(worst, err / ((25 + 32) * U32 * (1.0 + fabs(want))));
    }
  free(xv), free(wv), free(rv);
  EXPECT(ok && gx, "forward/backward failed: %s", sb_error_message());
  free(gx);
  EXPECT(frozen_clean, "a frozen weight got a gradient buffer");
  EXPECT(worst <= 1.0, "x's gradient is off by %.2f of the tolerance", worst);
  return true;
}

/* ---- grad mode ---- */

static bool chk_grad_mode_off(void) {
  int64_t s[2] = {3, 4};
  sb_tensor *x = rand_tensor(2, s, true, NULL), *w = rand_tensor(2, s, true, NULL);
  sb_tape_clear();
  sb_grad_push(false);
  EXPECT(!sb_grad_enabled(), "grad mode still on after sb_grad_push(false)");
  sb_tensor *y = sb_op_sum_all(sb_op_mul(sb_op_gelu(x), sb_op_layer_norm(w, NULL, NULL, 1e-5f)));
  size_t taped = sb_tape_size();
  bool y_grad = y && sb_tensor_requires_grad(y);
  /* nested: on inside off records again */
  sb_grad_push(true);
  sb_tensor *z = sb_op_scale(x, 2.0f);
  size_t taped_inner = sb_tape_size();
  sb_grad_pop();
  bool still_off = !sb_grad_enabled();
  sb_grad_pop();
  EXPECT(y, "forward failed: %s", sb_error_message());
  EXPECT(taped == 0, "grad mode off recorded %zu tape nodes", taped);
  EXPECT(!y_grad, "a result computed with grad mode off requires a gradient");
  EXPECT(taped_inner == 1 && z && sb_tensor_requires_grad(z), "grad mode on inside off did not record");
  EXPECT(still_off && sb_grad_enabled(), "sb_grad_pop did not restore the modes");
  EXPECT(sb_backward(y, NULL) != SB_OK, "backward of an unrecorded result succeeded");
  EXPECT(strstr(sb_error_message(), "does not require a gradient") != NULL,
         "unexpected message: %s", sb_error_message());
  sb_tape_clear();
  EXPECT(!sb_tensor_grad(x) && !sb_tensor_grad(w), "a gradient appeared without backward");
  return true;
}

/* ---- accumulation across backward calls ---- */

/* Two backward calls add up: grad = fl(fl(R1·c) + fl(R2·c)); zero_grad and
 * free_grad reset it. */
static bool chk_accumulate(void) {
  int64_t s[2] = {4, 3};
  float *cv, *r1, *r2;
  sb_tensor *x = rand_tensor(2, s, true, NULL), *c = rand_tensor(2, s, false, &cv);
  sb_tensor *R1 = rand_tensor(2, s, false, &r1), *R2 = rand_tensor(2, s, false, &r2);
  bool ok = sb_backward(sb_op_mul(x, c), R1) == SB_OK && sb_backward(sb_op_mul(x, c), R2) == SB_OK;
  float *g = ok ? values(sb_tensor_grad(x)) : NULL;
  bool exact = g != NULL;
  for (int i = 0; g && i < 12; i++) {
    volatile float a = r1[i] * cv[i], b = r2[i] * cv[i];
    volatile float want = a + b;
    if (g[i] != want) exact = false;
  }
  free(g), free(cv), free(r1), free(r2);
  EXPECT(ok, "backward failed: %s", sb_error_message());
  EXPECT(exact, "the gradient of two backward calls is not the sum of both");
  sb_tensor_zero_grad(x);
  float *z = values(sb_tensor_grad(x));
  bool zero = z != NULL;
  for (int i = 0; z && i < 12; i++) zero = zero && z[i] == 0.0f;
  free(z);
  EXPECT(zero, "zero_grad left non-zero values");
  sb_tensor_free_grad(x);
  EXPECT(!sb_tensor_grad(x), "free_grad left a buffer");
  return true;
}

/* ---- one tensor used twice ---- */

static bool chk_used_twice(void) {
  int64_t s[2] = {3, 4};
  float *xv, *rv;
  sb_tensor *x = rand_tensor(2, s, true, &xv), *R = rand_tensor(2, s, false, &rv);
  bool ok = sb_backward(sb_op_mul(x, x), R) == SB_OK;
  float *g = ok ? values(sb_tensor_grad(x)) : NULL;
  bool exact = g != NULL;
  for (int i = 0; g && i < 12; i++) {
    volatile float half = rv[i] * xv[i]; /* each use contributes fl(R·x) */
    if (g[i] != half + half) exact = false;
  }
  free(g), free(xv), free(rv);
  EXPECT(ok, "backward failed: %s", sb_error_message());
  EXPECT(exact, "mul(x, x): the gradient is not the sum of both uses");
  return true;
}

/* Tied weights: W feeds embedding and linear; its gradient equals the sum of
 * the gradients of two untied copies, bit for bit. */
static bool chk_tied_weights(void) {
  int64_t ws[2] = {6, 4}, ls[2] = {5, 6}, n = 5;
  int64_t ids_v[5] = {1, 3, 1, 0, 5};
  float *wv, *rv;
  sb_tensor *W = rand_tensor(2, ws, true, &wv), *R = rand_tensor(2, ls, false, &rv);
  sb_tensor *ids = sb_tensor_from_host(SB_DTYPE_I64, 1, &n, ids_v);
  sb_tensor *W1 = sb_tensor_from_host(SB_DTYPE_F32, 2, ws, wv), *W2 = sb_tensor_from_host(SB_DTYPE_F32, 2, ws, wv);
  sb_tensor_set_requires_grad(W1, true);
  sb_tensor_set_requires_grad(W2, true);
  bool ok = sb_backward(sb_op_linear(sb_op_embedding(W, ids, -1), W, NULL), R) == SB_OK &&
            sb_backward(sb_op_linear(sb_op_embedding(W1, ids, -1), W2, NULL), R) == SB_OK;
  float *g = ok ? values(sb_tensor_grad(W)) : NULL, *g1 = ok ? values(sb_tensor_grad(W1)) : NULL,
        *g2 = ok ? values(sb_tensor_grad(W2)) : NULL;
  bool exact = g && g1 && g2;
  double worst = 0.0;
  for (int i = 0; exact && i < 24; i++) {
    volatile float want = g2[i] + g1[i];
    worst = fmax(worst, fabs((double)g[i] - want));
    if (g[i] != want) exact = false;
  }
  free(g), free(g1), free(g2), free(wv), free(rv);
  EXPECT(ok, "backward failed: %s", sb_error_message());
  EXPECT(exact, "tied gradient differs from the sum of the untied ones by %.3g", worst);
  return true;
}

/* detach: a detached use contributes nothing. */
static bool chk_detach(void) {
  int64_t s[1] = {5};
  float *xv, *rv;
  sb_tensor *x = rand_tensor(1, s, true, &xv), *R = rand_tensor(1, s, false, &rv);
  sb_tensor *d = sb_tensor_detach(x);
  EXPECT(d && !sb_tensor_requires_grad(d), "a detached tensor requires a gradient");
  bool ok = sb_backward(sb_op_mul(d, x), R) == SB_OK;
  float *g = ok ? values(sb_tensor_grad(x)) : NULL;
  bool exact = g != NULL;
  for (int i = 0; g && i < 5; i++) {
    volatile float want = rv[i] * xv[i];
    if (g[i] != want) exact = false;
  }
  free(g), free(xv), free(rv);
  EXPECT(ok, "backward failed: %s", sb_error_message());
  EXPECT(exact, "the detached use contributed a gradient");
  return true;
}

/* The tape is empty after backward; a second backward of the same graph
 * fails with a message; leaves and op results obey set_requires_grad's rules. */
static bool chk_tape_lifetime(void) {
  int64_t s[2] = {2, 3};
  sb_tensor *x = rand_tensor(2, s, true, NULL), *R = rand_tensor(2, s, false, NULL);
  sb_tensor *y = sb_op_tanh(x);
  EXPECT(sb_tape_size() == 1, "tanh recorded %zu nodes", sb_tape_size());
  EXPECT(sb_backward(y, R) == SB_OK, "backward failed: %s", sb_error_message());
  EXPECT(sb_tape_size() == 0, "%zu nodes left after backward", sb_tape_size());
  EXPECT(sb_backward(y, R) != SB_OK, "a second backward of a used graph succeeded");
  EXPECT(sb_tensor_set_requires_grad(sb_op_tanh(x), false) != SB_OK, "set_requires_grad on an op result");
  int64_t n = 2;
  int64_t iv[2] = {0, 1};
  sb_tensor *ids = sb_tensor_from_host(SB_DTYPE_I64, 1, &n, iv);
  EXPECT(sb_tensor_set_requires_grad(ids, true) != SB_OK, "an integer tensor accepted requires_grad");
  EXPECT(sb_backward(sb_op_sum_all(x), NULL) == SB_OK, "backward of a 0-d result without grad_out failed");
  sb_tape_clear();
  return true;
}

/* Only two of three split pieces used: the third region's gradient is 0. */
static bool chk_split_partial(void) {
  int64_t s[2] = {3, 6}, sizes[3] = {2, 2, 2};
  float *rv;
  sb_tensor *x = rand_tensor(2, s, true, NULL), *p[3];
  int64_t ps[2] = {3, 2};
  sb_tensor *R = rand_tensor(2, ps, false, &rv);
  bool ok = sb_op_split(x, 1, sizes, 3, p) == SB_OK && sb_backward(sb_op_add(p[0], p[2]), R) == SB_OK;
  float *g = ok ? values(sb_tensor_grad(x)) : NULL;
  bool exact = g != NULL;
  for (int i = 0; g && i < 3; i++)
    for (int j = 0; j < 6; j++) {
      float want = j < 2 ? rv[i * 2 + j] : j < 4 ? 0.0f : rv[i * 2 + j - 4];
      if (g[i * 6 + j] != want) exact = false;
    }
  free(g), free(rv);
  EXPECT(ok, "split/backward failed: %s", sb_error_message());
  EXPECT(exact, "split pieces' gradients are not in place");
  return true;
}

/* ---- gradient checkpointing ---- */

typedef struct block_params {
  sb_tensor *ln_w, *ln_b, *w1, *b1, *w2, *b2;
} block_params;

/* layer_norm → linear → gelu → linear → residual add; parameters via ctx.
 * Its temporaries stay in the caller's scope: sb_checkpoint must release
 * them itself. */
static int block_fn_bare(void *ctx, sb_tensor *const *in, int n_in, sb_tensor **out, int n_out) {
  const block_params *p = ctx;
  sb_tensor *h = sb_op_layer_norm(in[0], p->ln_w, p->ln_b, 1e-5f);
  h = sb_op_linear(sb_op_gelu(sb_op_linear(h, p->w1, p->b1)), p->w2, p->b2);
  out[0] = sb_op_add(in[0], h);
  return out[0] ? SB_OK : SB_ERR;
}

/* The same block in a scope of its own, as models write their layers. */
static int block_fn(void *ctx, sb_tensor *const *in, int n_in, sb_tensor **out, int n_out) {
  sb_scope_begin();
  int rc = block_fn_bare(ctx, in, n_in, out, n_out);
  if (rc == SB_OK) sb_scope_keep(out[0]);
  sb_scope_end();
  return rc;
}

enum { D = 16, HID = 32 };

static void block_init(block_params *p, const float *const *v) {
  int64_t d = D, hid = HID, s1[2] = {HID, D}, s2[2] = {D, HID};
  sb_tensor **t[6] = {&p->ln_w, &p->ln_b, &p->w1, &p->b1, &p->w2, &p->b2};
  const int nd[6] = {1, 1, 2, 1, 2, 1};
  const int64_t *sh[6] = {&d, &d, s1, &hid, s2, &d};
  for (int i = 0; i < 6; i++) {
    *t[i] = sb_tensor_from_host(SB_DTYPE_F32, nd[i], sh[i], v[i]);
    sb_tensor_set_requires_grad(*t[i], true);
  }
}

/* One run: two chained blocks, checkpointed or not, then backward of
 * sum(y ⊙ R). Fills the gradients (x's first when it trains, then the
 * blocks' parameters), the tape size and arena bytes held after forward. */
static bool block_run(bool checkpoint, sb_checkpoint_fn fn, bool x_trains, const float *xv, const float *rv,
                      const float *const *pv, float **grads, size_t *tape, size_t *held) {
  sb_backend *be = sb_backend_current();
  int64_t xs[3] = {2, 5, D};
  sb_scope_begin();
  block_params bp[2];
  block_init(&bp[0], pv);
  block_init(&bp[1], pv + 6);
  sb_tensor *x = sb_tensor_from_host(SB_DTYPE_F32, 3, xs, xv), *R = sb_tensor_from_host(SB_DTYPE_F32, 3, xs, rv);
  if (x_trains) sb_tensor_set_requires_grad(x, true);
  sb_memory_stats m0, m1;
  sb_backend_memory_stats(be, &m0);
  sb_tensor *h = x, *y = NULL;
  bool ok = true;
  for (int k = 0; k < 2 && ok; k++) {
    sb_tensor *o = NULL;
    ok = (checkpoint ? sb_checkpoint(fn, &bp[k], &h, 1, &o, 1) : fn(&bp[k], &h, 1, &o, 1)) == SB_OK;
    h = y = o;
  }
  sb_backend_memory_stats(be, &m1);
  *tape = sb_tape_size();
  *held = m1.in_use - m0.in_use;
  ok = ok && sb_backward(y, R) == SB_OK;
  int k = 0;
  if (ok && x_trains) grads[k++] = values(sb_tensor_grad(x));
  for (int b = 0; ok && b < 2; b++) {
    sb_tensor *t[6] = {bp[b].ln_w, bp[b].ln_b, bp[b].w1, bp[b].b1, bp[b].w2, bp[b].b2};
    for (int i = 0; i < 6; i++) grads[k++] = values(sb_tensor_grad(t[i]));
  }
  sb_scope_end();
  sb_tape_clear();
  return ok;
}

static bool checkpoint_compare(bool x_trains) {
  int64_t xs[3] = {2, 5, D};
  float *xv, *rv, *pv[12];
  const int64_t pn[6] = {D, D, HID * D, HID, D * HID, D};
  (void)rand_tensor(3, xs, false, &xv); /* the check's scope owns the tensors; the values matter */
  (void)rand_tensor(3, xs, false, &rv);
  for (int i = 0; i < 12; i++) {
    int64_t n = pn[i % 6];
    (void)rand_tensor(1, &n, false, &pv[i]);
    if (i % 6 == 0) /* layer norm weights around 1 */
      for (int64_t j = 0; j < n; j++) pv[i][j] += 1.0f;
  }
  float *g_plain[13] = {0}, *g_ckpt[13] = {0}, *g_bare[13] = {0};
  size_t tape_plain = 0, tape_ckpt = 0, held_plain = 0, held_ckpt = 0, tape_bare = 0, held_bare = 0;
  const float *const *pc = (const float *const *)pv;
  bool ok = block_run(false, block_fn, x_trains, xv, rv, pc, g_plain, &tape_plain, &held_plain) &&
            block_run(true, block_fn, x_trains, xv, rv, pc, g_ckpt, &tape_ckpt, &held_ckpt) &&
            block_run(true, block_fn_bare, x_trains, xv, rv, pc, g_bare, &tape_bare, &held_bare);
  const char *err = ok ? "" : sb_error_message();
  int n_grads = x_trains ? 13 : 12;
  int64_t gn[13];
  for (int i = 0, k = 0; i < n_grads; i++)
    gn[i] = x_trains && i == 0 ? 2 * 5 * D : pn[(k++) % 6];
  bool all_there = ok, same = ok;
  double max_diff = 0.0;
  for (int i = 0; ok && i < n_grads; i++) {
    if (!g_plain[i] || !g_ckpt[i]) {
      all_there = false;
      continue;
    }
    double d;
    if (!same_bits(g_plain[i], g_ckpt[i], gn[i], &d)) same = false;
    max_diff = fmax(max_diff, d);
    if (!g_bare[i] || !same_bits(g_plain[i], g_bare[i], gn[i], &d)) same = false;
  }
  for (int i = 0; i < 13; i++) free(g_plain[i]), free(g_ckpt[i]), free(g_bare[i]);
  for (int i = 0; i < 12; i++) free(pv[i]);
  free(xv), free(rv);
  EXPECT(ok, "run failed: %s", err);
  EXPECT(all_there, "a gradient is missing");
  /* the recompute runs the very same kernels on the same values */
  EXPECT(same, "gradients differ with checkpointing (max %.3g)", max_diff);
  EXPECT(tape_ckpt == 2 && tape_plain > tape_ckpt, "tape nodes after forward: %zu plain, %zu checkpointed",
         tape_plain, tape_ckpt);
  EXPECT(held_ckpt < held_plain, "bytes held after forward: %zu plain, %zu checkpointed", held_plain, held_ckpt);
  /* a function that leaves its temporaries to the caller's scope holds no more */
  EXPECT(held_bare == held_ckpt, "bytes held after forward: %zu checkpointed, %zu for a function without a scope",
         held_ckpt, held_bare);
  snprintf(g_why, sizeof g_why, "tape %zu -> %zu nodes, held %zu -> %zu bytes", tape_plain, tape_ckpt,
           held_plain, held_ckpt);
  return true;
}

static bool chk_checkpoint(void) { return checkpoint_compare(true); }
static bool chk_checkpoint_frozen_input(void) { return checkpoint_compare(false); }

/* ---- the list ---- */

typedef struct check {
  const char *name;
  bool (*fn)(void);
} check;

/* ---- losses: bad targets ---- */

/* Both cross-entropy ops refuse a counted target outside [0, V) with one
 * message naming the op and the row; an ignored one (-100) is fine. */
static bool chk_bad_target(void) {
  sb_tensor *h = rand_tensor(2, (int64_t[]){3, 4}, true, NULL), *w = rand_tensor(2, (int64_t[]){5, 4}, false, NULL);
  sb_tensor *bad = sb_tensor_from_host(SB_DTYPE_I64, 1, (int64_t[]){3}, (int64_t[]){1, -100, 5});
  sb_tensor *ok = sb_tensor_from_host(SB_DTYPE_I64, 1, (int64_t[]){3}, (int64_t[]){1, -100, 4});
  sb_tensor *z = sb_op_linear(h, w, NULL);
  EXPECT(sb_op_cross_entropy(z, bad, -100, SB_REDUCTION_MEAN, 0) == NULL, "cross_entropy took target 5 of 5");
  EXPECT(strstr(sb_error_message(), "cross_entropy: target 5 in row 2 is outside [0, 5)") != NULL,
         "unexpected message: %s", sb_error_message());
  EXPECT(sb_op_linear_cross_entropy(h, w, bad, -100, SB_REDUCTION_MEAN, 0, 2) == NULL,
         "linear_cross_entropy took target 5 of 5");
  EXPECT(strstr(sb_error_message(), "linear_cross_entropy: target 5 in row 2 is outside [0, 5)") != NULL,
         "unexpected message: %s", sb_error_message());
  EXPECT(sb_op_cross_entropy(z, ok, -100, SB_REDUCTION_MEAN, 0) != NULL, "cross_entropy: %s", sb_error_message());
  EXPECT(sb_op_linear_cross_entropy(h, w, ok, -100, SB_REDUCTION_MEAN, 0, 2) != NULL, "linear_cross_entropy: %s",
         sb_error_message());
  return true;
}

static const check k_checks[] = {
    {"autograd/frozen_weight", chk_frozen_weight},
    {"autograd/grad_mode_off", chk_grad_mode_off},
    {"autograd/accumulate_two_backwards", chk_accumulate},
    {"autograd/used_twice", chk_used_twice},
    {"autograd/tied_weights", chk_tied_weights},
    {"autograd/detach", chk_detach},
    {"autograd/tape_lifetime", chk_tape_lifetime},
    {"autograd/split_partial_use", chk_split_partial},
    {"checkpoint/two_blocks", chk_checkpoint},
    {"checkpoint/params_only", chk_checkpoint_frozen_input},
    {"loss/bad_target", chk_bad_target},
};

void run_autograd_checks(const char *label, const char *filter, bool verbose) {
  for (size_t i = 0; i < sizeof k_checks / sizeof k_checks[0]; i++) {
    if (filter && !strstr(k_checks[i].name, filter)) continue;
    g_why[0] = '\0';
    g_seed = 12345 + i;
    sb_backend *be = sb_backend_current();
    sb_memory_stats m0, m1;
    sb_backend_memory_stats(be, &m0);
    sb_error_clear();
    sb_scope_begin();
    bool ok = k_checks[i].fn();
    sb_scope_end();
    sb_tape_clear();
    for (int k = 0; k < 64 && !sb_grad_enabled(); k++) sb_grad_pop(); /* after an early failure */
    sb_backend_memory_stats(be, &m1);
    if (ok && m1.in_use != m0.in_use) {
      snprintf(g_why, sizeof g_why, "%lld bytes of the arena still in use", (long long)(m1.in_use - m0.in_use));
      ok = false;
    }
    report(label, k_checks[i].name, ok, "%s", g_why);
  }
  (void)verbose;
}
