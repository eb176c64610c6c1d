/* param_store.h — the core's store of parameters: every plugin's weights by
 * full name ("projector.0.weight"), with their group tags and whether they
 * train. Plugins see it through sb_params scopes (sdk params.h); the trainer,
 * optimizers and checkpoints use this interface. */
#ifndef SB_CORE_PARAM_STORE_H
#define SB_CORE_PARAM_STORE_H

#include "spatialboost/params.h"

typedef struct sb_param_store sb_param_store;

typedef struct sb_param {
  char *name;        /* full name: scope prefix + plugin name */
  const char *local; /* the name inside its scope (points into name) */
  char *group;       /* tag from sb_params_add, or NULL */
  sb_tensor *tensor; /* float32, owned by the store */
  bool trainable;
} sb_param;

sb_param_store *sb_param_store_new(uint64_t seed);
void sb_param_store_free(sb_param_store *s);
/* The scope for one component; prefix like "projector." (owned by the store). */
sb_params *sb_param_store_scope(sb_param_store *s, const char *prefix);
size_t sb_param_store_count(const sb_param_store *s);
sb_param *sb_param_store_at(const sb_param_store *s, size_t i);
sb_param *sb_param_store_find(const sb_param_store *s, const char *full_name);
/* Parameters of a scope, in declaration order. */
size_t sb_params_count(const sb_params *p);
sb_param *sb_params_at(const sb_params *p, size_t i);
/* Marks parameters trainable (requires_grad) when their full name matches
 * the pattern: "projector" (a whole component), "encoder.dual" (a group
 * inside a component), or a glob with '*' and '?' on the full name. Returns
 * how many matched. */
int64_t sb_param_store_set_trainable(sb_param_store *s, const char *pattern, bool trainable);
/* Number of values in all parameters / in trainable ones. */
int64_t sb_param_store_numel(const sb_param_store *s, bool trainable_only);
/* Glob match with '*' and '?'. */
bool sb_glob_match(const char *pattern, const char *s);

#endif
