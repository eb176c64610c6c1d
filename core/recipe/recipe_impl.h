/* recipe_impl.h — internals shared by the files of core/recipe: source
 * locations, the node tree, and the recipe and config-view structs.
 * Not part of any API; include recipe.h outside this folder. */
#ifndef SB_RECIPE_IMPL_H
#define SB_RECIPE_IMPL_H

#include "recipe.h"
#include "util.h"

/* Where a key or value was written. */
typedef enum sb_loc_kind {
  SB_LOC_FILE,    /* file:line:col */
  SB_LOC_CLI,     /* "<command line>:--set #col" */
  SB_LOC_DEFAULT, /* a schema default; file is the owner */
} sb_loc_kind;

typedef struct sb_loc {
  const char *file; /* interned in the recipe that holds the node */
  int line, col;    /* 1-based */
  sb_loc_kind kind;
} sb_loc;

typedef enum sb_node_kind { SB_NODE_SCALAR, SB_NODE_MAP, SB_NODE_LIST } sb_node_kind;

typedef enum sb_scalar_type {
  SB_SCALAR_NULL,
  SB_SCALAR_BOOL,
  SB_SCALAR_INT,
  SB_SCALAR_FLOAT,
  SB_SCALAR_STRING,
} sb_scalar_type;

typedef enum sb_interp_state { SB_INTERP_TODO, SB_INTERP_BUSY, SB_INTERP_DONE } sb_interp_state;

typedef struct sb_node sb_node;

/* One key of a mapping, or one item of a list (key NULL). */
typedef struct sb_entry {
  char *key;
  sb_loc kloc; /* the key's location (a list item: the item's) */
  sb_node *val;
} sb_entry;

struct sb_node {
  sb_node_kind kind;
  sb_loc loc;        /* the value's location */
  sb_node *parent;   /* NULL for a root */
  bool used;
  sb_interp_state interp;
  /* Scalars. */
  char *text;
  bool quoted;       /* quoted or block scalar: always a string */
  sb_scalar_type type;
  bool b;
  int64_t i;
  double f;
  const char *base_file; /* relative paths resolve against its folder; NULL: cwd */
  char *resolved_path;   /* cache of sb_config_get_path */
  /* Mappings and lists. */
  sb_entry *entries;
  size_t len, cap;
  sb_ptrvec missed;      /* keys looked up here but absent (for hints) */
  /* Caches owned by the node. */
  sb_config *view;       /* the unbound view of this mapping */
  char *kwhere;          /* "file:line:col" of the key holding this node */
};

struct sb_recipe {
  char *path;
  sb_node *root;
  sb_map files;        /* interned file names: name -> char * */
  sb_ptrvec views;     /* every sb_config made for this recipe */
  sb_ptrvec defaults;  /* parsed schema defaults (sb_node *) */
  sb_map default_of;   /* "%p" of an sb_option -> its parsed default */
  sb_config *root_view;
  bool pipeline;
  size_t n_stages;
  sb_recipe **stage_cache; /* stages loaded for ${stages.*} */
};

struct sb_config {
  sb_recipe *r;
  sb_node *node;      /* a mapping */
  char *path;         /* dotted path from the root ("" for the root) */
  sb_loc loc;         /* the key that holds the mapping */
  char *where;        /* cache of loc as text */
  bool bound;
  char *owner;
  const sb_option *schema;
  size_t n_schema;
  char *prefix;       /* this view's key prefix inside the schema ("" at the top) */
};

/* node.c — locations and errors. */
char *sb_loc_str(sb_loc loc);
int sb_loc_error(sb_loc loc, int code, const char *fmt, ...) SB_PRINTF(3, 4);
int sb_loc_compare(const sb_loc *a, const sb_loc *b);
const char *sb_recipe_intern(sb_recipe *r, const char *file);

/* node.c — the tree. */
sb_node *sb_node_new(sb_node_kind kind, sb_loc loc);
sb_node *sb_node_new_scalar(const char *text, size_t n, bool quoted, sb_loc loc);
void sb_node_free(sb_node *n);
/* Types a scalar from its text (quoted: a string). */
void sb_node_classify(sb_node *n);
/* The type of a plain (unquoted) scalar with this text. */
sb_scalar_type sb_text_type(const char *text);
/* Appends an entry to a mapping (key owned by the node from now on) or a
 * list (key NULL); sets val's parent. */
