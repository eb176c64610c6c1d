/* check.h — the checks test programs share: CHECK records a failure with
 * its location and goes on; tests end with `return check_summary(name)`,
 * which exits non-zero when anything failed. */
#ifndef SB_TEST_CHECK_H
#define SB_TEST_CHECK_H

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int g_checks, g_failures;

#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    g_checks++;                                                            \
    if (!(cond)) {                                                         \
      g_failures++;                                                        \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);      \
      fprintf(stderr, __VA_ARGS__);                                        \
      fprintf(stderr, "\n");                                               \
    }                                                                      \
  } while (0)

/* The current error message contains `needle`. */
#define CHECK_ERROR(needle)                                                          \
  CHECK(strstr(sb_error_message(), (needle)) != NULL, "message \"%s\" lacks \"%s\"", \
        sb_error_message(), (needle))

static inline int check_summary(const char *name) {
  fprintf(stderr, "%s: %d checks, %d failed\n", name, g_checks, g_failures);
  return g_failures ? 1 : 0;
}

/* Largest |a - b| and whether every element is within atol + rtol·|b|. */
static inline bool close_enough(const float *a, const float *b, size_t n, double atol, double rtol,
                                double *max_err) {
  bool ok = true;
  *max_err = 0.0;
  for (size_t i = 0; i < n; i++) {
    double e = fabs((double)a[i] - (double)b[i]);
    if (e > *max_err || isnan(e)) *max_err = isnan(e) ? INFINITY : e;
    if (!(e <= atol + rtol * fabs((double)b[i]))) ok = false;
  }
  return ok;
}

#endif
