/* llava.h — internal to dataset_llava. Records are read once, at create,
 * into plain C structures that stay read-only afterwards, so get() may run
 * on any number of loader threads (json.h handles are not thread-safe and
 * are never touched after create). */
#ifndef DATASET_LLAVA_H
#define DATASET_LLAVA_H

#include <stdio.h>

#include <spatialboost/spatialboost.h>

typedef struct llava_turn {
  sb_role role;
  char *text; /* with "<image>" markers, after LLaVA's placement rules */
} llava_turn;

typedef struct llava_record {
  char *id;
  llava_turn *turns;
  int n_turns;
  char **images; /* resolved paths, in order of their <image> markers */
  int n_images;
  char *meta;    /* the record's `meta` object as JSON text, or NULL */
} llava_record;

/* Where a record came from, for messages. */
typedef struct llava_where {
  const char *file;
  size_t index; /* 0-based position among the file's records */
  long line;    /* JSONL: 1-based line; 0 for a JSON array */
} llava_where;

/* Writes "file:LINE: " (JSONL) or "file: record N" into buf, for messages. */
const char *llava_where_text(const llava_where *w, char *buf, size_t size);

/* Reads one record (an object of the file) into out, applying LLaVA's rules:
 * roles, the leading non-human turn, alternation, <image> placement. Image
 * paths are resolved against image_dir ("" keeps them as written). */
int llava_record_parse(const sb_json *rec, const llava_where *w, const char *image_dir,
                       llava_record *out);
void llava_record_free(llava_record *r);

/* Calls fn for each record of a LLaVA JSON array or JSONL file (told apart
 * by the extension .jsonl or the first character). fn returns SB_OK to go
 * on, 1 to stop early, or an error. */
typedef int (*llava_record_fn)(void *ctx, const sb_json *rec, const llava_where *w);
int llava_read_file(const char *path, llava_record_fn fn, void *ctx);

/* A JSON value as compact JSON text (malloc'd), or NULL with an error;
 * `what` names the value in messages. */
char *llava_json_text(const sb_json *v, const char *what);

/* malloc'd copies; NULL after recording an out-of-memory error. */
char *llava_strdup(const char *s);
char *llava_strndup(const char *s, size_t n);

#endif
