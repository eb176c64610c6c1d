/* datagen_mvqa.c — `spatialboost datagen mvqa`: multi-view VQA for stage 2.
 * For each scene folder, every pair of views whose perceptual distance
 * (cosine distance of pooled encoder features, or of thumbnails) lies in a
 * band becomes one two-image sample with general questions that need no
 * spatial reasoning: which objects appear in both views, how many objects
 * an image shows, an object's colour, whether an image shows an object.
 * Answers come from the scenes' instance masks and scene.json; each sample's
 * meta holds them. Written as LLaVA JSONL. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datagen.h"
#include "datagen_common.h"
#include "mvqa.h"
#include "qa_input.h"
#include "qa_json.h"
#include "util.h"

#define PROG "spatialboost datagen mvqa"
#define MAX_SETS 32

typedef struct mvqa_args {
  const char *scenes, *out, *image_root, *encoder, *weights;
  const char *sets[MAX_SETS];
  int n_sets, min_pixels, max_pairs;
  double lo, hi;
  sb_qa_range questions;
  uint64_t seed;
  long limit;
  bool pixels;
} mvqa_args;

void sb_datagen_mvqa_help(FILE *out) {
  fprintf(out,
          "usage: spatialboost datagen mvqa --scenes DIR -o OUT.jsonl (--encoder NAME --weights DIR |\n"
          "                                  --metric pixels) [options]\n\n"
          "Multi-view VQA for stage 2: pairs of views of a scene whose perceptual distance lies in a\n"
          "band, each a two-image sample with general questions (objects in both views, counts,\n"
          "colours, presence) answered from the scene's masks. LLaVA JSONL with a `meta` record.\n\n"
          "  --scenes DIR       scene folders (SCENES.md) with two or more views\n"
          "  --encoder NAME     the encoder whose pooled features measure the distance (dinov3 finds\n"
          "  --weights DIR      encoder_dinov3) and its checkpoint; --set KEY=VALUE for more options\n"
          "  --metric M         encoder (default) or pixels: 32x32 greyscale thumbnails, no network\n"
          "  --band LO-HI       cosine distances kept (default 0.05-0.5)\n"
          "  --questions R      questions per sample, N or N-M (default 3-4)\n"
          "  --min-pixels N     pixels an object needs in a view to count as seen there (default 30)\n"
          "  --max-pairs N      pairs per scene, drawn by the seed (default 0: all in the band)\n"
          "  --seed N           (default 0)\n"
          "  --limit N          stop after N samples\n"
          "  --image-root DIR   image paths are written relative to DIR (default: OUT's folder)\n");
}

/* ---- arguments ---- */

static int parse_band(const char *v, double *lo, double *hi) {
  char *end;
  *lo = strtod(v, &end);
  const char *p = end + 1;
  if (end != v && *end == '-') *hi = strtod(p, &end);
  if (end == v || *end || !(*lo >= 0 && *lo <= *hi && *hi <= 2))
    return sb_error_set(SB_ERR_FORMAT, "--band '%s': expected LO-HI with 0 <= LO <= HI <= 2", v);
  return SB_OK;
}

static int parse_option(mvqa_args *a, const char *o, const char *v) {
  if (strcmp(o, "--scenes") == 0) a->scenes = v;
  else if (strcmp(o, "-o") == 0 || strcmp(o, "--output") == 0) a->out = v;
  else if (strcmp(o, "--image-root") == 0) a->image_root = v;
  else if (strcmp(o, "--encoder") == 0) a->encoder = v;
  else if (strcmp(o, "--weights") == 0) a->weights = v;
  else if (strcmp(o, "--set") == 0) {
    if (a->n_sets == MAX_SETS) return sb_error("too many --set options");
    a->sets[a->n_sets++] = v;
  } else if (strcmp(o, "--metric") == 0) {
    if (strcmp(v, "pixels") != 0 && strcmp(v, "encoder") != 0)
      return sb_error("--metric '%s': expected encoder or pixels", v);
    a->pixels = strcmp(v, "pixels") == 0;
  } else if (strcmp(o, "--band") == 0) return parse_band(v, &a->lo, &a->hi);
  else if (strcmp(o, "--questions") == 0) return sb_qa_range_parse(v, &a->questions) ? sb_error_prefix("%s", o) : 0;
  else if (strcmp(o, "--min-pixels") == 0) return sb_dg_int(o, v, 1, 1 << 30, &a->min_pixels);
  else if (strcmp(o, "--max-pairs") == 0) return sb_dg_int(o, v, 0, 1 << 30, &a->max_pairs);
  else if (strcmp(o, "--seed") == 0) return sb_dg_u64(o, v, &a->seed);
  else if (strcmp(o, "--limit") == 0) return sb_dg_long(o, v, 0, 1L << 40, &a->limit);
  else return sb_error("unknown argument '%s' (see --help)", o);
  return SB_OK;
}

