/* test_llava.c — the multimodal forward and every training stage's
 * gradients against the llava_tiny fixture: DINOv3 tower -> mlp2x_gelu ->
 * Qwen2, one image per sample spliced at its placeholder (id 383).
 *
 *   forward: vision features, image features, the merged sequence (embeds,
 *            labels, mask), logits at every position, the loss;
 *   stage 1: projector gradients;       stage 2: projector + every LLM gradient;
 *   stage 3: dual-channel + projector gradients through the frozen LLM, for
 *            both mixing rules, from llava_tiny's perturbed dual weights and
 *            from the exact start (A' = A, alpha = 0);
 * and again with the output layer in chunks, unfused from the loss (stages
 * 1 and 3 fuse it by default), and with gradient checkpointing. */
#include <stdlib.h>

#include "../../common/check.h"
#include "mm_forward.h"
#include "recipe.h"
#include "run_config.h"
#include "spatialboost/spatialboost.h"

/* Fixture tolerance (fixtures/README.md): fp32 should match the float64
 * reference to about atol 1e-4 / rtol 1e-3. These small models sum over at
 * most 64 terms per product, so we hold forward values to atol 1e-5 /
 * rtol 1e-4 and gradients (one more chain of products) to 2e-5 / 1e-3. */
static const double k_fwd_atol = 1e-5, k_fwd_rtol = 1e-4, k_grad_atol = 2e-5, k_grad_rtol = 1e-3;

static const char *g_fx;
static sb_safetensors *g_in, *g_ex;

static void compare(sb_tensor *got, const char *name, double atol, double rtol) {
  const sb_st_tensor *st = sb_safetensors_find(g_ex, name);
  sb_tensor *want = st ? sb_safetensors_load(g_ex, name, st->dtype) : NULL;
  CHECK(got && want, "%s: %s", name, sb_error_message());
  if (!got || !want) return;
  char a[64], b[64];
  CHECK(sb_tensor_numel(got) == sb_tensor_numel(want), "%s: shape %s, fixture %s", name,
        sb_tensor_shape_str(got, a, 64), sb_tensor_shape_str(want, b, 64));
  if (sb_tensor_numel(got) != sb_tensor_numel(want)) return;
  size_t n = (size_t)sb_tensor_numel(got);
  float *x = malloc(n * 4), *y = malloc(n * 4);
  sb_tensor_to_host_f32(got, x, n), sb_tensor_to_host_f32(want, y, n);
  double err;
  CHECK(close_enough(x, y, n, atol, rtol, &err), "%s: max error %.3g", name, err);
  printf("%-72s %.2g\n", name, err);
  free(x), free(y);
}

typedef struct stage {
  const char *label;   /* fixture prefix: stage1, stage2, stage3.sigmoid, stage3_init.tanh_gate ... */
  const char *trainable, *mix;
  bool dual, dual_init; /* dual_init: load llava_tiny's perturbed dual weights */
} stage;

static bool g_ckpt; /* the encoder's and the LLM's gradient checkpointing on */

static int build(const stage *s, sb_recipe **r, sb_model *m) {
  char dual[64], mix[64], train[128], dw[512];
  snprintf(dual, sizeof dual, "model.encoder.dual_attention.enabled=%s", s->dual ? "true" : "false");
  snprintf(mix, sizeof mix, "model.encoder.dual_attention.mix=%s", s->mix ? s->mix : "sigmoid");
  snprintf(train, sizeof train, "train.trainable=%s", s->trainable);
  snprintf(dw, sizeof dw, "model.encoder.dual_attention.weights=%s/llava_tiny/dual_init.safetensors", g_fx);
  const char *sets[6] = {dual, mix, train, dw, NULL, NULL};
  int n = s->dual_init ? 4 : 3;
  if (g_ckpt) {
    sets[n++] = "model.encoder.gradient_checkpointing=true";
    sets[n++] = "model.llm.gradient_checkpointing=true";
  }
  *r = sb_recipe_load(SB_TEST_DATA "/llava_tiny.yaml", sets, n);
  if (!*r) return SB_ERR;
  sb_run_options run;
  sb_train_options t;
  if (sb_run_options_read(sb_recipe_root(*r), &run) || sb_train_options_read(sb_recipe_root(*r), &t) ||
      sb_model_build(m, sb_recipe_root(*r), 0, SB_MODEL_CREATE))
    return SB_ERR;
  for (size_t i = 0; i < t.n_trainable; i++)
    if (sb_param_store_set_trainable(m->store, t.trainable[i], true) <= 0) return sb_error("trainable %s", t.trainable[i]);
  return sb_recipe_check_unused(*r);
}

