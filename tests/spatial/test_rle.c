/* test_rle.c — COCO RLE (core/spatial/rle.h): the hand-made vectors from
 * the format's definition (column-major runs starting with zeros, the
 * compressed counts string), both ways; random masks through counts and
 * string; area and box against a brute-force count; malformed strings. */
#include <stdlib.h>

#include "../common/check.h"
#include "rle.h"
#include "spatialboost/error.h"
#include "util.h"

typedef struct ref_vector {
  const char *what;
  int h, w;
  const uint8_t *mask; /* row-major; NULL: built by the test */
  uint32_t counts[5];
  size_t n;
  const char *string;
  uint64_t area;
  double bbox[4];
} ref_vector;

static const uint8_t k_mask_3x4[] = {0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0};
static const uint8_t k_mask_2x2[] = {1, 0, 1, 1};
static const uint8_t k_empty_4x5[20] = {0};
static const uint8_t k_full_4x5[20] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

static bool counts_equal(const sb_rle *r, const uint32_t *counts, size_t n) {
  if (r->n != n) return false;
  for (size_t i = 0; i < n; i++)
    if (r->counts[i] != counts[i]) return false;
  return true;
}

static void check_vector(const ref_vector *v, const uint8_t *mask) {
  size_t n_px = (size_t)v->h * (size_t)v->w;
  sb_rle r;
  CHECK(sb_rle_encode(mask, v->h, v->w, &r) == SB_OK, "%s: encode: %s", v->what, sb_error_message());
  CHECK(counts_equal(&r, v->counts, v->n), "%s: counts (%zu runs, first %u)", v->what, r.n, r.n ? r.counts[0] : 0);
  char *s = sb_rle_to_string(&r);
  CHECK(s && strcmp(s, v->string) == 0, "%s: string \"%s\", expected \"%s\"", v->what, s ? s : "NULL", v->string);
  free(s);
  CHECK(sb_rle_area(&r) == v->area, "%s: area %llu", v->what, (unsigned long long)sb_rle_area(&r));
  double bb[4];
  sb_rle_bbox(&r, bb);
  CHECK(memcmp(bb, v->bbox, sizeof bb) == 0, "%s: bbox [%g, %g, %g, %g]", v->what, bb[0], bb[1], bb[2], bb[3]);
  sb_rle_free(&r);

  /* and back: the string to counts, the counts to the mask */
  CHECK(sb_rle_from_string(v->string, v->h, v->w, &r) == SB_OK, "%s: from_string: %s", v->what, sb_error_message());
  CHECK(counts_equal(&r, v->counts, v->n), "%s: counts from the string", v->what);
  uint8_t *back = malloc(n_px);
  memset(back, 7, n_px);
  CHECK(sb_rle_decode(&r, back) == SB_OK, "%s: decode", v->what);
  bool same = true;
  for (size_t i = 0; i < n_px; i++) same &= back[i] == (mask[i] != 0);
  CHECK(same, "%s: decoded mask differs", v->what);
  free(back);
  sb_rle_free(&r);
}

static void check_reference_vectors(void) {
  const ref_vector v[] = {
      {"3x4", 3, 4, k_mask_3x4, {3, 2, 1, 3, 3}, 5, "32112", 5, {1, 0, 2, 3}},
      {"2x2", 2, 2, k_mask_2x2, {0, 2, 1, 1}, 4, "021O", 3, {0, 0, 2, 2}},
      {"empty 4x5", 4, 5, k_empty_4x5, {20}, 1, "d0", 0, {0, 0, 0, 0}},
      {"full 4x5", 4, 5, k_full_4x5, {0, 20}, 2, "0d0", 20, {0, 0, 5, 4}},
      {"1200x1000 last pixel", 1200, 1000, NULL, {1199999, 1}, 2, "okcT11", 1, {999, 1199, 1, 1}},
  };
  for (size_t i = 0; i < SB_ARRAY_LEN(v); i++) {
    uint8_t *built = NULL;
    if (!v[i].mask) { /* only the last pixel (row h-1, column w-1) set */
      built = calloc((size_t)v[i].h * (size_t)v[i].w, 1);
      built[(size_t)v[i].h * (size_t)v[i].w - 1] = 1;
    }
    check_vector(&v[i], v[i].mask ? v[i].mask : built);
    free(built);
  }
}

