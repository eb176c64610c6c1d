/* llava_read.c — reading a LLaVA dataset file: a JSON array of records, or
 * JSONL (one record per line), told apart by the extension .jsonl or else by
 * the first character ('[' an array, '{' JSONL). Syntax errors name the file
 * and line:column (for JSONL the file's line, not the record's). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "llava.h"

char *llava_strndup(const char *s, size_t n) {
  char *c = malloc(n + 1);
  if (!c) {
    sb_error_set(SB_ERR_NOMEM, "dataset_llava: out of memory");
    return NULL;
  }
  memcpy(c, s, n);
  c[n] = 0;
  return c;
}

char *llava_strdup(const char *s) { return llava_strndup(s, strlen(s)); }

const char *llava_where_text(const llava_where *w, char *buf, size_t size) {
  if (w->line > 0) snprintf(buf, size, "%s:%ld", w->file, w->line);
  else snprintf(buf, size, "%s: record %zu", w->file, w->index);
  return buf;
}

/* The whole file, NUL-terminated. */
static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    sb_error_set(SB_ERR_IO, "%s: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n - 1, f);
    if (n < cap - 1) break;
    char *grown = realloc(buf, cap *= 2);
    if (!grown) free(buf);
    buf = grown;
  }
  bool bad = ferror(f);
  fclose(f);
  if (!buf) {
    sb_error_set(SB_ERR_NOMEM, "%s: out of memory reading the file", path);
    return NULL;
  }
  if (bad) {
    free(buf);
    sb_error_set(SB_ERR_IO, "%s: read error", path);
    return NULL;
  }
  buf[n] = 0;
  *len = n;
  return buf;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *type_words(sb_json_type t) {
  static const char *const words[] = {"null", "a boolean", "an integer", "a number",
                                      "a string", "a list", "an object"};
  return words[t];
}

static int read_array(const char *path, const char *text, llava_record_fn fn, void *ctx) {
  sb_json_doc *doc = sb_json_parse(text, path); /* errors: "path:line:col: not valid JSON: ..." */
  if (!doc) return sb_error_code();
  const sb_json *root = sb_json_root(doc);
  int rc = SB_OK;
  if (sb_json_typeof(root) != SB_JSON_ARRAY)
    rc = sb_error_set(SB_ERR_FORMAT, "%s: expected a list of records (LLaVA JSON) or one record per line "
                      "(JSONL), got %s", path, type_words(sb_json_typeof(root)));
  size_t n = sb_json_array_size(root);
  for (size_t i = 0; i < n && rc == SB_OK; i++) {
    llava_where w = {path, i, 0};
    rc = fn(ctx, sb_json_array_at(root, i), &w);
  }
  sb_json_free(doc);
  return rc == 1 ? SB_OK : rc;
}

/* Re-states a syntax error of one JSONL line ("path:1:COL: ...") with the
 * line's number in the file. */
static int line_syntax_error(const char *path, long line) {
  const char *msg = sb_error_message();
  size_t n = strlen(path);
  if (strncmp(msg, path, n) == 0 && strncmp(msg + n, ":1:", 3) == 0) {
    char *rest = llava_strdup(msg + n + 3);
    if (!rest) return SB_ERR_NOMEM;
    sb_error_set(SB_ERR_FORMAT, "%s:%ld:%s", path, line, rest);
    free(rest);
    return SB_ERR_FORMAT;
  }
  return sb_error_prefix("%s:%ld", path, line);
}

/* One non-blank line: parse it as one record and hand it over. */
static int read_line(const char *path, char *line, long lineno, size_t index, llava_record_fn fn, void *ctx) {
  sb_json_doc *doc = sb_json_parse(line, path);
  if (!doc) return line_syntax_error(path, lineno);
  llava_where w = {path, index, lineno};
  int rc = fn(ctx, sb_json_root(doc), &w);
  sb_json_free(doc);
  return rc;
}

static int read_lines(const char *path, char *text, llava_record_fn fn, void *ctx) {
  long lineno = 0;
  size_t index = 0;
  int rc = SB_OK;
  for (char *p = text; *p && rc == SB_OK;) {
    char *end = strchr(p, '\n');
    char *next = end ? end + 1 : p + strlen(p);
    if (end) *end = 0;
    lineno++;
    bool blank = true;
    for (char *q = p; *q && blank; q++) blank = is_space(*q);
    if (!blank) rc = read_line(path, p, lineno, index++, fn, ctx);
    p = next;
  }
  return rc == 1 ? SB_OK : rc;
}

int llava_read_file(const char *path, llava_record_fn fn, void *ctx) {
  size_t len;
  char *text = read_all(path, &len);
  if (!text) return sb_error_code();
  if (strlen(text) != len) {
    free(text);
    return sb_error_set(SB_ERR_FORMAT, "%s: not a text file (it holds a NUL byte)", path);
  }
  const char *first = text;
  while (is_space(*first)) first++;
  bool jsonl = ends_with(path, ".jsonl") || *first == '{';
  int rc = jsonl ? read_lines(path, text, fn, ctx) : read_array(path, text, fn, ctx);
  free(text);
  return rc;
}
