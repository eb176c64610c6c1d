/* probe_main.c — `spatialboost probe` (probe.h): its command line and help,
 * and the run: open the dataset, split it, compute each encoder's features
 * once, fit and score the probes, bootstrap, print the table and write the
 * JSON. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "probe_report.h"
#include "util.h"

enum { MAX_ENCODERS = 16, MAX_SETS = 256 };

typedef struct probe_args {
  const char *data, *json;
  sb_probe_layout layout;
  unsigned tasks; /* 0: every task the layout has */
  double holdout, depth_scale;
  uint64_t seed;
  int batch, bootstrap, max_images;
  bool quiet, baseline;
  int n_enc, n_sets;
  sb_probe_encoder_spec enc[MAX_ENCODERS];
  const char *sets[MAX_SETS]; /* --set values, applied once every --encoder is known */
} probe_args;

void sb_probe_help(FILE *out) {
  fprintf(out,
          "usage: spatialboost probe --data DIR --encoder LABEL=PLUGIN:WEIGHTS[:DUAL]... [options]\n\n"
          "Linear probes of frozen encoder features, as the SpatialBoost paper evaluates encoders;\n"
          "prints one table with a row per encoder and a column per task:\n"
          "  depth  ridge regression from last-layer patch tokens to each patch's mean depth; RMSE (m)\n"
          "  seg    multinomial logistic regression per patch token to its majority class; mIoU (%%)\n"
          "  cls    multinomial logistic regression on the pooled vector (DINOv3: CLS); top-1 (%%)\n"
          "Heads are fitted on the training split, their regularisation chosen on a validation\n"
          "slice of it (20%% of its scenes/images), and scored on the held-out split. Rows after\n"
          "the first get a 'vs <first>' row: the paired difference. '±' is a bootstrap standard\n"
          "error over the held-out scenes/images. core/probe/PROBES.md has the details.\n\n"
          "  --data DIR        the dataset folder\n"
          "  --layout L        auto (default), scenes (datagen synth folders: depth, seg, cls),\n"
          "                    nyu (rgb/ + depth/ 16-bit PNG: depth), ade (images/ + annotations/\n"
          "                    class-id PNG, 0 = ignore: seg) or imagefolder (<class>/ folders: cls).\n"
          "                    DIR/train + DIR/val (or test) folders, or ADE's images/training +\n"
          "                    images/validation, give the split instead of --holdout\n"
          "  --tasks LIST      depth,seg,cls (default: every task the layout has)\n"
          "  --encoder LABEL=PLUGIN:WEIGHTS[:DUAL]\n"
          "                    an encoder row: a plugin (dinov3 finds encoder_dinov3), its\n"
          "                    checkpoint folder and optionally dual-channel weights (a file or\n"
          "                    a boosted folder); a checkpoint that holds dual weights runs\n"
          "                    boosted by itself. Repeat for more rows (at most %d)\n"
          "  --set LABEL.KEY=VALUE  an encoder option for one row (*.KEY=VALUE: every row),\n"
          "                    e.g. --set base.image_size=224\n"
          "  --holdout F       fraction of scenes (scenes layout) or images held out (default 0.2)\n"
          "  --seed S          seeds the split, the validation slice and the bootstrap (default 0)\n"
          "  --max-images N    a seeded subset of whole scenes/images, at most N images\n"
          "  --batch N         images per encoder forward (default 16)\n"
          "  --bootstrap N     resamples for standard errors (default 200; 0: none)\n"
          "  --depth-scale F   nyu: metres per depth-PNG unit (default 0.001, millimetres)\n"
          "  --baseline        add a row for the constant predictor (training mean depth, most\n"
          "                    frequent class): what a probe must beat\n"
          "  --json FILE       also write the numbers (and split, λ, counts) as JSON\n"
          "  --quiet           no progress on stderr\n",
          MAX_ENCODERS);
}

/* ---- parsing ---- */

static int parse_double(const char *opt, const char *s, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= lo && v <= hi))
    return sb_error_set(SB_ERR, "%s '%s': expected a number in [%g, %g]", opt, s, lo, hi);
  *out = v;
  return SB_OK;
}

