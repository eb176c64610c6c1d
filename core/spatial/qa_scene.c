/* qa_scene.c — prepares a scene for the questions: checks the views, fuses
 * each object's per-view clouds (the depth percentile band applied in each
 * view) into the first view's camera frame, drops objects that have no cube
 * (counting why), keeps the largest max_objects, builds the normalised frame
 * from the fused scene cloud and the cubes, and measures each object's mean
 * colour for descriptions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qa_internal.h"

static int check_view(const sb_qa_view *v, int i) {
  if (!v->depth || v->width <= 0 || v->height <= 0)
    return sb_error_set(SB_ERR_FORMAT, "view %d: no depth map", i);
  const sb_intrinsics *k = &v->k;
  if (!(isfinite(k->fx) && k->fx > 0 && isfinite(k->fy) && k->fy > 0 && isfinite(k->cx) && isfinite(k->cy)))
    return sb_error_set(SB_ERR_FORMAT, "view %d: intrinsics fx %g fy %g cx %g cy %g: expected positive finite focal "
                        "lengths and a finite principal point", i, k->fx, k->fy, k->cx, k->cy);
  if (!sb_mat4_is_rigid(v->cam_to_world, 1e-3))
    return sb_error_set(SB_ERR_FORMAT, "view %d: cam_to_world is not a rigid transform (rotation and translation, "
                        "last row 0 0 0 1)", i);
  for (int m = 0; m < v->n_masks; m++)
    for (size_t p = 0; p < v->masks[m].n; p++)
      if (v->masks[m].pixels[p] >= (uint32_t)v->width * (uint32_t)v->height)
        return sb_error_set(SB_ERR_FORMAT, "view %d: object %d: a mask pixel outside the %d×%d depth map", i,
                            v->masks[m].id, v->width, v->height);
  return SB_OK;
}

static int view_transforms(qa_scene *s) {
  const sb_qa_input *in = s->in;
  if (!(s->to_ref = sb_calloc((size_t)in->n_views, sizeof *s->to_ref))) return SB_ERR_NOMEM;
  for (int i = 0; i < in->n_views; i++) {
    int rc = check_view(&in->views[i], i);
    if (rc) return rc;
    sb_view_to_ref(in->views[0].cam_to_world, in->views[i].cam_to_world, s->to_ref[i]);
  }
  return SB_OK;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* The ids of every mask of every view, sorted, each once. */
static int collect_ids(const sb_qa_input *in, int **ids, int *n) {
  size_t total = 0;
  for (int v = 0; v < in->n_views; v++) total += (size_t)in->views[v].n_masks;
  int *all = sb_malloc((total ? total : 1) * sizeof *all);
  if (!all) return SB_ERR_NOMEM;
  size_t k = 0;
  for (int v = 0; v < in->n_views; v++)
    for (int m = 0; m < in->views[v].n_masks; m++) all[k++] = in->views[v].masks[m].id;
  qsort(all, k, sizeof *all, cmp_int);
  int u = 0;
  for (size_t i = 0; i < k; i++)
    if (i == 0 || all[i] != all[i - 1]) all[u++] = all[i];
  *ids = all, *n = u;
  return SB_OK;
}