static int forward(const sb_model *m, unsigned flags, sb_mm_output *o) {
  sb_mm_batch b = {.image_token_id = 383};
  b.input_ids = sb_safetensors_load(g_in, "input_ids", SB_DTYPE_I64);
  b.labels = sb_safetensors_load(g_in, "labels", SB_DTYPE_I64);
  b.attention_mask = sb_safetensors_load(g_in, "attention_mask", SB_DTYPE_I64);
  b.images = (sb_encoder_input){.struct_size = sizeof b.images,
                                .pixel_values = sb_safetensors_load(g_in, "pixel_values", SB_DTYPE_F32)};
  return sb_mm_forward(m, &b, flags, 0, o);
}

/* The fixture names parameters "mm_projector.*", "language_model.*",
 * "vision_tower.*"; the store names them "projector.*", "llm.*", "encoder.*". */
static const char *fixture_name(const char *full, char *buf, size_t n) {
  static const char *const map[][2] = {{"projector.", "mm_projector."}, {"llm.", "language_model."},
                                       {"encoder.", "vision_tower."}};
  for (size_t i = 0; i < 3; i++)
    if (strncmp(full, map[i][0], strlen(map[i][0])) == 0) {
      snprintf(buf, n, "%s%s", map[i][1], full + strlen(map[i][0]));
      return buf;
    }
  return full;
}

static void check_stage(const stage *s) {
  sb_recipe *r = NULL;
  sb_model m;
  memset(&m, 0, sizeof m);
  CHECK(build(s, &r, &m) == SB_OK, "%s: build: %s", s->label, sb_error_message());
  sb_scope_begin();
  sb_mm_output o;
  int rc = r ? forward(&m, 0, &o) : SB_ERR;
  CHECK(rc == SB_OK, "%s: forward: %s", s->label, sb_error_message());
  char key[600], name[256];
  if (rc == SB_OK) {
    if (s->dual) {
      snprintf(key, sizeof key, "%s.loss", s->label);
      compare(o.loss, strncmp(s->label, "stage3_init", 11) == 0 ? "loss" : key, k_fwd_atol, k_fwd_rtol);
      if (s->dual_init) {
        snprintf(key, sizeof key, "%s.vision_features", s->label);
        compare(o.vision_features, key, k_fwd_atol, k_fwd_rtol);
      }
    }
    CHECK(sb_backward(o.loss, NULL) == SB_OK, "%s: backward: %s", s->label, sb_error_message());
    int n_checked = 0;
    for (size_t i = 0; i < sb_param_store_count(m.store); i++) {
      sb_param *p = sb_param_store_at(m.store, i);
      snprintf(key, sizeof key, "%s.grad.%s", s->label, fixture_name(p->name, name, sizeof name));
      bool in_fixture = sb_safetensors_find(g_ex, key) != NULL;
      CHECK(in_fixture == p->trainable, "%s: %s is %s but %s the fixture", s->label, p->name,
            p->trainable ? "trainable" : "frozen", in_fixture ? "in" : "not in");
      if (!p->trainable) {
        CHECK(sb_tensor_grad(p->tensor) == NULL, "%s: frozen %s got a gradient buffer", s->label, p->name);
        continue;
      }
      compare(sb_tensor_grad(p->tensor), key, k_grad_atol, k_grad_rtol);
      n_checked++;
    }
    printf("%s: %d gradients checked\n", s->label, n_checked);
  }
  sb_scope_end();
  sb_model_free(&m);
  sb_recipe_free(r);
}

