/* bench_train.c — training-step time and memory of the three SpatialBoost
 * stages on the cpu, with random weights, on the shapes of
 * ../shared/bench/torch_ref_step.py: DINOv3 ViT-S/16 at 224 + projector_mlp
 * + a 4-layer Qwen2-0.5B-shaped LLM, 256 text tokens per sample with the
 * 196 visual tokens after the first 5 (452 LLM positions), loss over the
 * positions whose next token is text (or, with --demo, the demo's tiny
 * models and a 64-token text). Stages: fwd (forward + loss, no grad),
 * stage1 (projector), stage2 (projector + llm), stage3 (encoder.dual +
 * projector, dual-channel attention on). A step = zero grads + forward +
 * backward + optimizer step (AdamW, lr 1e-5, no clipping, as the reference
 * with --optim adamw; --optim none leaves the step out, as its default).
 * The model, the trainable selection (train.trainable), the multimodal
 * forward and the optimizer are the trainer's own code paths.
 *
 * Each stage runs in a child process, so its peak RSS is its own. Prints
 * per stage: the median step time (and its forward / backward / optimizer
 * parts) over --runs steps after one warm-up, LLM positions/s, images/s,
 * the matrix work per step counted as the reference counts it, GFLOP/s and
 * its ratio to the sgemm rate measured in this run, peak RSS, the bytes of
 * the weights, of the trainable parameters' gradients and of the optimizer
 * state, and peak RSS / weights. The one thing asserted: no frozen weight
 * holds a gradient or optimizer state (exit status 2 otherwise).
 *   usage: bench_train [--runs N] [--batch B] [--stage fwd|stage1|stage2|stage3] [--demo]
 *                      [--optim adamw|none] [--threads N] [--checkpointing] [--logit-budget FLOATS]
 *                      [--unfused-head]
 * --checkpointing: the encoder's and the LLM's gradient_checkpointing
 * options on; --logit-budget: sb_mm_set_logit_budget (floats of logits
 * at once; smaller runs the output layer in more checkpointed chunks);
 * --unfused-head: logits + loss even where the output layer is frozen
 * (fwd, stages 1 and 3 fuse it into the loss by default). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"
#include "mm_forward.h"
#include "optim.h"
#include "recipe.h"
#include "run_config.h"
#include "spatialboost/spatialboost.h"

#define IMAGE_TOKEN 151655 /* any id outside the random text ids */
#define MIB 1048576.0

static const char *k_dinov3_vits16 =
    "{\"model_type\": \"dinov3_vit\", \"hidden_size\": 384, \"intermediate_size\": 1536,"
    " \"num_hidden_layers\": 12, \"num_attention_heads\": 6, \"patch_size\": 16, \"hidden_act\": \"gelu\","
    " \"num_register_tokens\": 4, \"rope_theta\": 100.0, \"layer_norm_eps\": 1e-6, \"image_size\": 224,"
    " \"query_bias\": true, \"key_bias\": false, \"value_bias\": true, \"proj_bias\": true, \"mlp_bias\": true,"
    " \"layerscale_value\": 1e-5, \"use_gated_mlp\": false, \"initializer_range\": 0.02}";

static const char *k_qwen2_05b_4l =
    "{\"model_type\": \"qwen2\", \"hidden_size\": 896, \"intermediate_size\": 4864, \"num_hidden_layers\": 4,"
    " \"num_attention_heads\": 14, \"num_key_value_heads\": 2, \"vocab_size\": 151936, \"hidden_act\": \"silu\","
    " \"max_position_embeddings\": 32768, \"rope_theta\": 1000000.0, \"rms_norm_eps\": 1e-6,"
    " \"tie_word_embeddings\": true, \"initializer_range\": 0.02, \"use_sliding_window\": false}";

/* The shapes the matrix work is counted from (n_patch comes from the
 * encoder itself: it follows the preprocessing's image size). */
typedef struct dims {
  const char *label;
  int64_t d, enc_layers, mlp, patch, n_pre;            /* encoder */
  int64_t D, heads, kv_heads, inter, vocab, llm_layers; /* llm */
  int64_t text, prefix;                                 /* tokens per sample */
  int64_t n_patch;
} dims;

static const dims k_full = {"DINOv3 ViT-S/16 224 + mlp2x_gelu + Qwen2-0.5B (4 layers)", 384, 12, 1536, 16, 5,
                            896, 14, 2, 4864, 151936, 4, 256, 5, 0};
