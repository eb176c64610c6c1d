/* test_projector_golden.c — projector_mlp against the llava_tiny fixture:
 * the forward (vision_features -> image_features) and the projector's
 * gradients in stages 1 and 3 (both mixing rules, perturbed and exact init).
 *
 * The fixture stores the projector's gradients but not the gradient arriving
 * at its output (that needs the LLM). It is recovered exactly from the
 * fixture: with H = gelu(X·W0ᵀ + b0) the hidden activations (32 tokens x 32
 * features, square), grad(2.weight) = Gᵀ·H, so G = H⁻ᵀ·grad(2.weight)ᵀ,
 * solved in double. Feeding G back through our projector must then
 * reproduce the three other gradients (0.weight, 0.bias, 2.bias), which are
 * independent of that equation. The projector is created through the
 * recipe and model builder, with the plugin compiled in statically. */
#include <math.h>
#include <stdlib.h>

#include "../common/check.h"
#include "model.h"
#include "recipe.h"
#include "run_config.h"
#include "spatialboost/spatialboost.h"

#define T 32 /* tokens: batch 2 x 16 patches */
#define D 32 /* widths: in = hidden = out */

/* Fixture tolerance (fixtures/README.md: float64 reference, fp32 should match
 * to about atol 1e-4 / rtol 1e-3). Our sums run over K = 32 terms in fp32,
 * so the forward agrees to ~32·2^-24 relative; we ask for 1e-5 / 1e-4. */
static const double k_fwd_atol = 1e-5, k_fwd_rtol = 1e-4;
/* Gradients go through the recovered G, whose relative error is at most
 * about cond(H)·2^-24 (the fixture is stored in fp32, 2^-24 ≈ 6e-8). The
 * fixture's rtol 1e-3 then holds as long as cond(H) < 1e4 (6e-4 relative),
 * which the test asserts (the 1-norm estimate is ~1.5e3 on this fixture). */
static const double k_grad_atol = 1e-5, k_grad_rtol = 1e-3, k_max_cond = 1e4;

static int load_f32(const sb_safetensors *f, const char *name, float *dst, size_t n) {
  sb_tensor *t = sb_safetensors_load(f, name, SB_DTYPE_F32);
  int rc = t ? sb_tensor_to_host_f32(t, dst, n) : SB_ERR;
  if (rc) fprintf(stderr, "cannot load %s: %s\n", name, sb_error_message());
  return rc;
}

static double gelu(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }

/* Inverts the n x n matrix a (row-major) into inv by Gauss-Jordan with
 * partial pivoting; returns the 1-norm condition number (inf if singular). */
static double invert(const double *a, double *inv, int n) {
  double m[D][2 * D];
  for (int i = 0; i < n; i++)
    for (int j = 0; j < 2 * n; j++) m[i][j] = j < n ? a[i * n + j] : (j - n == i);
  for (int c = 0; c < n; c++) {
    int p = c;
    for (int r = c + 1; r < n; r++)
      if (fabs(m[r][c]) > fabs(m[p][c])) p = r;
    if (fabs(m[p][c]) < 1e-300) return INFINITY;
    for (int j = 0; j < 2 * n; j++) {
      double t = m[c][j];
      m[c][j] = m[p][j], m[p][j] = t;
    }
    double piv = m[c][c];
    for (int j = 0; j < 2 * n; j++) m[c][j] /= piv;
    for (int r = 0; r < n; r++) {
      if (r == c) continue;
      double f = m[r][c];
      for (int j = 0; j < 2 * n; j++) m[r][j] -= f * m[c][j];
    }
  }
  double na = 0, ni = 0;
  for (int j = 0; j < n; j++) {
    double sa = 0, si = 0;
    for (int i = 0; i < n; i++) {
      inv[i * n + j] = m[i][j + n];
      sa += fabs(a[i * n + j]), si += fabs(m[i][j + n]);
    }
    na = fmax(na, sa), ni = fmax(ni, si);
  }
  return na * ni;
}

typedef struct weights {
  float w0[D * D], b0[D], w2[D * D], b2[D];
} weights;

/* G [T, D] such that Gᵀ·H = gw2, with H from x and the weights. */
static double recover_upstream(const weights *w, const float *x, const float *gw2, float *g) {
  double h[T * D], hinv[T * D];
  for (int t = 0; t < T; t++)
    for (int o = 0; o < D; o++) {
      double s = w->b0[o];
      for (int i = 0; i < D; i++) s += (double)x[t * D + i] * w->w0[o * D + i];
      h[t * D + o] = gelu(s);
    }
  double cond = invert(h, hinv, T);
  /* Gᵀ = gw2 · H⁻¹  ->  G[t][o] = Σ_k gw2[o][k] · Hinv[k][t] */
  for (int t = 0; t < T; t++)
    for (int o = 0; o < D; o++) {
      double s = 0;
      for (int k = 0; k < D; k++) s += (double)gw2[o * D + k] * hinv[k * T + t];
      g[t * D + o] = (float)s;
    }
  return cond;
}

