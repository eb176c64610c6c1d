/* datagen_spatial.c — `spatialboost datagen spatial`: spatial
 * chain-of-thought conversations as LLaVA JSONL, from scene folders
 * (--scenes) or from real images, depth maps, masks and intrinsics. This
 * file owns the command line, finding the inputs, the sample loop with its
 * skip report, and writing the output atomically; the conversations come
 * from qa.c. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datagen.h"
#include "datagen_common.h"
#include "qa_input.h"
#include "util.h"

#define PROG "spatialboost datagen spatial"

typedef struct spatial_args {
  const char *scenes, *images, *depth, *masks, *intrinsics, *objects, *out, *image_root;
  double depth_units, pixel_center;
  int views, per_scene;
  long limit;
  uint64_t seed;
  sb_qa_options qa;
} spatial_args;

void sb_datagen_spatial_help(FILE *out) {
  fprintf(out,
          "usage: spatialboost datagen spatial (--scenes DIR | --images DIR --depth DIR --masks DIR\n"
          "                                     [--intrinsics SPEC] [--objects FILE]) -o OUT.jsonl [options]\n\n"
          "Writes spatial chain-of-thought conversations (LLaVA JSONL, one sample a line) in the order\n"
          "pixel -> object -> scene -> caption, each with a `meta` record of what was asked and the true\n"
          "answers. The same inputs, options and seed give the same bytes.\n\n"
          "Inputs:\n"
          "  --scenes DIR       scene folders written by `datagen synth` (DIR or its subfolders)\n"
          "  --images DIR       images (.png .jpg .jpeg .bmp); each NAME.ext pairs with\n"
          "  --depth DIR        NAME.png (16-bit, see --depth-units), NAME.npy / NAME.npz (metres)\n"
          "                     or NAME.safetensors (tensor \"depth\", metres)\n"
          "  --masks DIR        NAME.json (SA-1B / COCO RLE) or NAME.png (16-bit instance ids)\n"
          "  --intrinsics SPEC  nyuv2 (the default) | kinect | fx,fy,cx,cy[,pixel_center] | a JSON file\n"
          "                     for every image | a folder of NAME.json ({fx, fy, cx, cy} or K, optional\n"
          "                     width, height, pixel_center, cam_to_world)\n"
          "  --objects FILE     descriptions: {\"NAME\": {\"caption\": \"...\", \"objects\": {\"1\": \"red chair\"}}};\n"
          "                     objects without one are named by colour (\"the red object\")\n"
          "  --depth-units N    PNG / integer depth values per metre (default 1000: millimetres)\n"
          "  --pixel-center C   where pixel u's centre lies for intrinsics that do not say: 0.5\n"
          "                     (pixel u covers [u, u+1), default) or 0 (centres on integers)\n\n"
          "Samples:\n"
          "  --views N          views per sample (default 1); fused into the first view's frame. Real\n"
          "                     inputs: consecutive images in name order, poses from their intrinsics JSON\n"
          "  --per-scene K      samples per scene (default 0: one per view, each view once first)\n"
          "  --seed N           (default 0)\n"
          "  --limit N          stop after N samples\n"
          "  --pixel-turns R --object-turns R --scene-turns R --caption-turns R\n"
          "                     turns per level, N or N-M (defaults 3-4, 3-4, 2-3, 1-2)\n"
          "  --band LO-HI       per-object depth percentile band kept (default 2-98)\n"
          "  --min-points N     points an object needs for a cube (default 40)\n"
          "  --max-objects N    the largest N objects are used (default 8, 0: all)\n"
          "  --margin M         metres two objects must differ by for a relation to be asked (0.10)\n"
          "  --point-gap M      metres two points' depths must differ by to compare them (0.10)\n"
          "  --image-root DIR   image paths are written relative to DIR (default: OUT's folder)\n\n"
          "Samples that cannot be made (fewer than 2 objects with a cube, no valid depth, depth and\n"
          "masks of different sizes, ...) are skipped; the reasons are counted and reported at the end.\n");
}

/* ---- arguments ---- */

static int parse_option(spatial_args *a, const char *o, const char *v) {
  if (strcmp(o, "--scenes") == 0) a->scenes = v;
  else if (strcmp(o, "--images") == 0) a->images = v;
  else if (strcmp(o, "--depth") == 0) a->depth = v;
  else if (strcmp(o, "--masks") == 0) a->masks = v;
  else if (strcmp(o, "--intrinsics") == 0) a->intrinsics = v;
  else if (strcmp(o, "--objects") == 0) a->objects = v;
  else if (strcmp(o, "-o") == 0 || strcmp(o, "--output") == 0) a->out = v;
  else if (strcmp(o, "--image-root") == 0) a->image_root = v;
  else if (strcmp(o, "--depth-units") == 0) return sb_dg_double(o, v, 1e-9, 1e12, &a->depth_units);
  else if (strcmp(o, "--pixel-center") == 0) return sb_dg_double(o, v, -1, 2, &a->pixel_center);
  else if (strcmp(o, "--views") == 0) return sb_dg_int(o, v, 1, 64, &a->views);
  else if (strcmp(o, "--per-scene") == 0) return sb_dg_int(o, v, 0, 100000, &a->per_scene);
  else if (strcmp(o, "--limit") == 0) return sb_dg_long(o, v, 0, LONG_MAX, &a->limit);
  else if (strcmp(o, "--seed") == 0) return sb_dg_u64(o, v, &a->seed);
  else return sb_dg_qa_option(&a->qa, o, v);
  return SB_OK;
}

