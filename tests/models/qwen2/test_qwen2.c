/* test_qwen2.c — the llm_qwen2 plugin against the qwen2_tiny_untied (F32
 * weights, lm_head of its own) and qwen2_tiny_tied_bf16 (BF16 weights, tied
 * embeddings) fixtures, independent float64 PyTorch references:
 *   1. every hidden state, the last layer's output before the final norm,
 *      logits with and without the attention mask, the RoPE tables;
 *   2. the causal-LM loss computed the trainer's way (logits() only on the
 *      rows whose next token is labelled) and the full-logits way;
 *   3. every parameter's gradient (the tied embedding's is the sum of both
 *      uses);
 *   4. the KV cache: greedy decoding token by token matches one full
 *      forward, also for a batch of 2 with padding and different positions;
 *   5. errors: broken copies of a fixture (missing, unexpected, mis-shaped
 *      tensors, unsupported config values, no config.json, bad paths) and
 *      runtime misuse (token ids outside the vocabulary, sequences and
 *      caches too long, grad mode with a cache);
 * plus config variants (sharded weights, pad_token_id, eos lists,
 * rope_parameters) and random_init. The plugin is compiled in statically and
 * created through a recipe and the model builder, as the trainer does. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../plugins/llm_qwen2/qwen2.h"
#include "../../common/check.h"
#include "model.h"
#include "recipe.h"
#include "spatialboost/spatialboost.h"

/* ---- tolerances. fixtures/README.md: float64 reference stored as F32; a
 * correct fp32 implementation is within ~atol 1e-4 / rtol 1e-3, most
 * tensors ~1e-6. Every sum here is short (D = 32, I = 64, 17 keys, 384
 * logits), so fp32 rounding (2^-24 ≈ 6e-8 relative per operation) stays at
 * a few units in the last place of each value. Each bound below is about 5x
 * or more over the largest error observed on either fixture (the test
 * prints them all), and 10-100x tighter than the README's. ---- */
typedef struct tol {
  double atol, rtol;
} tol;

/* Embedding rows are copies of the weights (BF16 -> F32 is exact): exact. */
static const tol k_exact = {0.0, 0.0};
/* Hidden states (|h| <= ~6): observed <= 1.7e-6, 2-3 ulp of the largest
 * values (the ulp at 4..8 is 4.8e-7). */
static const tol k_hidden = {1e-5, 1e-5};
/* Logits: |z| <= 4 untied, <= 28 tied (large BF16 embeddings as the output
 * layer); observed 1.2e-6 and 6.7e-6, ~3.5 ulp at 16..32 (1.9e-6). The
 * relative part covers the large tied logits. */
static const tol k_logits = {1e-5, 1e-5};
/* RoPE tables: cosf/sinf of the float32 angles, as HF; observed 6e-8, one
 * ulp below 1. */
static const tol k_rope = {1e-6, 0.0};
/* The loss (6.5 untied, 20.7 tied): observed relative 7e-8 and 0. */
static const double k_loss_rtol = 1e-6;
/* The labelled-rows loss and the full-logits loss run the same per-row
 * kernel on the same logits rows: equal up to the order of the mean
 * (observed relative 7e-8). */
static const double k_loss_same_rtol = 1e-6;
/* Gradients (|g| <= 0.13 untied, <= 1.2 tied): observed <= 1e-7 untied,
 * <= 4.8e-7 tied (~4 ulp at 0.5..1). */
static const tol k_grad = {2e-6, 1e-5};
/* KV cache against one full forward: the same fp32 ops with other GEMM
 * shapes and softmax lengths, so only the summation order differs:
 * observed 1.1e-6 untied, 7.6e-6 tied (logits up to ~28), as for logits. */
static const tol k_cache = {1e-5, 1e-5};

static const char *g_fx; /* the fixtures folder */

/* ---- helpers: building the model ---- */

typedef struct llm {
  sb_recipe *r;
  sb_model m;
  const sb_llm_vtable *vt;
  qwen2 *q;
  sb_params *scope; /* the store's "llm." scope */
} llm;

/* Builds the recipe's llm with weights (and one more override, or NULL). */
static int llm_open(llm *l, const char *weights, const char *extra) {
  char ow[1200];
  snprintf(ow, sizeof ow, "model.llm.weights=%s", weights);
  const char *ov[2] = {ow, extra};
  memset(l, 0, sizeof *l);
  if (!(l->r = sb_recipe_load(SB_TEST_DATA "/qwen2.yaml", ov, extra ? 2 : 1))) return SB_ERR;
  int rc = sb_model_build(&l->m, sb_recipe_root(l->r), 1234, SB_MODEL_CREATE);
  if (rc) return rc;
  l->vt = l->m.llm.vtable;
  l->q = l->m.llm.self;
  l->scope = sb_param_store_scope(l->m.store, "llm.");
  return l->scope ? SB_OK : SB_ERR;
}

static void llm_close(llm *l) {
  if (l->m.store) sb_model_free(&l->m);
  sb_recipe_free(l->r);
  memset(l, 0, sizeof *l);
}

/* A build that must fail with a message containing both needles. */
static void expect_build_error(const char *what, const char *weights, const char *extra, const char *needle1,
                               const char *needle2) {
  llm l;
  sb_error_clear();
  int rc = llm_open(&l, weights, extra);
  CHECK(rc != SB_OK, "%s: the build should fail", what);
  CHECK_ERROR(needle1);
  if (needle2) CHECK_ERROR(needle2);
  printf("error %-22s %s\n", what, sb_error_message());
  llm_close(&l);
}

/* ---- helpers: tensors ---- */

