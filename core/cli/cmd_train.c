/* cmd_train.c — `spatialboost train RECIPE`: loads the recipe (includes,
 * --set overrides, pipelines), finds and creates its plugins, applies the
 * trainable selection, and reports every key nobody read. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model.h"
#include "recipe.h"
#include "run_config.h"
#include "spatialboost/spatialboost.h"
#include "util.h"

#define MAX_SETS 256

typedef struct train_args {
  const char *recipe;
  const char *sets[MAX_SETS];
  size_t n_sets;
  const char *resume;
  bool check;
} train_args;

static void help(FILE *out) {
  fprintf(out,
          "usage: spatialboost train RECIPE [--set KEY.PATH=VALUE]... [--resume RUN_DIR] [--check]\n\n"
          "Runs a training stage, or every stage of a pipeline recipe (one with stages:).\n"
          "The recipe is validated first: its includes and overrides are applied, its\n"
          "plugins found and created with their options, weights loaded, and every key\n"
          "that nothing read is reported with its file:line:column.\n\n"
          "  --set KEY.PATH=VALUE  override a recipe key (VALUE is YAML; repeatable)\n"
          "  --resume RUN_DIR      continue a run from its last checkpoint\n"
          "  --check               validate only, then exit\n\n"
          "This version validates recipes; the training loop is not implemented yet, so\n"
          "without --check the command stops after validation with an error.\n");
}

static int parse(int argc, char **argv, train_args *a) {
  memset(a, 0, sizeof *a);
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--check") == 0) {
      a->check = true;
    } else if (strcmp(arg, "--set") == 0 || strcmp(arg, "--resume") == 0) {
      if (i + 1 >= argc) return sb_error("%s needs a value", arg);
      if (arg[2] == 'r') a->resume = argv[++i];
      else if (a->n_sets == MAX_SETS) return sb_error("too many --set options (at most %d)", MAX_SETS);
      else a->sets[a->n_sets++] = argv[++i];
    } else if (strncmp(arg, "--set=", 6) == 0 && a->n_sets < MAX_SETS) {
      a->sets[a->n_sets++] = arg + 6;
    } else if (arg[0] == '-') {
      return sb_error("unknown option '%s' (see --help)", arg);
    } else if (a->recipe) {
      return sb_error("more than one recipe given ('%s' and '%s')", a->recipe, arg);
    } else {
      a->recipe = arg;
    }
  }
  if (!a->recipe) return sb_error("no recipe given (see --help)");
  if (a->resume) return sb_error("--resume is not implemented yet");
  return SB_OK;
}

static int apply_trainable(sb_model *m, const sb_train_options *t, const sb_config *root) {
  for (size_t i = 0; i < t->n_trainable; i++) {
    if (sb_param_store_set_trainable(m->store, t->trainable[i], true) == 0) {
      const sb_config *train = sb_config_get_map(root, "train");
      return sb_config_error(train, "trainable", "'%s' matches no parameter (components: encoder, "
                             "projector, llm; groups like encoder.dual; or a glob)", t->trainable[i]);
    }
  }
  return SB_OK;
}

static void summary(const char *label, const sb_run_options *run, const sb_model *m) {
  printf("%s: %s (device %s, seed %lld)\n", label, run->name, run->device, (long long)run->seed);
  const sb_component *cs[] = {&m->encoder, &m->projector, &m->llm, &m->loss, &m->data};
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
    if (cs[i]->plugin)
      printf("  %-9s %s %s\n", cs[i]->role, cs[i]->desc->name, cs[i]->desc->version);
  if (m->store)
    printf("  parameters: %lld, trainable: %lld\n", (long long)sb_param_store_numel(m->store, false),
           (long long)sb_param_store_numel(m->store, true));
}

/* Checks one stage recipe; creates its components unless validate_only. */
static int check_stage(sb_recipe *r, const char *label, bool validate_only) {
  const sb_config *root = sb_recipe_root(r);
  sb_run_options run;
  sb_train_options train;
  sb_model model;
  memset(&model, 0, sizeof model);
  int rc = sb_run_options_read(root, &run);
  if (rc == SB_OK) rc = sb_train_options_read(root, &train);
  if (rc == SB_OK && run.threads) sb_set_num_threads((int)run.threads);
  if (rc == SB_OK && strcmp(run.device, "cpu") != 0) {
    const sb_plugin *be = sb_plugin_find(run.device, SB_PLUGIN_BACKEND);
    if (!be) rc = sb_error_prefix("%s: device %s", sb_config_where(root, "device"), run.device);
  }
  if (rc == SB_OK)
    rc = sb_model_build(&model, root, (uint64_t)run.seed, validate_only ? SB_MODEL_VALIDATE : SB_MODEL_CREATE);
  if (rc == SB_OK && !validate_only) rc = apply_trainable(&model, &train, root);
  if (rc == SB_OK) rc = sb_recipe_check_unused(r);
  if (rc == SB_OK) summary(label, &run, &model);
  sb_model_free(&model);
  return rc;
}

static int run(int argc, char **argv) {
  train_args a;
  if (parse(argc, argv, &a)) return sb_cli_fail("train"), 2;
  sb_recipe *r = sb_recipe_load(a.recipe, a.sets, a.n_sets);
  if (!r) return sb_cli_fail("train");
  int rc = SB_OK;
  if (sb_recipe_is_pipeline(r)) {
    static const sb_option pipeline_schema[] = {
        {"name", SB_OPTION_STRING, "pipeline", "name of the pipeline", NULL},
        {"output_dir", SB_OPTION_PATH, "runs/pipeline", "folder the stages' folders go under", NULL},
        {"stages", SB_OPTION_LIST, NULL, "the stages: [{name, recipe, set}]", NULL},
    };
    const sb_config *pc = sb_config_bind(sb_recipe_root(r), "the pipeline", pipeline_schema, 3);
    const char *pname, *pdir;
    rc = pc && !sb_config_get_string(pc, "name", &pname) && !sb_config_get_path(pc, "output_dir", &pdir)
             ? SB_OK : SB_ERR;
    if (rc == SB_OK) printf("pipeline: %s (%zu stages, under %s)\n", pname, sb_recipe_stage_count(r), pdir);
    /* Later stages read earlier stages' outputs, which do not exist before
     * training: stages are checked for plugins and options, not created. */
    for (size_t i = 0; rc == SB_OK && i < sb_recipe_stage_count(r); i++) {
      sb_recipe *st = sb_recipe_stage(r, i);
      char label[128];
      snprintf(label, sizeof label, "stage %zu (%s)", i + 1, sb_recipe_stage_name(r, i));
      rc = st ? check_stage(st, label, true) : SB_ERR;
      sb_recipe_free(st);
    }
    if (rc == SB_OK) rc = sb_recipe_check_unused(r);
  } else {
    rc = check_stage(r, "stage", false);
  }
  sb_recipe_free(r);
  if (rc) return sb_cli_fail("train");
  printf("recipe %s is valid\n", a.recipe);
  if (a.check) return 0;
  fprintf(stderr, "spatialboost train: this version validates recipes only (use --check); the "
                  "training loop is not implemented yet\n");
  return 1;
}

const sb_command sb_cmd_train = {"train", "train a stage or a pipeline of stages from a recipe", run, help};
