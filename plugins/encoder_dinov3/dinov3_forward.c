/* dinov3_forward.c — the DINOv3 ViT forward pass (MODELS.md A.2) with ops
 * only, batched over images and tokens: patch embedding, [CLS, registers,
 * patches], L pre-norm blocks with 2-D RoPE on the patch tokens, LayerScale
 * and a plain or gated MLP, then the final LayerNorm. With dual-channel
 * attention each block's attention output is mix(A(x), A'(x), alpha).
 * Eval semantics: no dropout, drop-path or RoPE coordinate augmentation.
 * Shapes: B images, T = 1 + R + N tokens, N = Hp·Wp patches, D hidden,
 * H heads of hd = D/H. */
#include <stdio.h>
#include <stdlib.h>

#include "dinov3.h"

/* pixel_values must be [B, C, H, W] with H, W positive multiples of P. */
static int check_pixels(const dinov3 *m, const sb_tensor *px) {
  const dinov3_config *c = &m->cfg;
  char s[96];
  if (!px) return sb_error_set(SB_ERR_SHAPE, "encoder_dinov3: no pixel_values given");
  sb_tensor_shape_str(px, s, sizeof s);
  if (!sb_dtype_is_float(sb_tensor_dtype(px)))
    return sb_error_set(SB_ERR_SHAPE, "encoder_dinov3: pixel_values are %s, expected a float dtype",
                        sb_dtype_name(sb_tensor_dtype(px)));
  if (sb_tensor_ndim(px) != 4 || sb_tensor_dim(px, 0) < 1 || sb_tensor_dim(px, 1) != c->num_channels)
    return sb_error_set(SB_ERR_SHAPE, "encoder_dinov3: pixel_values %s, expected [B, %lld, H, W]", s,
                        (long long)c->num_channels);
  int64_t h = sb_tensor_dim(px, 2), w = sb_tensor_dim(px, 3), P = c->patch_size;
  if (h < P || w < P || h % P || w % P)
    return sb_error_set(SB_ERR_SHAPE, "encoder_dinov3: pixel_values %s: H and W must be positive multiples of "
                        "the patch size %lld", s, (long long)P);
  return SB_OK;
}

/* pixels [B, C, H, W] -> tokens [B, 1 + R + N, D]: the patch Conv2d as a
 * linear map of flattened (c, ky, kx) patches, after CLS and registers. */
static sb_tensor *embed(const dinov3 *m, sb_tensor *px) {
  const dinov3_config *c = &m->cfg;
  int64_t D = c->hidden_size, B = sb_tensor_dim(px, 0);
  sb_tensor *w = sb_op_reshape(m->patch_w, 2, (int64_t[]){D, c->num_channels * c->patch_size * c->patch_size});
  sb_tensor *patches = sb_op_linear(sb_op_patchify(px, c->patch_size), w, m->patch_b); /* [B, N, D] */
  sb_tensor *prefix = m->cls;                                                         /* [1, 1 + R, D] */
  if (c->num_registers > 0) prefix = sb_op_concat((sb_tensor *[]){m->cls, m->registers}, 2, 1);
  /* the same prefix for every image: rows 0, 0, ... of a batch of one */
  sb_tensor *zeros = sb_tensor_zeros(SB_DTYPE_I64, 1, &B);
  sb_tensor *prefixes = sb_op_index_select(prefix, 0, zeros); /* [B, 1 + R, D] */
  return sb_op_concat((sb_tensor *[]){prefixes, patches}, 2, 1);
}

/* One attention module on normed tokens h [B, T, D] -> [B, T, D] (after
 * its o_proj). RoPE rotates q and k of the patch tokens, from `first`. */
