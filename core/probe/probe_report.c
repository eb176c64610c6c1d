/* probe_report.c — what `spatialboost probe` prints and writes
 * (probe_report.h): the paired bootstrap over held-out groups, the table
 * (task columns, encoder rows, "vs <first>" difference rows) and the JSON
 * file with the same numbers and the details behind them. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probe_report.h"
#include "util.h"

static const char *const k_task_keys[SB_PROBE_N_TASKS] = {"depth", "seg", "cls"};
static const char *const k_task_heads[SB_PROBE_N_TASKS] = {"depth RMSE (m)", "seg mIoU (%)", "cls top-1 (%)"};

/* ---- bootstrap ---- */

int sb_probe_report_bootstrap(sb_probe_report *r) {
  int ng = r->plan->n_test_groups, b = r->bootstrap;
  for (int e = 0; e < r->n_rows; e++)
    for (int t = 0; t < SB_PROBE_N_TASKS; t++) {
      sb_probe_result *res = &r->rows[e].result[t], *base = &r->rows[0].result[t];
      res->se = res->delta_se = NAN;
      bool paired = e > 0 && res->done && base->done && !r->rows[e].baseline;
      res->delta = paired ? res->metric - base->metric : NAN;
    }
  if (b < 2 || ng < 1) return SB_OK;
  double *w = sb_probe_bootstrap_weights(ng, b, r->seed);
  if (!w) return SB_ERR_NOMEM;
  for (int e = 0; e < r->n_rows; e++)
    for (int t = 0; t < SB_PROBE_N_TASKS; t++) {
      sb_probe_result *res = &r->rows[e].result[t], *base = &r->rows[0].result[t];
      if (!res->done) continue;
      bool paired = e > 0 && base->done && !r->rows[e].baseline;
      sb_probe_bootstrap_se(&res->items, paired ? &base->items : NULL, w, b, ng, &res->se, paired ? &res->delta_se : NULL);
    }
  free(w);
  return SB_OK;
}

/* ---- table ---- */

