/* qa_object.c — object-level questions (left/right, above/below, in
 * front/behind between two objects) and scene-level ones (metric distance).
 * Every answer first states both cubes in the normalised frame, then the
 * comparison with the deciding numbers, then the verdict.
 *
 * Decision rules (SpatialRGPT's): left/right by the cubes' centre x,
 * above/below by centre y (y grows downward: "above" = smaller y), in
 * front/behind by the minimum depth z_min. A relation is asked only when the
 * metric values differ by at least margin_m and the printed two-decimal
 * values by at least 0.02, so the numbers in the text agree with the
 * verdict. Distance: the mean of the two directed nearest-point distances
 * between the objects' clouds, in centimetres below 1 m, else metres. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qa_internal.h"

typedef enum rel { REL_LR = 0, REL_UD = 1, REL_FB = 2, N_REL = 3 } rel;

/* Yes/no questions, {A} and {B} the two objects; [rel][polarity]: polarity
 * 0 asks left/above/in front, 1 right/below/behind. */
static const char *const k_yesno_q[N_REL][2][4] = {
    {{"Is {A} to the left of {B}?", "Is {A} on the left side of {B}?",
      "From the camera's viewpoint, is {A} left of {B}?", "Does {A} appear to the left of {B}?"},
     {"Is {A} to the right of {B}?", "Is {A} on the right side of {B}?",
      "From the camera's viewpoint, is {A} right of {B}?", "Does {A} appear to the right of {B}?"}},
    {{"Is {A} above {B}?", "From the camera's view, is {A} above {B}?", "Does {A} appear above {B}?",
      "Is {A} higher up in the image than {B}?"},
     {"Is {A} below {B}?", "From the camera's view, is {A} below {B}?", "Does {A} appear below {B}?",
      "Is {A} lower down in the image than {B}?"}},
    {{"Is {A} in front of {B}?", "Is {A} closer to the camera than {B}?", "Is {A} nearer to the viewer than {B}?",
      "Does {A} stand in front of {B}?"},
     {"Is {A} behind {B}?", "Is {A} farther from the camera than {B}?", "Is {A} farther away than {B}?",
      "Does {A} stand behind {B}?"}},
};
/* "Which" questions, same layout (3 wordings each). */
static const char *const k_which_q[N_REL][2][3] = {
    {{"Which is more to the left, {A} or {B}?", "Which of {A} and {B} is further left?",
      "Between {A} and {B}, which one is on the left?"},
     {"Which is more to the right, {A} or {B}?", "Which of {A} and {B} is further right?",
      "Between {A} and {B}, which one is on the right?"}},
    {{"Which is higher, {A} or {B}?", "Which of {A} and {B} sits higher?",
      "Between {A} and {B}, which one is higher up?"},
     {"Which is lower, {A} or {B}?", "Which of {A} and {B} sits lower?",
      "Between {A} and {B}, which one is lower down?"}},
    {{"Which is closer to the camera, {A} or {B}?", "Which of {A} and {B} is nearer to the viewer?",
      "Between {A} and {B}, which one is in front?"},
     {"Which is farther from the camera, {A} or {B}?", "Which of {A} and {B} is farther from the viewer?",
      "Between {A} and {B}, which one is behind?"}},
};
/* The cube rationale: {A}, {B} the objects (capitalised where a sentence
 * starts with them), {C}, {D} their cubes. */
static const char *const k_intro[] = {
    "{A} is located at {C} and {B} at {D}.",
    "The cube of {A} is {C}; the cube of {B} is {D}.",
    "{A} occupies {C}, while {B} occupies {D}.",
    "In the normalized scene frame, {A} spans {C} and {B} spans {D}.",
};
/* The comparison: {A}, {B} the objects (never sentence-initial), {C}, {D}
 * their deciding values. */
static const char *const k_values[N_REL][2] = {
    {"The center of {A} is at x = {C} and the center of {B} is at x = {D}.",
     "Horizontally, {A} is centered at x = {C} and {B} at x = {D}."},
    {"The center of {A} is at y = {C} and the center of {B} is at y = {D} (y grows downward).",
     "Vertically, {A} is centered at y = {C} and {B} at y = {D}, with y growing downward."},
    {"The nearest depth of {A} is z = {C} and that of {B} is z = {D}.",
     "Along the depth axis, {A} begins at z = {C} and {B} at z = {D}."},
};
/* "So {A} is <relation> {B}." [rel][0: A has the smaller value]. */
static const char *const k_relation[N_REL][2] = {
    {"to the left of", "to the right of"}, {"above", "below"}, {"in front of", "behind"}};
/* The winner of a "which" question: [rel][polarity]. */
static const char *const k_which_verdict[N_REL][2] = {
    {"more to the left", "more to the right"}, {"higher", "lower"}, {"closer to the camera", "farther away"}};
static const char *const k_type[N_REL][2] = {{"left", "right"}, {"above", "below"}, {"front", "behind"}};

