/* image.c — decoding image files with stb_image (sdk image.h). */
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "spatialboost/error.h"
#include "spatialboost/image.h"

int sb_image_load(const char *path, sb_image *out) {
  memset(out, 0, sizeof *out);
  int w = 0, h = 0, c = 0;
  uint8_t *px = stbi_load(path, &w, &h, &c, 3);
  if (!px) {
    const char *why = stbi_failure_reason();
    return sb_error_set(SB_ERR_FORMAT, "%s: cannot decode image: %s", path, why ? why : "unknown reason");
  }
  out->width = w, out->height = h, out->channels = 3, out->data = px;
  return SB_OK;
}

void sb_image_free(sb_image *img) {
  if (!img) return;
  stbi_image_free(img->data);
  memset(img, 0, sizeof *img);
}