/* Masks of scattered pixels and of rectangles, so runs cross columns. */
static void random_mask(sb_rng *g, uint8_t *m, int h, int w) {
  int kind = (int)(sb_rng_uniform(g) * 3);
  double p = sb_rng_uniform(g);
  int x0 = (int)(sb_rng_uniform(g) * w), y0 = (int)(sb_rng_uniform(g) * h);
  int x1 = x0 + (int)(sb_rng_uniform(g) * (w - x0)), y1 = y0 + (int)(sb_rng_uniform(g) * (h - y0));
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      m[y * w + x] = kind == 0   ? sb_rng_uniform(g) < p
                     : kind == 1 ? (x >= x0 && x <= x1 && y >= y0 && y <= y1)
                                 : ((x + y) % 7 == 0 || sb_rng_uniform(g) < 0.05);
}

static void brute_box(const uint8_t *m, int h, int w, uint64_t *area, double bb[4]) {
  int xs = w, xe = -1, ys = h, ye = -1;
  *area = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      if (m[y * w + x]) {
        (*area)++;
        xs = x < xs ? x : xs, xe = x > xe ? x : xe, ys = y < ys ? y : ys, ye = y > ye ? y : ye;
      }
  if (xe < 0) bb[0] = bb[1] = bb[2] = bb[3] = 0;
  else bb[0] = xs, bb[1] = ys, bb[2] = xe - xs + 1, bb[3] = ye - ys + 1;
}

static void check_random_round_trips(void) {
  sb_rng g;
  sb_rng_seed(&g, 42);
  int bad_counts = 0, bad_string = 0, bad_box = 0;
  for (int t = 0; t < 300; t++) {
    int h = 1 + (int)(sb_rng_uniform(&g) * 40), w = 1 + (int)(sb_rng_uniform(&g) * 40);
    uint8_t *m = malloc((size_t)h * w), *back = malloc((size_t)h * w);
    random_mask(&g, m, h, w);
    sb_rle r, r2;
    sb_rle_encode(m, h, w, &r);
    sb_rle_decode(&r, back);
    bad_counts += memcmp(m, back, (size_t)h * w) != 0;
    char *s = sb_rle_to_string(&r);
    if (sb_rle_from_string(s, h, w, &r2) == SB_OK) {
      memset(back, 9, (size_t)h * w);
      sb_rle_decode(&r2, back);
      bad_string += !counts_equal(&r2, r.counts, r.n) || memcmp(m, back, (size_t)h * w) != 0;
      sb_rle_free(&r2);
    } else bad_string++;
    uint64_t area;
    double bb[4], got[4];
    brute_box(m, h, w, &area, bb);
    sb_rle_bbox(&r, got);
    bad_box += area != sb_rle_area(&r) || memcmp(bb, got, sizeof bb) != 0;
    free(s), free(m), free(back);
    sb_rle_free(&r);
  }
  CHECK(bad_counts == 0, "%d random masks differ after counts", bad_counts);
  CHECK(bad_string == 0, "%d random masks differ after the string", bad_string);
  CHECK(bad_box == 0, "%d random masks with the wrong area or box", bad_box);
}

static void check_malformed(void) {
  struct {
    const char *s, *needle;
  } bad[] = {
      {"", "cover 0 pixels"},             /* nothing */
      {"3211", "cover"},                  /* runs short of 3×4 */
      {"321122", "cover"},                /* runs past 3×4 */
      {"32 12", "not a count digit"},     /* a space */
      {"32p12", "not a count digit"},     /* past 48 + 63 */
      {"32d", "ends inside a value"},     /* a continuation with nothing after */
      {"32K", "impossible length"},       /* a negative run (-5) */
      {"oooooooo0", "longer than"},       /* more groups than 32 bits need */
  };
  for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
    sb_rle r;
    int rc = sb_rle_from_string(bad[i].s, 3, 4, &r);
    CHECK(rc != SB_OK && r.counts == NULL, "\"%s\" accepted", bad[i].s);
    CHECK_ERROR(bad[i].needle);
  }
  sb_rle r;
  CHECK(sb_rle_from_string("0", 0, 4, &r) != SB_OK, "a 0×4 mask");
  uint32_t counts[] = {3, 2};
  sb_rle short_runs = {3, 4, counts, 2};
  uint8_t m[12];
  CHECK(sb_rle_decode(&short_runs, m) != SB_OK, "decoding runs that do not cover the mask");
  CHECK_ERROR("cover 5 pixels");
  CHECK(sb_rle_encode(m, -1, 4, &r) != SB_OK, "encoding a -1×4 mask");
}

int main(void) {
  check_reference_vectors();
  check_random_round_trips();
  check_malformed();
  return check_summary("rle");
}