static int parse(int argc, char **argv, mvqa_args *a) {
  memset(a, 0, sizeof *a);
  a->lo = 0.05, a->hi = 0.5, a->questions = (sb_qa_range){3, 4}, a->min_pixels = 30;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) return sb_error("%s needs a value (see --help)", argv[i]);
    if (parse_option(a, argv[i], argv[i + 1])) return SB_ERR;
  }
  if (!a->scenes || !a->out) return sb_error("--scenes and -o are required (see --help)");
  if (a->questions.min < 1) return sb_error("--questions: at least 1 question per sample");
  if (!a->pixels && !(a->encoder && a->weights))
    return sb_error("the distance needs --encoder NAME --weights DIR (or --metric pixels)");
  if (a->pixels && (a->encoder || a->weights || a->n_sets))
    return sb_error("--metric pixels takes no --encoder, --weights or --set");
  return SB_OK;
}

/* ---- one scene's views ---- */

typedef struct scene_views {
  sb_scene s;
  sb_image *images;
  bool *seen;  /* [view][object index] */
  float *feat; /* [view][dim] */
  int dim;
} scene_views;

static void views_free(scene_views *v) {
  for (int i = 0; v->images && i < v->s.n_views; i++) sb_image_free(&v->images[i]);
  free(v->images), free(v->seen), free(v->feat);
  sb_scene_free(&v->s);
  memset(v, 0, sizeof *v);
}

/* Which objects a view shows with at least min_pixels pixels. */
static void mark_seen(const sb_scene *s, const sb_view_data *vd, int min_pixels, bool *seen) {
  for (int o = 0; o < s->n_objects; o++) {
    long n = 0;
    for (size_t p = 0; p < (size_t)vd->width * (size_t)vd->height; p++) n += vd->ids[p] == s->objects[o].id;
    seen[o] = n >= min_pixels;
  }
}

static int load_views(const char *dir, const mvqa_args *a, sb_mvqa_featurizer *f, scene_views *v) {
  memset(v, 0, sizeof *v);
  if (sb_scene_load(dir, &v->s)) return sb_error_code();
  int nv = v->s.n_views, no = v->s.n_objects;
  v->images = sb_calloc((size_t)nv, sizeof *v->images);
  v->seen = sb_calloc((size_t)(nv * (no ? no : 1)), sizeof *v->seen);
  int rc = v->images && v->seen ? SB_OK : SB_ERR_NOMEM;
  for (int i = 0; i < nv && rc == SB_OK; i++) {
    sb_view_data vd;
    if ((rc = sb_view_data_load(v->s.views[i].dir, &vd))) break;
    mark_seen(&v->s, &vd, a->min_pixels, v->seen + (size_t)i * (size_t)no);
    v->images[i] = vd.image, vd.image.data = NULL;
    sb_view_data_free(&vd);
  }
  if (rc == SB_OK && nv >= 2) rc = sb_mvqa_features(f, v->images, nv, &v->feat, &v->dim);
  return rc;
}

/* ---- questions ---- */

typedef struct pair_ctx {
  const mvqa_args *a;
  scene_views *v;
  int view[2];
  sb_rng rng;
  sb_qa_turn *turns;
  int n_turns;
  sb_jw q; /* the meta's questions */
} pair_ctx;

static int rnd(pair_ctx *c, int n) { return n <= 1 ? 0 : (int)(sb_rng_u64(&c->rng) % (uint64_t)n); }
static bool seen(const pair_ctx *c, int k, int o) { return c->v->seen[(size_t)c->view[k] * (size_t)c->v->s.n_objects + (size_t)o]; }
static const char *ordinal(int k) { return k == 0 ? "first" : "second"; }

static int push(pair_ctx *c, char *text) {
  if (!text) return SB_ERR_NOMEM;
  sb_qa_turn *t = sb_realloc(c->turns, (size_t)(c->n_turns + 1) * sizeof *t);
  if (!t) return free(text), SB_ERR_NOMEM;
  c->turns = t;
  c->turns[c->n_turns] = (sb_qa_turn){c->n_turns % 2 == 0 ? 1 : 2, text};
  c->n_turns++;
  return SB_OK;
}

