/* siglip2_preprocess.c — decoded 8-bit images to the tower's inputs as the
 * Hugging Face slow (PIL) image processors make them (spec/MODELS.md B.7):
 *   fixed-res (SiglipImageProcessor): RGB, Pillow resize to the input size
 *     (bilinear for SigLIP2 / bicubic for SigLIP v1, as preprocessor_config
 *     says), ×rescale_factor, (x - mean) / std -> pixel_values [n, 3, H, W];
 *   NaFlex (Siglip2ImageProcessor): the same per image at its own target
 *     size (B.7.2), patchified to (py, px, c), zero-padded to max_num_patches
 *     -> pixel_values [n, Nmax, 3·P·P], pixel_attention_mask [n, Nmax] (I64),
 *     spatial_shapes [n, 2] (I64).
 * Values are rounded as numpy does it: the rescale in double then cast to
 * float32, the normalisation in float32. */
#include <stdlib.h>
#include <string.h>

#include "siglip2.h"

/* RGB copy of an 8-bit image (grey replicated, alpha dropped, as PIL's
 * convert("RGB")); dst->data is new. */
static int to_rgb(const sb_image *src, int index, sb_image *dst) {
  if (!src->data || src->width < 1 || src->height < 1 || (src->channels != 1 && src->channels != 3 && src->channels != 4))
    return sb_error_set(SB_ERR_SHAPE, "image %d: %dx%d with %d channels: expected a non-empty image with 1, 3 or 4 "
                        "channels", index, src->width, src->height, src->channels);
  size_t n = (size_t)src->width * (size_t)src->height;
  uint8_t *d = malloc(n * 3);
  if (!d) return sb_error_set(SB_ERR_NOMEM, "image %d: out of memory", index);
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++) d[i * 3 + c] = src->data[i * (size_t)src->channels + (src->channels == 1 ? 0 : (size_t)c)];
  *dst = (sb_image){src->width, src->height, 3, d};
  return SB_OK;
}

/* The RGB image at width × height (Pillow's resize; a copy when the size is
 * already right). dst->data is new. */
static int rgb_at_size(const siglip2 *m, const sb_image *src, int index, int width, int height, sb_image *dst) {
  sb_image rgb;
  if (to_rgb(src, index, &rgb)) return SB_ERR;
  if (rgb.width == width && rgb.height == height) return *dst = rgb, SB_OK;
  if (!m->pre.do_resize) {
    free(rgb.data);
    return sb_error_set(SB_ERR_SHAPE, "image %d is %dx%d, expected %dx%d (preprocessor_config.json sets "
                        "do_resize false)", index, src->width, src->height, width, height);
  }
  int rc = sb_image_resize(&rgb, width, height, (sb_resample)m->pre.resample, dst);
  free(rgb.data);
  return rc ? sb_error_prefix("image %d", index) : SB_OK;
}

/* Interleaved RGB u8 [h, w, 3] -> normalised float planes [3, h, w]. */
static void normalise(const siglip2 *m, const sb_image *img, float *chw) {
  const siglip2_preproc *pp = &m->pre;
  size_t hw = (size_t)img->width * (size_t)img->height;
  for (int c = 0; c < 3; c++) {
    float mean = (float)pp->mean[c], std = (float)pp->std[c];
    for (size_t i = 0; i < hw; i++) {
      uint8_t u = img->data[i * 3 + (size_t)c];
      float v = pp->do_rescale ? (float)((double)u * pp->rescale) : (float)u;
      chw[(size_t)c * hw + i] = pp->do_normalize ? (v - mean) / std : v;
    }
  }
}

int64_t siglip2_patchify_pad(const float *chw, int64_t H, int64_t W, int64_t P, int64_t max_patches, float *out) {
  int64_t gh = H / P, gw = W / P, K = 3 * P * P;
  if (gh * P != H || gw * P != W || gh * gw > max_patches) return -1;
  memset(out, 0, sizeof(float) * (size_t)(max_patches * K));
  for (int64_t gy = 0; gy < gh; gy++)
    for (int64_t gx = 0; gx < gw; gx++) {
      float *patch = out + (gy * gw + gx) * K;
      for (int64_t py = 0; py < P; py++)
        for (int64_t px = 0; px < P; px++)
          for (int64_t c = 0; c < 3; c++)
            patch[(py * P + px) * 3 + c] = chw[(c * H + gy * P + py) * W + gx * P + px];
    }
  return gh * gw;
}