/* Object `id`'s fused cloud; *drop gets a reason when it has no cube. */
static int build_object(qa_scene *s, int id, qa_object *obj, const char **drop) {
  const sb_qa_input *in = s->in;
  memset(obj, 0, sizeof *obj);
  obj->id = id, obj->rgb[0] = -1;
  size_t valid = 0;
  *drop = NULL;
  for (int v = 0; v < in->n_views; v++) {
    const sb_qa_view *view = &in->views[v];
    for (int m = 0; m < view->n_masks; m++) {
      if (view->masks[m].id != id) continue;
      sb_cloud c;
      size_t nv = 0;
      int rc = sb_object_cloud(view->depth, view->width, view->height, &view->k, view->masks[m].pixels,
                               view->masks[m].n, s->o->pct_lo, s->o->pct_hi, &c, &nv);
      if (rc == SB_OK) {
        sb_cloud_transform(&c, s->to_ref[v]);
        rc = sb_cloud_append(&obj->cloud, &c);
      }
      obj->n_views += c.n > 0;
      valid += nv;
      sb_cloud_free(&c);
      if (rc) return rc;
    }
  }
  obj->n_points = obj->cloud.n;
  if (!valid) *drop = SB_QA_DROP_NO_DEPTH;
  else if (obj->cloud.n < (size_t)s->o->min_points) *drop = SB_QA_DROP_SMALL;
  else sb_cloud_bounds(&obj->cloud, &obj->box);
  return SB_OK;
}

/* The mean RGB under the object's masks, from the views that have an image
 * (pixels mapped by scale when the image and depth sizes differ). */
static void mean_colour(const sb_qa_input *in, qa_object *obj) {
  double sum[3] = {0, 0, 0};
  size_t n = 0;
  for (int v = 0; v < in->n_views; v++) {
    const sb_qa_view *view = &in->views[v];
    const sb_image *img = &view->image;
    if (!img->data) continue;
    for (int m = 0; m < view->n_masks; m++) {
      if (view->masks[m].id != obj->id) continue;
      for (size_t p = 0; p < view->masks[m].n; p++) {
        uint32_t px = view->masks[m].pixels[p];
        int u = (int)(px % (uint32_t)view->width), y = (int)(px / (uint32_t)view->width);
        int iu = (int)(((double)u + 0.5) * img->width / view->width);
        int iv = (int)(((double)y + 0.5) * img->height / view->height);
        const uint8_t *c = img->data + ((size_t)iv * (size_t)img->width + (size_t)iu) * (size_t)img->channels;
        for (int a = 0; a < 3; a++) sum[a] += c[img->channels >= 3 ? a : 0];
        n++;
      }
    }
  }
  if (n)
    for (int a = 0; a < 3; a++) obj->rgb[a] = sum[a] / (double)n;
}

static int cmp_points_desc(const void *a, const void *b) {
  const qa_object *x = a, *y = b;
  if (x->n_points != y->n_points) return x->n_points < y->n_points ? 1 : -1;
  return (x->id > y->id) - (x->id < y->id);
}

static int cmp_id(const void *a, const void *b) {
  const qa_object *x = a, *y = b;
  return (x->id > y->id) - (x->id < y->id);
}

/* Keeps the max_objects largest objects, then orders them by id. */
static void keep_largest(qa_scene *s, sb_qa_stats *stats) {
  int max = s->o->max_objects;
  if (max > 0 && s->n_objs > max) {
    qsort(s->objs, (size_t)s->n_objs, sizeof *s->objs, cmp_points_desc);
    for (int i = max; i < s->n_objs; i++) {
      if (stats) sb_qa_tally_add(&stats->dropped, SB_QA_DROP_MAX);
      sb_cloud_free(&s->objs[i].cloud);
    }
    s->n_objs = max;
  }
  qsort(s->objs, (size_t)s->n_objs, sizeof *s->objs, cmp_id);
}

static int build_objects(qa_scene *s, sb_qa_stats *stats) {
  int *ids = NULL, n = 0;
  int rc = collect_ids(s->in, &ids, &n);
  if (rc == SB_OK && !(s->objs = sb_calloc((size_t)(n ? n : 1), sizeof *s->objs))) rc = SB_ERR_NOMEM;
  for (int i = 0; i < n && rc == SB_OK; i++) {
    const char *drop = NULL;
    qa_object *o = &s->objs[s->n_objs];
    rc = build_object(s, ids[i], o, &drop);
    if (rc == SB_OK && drop) {
      if (stats) sb_qa_tally_add(&stats->dropped, drop);
      sb_cloud_free(&o->cloud);
    } else if (rc == SB_OK) {
      mean_colour(s->in, o);
      s->n_objs++;
    }
  }
  free(ids);
  if (rc == SB_OK) keep_largest(s, stats);
  return rc;
}

