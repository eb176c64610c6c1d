/* siglip2_weights.c — the tower's parameters: declaring them under their
 * full Hugging Face names (spec/MODELS.md B.6, "vision_model." included, so
 * an exported checkpoint loads back in PyTorch), loading a checkpoint
 * (strict about vision_model.* tensors, the text tower and logit_scale /
 * logit_bias ignored), and starting the SpatialBoost dual channel
 * (vision_model.encoder.layers.N.self_attn_dual.* and ..._dual_alpha, group
 * "dual"): from the checkpoint when it has them, else from
 * dual_attention.weights, else A' = A and alpha = 0. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siglip2.h"

#define VPREFIX "vision_model."

/* ---- declaration ---- */

typedef struct decl {
  siglip2 *m;
  sb_params *p;
  const char *group;
  int failed;
} decl;

static int remember(siglip2 *m, sb_tensor *t) {
  if (m->n_params == m->cap_params) {
    size_t cap = m->cap_params ? 2 * m->cap_params : 64;
    sb_tensor **v = realloc(m->params, cap * sizeof *v);
    if (!v) return sb_error_set(SB_ERR_NOMEM, SIGLIP2_NAME ": out of memory");
    m->params = v, m->cap_params = cap;
  }
  m->params[m->n_params++] = t;
  return SB_OK;
}

/* Declares one parameter named by fmt; NULL after the first failure. */
static sb_tensor *add(decl *d, sb_init init, int ndim, const int64_t *shape, const char *fmt, ...)
    SB_PRINTF(5, 6);
static sb_tensor *add(decl *d, sb_init init, int ndim, const int64_t *shape, const char *fmt, ...) {
  if (d->failed) return NULL;
  char name[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name, sizeof name, fmt, ap);
  va_end(ap);
  sb_tensor *t = sb_params_add(d->p, name, ndim, shape, init, d->group);
  if (!t || remember(d->m, t)) d->failed = 1;
  return d->failed ? NULL : t;
}

/* Initial values (used by random_init; loading overwrites them), close to
 * Hugging Face's SiglipPreTrainedModel._init_weights. */
static sb_init xavier(int64_t fan_in, int64_t fan_out) {
  double b = sqrt(6.0 / (double)(fan_in + fan_out));
  return (sb_init){SB_INIT_UNIFORM, -b, b};
}
static sb_init lecun(int64_t fan_in) { /* truncated normal, variance 1/fan_in */
  return (sb_init){SB_INIT_TRUNC_NORMAL, 0.0, sqrt(1.0 / (double)fan_in) / 0.87962566103423978};
}
static const sb_init k_zeros = {SB_INIT_ZEROS, 0, 0}, k_ones = {SB_INIT_ONES, 0, 0};

/* weight [out, in] and bias [out] of "<base>.weight" / "<base>.bias". */
static void linear(decl *d, sb_tensor **w, sb_tensor **b, int64_t out, int64_t in, sb_init wi, sb_init bi,
                   const char *base) {
  *w = add(d, wi, 2, (int64_t[]){out, in}, "%s.weight", base);
  *b = add(d, bi, 1, &out, "%s.bias", base);
}

static void layer_norm(decl *d, sb_tensor **w, sb_tensor **b, int64_t dim, const char *base) {
  *w = add(d, k_ones, 1, &dim, "%s.weight", base);
  *b = add(d, k_zeros, 1, &dim, "%s.bias", base);
}

/* q/k/v/out projections of one attention module named `base`. */
static void attention(decl *d, siglip2_attn *a, int64_t D, const char *base) {
  char n[200];
  sb_init w = xavier(D, D);
  snprintf(n, sizeof n, "%s.q_proj", base), linear(d, &a->qw, &a->qb, D, D, w, k_zeros, n);
  snprintf(n, sizeof n, "%s.k_proj", base), linear(d, &a->kw, &a->kb, D, D, w, k_zeros, n);
  snprintf(n, sizeof n, "%s.v_proj", base), linear(d, &a->vw, &a->vb, D, D, w, k_zeros, n);
  snprintf(n, sizeof n, "%s.out_proj", base), linear(d, &a->ow, &a->ob, D, D, w, k_zeros, n);
}

