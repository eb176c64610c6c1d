/* bench_synth.c — `datagen synth` speed: scenes per second at 256×256 with
 * 2 threads, end to end (draw, render, write every file) and split into
 * rendering and writing. Usage: bench_synth [N_SCENES] [THREADS]. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_common.h"
#include "datagen.h"
#include "synth.h"
#include "util.h"

#define SIDE 256

/* Seconds to draw and render n scenes (one view each), writing nothing. */
static double render_only(int n, int threads, const char *dir) {
  double t0 = bench_now();
  for (int i = 0; i < n; i++) {
    sb_scene s;
    sb_synth_frame f;
    if (sb_synth_scene(sb_synth_scene_seed(0, (uint64_t)i), "scene", dir, 1, SIDE, SIDE, &s) ||
        sb_synth_render(&s, &s.views[0].cam, threads, &f)) {
      fprintf(stderr, "bench_synth: %s\n", sb_error_message());
      exit(1);
    }
    sb_synth_frame_free(&f);
    sb_scene_free(&s);
  }
  return bench_now() - t0;
}

/* Seconds to write one rendered view's files n times. */
static double write_only(int n, int threads, const char *dir) {
  sb_scene s;
  sb_synth_frame f;
  sb_synth_scene(sb_synth_scene_seed(0, 0), "scene", dir, 1, SIDE, SIDE, &s);
  sb_synth_render(&s, &s.views[0].cam, 0, &f);
  double t0 = bench_now();
  for (int i = 0; i < n; i++)
    if (sb_synth_write_view(&f, dir, threads)) {
      fprintf(stderr, "bench_synth: %s\n", sb_error_message());
      exit(1);
    }
  double t = bench_now() - t0;
  sb_synth_frame_free(&f);
  sb_scene_free(&s);
  return t;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 40, threads = argc > 2 ? atoi(argv[2]) : 2;
  char tmp[] = "/tmp/sb_bench_synth_XXXXXX";
  if (n < 1 || !mkdtemp(tmp)) return 1;
  char n_text[16], t_text[16];
  snprintf(n_text, sizeof n_text, "%d", n);
  snprintf(t_text, sizeof t_text, "%d", threads);
  char *argv_synth[] = {"synth", "-n", n_text, "-o", tmp, "--size", "256x256", "--threads", t_text};
  double t0 = bench_now();
  int rc = sb_datagen_synth((int)SB_ARRAY_LEN(argv_synth), argv_synth);
  double total = bench_now() - t0;
  double render = render_only(n, threads, tmp), write = write_only(n, threads, tmp);
  sb_path_remove_tree(tmp);
  if (rc) return 1;
  printf("synth %dx%d, %d scenes, %d threads: %.1f scenes/s end to end (target >= 20)\n", SIDE, SIDE, n, threads,
         n / total);
  printf("  draw + render only: %.1f scenes/s (%.2f ms a scene)\n", n / render, 1e3 * render / n);
  printf("  writing the files:  %.1f views/s (%.2f ms a view)\n", n / write, 1e3 * write / n);
  return 0;
}
