/* outputs.c — a stage's final outputs and component folders (outputs.h). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outputs.h"
#include "spatialboost/spatialboost.h"
#include "util.h"

bool sb_component_trains(const sb_model *m, const sb_component *c) {
  if (!c->plugin) return false;
  char prefix[32];
  snprintf(prefix, sizeof prefix, "%s.", c->role);
  for (size_t i = 0; i < sb_param_store_count(m->store); i++) {
    const sb_param *p = sb_param_store_at(m->store, i);
    if (p->trainable && sb_str_starts_with(p->name, prefix)) return true;
  }
  return false;
}

bool sb_component_trains_in(const char *checkpoint_dir, const char *role) {
  char *path = sb_path_join(checkpoint_dir, "trainable.safetensors");
  sb_safetensors *f = path ? sb_safetensors_open(path) : NULL;
  char prefix[32];
  snprintf(prefix, sizeof prefix, "%s.", role);
  bool found = false;
  for (size_t i = 0; f && i < sb_safetensors_count(f) && !found; i++)
    found = sb_str_starts_with(sb_safetensors_at(f, i)->name, prefix);
  sb_safetensors_close(f);
  free(path);
  return found;
}

/* Parameters of a component under their names inside it. */
static int write_weights(const sb_model *m, const sb_component *c, const char *path) {
  char prefix[32];
  snprintf(prefix, sizeof prefix, "%s.", c->role);
  sb_st_writer *w = sb_st_writer_new();
  int rc = w ? SB_OK : SB_ERR_NOMEM;
  for (size_t i = 0; i < sb_param_store_count(m->store) && rc == SB_OK; i++) {
    const sb_param *p = sb_param_store_at(m->store, i);
    if (sb_str_starts_with(p->name, prefix)) rc = sb_st_writer_add_tensor(w, p->local, p->tensor);
  }
  if (rc == SB_OK) rc = sb_st_writer_set_metadata(w, "format", "pt");
  if (rc == SB_OK) rc = sb_st_writer_write(w, path);
  sb_st_writer_free(w);
  return rc;
}

static int copy_file(const char *from, const char *to) {
  size_t n;
  char *data = sb_file_read(from, &n);
  if (!data) return SB_ERR_IO;
  FILE *f = fopen(to, "wb");
  int rc = f && fwrite(data, 1, n, f) == n ? SB_OK : SB_ERR_IO;
  if (f && fclose(f) != 0) rc = SB_ERR_IO;
  free(data);
  return rc ? sb_error_set(SB_ERR_IO, "%s: cannot write", to) : SB_OK;
}

/* Configs, tokenizer and preprocessor files of the source folder. */
static bool carried_over(const char *name) {
  static const char *const keep[] = {"tokenizer.json", "vocab.json", "merges.txt", "chat_template.jinja"};
  for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
    if (strcmp(name, keep[i]) == 0) return true;
  return sb_str_ends_with(name, ".json") && !sb_str_starts_with(name, "model.safetensors");
}

static int copy_configs(const char *src_dir, const char *dst_dir) {
  DIR *d = opendir(src_dir);
  if (!d) return sb_error_set(SB_ERR_IO, "%s: cannot read: %s", src_dir, strerror(errno));
  struct dirent *e;
  int rc = SB_OK;
  while (rc == SB_OK && (e = readdir(d))) {
    if (e->d_name[0] == '.' || !carried_over(e->d_name)) continue;
    char *from = sb_path_join(src_dir, e->d_name), *to = sb_path_join(dst_dir, e->d_name);
    rc = from && to ? copy_file(from, to) : SB_ERR_NOMEM;
    free(from), free(to);
  }
  closedir(d);
  return rc;
}

int sb_outputs_write_component(const sb_model *m, const sb_component *c, const char *dir) {
  const char *weights = NULL;
  if (sb_config_get_path(c->options, "weights", &weights)) return SB_ERR;
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) return sb_error_set(SB_ERR_IO, "%s: cannot create: %s", dir, strerror(errno));
  char *src = sb_path_is_dir(weights) ? sb_strdup(weights) : sb_path_dirname(weights);
  char *model = sb_path_join(dir, "model.safetensors");
  int rc = src && model ? copy_configs(src, dir) : SB_ERR_NOMEM;
  if (rc == SB_OK) rc = write_weights(m, c, model);
  free(src), free(model);
  return rc ? sb_error_prefix("writing the %s to %s", c->role, dir) : SB_OK;
}


int sb_outputs_write(const char *run_dir, const sb_model *m) {
  char final[4096], tmp[4096];
  snprintf(final, sizeof final, "%s/final", run_dir);
  snprintf(tmp, sizeof tmp, "%s/.final.tmp.%d", run_dir, (int)getpid());
  sb_path_remove_tree(tmp);
  if (mkdir(tmp, 0755) != 0) return sb_error_set(SB_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
  int rc = SB_OK;
  char path[4200];
  if (m->projector.plugin) {
    snprintf(path, sizeof path, "%s/projector.safetensors", tmp);
    rc = write_weights(m, &m->projector, path);
  }
  if (rc == SB_OK && sb_component_trains(m, &m->llm)) {
    snprintf(path, sizeof path, "%s/llm", tmp);
    rc = sb_outputs_write_component(m, &m->llm, path);
  }
  if (rc == SB_OK && sb_component_trains(m, &m->encoder)) {
    snprintf(path, sizeof path, "%s/encoder", tmp);
    rc = sb_outputs_write_component(m, &m->encoder, path);
  }
  if (rc == SB_OK) {
    sb_path_remove_tree(final);
    if (rename(tmp, final) != 0) rc = sb_error_set(SB_ERR_IO, "%s: cannot rename into place: %s", final, strerror(errno));
  }
  if (rc) sb_path_remove_tree(tmp);
  return rc;
}
