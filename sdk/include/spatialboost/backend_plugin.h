/* spatialboost/backend_plugin.h — the backend kind: a plugin that registers
 * a compute backend (backend.h) when a recipe asks for its device. */
#ifndef SPATIALBOOST_BACKEND_PLUGIN_H
#define SPATIALBOOST_BACKEND_PLUGIN_H

#include "backend.h"
#include "plugin.h"

SB_BEGIN_DECLS

typedef struct sb_backend_plugin_vtable {
  size_t struct_size;
  /* Finds the device, registers the backend with sb_backend_register and
   * returns it; NULL + sb_error when the device cannot be used (no driver,
   * no GPU: say which). */
  sb_backend *(*init)(const sb_plugin_ctx *ctx);
} sb_backend_plugin_vtable;

SB_END_DECLS
#endif
