/* run_open.c — opening a run folder (run_open.h). */
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "run_config.h"
#include "run_open.h"
#include "spatialboost/spatialboost.h"
#include "util.h"

/* Every tensor of the checkpoint's trainable.safetensors into its parameter. */
static int load_trained(sb_run *r) {
  char *path = sb_path_join(r->checkpoint, "trainable.safetensors");
  sb_safetensors *f = path ? sb_safetensors_open(path) : NULL;
  int rc = f ? SB_OK : SB_ERR;
  for (size_t i = 0; f && i < sb_safetensors_count(f) && rc == SB_OK; i++) {
    const sb_st_tensor *t = sb_safetensors_at(f, i);
    sb_param *p = sb_param_store_find(r->model.store, t->name);
    if (!p) {
      rc = sb_error("%s: '%s' is not a parameter of the model its recipe builds", path, t->name);
      break;
    }
    sb_scope_begin();
    sb_tensor *v = sb_safetensors_load(f, t->name, SB_DTYPE_F32);
    rc = v ? sb_tensor_assign(p->tensor, v) : SB_ERR;
    sb_scope_end();
  }
  sb_safetensors_close(f);
  free(path);
  return rc;
}

static int open_tokenizer(sb_run *r) {
  const sb_config *root = sb_recipe_root(r->recipe), *data = sb_config_get_map(root, "data");
  const char *path = NULL;
  if (data && sb_config_has(data, "tokenizer") && sb_config_get_path(data, "tokenizer", &path)) return SB_ERR;
  if ((!path || !path[0]) && (!r->model.llm.plugin || sb_config_get_path(r->model.llm.options, "weights", &path)))
    return sb_error("the run's recipe names no LLM to find a tokenizer in");
  r->tok = sb_tokenizer_load(path);
  return r->tok ? SB_OK : SB_ERR;
}

int sb_run_open(const char *run_dir, bool tokenizer, sb_run *out) {
  memset(out, 0, sizeof *out);
  char *recipe = sb_path_join(run_dir, "recipe.yaml");
  if (!recipe || !sb_path_exists(recipe)) {
    free(recipe);
    return sb_error("%s: not a run folder (no recipe.yaml)", run_dir);
  }
  out->recipe = sb_recipe_load(recipe, NULL, 0);
  free(recipe);
  sb_run_options run;
  int rc = out->recipe ? sb_run_options_read(sb_recipe_root(out->recipe), &run) : SB_ERR;
  if (rc == SB_OK) rc = sb_model_build(&out->model, sb_recipe_root(out->recipe), (uint64_t)run.seed, SB_MODEL_NO_DATA);
  if (rc == SB_OK && !(out->checkpoint = sb_checkpoint_latest(run_dir)))
    rc = sb_error("%s: no checkpoint yet (train first)", run_dir);
  if (rc == SB_OK) rc = load_trained(out);
  if (rc == SB_OK && tokenizer) rc = open_tokenizer(out);
  if (rc) {
    sb_error_prefix("opening run %s", run_dir);
    sb_run_close(out);
  }
  return rc;
}

void sb_run_close(sb_run *r) {
  sb_tokenizer_free(r->tok);
  sb_model_free(&r->model);
  sb_recipe_free(r->recipe);
  free(r->checkpoint);
  memset(r, 0, sizeof *r);
}