static int parse_int(const char *opt, const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi)
    return sb_error_set(SB_ERR, "%s '%s': expected an integer in [%ld, %ld]", opt, s, lo, hi);
  *out = v;
  return SB_OK;
}

/* "depth,seg,cls" into SB_PROBE_* bits. */
static int parse_tasks(const char *s, unsigned *out) {
  static const char *const names[] = {"depth", "seg", "cls"};
  *out = 0;
  for (const char *p = s; *p;) {
    size_t n = strcspn(p, ","), k = 0;
    while (k < SB_ARRAY_LEN(names) && !(strlen(names[k]) == n && strncmp(p, names[k], n) == 0)) k++;
    if (k == SB_ARRAY_LEN(names)) return sb_error_set(SB_ERR, "--tasks '%s': tasks are depth, seg and cls", s);
    *out |= 1u << k;
    p += n + (p[n] == ',');
  }
  return *out ? SB_OK : sb_error_set(SB_ERR, "--tasks: name at least one of depth, seg, cls");
}

/* --set LABEL.KEY=VALUE (or *.KEY=VALUE) onto its encoders. */
static int apply_set(probe_args *a, const char *s) {
  const char *dot = strchr(s, '.');
  if (!dot || dot == s || !strchr(dot, '=') || dot[1] == '=')
    return sb_error_set(SB_ERR, "--set '%s': expected LABEL.KEY=VALUE (or *.KEY=VALUE)", s);
  size_t n = (size_t)(dot - s);
  bool all = n == 1 && s[0] == '*', found = false;
  for (int e = 0; e < a->n_enc; e++) {
    if (!all && !(strlen(a->enc[e].label) == n && strncmp(a->enc[e].label, s, n) == 0)) continue;
    if (sb_probe_encoder_spec_add_set(&a->enc[e], dot + 1)) return SB_ERR_NOMEM;
    found = true;
  }
  return found ? SB_OK : sb_error_set(SB_ERR, "--set '%s': no --encoder is labelled '%.*s'", s, (int)n, s);
}

static int add_encoder(probe_args *a, const char *s) {
  if (a->n_enc == MAX_ENCODERS) return sb_error_set(SB_ERR, "at most %d --encoder rows", MAX_ENCODERS);
  sb_probe_encoder_spec *e = &a->enc[a->n_enc];
  if (sb_probe_encoder_spec_parse(s, e)) return SB_ERR;
  for (int i = 0; i < a->n_enc; i++)
    if (strcmp(a->enc[i].label, e->label) == 0) {
      sb_error_set(SB_ERR, "--encoder: the label '%s' is used twice", e->label);
      return sb_probe_encoder_spec_free(e), SB_ERR;
    }
  a->n_enc++;
  return SB_OK;
}

/* One option with its value v. */
static int parse_option(probe_args *a, const char *o, const char *v) {
  long n = 0;
  int rc = SB_OK;
  if (strcmp(o, "--data") == 0) a->data = v;
  else if (strcmp(o, "--json") == 0) a->json = v;
  else if (strcmp(o, "--encoder") == 0) rc = add_encoder(a, v);
  else if (strcmp(o, "--tasks") == 0) rc = parse_tasks(v, &a->tasks);
  else if (strcmp(o, "--holdout") == 0) rc = parse_double(o, v, 1e-9, 1 - 1e-9, &a->holdout);
  else if (strcmp(o, "--depth-scale") == 0) rc = parse_double(o, v, 1e-12, 1e12, &a->depth_scale);
  else if (strcmp(o, "--set") == 0) {
    if (a->n_sets == MAX_SETS) rc = sb_error_set(SB_ERR, "at most %d --set options", MAX_SETS);
    else a->sets[a->n_sets++] = v;
  } else if (strcmp(o, "--layout") == 0) {
    int l = sb_probe_layout_parse(v);
    if (l < 0) rc = sb_error_set(SB_ERR, "--layout '%s': one of auto, scenes, nyu, ade, imagefolder", v);
    else a->layout = (sb_probe_layout)l;
  } else if (strcmp(o, "--seed") == 0) {
    char *end;
    errno = 0;
    a->seed = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-') rc = sb_error_set(SB_ERR, "--seed '%s': expected an unsigned integer", v);
  } else if (strcmp(o, "--batch") == 0) {
    if ((rc = parse_int(o, v, 1, 4096, &n)) == SB_OK) a->batch = (int)n;
  } else if (strcmp(o, "--bootstrap") == 0) {
    if ((rc = parse_int(o, v, 0, 100000, &n)) == SB_OK) a->bootstrap = (int)n;
  } else if (strcmp(o, "--max-images") == 0) {
    if ((rc = parse_int(o, v, 1, 1L << 30, &n)) == SB_OK) a->max_images = (int)n;
  }
  return rc;
}

