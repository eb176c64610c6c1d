/* recipe.h — recipes: YAML files that configure a run, and the read-only
 * config handles (sdk config.h) that the core and the plugins read them with.
 * Internal to the core; RECIPES.md is the user-facing description.
 *
 * Format, in short:
 *   - A recipe is one YAML document whose top level is a mapping. Keys are
 *     strings; a key twice in one mapping is an error. Anchors, aliases and
 *     tags (other than !!str) are rejected: use include: and ${...} instead.
 *   - include: base.yaml (or a list) at the top level: paths relative to the
 *     including file. The included files are merged in order, then the
 *     including file on top: mappings merge deeply, scalars and lists replace.
 *     Include cycles are errors naming the chain.
 *   - Overrides "a.b.c=value" (--set) apply after the merge. The path is
 *     created when absent; the value is YAML when it starts with [ { " or ',
 *     else a plain scalar taken verbatim. A mapping value replaces.
 *   - Scalar types follow the YAML 1.2 core schema, with decimal ints only:
 *     true/True/TRUE/false/False/FALSE are bools (not yes/no/on/off);
 *     null/Null/NULL/~/empty are null (read as "" by get_string/get_path);
 *     [-+]?[0-9]+ fitting int64 is an int; 1.5, 1e-3, .5, .inf, -.inf, .nan
 *     are floats; anything else, and any quoted or block (|, >) scalar, is a
 *     string.
 *   - Interpolation: "${a.b.c}" in a string value is replaced by the value of
 *     key a.b.c of the same recipe (after include and overrides; numeric
 *     segments index lists). It is resolved once, at load, recursively, with
 *     cycle detection. A value that is exactly one ${ref} takes the type of
 *     what it refers to (a mapping or list is copied); text around a
 *     reference makes a string that is typed again by the rules above unless
 *     it was quoted. "$${" is a literal "${". Referenced keys count as read.
 *   - Pipelines: a recipe whose top level has `stages:` (a list) is a
 *     pipeline. Each stage is {name: <id>, recipe: <file relative to the
 *     pipeline file>, set: {<dotted key>: <value>, ...}}. Loading stage i
 *     loads its recipe, applies `set` like --set (except that a mapping value
 *     merges into an existing mapping) and resolves ${stages.<name>.<key>}
 *     (a key of an earlier stage, after its own `set`) and ${pipeline.<key>}
 *     (a key of the pipeline's root). --set stages.<name>.<key>=v on a
 *     pipeline adds to that stage's `set`. The other top-level keys of a
 *     pipeline (name, output_dir, seed, ...) must be read by someone or be
 *     referenced by a stage; run sb_recipe_check_unused on the pipeline after
 *     loading its stages.
 *   - Every getter marks what it read; sb_recipe_check_unused reports every
 *     key nobody read with file:line:col and its dotted path.
 *
 * Errors are recorded with sb_error (error.h) and look like
 *   recipes/x.yaml:12:18: model.encoder.select_layer: expected an integer, got "abc"
 * Values from --set are located as "<command line>:--set #k". */
#ifndef SB_RECIPE_H
#define SB_RECIPE_H

#include "spatialboost/config.h"
#include "spatialboost/plugin.h"

typedef struct sb_recipe sb_recipe;

/* Loads path with its include: chain and applies overrides "a.b.c=value"
 * (value parsed as YAML: scalars, [lists], {maps}). NULL + sb_error on failure. */
sb_recipe *sb_recipe_load(const char *path, const char *const *overrides, size_t n_overrides);
/* A recipe made of overrides alone, on an empty top level (for commands
 * that take their options on the command line); `name` appears in
 * messages as the recipe's path. */
sb_recipe *sb_recipe_from_overrides(const char *name, const char *const *overrides, size_t n_overrides);
void sb_recipe_free(sb_recipe *r);
/* The path the recipe was loaded from. */
const char *sb_recipe_path(const sb_recipe *r);
/* The top-level mapping (an unbound view: any key may be read). */
const sb_config *sb_recipe_root(const sb_recipe *r);

/* A view of mapping c bound to an owner's option schema (a plugin's, or one
 * of the core's own tables): getters on the view fall back to schema defaults
 * when the key is absent, a key with NULL default is required, a value of the
 * wrong type is an error, and reading a key the schema does not declare is an
 * error (a plugin bug). A dotted option "a.b" makes "a" a nested mapping
 * whose view (sb_config_get_map) stays bound; inside an option of type
 * SB_OPTION_MAP or SB_OPTION_LIST anything may be read. The schema is not
 * copied and must outlive the view; the view lives as long as the recipe. */
const sb_config *sb_config_bind(const sb_config *c, const char *owner, const sb_option *schema,
                                size_t n);
/* Checks every key present in c against the schema: unknown keys (with a
 * "did you mean 'x'?" hint when one is close), wrong types, bad enum values.
 * All problems are reported in one message, one per line. Marks nothing. */
int sb_config_validate(const sb_config *c, const char *owner, const sb_option *schema, size_t n);
/* Marks a key (and everything under it) as read without reading it, e.g.
 * the core consumed `plugin:`. key NULL marks the whole mapping c. */
void sb_config_mark_used(const sb_config *c, const char *key);
/* After setup: an error listing every key nobody read, one per line, sorted
 * by file then line: "file:line:col: unknown key 'a.b' (not read by anything)".
 * A mapping none of whose keys was read is reported once, as a whole.
 * Returns SB_OK when every key was read. */
int sb_recipe_check_unused(const sb_recipe *r);
/* The merged, overridden, interpolated recipe as YAML text (caller frees);
 * loading it again gives the same values. NULL on failure. */
char *sb_recipe_to_yaml(const sb_recipe *r);

/* Pipelines. */
bool sb_recipe_is_pipeline(const sb_recipe *r);
/* 0 for a recipe that is not a pipeline. */
size_t sb_recipe_stage_count(const sb_recipe *r);
/* NULL when i is out of range. */
const char *sb_recipe_stage_name(const sb_recipe *r, size_t i);
/* Loads stage i as a recipe of its own (caller frees; it does not borrow r).
 * NULL + sb_error on failure. */
sb_recipe *sb_recipe_stage(const sb_recipe *r, size_t i);

#endif
