/* rle.c — COCO run-length encoding (rle.h): binary masks to column-major
 * runs and back, the compressed counts string of pycocotools' rleToString /
 * rleFrString, and the area and box of a mask read from its runs. */
#include "rle.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* A count string group holds 5 bits; 7 groups cover any difference of two
 * 32-bit counts (33 bits with the sign). */
#define RLE_MAX_GROUPS 7

static int check_size(int height, int width) {
  if (height <= 0 || width <= 0 || (uint64_t)height * (uint64_t)width > UINT32_MAX)
    return sb_error_set(SB_ERR_SHAPE, "RLE: a %d×%d mask is not a valid size", height, width);
  return SB_OK;
}

static int rle_init(sb_rle *out, int height, int width, size_t cap) {
  out->height = height, out->width = width, out->n = 0;
  out->counts = sb_malloc((cap ? cap : 1) * sizeof *out->counts);
  return out->counts ? SB_OK : SB_ERR_NOMEM;
}

/* The runs never exceed the pixels: every run but the first is at least 1
 * long, so h·w + 1 runs is room enough. */
int sb_rle_encode(const uint8_t *mask, int height, int width, sb_rle *out) {
  memset(out, 0, sizeof *out);
  if (check_size(height, width)) return SB_ERR_SHAPE;
  size_t n_px = (size_t)height * (size_t)width;
  if (rle_init(out, height, width, n_px + 1)) return SB_ERR_NOMEM;
  uint8_t prev = 0;
  uint32_t run = 0;
  for (int x = 0; x < width; x++)
    for (int y = 0; y < height; y++) {
      uint8_t v = mask[(size_t)y * (size_t)width + (size_t)x] != 0;
      if (v != prev) out->counts[out->n++] = run, run = 0, prev = v;
      run++;
    }
  out->counts[out->n++] = run;
  uint32_t *shrunk = realloc(out->counts, out->n * sizeof *shrunk);
  if (shrunk) out->counts = shrunk;
  return SB_OK;
}

/* The counts must cover the mask exactly. */
static int check_counts(const sb_rle *r) {
  if (check_size(r->height, r->width)) return SB_ERR_SHAPE;
  uint64_t total = 0;
  for (size_t i = 0; i < r->n; i++) total += r->counts[i];
  uint64_t n_px = (uint64_t)r->height * (uint64_t)r->width;
  if (total != n_px)
    return sb_error_set(SB_ERR_FORMAT, "RLE: the runs cover %llu pixels, a %d×%d mask has %llu",
                        (unsigned long long)total, r->height, r->width, (unsigned long long)n_px);
  return SB_OK;
}

int sb_rle_decode(const sb_rle *r, uint8_t *mask) {
  if (check_counts(r)) return SB_ERR_FORMAT;
  size_t h = (size_t)r->height, w = (size_t)r->width, x = 0, y = 0;
  for (size_t i = 0; i < r->n; i++) {
    uint8_t v = (uint8_t)(i & 1);
    for (uint32_t k = 0; k < r->counts[i]; k++) {
      mask[y * w + x] = v;
      if (++y == h) y = 0, x++;
    }
  }
  return SB_OK;
}

/* Counts from index 3 on are written as the difference to the count two
 * before (pycocotools: `if (i > 2) x -= cnts[i-2]`); each value goes out in
 * 5-bit groups, low first, 0x20 marking that another group follows, and
 * every group as the character 48 + group. */
char *sb_rle_to_string(const sb_rle *r) {
  char *s = sb_malloc(r->n * RLE_MAX_GROUPS + 1);
  if (!s) return NULL;
  size_t p = 0;
  for (size_t i = 0; i < r->n; i++) {
    int64_t x = (int64_t)r->counts[i];
    if (i > 2) x -= (int64_t)r->counts[i - 2];
    for (bool more = true; more;) {
      int c = (int)(x & 0x1f);
      x >>= 5; /* arithmetic shift: a negative value ends at -1 */
      more = (c & 0x10) ? x != -1 : x != 0;
      if (more) c |= 0x20;
      s[p++] = (char)(c + 48);
    }
  }
  s[p] = 0;
  return s;
}

