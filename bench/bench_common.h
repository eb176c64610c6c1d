/* bench_common.h — timing helpers shared by the benchmarks: a monotonic
 * clock, the median of repeated runs, and the OpenBLAS sgemm rate measured
 * in the same process (the reference every figure is divided by). */
#ifndef SB_BENCH_COMMON_H
#define SB_BENCH_COMMON_H

#include <cblas.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int bench_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median seconds of `runs` calls of fn(ctx) after `warmup` untimed ones. */
static inline double bench_median(void (*fn)(void *), void *ctx, int warmup, int runs) {
  double t[64];
  if (runs > 64) runs = 64;
  for (int i = 0; i < warmup; i++) fn(ctx);
  for (int i = 0; i < runs; i++) {
    double t0 = bench_now();
    fn(ctx);
    t[i] = bench_now() - t0;
  }
  qsort(t, (size_t)runs, sizeof t[0], bench_cmp);
  return t[runs / 2];
}

typedef struct bench_sgemm {
  float *a, *b, *c;
  int n;
} bench_sgemm;

static inline void bench_sgemm_run(void *p) {
  bench_sgemm *s = p;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s->n, s->n, s->n, 1.0f, s->a, s->n, s->b, s->n, 0.0f,
              s->c, s->n);
}

/* GFLOP/s of a 1024³ sgemm with every thread. */
static inline double bench_sgemm_rate(void) {
  bench_sgemm s = {malloc(4u << 20), malloc(4u << 20), malloc(4u << 20), 1024};
  for (int i = 0; i < 1 << 20; i++) s.a[i] = s.b[i] = 0.001f * (float)(i % 1000);
  double t = bench_median(bench_sgemm_run, &s, 1, 7);
  free(s.a), free(s.b), free(s.c);
  return 2.0 * 1024 * 1024 * 1024 / t / 1e9;
}

/* Peak resident set size of this process, in MB. */
static inline double bench_peak_rss_mb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / 1024.0;
}

#endif
