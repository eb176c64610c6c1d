/* registry.c — the plugins the process knows: registered statically, or
 * loaded from the search path with dlopen (never unloaded). Also the list
 * of files that were refused, for `spatialboost plugins`. */
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_impl.h"
#include "util.h"

static sb_ptrvec g_plugins;  /* sb_plugin *, static ones first */
static sb_ptrvec g_problems; /* char * */
static sb_ptrvec g_opened;   /* char * of files already tried */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

void sb_registry_add_problem(const char *msg) {
  char *m = sb_strdup(msg);
  if (m) sb_ptrvec_push(&g_problems, m);
}

sb_plugin *sb_registry_lookup(const char *name) {
  for (size_t i = 0; i < g_plugins.len; i++) {
    sb_plugin *p = g_plugins.items[i];
    if (strcmp(p->desc->name, name) == 0) return p;
  }
  return NULL;
}

sb_plugin *sb_registry_add(const sb_plugin_descriptor *d, const char *file) {
  sb_plugin *old = sb_registry_lookup(d->name);
  if (old) {
    char *msg = sb_asprintf("%s: plugin '%s' is shadowed by %s (found first)", file ? file : "(static)",
                            d->name, old->file ? old->file : "(static)");
    if (msg) sb_registry_add_problem(msg);
    free(msg);
    return old;
  }
  sb_plugin *p = sb_calloc(1, sizeof *p);
  if (!p) return NULL;
  p->desc = d;
  p->file = file ? sb_strdup(file) : NULL;
  if (sb_ptrvec_push(&g_plugins, p)) {
    free(p->file), free(p);
    return NULL;
  }
  return p;
}

int sb_plugin_register_static(const sb_plugin_descriptor *desc) {
  pthread_mutex_lock(&g_lock);
  int rc = sb_plugin_check_descriptor(desc, NULL);
  if (rc == SB_OK && !sb_registry_add(desc, NULL)) rc = SB_ERR;
  pthread_mutex_unlock(&g_lock);
  return rc;
}

static int strcmp_ptr(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool already_tried(const char *path) {
  for (size_t i = 0; i < g_opened.len; i++)
    if (strcmp(g_opened.items[i], path) == 0) return true;
  char *c = sb_strdup(path);
  if (c) sb_ptrvec_push(&g_opened, c);
  return false;
}

static sb_plugin *open_locked(const char *path) {
  for (size_t i = 0; i < g_plugins.len; i++) {
    sb_plugin *p = g_plugins.items[i];
    if (p->file && strcmp(p->file, path) == 0) return p;
  }
  already_tried(path);
  dlerror();
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *why = dlerror();
    sb_error_set(SB_ERR_IO, "cannot load plugin %s: %s", path, why ? why : "unknown dlopen error");
    return NULL;
  }
  dlerror();
  void *sym = dlsym(h, SB_PLUGIN_ENTRY_SYMBOL);
  if (!sym) {
    const char *why = dlerror();
    sb_error_set(SB_ERR_FORMAT, "%s: no symbol '%s' (not a spatialboost plugin?): %s", path,
                 SB_PLUGIN_ENTRY_SYMBOL, why ? why : "not found");
    return NULL; /* plugins are never unloaded, refused ones neither */
  }
  sb_plugin_entry_fn entry;
  memcpy(&entry, &sym, sizeof entry);
  const sb_plugin_descriptor *d = entry();
  if (sb_plugin_check_descriptor(d, path)) return NULL;
  return sb_registry_add(d, path);
}

sb_plugin *sb_plugin_open(const char *path) {
  pthread_mutex_lock(&g_lock);
  sb_plugin *p = open_locked(path);
  pthread_mutex_unlock(&g_lock);
  return p;
}

static sb_plugin *find_in_path(const char *name) {
  sb_plugin *p = sb_registry_lookup(name);
  if (p) return p;
  for (size_t i = 0; i < sb_plugin_search_path_count(); i++) {
    char *file = sb_asprintf("%s/%s.so", sb_plugin_search_path(i), name);
    if (!file) return NULL;
    if (sb_path_exists(file)) {
      p = open_locked(file);
      free(file);
      return p; /* a refused first match is an error, not skipped silently */
    }
    free(file);
  }
  return NULL;
}

