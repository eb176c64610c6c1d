/* qa_input.c — filling the generator's input (qa.h) from a scene folder
 * (SCENES.md: objects' names become the descriptions, the caption is used
 * when the first view is view 0, whose caption it is) or from real files
 * (an image, a depth map, masks and a camera per view). Problems of a
 * sample's data that a dataset may simply have (depth and masks of other
 * sizes) come back as SB_QA_SKIP with a reason; unreadable files are
 * errors. */
#include <stdlib.h>
#include <string.h>

#include "qa_input.h"
#include "scene.h"
#include "util.h"

static int alloc_views(sb_qa_input *in, int n) {
  in->views = sb_calloc((size_t)n, sizeof *in->views);
  if (!in->views) return SB_ERR_NOMEM;
  in->n_views = n;
  return SB_OK;
}

/* ---- scene folders ---- */

static int scene_view(const sb_scene *s, int index, sb_qa_view *out) {
  const sb_scene_view *sv = &s->views[index];
  sb_view_data vd;
  if (sb_view_data_load(sv->dir, &vd)) return sb_error_code();
  sb_mask_set ms;
  int rc = sb_masks_from_ids(vd.ids, vd.width, vd.height, &ms);
  if (rc == SB_OK) {
    out->image_path = sb_path_join(sv->dir, "image.png");
    out->width = vd.width, out->height = vd.height;
    out->depth = vd.depth, vd.depth = NULL;
    out->image = vd.image, vd.image.data = NULL;
    out->k = (sb_intrinsics){sv->cam.fx, sv->cam.fy, sv->cam.cx, sv->cam.cy, 0.5};
    memcpy(out->cam_to_world, sv->cam.cam_to_world, sizeof out->cam_to_world);
    out->masks = ms.masks, out->n_masks = ms.n;
    if (!out->image_path) rc = SB_ERR_NOMEM;
  }
  sb_view_data_free(&vd);
  return rc;
}

char *sb_qa_scene_sample_id(const sb_scene *s, const int *views, int n_views) {
  sb_strbuf b;
  sb_strbuf_init(&b);
  int rc = sb_strbuf_append(&b, s->id && s->id[0] ? s->id : sb_path_basename(s->dir));
  for (int i = 0; i < n_views && rc == SB_OK; i++) rc = sb_strbuf_printf(&b, "%s%02d", i ? "-" : "_v", views[i]);
  if (rc) {
    sb_strbuf_free(&b);
    return NULL;
  }
  return sb_strbuf_take(&b);
}

int sb_qa_input_from_scene(const sb_scene *s, const int *views, int n_views, sb_qa_input *out) {
  memset(out, 0, sizeof *out);
  for (int i = 0; i < n_views; i++)
    if (views[i] < 0 || views[i] >= s->n_views)
      return sb_error_set(SB_ERR_FORMAT, "%s: view %d of a scene with %d views", s->dir, views[i], s->n_views);
  int rc = alloc_views(out, n_views);
  if (rc == SB_OK && !(out->id = sb_qa_scene_sample_id(s, views, n_views))) rc = SB_ERR_NOMEM;
  for (int i = 0; i < n_views && rc == SB_OK; i++) rc = scene_view(s, views[i], &out->views[i]);
  for (int i = 0; i < s->n_objects && rc == SB_OK; i++)
    rc = sb_qa_input_describe(out, s->objects[i].id, s->objects[i].name);
  if (rc == SB_OK && views[0] == 0 && s->caption && !(out->caption = sb_strdup(s->caption))) rc = SB_ERR_NOMEM;
  if (rc) sb_qa_input_free(out);
  return rc;
}

/* ---- real files ---- */

static int file_view(const sb_qa_files *f, const sb_qa_file_options *o, bool need_pose, sb_qa_view *out,
                     const char **skip) {
  sb_depth_map d;
  sb_mask_set m = {0};
  sb_view_camera cam;
  int rc = sb_depth_load(f->depth, o->depth_units, &d);
  if (rc == SB_OK) rc = sb_masks_load(f->masks, &m);
  if (rc == SB_OK && m.n && (m.width != d.width || m.height != d.height)) {
    *skip = SB_QA_SKIP_SIZES;
    sb_error("%s is %d×%d but %s is %d×%d", f->depth, d.width, d.height, f->masks, m.width, m.height);
    rc = SB_QA_SKIP;
  }
  if (rc == SB_OK) rc = sb_camera_resolve(f->camera, d.width, d.height, o->pixel_center, &cam);
  if (rc == SB_OK && f->image) rc = sb_image_load(f->image, &out->image);
  if (rc == SB_OK) {
    out->image_path = sb_strdup(f->image_path ? f->image_path : f->image ? f->image : "");
    out->width = d.width, out->height = d.height;
    out->depth = d.z, d.z = NULL;
    out->masks = m.masks, out->n_masks = m.n, m.masks = NULL, m.n = 0;
    out->k = cam.k;
    memcpy(out->cam_to_world, cam.cam_to_world, sizeof cam.cam_to_world);
    if (!out->image_path) rc = SB_ERR_NOMEM;
  }
  if (rc == SB_OK && need_pose && !cam.has_pose)
    rc = sb_error_set(SB_ERR_FORMAT, "%s: no cam_to_world; multi-view samples need each view's pose in its "
                      "intrinsics JSON", f->camera);
  sb_depth_free(&d);
  sb_masks_free(&m);
  return rc;
}

int sb_qa_input_from_files(const sb_qa_files *views, int n_views, const sb_qa_file_options *o, const char *id,
                           sb_qa_input *out, const char **skip_reason) {
  memset(out, 0, sizeof *out);
  *skip_reason = NULL;
  int rc = alloc_views(out, n_views);
  if (rc == SB_OK && !(out->id = sb_strdup(id))) rc = SB_ERR_NOMEM;
  for (int i = 0; i < n_views && rc == SB_OK; i++) rc = file_view(&views[i], o, n_views > 1, &out->views[i], skip_reason);
  if (rc) sb_qa_input_free(out);
  return rc;
}
