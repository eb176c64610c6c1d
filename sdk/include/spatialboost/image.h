/* spatialboost/image.h — decoded images handed to encoders. */
#ifndef SPATIALBOOST_IMAGE_H
#define SPATIALBOOST_IMAGE_H

#include "defs.h"

SB_BEGIN_DECLS

/* 8-bit interleaved pixels, row-major, channels 1 (grey), 3 (RGB) or 4. */
typedef struct sb_image {
  int width, height, channels;
  uint8_t *data;
} sb_image;

/* Decodes a PNG/JPEG/BMP/... file (stb_image) to RGB. Errors name the file
 * and the decoder's reason. Free with sb_image_free. */
SB_API int sb_image_load(const char *path, sb_image *out);
SB_API void sb_image_free(sb_image *img);

SB_END_DECLS
#endif
