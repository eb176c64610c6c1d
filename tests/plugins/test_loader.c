/* test_loader.c — the plugin loader through the public API: every broken
 * plugin is refused with its own message naming the file, and lookups by
 * name and kind behave as registry.h says. Links the shared library, as
 * programs embedding spatialboost do. */
#include <dlfcn.h>
#include <stdlib.h>

#include "../common/check.h"
#include "spatialboost/spatialboost.h"

static void refused(const char *file, const char *needle1, const char *needle2) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", BAD_DIR, file);
  sb_error_clear();
  CHECK(sb_plugin_open(path) == NULL, "%s was accepted", file);
  CHECK_ERROR(path);
  CHECK_ERROR(needle1);
  if (needle2) CHECK_ERROR(needle2);
}

int main(void) {
  char abi[64];
  snprintf(abi, sizeof abi, "built for ABI %d.%d, this spatialboost has ABI %d.%d", SB_ABI_MAJOR + 1,
           SB_ABI_MINOR, SB_ABI_MAJOR, SB_ABI_MINOR);
  refused("bad_abi_major.so", abi, "major versions must be equal");
  snprintf(abi, sizeof abi, "built for ABI %d.%d, newer than this spatialboost's %d.%d", SB_ABI_MAJOR,
           SB_ABI_MINOR + 1, SB_ABI_MAJOR, SB_ABI_MINOR);
  refused("bad_abi_minor.so", abi, NULL);
  refused("wrong_name.so", "descriptor names the plugin 'other_name' but the file is 'wrong_name.so'", NULL);
  refused("dup_option.so", "option 'alpha' is declared twice", NULL);
  refused("no_entry.so", "no symbol 'sb_plugin_entry'", "not a spatialboost plugin");
  refused("not_a_plugin.so", "cannot load plugin", "not_a_plugin.so: "); /* then dlopen's own words */
  refused("does_not_exist.so", "cannot load plugin", "No such file");

  /* by name, from the build tree's plugin folder */
  sb_plugin *p = sb_plugin_find("projector_mlp", 0);
  CHECK(p, "projector_mlp: %s", sb_error_message());
  if (p) {
    const sb_plugin_descriptor *d = sb_plugin_descriptor_of(p);
    CHECK(d->kind == SB_PLUGIN_PROJECTOR && d->abi_major == SB_ABI_MAJOR, "descriptor fields");
    CHECK(strstr(sb_plugin_file(p), "projector_mlp.so") != NULL, "file %s", sb_plugin_file(p));
  }
  /* <kind>_<name> fallback, kind mismatch, unknown name */
  CHECK(sb_plugin_find("mlp", SB_PLUGIN_PROJECTOR) == p, "mlp -> projector_mlp: %s", sb_error_message());
  CHECK(sb_plugin_find("sft", SB_PLUGIN_LOSS) != NULL, "sft -> loss_sft: %s", sb_error_message());
  CHECK(sb_plugin_find("loss_sft", SB_PLUGIN_PROJECTOR) == NULL, "kind mismatch accepted");
  CHECK_ERROR("is a loss plugin, expected a projector plugin");
  CHECK(sb_plugin_find("nonexistent", SB_PLUGIN_ENCODER) == NULL, "found a nonexistent plugin");
  CHECK_ERROR("no plugin named 'nonexistent' or 'encoder_nonexistent'");
  CHECK_ERROR("looked for nonexistent.so and encoder_nonexistent.so in: ");
  CHECK_ERROR("SPATIALBOOST_PLUGIN_PATH");
  CHECK(sb_plugin_search_path_count() >= 1, "no search path");
  /* The library exports the sdk and nothing else: plugins cannot reach internals. */
  CHECK(dlsym(RTLD_DEFAULT, "sb_op_linear") != NULL, "sdk function not exported");
  static const char *const internals[] = {"sb_run", "sb_arena_alloc", "sb_convert", "sb_recipe_load",
                                          "sb_param_store_new", "sb_op_node_new", "sb_malloc"};
  for (size_t i = 0; i < sizeof internals / sizeof internals[0]; i++)
    CHECK(dlsym(RTLD_DEFAULT, internals[i]) == NULL, "internal %s is exported", internals[i]);
  return check_summary("plugin-loader");
}
