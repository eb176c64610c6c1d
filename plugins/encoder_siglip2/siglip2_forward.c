/* siglip2_forward.c — the forward pass of the SigLIP vision tower with ops
 * only (spec/MODELS.md B.3 fixed-res, B.4 NaFlex, B.5 MAP head), batched
 * over all tokens, plus the SpatialBoost dual-channel mix
 * (spec/SPATIALBOOST.md: out = mix(A(x), A'(x), alpha) before the
 * residual). Notation: B images, N tokens, D hidden, H heads, hd = D/H,
 * I intermediate, P patch. */
#include <stdlib.h>

#include "siglip2.h"

/* config.json's hidden_act, elementwise: x [...] -> [...] */
static sb_tensor *activation(const siglip2 *m, sb_tensor *x) {
  return m->cfg.gelu_exact ? sb_op_gelu(x) : sb_op_gelu_tanh(x);
}

/* x [..., D] -> fc2(act(fc1(x))) [..., D] */
static sb_tensor *mlp(const siglip2 *m, sb_tensor *x, sb_tensor *w1, sb_tensor *b1, sb_tensor *w2,
                      sb_tensor *b2) {
  return sb_op_linear(activation(m, sb_op_linear(x, w1, b1)), w2, b2);
}

/* x [B, T, D] -> [B, T, H, hd] (a view) */
static sb_tensor *split_heads(const siglip2 *m, sb_tensor *x) {
  int64_t H = m->cfg.heads;
  return sb_op_reshape(x, 4, (int64_t[]){sb_tensor_dim(x, 0), sb_tensor_dim(x, 1), H, m->cfg.hidden / H});
}

/* x [B, T, H, hd] -> [B, T, D] */
static sb_tensor *merge_heads(const siglip2 *m, sb_tensor *x) {
  return sb_op_reshape(x, 3, (int64_t[]){sb_tensor_dim(x, 0), sb_tensor_dim(x, 1), m->cfg.hidden});
}

/* Bidirectional multi-head self-attention with biases, scale hd^-1/2.
 * h [B, N, D], key_mask [B, N] or NULL -> [B, N, D] (after out_proj). */
static sb_tensor *self_attention(const siglip2 *m, const siglip2_attn *a, sb_tensor *h, sb_tensor *key_mask) {
  sb_tensor *q = split_heads(m, sb_op_linear(h, a->qw, a->qb));
  sb_tensor *k = split_heads(m, sb_op_linear(h, a->kw, a->kb));
  sb_tensor *v = split_heads(m, sb_op_linear(h, a->vw, a->vb));
  sb_attention_opts o = {.causal = false, .scale = 0.0f, .key_mask = key_mask};
  return sb_op_linear(merge_heads(m, sb_op_attention(q, k, v, &o)), a->ow, a->ob);
}

/* Pre-LN block: x + attn(LN1(x)), then + MLP(LN2(.)). With dual-channel
 * attention the attention term is mix(A(h), A'(h), alpha).
 * x [B, N, D] -> [B, N, D] */
static sb_tensor *encoder_layer(const siglip2 *m, const siglip2_layer *l, sb_tensor *x, sb_tensor *key_mask) {
  float eps = (float)m->cfg.eps;
  sb_tensor *h = sb_op_layer_norm(x, l->ln1_w, l->ln1_b, eps);
  sb_tensor *a = self_attention(m, &l->attn, h, key_mask);
  if (m->dual) a = sb_op_mix(a, self_attention(m, &l->dual, h, key_mask), l->alpha, m->mix);
  x = sb_op_add(x, a);
  h = sb_op_layer_norm(x, l->ln2_w, l->ln2_b, eps);
  return sb_op_add(x, mlp(m, h, l->fc1_w, l->fc1_b, l->fc2_w, l->fc2_b));
}

/* Gradient checkpointing: a layer runs without recording and its backward
 * reruns it from the saved input (the key mask travels as an input). */
static int layer_fn(void *ctx, sb_tensor *const *in, int n_in, sb_tensor **out, int n_out) {
  (void)n_out;
  const siglip2_layer *l = ctx;
  sb_scope_begin();
  out[0] = encoder_layer(l->model, l, in[0], n_in > 1 ? in[1] : NULL);
  if (out[0]) sb_scope_keep(out[0]);
  sb_scope_end();
  return out[0] ? SB_OK : SB_ERR;
}