/* Every valid pixel of every view on a grid of about 16k points per view,
 * in the reference frame. */
static int scene_cloud(const qa_scene *s, sb_cloud *out) {
  memset(out, 0, sizeof *out);
  for (int v = 0; v < s->in->n_views; v++) {
    const sb_qa_view *view = &s->in->views[v];
    int step = (int)sqrt((double)view->width * view->height / 16384.0);
    if (step < 1) step = 1;
    for (int y = 0; y < view->height; y += step)
      for (int u = 0; u < view->width; u += step) {
        float z = view->depth[(size_t)y * (size_t)view->width + (size_t)u];
        if (!sb_depth_valid(z)) continue;
        double p[3];
        sb_backproject(&view->k, u, y, z, p);
        sb_mat4_apply(s->to_ref[v], p, p);
        if (sb_cloud_push(out, p)) return SB_ERR_NOMEM;
      }
  }
  return SB_OK;
}

static int make_frame(qa_scene *s, const sb_cloud *scene) {
  sb_box3 *boxes = sb_malloc((size_t)(s->n_objs ? s->n_objs : 1) * sizeof *boxes);
  if (!boxes) return SB_ERR_NOMEM;
  for (int i = 0; i < s->n_objs; i++) boxes[i] = s->objs[i].box;
  int rc = sb_norm_frame_make(scene, boxes, (size_t)s->n_objs, &s->frame);
  free(boxes);
  for (int i = 0; rc == SB_OK && i < s->n_objs; i++) {
    sb_norm_box(&s->frame, &s->objs[i].box, s->objs[i].cube);
    for (int a = 0; a < 6; a++) s->objs[i].cube[a] = qa_round2(s->objs[i].cube[a]);
  }
  return rc;
}

int qa_scene_prepare(qa_scene *s, sb_qa_stats *stats, const char **skip_reason) {
  *skip_reason = NULL;
  if (s->in->n_views <= 0) return sb_error_set(SB_ERR_FORMAT, "sample '%s': no views", s->in->id);
  int rc = view_transforms(s);
  sb_cloud scene = {0};
  if (rc == SB_OK) rc = scene_cloud(s, &scene);
  if (rc == SB_OK && !scene.n) {
    sb_cloud_free(&scene);
    *skip_reason = SB_QA_SKIP_NO_DEPTH;
    sb_error("sample '%s': no pixel has a valid depth (all zero, negative, NaN or infinite)", s->in->id);
    return SB_QA_SKIP;
  }
  if (rc == SB_OK) rc = build_objects(s, stats);
  if (rc == SB_OK && s->n_objs < 2) {
    sb_cloud_free(&scene);
    *skip_reason = SB_QA_SKIP_FEW_OBJECTS;
    sb_error("sample '%s': %d object%s with a cube (at least %d valid points after the %g–%g%% depth band); "
             "2 are needed", s->in->id, s->n_objs, s->n_objs == 1 ? "" : "s", s->o->min_points, s->o->pct_lo,
             s->o->pct_hi);
    return SB_QA_SKIP;
  }
  if (rc == SB_OK) rc = make_frame(s, &scene);
  sb_cloud_free(&scene);
  if (rc == SB_OK) rc = qa_describe_objects(s);
  return rc;
}

void qa_scene_free(qa_scene *s) {
  for (int i = 0; s->objs && i < s->n_objs; i++) {
    sb_cloud_free(&s->objs[i].cloud);
    free(s->objs[i].desc);
  }
  free(s->objs);
  free(s->to_ref);
  for (int i = 0; i < s->n_turns; i++) free(s->turns[i].text);
  free(s->turns);
  sb_jw_free(&s->questions);
  memset(s, 0, sizeof *s);
}