static sb_tensor *attention(const dinov3 *m, const dinov3_attn *a, sb_tensor *h, sb_tensor *cos, sb_tensor *sin) {
  const dinov3_config *c = &m->cfg;
  int64_t B = sb_tensor_dim(h, 0), T = sb_tensor_dim(h, 1), H = c->num_heads, hd = c->hidden_size / H;
  int64_t heads[4] = {B, T, H, hd}, first = 1 + c->num_registers;
  sb_tensor *q = sb_op_reshape(sb_op_linear(h, a->q_w, a->q_b), 4, heads);
  sb_tensor *k = sb_op_reshape(sb_op_linear(h, a->k_w, a->k_b), 4, heads);
  sb_tensor *v = sb_op_reshape(sb_op_linear(h, a->v_w, a->v_b), 4, heads);
  q = sb_op_rope(q, cos, sin, first);
  k = sb_op_rope(k, cos, sin, first);
  sb_tensor *o = sb_op_attention(q, k, v, NULL); /* [B, T, H, hd], scale hd^-1/2 */
  return sb_op_linear(sb_op_reshape(o, 3, (int64_t[]){B, T, c->hidden_size}), a->o_w, a->o_b);
}

/* MLP on normed tokens h [B, T, D] -> [B, T, D]: down(act(up(h))) or
 * down(silu(gate(h)) ⊙ up(h)). */
static sb_tensor *mlp(const dinov3 *m, const dinov3_layer *l, sb_tensor *h) {
  sb_tensor *up = sb_op_linear(h, l->up_w, l->up_b), *mid;
  if (m->cfg.gated_mlp) mid = sb_op_swiglu(sb_op_linear(h, l->gate_w, l->gate_b), up);
  else mid = m->cfg.act == DINOV3_ACT_GELU ? sb_op_gelu(up) : sb_op_silu(up);
  return sb_op_linear(mid, l->down_w, l->down_b);
}

/* One block: x [B, T, D] -> [B, T, D]. */
static sb_tensor *block(const dinov3 *m, const dinov3_layer *l, sb_tensor *x, sb_tensor *cos, sb_tensor *sin) {
  float eps = (float)m->cfg.layer_norm_eps;
  sb_tensor *h = sb_op_layer_norm(x, l->norm1_w, l->norm1_b, eps);
  sb_tensor *a = attention(m, &l->attn, h, cos, sin);
  if (m->dual) a = sb_op_mix(a, attention(m, &l->dual, h, cos, sin), l->dual_alpha, m->mix);
  x = sb_op_add(x, sb_op_mul(a, l->ls1));
  h = sb_op_layer_norm(x, l->norm2_w, l->norm2_b, eps);
  return sb_op_add(x, sb_op_mul(mlp(m, l, h), l->ls2));
}

/* Gradient checkpointing: a block runs without recording and its backward
 * reruns it from the saved input; the RoPE tables travel as inputs. */
static int block_fn(void *ctx, sb_tensor *const *in, int n_in, sb_tensor **out, int n_out) {
  (void)n_in, (void)n_out;
  const dinov3_layer *l = ctx;
  out[0] = block(l->model, l, in[0], in[1], in[2]);
  return out[0] ? SB_OK : SB_ERR;
}

/* Whether the block's backward is needed: its input or one of its weights
 * trains (a fully frozen encoder records nothing, checkpointed or not). */
static bool block_trains(const dinov3_layer *l, sb_tensor *x) {
  const sb_tensor *t[] = {x, l->norm1_w, l->norm1_b, l->norm2_w, l->norm2_b, l->attn.q_w, l->attn.q_b,
                          l->attn.k_w, l->attn.k_b, l->attn.v_w, l->attn.v_b, l->attn.o_w, l->attn.o_b,
                          l->dual.q_w, l->dual.q_b, l->dual.k_w, l->dual.k_b, l->dual.v_w, l->dual.v_b,
                          l->dual.o_w, l->dual.o_b, l->dual_alpha, l->ls1, l->ls2, l->up_w, l->up_b,
                          l->down_w, l->down_b, l->gate_w, l->gate_b};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (t[i] && sb_tensor_requires_grad(t[i])) return true;
  return false;
}

static sb_tensor *run_block(const dinov3 *m, const dinov3_layer *l, sb_tensor *x, sb_tensor *cos, sb_tensor *sin) {
  if (m->gradient_checkpointing && sb_grad_enabled() && block_trains(l, x)) {
    sb_tensor *in[3] = {x, cos, sin}, *y = NULL;
    return sb_checkpoint(block_fn, (void *)l, in, 3, &y, 1) == SB_OK ? y : NULL;
  }
  return block(m, l, x, cos, sin);
}