/* Distance questions and answers: {A}, {B} the objects; answers {C} the
 * spoken distance. */
static const char *const k_dist_q[] = {
    "How far is {A} from {B}?",
    "What is the distance between {A} and {B}?",
    "How much space is there between {A} and {B}?",
    "Can you measure the gap between {A} and {B}?",
    "How far apart are {A} and {B}?",
};
static const char *const k_dist_a[] = {
    "They are about {C} apart.",
    "The distance between them is about {C}.",
    "It's about {C}.",
    "Measured between their surfaces, they are about {C} apart.",
};

/* The deciding value of a relation, metric and as printed (normalised). */
static double metric_value(const qa_object *o, rel r) {
  return r == REL_FB ? o->box.min[2] : 0.5 * (o->box.min[r] + o->box.max[r]);
}
static double norm_value(const qa_object *o, rel r) {
  return r == REL_FB ? o->cube[2] : qa_round2(0.5 * (o->cube[r] + o->cube[r + 3]));
}

static bool separated(const qa_scene *s, const qa_object *a, const qa_object *b, rel r) {
  double dm = metric_value(a, r) - metric_value(b, r), dn = norm_value(a, r) - norm_value(b, r);
  return fabs(dm) >= s->o->margin_m && fabs(dn) >= 0.02 - 1e-9 && (dm > 0) == (dn > 0);
}

typedef struct pair {
  int a, b;
} pair;

/* All pairs i < j (optionally only those separated along r). */
static int list_pairs(const qa_scene *s, int r, pair *out) {
  int n = 0;
  for (int i = 0; i < s->n_objs; i++)
    for (int j = i + 1; j < s->n_objs; j++)
      if (r < 0 || separated(s, &s->objs[i], &s->objs[j], (rel)r)) out[n++] = (pair){i, j};
  return n;
}

/* "The red sphere is located at [...] and the blue cube at [...]." */
static char *intro_text(qa_scene *s, const qa_object *a, const qa_object *b) {
  char ca[96], cb[96];
  qa_cube_text(a->cube, ca, sizeof ca);
  qa_cube_text(b->cube, cb, sizeof cb);
  const char *t = QA_PICK(s, k_intro);
  char *cap = t[0] == '{' ? qa_cap(a->desc) : sb_strdup(a->desc);
  char *r = cap ? qa_fill(t, cap, b->desc, ca, cb) : NULL;
  free(cap);
  return r;
}

static void meta_head(qa_scene *s, int turn, const char *level, const char *type, const qa_object *a,
                      const qa_object *b) {
  sb_jw *w = &s->questions;
  qa_record_open(s, turn, level, type);
  sb_jw_key(w, "a"), sb_jw_int(w, a->id);
  sb_jw_key(w, "b"), sb_jw_int(w, b->id);
}

/* The comparison and its conclusion: "... x = 0.31 ... x = 0.72. So A is
 * to the left of B." */
static char *compare_text(qa_scene *s, const qa_object *a, const qa_object *b, rel r) {
  char va[16], vb[16];
  snprintf(va, sizeof va, "%.2f", norm_value(a, r));
  snprintf(vb, sizeof vb, "%.2f", norm_value(b, r));
  char *values = qa_fill(k_values[r][qa_rand(s, 2)], a->desc, b->desc, va, vb);
  bool a_smaller = norm_value(a, r) < norm_value(b, r);
  char *out = values ? sb_asprintf("%s So %s is %s %s.", values, a->desc, k_relation[r][!a_smaller], b->desc) : NULL;
  free(values);
  return out;
}

/* One object question about the pair (i, j) along r. */
static int ask_relation(qa_scene *s, int i, int j, rel r) {
  if (qa_rand(s, 2)) {
    int t = i;
    i = j, j = t;
  }
  const qa_object *a = &s->objs[i], *b = &s->objs[j];
  int pol = qa_rand(s, 2);
  bool which = qa_rand(s, 10) < 3;
  bool a_smaller = norm_value(a, r) < norm_value(b, r);
  bool truth = pol == 0 ? a_smaller : !a_smaller; /* a is left/above/front (pol 0) or the opposite */
  const char *qt = which ? k_which_q[r][pol][qa_rand(s, 3)] : k_yesno_q[r][pol][qa_rand(s, 4)];
  char *q = qa_fill(qt, a->desc, b->desc, NULL, NULL);
  char *cap = qa_cap(a->desc), *cap_w = qa_cap(truth ? a->desc : b->desc);
  char *intro = intro_text(s, a, b), *cmp = compare_text(s, a, b, r);
  char *ans = intro && cmp && cap && cap_w
                  ? which ? sb_asprintf("%s %s %s is %s.", intro, cmp, cap_w, k_which_verdict[r][pol])
                          : sb_asprintf("%s %s %s", intro, cmp, truth ? "Yes." : "No.")
                  : NULL;
  int turn = q && ans ? qa_ask(s, q, ans) : SB_ERR_NOMEM;
  free(q), free(cap), free(cap_w), free(intro), free(cmp), free(ans);
  if (turn < 0) return turn;
  sb_jw *w = &s->questions;
  meta_head(s, turn, "object", k_type[r][pol], a, b);
  sb_jw_key(w, "form"), sb_jw_string(w, which ? "which" : "yesno");
  double v[2] = {norm_value(a, r), norm_value(b, r)}, m[2] = {metric_value(a, r), metric_value(b, r)};
  sb_jw_key(w, "values"), sb_jw_nums(w, v, 2, 2);
  sb_jw_key(w, "values_m"), sb_jw_nums(w, m, 2, 4);
  if (which) sb_jw_key(w, "answer"), sb_jw_int(w, truth ? a->id : b->id);
  else sb_jw_key(w, "answer"), sb_jw_string(w, truth ? "yes" : "no");
  sb_jw_end(w);
  return SB_OK;
}

