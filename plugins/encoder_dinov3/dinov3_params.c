/* dinov3_params.c — the encoder's parameters under their Hugging Face names
 * (MODELS.md A.4): declaration, strict loading from a DINOv3 folder (with
 * or without a "model." prefix on the tensor names), random initialisation,
 * and the SpatialBoost dual-channel copy (SPATIALBOOST.md):
 *   layer.N.attention_dual.{q,k,v,o}_proj.{weight,bias}   the copy A'
 *   layer.N.attention_dual_alpha [D]                      the mixing vector
 * all in group "dual". The copy starts as A's values with alpha = 0, unless
 * the weights folder holds dual tensors (an exported boosted encoder) or a
 * dual_attention.weights file is given. */
#include <stdio.h>
#include <string.h>

#include "dinov3.h"

#define NAME_MAX_LEN 160

/* Declares parameters into one scope with one group, remembering the first
 * failure so a run of declarations is checked once. */
typedef struct declarer {
  sb_params *p;
  const char *group; /* NULL or "dual" */
  bool failed;
} declarer;

static sb_tensor *declare(declarer *d, const char *name, int ndim, const int64_t *shape, sb_init init) {
  sb_tensor *t = d->failed ? NULL : sb_params_add(d->p, name, ndim, shape, init, d->group);
  if (!t) d->failed = true;
  return t;
}

static sb_init weight_init(const dinov3_config *c) { return (sb_init){SB_INIT_NORMAL, 0.0, c->initializer_range}; }
static const sb_init k_zeros = {SB_INIT_ZEROS, 0, 0}, k_ones = {SB_INIT_ONES, 0, 0};

/* Embeddings: cls_token, mask_token [1, 1, D], register_tokens [1, R, D],
 * the patch Conv2d weight [D, C, P, P] and bias [D]. */
static void declare_embeddings(declarer *d, dinov3 *m, bool with_registers) {
  const dinov3_config *c = &m->cfg;
  int64_t D = c->hidden_size, P = c->patch_size;
  m->cls = declare(d, "embeddings.cls_token", 3, (int64_t[]){1, 1, D}, weight_init(c));
  m->mask_token = declare(d, "embeddings.mask_token", 3, (int64_t[]){1, 1, D}, k_zeros);
  m->registers = with_registers ? declare(d, "embeddings.register_tokens", 3,
                                          (int64_t[]){1, c->num_registers, D}, weight_init(c))
                                : NULL;
  m->patch_w = declare(d, "embeddings.patch_embeddings.weight", 4, (int64_t[]){D, c->num_channels, P, P},
                       weight_init(c));
  m->patch_b = declare(d, "embeddings.patch_embeddings.bias", 1, &D, k_zeros);
}

/* layer.i.<module>.{q,k,v,o}_proj: weights [D, D], biases [D] where the
 * config has them. */
static void declare_attention(declarer *d, const dinov3_config *c, int i, const char *module, dinov3_attn *a) {
  static const char *const proj[4] = {"q_proj", "k_proj", "v_proj", "o_proj"};
  const bool bias[4] = {c->query_bias, c->key_bias, c->value_bias, c->proj_bias};
  sb_tensor **w[4] = {&a->q_w, &a->k_w, &a->v_w, &a->o_w}, **b[4] = {&a->q_b, &a->k_b, &a->v_b, &a->o_b};
  int64_t D = c->hidden_size;
  char name[NAME_MAX_LEN];
  for (int j = 0; j < 4; j++) {
    snprintf(name, sizeof name, "layer.%d.%s.%s.weight", i, module, proj[j]);
    *w[j] = declare(d, name, 2, (int64_t[]){D, D}, weight_init(c));
    snprintf(name, sizeof name, "layer.%d.%s.%s.bias", i, module, proj[j]);
    *b[j] = bias[j] ? declare(d, name, 1, &D, k_zeros) : NULL;
  }
}

/* layer.i.mlp: up [I, D], gate [I, D] (gated only), down [D, I], biases
 * when mlp_bias. */
static void declare_mlp(declarer *d, const dinov3_config *c, int i, dinov3_layer *l) {
  int64_t D = c->hidden_size, I = c->intermediate_size;
  char name[NAME_MAX_LEN];
#define MLP_LINEAR(field, proj, out_dim, in_dim)                                             \
  snprintf(name, sizeof name, "layer.%d.mlp.%s.weight", i, proj);                           \
  l->field##_w = declare(d, name, 2, (int64_t[]){out_dim, in_dim}, weight_init(c));         \
  snprintf(name, sizeof name, "layer.%d.mlp.%s.bias", i, proj);                             \
  l->field##_b = c->mlp_bias ? declare(d, name, 1, (int64_t[]){out_dim}, k_zeros) : NULL;
  if (c->gated_mlp) {
    MLP_LINEAR(gate, "gate_proj", I, D)
  }
  MLP_LINEAR(up, "up_proj", I, D)
  MLP_LINEAR(down, "down_proj", D, I)
#undef MLP_LINEAR
}

