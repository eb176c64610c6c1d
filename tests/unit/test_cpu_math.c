/* test_cpu_math.c — the cpu kernels' vectorisable exp (cpu_math.h) against
 * the C library's double exp: every float in [-87.33, 88] at a fine step
 * and every float exponent, plus the edges (underflow, -inf, NaN). */
#include <math.h>
#include <stdint.h>

#include "../common/check.h"
#include "cpu_math.h"

/* Relative error of sb_cpu_expf(x) against exp(x) in double. */
static double rel_err(float x) {
  const double want = exp((double)x);
  return fabs((double)sb_cpu_expf(x) - want) / want;
}

int main(void) {
  /* Bound: 1.5e-7, a little over one unit in the last place of a float
   * (2^-23 = 1.19e-7 relative at worst); the polynomial itself is within
   * 1e-7 on |r| <= ln2/2 and the rounding of r adds the rest. */
  const double bound = 1.5e-7;
  double worst = 0.0;
  float worst_x = 0.0f;
  for (int64_t i = 0; i <= 1753365; i++) { /* -87.3365 .. 88, step 1e-4 */
    const float x = -87.3365f + 1e-4f * (float)i;
    const double e = rel_err(x);
    if (e > worst) worst = e, worst_x = x;
  }
  for (int s = -1; s <= 1; s += 2) /* small and large magnitudes: 2^-30 .. 2^6 */
    for (int k = -30; k <= 6; k++) {
      const float x = (float)s * ldexpf(1.37f, k);
      if (x < -87.3f || x > 88.0f) continue;
      const double e = rel_err(x);
      if (e > worst) worst = e, worst_x = x;
    }
  printf("sb_cpu_expf: worst relative error %.3g at x = %.7g (bound %.3g)\n", worst, (double)worst_x, bound);
  CHECK(worst <= bound, "relative error %.3g at %.9g", worst, (double)worst_x);
  CHECK(sb_cpu_expf(0.0f) == 1.0f, "exp(0) = %.9g", (double)sb_cpu_expf(0.0f));
  CHECK(sb_cpu_expf(-INFINITY) == 0.0f, "exp(-inf) = %g", (double)sb_cpu_expf(-INFINITY));
  CHECK(sb_cpu_expf(-100.0f) == 0.0f, "exp(-100) = %g (below the normal range: 0)", (double)sb_cpu_expf(-100.0f));
  CHECK(isnan(sb_cpu_expf(NAN)), "exp(NaN) = %g", (double)sb_cpu_expf(NAN));
  CHECK(isfinite(sb_cpu_expf(1000.0f)) && sb_cpu_expf(1000.0f) >= sb_cpu_expf(88.0f), "large arguments saturate");
  return check_summary("cpu-math");
}
