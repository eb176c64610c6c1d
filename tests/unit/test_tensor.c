/* test_tensor.c — tensors outside the ops: dtype conversions against values
 * worked out by hand from the IEEE formats, views sharing storage, scopes
 * releasing temporaries, host transfers of strided views, and the arena
 * giving the second identical step its blocks back without any new
 * allocation from the backend. */
#include <math.h>
#include <stdlib.h>

#include "../common/check.h"
#include "spatialboost/spatialboost.h"
#include "tensor_impl.h"

static void test_conversions(void) {
  /* bf16 is the top half of the f32 bits */
  CHECK(sb_bf16_to_f32(0x3f80) == 1.0f, "bf16 1.0");
  CHECK(sb_bf16_to_f32(0xc040) == -3.0f, "bf16 -3.0");
  CHECK(sb_f32_to_bf16(1.0f) == 0x3f80, "1.0 -> bf16");
  /* 1 + 2^-8 is halfway between bf16 1.0 and 1.0078125: ties to even (1.0) */
  CHECK(sb_f32_to_bf16(1.00390625f) == 0x3f80, "tie to even, got %04x", sb_f32_to_bf16(1.00390625f));
  /* 1 + 3·2^-8 is halfway between 1.0078125 (odd) and 1.015625: rounds up to even */
  CHECK(sb_f32_to_bf16(1.01171875f) == 0x3f82, "tie to even up, got %04x", sb_f32_to_bf16(1.01171875f));
  /* f16: 1.0 = 0x3c00, 65504 = 0x7bff (max), 2^-24 = 0x0001 (smallest subnormal) */
  CHECK(sb_f16_to_f32(0x3c00) == 1.0f && sb_f16_to_f32(0x7bff) == 65504.0f, "f16 normals");
  CHECK(sb_f16_to_f32(0x0001) == ldexpf(1.0f, -24), "f16 smallest subnormal");
  CHECK(sb_f16_to_f32(0x8200) == -ldexpf(1.0f, -15), "f16 negative subnormal");
  CHECK(sb_f32_to_f16(65504.0f) == 0x7bff && sb_f32_to_f16(1e6f) == 0x7c00, "f16 max and overflow");
  CHECK(sb_f32_to_f16(ldexpf(1.0f, -24)) == 0x0001, "to smallest subnormal");
  CHECK(sb_f32_to_f16(ldexpf(1.0f, -26)) == 0x0000, "below half the smallest subnormal -> 0");
  CHECK(sb_f32_to_f16(-2.5f) == 0xc100, "-2.5 -> %04x", sb_f32_to_f16(-2.5f));
  /* every f16 value survives f16 -> f32 -> f16 */
  int bad = 0;
  for (uint32_t h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue; /* NaNs */
    bad += sb_f32_to_f16(sb_f16_to_f32((uint16_t)h)) != h;
  }
  CHECK(bad == 0, "%d f16 values do not round-trip", bad);
  /* integer narrowing keeps the low bits; floats truncate and saturate */
  int32_t i32[3] = {-1, 258, 7};
  uint8_t u8[3];
  sb_convert(u8, SB_DTYPE_U8, i32, SB_DTYPE_I32, 3);
  CHECK(u8[0] == 255 && u8[1] == 2 && u8[2] == 7, "I32 -> U8: %u %u %u", u8[0], u8[1], u8[2]);
  int64_t big[1] = {(int64_t)1 << 60 | 1};
  int64_t back[1];
  float f3[3] = {NAN, 1e20f, -2.7f};
  int32_t o3[3];
  sb_convert(back, SB_DTYPE_I64, big, SB_DTYPE_I64, 1);
  CHECK(back[0] == big[0], "I64 copy exact");
  sb_convert(o3, SB_DTYPE_I32, f3, SB_DTYPE_F32, 3);
  CHECK(o3[0] == 0 && o3[1] == INT32_MAX && o3[2] == -2, "F32 -> I32: %d %d %d", o3[0], o3[1], o3[2]);
  sb_dtype d;
  CHECK(sb_dtype_from_name("BF16", &d) == SB_OK && d == SB_DTYPE_BF16, "dtype names");
  CHECK(sb_dtype_from_name("F64", &d) != SB_OK, "F64 is not supported");
  CHECK_ERROR("unknown dtype 'F64'");
}

