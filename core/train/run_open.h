/* run_open.h — a finished or running run folder, opened for use: its
 * recipe.yaml, the model built from it (without the dataset), the weights
 * trained so far (from the newest checkpoint) and, on request, the
 * tokenizer. export, chat and probes start from here. */
#ifndef SB_CORE_RUN_OPEN_H
#define SB_CORE_RUN_OPEN_H

#include "model.h"
#include "recipe.h"
#include "spatialboost/tokenizer.h"

typedef struct sb_run {
  sb_recipe *recipe;
  sb_model model;
  char *checkpoint;  /* the checkpoint the trained weights came from */
  sb_tokenizer *tok; /* NULL unless asked for */
} sb_run;

int sb_run_open(const char *run_dir, bool tokenizer, sb_run *out);
void sb_run_close(sb_run *r);

#endif