/* One value of the string from *p on; advances *p. */
static int read_value(const char *s, size_t *p, int64_t *out) {
  int64_t x = 0;
  for (int k = 0;; k++) {
    unsigned char ch = (unsigned char)s[*p];
    if (!ch) return sb_error_set(SB_ERR_FORMAT, "RLE counts string ends inside a value (at %zu)", *p);
    if (ch < 48 || ch > 48 + 63)
      return sb_error_set(SB_ERR_FORMAT, "RLE counts string: character '%c' at %zu is not a count digit", ch, *p);
    if (k == RLE_MAX_GROUPS)
      return sb_error_set(SB_ERR_FORMAT, "RLE counts string: a value longer than %d digits at %zu", RLE_MAX_GROUPS, *p);
    int c = ch - 48;
    x |= (int64_t)(c & 0x1f) << (5 * k);
    (*p)++;
    if (!(c & 0x20)) {
      if (c & 0x10) x |= (int64_t)(~(uint64_t)0 << (5 * (k + 1))); /* sign-extend */
      *out = x;
      return SB_OK;
    }
  }
}

int sb_rle_from_string(const char *s, int height, int width, sb_rle *out) {
  memset(out, 0, sizeof *out);
  if (check_size(height, width)) return SB_ERR_SHAPE;
  if (!s) return sb_error_set(SB_ERR_FORMAT, "RLE: no counts string");
  size_t p = 0;
  if (rle_init(out, height, width, strlen(s))) return SB_ERR_NOMEM;
  int rc = SB_OK;
  while (rc == SB_OK && s[p]) {
    int64_t x = 0;
    if ((rc = read_value(s, &p, &x))) break;
    if (out->n > 2) x += (int64_t)out->counts[out->n - 2];
    if (x < 0 || x > (int64_t)UINT32_MAX)
      rc = sb_error_set(SB_ERR_FORMAT, "RLE counts string: run %zu has the impossible length %lld", out->n,
                        (long long)x);
    else out->counts[out->n++] = (uint32_t)x;
  }
  if (rc == SB_OK) rc = check_counts(out);
  if (rc) sb_rle_free(out);
  return rc;
}

uint64_t sb_rle_area(const sb_rle *r) {
  uint64_t a = 0;
  for (size_t i = 1; i < r->n; i += 2) a += r->counts[i];
  return a;
}

/* As pycocotools' rleToBbox: the columns and rows the runs of ones touch; a
 * run that wraps into the next column spans every row. */
void sb_rle_bbox(const sb_rle *r, double bbox[4]) {
  uint64_t h = (uint64_t)(r->height > 0 ? r->height : 1), pos = 0;
  uint64_t xs = UINT64_MAX, xe = 0, ys = UINT64_MAX, ye = 0;
  for (size_t i = 0; i < r->n; i++) {
    uint64_t start = pos;
    pos += r->counts[i];
    if (!(i & 1) || r->counts[i] == 0) continue;
    uint64_t end = pos - 1, x0 = start / h, x1 = end / h;
    uint64_t y0 = x0 == x1 ? start % h : 0, y1 = x0 == x1 ? end % h : h - 1;
    xs = SB_MIN(xs, x0), xe = SB_MAX(xe, x1), ys = SB_MIN(ys, y0), ye = SB_MAX(ye, y1);
  }
  if (xs == UINT64_MAX) {
    bbox[0] = bbox[1] = bbox[2] = bbox[3] = 0;
    return;
  }
  bbox[0] = (double)xs, bbox[1] = (double)ys;
  bbox[2] = (double)(xe - xs + 1), bbox[3] = (double)(ye - ys + 1);
}

void sb_rle_free(sb_rle *r) {
  if (!r) return;
  free(r->counts);
  memset(r, 0, sizeof *r);
}