/* Whether o is an option that takes a value. */
static bool takes_value(const char *o) {
  static const char *const valued[] = {"--data", "--json", "--encoder", "--set", "--tasks", "--holdout",
                                       "--depth-scale", "--layout", "--seed", "--batch", "--bootstrap", "--max-images"};
  for (size_t i = 0; i < SB_ARRAY_LEN(valued); i++)
    if (strcmp(o, valued[i]) == 0) return true;
  return false;
}

static void args_free(probe_args *a) {
  for (int e = 0; e < a->n_enc; e++) sb_probe_encoder_spec_free(&a->enc[e]);
  a->n_enc = 0;
}

static int parse(int argc, char **argv, probe_args *a) {
  memset(a, 0, sizeof *a);
  a->holdout = 0.2, a->batch = 16, a->bootstrap = 200, a->depth_scale = 0.001;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    if (strcmp(o, "--baseline") == 0) a->baseline = true;
    else if (strcmp(o, "--quiet") == 0 || strcmp(o, "-q") == 0) a->quiet = true;
    else if (!takes_value(o)) return sb_error_set(SB_ERR, "unknown argument '%s' (see --help)", o);
    else if (i + 1 >= argc) return sb_error_set(SB_ERR, "%s needs a value", o);
    else if (parse_option(a, o, argv[++i])) return SB_ERR;
  }
  if (!a->data) return sb_error_set(SB_ERR, "--data DIR is required (see --help)");
  if (!a->n_enc) return sb_error_set(SB_ERR, "give at least one --encoder LABEL=PLUGIN:WEIGHTS (see --help)");
  for (int i = 0; i < a->n_sets; i++)
    if (apply_set(a, a->sets[i])) return SB_ERR;
  return SB_OK;
}

/* ---- the run ---- */

static const char *task_noun(unsigned bit) {
  return bit == SB_PROBE_DEPTH ? "depth maps" : bit == SB_PROBE_SEG ? "segmentation labels" : "image classes";
}

/* The dataset opened, subset and split; the tasks checked against it. */
static int open_data(const probe_args *a, sb_probe_dataset *ds, unsigned *tasks) {
  int rc = sb_probe_dataset_open(a->data, a->layout, a->depth_scale, ds);
  unsigned have = rc == SB_OK ? sb_probe_layout_tasks(ds->layout) : 0;
  *tasks = a->tasks ? a->tasks : have;
  for (unsigned bit = 1; rc == SB_OK && bit <= SB_PROBE_CLS; bit <<= 1)
    if ((*tasks & bit) && !(have & bit))
      rc = sb_error_set(SB_ERR, "--tasks: the %s layout has no %s (%s)", sb_probe_layout_name(ds->layout), task_noun(bit),
                        a->data);
  if (rc == SB_OK) rc = sb_probe_subset(ds, a->max_images, a->seed);
  if (rc == SB_OK) rc = sb_probe_split(ds, a->holdout, a->seed);
  return rc;
}

typedef int (*task_fn)(const sb_probe_dataset *, const sb_probe_features *, const sb_probe_plan *, sb_probe_result *);
static const task_fn k_tasks[SB_PROBE_N_TASKS] = {sb_probe_run_depth, sb_probe_run_seg, sb_probe_run_cls};

