/* cmd_export.c — `spatialboost export`: a trained component of a run as a
 * Hugging Face folder; by default the boosted encoder (base weights plus
 * the dual-channel weights under their documented names), which encode,
 * probe and the encoder plugins load back. */
#include <string.h>

#include "cli.h"
#include "outputs.h"
#include "run_open.h"
#include "spatialboost/spatialboost.h"

static void help(FILE *out) {
  fprintf(out,
          "usage: spatialboost export RUN_DIR -o DIR [--component encoder|llm]\n\n"
          "Writes the run's encoder (or LLM) with the weights of its newest checkpoint as a\n"
          "Hugging Face folder: config.json and the preprocessor/tokenizer files of the\n"
          "folder it was loaded from, and model.safetensors with every weight under its\n"
          "checkpoint name. A boosted encoder carries layer.N.attention_dual.* and\n"
          "layer.N.attention_dual_alpha (SigLIP: ...self_attn_dual...) beside the base\n"
          "weights; `spatialboost encode --weights DIR` runs it boosted.\n");
}

static int run(int argc, char **argv) {
  const char *run_dir = NULL, *out = NULL, *which = "encoder";
  for (int i = 1; i < argc; i++) {
    if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--component") == 0) && i + 1 < argc) {
      if (argv[i][1] == 'o') out = argv[++i];
      else which = argv[++i];
    } else if (argv[i][0] != '-' && !run_dir) {
      run_dir = argv[i];
    } else {
      sb_error("unexpected argument '%s' (see --help)", argv[i]);
      return sb_cli_fail("export"), 2;
    }
  }
  if (!run_dir || !out || (strcmp(which, "encoder") != 0 && strcmp(which, "llm") != 0)) {
    sb_error("give RUN_DIR, -o DIR and --component encoder or llm (see --help)");
    return sb_cli_fail("export"), 2;
  }
  sb_run r;
  if (sb_run_open(run_dir, false, &r)) return sb_cli_fail("export");
  const sb_component *c = strcmp(which, "llm") == 0 ? &r.model.llm : &r.model.encoder;
  int rc = c->plugin ? SB_OK : sb_error("the run has no %s", which);
  if (rc == SB_OK && !sb_component_trains_in(r.checkpoint, c->role))
    fprintf(stderr, "spatialboost export: note: the run did not train the %s; the folder holds its original weights\n",
            which);
  if (rc == SB_OK) rc = sb_outputs_write_component(&r.model, c, out);
  if (rc == SB_OK) printf("%s of %s (%s) -> %s\n", which, run_dir, r.checkpoint, out);
  sb_run_close(&r);
  return rc ? sb_cli_fail("export") : 0;
}

const sb_command sb_cmd_export = {"export", "a trained encoder (or LLM) of a run as a Hugging Face folder", run, help};