static float *host_f32(sb_tensor *t, size_t *n) {
  *n = t ? (size_t)sb_tensor_numel(t) : 0;
  float *p = malloc(sizeof(float) * (*n ? *n : 1));
  if (p && t && sb_tensor_to_host_f32(t, p, *n) == SB_OK) return p;
  free(p);
  return NULL;
}

/* got against fixture tensor `name` of ex; prints and returns the max error. */
static double compare(const char *what, sb_tensor *got, const sb_safetensors *ex, const char *name, tol t) {
  sb_tensor *want = sb_safetensors_load(ex, name, SB_DTYPE_F32);
  size_t na = 0, nb = 0;
  float *a = host_f32(got, &na), *b = host_f32(want, &nb);
  double err = INFINITY, ref = 0;
  CHECK(a && b && na == nb, "%s %s: cannot compare (%zu vs %zu values): %s", what, name, na, nb, sb_error_message());
  if (a && b && na == nb) {
    bool ok = close_enough(a, b, na, t.atol, t.rtol, &err);
    for (size_t i = 0; i < nb; i++) ref = fmax(ref, fabs(b[i]));
    CHECK(ok, "%s %s: max |err| %.3g exceeds atol %g + rtol %g", what, name, err, t.atol, t.rtol);
  }
  printf("%-22s %-52s max |err| %.2e (max |ref| %.2f)\n", what, name, err, ref);
  free(a), free(b);
  return err;
}

static sb_tensor *ids_tensor(int64_t B, int64_t S, const int64_t *v) {
  return sb_tensor_from_host(SB_DTYPE_I64, 2, (int64_t[]){B, S}, v);
}

/* hidden [B, S, D] -> [B·S, D] */
static sb_tensor *flat_rows(sb_tensor *h) {
  return sb_op_reshape(h, 2, (int64_t[]){-1, sb_tensor_dim(h, 2)});
}

/* ---- 1-3: the fixtures ---- */

/* The trainer's loss: rows of flat [B·S, D] whose next token is labelled,
 * through logits() only, cross-entropy against labels[:, 1:], mean. */
static sb_tensor *labelled_loss(const llm *l, sb_tensor *flat, sb_tensor *labels, int64_t B, int64_t S) {
  int64_t lab[256], rows[256], tg[256], n = 0;
  if (B * S > 256 || sb_tensor_to_host(labels, lab, sizeof(int64_t) * (size_t)(B * S))) return NULL;
  for (int64_t b = 0; b < B; b++)
    for (int64_t s = 0; s + 1 < S; s++)
      if (lab[b * S + s + 1] != -100) rows[n] = b * S + s, tg[n] = lab[b * S + s + 1], n++;
  sb_tensor *ri = sb_tensor_from_host(SB_DTYPE_I64, 1, &n, rows), *ti = sb_tensor_from_host(SB_DTYPE_I64, 1, &n, tg);
  sb_tensor *z = l->vt->logits(l->q, sb_op_index_select(flat, 0, ri));
  return sb_op_cross_entropy(z, ti, -100, SB_REDUCTION_MEAN, 0.0f);
}

/* Hugging Face's form: logits [B·S, V] -> CE(logits[:, :-1], labels[:, 1:]). */
static sb_tensor *full_loss(sb_tensor *logits, sb_tensor *labels, int64_t B, int64_t S, int64_t V) {
  sb_tensor *z = sb_op_narrow(sb_op_reshape(logits, 3, (int64_t[]){B, S, V}), 1, 0, S - 1);
  sb_tensor *t = sb_op_narrow(labels, 1, 1, S - 1);
  return sb_op_cross_entropy(sb_op_reshape(z, 2, (int64_t[]){B * (S - 1), V}),
                             sb_op_reshape(t, 1, (int64_t[]){B * (S - 1)}), -100, SB_REDUCTION_MEAN, 0.0f);
}

/* Every grad.<name> of the fixture against the parameter's gradient. */
static void compare_grads(const llm *l, const sb_safetensors *ex, int n_params) {
  int seen = 0;
  for (size_t i = 0; i < sb_safetensors_count(ex); i++) {
    const char *name = sb_safetensors_at(ex, i)->name;
    if (strncmp(name, "grad.", 5) != 0) continue;
    sb_tensor *p = sb_params_get(l->scope, name + 5);
    CHECK(p && sb_tensor_grad(p), "%s: no such parameter or no gradient", name);
    if (p && sb_tensor_grad(p)) compare("gradient", sb_tensor_grad(p), ex, name, k_grad), seen++;
  }
  CHECK(seen == n_params, "%d gradients compared, the model has %d parameters", seen, n_params);
}

static size_t g_tape_nodes; /* the last golden forward's recorded nodes */

