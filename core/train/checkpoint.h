/* checkpoint.h — training checkpoints in a run folder:
 *
 *   RUN/checkpoint-000500/trainable.safetensors   trainable parameters by full name
 *   RUN/checkpoint-000500/optimizer.safetensors   "<name>.exp_avg", "<name>.exp_avg_sq"
 *   RUN/checkpoint-000500/state.json               step, loader cursor, seed, versions
 *
 * A checkpoint is written into a hidden temporary folder and renamed into
 * place, so a crash never leaves a half-written one; the newest `keep` are
 * kept. Resuming refuses a checkpoint whose trainable set differs from the
 * run's (names, shapes) and says what differs. */
#ifndef SB_CORE_CHECKPOINT_H
#define SB_CORE_CHECKPOINT_H

#include "loader.h"
#include "model.h"
#include "optim.h"

typedef struct sb_train_state {
  int64_t step;             /* optimizer steps done */
  sb_loader_state loader;   /* the next batch to read */
  double loss;              /* the last step's loss */
} sb_train_state;

/* Writes checkpoint-<step> (atomic) and prunes all but the newest keep. */
int sb_checkpoint_save(const char *run_dir, const sb_model *m, const sb_optim *o, const sb_train_state *st,
                       int64_t keep, const char *recipe_name);
/* The newest complete checkpoint folder of run_dir (malloc'd), or NULL
 * (no message) when there is none. */
char *sb_checkpoint_latest(const char *run_dir);
/* Loads a checkpoint into the model's trainable parameters, the optimizer
 * and *st. */
int sb_checkpoint_load(const char *dir, sb_model *m, sb_optim *o, sb_train_state *st);

#endif
