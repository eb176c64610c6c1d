/* dinov3_preprocess.c — 8-bit images to pixel_values as Hugging Face's
 * DINOv3ViTImageProcessorFast does (MODELS.md A.6): to RGB, to float and
 * ×rescale_factor, resize with torch's antialiased filter (bilinear by
 * default) in float, then (x - mean) / std per channel, in that order. */
#include <stdlib.h>
#include <string.h>

#include "dinov3.h"

/* The size one w×h image is resized to: the configured height×width, or
 * with shortest_edge S the short side to S and the long one to
 * int(S·long/short), as transformers' get_resize_output_image_size. */
static void target_size(const dinov3_preproc *p, int w, int h, int *oh, int *ow) {
  if (!p->do_resize) {
    *oh = h, *ow = w;
  } else if (p->shortest_edge > 0) {
    int s = p->shortest_edge, shorter = w <= h ? w : h, longer = w <= h ? h : w;
    int grown = (int)((double)s * longer / shorter);
    if (w <= h) *ow = s, *oh = grown;
    else *oh = s, *ow = grown;
  } else {
    *oh = p->height, *ow = p->width;
  }
}

static int check_image(const sb_image *img, int i) {
  if (!img->data || img->width < 1 || img->height < 1 || img->width > 65536 || img->height > 65536)
    return sb_error_set(SB_ERR_SHAPE, "encoder_dinov3: image %d is empty or too large (%dx%d)", i, img->width,
                        img->height);
  if (img->channels != 1 && img->channels != 3 && img->channels != 4)
    return sb_error_set(SB_ERR_SHAPE, "encoder_dinov3: image %d has %d channels, expected 1 (grey), 3 (RGB) or "
                        "4 (RGBA)", i, img->channels);
  return SB_OK;
}

/* Image (grey, RGB or RGBA; alpha dropped as PIL's convert("RGB")) ->
 * float planes [3, h, w], rescaled when do_rescale. */
static void to_planes(const dinov3_preproc *p, const sb_image *img, float *planes) {
  size_t n = (size_t)img->width * (size_t)img->height;
  float scale = (float)p->rescale_factor;
  for (int c = 0; c < 3; c++) {
    int from = img->channels == 1 ? 0 : c;
    for (size_t k = 0; k < n; k++) {
      float v = (float)img->data[k * (size_t)img->channels + (size_t)from];
      planes[(size_t)c * n + k] = p->do_rescale ? v * scale : v;
    }
  }
}

/* One image -> dst [3, oh, ow]. */
static int image_pixels(const dinov3_preproc *p, const sb_image *img, int oh, int ow, float *dst) {
  size_t n = (size_t)img->width * (size_t)img->height, on = (size_t)oh * (size_t)ow;
  float *planes = malloc(sizeof(float) * 3 * n);
  if (!planes) return sb_error_set(SB_ERR_NOMEM, "encoder_dinov3: out of memory");
  to_planes(p, img, planes);
  int rc = SB_OK;
  if (p->do_resize) rc = sb_resize_planes(planes, 3, img->height, img->width, dst, oh, ow, p->resample);
  else memcpy(dst, planes, sizeof(float) * 3 * n);
  free(planes);
  if (rc) return rc;
  for (int c = 0; c < 3 && p->do_normalize; c++) {
    float mean = (float)p->mean[c], stdv = (float)p->std[c];
    for (size_t k = 0; k < on; k++) dst[(size_t)c * on + k] = (dst[(size_t)c * on + k] - mean) / stdv;
  }
  return SB_OK;
}

int dinov3_preprocess(const dinov3 *m, const sb_image *images, int n, sb_encoder_input *out) {
  if (!images || n < 1 || !out) return sb_error("encoder_dinov3: preprocess needs at least one image");
  int oh = 0, ow = 0;
  for (int i = 0; i < n; i++) {
    int h, w;
    if (check_image(&images[i], i)) return SB_ERR_SHAPE;
    target_size(&m->pre, images[i].width, images[i].height, &h, &w);
    if (i > 0 && (h != oh || w != ow))
      return sb_error_set(SB_ERR_SHAPE, "encoder_dinov3: image %d becomes %dx%d but image 0 becomes %dx%d; one "
                          "batch needs one size (set image_size for a fixed square size)", i, w, h, ow, oh);
    oh = h, ow = w;
  }
  size_t per = (size_t)3 * (size_t)oh * (size_t)ow;
  float *buf = malloc(sizeof(float) * per * (size_t)n);
  if (!buf) return sb_error_set(SB_ERR_NOMEM, "encoder_dinov3: out of memory for %d images", n);
  int rc = SB_OK;
  for (int i = 0; i < n && rc == SB_OK; i++) rc = image_pixels(&m->pre, &images[i], oh, ow, buf + per * (size_t)i);
  sb_tensor *px = rc == SB_OK ? sb_tensor_from_host(SB_DTYPE_F32, 4, (int64_t[]){n, 3, oh, ow}, buf) : NULL;
  free(buf);
  if (!px) return rc ? rc : SB_ERR;
  out->pixel_values = px;
  out->pixel_attention_mask = NULL;
  out->spatial_shapes = NULL;
  return SB_OK;
}