/* Forward with the mask (recorded), loss both ways, backward, compare. */
static void golden_masked(const llm *l, const sb_safetensors *in, const sb_safetensors *ex, int n_params) {
  const qwen2_config *c = &l->q->cfg;
  sb_tensor *ids = sb_safetensors_load(in, "input_ids", SB_DTYPE_I64);
  sb_tensor *mask = sb_safetensors_load(in, "attention_mask", SB_DTYPE_I64);
  sb_tensor *labels = sb_safetensors_load(in, "labels", SB_DTYPE_I64);
  const int64_t B = sb_tensor_dim(ids, 0), S = sb_tensor_dim(ids, 1), V = c->vocab_size;
  sb_tensor *hs[8] = {0}, *pre = NULL;
  sb_llm_input inp = {sizeof inp, l->vt->embed(l->q, ids), mask, NULL, NULL};
  sb_tensor *h = c->num_layers < 8 ? qwen2_forward_traced(l->q, &inp, hs, &pre) : NULL;
  CHECK(h, "forward: %s", sb_error_message());
  if (!h) return;
  g_tape_nodes = sb_tape_size();
  sb_tensor *flat = flat_rows(h);
  sb_tensor *loss = labelled_loss(l, flat, labels, B, S);
  sb_grad_push(false);
  sb_tensor *logits = l->vt->logits(l->q, flat); /* [B·S, V], for the comparison only */
  sb_tensor *loss_full = full_loss(logits, labels, B, S, V);
  sb_grad_pop();
  CHECK(loss && loss_full && sb_backward(loss, NULL) == SB_OK, "loss/backward: %s", sb_error_message());
  char key[64];
  for (int64_t i = 0; i <= c->num_layers; i++) {
    snprintf(key, sizeof key, "hidden_states.%lld", (long long)i);
    compare("forward (mask)", hs[i], ex, key, i == 0 ? k_exact : k_hidden);
  }
  compare("forward (mask)", pre, ex, "final_layer_output_prenorm", k_hidden);
  compare("forward (mask)", logits, ex, "logits", k_logits);
  float got = NAN, full = NAN, want = NAN;
  sb_tensor_item(loss, &got), sb_tensor_item(loss_full, &full);
  sb_tensor_item(sb_safetensors_load(ex, "loss", SB_DTYPE_F32), &want);
  CHECK(fabs(got - want) <= k_loss_rtol * fabs(want), "loss %.8f, fixture %.8f", got, want);
  CHECK(fabs(got - full) <= k_loss_same_rtol * fabs(full), "labelled-rows loss %.8f, full-logits loss %.8f", got, full);
  printf("%-22s %-52s %.8f (fixture %.8f, full logits %.8f)\n", "loss", "loss", got, want, full);
  compare_grads(l, ex, n_params);
}

/* Without the mask: pure causal. And the RoPE tables for positions 0..S-1. */
static void golden_nomask(const llm *l, const sb_safetensors *in, const sb_safetensors *ex) {
  sb_grad_push(false);
  sb_tensor *ids = sb_safetensors_load(in, "input_ids", SB_DTYPE_I64);
  sb_llm_input inp = {sizeof inp, l->vt->embed(l->q, ids), NULL, NULL, NULL};
  sb_tensor *h = l->vt->forward(l->q, &inp);
  compare("forward (no mask)", l->vt->logits(l->q, flat_rows(h)), ex, "logits_nomask", k_logits);
  sb_tensor *cos = NULL, *sin = NULL;
  CHECK(qwen2_rope_tables(l->q, NULL, 1, sb_tensor_dim(ids, 1), 0, &cos, &sin) == SB_OK, "rope: %s",
        sb_error_message());
  compare("rope", cos, ex, "rope.cos", k_rope);
  compare("rope", sin, ex, "rope.sin", k_rope);
  sb_grad_pop();
}

/* The fixture's golden forward, loss and gradients; `extra` is one more
 * recipe override (gradient checkpointing must not change a number). */
static void test_fixture(const char *name, bool tied, int n_params, const char *extra) {
  char dir[1024], path[1200];
  snprintf(dir, sizeof dir, "%s/%s", g_fx, name);
  printf("== %s%s%s\n", name, extra ? ", " : "", extra ? extra : "");
  llm l;
  CHECK(llm_open(&l, dir, extra) == SB_OK, "%s: %s", name, sb_error_message());
  if (!l.q) {
    llm_close(&l);
    return;
  }
  CHECK(sb_plugin_file(l.m.llm.plugin) && strcmp(sb_plugin_file(l.m.llm.plugin), "(static)") == 0,
        "the llm should come from the statically registered plugin");
  CHECK(sb_param_store_set_trainable(l.m.store, "llm", true) == n_params, "%d parameters", n_params);
  CHECK(tied == (sb_params_get(l.scope, "lm_head.weight") == NULL), "lm_head.weight declared iff untied");
  CHECK(tied == (l.q->lm_head == l.q->embed), "tied: the output layer is the embedding");
  snprintf(path, sizeof path, "%s/inputs.safetensors", dir);
  sb_safetensors *in = sb_safetensors_open(path);
  snprintf(path, sizeof path, "%s/expected.safetensors", dir);
  sb_safetensors *ex = sb_safetensors_open(path);
  CHECK(in && ex, "fixture files: %s", sb_error_message());
  if (in && ex) {
    sb_scope_begin();
    golden_masked(&l, in, ex, n_params);
    golden_nomask(&l, in, ex);
    sb_scope_end();
  }
  sb_safetensors_close(in), sb_safetensors_close(ex);
  CHECK(sb_recipe_check_unused(l.r) == SB_OK, "unused keys: %s", sb_error_message());
  llm_close(&l);
}

/* ---- 4: the KV cache ---- */

static int64_t argmax(const float *z, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; i++)
    if (z[i] > z[best]) best = i;
  return best;
}

/* Logits of the last position of h [B, S, D] -> host out [B, V]. */
static int last_logits(const llm *l, sb_tensor *h, float *out) {
  const int64_t B = sb_tensor_dim(h, 0), S = sb_tensor_dim(h, 1), V = l->q->cfg.vocab_size;
  sb_tensor *last = sb_op_reshape(sb_op_narrow(h, 1, S - 1, 1), 2, (int64_t[]){B, -1});
  return sb_tensor_to_host_f32(l->vt->logits(l->q, last), out, (size_t)(B * V));
}

/* Logits of every position of one sequence seq[0..n) by one full forward,
 * host out [n, V]. */
static int full_logits(const llm *l, const int64_t *seq, int64_t n, float *out) {
  sb_llm_input in = {sizeof in, l->vt->embed(l->q, ids_tensor(1, n, seq)), NULL, NULL, NULL};
  sb_tensor *z = l->vt->logits(l->q, flat_rows(l->vt->forward(l->q, &in)));
  return sb_tensor_to_host_f32(z, out, (size_t)(n * l->q->cfg.vocab_size));
}

