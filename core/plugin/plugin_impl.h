/* plugin_impl.h — the core's side of plugins: the loaded-plugin record, the
 * checks a descriptor must pass, and the search path. */
#ifndef SB_CORE_PLUGIN_IMPL_H
#define SB_CORE_PLUGIN_IMPL_H

#include "spatialboost/registry.h"

struct sb_plugin {
  const sb_plugin_descriptor *desc;
  char *file; /* NULL for static plugins */
};

/* Checks a descriptor obtained from `file` (NULL: static). */
int sb_plugin_check_descriptor(const sb_plugin_descriptor *d, const char *file);
/* Minimum vtable size (the slots every plugin of the kind must have). */
size_t sb_plugin_vtable_min_size(sb_plugin_kind kind);
/* Adds a checked plugin to the registry (first of a name wins: a later one
 * is recorded as a problem). */
sb_plugin *sb_registry_add(const sb_plugin_descriptor *d, const char *file);
sb_plugin *sb_registry_lookup(const char *name);
void sb_registry_add_problem(const char *msg);
/* The search folders, computed once. */
void sb_search_path_init(void);

#endif
