/* qa_text.c — the wording helpers of the conversation generator: numbers
 * (two decimals), cubes, distances in centimetres or metres, sentence-initial
 * capitals, and templates with {A}..{D} slots. The paraphrase lists live
 * with the questions that use them (qa_pixel.c, qa_object.c, qa_caption.c). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qa_internal.h"

double qa_round2(double v) { return (v < 0 ? -1 : 1) * floor(fabs(v) * 100.0 + 0.5 + 1e-9) / 100.0; }

char *qa_cap(const char *desc) {
  char *s = sb_strdup(desc);
  if (s && s[0]) s[0] = (char)toupper((unsigned char)s[0]);
  return s;
}

void qa_cube_text(const double cube[6], char *buf, size_t size) {
  snprintf(buf, size, "[%.2f, %.2f, %.2f, %.2f, %.2f, %.2f]", qa_round2(cube[0]), qa_round2(cube[1]),
           qa_round2(cube[2]), qa_round2(cube[3]), qa_round2(cube[4]), qa_round2(cube[5]));
}

void qa_distance_text(double metres, char *buf, size_t size) {
  long cm = lround(metres * 100.0);
  if (cm < 100) {
    if (cm < 1) cm = 1;
    snprintf(buf, size, "%ld centimeter%s", cm, cm == 1 ? "" : "s");
    return;
  }
  char num[32];
  sb_format_num(num, sizeof num, qa_round2(metres), 2);
  snprintf(buf, size, "%s meter%s", num, strcmp(num, "1") == 0 ? "" : "s");
}

void qa_depth_text(double metres, char *buf, size_t size) { snprintf(buf, size, "%.2f meters", qa_round2(metres)); }

char *qa_fill(const char *tmpl, const char *a, const char *b, const char *c, const char *d) {
  const char *vals[4] = {a, b, c, d};
  sb_strbuf out;
  sb_strbuf_init(&out);
  int rc = SB_OK;
  for (const char *p = tmpl; *p && rc == SB_OK;) {
    if (p[0] == '{' && p[1] >= 'A' && p[1] <= 'D' && p[2] == '}') {
      const char *v = vals[p[1] - 'A'];
      rc = sb_strbuf_append(&out, v ? v : "");
      p += 3;
    } else {
      rc = sb_strbuf_appendn(&out, p, 1);
      p++;
    }
  }
  if (rc == SB_OK && !out.data) rc = sb_strbuf_append(&out, "");
  if (rc) {
    sb_strbuf_free(&out);
    return NULL;
  }
  return sb_strbuf_take(&out);
}
