/* test_dinov3.c — the encoder_dinov3 plugin, compiled in statically and
 * built through the recipe machinery (data/encoder.yaml + overrides):
 *   1. golden: dinov3_tiny and dinov3_tiny_gated hidden states, last hidden
 *      state, pooler output and RoPE tables against the fixtures;
 *   2. dual-channel attention: bit-exact at its start for both mix rules,
 *      llava_tiny's dual_init gives the fixture's stage-3 features, an
 *      exported boosted folder loads, dual files are checked strictly;
 *   3. gradients reach the dual group only (plus finite differences and
 *      the exact zeros of the two rules at their start);
 *   4. loading errors name the tensor / key / file;
 *   5. preprocessing against an independent double-precision resize;
 *   6. select_layer and drop_prefix pick the right slices.
 * Temporary folders live under /tmp and are removed at the end. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/check.h"
#include "model.h"
#include "param_store.h"
#include "recipe.h"
#include "spatialboost/spatialboost.h"

#define MAX_HS 8
#define MAX_FILES 64

static char g_fx[1024];   /* fixtures root */
static char g_tmp[256];   /* this run's temporary folder */
static char g_msg[4096];  /* the last error, copied before cleanup can touch it */
static char *g_made[MAX_FILES]; /* files and folders to remove, in creation order */
static int g_n_made;

#define CHECK_MSG(needle) CHECK(strstr(g_msg, (needle)) != NULL, "message \"%s\" lacks \"%s\"", g_msg, (needle))

/* ---- tolerances (fixtures/README.md: float64 reference stored as F32; a
 * correct fp32 implementation matches to ~atol 1e-4 / rtol 1e-3) ----
 * Hidden states are O(1) values (|x| up to ~4) after two blocks of D = 32:
 * each output is a chain of short fp32 sums (K = 768 for the patch
 * embedding, 32-64 elsewhere) and fp32 softmax / LayerNorm, so errors of a
 * few 1e-7..1e-6 are expected (observed: at most 1.9e-6). We ask for atol
 * 1e-5 + rtol 1e-5: ~5x the observed error, 10x tighter than the fixture's
 * stated bound. */
static const double k_atol = 1e-5, k_rtol = 1e-5;
/* RoPE tables: cos/sin of fp32 angles |θ| <= 2π computed as HF does (fp32
 * coordinates and frequencies); the only expected difference is one ulp of
 * an angle near 2π (4.8e-7) moving cos/sin by as much (observed: <= 3e-8).
 * 1e-6 absolute. */
static const double k_rope_atol = 1e-6;
/* Preprocessing: pixels in [0, 1] go through three fp32 roundings (rescale,
 * two resize passes) and a normalisation that divides by std >= 0.224
 * (x4.5): |err| <= ~5 · 2^-24 · 4.5 · 2.7 ≈ 4e-6 (observed: <= 7e-7).
 * We ask for 5e-6. */
static const double k_pre_atol = 5e-6;

/* ---- temporary files ---- */

static void remember(const char *path) {
  for (int i = 0; i < g_n_made; i++)
    if (strcmp(g_made[i], path) == 0) return; /* rewritten: already listed */
  if (g_n_made < MAX_FILES) g_made[g_n_made++] = strdup(path);
}

static void cleanup(void) {
  for (int i = g_n_made; i-- > 0;) {
    if (remove(g_made[i]) != 0) fprintf(stderr, "cannot remove %s: %s\n", g_made[i], strerror(errno));
    free(g_made[i]);
  }
  g_n_made = 0;
}

/* <g_tmp>/<name>, created as a folder. */
static const char *tmp_dir(const char *name, char *out, size_t size) {
  snprintf(out, size, "%s/%s", g_tmp, name);
  if (mkdir(out, 0755) == 0) remember(out);
  return out;
}

static bool write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) return false;
  fputs(text, f);
  fclose(f);
  remember(path);
  return true;
}

/* Copies <fixture>/config.json into dir, replacing the first `from` by `to`
 * (from NULL: unchanged). */
static bool copy_config(const char *fixture, const char *dir, const char *from, const char *to) {
  char path[1200], text[8192];
  snprintf(path, sizeof path, "%s/%s/config.json", g_fx, fixture);
  FILE *f = fopen(path, "r");
  if (!f) return false;
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  char out[8192 + 256];
  const char *at = from ? strstr(text, from) : NULL;
  if (from && !at) return false;
  if (at) snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
  else snprintf(out, sizeof out, "%s", text);
  snprintf(path, sizeof path, "%s/config.json", dir);
  return write_text(path, out);
}

/* How write_weights changes a file while copying it. */
typedef struct edit {
  const char *drop;      /* leave this tensor out */
  const char *prefix;    /* put this in front of every name */
  const char *halve;     /* write this tensor with its first dim halved */
  const char *extra;     /* add a [32] tensor of this name */
  const char *merge;     /* also copy every tensor of this file */
  const char *only;      /* copy only the tensors whose names start with this */
  const char *except;    /* leave out the tensors whose names start with this */
} edit;

