/* test_resize.c — image resampling: the 8-bit path against Pillow's own
 * output on a test pattern (bit-exact), the float path against weights
 * worked out by hand, and the two paths against each other. */
#include <stdlib.h>
#include <unistd.h>

#include "../common/check.h"
#include "spatialboost/spatialboost.h"
/* after stdint.h */
#include "pil_reference.h"

static uint8_t *pattern(int w, int h) {
  uint8_t *a = malloc((size_t)w * h * 3);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) a[(y * w + x) * 3 + c] = (uint8_t)((x * 37 + y * 91 + c * 53 + (x * y * 13) % 71) % 256);
  return a;
}

static void test_pillow(void) {
  for (size_t i = 0; i < sizeof k_pil_cases / sizeof k_pil_cases[0]; i++) {
    const struct pil_case *k = &k_pil_cases[i];
    sb_image src = {k->w, k->h, 3, pattern(k->w, k->h)}, dst;
    CHECK(sb_image_resize(&src, k->ow, k->oh, (sb_resample)k->filter, &dst) == SB_OK, "%s", sb_error_message());
    int diff = 0;
    for (int j = 0; j < k->ow * k->oh * 3; j++) diff += dst.data[j] != k->want[j];
    CHECK(diff == 0, "%dx%d -> %dx%d filter %d: %d of %d values differ from Pillow", k->w, k->h, k->ow, k->oh,
          k->filter, diff, k->ow * k->oh * 3);
    sb_image_free(&dst);
    free(src.data);
  }
}

static void test_float_by_hand(void) {
  /* 1-D bilinear 4 -> 2: scale 2, support 2. Output 0 is centred at 1.0 and
   * covers inputs 0..2 with triangle weights 0.75, 0.75, 0.25 (normalised by
   * 1.75); output 1 is centred at 3.0 and covers inputs 1..3 with 0.25,
   * 0.75, 0.75. */
  float src[4] = {1, 2, 4, 8}, dst[2];
  CHECK(sb_resize_planes(src, 1, 1, 4, dst, 1, 2, SB_RESAMPLE_BILINEAR) == SB_OK, "%s", sb_error_message());
  float want0 = (0.75f * 1 + 0.75f * 2 + 0.25f * 4) / 1.75f, want1 = (0.25f * 2 + 0.75f * 4 + 0.75f * 8) / 1.75f;
  CHECK(fabsf(dst[0] - want0) < 1e-6f && fabsf(dst[1] - want1) < 1e-6f, "%g %g vs %g %g", dst[0], dst[1], want0, want1);
  /* upsampling 2 -> 4 is plain half-pixel bilinear with clamped edges:
   * 1, 1.25·1+... = [1, 1.25, 1.75, 2] for inputs [1, 2] */
  float up_src[2] = {1, 2}, up[4];
  sb_resize_planes(up_src, 1, 1, 2, up, 1, 4, SB_RESAMPLE_BILINEAR);
  CHECK(up[0] == 1.0f && up[1] == 1.25f && up[2] == 1.75f && up[3] == 2.0f, "%g %g %g %g", up[0], up[1], up[2], up[3]);
  /* the same size is the identity, for both filters */
  float id[6] = {3, 1, 4, 1, 5, 9}, out[6];
  sb_resize_planes(id, 1, 2, 3, out, 2, 3, SB_RESAMPLE_BICUBIC);
  CHECK(memcmp(id, out, sizeof id) == 0, "bicubic identity");
}

static void test_paths_agree(void) {
  /* The 8-bit path rounds after each pass: it stays within 1 of the float
   * path for bilinear (weights are non-negative, so each pass moves the
   * value by at most half a step). */
  int w = 40, h = 30, ow = 17, oh = 23;
  uint8_t *px = pattern(w, h);
  sb_image src = {w, h, 3, px}, dst;
  sb_image_resize(&src, ow, oh, SB_RESAMPLE_BILINEAR, &dst);
  float *planes = malloc(sizeof(float) * 3 * w * h), *out = malloc(sizeof(float) * 3 * ow * oh);
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < w * h; i++) planes[c * w * h + i] = px[i * 3 + c];
  sb_resize_planes(planes, 3, h, w, out, oh, ow, SB_RESAMPLE_BILINEAR);
  double worst = 0;
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < ow * oh; i++) worst = fmax(worst, fabs(out[c * ow * oh + i] - dst.data[i * 3 + c]));
  CHECK(worst <= 1.0, "paths differ by %g", worst);
  sb_image_free(&dst);
  free(px), free(planes), free(out);
}

static void test_errors(void) {
  uint8_t px[3] = {0};
  sb_image src = {1, 1, 3, px}, dst;
  CHECK(sb_image_resize(&src, 0, 5, SB_RESAMPLE_BILINEAR, &dst) != SB_OK, "zero width");
  CHECK_ERROR("cannot resize 1x1 to 0x5");
  CHECK(sb_image_resize(&src, 2, 2, (sb_resample)7, &dst) != SB_OK, "bad filter");
  CHECK_ERROR("unknown resampling filter 7");
  CHECK(sb_image_load("/nonexistent.png", &dst) != SB_OK, "missing image");
  CHECK_ERROR("/nonexistent.png: cannot decode image");
}

/* 16-bit PNGs: a round trip keeps every value (depth in millimetres up to
 * 65535), a colour PNG is refused, and an 8-bit greyscale file reads with
 * its own values. */
static void test_png16(void) {
  char path[] = "/tmp/sb_png16_XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  uint16_t px[7 * 5];
  for (int i = 0; i < 35; i++) px[i] = (uint16_t)(i * 1873 + (i == 34 ? 65535 - 34 * 1873 : 0));
  sb_image16 img = {7, 5, px}, back;
  CHECK(sb_image16_save_png(&img, path) == SB_OK, "save: %s", sb_error_message());
  CHECK(sb_image16_load(path, &back) == SB_OK && back.width == 7 && back.height == 5, "load: %s", sb_error_message());
  CHECK(back.data && memcmp(back.data, px, sizeof px) == 0 && back.data[34] == 65535, "values kept");
  sb_image16_free(&back);
  uint8_t rgb[2 * 2 * 3] = {0}, grey[3] = {0, 7, 255};
  sb_image c = {2, 2, 3, rgb}, g = {3, 1, 1, grey};
  sb_image_save_png(&c, path);
  CHECK(sb_image16_load(path, &back) != SB_OK, "colour refused");
  CHECK_ERROR("3 channels, expected a single-channel (greyscale) image");
  sb_image_save_png(&g, path);
  CHECK(sb_image16_load(path, &back) == SB_OK && back.data[1] == 7 && back.data[2] == 255, "8-bit grey keeps its values");
  sb_image16_free(&back);
  remove(path);
}

int main(void) {
  test_png16();
  test_pillow();
  test_float_by_hand();
  test_paths_agree();
  test_errors();
  return check_summary("resize");
}