static void compare(const char *what, sb_tensor *got, const sb_safetensors *ex, const char *name,
                    double atol, double rtol) {
  float a[D * D], b[D * D];
  size_t n = (size_t)sb_tensor_numel(got);
  CHECK(n <= D * D && sb_tensor_to_host_f32(got, a, n) == SB_OK && load_f32(ex, name, b, n) == SB_OK,
        "%s: cannot read", what);
  double err;
  bool ok = close_enough(a, b, n, atol, rtol, &err);
  CHECK(ok, "%s vs %s: max error %.3g", what, name, err);
  printf("%-44s max |err| %.3g\n", name, err);
}

int main(void) {
  const char *fx = getenv("SB_FIXTURES");
  if (!fx) fx = SB_TEST_FIXTURES;
  char path[1024];
  sb_recipe *r = sb_recipe_load(SB_TEST_DATA "/projector.yaml", NULL, 0);
  CHECK(r, "recipe: %s", sb_error_message());
  if (!r) return check_summary("projector-golden");
  sb_run_options run;
  sb_train_options train;
  CHECK(sb_run_options_read(sb_recipe_root(r), &run) == SB_OK, "run options: %s", sb_error_message());
  CHECK(sb_train_options_read(sb_recipe_root(r), &train) == SB_OK, "train options: %s", sb_error_message());
  CHECK(train.n_trainable == 1 && strcmp(train.trainable[0], "projector") == 0, "trainable: [projector]");
  sb_model m;
  CHECK(sb_model_build(&m, sb_recipe_root(r), 0, SB_MODEL_CREATE) == SB_OK, "build: %s", sb_error_message());
  CHECK(m.projector.plugin && strcmp(sb_plugin_file(m.projector.plugin), "(static)") == 0,
        "the projector should come from the statically registered plugin");
  CHECK(sb_param_store_set_trainable(m.store, "projector", true) == 4, "four projector parameters");
  const sb_projector_vtable *vt = m.projector.vtable;
  snprintf(path, sizeof path, "%s/llava_tiny/expected.safetensors", fx);
  sb_safetensors *ex = sb_safetensors_open(path);
  snprintf(path, sizeof path, "%s/llava_tiny/mm_projector.safetensors", fx);
  sb_safetensors *pw = sb_safetensors_open(path);
  CHECK(ex && pw, "fixtures: %s", sb_error_message());
  if (!ex || !pw) return check_summary("projector-golden");
  weights w;
  load_f32(pw, "0.weight", w.w0, D * D), load_f32(pw, "0.bias", w.b0, D);
  load_f32(pw, "2.weight", w.w2, D * D), load_f32(pw, "2.bias", w.b2, D);

  sb_scope_begin();
  sb_tensor *x = sb_safetensors_load(ex, "vision_features", SB_DTYPE_F32);
  compare("forward", vt->forward(m.projector.self, x), ex, "image_features", k_fwd_atol, k_fwd_rtol);
  sb_tape_clear();
  sb_scope_end();

  static const char *const cases[][2] = {
      {"stage1", "vision_features"},
      {"stage3.sigmoid", "stage3.sigmoid.vision_features"},
      {"stage3.tanh_gate", "stage3.tanh_gate.vision_features"},
      {"stage3_init.sigmoid", "vision_features"},
      {"stage3_init.tanh_gate", "vision_features"},
  };
  static const char *const names[] = {"0.weight", "0.bias", "2.weight", "2.bias"};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    sb_scope_begin();
    float xs[T * D], gw2[D * D], g[T * D];
    char key[256];
    snprintf(key, sizeof key, "%s.grad.mm_projector.2.weight", cases[c][0]);
    CHECK(load_f32(ex, cases[c][1], xs, T * D) == SB_OK && load_f32(ex, key, gw2, D * D) == SB_OK,
          "inputs of %s", cases[c][0]);
    double cond = recover_upstream(&w, xs, gw2, g);
    CHECK(cond < k_max_cond, "%s: cond(H) = %.3g too large to recover the upstream gradient", cases[c][0], cond);
    for (size_t i = 0; i < 4; i++) sb_tensor_free_grad(sb_params_get(sb_param_store_scope(m.store, "projector."), names[i]));
    sb_tensor *xt = sb_tensor_from_host(SB_DTYPE_F32, 3, (int64_t[]){2, 16, D}, xs);
    sb_tensor *gt = sb_tensor_from_host(SB_DTYPE_F32, 3, (int64_t[]){2, 16, D}, g);
    sb_tensor *y = vt->forward(m.projector.self, xt);
    CHECK(sb_backward(y, gt) == SB_OK, "backward: %s", sb_error_message());
    for (size_t i = 0; i < 4; i++) {
      snprintf(key, sizeof key, "%s.grad.mm_projector.%s", cases[c][0], names[i]);
      sb_tensor *p = sb_params_get(sb_param_store_scope(m.store, "projector."), names[i]);
      CHECK(sb_tensor_grad(p), "%s has no gradient", key);
      if (sb_tensor_grad(p)) compare(key, sb_tensor_grad(p), ex, key, k_grad_atol, k_grad_rtol);
    }
    printf("  (cond(H) = %.1f)\n", cond);
    sb_scope_end();
  }
  sb_safetensors_close(ex), sb_safetensors_close(pw);
  CHECK(sb_recipe_check_unused(r) == SB_OK, "unused keys: %s", sb_error_message());
  sb_model_free(&m);
  sb_recipe_free(r);
  return check_summary("projector-golden");
}