static bool add_all(sb_st_writer *w, const char *src, const edit *ed) {
  sb_safetensors *f = sb_safetensors_open(src);
  if (!f) return false;
  bool ok = true;
  for (size_t i = 0; i < sb_safetensors_count(f) && ok; i++) {
    const sb_st_tensor *t = sb_safetensors_at(f, i);
    if (ed->drop && strcmp(t->name, ed->drop) == 0) continue;
    if (ed->only && strncmp(t->name, ed->only, strlen(ed->only)) != 0) continue;
    if (ed->except && strncmp(t->name, ed->except, strlen(ed->except)) == 0) continue;
    int64_t shape[SB_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    if (ed->halve && strcmp(t->name, ed->halve) == 0) shape[0] /= 2;
    char name[256];
    snprintf(name, sizeof name, "%s%s", ed->prefix ? ed->prefix : "", t->name);
    ok = sb_st_writer_add(w, name, t->dtype, t->ndim, shape, t->data) == SB_OK;
  }
  sb_safetensors_close(f);
  return ok;
}

/* Copies the tensors of `src` into `dst` with the edits. */
static bool write_weights(const char *src, const char *dst, const edit *ed) {
  sb_st_writer *w = sb_st_writer_new();
  bool ok = w && add_all(w, src, ed);
  if (ok && ed->merge) ok = add_all(w, ed->merge, &(edit){0});
  if (ok && ed->extra) {
    float zeros[32] = {0};
    ok = sb_st_writer_add(w, ed->extra, SB_DTYPE_F32, 1, (int64_t[]){32}, zeros) == SB_OK;
  }
  if (ok) ok = sb_st_writer_write(w, dst) == SB_OK;
  if (ok) remember(dst);
  sb_st_writer_free(w);
  if (!ok) fprintf(stderr, "writing %s: %s\n", dst, sb_error_message());
  return ok;
}

/* A folder with <fixture>'s config.json (edited) and its model.safetensors
 * (edited, or linked when ed is NULL). */
static const char *broken_copy(const char *name, const char *fixture, const char *from, const char *to,
                               const edit *ed, char *dir, size_t size) {
  char src[1200], dst[1200];
  tmp_dir(name, dir, size);
  bool ok = copy_config(fixture, dir, from, to);
  snprintf(src, sizeof src, "%s/%s/model.safetensors", g_fx, fixture);
  snprintf(dst, sizeof dst, "%s/model.safetensors", dir);
  if (ok && ed) ok = write_weights(src, dst, ed);
  else if (ok) {
    ok = symlink(src, dst) == 0;
    if (ok) remember(dst);
  }
  CHECK(ok, "cannot make the test folder %s", dir);
  return dir;
}

/* ---- building the encoder through a recipe ---- */

typedef struct enc {
  sb_recipe *r;
  sb_model m;
  const sb_encoder_vtable *vt;
  void *self;
} enc;

/* data/encoder.yaml with weights and `n` more --set overrides. On failure
 * the message goes to g_msg and nothing is left to free. */
static bool enc_open(enc *e, const char *weights, const char *const *sets, size_t n) {
  const char *ov[16];
  char wset[1300];
  snprintf(wset, sizeof wset, "model.encoder.weights=%s", weights);
  ov[0] = wset;
  for (size_t i = 0; i < n && i < 15; i++) ov[i + 1] = sets[i];
  memset(e, 0, sizeof *e);
  g_msg[0] = '\0';
  e->r = sb_recipe_load(SB_TEST_DATA "/encoder.yaml", ov, n + 1);
  if (e->r && sb_model_build(&e->m, sb_recipe_root(e->r), 0, SB_MODEL_CREATE) == SB_OK) {
    e->vt = e->m.encoder.vtable, e->self = e->m.encoder.self;
    return true;
  }
  snprintf(g_msg, sizeof g_msg, "%s", sb_error_message());
  if (e->r) sb_model_free(&e->m);
  sb_recipe_free(e->r);
  memset(e, 0, sizeof *e);
  return false;
}

static void enc_close(enc *e) {
  if (!e->r) return;
  CHECK(sb_recipe_check_unused(e->r) == SB_OK, "unused keys: %s", sb_error_message());
  sb_model_free(&e->m);
  sb_recipe_free(e->r);
  memset(e, 0, sizeof *e);
}

/* Opening must fail with a message holding every needle. */
static void expect_open_error(const char *what, const char *weights, const char *const *sets, size_t n,
                              const char *const *needles) {
  enc e;
  bool opened = enc_open(&e, weights, sets, n);
  CHECK(!opened, "%s: the encoder was created", what);
  if (opened) {
    enc_close(&e);
    return;
  }
  for (size_t i = 0; needles[i]; i++) CHECK_MSG(needles[i]);
  printf("error (%s): %s\n", what, g_msg);
}

typedef struct outs {
  sb_tensor *last, *features, *pooled, *hs[MAX_HS];
  int n_hs;
} outs;

/* The forward; false (and the message in g_msg) on failure. */
static bool try_run(const enc *e, sb_tensor *px, unsigned flags, outs *o) {
  memset(o, 0, sizeof *o);
  sb_encoder_input in = {.struct_size = sizeof in, .pixel_values = px};
  sb_encoder_output out = {.struct_size = sizeof out, .hidden_states = o->hs, .max_hidden_states = MAX_HS};
  int rc = e->vt->forward(e->self, &in, flags, &out);
  o->last = out.last_hidden_state, o->features = out.features, o->pooled = out.pooled;
  o->n_hs = out.n_hidden_states;
  if (rc) snprintf(g_msg, sizeof g_msg, "%s", sb_error_message());
  return rc == SB_OK;
}

/* The forward, which must succeed. */
static bool run(const enc *e, sb_tensor *px, unsigned flags, outs *o) {
  bool ok = try_run(e, px, flags, o);
  CHECK(ok, "forward: %s", g_msg);
  return ok;
}

static const unsigned k_all = SB_ENCODER_HIDDEN_STATES | SB_ENCODER_POOLED;

static sb_params *encoder_scope(enc *e) { return sb_param_store_scope(e->m.store, "encoder."); }

/* ---- comparing ---- */

static float *host(sb_tensor *t, size_t *n) {
  *n = t ? (size_t)sb_tensor_numel(t) : 0;
  float *v = malloc(sizeof(float) * (*n ? *n : 1));
  if (v && t && sb_tensor_to_host_f32(t, v, *n) != SB_OK) {
    free(v);
    return NULL;
  }
  return v;
}

static double compare_tensors(const char *label, sb_tensor *got, sb_tensor *want, double atol, double rtol) {
  char a[64], b[64];
  CHECK(got && want && sb_tensor_same_shape(got, want), "%s: shape %s, expected %s", label,
        got ? sb_tensor_shape_str(got, a, 64) : "(none)", want ? sb_tensor_shape_str(want, b, 64) : "(none)");
  if (!got || !want || !sb_tensor_same_shape(got, want)) return INFINITY;
  size_t n, m;
  float *x = host(got, &n), *y = host(want, &m);
  double err = INFINITY;
  bool ok = x && y && close_enough(x, y, n, atol, rtol, &err);
  CHECK(ok, "%s: max |err| %.3g (atol %g, rtol %g)", label, err, atol, rtol);
  free(x), free(y);
  return err;
}

static double compare(const char *label, sb_tensor *got, const sb_safetensors *ex, const char *name, double atol,
                      double rtol) {
  sb_tensor *want = sb_safetensors_load(ex, name, SB_DTYPE_F32);
  CHECK(want, "%s: %s", name, sb_error_message());
  double err = compare_tensors(name, got, want, atol, rtol);
  printf("  %-24s %-20s max |err| %.3g\n", label, name, err);
  return err;
}

/* Same shape and the same bits. */
static bool same_bits(sb_tensor *a, sb_tensor *b) {
  if (!a || !b || !sb_tensor_same_shape(a, b)) return false;
  size_t n, m;
  float *x = host(a, &n), *y = host(b, &m);
  bool same = x && y && memcmp(x, y, sizeof(float) * n) == 0;
  free(x), free(y);
  return same;
}

static double max_abs_diff(sb_tensor *a, sb_tensor *b) {
  size_t n, m;
  float *x = host(a, &n), *y = host(b, &m);
  double d = 0;
  for (size_t i = 0; x && y && i < n && n == m; i++) d = fmax(d, fabs((double)x[i] - y[i]));
  free(x), free(y);
  return d;
}

static sb_safetensors *open_fixture(const char *fixture, const char *file) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s/%s", g_fx, fixture, file);
  sb_safetensors *f = sb_safetensors_open(path);
  CHECK(f, "%s", sb_error_message());
  return f;
}

static const char *fixture_dir(const char *fixture, char *out, size_t size) {
  snprintf(out, size, "%s/%s", g_fx, fixture);
  return out;
}

/* ---- 1. golden ---- */