static void list_folders(sb_strbuf *b) {
  size_t n = sb_plugin_search_path_count();
  if (!n) sb_strbuf_append(b, "(none)");
  for (size_t i = 0; i < n; i++) {
    if (i) sb_strbuf_append(b, ", ");
    sb_strbuf_append(b, sb_plugin_search_path(i));
  }
}

sb_plugin *sb_plugin_find(const char *name, sb_plugin_kind kind) {
  sb_search_path_init();
  pthread_mutex_lock(&g_lock);
  sb_error_clear();
  sb_plugin *p = find_in_path(name);
  char *alt = NULL;
  if (!p && !sb_error_code() && kind) {
    alt = sb_asprintf("%s_%s", sb_plugin_kind_name(kind), name);
    if (alt) p = find_in_path(alt);
  }
  if (!p && !sb_error_code()) {
    sb_strbuf b;
    sb_strbuf_init(&b);
    list_folders(&b);
    sb_error_set(SB_ERR_NOT_FOUND, "no plugin named '%s'%s%s%s (looked for %s.so%s%s%s in: %s; set "
                 "SPATIALBOOST_PLUGIN_PATH to add folders)", name, alt ? " or '" : "", alt ? alt : "",
                 alt ? "'" : "", name, alt ? " and " : "", alt ? alt : "", alt ? ".so" : "",
                 b.data ? b.data : "");
    sb_strbuf_free(&b);
  }
  if (p && kind && p->desc->kind != kind) {
    sb_error_set(SB_ERR_FORMAT, "plugin '%s' (%s) is a %s plugin, expected a %s plugin", p->desc->name,
                 p->file ? p->file : "static", sb_plugin_kind_name(p->desc->kind), sb_plugin_kind_name(kind));
    p = NULL;
  }
  free(alt);
  pthread_mutex_unlock(&g_lock);
  return p;
}

int sb_plugin_scan(void) {
  sb_search_path_init();
  pthread_mutex_lock(&g_lock);
  for (size_t i = 0; i < sb_plugin_search_path_count(); i++) {
    const char *dir = sb_plugin_search_path(i);
    DIR *d = opendir(dir);
    if (!d) continue;
    struct dirent *e;
    sb_ptrvec names = {0};
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.' || !sb_str_ends_with(e->d_name, ".so")) continue;
      char *f = sb_asprintf("%s/%s", dir, e->d_name);
      if (f) sb_ptrvec_push(&names, f);
    }
    closedir(d);
    qsort(names.items, names.len, sizeof(char *), strcmp_ptr);
    for (size_t j = 0; j < names.len; j++) {
      const char *f = names.items[j];
      bool loaded = false;
      for (size_t k = 0; k < g_plugins.len && !loaded; k++) {
        sb_plugin *p = g_plugins.items[k];
        loaded = p->file && strcmp(p->file, f) == 0;
      }
      if (!loaded && !already_tried(f)) {
        sb_error_clear();
        if (!open_locked(f)) sb_registry_add_problem(sb_error_message());
      }
      free(names.items[j]);
    }
    sb_ptrvec_free(&names);
  }
  pthread_mutex_unlock(&g_lock);
  return SB_OK;
}

size_t sb_plugin_count(void) { return g_plugins.len; }
sb_plugin *sb_plugin_at(size_t i) { return i < g_plugins.len ? g_plugins.items[i] : NULL; }
size_t sb_plugin_problem_count(void) { return g_problems.len; }
const char *sb_plugin_problem(size_t i) { return i < g_problems.len ? g_problems.items[i] : NULL; }
const sb_plugin_descriptor *sb_plugin_descriptor_of(const sb_plugin *p) { return p->desc; }
const char *sb_plugin_file(const sb_plugin *p) { return p->file ? p->file : "(static)"; }