/* Whether the layer's backward is needed: its input or one of its weights
 * trains (a frozen tower records nothing, checkpointed or not). */
static bool layer_trains(const siglip2_layer *l, sb_tensor *x) {
  const sb_tensor *t[] = {x, l->ln1_w, l->ln1_b, l->attn.qw, l->attn.qb, l->attn.kw, l->attn.kb, l->attn.vw,
                          l->attn.vb, l->attn.ow, l->attn.ob, l->dual.qw, l->dual.qb, l->dual.kw, l->dual.kb,
                          l->dual.vw, l->dual.vb, l->dual.ow, l->dual.ob, l->alpha, l->ln2_w, l->ln2_b,
                          l->fc1_w, l->fc1_b, l->fc2_w, l->fc2_b};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (t[i] && sb_tensor_requires_grad(t[i])) return true;
  return false;
}

static sb_tensor *run_layer(const siglip2 *m, const siglip2_layer *l, sb_tensor *x, sb_tensor *key_mask) {
  if (!x) return NULL;
  if (m->gradient_checkpointing && sb_grad_enabled() && layer_trains(l, x)) {
    sb_tensor *in[2] = {x, key_mask}, *y = NULL;
    return sb_checkpoint(layer_fn, (void *)l, in, key_mask ? 2 : 1, &y, 1) == SB_OK ? y : NULL;
  }
  return encoder_layer(m, l, x, key_mask);
}

/* MAP head: the probe attends over x with nn.MultiheadAttention's packed
 * in_proj ([q; k; v] rows), then z = o + MLP(LayerNorm(o)).
 * x [B, N, D] (post-LN tokens), key_mask [B, N] or NULL -> [B, D] */
static sb_tensor *map_head(const siglip2 *m, sb_tensor *x, sb_tensor *key_mask) {
  const siglip2_head *hd = &m->head;
  int64_t B = sb_tensor_dim(x, 0), D = m->cfg.hidden;
  sb_tensor *wq = sb_op_narrow(hd->in_w, 0, 0, D), *wk = sb_op_narrow(hd->in_w, 0, D, D),
            *wv = sb_op_narrow(hd->in_w, 0, 2 * D, D);
  sb_tensor *bq = sb_op_narrow(hd->in_b, 0, 0, D), *bk = sb_op_narrow(hd->in_b, 0, D, D),
            *bv = sb_op_narrow(hd->in_b, 0, 2 * D, D);
  /* one query row per image: [1, 1, D] broadcast to [B, 1, D] */
  sb_tensor *q = sb_op_add(sb_tensor_zeros(SB_DTYPE_F32, 3, (int64_t[]){B, 1, D}), sb_op_linear(hd->probe, wq, bq));
  sb_attention_opts o = {.causal = false, .scale = 0.0f, .key_mask = key_mask};
  sb_tensor *att = sb_op_attention(split_heads(m, q), split_heads(m, sb_op_linear(x, wk, bk)),
                                   split_heads(m, sb_op_linear(x, wv, bv)), &o);
  sb_tensor *y = sb_op_linear(merge_heads(m, att), hd->out_w, hd->out_b); /* [B, 1, D] */
  sb_tensor *n = sb_op_layer_norm(y, hd->ln_w, hd->ln_b, (float)m->cfg.eps);
  y = sb_op_add(y, mlp(m, n, hd->fc1_w, hd->fc1_b, hd->fc2_w, hd->fc2_b));
  return sb_op_reshape(y, 2, (int64_t[]){B, D});
}

/* ---- embeddings ---- */

/* Fixed-res: Conv2d(3, D, P, stride P) as patchify + linear, plus the
 * position table (resized with bicubic when the input grid is not the
 * table's). pixels [B, 3, H, W] -> [B, (H/P)·(W/P), D] */
