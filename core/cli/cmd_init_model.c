/* cmd_init_model.c — `spatialboost init-model`: a model folder in Hugging
 * Face layout (config.json, model.safetensors, and the tokenizer or
 * preprocessor files beside the config) with freshly initialised weights,
 * made by the model's own plugin. The demo's tiny models come from here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "model.h"
#include "outputs.h"
#include "recipe.h"
#include "spatialboost/spatialboost.h"
#include "util.h"

static void help(FILE *out) {
  fprintf(out,
          "usage: spatialboost init-model --plugin NAME --config CONFIG.json -o DIR [--seed S]\n"
          "                               [--tokenizer PATH]\n\n"
          "Writes DIR/config.json (a copy of CONFIG.json), the preprocessor_config.json\n"
          "next to it if there is one, and DIR/model.safetensors with the weights the\n"
          "plugin initialises from the config (the checkpoint's own initialisation, seeded).\n"
          "--tokenizer copies tokenizer.json and tokenizer_config.json from PATH (a file\n"
          "or folder) so the folder can serve as an LLM.\n\n"
          "  --plugin NAME   encoder_dinov3, encoder_siglip2, llm_qwen2 (short names work)\n");
}

static int copy(const char *from, const char *to) {
  size_t n;
  char *data = sb_file_read(from, &n);
  if (!data) return SB_ERR_IO;
  FILE *f = fopen(to, "wb");
  int rc = f && fwrite(data, 1, n, f) == n ? SB_OK : SB_ERR_IO;
  if (f && fclose(f)) rc = SB_ERR_IO;
  free(data);
  return rc ? sb_error_set(SB_ERR_IO, "%s: cannot write", to) : SB_OK;
}

/* Copies `name` from folder src (when present, or when required) to dst. */
static int copy_beside(const char *src_dir, const char *dst_dir, const char *name, bool required) {
  char *from = sb_path_join(src_dir, name), *to = sb_path_join(dst_dir, name);
  int rc = SB_OK;
  if (!from || !to) rc = SB_ERR_NOMEM;
  else if (sb_path_exists(from)) rc = copy(from, to);
  else if (required) rc = sb_error_set(SB_ERR_IO, "%s: no such file", from);
  free(from), free(to);
  return rc;
}

static int init_model(const char *plugin, const char *config, const char *out, const char *seed, const char *tok) {
  if (!sb_path_exists(config)) return sb_error_set(SB_ERR_IO, "%s: no such file", config);
  if (sb_path_mkdirs(out)) return SB_ERR_IO;
  char *cfg_dir = sb_path_dirname(config), *dst = sb_path_join(out, "config.json");
  int rc = cfg_dir && dst ? copy(config, dst) : SB_ERR_NOMEM;
  if (rc == SB_OK) rc = copy_beside(cfg_dir, out, "preprocessor_config.json", false);
  if (rc == SB_OK && tok) {
    char *tok_dir = sb_path_is_dir(tok) ? sb_strdup(tok) : sb_path_dirname(tok);
    rc = tok_dir ? copy_beside(tok_dir, out, "tokenizer.json", true) : SB_ERR_NOMEM;
    if (rc == SB_OK) rc = copy_beside(tok_dir, out, "tokenizer_config.json", false);
    free(tok_dir);
  }
  free(cfg_dir), free(dst);
  if (rc) return rc;
  /* the component, built from its config alone */
  /* a short name (dinov3) finds encoder_dinov3 or llm_qwen2 */
  sb_plugin *p = sb_plugin_find(plugin, SB_PLUGIN_ENCODER);
  if (!p && sb_error_code() == SB_ERR_NOT_FOUND) p = sb_plugin_find(plugin, SB_PLUGIN_LLM);
  if (!p && sb_error_code() == SB_ERR_NOT_FOUND) p = sb_plugin_find(plugin, 0);
  if (!p) return SB_ERR;
  const char *role = NULL;
  switch (sb_plugin_descriptor_of(p)->kind) {
  case SB_PLUGIN_ENCODER: role = "encoder"; break;
  case SB_PLUGIN_LLM: role = "llm"; break;
  default: return sb_error("plugin '%s' is a %s plugin; init-model makes encoders and LLMs", plugin,
                           sb_plugin_kind_name(sb_plugin_descriptor_of(p)->kind));
  }
  char s1[300], s2[4200], s3[64], s4[64];
  snprintf(s1, sizeof s1, "model.%s.plugin=%s", role, plugin);
  snprintf(s2, sizeof s2, "model.%s.weights=%s", role, out);
  snprintf(s3, sizeof s3, "model.%s.random_init=true", role);
  snprintf(s4, sizeof s4, "seed=%s", seed ? seed : "0");
  const char *sets[4] = {s1, s2, s3, s4};
  sb_recipe *r = sb_recipe_from_overrides("<command line>", sets, 4);
  sb_model m;
  memset(&m, 0, sizeof m);
  int64_t seed_v = seed ? strtoll(seed, NULL, 10) : 0;
  rc = r ? sb_model_build(&m, sb_recipe_root(r), (uint64_t)seed_v, SB_MODEL_CREATE) : SB_ERR;
  if (rc == SB_OK) {
    sb_config_mark_used(sb_recipe_root(r), "seed");
    rc = sb_outputs_write_component(&m, strcmp(role, "llm") == 0 ? &m.llm : &m.encoder, out);
  }
  if (rc == SB_OK)
    printf("%s: %lld parameters (%s, seed %lld) -> %s\n", plugin, (long long)sb_param_store_numel(m.store, false),
           sb_plugin_descriptor_of(p)->name, (long long)seed_v, out);
  sb_model_free(&m);
  sb_recipe_free(r);
  return rc;
}

static int run(int argc, char **argv) {
  const char *plugin = NULL, *config = NULL, *out = NULL, *seed = NULL, *tok = NULL;
  for (int i = 1; i < argc; i++) {
    const char **dst = strcmp(argv[i], "--plugin") == 0      ? &plugin
                       : strcmp(argv[i], "--config") == 0    ? &config
                       : strcmp(argv[i], "-o") == 0          ? &out
                       : strcmp(argv[i], "--seed") == 0      ? &seed
                       : strcmp(argv[i], "--tokenizer") == 0 ? &tok
                                                             : NULL;
    if (!dst || i + 1 >= argc) {
      sb_error("%s: %s (see --help)", argv[i], dst ? "needs a value" : "unknown argument");
      return sb_cli_fail("init-model"), 2;
    }
    *dst = argv[++i];
  }
  if (!plugin || !config || !out) {
    sb_error("--plugin, --config and -o are required (see --help)");
    return sb_cli_fail("init-model"), 2;
  }
  return init_model(plugin, config, out, seed, tok) ? sb_cli_fail("init-model") : 0;
}

const sb_command sb_cmd_init_model = {"init-model", "a model folder with freshly initialised weights from a config",
                                      run, help};