static const dims k_demo = {"demo: DINOv3 96-wide 4 layers + mlp2x_gelu + Qwen2 64-wide 2 layers", 96, 4, 384, 16,
                            3, 64, 4, 2, 160, 151936, 2, 64, 5, 0};

static const char *const k_stage_names[] = {"fwd", "stage1", "stage2", "stage3"};
static const char *const k_trainable[] = {"[]", "[projector]", "[projector, llm]", "[encoder.dual, projector]"};

/* What a stage's child process reports to the parent. */
typedef struct result {
  int ok;
  double step, fwd, bwd, opt;               /* median seconds */
  double gflop_fwd, gflop_bwd;              /* per step */
  double rss_mb, arena_peak_mb;            /* MiB */
  double foreign;                          /* other processes' CPU share while timed */
  double weights, trainable, grads, optim; /* bytes */
  float loss;
  int64_t positions, labelled;
  char check[256];
} result;

/* Matrix work of one sample's step in FLOP, as torch_ref_step.py counts it:
 * full T×T attention products, the output layer at the labelled positions;
 * in the backward 2× a product whose input and weight both need gradients,
 * 1× when one does, 0 when none does. */
static void step_flop(const dims *s, int stage, double *fwd, double *bwd) {
  const double d = (double)s->d, np = (double)s->n_patch, Te = np + (double)s->n_pre, Le = (double)s->enc_layers;
  const double D = (double)s->D, hd = D / (double)s->heads, T = (double)(s->text + s->n_patch);
  const double Ll = (double)s->llm_layers, npos = (double)(s->text - 1);
  const double att_lin = 8 * Te * d * d, att_mm = 4 * Te * Te * d, mlp = 4 * Te * d * (double)s->mlp;
  const double patch = 2 * np * 3.0 * (double)(s->patch * s->patch) * d;
  const double p1 = 2 * np * d * D, p2 = 2 * np * D * D;
  const double lin = 2 * T * D * (2 * D + 2 * (double)s->kv_heads * hd) + 6 * T * D * (double)s->inter;
  const double mm = 4 * T * T * D, head = 2 * npos * D * (double)s->vocab;
  *fwd = patch + Le * (att_lin + att_mm + mlp) + (stage == 3 ? Le * (att_lin + att_mm) : 0) + p1 + p2 +
         Ll * (lin + mm) + head;
  if (stage == 0) *bwd = 0;
  else if (stage == 1) *bwd = p1 + 2 * p2 + Ll * (lin + 2 * mm) + head;
  else if (stage == 2) *bwd = p1 + 2 * p2 + Ll * (2 * lin + 2 * mm) + 2 * head;
  else { /* block 0's input needs no gradient: its frozen attention has no backward */
    double blk0 = 6 * Te * d * d + 2 * att_mm + 4 * Te * d * d + mlp;
    double blk = (att_lin + 2 * att_mm) + (2 * att_lin + 2 * att_mm) + mlp;
    *bwd = Ll * (lin + 2 * mm) + head + 2 * p1 + 2 * p2 + blk0 + (Le - 1) * blk;
  }
}

/* Writes text to dir/name, making dir. */
static int write_file(const char *dir, const char *name, const char *text) {
  char path[600];
  mkdir(dir, 0755);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) return sb_error("cannot write %s", path);
  fputs(text, f);
  fclose(f);
  return SB_OK;
}

/* The stage's model, batch and optimizer. */
typedef struct stage_run {
  sb_recipe *recipe;
  sb_model m;
  sb_optim *opt;
  sb_mm_batch batch;
  bool train;
  double t_fwd, t_bwd, t_opt;
  float loss;
  int64_t positions, labelled;
} stage_run;

/* Builds the model from a recipe made of overrides, marks train.trainable
 * as the trainer does, and makes the optimizer (AdamW) when adamw. */