/* Fixed-res: pixel_values [n, 3, in_h, in_w]. */
static int preprocess_fixed(const siglip2 *m, const sb_image *images, int n, sb_encoder_input *out) {
  size_t plane = (size_t)(3 * m->in_h * m->in_w);
  float *px = malloc(sizeof(float) * plane * (size_t)n);
  if (!px) return sb_error_set(SB_ERR_NOMEM, "out of memory for %d images", n);
  int rc = SB_OK;
  for (int i = 0; i < n && !rc; i++) {
    sb_image img;
    rc = rgb_at_size(m, &images[i], i, (int)m->in_w, (int)m->in_h, &img);
    if (rc) break;
    normalise(m, &img, px + plane * (size_t)i);
    free(img.data);
  }
  if (!rc) out->pixel_values = sb_tensor_from_host(SB_DTYPE_F32, 4, (int64_t[]){n, 3, m->in_h, m->in_w}, px);
  free(px);
  return rc ? rc : out->pixel_values ? SB_OK : SB_ERR;
}

/* NaFlex: one image into its rows of pixel_values [Nmax, 3·P·P], its mask
 * row [Nmax] and its spatial shape [2]. */
static int naflex_one(const siglip2 *m, const sb_image *src, int index, float *rows, int64_t *mask, int64_t *shape) {
  int64_t P = m->cfg.patch, th, tw;
  if (m->pre.do_resize) siglip2_naflex_size(src->height, src->width, P, m->max_patches, &th, &tw);
  else th = src->height, tw = src->width;
  sb_image img;
  if (rgb_at_size(m, src, index, (int)tw, (int)th, &img)) return SB_ERR;
  float *chw = malloc(sizeof(float) * (size_t)(3 * th * tw));
  if (!chw) {
    free(img.data);
    return sb_error_set(SB_ERR_NOMEM, "image %d: out of memory", index);
  }
  normalise(m, &img, chw);
  int64_t real = siglip2_patchify_pad(chw, th, tw, P, m->max_patches, rows);
  free(chw), free(img.data);
  if (real < 0)
    return sb_error_set(SB_ERR_SHAPE, "image %d: %lldx%lld pixels do not make at most %lld whole %lldx%lld patches",
                        index, (long long)tw, (long long)th, (long long)m->max_patches, (long long)P, (long long)P);
  for (int64_t p = 0; p < m->max_patches; p++) mask[p] = p < real;
  shape[0] = th / P, shape[1] = tw / P;
  return SB_OK;
}

static int preprocess_naflex(const siglip2 *m, const sb_image *images, int n, sb_encoder_input *out) {
  int64_t N = m->max_patches, K = 3 * m->cfg.patch * m->cfg.patch;
  float *px = malloc(sizeof(float) * (size_t)(n * N * K));
  int64_t *mask = malloc(sizeof(int64_t) * (size_t)(n * N)), *shapes = malloc(sizeof(int64_t) * (size_t)(2 * n));
  int rc = px && mask && shapes ? SB_OK : sb_error_set(SB_ERR_NOMEM, "out of memory for %d images", n);
  for (int i = 0; i < n && !rc; i++)
    rc = naflex_one(m, &images[i], i, px + (size_t)(i * N * K), mask + (size_t)(i * N), shapes + 2 * i);
  if (!rc) {
    out->pixel_values = sb_tensor_from_host(SB_DTYPE_F32, 3, (int64_t[]){n, N, K}, px);
    out->pixel_attention_mask = sb_tensor_from_host(SB_DTYPE_I64, 2, (int64_t[]){n, N}, mask);
    out->spatial_shapes = sb_tensor_from_host(SB_DTYPE_I64, 2, (int64_t[]){n, 2}, shapes);
    if (!out->pixel_values || !out->pixel_attention_mask || !out->spatial_shapes) rc = SB_ERR;
  }
  free(px), free(mask), free(shapes);
  return rc;
}

int siglip2_preprocess(void *self, const sb_image *images, int n, sb_encoder_input *out) {
  const siglip2 *m = self;
  if (!out || n < 1 || !images)
    return sb_error_set(SB_ERR_SHAPE, SIGLIP2_NAME ": preprocess needs at least one image and an output");
  out->pixel_values = out->pixel_attention_mask = out->spatial_shapes = NULL;
  int rc = m->cfg.naflex ? preprocess_naflex(m, images, n, out) : preprocess_fixed(m, images, n, out);
  return rc ? sb_error_prefix(SIGLIP2_NAME ": preprocess") : SB_OK;
}