static sb_tensor *embed_fixed(const siglip2 *m, sb_tensor *px) {
  char s[64];
  int64_t P = m->cfg.patch, D = m->cfg.hidden;
  if (sb_tensor_ndim(px) != 4 || sb_tensor_dim(px, 0) < 1 || sb_tensor_dim(px, 1) != 3 ||
      sb_tensor_dim(px, 2) != m->in_h || sb_tensor_dim(px, 3) != m->in_w || !sb_dtype_is_float(sb_tensor_dtype(px))) {
    sb_error_set(SB_ERR_SHAPE, "pixel_values %s %s: expected float [B, 3, %lld, %lld]",
                 sb_dtype_name(sb_tensor_dtype(px)), sb_tensor_shape_str(px, s, 64), (long long)m->in_h,
                 (long long)m->in_w);
    return NULL;
  }
  sb_tensor *w = sb_op_reshape(m->patch_w, 2, (int64_t[]){D, 3 * P * P});
  sb_tensor *e = sb_op_linear(sb_op_patchify(px, P), w, m->patch_b);
  int64_t gh = m->in_h / P, gw = m->in_w / P;
  if (gh == m->cfg.grid && gw == m->cfg.grid) return sb_op_add(e, m->pos); /* [B, N, D] + [N, D] */
  int64_t shape[2] = {gh, gw};
  return sb_op_add(e, siglip2_position_embeddings(m, shape, 1, gh * gw));
}

/* NaFlex inputs' shapes and types: pixel_values float [B, N, 3·P·P],
 * pixel_attention_mask [B, N] (integer or F32), spatial_shapes integer
 * [B, 2]. */
static int naflex_check_shapes(const siglip2 *m, const sb_encoder_input *in) {
  char a[64], b[64], c[64];
  sb_tensor *px = in->pixel_values, *mask = in->pixel_attention_mask, *ss = in->spatial_shapes;
  if (!mask || !ss)
    return sb_error_set(SB_ERR_SHAPE, "a NaFlex tower needs pixel_attention_mask [B, N] and spatial_shapes [B, 2]");
  int64_t B = sb_tensor_dim(px, 0), N = sb_tensor_dim(px, 1), K = 3 * m->cfg.patch * m->cfg.patch;
  sb_dtype md = sb_tensor_dtype(mask);
  if (sb_tensor_ndim(px) == 3 && B >= 1 && N >= 1 && sb_tensor_dim(px, 2) == K &&
      sb_dtype_is_float(sb_tensor_dtype(px)) && sb_tensor_ndim(mask) == 2 && sb_tensor_dim(mask, 0) == B &&
      sb_tensor_dim(mask, 1) == N && (md == SB_DTYPE_F32 || !sb_dtype_is_float(md)) && sb_tensor_ndim(ss) == 2 &&
      sb_tensor_dim(ss, 0) == B && sb_tensor_dim(ss, 1) == 2 && !sb_dtype_is_float(sb_tensor_dtype(ss)))
    return SB_OK;
  return sb_error_set(SB_ERR_SHAPE, "pixel_values %s %s, pixel_attention_mask %s %s, spatial_shapes %s %s: "
                      "expected float [B, N, %lld], integer or F32 [B, N] and integer [B, 2]",
                      sb_dtype_name(sb_tensor_dtype(px)), sb_tensor_shape_str(px, a, 64), sb_dtype_name(md),
                      sb_tensor_shape_str(mask, b, 64), sb_dtype_name(sb_tensor_dtype(ss)),
                      sb_tensor_shape_str(ss, c, 64), (long long)K);
}

/* Image b's spatial shape (h, w) must fit N patches, and its mask row
 * mask [N] mark exactly the first h·w, as the processor makes them. */
static int naflex_check_image(int64_t b, int64_t h, int64_t w, const float *mask, int64_t N) {
  if (h < 1 || w < 1 || h > N || w > N || h * w > N)
    return sb_error_set(SB_ERR_SHAPE, "spatial_shapes[%lld] = (%lld, %lld): expected h, w >= 1 with h·w <= %lld "
                        "patches", (long long)b, (long long)h, (long long)w, (long long)N);
  for (int64_t p = 0; p < N; p++)
    if ((mask[p] != 0.0f) != (p < h * w))
      return sb_error_set(SB_ERR_SHAPE, "pixel_attention_mask[%lld] does not mark exactly the first %lldx%lld = "
                          "%lld patches of spatial_shapes (patch %lld is %s)", (long long)b, (long long)h,
                          (long long)w, (long long)(h * w), (long long)p, p < h * w ? "masked" : "unmasked");
  return SB_OK;
}

/* Checks the NaFlex inputs and copies spatial_shapes to the host:
 * *shapes [B·2] (h, w per image; the caller frees it). */
