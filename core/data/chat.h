/* chat.h — a sample's conversation as the LLM sees it: Qwen2's ChatML with
 * one placeholder id per image, the label mask, and truncation that never
 * cuts through an image's visual tokens.
 *
 *   <|im_start|>system\n{system}<|im_end|>\n
 *   <|im_start|>user\n{text, split at each <image>}<|im_end|>\n
 *   <|im_start|>assistant\n{reply}<|im_end|>\n ...
 *
 * Each message's header ("<|im_start|>role\n") and each piece of text
 * between <image> markers are tokenized separately (as LLaVA splits at
 * <image>); special tokens inside text are matched. Labels (default, as
 * SpatialBoost trains): each assistant reply and the <|im_end|> closing it;
 * everything else -100. SB_LABELS_LLAVA_NEXT reproduces LLaVA-NeXT's
 * preprocess_qwen: whole assistant messages including their header and
 * closing newline, plus every "\n", <|im_start|> and <|im_end|> token. */
#ifndef SB_CORE_CHAT_H
#define SB_CORE_CHAT_H

#include "spatialboost/dataset.h"
#include "spatialboost/tokenizer.h"

#define SB_IGNORE_INDEX (-100)
/* sb_chat_render's result when truncation leaves nothing to learn from. */
#define SB_CHAT_DROPPED 1

typedef enum sb_label_rule {
  SB_LABELS_ASSISTANT = 0,
  SB_LABELS_LLAVA_NEXT = 1,
} sb_label_rule;

typedef struct sb_chat_opts {
  const char *system_prompt; /* when the sample has no system turn: NULL = the tokenizer's
                                default ("You are a helpful assistant."), "" = none */
  int64_t image_token_id;    /* id standing for each image (e.g. -200) */
  int64_t visual_tokens;     /* positions one image takes in the LLM (for lengths) */
  int64_t max_length;        /* merged positions at most (0: no limit) */
  sb_label_rule labels;
  bool generation;           /* a prompt to answer: end with "<|im_start|>assistant\n"
                                and keep it although nothing is labelled */
} sb_chat_opts;

typedef struct sb_chat_tokens {
  int64_t *ids, *labels; /* n entries; an image is one image_token_id entry */
  size_t n;
  int n_images;           /* images kept (truncation may drop trailing ones) */
  int64_t merged_length;  /* n + n_images·(visual_tokens - 1) */
  int64_t n_labelled;
} sb_chat_tokens;

/* Renders and tokenizes one sample (or takes its pre-tokenized ids and
 * labels), then truncates. Returns SB_OK, SB_CHAT_DROPPED (nothing labelled
 * remains; out is empty), or an error naming the sample. */
int sb_chat_render(const sb_tokenizer *t, const sb_sample *s, const sb_chat_opts *o, sb_chat_tokens *out);
void sb_chat_tokens_free(sb_chat_tokens *c);

#endif