/* One block: norm1, attention, layer_scale1, norm2, mlp, layer_scale2. */
static void declare_layer(declarer *d, const dinov3_config *c, int i, dinov3_layer *l) {
  int64_t D = c->hidden_size;
  sb_init ls = {SB_INIT_CONSTANT, c->layerscale_value, 0};
  char name[NAME_MAX_LEN];
  snprintf(name, sizeof name, "layer.%d.norm1.weight", i);
  l->norm1_w = declare(d, name, 1, &D, k_ones);
  snprintf(name, sizeof name, "layer.%d.norm1.bias", i);
  l->norm1_b = declare(d, name, 1, &D, k_zeros);
  declare_attention(d, c, i, "attention", &l->attn);
  snprintf(name, sizeof name, "layer.%d.layer_scale1.lambda1", i);
  l->ls1 = declare(d, name, 1, &D, ls);
  snprintf(name, sizeof name, "layer.%d.norm2.weight", i);
  l->norm2_w = declare(d, name, 1, &D, k_ones);
  snprintf(name, sizeof name, "layer.%d.norm2.bias", i);
  l->norm2_b = declare(d, name, 1, &D, k_zeros);
  declare_mlp(d, c, i, l);
  snprintf(name, sizeof name, "layer.%d.layer_scale2.lambda1", i);
  l->ls2 = declare(d, name, 1, &D, ls);
}

static int declare_base(dinov3 *m, sb_params *p, bool with_registers) {
  declarer d = {p, NULL, false};
  int64_t D = m->cfg.hidden_size;
  declare_embeddings(&d, m, with_registers);
  for (int i = 0; i < m->cfg.num_layers; i++) {
    m->layers[i].model = m;
    declare_layer(&d, &m->cfg, i, &m->layers[i]);
  }
  m->norm_w = declare(&d, "norm.weight", 1, &D, k_ones);
  m->norm_b = declare(&d, "norm.bias", 1, &D, k_zeros);
  return d.failed ? SB_ERR : SB_OK;
}

/* The dual copies and alphas [D] of every layer, group "dual" (alpha 0). */
static int declare_dual(dinov3 *m, sb_params *p) {
  declarer d = {p, "dual", false};
  int64_t D = m->cfg.hidden_size;
  char name[NAME_MAX_LEN];
  for (int i = 0; i < m->cfg.num_layers; i++) {
    declare_attention(&d, &m->cfg, i, "attention_dual", &m->layers[i].dual);
    snprintf(name, sizeof name, "layer.%d.attention_dual_alpha", i);
    m->layers[i].dual_alpha = declare(&d, name, 1, &D, k_zeros);
  }
  return d.failed ? SB_ERR : SB_OK;
}

/* A module's tensors in a fixed order (q, k, v, o; weight then bias),
 * skipping absent biases. Returns how many (at most 8). */
static int attention_tensors(const dinov3_attn *a, sb_tensor *out[8]) {
  sb_tensor *all[8] = {a->q_w, a->q_b, a->k_w, a->k_b, a->v_w, a->v_b, a->o_w, a->o_b};
  int n = 0;
  for (int j = 0; j < 8; j++)
    if (all[j]) out[n++] = all[j];
  return n;
}

/* A' = A (values copied, not shared), alpha already 0. */
static int copy_base_to_dual(dinov3 *m) {
  for (int i = 0; i < m->cfg.num_layers; i++) {
    sb_tensor *src[8], *dst[8];
    int n = attention_tensors(&m->layers[i].attn, src);
    if (attention_tensors(&m->layers[i].dual, dst) != n) return sb_error("dual attention: layer %d does not match", i);
    for (int j = 0; j < n; j++)
      if (sb_tensor_assign(dst[j], src[j])) return sb_error_prefix("dual attention: copying layer %d", i);
  }
  return SB_OK;
}

/* What a weights file holds. */
typedef struct file_facts {
  const char *prefix; /* "model." or "" */
  bool has_dual, has_registers;
} file_facts;

static const char *name_prefix(const sb_st_set *s) {
  for (size_t i = 0; i < sb_st_set_count(s); i++)
    if (strncmp(sb_st_set_at(s, i)->name, "model.", 6) == 0) return "model.";
  return "";
}

static int inspect_weights(const char *weights, file_facts *f) {
  sb_st_set *s = sb_st_set_open(weights);
  if (!s) return SB_ERR;
  f->prefix = name_prefix(s);
  size_t pl = strlen(f->prefix);
  for (size_t i = 0; i < sb_st_set_count(s); i++) {
    const char *name = sb_st_set_at(s, i)->name;
    const char *local = strncmp(name, f->prefix, pl) == 0 ? name + pl : name;
    if (strstr(local, "attention_dual")) f->has_dual = true;
    if (strcmp(local, "embeddings.register_tokens") == 0) f->has_registers = true;
  }
  sb_st_set_close(s);
  return SB_OK;
}

