/* mm_forward.c — the multimodal forward (mm_forward.h). The splice is one
 * index_select over [text embeddings; visual tokens; a zero row], with the
 * index built on the host from the ids, so gradients flow back to both the
 * embedding table and the projector (and through it, to the encoder). */
#include <stdlib.h>
#include <string.h>

#include "mm_forward.h"
#include "slots.h"
#include "spatialboost/spatialboost.h"
#include "util.h"

#define IGNORE (-100)

/* Host copies of the batch's ids, labels and mask. */
typedef struct host_batch {
  int64_t B, S, *ids, *labels, *mask;
} host_batch;

static void host_free(host_batch *h) { free(h->ids), free(h->labels), free(h->mask); }

static int64_t *host_i64(sb_tensor *t, int64_t n) {
  int64_t *v = sb_malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
  if (!v) return NULL;
  sb_tensor *c = sb_op_cast(t, SB_DTYPE_I64);
  if (!c || sb_tensor_to_host(c, v, sizeof(int64_t) * (size_t)n)) {
    free(v);
    return NULL;
  }
  return v;
}

static int host_load(const sb_mm_batch *b, host_batch *h) {
  memset(h, 0, sizeof *h);
  char s1[64], s2[64];
  if (!b->input_ids || sb_tensor_ndim(b->input_ids) != 2 || !b->labels ||
      !sb_tensor_same_shape(b->input_ids, b->labels) ||
      (b->attention_mask && !sb_tensor_same_shape(b->input_ids, b->attention_mask)))
    return sb_error_set(SB_ERR_SHAPE, "multimodal forward: input_ids %s and labels %s must be [B, S] alike",
                        b->input_ids ? sb_tensor_shape_str(b->input_ids, s1, 64) : "NULL",
                        b->labels ? sb_tensor_shape_str(b->labels, s2, 64) : "NULL");
  h->B = sb_tensor_dim(b->input_ids, 0), h->S = sb_tensor_dim(b->input_ids, 1);
  int64_t n = h->B * h->S;
  h->ids = host_i64(b->input_ids, n), h->labels = host_i64(b->labels, n);
  h->mask = b->attention_mask ? host_i64(b->attention_mask, n) : NULL;
  if (!h->ids || !h->labels || (b->attention_mask && !h->mask)) return SB_ERR;
  return SB_OK;
}

/* The merged layout: for merged position (b, t), where its row comes from. */
typedef struct layout {
  int64_t L, n_images;
  int64_t *src;    /* [B·L] row of [text; visual; zero] */
  int64_t *labels; /* [B·L] */
  int64_t *mask;   /* [B·L] */
} layout;

static void layout_free(layout *l) { free(l->src), free(l->labels), free(l->mask); }

/* Real tokens of row b (the mask may be absent or right-padded). */
static bool is_real(const host_batch *h, int64_t b, int64_t t) { return !h->mask || h->mask[b * h->S + t] != 0; }

static int layout_make(const host_batch *h, int64_t image_id, int64_t n_images, int64_t n_vis, layout *l) {
  memset(l, 0, sizeof *l);
  int64_t *len = sb_calloc((size_t)h->B, sizeof(int64_t));
  if (!len) return SB_ERR_NOMEM;
  int64_t images = 0;
  for (int64_t b = 0; b < h->B; b++)
    for (int64_t t = 0; t < h->S; t++) {
      if (!is_real(h, b, t)) continue;
      bool img = h->ids[b * h->S + t] == image_id;
      len[b] += img ? n_vis : 1;
      images += img;
    }
  if (images != n_images) {
    free(len);
    return sb_error_set(SB_ERR_SHAPE, "multimodal forward: the text holds %lld image placeholder%s (id %lld) "
                        "but the batch has %lld image%s", (long long)images, images == 1 ? "" : "s",
                        (long long)image_id, (long long)n_images, n_images == 1 ? "" : "s");
  }
  for (int64_t b = 0; b < h->B; b++) l->L = len[b] > l->L ? len[b] : l->L;
  free(len);
  size_t n = (size_t)(h->B * l->L > 0 ? h->B * l->L : 1);
  l->src = sb_malloc(n * sizeof(int64_t)), l->labels = sb_malloc(n * sizeof(int64_t));
  l->mask = sb_calloc(n, sizeof(int64_t));
  if (!l->src || !l->labels || !l->mask) return SB_ERR_NOMEM;
  const int64_t text_rows = h->B * h->S, zero_row = text_rows + n_images * n_vis;
  int64_t next_image = 0; /* images are consumed in order across the batch */
  for (int64_t b = 0; b < h->B; b++) {
    int64_t at = b * l->L;
    for (int64_t t = 0; t < h->S; t++) {
      if (!is_real(h, b, t)) continue;
      if (h->ids[b * h->S + t] == image_id) {
        for (int64_t k = 0; k < n_vis; k++, at++)
          l->src[at] = text_rows + next_image * n_vis + k, l->labels[at] = IGNORE, l->mask[at] = 1;
        next_image++;
      } else {
        l->src[at] = b * h->S + t, l->labels[at] = h->labels[b * h->S + t], l->mask[at] = 1, at++;
      }
    }
    for (; at < (b + 1) * l->L; at++) l->src[at] = zero_row, l->labels[at] = IGNORE; /* right padding */
  }
  l->n_images = n_images;
  return SB_OK;
}

