/* png16.c — 16-bit greyscale PNG files (sdk image.h): reading through
 * stb_image, writing with zlib (stb_image_write has no 16-bit output). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <stb_image.h>

#include "spatialboost/error.h"
#include "spatialboost/image.h"
#include "util.h"

int sb_image16_load(const char *path, sb_image16 *out) {
  memset(out, 0, sizeof *out);
  int w, h, c;
  if (!stbi_info(path, &w, &h, &c))
    return sb_error_set(SB_ERR_FORMAT, "%s: cannot decode image: %s", path,
                        stbi_failure_reason() ? stbi_failure_reason() : "unknown reason");
  if (c != 1)
    return sb_error_set(SB_ERR_FORMAT, "%s: %d channels, expected a single-channel (greyscale) image", path, c);
  uint16_t *px = stbi_load_16(path, &w, &h, &c, 1); /* 8-bit files widen to 16 bits (v·257) */
  if (!px) return sb_error_set(SB_ERR_FORMAT, "%s: cannot decode image: %s", path, stbi_failure_reason());
  if (!stbi_is_16_bit(path)) /* undo stb's widening: 8-bit ids and depths keep their values */
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++) px[i] = (uint16_t)(px[i] / 257);
  out->width = w, out->height = h, out->data = px;
  return SB_OK;
}

void sb_image16_free(sb_image16 *img) {
  if (!img) return;
  stbi_image_free(img->data);
  memset(img, 0, sizeof *img);
}

/* One chunk: length, type, data, CRC of type and data. */
static int chunk(FILE *f, const char *type, const unsigned char *data, uint32_t len) {
  uint32_t be = htonl(len);
  uLong crc = crc32(0L, (const Bytef *)type, 4);
  if (len) crc = crc32(crc, data, len);
  uint32_t crc_be = htonl((uint32_t)crc);
  return fwrite(&be, 4, 1, f) == 1 && fwrite(type, 4, 1, f) == 1 && (!len || fwrite(data, len, 1, f) == 1) &&
                 fwrite(&crc_be, 4, 1, f) == 1
             ? SB_OK
             : SB_ERR_IO;
}

int sb_image16_save_png(const sb_image16 *img, const char *path) {
  if (!img || !img->data || img->width <= 0 || img->height <= 0)
    return sb_error_set(SB_ERR_SHAPE, "%s: not a valid 16-bit image to save", path);
  size_t row = 1 + 2 * (size_t)img->width, raw_len = row * (size_t)img->height;
  unsigned char *raw = sb_malloc(raw_len);
  uLongf z_len = compressBound((uLong)raw_len);
  unsigned char *z = raw ? sb_malloc(z_len) : NULL;
  if (!z) {
    free(raw);
    return SB_ERR_NOMEM;
  }
  for (int y = 0; y < img->height; y++) { /* filter 0, big-endian samples */
    unsigned char *r = raw + (size_t)y * row;
    r[0] = 0;
    for (int x = 0; x < img->width; x++) {
      uint16_t v = img->data[(size_t)y * img->width + x];
      r[1 + 2 * x] = (unsigned char)(v >> 8), r[2 + 2 * x] = (unsigned char)(v & 0xff);
    }
  }
  int rc = compress2(z, &z_len, raw, (uLong)raw_len, 6) == Z_OK ? SB_OK : SB_ERR;
  free(raw);
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
  FILE *f = rc == SB_OK ? fopen(tmp, "wb") : NULL;
  if (!f) rc = SB_ERR_IO;
  unsigned char ihdr[13];
  uint32_t w = htonl((uint32_t)img->width), h = htonl((uint32_t)img->height);
  memcpy(ihdr, &w, 4), memcpy(ihdr + 4, &h, 4);
  ihdr[8] = 16, ihdr[9] = 0, ihdr[10] = 0, ihdr[11] = 0, ihdr[12] = 0; /* 16-bit grey, deflate, no interlace */
  if (rc == SB_OK && fwrite("\x89PNG\r\n\x1a\n", 8, 1, f) != 1) rc = SB_ERR_IO;
  if (rc == SB_OK) rc = chunk(f, "IHDR", ihdr, 13);
  if (rc == SB_OK) rc = chunk(f, "IDAT", z, (uint32_t)z_len);
  if (rc == SB_OK) rc = chunk(f, "IEND", NULL, 0);
  if (f && fclose(f) != 0) rc = SB_ERR_IO;
  free(z);
  if (rc == SB_OK && rename(tmp, path) != 0) rc = SB_ERR_IO;
  if (rc) {
    remove(tmp);
    return sb_error_set(SB_ERR_IO, "%s: cannot write the 16-bit PNG", path);
  }
  return SB_OK;
}
