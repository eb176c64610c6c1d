/* spatialboost/plugin.h — the plugin ABI.
 *
 * A plugin is one shared object, named <name>.so, exporting one symbol:
 *
 *     const sb_plugin_descriptor *sb_plugin_entry(void);
 *
 * The descriptor starts with its own size and the ABI version the plugin was
 * built against. The core accepts a plugin whose ABI major equals its own and
 * whose minor is not newer, and whose name equals its file name. Plugins are
 * never unloaded. They link only against libspatialboost and include only
 * these headers. Write the entry with SB_PLUGIN_DEFINE, which also lets a
 * test program compile the plugin in statically (-DSB_PLUGIN_STATIC).
 *
 * Kinds and their vtables: encoder.h, projector.h, llm.h, dataset.h, loss.h,
 * backend_plugin.h. Every vtable starts with its struct_size and only grows
 * at its end; the core never calls a slot beyond the size a plugin reports. */
#ifndef SPATIALBOOST_PLUGIN_H
#define SPATIALBOOST_PLUGIN_H

#include "config.h"
#include "params.h"
#include <spatialboost/version.h>

SB_BEGIN_DECLS

#define SB_PLUGIN_EXPORT __attribute__((visibility("default")))
#define SB_PLUGIN_ENTRY_SYMBOL "sb_plugin_entry"

typedef enum sb_plugin_kind {
  SB_PLUGIN_ENCODER = 1,
  SB_PLUGIN_PROJECTOR = 2,
  SB_PLUGIN_LLM = 3,
  SB_PLUGIN_DATASET = 4,
  SB_PLUGIN_LOSS = 5,
  SB_PLUGIN_BACKEND = 6,
} sb_plugin_kind;

typedef enum sb_option_type {
  SB_OPTION_BOOL = 1,
  SB_OPTION_INT = 2,
  SB_OPTION_FLOAT = 3,
  SB_OPTION_STRING = 4,
  SB_OPTION_PATH = 5,   /* a string resolved against the recipe's folder */
  SB_OPTION_ENUM = 6,   /* one of `choices` */
  SB_OPTION_LIST = 7,
  SB_OPTION_MAP = 8,
} sb_option_type;

/* One option of a plugin's schema. */
typedef struct sb_option {
  const char *key;           /* dotted path inside the plugin's block */
  sb_option_type type;
  const char *default_value; /* as YAML text; NULL: the option is required */
  const char *help;          /* one line */
  const char *choices;       /* SB_OPTION_ENUM: "a|b|c"; else NULL */
} sb_option;

/* What a plugin's create() receives. */
typedef struct sb_plugin_ctx {
  size_t struct_size;
  const char *component;     /* the recipe block: "encoder", "projector", "llm", "data", "loss" */
  const sb_config *options;  /* the block's options (the core consumed `plugin:`) */
  sb_params *params;         /* where to declare parameters; NULL for kinds without */
  uint64_t seed;             /* the recipe's seed, for anything random */
  /* Sizes the core knows from the components already made (0: unknown):
   * a projector gets in_dim = the encoder's hidden size and out_dim = the
   * LLM's hidden size. */
  int64_t in_dim, out_dim;
} sb_plugin_ctx;

typedef struct sb_plugin_descriptor {
  uint32_t struct_size;      /* sizeof(sb_plugin_descriptor) at build time */
  uint16_t abi_major;        /* SB_ABI_MAJOR at build time */
  uint16_t abi_minor;        /* SB_ABI_MINOR at build time */
  const char *name;          /* must equal the file name without ".so" */
  const char *version;       /* the plugin's own version, e.g. "1.0.0" */
  sb_plugin_kind kind;
  const char *description;   /* one line */
  const sb_option *options;  /* the option schema */
  size_t n_options;
  const void *vtable;        /* the kind's vtable (e.g. const sb_projector_vtable *) */
} sb_plugin_descriptor;

typedef const sb_plugin_descriptor *(*sb_plugin_entry_fn)(void);

/* Registers a plugin compiled into the program (see SB_PLUGIN_DEFINE). */
SB_API int sb_plugin_register_static(const sb_plugin_descriptor *desc);

#define SB_OPTIONS_COUNT(arr) (sizeof(arr) / sizeof((arr)[0]))

/* Defines the plugin's entry point for `desc` (a const sb_plugin_descriptor).
 * `ident` is a C identifier unique to the plugin (used for the static form). */
#ifdef SB_PLUGIN_STATIC
#define SB_PLUGIN_DEFINE(ident, desc)                                              \
  static const sb_plugin_descriptor *sb_plugin_entry_##ident(void) { return &(desc); } \
  __attribute__((constructor)) static void sb_plugin_static_##ident(void) {        \
    sb_plugin_register_static(sb_plugin_entry_##ident());                          \
  }
#else
#define SB_PLUGIN_DEFINE(ident, desc)                                              \
  SB_PLUGIN_EXPORT const sb_plugin_descriptor *sb_plugin_entry(void);              \
  SB_PLUGIN_EXPORT const sb_plugin_descriptor *sb_plugin_entry(void) { return &(desc); }
#endif

/* Fills the header fields of a descriptor initialiser. */
#define SB_PLUGIN_HEADER                                                           \
  .struct_size = sizeof(sb_plugin_descriptor), .abi_major = SB_ABI_MAJOR,          \
  .abi_minor = SB_ABI_MINOR

SB_API const char *sb_plugin_kind_name(sb_plugin_kind kind);

SB_END_DECLS
#endif
