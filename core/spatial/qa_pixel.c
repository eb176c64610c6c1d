/* qa_pixel.c — pixel-level questions: the depth at a normalised image point
 * (x, y) ∈ [0, 1]², two decimals, or which of two points is closer (or
 * farther). The point (x, y) stands for the pixel that contains (x·W, y·H);
 * points are drawn half the time from an object's mask, else anywhere, and
 * only where the pixel and its 8 neighbours have valid, smooth depth (no
 * depth edge), so the answer does not hang on one pixel. Depths are the
 * view's camera z in metres, two decimals. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qa_internal.h"

/* {A}: the point "(0.42, 0.63)"; answers {B}: the depth "2.87 meters". */
static const char *const k_depth_q[] = {
    "What is the depth at the point {A}?",
    "How far from the camera is the point {A}?",
    "Estimate the depth of the pixel at {A}.",
    "How deep into the scene is the point at {A}?",
    "Tell me the depth at the normalized image position {A}.",
};
static const char *const k_depth_a[] = {
    "The depth at {A} is about {B}.",
    "The point {A} is about {B} from the camera.",
    "About {B}.",
    "At {A} the scene is about {B} deep.",
    "It is roughly {B} away along the viewing direction.",
};
/* {A}, {B}: the two points. */
static const char *const k_closer_q[] = {
    "Which point is closer to the viewer? Point 1: {A} Point 2: {B}",
    "Of Point 1 at {A} and Point 2 at {B}, which is nearer to the camera?",
    "Compare Point 1 {A} and Point 2 {B}: which one is closer to the camera?",
    "Which of these two points is closer: Point 1 {A} or Point 2 {B}?",
};
static const char *const k_farther_q[] = {
    "Which point is farther from the viewer? Point 1: {A} Point 2: {B}",
    "Of Point 1 at {A} and Point 2 at {B}, which lies farther from the camera?",
    "Which of the two points is deeper in the scene, Point 1 {A} or Point 2 {B}?",
};
/* {A}: the answer ("Point 2"), {B}: the other, {C}, {D}: their depths. */
static const char *const k_closer_a[] = {
    "{A} is closer than {B}.",
    "{A} is at about {C} and {B} at about {D}, so {A} is closer.",
    "{B} lies about {D} away while {A} lies about {C} away; {A} is nearer to the camera.",
};
static const char *const k_farther_a[] = {
    "{A} is farther than {B}.",
    "{A} is at about {C} and {B} at about {D}, so {A} is farther away.",
    "{B} lies about {D} away while {A} lies about {C} away; {A} is farther from the camera.",
};

typedef struct qa_point {
  int view, u, v;
  double x, y;
  float depth;
} qa_point;

#define MAX_ASKED 32

typedef struct pixel_state {
  qa_point asked[MAX_ASKED];
  int n_asked;
} pixel_state;

/* The pixel and its 8 neighbours inside the map with valid depths within
 * 3 % + 1 cm of the centre's. */
static bool smooth_at(const sb_qa_view *view, int u, int v) {
  float c = view->depth[(size_t)v * (size_t)view->width + (size_t)u];
  if (!sb_depth_valid(c)) return false;
  for (int dv = -1; dv <= 1; dv++)
    for (int du = -1; du <= 1; du++) {
      int x = u + du, y = v + dv;
      if (x < 0 || y < 0 || x >= view->width || y >= view->height) return false;
      float d = view->depth[(size_t)y * (size_t)view->width + (size_t)x];
      if (!sb_depth_valid(d) || fabsf(d - c) > 0.03f * c + 0.01f) return false;
    }
  return true;
}

static bool already_asked(const pixel_state *ps, const qa_point *p) {
  for (int i = 0; i < ps->n_asked; i++)
    if (ps->asked[i].view == p->view && ps->asked[i].u == p->u && ps->asked[i].v == p->v) return true;
  return false;
}

/* A candidate pixel: from a random mask of the view half the time. */
static void candidate(qa_scene *s, const sb_qa_view *view, int *u, int *v) {
  if (view->n_masks && qa_rand(s, 2)) {
    const sb_qa_mask *m = &view->masks[qa_rand(s, view->n_masks)];
    if (m->n) {
      uint32_t px = m->pixels[qa_rand(s, (int)(m->n < 0x7fffffff ? m->n : 0x7fffffff))];
      *u = (int)(px % (uint32_t)view->width), *v = (int)(px / (uint32_t)view->width);
      return;
    }
  }
  *u = qa_rand(s, view->width), *v = qa_rand(s, view->height);
}

static bool pick_point(qa_scene *s, pixel_state *ps, int view_i, qa_point *p) {
  const sb_qa_view *view = &s->in->views[view_i];
  for (int tries = 0; tries < 400; tries++) {
    int u, v;
    candidate(s, view, &u, &v);
    p->view = view_i;
    p->x = fmin(0.99, fmax(0.01, qa_round2((u + 0.5) / view->width)));
    p->y = fmin(0.99, fmax(0.01, qa_round2((v + 0.5) / view->height)));
    p->u = (int)floor(p->x * view->width + 1e-9), p->v = (int)floor(p->y * view->height + 1e-9);
    if (p->u >= view->width) p->u = view->width - 1;
    if (p->v >= view->height) p->v = view->height - 1;
    if (!smooth_at(view, p->u, p->v) || already_asked(ps, p)) continue;
    p->depth = view->depth[(size_t)p->v * (size_t)view->width + (size_t)p->u];
    if (ps->n_asked < MAX_ASKED) ps->asked[ps->n_asked++] = *p;
    return true;
  }
  return false;
}

