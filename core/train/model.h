/* model.h — the components a recipe names (encoder, projector, llm, loss,
 * dataset), each an instance of a plugin made from its recipe block, and
 * the parameter store they declare their weights in. */
#ifndef SB_CORE_MODEL_H
#define SB_CORE_MODEL_H

#include "param_store.h"
#include "spatialboost/registry.h"

typedef struct sb_component {
  const char *role;            /* "encoder", "projector", "llm", "loss", "data" */
  const sb_plugin *plugin;     /* NULL when the recipe has no such block */
  const sb_plugin_descriptor *desc;
  const void *vtable;
  void *self;                  /* the instance (NULL until created) */
  const sb_config *options;    /* bound to the plugin's schema */
  sb_option *schema;           /* `plugin` + the plugin's options (owned; the
                                  recipe's views point at it) */
} sb_component;

typedef struct sb_model {
  sb_param_store *store;
  sb_component encoder, projector, llm, loss, data;
} sb_model;

typedef enum sb_model_mode {
  SB_MODEL_CREATE = 0,   /* create every component (reads weights) */
  SB_MODEL_VALIDATE = 1, /* find plugins and check their options only */
  SB_MODEL_NO_DATA = 2,  /* (with CREATE) leave the dataset out */
} sb_model_mode;

/* Builds the components of a stage recipe's root. */
int sb_model_build(sb_model *m, const sb_config *root, uint64_t seed, unsigned mode);
/* Frees the components. Free the model only after the last use of the
 * recipe's views of it (e.g. sb_recipe_check_unused). */
void sb_model_free(sb_model *m);

/* Whether an encoder checkpoint (a folder, a .safetensors or an index file)
 * already holds dual-channel weights, named "<attention module>_dual.*" and
 * "..._dual_alpha" (SPATIALBOOST.md): an exported boosted encoder. An
 * unreadable checkpoint gives false; the plugin reports it when it loads. */
bool sb_weights_hold_dual(const char *weights);

#endif