/* Every output of a fixture's forward against expected.safetensors. */
static void test_golden(const char *fixture, int64_t prefix_tokens, int64_t image_h, int64_t image_w) {
  char dir[1200];
  enc e;
  printf("%s\n", fixture);
  if (!enc_open(&e, fixture_dir(fixture, dir, sizeof dir), NULL, 0)) {
    CHECK(false, "%s: %s", fixture, g_msg);
    return;
  }
  sb_safetensors *in = open_fixture(fixture, "inputs.safetensors"), *ex = open_fixture(fixture, "expected.safetensors");
  sb_encoder_info info = {.struct_size = sizeof info};
  CHECK(e.vt->describe(e.self, &info) == SB_OK && info.hidden_size == 32 && info.num_layers == 2 &&
            info.patch_size == 16 && info.num_prefix_tokens == prefix_tokens && info.image_height == image_h &&
            info.image_width == image_w,
        "describe: D %lld L %lld P %lld prefix %lld image %lldx%lld", (long long)info.hidden_size,
        (long long)info.num_layers, (long long)info.patch_size, (long long)info.num_prefix_tokens,
        (long long)info.image_height, (long long)info.image_width);
  sb_scope_begin();
  sb_tensor *px = in ? sb_safetensors_load(in, "pixel_values", SB_DTYPE_F32) : NULL;
  outs o;
  if (ex && px && run(&e, px, k_all, &o)) {
    CHECK(o.n_hs == 3, "%d hidden states, expected 3", o.n_hs);
    char name[32];
    for (int i = 0; i < o.n_hs && i < 3; i++) {
      snprintf(name, sizeof name, "hidden_states.%d", i);
      compare(fixture, o.hs[i], ex, name, k_atol, k_rtol);
    }
    compare(fixture, o.last, ex, "last_hidden_state", k_atol, k_rtol);
    compare(fixture, o.pooled, ex, "pooler_output", k_atol, k_rtol);
    /* features = hidden_states[-1] without the prefix, bit for bit */
    int64_t T = sb_tensor_dim(o.hs[2], 1);
    CHECK(same_bits(o.features, sb_op_narrow(o.hs[2], 1, prefix_tokens, T - prefix_tokens)),
          "features are not hidden_states[-1][:, %lld:]", (long long)prefix_tokens);
    /* the plugin's RoPE tables: sb_rope_tables_2d on the grid of the input */
    sb_tensor *cos, *sin;
    int64_t hp = sb_tensor_dim(px, 2) / 16, wp = sb_tensor_dim(px, 3) / 16;
    CHECK(sb_rope_tables_2d(hp, wp, 8, 100.0, &cos, &sin) == SB_OK, "rope: %s", sb_error_message());
    compare(fixture, cos, ex, "rope.cos", k_rope_atol, 0);
    compare(fixture, sin, ex, "rope.sin", k_rope_atol, 0);
  }
  sb_tape_clear();
  sb_scope_end();
  sb_safetensors_close(in), sb_safetensors_close(ex);
  enc_close(&e);
}

/* ---- 2. dual-channel attention ---- */

static const char *const k_modes[] = {"sigmoid", "tanh_gate"};

/* How many parameters of the encoder are in group "dual". */
static int count_dual(enc *e) {
  sb_params *p = encoder_scope(e);
  int n = 0;
  for (size_t i = 0; i < sb_params_count(p); i++) {
    const sb_param *prm = sb_params_at(p, i);
    n += prm->group && strcmp(prm->group, "dual") == 0;
  }
  return n;
}

/* At the start (A' = A, alpha = 0) every output equals the base encoder's,
 * bit for bit, for both rules. */
static void test_dual_start(void) {
  char dir[1200];
  fixture_dir("dinov3_tiny", dir, sizeof dir);
  sb_safetensors *in = open_fixture("dinov3_tiny", "inputs.safetensors");
  enc base;
  if (!in || !enc_open(&base, dir, NULL, 0)) {
    CHECK(false, "base: %s", g_msg);
    sb_safetensors_close(in);
    return;
  }
  sb_scope_begin();
  sb_tensor *px = sb_safetensors_load(in, "pixel_values", SB_DTYPE_F32);
  outs b;
  bool ok = run(&base, px, k_all, &b);
  CHECK(count_dual(&base) == 0, "the base encoder has dual parameters");
  for (int m = 0; m < 2 && ok; m++) {
    char mix[64];
    snprintf(mix, sizeof mix, "model.encoder.dual_attention.mix=%s", k_modes[m]);
    const char *sets[] = {"model.encoder.dual_attention.enabled=true", mix};
    enc d;
    if (!enc_open(&d, dir, sets, 2)) {
      CHECK(false, "dual %s: %s", k_modes[m], g_msg);
      continue;
    }
    /* per layer: q/k/v/o weights, q/v/o biases (no k bias), alpha */
    CHECK(count_dual(&d) == 2 * 8, "%s: %d dual parameters, expected 16", k_modes[m], count_dual(&d));
    sb_params *p = encoder_scope(&d);
    CHECK(same_bits(sb_params_get(p, "layer.1.attention_dual.v_proj.bias"), sb_params_get(p, "layer.1.attention.v_proj.bias")) &&
              same_bits(sb_params_get(p, "layer.0.attention_dual.q_proj.weight"), sb_params_get(p, "layer.0.attention.q_proj.weight")),
          "%s: A' is not a copy of A", k_modes[m]);
    CHECK(!sb_params_get(p, "layer.0.attention_dual.k_proj.bias"), "a k bias in the copy although key_bias is false");
    outs o;
    if (run(&d, px, k_all, &o)) {
      bool same = same_bits(o.last, b.last) && same_bits(o.features, b.features) && same_bits(o.pooled, b.pooled);
      for (int i = 0; i < 3; i++) same = same && same_bits(o.hs[i], b.hs[i]);
      CHECK(same, "%s: dual attention at its start changes the outputs", k_modes[m]);
      printf("dual %-9s at start: outputs bit-identical to the base encoder: %s\n", k_modes[m], same ? "yes" : "NO");
    }
    enc_close(&d);
  }
  sb_tape_clear();
  sb_scope_end();
  enc_close(&base);
  sb_safetensors_close(in);
}

/* Features of the llava_tiny vision tower (weights = folder) with the given
 * --set overrides, against the fixture tensor `want`; returns them. */
static sb_tensor *llava_features(const char *weights, const char *const *sets, size_t n, const sb_safetensors *ex,
                                 const char *want) {
  sb_safetensors *in = open_fixture("llava_tiny", "inputs.safetensors");
  enc e;
  sb_tensor *f = NULL;
  if (in && enc_open(&e, weights, sets, n)) {
    outs o;
    if (run(&e, sb_safetensors_load(in, "pixel_values", SB_DTYPE_F32), k_all, &o)) {
      f = o.features;
      compare("llava_tiny", f, ex, want, k_atol, k_rtol);
    }
    enc_close(&e);
  } else {
    CHECK(false, "llava_tiny vision tower (%s): %s", want, g_msg);
  }
  sb_safetensors_close(in);
  return f;
}