enum { PROMPT = 5, GEN = 6, MAXV = 384 };

/* One sequence: prefill a prompt, then GEN greedy tokens one at a time. */
static void cache_single(const llm *l, const int64_t *prompt) {
  const int64_t V = l->q->cfg.vocab_size;
  int64_t seq[PROMPT + GEN];
  static float step[GEN][MAXV], ref[(PROMPT + GEN) * MAXV];
  memcpy(seq, prompt, sizeof(int64_t) * PROMPT);
  sb_llm_cache *cache = l->vt->cache_new(l->q, 1, PROMPT + GEN);
  CHECK(cache, "cache_new: %s", sb_error_message());
  if (!cache) return;
  sb_llm_input in = {sizeof in, l->vt->embed(l->q, ids_tensor(1, PROMPT, seq)), NULL, NULL, cache};
  int rc = last_logits(l, l->vt->forward(l->q, &in), step[0]);
  for (int g = 0; rc == SB_OK && g < GEN; g++) {
    seq[PROMPT + g] = argmax(step[g], V);
    if (g + 1 == GEN) break;
    in.inputs_embeds = l->vt->embed(l->q, ids_tensor(1, 1, &seq[PROMPT + g]));
    rc = last_logits(l, l->vt->forward(l->q, &in), step[g + 1]);
  }
  CHECK(rc == SB_OK && cache->length == PROMPT + GEN - 1, "decoding: %s", sb_error_message());
  CHECK(full_logits(l, seq, PROMPT + GEN - 1, ref) == SB_OK, "full forward: %s", sb_error_message());
  double err = 0;
  for (int g = 0; g < GEN; g++) {
    double e;
    CHECK(close_enough(step[g], ref + (PROMPT - 1 + g) * V, (size_t)V, k_cache.atol, k_cache.rtol, &e),
          "cached step %d: max |err| %.3g", g, e);
    CHECK(argmax(ref + (PROMPT - 1 + g) * V, V) == seq[PROMPT + g], "greedy token %d differs", g);
    err = fmax(err, e);
  }
  printf("%-22s %-52s max |err| %.2e\n", "kv cache", "greedy, batch 1, 5 + 6 tokens", err);
  l->vt->cache_free(l->q, cache);
}

/* Two sequences of different prompt lengths, the shorter left-padded, each
 * with its own positions; each row must match its own unpadded forward. */
static void cache_batch(const llm *l, const int64_t *a, const int64_t *b) {
  enum { PA = 6, PB = 4, PAD = PA - PB };
  const int64_t V = l->q->cfg.vocab_size;
  int64_t sa[PA + GEN], sb[PB + GEN], ids[2 * PA], pos[2 * PA], mask[2 * PA];
  static float step[GEN][2 * MAXV], ref[(PA + GEN) * MAXV];
  memcpy(sa, a, sizeof(int64_t) * PA), memcpy(sb, b, sizeof(int64_t) * PB);
  for (int64_t s = 0; s < PA; s++) {
    ids[s] = sa[s], pos[s] = s, mask[s] = 1;
    bool pad = s < PAD;
    ids[PA + s] = pad ? 0 : sb[s - PAD], pos[PA + s] = pad ? 0 : s - PAD, mask[PA + s] = !pad;
  }
  sb_llm_cache *cache = l->vt->cache_new(l->q, 2, PA + GEN);
  CHECK(cache, "cache_new: %s", sb_error_message());
  if (!cache) return;
  sb_llm_input in = {sizeof in, l->vt->embed(l->q, ids_tensor(2, PA, ids)), ids_tensor(2, PA, mask),
                     ids_tensor(2, PA, pos), cache};
  int rc = last_logits(l, l->vt->forward(l->q, &in), step[0]);
  for (int g = 0; rc == SB_OK && g < GEN; g++) {
    sa[PA + g] = argmax(step[g], V), sb[PB + g] = argmax(step[g] + V, V);
    if (g + 1 == GEN) break;
    int64_t next[2] = {sa[PA + g], sb[PB + g]}, np[2] = {PA + g, PB + g};
    in = (sb_llm_input){sizeof in, l->vt->embed(l->q, ids_tensor(2, 1, next)), NULL, ids_tensor(2, 1, np), cache};
    rc = last_logits(l, l->vt->forward(l->q, &in), step[g + 1]);
  }
  CHECK(rc == SB_OK, "batched decoding: %s", sb_error_message());
  double err = 0, e;
  CHECK(full_logits(l, sa, PA + GEN - 1, ref) == SB_OK, "full forward a: %s", sb_error_message());
  for (int g = 0; g < GEN; g++) {
    CHECK(close_enough(step[g], ref + (PA - 1 + g) * V, (size_t)V, k_cache.atol, k_cache.rtol, &e),
          "row 0 step %d: max |err| %.3g", g, e);
    err = fmax(err, e);
  }
  CHECK(full_logits(l, sb, PB + GEN - 1, ref) == SB_OK, "full forward b: %s", sb_error_message());
  for (int g = 0; g < GEN; g++) {
    CHECK(close_enough(step[g] + V, ref + (PB - 1 + g) * V, (size_t)V, k_cache.atol, k_cache.rtol, &e),
          "row 1 (left-padded) step %d: max |err| %.3g", g, e);
    err = fmax(err, e);
  }
  printf("%-22s %-52s max |err| %.2e\n", "kv cache", "greedy, batch 2, left padding, own positions", err);
  l->vt->cache_free(l->q, cache);
}