/* states[0..L]: the embeddings and each block's raw output [B, T, D]. Each
 * block runs in a scope of its own so its temporaries go when it ends
 * (autograd keeps what its backward needs). */
static int run_blocks(const dinov3 *m, sb_tensor *px, sb_tensor **states) {
  const dinov3_config *c = &m->cfg;
  sb_tensor *cos = NULL, *sin = NULL;
  int64_t hp = sb_tensor_dim(px, 2) / c->patch_size, wp = sb_tensor_dim(px, 3) / c->patch_size;
  if (sb_rope_tables_2d(hp, wp, c->hidden_size / c->num_heads, c->rope_theta, &cos, &sin))
    return sb_error_prefix("encoder_dinov3");
  states[0] = embed(m, px);
  if (!states[0]) return sb_error_prefix("encoder_dinov3: embeddings");
  for (int i = 0; i < c->num_layers; i++) {
    sb_scope_begin();
    sb_tensor *y = run_block(m, &m->layers[i], states[i], cos, sin);
    if (y) sb_scope_keep(y);
    sb_scope_end();
    if (!(states[i + 1] = y)) return sb_error_prefix("encoder_dinov3: layer %d", i);
  }
  return SB_OK;
}

/* Fills out from states[0..L] as encoder.h describes. */
static int fill_outputs(const dinov3 *m, sb_tensor **states, unsigned flags, sb_encoder_output *out) {
  const dinov3_config *c = &m->cfg;
  int L = (int)c->num_layers;
  int64_t B = sb_tensor_dim(states[0], 0), T = sb_tensor_dim(states[0], 1), D = c->hidden_size;
  int64_t sel = m->select_layer < 0 ? L + 1 + m->select_layer : m->select_layer, first = 1 + c->num_registers;
  out->last_hidden_state = sb_op_layer_norm(states[L], m->norm_w, m->norm_b, (float)c->layer_norm_eps);
  /* a view either way, so every output is a tensor of its own */
  out->features = m->drop_prefix ? sb_op_narrow(states[sel], 1, first, T - first) : sb_op_narrow(states[sel], 1, 0, T);
  out->pooled = NULL;
  out->n_hidden_states = 0;
  if (flags & SB_ENCODER_POOLED)
    out->pooled = sb_op_reshape(sb_op_narrow(out->last_hidden_state, 1, 0, 1), 2, (int64_t[]){B, D});
  if (!out->last_hidden_state || !out->features || ((flags & SB_ENCODER_POOLED) && !out->pooled))
    return sb_error_prefix("encoder_dinov3: outputs");
  sb_scope_keep(out->last_hidden_state), sb_scope_keep(out->features);
  if (out->pooled) sb_scope_keep(out->pooled);
  if (flags & SB_ENCODER_HIDDEN_STATES) {
    for (int i = 0; i <= L; i++) out->hidden_states[i] = sb_scope_keep(states[i]);
    out->n_hidden_states = L + 1;
  }
  return SB_OK;
}

int dinov3_forward(dinov3 *m, const sb_encoder_input *in, unsigned flags, sb_encoder_output *out) {
  int L = (int)m->cfg.num_layers;
  if (!in || !out) return sb_error("encoder_dinov3: forward needs an input and an output");
  if (check_pixels(m, in->pixel_values)) return SB_ERR_SHAPE;
  if ((flags & SB_ENCODER_HIDDEN_STATES) && (!out->hidden_states || out->max_hidden_states < L + 1))
    return sb_error("encoder_dinov3: hidden states need room for %d tensors, the caller gave %d", L + 1,
                    out->hidden_states ? out->max_hidden_states : 0);
  sb_tensor **states = calloc((size_t)L + 1, sizeof *states);
  if (!states) return sb_error_set(SB_ERR_NOMEM, "encoder_dinov3: out of memory");
  sb_scope_begin(); /* everything but the outputs ends here */
  int rc = run_blocks(m, in->pixel_values, states);
  if (rc == SB_OK) rc = fill_outputs(m, states, flags, out);
  sb_scope_end();
  free(states);
  return rc;
}
