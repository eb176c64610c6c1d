/* test_static.c — a plugin compiled into the program with SB_PLUGIN_STATIC
 * registers itself before main and is found by name without any file. */
#include "../common/check.h"
#include "spatialboost/spatialboost.h"

int main(void) {
  sb_plugin *p = sb_plugin_find("loss_sft", SB_PLUGIN_LOSS);
  CHECK(p != NULL, "loss_sft not registered: %s", sb_error_message());
  if (p) CHECK(strcmp(sb_plugin_file(p), "(static)") == 0, "file %s", sb_plugin_file(p));
  /* a second registration of the same name is refused as shadowed, not a crash */
  CHECK(sb_plugin_register_static(sb_plugin_descriptor_of(p)) == SB_OK, "re-register");
  CHECK(sb_plugin_count() == 1, "one plugin, got %zu", sb_plugin_count());
  return check_summary("plugin-static");
}