/* Visual tokens [n_images, N, D] from the images, or NULL without images. */
static int visual_tokens(const sb_model *m, const sb_mm_batch *b, sb_mm_output *out) {
  if (!b->images.pixel_values) return SB_OK;
  if (!m->encoder.self || !m->projector.self)
    return sb_error("multimodal forward: the batch has images but the model has no %s",
                    m->encoder.self ? "projector" : "encoder");
  const sb_encoder_vtable *ev = m->encoder.vtable;
  sb_encoder_output eo = {.struct_size = sizeof eo};
  if (ev->forward(m->encoder.self, &b->images, 0, &eo)) return sb_error_prefix("encoder");
  if (!eo.features) return sb_error("encoder: no features");
  out->vision_features = eo.features;
  const sb_projector_vtable *pv = m->projector.vtable;
  out->image_features = pv->forward(m->projector.self, eo.features);
  return out->image_features ? SB_OK : sb_error_prefix("projector");
}

/* [text (B·S rows); visual (n·N rows); one zero row] -> merged [B, L, D]. */
static sb_tensor *splice(sb_tensor *text, sb_tensor *visual, const host_batch *h, const layout *l, int64_t D) {
  sb_tensor *parts[3];
  int n = 0;
  parts[n++] = sb_op_reshape(text, 2, (int64_t[]){h->B * h->S, D});
  if (visual) parts[n++] = sb_op_reshape(visual, 2, (int64_t[]){-1, D});
  parts[n++] = sb_tensor_zeros(SB_DTYPE_F32, 2, (int64_t[]){1, D});
  sb_tensor *src = sb_op_concat(parts, n, 0);
  sb_tensor *idx = sb_tensor_from_host(SB_DTYPE_I64, 1, (int64_t[]){h->B * l->L}, l->src);
  return sb_op_reshape(sb_op_index_select(src, 0, idx), 3, (int64_t[]){h->B, l->L, D});
}

/* Rows (b, t) whose next label counts, and those labels. */
static int64_t labelled_rows(const layout *l, int64_t B, int64_t *rows, int64_t *targets) {
  int64_t n = 0;
  for (int64_t b = 0; b < B; b++)
    for (int64_t t = 0; t + 1 < l->L; t++) {
      int64_t y = l->labels[b * l->L + t + 1];
      if (y == IGNORE) continue;
      rows[n] = b * l->L + t, targets[n] = y, n++;
    }
  return n;
}

/* Rows of logits computed at once where the output layer is not fused into
 * the loss (a trained output layer, or fusion off). Above it the output
 * layer and the loss run on chunks of labelled rows under gradient
 * checkpointing, so neither the [n, V] logits nor their gradient ever exist
 * whole (long conversations: 3,700 rows of Qwen2's 151,936 words would be
 * 2.2 GB each).
 * The price is the output layer's forward once more in the backward pass.
 * By default a chunk holds 2^24 floats of logits (64 MB: blocks that size
 * are reused without page faults; 512 MB ones made the demo's stage 2 1.6x
 * slower), but at least 2·D rows, because each chunk reads the whole
 * [V, D] output weight again, and at most 2^28 floats.
 * sb_mm_set_logit_budget (tests) fixes the floats per chunk exactly. */
static int64_t g_logit_budget = 0, g_logit_rows = 0; /* 0: the default rule */

void sb_mm_set_logit_budget(int64_t floats) { g_logit_budget = floats > 0 ? floats : 0; }
void sb_mm_set_logit_rows(int64_t rows) { g_logit_rows = rows > 0 ? rows : 0; }