static int build(stage_run *r, const char *enc_dir, const char *llm_dir, int stage, bool adamw, bool ckpt) {
  char s[5][640];
  snprintf(s[0], sizeof s[0], "model.encoder={plugin: encoder_dinov3, weights: \"%s\", random_init: true%s%s}", enc_dir,
           stage == 3 ? ", dual_attention: {enabled: true, mix: sigmoid}" : "", ckpt ? ", gradient_checkpointing: true" : "");
  snprintf(s[1], sizeof s[1], "model.projector={plugin: projector_mlp}");
  snprintf(s[2], sizeof s[2], "model.llm={plugin: llm_qwen2, weights: \"%s\", random_init: true%s}", llm_dir,
           ckpt ? ", gradient_checkpointing: true" : "");
  snprintf(s[3], sizeof s[3], "train.trainable=%s", k_trainable[stage]);
  snprintf(s[4], sizeof s[4], "train.optimizer={name: adamw, lr: 1.0e-5, weight_decay: 0.0}");
  const char *sets[5] = {s[0], s[1], s[2], s[3], s[4]};
  sb_train_options t;
  if (!(r->recipe = sb_recipe_from_overrides("<bench_train>", sets, 5))) return SB_ERR;
  const sb_config *root = sb_recipe_root(r->recipe);
  if (sb_model_build(&r->m, root, 1, SB_MODEL_CREATE | SB_MODEL_NO_DATA) || sb_train_options_read(root, &t) ||
      sb_recipe_check_unused(r->recipe))
    return SB_ERR;
  for (size_t i = 0; i < t.n_trainable; i++) /* as trainer.c's apply_trainable */
    if (sb_param_store_set_trainable(r->m.store, t.trainable[i], true) == 0)
      return sb_error("train.trainable: '%s' matches no parameter", t.trainable[i]);
  r->train = stage > 0;
  if (r->train && adamw && !(r->opt = sb_optim_new(r->m.store, &t))) return SB_ERR;
  return SB_OK;
}

/* B samples: random pixels, and text ids with the image placeholder after
 * the first `prefix` tokens; labels are the ids (the placeholder's -100). */
static int make_batch(stage_run *r, const dims *dm, int64_t B, int64_t side) {
  const int64_t S = dm->text + 1, n = B * S, px = B * 3 * side * side;
  int64_t *ids = malloc(sizeof(int64_t) * (size_t)n), *labels = malloc(sizeof(int64_t) * (size_t)n);
  float *pix = malloc(sizeof(float) * (size_t)px);
  for (int64_t i = 0; i < n; i++) {
    bool img = i % S == dm->prefix;
    ids[i] = img ? IMAGE_TOKEN : rand() % 151643;
    labels[i] = img ? -100 : ids[i];
  }
  for (int64_t i = 0; i < px; i++) pix[i] = (float)rand() / (float)RAND_MAX - 0.5f;
  r->batch = (sb_mm_batch){.image_token_id = IMAGE_TOKEN};
  r->batch.input_ids = sb_tensor_from_host(SB_DTYPE_I64, 2, (int64_t[]){B, S}, ids);
  r->batch.labels = sb_tensor_from_host(SB_DTYPE_I64, 2, (int64_t[]){B, S}, labels);
  r->batch.images = (sb_encoder_input){sizeof r->batch.images,
                                       sb_tensor_from_host(SB_DTYPE_F32, 4, (int64_t[]){B, 3, side, side}, pix),
                                       NULL, NULL};
  free(ids), free(labels), free(pix);
  return r->batch.input_ids && r->batch.labels && r->batch.images.pixel_values ? SB_OK : SB_ERR;
}

/* One step as trainer.c runs it (less the loader and clipping): zero the
 * gradients, forward and loss in a scope, backward, optimizer step. Times
 * each part. */
static int step(stage_run *r) {
  double t0 = bench_now();
  if (r->train) sb_zero_grads(r->m.store);
  sb_scope_begin();
  sb_grad_push(r->train);
  sb_mm_output out;
  int rc = sb_mm_forward(&r->m, &r->batch, 0, 0, &out);
  if (rc == SB_OK) rc = sb_tensor_item(out.loss, &r->loss);
  if (rc == SB_OK) r->positions = sb_tensor_numel(out.attention_mask), r->labelled = out.n_labelled;
  double t1 = bench_now();
  if (rc == SB_OK && r->train) rc = sb_backward(out.loss, NULL);
  sb_tape_clear();
  sb_grad_pop();
  sb_scope_end();
  double t2 = bench_now();
  if (rc == SB_OK && r->opt) rc = sb_optim_step(r->opt, 1.0);
  double t3 = bench_now();
  r->t_fwd = t1 - t0, r->t_bwd = t2 - t1, r->t_opt = t3 - t2;
  return rc;
}