static void test_views_and_scopes(void) {
  sb_scope_begin();
  float v[6] = {0, 1, 2, 3, 4, 5};
  sb_tensor *t = sb_tensor_from_host(SB_DTYPE_F32, 2, (int64_t[]){2, 3}, v);
  sb_tensor *tt = sb_op_transpose(t, 0, 1); /* [3, 2], strided view */
  CHECK(!sb_tensor_is_contiguous(tt) && tt->storage == t->storage, "transpose is a view");
  float out[6];
  CHECK(sb_tensor_to_host(tt, out, sizeof out) == SB_OK, "to_host: %s", sb_error_message());
  CHECK(out[0] == 0 && out[1] == 3 && out[2] == 1 && out[3] == 4 && out[4] == 2 && out[5] == 5,
        "transposed values");
  sb_tensor *n = sb_op_narrow(t, 1, 1, 2); /* [[1,2],[4,5]] */
  CHECK(sb_tensor_to_host(n, out, 4 * sizeof(float)) == SB_OK && out[0] == 1 && out[3] == 5, "narrow");
  CHECK(sb_tensor_to_host(n, out, sizeof out) != SB_OK, "size mismatch must fail");
  CHECK_ERROR("buffer of 24 bytes for a tensor of 16 bytes");
  /* assign through a strided view writes into the base */
  float ones[4] = {9, 9, 9, 9};
  CHECK(sb_tensor_assign_host(n, ones, SB_DTYPE_F32) == SB_OK, "assign view");
  sb_tensor_to_host(t, out, sizeof out);
  CHECK(out[0] == 0 && out[1] == 9 && out[2] == 9 && out[3] == 3 && out[5] == 9, "assigned in place");
  /* scope_keep moves a tensor out of an inner scope */
  sb_scope_begin();
  sb_tensor *k = sb_scope_keep(sb_tensor_zeros(SB_DTYPE_I64, 1, (int64_t[]){4}));
  sb_scope_end();
  int64_t z[4] = {1, 1, 1, 1};
  CHECK(sb_tensor_to_host(k, z, sizeof z) == SB_OK && z[0] == 0 && z[3] == 0, "kept tensor alive");
  sb_scope_end();
  CHECK(sb_scope_depth() == 0, "scopes balanced");
}

static size_t one_step(void) {
  sb_scope_begin();
  sb_tensor *w = sb_tensor_full(SB_DTYPE_F32, 2, (int64_t[]){64, 32}, 0.5);
  sb_tensor_set_requires_grad(w, true);
  sb_tensor *x = sb_tensor_full(SB_DTYPE_F32, 2, (int64_t[]){16, 32}, 1.0);
  sb_tensor *loss = sb_op_mean_all(sb_op_gelu(sb_op_linear(x, w, NULL)));
  int rc = sb_backward(loss, NULL);
  CHECK(rc == SB_OK, "backward: %s", sb_error_message());
  sb_tensor_free_grad(w);
  sb_scope_end();
  sb_memory_stats s;
  sb_backend_memory_stats(sb_backend_cpu(), &s);
  return (size_t)s.backend_allocs;
}

static void test_arena_reuse(void) {
  one_step();
  size_t after_first = one_step();
  size_t after_more = after_first;
  for (int i = 0; i < 3; i++) after_more = one_step();
  CHECK(after_more == after_first, "steps after the first asked the backend for %zu new blocks",
        after_more - after_first);
  sb_memory_stats s;
  sb_backend_memory_stats(sb_backend_cpu(), &s);
  CHECK(s.in_use == 0, "%zu bytes still in use after the steps", s.in_use);
  CHECK(s.cached > 0 && s.peak > 0, "arena holds blocks for reuse");
  sb_backend_trim(sb_backend_cpu());
  sb_backend_memory_stats(sb_backend_cpu(), &s);
  CHECK(s.cached == 0, "trim returns cached blocks");
}

/* Batches of varying length: a large tensor reuses a cached block of a
 * bigger class (no new system block), and the cache never holds more than
 * the peak in use however many sizes pass through. */