static int64_t chunk_rows(int64_t V, int64_t D) {
  if (g_logit_rows) return g_logit_rows;
  if (g_logit_budget) return SB_MAX(1, g_logit_budget / V);
  const int64_t lo = SB_MAX(((int64_t)1 << 24) / V, 2 * D), hi = SB_MAX(1, ((int64_t)1 << 28) / V);
  return SB_MAX(1, SB_MIN(lo, hi));
}

/* The output weight when the loss can take it fused with the output layer
 * (sb_op_linear_cross_entropy: no [n, V] logits, no chunks, and with a
 * frozen weight no extra product), else NULL. Only a frozen weight (stages
 * 1 and 3, evaluation): a trained one would cost the backward one more
 * product over the vocabulary, where logits + loss cost none. */
static bool g_fused_head = true;

void sb_mm_set_fused_head(bool enabled) { g_fused_head = enabled; }

static sb_tensor *fused_head_weight(const sb_model *m) {
  if (!g_fused_head || !sb_loss_has_linear(m->loss.vtable)) return NULL;
  sb_tensor *w = sb_llm_output_weight(m->llm.vtable, m->llm.self);
  return w && (!sb_grad_enabled() || !sb_tensor_requires_grad(w)) ? w : NULL;
}

/* checkpointed: rows [c, D] and their targets [c] -> the summed loss (0-d) */
static int head_loss(void *ctx, sb_tensor *const *in, int n_in, sb_tensor **out, int n_out) {
  (void)n_in, (void)n_out;
  const sb_model *m = ctx;
  const sb_llm_vtable *lv = m->llm.vtable;
  const sb_loss_vtable *xv = m->loss.vtable;
  /* a scope of its own, also when the backward reruns it: only the loss's
   * graph holds the logits, so their gradient can overwrite them */
  sb_scope_begin();
  sb_tensor *logits = lv->logits(m->llm.self, in[0]);
  sb_loss_input li = {.struct_size = sizeof li, .logits = logits, .targets = in[1], .num_items = 1};
  out[0] = logits ? sb_scope_keep(xv->compute(m->loss.self, &li)) : NULL;
  sb_scope_end();
  return out[0] ? SB_OK : SB_ERR;
}

static int run_llm(const sb_model *m, const host_batch *h, const layout *l, unsigned flags, int64_t num_items,
                   sb_mm_output *out) {
  const sb_llm_vtable *lv = m->llm.vtable;
  sb_llm_info info = {.struct_size = sizeof info};
  if (lv->describe(m->llm.self, &info)) return SB_ERR;
  const int64_t B = h->B, L = l->L, D = info.hidden_size;
  sb_llm_input in = {.struct_size = sizeof in, .inputs_embeds = out->inputs_embeds,
                     .attention_mask = out->attention_mask};
  sb_tensor *hidden = lv->forward(m->llm.self, &in);
  if (!hidden) return sb_error_prefix("llm");
  sb_tensor *flat = sb_op_reshape(hidden, 2, (int64_t[]){B * L, D});
  if (flags & SB_MM_FULL_LOGITS)
    out->logits = sb_op_reshape(lv->logits(m->llm.self, flat), 3, (int64_t[]){B, L, info.vocab_size});
  int64_t *rows = sb_malloc(sizeof(int64_t) * (size_t)(B * L + 1)), *tg = sb_malloc(sizeof(int64_t) * (size_t)(B * L + 1));
  if (!rows || !tg) {
    free(rows), free(tg);
    return SB_ERR_NOMEM;
  }
  int64_t n = labelled_rows(l, B, rows, tg);
  out->n_labelled = n;
  sb_tensor *ri = sb_tensor_from_host(SB_DTYPE_I64, 1, &n, rows), *ti = sb_tensor_from_host(SB_DTYPE_I64, 1, &n, tg);
  free(rows), free(tg);
  /* logits only where a label counts: [n, V], never [B·L, V] */
  sb_tensor *sel = sb_op_index_select(flat, 0, ri);
  const sb_loss_vtable *xv = m->loss.vtable;
  sb_tensor *w = fused_head_weight(m);
  if (w) {
    sb_loss_input li = {.struct_size = sizeof li, .targets = ti, .num_items = num_items, .hidden = sel, .weight = w};
    out->loss = xv->compute_linear(m->loss.self, &li);
    return out->loss ? SB_OK : sb_error_prefix("loss");
  }
  const int64_t chunk = SB_MIN(n, chunk_rows(info.vocab_size, D));
  if (chunk >= n) { /* in a scope of its own: afterwards only the loss's graph holds the logits */
    sb_scope_begin();
    sb_tensor *logits = lv->logits(m->llm.self, sel);
    sb_loss_input li = {.struct_size = sizeof li, .logits = logits, .targets = ti, .num_items = num_items};
    out->loss = logits ? sb_scope_keep(xv->compute(m->loss.self, &li)) : NULL;
    sb_scope_end();
    if (!logits) return sb_error_prefix("llm logits");
    return out->loss ? SB_OK : sb_error_prefix("loss");
  }
  /* long batches: the sum of the chunks' summed losses, then the mean */
  sb_tensor *total = NULL;
  for (int64_t a = 0; a < n; a += chunk) {
    int64_t e = SB_MIN(n, a + chunk);
    sb_tensor *rows_in[2] = {sb_op_slice(sel, 0, a, e), sb_op_slice(ti, 0, a, e)}, *part = NULL;
    if (sb_checkpoint(head_loss, (void *)m, rows_in, 2, &part, 1)) return sb_error_prefix("llm logits and loss, rows %lld-%lld", (long long)a, (long long)e);
    total = total ? sb_op_add(total, part) : part;
  }
  out->loss = sb_op_scale(total, 1.0f / (float)(num_items > 0 ? num_items : SB_MAX(n, 1)));
  return out->loss ? SB_OK : sb_error_prefix("loss");
}

