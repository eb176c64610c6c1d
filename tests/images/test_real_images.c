/* test_real_images.c — real photographs from Debian's python3-skimage
 * (astronaut.png, coffee.png, hubble_deep_field.jpg): decoded with
 * stb_image, resized and normalised as SigLIP2 (Pillow's 8-bit bilinear)
 * and DINOv3 (torch's float antialiased bilinear, ImageNet normalisation)
 * preprocess them, against values recorded once from Pillow 9.4 and torch
 * 1.13 on Debian 12 (independent implementations), plus the DINOv3
 * plugin's own preprocess() on the same files. */
#include <stdlib.h>

#include "../common/check.h"
#include "model.h"
#include "recipe.h"
#include "spatialboost/spatialboost.h"
#include "util.h"

typedef struct ref {
  const char *file;
  int w, h;
  uint8_t decoded[3][3]; /* at (0,0), (100,200) [y,x], (h-1,w-1) */
  uint8_t pil224[5][3];  /* Pillow bilinear 224x224 at the points below */
  double torch224[5][3]; /* torch antialias bilinear on x/255, then (x-mean)/std */
} ref;

static const int k_pts[5][2] = {{0, 0}, {17, 101}, {100, 37}, {111, 200}, {223, 223}}; /* (y, x) */

static const ref k_refs[] = {
    {"astronaut.png", 512, 512, {{154, 147, 151}, {81, 57, 17}, {0, 0, 0}},
     {{145, 140, 148}, {186, 171, 131}, {187, 91, 61}, {139, 132, 125}, {0, 0, 0}},
     {{0.362666, 0.418667, 0.778497}, {1.073226, 0.951975, 0.476806}, {1.088313, -0.445007, -0.739669},
      {0.265575, 0.268938, 0.367779}, {-2.112079, -2.029759, -1.795434}}},
    {"coffee.png", 600, 400, {{21, 13, 8}, {203, 143, 85}, {143, 60, 29}},
     {{21, 13, 9}, {241, 214, 184}, {170, 40, 13}, {187, 120, 77}, {149, 68, 33}},
     {{-1.76088, -1.809348, -1.659443}, {1.99703, 1.71461, 1.394809}, {0.785009, -1.338189, -1.575575},
      {1.079262, 0.073248, -0.463708}, {0.434786, -0.851571, -1.237126}}},
    {"hubble_deep_field.jpg", 1000, 872, {{15, 7, 4}, {15, 21, 17}, {7, 18, 12}},
     {{12, 14, 13}, {15, 16, 14}, {10, 13, 11}, {11, 13, 11}, {10, 13, 11}},
     {{-1.908696, -1.786007, -1.573944}, {-1.855768, -1.751139, -1.567263}, {-1.947229, -1.806417, -1.610659},
      {-1.920812, -1.810973, -1.612508}, {-1.956012, -1.81673, -1.604989}}},
};

static const double k_mean[3] = {0.485, 0.456, 0.406}, k_std[3] = {0.229, 0.224, 0.225};

/* JPEG decoders may differ by a few levels in their inverse DCT; PNG is
 * lossless, so exact. The recorded values come from Pillow's libjpeg. */
static int decode_tolerance(const char *file) { return sb_str_ends_with(file, ".jpg") ? 4 : 0; }

