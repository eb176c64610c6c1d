/* error.c — the thread-local error message (sdk error.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "spatialboost/error.h"

#define SB_ERROR_MAX 4096

static _Thread_local char g_msg[SB_ERROR_MAX];
static _Thread_local int g_code;

int sb_error_set(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_msg, sizeof g_msg, fmt, ap);
  va_end(ap);
  g_code = code ? code : SB_ERR;
  return g_code;
}

int sb_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_msg, sizeof g_msg, fmt, ap);
  va_end(ap);
  g_code = SB_ERR;
  return g_code;
}

int sb_error_prefix(const char *fmt, ...) {
  char prefix[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  /* Shift the old message right and write "<prefix>: " in front of it. */
  size_t lp = strlen(prefix), lo = strlen(g_msg), sep = lo ? 2 : 0;
  if (lp + sep >= SB_ERROR_MAX) lp = SB_ERROR_MAX - 1 - sep;
  if (lp + sep + lo >= SB_ERROR_MAX) lo = SB_ERROR_MAX - 1 - lp - sep;
  memmove(g_msg + lp + sep, g_msg, lo);
  memcpy(g_msg, prefix, lp);
  if (sep) memcpy(g_msg + lp, ": ", 2);
  g_msg[lp + sep + lo] = 0;
  if (!g_code) g_code = SB_ERR;
  return g_code;
}

const char *sb_error_message(void) { return g_msg; }
int sb_error_code(void) { return g_code; }

void sb_error_clear(void) {
  g_msg[0] = 0;
  g_code = SB_OK;
}