/* The turn index of the question, or a negative error. */
static int ask(pair_ctx *c, char *q, char *a) {
  int turn = c->n_turns;
  char *first = q && turn == 0 ? sb_asprintf("Image 1: <image>\nImage 2: <image>\n%s", q) : NULL;
  int rc = push(c, turn == 0 ? first : (q ? sb_strdup(q) : NULL));
  if (rc == SB_OK) rc = push(c, a ? sb_strdup(a) : NULL);
  free(q), free(a);
  return rc ? rc : turn;
}

static void meta_head(pair_ctx *c, int turn, const char *type) {
  sb_jw_object(&c->q);
  sb_jw_key(&c->q, "turn"), sb_jw_int(&c->q, turn);
  sb_jw_key(&c->q, "type"), sb_jw_string(&c->q, type);
}

static char *join_names(const pair_ctx *c, const int *objs, int n) {
  sb_strbuf b;
  sb_strbuf_init(&b);
  int rc = SB_OK;
  for (int i = 0; i < n && rc == SB_OK; i++)
    rc = sb_strbuf_printf(&b, "%sthe %s", i == 0 ? "" : i == n - 1 ? " and " : ", ", c->v->s.objects[objs[i]].name);
  if (rc) sb_strbuf_free(&b);
  return rc ? NULL : sb_strbuf_take(&b);
}

static int ask_both(pair_ctx *c) {
  static const char *const q[] = {"Which objects appear in both images?", "What objects can be seen in both views?",
                                  "Name the objects that are visible in both pictures."};
  int objs[64], n = 0;
  for (int o = 0; o < c->v->s.n_objects && n < 64; o++)
    if (seen(c, 0, o) && seen(c, 1, o)) objs[n++] = o;
  char *list = n ? join_names(c, objs, n) : NULL;
  if (n && !list) return SB_ERR_NOMEM;
  char *a = n ? sb_asprintf(rnd(c, 2) ? "Both images show %s." : "%s can be seen in both views.", list)
              : sb_strdup("No object appears in both images.");
  if (a && n) a[0] = (char)(a[0] >= 'a' && a[0] <= 'z' ? a[0] - 'a' + 'A' : a[0]);
  free(list);
  int turn = ask(c, sb_strdup(q[rnd(c, 3)]), a);
  if (turn < 0) return turn;
  meta_head(c, turn, "both");
  sb_jw_key(&c->q, "answer"), sb_jw_array(&c->q);
  for (int i = 0; i < n; i++) sb_jw_int(&c->q, c->v->s.objects[objs[i]].id);
  sb_jw_end(&c->q), sb_jw_end(&c->q);
  return SB_OK;
}

static int ask_count(pair_ctx *c, int k) {
  int n = 0;
  for (int o = 0; o < c->v->s.n_objects; o++) n += seen(c, k, o);
  int form = rnd(c, 3);
  char *q = form == 0 ? sb_asprintf("How many objects are there in image %d?", k + 1)
            : form == 1 ? sb_asprintf("How many objects can you see in the %s image?", ordinal(k))
                        : sb_asprintf("Count the objects in image %d.", k + 1);
  char *a = n == 1 ? sb_asprintf("There is 1 object in image %d.", k + 1)
                   : sb_asprintf("There are %d objects in image %d.", n, k + 1);
  int turn = ask(c, q, a);
  if (turn < 0) return turn;
  meta_head(c, turn, "count");
  sb_jw_key(&c->q, "image"), sb_jw_int(&c->q, k + 1);
  sb_jw_key(&c->q, "answer"), sb_jw_int(&c->q, n);
  sb_jw_end(&c->q);
  return SB_OK;
}

/* "small metal sphere": the name without its colour, when the scene has the
 * attributes; NULL otherwise. */
static char *colourless(const sb_scene_object *o) {
  if (!o->color[0] || !o->shape[0]) return NULL;
  return sb_asprintf("%s%s%s%s%s", o->size, o->size[0] ? " " : "", o->material, o->material[0] ? " " : "", o->shape);
}

/* An object seen in either view whose colourless name no other object shares. */
static int colour_candidate(pair_ctx *c) {
  const sb_scene *s = &c->v->s;
  int cand[64], n = 0;
  for (int o = 0; o < s->n_objects && n < 64; o++) {
    char *name = colourless(&s->objects[o]);
    bool unique = name && (seen(c, 0, o) || seen(c, 1, o));
    for (int p = 0; unique && p < s->n_objects; p++) {
      char *other = p == o ? NULL : colourless(&s->objects[p]);
      if (other && strcmp(other, name) == 0) unique = false;
      free(other);
    }
    free(name);
    if (unique) cand[n++] = o;
  }
  return n ? cand[rnd(c, n)] : -1;
}

