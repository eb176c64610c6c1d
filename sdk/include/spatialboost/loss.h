/* spatialboost/loss.h — the loss kind: a scalar from scored rows. */
#ifndef SPATIALBOOST_LOSS_H
#define SPATIALBOOST_LOSS_H

#include "plugin.h"

SB_BEGIN_DECLS

typedef struct sb_loss_input {
  size_t struct_size;
  sb_tensor *logits;    /* [N, V]: the rows that carry labels (already shifted) */
  sb_tensor *targets;   /* [N] I64 */
  /* Labelled items in the whole accumulated batch, when the trainer
   * accumulates gradients over several micro-batches (0: use this call's). */
  int64_t num_items;
  /* ABI 1.1, for compute_linear only (logits is then NULL): the rows'
   * hidden states [N, D] and the output weight [V, D], logits = hidden·weightᵀ. */
  sb_tensor *hidden, *weight;
} sb_loss_input;

typedef struct sb_loss_vtable {
  size_t struct_size;
  void *(*create)(const sb_plugin_ctx *ctx);
  void (*destroy)(void *self);
  /* A 0-d tensor, with ops only: the sum over rows of a per-row loss,
   * divided by num_items (or by N when num_items is 0). The core may call it
   * on consecutive chunks of rows with num_items 1 and scale the sum itself
   * (batches whose [N, V] logits would be too large to hold at once). */
  sb_tensor *(*compute)(void *self, const sb_loss_input *in);
  /* Optional (ABI 1.1): the same loss of logits = in->hidden·in->weightᵀ
   * without forming them (e.g. sb_op_linear_cross_entropy). The core calls
   * it only when the llm exposes its output weight, and only when that
   * weight is frozen, where it costs no more than logits + compute. */
  sb_tensor *(*compute_linear)(void *self, const sb_loss_input *in);
} sb_loss_vtable;

SB_END_DECLS
#endif