/* Weights, trainable and gradient bytes; checks that only trainable
 * parameters hold gradients and optimizer state (res->ok = 0 otherwise). */
static void memory_check(const stage_run *r, result *res) {
  int64_t frozen_grads = 0, missing = 0, n_train = 0;
  for (size_t i = 0; i < sb_param_store_count(r->m.store); i++) {
    const sb_param *p = sb_param_store_at(r->m.store, i);
    double bytes = 4.0 * (double)sb_tensor_numel(p->tensor);
    const sb_tensor *g = sb_tensor_grad(p->tensor);
    res->weights += bytes;
    if (p->trainable) res->trainable += bytes, n_train++;
    if (g) res->grads += 4.0 * (double)sb_tensor_numel(g);
    if (g && !p->trainable) frozen_grads++;
    if (!g && p->trainable) missing++;
  }
  res->optim = r->opt ? (double)sb_optim_state_bytes(r->opt) : 0;
  double want_optim = r->opt ? 2 * res->trainable : 0;
  res->ok = frozen_grads == 0 && missing == 0 && res->grads == res->trainable && res->optim == want_optim;
  snprintf(res->check, sizeof res->check,
           "%lld trainable tensors; grads %.1f MiB = trainable %.1f MiB; %lld frozen with a grad; optimizer %.1f MiB "
           "(2 x trainable: %s) -> %s", (long long)n_train, res->grads / MIB, res->trainable / MIB,
           (long long)frozen_grads, res->optim / MIB, res->optim == want_optim ? "yes" : "NO",
           res->ok ? "ok" : "FAILED");
}

/* Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
static double machine_busy_s(void) {
  unsigned long long v[8] = {0};
  FILE *f = fopen("/proc/stat", "r");
  if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                   &v[7]) != 8)
    v[0] = 0;
  if (f) fclose(f);
  return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU seconds of this process. */
static double own_cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
         1e-6 * (double)ru.ru_stime.tv_usec;
}

/* The median of n values (sorts them). */
static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof v[0], bench_cmp);
  return v[n / 2];
}

/* A stage in this (child) process: build, one warm-up step, `runs` timed
 * steps, then the figures. */
static int run_stage(const dims *dm0, const char *enc_dir, const char *llm_dir, int stage, int64_t B, int runs,
                     bool adamw, bool ckpt, result *res) {
  stage_run r = {0};
  dims dm = *dm0;
  sb_encoder_info ei = {.struct_size = sizeof ei};
  int rc = build(&r, enc_dir, llm_dir, stage, adamw, ckpt);
  if (rc == SB_OK) rc = ((const sb_encoder_vtable *)r.m.encoder.vtable)->describe(r.m.encoder.self, &ei);
  if (rc == SB_OK && ei.hidden_size != dm.d) rc = sb_error("encoder width %lld, expected %lld", (long long)ei.hidden_size, (long long)dm.d);
  dm.n_patch = ei.num_visual_tokens;
  if (rc == SB_OK) rc = make_batch(&r, &dm, B, ei.image_height);
  double ts[4][64];
  if (runs > 64) runs = 64;
  double busy0 = 0, own0 = 0, wall0 = 0;
  for (int i = -1; i < runs && rc == SB_OK; i++) {
    if (i == 0) busy0 = machine_busy_s(), own0 = own_cpu_s(), wall0 = bench_now();
    double t0 = bench_now();
    rc = step(&r);
    if (i < 0) { /* the warm-up: the loss before any optimizer step, whatever --runs */
      res->loss = r.loss;
      continue;
    }
    ts[0][i] = bench_now() - t0, ts[1][i] = r.t_fwd, ts[2][i] = r.t_bwd, ts[3][i] = r.t_opt;
  }
  if (rc == SB_OK) { /* others' CPU time as a share of the machine's cores while timed */
    double busy = machine_busy_s() - busy0 - (own_cpu_s() - own0);
    res->foreign = (busy > 0 ? busy : 0) / ((bench_now() - wall0) * (double)sysconf(_SC_NPROCESSORS_ONLN));
    res->step = median(ts[0], runs), res->fwd = median(ts[1], runs);
    res->bwd = median(ts[2], runs), res->opt = median(ts[3], runs);
    step_flop(&dm, stage, &res->gflop_fwd, &res->gflop_bwd);
    res->gflop_fwd *= (double)B / 1e9, res->gflop_bwd *= (double)B / 1e9;
    res->positions = r.positions, res->labelled = r.labelled;
    memory_check(&r, res);
    sb_memory_stats ms;
    sb_backend_memory_stats(sb_backend_cpu(), &ms);
    res->arena_peak_mb = (double)ms.peak / MIB;
    res->rss_mb = bench_peak_rss_mb();
  }
  return rc;
}

