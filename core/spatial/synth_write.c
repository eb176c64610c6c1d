/* synth_write.c — a rendered view's files (synth.h, SCENES.md): image.png,
 * depth.png (millimetres), depth.safetensors (metres), instances.png and
 * masks.json (COCO RLE in the SA-1B layout), in parallel. Every file is
 * written atomically. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "rle.h"
#include "spatialboost/safetensors.h"
#include "synth.h"
#include "util.h"

/* One annotation: the object's pixels as an RLE string, area and box. */
static json_t *annotation(const uint16_t *ids, uint8_t *mask, int width, int height, uint16_t id) {
  size_t n = (size_t)width * (size_t)height;
  for (size_t i = 0; i < n; i++) mask[i] = ids[i] == id;
  sb_rle rle;
  if (sb_rle_encode(mask, height, width, &rle)) return NULL;
  char *counts = sb_rle_to_string(&rle);
  double bbox[4];
  sb_rle_bbox(&rle, bbox);
  json_t *a = NULL;
  if (counts) {
    json_t *seg = json_object(), *size = json_array(), *box = json_array();
    json_array_append_new(size, json_integer(height));
    json_array_append_new(size, json_integer(width));
    json_object_set_new(seg, "size", size);
    json_object_set_new(seg, "counts", json_string(counts));
    for (int k = 0; k < 4; k++) json_array_append_new(box, json_real(bbox[k]));
    a = json_object();
    json_object_set_new(a, "id", json_integer(id));
    json_object_set_new(a, "segmentation", seg);
    json_object_set_new(a, "area", json_integer((json_int_t)sb_rle_area(&rle)));
    json_object_set_new(a, "bbox", box);
    json_object_set_new(a, "object_id", json_integer(id));
  }
  free(counts);
  sb_rle_free(&rle);
  return a;
}

static json_t *image_info(int width, int height) {
  json_t *img = json_object();
  json_object_set_new(img, "image_id", json_integer(0));
  json_object_set_new(img, "width", json_integer(width));
  json_object_set_new(img, "height", json_integer(height));
  json_object_set_new(img, "file_name", json_string("image.png"));
  return img;
}

/* The ids present in the image, in increasing order, as flags. */
static uint8_t *ids_present(const uint16_t *ids, size_t n) {
  uint8_t *seen = sb_calloc(65536, 1);
  if (seen)
    for (size_t i = 0; i < n; i++) seen[ids[i]] = 1;
  return seen;
}

int sb_masks_save(const uint16_t *ids, int width, int height, const char *path) {
  size_t n = (size_t)width * (size_t)height;
  uint8_t *seen = ids_present(ids, n), *mask = sb_malloc(n ? n : 1);
  json_t *root = json_object(), *anns = json_array();
  int rc = seen && mask ? SB_OK : SB_ERR_NOMEM;
  for (int id = 1; id < 65536 && rc == SB_OK; id++) {
    if (!seen[id]) continue;
    json_t *a = annotation(ids, mask, width, height, (uint16_t)id);
    if (!a) rc = SB_ERR_NOMEM;
    else json_array_append_new(anns, a);
  }
  json_object_set_new(root, "image", image_info(width, height));
  json_object_set_new(root, "annotations", anns);
  if (rc == SB_OK) rc = sb_scene_json_write(root, path);
  json_decref(root);
  free(seen);
  free(mask);
  return rc;
}

/* Millimetres, rounded from the float32 metres; 0 stays "no value" and any
 * hit at least 1 mm. */
static uint16_t depth_mm(float metres) {
  if (!(metres > 0)) return 0;
  long mm = lround((double)metres * 1000.0);
  return (uint16_t)(mm < 1 ? 1 : mm > 65535 ? 65535 : mm);
}

static int write_depth_png(const sb_synth_frame *f, const char *path) {
  size_t n = (size_t)f->width * (size_t)f->height;
  sb_image16 img = {f->width, f->height, sb_malloc(n * sizeof(uint16_t))};
  if (!img.data) return SB_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) img.data[i] = depth_mm(f->depth[i]);
  int rc = sb_image16_save_png(&img, path);
  free(img.data);
  return rc;
}

static int write_depth_st(const sb_synth_frame *f, const char *path) {
  sb_st_writer *w = sb_st_writer_new();
  int64_t shape[2] = {f->height, f->width};
  int rc = !w                                                                    ? SB_ERR_NOMEM
           : sb_st_writer_add(w, "depth", SB_DTYPE_F32, 2, shape, f->depth)       ? SB_ERR
           : sb_st_writer_set_metadata(w, "unit", "m")                            ? SB_ERR
           : sb_st_writer_set_metadata(w, "frame", "camera z (OpenCV), 0 = none") ? SB_ERR
                                                                                  : sb_st_writer_write(w, path);
  sb_st_writer_free(w);
  return rc;
}

/* Writes one of the view's files; `which` picks it. */
static int write_one(const sb_synth_frame *f, const char *dir, int which) {
  static const char *const names[] = {"image.png", "depth.png", "depth.safetensors", "instances.png", "masks.json"};
  char *path = sb_path_join(dir, names[which]);
  if (!path) return SB_ERR_NOMEM;
  sb_image rgb = {f->width, f->height, 3, f->rgb};
  sb_image16 ids = {f->width, f->height, f->ids};
  int rc = which == 0   ? sb_image_save_png(&rgb, path)
           : which == 1 ? write_depth_png(f, path)
           : which == 2 ? write_depth_st(f, path)
           : which == 3 ? sb_image16_save_png(&ids, path)
                        : sb_masks_save(f->ids, f->width, f->height, path);
  free(path);
  return rc;
}

/* The five files are independent: written by up to `threads` threads, each
 * failure's message kept (messages are per thread) and the first one, in
 * file order, reported. */
int sb_synth_write_view(const sb_synth_frame *f, const char *dir, int threads) {
  enum { N_FILES = 5 };
  int rc[N_FILES] = {0};
  char msg[N_FILES][512];
  int nt = threads > 0 ? SB_MIN(threads, N_FILES) : SB_MIN(omp_get_max_threads(), N_FILES);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (int which = 0; which < N_FILES; which++)
    if ((rc[which] = write_one(f, dir, which))) snprintf(msg[which], sizeof msg[which], "%s", sb_error_message());
  for (int which = 0; which < N_FILES; which++)
    if (rc[which]) return sb_error_set(rc[which], "%s", msg[which]);
  return SB_OK;
}
