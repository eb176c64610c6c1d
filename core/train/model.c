/* model.c — making the recipe's components from their plugins: find the
 * plugin (`plugin:` under model.encoder etc.), bind the block to the
 * plugin's option schema, check it, and create the instance with a
 * parameter scope named after the component. Creation order lets the
 * projector learn its widths from the encoder and the LLM. */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "recipe.h"
#include "run_config.h"
#include "spatialboost/spatialboost.h"
#include "util.h"

typedef void *(*create_fn)(const sb_plugin_ctx *);
typedef void (*destroy_fn)(void *);

/* Every kind's vtable starts {struct_size, create, destroy}. */
typedef struct common_vtable {
  size_t struct_size;
  create_fn create;
  destroy_fn destroy;
} common_vtable;

/* The block's schema: `plugin:`, the core's own keys for this kind (the
 * loader's in `data:`), then the plugin's options. */
static sb_option *combined_schema(const sb_plugin_descriptor *d, size_t *n) {
  size_t core = d->kind == SB_PLUGIN_DATASET ? sb_data_schema_len : 0;
  sb_option *schema = sb_calloc(1 + core + d->n_options, sizeof *schema);
  if (!schema) return NULL;
  schema[0] = (sb_option){"plugin", SB_OPTION_STRING, NULL, "the plugin", NULL};
  for (size_t i = 0; i < core; i++) schema[1 + i] = sb_data_schema[i];
  for (size_t i = 0; i < d->n_options; i++) schema[1 + core + i] = d->options[i];
  *n = 1 + core + d->n_options;
  return schema;
}

static int find(sb_component *c, const sb_config *block, sb_plugin_kind kind) {
  const char *name;
  if (sb_config_get_string(block, "plugin", &name)) return SB_ERR;
  const sb_plugin *p = sb_plugin_find(name, kind);
  if (!p) return sb_error_prefix("%s: %s", sb_config_where(block, "plugin"), sb_config_path(block));
  c->plugin = p;
  c->desc = sb_plugin_descriptor_of(p);
  c->vtable = c->desc->vtable;
  /* The block holds the core's keys and the plugin's own options: check
   * and bind it against both. */
  size_t n;
  sb_option *schema = combined_schema(c->desc, &n);
  if (!schema) return SB_ERR_NOMEM;
  c->schema = schema;
  if (sb_config_validate(block, c->desc->name, schema, n)) return SB_ERR;
  c->options = sb_config_bind(block, c->desc->name, schema, n);
  return c->options ? SB_OK : SB_ERR;
}

static int create(sb_model *m, sb_component *c, uint64_t seed, int64_t in_dim, int64_t out_dim) {
  const common_vtable *vt = c->vtable;
  sb_plugin_ctx ctx = {.struct_size = sizeof ctx, .component = c->role, .options = c->options,
                       .seed = seed, .in_dim = in_dim, .out_dim = out_dim};
  if (c->desc->kind != SB_PLUGIN_LOSS && c->desc->kind != SB_PLUGIN_DATASET) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s.", c->role);
    if (!(ctx.params = sb_param_store_scope(m->store, prefix))) return SB_ERR;
  }
  sb_error_clear();
  c->self = vt->create(&ctx);
  if (!c->self) {
    if (!sb_error_message()[0]) sb_error("failed without saying why");
    return sb_error_prefix("%s (plugin %s)", c->role, c->desc->name);
  }
  return SB_OK;
}

static int64_t encoder_width(const sb_component *c) {
  if (!c->self) return 0;
  sb_encoder_info info = {.struct_size = sizeof info};
  return ((const sb_encoder_vtable *)c->vtable)->describe(c->self, &info) ? 0 : info.hidden_size;
}

static int64_t llm_width(const sb_component *c) {
  if (!c->self) return 0;
  sb_llm_info info = {.struct_size = sizeof info};
  return ((const sb_llm_vtable *)c->vtable)->describe(c->self, &info) ? 0 : info.hidden_size;
}

typedef struct slot {
  sb_component *c;
  const sb_config *parent;
  const char *key;
  sb_plugin_kind kind;
} slot;

int sb_model_build(sb_model *m, const sb_config *root, uint64_t seed, unsigned mode) {
  memset(m, 0, sizeof *m);
  if (!(m->store = sb_param_store_new(seed))) return SB_ERR;
  /* Through the run schema, so absent blocks take their defaults (the loss
   * defaults to loss_sft). */
  if (!sb_config_has(root, "model"))
    return sb_config_error(root, NULL, "the recipe has no model: block (model: {encoder: ..., "
                           "projector: ..., llm: ...})");
  const sb_config *rb = sb_config_bind(root, "the recipe", sb_run_schema, sb_run_schema_len);
  const sb_config *model = rb ? sb_config_get_map(rb, "model") : NULL;
  if (!model) return SB_ERR;
  m->encoder.role = "encoder", m->projector.role = "projector", m->llm.role = "llm";
  m->loss.role = "loss", m->data.role = "data";
  slot slots[] = {{&m->encoder, model, "encoder", SB_PLUGIN_ENCODER},
                  {&m->llm, model, "llm", SB_PLUGIN_LLM},
                  {&m->projector, model, "projector", SB_PLUGIN_PROJECTOR},
                  {&m->loss, rb, "loss", SB_PLUGIN_LOSS},
                  {&m->data, rb, "data", SB_PLUGIN_DATASET}};
  for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
    if (slots[i].c == &m->data && (mode & SB_MODEL_NO_DATA)) continue;
    /* the default loss (loss_sft) only where there is an LLM to score */
    if (slots[i].c == &m->loss && !m->llm.plugin && !sb_config_has(root, "loss")) continue;
    const sb_config *block = sb_config_get_map(slots[i].parent, slots[i].key);
    if (!block || !sb_config_has(block, "plugin")) continue; /* absent, or an empty block */
    if (find(slots[i].c, block, slots[i].kind)) return SB_ERR;
    if (mode & SB_MODEL_VALIDATE) { /* checked against the schema: counts as read */
      sb_config_mark_used(block, NULL);
      continue;
    }
    int64_t in = 0, out = 0;
    if (slots[i].c == &m->projector) in = encoder_width(&m->encoder), out = llm_width(&m->llm);
    if (create(m, slots[i].c, seed, in, out)) return SB_ERR;
  }
  return SB_OK;
}

void sb_model_free(sb_model *m) {
  sb_component *cs[] = {&m->data, &m->loss, &m->projector, &m->llm, &m->encoder};
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
  {
    if (cs[i]->self) ((const common_vtable *)cs[i]->vtable)->destroy(cs[i]->self);
    free(cs[i]->schema);
  }
  sb_param_store_free(m->store);
  memset(m, 0, sizeof *m);
}

bool sb_weights_hold_dual(const char *weights) {
  sb_st_set *set = sb_st_set_open(weights);
  bool dual = false;
  for (size_t i = 0; set && i < sb_st_set_count(set) && !dual; i++) {
    const char *name = sb_st_set_at(set, i)->name;
    dual = strstr(name, "_dual.") || sb_str_ends_with(name, "_dual_alpha");
  }
  sb_st_set_close(set);
  sb_error_clear();
  return dual;
}
