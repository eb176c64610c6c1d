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
/* Writes a PNG (stb_image_write), atomically: a temporary name, then rename. */
SB_API int sb_image_save_png(const sb_image *img, const char *path);

/* 16-bit single-channel images (depth in millimetres, instance ids), as
 * NYUv2, ScanNet and the synthetic scenes store them. */
typedef struct sb_image16 {
  int width, height;
  uint16_t *data; /* row-major */
} sb_image16;
/* Reads a 16-bit (or 8-bit, widened) single-channel PNG; a colour PNG is an
 * error naming the file. Free with sb_image16_free. */
SB_API int sb_image16_load(const char *path, sb_image16 *out);
/* Writes a 16-bit greyscale PNG (zlib), atomically. */
SB_API int sb_image16_save_png(const sb_image16 *img, const char *path);
SB_API void sb_image16_free(sb_image16 *img);

/* Resampling filters, numbered as Pillow numbers them. */
typedef enum sb_resample {
  SB_RESAMPLE_BILINEAR = 2, /* triangle, support 1 */
  SB_RESAMPLE_BICUBIC = 3,  /* cubic with a = -0.5, support 2 */
} sb_resample;

/* Resizes an 8-bit image exactly as Pillow's Image.resize does: separable
 * antialiased filter (support scaled by the downsampling factor), weights in
 * 22-bit fixed point, the horizontal pass first, rounding and clamping to 8
 * bits after each pass. dst gets new pixels (free with sb_image_free). */
SB_API int sb_image_resize(const sb_image *src, int width, int height, sb_resample filter,
                           sb_image *dst);
/* Resizes float planes src [channels, height, width] to dst [channels,
 * out_height, out_width] as torch.nn.functional.interpolate(mode=bilinear or
 * bicubic, align_corners=False, antialias=True) does: the same filter as
 * above, in floating point, width first. */
SB_API int sb_resize_planes(const float *src, int channels, int height, int width, float *dst,
                            int out_height, int out_width, sb_resample filter);

SB_END_DECLS
#endif
