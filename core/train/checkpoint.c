/* checkpoint.c — writing, finding and loading training checkpoints
 * (checkpoint.h). */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "spatialboost/spatialboost.h"
#include "util.h"


static int write_state(const char *path, const sb_model *m, const sb_train_state *st, const char *recipe_name) {
  json_t *j = json_object(), *ld = json_object(), *pl = json_object();
  json_object_set_new(j, "step", json_integer(st->step));
  json_object_set_new(ld, "epoch", json_integer(st->loader.epoch));
  json_object_set_new(ld, "batch", json_integer(st->loader.batch));
  json_object_set_new(ld, "seed", json_integer((json_int_t)st->loader.seed));
  json_object_set_new(j, "loader", ld);
  json_object_set_new(j, "loss", json_real(st->loss));
  json_object_set_new(j, "recipe", json_string(recipe_name ? recipe_name : ""));
  json_object_set_new(j, "spatialboost", json_string(sb_version()));
  json_object_set_new(j, "threads", json_integer(sb_get_num_threads()));
  const sb_component *cs[] = {&m->encoder, &m->projector, &m->llm, &m->loss, &m->data};
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
    if (!cs[i]->plugin) continue;
    char v[160];
    snprintf(v, sizeof v, "%s %s", cs[i]->desc->name, cs[i]->desc->version);
    json_object_set_new(pl, cs[i]->role, json_string(v));
  }
  json_object_set_new(j, "plugins", pl);
  int rc = json_dump_file(j, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ? SB_ERR_IO : SB_OK;
  json_decref(j);
  return rc ? sb_error_set(SB_ERR_IO, "%s: cannot write", path) : SB_OK;
}

static int write_trainable(const char *path, const sb_model *m) {
  sb_st_writer *w = sb_st_writer_new();
  int rc = w ? SB_OK : SB_ERR_NOMEM;
  for (size_t i = 0; i < sb_param_store_count(m->store) && rc == SB_OK; i++) {
    const sb_param *p = sb_param_store_at(m->store, i);
    if (p->trainable) rc = sb_st_writer_add_tensor(w, p->name, p->tensor);
  }
  if (rc == SB_OK) rc = sb_st_writer_write(w, path);
  sb_st_writer_free(w);
  return rc;
}

static int is_checkpoint_name(const char *name, int64_t *step) {
  char *end;
  if (strncmp(name, "checkpoint-", 11) != 0) return 0;
  long long v = strtoll(name + 11, &end, 10);
  if (*end || end == name + 11) return 0;
  *step = v;
  return 1;
}

/* Steps of the complete checkpoints, ascending. */
static int64_t *list_steps(const char *run_dir, size_t *n) {
  *n = 0;
  DIR *d = opendir(run_dir);
  if (!d) return NULL;
  int64_t *steps = NULL;
  size_t cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    int64_t s;
    if (!is_checkpoint_name(e->d_name, &s)) continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 16;
      int64_t *t = realloc(steps, cap * sizeof *t);
      if (!t) break;
      steps = t;
    }
    steps[(*n)++] = s;
  }
  closedir(d);
  for (size_t i = 1; i < *n; i++) /* insertion sort: few entries */
    for (size_t j = i; j > 0 && steps[j - 1] > steps[j]; j--) {
      int64_t t = steps[j];
      steps[j] = steps[j - 1], steps[j - 1] = t;
    }
  return steps;
}

