/* slots.c — the core's wrappers for optional vtable slots (slots.h). */
#include "slots.h"

#include "spatialboost/error.h"

sb_tensor *sb_llm_output_weight(const sb_llm_vtable *vt, void *self) {
  return SB_SLOT_SET(vt, sb_llm_vtable, output_weight) ? vt->output_weight(self) : NULL;
}

sb_llm_cache *sb_llm_cache_new(const sb_llm_vtable *vt, void *self, const char *plugin, int64_t batch,
                               int64_t max_length) {
  if (!SB_SLOT_SET(vt, sb_llm_vtable, cache_new) || !SB_SLOT_SET(vt, sb_llm_vtable, cache_free)) {
    sb_error_set(SB_ERR, "llm plugin %s has no key/value cache (cache_new/cache_free), "
                 "which generation needs", plugin ? plugin : "?");
    return NULL;
  }
  return vt->cache_new(self, batch, max_length);
}

bool sb_loss_has_linear(const sb_loss_vtable *vt) { return SB_SLOT_SET(vt, sb_loss_vtable, compute_linear); }
