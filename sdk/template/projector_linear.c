/* projector_linear.c — a template plugin: a single Linear projector from
 * the encoder's width to the LLM's, y = x·Wᵀ + b. Everything a plugin needs
 * is here: an option schema, create (read options, declare parameters under
 * their checkpoint names, load weights), forward with the core's ops, and
 * the descriptor. See sdk/PLUGINS.md. */
#include <math.h>
#include <stdlib.h>

#include <spatialboost/spatialboost.h>

typedef struct linear {
  int64_t in_dim, out_dim;
  sb_tensor *weight, *bias; /* owned by the core's parameter store */
} linear;

static const sb_option k_options[] = {
    {"weights", SB_OPTION_PATH, "\"\"", "safetensors file with weight and bias; empty: fresh", NULL},
    {"bias", SB_OPTION_BOOL, "true", "whether the Linear has a bias", NULL},
};

static void *create(const sb_plugin_ctx *ctx) {
  const char *weights;
  bool has_bias;
  if (sb_config_get_path(ctx->options, "weights", &weights) ||
      sb_config_get_bool(ctx->options, "bias", &has_bias))
    return NULL; /* the getter recorded the message (file:line:col, key, expected type) */
  if (ctx->in_dim <= 0 || ctx->out_dim <= 0) {
    sb_config_error(ctx->options, NULL, "projector_linear needs an encoder and an LLM to know its widths");
    return NULL;
  }
  linear *l = calloc(1, sizeof *l);
  if (!l) {
    sb_error_set(SB_ERR_NOMEM, "projector_linear: out of memory");
    return NULL;
  }
  l->in_dim = ctx->in_dim, l->out_dim = ctx->out_dim;
  double bound = 1.0 / sqrt((double)l->in_dim); /* nn.Linear's default */
  sb_init init = {SB_INIT_UNIFORM, -bound, bound};
  l->weight = sb_params_add(ctx->params, "weight", 2, (int64_t[]){l->out_dim, l->in_dim}, init, NULL);
  l->bias = has_bias ? sb_params_add(ctx->params, "bias", 1, &l->out_dim, init, NULL) : NULL;
  if (!l->weight || (has_bias && !l->bias) ||
      (weights[0] && sb_params_load(ctx->params, weights, "", SB_LOAD_STRICT) < 0)) {
    free(l);
    return NULL;
  }
  return l;
}

static void destroy(void *self) { free(self); }

static int describe(void *self, sb_projector_info *out) {
  linear *l = self;
  out->in_dim = l->in_dim, out->out_dim = l->out_dim;
  return SB_OK;
}

/* features [..., in_dim] -> [..., out_dim]; autograd and every backend come
 * with the core's ops. */
static sb_tensor *forward(void *self, sb_tensor *x) {
  linear *l = self;
  return sb_op_linear(x, l->weight, l->bias);
}

static const sb_projector_vtable k_vtable = {
    .struct_size = sizeof(sb_projector_vtable),
    .create = create,
    .destroy = destroy,
    .describe = describe,
    .forward = forward,
};

static const sb_plugin_descriptor k_descriptor = {
    SB_PLUGIN_HEADER,
    .name = "projector_linear",
    .version = "1.0.0",
    .kind = SB_PLUGIN_PROJECTOR,
    .description = "a single Linear projector (template plugin)",
    .options = k_options,
    .n_options = SB_OPTIONS_COUNT(k_options),
    .vtable = &k_vtable,
};

SB_PLUGIN_DEFINE(projector_linear, k_descriptor)