static int naflex_inputs(const siglip2 *m, const sb_encoder_input *in, int64_t **shapes) {
  if (naflex_check_shapes(m, in)) return SB_ERR_SHAPE;
  int64_t B = sb_tensor_dim(in->pixel_values, 0), N = sb_tensor_dim(in->pixel_values, 1);
  int64_t *sh = malloc(sizeof(int64_t) * (size_t)(2 * B));
  float *mk = malloc(sizeof(float) * (size_t)(B * N));
  sb_tensor *ss64 = sb_op_cast(in->spatial_shapes, SB_DTYPE_I64);
  int rc = sh && mk && ss64 ? SB_OK : SB_ERR_NOMEM;
  if (!rc) rc = sb_tensor_to_host(ss64, sh, sizeof(int64_t) * (size_t)(2 * B));
  if (!rc) rc = sb_tensor_to_host_f32(in->pixel_attention_mask, mk, (size_t)(B * N));
  for (int64_t b = 0; b < B && !rc; b++) rc = naflex_check_image(b, sh[2 * b], sh[2 * b + 1], mk + b * N, N);
  free(mk);
  if (rc) free(sh);
  else *shapes = sh;
  return rc;
}

/* NaFlex: Linear patch embedding of pre-flattened (py, px, c) patches plus
 * the table resized per image (B.4). pixels [B, N, 3·P·P] -> [B, N, D] */
static sb_tensor *embed_naflex(const siglip2 *m, const sb_encoder_input *in) {
  int64_t *shapes = NULL;
  if (naflex_inputs(m, in, &shapes)) return NULL;
  sb_tensor *px = in->pixel_values;
  sb_tensor *pos = siglip2_position_embeddings(m, shapes, sb_tensor_dim(px, 0), sb_tensor_dim(px, 1));
  free(shapes);
  return sb_op_add(sb_op_linear(px, m->patch_w, m->patch_b), pos);
}

/* ---- the whole tower ---- */

static int check_output(const siglip2 *m, unsigned flags, const sb_encoder_output *out) {
  if ((flags & SB_ENCODER_HIDDEN_STATES) && (!out->hidden_states || out->max_hidden_states < m->cfg.layers + 1))
    return sb_error_set(SB_ERR_SHAPE, "hidden_states: room for %d states given, %lld needed",
                        out->hidden_states ? out->max_hidden_states : 0, (long long)(m->cfg.layers + 1));
  return SB_OK;
}

int siglip2_forward(void *self, const sb_encoder_input *in, unsigned flags, sb_encoder_output *out) {
  const siglip2 *m = self;
  if (!in || !out || !in->pixel_values)
    return sb_error_set(SB_ERR_SHAPE, SIGLIP2_NAME ": forward needs pixel_values and an output");
  if (check_output(m, flags, out)) return sb_error_prefix(SIGLIP2_NAME);
  sb_tensor *mask = m->cfg.naflex ? in->pixel_attention_mask : NULL;
  sb_tensor *x = m->cfg.naflex ? embed_naflex(m, in) : embed_fixed(m, in->pixel_values);
  if (!x) return sb_error_prefix(SIGLIP2_NAME);
  bool keep = flags & SB_ENCODER_HIDDEN_STATES;
  sb_tensor *features = m->select == 0 ? x : NULL;
  if (keep) out->hidden_states[0] = x;
  for (int64_t i = 0; i < m->cfg.layers; i++) {
    x = run_layer(m, &m->layer[i], x, mask);
    if (keep) out->hidden_states[i + 1] = x;
    if (m->select == i + 1) features = x;
  }
  sb_tensor *last = sb_op_layer_norm(x, m->post_w, m->post_b, (float)m->cfg.eps);
  sb_tensor *pooled = m->use_head && (flags & SB_ENCODER_POOLED) ? map_head(m, last, mask) : NULL;
  if (!last || !features || (m->use_head && (flags & SB_ENCODER_POOLED) && !pooled))
    return sb_error_prefix(SIGLIP2_NAME ": forward");
  out->last_hidden_state = last;
  out->features = features;
  out->pooled = pooled;
  out->n_hidden_states = keep ? (int)(m->cfg.layers + 1) : 0;
  return SB_OK;
}