static void drop_pair(pair *p, int *n, int k) { p[k] = p[--*n]; }

/* Up to n questions, each on a relation drawn uniformly among those with a
 * separated pair left, then one of its pairs; no (pair, relation) twice. */
int qa_object_questions(qa_scene *s, int n) {
  int np = s->n_objs * (s->n_objs - 1) / 2, counts[N_REL] = {0}, asked = 0, rc = SB_OK;
  pair *pairs[N_REL] = {0};
  for (int r = 0; r < N_REL && rc == SB_OK; r++) {
    if (!(pairs[r] = sb_malloc((size_t)(np ? np : 1) * sizeof *pairs[r]))) rc = SB_ERR_NOMEM;
    else counts[r] = list_pairs(s, r, pairs[r]);
  }
  while (rc == SB_OK && asked < n) {
    int avail[N_REL], n_avail = 0;
    for (int r = 0; r < N_REL; r++)
      if (counts[r]) avail[n_avail++] = r;
    if (!n_avail) break;
    rel r = (rel)avail[qa_rand(s, n_avail)];
    int k = qa_rand(s, counts[r]);
    pair p = pairs[r][k];
    drop_pair(pairs[r], &counts[r], k);
    if (!(rc = ask_relation(s, p.a, p.b, r))) asked++;
  }
  for (int r = 0; r < N_REL; r++) free(pairs[r]);
  return rc ? rc : asked;
}

static int ask_distance(qa_scene *s, const qa_object *a, const qa_object *b) {
  double d = sb_cloud_distance(&a->cloud, &b->cloud, s->o->max_query, s->o->max_target);
  if (!isfinite(d)) return sb_error("distance between objects %d and %d: no points", a->id, b->id);
  d = round(d * 1e4) / 1e4; /* as meta records it, so the spoken value follows from meta */
  char spoken[64];
  qa_distance_text(d, spoken, sizeof spoken);
  char *q = qa_fill(QA_PICK(s, k_dist_q), a->desc, b->desc, NULL, NULL);
  char *intro = intro_text(s, a, b), *tail = qa_fill(QA_PICK(s, k_dist_a), NULL, NULL, spoken, NULL);
  char *ans = intro && tail ? sb_asprintf("%s %s", intro, tail) : NULL;
  int turn = q && ans ? qa_ask(s, q, ans) : SB_ERR_NOMEM;
  free(q), free(intro), free(tail), free(ans);
  if (turn < 0) return turn;
  double ca[3], cb[3];
  sb_box_center(&a->box, ca), sb_box_center(&b->box, cb);
  double dc = sqrt((ca[0] - cb[0]) * (ca[0] - cb[0]) + (ca[1] - cb[1]) * (ca[1] - cb[1]) +
                   (ca[2] - cb[2]) * (ca[2] - cb[2]));
  sb_jw *w = &s->questions;
  meta_head(s, turn, "scene", "distance", a, b);
  sb_jw_key(w, "distance_m"), sb_jw_num(w, d, 4);
  sb_jw_key(w, "spoken"), sb_jw_string(w, spoken);
  sb_jw_key(w, "center_distance_m"), sb_jw_num(w, dc, 4);
  sb_jw_end(w);
  return SB_OK;
}

int qa_scene_questions(qa_scene *s, int n) {
  int np = s->n_objs * (s->n_objs - 1) / 2, asked = 0, rc = SB_OK;
  pair *pairs = sb_malloc((size_t)(np ? np : 1) * sizeof *pairs);
  if (!pairs) return SB_ERR_NOMEM;
  np = list_pairs(s, -1, pairs);
  while (rc == SB_OK && asked < n && np > 0) {
    int k = qa_rand(s, np);
    pair p = pairs[k];
    drop_pair(pairs, &np, k);
    if (qa_rand(s, 2)) p = (pair){p.b, p.a};
    if (!(rc = ask_distance(s, &s->objs[p.a], &s->objs[p.b]))) asked++;
  }
  free(pairs);
  return rc ? rc : asked;
}