static void test_arena_varying(void) {
  sb_backend *be = sb_backend_cpu();
  sb_backend_trim(be);
  const int64_t big = (int64_t)24 << 20; /* floats: 96 MiB, above the always-kept cache */
  sb_scope_begin();
  sb_tensor_new(SB_DTYPE_F32, 1, (int64_t[]){big});
  sb_scope_end();
  sb_memory_stats s0, s1;
  sb_backend_memory_stats(be, &s0);
  sb_scope_begin();
  sb_tensor_new(SB_DTYPE_F32, 1, (int64_t[]){big - big / 8}); /* one class down */
  sb_scope_end();
  sb_backend_memory_stats(be, &s1);
  CHECK(s1.backend_allocs == s0.backend_allocs, "a smaller large tensor took a new block instead of the cached one");
  for (int i = 0; i < 12; i++) {
    sb_scope_begin();
    sb_tensor_new(SB_DTYPE_F32, 1, (int64_t[]){big / 4 + (big / 16) * i});
    sb_tensor_new(SB_DTYPE_F32, 1, (int64_t[]){big / 3 + (big / 20) * i});
    sb_scope_end();
    sb_backend_memory_stats(be, &s1);
    CHECK(s1.in_use + s1.cached <= 2 * s1.peak, "step %d: %zu bytes in use and %zu cached, more than twice the peak %zu",
          i, s1.in_use, s1.cached, s1.peak);
  }
  sb_backend_trim(be);
}

/* A chunked loop (the output layer's chunks) frees and takes back one size
 * while the cache already holds the step's other blocks: after the first
 * round it makes no system allocation. */
static void test_arena_chunk_loop(void) {
  sb_backend *be = sb_backend_cpu();
  sb_backend_trim(be);
  sb_backend_reset_peak(be); /* this test's own peak: 112 MiB */
  const int64_t mib = (int64_t)1 << 18; /* floats */
  sb_scope_begin(); /* the step's other blocks: 64 and 48 MiB at once, then cached */
  sb_tensor_new(SB_DTYPE_F32, 1, (int64_t[]){64 * mib});
  sb_tensor_new(SB_DTYPE_F32, 1, (int64_t[]){48 * mib});
  sb_scope_end();
  sb_memory_stats s0, s1;
  for (int i = 0; i < 5; i++) {
    if (i == 1) sb_backend_memory_stats(be, &s0);
    sb_scope_begin(); /* a 20 MiB chunk: no cached block fits it */
    sb_tensor_new(SB_DTYPE_F32, 1, (int64_t[]){20 * mib});
    sb_scope_end();
  }
  sb_backend_memory_stats(be, &s1);
  CHECK(s1.backend_allocs == s0.backend_allocs, "the loop's chunk was allocated again %llu times",
        (unsigned long long)(s1.backend_allocs - s0.backend_allocs));
  sb_backend_trim(be);
}

static void test_errors(void) {
  sb_scope_begin();
  CHECK(sb_tensor_new(SB_DTYPE_F32, 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}) == NULL, "9 dims");
  CHECK_ERROR("9 dims (at most 8)");
  CHECK(sb_tensor_new(SB_DTYPE_F32, 1, (int64_t[]){-3}) == NULL, "negative size");
  CHECK_ERROR("negative size -3");
  CHECK(sb_tensor_new(SB_DTYPE_F32, 2, (int64_t[]){(int64_t)1 << 62, 4}) == NULL, "overflowing size");
  CHECK_ERROR("is too large");
  sb_tensor *a = sb_tensor_zeros(SB_DTYPE_F32, 2, (int64_t[]){2, 3});
  sb_tensor *b = sb_tensor_zeros(SB_DTYPE_F32, 2, (int64_t[]){4, 3});
  CHECK(sb_op_linear(a, b, NULL) != NULL, "linear [2,3] x [4,3]ᵀ");
  CHECK(sb_op_linear(b, a, a) == NULL, "bad bias");
  CHECK_ERROR("linear: bias [2, 3] does not fit weight [2, 3]");
  CHECK(sb_op_add(a, sb_tensor_zeros(SB_DTYPE_F32, 1, (int64_t[]){4})) == NULL, "no broadcast");
  CHECK_ERROR("add: shapes [2, 3] and [4] do not broadcast");
  CHECK(sb_op_gelu(NULL) == NULL, "NULL propagates");
  sb_scope_end();
}

int main(void) {
  test_conversions();
  test_views_and_scopes();
  test_arena_reuse();
  test_arena_varying();
  test_arena_chunk_loop();
  test_errors();
  return check_summary("tensor");
}