static void check_image(const ref *r, float *torch_out) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", SB_SKIMAGE_DATA, r->file);
  sb_image img;
  CHECK(sb_image_load(path, &img) == SB_OK, "%s: %s", r->file, sb_error_message());
  if (!img.data) return;
  CHECK(img.width == r->w && img.height == r->h && img.channels == 3, "%s: %dx%d", r->file, img.width, img.height);
  const int at[3][2] = {{0, 0}, {100, 200}, {r->h - 1, r->w - 1}};
  int tol = decode_tolerance(r->file);
  for (int k = 0; k < 3; k++)
    for (int c = 0; c < 3; c++) {
      int got = img.data[((size_t)at[k][0] * r->w + at[k][1]) * 3 + c];
      CHECK(abs(got - r->decoded[k][c]) <= tol, "%s: decoded pixel %d channel %d is %d, expected %d", r->file, k, c,
            got, r->decoded[k][c]);
    }
  /* SigLIP2's path: Pillow-exact 8-bit bilinear (on our decode; for the
   * JPEG the decode differences propagate, hence the same tolerance) */
  sb_image small;
  CHECK(sb_image_resize(&img, 224, 224, SB_RESAMPLE_BILINEAR, &small) == SB_OK, "resize");
  for (int k = 0; k < 5 && small.data; k++)
    for (int c = 0; c < 3; c++) {
      int got = small.data[((size_t)k_pts[k][0] * 224 + k_pts[k][1]) * 3 + c];
      CHECK(abs(got - r->pil224[k][c]) <= tol, "%s: Pillow bilinear at point %d channel %d: %d, expected %d", r->file,
            k, c, got, r->pil224[k][c]);
    }
  sb_image_free(&small);
  /* DINOv3's path: float x/255, antialiased resize, ImageNet normalisation */
  size_t n = (size_t)r->w * r->h;
  float *planes = malloc(sizeof(float) * 3 * n);
  for (int c = 0; c < 3; c++)
    for (size_t i = 0; i < n; i++) planes[c * n + i] = (float)img.data[i * 3 + c] / 255.0f;
  CHECK(sb_resize_planes(planes, 3, r->h, r->w, torch_out, 224, 224, SB_RESAMPLE_BILINEAR) == SB_OK, "resize planes");
  /* float32 weights summed over up to ~10 taps per axis: ~1e-6 of the
   * range; 1e-5 after dividing by std ~0.22 (JPEG: the decode's levels) */
  double ftol = tol ? tol / 255.0 / 0.224 : 1e-5;
  for (int k = 0; k < 5; k++)
    for (int c = 0; c < 3; c++) {
      double v = (torch_out[c * 224 * 224 + k_pts[k][0] * 224 + k_pts[k][1]] - k_mean[c]) / k_std[c];
      CHECK(fabs(v - r->torch224[k][c]) <= ftol, "%s: torch antialias at point %d channel %d: %.6f, expected %.6f",
            r->file, k, c, v, r->torch224[k][c]);
    }
  free(planes);
  sb_image_free(&img);
}

/* The DINOv3 plugin's preprocess() at 224 gives the same pixel_values. */
static void check_plugin(const ref *r, const float *torch_out) {
  sb_recipe *rc = sb_recipe_load(SB_TEST_DATA "/dinov3_224.yaml", NULL, 0);
  sb_model m;
  memset(&m, 0, sizeof m);
  CHECK(rc && sb_model_build(&m, sb_recipe_root(rc), 0, SB_MODEL_CREATE) == SB_OK, "build: %s", sb_error_message());
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", SB_SKIMAGE_DATA, r->file);
  sb_image img;
  if (m.encoder.self && sb_image_load(path, &img) == SB_OK) {
    sb_scope_begin();
    sb_encoder_input in = {.struct_size = sizeof in};
    const sb_encoder_vtable *vt = m.encoder.vtable;
    CHECK(vt->preprocess(m.encoder.self, &img, 1, &in) == SB_OK, "preprocess: %s", sb_error_message());
    float *px = malloc(sizeof(float) * 3 * 224 * 224);
    CHECK(in.pixel_values && sb_tensor_to_host_f32(in.pixel_values, px, 3 * 224 * 224) == SB_OK, "pixels");
    double worst = 0;
    for (int c = 0; c < 3; c++)
      for (int i = 0; i < 224 * 224; i++)
        worst = fmax(worst, fabs(px[c * 224 * 224 + i] - (torch_out[c * 224 * 224 + i] - k_mean[c]) / k_std[c]));
    /* the same float computation, possibly in another order: a few ulps */
    CHECK(worst <= 1e-5, "%s: the plugin's preprocessing differs by %.3g", r->file, worst);
    free(px);
    sb_scope_end();
    sb_image_free(&img);
  }
  sb_model_free(&m);
  sb_recipe_free(rc);
}

int main(void) {
  char probe[1024];
  snprintf(probe, sizeof probe, "%s/astronaut.png", SB_SKIMAGE_DATA);
  if (!sb_path_exists(probe)) {
    fprintf(stderr, "%s is missing: install Debian's python3-skimage (its data images are the test material)\n", probe);
    return 1;
  }
  float *out = malloc(sizeof(float) * 3 * 224 * 224);
  for (size_t i = 0; i < sizeof k_refs / sizeof k_refs[0]; i++) {
    check_image(&k_refs[i], out);
    if (i == 0) check_plugin(&k_refs[i], out);
  }
  free(out);
  return check_summary("real-images");
}
