/* test_optimizer_golden.c — one SGD step and one AdamW step (with weight
 * decay on every parameter, and with Hugging Face's grouping: no decay on
 * biases and norm weights) of the llava_tiny fixture's stage-2 parameters,
 * from the fixture's own stage-2 gradients, through the optimizer kernels,
 * against the PyTorch results stored in the fixture. */
#include <stdlib.h>

#include "../common/check.h"
#include "spatialboost/spatialboost.h"
#include "tensor_impl.h"

/* PyTorch's step in float64 vs ours in float32: each value is one fused
 * update of O(1) operations, so agreement to a few ulps of the parameter
 * (~1e-7 relative) is expected; atol 1e-6 is 1000x below the AdamW step
 * size (lr 1e-3), so a wrong update cannot hide in it. */
static const double k_atol = 1e-6, k_rtol = 1e-5;

static sb_tensor *load(const sb_safetensors *f, const char *name) {
  sb_tensor *t = sb_safetensors_load(f, name, SB_DTYPE_F32);
  CHECK(t, "load %s: %s", name, sb_error_message());
  return t;
}

static void compare(sb_tensor *got, const sb_safetensors *ex, const char *name) {
  sb_tensor *want = load(ex, name);
  if (!want) return;
  size_t n = (size_t)sb_tensor_numel(want);
  float *a = malloc(n * 4), *b = malloc(n * 4);
  sb_tensor_to_host_f32(got, a, n), sb_tensor_to_host_f32(want, b, n);
  double err;
  CHECK(close_enough(a, b, n, k_atol, k_rtol, &err), "%s: max error %.3g", name, err);
  free(a), free(b);
}

static bool no_decay_hf(const char *name) { return strstr(name, ".bias") || strstr(name, "norm"); }

static int step(const char *kind, sb_tensor *p, sb_tensor *g, float wd) {
  sb_backend *be = sb_backend_cpu();
  int64_t n = sb_tensor_numel(p);
  if (strcmp(kind, "sgd") == 0) {
    sb_kp_sgd k = {n, 0.5f, 0.0f};
    sb_kbuf b[2] = {sb_kbuf_of(p, SB_ACCESS_INOUT), sb_kbuf_of(g, SB_ACCESS_IN)};
    return sb_run(be, SB_K_SGD, &k, 2, b);
  }
  sb_tensor *m = sb_tensor_zeros(SB_DTYPE_F32, sb_tensor_ndim(p), sb_tensor_shape(p));
  sb_tensor *v = sb_tensor_zeros(SB_DTYPE_F32, sb_tensor_ndim(p), sb_tensor_shape(p));
  /* step 1: bias corrections 1 - 0.9 and 1 - 0.999 */
  sb_kp_adamw k = {n, 1e-3f, 0.9f, 0.999f, 1e-8f, wd, 1.0f - 0.9f, 1.0f - 0.999f};
  sb_kbuf b[4] = {sb_kbuf_of(p, SB_ACCESS_INOUT), sb_kbuf_of(g, SB_ACCESS_IN),
                  sb_kbuf_of(m, SB_ACCESS_INOUT), sb_kbuf_of(v, SB_ACCESS_INOUT)};
  return sb_run(be, SB_K_ADAMW, &k, 4, b);
}

int main(void) {
  const char *fx = getenv("SB_FIXTURES");
  if (!fx) fx = SB_TEST_FIXTURES;
  char path[1024];
  snprintf(path, sizeof path, "%s/llava_tiny/expected.safetensors", fx);
  sb_safetensors *ex = sb_safetensors_open(path);
  snprintf(path, sizeof path, "%s/llava_tiny/mm_projector.safetensors", fx);
  sb_safetensors *proj = sb_safetensors_open(path);
  snprintf(path, sizeof path, "%s/llava_tiny/language_model/model.safetensors", fx);
  sb_safetensors *lm = sb_safetensors_open(path);
  CHECK(ex && proj && lm, "fixtures: %s", sb_error_message());
  if (!ex || !proj || !lm) return check_summary("optimizer-golden");
  int n_params = 0;
  for (size_t i = 0; i < sb_safetensors_count(ex); i++) {
    const char *gname = sb_safetensors_at(ex, i)->name;
    const char *pre = "stage2.grad.";
    if (strncmp(gname, pre, strlen(pre)) != 0) continue;
    const char *name = gname + strlen(pre); /* mm_projector.X or language_model.Y */
    const sb_safetensors *src = strncmp(name, "mm_projector.", 13) == 0 ? proj : lm;
    const char *local = strchr(name, '.') + 1;
    static const char *const kinds[] = {"sgd", "adamw", "adamw_hf"};
    for (size_t k = 0; k < 3; k++) {
      sb_scope_begin();
      sb_tensor *p = load(src, local), *g = load(ex, gname);
      float wd = k == 0 ? 0.0f : (k == 2 && no_decay_hf(name)) ? 0.0f : 0.01f;
      char want[512];
      snprintf(want, sizeof want, "stage2.%s.%s", kinds[k], name);
      if (p && g) {
        CHECK(step(kinds[k], p, g, wd) == SB_OK, "%s: %s", want, sb_error_message());
        compare(p, ex, want);
      }
      sb_scope_end();
    }
    n_params++;
  }
  printf("checked %d parameters x 3 optimizer variants\n", n_params);
  CHECK(n_params == 31, "expected the 31 stage-2 parameters of llava_tiny, found %d", n_params);
  sb_safetensors_close(ex), sb_safetensors_close(proj), sb_safetensors_close(lm);
  return check_summary("optimizer-golden");
}
