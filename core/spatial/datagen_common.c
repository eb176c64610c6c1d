/* datagen_common.c — option values, the generator's command-line options
 * and the atomic JSONL writer shared by datagen spatial and mvqa (see
 * datagen_common.h). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datagen_common.h"
#include "util.h"

int sb_dg_double(const char *opt, const char *v, double lo, double hi, double *out) {
  char *end;
  double x = strtod(v, &end);
  if (end == v || *end || !(x >= lo && x <= hi))
    return sb_error_set(SB_ERR_FORMAT, "%s '%s': expected a number from %g to %g", opt, v, lo, hi);
  *out = x;
  return SB_OK;
}

int sb_dg_long(const char *opt, const char *v, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (end == v || *end || errno || x < lo || x > hi)
    return sb_error_set(SB_ERR_FORMAT, "%s '%s': expected a whole number from %ld to %ld", opt, v, lo, hi);
  *out = x;
  return SB_OK;
}

int sb_dg_int(const char *opt, const char *v, int lo, int hi, int *out) {
  long x = 0;
  if (sb_dg_long(opt, v, lo, hi, &x)) return SB_ERR_FORMAT;
  *out = (int)x;
  return SB_OK;
}

int sb_dg_u64(const char *opt, const char *v, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long x = strtoull(v, &end, 10);
  if (end == v || *end || errno || v[0] == '-')
    return sb_error_set(SB_ERR_FORMAT, "%s '%s': expected a whole number 0 or more", opt, v);
  *out = x;
  return SB_OK;
}

/* "LO-HI" percentiles. */
static int parse_band(const char *v, double *lo, double *hi) {
  char *end;
  *lo = strtod(v, &end);
  if (end == v || *end != '-') return sb_error_set(SB_ERR_FORMAT, "--band '%s': expected LO-HI, e.g. 2-98", v);
  const char *p = end + 1;
  *hi = strtod(p, &end);
  if (end == p || *end || !(*lo >= 0 && *lo < *hi && *hi <= 100))
    return sb_error_set(SB_ERR_FORMAT, "--band '%s': expected LO-HI with 0 <= LO < HI <= 100", v);
  return SB_OK;
}

int sb_dg_qa_option(sb_qa_options *o, const char *opt, const char *v) {
  static const char *const turns[] = {"--pixel-turns", "--object-turns", "--scene-turns", "--caption-turns"};
  sb_qa_range *ranges[] = {&o->pixel_turns, &o->object_turns, &o->scene_turns, &o->caption_turns};
  for (int i = 0; i < 4; i++)
    if (strcmp(opt, turns[i]) == 0) return sb_qa_range_parse(v, ranges[i]) ? sb_error_prefix("%s", opt) : SB_OK;
  if (strcmp(opt, "--band") == 0) return parse_band(v, &o->pct_lo, &o->pct_hi);
  if (strcmp(opt, "--min-points") == 0) return sb_dg_int(opt, v, 1, INT_MAX, &o->min_points);
  if (strcmp(opt, "--max-objects") == 0) return sb_dg_int(opt, v, 0, 65535, &o->max_objects);
  if (strcmp(opt, "--margin") == 0) return sb_dg_double(opt, v, 0, 1e6, &o->margin_m);
  if (strcmp(opt, "--point-gap") == 0) return sb_dg_double(opt, v, 0, 1e6, &o->point_gap_m);
  return SB_ERR_NOT_FOUND;
}

/* ---- writer ---- */

static char *absolute(const char *path) {
  char *r = realpath(path, NULL);
  if (!r) sb_error_set(SB_ERR_IO, "%s: %s", path, strerror(errno));
  return r;
}

int sb_dg_writer_open(sb_dg_writer *w, const char *path, const char *image_root) {
  memset(w, 0, sizeof *w);
  char *dir = sb_path_dirname(path);
  if (!dir) return SB_ERR_NOMEM;
  w->image_root = absolute(image_root ? image_root : dir[0] ? dir : ".");
  free(dir);
  if (!w->image_root) return sb_error_prefix("image root");
  w->path = sb_strdup(path);
  w->tmp = sb_asprintf("%s.tmp.%d", path, (int)getpid());
  if (!w->path || !w->tmp) return SB_ERR_NOMEM;
  if (!(w->f = fopen(w->tmp, "wb"))) return sb_error_set(SB_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
  return SB_OK;
}

int sb_dg_write_line(sb_dg_writer *w, const char *line) {
  if (fputs(line, w->f) == EOF || fputc('\n', w->f) == EOF)
    return sb_error_set(SB_ERR_IO, "%s: cannot write: %s", w->path, strerror(errno));
  return SB_OK;
}

int sb_dg_writer_close(sb_dg_writer *w, int rc) {
  if (w->f && fclose(w->f) != 0 && rc == SB_OK) rc = sb_error_set(SB_ERR_IO, "%s: cannot write: %s", w->path, strerror(errno));
  if (w->tmp && rc == SB_OK && rename(w->tmp, w->path) != 0)
    rc = sb_error_set(SB_ERR_IO, "%s: cannot rename into place: %s", w->path, strerror(errno));
  if (w->tmp && rc != SB_OK) remove(w->tmp);
  free(w->path), free(w->tmp), free(w->image_root);
  memset(w, 0, sizeof *w);
  return rc;
}

char *sb_dg_image_path(const char *image, const char *root) {
  char *abs = absolute(image);
  if (!abs) return NULL;
  size_t n = strlen(root);
  if (strncmp(abs, root, n) == 0 && abs[n] == '/') {
    char *rel = sb_strdup(abs + n + 1);
    free(abs);
    return rel;
  }
  return abs;
}