static void mlp(decl *d, sb_tensor **w1, sb_tensor **b1, sb_tensor **w2, sb_tensor **b2, int64_t D, int64_t I,
                const char *base) {
  char n[200];
  sb_init tiny = {SB_INIT_NORMAL, 0.0, 1e-6};
  snprintf(n, sizeof n, "%s.fc1", base), linear(d, w1, b1, I, D, xavier(D, I), tiny, n);
  snprintf(n, sizeof n, "%s.fc2", base), linear(d, w2, b2, D, I, xavier(I, D), tiny, n);
}

static void embeddings(decl *d, siglip2 *m) {
  const siglip2_config *c = &m->cfg;
  int64_t D = c->hidden, P = c->patch, K = 3 * P * P;
  if (c->naflex)
    m->patch_w = add(d, lecun(K), 2, (int64_t[]){D, K}, VPREFIX "embeddings.patch_embedding.weight");
  else
    m->patch_w = add(d, lecun(K), 4, (int64_t[]){D, 3, P, P}, VPREFIX "embeddings.patch_embedding.weight");
  m->patch_b = add(d, k_zeros, 1, &D, VPREFIX "embeddings.patch_embedding.bias");
  m->pos = add(d, (sb_init){SB_INIT_NORMAL, 0.0, 1.0 / sqrt((double)D)}, 2, (int64_t[]){c->num_patches, D},
               VPREFIX "embeddings.position_embedding.weight");
}

static void encoder_layer(decl *d, siglip2 *m, int64_t i) {
  siglip2_layer *l = &m->layer[i];
  int64_t D = m->cfg.hidden;
  char n[160];
  snprintf(n, sizeof n, VPREFIX "encoder.layers.%lld.layer_norm1", (long long)i);
  layer_norm(d, &l->ln1_w, &l->ln1_b, D, n);
  snprintf(n, sizeof n, VPREFIX "encoder.layers.%lld.self_attn", (long long)i);
  attention(d, &l->attn, D, n);
  snprintf(n, sizeof n, VPREFIX "encoder.layers.%lld.layer_norm2", (long long)i);
  layer_norm(d, &l->ln2_w, &l->ln2_b, D, n);
  snprintf(n, sizeof n, VPREFIX "encoder.layers.%lld.mlp", (long long)i);
  mlp(d, &l->fc1_w, &l->fc1_b, &l->fc2_w, &l->fc2_b, D, m->cfg.intermediate, n);
}

static void map_head(decl *d, siglip2 *m) {
  siglip2_head *h = &m->head;
  int64_t D = m->cfg.hidden;
  h->probe = add(d, xavier(D, D), 3, (int64_t[]){1, 1, D}, VPREFIX "head.probe");
  h->in_w = add(d, xavier(D, 3 * D), 2, (int64_t[]){3 * D, D}, VPREFIX "head.attention.in_proj_weight");
  h->in_b = add(d, k_zeros, 1, (int64_t[]){3 * D}, VPREFIX "head.attention.in_proj_bias");
  linear(d, &h->out_w, &h->out_b, D, D, xavier(D, D), k_zeros, VPREFIX "head.attention.out_proj");
  layer_norm(d, &h->ln_w, &h->ln_b, D, VPREFIX "head.layernorm");
  mlp(d, &h->fc1_w, &h->fc1_b, &h->fc2_w, &h->fc2_b, D, m->cfg.intermediate, VPREFIX "head.mlp");
}

/* The SpatialBoost copy A' and alpha of layer i (group "dual"). */
static void dual_layer(decl *d, siglip2 *m, int64_t i) {
  char n[160];
  int64_t D = m->cfg.hidden;
  snprintf(n, sizeof n, VPREFIX "encoder.layers.%lld.self_attn_dual", (long long)i);
  attention(d, &m->layer[i].dual, D, n);
  m->layer[i].alpha = add(d, k_zeros, 1, &D, VPREFIX "encoder.layers.%lld.self_attn_dual_alpha", (long long)i);
}