static int ask_colour(pair_ctx *c, int o) {
  const sb_scene_object *obj = &c->v->s.objects[o];
  char *name = colourless(obj);
  if (!name) return SB_ERR_NOMEM;
  int form = rnd(c, 3);
  char *q = form == 0 ? sb_asprintf("What color is the %s?", name)
            : form == 1 ? sb_asprintf("Which color does the %s have?", name)
                        : sb_asprintf("Tell me the color of the %s.", name);
  char *a = rnd(c, 2) ? sb_asprintf("The %s is %s.", name, obj->color) : sb_asprintf("It is %s.", obj->color);
  free(name);
  int turn = ask(c, q, a);
  if (turn < 0) return turn;
  meta_head(c, turn, "colour");
  sb_jw_key(&c->q, "object"), sb_jw_int(&c->q, obj->id);
  sb_jw_key(&c->q, "answer"), sb_jw_string(&c->q, obj->color);
  sb_jw_end(&c->q);
  return SB_OK;
}

static const char *article(const char *name) { return name[0] && strchr("aeiouAEIOU", name[0]) ? "an" : "a"; }

/* A name the scene does not have: object o's with another colour that no
 * object of the same colourless name has ("small green metal sphere");
 * NULL when the scene has no attributes or every colour is taken. */
static char *absent_name(pair_ctx *c, int o) {
  static const char *const colours[] = {"red", "green", "blue", "yellow", "purple", "cyan", "gray", "brown", "orange"};
  const sb_scene *s = &c->v->s;
  char *base = colourless(&s->objects[o]);
  if (!base) return NULL;
  int start = rnd(c, (int)SB_ARRAY_LEN(colours));
  char *name = NULL;
  for (size_t k = 0; k < SB_ARRAY_LEN(colours) && !name; k++) {
    const char *col = colours[(start + k) % SB_ARRAY_LEN(colours)];
    bool taken = false;
    for (int p = 0; p < s->n_objects && !taken; p++) {
      char *other = colourless(&s->objects[p]);
      taken = other && strcmp(other, base) == 0 && strcmp(s->objects[p].color, col) == 0;
      free(other);
    }
    if (!taken) {
      const sb_scene_object *ob = &s->objects[o];
      name = sb_asprintf("%s%s%s %s%s%s", ob->size, ob->size[0] ? " " : "", col, ob->material,
                         ob->material[0] ? " " : "", ob->shape);
    }
  }
  free(base);
  return name;
}

/* Whether image k shows object o, or (o < 0) a made-up object `name`. */
static int ask_presence(pair_ctx *c, int k, int o, const char *name) {
  const char *art = article(name);
  bool yes = o >= 0 && seen(c, k, o);
  int form = rnd(c, 3);
  char *q = form == 0 ? sb_asprintf("Is there %s %s in image %d?", art, name, k + 1)
            : form == 1 ? sb_asprintf("Does image %d show %s %s?", k + 1, art, name)
                        : sb_asprintf("Can you see %s %s in the %s image?", art, name, ordinal(k));
  char *a = yes ? sb_asprintf("Yes, image %d shows the %s.", k + 1, name)
                : sb_asprintf("No, there is no %s in image %d.", name, k + 1);
  int turn = ask(c, q, a);
  if (turn < 0) return turn;
  meta_head(c, turn, "presence");
  sb_jw_key(&c->q, "image"), sb_jw_int(&c->q, k + 1);
  sb_jw_key(&c->q, "object"), sb_jw_int(&c->q, o >= 0 ? c->v->s.objects[o].id : 0);
  sb_jw_key(&c->q, "name"), sb_jw_string(&c->q, name);
  sb_jw_key(&c->q, "answer"), sb_jw_string(&c->q, yes ? "yes" : "no");
  sb_jw_end(&c->q);
  return SB_OK;
}

/* Presence of object o in image k, or half the time of an object the
 * scene does not have. */
static int ask_presence_any(pair_ctx *c, int k, int o) {
  char *absent = rnd(c, 2) ? absent_name(c, o) : NULL;
  int rc = absent ? ask_presence(c, k, -1, absent) : ask_presence(c, k, o, c->v->s.objects[o].name);
  free(absent);
  return rc;
}