static void test_dual_llava(void) {
  char tower[1200], dual[1200], mix[64], wset[1300], boosted[1200], path[1300];
  snprintf(tower, sizeof tower, "%s/llava_tiny/vision_tower", g_fx);
  snprintf(dual, sizeof dual, "%s/llava_tiny/dual_init.safetensors", g_fx);
  snprintf(wset, sizeof wset, "model.encoder.dual_attention.weights=%s", dual);
  sb_safetensors *ex = open_fixture("llava_tiny", "expected.safetensors");
  if (!ex) return;
  sb_scope_begin();
  sb_tensor *base = llava_features(tower, NULL, 0, ex, "vision_features");
  /* an exported boosted encoder: base and dual tensors in one folder */
  tmp_dir("boosted", boosted, sizeof boosted);
  snprintf(path, sizeof path, "%s/model.safetensors", tower);
  char out[1300];
  snprintf(out, sizeof out, "%s/model.safetensors", boosted);
  CHECK(copy_config("llava_tiny/vision_tower", boosted, NULL, NULL) && write_weights(path, out, &(edit){.merge = dual}),
        "boosted folder");
  for (int m = 0; m < 2; m++) {
    snprintf(mix, sizeof mix, "model.encoder.dual_attention.mix=%s", k_modes[m]);
    const char *sets[] = {"model.encoder.dual_attention.enabled=true", mix, wset};
    char want[64];
    snprintf(want, sizeof want, "stage3.%s.vision_features", k_modes[m]);
    sb_tensor *f = llava_features(tower, sets, 3, ex, want);
    double d = f && base ? max_abs_diff(f, base) : 0;
    CHECK(d > 1e-3, "%s: dual features differ from the base by only %.3g", k_modes[m], d);
    printf("  dual %s: max |features - base features| = %.3g\n", k_modes[m], d);
    sb_tensor *g = llava_features(boosted, sets, 2, ex, want);
    CHECK(same_bits(f, g), "%s: the boosted folder gives other features than dual_attention.weights", k_modes[m]);
  }
  sb_tape_clear();
  sb_scope_end();
  sb_safetensors_close(ex);
  expect_open_error("boosted folder, dual disabled", boosted, NULL, 0,
                    (const char *[]){"dual-attention tensors", "dual_attention.enabled", NULL});
}