int sb_checkpoint_save(const char *run_dir, const sb_model *m, const sb_optim *o, const sb_train_state *st,
                       int64_t keep, const char *recipe_name) {
  char final[4096], tmp[4096];
  snprintf(final, sizeof final, "%s/checkpoint-%06lld", run_dir, (long long)st->step);
  snprintf(tmp, sizeof tmp, "%s/.checkpoint-%06lld.tmp.%d", run_dir, (long long)st->step, (int)getpid());
  sb_path_remove_tree(tmp);
  if (mkdir(tmp, 0755) != 0) return sb_error_set(SB_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
  char *p1 = sb_path_join(tmp, "trainable.safetensors"), *p2 = sb_path_join(tmp, "optimizer.safetensors"),
       *p3 = sb_path_join(tmp, "state.json");
  int rc = p1 && p2 && p3 ? write_trainable(p1, m) : SB_ERR_NOMEM;
  if (rc == SB_OK) {
    sb_st_writer *w = sb_st_writer_new();
    rc = w ? sb_optim_save(o, w) : SB_ERR_NOMEM;
    if (rc == SB_OK) rc = sb_st_writer_write(w, p2);
    sb_st_writer_free(w);
  }
  if (rc == SB_OK) rc = write_state(p3, m, st, recipe_name);
  free(p1), free(p2), free(p3);
  if (rc == SB_OK) { /* an older checkpoint of the same step (a resumed run) is replaced */
    sb_path_remove_tree(final);
    if (rename(tmp, final) != 0) rc = sb_error_set(SB_ERR_IO, "%s: cannot rename into place: %s", final, strerror(errno));
  }
  if (rc) {
    sb_path_remove_tree(tmp);
    return sb_error_prefix("writing checkpoint %s", final);
  }
  size_t n;
  int64_t *steps = list_steps(run_dir, &n);
  for (size_t i = 0; keep > 0 && i + (size_t)keep < n; i++) {
    char old[4096];
    snprintf(old, sizeof old, "%s/checkpoint-%06lld", run_dir, (long long)steps[i]);
    sb_path_remove_tree(old);
  }
  free(steps);
  return SB_OK;
}

char *sb_checkpoint_latest(const char *run_dir) {
  size_t n;
  int64_t *steps = list_steps(run_dir, &n);
  char *p = n ? sb_asprintf("%s/checkpoint-%06lld", run_dir, (long long)steps[n - 1]) : NULL;
  free(steps);
  return p;
}

/* The trainable set of the run and of the checkpoint must be the same. */
static int check_trainable(const sb_model *m, const sb_safetensors *f, const char *path) {
  sb_strbuf diff;
  sb_strbuf_init(&diff);
  int n = 0;
  for (size_t i = 0; i < sb_param_store_count(m->store); i++) {
    const sb_param *p = sb_param_store_at(m->store, i);
    if (!p->trainable) continue;
    const sb_st_tensor *t = sb_safetensors_find(f, p->name);
    char a[64], b[64];
    if (!t && n++ < 5) sb_strbuf_printf(&diff, "\n  '%s' trains in this run but is not in the checkpoint", p->name);
    else if (t && (t->ndim != sb_tensor_ndim(p->tensor) ||
                   memcmp(t->shape, sb_tensor_shape(p->tensor), sizeof(int64_t) * (size_t)t->ndim) != 0) && n++ < 5)
      sb_strbuf_printf(&diff, "\n  '%s' is %s here and %s in the checkpoint", p->name, sb_tensor_shape_str(p->tensor, a, 64),
                       sb_shape_str(t->ndim, t->shape, b, 64));
  }
  for (size_t i = 0; i < sb_safetensors_count(f); i++) {
    const char *name = sb_safetensors_at(f, i)->name;
    const sb_param *p = sb_param_store_find(m->store, name);
    if ((!p || !p->trainable) && n++ < 5)
      sb_strbuf_printf(&diff, "\n  '%s' is in the checkpoint but %s", name, p ? "frozen in this run" : "not a parameter here");
  }
  int rc = n ? sb_error("%s: the checkpoint does not match this run's recipe (%d difference%s):%s", path, n,
                        n == 1 ? "" : "s", diff.data)
             : SB_OK;
  sb_strbuf_free(&diff);
  return rc;
}

static int read_state(const char *path, sb_train_state *st) {
  sb_json_doc *d = sb_json_load(path);
  if (!d) return SB_ERR;
  const sb_json *r = sb_json_root(d);
  int64_t seed;
  double loss;
  int rc = sb_json_get_int(r, "step", -1, &st->step) || sb_json_get_int(r, "loader.epoch", 0, &st->loader.epoch) ||
                   sb_json_get_int(r, "loader.batch", 0, &st->loader.batch) ||
                   sb_json_get_int(r, "loader.seed", 0, &seed) || sb_json_get_float(r, "loss", 0, &loss)
               ? SB_ERR
               : SB_OK;
  st->loader.seed = (uint64_t)seed, st->loss = loss;
  if (rc == SB_OK && st->step < 0) rc = sb_error("%s: no step", path);
  sb_json_free(d);
  return rc;
}

int sb_checkpoint_load(const char *dir, sb_model *m, sb_optim *o, sb_train_state *st) {
  char *p1 = sb_path_join(dir, "trainable.safetensors"), *p2 = sb_path_join(dir, "optimizer.safetensors"),
       *p3 = sb_path_join(dir, "state.json");
  sb_safetensors *tf = p1 ? sb_safetensors_open(p1) : NULL, *of = NULL;
  int rc = tf ? check_trainable(m, tf, dir) : SB_ERR;
  for (size_t i = 0; i < sb_param_store_count(m->store) && rc == SB_OK; i++) {
    sb_param *p = sb_param_store_at(m->store, i);
    if (!p->trainable) continue;
    sb_scope_begin();
    sb_tensor *t = sb_safetensors_load(tf, p->name, SB_DTYPE_F32);
    rc = t ? sb_tensor_assign(p->tensor, t) : SB_ERR;
    sb_scope_end();
  }
  if (rc == SB_OK) rc = read_state(p3, st);
  if (rc == SB_OK && !(of = sb_safetensors_open(p2))) rc = SB_ERR;
  if (rc == SB_OK) rc = sb_optim_load(o, of, st->step);
  sb_safetensors_close(tf), sb_safetensors_close(of);
  free(p1), free(p2), free(p3);
  return rc ? sb_error_prefix("resuming from %s", dir) : SB_OK;
}
