/* qa.c — runs the conversation generator (qa.h): options and their checks,
 * the skip/drop tallies, the levels in their fixed order pixel → object →
 * scene → caption with turn counts drawn from the seeded stream, the `meta`
 * record, and the LLaVA JSONL form of a result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qa_internal.h"

/* ---- options ---- */

void sb_qa_options_default(sb_qa_options *o) {
  *o = (sb_qa_options){
      .pixel_turns = {3, 4},
      .object_turns = {3, 4},
      .scene_turns = {2, 3},
      .caption_turns = {1, 2},
      .pct_lo = 2.0,
      .pct_hi = 98.0,
      .min_points = 40,
      .max_objects = 8,
      .margin_m = 0.10,
      .point_gap_m = 0.10,
      .max_query = 1024,
      .max_target = 4096,
  };
}

int sb_qa_range_parse(const char *s, sb_qa_range *out) {
  char *end;
  long a = strtol(s, &end, 10), b = a;
  bool ok = end != s;
  if (ok && *end == '-') {
    char *t = end + 1;
    b = strtol(t, &end, 10);
    ok = end != t;
  }
  if (!ok || *end || a < 0 || b < a || b > 16)
    return sb_error_set(SB_ERR_FORMAT, "'%s': expected a turn count N or a range N-M (0 <= N <= M <= 16)", s);
  out->min = (int)a, out->max = (int)b;
  return SB_OK;
}

static int check_range(const char *name, sb_qa_range r) {
  if (r.min < 0 || r.max < r.min || r.max > 16)
    return sb_error_set(SB_ERR_FORMAT, "%s: %d-%d: expected 0 <= min <= max <= 16", name, r.min, r.max);
  return SB_OK;
}

int sb_qa_options_check(const sb_qa_options *o) {
  int rc = check_range("pixel turns", o->pixel_turns) || check_range("object turns", o->object_turns) ||
           check_range("scene turns", o->scene_turns) || check_range("caption turns", o->caption_turns);
  if (rc) return SB_ERR_FORMAT;
  if (!(o->pct_lo >= 0 && o->pct_lo < o->pct_hi && o->pct_hi <= 100))
    return sb_error_set(SB_ERR_FORMAT, "depth percentile band %g–%g: expected 0 <= low < high <= 100", o->pct_lo,
                        o->pct_hi);
  if (o->min_points < 1) return sb_error_set(SB_ERR_FORMAT, "min_points %d: expected 1 or more", o->min_points);
  if (o->max_objects != 0 && o->max_objects < 2)
    return sb_error_set(SB_ERR_FORMAT, "max_objects %d: expected 0 (no limit) or at least 2", o->max_objects);
  if (!(o->margin_m >= 0) || !(o->point_gap_m >= 0))
    return sb_error_set(SB_ERR_FORMAT, "margins must be 0 or more metres (margin %g, point gap %g)", o->margin_m,
                        o->point_gap_m);
  if (o->max_query < 1 || o->max_target < 1) return sb_error_set(SB_ERR_FORMAT, "distance thinning must keep points");
  return SB_OK;
}

/* ---- tallies ---- */

void sb_qa_tally_add(sb_qa_tally *t, const char *reason) {
  for (int i = 0; i < t->n; i++)
    if (strcmp(t->reason[i], reason) == 0) {
      t->count[i]++;
      return;
    }
  if (t->n < SB_QA_MAX_REASONS) t->reason[t->n] = reason, t->count[t->n++] = 1;
}

long sb_qa_tally_total(const sb_qa_tally *t) {
  long n = 0;
  for (int i = 0; i < t->n; i++) n += t->count[i];
  return n;
}

long sb_qa_tally_count(const sb_qa_tally *t, const char *reason) {
  for (int i = 0; i < t->n; i++)
    if (strcmp(t->reason[i], reason) == 0) return t->count[i];
  return 0;
}

static void print_tally(const sb_qa_tally *t, FILE *out) {
  for (int i = 0; i < t->n; i++) fprintf(out, "%s%ld × %s", i ? ", " : "", t->count[i], t->reason[i]);
}

