/* util.h — small internal helpers shared by the core: checked allocation,
 * strings, paths, a string-keyed hash map, a growable array, and a seeded
 * random generator. Not part of the sdk. */
#ifndef SB_CORE_UTIL_H
#define SB_CORE_UTIL_H

#include <stdarg.h>
#include <stdio.h>

#include "spatialboost/error.h"

/* Allocation that records an error message on failure (returns NULL). */
void *sb_malloc(size_t n);
void *sb_calloc(size_t count, size_t size);
void *sb_realloc(void *p, size_t n);
char *sb_strdup(const char *s);
char *sb_strndup(const char *s, size_t n);
char *sb_asprintf(const char *fmt, ...) SB_PRINTF(1, 2);
char *sb_vasprintf(const char *fmt, va_list ap);
bool sb_str_starts_with(const char *s, const char *prefix);
bool sb_str_ends_with(const char *s, const char *suffix);
/* Edit distance, for "did you mean" hints (capped at 64 characters). */
int sb_str_distance(const char *a, const char *b);

/* A growable string. */
typedef struct sb_strbuf {
  char *data;
  size_t len, cap;
} sb_strbuf;
void sb_strbuf_init(sb_strbuf *b);
void sb_strbuf_free(sb_strbuf *b);
int sb_strbuf_append(sb_strbuf *b, const char *s);
int sb_strbuf_appendn(sb_strbuf *b, const char *s, size_t n);
int sb_strbuf_printf(sb_strbuf *b, const char *fmt, ...) SB_PRINTF(2, 3);
/* Takes the buffer (caller frees); b becomes empty. */
char *sb_strbuf_take(sb_strbuf *b);

/* Paths. Returned strings are malloc'd. */
char *sb_path_join(const char *dir, const char *name);
char *sb_path_dirname(const char *path);
const char *sb_path_basename(const char *path);
bool sb_path_is_absolute(const char *path);
/* path made absolute against the working directory (not normalized). */
char *sb_path_absolute(const char *path);
bool sb_path_exists(const char *path);
bool sb_path_is_dir(const char *path);
/* Removes a file or a folder with everything in it (absent: fine). */
int sb_path_remove_tree(const char *path);
/* Creates a folder and its parents (existing: fine). */
int sb_path_mkdirs(const char *path);
/* Reads a whole file (NUL-terminated; *len without the NUL). */
char *sb_file_read(const char *path, size_t *len);

/* String-keyed hash map (open addressing). Keys are copied. */
typedef struct sb_map {
  char **keys;
  void **vals;
  size_t cap, count;
} sb_map;
void sb_map_init(sb_map *m);
void sb_map_free(sb_map *m);
int sb_map_set(sb_map *m, const char *key, void *val);
void *sb_map_get(const sb_map *m, const char *key);
bool sb_map_has(const sb_map *m, const char *key);
uint64_t sb_hash_str(const char *s);

/* Growable array of pointers. */
typedef struct sb_ptrvec {
  void **items;
  size_t len, cap;
} sb_ptrvec;
int sb_ptrvec_push(sb_ptrvec *v, void *p);
void sb_ptrvec_free(sb_ptrvec *v);

/* Seeded generator (splitmix64 seeding xoshiro256**). */
typedef struct sb_rng {
  uint64_t s[4];
} sb_rng;
void sb_rng_seed(sb_rng *r, uint64_t seed);
/* A stream keyed by a name: the same (seed, name) gives the same values. */
void sb_rng_seed_named(sb_rng *r, uint64_t seed, const char *name);
uint64_t sb_rng_u64(sb_rng *r);
double sb_rng_uniform(sb_rng *r); /* [0, 1) */
double sb_rng_normal(sb_rng *r);  /* standard normal */

#define SB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SB_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SB_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
