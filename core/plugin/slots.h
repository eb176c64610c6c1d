/* slots.h — the core's wrappers for optional vtable slots. A slot is called
 * only when the plugin's struct_size covers it and it is set; otherwise the
 * wrapper gives the default (or a message naming the plugin), so callers
 * never test slots themselves. */
#ifndef SB_CORE_SLOTS_H
#define SB_CORE_SLOTS_H

#include <stddef.h>

#include "spatialboost/llm.h"
#include "spatialboost/loss.h"

/* Whether vtable vt (of type `type`) reports and sets `slot`. */
#define SB_SLOT_SET(vt, type, slot) \
  ((vt) && (vt)->struct_size >= offsetof(type, slot) + sizeof((vt)->slot) && (vt)->slot != NULL)

/* The llm's output weight [V, D] (logits = h·Wᵀ), or NULL when it has none. */
sb_tensor *sb_llm_output_weight(const sb_llm_vtable *vt, void *self);
/* A KV cache, or NULL with a message when the plugin has none. */
sb_llm_cache *sb_llm_cache_new(const sb_llm_vtable *vt, void *self, const char *plugin, int64_t batch,
                               int64_t max_length);
/* Whether the loss takes hidden states and an output weight. */
bool sb_loss_has_linear(const sb_loss_vtable *vt);

#endif