static int parse(int argc, char **argv, spatial_args *a) {
  memset(a, 0, sizeof *a);
  a->depth_units = 1000, a->pixel_center = 0.5, a->views = 1;
  sb_qa_options_default(&a->qa);
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) return sb_error("%s needs a value (see --help)", argv[i]);
    int rc = parse_option(a, argv[i], argv[i + 1]);
    if (rc == SB_ERR_NOT_FOUND) return sb_error("unknown argument '%s' (see --help)", argv[i]);
    if (rc) return rc;
    i++;
  }
  if (!a->out) return sb_error("-o OUT.jsonl is required (see --help)");
  bool real = a->images || a->depth || a->masks;
  if (a->scenes && real) return sb_error("give --scenes or --images/--depth/--masks, not both");
  if (!a->scenes && !(a->images && a->depth && a->masks))
    return sb_error("give --scenes DIR, or all of --images, --depth and --masks (see --help)");
  if (a->scenes && (a->intrinsics || a->objects))
    return sb_error("--intrinsics and --objects are for real inputs; scene folders carry their own");
  return sb_qa_options_check(&a->qa);
}

/* ---- one sample ---- */

typedef struct run {
  const spatial_args *a;
  sb_dg_writer w;
  sb_qa_stats stats;
  sb_json_doc *objects;
  long notes; /* skip messages printed */
} run;

static bool done(const run *r) { return r->a->limit > 0 && r->stats.written >= r->a->limit; }

static void note_skip(run *r, const char *id, const char *reason) {
  sb_qa_tally_add(&r->stats.skipped, reason);
  if (r->notes++ < 10) fprintf(stderr, "%s: skipped %s: %s\n", PROG, id, sb_error_message());
  if (r->notes == 10) fprintf(stderr, "%s: (further skips are only counted)\n", PROG);
  sb_error_clear();
}

/* Generates, writes or counts the sample of `in`. */
static int emit(run *r, sb_qa_input *in) {
  sb_qa_result res;
  const char *why = NULL;
  for (int v = 0; v < in->n_views; v++) {
    char *rel = sb_dg_image_path(in->views[v].image_path, r->w.image_root);
    if (!rel) return sb_error_code();
    free(in->views[v].image_path);
    in->views[v].image_path = rel;
  }
  int rc = sb_qa_generate(in, &r->a->qa, r->a->seed, &r->stats, &res, &why);
  if (rc == SB_QA_SKIP) {
    note_skip(r, in->id, why);
    return SB_OK;
  }
  if (rc) return sb_error_prefix("sample '%s'", in->id);
  char *line = sb_qa_result_to_json(&res);
  rc = line ? sb_dg_write_line(&r->w, line) : SB_ERR_NOMEM;
  if (rc == SB_OK) r->stats.written++;
  free(line);
  sb_qa_result_free(&res);
  return rc;
}

/* ---- scene folders ---- */

static int scene_samples(run *r, const char *dir) {
  sb_scene s;
  if (sb_scene_load(dir, &s)) return sb_error_code();
  int per = r->a->per_scene > 0 ? r->a->per_scene : s.n_views, rc = SB_OK;
  int *views = sb_malloc((size_t)(s.n_views ? s.n_views : 1) * sizeof *views);
  if (!views) rc = SB_ERR_NOMEM;
  for (int k = 0; k < per && rc == SB_OK && !done(r); k++) {
    int n = sb_pick_views(sb_path_basename(dir), s.n_views, r->a->views, k, r->a->seed, views);
    sb_qa_input in;
    if (n < 1) rc = sb_error("%s: no views", dir);
    else if (!(rc = sb_qa_input_from_scene(&s, views, n, &in))) {
      rc = emit(r, &in);
      sb_qa_input_free(&in);
    }
  }
  free(views);
  sb_scene_free(&s);
  return rc;
}

static int from_scenes(run *r) {
  char **dirs;
  int n;
  int rc = sb_list_scenes(r->a->scenes, &dirs, &n);
  for (int i = 0; i < n && rc == SB_OK && !done(r); i++) rc = scene_samples(r, dirs[i]);
  sb_free_names(dirs, n);
  return rc;
}

/* ---- real inputs ---- */

typedef struct real_view {
  char *image, *depth, *masks, *camera;
  char stem[256];
} real_view;

static void free_view(real_view *v) {
  free(v->image), free(v->depth), free(v->masks), free(v->camera);
  memset(v, 0, sizeof *v);
}