void sb_qa_stats_print(const sb_qa_stats *s, const char *prog, FILE *out) {
  fprintf(out, "%s: wrote %ld sample%s", prog, s->written, s->written == 1 ? "" : "s");
  long sk = sb_qa_tally_total(&s->skipped), dr = sb_qa_tally_total(&s->dropped);
  if (sk) fprintf(out, "; skipped %ld (", sk), print_tally(&s->skipped, out), fprintf(out, ")");
  if (dr) fprintf(out, "; left out %ld object%s (", dr, dr == 1 ? "" : "s"), print_tally(&s->dropped, out),
          fprintf(out, ")");
  fprintf(out, "\n");
}

/* ---- input and result ---- */

void sb_qa_input_free(sb_qa_input *in) {
  if (!in) return;
  for (int v = 0; v < in->n_views; v++) {
    sb_qa_view *view = &in->views[v];
    free(view->image_path), free(view->depth);
    sb_image_free(&view->image);
    for (int m = 0; m < view->n_masks; m++) free(view->masks[m].pixels);
    free(view->masks);
  }
  for (int i = 0; i < in->n_descs; i++) free(in->descs[i].text);
  free(in->views), free(in->descs), free(in->id), free(in->caption);
  memset(in, 0, sizeof *in);
}

int sb_qa_input_describe(sb_qa_input *in, int id, const char *text) {
  char *t = sb_strdup(text);
  if (!t) return SB_ERR_NOMEM;
  for (int i = 0; i < in->n_descs; i++)
    if (in->descs[i].id == id) {
      free(in->descs[i].text);
      in->descs[i].text = t;
      return SB_OK;
    }
  sb_qa_desc *d = sb_realloc(in->descs, (size_t)(in->n_descs + 1) * sizeof *d);
  if (!d) {
    free(t);
    return SB_ERR_NOMEM;
  }
  in->descs = d;
  in->descs[in->n_descs++] = (sb_qa_desc){id, t};
  return SB_OK;
}

void sb_qa_result_free(sb_qa_result *r) {
  if (!r) return;
  for (int i = 0; i < r->n_images; i++) free(r->images[i]);
  for (int i = 0; i < r->n_turns; i++) free(r->turns[i].text);
  free(r->images), free(r->turns), free(r->meta), free(r->id);
  memset(r, 0, sizeof *r);
}

char *sb_qa_result_to_json(const sb_qa_result *r) {
  sb_jw w;
  sb_jw_init(&w);
  sb_jw_object(&w);
  sb_jw_key(&w, "id"), sb_jw_string(&w, r->id);
  sb_jw_key(&w, "image");
  if (r->n_images == 1) sb_jw_string(&w, r->images[0]);
  else {
    sb_jw_array(&w);
    for (int i = 0; i < r->n_images; i++) sb_jw_string(&w, r->images[i]);
    sb_jw_end(&w);
  }
  sb_jw_key(&w, "conversations"), sb_jw_array(&w);
  for (int i = 0; i < r->n_turns; i++) {
    sb_jw_object(&w);
    sb_jw_key(&w, "from"), sb_jw_string(&w, r->turns[i].role == 1 ? "human" : "gpt");
    sb_jw_key(&w, "value"), sb_jw_string(&w, r->turns[i].text);
    sb_jw_end(&w);
  }
  sb_jw_end(&w);
  if (r->meta) sb_jw_key(&w, "meta"), sb_jw_raw(&w, r->meta);
  sb_jw_end(&w);
  return sb_jw_finish(&w);
}

/* ---- building the conversation ---- */

int qa_rand(qa_scene *s, int n) { return n <= 1 ? 0 : (int)(sb_rng_u64(&s->rng) % (uint64_t)n); }

const char *qa_pick(qa_scene *s, const char *const *list, int n) { return list[qa_rand(s, n)]; }

static int push_turn(qa_scene *s, int role, char *text) {
  if (!text) return SB_ERR_NOMEM;
  if (s->n_turns == s->cap_turns) {
    int cap = s->cap_turns ? 2 * s->cap_turns : 16;
    sb_qa_turn *t = sb_realloc(s->turns, (size_t)cap * sizeof *t);
    if (!t) {
      free(text);
      return SB_ERR_NOMEM;
    }
    s->turns = t, s->cap_turns = cap;
  }
  s->turns[s->n_turns++] = (sb_qa_turn){role, text};
  return SB_OK;
}

