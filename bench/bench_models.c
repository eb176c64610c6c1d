/* bench_models.c — forward and forward+backward time of the model plugins
 * on the cpu, with random weights: DINOv3 ViT-S/16 at 224x224 and a
 * Qwen2-0.5B-shaped LLM on 512 tokens (the output layer over every
 * position, as ../shared/bench/torch_ref_step.py --model llm measures it).
 * Prints seconds (median of several steps), the matrix work in GFLOP, the
 * achieved GFLOP/s and its ratio to the sgemm rate measured in this run,
 * tokens/s, and peak RSS. Nothing is asserted.
 *   usage: bench_models [--llm-layers N] [--runs N] [--batch B] [--only dinov3|qwen2] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_common.h"
#include "model.h"
#include "recipe.h"
#include "spatialboost/spatialboost.h"

static const char *k_dinov3_vits16 =
    "{\"model_type\": \"dinov3_vit\", \"hidden_size\": 384, \"intermediate_size\": 1536,"
    " \"num_hidden_layers\": 12, \"num_attention_heads\": 6, \"patch_size\": 16, \"hidden_act\": \"gelu\","
    " \"num_register_tokens\": 4, \"rope_theta\": 100.0, \"layer_norm_eps\": 1e-5, \"image_size\": 224,"
    " \"query_bias\": true, \"key_bias\": false, \"value_bias\": true, \"proj_bias\": true, \"mlp_bias\": true,"
    " \"layerscale_value\": 1.0, \"use_gated_mlp\": false, \"initializer_range\": 0.02}";

static const char *k_qwen2_05b =
    "{\"model_type\": \"qwen2\", \"hidden_size\": 896, \"intermediate_size\": 4864, \"num_hidden_layers\": %d,"
    " \"num_attention_heads\": 14, \"num_key_value_heads\": 2, \"vocab_size\": 151936, \"hidden_act\": \"silu\","
    " \"max_position_embeddings\": 32768, \"rope_theta\": 1000000.0, \"rms_norm_eps\": 1e-6,"
    " \"tie_word_embeddings\": true, \"initializer_range\": 0.02, \"use_sliding_window\": false}";

typedef struct bench {
  sb_recipe *recipe;
  sb_model model;
  sb_tensor *input, *labels;
  bool backward;
  int64_t B, T;
} bench;

static int write_config(const char *dir, const char *json) {
  char path[512];
  snprintf(path, sizeof path, "%s/config.json", dir);
  FILE *f = fopen(path, "w");
  if (!f) return sb_error("cannot write %s", path);
  fputs(json, f);
  fclose(f);
  return SB_OK;
}

static int build(bench *b, const char *role, const char *plugin, const char *dir) {
  char s1[128], s2[600], s3[128];
  snprintf(s1, sizeof s1, "model.%s.plugin=%s", role, plugin);
  snprintf(s2, sizeof s2, "model.%s.weights=%s", role, dir);
  snprintf(s3, sizeof s3, "model.%s.random_init=true", role);
  const char *sets[3] = {s1, s2, s3};
  b->recipe = sb_recipe_from_overrides("<bench>", sets, 3);
  if (!b->recipe) return SB_ERR;
  return sb_model_build(&b->model, sb_recipe_root(b->recipe), 1, SB_MODEL_CREATE);
}

static sb_tensor *randn(int ndim, const int64_t *shape) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  float *v = malloc(sizeof(float) * (size_t)n);
  for (int64_t i = 0; i < n; i++) v[i] = (float)rand() / (float)RAND_MAX - 0.5f;
  sb_tensor *t = sb_scope_keep(sb_tensor_from_host(SB_DTYPE_F32, ndim, shape, v));
  free(v);
  return t;
}

static void zero_grads(const sb_model *m) {
  for (size_t i = 0; i < sb_param_store_count(m->store); i++) sb_tensor_zero_grad(sb_param_store_at(m->store, i)->tensor);
}

static void step_dinov3(void *p) {
  bench *b = p;
  sb_scope_begin();
  sb_grad_push(b->backward);
  const sb_encoder_vtable *vt = b->model.encoder.vtable;
  sb_encoder_input in = {sizeof in, b->input, NULL, NULL};
  sb_encoder_output o = {.struct_size = sizeof o};
  if (vt->forward(b->model.encoder.self, &in, 0, &o)) fprintf(stderr, "dinov3: %s\n", sb_error_message());
  if (b->backward) {
    zero_grads(&b->model);
    if (sb_backward(sb_op_mean_all(sb_op_square(o.last_hidden_state)), NULL)) fprintf(stderr, "%s\n", sb_error_message());
  }
  sb_grad_pop();
  sb_scope_end();
}

static void step_qwen2(void *p) {
  bench *b = p;
  sb_scope_begin();
  sb_grad_push(b->backward);
  const sb_llm_vtable *vt = b->model.llm.vtable;
  sb_llm_input in = {.struct_size = sizeof in, .inputs_embeds = vt->embed(b->model.llm.self, b->input)};
  sb_tensor *h = vt->forward(b->model.llm.self, &in);
  sb_tensor *rows = sb_op_reshape(h, 2, (int64_t[]){b->B * b->T, -1});
  sb_tensor *loss = sb_op_cross_entropy(vt->logits(b->model.llm.self, rows), b->labels, -100, SB_REDUCTION_MEAN, 0);
  if (!loss) fprintf(stderr, "qwen2: %s\n", sb_error_message());
  if (b->backward) {
    zero_grads(&b->model);
    if (sb_backward(loss, NULL)) fprintf(stderr, "%s\n", sb_error_message());
  }
  sb_grad_pop();
  sb_scope_end();
}

static void report(const char *what, double t, double gflop, double sgemm, double tokens) {
  printf("%-40s %8.3f s  %7.1f GFLOP  %6.1f GFLOP/s  %.2f of sgemm  %8.1f tokens/s\n", what, t, gflop,
         gflop / t, gflop / t / sgemm, tokens / t);
}

static void run_dinov3(const char *dir, int64_t B, int runs, double sgemm) {
  bench b = {.B = B, .T = 1 + 4 + 196};
  if (write_config(dir, k_dinov3_vits16) || build(&b, "encoder", "encoder_dinov3", dir)) {
    fprintf(stderr, "dinov3: %s\n", sb_error_message());
    return;
  }
  b.input = randn(4, (int64_t[]){B, 3, 224, 224});
  const double D = 384, FF = 1536, T = (double)b.T, L = 12;
  double gflop = B * (L * (2 * T * (4 * D * D + 2 * D * FF) + 4 * T * T * D) + 2 * 196.0 * D * 768) / 1e9;
  double t = bench_median(step_dinov3, &b, 1, runs);
  char label[64];
  snprintf(label, sizeof label, "dinov3 vit-s/16 224 B=%lld fwd", (long long)B);
  report(label, t, gflop, sgemm, (double)B * T);
  sb_param_store_set_trainable(b.model.store, "encoder", true);
  b.backward = true;
  t = bench_median(step_dinov3, &b, 1, runs);
  snprintf(label, sizeof label, "dinov3 vit-s/16 224 B=%lld fwd+bwd", (long long)B);
  report(label, t, 3 * gflop, sgemm, (double)B * T);
  sb_tensor_release(b.input);
  sb_model_free(&b.model);
  sb_recipe_free(b.recipe);
}

static void run_qwen2(const char *dir, int layers, int64_t B, int runs, double sgemm) {
  char json[1024];
  snprintf(json, sizeof json, k_qwen2_05b, layers);
  bench b = {.B = B, .T = 512};
  if (write_config(dir, json) || build(&b, "llm", "llm_qwen2", dir)) {
    fprintf(stderr, "qwen2: %s\n", sb_error_message());
    return;
  }
  int64_t n = B * b.T, *ids = malloc(sizeof(int64_t) * (size_t)n);
  for (int64_t i = 0; i < n; i++) ids[i] = rand() % 151000;
  b.input = sb_scope_keep(sb_tensor_from_host(SB_DTYPE_I64, 2, (int64_t[]){B, b.T}, ids));
  for (int64_t i = 0; i < n; i++) ids[i] = rand() % 151000;
  b.labels = sb_scope_keep(sb_tensor_from_host(SB_DTYPE_I64, 1, &n, ids));
  free(ids);
  const double D = 896, FF = 4864, KV = 128, T = 512, V = 151936;
  double per_layer = 2 * T * (2 * D * D + 2 * D * KV + 3 * D * FF) + 4 * T * T * D;
  double gflop = B * (layers * per_layer + 2 * T * D * V) / 1e9;
  double t = bench_median(step_qwen2, &b, 1, runs);
  char label[64];
  snprintf(label, sizeof label, "qwen2-0.5b %d layers T=512 B=%lld fwd", layers, (long long)B);
  report(label, t, gflop, sgemm, (double)n);
  sb_param_store_set_trainable(b.model.store, "llm", true);
  b.backward = true;
  t = bench_median(step_qwen2, &b, 1, runs);
  snprintf(label, sizeof label, "qwen2-0.5b %d layers T=512 B=%lld fwd+bwd", layers, (long long)B);
  report(label, t, 3 * gflop, sgemm, (double)n);
  sb_tensor_release(b.input), sb_tensor_release(b.labels);
  sb_model_free(&b.model);
  sb_recipe_free(b.recipe);
}

int main(int argc, char **argv) {
  int layers = 24, runs = 5;
  int64_t batch = 1;
  const char *only = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--llm-layers") == 0) layers = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--runs") == 0) runs = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--batch") == 0) batch = atoll(argv[i + 1]);
    else if (strcmp(argv[i], "--only") == 0) only = argv[i + 1];
  }
  srand(1);
  printf("%s\n", sb_backend_describe(sb_backend_cpu()));
  double sgemm = bench_sgemm_rate();
  printf("sgemm 1024^3: %.1f GFLOP/s (the reference below)\n", sgemm);
  char dir[] = "/tmp/sb_bench_XXXXXX";
  if (!mkdtemp(dir)) return 1;
  if (!only || strcmp(only, "dinov3") == 0) run_dinov3(dir, batch, runs, sgemm);
  if (!only || strcmp(only, "qwen2") == 0) run_qwen2(dir, layers, batch, runs, sgemm);
  sb_memory_stats ms;
  sb_backend_memory_stats(sb_backend_cpu(), &ms);
  printf("peak RSS %.0f MB; arena peak %.0f MB, %llu system allocations for %llu tensors\n", bench_peak_rss_mb(),
         ms.peak / 1e6, (unsigned long long)ms.backend_allocs, (unsigned long long)ms.arena_allocs);
  char cmd[64];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : 1;
}
