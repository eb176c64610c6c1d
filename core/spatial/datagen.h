/* datagen.h — the `spatialboost datagen` subcommands, each taking its own
 * argv (argv[0] is the subcommand's name). */
#ifndef SB_CORE_DATAGEN_H
#define SB_CORE_DATAGEN_H

#include <stdio.h>

/* datagen synth: render synthetic scenes (scene folders, SCENES.md). */
int sb_datagen_synth(int argc, char **argv);
void sb_datagen_synth_help(FILE *out);
/* datagen spatial: spatial chain-of-thought conversations (LLaVA JSONL). */
int sb_datagen_spatial(int argc, char **argv);
void sb_datagen_spatial_help(FILE *out);
/* datagen mvqa: multi-view VQA pairs for stage 2 (LLaVA JSONL). */
int sb_datagen_mvqa(int argc, char **argv);
void sb_datagen_mvqa_help(FILE *out);

#endif