/* Runs fn(ctx, out) in a child process and copies its `size`-byte result
 * back through a pipe; SB_OK when the child succeeded. */
static int in_child(int (*fn)(void *, void *), void *ctx, void *out, size_t size) {
  int fd[2];
  if (pipe(fd)) return SB_ERR;
  fflush(stdout), fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    int rc = fn(ctx, out);
    if (rc) fprintf(stderr, "bench_train: %s\n", sb_error_message());
    ssize_t w = write(fd[1], out, size);
    _exit(rc == SB_OK && w == (ssize_t)size ? 0 : 1);
  }
  close(fd[1]);
  size_t got = 0;
  ssize_t n;
  while (pid > 0 && got < size && (n = read(fd[0], (char *)out + got, size - got)) > 0) got += (size_t)n;
  close(fd[0]);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) < 0) return SB_ERR;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 && got == size ? SB_OK : SB_ERR;
}

typedef struct job {
  const dims *dm;
  const char *enc_dir, *llm_dir;
  int stage, runs, threads;
  int64_t B, logit_budget;
  bool adamw, ckpt, unfused;
} job;

typedef struct env_info {
  double sgemm;
  char backend[256];
} env_info;

/* Child: the backend's description and the sgemm rate. */
static int env_child(void *ctx, void *out) {
  const job *j = ctx;
  env_info *e = out;
  if (j->threads) sb_set_num_threads(j->threads);
  snprintf(e->backend, sizeof e->backend, "%s", sb_backend_describe(sb_backend_cpu()));
  e->sgemm = bench_sgemm_rate();
  return SB_OK;
}

/* Child: one stage. */
static int stage_child(void *ctx, void *out) {
  const job *j = ctx;
  memset(out, 0, sizeof(result));
  if (j->threads) sb_set_num_threads(j->threads);
  if (j->logit_budget) sb_mm_set_logit_budget(j->logit_budget);
  sb_mm_set_fused_head(!j->unfused);
  return run_stage(j->dm, j->enc_dir, j->llm_dir, j->stage, j->B, j->runs, j->adamw, j->ckpt, out);
}

/* The two tables. */
static void print_tables(const result *res, const bool *done, int64_t B, double sgemm) {
  printf("\n%-7s %2s %8s %7s %7s %7s %9s %8s %7s %7s %7s %7s %6s %7s\n", "stage", "B", "step s", "fwd s", "bwd s", "opt s",
         "LLM tok/s", "images/s", "GF fwd", "GF bwd", "GF tot", "GFLOP/s", "sgemm", "others");
  for (int s = 0; s < 4; s++) {
    if (!done[s]) continue;
    const result *r = &res[s];
    double gf = r->gflop_fwd + r->gflop_bwd;
    printf("%-7s %2lld %8.3f %7.3f %7.3f %7.3f %9.1f %8.3f %7.1f %7.1f %7.1f %7.1f %5.0f%% %6.0f%%\n", k_stage_names[s],
           (long long)B, r->step, r->fwd, r->bwd, r->opt, (double)r->positions / r->step, (double)B / r->step,
           r->gflop_fwd, r->gflop_bwd, gf, gf / r->step, 100 * gf / r->step / sgemm, 100 * r->foreign);
  }
  printf("\n%-7s %2s %10s %10s %10s %10s %10s %10s %9s %8s\n", "stage", "B", "peak RSS", "arena peak", "weights",
         "trainable", "grads", "optimizer", "RSS/wts", "1st loss");
  for (int s = 0; s < 4; s++) {
    if (!done[s]) continue;
    const result *r = &res[s];
    printf("%-7s %2lld %6.0f MiB %6.0f MiB %6.0f MiB %6.1f MiB %6.1f MiB %6.1f MiB %9.2f %8.4f\n", k_stage_names[s],
           (long long)B, r->rss_mb, r->arena_peak_mb, r->weights / MIB, r->trainable / MIB, r->grads / MIB,
           r->optim / MIB, r->rss_mb * MIB / r->weights, r->loss);
  }
  printf("\n");
  for (int s = 0; s < 4; s++)
    if (done[s]) printf("%-7s frozen-buffers check: %s\n", k_stage_names[s], res[s].check);
}

