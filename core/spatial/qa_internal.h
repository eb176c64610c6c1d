/* qa_internal.h — what the parts of the conversation generator share: the
 * prepared scene (fused object clouds, cubes, the normalised frame,
 * descriptions), the conversation being built, and the wording helpers.
 * qa_scene.c prepares, qa_pixel.c / qa_object.c / qa_caption.c ask,
 * qa_text.c holds the paraphrases, qa_describe.c names objects, qa.c runs
 * it all. Not used outside core/spatial. */
#ifndef SB_CORE_QA_INTERNAL_H
#define SB_CORE_QA_INTERNAL_H

#include "qa.h"
#include "qa_json.h"
#include "util.h"

typedef struct qa_object {
  int id;
  char *desc;          /* "the red sphere": lower-case, with its article */
  sb_cloud cloud;      /* fused, in the reference (first) view's camera frame */
  sb_box3 box;         /* metric cube */
  double cube[6];      /* normalised cube, rounded to two decimals */
  size_t n_points;
  int n_views;         /* views whose mask gave points */
  double rgb[3];       /* mean colour under the mask (0..255); rgb[0] < 0: none */
} qa_object;

typedef struct qa_scene {
  const sb_qa_input *in;
  const sb_qa_options *o;
  qa_object *objs;
  int n_objs;
  double (*to_ref)[16]; /* per view: its camera frame to the reference view's */
  sb_norm_frame frame;
  sb_rng rng;
  /* the conversation */
  sb_qa_turn *turns;
  int n_turns, cap_turns;
  sb_jw questions; /* the meta "questions" array, one entry per question */
} qa_scene;

/* qa_scene.c */
int qa_scene_prepare(qa_scene *s, sb_qa_stats *stats, const char **skip_reason);
void qa_scene_free(qa_scene *s);

/* qa.c: a question and its answer as two turns; the first user turn gets
 * the image markers. Returns the user turn's index or a negative error. */
int qa_ask(qa_scene *s, const char *question, const char *answer);
/* Opens the meta record of the question asked at `turn`, with its level and
 * type; the caller adds its own keys and closes it (sb_jw_end). */
void qa_record_open(qa_scene *s, int turn, const char *level, const char *type);
/* A uniform integer in [0, n). */
int qa_rand(qa_scene *s, int n);
/* One of n strings, uniformly. */
const char *qa_pick(qa_scene *s, const char *const *list, int n);
#define QA_PICK(s, list) qa_pick((s), (list), (int)SB_ARRAY_LEN(list))

/* The levels: each asks up to n questions, returns how many it asked or a
 * negative error. */
int qa_pixel_questions(qa_scene *s, int n);
int qa_object_questions(qa_scene *s, int n);
int qa_scene_questions(qa_scene *s, int n);
int qa_caption_questions(qa_scene *s, int n);

/* qa_text.c: wording. */
/* A description at the start of a sentence ("The red sphere"), malloc'd. */
char *qa_cap(const char *desc);
/* "[0.12, 0.40, 0.33, 0.25, 0.61, 0.47]" */
void qa_cube_text(const double cube[6], char *buf, size_t size);
/* Metres spoken: "50 centimeters" below 1 m, "1.25 meters" above. */
void qa_distance_text(double metres, char *buf, size_t size);
/* Depth in metres with two decimals: "2.87 meters". */
void qa_depth_text(double metres, char *buf, size_t size);
/* Rounds to two decimals (half away from zero). */
double qa_round2(double v);
/* A template with %1$s-like slots {A}, {B}, {C}, {D} filled in (malloc'd). */
char *qa_fill(const char *tmpl, const char *a, const char *b, const char *c, const char *d);

/* qa_describe.c: descriptions for objects without one, and making all
 * descriptions distinct. */
int qa_describe_objects(qa_scene *s);
/* The colour name nearest to an RGB mean ("red", "grey", ...). */
const char *qa_colour_name(const double rgb[3]);

#endif