int siglip2_declare(siglip2 *m, sb_params *p) {
  decl d = {m, p, NULL, 0};
  m->layer = calloc((size_t)m->cfg.layers, sizeof *m->layer);
  if (!m->layer) return sb_error_set(SB_ERR_NOMEM, SIGLIP2_NAME ": out of memory");
  embeddings(&d, m);
  for (int64_t i = 0; i < m->cfg.layers; i++) {
    m->layer[i].model = m;
    encoder_layer(&d, m, i);
  }
  layer_norm(&d, &m->post_w, &m->post_b, m->cfg.hidden, VPREFIX "post_layernorm");
  if (m->cfg.has_head) map_head(&d, m);
  m->n_base = m->n_params;
  d.group = "dual";
  for (int64_t i = 0; m->dual && i < m->cfg.layers; i++) dual_layer(&d, m, i);
  return d.failed ? SB_ERR : SB_OK;
}

/* ---- loading ---- */

/* The name a parameter has in checkpoints (its store name less the scope). */
static const char *file_name_of(const sb_params *p, const sb_tensor *t) {
  return sb_tensor_name(t) + strlen(sb_params_prefix(p));
}

static bool is_dual_name(const char *name) { return strstr(name, "self_attn_dual") != NULL; }

static int missing(const sb_st_set *set, const sb_params *p, const sb_tensor *t) {
  char a[64];
  return sb_error_set(SB_ERR_NOT_FOUND, "%s: tensor '%s' (expected shape %s) is missing", sb_st_set_path(set),
                      file_name_of(p, t), sb_tensor_shape_str(t, a, sizeof a));
}

/* Every vision_model.* tensor of the file must be a declared parameter. */
static int check_unexpected(const siglip2 *m, sb_params *p, const sb_st_set *set) {
  for (size_t i = 0; i < sb_st_set_count(set); i++) {
    const sb_st_tensor *st = sb_st_set_at(set, i);
    if (strncmp(st->name, VPREFIX, strlen(VPREFIX)) != 0 || sb_params_get(p, st->name)) continue;
    if (is_dual_name(st->name) && !m->dual)
      return sb_error_set(SB_ERR_FORMAT, "%s: holds the dual-channel tensor '%s' of a SpatialBoost encoder: set "
                          "dual_attention.enabled: true to use it (or load the base checkpoint)", st->file,
                          st->name);
    return sb_error_set(SB_ERR_FORMAT, "%s: holds tensor '%s' that is not a parameter of this model (check the "
                        "checkpoint matches its config.json)", st->file, st->name);
  }
  return SB_OK;
}

/* Base tensors must all be there; dual ones all or none (*has_dual). */
static int check_present(const siglip2 *m, sb_params *p, const sb_st_set *set, bool *has_dual) {
  size_t n_dual = 0;
  const sb_tensor *absent_dual = NULL;
  for (size_t i = 0; i < m->n_params; i++) {
    const sb_tensor *t = m->params[i];
    bool there = sb_st_set_find(set, file_name_of(p, t)) != NULL;
    if (i < m->n_base && !there) return missing(set, p, t);
    if (i >= m->n_base) {
      n_dual += there;
      if (!there && !absent_dual) absent_dual = t;
    }
  }
  if (n_dual && absent_dual) {
    char a[64];
    return sb_error_set(SB_ERR_NOT_FOUND, "%s: holds some dual-channel tensors but not '%s' (expected shape %s)",
                        sb_st_set_path(set), file_name_of(p, absent_dual),
                        sb_tensor_shape_str(absent_dual, a, sizeof a));
  }
  *has_dual = n_dual > 0;
  return SB_OK;
}

/* A dual tensor of a dual_attention.weights file, named in full
 * ("vision_model.encoder.layers.0.self_attn_dual...") or without the
 * "vision_model." part; NULL when absent. */
static const sb_st_tensor *find_dual(const sb_st_set *set, const char *name) {
  const sb_st_tensor *st = sb_st_set_find(set, name);
  return st ? st : sb_st_set_find(set, name + strlen(VPREFIX));
}

