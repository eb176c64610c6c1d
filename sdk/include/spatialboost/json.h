/* spatialboost/json.h — reading JSON files (config.json,
 * preprocessor_config.json, datasets) for plugins, with errors that name the
 * file and the key. A document is loaded once; values are read through
 * borrowed handles that live as long as it. */
#ifndef SPATIALBOOST_JSON_H
#define SPATIALBOOST_JSON_H

#include "defs.h"

SB_BEGIN_DECLS

typedef struct sb_json_doc sb_json_doc;
typedef struct sb_json sb_json; /* a value inside a document (borrowed) */

typedef enum sb_json_type {
  SB_JSON_NULL = 0,
  SB_JSON_BOOL = 1,
  SB_JSON_INT = 2,
  SB_JSON_FLOAT = 3,
  SB_JSON_STRING = 4,
  SB_JSON_ARRAY = 5,
  SB_JSON_OBJECT = 6,
} sb_json_type;

/* Parses a file (or, for _text, a string named `name` in messages). A syntax
 * error names the file, line and column. */
SB_API sb_json_doc *sb_json_load(const char *path);
SB_API sb_json_doc *sb_json_parse(const char *text, const char *name);
SB_API void sb_json_free(sb_json_doc *doc);
SB_API const sb_json *sb_json_root(const sb_json_doc *doc);
/* The file name the value came from (for messages). */
SB_API const char *sb_json_source(const sb_json *v);

SB_API sb_json_type sb_json_typeof(const sb_json *v);
/* A member of an object, or NULL (no message) when absent or v is not an
 * object. Keys may be dotted paths ("vision_config.hidden_size"). */
SB_API const sb_json *sb_json_get(const sb_json *obj, const char *key);
/* Typed members with a default for an absent key (or a JSON null). A present
 * value of another type is an error: "<file>: 'key': expected an integer,
 * got a string". Integers are accepted where floats are expected. */
SB_API int sb_json_get_int(const sb_json *obj, const char *key, int64_t def, int64_t *out);
SB_API int sb_json_get_float(const sb_json *obj, const char *key, double def, double *out);
SB_API int sb_json_get_bool(const sb_json *obj, const char *key, bool def, bool *out);
/* The string is owned by the document. */
SB_API int sb_json_get_string(const sb_json *obj, const char *key, const char *def, const char **out);
/* A required member: absent is an error naming the file and key. */
SB_API const sb_json *sb_json_require(const sb_json *obj, const char *key, sb_json_type type);

/* Values themselves. */
SB_API int sb_json_int(const sb_json *v, int64_t *out);
SB_API int sb_json_float(const sb_json *v, double *out);
SB_API const char *sb_json_string(const sb_json *v); /* NULL when not a string */
SB_API int sb_json_bool(const sb_json *v, bool *out);
/* The value as compact JSON text (malloc'd; caller frees). */
SB_API char *sb_json_dump(const sb_json *v);
SB_API size_t sb_json_array_size(const sb_json *v);   /* 0 when not an array */
SB_API const sb_json *sb_json_array_at(const sb_json *v, size_t i);
/* Object members in file order. */
SB_API size_t sb_json_object_size(const sb_json *v);
SB_API const char *sb_json_object_key(const sb_json *v, size_t i);
SB_API const sb_json *sb_json_object_value(const sb_json *v, size_t i);
/* Reads an array of n numbers into out (error unless it has exactly n). */
SB_API int sb_json_get_floats(const sb_json *obj, const char *key, double *out, size_t n);

SB_END_DECLS
#endif
