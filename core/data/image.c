/* image.c — decoding image files with stb_image (sdk image.h). */
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <stb_image_write.h>
#include <stdio.h>
#include <unistd.h>

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

int sb_image_save_png(const sb_image *img, const char *path) {
  if (!img || !img->data || img->width <= 0 || img->height <= 0 || img->channels < 1 || img->channels > 4)
    return sb_error_set(SB_ERR_SHAPE, "%s: not a valid image to save", path);
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
  if (!stbi_write_png(tmp, img->width, img->height, img->channels, img->data, img->width * img->channels)) {
    remove(tmp);
    return sb_error_set(SB_ERR_IO, "%s: cannot write the PNG", path);
  }
  if (rename(tmp, path) != 0) {
    remove(tmp);
    return sb_error_set(SB_ERR_IO, "%s: cannot rename the written PNG into place", path);
  }
  return SB_OK;
}
