/* dtype.c — dtype sizes and names, and float16/bfloat16 conversions. */
#include <math.h>
#include <string.h>

#include "tensor_impl.h"
#include "util.h"

static const struct {
  const char *name;
  size_t size;
  bool is_float;
} k_dtypes[SB_DTYPE_COUNT] = {
    [SB_DTYPE_F32] = {"F32", 4, true},  [SB_DTYPE_BF16] = {"BF16", 2, true},
    [SB_DTYPE_F16] = {"F16", 2, true},  [SB_DTYPE_I32] = {"I32", 4, false},
    [SB_DTYPE_I64] = {"I64", 8, false}, [SB_DTYPE_U8] = {"U8", 1, false},
};

size_t sb_dtype_size(sb_dtype d) { return (unsigned)d < SB_DTYPE_COUNT ? k_dtypes[d].size : 0; }
const char *sb_dtype_name(sb_dtype d) {
  return (unsigned)d < SB_DTYPE_COUNT ? k_dtypes[d].name : "?";
}
bool sb_dtype_is_float(sb_dtype d) { return (unsigned)d < SB_DTYPE_COUNT && k_dtypes[d].is_float; }

int sb_dtype_from_name(const char *name, sb_dtype *out) {
  for (int i = 0; i < SB_DTYPE_COUNT; i++)
    if (strcmp(name, k_dtypes[i].name) == 0) {
      *out = (sb_dtype)i;
      return SB_OK;
    }
  return sb_error_set(SB_ERR_FORMAT, "unknown dtype '%s' (expected F32, BF16, F16, I32, I64 or U8)",
                      name);
}

float sb_bf16_to_f32(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

uint16_t sb_f32_to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
  u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest even */
  return (uint16_t)(u >> 16);
}

float sb_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, u;
  if (exp == 0) {
    if (man == 0) {
      u = sign;
    } else { /* subnormal: normalise */
      int e = -1;
      do {
        e++;
        man <<= 1;
      } while (!(man & 0x400u));
      u = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | (man << 13);
  } else {
    u = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  memcpy(&f, &u, 4);
  return f;
}

uint16_t sb_f32_to_f16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  uint32_t sign = (u >> 16) & 0x8000u;
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u); /* NaN */
  if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* overflow to inf (>= 65520) */
  if (a < 0x38800000u) { /* subnormal or zero in f16: value = a / 2^-24, rounded to nearest even */
    if (a < 0x33000000u) return (uint16_t)sign; /* below half the smallest subnormal */
    uint32_t e = a >> 23, man = (a & 0x7fffffu) | 0x800000u;
    int shift = 126 - (int)e; /* shift so that result is in units of 2^-24 */
    uint32_t q = man >> (shift), rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return (uint16_t)(sign | q);
  }
  uint32_t r = a + 0xfffu + ((a >> 13) & 1u); /* round to nearest even at bit 13 */
  r -= (uint32_t)(112u << 23);                /* rebias 127 -> 15 */
  return (uint16_t)(sign | (r >> 13));
}

static double load_as_double(const void *src, sb_dtype d, int64_t i) {
  switch (d) {
  case SB_DTYPE_F32: return ((const float *)src)[i];
  case SB_DTYPE_BF16: return sb_bf16_to_f32(((const uint16_t *)src)[i]);
  case SB_DTYPE_F16: return sb_f16_to_f32(((const uint16_t *)src)[i]);
  case SB_DTYPE_I32: return ((const int32_t *)src)[i];
  case SB_DTYPE_I64: return (double)((const int64_t *)src)[i];
  case SB_DTYPE_U8: return ((const uint8_t *)src)[i];
  default: return 0;
  }
}

static int64_t load_as_int(const void *src, sb_dtype d, int64_t i) {
  switch (d) {
  case SB_DTYPE_I32: return ((const int32_t *)src)[i];
  case SB_DTYPE_I64: return ((const int64_t *)src)[i];
  default: return ((const uint8_t *)src)[i];
  }
}

/* A float to an integer type: truncation toward zero like a C cast, but
 * saturating at the type's range and mapping NaN to 0 (a plain cast of an
 * out-of-range value is undefined behaviour). */
static int64_t float_to_int(double v, double lo, double hi) {
  if (isnan(v)) return 0;
  if (v <= lo) return (int64_t)lo;
  if (v >= hi) return (int64_t)hi;
  return (int64_t)v;
}

void sb_convert(void *dst, sb_dtype dd, const void *src, sb_dtype sd, int64_t n) {
  if (dd == sd) {
    memcpy(dst, src, (size_t)n * sb_dtype_size(dd));
    return;
  }
  bool src_float = sb_dtype_is_float(sd);
  for (int64_t i = 0; i < n; i++) {
    if (sb_dtype_is_float(dd)) {
      float v = src_float ? (float)load_as_double(src, sd, i) : (float)load_as_int(src, sd, i);
      if (dd == SB_DTYPE_F32) ((float *)dst)[i] = v;
      else if (dd == SB_DTYPE_BF16) ((uint16_t *)dst)[i] = sb_f32_to_bf16(v);
      else ((uint16_t *)dst)[i] = sb_f32_to_f16(v);
      continue;
    }
    /* integer destination: integers narrow by keeping the low bits (as
     * numpy's astype); floats truncate and saturate */
    int64_t v;
    if (!src_float) v = load_as_int(src, sd, i);
    else if (dd == SB_DTYPE_U8) v = float_to_int(load_as_double(src, sd, i), 0, 255);
    else if (dd == SB_DTYPE_I32) v = float_to_int(load_as_double(src, sd, i), -2147483648.0, 2147483647.0);
    else v = float_to_int(load_as_double(src, sd, i), -9223372036854775808.0, 9223372036854774784.0);
    if (dd == SB_DTYPE_I64) ((int64_t *)dst)[i] = v;
    else if (dd == SB_DTYPE_I32) ((uint32_t *)dst)[i] = (uint32_t)(uint64_t)v;
    else ((uint8_t *)dst)[i] = (uint8_t)(uint64_t)v;
  }
}
