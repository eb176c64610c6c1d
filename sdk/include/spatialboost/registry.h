/* spatialboost/registry.h — finding and loading plugins.
 *
 * Plugins are looked for, in this order, in each folder of
 * SPATIALBOOST_PLUGIN_PATH (colon-separated), the build tree's plugin folder
 * (when libspatialboost itself runs from the build tree), and the installed
 * plugin folder (<libdir>/spatialboost/plugins, found relative to the
 * library). The first file named <name>.so wins. Plugins registered
 * statically (SB_PLUGIN_DEFINE with -DSB_PLUGIN_STATIC) come before all. */
#ifndef SPATIALBOOST_REGISTRY_H
#define SPATIALBOOST_REGISTRY_H

#include "plugin.h"

SB_BEGIN_DECLS

typedef struct sb_plugin sb_plugin;

/* The folders searched, in order. */
SB_API size_t sb_plugin_search_path_count(void);
SB_API const char *sb_plugin_search_path(size_t i);

/* Loads one file and checks it (entry symbol, ABI, descriptor, name). The
 * error names the file, the symbol, dlopen's message or both ABI versions. */
SB_API sb_plugin *sb_plugin_open(const char *path);
/* Finds a plugin by name, loading it from the search path when needed. When
 * kind is not 0 and no plugin `name` exists, "<kind>_<name>" is tried too
 * (so `plugin: dinov3` under an encoder finds encoder_dinov3). The error
 * lists the folders searched. */
SB_API sb_plugin *sb_plugin_find(const char *name, sb_plugin_kind kind);

/* Loads every <name>.so of the search path. Files that are refused are
 * remembered as problems (one message each) and do not stop the scan. */
SB_API int sb_plugin_scan(void);
SB_API size_t sb_plugin_count(void);
SB_API sb_plugin *sb_plugin_at(size_t i);
SB_API size_t sb_plugin_problem_count(void);
SB_API const char *sb_plugin_problem(size_t i);

SB_API const sb_plugin_descriptor *sb_plugin_descriptor_of(const sb_plugin *p);
/* The file it came from, or "(static)". */
SB_API const char *sb_plugin_file(const sb_plugin *p);

SB_END_DECLS
#endif
