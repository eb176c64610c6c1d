/* datagen_synth.c — `spatialboost datagen synth` (datagen.h): options,
 * the output folder, and the loop that draws, renders and writes each
 * scene folder (SCENES.md), with progress and the scenes/s rate. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "datagen.h"
#include "synth.h"
#include "util.h"

#define MAX_SCENES 10000000
#define MAX_SIDE 8192

typedef struct synth_args {
  long n_scenes;
  const char *out;
  int views, width, height, threads;
  uint64_t seed;
  bool help;
} synth_args;

void sb_datagen_synth_help(FILE *out) {
  fprintf(out,
          "usage: spatialboost datagen synth -n N -o DIR [--views V] [--size WxH] [--seed S] [--threads T]\n\n"
          "Renders N synthetic scenes with exact ground truth into DIR/scene_000000, ...:\n"
          "2 to 6 spheres, cubes, cylinders and cones (colours, two sizes, metal or\n"
          "rubber) on a floor in front of a wall, ray cast with shading and shadows.\n"
          "Each view has image.png, depth.png (mm), depth.safetensors (m), instances.png,\n"
          "masks.json (COCO RLE, SA-1B layout) and camera.json; each scene a scene.json\n"
          "with the objects' names, attributes and 3-D boxes (see SCENES.md).\n\n"
          "  -n N          number of scenes (at least 1)\n"
          "  -o DIR        output folder (created when missing)\n"
          "  --views V     cameras per scene, around the same objects (default 1, at most %d)\n"
          "  --size WxH    image size in pixels (default 256x256)\n"
          "  --seed S      seed; the same seed gives the same files (default 0)\n"
          "  --threads T   rendering threads (default: all cores)\n",
          SB_SYNTH_MAX_VIEWS);
}

/* A whole-string integer in [lo, hi]. */
static int parse_int(const char *opt, const char *s, long long lo, long long hi, long long *out) {
  char *end;
  errno = 0;
  long long v = s ? strtoll(s, &end, 10) : 0;
  if (!s || !*s || *end || errno || v < lo || v > hi)
    return sb_error("%s: '%s' is not a whole number from %lld to %lld", opt, s ? s : "", lo, hi);
  *out = v;
  return SB_OK;
}

static int parse_size(const char *s, int *w, int *h) {
  char *end;
  long x = s ? strtol(s, &end, 10) : 0;
  long y = s && *end == 'x' ? strtol(end + 1, &end, 10) : 0;
  if (!s || *end || x < 1 || y < 1 || x > MAX_SIDE || y > MAX_SIDE)
    return sb_error("--size: '%s' is not WxH with sides from 1 to %d (e.g. 256x256)", s ? s : "", MAX_SIDE);
  *w = (int)x, *h = (int)y;
  return SB_OK;
}

static int parse_seed(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = s && *s != '-' ? strtoull(s, &end, 10) : 0;
  if (!s || !*s || *s == '-' || *end || errno) return sb_error("--seed: '%s' is not a whole number ≥ 0", s ? s : "");
  *out = v;
  return SB_OK;
}

/* One option (and its value, which advances *i). */
static int parse_option(int argc, char **argv, int *i, synth_args *a) {
  const char *o = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
  long long x = 0;
  if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) return a->help = true, SB_OK;
  bool known = !strcmp(o, "-n") || !strcmp(o, "-o") || !strcmp(o, "--views") || !strcmp(o, "--size") ||
               !strcmp(o, "--seed") || !strcmp(o, "--threads");
  if (!known) return sb_error("unknown option '%s' (see --help)", o);
  if (!v) return sb_error("%s needs a value", o);
  (*i)++;
  if (!strcmp(o, "-o")) return a->out = v, SB_OK;
  if (!strcmp(o, "--size")) return parse_size(v, &a->width, &a->height);
  if (!strcmp(o, "--seed")) return parse_seed(v, &a->seed);
  if (!strcmp(o, "-n")) return parse_int(o, v, 1, MAX_SCENES, &x) ? SB_ERR : (a->n_scenes = (long)x, SB_OK);
  if (!strcmp(o, "--views")) return parse_int(o, v, 1, SB_SYNTH_MAX_VIEWS, &x) ? SB_ERR : (a->views = (int)x, SB_OK);
  return parse_int(o, v, 0, 1024, &x) ? SB_ERR : (a->threads = (int)x, SB_OK);
}