/* Misuse of the cache: grad mode on, overflow, another batch size. */
static void cache_errors(const llm *l, const int64_t *prompt) {
  sb_llm_cache *cache = l->vt->cache_new(l->q, 1, 4);
  CHECK(cache, "cache_new: %s", sb_error_message());
  if (!cache) return;
  sb_llm_input in = {sizeof in, l->vt->embed(l->q, ids_tensor(1, 3, prompt)), NULL, NULL, cache};
  sb_grad_push(true);
  CHECK(l->vt->forward(l->q, &in) == NULL, "a cache with grad mode on must fail");
  CHECK_ERROR("grad mode off");
  sb_grad_pop();
  CHECK(l->vt->forward(l->q, &in) != NULL && cache->length == 3, "3 of 4: %s", sb_error_message());
  CHECK(l->vt->forward(l->q, &in) == NULL && cache->length == 3, "3 more must overflow");
  CHECK_ERROR("KV cache overflow: 3 cached + 3 new tokens exceed the cache's 4 positions");
  in.inputs_embeds = l->vt->embed(l->q, ids_tensor(2, 1, prompt));
  CHECK(l->vt->forward(l->q, &in) == NULL, "batch 2 into a cache of 1");
  CHECK_ERROR("a batch of 2");
  l->vt->cache_free(l->q, cache);
  CHECK(l->vt->cache_new(l->q, 1, 40000) == NULL, "a cache longer than max_length");
  CHECK_ERROR("1 to 32768 positions");
}

static void test_cache(const char *name) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/%s", g_fx, name);
  printf("== %s: KV cache\n", name);
  llm l;
  CHECK(llm_open(&l, dir, NULL) == SB_OK, "%s: %s", name, sb_error_message());
  int64_t ids[34];
  snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/inputs.safetensors");
  sb_safetensors *in = sb_safetensors_open(dir);
  sb_scope_begin();
  bool ok = l.q && in && sb_tensor_to_host(sb_safetensors_load(in, "input_ids", SB_DTYPE_I64), ids, sizeof ids) == SB_OK;
  CHECK(ok, "inputs: %s", sb_error_message());
  if (ok) {
    sb_grad_push(false);
    cache_single(&l, ids);
    cache_batch(&l, ids, ids + 17);
    cache_errors(&l, ids);
    sb_grad_pop();
  }
  sb_scope_end();
  sb_safetensors_close(in);
  llm_close(&l);
}

/* ---- 5: errors ---- */

/* A scratch folder for broken copies of a fixture. */
static char g_tmp[256];

static const char *const k_scratch_files[] = {"config.json", "model.safetensors", "model.safetensors.index.json",
                                             "model-00001-of-00002.safetensors",
                                             "model-00002-of-00002.safetensors"};

static void scratch_clean(const char *dir) {
  char p[512];
  for (size_t i = 0; i < sizeof k_scratch_files / sizeof k_scratch_files[0]; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, k_scratch_files[i]);
    unlink(p);
  }
  rmdir(dir);
}

/* A fresh folder g_tmp/<name>; returns its path in out. */
static const char *scratch_dir(const char *name, char *out, size_t n) {
  snprintf(out, n, "%s/%s", g_tmp, name);
  scratch_clean(out);
  CHECK(mkdir(out, 0700) == 0, "mkdir %s", out);
  return out;
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = calloc(1, 1 << 16);
  size_t n = buf ? fread(buf, 1, (1 << 16) - 1, f) : 0;
  fclose(f);
  if (buf) buf[n] = 0;
  return buf;
}

static int write_text(const char *dir, const char *file, const char *text) {
  char p[512];
  snprintf(p, sizeof p, "%s/%s", dir, file);
  FILE *f = fopen(p, "wb");
  if (!f) return SB_ERR;
  fputs(text, f);
  return fclose(f) == 0 ? SB_OK : SB_ERR;
}

/* The fixture's config.json with `from` replaced by `to` (from NULL: as is). */
static int write_config(const char *dir, const char *fixture, const char *from, const char *to) {
  char p[1200], out[1 << 16];
  snprintf(p, sizeof p, "%s/%s/config.json", g_fx, fixture);
  char *text = read_text(p);
  char *at = text && from ? strstr(text, from) : NULL;
  CHECK(text && (!from || at), "config.json of %s lacks '%s'", fixture, from ? from : "");
  if (!text || (from && !at)) return free(text), SB_ERR;
  if (at) {
    *at = 0;
    snprintf(out, sizeof out, "%s%s%s", text, to, at + strlen(from));
  } else {
    snprintf(out, sizeof out, "%s", text);
  }
  free(text);
  return write_text(dir, "config.json", out);
}

/* How a copy of model.safetensors differs from the fixture's. */
typedef struct st_edit {
  const char *drop;      /* a tensor left out */
  const char *add;       /* a tensor added (a copy of model.norm.weight) */
  const char *truncate;  /* a 1-D tensor cut to half its length */
  int shard;             /* 0: one file; 1: two shards + index */
} st_edit;

