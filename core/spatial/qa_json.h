/* qa_json.h — a small JSON writer for the generator's output: LLaVA records
 * and their `meta`. Keys come out in the order written and numbers with a
 * fixed number of decimals (trailing zeros dropped), so the same data gives
 * byte-identical text. Errors stick: once an allocation fails every call is
 * a no-op and sb_jw_finish returns NULL. */
#ifndef SB_CORE_QA_JSON_H
#define SB_CORE_QA_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

#define SB_JW_MAX_DEPTH 32

typedef struct sb_jw {
  sb_strbuf b;
  int depth, rc;
  bool first[SB_JW_MAX_DEPTH]; /* no member written yet at this level */
  char close[SB_JW_MAX_DEPTH]; /* '}' or ']' for each open level */
  bool after_key;
} sb_jw;

void sb_jw_init(sb_jw *w);
void sb_jw_object(sb_jw *w);
void sb_jw_array(sb_jw *w);
void sb_jw_end(sb_jw *w); /* closes the innermost object or array */
void sb_jw_key(sb_jw *w, const char *key);
void sb_jw_string(sb_jw *w, const char *s);
void sb_jw_int(sb_jw *w, int64_t v);
/* v with at most `decimals` decimals; NaN and infinities as null. */
void sb_jw_num(sb_jw *w, double v, int decimals);
void sb_jw_nums(sb_jw *w, const double *v, int n, int decimals); /* an array */
void sb_jw_bool(sb_jw *w, bool v);
/* A value that is already JSON text (e.g. an array written by another writer). */
void sb_jw_raw(sb_jw *w, const char *json);
/* The text (malloc'd) or NULL after a failure; the writer is reset. */
char *sb_jw_finish(sb_jw *w);
void sb_jw_free(sb_jw *w);

/* v as text with at most `decimals` decimals, trailing zeros and a lone
 * "." dropped, "-0" written as "0". */
void sb_format_num(char *buf, size_t size, double v, int decimals);

#endif
