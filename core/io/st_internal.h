/* st_internal.h — what the core (not plugins) may do with safetensors files:
 * give a tensor the file's values in place. */
#ifndef SB_CORE_ST_INTERNAL_H
#define SB_CORE_ST_INTERNAL_H

#include "spatialboost/safetensors.h"

/* Makes dst (a float32 tensor on the cpu of t's size) use t's values in the
 * file's private mapping instead of its own memory: nothing is copied, the
 * mapping stays alive as long as dst's storage, and writes to dst never
 * reach the file. False (dst untouched) when that cannot be done: another
 * dtype or backend, or unaligned data. */
bool sb_safetensors_alias(const sb_safetensors *f, const sb_st_tensor *t, sb_tensor *dst);
/* The file of a set that holds `name`, or NULL. */
const sb_safetensors *sb_st_set_file_of(const sb_st_set *s, const char *name);

#endif