/* Up to n questions: "both" and each image's count at most once, colours
 * and presence of objects not asked about before. */
static int ask_questions(pair_ctx *c, int n) {
  bool used_both = false, used_count[2] = {false, false};
  bool *asked_obj = sb_calloc((size_t)(c->v->s.n_objects ? c->v->s.n_objects : 1), sizeof *asked_obj);
  if (!asked_obj) return SB_ERR_NOMEM;
  int asked = 0, rc = SB_OK;
  for (int tries = 0; asked < n && tries < 50 && rc == SB_OK; tries++) {
    int type = rnd(c, 4), k = rnd(c, 2), o = c->v->s.n_objects ? rnd(c, c->v->s.n_objects) : -1;
    if (type == 0 && !used_both) used_both = true, rc = ask_both(c);
    else if (type == 1 && !used_count[k]) used_count[k] = true, rc = ask_count(c, k);
    else if (type == 2 && (o = colour_candidate(c)) >= 0 && !asked_obj[o]) asked_obj[o] = true, rc = ask_colour(c, o);
    else if (type == 3 && o >= 0 && !asked_obj[o]) asked_obj[o] = true, rc = ask_presence_any(c, k, o);
    else continue;
    asked++;
  }
  free(asked_obj);
  return rc;
}

static char *pair_meta(pair_ctx *c, double dist, const char *metric, char *questions) {
  sb_jw w;
  sb_jw_init(&w);
  sb_jw_object(&w);
  sb_jw_key(&w, "generator"), sb_jw_string(&w, "spatialboost-mvqa");
  sb_jw_key(&w, "format"), sb_jw_int(&w, 1);
  char seed_text[32];
  snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)c->a->seed);
  sb_jw_key(&w, "seed"), sb_jw_raw(&w, seed_text);
  sb_jw_key(&w, "scene"), sb_jw_string(&w, c->v->s.id);
  sb_jw_key(&w, "views"), sb_jw_array(&w), sb_jw_int(&w, c->view[0]), sb_jw_int(&w, c->view[1]), sb_jw_end(&w);
  sb_jw_key(&w, "metric"), sb_jw_string(&w, metric);
  sb_jw_key(&w, "distance"), sb_jw_num(&w, dist, 4);
  double band[2] = {c->a->lo, c->a->hi};
  sb_jw_key(&w, "band"), sb_jw_nums(&w, band, 2, 4);
  sb_jw_key(&w, "visible"), sb_jw_array(&w);
  for (int k = 0; k < 2; k++) {
    sb_jw_array(&w);
    for (int o = 0; o < c->v->s.n_objects; o++)
      if (seen(c, k, o)) sb_jw_int(&w, c->v->s.objects[o].id);
    sb_jw_end(&w);
  }
  sb_jw_end(&w);
  sb_jw_key(&w, "questions"), sb_jw_raw(&w, questions ? questions : "[]");
  sb_jw_end(&w);
  return sb_jw_finish(&w);
}

/* ---- the sample loop ---- */

typedef struct mvqa_run {
  const mvqa_args *a;
  sb_dg_writer w;
  sb_mvqa_featurizer *f;
  char metric[128];
  long written, pairs_out_of_band, single_view;
} mvqa_run;

static int write_pair(mvqa_run *r, scene_views *v, int i, int j, double dist) {
  pair_ctx c = {.a = r->a, .v = v, .view = {i, j}};
  int views[2] = {i, j};
  sb_qa_result res = {0};
  res.id = sb_qa_scene_sample_id(&v->s, views, 2);
  sb_rng_seed_named(&c.rng, r->a->seed, res.id ? res.id : "");
  sb_jw_init(&c.q);
  sb_jw_array(&c.q);
  int n = r->a->questions.min + rnd(&c, r->a->questions.max - r->a->questions.min + 1);
  int rc = res.id ? ask_questions(&c, n) : SB_ERR_NOMEM;
  sb_jw_end(&c.q);
  char *questions = sb_jw_finish(&c.q);
  res.images = sb_calloc(2, sizeof *res.images);
  for (int k = 0; k < 2 && rc == SB_OK && res.images; k++, res.n_images++) {
    char *img = sb_path_join(v->s.views[views[k]].dir, "image.png");
    res.images[k] = img ? sb_dg_image_path(img, r->w.image_root) : NULL;
    free(img);
    if (!res.images[k]) rc = sb_error_code() ? sb_error_code() : SB_ERR_NOMEM;
  }
  res.turns = c.turns, res.n_turns = c.n_turns;
  if (rc == SB_OK && !(res.meta = pair_meta(&c, dist, r->metric, questions))) rc = SB_ERR_NOMEM;
  char *line = rc == SB_OK ? sb_qa_result_to_json(&res) : NULL;
  if (rc == SB_OK) rc = line ? sb_dg_write_line(&r->w, line) : SB_ERR_NOMEM;
  if (rc == SB_OK) r->written++;
  free(line), free(questions);
  sb_qa_result_free(&res);
  return rc;
}

