/* spatial_api.c — the sdk's spatial.h: scene-folder conversations for
 * dataset plugins, on top of qa.c and qa_input.c. */
#include <stdlib.h>
#include <string.h>

#include "qa_input.h"
#include "spatialboost/spatial.h"
#include "util.h"

void sb_spatial_options_init(sb_spatial_options *o) {
  sb_qa_options q;
  sb_qa_options_default(&q);
  *o = (sb_spatial_options){
      .struct_size = sizeof *o,
      .pixel_turns_min = q.pixel_turns.min, .pixel_turns_max = q.pixel_turns.max,
      .object_turns_min = q.object_turns.min, .object_turns_max = q.object_turns.max,
      .scene_turns_min = q.scene_turns.min, .scene_turns_max = q.scene_turns.max,
      .caption_turns_min = q.caption_turns.min, .caption_turns_max = q.caption_turns.max,
      .percentile_low = q.pct_lo, .percentile_high = q.pct_hi,
      .min_points = q.min_points, .max_objects = q.max_objects,
      .margin = q.margin_m, .point_gap = q.point_gap_m,
  };
}

/* The sdk options into the generator's (defaults for fields the caller's
 * older struct does not have). */
static void to_qa(const sb_spatial_options *o, sb_qa_options *q) {
  sb_spatial_options full;
  sb_spatial_options_init(&full);
  if (o) memcpy(&full, o, o->struct_size < sizeof full ? o->struct_size : sizeof full);
  sb_qa_options_default(q);
  q->pixel_turns = (sb_qa_range){full.pixel_turns_min, full.pixel_turns_max};
  q->object_turns = (sb_qa_range){full.object_turns_min, full.object_turns_max};
  q->scene_turns = (sb_qa_range){full.scene_turns_min, full.scene_turns_max};
  q->caption_turns = (sb_qa_range){full.caption_turns_min, full.caption_turns_max};
  q->pct_lo = full.percentile_low, q->pct_hi = full.percentile_high;
  q->min_points = full.min_points, q->max_objects = full.max_objects;
  q->margin_m = full.margin, q->point_gap_m = full.point_gap;
}

int sb_spatial_list_scenes(const char *dir, char ***paths, int *n) { return sb_list_scenes(dir, paths, n); }

void sb_spatial_free_list(char **paths, int n) { sb_free_names(paths, n); }

int sb_spatial_scene_views(const char *scene_dir, int *n_views) {
  sb_scene s;
  if (sb_scene_load(scene_dir, &s)) return sb_error_code();
  *n_views = s.n_views;
  sb_scene_free(&s);
  return SB_OK;
}

int sb_spatial_pick_views(const char *scene_dir, int n_scene_views, int want, int64_t k, uint64_t seed, int *views) {
  return sb_pick_views(sb_path_basename(scene_dir), n_scene_views, want, k, seed, views);
}

static int fill_sample(const sb_qa_result *r, sb_sample *out) {
  int rc = sb_sample_set_id(out, r->id);
  for (int i = 0; i < r->n_turns && rc == SB_OK; i++)
    rc = sb_sample_add_turn(out, r->turns[i].role == 1 ? SB_ROLE_USER : SB_ROLE_ASSISTANT, r->turns[i].text);
  for (int i = 0; i < r->n_images && rc == SB_OK; i++) rc = sb_sample_add_image_path(out, r->images[i]);
  if (rc == SB_OK) rc = sb_sample_set_meta(out, r->meta);
  return rc;
}

int sb_spatial_generate(const char *scene_dir, const int *views, int n_views, uint64_t seed,
                        const sb_spatial_options *o, sb_sample *out) {
  if (!scene_dir || !views || n_views < 1 || !out) return sb_error("sb_spatial_generate: bad arguments");
  sb_qa_options q;
  to_qa(o, &q);
  sb_scene s;
  if (sb_scene_load(scene_dir, &s)) return sb_error_code();
  sb_qa_input in;
  sb_qa_result r;
  const char *why = NULL;
  int rc = sb_qa_input_from_scene(&s, views, n_views, &in);
  if (rc == SB_OK) {
    rc = sb_qa_generate(&in, &q, seed, NULL, &r, &why);
    sb_qa_input_free(&in);
  }
  if (rc == SB_QA_SKIP) rc = SB_SPATIAL_SKIP;
  else if (rc == SB_OK) {
    rc = fill_sample(&r, out);
    sb_qa_result_free(&r);
  }
  sb_scene_free(&s);
  return rc;
}
