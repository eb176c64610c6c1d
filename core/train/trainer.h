/* trainer.h — running one training stage from its recipe: the model, the
 * tokenizer and batch loader, the optimizer and schedule, gradient
 * accumulation and clipping, metrics, checkpoints, resume and the final
 * outputs (outputs.h). The run folder is the recipe's output_dir:
 *
 *   recipe.yaml      the resolved recipe
 *   metrics.jsonl    one JSON line per logged step
 *   checkpoint-NNNNNN/, final/   (checkpoint.h, outputs.h) */
#ifndef SB_CORE_TRAINER_H
#define SB_CORE_TRAINER_H

#include "recipe.h"

/* sb_stage_train's result when Ctrl-C stopped it (after a checkpoint). */
#define SB_TRAIN_INTERRUPTED 130

typedef struct sb_stage_opts {
  bool resume;        /* continue from the run folder's newest checkpoint */
  const char *label;  /* "stage 2 (instruct)" for messages */
  int64_t stop_after; /* > 0: stop after this many steps as Ctrl-C would */
} sb_stage_opts;

/* Trains one stage. SB_OK when done (final/ written), SB_TRAIN_INTERRUPTED,
 * or an error. */
int sb_stage_train(sb_recipe *r, const sb_stage_opts *o);

#endif
