/* qa_json.c — the JSON writer of the spatial generator (see qa_json.h). */
#include "qa_json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void sb_jw_init(sb_jw *w) {
  memset(w, 0, sizeof *w);
  sb_strbuf_init(&w->b);
  w->first[0] = true;
}

static void put(sb_jw *w, const char *s) {
  if (w->rc == SB_OK) w->rc = sb_strbuf_append(&w->b, s);
}

/* The comma before a value or key, unless it is the first or follows a key. */
static void separate(sb_jw *w) {
  if (w->after_key) {
    w->after_key = false;
    return;
  }
  if (!w->first[w->depth]) put(w, ",");
  w->first[w->depth] = false;
}

static void jw_open(sb_jw *w, const char *bracket) {
  separate(w);
  put(w, bracket);
  if (w->depth + 1 >= SB_JW_MAX_DEPTH) {
    if (w->rc == SB_OK) w->rc = sb_error("JSON writer: nested too deeply");
    return;
  }
  w->first[++w->depth] = true;
  w->close[w->depth] = bracket[0] == '{' ? '}' : ']';
}

void sb_jw_object(sb_jw *w) { jw_open(w, "{"); }
void sb_jw_array(sb_jw *w) { jw_open(w, "["); }

void sb_jw_end(sb_jw *w) {
  if (w->depth <= 0) {
    if (w->rc == SB_OK) w->rc = sb_error("JSON writer: end without an open object or array");
    return;
  }
  char s[2] = {w->close[w->depth--], 0};
  put(w, s);
}

static void put_string(sb_jw *w, const char *s) {
  put(w, "\"");
  for (const unsigned char *p = (const unsigned char *)s; *p && w->rc == SB_OK; p++) {
    char esc[8];
    if (*p == '"' || *p == '\\') snprintf(esc, sizeof esc, "\\%c", *p);
    else if (*p == '\n') strcpy(esc, "\\n");
    else if (*p == '\t') strcpy(esc, "\\t");
    else if (*p == '\r') strcpy(esc, "\\r");
    else if (*p < 0x20) snprintf(esc, sizeof esc, "\\u%04x", *p);
    else esc[0] = (char)*p, esc[1] = 0;
    put(w, esc);
  }
  put(w, "\"");
}

void sb_jw_key(sb_jw *w, const char *key) {
  separate(w);
  put_string(w, key);
  put(w, ":");
  w->after_key = true;
}

void sb_jw_string(sb_jw *w, const char *s) {
  separate(w);
  put_string(w, s);
}

void sb_jw_int(sb_jw *w, int64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%lld", (long long)v);
  separate(w);
  put(w, buf);
}

void sb_format_num(char *buf, size_t size, double v, int decimals) {
  snprintf(buf, size, "%.*f", decimals, v);
  if (strchr(buf, '.')) {
    size_t n = strlen(buf);
    while (n > 0 && buf[n - 1] == '0') buf[--n] = 0;
    if (n > 0 && buf[n - 1] == '.') buf[--n] = 0;
  }
  if (strcmp(buf, "-0") == 0) strcpy(buf, "0");
}

void sb_jw_num(sb_jw *w, double v, int decimals) {
  char buf[64];
  if (isfinite(v)) sb_format_num(buf, sizeof buf, v, decimals);
  else strcpy(buf, "null");
  separate(w);
  put(w, buf);
}

void sb_jw_nums(sb_jw *w, const double *v, int n, int decimals) {
  sb_jw_array(w);
  for (int i = 0; i < n; i++) sb_jw_num(w, v[i], decimals);
  sb_jw_end(w);
}

void sb_jw_bool(sb_jw *w, bool v) {
  separate(w);
  put(w, v ? "true" : "false");
}

void sb_jw_raw(sb_jw *w, const char *json) {
  separate(w);
  put(w, json);
}

char *sb_jw_finish(sb_jw *w) {
  char *s = w->rc == SB_OK ? sb_strbuf_take(&w->b) : NULL;
  sb_jw_free(w);
  return s;
}

void sb_jw_free(sb_jw *w) {
  sb_strbuf_free(&w->b);
  sb_jw_init(w);
}