static void check_forward(void) {
  stage s = {"forward", "[projector]", NULL, false, false};
  sb_recipe *r = NULL;
  sb_model m;
  memset(&m, 0, sizeof m);
  CHECK(build(&s, &r, &m) == SB_OK, "build: %s", sb_error_message());
  sb_scope_begin();
  sb_mm_output o;
  CHECK(r && forward(&m, SB_MM_FULL_LOGITS, &o) == SB_OK, "forward: %s", sb_error_message());
  compare(o.vision_features, "vision_features", k_fwd_atol, k_fwd_rtol);
  sb_encoder_info info = {.struct_size = sizeof info};
  const sb_encoder_vtable *ev = m.encoder.vtable;
  CHECK(ev->describe(m.encoder.self, &info) == SB_OK && o.vision_features &&
            info.num_visual_tokens == sb_tensor_dim(o.vision_features, 1),
        "describe() promises %lld visual tokens per image", (long long)info.num_visual_tokens);
  compare(o.image_features, "image_features", k_fwd_atol, k_fwd_rtol);
  compare(o.inputs_embeds, "merged.inputs_embeds", k_fwd_atol, k_fwd_rtol);
  compare(o.labels, "merged.labels", 0, 0);
  compare(o.attention_mask, "merged.attention_mask", 0, 0);
  compare(o.logits, "logits", k_fwd_atol, k_fwd_rtol);
  compare(o.loss, "loss", k_fwd_atol, k_fwd_rtol);
  sb_tape_clear();
  sb_scope_end();
  sb_model_free(&m);
  sb_recipe_free(r);
}

/* Two images in one sample and none in the other: the visual tokens of
 * image 0 then image 1 stand where the placeholders do, text rows are the
 * token embeddings, the text-only row is padded with zeros, and gradients
 * reach the projector. */
static void check_multi_image(void) {
  stage s = {"multi-image", "[projector]", NULL, false, false};
  sb_recipe *r = NULL;
  sb_model m;
  memset(&m, 0, sizeof m);
  CHECK(build(&s, &r, &m) == SB_OK, "build: %s", sb_error_message());
  sb_scope_begin();
  /* row 0: t t IMG t IMG t t ; row 1: t t t (text only, then padding) */
  const int64_t P = 383, S = 7;
  int64_t ids[2 * 7] = {10, 11, P, 12, P, 13, 14, 20, 21, 22, 382, 382, 382, 382};
  int64_t labels[2 * 7] = {-100, -100, -100, -100, -100, 13, 14, -100, 21, 22, -100, -100, -100, -100};
  int64_t mask[2 * 7] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0};
  sb_mm_batch b = {.image_token_id = P};
  b.input_ids = sb_tensor_from_host(SB_DTYPE_I64, 2, (int64_t[]){2, S}, ids);
  b.labels = sb_tensor_from_host(SB_DTYPE_I64, 2, (int64_t[]){2, S}, labels);
  b.attention_mask = sb_tensor_from_host(SB_DTYPE_I64, 2, (int64_t[]){2, S}, mask);
  b.images = (sb_encoder_input){.struct_size = sizeof b.images,
                                .pixel_values = sb_safetensors_load(g_in, "pixel_values", SB_DTYPE_F32)};
  sb_mm_output o;
  CHECK(r && sb_mm_forward(&m, &b, 0, 0, &o) == SB_OK, "forward: %s", sb_error_message());
  if (o.inputs_embeds) {
    /* merged length: row 0 = 5 text + 2 x 16 visual = 37 */
    CHECK(sb_tensor_dim(o.inputs_embeds, 1) == 37, "merged length %lld", (long long)sb_tensor_dim(o.inputs_embeds, 1));
    float e[2 * 37 * 32], f[2 * 16 * 32], t[32];
    int64_t lab[2 * 37];
    sb_tensor_to_host_f32(o.inputs_embeds, e, 2 * 37 * 32);
    sb_tensor_to_host_f32(o.image_features, f, 2 * 16 * 32);
    sb_tensor_to_host(o.labels, lab, sizeof lab);
    const sb_llm_vtable *lv = m.llm.vtable;
    sb_tensor *tok = lv->embed(m.llm.self, sb_tensor_from_host(SB_DTYPE_I64, 1, (int64_t[]){1}, &ids[3]));
    sb_tensor_to_host_f32(tok, t, 32);
    /* positions: 0,1 text; 2..17 image 0; 18 text (id 12); 19..34 image 1; 35, 36 text */
    CHECK(memcmp(e + 2 * 32, f, 16 * 32 * 4) == 0, "image 0's tokens at positions 2..17");
    CHECK(memcmp(e + 19 * 32, f + 16 * 32, 16 * 32 * 4) == 0, "image 1's tokens at positions 19..34");
    CHECK(memcmp(e + 18 * 32, t, 32 * 4) == 0, "the token between the images");
    CHECK(lab[2] == -100 && lab[34] == -100 && lab[35] == 13 && lab[36] == 14, "labels around the images");
    bool zeros = true;
    for (int i = 3 * 32; i < 37 * 32; i++) zeros &= e[37 * 32 + i] == 0.0f;
    CHECK(zeros && lab[37 + 3] == -100, "the text-only row is padded with zero vectors");
    CHECK(o.n_labelled == 4, "labelled targets %lld", (long long)o.n_labelled);
    CHECK(sb_backward(o.loss, NULL) == SB_OK, "backward: %s", sb_error_message());
    CHECK(sb_tensor_grad(sb_param_store_find(m.store, "projector.0.weight")->tensor) != NULL, "projector gradient");
  }
  /* a placeholder count that differs from the images is refused */
  b.images.pixel_values = sb_op_narrow(b.images.pixel_values, 0, 0, 1);
  CHECK(sb_mm_forward(&m, &b, 0, 0, &o) != SB_OK, "one image for two placeholders");
  CHECK_ERROR("the text holds 2 image placeholders (id 383) but the batch has 1 image");
  sb_tape_clear();
  sb_scope_end();
  sb_model_free(&m);
  sb_recipe_free(r);
}