/* dual_attention.weights files are read strictly. */
static void test_dual_errors(void) {
  char tower[1200], dual[1200], bad[1300], wset[1400];
  snprintf(tower, sizeof tower, "%s/llava_tiny/vision_tower", g_fx);
  snprintf(dual, sizeof dual, "%s/llava_tiny/dual_init.safetensors", g_fx);
  struct {
    const char *file;
    edit ed;
    const char *needles[4];
  } cases[] = {
      {"dual_missing.safetensors", {.drop = "layer.1.attention_dual_alpha"},
       {"layer.1.attention_dual_alpha", "missing", "[32]", NULL}},
      {"dual_shape.safetensors", {.halve = "layer.0.attention_dual.q_proj.weight"},
       {"layer.0.attention_dual.q_proj.weight", "[16, 32]", "expected [32, 32]", NULL}},
      {"dual_extra.safetensors", {.extra = "layer.0.attention.q_proj.bias"},
       {"layer.0.attention.q_proj.bias", "not a dual-attention parameter", NULL}},
      {"dual_kbias.safetensors", {.extra = "layer.0.attention_dual.k_proj.bias"},
       {"layer.0.attention_dual.k_proj.bias", "not a dual-attention parameter", NULL}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(bad, sizeof bad, "%s/%s", g_tmp, cases[i].file);
    CHECK(write_weights(dual, bad, &cases[i].ed), "%s", cases[i].file);
    snprintf(wset, sizeof wset, "model.encoder.dual_attention.weights=%s", bad);
    const char *sets[] = {"model.encoder.dual_attention.enabled=true", wset};
    expect_open_error(cases[i].file, tower, sets, 2, cases[i].needles);
  }
  snprintf(wset, sizeof wset, "model.encoder.dual_attention.weights=%s", dual);
  expect_open_error("dual weights, dual off", tower, (const char *[]){wset}, 1,
                    (const char *[]){"dual_attention.weights", "dual_attention.enabled is false", NULL});
  expect_open_error("bad mix", tower,
                    (const char *[]){"model.encoder.dual_attention.enabled=true", "model.encoder.dual_attention.mix=linear"},
                    2, (const char *[]){"dual_attention.mix", "sigmoid", NULL});
}

/* ---- 3. gradients ---- */

/* Σ features in double, without recording. */
static double feature_sum(const enc *e, sb_tensor *px) {
  sb_grad_push(false);
  sb_scope_begin();
  outs o;
  double s = NAN;
  if (run(e, px, k_all, &o)) {
    size_t n;
    float *v = host(o.features, &n);
    s = 0;
    for (size_t i = 0; v && i < n; i++) s += v[i];
    free(v);
  }
  sb_scope_end();
  sb_grad_pop();
  return s;
}

/* d Σfeatures / d param[k] by central differences against the gradient. */
static void check_fd(const enc *e, sb_tensor *px, sb_tensor *param, int64_t k, const char *name) {
  size_t n;
  float *v = host(param, &n), *g = host(sb_tensor_grad(param), &n);
  if (!v || !g || (size_t)k >= n) {
    CHECK(false, "%s: no values or gradient", name);
    free(v), free(g);
    return;
  }
  const float h = 1e-2f, orig = v[k];
  v[k] = orig + h;
  sb_tensor_assign_host(param, v, SB_DTYPE_F32);
  double up = feature_sum(e, px);
  v[k] = orig - h;
  sb_tensor_assign_host(param, v, SB_DTYPE_F32);
  double down = feature_sum(e, px);
  v[k] = orig;
  sb_tensor_assign_host(param, v, SB_DTYPE_F32);
  double fd = (up - down) / (2.0 * (double)h);
  /* fp32 forward noise (~1e-6 on a sum of ~1e3 O(1) values) / 2h and the
   * O(h²) truncation are both well under 1e-3 here; 1e-3 + 1e-2 relative */
  CHECK(fabs(fd - g[k]) <= 1e-3 + 1e-2 * fabs(fd), "%s[%lld]: gradient %.6g, finite differences %.6g", name,
        (long long)k, g[k], fd);
  printf("  d sum(features) / d %s[%lld]: autograd %.6g, finite differences %.6g\n", name, (long long)k, g[k], fd);
  free(v), free(g);
}

/* All values of a tensor are exactly zero. */
static bool all_zero(sb_tensor *t) {
  size_t n;
  float *v = host(t, &n);
  bool z = v != NULL;
  for (size_t i = 0; z && i < n; i++) z = v[i] == 0.0f;
  free(v);
  return z;
}

/* Backward of Σ features with encoder.dual trainable: which parameters got
 * a gradient. `zero_pattern` names the dual parameters expected to get an
 * exactly zero gradient (NULL: none). */
static void grad_case(const char *label, const char *const *sets, size_t n_sets, bool fd, const char *zero_pattern) {
  char tower[1200];
  snprintf(tower, sizeof tower, "%s/llava_tiny/vision_tower", g_fx);
  sb_safetensors *in = open_fixture("llava_tiny", "inputs.safetensors");
  enc e;
  if (!in || !enc_open(&e, tower, sets, n_sets)) {
    CHECK(false, "%s: %s", label, g_msg);
    sb_safetensors_close(in);
    return;
  }
  CHECK(sb_param_store_set_trainable(e.m.store, "encoder.dual", true) == 16, "encoder.dual selects 16 parameters");
  sb_scope_begin();
  sb_tensor *px = sb_safetensors_load(in, "pixel_values", SB_DTYPE_F32);
  outs o;
  if (run(&e, px, 0, &o)) {
    CHECK(sb_backward(sb_op_sum_all(o.features), NULL) == SB_OK, "backward: %s", sb_error_message());
    sb_params *p = encoder_scope(&e);
    int with = 0, without = 0, zero = 0;
    for (size_t i = 0; i < sb_params_count(p); i++) {
      const sb_param *prm = sb_params_at(p, i);
      bool is_dual = prm->group && strcmp(prm->group, "dual") == 0;
      sb_tensor *g = sb_tensor_grad(prm->tensor);
      if (!is_dual) {
        CHECK(!g, "%s: base weight %s has a gradient", label, prm->local);
        without += !g;
        continue;
      }
      CHECK(g, "%s: %s has no gradient", label, prm->local);
      with += g != NULL;
      bool expect_zero = zero_pattern && sb_glob_match(zero_pattern, prm->local);
      bool is_zero = g && all_zero(g);
      zero += is_zero;
      CHECK(is_zero == expect_zero, "%s: %s gradient is %s", label, prm->local, is_zero ? "zero" : "not zero");
    }
    printf("%s: %d dual parameters with a gradient (%d exactly zero), %d base weights without\n", label, with, zero,
           without);
    if (fd) {
      check_fd(&e, px, sb_params_get(p, "layer.1.attention_dual_alpha"), 5, "layer.1.attention_dual_alpha");
      check_fd(&e, px, sb_params_get(p, "layer.0.attention_dual_alpha"), 17, "layer.0.attention_dual_alpha");
      check_fd(&e, px, sb_params_get(p, "layer.0.attention_dual.q_proj.weight"), 3 * 32 + 7,
               "layer.0.attention_dual.q_proj.weight");
      check_fd(&e, px, sb_params_get(p, "layer.1.attention_dual.v_proj.bias"), 11, "layer.1.attention_dual.v_proj.bias");
    }
  }
  sb_tape_clear();
  sb_scope_end();
  enc_close(&e);
  sb_safetensors_close(in);
}

static void test_gradients(void) {
  char wset[1400];
  snprintf(wset, sizeof wset, "model.encoder.dual_attention.weights=%s/llava_tiny/dual_init.safetensors", g_fx);
  const char *on = "model.encoder.dual_attention.enabled=true";
  grad_case("sigmoid, dual_init", (const char *[]){on, wset}, 2, true, NULL);
  grad_case("tanh_gate, dual_init", (const char *[]){on, "model.encoder.dual_attention.mix=tanh_gate", wset}, 3, true,
            NULL);
  /* at the exact start (A' = A, alpha = 0): sigmoid's alpha gradient
   * σ'(0)·(A - A') is exactly 0; tanh_gate's A' is scaled by tanh(0) = 0 */
  grad_case("sigmoid, start", (const char *[]){on}, 1, false, "*_dual_alpha");
  grad_case("tanh_gate, start", (const char *[]){on, "model.encoder.dual_attention.mix=tanh_gate"}, 2, false,
            "*.attention_dual.*");
}

/* ---- 4. loading ---- */

/* Other layouts the loader accepts: "model." names, no register_tokens when
 * R = 0, the older use_swiglu_ffn key; each gives the same outputs. */
static void test_layouts(void) {
  char dir[1200], ref_dir[1200];
  struct {
    const char *name, *fixture, *from, *to;
    edit ed;
    bool use_edit;
  } cases[] = {
      {"prefixed", "dinov3_tiny", NULL, NULL, {.prefix = "model."}, true},
      {"no_registers", "dinov3_tiny_gated", NULL, NULL, {.drop = "embeddings.register_tokens"}, true},
      {"swiglu_key", "dinov3_tiny_gated", "\"use_gated_mlp\"", "\"use_swiglu_ffn\"", {0}, false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    broken_copy(cases[i].name, cases[i].fixture, cases[i].from, cases[i].to, cases[i].use_edit ? &cases[i].ed : NULL,
                dir, sizeof dir);
    sb_safetensors *in = open_fixture(cases[i].fixture, "inputs.safetensors");
    enc a, b;
    bool ok_a = enc_open(&a, dir, NULL, 0);
    CHECK(ok_a, "%s: %s", cases[i].name, g_msg);
    bool ok_b = enc_open(&b, fixture_dir(cases[i].fixture, ref_dir, sizeof ref_dir), NULL, 0);
    if (in && ok_a && ok_b) {
      sb_scope_begin();
      sb_tensor *px = sb_safetensors_load(in, "pixel_values", SB_DTYPE_F32);
      outs x, y;
      bool same = run(&a, px, k_all, &x) && run(&b, px, k_all, &y) && same_bits(x.last, y.last) &&
                  same_bits(x.features, y.features);
      CHECK(same, "%s: outputs differ from the fixture folder's", cases[i].name);
      printf("layout %s: loads, same outputs: %s\n", cases[i].name, same ? "yes" : "NO");
      sb_scope_end();
    }
    if (ok_a) enc_close(&a);
    if (ok_b) enc_close(&b);
    sb_safetensors_close(in);
  }
}

/* A model.safetensors.index.json over two shards (layer 1 in the second). */
static bool write_sharded(const char *dir) {
  char src[1200], path[1300];
  snprintf(src, sizeof src, "%s/dinov3_tiny/model.safetensors", g_fx);
  snprintf(path, sizeof path, "%s/model-00001-of-00002.safetensors", dir);
  bool ok = write_weights(src, path, &(edit){.except = "layer.1."});
  snprintf(path, sizeof path, "%s/model-00002-of-00002.safetensors", dir);
  ok = ok && write_weights(src, path, &(edit){.only = "layer.1."});
  sb_safetensors *f = sb_safetensors_open(src);
  if (!ok || !f) return false;
  static char json[16384];
  size_t at = (size_t)snprintf(json, sizeof json, "{\"metadata\": {\"total_size\": 0}, \"weight_map\": {");
  for (size_t i = 0; i < sb_safetensors_count(f) && at < sizeof json; i++) {
    const char *name = sb_safetensors_at(f, i)->name;
    at += (size_t)snprintf(json + at, sizeof json - at, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"",
                           i ? ", " : "", name, strncmp(name, "layer.1.", 8) == 0 ? 2 : 1);
  }
  if (at < sizeof json) snprintf(json + at, sizeof json - at, "}}\n");
  sb_safetensors_close(f);
  snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
  return at < sizeof json && write_text(path, json);
}

/* Other ways to name the weights: the .safetensors file itself, and a
 * sharded folder; both give the fixture folder's outputs. */
static void test_weight_paths(void) {
  char dir[1200], file[1300], sharded[1200];
  fixture_dir("dinov3_tiny", dir, sizeof dir);
  snprintf(file, sizeof file, "%s/model.safetensors", dir);
  tmp_dir("sharded", sharded, sizeof sharded);
  CHECK(copy_config("dinov3_tiny", sharded, NULL, NULL) && write_sharded(sharded), "sharded copy");
  sb_safetensors *in = open_fixture("dinov3_tiny", "inputs.safetensors");
  enc ref;
  if (!in || !enc_open(&ref, dir, NULL, 0)) {
    CHECK(false, "%s", g_msg);
    sb_safetensors_close(in);
    return;
  }
  sb_scope_begin();
  sb_tensor *px = sb_safetensors_load(in, "pixel_values", SB_DTYPE_F32);
  outs want;
  run(&ref, px, k_all, &want);
  const char *paths[] = {file, sharded};
  for (int i = 0; i < 2; i++) {
    enc e;
    if (!enc_open(&e, paths[i], NULL, 0)) {
      CHECK(false, "weights %s: %s", paths[i], g_msg);
      continue;
    }
    outs o;
    bool same = run(&e, px, k_all, &o) && same_bits(o.last, want.last) && same_bits(o.features, want.features);
    CHECK(same, "weights %s: other outputs", paths[i]);
    printf("weights %s: loads, same outputs: %s\n", i ? "sharded index" : "model.safetensors file", same ? "yes" : "NO");
    enc_close(&e);
  }
  sb_scope_end();
  enc_close(&ref);
  sb_safetensors_close(in);
}

static void test_load_errors(void) {
  char dir[1200], path[1300];
  broken_copy("missing", "dinov3_tiny", NULL, NULL, &(edit){.drop = "layer.1.mlp.up_proj.bias"}, dir, sizeof dir);
  expect_open_error("missing tensor", dir, NULL, 0,
                    (const char *[]){"model.safetensors", "'layer.1.mlp.up_proj.bias'", "[64]", "missing", NULL});
  broken_copy("unexpected", "dinov3_tiny", NULL, NULL, &(edit){.extra = "layer.2.norm1.weight"}, dir, sizeof dir);
  expect_open_error("unexpected tensor", dir, NULL, 0,
                    (const char *[]){"model.safetensors", "'layer.2.norm1.weight'", "not a parameter", NULL});
  broken_copy("misshaped", "dinov3_tiny", NULL, NULL, &(edit){.halve = "layer.0.mlp.up_proj.weight"}, dir, sizeof dir);
  expect_open_error("mis-shaped tensor", dir, NULL, 0,
                    (const char *[]){"model.safetensors", "'layer.0.mlp.up_proj.weight'", "[32, 32]",
                                     "expected [64, 32]", NULL});
  broken_copy("relu", "dinov3_tiny", "\"gelu\"", "\"relu\"", NULL, dir, sizeof dir);
  expect_open_error("hidden_act relu", dir, NULL, 0, (const char *[]){"config.json", "hidden_act", "relu", NULL});
  broken_copy("gated_gelu", "dinov3_tiny_gated", "\"silu\"", "\"gelu\"", NULL, dir, sizeof dir);
  expect_open_error("gated gelu", dir, NULL, 0, (const char *[]){"config.json", "hidden_act", "gelu", "use_gated_mlp", NULL});
  broken_copy("no_layerscale", "dinov3_tiny", "\"layerscale_value\": 1.0", "\"layerscale_value\": null", NULL, dir,
              sizeof dir);
  expect_open_error("layerscale null", dir, NULL, 0, (const char *[]){"config.json", "layerscale_value", "null", NULL});
  broken_copy("heads", "dinov3_tiny", "\"num_attention_heads\": 4", "\"num_attention_heads\": 5", NULL, dir, sizeof dir);
  expect_open_error("heads", dir, NULL, 0, (const char *[]){"config.json", "num_attention_heads", "5", NULL});
  broken_copy("siglip", "dinov3_tiny", "\"dinov3_vit\"", "\"siglip_vision_model\"", NULL, dir, sizeof dir);
  expect_open_error("model_type", dir, NULL, 0, (const char *[]){"config.json", "model_type", "siglip_vision_model", NULL});
  /* registers declared in config.json but absent from the file */
  broken_copy("no_regs", "dinov3_tiny", NULL, NULL, &(edit){.drop = "embeddings.register_tokens"}, dir, sizeof dir);
  expect_open_error("registers missing", dir, NULL, 0, (const char *[]){"'embeddings.register_tokens'", "[1, 2, 32]", NULL});
  tmp_dir("no_config", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/dinov3_tiny/model.safetensors", g_fx);
  char link[1300];
  snprintf(link, sizeof link, "%s/model.safetensors", dir);
  if (symlink(path, link) == 0) remember(link);
  expect_open_error("no config.json", dir, NULL, 0, (const char *[]){"config.json", "does not exist", NULL});
  snprintf(path, sizeof path, "%s/does_not_exist", g_tmp);
  expect_open_error("no such folder", path, NULL, 0, (const char *[]){"does_not_exist", "does not exist", NULL});
  fixture_dir("dinov3_tiny", dir, sizeof dir);
  expect_open_error("select_layer 3", dir, (const char *[]){"model.encoder.select_layer=3"}, 1,
                    (const char *[]){"select_layer", "2 layers", NULL});
  expect_open_error("select_layer -4", dir, (const char *[]){"model.encoder.select_layer=-4"}, 1,
                    (const char *[]){"select_layer", NULL});
  expect_open_error("image_size -1", dir, (const char *[]){"model.encoder.image_size=-1"}, 1,
                    (const char *[]){"image_size", NULL});
}

/* Wrong pixel shapes and too little room for hidden states. */
static void test_bad_inputs(void) {
  char dir[1200];
  enc e;
  if (!enc_open(&e, fixture_dir("dinov3_tiny", dir, sizeof dir), NULL, 0)) {
    CHECK(false, "%s", g_msg);
    return;
  }
  sb_scope_begin();
  struct {
    int ndim;
    int64_t shape[4];
    const char *needle;
  } cases[] = {
      {3, {3, 64, 64}, "expected [B, 3, H, W]"},
      {4, {1, 4, 64, 64}, "expected [B, 3, H, W]"},
      {4, {1, 3, 60, 64}, "multiples of the patch size 16"},
      {4, {1, 3, 64, 8}, "multiples of the patch size 16"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    outs o;
    sb_tensor *px = sb_tensor_zeros(SB_DTYPE_F32, cases[i].ndim, cases[i].shape);
    CHECK(!try_run(&e, px, 0, &o), "case %zu: forward accepted a bad shape", i);
    CHECK_MSG(cases[i].needle);
    printf("error (pixels %zu): %s\n", i, g_msg);
  }
  outs o;
  CHECK(!try_run(&e, NULL, 0, &o), "no pixels accepted");
  CHECK_MSG("no pixel_values");
  sb_encoder_input in = {.struct_size = sizeof in,
                         .pixel_values = sb_tensor_zeros(SB_DTYPE_F32, 4, (int64_t[]){1, 3, 32, 32})};
  sb_tensor *room[2];
  sb_encoder_output out = {.struct_size = sizeof out, .hidden_states = room, .max_hidden_states = 2};
  CHECK(e.vt->forward(e.self, &in, SB_ENCODER_HIDDEN_STATES, &out) != SB_OK, "2 slots for 3 hidden states accepted");
  snprintf(g_msg, sizeof g_msg, "%s", sb_error_message());
  CHECK_MSG("room for 3");
  sb_scope_end();
  enc_close(&e);
}

/* ---- 5. preprocessing ---- */

/* Bilinear antialiased weights for output i (MODELS.md B.7.3), in double. */
static int ref_weights(int n_in, int n_out, int i, int *first, double *w) {
  double scale = (double)n_in / n_out, fs = scale > 1 ? scale : 1, support = fs, center = (i + 0.5) * scale;
  int lo = (int)trunc(center - support + 0.5), hi = (int)trunc(center + support + 0.5);
  lo = lo < 0 ? 0 : lo, hi = hi > n_in ? n_in : hi;
  double total = 0;
  for (int j = 0; j < hi - lo; j++) total += w[j] = fmax(0.0, 1.0 - fabs((lo + j - center + 0.5) / fs));
  for (int j = 0; j < hi - lo; j++) w[j] /= total;
  *first = lo;
  return hi - lo;
}

/* pixel_values[c, oy, ox] of one RGB image resized to oh×ow, in double. */
static double ref_pixel(const sb_image *img, int c, int oy, int ox, int oh, int ow, double mean, double stdv) {
  double wy[64], wx[64], acc = 0;
  int y0, x0, ny = ref_weights(img->height, oh, oy, &y0, wy), nx = ref_weights(img->width, ow, ox, &x0, wx);
  for (int a = 0; a < ny; a++)
    for (int b = 0; b < nx; b++)
      acc += wy[a] * wx[b] * img->data[((size_t)(y0 + a) * img->width + (x0 + b)) * img->channels + c] / 255.0;
  return (acc - mean) / stdv;
}

/* Every value of pixel_values [1, 3, oh, ow] against the reference. */
static void check_pixels(const char *label, sb_tensor *px, const sb_image *img, int oh, int ow, const double *mean,
                         const double *stdv) {
  int64_t want[4] = {1, 3, oh, ow};
  CHECK(px && sb_tensor_ndim(px) == 4 && memcmp(sb_tensor_shape(px), want, sizeof want) == 0, "%s: shape", label);
  if (!px || sb_tensor_numel(px) != 3 * oh * ow) return;
  size_t n;
  float *v = host(px, &n);
  double err = 0;
  for (int c = 0; v && c < 3; c++)
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < ow; x++)
        err = fmax(err, fabs(v[((size_t)c * oh + y) * ow + x] - ref_pixel(img, c, y, x, oh, ow, mean[c], stdv[c])));
  CHECK(err <= k_pre_atol, "%s: max |err| %.3g against the double reference", label, err);
  printf("preprocess %-34s [1, 3, %d, %d] max |err| %.3g\n", label, oh, ow, err);
  free(v);
}

/* The encoder on `weights` (+ sets) preprocesses img. */
static sb_tensor *preprocess(const char *weights, const char *const *sets, size_t n, const sb_image *img, int count) {
  enc e;
  if (!enc_open(&e, weights, sets, n)) {
    CHECK(false, "preprocess encoder: %s", g_msg);
    return NULL;
  }
  sb_encoder_input in = {.struct_size = sizeof in};
  int rc = e.vt->preprocess(e.self, img, count, &in);
  snprintf(g_msg, sizeof g_msg, "%s", rc ? sb_error_message() : "");
  enc_close(&e);
  return rc ? NULL : in.pixel_values;
}

static void test_preprocess(void) {
  enum { W = 64, H = 48 };
  static uint8_t rgb[W * H * 3], grey3[W * H * 3], grey[W * H], rgba[W * H * 4];
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      int k = y * W + x;
      for (int c = 0; c < 3; c++) rgb[k * 3 + c] = (uint8_t)((x * 37 + y * 11 + c * 91 + (x * y) % 13) & 255);
      grey[k] = (uint8_t)((x * 5 + y * 3) & 255);
      for (int c = 0; c < 3; c++) grey3[k * 3 + c] = grey[k], rgba[k * 4 + c] = rgb[k * 3 + c];
      rgba[k * 4 + 3] = (uint8_t)(k & 255);
    }
  sb_image img = {W, H, 3, rgb}, img_grey = {W, H, 1, grey}, img_grey3 = {W, H, 3, grey3}, img_rgba = {W, H, 4, rgba};
  static const double imagenet_mean[3] = {0.485, 0.456, 0.406}, imagenet_std[3] = {0.229, 0.224, 0.225};
  char dir[1200];
  fixture_dir("dinov3_tiny", dir, sizeof dir);
  sb_scope_begin();
  /* no preprocessor_config.json: config.json's image_size (64), ImageNet stats */
  sb_tensor *px = preprocess(dir, NULL, 0, &img, 1);
  check_pixels("defaults (64x48 -> 64x64)", px, &img, 64, 64, imagenet_mean, imagenet_std);
  px = preprocess(dir, (const char *[]){"model.encoder.image_size=32"}, 1, &img, 1);
  check_pixels("image_size 32 (downsampling)", px, &img, 32, 32, imagenet_mean, imagenet_std);
  CHECK(same_bits(preprocess(dir, NULL, 0, &img_grey, 1), preprocess(dir, NULL, 0, &img_grey3, 1)),
        "a grey image is not its RGB copy");
  CHECK(same_bits(preprocess(dir, NULL, 0, &img_rgba, 1), preprocess(dir, NULL, 0, &img, 1)),
        "an RGBA image is not its RGB part");
  /* a batch of two: [2, 3, 64, 64], image 1 equal to its own preprocessing */
  sb_image two[2] = {img_grey, img};
  sb_tensor *batch = preprocess(dir, NULL, 0, two, 2);
  CHECK(batch && sb_tensor_dim(batch, 0) == 2 && same_bits(sb_op_narrow(batch, 0, 1, 1), preprocess(dir, NULL, 0, &img, 1)),
        "batch of two");
  sb_image bad = {W, H, 2, rgb};
  CHECK(!preprocess(dir, NULL, 0, &bad, 1), "a 2-channel image was accepted");
  CHECK_MSG("2 channels");

  /* a preprocessor_config.json with its own size and statistics */
  char pre[1200], file[1300];
  broken_copy("preproc", "dinov3_tiny", NULL, NULL, NULL, pre, sizeof pre);
  snprintf(file, sizeof file, "%s/preprocessor_config.json", pre);
  write_text(file, "{\"do_normalize\": true, \"do_rescale\": true, \"do_resize\": true,\n"
                   " \"image_mean\": [0.5, 0.25, 0.0], \"image_std\": [0.25, 0.5, 1.0], \"resample\": 2,\n"
                   " \"rescale_factor\": 0.00392156862745098, \"size\": {\"height\": 32, \"width\": 48},\n"
                   " \"image_processor_type\": \"DINOv3ViTImageProcessorFast\"}\n");
  static const double mean[3] = {0.5, 0.25, 0.0}, stdv[3] = {0.25, 0.5, 1.0};
  check_pixels("preprocessor_config 32x48", preprocess(pre, NULL, 0, &img, 1), &img, 32, 48, mean, stdv);
  enc e;
  if (enc_open(&e, pre, NULL, 0)) {
    sb_encoder_info info = {.struct_size = sizeof info};
    CHECK(e.vt->describe(e.self, &info) == SB_OK && info.image_height == 32 && info.image_width == 48,
          "describe: image %lldx%lld, expected 32x48", (long long)info.image_height, (long long)info.image_width);
    /* the preprocessed pixels run through the model */
    outs o;
    sb_encoder_input in = {.struct_size = sizeof in};
    CHECK(e.vt->preprocess(e.self, &img, 1, &in) == SB_OK && run(&e, in.pixel_values, k_all, &o) &&
              sb_tensor_dim(o.features, 1) == 2 * 3,
          "forward of preprocessed pixels");
    enc_close(&e);
  }
  write_text(file, "{\"size\": {\"shortest_edge\": 32}, \"image_mean\": [0.5, 0.25, 0.0], \"image_std\": [0.25, 0.5, 1.0]}");
  /* 64x48: the short side (48) to 32, the long one to int(32·64/48) = 42 */
  check_pixels("shortest_edge 32", preprocess(pre, NULL, 0, &img, 1), &img, 32, 42, mean, stdv);
  write_text(file, "{\"do_resize\": false, \"do_rescale\": false, \"do_normalize\": false}");
  px = preprocess(pre, NULL, 0, &img, 1);
  bool raw = px && sb_tensor_dim(px, 2) == H && sb_tensor_dim(px, 3) == W;
  size_t n;
  float *v = raw ? host(px, &n) : NULL;
  for (int c = 0; v && c < 3; c++)
    for (int k = 0; k < W * H; k++) raw = raw && v[c * W * H + k] == (float)rgb[k * 3 + c];
  free(v);
  CHECK(raw, "do_resize/do_rescale/do_normalize false: the raw values");
  write_text(file, "{\"resample\": 0}");
  expect_open_error("resample 0", pre, NULL, 0, (const char *[]){"preprocessor_config.json", "resample", NULL});
  write_text(file, "{\"do_center_crop\": true}");
  expect_open_error("center crop", pre, NULL, 0, (const char *[]){"preprocessor_config.json", "do_center_crop", NULL});
  sb_scope_end();
}

/* ---- 6. select_layer and drop_prefix ---- */

static void test_selection(void) {
  char dir[1200];
  fixture_dir("dinov3_tiny", dir, sizeof dir);
  sb_safetensors *in = open_fixture("dinov3_tiny", "inputs.safetensors"), *ex = open_fixture("dinov3_tiny", "expected.safetensors");
  struct {
    const char *sets[2];
    size_t n;
    int state;       /* which hidden state */
    int64_t first;   /* first token kept */
  } cases[] = {
      {{"model.encoder.select_layer=-2"}, 1, 1, 3},
      {{"model.encoder.drop_prefix=false"}, 1, 2, 0},
      {{"model.encoder.select_layer=0", "model.encoder.drop_prefix=false"}, 2, 0, 0},
      {{"model.encoder.select_layer=-3"}, 1, 0, 3},
      {{"model.encoder.select_layer=1"}, 1, 1, 3},
  };
  sb_scope_begin();
  sb_tensor *px = in ? sb_safetensors_load(in, "pixel_values", SB_DTYPE_F32) : NULL;
  for (size_t i = 0; px && ex && i < sizeof cases / sizeof cases[0]; i++) {
    enc e;
    if (!enc_open(&e, dir, cases[i].sets, cases[i].n)) {
      CHECK(false, "%s: %s", cases[i].sets[0], g_msg);
      continue;
    }
    outs o;
    if (run(&e, px, k_all, &o)) {
      sb_tensor *want = sb_op_narrow(o.hs[cases[i].state], 1, cases[i].first, 19 - cases[i].first);
      CHECK(same_bits(o.features, want), "%s: features are not hidden_states[%d][:, %lld:]", cases[i].sets[0],
            cases[i].state, (long long)cases[i].first);
      char name[32];
      snprintf(name, sizeof name, "hidden_states.%d", cases[i].state);
      sb_tensor *fix = sb_op_narrow(sb_safetensors_load(ex, name, SB_DTYPE_F32), 1, cases[i].first, 19 - cases[i].first);
      double err = compare_tensors(name, o.features, fix, k_atol, k_rtol);
      printf("features with %s%s%s: hidden_states[%d][:, %lld:], max |err| vs fixture %.3g\n", cases[i].sets[0],
             cases[i].n > 1 ? " " : "", cases[i].n > 1 ? cases[i].sets[1] : "", cases[i].state,
             (long long)cases[i].first, err);
    }
    enc_close(&e);
  }
  sb_scope_end();
  sb_safetensors_close(in), sb_safetensors_close(ex);
}

/* random_init: config.json only; LayerNorms at 1/0, LayerScale at its value. */
static void test_random_init(void) {
  char dir[1200];
  tmp_dir("config_only", dir, sizeof dir);
  CHECK(copy_config("dinov3_tiny_gated", dir, "\"layerscale_value\": 1.0", "\"layerscale_value\": 0.5"), "config");
  enc e;
  const char *sets[] = {"model.encoder.random_init=true", "model.encoder.dual_attention.enabled=true"};
  if (!enc_open(&e, dir, sets, 2)) {
    CHECK(false, "random_init: %s", g_msg);
    return;
  }
  sb_params *p = encoder_scope(&e);
  sb_scope_begin();
  sb_tensor *ls = sb_params_get(p, "layer.1.layer_scale2.lambda1"), *nw = sb_params_get(p, "norm.weight");
  sb_tensor *q = sb_params_get(p, "layer.0.attention.q_proj.weight"), *qd = sb_params_get(p, "layer.0.attention_dual.q_proj.weight");
  float l = 0, w = 0;
  CHECK(ls && nw && sb_tensor_item(sb_op_mean_all(ls), &l) == SB_OK && sb_tensor_item(sb_op_mean_all(nw), &w) == SB_OK &&
            l == 0.5f && w == 1.0f,
        "random_init: layer scale %g (expected 0.5), norm weight %g (expected 1)", l, w);
  CHECK(q && !all_zero(q) && same_bits(q, qd), "random_init: q_proj is zero or its dual copy differs");
  CHECK(!sb_params_get(p, "layer.0.attention.q_proj.bias") && sb_params_get(p, "layer.0.mlp.gate_proj.weight"),
        "random_init: the gated, bias-free layout of the config");
  outs o;
  CHECK(run(&e, sb_tensor_zeros(SB_DTYPE_F32, 4, (int64_t[]){1, 3, 32, 48}), k_all, &o) &&
            sb_tensor_dim(o.features, 1) == 6 && sb_tensor_dim(o.last, 1) == 7,
        "random_init forward");
  sb_scope_end();
  enc_close(&e);
  printf("random_init: ok\n");
}

int main(void) {
  const char *fx = getenv("SB_FIXTURES");
  snprintf(g_fx, sizeof g_fx, "%s", fx && *fx ? fx : SB_TEST_FIXTURES);
  snprintf(g_tmp, sizeof g_tmp, "/tmp/sb_dinov3_XXXXXX");
  if (!mkdtemp(g_tmp)) {
    fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
    return 1;
  }
  remember(g_tmp);
  test_golden("dinov3_tiny", 3, 64, 64);
  test_golden("dinov3_tiny_gated", 1, 80, 80);
  test_dual_start();
  test_dual_llava();
  test_dual_errors();
  test_gradients();
  test_layouts();
  test_weight_paths();
  test_load_errors();
  test_bad_inputs();
  test_preprocess();
  test_selection();
  test_random_init();
  cleanup();
  return check_summary("model-dinov3");
}
