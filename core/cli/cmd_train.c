/* cmd_train.c — `spatialboost train RECIPE`: loads the recipe (includes,
 * --set overrides, pipelines), finds and creates its plugins, applies the
 * trainable selection, and reports every key nobody read. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model.h"
#include "checkpoint.h"
#include "recipe.h"
#include "run_config.h"
#include "spatialboost/spatialboost.h"
#include "trainer.h"
#include "util.h"

#define MAX_SETS 256

typedef struct train_args {
  const char *recipe;
  const char *sets[MAX_SETS + 1];
  size_t n_sets;
  bool resume;
  const char *resume_dir;
  bool check;
  int64_t stop_after;
  char *own_recipe, *own_set; /* made from --resume RUN_DIR */
} train_args;

static void help(FILE *out) {
  fprintf(out,
          "usage: spatialboost train RECIPE [--set KEY.PATH=VALUE]... [--resume [RUN_DIR]] [--check]\n"
          "       spatialboost train --resume RUN_DIR\n\n"
          "Runs a training stage, or every stage of a pipeline recipe (one with stages:).\n"
          "The recipe is validated first: its includes and overrides are applied, its\n"
          "plugins found and created with their options, weights loaded, and every key\n"
          "that nothing read is reported with its file:line:column.\n\n"
          "  --set KEY.PATH=VALUE  override a recipe key (VALUE is YAML; repeatable)\n"
          "  --resume [RUN_DIR]    continue from the newest checkpoint of the run folder (the\n"
          "                        recipe's output_dir, or RUN_DIR with its saved recipe.yaml);\n"
          "                        a pipeline skips the stages that already finished\n"
          "  --stop-after STEPS    stop after STEPS optimizer steps as Ctrl-C would (checkpoint)\n"
          "  --check               validate only, then exit\n\n"
          "The run folder gets recipe.yaml, metrics.jsonl (one JSON line per step),\n"
          "checkpoint-NNNNNN/ folders and, at the end, final/ with what the next stage\n"
          "loads (projector.safetensors, llm/, encoder/). Ctrl-C writes a checkpoint and\n"
          "stops; results are bit-identical to an uninterrupted run with the same thread\n"
          "count.\n");
}