int main(void) {
  g_fx = getenv("SB_FIXTURES") ? getenv("SB_FIXTURES") : SB_TEST_FIXTURES;
  char path[1024];
  snprintf(path, sizeof path, "%s/llava_tiny/inputs.safetensors", g_fx);
  g_in = sb_safetensors_open(path);
  snprintf(path, sizeof path, "%s/llava_tiny/expected.safetensors", g_fx);
  g_ex = sb_safetensors_open(path);
  CHECK(g_in && g_ex, "fixtures: %s", sb_error_message());
  if (!g_in || !g_ex) return check_summary("llava");
  check_forward();
  check_multi_image();
  static const stage stages[] = {
      {"stage1", "[projector]", NULL, false, false},
      {"stage2", "[projector, llm]", NULL, false, false},
      {"stage3.sigmoid", "[encoder.dual, projector]", "sigmoid", true, true},
      {"stage3.tanh_gate", "[encoder.dual, projector]", "tanh_gate", true, true},
      {"stage3_init.sigmoid", "[encoder.dual, projector]", "sigmoid", true, false},
      {"stage3_init.tanh_gate", "[encoder.dual, projector]", "tanh_gate", true, false},
  };
  for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) check_stage(&stages[i]);
  /* again with the output layer and the loss in checkpointed chunks of
   * 3 rows (long batches do this): the same reference, the same tolerances */
  sb_llm_info li = {.struct_size = sizeof li};
  int64_t vocab = 0;
  {
    sb_recipe *r = NULL;
    sb_model m;
    memset(&m, 0, sizeof m);
    const sb_llm_vtable *lv = NULL;
    if (build(&stages[0], &r, &m) == SB_OK && (lv = m.llm.vtable) && lv->describe(m.llm.self, &li) == SB_OK)
      vocab = li.vocab_size;
    sb_model_free(&m);
    sb_recipe_free(r);
  }
  CHECK(vocab > 0, "vocabulary size: %s", sb_error_message());
  sb_mm_set_logit_budget(3 * vocab);
  printf("chunked output layer (3 rows at a time):\n");
  for (size_t i = 0; i < 3; i++) check_stage(&stages[i]);
  sb_mm_set_logit_budget(0);
  /* stages 1 and 3 freeze the output layer, so by default the loss takes it
   * fused (sb_op_linear_cross_entropy); again through logits + loss */
  sb_mm_set_fused_head(false);
  printf("output layer and loss unfused:\n");
  for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++)
    if (strncmp(stages[i].label, "stage2", 6) != 0) check_stage(&stages[i]);
  sb_mm_set_fused_head(true);
  /* again with every block of the encoder and the LLM checkpointed */
  g_ckpt = true;
  printf("gradient checkpointing (encoder and LLM):\n");
  for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) check_stage(&stages[i]);
  g_ckpt = false;
  sb_safetensors_close(g_in), sb_safetensors_close(g_ex);
  return check_summary("llava");
}