/* Loads one dual parameter from the set, strict about presence and shape. */
static int load_dual_tensor(const sb_st_set *s, const char *prefix, sb_params *p, sb_tensor *param) {
  const char *full = sb_tensor_name(param), *scope = sb_params_prefix(p);
  const char *local = strncmp(full, scope, strlen(scope)) == 0 ? full + strlen(scope) : full;
  char name[NAME_MAX_LEN + 8], a[64], b[64];
  snprintf(name, sizeof name, "%s%s", prefix, local);
  const sb_st_tensor *st = sb_st_set_find(s, name);
  if (!st)
    return sb_error_set(SB_ERR_NOT_FOUND, "%s: tensor '%s' (expected shape %s) is missing", sb_st_set_path(s), name,
                        sb_tensor_shape_str(param, a, sizeof a));
  if (st->ndim != sb_tensor_ndim(param) ||
      memcmp(st->shape, sb_tensor_shape(param), sizeof(int64_t) * (size_t)st->ndim) != 0)
    return sb_error_set(SB_ERR_SHAPE, "%s: tensor '%s' has shape %s, expected %s", st->file, name,
                        sb_shape_str(st->ndim, st->shape, a, sizeof a), sb_tensor_shape_str(param, b, sizeof b));
  sb_tensor *t = sb_st_set_load(s, name, SB_DTYPE_F32);
  return t && sb_tensor_assign(param, t) == SB_OK ? SB_OK : SB_ERR;
}

/* Every tensor of the dual file must be a dual parameter of this model. */
static int check_dual_unexpected(const sb_st_set *s, const char *prefix, sb_params *p, int64_t layers) {
  size_t pl = strlen(prefix);
  for (size_t i = 0; i < sb_st_set_count(s); i++) {
    const sb_st_tensor *st = sb_st_set_at(s, i);
    bool ok = strncmp(st->name, prefix, pl) == 0 && strstr(st->name + pl, "attention_dual") &&
              sb_params_get(p, st->name + pl);
    if (!ok)
      return sb_error_set(SB_ERR_FORMAT, "%s: holds tensor '%s' that is not a dual-attention parameter of this "
                          "model (expected only layer.N.attention_dual.* and layer.N.attention_dual_alpha, "
                          "N < %lld)", st->file, st->name, (long long)layers);
  }
  return SB_OK;
}

/* Loads every dual parameter from dual_attention.weights. */
static int load_dual_file(dinov3 *m, sb_params *p, const char *path) {
  sb_st_set *s = sb_st_set_open(path);
  if (!s) return SB_ERR;
  const char *prefix = name_prefix(s);
  int rc = SB_OK;
  sb_scope_begin();
  for (int i = 0; i < m->cfg.num_layers && rc == SB_OK; i++) {
    sb_tensor *ts[9];
    int n = attention_tensors(&m->layers[i].dual, ts);
    ts[n++] = m->layers[i].dual_alpha;
    for (int j = 0; j < n && rc == SB_OK; j++) rc = load_dual_tensor(s, prefix, p, ts[j]);
  }
  if (rc == SB_OK) rc = check_dual_unexpected(s, prefix, p, m->cfg.num_layers);
  sb_scope_end();
  sb_st_set_close(s);
  return rc;
}

int dinov3_params_setup(dinov3 *m, sb_params *p, const char *weights, bool random_init, const char *dual_file) {
  file_facts f = {"", false, false};
  if (!random_init && inspect_weights(weights, &f)) return SB_ERR;
  if (f.has_dual && !m->dual)
    return sb_error("%s holds dual-attention tensors (layer.N.attention_dual.*: an encoder boosted by "
                    "SpatialBoost); set dual_attention.enabled: true to use it", weights);
  /* R = 0: Hugging Face still writes a [1, 0, D] register_tokens; accept it or its absence */
  bool with_registers = m->cfg.num_registers > 0 || f.has_registers || random_init;
  if (declare_base(m, p, with_registers)) return SB_ERR;
  if (f.has_dual && declare_dual(m, p)) return SB_ERR;
  if (!random_init && sb_params_load(p, weights, f.prefix, SB_LOAD_STRICT) < 0) return SB_ERR;
  if (m->dual && !f.has_dual && (declare_dual(m, p) || copy_base_to_dual(m))) return SB_ERR;
  if (m->dual && dual_file[0] && load_dual_file(m, p, dual_file))
    return sb_error_prefix("dual_attention.weights");
  return SB_OK;
}