/* The pairs of a scene in the band, at most max_pairs of them (drawn). */
static int scene_pairs(mvqa_run *r, const char *dir) {
  scene_views v;
  int rc = load_views(dir, r->a, r->f, &v);
  int nv = v.s.n_views, (*pairs)[2] = NULL, np = 0;
  if (rc == SB_OK && nv < 2) r->single_view++;
  if (rc == SB_OK && nv >= 2 && !(pairs = sb_malloc((size_t)(nv * nv) * sizeof *pairs))) rc = SB_ERR_NOMEM;
  double *dist = rc == SB_OK && pairs ? sb_malloc((size_t)(nv * nv) * sizeof *dist) : NULL;
  if (pairs && !dist) rc = SB_ERR_NOMEM;
  for (int i = 0; rc == SB_OK && pairs && i < nv; i++)
    for (int j = i + 1; j < nv; j++) {
      double d = sb_cosine_distance(v.feat + (size_t)i * (size_t)v.dim, v.feat + (size_t)j * (size_t)v.dim, v.dim);
      if (d >= r->a->lo && d <= r->a->hi) dist[np] = d, pairs[np][0] = i, pairs[np++][1] = j;
      else r->pairs_out_of_band++;
    }
  if (rc == SB_OK && r->a->max_pairs > 0 && np > r->a->max_pairs) { /* keep a seeded subset, in order */
    sb_rng g;
    sb_rng_seed_named(&g, r->a->seed, v.s.id);
    for (int keep = r->a->max_pairs; np > keep;) {
      int k = (int)(sb_rng_u64(&g) % (uint64_t)np);
      memmove(pairs + k, pairs + k + 1, (size_t)(np - k - 1) * sizeof *pairs);
      memmove(dist + k, dist + k + 1, (size_t)(np - k - 1) * sizeof *dist);
      np--;
    }
  }
  for (int k = 0; rc == SB_OK && k < np && !(r->a->limit > 0 && r->written >= r->a->limit); k++)
    rc = write_pair(r, &v, pairs[k][0], pairs[k][1], dist[k]);
  free(pairs), free(dist);
  views_free(&v);
  return rc;
}

int sb_datagen_mvqa(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return sb_datagen_mvqa_help(stdout), 0;
  mvqa_args a;
  if (parse(argc, argv, &a)) return fprintf(stderr, "%s: %s\n", PROG, sb_error_message()), 2;
  mvqa_run r = {.a = &a};
  snprintf(r.metric, sizeof r.metric, "%s%s", a.pixels ? "pixels" : "encoder:", a.pixels ? "" : a.encoder);
  char **dirs = NULL;
  int n = 0;
  int rc = sb_list_scenes(a.scenes, &dirs, &n);
  if (rc == SB_OK) rc = sb_mvqa_featurizer_open(a.pixels ? NULL : a.encoder, a.weights, a.sets, a.n_sets, &r.f);
  if (rc == SB_OK) rc = sb_dg_writer_open(&r.w, a.out, a.image_root);
  for (int i = 0; i < n && rc == SB_OK && !(a.limit > 0 && r.written >= a.limit); i++)
    if ((rc = scene_pairs(&r, dirs[i]))) sb_error_prefix("%s", dirs[i]);
  if (rc == SB_OK && r.written == 0)
    rc = sb_error("no pair of views within the band %g-%g (%ld pairs outside it, %ld single-view scenes)", a.lo, a.hi,
                  r.pairs_out_of_band, r.single_view);
  if (r.w.f) rc = sb_dg_writer_close(&r.w, rc);
  sb_mvqa_featurizer_close(r.f);
  sb_free_names(dirs, n);
  if (rc) return fprintf(stderr, "%s: %s\n", PROG, sb_error_message()), 1;
  printf("%s: wrote %ld sample%s (%ld pairs outside the band %g-%g, %ld single-view scenes)\n", PROG, r.written,
         r.written == 1 ? "" : "s",
         r.pairs_out_of_band, a.lo, a.hi, r.single_view);
  return 0;
}