/* Every dual-channel tensor of the file must be one of ours. */
static int check_dual_names(sb_params *p, const sb_st_set *set) {
  char full[512];
  for (size_t i = 0; i < sb_st_set_count(set); i++) {
    const sb_st_tensor *st = sb_st_set_at(set, i);
    bool prefixed = !strncmp(st->name, VPREFIX, strlen(VPREFIX));
    snprintf(full, sizeof full, "%s%s", prefixed ? "" : VPREFIX, st->name);
    if (is_dual_name(st->name) && !sb_params_get(p, full))
      return sb_error_set(SB_ERR_FORMAT, "%s: holds tensor '%s' that is not a dual-channel parameter of this "
                          "model", st->file, st->name);
  }
  return SB_OK;
}

/* One dual parameter t [its shape] from the file: present, same shape,
 * a float dtype (converted to float32). */
static int load_one_dual(const sb_st_set *set, sb_params *p, sb_tensor *t) {
  const sb_st_tensor *st = find_dual(set, file_name_of(p, t));
  char a[64], b[64];
  if (!st) return missing(set, p, t);
  if (st->ndim != sb_tensor_ndim(t) || memcmp(st->shape, sb_tensor_shape(t), sizeof(int64_t) * (size_t)st->ndim))
    return sb_error_set(SB_ERR_SHAPE, "%s: tensor '%s' has shape %s, expected %s", st->file, st->name,
                        sb_shape_str(st->ndim, st->shape, a, 64), sb_tensor_shape_str(t, b, 64));
  if (!sb_dtype_is_float(st->dtype))
    return sb_error_set(SB_ERR_FORMAT, "%s: tensor '%s' is %s, expected a float dtype", st->file, st->name,
                        sb_dtype_name(st->dtype));
  sb_scope_begin();
  sb_tensor *v = sb_st_set_load(set, st->name, SB_DTYPE_F32);
  int rc = v ? sb_tensor_assign(t, v) : SB_ERR;
  sb_scope_end();
  return rc;
}

/* Copies the dual tensors of another file into the declared dual
 * parameters; other tensors of that file are ignored. */
static int load_dual_file(const siglip2 *m, sb_params *p, const char *path) {
  sb_st_set *set = sb_st_set_open(path);
  if (!set) return sb_error_prefix("dual_attention.weights");
  int rc = check_dual_names(p, set);
  for (size_t i = m->n_base; i < m->n_params && !rc; i++) rc = load_one_dual(set, p, m->params[i]);
  sb_st_set_close(set);
  return rc;
}

int siglip2_dual_start(siglip2 *m) {
  for (int64_t i = 0; m->dual && i < m->cfg.layers; i++) {
    siglip2_attn *a = &m->layer[i].attn, *b = &m->layer[i].dual;
    sb_tensor *src[8] = {a->qw, a->qb, a->kw, a->kb, a->vw, a->vb, a->ow, a->ob};
    sb_tensor *dst[8] = {b->qw, b->qb, b->kw, b->kb, b->vw, b->vb, b->ow, b->ob};
    for (int k = 0; k < 8; k++)
      if (sb_tensor_assign(dst[k], src[k])) return SB_ERR;
    if (sb_tensor_fill(m->layer[i].alpha, 0.0)) return SB_ERR;
  }
  return SB_OK;
}

int siglip2_load(siglip2 *m, sb_params *p, const char *weights, const char *dual_weights) {
  bool has_dual = false;
  if (weights) {
    sb_st_set *set = sb_st_set_open(weights);
    if (!set) return SB_ERR;
    int rc = check_unexpected(m, p, set);
    if (!rc) rc = check_present(m, p, set, &has_dual);
    sb_st_set_close(set);
    /* Presence is settled above; the core checks shapes and dtypes and
     * converts BF16/F16. */
    if (!rc && sb_params_load(p, weights, "", SB_LOAD_ALLOW_MISSING | SB_LOAD_ALLOW_UNEXPECTED) < 0) rc = SB_ERR;
    if (rc) return rc;
  }
  if (!m->dual) return SB_OK;
  if (dual_weights && dual_weights[0]) return load_dual_file(m, p, dual_weights);
  return has_dual ? SB_OK : siglip2_dual_start(m);
}
