/* spatialboost/config.h — read-only options handed to a plugin.
 *
 * A config is one mapping of a recipe (YAML), e.g. the `model.encoder:` block.
 * Keys are read with typed getters; each read marks the key as used. After
 * plugins are created the core reports every key nobody read as an error with
 * its file:line:column, so a typo never passes silently.
 *
 * Keys may be dotted paths into nested mappings ("dual_attention.mix").
 * When the key is absent a plugin's getter falls back to the default declared
 * in its option schema (plugin.h); a key with no default is required.
 * Getters return SB_OK, or an error whose message names the file, line,
 * column and full key path (and the expected type). */
#ifndef SPATIALBOOST_CONFIG_H
#define SPATIALBOOST_CONFIG_H

#include "defs.h"

SB_BEGIN_DECLS

typedef struct sb_config sb_config;

SB_API bool sb_config_has(const sb_config *c, const char *key);
SB_API int sb_config_get_bool(const sb_config *c, const char *key, bool *out);
SB_API int sb_config_get_int(const sb_config *c, const char *key, int64_t *out);
SB_API int sb_config_get_float(const sb_config *c, const char *key, double *out);
/* The string is owned by the config and lives as long as it. */
SB_API int sb_config_get_string(const sb_config *c, const char *key, const char **out);
/* A path, resolved against the folder of the file that set it ("" stays ""). */
SB_API int sb_config_get_path(const sb_config *c, const char *key, const char **out);
/* One of `choices` (NULL-terminated); *out is its index. */
SB_API int sb_config_get_enum(const sb_config *c, const char *key, const char *const *choices,
                              int *out);
/* A nested mapping (NULL when absent or not a mapping; sb_config_has tells). */
SB_API const sb_config *sb_config_get_map(const sb_config *c, const char *key);
/* A list: its length, and item i as a string, number or mapping. */
SB_API int sb_config_list_length(const sb_config *c, const char *key, size_t *out);
SB_API int sb_config_list_string(const sb_config *c, const char *key, size_t i, const char **out);
SB_API int sb_config_list_float(const sb_config *c, const char *key, size_t i, double *out);
SB_API const sb_config *sb_config_list_map(const sb_config *c, const char *key, size_t i);
/* "file:line:column" of a key (or of the mapping itself for key NULL). */
SB_API const char *sb_config_where(const sb_config *c, const char *key);
/* The dotted path of this mapping from the recipe's root ("model.encoder"). */
SB_API const char *sb_config_path(const sb_config *c);
/* Records an error about key (a value the plugin cannot use) with its
 * location: "file:line:col: model.encoder.mix: <message>". Returns SB_ERR. */
SB_API int sb_config_error(const sb_config *c, const char *key, const char *fmt, ...) SB_PRINTF(3, 4);

SB_END_DECLS
#endif
