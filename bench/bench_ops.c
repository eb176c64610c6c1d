/* bench_ops.c — speed of the core's hot ops on the cpu backend, on the
 * shapes of a Qwen2-0.5B-sized layer with one image and 256 text tokens
 * (452 tokens): each figure is the median of several runs, as GFLOP/s (or
 * GB/s for memory-bound ops) and as a ratio to the raw sgemm rate measured in
 * the same run. Prints which OpenBLAS kernel ran. Not a test: nothing is
 * asserted, because these machines are shared and noisy. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spatialboost/spatialboost.h"

#define RUNS 7

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef void (*bench_fn)(void *ctx);

static double median_seconds(bench_fn fn, void *ctx) {
  double t[RUNS];
  fn(ctx); /* warm-up: the arena fills its size classes */
  for (int i = 0; i < RUNS; i++) {
    double t0 = now();
    fn(ctx);
    t[i] = now() - t0;
  }
  qsort(t, RUNS, sizeof t[0], cmp);
  return t[RUNS / 2];
}

static sb_tensor *randn(int ndim, const int64_t *shape, float scale, bool grad) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  float *v = malloc(sizeof(float) * (size_t)n);
  for (int64_t i = 0; i < n; i++) v[i] = scale * ((float)rand() / (float)RAND_MAX - 0.5f);
  sb_tensor *t = sb_tensor_from_host(SB_DTYPE_F32, ndim, shape, v);
  free(v);
  if (grad) sb_tensor_set_requires_grad(t, true);
  return t;
}

/* ---- raw sgemm, the reference rate ---- */
typedef struct { float *a, *b, *c; int n; } sgemm_ctx;
static void run_sgemm(void *p) {
  sgemm_ctx *c = p;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c->n, c->n, c->n, 1.0f, c->a, c->n, c->b, c->n, 0.0f,
              c->c, c->n);
}

/* ---- one op forward + backward ---- */
typedef struct { sb_tensor *x, *w, *k, *v, *t; int kind; } op_ctx;
enum { LINEAR, ATTENTION, RMSNORM, XENT, LINEAR_FWD };
static void run_op(void *p) {
  op_ctx *c = p;
  sb_scope_begin();
  sb_tensor *y = NULL;
  sb_attention_opts o = {.causal = true};
  switch (c->kind) {
  case LINEAR: case LINEAR_FWD: y = sb_op_linear(c->x, c->w, NULL); break;
  case ATTENTION: y = sb_op_attention(c->x, c->k, c->v, &o); break;
  case RMSNORM: y = sb_op_rms_norm(c->x, c->w, 1e-6f); break;
  case XENT: y = sb_op_cross_entropy(c->x, c->t, -100, SB_REDUCTION_MEAN, 0); break;
  }
  if (c->kind == LINEAR_FWD || !y) {
    sb_tape_clear();
  } else {
    sb_tensor *g = sb_tensor_full(SB_DTYPE_F32, sb_tensor_ndim(y), sb_tensor_shape(y), 1e-3);
    if (sb_backward(y, g)) fprintf(stderr, "backward: %s\n", sb_error_message());
  }
  sb_tensor_free_grad(c->x), sb_tensor_free_grad(c->w);
  sb_scope_end();
}

int main(void) {
  srand(1);
  printf("%s\n", sb_backend_describe(sb_backend_cpu()));
  sgemm_ctx sg = {malloc(4u << 22), malloc(4u << 22), malloc(4u << 22), 1024};
  for (int i = 0; i < 1 << 20; i++) sg.a[i] = sg.b[i] = 0.001f * (float)(i % 1000);
  double ts = median_seconds(run_sgemm, &sg), sgemm_rate = 2.0 * 1024 * 1024 * 1024 / ts / 1e9;
  printf("%-44s %8.2f ms %8.1f GFLOP/s\n", "sgemm 1024x1024x1024 (reference)", ts * 1e3, sgemm_rate);

  const int64_t T = 452, D = 896, FF = 4864, H = 14, KV = 2, HD = 64, V = 151936, NL = 256;
  op_ctx lin = {randn(2, (int64_t[]){T, D}, 1, true), randn(2, (int64_t[]){FF, D}, 0.05f, true), 0, 0, 0, LINEAR_FWD};
  double t = median_seconds(run_op, &lin), f = 2.0 * T * D * FF;
  printf("%-44s %8.2f ms %8.1f GFLOP/s  (%.2f of sgemm)\n", "linear fwd [452,896]x[4864,896]", t * 1e3,
         f / t / 1e9, f / t / 1e9 / sgemm_rate);
  lin.kind = LINEAR;
  t = median_seconds(run_op, &lin), f *= 3;
  printf("%-44s %8.2f ms %8.1f GFLOP/s  (%.2f of sgemm)\n", "linear fwd+bwd", t * 1e3, f / t / 1e9,
         f / t / 1e9 / sgemm_rate);

  op_ctx at = {randn(4, (int64_t[]){1, T, H, HD}, 1, true), NULL, randn(4, (int64_t[]){1, T, KV, HD}, 1, true),
               randn(4, (int64_t[]){1, T, KV, HD}, 1, true), 0, ATTENTION};
  t = median_seconds(run_op, &at);
  f = 2.0 * 2 * T * T * HD * H * 3.5; /* fwd 2 products, bwd 5 (incl. the recomputed scores) */
  printf("%-44s %8.2f ms %8.1f GFLOP/s  (%.2f of sgemm)\n", "attention fwd+bwd causal 14q/2kv heads, T=452",
         t * 1e3, f / t / 1e9, f / t / 1e9 / sgemm_rate);

  op_ctx rn = {randn(2, (int64_t[]){T, D}, 1, true), randn(1, (int64_t[]){D}, 1, true), 0, 0, 0, RMSNORM};
  t = median_seconds(run_op, &rn);
  double bytes = 4.0 * T * D * 6; /* x, y read/written fwd; x, gy, gx bwd (approx.) */
  printf("%-44s %8.3f ms %8.1f GB/s\n", "rms_norm fwd+bwd [452,896]", t * 1e3, bytes / t / 1e9);

  int64_t *tg = malloc(sizeof(int64_t) * NL);
  for (int i = 0; i < NL; i++) tg[i] = rand() % V;
  op_ctx xe = {randn(2, (int64_t[]){NL, V}, 4, true), NULL, 0, 0,
               sb_tensor_from_host(SB_DTYPE_I64, 1, (int64_t[]){NL}, tg), XENT};
  t = median_seconds(run_op, &xe);
  bytes = 4.0 * NL * V * 4; /* logits read twice fwd+bwd, gradient written, lse pass */
  printf("%-44s %8.2f ms %8.1f GB/s\n", "cross_entropy fwd+bwd [256,151936]", t * 1e3, bytes / t / 1e9);

  sb_memory_stats ms;
  sb_backend_memory_stats(sb_backend_cpu(), &ms);
  printf("arena: peak %.1f MB, %llu blocks from the system for %llu tensor allocations\n", ms.peak / 1e6,
         (unsigned long long)ms.backend_allocs, (unsigned long long)ms.arena_allocs);
  free(sg.a), free(sg.b), free(sg.c), free(tg);
  return 0;
}
