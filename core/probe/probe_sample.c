/* probe_sample.c — one probe image's pixels and annotations (depth in
 * metres, class ids, the image's class) for every layout, and the per-patch
 * targets made from them (PROBES.md, "Targets"). Scene views come from
 * sb_view_data_load (scene.h); their classes from scene.json's objects
 * (probe_layout.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probe_data.h"
#include "scene.h"
#include "util.h"

/* An annotation must have its image's size. */
static int check_size(const char *path, int w, int h, const sb_probe_pixels *p, const char *image) {
  if (w == p->width && h == p->height) return SB_OK;
  return sb_error_set(SB_ERR_SHAPE, "%s is %dx%d, but its image %s is %dx%d", path, w, h, image, p->width, p->height);
}

/* A 16-bit depth PNG (0 = no value) into p->depth, times `scale` metres. */
static int load_depth_png(const char *path, double scale, const char *image, sb_probe_pixels *p) {
  sb_image16 d;
  int rc = sb_image16_load(path, &d);
  if (rc == SB_OK) rc = check_size(path, d.width, d.height, p, image);
  size_t n = (size_t)p->width * (size_t)p->height;
  if (rc == SB_OK && !(p->depth = sb_malloc(n * sizeof *p->depth))) rc = SB_ERR_NOMEM;
  for (size_t i = 0; rc == SB_OK && i < n; i++) p->depth[i] = (float)(d.data[i] * scale);
  sb_image16_free(&d);
  return rc;
}

/* An ADE-style class-id PNG: 0 = ignore, other values are class ids. */
static int load_label_png(const char *path, const char *image, sb_probe_pixels *p) {
  sb_image16 l;
  int rc = sb_image16_load(path, &l);
  if (rc == SB_OK) rc = check_size(path, l.width, l.height, p, image);
  size_t n = (size_t)p->width * (size_t)p->height;
  if (rc == SB_OK && !(p->labels = sb_malloc(n * sizeof *p->labels))) rc = SB_ERR_NOMEM;
  for (size_t i = 0; rc == SB_OK && i < n; i++) p->labels[i] = l.data[i] ? (int32_t)l.data[i] : -1;
  sb_image16_free(&l);
  return rc;
}

/* The scene object index of instance id `id`, or -1. */
static int object_of(const sb_probe_scene *sc, int id) {
  for (int o = 0; o < sc->n_objects; o++)
    if (sc->object_ids[o] == id) return o;
  return -1;
}

/* A scene view's instance ids [W·H] into per-pixel shape classes (0 =
 * background) when p->labels is allocated, and the view's class: the shape
 * of the object with the most pixels (ties: the earlier object of
 * scene.json; none in view: -1). */
static int scene_classes(const uint16_t *ids, const sb_probe_scene *sc, const char *view, sb_probe_pixels *p) {
  size_t n = (size_t)p->width * (size_t)p->height;
  int64_t *count = sb_calloc((size_t)sc->n_objects + 1, sizeof *count);
  if (!count) return SB_ERR_NOMEM;
  int rc = SB_OK, last_id = 0, last_obj = -1; /* ids come in runs: remember the last lookup */
  for (size_t i = 0; i < n; i++) {
    int id = ids[i], o = id == last_id ? last_obj : (id ? object_of(sc, id) : -1);
    if (id && o < 0) {
      rc = sb_error_set(SB_ERR_FORMAT, "%s: instance id %d at pixel (%zu, %zu) is not an object of scene.json", view, id,
                        i % (size_t)p->width, i / (size_t)p->width);
      break;
    }
    last_id = id, last_obj = o;
    if (o >= 0) count[o]++;
    if (p->labels) p->labels[i] = o >= 0 ? sc->object_class[o] : 0;
  }
  int best = -1;
  for (int o = 0; rc == SB_OK && o < sc->n_objects; o++)
    if (count[o] > 0 && (best < 0 || count[o] > count[best])) best = o;
  p->cls = best >= 0 ? sc->object_class[best] : -1;
  free(count);
  return rc;
}

/* A scene view (sb_view_data_load: image.png, depth in metres, instance
 * ids) as pixels and the annotations `tasks` needs. */
static int load_scene_view(const sb_probe_dataset *ds, const sb_probe_sample *s, unsigned tasks, sb_probe_pixels *p) {
  sb_view_data v;
  int rc = sb_view_data_load(s->depth, &v);
  if (rc) return rc;
  p->image = v.image, p->width = v.width, p->height = v.height;
  memset(&v.image, 0, sizeof v.image);
  if (tasks & SB_PROBE_DEPTH) p->depth = v.depth, v.depth = NULL;
  size_t n = (size_t)p->width * (size_t)p->height;
  if ((tasks & SB_PROBE_SEG) && !(p->labels = sb_malloc((n + 1) * sizeof *p->labels))) rc = SB_ERR_NOMEM;
  if (rc == SB_OK && (tasks & (SB_PROBE_SEG | SB_PROBE_CLS))) rc = scene_classes(v.ids, &ds->scenes[s->scene], s->depth, p);
  sb_view_data_free(&v);
  return rc;
}

