/* spatialboost/projector.h — the projector kind: visual features to the
 * LLM's embedding width. */
#ifndef SPATIALBOOST_PROJECTOR_H
#define SPATIALBOOST_PROJECTOR_H

#include "plugin.h"

SB_BEGIN_DECLS

typedef struct sb_projector_info {
  size_t struct_size;
  int64_t in_dim, out_dim;
} sb_projector_info;

typedef struct sb_projector_vtable {
  size_t struct_size;
  /* Reads options, declares and loads parameters. NULL + sb_error on failure. */
  void *(*create)(const sb_plugin_ctx *ctx);
  void (*destroy)(void *self);
  int (*describe)(void *self, sb_projector_info *out);
  /* features [..., in_dim] -> [..., out_dim], with ops only. */
  sb_tensor *(*forward)(void *self, sb_tensor *features);
} sb_projector_vtable;

SB_END_DECLS
#endif
