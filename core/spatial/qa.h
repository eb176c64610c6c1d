/* qa.h — the spatial chain-of-thought conversation generator: from one or
 * more views (depth, intrinsics, poses, per-object masks, an image for
 * colours) to one conversation in the order pixel → object → scene →
 * caption, with a machine-readable `meta` record of what was asked and the
 * true answers. Input loaders (qa_input*.c, scene folders and real inputs)
 * fill an sb_qa_input; datagen_spatial.c and the sdk's sb_spatial_generate
 * call sb_qa_generate. */
#ifndef SB_CORE_QA_H
#define SB_CORE_QA_H

#include <stdio.h>

#include "geometry.h"
#include "spatialboost/image.h"

/* ---- input ---- */

/* One object's pixels in one view. */
typedef struct sb_qa_mask {
  int id;           /* the object's id, the same in every view */
  uint32_t *pixels; /* row-major indices into the view's depth map */
  size_t n;
} sb_qa_mask;

typedef struct sb_qa_view {
  char *image_path;        /* as written into the record */
  int width, height;       /* of the depth map and the masks */
  float *depth;            /* metres; 0, negative, NaN or inf: no value */
  sb_image image;          /* RGB for colour names; data NULL when absent */
  sb_intrinsics k;
  double cam_to_world[16]; /* row-major; the identity for a lone view */
  sb_qa_mask *masks;
  int n_masks;
} sb_qa_view;

/* A description of object `id` ("small red metal sphere", "the chair"). */
typedef struct sb_qa_desc {
  int id;
  char *text;
} sb_qa_desc;

typedef struct sb_qa_input {
  char *id; /* the sample's id; also names its random stream */
  sb_qa_view *views;
  int n_views;
  sb_qa_desc *descs; /* objects without one get a colour-and-position one */
  int n_descs;
  char *caption; /* NULL: a caption templated from the objects */
} sb_qa_input;

void sb_qa_input_free(sb_qa_input *in);
/* Adds object `id`'s description (copied); a second one for id replaces it. */
int sb_qa_input_describe(sb_qa_input *in, int id, const char *text);

/* ---- options ---- */

typedef struct sb_qa_range {
  int min, max;
} sb_qa_range;

typedef struct sb_qa_options {
  /* turns per level, each drawn uniformly from its range */
  sb_qa_range pixel_turns, object_turns, scene_turns, caption_turns;
  double pct_lo, pct_hi; /* per-object depth percentile band kept (percent) */
  int min_points;        /* fewer points after the band: no cube, object dropped */
  int max_objects;       /* the largest objects (by points) are kept */
  double margin_m;       /* a relation is asked only when the centres (or nearest
                            depths) differ by at least this many metres */
  double point_gap_m;    /* "which point is closer" only for depths this far apart */
  size_t max_query, max_target; /* thinning for nearest-point distances */
} sb_qa_options;

void sb_qa_options_default(sb_qa_options *o);
/* "N" or "N-M" (0 <= N <= M <= 16) into a range; an error names the text. */
int sb_qa_range_parse(const char *s, sb_qa_range *out);
/* Checks the options' values (an error names the first bad one). */
int sb_qa_options_check(const sb_qa_options *o);

/* ---- skips and drops ---- */

#define SB_QA_MAX_REASONS 24

typedef struct sb_qa_tally {
  const char *reason[SB_QA_MAX_REASONS]; /* static strings */
  long count[SB_QA_MAX_REASONS];
  int n;
} sb_qa_tally;

typedef struct sb_qa_stats {
  long written;
  sb_qa_tally skipped; /* samples not written, by reason */
  sb_qa_tally dropped; /* objects left out of samples, by reason */
} sb_qa_stats;

void sb_qa_tally_add(sb_qa_tally *t, const char *reason);
long sb_qa_tally_total(const sb_qa_tally *t);
long sb_qa_tally_count(const sb_qa_tally *t, const char *reason);
/* "prog: wrote N samples; skipped M (3 × reason, ...); dropped K objects (...)". */
void sb_qa_stats_print(const sb_qa_stats *s, const char *prog, FILE *out);

/* Reasons (the tallies' keys). */
#define SB_QA_SKIP_FEW_OBJECTS "fewer than 2 objects with a cube"
#define SB_QA_SKIP_NO_DEPTH "no valid depth in the view"
#define SB_QA_SKIP_NO_QUESTION "no object pair far enough apart to compare"
#define SB_QA_DROP_NO_DEPTH "mask has no valid depth"
#define SB_QA_DROP_SMALL "too few points for a cube (min_points)"
#define SB_QA_DROP_MAX "more objects than max_objects"

/* ---- output ---- */

typedef struct sb_qa_turn {
  int role; /* 1 user (LLaVA "human"), 2 assistant ("gpt") */
  char *text;
} sb_qa_turn;

typedef struct sb_qa_result {
  char *id;
  char **images; /* the views' image paths, in order */
  int n_images;
  sb_qa_turn *turns;
  int n_turns;
  char *meta; /* JSON object text */
} sb_qa_result;

void sb_qa_result_free(sb_qa_result *r);

/* The skip return of sb_qa_generate (positive, not an error). */
#define SB_QA_SKIP 1

/* One conversation. Returns SB_OK with *out filled; SB_QA_SKIP when the
 * input cannot make one (*skip_reason gets one of the SB_QA_SKIP_* keys,
 * sb_error_message() the details), or a negative error for inputs that are
 * wrong (message says what). Objects left out are counted in
 * stats->dropped (stats may be NULL). The same input, options and seed give
 * the same result. */
int sb_qa_generate(const sb_qa_input *in, const sb_qa_options *o, uint64_t seed, sb_qa_stats *stats,
                   sb_qa_result *out, const char **skip_reason);

/* The result as one LLaVA JSONL line (no newline), malloc'd: {"id",
 * "image" (a string for one view, a list for several), "conversations",
 * "meta"}. */
char *sb_qa_result_to_json(const sb_qa_result *r);

#endif