int sb_probe_pixels_load(const sb_probe_dataset *ds, int i, unsigned tasks, sb_probe_pixels *out) {
  memset(out, 0, sizeof *out);
  const sb_probe_sample *s = &ds->samples[i];
  out->cls = s->cls;
  tasks &= sb_probe_layout_tasks(ds->layout);
  if (ds->layout == SB_PROBE_LAYOUT_SCENES) {
    int rc = load_scene_view(ds, s, tasks, out);
    if (rc != SB_OK) sb_probe_pixels_free(out);
    return rc;
  }
  int rc = sb_image_load(s->image, &out->image);
  if (rc == SB_OK) out->width = out->image.width, out->height = out->image.height;
  if (rc == SB_OK && ds->layout == SB_PROBE_LAYOUT_NYU && (tasks & SB_PROBE_DEPTH))
    rc = load_depth_png(s->depth, ds->depth_scale, s->image, out);
  else if (rc == SB_OK && ds->layout == SB_PROBE_LAYOUT_ADE && (tasks & SB_PROBE_SEG))
    rc = load_label_png(s->labels, s->image, out);
  if (rc != SB_OK) sb_probe_pixels_free(out);
  return rc;
}

void sb_probe_pixels_free(sb_probe_pixels *p) {
  if (!p) return;
  sb_image_free(&p->image);
  free(p->depth);
  free(p->labels);
  memset(p, 0, sizeof *p);
}

/* ---- per-patch targets ---- */

/* The patch row (or column) of pixel row v of `size` pixels on a grid of n. */
static int cell_of(int v, int size, int n) { return (int)(((2 * (int64_t)v + 1) * n) / (2 * (int64_t)size)); }

static int check_grid(int width, int height, int grid_h, int grid_w) {
  if (width <= 0 || height <= 0 || grid_h <= 0 || grid_w <= 0)
    return sb_error_set(SB_ERR_SHAPE, "patch grid %dx%d over a %dx%d image", grid_w, grid_h, width, height);
  return SB_OK;
}

int sb_probe_patch_depth(const float *depth, int width, int height, int grid_h, int grid_w, float *depth_out) {
  if (check_grid(width, height, grid_h, grid_w)) return SB_ERR_SHAPE;
  size_t cells = (size_t)grid_h * (size_t)grid_w;
  double *sum = sb_calloc(cells, sizeof *sum);
  int64_t *valid = sb_calloc(cells, sizeof *valid), *total = sb_calloc(cells, sizeof *total);
  if (!sum || !valid || !total) return free(sum), free(valid), free(total), SB_ERR_NOMEM;
  for (int v = 0; v < height; v++) {
    int r = cell_of(v, height, grid_h);
    for (int u = 0; u < width; u++) {
      size_t c = (size_t)r * (size_t)grid_w + (size_t)cell_of(u, width, grid_w);
      float d = depth[(size_t)v * (size_t)width + (size_t)u];
      total[c]++;
      if (isfinite(d) && d > 0) sum[c] += d, valid[c]++;
    }
  }
  for (size_t c = 0; c < cells; c++)
    depth_out[c] = valid[c] > 0 && 2 * valid[c] >= total[c] ? (float)(sum[c] / (double)valid[c]) : NAN;
  free(sum), free(valid), free(total);
  return SB_OK;
}

static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

/* The most frequent value of v[0..n) (sorted in place; ties: the smaller). */
static int32_t mode_of(int32_t *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_i32);
  int32_t best = v[0];
  size_t best_run = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && v[j] == v[i]) j++;
    if (j - i > best_run) best = v[i], best_run = j - i;
    i = j;
  }
  return best;
}

int sb_probe_patch_labels(const int32_t *labels, int width, int height, int grid_h, int grid_w, int32_t *label_out) {
  if (check_grid(width, height, grid_h, grid_w)) return SB_ERR_SHAPE;
  size_t cells = (size_t)grid_h * (size_t)grid_w, npx = (size_t)width * (size_t)height;
  /* bucket the pixels by patch: start[c] .. start[c+1] in `buf` */
  size_t *start = sb_calloc(cells + 1, sizeof *start), *fill = sb_calloc(cells, sizeof *fill);
  int64_t *total = sb_calloc(cells, sizeof *total);
  int32_t *buf = sb_malloc((npx + 1) * sizeof *buf);
  int rc = start && fill && total && buf ? SB_OK : SB_ERR_NOMEM;
  for (int pass = 0; rc == SB_OK && pass < 2; pass++) {
    for (int v = 0; v < height; v++) {
      int r = cell_of(v, height, grid_h);
      for (int u = 0; u < width; u++) {
        size_t c = (size_t)r * (size_t)grid_w + (size_t)cell_of(u, width, grid_w);
        int32_t l = labels[(size_t)v * (size_t)width + (size_t)u];
        if (pass == 0) total[c]++, start[c + 1] += l >= 0;
        else if (l >= 0) buf[start[c] + fill[c]++] = l;
      }
    }
    for (size_t c = 0; pass == 0 && c < cells; c++) start[c + 1] += start[c];
  }
  for (size_t c = 0; rc == SB_OK && c < cells; c++) {
    size_t n = start[c + 1] - start[c];
    label_out[c] = n > 0 && 2 * (int64_t)n >= total[c] ? mode_of(buf + start[c], n) : -1;
  }
  free(start), free(fill), free(total), free(buf);
  return rc;
}