/* "In image 2, what is ..." for multi-view samples. */
static char *in_view(const qa_scene *s, int view, char *q) {
  if (!q || s->in->n_views < 2) return q;
  char first = q[0] >= 'A' && q[0] <= 'Z' && q[1] != ' ' ? (char)(q[0] - 'A' + 'a') : q[0];
  char *r = sb_asprintf("In image %d, %c%s", view + 1, first, q + 1);
  free(q);
  return r;
}

static void meta_point(sb_jw *w, const qa_point *p) {
  double xy[2] = {p->x, p->y};
  sb_jw_nums(w, xy, 2, 2);
}

static void meta_pixel(sb_jw *w, const qa_point *p) {
  sb_jw_array(w);
  sb_jw_int(w, p->u);
  sb_jw_int(w, p->v);
  sb_jw_end(w);
}

/* Asks q -> a (both freed here) and opens the turn's question record with
 * its turn, level, type and view; the caller adds the rest and closes it.
 * The turn, or a negative error. */
static int ask_and_record(qa_scene *s, char *q, char *a, const char *type, int view) {
  int turn = q && a ? qa_ask(s, q, a) : SB_ERR_NOMEM;
  free(q), free(a);
  if (turn < 0) return turn;
  qa_record_open(s, turn, "pixel", type);
  sb_jw_key(&s->questions, "view"), sb_jw_int(&s->questions, view);
  return turn;
}

static int ask_depth(qa_scene *s, const qa_point *p) {
  char pt[48], d[48];
  snprintf(pt, sizeof pt, "(%.2f, %.2f)", p->x, p->y);
  qa_depth_text(p->depth, d, sizeof d);
  char *q = in_view(s, p->view, qa_fill(QA_PICK(s, k_depth_q), pt, NULL, NULL, NULL));
  char *a = qa_fill(QA_PICK(s, k_depth_a), pt, d, NULL, NULL);
  int turn = ask_and_record(s, q, a, "depth", p->view);
  if (turn < 0) return turn;
  sb_jw *w = &s->questions;
  sb_jw_key(w, "point"), meta_point(w, p);
  sb_jw_key(w, "pixel"), meta_pixel(w, p);
  sb_jw_key(w, "depth_m"), sb_jw_num(w, p->depth, 4);
  sb_jw_key(w, "answer_m"), sb_jw_num(w, qa_round2(p->depth), 2);
  sb_jw_end(w);
  return SB_OK;
}

static int ask_compare(qa_scene *s, const qa_point *p1, const qa_point *p2) {
  bool farther = qa_rand(s, 3) == 0;
  bool one_wins = farther ? p1->depth > p2->depth : p1->depth < p2->depth;
  const qa_point *win = one_wins ? p1 : p2, *lose = one_wins ? p2 : p1;
  char a1[48], a2[48], dw[48], dl[48];
  snprintf(a1, sizeof a1, "(%.2f, %.2f)", p1->x, p1->y);
  snprintf(a2, sizeof a2, "(%.2f, %.2f)", p2->x, p2->y);
  qa_depth_text(win->depth, dw, sizeof dw);
  qa_depth_text(lose->depth, dl, sizeof dl);
  const char *qt = farther ? QA_PICK(s, k_farther_q) : QA_PICK(s, k_closer_q);
  const char *at = farther ? QA_PICK(s, k_farther_a) : QA_PICK(s, k_closer_a);
  char *q = in_view(s, p1->view, qa_fill(qt, a1, a2, NULL, NULL));
  char *a = qa_fill(at, one_wins ? "Point 1" : "Point 2", one_wins ? "Point 2" : "Point 1", dw, dl);
  int turn = ask_and_record(s, q, a, farther ? "farther" : "closer", p1->view);
  if (turn < 0) return turn;
  sb_jw *w = &s->questions;
  sb_jw_key(w, "points"), sb_jw_array(w), meta_point(w, p1), meta_point(w, p2), sb_jw_end(w);
  sb_jw_key(w, "pixels"), sb_jw_array(w), meta_pixel(w, p1), meta_pixel(w, p2), sb_jw_end(w);
  double d[2] = {p1->depth, p2->depth};
  sb_jw_key(w, "depths_m"), sb_jw_nums(w, d, 2, 4);
  sb_jw_key(w, "answer"), sb_jw_int(w, one_wins ? 1 : 2);
  sb_jw_end(w);
  return SB_OK;
}

/* A second point in p1's view at least point_gap_m deeper or shallower. */
static bool pick_pair(qa_scene *s, pixel_state *ps, const qa_point *p1, qa_point *p2) {
  for (int tries = 0; tries < 12; tries++) {
    int saved = ps->n_asked;
    if (!pick_point(s, ps, p1->view, p2)) return false;
    if (fabs((double)p2->depth - p1->depth) >= s->o->point_gap_m) return true;
    ps->n_asked = saved;
  }
  return false;
}

int qa_pixel_questions(qa_scene *s, int n) {
  pixel_state ps = {.n_asked = 0};
  int asked = 0;
  for (int i = 0; i < n; i++) {
    qa_point p1, p2;
    int view = qa_rand(s, s->in->n_views);
    if (!pick_point(s, &ps, view, &p1)) continue;
    int rc;
    if (qa_rand(s, 2) && pick_pair(s, &ps, &p1, &p2)) rc = ask_compare(s, &p1, &p2);
    else rc = ask_depth(s, &p1);
    if (rc) return rc;
    asked++;
  }
  return asked;
}
