/* search_path.c — where plugins are looked for: SPATIALBOOST_PLUGIN_PATH,
 * then the build tree's plugin folder when this library runs from the build
 * tree, then <libdir>/spatialboost/plugins next to the installed library. */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_impl.h"
#include "util.h"

static sb_ptrvec g_paths;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void add_path(const char *p) {
  for (size_t i = 0; i < g_paths.len; i++)
    if (strcmp(g_paths.items[i], p) == 0) return;
  char *c = sb_strdup(p);
  if (c) sb_ptrvec_push(&g_paths, c);
}

/* The real path of the object holding this code (libspatialboost.so, or the
 * program when the core is linked in statically). */
static char *library_path(void) {
  Dl_info info;
  if (!dladdr((void *)library_path, &info) || !info.dli_fname) return NULL;
  char buf[PATH_MAX];
  return realpath(info.dli_fname, buf) ? sb_strdup(buf) : sb_strdup(info.dli_fname);
}

/* Whether path lies inside folder (both resolved). */
static bool under(const char *path, const char *folder) {
  char buf[PATH_MAX];
  const char *f = realpath(folder, buf) ? buf : folder;
  size_t n = strlen(f);
  return strncmp(path, f, n) == 0 && path[n] == '/';
}

static void init_paths(void) {
  const char *env = getenv("SPATIALBOOST_PLUGIN_PATH");
  if (env && env[0]) {
    char *copy = sb_strdup(env), *save = NULL;
    for (char *tok = copy ? strtok_r(copy, ":", &save) : NULL; tok; tok = strtok_r(NULL, ":", &save))
      if (tok[0]) add_path(tok);
    free(copy);
  }
  char *lib = library_path();
  /* In the build tree unless installed (an install prefix may itself sit
   * inside the build folder). */
  if (lib && under(lib, SB_BUILD_ROOT) && !under(lib, SB_INSTALL_PREFIX)) {
    add_path(SB_BUILD_PLUGIN_DIR);
  } else if (lib) {
    char *dir = sb_path_dirname(lib);
    char *plugins = dir ? sb_path_join(dir, SB_PLUGIN_SUBDIR) : NULL;
    if (plugins) add_path(plugins);
    free(dir), free(plugins);
  }
  free(lib);
}

void sb_search_path_init(void) { pthread_once(&g_once, init_paths); }

size_t sb_plugin_search_path_count(void) {
  sb_search_path_init();
  return g_paths.len;
}

const char *sb_plugin_search_path(size_t i) {
  sb_search_path_init();
  return i < g_paths.len ? g_paths.items[i] : NULL;
}
