/* test_params.c — the parameter store: declaration with seeded init keyed
 * by name, trainable selection by component / group / glob, and loading
 * with every mismatch reported by tensor, file and expected shape. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/check.h"
#include "param_store.h"
#include "spatialboost/spatialboost.h"
#include "tensor_impl.h"
#include "util.h"

static char g_dir[256];

static const char *write_file(const char *name, const char *const *names, const int64_t (*shapes)[2],
                              int n, sb_dtype dtype) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", g_dir, name);
  sb_st_writer *w = sb_st_writer_new();
  for (int i = 0; i < n; i++) {
    int64_t numel = shapes[i][0] * shapes[i][1];
    uint16_t h[64];
    float f[64];
    for (int j = 0; j < numel; j++) f[j] = (float)(i + 1) + 0.25f * (float)j, h[j] = sb_f32_to_bf16(f[j]);
    sb_st_writer_add(w, names[i], dtype, 2, shapes[i], dtype == SB_DTYPE_BF16 ? (void *)h : (void *)f);
  }
  CHECK(sb_st_writer_write(w, path) == SB_OK, "write %s: %s", path, sb_error_message());
  sb_st_writer_free(w);
  return path;
}

int main(void) {
  snprintf(g_dir, sizeof g_dir, "/tmp/sb_test_params_%d", (int)getpid());
  mkdir(g_dir, 0700);
  sb_param_store *s = sb_param_store_new(7);
  sb_params *enc = sb_param_store_scope(s, "encoder."), *proj = sb_param_store_scope(s, "projector.");
  sb_init normal = {SB_INIT_NORMAL, 0.0, 0.02};
  sb_tensor *a = sb_params_add(enc, "layer.0.q.weight", 2, (int64_t[]){4, 4}, normal, NULL);
  sb_tensor *d = sb_params_add(enc, "layer.0.q_dual.weight", 2, (int64_t[]){4, 4}, normal, "dual");
  sb_tensor *p0 = sb_params_add(proj, "0.weight", 2, (int64_t[]){2, 4}, (sb_init){SB_INIT_ONES, 0, 0}, NULL);
  sb_tensor *p1 = sb_params_add(proj, "0.bias", 2, (int64_t[]){1, 2}, (sb_init){SB_INIT_ZEROS, 0, 0}, NULL);
  CHECK(a && d && p0 && p1, "declare: %s", sb_error_message());
  CHECK(strcmp(sb_tensor_name(a), "encoder.layer.0.q.weight") == 0, "full name %s", sb_tensor_name(a));
  CHECK(sb_params_add(proj, "0.weight", 1, (int64_t[]){2}, normal, NULL) == NULL, "declared twice");
  CHECK_ERROR("parameter 'projector.0.weight' is declared twice");

  /* init: same seed and name -> same values; another name -> others */
  sb_param_store *s2 = sb_param_store_new(7);
  sb_tensor *a2 = sb_params_add(sb_param_store_scope(s2, "encoder."), "layer.0.q.weight", 2,
                                (int64_t[]){4, 4}, normal, NULL);
  float va[16], va2[16], vd[16];
  sb_tensor_to_host_f32(a, va, 16), sb_tensor_to_host_f32(a2, va2, 16), sb_tensor_to_host_f32(d, vd, 16);
  CHECK(memcmp(va, va2, sizeof va) == 0, "init not reproducible");
  CHECK(memcmp(va, vd, sizeof va) != 0, "two names drew the same values");
  sb_param_store_free(s2);

  /* trainable selection */
  CHECK(sb_param_store_set_trainable(s, "projector", true) == 2, "component");
  CHECK(sb_param_store_set_trainable(s, "encoder.dual", true) == 1, "group");
  CHECK(sb_param_store_set_trainable(s, "encoder.*q.weight", true) == 1, "glob");
  CHECK(sb_param_store_set_trainable(s, "llm", true) == 0, "nothing under llm");
  CHECK(sb_tensor_requires_grad(d) && sb_tensor_requires_grad(p0), "requires_grad set");
  CHECK(sb_param_store_numel(s, true) == 16 + 16 + 8 + 2, "trainable count");

  /* loading: good file (BF16, converted), prefix */
  const char *names[] = {"model.mm_projector.0.weight", "model.mm_projector.0.bias", "other.thing"};
  const int64_t shapes[][2] = {{2, 4}, {1, 2}, {3, 3}};
  const char *f = write_file("good.safetensors", names, shapes, 3, SB_DTYPE_BF16);
  CHECK(sb_params_load(proj, f, "model.mm_projector.", SB_LOAD_STRICT) == 2, "load: %s", sb_error_message());
  float w[8];
  sb_tensor_to_host_f32(p0, w, 8);
  CHECK(w[0] == 1.0f && w[7] == 2.75f, "bf16 values converted: %g %g", w[0], w[7]);
  /* float32 weights on the cpu are used in place from the file's mapping */
  sb_memory_stats before, after;
  sb_backend_memory_stats(sb_backend_cpu(), &before);
  f = write_file("f32.safetensors", names, shapes, 2, SB_DTYPE_F32);
  CHECK(sb_params_load(proj, f, "model.mm_projector.", SB_LOAD_ALLOW_UNEXPECTED) == 2, "load f32: %s", sb_error_message());
  sb_safetensors *sf = sb_safetensors_open(f);
  const sb_st_tensor *st = sf ? sb_safetensors_find(sf, "model.mm_projector.0.weight") : NULL;
  CHECK(st && sb_tensor_to_host_f32(p0, w, 8) == SB_OK && memcmp(w, st->data, sizeof w) == 0, "values");
  sb_backend_memory_stats(sb_backend_cpu(), &after);
  CHECK(after.in_use < before.in_use, "the parameters' own blocks were given back (%zu -> %zu bytes)",
        before.in_use, after.in_use);
  /* writing a parameter never changes the file */
  CHECK(sb_tensor_fill(p0, 5.0) == SB_OK, "write in place");
  sb_safetensors_close(sf);
  sf = sb_safetensors_open(f);
  st = sf ? sb_safetensors_find(sf, "model.mm_projector.0.weight") : NULL;
  CHECK(st && ((const float *)st->data)[0] == 1.0f, "the file kept its values");
  sb_tensor_to_host_f32(p0, w, 8);
  CHECK(w[0] == 5.0f && w[7] == 5.0f, "the parameter took the new ones");
  sb_safetensors_close(sf);
  /* every handle of the file is closed, yet the parameter keeps it mapped */
  char *maps = sb_file_read("/proc/self/maps", NULL);
  CHECK(maps && strstr(maps, "f32.safetensors"), "the parameter's mapping is gone");
  free(maps);
  /* missing tensor */
  f = write_file("missing.safetensors", names, shapes, 1, SB_DTYPE_F32);
  CHECK(sb_params_load(proj, f, "model.mm_projector.", SB_LOAD_STRICT) < 0, "missing accepted");
  CHECK_ERROR("tensor 'model.mm_projector.0.bias' (expected shape [1, 2]) is missing");
  CHECK_ERROR("missing.safetensors");
  CHECK(sb_params_load(proj, f, "model.mm_projector.", SB_LOAD_ALLOW_MISSING) == 1, "allow missing");
  /* wrong shape */
  const int64_t bad_shapes[][2] = {{4, 2}, {1, 2}};
  f = write_file("shape.safetensors", names, bad_shapes, 2, SB_DTYPE_F32);
  CHECK(sb_params_load(proj, f, "model.mm_projector.", SB_LOAD_STRICT) < 0, "wrong shape accepted");
  CHECK_ERROR("tensor 'model.mm_projector.0.weight' has shape [4, 2], expected [2, 4]");
  /* unexpected tensor under the prefix */
  const char *extra[] = {"0.weight", "0.bias", "2.weight"};
  f = write_file("extra.safetensors", extra, shapes, 3, SB_DTYPE_F32);
  CHECK(sb_params_load(proj, f, "", SB_LOAD_STRICT) < 0, "unexpected accepted");
  CHECK_ERROR("holds tensor '2.weight' that is not a parameter of this model");
  CHECK(sb_params_load(proj, f, "", SB_LOAD_ALLOW_UNEXPECTED) == 2, "allow unexpected");
  /* a file that is not there */
  CHECK(sb_params_load(proj, "/nonexistent/x.safetensors", "", 0) < 0, "missing file");
  CHECK_ERROR("/nonexistent/x.safetensors");

  sb_param_store_free(s);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
  CHECK(system(cmd) == 0, "cleanup");
  return check_summary("params");
}
