/* rle.h — COCO run-length encoding of binary masks (column-major runs that
 * start with zeros) and its compressed counts string, as SA-1B and
 * pycocotools store masks. */
#ifndef SB_CORE_RLE_H
#define SB_CORE_RLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sb_rle {
  int height, width;
  uint32_t *counts;
  size_t n;
} sb_rle;

/* mask: row-major h×w, nonzero = inside. */
int sb_rle_encode(const uint8_t *mask, int height, int width, sb_rle *out);
/* Into a row-major h×w mask of 0/1. */
int sb_rle_decode(const sb_rle *r, uint8_t *mask);
/* The compressed counts string (malloc'd) and back. */
char *sb_rle_to_string(const sb_rle *r);
int sb_rle_from_string(const char *s, int height, int width, sb_rle *out);
/* Pixels inside, and the box [x, y, w, h] of them (zeros when empty). */
uint64_t sb_rle_area(const sb_rle *r);
void sb_rle_bbox(const sb_rle *r, double bbox[4]);
void sb_rle_free(sb_rle *r);

#endif
