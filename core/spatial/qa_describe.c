/* qa_describe.c — the names objects go by in a conversation: the given
 * description ("small red metal sphere" → "the small red metal sphere"),
 * else one by colour ("the red object", colour from the mean RGB under the
 * mask); descriptions that two objects share get an ordinal from the left
 * ("the leftmost chair", "the second chair from the left", "the rightmost
 * chair") so every object has its own. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qa_internal.h"

const char *qa_colour_name(const double rgb[3]) {
  double r = rgb[0] / 255, g = rgb[1] / 255, b = rgb[2] / 255;
  double mx = fmax(r, fmax(g, b)), mn = fmin(r, fmin(g, b)), d = mx - mn;
  double sat = mx > 0 ? d / mx : 0;
  if (mx < 0.18) return "black";
  if (sat < 0.22) return mx > 0.8 ? "white" : "grey";
  double h;
  if (mx == r) h = fmod(60 * (g - b) / d + 360, 360);
  else if (mx == g) h = 60 * (b - r) / d + 120;
  else h = 60 * (r - g) / d + 240;
  if (h < 15 || h >= 340) return mx < 0.45 ? "brown" : "red";
  if (h < 42) return mx < 0.6 ? "brown" : "orange";
  if (h < 70) return "yellow";
  if (h < 165) return "green";
  if (h < 200) return "cyan";
  if (h < 255) return "blue";
  if (h < 290) return "purple";
  return "pink";
}

static const sb_qa_desc *find_desc(const sb_qa_input *in, int id) {
  for (int i = 0; i < in->n_descs; i++)
    if (in->descs[i].id == id && in->descs[i].text && in->descs[i].text[0]) return &in->descs[i];
  return NULL;
}

/* The noun phrase without its article ("red sphere"), malloc'd. */
static char *bare(const char *text) {
  while (isspace((unsigned char)*text)) text++;
  static const char *const articles[] = {"the ", "a ", "an "};
  for (size_t i = 0; i < SB_ARRAY_LEN(articles); i++)
    if (strncasecmp(text, articles[i], strlen(articles[i])) == 0) {
      text += strlen(articles[i]);
      break;
    }
  char *s = sb_strdup(text);
  size_t n = s ? strlen(s) : 0;
  while (n > 0 && (isspace((unsigned char)s[n - 1]) || s[n - 1] == '.')) s[--n] = 0;
  return s;
}

static char *base_desc(const qa_scene *s, const qa_object *o) {
  const sb_qa_desc *d = find_desc(s->in, o->id);
  if (d) return bare(d->text);
  if (o->rgb[0] < 0) return sb_strdup("object");
  return sb_asprintf("%s object", qa_colour_name(o->rgb));
}

static double centre_x(const qa_object *o) { return 0.5 * (o->box.min[0] + o->box.max[0]); }

/* Indices of the objects whose bare description equals objs[first]'s,
 * ordered from left to right. */
static int same_desc(qa_scene *s, char **bares, int first, int *idx) {
  int n = 0;
  for (int i = 0; i < s->n_objs; i++)
    if (strcmp(bares[i], bares[first]) == 0) idx[n++] = i;
  for (int i = 1; i < n; i++) /* insertion sort by centre x */
    for (int j = i; j > 0 && centre_x(&s->objs[idx[j]]) < centre_x(&s->objs[idx[j - 1]]); j--) {
      int t = idx[j];
      idx[j] = idx[j - 1], idx[j - 1] = t;
    }
  return n;
}

/* "the leftmost X", "the middle X", "the third X from the left", ... */
static char *ordinal_desc(const char *bare_text, int k, int n) {
  static const char *const ord[] = {"first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
                                    "ninth", "tenth"};
  if (n == 1) return sb_asprintf("the %s", bare_text);
  if (k == 0) return sb_asprintf("the leftmost %s", bare_text);
  if (k == n - 1) return sb_asprintf("the rightmost %s", bare_text);
  if (n == 3) return sb_asprintf("the middle %s", bare_text);
  if (k < (int)SB_ARRAY_LEN(ord)) return sb_asprintf("the %s %s from the left", ord[k], bare_text);
  return sb_asprintf("the %s number %d from the left", bare_text, k + 1);
}

int qa_describe_objects(qa_scene *s) {
  int n = s->n_objs, rc = SB_OK;
  char **bares = sb_calloc((size_t)n, sizeof *bares);
  int *idx = sb_malloc((size_t)n * sizeof *idx);
  if (!bares || !idx) rc = SB_ERR_NOMEM;
  for (int i = 0; i < n && rc == SB_OK; i++)
    if (!(bares[i] = base_desc(s, &s->objs[i]))) rc = SB_ERR_NOMEM;
  for (int i = 0; i < n && rc == SB_OK; i++) {
    if (s->objs[i].desc) continue;
    int m = same_desc(s, bares, i, idx);
    for (int k = 0; k < m && rc == SB_OK; k++)
      if (!(s->objs[idx[k]].desc = ordinal_desc(bares[idx[k]], k, m))) rc = SB_ERR_NOMEM;
  }
  for (int i = 0; bares && i < n; i++) free(bares[i]);
  free(bares), free(idx);
  return rc;
}
