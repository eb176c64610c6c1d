/* mm_forward.h — the multimodal forward pass (LLaVA's): images through the
 * encoder and the projector, their visual tokens spliced into the text
 * where each image placeholder stands, the merged sequence through the LLM,
 * and the SFT loss on the labelled positions only. */
#ifndef SB_CORE_MM_FORWARD_H
#define SB_CORE_MM_FORWARD_H

#include "model.h"
#include "spatialboost/encoder.h"

typedef struct sb_mm_batch {
  sb_tensor *input_ids;      /* [B, S] I64; image_token_id marks each image's place */
  sb_tensor *labels;         /* [B, S] I64, -100 = not trained */
  sb_tensor *attention_mask; /* [B, S] (I64/I32/U8), nonzero = real token; NULL = all real */
  sb_encoder_input images;   /* every image of the batch in order of appearance
                                (pixel_values NULL when the batch has none) */
  int64_t image_token_id;
} sb_mm_batch;

typedef enum sb_mm_flags {
  SB_MM_FULL_LOGITS = 1, /* also compute logits at every merged position (tests) */
} sb_mm_flags;

typedef struct sb_mm_output {
  sb_tensor *loss;            /* 0-d */
  sb_tensor *logits;          /* [B, L, V] with SB_MM_FULL_LOGITS, else NULL */
  sb_tensor *inputs_embeds;   /* [B, L, D] the merged sequence (padding rows are zeros) */
  sb_tensor *labels;          /* [B, L] I64, -100 on visual tokens and padding */
  sb_tensor *attention_mask;  /* [B, L] I64 */
  sb_tensor *vision_features; /* [n_images, N, D_vis] the encoder's selected features */
  sb_tensor *image_features;  /* [n_images, N, D] after the projector */
  int64_t n_labelled;         /* targets counted by the loss */
} sb_mm_output;

/* The merged sequence only: fills inputs_embeds, labels, attention_mask and
 * the vision/image features (for generation, which runs the LLM itself). */
int sb_mm_embed(const sb_model *m, const sb_mm_batch *b, sb_mm_output *out);
/* Runs the model on one batch. num_items: labelled tokens in the whole
 * accumulated batch (0: this batch's own count; the loss is then a mean).
 * Outputs belong to the current scope. Errors name what does not fit (a
 * placeholder count that differs from the number of images, shapes). */
int sb_mm_forward(const sb_model *m, const sb_mm_batch *b, unsigned flags, int64_t num_items, sb_mm_output *out);

/* Floats of logits computed at once where the output layer is not fused
 * into the loss; longer batches run the output layer and the loss in
 * checkpointed chunks of rows. By default 2^24 floats but
 * at least 2·hidden_size rows (mm_forward.c says why); for tests and
 * benchmarks, 0 restores the default. */
void sb_mm_set_logit_budget(int64_t floats);
/* Rows of logits at once, whatever the vocabulary (the recipe's
 * train.logit_chunk_rows); 0 restores the default. Takes precedence over
 * the budget. */
void sb_mm_set_logit_rows(int64_t rows);

/* Whether the loss may take the output layer fused in when the llm exposes
 * its output weight and that weight is frozen (default on; the chunks above
 * then do not apply). Off: logits + loss as above (tests, benchmarks). */
void sb_mm_set_fused_head(bool enabled);

#endif
