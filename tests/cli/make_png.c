/* make_png.c — a test tool: writes a W×H RGB test pattern as a PNG.
 * usage: make_png OUT.png W H */
#include <stdio.h>
#include <stdlib.h>

#include "spatialboost/spatialboost.h"

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: make_png OUT.png W H\n");
    return 2;
  }
  int w = atoi(argv[2]), h = atoi(argv[3]);
  sb_image img = {w, h, 3, malloc((size_t)(w > 0 ? w : 1) * (size_t)(h > 0 ? h : 1) * 3)};
  for (int i = 0; img.data && i < w * h * 3; i++) img.data[i] = (uint8_t)((i * 37 + i / (3 * w) * 11) % 251);
  int rc = sb_image_save_png(&img, argv[1]);
  if (rc) fprintf(stderr, "make_png: %s\n", sb_error_message());
  free(img.data);
  return rc ? 1 : 0;
}