int sb_node_append(sb_node *n, char *key, sb_loc kloc, sb_node *val);
sb_entry *sb_node_find(const sb_node *map, const char *key);
void sb_node_remove(sb_node *map, const char *key);
/* The entry for one path segment: a key of a mapping or an index of a list. */
sb_entry *sb_node_child(const sb_node *n, const char *seg);
/* Deep copy; file names are interned into dst; marks and caches are not copied. */
sb_node *sb_node_copy(const sb_node *n, sb_recipe *dst);
/* Moves src's content into dst (dst keeps its parent and location); frees src. */
void sb_node_take(sb_node *dst, sb_node *src);
/* Deep merge of over into base (both mappings); consumes over. */
void sb_node_merge(sb_node *base, sb_node *over);
/* Marks n and its parents; _tree also everything under n. */
void sb_node_mark(sb_node *n);
void sb_node_mark_tree(sb_node *n);
/* The dotted path of n from its root (caller frees). */
char *sb_node_path(const sb_node *n);
/* "\"text\"", "a mapping", "a list", "null" (caller frees). */
char *sb_node_describe(const sb_node *n);
/* a.b (or b when a is empty); caller frees. */
char *sb_key_join(const char *a, const char *b);
/* Whether b is close enough to a to suggest it. */
bool sb_key_is_close(const char *typed, const char *known);

/* yaml_load.c */
/* Parses a recipe file; its top level must be a mapping. `from` names who
 * asked for it ("included from a.yaml:3:10"), NULL for none. */
sb_node *sb_yaml_load_file(sb_recipe *r, const char *path, const char *from);
/* Parses YAML text; every node gets location `loc` (errors start with it). */
sb_node *sb_yaml_load_text(sb_recipe *r, const char *text, sb_loc loc);

/* recipe.c */
sb_recipe *sb_recipe_new(const char *path);
/* name, relative to the folder of file (NULL: the cwd), without "." and
 * "dir/.." (caller frees). */
char *sb_recipe_file_near(const char *file, const char *name);
/* Loads path and its include chain into a tree. */
sb_node *sb_recipe_load_tree(sb_recipe *r, const char *path, const char *from);
/* Sets dotted key to val (consumed) under root, creating mappings on the way;
 * merge_maps: a mapping merges into an existing mapping instead of replacing. */
int sb_recipe_set(sb_recipe *r, const char *key, sb_node *val, sb_loc kloc, bool merge_maps);

/* pipeline.c */
/* Detects and checks `stages:`; marks it read. */
int sb_pipeline_init(sb_recipe *r);
/* Routes "--set stages.<name>.<key>=..." into the stage's set: (consumes val);
 * returns 1 when the key is not of that form. */
int sb_pipeline_set(sb_recipe *r, const char *key, sb_node *val, sb_loc kloc);
/* Stage j, loaded once and kept by the pipeline (for ${stages.*}). */
const sb_recipe *sb_pipeline_stage_cached(const sb_recipe *p, size_t j);
/* The index of the stage called name, or SIZE_MAX. */
size_t sb_pipeline_stage_index(const sb_recipe *p, const char *name);

/* interp.c — resolves every ${...} of r; pipeline: the pipeline r is stage
 * `stage` of (NULL for a plain recipe). */
int sb_interp_resolve(sb_recipe *r, const sb_recipe *pipeline, size_t stage);

/* config.c */
sb_config *sb_config_new_view(sb_recipe *r, sb_node *node, const char *path, sb_loc loc);

/* schema.c */
typedef enum sb_schema_match {
  SB_SCHEMA_NONE,   /* not declared */
  SB_SCHEMA_OPTION, /* declared: *opt */
  SB_SCHEMA_PREFIX, /* a mapping holding declared options ("a" of "a.b") */
  SB_SCHEMA_INSIDE, /* inside an option of type MAP or LIST: *opt */
} sb_schema_match;
sb_schema_match sb_schema_find(const sb_config *c, const char *key, const sb_option **opt);
/* The parsed default of opt (kept by the recipe); NULL + error when bad. */
sb_node *sb_schema_default(const sb_config *c, const sb_option *opt);
/* "an integer", "true or false", ... */
const char *sb_option_expected(sb_option_type type);
bool sb_option_accepts(const sb_option *opt, const sb_node *n);

#endif