/* Writes the fixture's tensors, edited, to the writer(s) for dir. */
static int write_weights(const char *dir, const char *fixture, st_edit e) {
  char p[1200];
  snprintf(p, sizeof p, "%s/%s/model.safetensors", g_fx, fixture);
  sb_safetensors *src = sb_safetensors_open(p);
  sb_st_writer *w[2] = {sb_st_writer_new(), sb_st_writer_new()};
  int rc = src && w[0] && w[1] ? SB_OK : SB_ERR;
  char index[1 << 14];
  size_t used = (size_t)snprintf(index, sizeof index, "{\"metadata\": {}, \"weight_map\": {");
  size_t count = src ? sb_safetensors_count(src) : 0;
  for (size_t i = 0; rc == SB_OK && i < count; i++) {
    const sb_st_tensor *t = sb_safetensors_at(src, i);
    if (e.drop && strcmp(t->name, e.drop) == 0) continue;
    int s = e.shard && i >= count / 2;
    int64_t shape[SB_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    if (e.truncate && strcmp(t->name, e.truncate) == 0) shape[0] /= 2;
    rc = sb_st_writer_add(w[s], t->name, t->dtype, t->ndim, shape, t->data);
    if (!rc && e.add && strcmp(t->name, "model.norm.weight") == 0)
      rc = sb_st_writer_add(w[s], e.add, t->dtype, t->ndim, t->shape, t->data);
    used += (size_t)snprintf(index + used, sizeof index - used, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"",
                             i ? ", " : "", t->name, s + 1);
  }
  snprintf(index + used, sizeof index - used, "}}");
  for (int s = 0; rc == SB_OK && s <= e.shard; s++) {
    if (e.shard) snprintf(p, sizeof p, "%s/model-0000%d-of-00002.safetensors", dir, s + 1);
    else snprintf(p, sizeof p, "%s/model.safetensors", dir);
    rc = sb_st_writer_write(w[s], p);
  }
  if (rc == SB_OK && e.shard) rc = write_text(dir, "model.safetensors.index.json", index);
  sb_st_writer_free(w[0]), sb_st_writer_free(w[1]);
  sb_safetensors_close(src);
  CHECK(rc == SB_OK, "writing weights to %s: %s", dir, sb_error_message());
  return rc;
}

/* A broken copy of the untied fixture must fail to build with the needles. */
static void broken_weights(const char *what, const char *fixture, st_edit e, const char *n1, const char *n2) {
  char dir[512];
  scratch_dir(what, dir, sizeof dir);
  if (write_config(dir, fixture, NULL, NULL) == SB_OK && write_weights(dir, fixture, e) == SB_OK)
    expect_build_error(what, dir, NULL, n1, n2);
  scratch_clean(dir);
}

static void broken_config(const char *what, const char *from, const char *to, const char *n1, const char *n2) {
  char dir[512];
  scratch_dir(what, dir, sizeof dir);
  if (write_config(dir, "qwen2_tiny_untied", from, to) == SB_OK &&
      write_weights(dir, "qwen2_tiny_untied", (st_edit){0}) == SB_OK)
    expect_build_error(what, dir, NULL, n1, n2);
  scratch_clean(dir);
}

static void test_loading_errors(void) {
  printf("== loading errors\n");
  const char *u = "qwen2_tiny_untied";
  broken_weights("missing-tensor", u, (st_edit){.drop = "model.layers.1.mlp.up_proj.weight"},
                 "tensor 'model.layers.1.mlp.up_proj.weight' (expected shape [64, 32]) is missing", NULL);
  broken_weights("unexpected-tensor", u, (st_edit){.add = "model.layers.2.input_layernorm.weight"},
                 "holds tensor 'model.layers.2.input_layernorm.weight' that is not a parameter", NULL);
  broken_weights("tied-with-lm-head", "qwen2_tiny_tied_bf16", (st_edit){.add = "lm_head.weight"},
                 "holds 'lm_head.weight' but config.json sets tie_word_embeddings: true", NULL);
  broken_weights("mis-shaped-tensor", u, (st_edit){.truncate = "model.norm.weight"},
                 "tensor 'model.norm.weight' has shape [16], expected [32]", NULL);
  broken_config("hidden-act", "\"silu\"", "\"gelu\"", "config.json: 'hidden_act' is \"gelu\"", "silu");
  broken_config("rope-scaling", "\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}",
                "config.json: 'rope_scaling' is {type: \"linear\", factor: 2}", "not supported");
  broken_config("sliding-window", "\"use_sliding_window\": false", "\"use_sliding_window\": true",
                "'use_sliding_window' is true", "not implemented");
  broken_config("model-type", "\"model_type\": \"qwen2\"", "\"model_type\": \"qwen3\"", "'model_type' is \"qwen3\"",
                NULL);
  broken_config("kv-heads", "\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3",
                "'num_key_value_heads' is 3: must divide num_attention_heads (4)", NULL);
  broken_config("layer-types", "\"num_hidden_layers\": 2,",
                "\"num_hidden_layers\": 2, \"layer_types\": [\"full_attention\", \"sliding_attention\"],",
                "'layer_types'[1] is \"sliding_attention\"", NULL);
  broken_config("bad-json", "{", "{,", "config.json:", "not valid JSON");
  /* kv heads null means as many as the query heads: the k/v weights no longer fit */
  broken_config("kv-heads-null", "\"num_key_value_heads\": 2", "\"num_key_value_heads\": null",
                "'model.layers.0.self_attn.k_proj.weight' has shape [16, 32], expected [32, 32]", NULL);
  char dir[512];
  scratch_dir("no-config", dir, sizeof dir);
  if (write_weights(dir, u, (st_edit){0}) == SB_OK)
    expect_build_error("no-config", dir, NULL, "no-config/config.json: no such file", NULL);
  expect_build_error("bad-path", "/nonexistent/qwen2", NULL, "model.llm.weights", "'/nonexistent/qwen2' does not exist");
  char file[1200];
  snprintf(file, sizeof file, "%s/model.safetensors", dir);
  expect_build_error("weights-is-a-file", file, NULL, "is a file", NULL);
  scratch_clean(dir);
  snprintf(dir, sizeof dir, "%s/%s", g_fx, u);
  expect_build_error("max-length", dir, "model.llm.max_length=40000", "model.llm.max_length",
                     "expected 0 (max_position_embeddings) to 32768");
}

/* Runtime misuse of a good model: bad ids, shapes, too long a sequence. */
static void test_runtime_errors(void) {
  printf("== runtime errors\n");
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/qwen2_tiny_untied", g_fx);
  llm l;
  CHECK(llm_open(&l, dir, "model.llm.max_length=8") == SB_OK, "build: %s", sb_error_message());
  if (!l.q) {
    llm_close(&l);
    return;
  }
  sb_llm_info info = {.struct_size = sizeof info};
  CHECK(l.vt->describe(l.q, &info) == SB_OK && info.max_positions == 8 && info.vocab_size == 384 &&
            info.hidden_size == 32 && info.num_layers == 2 && info.n_eos_token_ids == 1 &&
            info.eos_token_ids[0] == 381 && info.pad_token_id == -1,
        "describe");
  sb_scope_begin();
  sb_grad_push(false);
  int64_t ids[9] = {1, 2, 3, 384, 5, 6, 7, 8, 9}, neg = -1;
  CHECK(l.vt->embed(l.q, ids_tensor(1, 9, ids)) == NULL, "id 384 >= vocab");
  CHECK_ERROR("token id 384 (element 3 of the ids) is outside the vocabulary [0, 384)");
  CHECK(l.vt->embed(l.q, ids_tensor(1, 1, &neg)) == NULL, "id -1");
  CHECK_ERROR("token id -1");
  ids[3] = 4;
  sb_llm_input in = {sizeof in, l.vt->embed(l.q, ids_tensor(1, 9, ids)), NULL, NULL, NULL};
  CHECK(l.vt->forward(l.q, &in) == NULL, "9 tokens > max_length 8");
  CHECK_ERROR("a sequence of 9 tokens is longer than max_length 8");
  in.inputs_embeds = l.vt->embed(l.q, ids_tensor(1, 8, ids));
  CHECK(l.vt->forward(l.q, &in) != NULL, "8 tokens: %s", sb_error_message());
  in.attention_mask = ids_tensor(1, 7, ids);
  CHECK(l.vt->forward(l.q, &in) == NULL, "mask [1, 7] for 8 tokens");
  CHECK_ERROR("attention_mask [1, 7], expected [1, 8]");
  in.attention_mask = NULL, in.position_ids = sb_tensor_zeros(SB_DTYPE_F32, 2, (int64_t[]){1, 8});
  CHECK(l.vt->forward(l.q, &in) == NULL, "float positions");
  CHECK_ERROR("position_ids F32 [1, 8], expected I32/I64 [1, 8]");
  in.position_ids = NULL, in.inputs_embeds = sb_tensor_zeros(SB_DTYPE_F32, 3, (int64_t[]){1, 4, 31});
  CHECK(l.vt->forward(l.q, &in) == NULL, "width 31");
  CHECK_ERROR("inputs_embeds F32 [1, 4, 31], expected float [B, S, 32]");
  in.inputs_embeds = sb_tensor_zeros(SB_DTYPE_F32, 3, (int64_t[]){1, 0, 32});
  CHECK(l.vt->forward(l.q, &in) == NULL, "no tokens");
  CHECK_ERROR("inputs_embeds [1, 0, 32] holds no tokens");
  CHECK(l.vt->logits(l.q, sb_tensor_zeros(SB_DTYPE_F32, 2, (int64_t[]){3, 31})) == NULL, "logits of width 31");
  CHECK_ERROR("logits: hidden [3, 31], expected [N, 32]");
  CHECK(l.vt->cache_new(l.q, 1, 9) == NULL, "a cache longer than max_length 8");
  sb_llm_cache *c = l.vt->cache_new(l.q, 1, 0);
  CHECK(c && c->max_length == 8, "cache_new(max_length 0) takes the model's 8");
  l.vt->cache_free(l.q, c);
  sb_grad_pop();
  sb_scope_end();
  llm_close(&l);
}

/* ---- variants of a good checkpoint ---- */

/* Logits of the fixture's inputs (with mask) from the model at dir. */
static sb_tensor *inputs_logits(const llm *l) {
  char p[1200];
  snprintf(p, sizeof p, "%s/qwen2_tiny_untied/inputs.safetensors", g_fx);
  sb_safetensors *in = sb_safetensors_open(p);
  if (!in) return NULL;
  sb_llm_input inp = {sizeof inp, l->vt->embed(l->q, sb_safetensors_load(in, "input_ids", SB_DTYPE_I64)),
                      sb_safetensors_load(in, "attention_mask", SB_DTYPE_I64), NULL, NULL};
  sb_tensor *z = l->vt->logits(l->q, flat_rows(l->vt->forward(l->q, &inp)));
  sb_safetensors_close(in);
  return z;
}

/* Sharded weights (index + two shards) load to the same model. */
static void variant_sharded(const sb_safetensors *ex) {
  char dir[512];
  scratch_dir("sharded", dir, sizeof dir);
  llm l;
  if (write_config(dir, "qwen2_tiny_untied", NULL, NULL) == SB_OK &&
      write_weights(dir, "qwen2_tiny_untied", (st_edit){.shard = 1}) == SB_OK) {
    CHECK(llm_open(&l, dir, NULL) == SB_OK, "sharded: %s", sb_error_message());
    if (l.q) compare("sharded weights", inputs_logits(&l), ex, "logits", k_logits);
    llm_close(&l);
  }
  scratch_clean(dir);
}

/* pad_token_id, a list of eos ids and rope_parameters: same logits, the
 * padding row gets no gradient. */
static void variant_config(const sb_safetensors *ex) {
  char dir[512];
  scratch_dir("variant", dir, sizeof dir);
  llm l;
  const char *to = "\"eos_token_id\": [381, 7], \"pad_token_id\": 7, "
                   "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 10000.0}";
  if (write_config(dir, "qwen2_tiny_untied", "\"eos_token_id\": 381", to) == SB_OK &&
      write_weights(dir, "qwen2_tiny_untied", (st_edit){0}) == SB_OK) {
    CHECK(llm_open(&l, dir, NULL) == SB_OK, "variant: %s", sb_error_message());
    sb_llm_info info = {.struct_size = sizeof info};
    if (l.q) {
      compare("eos list, pad, rope_p.", inputs_logits(&l), ex, "logits", k_logits);
      CHECK(l.vt->describe(l.q, &info) == SB_OK && info.n_eos_token_ids == 2 && info.eos_token_ids[1] == 7 &&
                info.pad_token_id == 7, "describe: eos [381, 7], pad 7");
      sb_tensor *emb = sb_params_get(l.scope, "model.embed_tokens.weight");
      sb_tensor_set_requires_grad(emb, true);
      int64_t ids[4] = {7, 9, 7, 9};
      sb_grad_push(true);
      CHECK(sb_backward(sb_op_sum_all(l.vt->embed(l.q, ids_tensor(2, 2, ids))), NULL) == SB_OK, "backward: %s",
            sb_error_message());
      sb_grad_pop();
      float g[384 * 32];
      CHECK(sb_tensor_grad(emb) && sb_tensor_to_host_f32(sb_tensor_grad(emb), g, 384 * 32) == SB_OK, "grad");
      CHECK(g[7 * 32] == 0.0f && g[7 * 32 + 31] == 0.0f && g[9 * 32] == 2.0f, "padding row 7 has no gradient, "
            "row 9 gets 2 (row 7: %g, row 9: %g)", g[7 * 32], g[9 * 32]);
    }
    llm_close(&l);
  }
  scratch_clean(dir);
}

/* random_init: config.json only; Hugging Face's initialisation. */
static void variant_random(void) {
  char dir[512];
  scratch_dir("random", dir, sizeof dir);
  llm l;
  if (write_config(dir, "qwen2_tiny_tied_bf16", "\"eos_token_id\": 381", "\"eos_token_id\": 381, \"pad_token_id\": 3") ==
      SB_OK) {
    CHECK(llm_open(&l, dir, "model.llm.random_init=true") == SB_OK, "random_init: %s", sb_error_message());
    if (l.q) {
      float e[384 * 32], nw[32], qb[32];
      sb_tensor_to_host_f32(sb_params_get(l.scope, "model.embed_tokens.weight"), e, 384 * 32);
      sb_tensor_to_host_f32(sb_params_get(l.scope, "model.norm.weight"), nw, 32);
      sb_tensor_to_host_f32(sb_params_get(l.scope, "model.layers.1.self_attn.q_proj.bias"), qb, 32);
      double s2 = 0, pad = 0;
      for (int i = 0; i < 384 * 32; i++) s2 += (double)e[i] * e[i];
      for (int i = 0; i < 32; i++) pad += fabs(e[3 * 32 + i]);
      double sd = sqrt(s2 / (383 * 32)); /* the zero padding row left out */
      /* 12256 draws of N(0, 0.02): the sample std's spread is 0.02/sqrt(2·12256) ≈ 1.3e-4,
       * so 1e-3 is ~8 sigma (the draw is fixed by the seed anyway) */
      CHECK(fabs(sd - 0.02) < 0.001 && pad == 0.0 && nw[0] == 1.0f && nw[31] == 1.0f && qb[0] == 0.0f,
            "random init: std %.5f (0.02), padding row %g, norm %g, bias %g", sd, pad, nw[0], qb[0]);
      sb_scope_begin();
      size_t n;
      float *z = host_f32(inputs_logits(&l), &n);
      CHECK(z && n == 2 * 17 * 384 && isfinite(z[0]) && isfinite(z[n - 1]), "random model's logits");
      free(z);
      sb_scope_end();
    }
    llm_close(&l);
  }
  scratch_clean(dir);
}

static void test_variants(void) {
  printf("== variants\n");
  char p[1200];
  snprintf(p, sizeof p, "%s/qwen2_tiny_untied/expected.safetensors", g_fx);
  sb_safetensors *ex = sb_safetensors_open(p);
  CHECK(ex, "%s", sb_error_message());
  if (!ex) return;
  sb_scope_begin();
  sb_grad_push(false);
  variant_sharded(ex);
  variant_config(ex);
  sb_grad_pop();
  variant_random();
  sb_scope_end();
  sb_safetensors_close(ex);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0); /* keep the report in order with the FAIL lines on stderr */
  g_fx = getenv("SB_FIXTURES");
  if (!g_fx) g_fx = SB_TEST_FIXTURES;
  const char *tmp = getenv("TMPDIR");
  snprintf(g_tmp, sizeof g_tmp, "%s/sb_qwen2_XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
  CHECK(mkdtemp(g_tmp) != NULL, "mkdtemp %s", g_tmp);
  test_fixture("qwen2_tiny_untied", false, 27, NULL);
  size_t plain_nodes = g_tape_nodes;
  test_fixture("qwen2_tiny_tied_bf16", true, 26, NULL);
  test_fixture("qwen2_tiny_untied", false, 27, "model.llm.gradient_checkpointing=true");
  /* checkpointed: one node per decoder layer instead of its dozens of ops */
  CHECK(g_tape_nodes + 10 < plain_nodes, "gradient checkpointing recorded %zu nodes, without it %zu",
        g_tape_nodes, plain_nodes);
  printf("%-22s recorded nodes: %zu checkpointed, %zu plain\n", "checkpointing", g_tape_nodes, plain_nodes);
  test_fixture("qwen2_tiny_tied_bf16", true, 26, "model.llm.gradient_checkpointing=true");
  test_cache("qwen2_tiny_untied");
  test_cache("qwen2_tiny_tied_bf16");
  test_loading_errors();
  test_runtime_errors();
  test_variants();
  rmdir(g_tmp);
  return check_summary("model-qwen2");
}
