/* descriptor.c — what the core checks in a plugin's descriptor before it
 * accepts the plugin: size, ABI, name, kind, vtable and option schema. */
#include <string.h>

#include "plugin_impl.h"
#include "spatialboost/backend_plugin.h"
#include "spatialboost/dataset.h"
#include "spatialboost/encoder.h"
#include "spatialboost/error.h"
#include "spatialboost/llm.h"
#include "spatialboost/loss.h"
#include "spatialboost/projector.h"
#include "util.h"

const char *sb_plugin_kind_name(sb_plugin_kind kind) {
  switch (kind) {
  case SB_PLUGIN_ENCODER: return "encoder";
  case SB_PLUGIN_PROJECTOR: return "projector";
  case SB_PLUGIN_LLM: return "llm";
  case SB_PLUGIN_DATASET: return "dataset";
  case SB_PLUGIN_LOSS: return "loss";
  case SB_PLUGIN_BACKEND: return "backend";
  default: return "?";
  }
}

/* Every vtable must reach at least its first published slots. */
size_t sb_plugin_vtable_min_size(sb_plugin_kind kind) {
  switch (kind) {
  case SB_PLUGIN_ENCODER: return offsetof(sb_encoder_vtable, forward) + sizeof(void *);
  case SB_PLUGIN_PROJECTOR: return offsetof(sb_projector_vtable, forward) + sizeof(void *);
  case SB_PLUGIN_LLM: return offsetof(sb_llm_vtable, logits) + sizeof(void *);
  case SB_PLUGIN_DATASET: return offsetof(sb_dataset_vtable, get) + sizeof(void *);
  case SB_PLUGIN_LOSS: return offsetof(sb_loss_vtable, compute) + sizeof(void *);
  case SB_PLUGIN_BACKEND: return offsetof(sb_backend_plugin_vtable, init) + sizeof(void *);
  default: return 0;
  }
}

static const char *where(const char *file) { return file ? file : "(static plugin)"; }

/* The file name without folders and without ".so". */
static bool name_matches_file(const char *name, const char *file) {
  const char *base = sb_path_basename(file);
  size_t n = strlen(name);
  return strncmp(base, name, n) == 0 && strcmp(base + n, ".so") == 0;
}

static int check_options(const sb_plugin_descriptor *d, const char *file) {
  for (size_t i = 0; i < d->n_options; i++) {
    const sb_option *o = &d->options[i];
    if (!o->key || !o->key[0] || o->type < SB_OPTION_BOOL || o->type > SB_OPTION_MAP)
      return sb_error("%s: plugin '%s': option %zu has no key or an unknown type", where(file), d->name, i);
    if (o->type == SB_OPTION_ENUM && (!o->choices || !o->choices[0]))
      return sb_error("%s: plugin '%s': enum option '%s' lists no choices", where(file), d->name, o->key);
    for (size_t j = 0; j < i; j++)
      if (strcmp(d->options[j].key, o->key) == 0)
        return sb_error("%s: plugin '%s': option '%s' is declared twice", where(file), d->name, o->key);
  }
  return SB_OK;
}

int sb_plugin_check_descriptor(const sb_plugin_descriptor *d, const char *file) {
  if (!d) return sb_error("%s: sb_plugin_entry() returned NULL", where(file));
  if (d->struct_size < offsetof(sb_plugin_descriptor, abi_minor) + sizeof(uint16_t))
    return sb_error("%s: descriptor of %u bytes is too small to hold an ABI version", where(file),
                    d->struct_size);
  if (d->abi_major != SB_ABI_MAJOR)
    return sb_error("%s: plugin was built for ABI %u.%u, this spatialboost has ABI %d.%d "
                    "(the major versions must be equal; rebuild the plugin against this sdk)",
                    where(file), d->abi_major, d->abi_minor, SB_ABI_MAJOR, SB_ABI_MINOR);
  if (d->abi_minor > SB_ABI_MINOR)
    return sb_error("%s: plugin was built for ABI %u.%u, newer than this spatialboost's %d.%d "
                    "(upgrade spatialboost or rebuild the plugin against this sdk)",
                    where(file), d->abi_major, d->abi_minor, SB_ABI_MAJOR, SB_ABI_MINOR);
  if (d->struct_size < offsetof(sb_plugin_descriptor, vtable) + sizeof(void *))
    return sb_error("%s: descriptor of %u bytes is smaller than ABI %d.0 requires (%zu)", where(file),
                    d->struct_size, SB_ABI_MAJOR, offsetof(sb_plugin_descriptor, vtable) + sizeof(void *));
  if (!d->name || !d->name[0]) return sb_error("%s: descriptor has no name", where(file));
  if (file && !name_matches_file(d->name, file))
    return sb_error("%s: descriptor names the plugin '%s' but the file is '%s' (a plugin must be "
                    "named <name>.so)", file, d->name, sb_path_basename(file));
  if (d->kind < SB_PLUGIN_ENCODER || d->kind > SB_PLUGIN_BACKEND)
    return sb_error("%s: plugin '%s' has unknown kind %d", where(file), d->name, (int)d->kind);
  if (!d->vtable) return sb_error("%s: plugin '%s' has no vtable", where(file), d->name);
  size_t vsize = *(const size_t *)d->vtable, need = sb_plugin_vtable_min_size(d->kind);
  if (vsize < need)
    return sb_error("%s: plugin '%s': %s vtable of %zu bytes, at least %zu expected", where(file),
                    d->name, sb_plugin_kind_name(d->kind), vsize, need);
  if (d->n_options && !d->options)
    return sb_error("%s: plugin '%s' counts %zu options but lists none", where(file), d->name, d->n_options);
  return check_options(d, file);
}
