/* spatialboost/params.h — the parameter store.
 *
 * The core owns every parameter, its gradient and its optimizer state, keyed
 * by name, so freezing, optimizers, checkpoints and resume work the same for
 * every plugin. A plugin gets a store scoped to its component (the recipe's
 * `model.encoder`, `model.projector`, ...) and declares its parameters there
 * under their Hugging Face names ("layer.0.attention.q_proj.weight"); the
 * store prefixes them with the component ("encoder.layer.0...").
 *
 * Parameters are float32 on the current backend. Weight files convert on
 * load (BF16 and F16 to F32). */
#ifndef SPATIALBOOST_PARAMS_H
#define SPATIALBOOST_PARAMS_H

#include "tensor.h"

SB_BEGIN_DECLS

typedef struct sb_params sb_params;

typedef enum sb_init_kind {
  SB_INIT_ZEROS = 0,
  SB_INIT_ONES = 1,
  SB_INIT_CONSTANT = 2,   /* a */
  SB_INIT_NORMAL = 3,     /* mean a, std b */
  SB_INIT_UNIFORM = 4,    /* U(a, b) */
  SB_INIT_TRUNC_NORMAL = 5, /* mean a, std b, cut at ±2 std */
} sb_init_kind;

typedef struct sb_init {
  sb_init_kind kind;
  double a, b;
} sb_init;

/* Declares and allocates a parameter, initialised by `init` from the store's
 * seeded generator (each parameter draws from a stream keyed by its full
 * name, so values do not depend on declaration order). `group` tags it for
 * recipes' `trainable:` lists ("dual" makes it part of "encoder.dual"); NULL
 * for none. Returns a borrowed handle that lives as long as the store. */
SB_API sb_tensor *sb_params_add(sb_params *p, const char *name, int ndim, const int64_t *shape,
                                sb_init init, const char *group);
/* A parameter of this scope by (unprefixed) name, or NULL. Borrowed. */
SB_API sb_tensor *sb_params_get(sb_params *p, const char *name);
/* The scope's prefix ("encoder."). */
SB_API const char *sb_params_prefix(const sb_params *p);

typedef enum sb_load_flags {
  SB_LOAD_STRICT = 0,          /* every declared parameter must be in the file(s) and
                                  every tensor in them must be declared */
  SB_LOAD_ALLOW_MISSING = 1,   /* declared but absent: keep the initial value */
  SB_LOAD_ALLOW_UNEXPECTED = 2,/* in the file but not declared: ignore */
} sb_load_flags;

/* Loads declared parameters from a .safetensors file, a sharded
 * model.safetensors.index.json, or a folder holding either. Tensor names in
 * the file are the scope's names with `file_prefix` in front (often ""). A
 * missing, unexpected or mis-shaped tensor is an error that names the tensor,
 * the file and the expected shape. Returns the number of tensors loaded. */
SB_API int sb_params_load(sb_params *p, const char *path, const char *file_prefix,
                          unsigned flags);

SB_END_DECLS
#endif