/* The files of the image `name`; a missing one is a skip reason. */
static int find_files(const spatial_args *a, const char *name, real_view *v, const char **why) {
  static const char *const depth_ext[] = {".png", ".npy", ".npz", ".safetensors", NULL};
  static const char *const mask_ext[] = {".json", ".png", NULL};
  static const char *const json_ext[] = {".json", NULL};
  memset(v, 0, sizeof *v);
  snprintf(v->stem, sizeof v->stem, "%.*s", (int)(strrchr(name, '.') - name), name);
  *why = NULL;
  if (!(v->image = sb_path_join(a->images, name))) return SB_ERR_NOMEM;
  const char *spec = a->intrinsics ? a->intrinsics : "nyuv2", *missing = NULL;
  if (!(v->depth = sb_find_with_ext(a->depth, v->stem, depth_ext))) *why = SB_QA_SKIP_NO_DEPTH_FILE, missing = "depth";
  else if (!(v->masks = sb_find_with_ext(a->masks, v->stem, mask_ext))) *why = SB_QA_SKIP_NO_MASKS_FILE, missing = "mask";
  else if (!sb_path_is_dir(spec)) v->camera = sb_strdup(spec);
  else if (!(v->camera = sb_find_with_ext(spec, v->stem, json_ext)))
    *why = SB_QA_SKIP_NO_CAMERA_FILE, missing = "intrinsics";
  if (missing) sb_error("no %s file for %s (looked for %s.*)", missing, v->image, v->stem);
  return SB_OK;
}

static int real_sample(run *r, real_view *views, int n) {
  sb_qa_files files[64];
  char id[1024] = "";
  for (int i = 0; i < n; i++) {
    files[i] = (sb_qa_files){views[i].image, views[i].image, views[i].depth, views[i].masks, views[i].camera};
    snprintf(id + strlen(id), sizeof id - strlen(id), "%s%s", i ? "+" : "", views[i].stem);
  }
  sb_qa_file_options fo = {r->a->depth_units, r->a->pixel_center};
  sb_qa_input in;
  const char *why = NULL;
  int rc = sb_qa_input_from_files(files, n, &fo, id, &in, &why);
  if (rc == SB_QA_SKIP) {
    note_skip(r, id, why);
    return SB_OK;
  }
  for (int i = 0; i < n && rc == SB_OK && r->objects; i++)
    rc = sb_objects_describe(sb_json_root(r->objects), views[i].stem, &in);
  if (rc == SB_OK) rc = emit(r, &in);
  sb_qa_input_free(&in);
  return rc;
}

static bool is_image(const char *dir, const char *name) {
  (void)dir;
  static const char *const ext[] = {".png", ".jpg", ".jpeg", ".bmp", ".PNG", ".JPG", ".JPEG"};
  for (size_t i = 0; i < SB_ARRAY_LEN(ext); i++)
    if (sb_str_ends_with(name, ext[i])) return true;
  return false;
}

static int from_files(run *r) {
  const spatial_args *a = r->a;
  if (!a->intrinsics)
    fprintf(stderr, "%s: no --intrinsics: using NYUv2's colour camera, scaled to each depth map\n", PROG);
  char **names;
  int n, rc = sb_list_dir(a->images, is_image, &names, &n);
  if (rc == SB_OK && n == 0) rc = sb_error("%s: no images (.png, .jpg, .jpeg, .bmp)", a->images);
  if (rc == SB_OK && a->objects && !(r->objects = sb_json_load(a->objects))) rc = sb_error_code();
  real_view group[64];
  int g = 0;
  for (int i = 0; i < n && rc == SB_OK && !done(r); i++) {
    const char *why;
    if ((rc = find_files(a, names[i], &group[g], &why))) break;
    if (why) {
      note_skip(r, group[g].stem, why);
      free_view(&group[g]);
      continue;
    }
    if (++g < a->views) continue;
    rc = real_sample(r, group, g);
    for (int k = 0; k < g; k++) free_view(&group[k]);
    g = 0;
  }
  for (int k = 0; k < g; k++) free_view(&group[k]);
  sb_free_names(names, n);
  return rc;
}

/* ---- the command ---- */

int sb_datagen_spatial(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return sb_datagen_spatial_help(stdout), 0;
  spatial_args a;
  if (parse(argc, argv, &a)) return fprintf(stderr, "%s: %s\n", PROG, sb_error_message()), 2;
  run r = {.a = &a};
  int rc = sb_dg_writer_open(&r.w, a.out, a.image_root);
  if (rc == SB_OK) rc = a.scenes ? from_scenes(&r) : from_files(&r);
  if (rc == SB_OK && r.stats.written == 0) rc = sb_error("no sample could be made (reasons above)");
  rc = sb_dg_writer_close(&r.w, rc);
  sb_json_free(r.objects);
  if (rc == SB_OK || r.stats.written || sb_qa_tally_total(&r.stats.skipped)) sb_qa_stats_print(&r.stats, PROG, stdout);
  if (rc) fprintf(stderr, "%s: %s\n", PROG, sb_error_message());
  return rc ? 1 : 0;
}
