/* st_compare.c — a test tool: compares tensors of two .safetensors files.
 * usage: st_compare GOT WANT ATOL RTOL NAME...  (NAME may be GOT_NAME=WANT_NAME)
 *        st_compare --names FILE  (prints the tensor names, one per line)
 * Prints the largest error of each and exits 1 when one is out of
 * atol + rtol·|want| or missing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spatialboost/spatialboost.h"

static int compare(sb_safetensors *got, sb_safetensors *want, const char *spec, double atol, double rtol) {
  char a[256], b[256];
  snprintf(a, sizeof a, "%s", spec);
  char *eq = strchr(a, '=');
  snprintf(b, sizeof b, "%s", eq ? eq + 1 : a);
  if (eq) *eq = 0;
  const sb_st_tensor *tg = sb_safetensors_find(got, a), *tw = sb_safetensors_find(want, b);
  if (!tg || !tw) {
    printf("%-28s missing in %s\n", spec, tg ? "the reference" : "the output");
    return 1;
  }
  sb_tensor *g = sb_safetensors_load(got, a, tg->dtype), *w = sb_safetensors_load(want, b, tw->dtype);
  int64_t n = g && w ? sb_tensor_numel(g) : -1;
  if (n < 0 || n != sb_tensor_numel(w)) {
    printf("%-28s sizes differ\n", spec);
    return 1;
  }
  float *x = malloc(sizeof(float) * (size_t)(n ? n : 1)), *y = malloc(sizeof(float) * (size_t)(n ? n : 1));
  sb_tensor_to_host_f32(g, x, (size_t)n), sb_tensor_to_host_f32(w, y, (size_t)n);
  double worst = 0;
  int bad = 0;
  for (int64_t i = 0; i < n; i++) {
    double e = fabs((double)x[i] - y[i]);
    if (!(e <= atol + rtol * fabs(y[i]))) bad = 1;
    if (e > worst || isnan(e)) worst = isnan(e) ? INFINITY : e;
  }
  printf("%-28s max |error| %.3g%s\n", spec, worst, bad ? "  OUT OF TOLERANCE" : "");
  free(x), free(y);
  return bad;
}

static int list_names(const char *path) {
  sb_safetensors *f = sb_safetensors_open(path);
  if (!f) {
    fprintf(stderr, "st_compare: %s\n", sb_error_message());
    return 2;
  }
  for (size_t i = 0; i < sb_safetensors_count(f); i++) printf("%s\n", sb_safetensors_at(f, i)->name);
  sb_safetensors_close(f);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "--names")) return list_names(argv[2]);
  if (argc < 6) {
    fprintf(stderr, "usage: st_compare GOT WANT ATOL RTOL NAME...\n");
    return 2;
  }
  sb_safetensors *got = sb_safetensors_open(argv[1]), *want = sb_safetensors_open(argv[2]);
  if (!got || !want) {
    fprintf(stderr, "st_compare: %s\n", sb_error_message());
    return 2;
  }
  double atol = atof(argv[3]), rtol = atof(argv[4]);
  int bad = 0;
  sb_scope_begin();
  for (int i = 5; i < argc; i++) bad |= compare(got, want, argv[i], atol, rtol);
  sb_scope_end();
  return bad;
}