int main(int argc, char **argv) {
  job j = {.runs = 5, .B = 1, .adamw = true, .stage = -1};
  bool demo = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--demo") == 0) demo = true;
    else if (strcmp(a, "--checkpointing") == 0) j.ckpt = true;
    else if (strcmp(a, "--unfused-head") == 0) j.unfused = true;
    else if (v && strcmp(a, "--runs") == 0) j.runs = atoi(v), i++;
    else if (v && strcmp(a, "--batch") == 0) j.B = atoll(v), i++;
    else if (v && strcmp(a, "--threads") == 0) j.threads = atoi(v), i++;
    else if (v && strcmp(a, "--logit-budget") == 0) j.logit_budget = atoll(v), i++;
    else if (v && strcmp(a, "--optim") == 0) j.adamw = strcmp(v, "none") != 0, i++;
    else if (v && strcmp(a, "--stage") == 0) {
      for (int s = 0; s < 4; s++)
        if (strcmp(v, k_stage_names[s]) == 0) j.stage = s;
      if (j.stage < 0) return fprintf(stderr, "bench_train: --stage %s: expected fwd|stage1|stage2|stage3\n", v), 1;
      i++;
    } else
      return fprintf(stderr, "usage: bench_train [--runs N] [--batch B] [--stage fwd|stage1|stage2|stage3] [--demo] "
                             "[--optim adamw|none] [--threads N] [--checkpointing] [--logit-budget FLOATS] "
                             "[--unfused-head]\n"), 1;
  }
  if (j.runs < 1 || j.B < 1) return fprintf(stderr, "bench_train: --runs and --batch must be 1 or more\n"), 1;
  char tmp[] = "/tmp/sb_bench_train_XXXXXX", enc[sizeof tmp + 16], llm[sizeof tmp + 16];
  if (!mkdtemp(tmp)) return 1;
  snprintf(enc, sizeof enc, "%s/encoder", tmp), snprintf(llm, sizeof llm, "%s/llm", tmp);
  j.dm = demo ? &k_demo : &k_full;
  j.enc_dir = demo ? SB_DEMO_CONFIGS "/encoder" : enc, j.llm_dir = demo ? SB_DEMO_CONFIGS "/llm" : llm;
  if (!demo && (write_file(enc, "config.json", k_dinov3_vits16) || write_file(llm, "config.json", k_qwen2_05b_4l)))
    return fprintf(stderr, "bench_train: %s\n", sb_error_message()), 1;
  env_info env;
  if (in_child(env_child, &j, &env, sizeof env)) return 1;
  printf("%s\n%s; sgemm 1024^3: %.1f GFLOP/s (the reference below)\n", j.dm->label, env.backend, env.sgemm);
  printf("%lld text tokens per sample, the image after %lld; optimizer: %s; gradient checkpointing %s; "
         "output layer %s; median of %d steps after 1 warm-up; each stage in its own process\n",
         (long long)j.dm->text, (long long)j.dm->prefix,
         j.adamw ? "AdamW (lr 1e-5, no clipping)" : "none (zero grads + forward + backward)", j.ckpt ? "on" : "off",
         j.unfused ? "and loss unfused" : "fused into the loss where frozen", j.runs);
  result res[4] = {0};
  bool done[4] = {0};
  int status = 0;
  for (int s = 0; s < 4; s++) {
    if (j.stage >= 0 && s != j.stage) continue;
    job js = j;
    js.stage = s;
    if (in_child(stage_child, &js, &res[s], sizeof res[s])) {
      fprintf(stderr, "bench_train: %s B=%lld failed\n", k_stage_names[s], (long long)j.B);
      status = 1;
      continue;
    }
    done[s] = true;
    if (!res[s].ok) status = 2;
  }
  print_tables(res, done, j.B, env.sgemm);
  char cmd[96];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
  if (system(cmd) != 0) status = status ? status : 1;
  if (status == 2) fprintf(stderr, "bench_train: a frozen weight holds a gradient or optimizer state\n");
  return status;
}
