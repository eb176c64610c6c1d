/* cmd_datagen.c — `spatialboost datagen`: dispatch to the data generators of
 * core/spatial (synth scenes, spatial chain-of-thought QA, multi-view VQA). */
#include <string.h>

#include "cli.h"
#include "datagen.h"

typedef struct {
  const char *name, *summary;
  int (*run)(int argc, char **argv);
  void (*help)(FILE *out);
} datagen_sub;

static const datagen_sub k_subs[] = {
    {"synth", "render synthetic scenes: image, metric depth, instance masks, camera", sb_datagen_synth,
     sb_datagen_synth_help},
    {"spatial", "multi-turn spatial chain-of-thought conversations from scene folders", sb_datagen_spatial,
     sb_datagen_spatial_help},
    {"mvqa", "multi-view VQA pairs (stage 2) from scene folders", sb_datagen_mvqa, sb_datagen_mvqa_help},
};
#define N_SUBS (sizeof k_subs / sizeof k_subs[0])

static void datagen_help(FILE *out) {
  fprintf(out,
          "usage: spatialboost datagen <generator> [<args>]\n\n"
          "Makes training data without any download. Scene folders (image, depth,\n"
          "masks, camera; see core/spatial/SCENES.md) come from `synth` or from your\n"
          "own captures; `spatial` and `mvqa` turn them into LLaVA-format JSONL for\n"
          "the dataset_llava and dataset_spatial plugins.\n\ngenerators:\n");
  for (size_t i = 0; i < N_SUBS; i++) fprintf(out, "  %-8s %s\n", k_subs[i].name, k_subs[i].summary);
  fprintf(out, "\n'spatialboost datagen <generator> --help' tells more.\n");
}

static int datagen_run(int argc, char **argv) {
  if (argc < 2) {
    datagen_help(stderr);
    return 2;
  }
  for (size_t i = 0; i < N_SUBS; i++)
    if (strcmp(argv[1], k_subs[i].name) == 0) {
      if (argc > 2 && sb_cli_is_help(argv[2])) {
        k_subs[i].help(stdout);
        return 0;
      }
      return k_subs[i].run(argc - 1, argv + 1);
    }
  fprintf(stderr, "spatialboost datagen: '%s' is not a generator (synth, spatial or mvqa)\n", argv[1]);
  return 2;
}

const sb_command sb_cmd_datagen = {"datagen", "generate training data: synthetic scenes, spatial QA, multi-view VQA",
                                   datagen_run, datagen_help};
