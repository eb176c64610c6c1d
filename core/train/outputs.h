/* outputs.h — what a finished stage leaves for the next one and for users,
 * in RUN/final/:
 *
 *   projector.safetensors   the projector's weights (LLaVA names: 0.weight ...)
 *   llm/                    when the LLM trained: a Hugging Face folder
 *   encoder/                when the encoder trained (dual-channel weights):
 *                           a Hugging Face folder with the base weights and
 *                           the dual ones under their documented names
 *
 * A folder holds the component's config and tokenizer/preprocessor files,
 * copied from the folder its weights came from, and model.safetensors with
 * every parameter of the component under its checkpoint name. */
#ifndef SB_CORE_OUTPUTS_H
#define SB_CORE_OUTPUTS_H

#include "model.h"

/* Writes RUN/final/ (atomically: a temporary folder renamed into place). */
int sb_outputs_write(const char *run_dir, const sb_model *m);
/* Writes one component as a Hugging Face folder at dir. */
int sb_outputs_write_component(const sb_model *m, const sb_component *c, const char *dir);
/* Whether a checkpoint holds trained weights of the component (role). */
bool sb_component_trains_in(const char *checkpoint_dir, const char *role);
/* Whether any parameter of the component trains. */
bool sb_component_trains(const sb_model *m, const sb_component *c);

#endif