/* Each asked-for probe on the features f into row->result. */
static int run_tasks(const sb_probe_dataset *ds, const sb_probe_plan *plan, unsigned tasks, const sb_probe_features *f,
                     sb_probe_row *row) {
  int rc = SB_OK;
  for (int t = 0; rc == SB_OK && t < SB_PROBE_N_TASKS; t++)
    if (tasks & (1u << t) && (rc = k_tasks[t](ds, f, plan, &row->result[t]))) sb_error_prefix("%s", row->spec->label);
  return rc;
}

static const sb_probe_encoder_spec k_constant = {.label = "constant", .plugin = "-", .weights = "-"};

/* One encoder: its features, then each probe; with `baseline`, the same
 * targets with no features at all (the constant predictor). */
static int run_encoder(const probe_args *a, const sb_probe_dataset *ds, const sb_probe_plan *plan, unsigned tasks,
                       const sb_probe_encoder_spec *spec, sb_probe_row *row, sb_probe_row *baseline) {
  sb_probe_features f;
  row->spec = spec;
  int rc = sb_probe_features_compute(spec, ds, tasks, a->batch, &f);
  if (rc) return rc;
  row->info = f.info, row->pooled_is_mean = f.pooled_is_mean, row->n_patches = f.n_patches, row->seconds = f.seconds;
  snprintf(row->plugin, sizeof row->plugin, "%s", f.plugin);
  if (!a->quiet)
    fprintf(stderr, "probe: %s (%s, D=%lld, patch %lld): %d images, %lld patches, %.2f s\n", spec->label, f.plugin,
            (long long)f.dim, (long long)f.info.patch_size, f.n_images, (long long)f.n_patches, f.seconds);
  rc = run_tasks(ds, plan, tasks, &f, row);
  if (rc == SB_OK && baseline) {
    sb_probe_features none = f;
    none.dim = 0;
    *baseline = (sb_probe_row){.spec = &k_constant, .baseline = true, .info = f.info, .n_patches = f.n_patches};
    snprintf(baseline->plugin, sizeof baseline->plugin, "-");
    rc = run_tasks(ds, plan, tasks, &none, baseline);
  }
  sb_probe_features_free(&f);
  return rc;
}

static int probe(const probe_args *a, FILE *out) {
  sb_probe_dataset ds;
  sb_probe_plan plan = {0};
  unsigned tasks = 0;
  int rc = open_data(a, &ds, &tasks), n_rows = a->n_enc + a->baseline;
  if (rc == SB_OK) rc = sb_probe_plan_make(&ds, 0.2, a->seed, &plan);
  sb_probe_row *rows = rc == SB_OK ? sb_calloc((size_t)n_rows, sizeof *rows) : NULL;
  if (rc == SB_OK && !rows) rc = SB_ERR_NOMEM;
  for (int e = 0; rc == SB_OK && e < a->n_enc; e++)
    rc = run_encoder(a, &ds, &plan, tasks, &a->enc[e], &rows[e], e == 0 && a->baseline ? &rows[a->n_enc] : NULL);
  sb_probe_report rep = {&ds, &plan, tasks, a->holdout, a->seed, a->bootstrap, n_rows, rows};
  if (rc == SB_OK) rc = sb_probe_report_bootstrap(&rep);
  if (rc == SB_OK) sb_probe_report_table(&rep, out);
  if (rc == SB_OK && a->json) rc = sb_probe_report_json(&rep, a->json);
  for (int e = 0; rows && e < n_rows; e++)
    for (int t = 0; t < SB_PROBE_N_TASKS; t++) sb_probe_result_free(&rows[e].result[t]);
  free(rows);
  sb_probe_plan_free(&plan);
  sb_probe_dataset_free(&ds);
  return rc;
}

int sb_probe_main_to(int argc, char **argv, FILE *out) {
  probe_args a;
  sb_error_clear();
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      sb_probe_help(out);
      return 0;
    }
  if (parse(argc, argv, &a)) {
    args_free(&a);
    return 2;
  }
  int rc = probe(&a, out);
  args_free(&a);
  if (rc == SB_OK) fflush(out);
  return rc == SB_OK ? 0 : 1;
}

int sb_probe_main(int argc, char **argv) { return sb_probe_main_to(argc, argv, stdout); }