/* The merged sequence of a batch: visual tokens, the layout, the splice;
 * also the labels and mask tensors. h and l stay for the caller. */
static int embed(const sb_model *m, const sb_mm_batch *b, sb_mm_output *out, host_batch *h, layout *l) {
  memset(out, 0, sizeof *out);
  memset(l, 0, sizeof *l);
  if (!m->llm.self) return sb_error("multimodal forward: the model has no llm");
  int rc = host_load(b, h);
  if (rc == SB_OK) rc = visual_tokens(m, b, out);
  int64_t n_images = 0, n_vis = 0;
  if (rc == SB_OK && out->image_features) {
    n_images = sb_tensor_dim(out->image_features, 0), n_vis = sb_tensor_dim(out->image_features, 1);
  }
  if (rc == SB_OK) rc = layout_make(h, b->image_token_id, n_images, n_vis, l);
  if (rc) return rc;
  /* placeholders embed as id 0; their rows are never selected */
  for (int64_t i = 0; i < h->B * h->S; i++)
    if (h->ids[i] == b->image_token_id || !is_real(h, i / h->S, i % h->S)) h->ids[i] = 0;
  sb_tensor *ids = sb_tensor_from_host(SB_DTYPE_I64, 2, (int64_t[]){h->B, h->S}, h->ids);
  const sb_llm_vtable *lv = m->llm.vtable;
  sb_tensor *text = lv->embed(m->llm.self, ids);
  int64_t D = text ? sb_tensor_dim(text, -1) : 0;
  out->inputs_embeds = text ? splice(text, out->image_features, h, l, D) : NULL;
  if (!out->inputs_embeds) return sb_error_prefix("splicing visual tokens");
  out->attention_mask = sb_tensor_from_host(SB_DTYPE_I64, 2, (int64_t[]){h->B, l->L}, l->mask);
  out->labels = sb_tensor_from_host(SB_DTYPE_I64, 2, (int64_t[]){h->B, l->L}, l->labels);
  return out->attention_mask && out->labels ? SB_OK : SB_ERR;
}

int sb_mm_embed(const sb_model *m, const sb_mm_batch *b, sb_mm_output *out) {
  host_batch h = {0};
  layout l;
  int rc = embed(m, b, out, &h, &l);
  layout_free(&l);
  host_free(&h);
  return rc;
}

int sb_mm_forward(const sb_model *m, const sb_mm_batch *b, unsigned flags, int64_t num_items, sb_mm_output *out) {
  if (!m->loss.self) return sb_error("multimodal forward: the model has no loss");
  host_batch h = {0};
  layout l;
  int rc = embed(m, b, out, &h, &l);
  if (rc == SB_OK) rc = run_llm(m, &h, &l, flags, num_items, out);
  layout_free(&l);
  host_free(&h);
  return rc;
}
