/* test_slots.c — the core's wrappers for optional vtable slots (slots.h):
 * a slot is called only when the plugin's struct_size covers it and it is
 * set, as for a plugin built against ABI 1.0 (whose vtables end before the
 * 1.1 slots) or one that leaves a slot NULL. */
#include <stddef.h>
#include <stdlib.h>

#include "../common/check.h"
#include "slots.h"
#include "spatialboost/spatialboost.h"

static int g_calls;
static sb_tensor *g_weight;

static sb_tensor *output_weight(void *self) { return g_calls++, g_weight; }
static sb_llm_cache *cache_new(void *self, int64_t batch, int64_t max_length) { return g_calls++, NULL; }
static void cache_free(void *self, sb_llm_cache *c) {}
static sb_tensor *compute_linear(void *self, const sb_loss_input *in) { return NULL; }

int main(void) {
  g_weight = sb_tensor_zeros(SB_DTYPE_F32, 2, (int64_t[]){5, 3});
  /* every slot set, the whole table reported */
  sb_llm_vtable llm = {.struct_size = sizeof llm, .output_weight = output_weight, .cache_new = cache_new,
                       .cache_free = cache_free};
  CHECK(sb_llm_output_weight(&llm, NULL) == g_weight && g_calls == 1, "output_weight is called");
  /* a 1.0 plugin: the table ends before output_weight (the pointer after
   * its end is whatever follows in memory; here a function that must not run) */
  llm.struct_size = offsetof(sb_llm_vtable, output_weight);
  CHECK(sb_llm_output_weight(&llm, NULL) == NULL && g_calls == 1, "a slot past struct_size is not called");
  llm.struct_size = sizeof llm, llm.output_weight = NULL;
  CHECK(sb_llm_output_weight(&llm, NULL) == NULL, "a NULL slot gives the default");
  /* the KV cache: called when present, a message naming the plugin when not */
  sb_llm_cache_new(&llm, NULL, "llm_x", 1, 8);
  CHECK(g_calls == 2, "cache_new is called");
  llm.cache_new = NULL;
  CHECK(sb_llm_cache_new(&llm, NULL, "llm_x", 1, 8) == NULL, "no cache without cache_new");
  CHECK_ERROR("llm plugin llm_x has no key/value cache");
  /* the loss */
  sb_loss_vtable loss = {.struct_size = sizeof loss, .compute_linear = compute_linear};
  CHECK(sb_loss_has_linear(&loss), "compute_linear set");
  loss.struct_size = offsetof(sb_loss_vtable, compute_linear);
  CHECK(!sb_loss_has_linear(&loss), "compute_linear past struct_size");
  CHECK(!sb_loss_has_linear(NULL), "no loss");
  return check_summary("slots");
}