/* The image markers and, for several views, what the frame is. */
static char *first_question(const qa_scene *s, const char *q) {
  int n = s->in->n_views;
  if (n == 1) return sb_asprintf("<image>\n%s", q);
  sb_strbuf b;
  sb_strbuf_init(&b);
  int rc = SB_OK;
  for (int i = 0; i < n && rc == SB_OK; i++) rc = sb_strbuf_printf(&b, "Image %d: <image>\n", i + 1);
  if (rc == SB_OK)
    rc = sb_strbuf_printf(&b, "The images show one scene from %d viewpoints; positions are given in the first "
                          "image's camera frame.\n%s", n, q);
  if (rc) {
    sb_strbuf_free(&b);
    return NULL;
  }
  return sb_strbuf_take(&b);
}

int qa_ask(qa_scene *s, const char *question, const char *answer) {
  int turn = s->n_turns;
  int rc = push_turn(s, 1, turn == 0 ? first_question(s, question) : sb_strdup(question));
  if (rc == SB_OK) rc = push_turn(s, 2, sb_strdup(answer));
  return rc ? rc : turn;
}

void qa_record_open(qa_scene *s, int turn, const char *level, const char *type) {
  sb_jw *w = &s->questions;
  sb_jw_object(w);
  sb_jw_key(w, "turn"), sb_jw_int(w, turn);
  sb_jw_key(w, "level"), sb_jw_string(w, level);
  sb_jw_key(w, "type"), sb_jw_string(w, type);
}

static int draw(qa_scene *s, sb_qa_range r) { return r.min + qa_rand(s, r.max - r.min + 1); }

/* ---- meta ---- */

static void meta_views(sb_jw *w, const sb_qa_input *in) {
  sb_jw_key(w, "views"), sb_jw_array(w);
  for (int v = 0; v < in->n_views; v++) {
    const sb_qa_view *view = &in->views[v];
    sb_jw_object(w);
    sb_jw_key(w, "image"), sb_jw_string(w, view->image_path ? view->image_path : "");
    sb_jw_key(w, "size"), sb_jw_array(w), sb_jw_int(w, view->width), sb_jw_int(w, view->height), sb_jw_end(w);
    double k[5] = {view->k.fx, view->k.fy, view->k.cx, view->k.cy, view->k.pixel_center};
    sb_jw_key(w, "intrinsics"), sb_jw_nums(w, k, 5, 6);
    sb_jw_key(w, "cam_to_world"), sb_jw_nums(w, view->cam_to_world, 16, 6);
    sb_jw_end(w);
  }
  sb_jw_end(w);
}

static void meta_objects(sb_jw *w, const qa_scene *s) {
  sb_jw_key(w, "objects"), sb_jw_array(w);
  for (int i = 0; i < s->n_objs; i++) {
    const qa_object *o = &s->objs[i];
    double m[6] = {o->box.min[0], o->box.min[1], o->box.min[2], o->box.max[0], o->box.max[1], o->box.max[2]};
    sb_jw_object(w);
    sb_jw_key(w, "id"), sb_jw_int(w, o->id);
    sb_jw_key(w, "name"), sb_jw_string(w, o->desc);
    sb_jw_key(w, "points"), sb_jw_int(w, (int64_t)o->n_points);
    sb_jw_key(w, "views"), sb_jw_int(w, o->n_views);
    sb_jw_key(w, "cube"), sb_jw_nums(w, o->cube, 6, 2);
    sb_jw_key(w, "cube_m"), sb_jw_nums(w, m, 6, 4);
    sb_jw_end(w);
  }
  sb_jw_end(w);
}

static void meta_dropped(sb_jw *w, const sb_qa_tally *t) {
  sb_jw_key(w, "dropped"), sb_jw_array(w);
  for (int i = 0; i < t->n; i++) {
    sb_jw_object(w);
    sb_jw_key(w, "reason"), sb_jw_string(w, t->reason[i]);
    sb_jw_key(w, "count"), sb_jw_int(w, t->count[i]);
    sb_jw_end(w);
  }
  sb_jw_end(w);
}

