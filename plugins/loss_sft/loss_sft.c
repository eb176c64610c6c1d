/* loss_sft.c — the supervised fine-tuning loss: token cross-entropy over the
 * labelled positions, ignoring label -100, averaged over labelled tokens
 * (or summed and divided by the accumulated batch's count of labelled
 * tokens when the trainer accumulates gradients). */
#include <stdlib.h>

#include <spatialboost/spatialboost.h>

typedef struct loss_sft {
  int64_t ignore_index;
} loss_sft;

static const sb_option k_options[] = {
    {"ignore_index", SB_OPTION_INT, "-100", "label value that carries no loss", NULL},
};

static void *loss_create(const sb_plugin_ctx *ctx) {
  int64_t ignore;
  if (sb_config_get_int(ctx->options, "ignore_index", &ignore)) return NULL;
  loss_sft *l = calloc(1, sizeof *l);
  if (!l) {
    sb_error_set(SB_ERR_NOMEM, "loss_sft: out of memory");
    return NULL;
  }
  l->ignore_index = ignore;
  return l;
}

static void loss_destroy(void *self) { free(self); }

/* A mean over this call's labelled rows, or a sum over num_items. */
static sb_reduction reduction_of(const sb_loss_input *in, float *divisor) {
  *divisor = in->num_items > 0 ? (float)in->num_items : 0.0f;
  return in->num_items > 0 ? SB_REDUCTION_SUM : SB_REDUCTION_MEAN;
}

static sb_tensor *loss_compute(void *self, const sb_loss_input *in) {
  float divisor;
  sb_reduction red = reduction_of(in, &divisor);
  return sb_op_cross_entropy(in->logits, in->targets, ((loss_sft *)self)->ignore_index, red, divisor);
}

/* The same loss with the output layer fused in (the logits never exist). */
static sb_tensor *loss_compute_linear(void *self, const sb_loss_input *in) {
  float divisor;
  sb_reduction red = reduction_of(in, &divisor);
  return sb_op_linear_cross_entropy(in->hidden, in->weight, in->targets, ((loss_sft *)self)->ignore_index, red,
                                    divisor, 0);
}

static const sb_loss_vtable k_vtable = {
    .struct_size = sizeof(sb_loss_vtable),
    .create = loss_create,
    .destroy = loss_destroy,
    .compute = loss_compute,
    .compute_linear = loss_compute_linear,
};

static const sb_plugin_descriptor k_descriptor = {
    SB_PLUGIN_HEADER,
    .name = "loss_sft",
    .version = "1.0.0",
    .kind = SB_PLUGIN_LOSS,
    .description = "token cross-entropy over labelled positions (ignore -100), mean over labelled tokens",
    .options = k_options,
    .n_options = SB_OPTIONS_COUNT(k_options),
    .vtable = &k_vtable,
};

SB_PLUGIN_DEFINE(loss_sft, k_descriptor)