static int parse(int argc, char **argv, synth_args *a) {
  *a = (synth_args){.n_scenes = -1, .views = 1, .width = 256, .height = 256};
  for (int i = 1; i < argc; i++) {
    if (parse_option(argc, argv, &i, a)) return SB_ERR;
    if (a->help) return SB_OK;
  }
  if (a->n_scenes < 0) return sb_error("-n N (the number of scenes) is required (see --help)");
  if (!a->out || !a->out[0]) return sb_error("-o DIR (the output folder) is required (see --help)");
  return SB_OK;
}

/* The output folder exists (made when missing) and takes files. */
static int prepare_out(const char *dir) {
  if (sb_path_exists(dir) && !sb_path_is_dir(dir))
    return sb_error_set(SB_ERR_IO, "%s: exists and is not a folder", dir);
  if (sb_path_mkdirs(dir)) return SB_ERR_IO;
  if (!sb_path_is_dir(dir)) return sb_error_set(SB_ERR_IO, "%s: cannot create the folder", dir);
  if (access(dir, W_OK | X_OK) != 0) return sb_error_set(SB_ERR_IO, "%s: cannot write here: %s", dir, strerror(errno));
  return SB_OK;
}

static int render_views(const sb_scene *s, int threads) {
  for (int v = 0; v < s->n_views; v++) {
    sb_synth_frame f;
    if (sb_path_mkdirs(s->views[v].dir) || sb_synth_render(s, &s->views[v].cam, threads, &f)) return SB_ERR;
    int rc = sb_synth_write_view(&f, s->views[v].dir, threads);
    sb_synth_frame_free(&f);
    if (rc) return rc;
  }
  return SB_OK;
}

/* Scene `index`: drawn from its own seed, its views rendered and written,
 * scene.json last (a folder with scene.json is complete). */
static int make_scene(const synth_args *a, long index) {
  char id[32];
  snprintf(id, sizeof id, "scene_%06ld", index);
  char *dir = sb_path_join(a->out, id);
  if (!dir) return SB_ERR_NOMEM;
  sb_scene s;
  int rc = sb_synth_scene(sb_synth_scene_seed(a->seed, (uint64_t)index), id, dir, a->views, a->width, a->height, &s);
  free(dir);
  if (rc) return rc;
  rc = render_views(&s, a->threads);
  if (rc == SB_OK) rc = sb_scene_save(&s);
  sb_scene_free(&s);
  return rc;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int run(const synth_args *a) {
  if (prepare_out(a->out)) return SB_ERR_IO;
  double t0 = now_s(), next_report = t0 + 2.0;
  for (long i = 0; i < a->n_scenes; i++) {
    if (make_scene(a, i)) return sb_error_code() ? sb_error_code() : SB_ERR;
    double t = now_s();
    if (t >= next_report && i + 1 < a->n_scenes) {
      fprintf(stderr, "datagen synth: %ld/%ld scenes, %.1f scenes/s\n", i + 1, a->n_scenes, (i + 1) / (t - t0));
      next_report = t + 2.0;
    }
  }
  double dt = now_s() - t0;
  printf("datagen synth: wrote %ld scenes (%d view%s of %dx%d) to %s in %.2f s: %.1f scenes/s\n", a->n_scenes,
         a->views, a->views == 1 ? "" : "s", a->width, a->height, a->out, dt, dt > 0 ? a->n_scenes / dt : 0.0);
  fflush(stdout);
  return SB_OK;
}

int sb_datagen_synth(int argc, char **argv) {
  synth_args a;
  if (parse(argc, argv, &a)) {
    fprintf(stderr, "spatialboost datagen synth: %s\n", sb_error_message());
    return 2;
  }
  if (a.help) {
    sb_datagen_synth_help(stdout);
    return 0;
  }
  if (run(&a)) {
    fprintf(stderr, "spatialboost datagen synth: %s\n", sb_error_message());
    return 1;
  }
  return 0;
}