static int parse(int argc, char **argv, train_args *a) {
  memset(a, 0, sizeof *a);
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--check") == 0) {
      a->check = true;
    } else if (strcmp(arg, "--resume") == 0) {
      a->resume = true;
      if (i + 1 < argc && argv[i + 1][0] != '-' && sb_path_is_dir(argv[i + 1])) a->resume_dir = argv[++i];
    } else if (strcmp(arg, "--stop-after") == 0) {
      if (i + 1 >= argc || (a->stop_after = strtoll(argv[++i], NULL, 10)) <= 0)
        return sb_error("--stop-after needs a number of steps");
    } else if (strcmp(arg, "--set") == 0) {
      if (i + 1 >= argc) return sb_error("%s needs a value", arg);
      if (a->n_sets == MAX_SETS) return sb_error("too many --set options (at most %d)", MAX_SETS);
      a->sets[a->n_sets++] = argv[++i];
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
  if (a->resume_dir) { /* the run's own recipe and folder */
    if (!a->recipe) {
      a->own_recipe = sb_path_join(a->resume_dir, "recipe.yaml");
      if (!a->own_recipe || !sb_path_exists(a->own_recipe))
        return sb_error("--resume %s: no recipe.yaml in that folder (give the recipe too)", a->resume_dir);
      a->recipe = a->own_recipe;
    }
    a->own_set = sb_asprintf("output_dir=%s", a->resume_dir);
    a->sets[a->n_sets++] = a->own_set;
  }
  if (!a->recipe) return sb_error("no recipe given (see --help)");
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

/* Validates a pipeline: stages are checked for plugins and options, not
 * created (later stages read earlier stages' outputs, which do not exist
 * before training). */
static int check_pipeline(sb_recipe *r) {
  static const sb_option pipeline_schema[] = {
      {"name", SB_OPTION_STRING, "pipeline", "name of the pipeline", NULL},
      {"output_dir", SB_OPTION_PATH, "runs/pipeline", "folder the stages' folders go under", NULL},
      {"stages", SB_OPTION_LIST, NULL, "the stages: [{name, recipe, set}]", NULL},
  };
  const sb_config *pc = sb_config_bind(sb_recipe_root(r), "the pipeline", pipeline_schema, 3);
  const char *pname, *pdir;
  int rc = pc && !sb_config_get_string(pc, "name", &pname) && !sb_config_get_path(pc, "output_dir", &pdir) ? SB_OK : SB_ERR;
  if (rc == SB_OK) printf("pipeline: %s (%zu stages, under %s)\n", pname, sb_recipe_stage_count(r), pdir);
  for (size_t i = 0; rc == SB_OK && i < sb_recipe_stage_count(r); i++) {
    sb_recipe *st = sb_recipe_stage(r, i);
    char label[128];
    snprintf(label, sizeof label, "stage %zu (%s)", i + 1, sb_recipe_stage_name(r, i));
    rc = st ? check_stage(st, label, true) : SB_ERR;
    sb_recipe_free(st);
  }
  return rc ? rc : sb_recipe_check_unused(r);
}

/* Whether a stage's run folder already holds its final outputs. */
static bool stage_done(sb_recipe *st) {
  sb_run_options run;
  if (sb_run_options_read(sb_recipe_root(st), &run)) return false;
  char *final = sb_path_join(run.output_dir, "final");
  bool done = final && sb_path_is_dir(final);
  free(final);
  return done;
}

static int train_pipeline(sb_recipe *r, bool resume, int64_t stop_after) {
  int rc = check_pipeline(r);
  for (size_t i = 0; rc == SB_OK && i < sb_recipe_stage_count(r); i++) {
    char label[128];
    snprintf(label, sizeof label, "stage %zu (%s)", i + 1, sb_recipe_stage_name(r, i));
    sb_recipe *st = sb_recipe_stage(r, i);
    if (!st) return SB_ERR;
    if (resume && stage_done(st)) {
      printf("%s: already done\n", label);
      sb_recipe_free(st);
      continue;
    }
    char *ckpt = NULL;
    sb_run_options run;
    if (resume && sb_run_options_read(sb_recipe_root(st), &run) == SB_OK) ckpt = sb_checkpoint_latest(run.output_dir);
    /* a fresh recipe object: check_pipeline's reads must not count as this run's */
    sb_recipe_free(st);
    st = sb_recipe_stage(r, i);
    sb_stage_opts o = {.resume = ckpt != NULL, .label = label, .stop_after = stop_after};
    free(ckpt);
    rc = st ? sb_stage_train(st, &o) : SB_ERR;
    sb_recipe_free(st);
  }
  return rc;
}

static int run(int argc, char **argv) {
  train_args a;
  int rc = parse(argc, argv, &a);
  if (rc) {
    free(a.own_recipe), free(a.own_set);
    return sb_cli_fail("train"), 2;
  }
  sb_recipe *r = sb_recipe_load(a.recipe, a.sets, a.n_sets);
  if (!r) rc = SB_ERR;
  else if (a.check) {
    rc = sb_recipe_is_pipeline(r) ? check_pipeline(r) : check_stage(r, "stage", false);
    if (rc == SB_OK) printf("recipe %s is valid\n", a.recipe);
  } else if (sb_recipe_is_pipeline(r)) {
    rc = train_pipeline(r, a.resume, a.stop_after);
  } else {
    sb_stage_opts o = {.resume = a.resume, .label = "train", .stop_after = a.stop_after};
    rc = sb_stage_train(r, &o);
  }
  sb_recipe_free(r);
  free(a.own_recipe), free(a.own_set);
  if (rc == SB_TRAIN_INTERRUPTED) return 130;
  return rc ? sb_cli_fail("train") : 0;
}

const sb_command sb_cmd_train = {"train", "train a stage or a pipeline of stages from a recipe", run, help};