static char *make_meta(qa_scene *s, uint64_t seed, const sb_qa_tally *dropped) {
  char *questions = sb_jw_finish(&s->questions);
  if (!questions) return NULL;
  sb_jw w;
  sb_jw_init(&w);
  sb_jw_object(&w);
  sb_jw_key(&w, "generator"), sb_jw_string(&w, "spatialboost-spatial-cot");
  sb_jw_key(&w, "format"), sb_jw_int(&w, 1);
  char seed_text[32];
  snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
  sb_jw_key(&w, "seed"), sb_jw_raw(&w, seed_text);
  meta_views(&w, s->in);
  sb_jw_key(&w, "frame"), sb_jw_object(&w);
  sb_jw_key(&w, "axes"), sb_jw_string(&w, "x right, y down, z forward: the first view's camera, metres");
  sb_jw_key(&w, "lo"), sb_jw_nums(&w, s->frame.lo, 3, 4);
  sb_jw_key(&w, "hi"), sb_jw_nums(&w, s->frame.hi, 3, 4);
  sb_jw_end(&w);
  meta_objects(&w, s);
  meta_dropped(&w, dropped);
  sb_jw_key(&w, "questions"), sb_jw_raw(&w, questions);
  sb_jw_end(&w);
  free(questions);
  return sb_jw_finish(&w);
}

/* ---- the generator ---- */

static int fill_result(qa_scene *s, uint64_t seed, const sb_qa_tally *dropped, sb_qa_result *out) {
  const sb_qa_input *in = s->in;
  out->id = sb_strdup(in->id ? in->id : "");
  out->images = sb_calloc((size_t)in->n_views, sizeof *out->images);
  if (!out->id || !out->images) return SB_ERR_NOMEM;
  for (int v = 0; v < in->n_views; v++, out->n_images++)
    if (!(out->images[v] = sb_strdup(in->views[v].image_path ? in->views[v].image_path : ""))) return SB_ERR_NOMEM;
  out->turns = s->turns, out->n_turns = s->n_turns;
  s->turns = NULL, s->n_turns = s->cap_turns = 0;
  return (out->meta = make_meta(s, seed, dropped)) ? SB_OK : SB_ERR_NOMEM;
}

/* The four levels in order; SB_QA_SKIP when object questions were asked
 * for and no pair could be compared. */
static int ask_all(qa_scene *s, const char **skip_reason) {
  int n[4] = {draw(s, s->o->pixel_turns), draw(s, s->o->object_turns), draw(s, s->o->scene_turns),
              draw(s, s->o->caption_turns)};
  int asked = qa_pixel_questions(s, n[0]);
  if (asked < 0) return asked;
  if ((asked = qa_object_questions(s, n[1])) < 0) return asked;
  if (n[1] > 0 && asked == 0) {
    *skip_reason = SB_QA_SKIP_NO_QUESTION;
    sb_error("sample '%s': no two objects differ by %g m or more along any axis", s->in->id, s->o->margin_m);
    return SB_QA_SKIP;
  }
  if ((asked = qa_scene_questions(s, n[2])) < 0) return asked;
  if ((asked = qa_caption_questions(s, n[3])) < 0) return asked;
  return SB_OK;
}

int sb_qa_generate(const sb_qa_input *in, const sb_qa_options *o, uint64_t seed, sb_qa_stats *stats,
                   sb_qa_result *out, const char **skip_reason) {
  memset(out, 0, sizeof *out);
  *skip_reason = NULL;
  if (sb_qa_options_check(o)) return SB_ERR_FORMAT;
  qa_scene s = {.in = in, .o = o};
  sb_rng_seed_named(&s.rng, seed, in->id ? in->id : "");
  sb_jw_init(&s.questions);
  sb_jw_array(&s.questions);
  sb_qa_stats local = {0};
  int rc = qa_scene_prepare(&s, &local, skip_reason);
  if (rc == SB_OK) rc = ask_all(&s, skip_reason);
  if (rc == SB_OK) sb_jw_end(&s.questions), rc = fill_result(&s, seed, &local.dropped, out);
  for (int i = 0; stats && i < local.dropped.n; i++)
    for (long k = 0; k < local.dropped.count[i]; k++) sb_qa_tally_add(&stats->dropped, local.dropped.reason[i]);
  qa_scene_free(&s);
  if (rc != SB_OK) sb_qa_result_free(out);
  return rc;
}
