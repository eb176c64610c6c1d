/* test_loss_golden.c — loss_sft against the llava_tiny fixture: the
 * fixture's logits [2, 27, 384] and merged labels, shifted by one as
 * Hugging Face's causal-LM loss does, must give the fixture's loss; the
 * gradient-accumulation form (sum / num_items) must give the same value
 * when num_items is this batch's count of labelled tokens. */
#include <stdlib.h>

#include "../common/check.h"
#include "recipe.h"
#include "spatialboost/spatialboost.h"

/* The loss is a mean of 2·O(10) cross-entropies each computed in fp32 with
 * a log-sum-exp over 384 logits: ~1e-6 relative; 1e-5 leaves margin. */
static const double k_tol = 1e-5;

int main(void) {
  const char *fx = getenv("SB_FIXTURES");
  if (!fx) fx = SB_TEST_FIXTURES;
  char path[1024];
  snprintf(path, sizeof path, "%s/llava_tiny/expected.safetensors", fx);
  sb_safetensors *ex = sb_safetensors_open(path);
  CHECK(ex, "fixture: %s", sb_error_message());
  if (!ex) return check_summary("loss-golden");
  sb_plugin *p = sb_plugin_find("loss_sft", SB_PLUGIN_LOSS);
  CHECK(p, "loss_sft: %s", sb_error_message());
  if (!p) return check_summary("loss-golden");
  const sb_loss_vtable *vt = sb_plugin_descriptor_of(p)->vtable;

  sb_scope_begin();
  sb_tensor *logits = sb_safetensors_load(ex, "logits", SB_DTYPE_F32);    /* [2, 27, 384] */
  sb_tensor *labels = sb_safetensors_load(ex, "merged.labels", SB_DTYPE_I64); /* [2, 27] */
  sb_tensor *want = sb_safetensors_load(ex, "loss", SB_DTYPE_F32);
  int64_t B = sb_tensor_dim(logits, 0), S = sb_tensor_dim(logits, 1), V = sb_tensor_dim(logits, 2);
  /* position t predicts label t+1: logits[:, :-1] against labels[:, 1:] */
  sb_tensor *z = sb_op_reshape(sb_op_narrow(logits, 1, 0, S - 1), 2, (int64_t[]){B * (S - 1), V});
  sb_tensor *t = sb_op_reshape(sb_op_narrow(labels, 1, 1, S - 1), 1, (int64_t[]){B * (S - 1)});
  int64_t lab[64], count = 0;
  CHECK(sb_tensor_to_host(t, lab, sizeof(int64_t) * (size_t)(B * (S - 1))) == SB_OK, "labels");
  for (int64_t i = 0; i < B * (S - 1); i++) count += lab[i] != -100;

  /* create() reads its options from a recipe block, as the model builder
   * hands them over: `plugin:` consumed, the rest bound to the schema. */
  sb_recipe *r = sb_recipe_load(SB_TEST_DATA "/loss.yaml", NULL, 0);
  const sb_config *blk = r ? sb_config_get_map(sb_recipe_root(r), "loss") : NULL;
  CHECK(blk, "recipe: %s", sb_error_message());
  const sb_plugin_descriptor *d = sb_plugin_descriptor_of(p);
  sb_plugin_ctx ctx = {.struct_size = sizeof ctx, .component = "loss"};
  if (blk) {
    sb_config_mark_used(blk, "plugin");
    ctx.options = sb_config_bind(blk, d->name, d->options, d->n_options);
  }
  void *self = ctx.options ? vt->create(&ctx) : NULL;
  CHECK(self, "create: %s", sb_error_message());
  if (self) {
    float got, w, got_sum;
    sb_loss_input in = {.struct_size = sizeof in, .logits = z, .targets = t};
    CHECK(sb_tensor_item(vt->compute(self, &in), &got) == SB_OK, "mean: %s", sb_error_message());
    sb_tensor_item(want, &w);
    CHECK(fabs(got - w) <= k_tol * fabs(w), "loss %.8f, fixture %.8f", got, w);
    in.num_items = count;
    CHECK(sb_tensor_item(vt->compute(self, &in), &got_sum) == SB_OK, "sum: %s", sb_error_message());
    CHECK(fabs(got_sum - w) <= k_tol * fabs(w), "sum/num_items %.8f, fixture %.8f", got_sum, w);
    in.num_items = 2 * count; /* half of the accumulated batch: half the loss */
    CHECK(sb_tensor_item(vt->compute(self, &in), &got_sum) == SB_OK && fabs(got_sum - w / 2) <= k_tol * fabs(w),
          "sum/(2·count) %.8f, expected %.8f", got_sum, w / 2);
    printf("loss %.8f (fixture %.8f), %lld labelled tokens\n", got, w, (long long)count);
    vt->destroy(self);
  }
  sb_scope_end();
  CHECK(r && sb_recipe_check_unused(r) == SB_OK, "unused: %s", sb_error_message());
  sb_recipe_free(r);
  sb_safetensors_close(ex);
  return check_summary("loss-golden");
}
