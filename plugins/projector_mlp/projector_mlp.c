/* projector_mlp.c — LLaVA's mlpNx_gelu projector: Linear, GELU, Linear, ...
 * (N linears; LLaVA-1.5's mlp2x_gelu is the default). Parameters keep
 * LLaVA's names: the i-th Linear is module index 2i, so "0.weight",
 * "0.bias", "2.weight", "2.bias". Fresh weights follow PyTorch's nn.Linear
 * initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spatialboost/spatialboost.h>

#define MAX_DEPTH 8

typedef struct projector {
  int depth;
  int64_t in_dim, out_dim;
  bool gelu_tanh;
  sb_tensor *w[MAX_DEPTH], *b[MAX_DEPTH];
} projector;

static const sb_option k_options[] = {
    {"weights", SB_OPTION_PATH, "\"\"",
     "safetensors file (or folder) with the projector's weights; empty: fresh initialisation", NULL},
    {"weights_prefix", SB_OPTION_STRING, "\"\"",
     "prefix of the projector's tensors in that file, e.g. \"model.mm_projector.\"", NULL},
    {"in_dim", SB_OPTION_INT, "0", "input width; 0: the encoder's hidden size (or the file's)", NULL},
    {"out_dim", SB_OPTION_INT, "0", "output width; 0: the LLM's hidden size (or the file's)", NULL},
    {"depth", SB_OPTION_INT, "2", "number of Linear layers (LLaVA's mlp2x_gelu has 2)", NULL},
    {"activation", SB_OPTION_ENUM, "gelu", "activation between the layers (gelu is the exact erf form)",
     "gelu|gelu_tanh"},
};

/* Reads the width of <prefix>0.weight in the weights file when the recipe
 * and the components leave it open. */
static int dims_from_file(const char *path, const char *prefix, int depth, int64_t *in, int64_t *out) {
  sb_st_set *set = sb_st_set_open(path);
  if (!set) return SB_ERR;
  char name[256];
  snprintf(name, sizeof name, "%s0.weight", prefix);
  const sb_st_tensor *first = sb_st_set_find(set, name);
  snprintf(name, sizeof name, "%s%d.weight", prefix, 2 * (depth - 1));
  const sb_st_tensor *last = sb_st_set_find(set, name);
  if (first && first->ndim == 2 && !*in) *in = first->shape[1];
  if (last && last->ndim == 2 && !*out) *out = last->shape[0];
  sb_st_set_close(set);
  return SB_OK;
}

static void *projector_create(const sb_plugin_ctx *ctx) {
  const sb_config *o = ctx->options;
  const char *weights, *prefix;
  int64_t in_dim, out_dim, depth;
  int act;
  static const char *const acts[] = {"gelu", "gelu_tanh", NULL};
  if (sb_config_get_path(o, "weights", &weights) || sb_config_get_string(o, "weights_prefix", &prefix) ||
      sb_config_get_int(o, "in_dim", &in_dim) || sb_config_get_int(o, "out_dim", &out_dim) ||
      sb_config_get_int(o, "depth", &depth) || sb_config_get_enum(o, "activation", acts, &act))
    return NULL;
  if (depth < 1 || depth > MAX_DEPTH) {
    sb_config_error(o, "depth", "%lld layers; expected 1 to %d", (long long)depth, MAX_DEPTH);
    return NULL;
  }
  if (!in_dim) in_dim = ctx->in_dim;
  if (!out_dim) out_dim = ctx->out_dim;
  if ((!in_dim || !out_dim) && weights[0] && dims_from_file(weights, prefix, (int)depth, &in_dim, &out_dim))
    return NULL;
  if (in_dim <= 0 || out_dim <= 0) {
    sb_config_error(o, NULL, "projector widths unknown (in_dim %lld, out_dim %lld): set in_dim and "
                    "out_dim, give weights, or pair it with an encoder and an LLM",
                    (long long)in_dim, (long long)out_dim);
    return NULL;
  }
  projector *p = calloc(1, sizeof *p);
  if (!p) {
    sb_error_set(SB_ERR_NOMEM, "projector_mlp: out of memory");
    return NULL;
  }
  p->depth = (int)depth, p->in_dim = in_dim, p->out_dim = out_dim, p->gelu_tanh = act == 1;
  for (int i = 0; i < p->depth; i++) {
    int64_t fan_in = i == 0 ? in_dim : out_dim;
    double bound = 1.0 / sqrt((double)fan_in);
    sb_init init = {SB_INIT_UNIFORM, -bound, bound};
    char wn[32], bn[32];
    snprintf(wn, sizeof wn, "%d.weight", 2 * i);
    snprintf(bn, sizeof bn, "%d.bias", 2 * i);
    p->w[i] = sb_params_add(ctx->params, wn, 2, (int64_t[]){out_dim, fan_in}, init, NULL);
    p->b[i] = sb_params_add(ctx->params, bn, 1, &out_dim, init, NULL);
    if (!p->w[i] || !p->b[i]) {
      free(p);
      return NULL;
    }
  }
  if (weights[0] && sb_params_load(ctx->params, weights, prefix, SB_LOAD_STRICT) < 0) {
    sb_error_prefix("projector_mlp: loading %s", weights);
    free(p);
    return NULL;
  }
  return p;
}

static void projector_destroy(void *self) { free(self); }

static int projector_describe(void *self, sb_projector_info *out) {
  projector *p = self;
  out->in_dim = p->in_dim, out->out_dim = p->out_dim;
  return SB_OK;
}

/* features [..., in_dim] -> [..., out_dim] */
static sb_tensor *projector_forward(void *self, sb_tensor *x) {
  projector *p = self;
  for (int i = 0; i < p->depth; i++) {
    x = sb_op_linear(x, p->w[i], p->b[i]);
    if (i + 1 < p->depth) x = p->gelu_tanh ? sb_op_gelu_tanh(x) : sb_op_gelu(x);
  }
  return x;
}

static const sb_projector_vtable k_vtable = {
    .struct_size = sizeof(sb_projector_vtable),
    .create = projector_create,
    .destroy = projector_destroy,
    .describe = projector_describe,
    .forward = projector_forward,
};

static const sb_plugin_descriptor k_descriptor = {
    SB_PLUGIN_HEADER,
    .name = "projector_mlp",
    .version = "1.0.0",
    .kind = SB_PLUGIN_PROJECTOR,
    .description = "LLaVA mlpNx_gelu projector (Linear-GELU-Linear), weights 0.*, 2.*",
    .options = k_options,
    .n_options = SB_OPTIONS_COUNT(k_options),
    .vtable = &k_vtable,
};

SB_PLUGIN_DEFINE(projector_mlp, k_descriptor)