/* Columns a UTF-8 string takes (one per code point). */
static int columns(const char *s) {
  int n = 0;
  for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* s padded with spaces to `width` columns (left-aligned); the last cell of
 * a line is not padded. */
static void put_cell(FILE *out, const char *s, int width, bool last) {
  fputs(s, out);
  for (int k = columns(s); !last && k < width; k++) fputc(' ', out);
}

/* The index of the last task column shown. */
static int last_task(unsigned tasks) {
  int last = 0;
  for (int t = 0; t < SB_PROBE_N_TASKS; t++)
    if (tasks & (1u << t)) last = t;
  return last;
}

/* A metric in the table's unit: metres for RMSE, percent for the rest. */
static double shown(int task, double v) { return task == 0 ? v : 100.0 * v; }

/* One cell: "value ± se", or the difference "+d ± se" when delta. */
static void format_cell(const sb_probe_result *res, int task, bool delta, char *buf, size_t size) {
  const char *fmt = task == 0 ? (delta ? "%+.4f" : "%.4f") : (delta ? "%+.2f" : "%.2f");
  double v = delta ? res->delta : res->metric, se = delta ? res->delta_se : res->se;
  if (!res->done || !isfinite(v)) {
    snprintf(buf, size, "%s", res->done ? "n/a" : "-");
    return;
  }
  int n = snprintf(buf, size, fmt, shown(task, v));
  if (isfinite(se) && n > 0 && (size_t)n < size)
    snprintf(buf + n, size - (size_t)n, task == 0 ? " ± %.4f" : " ± %.2f", shown(task, se));
}

/* The cell texts [rows·2][tasks] (value rows, then their "vs" rows). */
typedef struct table {
  int n_lines;
  char label[64][80];
  char cell[64][SB_PROBE_N_TASKS][48];
} table;

static void build_table(const sb_probe_report *r, table *tb) {
  tb->n_lines = 0;
  for (int e = 0; e < r->n_rows && tb->n_lines + 2 <= 64; e++) {
    for (int pass = 0; pass < (e > 0 && !r->rows[e].baseline ? 2 : 1); pass++) {
      int l = tb->n_lines++;
      if (pass == 0) snprintf(tb->label[l], sizeof tb->label[l], "%s", r->rows[e].spec->label);
      else snprintf(tb->label[l], sizeof tb->label[l], "  vs %s", r->rows[0].spec->label);
      for (int t = 0; t < SB_PROBE_N_TASKS; t++)
        format_cell(&r->rows[e].result[t], t, pass == 1, tb->cell[l][t], sizeof tb->cell[l][t]);
    }
  }
}

static int count_images(const sb_probe_dataset *ds, int split) {
  int n = 0;
  for (int i = 0; i < ds->n_samples; i++) n += ds->samples[i].split == split;
  return n;
}

static void print_header(const sb_probe_report *r, FILE *out) {
  const sb_probe_dataset *ds = r->ds;
  const char *unit = ds->layout == SB_PROBE_LAYOUT_SCENES ? "scene" : "image";
  int ntest = r->plan->n_test_groups, ntrain = ds->n_groups - ntest;
  fprintf(out, "probe: %s (layout %s)\n", ds->root, sb_probe_layout_name(ds->layout));
  fprintf(out, "split: %d train %s%s (%d images), %d held-out %s%s (%d images), ", ntrain, unit, ntrain == 1 ? "" : "s",
          count_images(ds, SB_PROBE_TRAIN), ntest, unit, ntest == 1 ? "" : "s", count_images(ds, SB_PROBE_TEST));
  if (ds->predefined_split) fprintf(out, "from the dataset's folders\n");
  else fprintf(out, "holdout %g, seed %llu\n", r->holdout, (unsigned long long)r->seed);
  fputc('\n', out);
}

static void print_footer(const sb_probe_report *r, FILE *out) {
  int encoders = 0;
  for (int e = 0; e < r->n_rows; e++) encoders += !r->rows[e].baseline;
  bool depth = r->tasks & SB_PROBE_DEPTH, other = r->tasks & (SB_PROBE_SEG | SB_PROBE_CLS);
  fprintf(out, "\n%s%s%s\n", depth ? "RMSE: lower is better" : "", depth && other ? "; " : "",
          !other                                ? "."
          : (r->tasks & SB_PROBE_SEG) && (r->tasks & SB_PROBE_CLS) ? "mIoU and top-1: higher is better."
          : r->tasks & SB_PROBE_SEG                                ? "mIoU: higher is better."
                                                                   : "top-1: higher is better.");
  if (r->bootstrap >= 2)
    fprintf(out, "±: bootstrap standard error over the %d held-out %s (%d resamples)%s\n", r->plan->n_test_groups,
            r->ds->layout == SB_PROBE_LAYOUT_SCENES ? "scenes" : "images", r->bootstrap,
            encoders > 1 ? "; 'vs' rows: paired differences" : "");
  if (r->n_rows && r->rows[r->n_rows - 1].baseline)
    fprintf(out, "%s: the constant predictor (training mean depth, most frequent class)\n",
            r->rows[r->n_rows - 1].spec->label);
}

void sb_probe_report_table(const sb_probe_report *r, FILE *out) {
  table *tb = calloc(1, sizeof *tb);
  if (!tb) return;
  build_table(r, tb);
  int lw = columns("encoder"), cw[SB_PROBE_N_TASKS];
  for (int l = 0; l < tb->n_lines; l++) lw = SB_MAX(lw, columns(tb->label[l]));
  for (int t = 0; t < SB_PROBE_N_TASKS; t++) {
    cw[t] = columns(k_task_heads[t]);
    for (int l = 0; l < tb->n_lines; l++) cw[t] = SB_MAX(cw[t], columns(tb->cell[l][t]));
  }
  int lt = last_task(r->tasks);
  print_header(r, out);
  put_cell(out, "encoder", lw, false);
  for (int t = 0; t < SB_PROBE_N_TASKS; t++)
    if (r->tasks & (1u << t)) fputs("   ", out), put_cell(out, k_task_heads[t], cw[t], t == lt);
  fputc('\n', out);
  for (int l = 0; l < tb->n_lines; l++) {
    put_cell(out, tb->label[l], lw, false);
    for (int t = 0; t < SB_PROBE_N_TASKS; t++)
      if (r->tasks & (1u << t)) fputs("   ", out), put_cell(out, tb->cell[l][t], cw[t], t == lt);
    fputc('\n', out);
  }
  print_footer(r, out);
  free(tb);
}

/* ---- JSON ---- */

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* seg: [{"class": name or id, "iou": v, "test_items": n}] over the item
 * classes (IoU null for a class absent from the held-out truth). */
static json_t *per_class_json(const sb_probe_dataset *ds, const sb_probe_result *res) {
  int c = res->items.n_classes;
  double *iou = sb_calloc((size_t)c + 1, sizeof *iou);
  int64_t *count = sb_calloc((size_t)c + 1, sizeof *count);
  json_t *arr = json_array();
  if (iou && count) {
    sb_probe_metric(&res->items, NULL, iou);
    for (int64_t i = 0; i < res->items.n; i++) count[res->items.truth[i]]++;
    bool named = ds->layout == SB_PROBE_LAYOUT_SCENES || ds->layout == SB_PROBE_LAYOUT_IMAGEFOLDER;
    for (int k = 0; k < c; k++) {
      int32_t id = res->class_ids[k];
      json_t *o = json_object();
      json_object_set_new(o, "class", named && id < ds->n_class_names ? json_string(ds->class_names[id]) : json_integer(id));
      json_object_set_new(o, "iou", num(iou[k]));
      json_object_set_new(o, "test_items", json_integer(count[k]));
      json_array_append_new(arr, o);
    }
  }
  free(iou), free(count);
  return arr;
}

static json_t *task_json(const sb_probe_dataset *ds, const sb_probe_result *res, int task) {
  static const char *const metric[SB_PROBE_N_TASKS] = {"rmse_m", "miou", "top1"};
  static const char *const items[SB_PROBE_N_TASKS] = {"patches", "patches", "images"};
  json_t *o = json_object();
  json_object_set_new(o, "metric", json_string(metric[task]));
  json_object_set_new(o, "value", num(res->metric));
  json_object_set_new(o, "se", num(res->se));
  json_object_set_new(o, "delta", num(res->delta));
  json_object_set_new(o, "delta_se", num(res->delta_se));
  json_object_set_new(o, task == 0 ? "ridge_lambda" : "l2", json_real(res->lambda));
  json_object_set_new(o, "lambda_validated", json_boolean(res->lambda_validated));
  json_object_set_new(o, "items", json_string(items[task]));
  json_object_set_new(o, "train_items", json_integer(res->n_train));
  json_object_set_new(o, "fit_items", json_integer(res->n_fit));
  json_object_set_new(o, "test_items", json_integer(res->n_test));
  if (task > 0) json_object_set_new(o, "classes", json_integer(res->n_classes));
  if (task == 1 && res->class_ids) json_object_set_new(o, "per_class", per_class_json(ds, res));
  return o;
}

static json_t *encoder_json(const sb_probe_report *r, const sb_probe_row *row) {
  const sb_probe_encoder_spec *s = row->spec;
  json_t *o = json_object(), *sets = json_array();
  json_object_set_new(o, "label", json_string(s->label));
  json_object_set_new(o, "baseline", json_boolean(row->baseline));
  json_object_set_new(o, "plugin", json_string(row->plugin));
  json_object_set_new(o, "weights", json_string(s->weights));
  json_object_set_new(o, "dual", s->dual ? json_string(s->dual) : json_null());
  for (int i = 0; i < s->n_sets; i++) json_array_append_new(sets, json_string(s->sets[i]));
  json_object_set_new(o, "sets", sets);
  json_object_set_new(o, "hidden_size", json_integer(row->info.hidden_size));
  json_object_set_new(o, "patch_size", json_integer(row->info.patch_size));
  json_object_set_new(o, "num_prefix_tokens", json_integer(row->info.num_prefix_tokens));
  json_object_set_new(o, "image_size", json_pack("[I, I]", (json_int_t)row->info.image_height, (json_int_t)row->info.image_width));
  json_object_set_new(o, "pooled", json_string(row->pooled_is_mean ? "mean_patch_token" : "encoder_pooled"));
  json_object_set_new(o, "patches", json_integer(row->n_patches));
  json_object_set_new(o, "seconds", json_real(row->seconds));
  for (int t = 0; t < SB_PROBE_N_TASKS; t++)
    json_object_set_new(o, k_task_keys[t], r->tasks & (1u << t) && row->result[t].done ? task_json(r->ds, &row->result[t], t) : json_null());
  return o;
}

static json_t *split_json(const sb_probe_report *r) {
  const sb_probe_dataset *ds = r->ds;
  int n_val = 0;
  for (int g = 0; g < r->plan->n_groups; g++) n_val += r->plan->is_val[g];
  json_t *o = json_object();
  json_object_set_new(o, "unit", json_string(ds->layout == SB_PROBE_LAYOUT_SCENES ? "scene" : "image"));
  json_object_set_new(o, "predefined", json_boolean(ds->predefined_split));
  json_object_set_new(o, "holdout", json_real(r->holdout));
  json_object_set_new(o, "train_groups", json_integer(ds->n_groups - r->plan->n_test_groups));
  json_object_set_new(o, "validation_groups", json_integer(n_val));
  json_object_set_new(o, "test_groups", json_integer(r->plan->n_test_groups));
  json_object_set_new(o, "train_images", json_integer(count_images(ds, SB_PROBE_TRAIN)));
  json_object_set_new(o, "test_images", json_integer(count_images(ds, SB_PROBE_TEST)));
  return o;
}

int sb_probe_report_json(const sb_probe_report *r, const char *path) {
  json_t *root = json_object(), *tasks = json_array(), *encs = json_array(), *names = json_array();
  json_object_set_new(root, "data", json_string(r->ds->root));
  json_object_set_new(root, "layout", json_string(sb_probe_layout_name(r->ds->layout)));
  for (int t = 0; t < SB_PROBE_N_TASKS; t++)
    if (r->tasks & (1u << t)) json_array_append_new(tasks, json_string(k_task_keys[t]));
  json_object_set_new(root, "tasks", tasks);
  json_object_set_new(root, "seed", json_integer((json_int_t)r->seed));
  json_object_set_new(root, "split", split_json(r));
  json_object_set_new(root, "bootstrap_resamples", json_integer(r->bootstrap));
  for (int i = 0; i < r->ds->n_class_names; i++) json_array_append_new(names, json_string(r->ds->class_names[i]));
  json_object_set_new(root, "class_names", names);
  for (int e = 0; e < r->n_rows; e++) json_array_append_new(encs, encoder_json(r, &r->rows[e]));
  json_object_set_new(root, "encoders", encs);
  int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0
               ? SB_OK
               : sb_error_set(SB_ERR_IO, "%s: cannot write the JSON results", path);
  json_decref(root);
  return rc;
}
