/* qa_caption.c — the caption level that closes a conversation: "describe
 * the scene" answered with the data's caption (scene.json, --objects) or a
 * caption templated from the objects (left to right, nearest and farthest),
 * and optionally a second turn listing the objects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qa_internal.h"

static const char *const k_describe_q[] = {
    "Describe the scene.",
    "Give a short description of this scene.",
    "What does the image show?",
    "Summarize what you see.",
    "Can you describe this scene briefly?",
};
static const char *const k_describe_multi_q[] = {
    "Describe the scene shown in these views.",
    "What do these images show?",
    "Summarize the scene you see from these viewpoints.",
};
static const char *const k_list_q[] = {
    "List the objects you can see.",
    "Which objects are in the scene?",
    "How many objects are there, and what are they?",
};
/* {A}: "the red sphere, the blue cube and the green cylinder", {B}: the count. */
static const char *const k_list_a[] = {
    "I can see {A}.",
    "The scene contains {A}.",
    "There are {B} objects: {A}.",
};
/* Templated captions: {A} the objects from left to right, {B} the count,
 * {C} "the red sphere, about 2.10 meters from the camera" (nearest), {D}
 * the same for the farthest. */
static const char *const k_caption_t[] = {
    "There are {B} objects: from left to right, {A}. The nearest is {C}, and the farthest is {D}.",
    "The scene shows {B} objects. From left to right they are {A}. Closest to the camera is {C}; farthest "
    "is {D}.",
};

static int cmp_x(const void *a, const void *b, void *objs) {
  const qa_object *o = objs;
  const qa_object *x = &o[*(const int *)a], *y = &o[*(const int *)b];
  double cx = x->box.min[0] + x->box.max[0], cy = y->box.min[0] + y->box.max[0];
  if (cx != cy) return cx < cy ? -1 : 1;
  return (x->id > y->id) - (x->id < y->id);
}

/* "A, B and C" of the objects in order idx. */
static char *join_objects(const qa_scene *s, const int *idx) {
  sb_strbuf b;
  sb_strbuf_init(&b);
  int rc = SB_OK;
  for (int i = 0; i < s->n_objs && rc == SB_OK; i++) {
    const char *sep = i == 0 ? "" : i == s->n_objs - 1 ? " and " : ", ";
    rc = sb_strbuf_printf(&b, "%s%s", sep, s->objs[idx[i]].desc);
  }
  if (rc) {
    sb_strbuf_free(&b);
    return NULL;
  }
  return sb_strbuf_take(&b);
}

static char *with_depth(const qa_object *o) {
  char d[48];
  qa_depth_text(o->box.min[2], d, sizeof d);
  return sb_asprintf("%s, about %s from the camera", o->desc, d);
}

/* The caption from the objects: left to right, nearest, farthest. */
static char *templated_caption(qa_scene *s, const int *idx) {
  int near = 0, far = 0;
  for (int i = 1; i < s->n_objs; i++) {
    if (s->objs[i].box.min[2] < s->objs[near].box.min[2]) near = i;
    if (s->objs[i].box.min[2] > s->objs[far].box.min[2]) far = i;
  }
  char count[16];
  snprintf(count, sizeof count, "%d", s->n_objs);
  char *list = join_objects(s, idx), *cn = with_depth(&s->objs[near]), *cf = with_depth(&s->objs[far]);
  char *r = list && cn && cf ? qa_fill(QA_PICK(s, k_caption_t), list, count, cn, cf) : NULL;
  free(list), free(cn), free(cf);
  return r;
}

static void meta_caption(qa_scene *s, int turn, const char *type, const char *source) {
  sb_jw *w = &s->questions;
  qa_record_open(s, turn, "caption", type);
  sb_jw_key(w, "source"), sb_jw_string(w, source);
  sb_jw_end(w);
}

static int ask_describe(qa_scene *s, const int *idx) {
  const char *q = s->in->n_views > 1 ? QA_PICK(s, k_describe_multi_q) : QA_PICK(s, k_describe_q);
  bool given = s->in->caption && s->in->caption[0];
  char *a = given ? sb_strdup(s->in->caption) : templated_caption(s, idx);
  int turn = a ? qa_ask(s, q, a) : SB_ERR_NOMEM;
  free(a);
  if (turn < 0) return turn;
  meta_caption(s, turn, "describe", given ? "data" : "template");
  return SB_OK;
}

static int ask_list(qa_scene *s, const int *idx) {
  char count[16];
  snprintf(count, sizeof count, "%d", s->n_objs);
  char *list = join_objects(s, idx);
  char *body = list ? qa_fill(QA_PICK(s, k_list_a), list, count, NULL, NULL) : NULL;
  char *a = body ? qa_cap(body) : NULL;
  int turn = a ? qa_ask(s, QA_PICK(s, k_list_q), a) : SB_ERR_NOMEM;
  free(list), free(body), free(a);
  if (turn < 0) return turn;
  meta_caption(s, turn, "list", "objects");
  return SB_OK;
}

int qa_caption_questions(qa_scene *s, int n) {
  int *idx = sb_malloc((size_t)s->n_objs * sizeof *idx);
  if (!idx) return SB_ERR_NOMEM;
  for (int i = 0; i < s->n_objs; i++) idx[i] = i;
  qsort_r(idx, (size_t)s->n_objs, sizeof *idx, cmp_x, s->objs);
  int rc = SB_OK, asked = 0;
  for (; asked < n && asked < 2 && rc == SB_OK; asked++) rc = asked == 0 ? ask_describe(s, idx) : ask_list(s, idx);
  free(idx);
  return rc ? rc : asked;
}
