/* trainer.c — one training stage (trainer.h). */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "loader.h"
#include "mm_forward.h"
#include "outputs.h"
#include "run_config.h"
#include "spatialboost/spatialboost.h"
#include "trainer.h"
#include "util.h"

#define IMAGE_TOKEN (-200)

static volatile sig_atomic_t g_interrupted;
static void on_sigint(int sig) {
  (void)sig;
  g_interrupted = 1;
}

typedef struct trainer {
  sb_recipe *r;
  sb_run_options run;
  sb_train_options t;
  sb_model m;
  sb_tokenizer *tok;
  sb_loader *loader;
  sb_optim *opt;
  sb_train_state st;
  int64_t total_steps, first_step;
  FILE *metrics;
  bool tty;
  double started, data_wait, step_time;
  const char *label;
} trainer;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- setup ---- */

static int open_tokenizer(trainer *tr) {
  const char *path = NULL, *llm_weights = NULL;
  if (sb_config_get_path(tr->m.data.options, "tokenizer", &path)) return SB_ERR;
  if (!path[0]) {
    if (sb_config_get_path(tr->m.llm.options, "weights", &llm_weights)) return SB_ERR;
    path = llm_weights;
  }
  tr->tok = sb_tokenizer_load(path);
  return tr->tok ? SB_OK : sb_error_prefix("tokenizer (data.tokenizer, or the LLM's folder)");
}

static int loader_options(trainer *tr, sb_loader_opts *o) {
  const sb_config *d = tr->m.data.options;
  int64_t max_length, workers, prefetch;
  bool shuffle;
  const char *system;
  int labels;
  static const char *const rules[] = {"assistant", "llava_next", NULL};
  if (sb_config_get_int(d, "max_length", &max_length) || sb_config_get_int(d, "workers", &workers) ||
      sb_config_get_int(d, "prefetch", &prefetch) || sb_config_get_bool(d, "shuffle", &shuffle) ||
      sb_config_get_string(d, "system_prompt", &system) || sb_config_get_enum(d, "labels", rules, &labels))
    return SB_ERR;
  sb_encoder_info info = {.struct_size = sizeof info};
  if (tr->m.encoder.self && ((const sb_encoder_vtable *)tr->m.encoder.vtable)->describe(tr->m.encoder.self, &info))
    return SB_ERR;
  sb_llm_info li = {.struct_size = sizeof li};
  if (((const sb_llm_vtable *)tr->m.llm.vtable)->describe(tr->m.llm.self, &li)) return SB_ERR;
  int64_t pad = li.pad_token_id >= 0 ? li.pad_token_id : sb_tokenizer_token_id(tr->tok, "<|endoftext|>");
  *o = (sb_loader_opts){.batch_size = tr->t.batch_size, .epochs = tr->t.max_steps > 0 ? 0 : tr->t.epochs,
                        .seed = (uint64_t)tr->run.seed, .shuffle = shuffle, .workers = (int)workers,
                        .prefetch = (int)prefetch, .pad_token_id = pad < 0 ? 0 : pad,
                        .chat = {strcmp(system, "default") == 0 ? NULL : system, IMAGE_TOKEN,
                                 info.num_visual_tokens > 0 ? info.num_visual_tokens : 1, max_length,
                                 (sb_label_rule)labels}};
  return SB_OK;
}

static int apply_trainable(trainer *tr) {
  for (size_t i = 0; i < tr->t.n_trainable; i++)
    if (sb_param_store_set_trainable(tr->m.store, tr->t.trainable[i], true) == 0)
      return sb_config_error(sb_config_get_map(sb_recipe_root(tr->r), "train"), "trainable",
                             "'%s' matches no parameter (components: encoder, projector, llm; groups like "
                             "encoder.dual; or a glob)", tr->t.trainable[i]);
  if (sb_param_store_numel(tr->m.store, true) == 0)
    return sb_config_error(sb_recipe_root(tr->r), "train", "nothing trains: list components or groups in train.trainable");
  return SB_OK;
}

static int write_recipe(trainer *tr) {
  char *yaml = sb_recipe_to_yaml(tr->r), *path = sb_path_join(tr->run.output_dir, "recipe.yaml");
  int rc = yaml && path ? SB_OK : SB_ERR;
  FILE *f = rc == SB_OK ? fopen(path, "w") : NULL;
  if (rc == SB_OK && (!f || fputs(yaml, f) < 0)) rc = sb_error_set(SB_ERR_IO, "%s: cannot write", path);
  if (f) fclose(f);
  free(yaml), free(path);
  return rc;
}

static int setup(trainer *tr, const sb_stage_opts *o) {
  const sb_config *root = sb_recipe_root(tr->r);
  int rc = sb_run_options_read(root, &tr->run);
  if (rc == SB_OK) rc = sb_train_options_read(root, &tr->t);
  if (rc == SB_OK && tr->run.threads) sb_set_num_threads((int)tr->run.threads);
  if (rc == SB_OK) sb_mm_set_logit_rows(tr->t.logit_chunk_rows), sb_mm_set_fused_head(tr->t.fuse_output_layer);
  if (rc == SB_OK && strcmp(tr->run.device, "cpu") != 0)
    rc = sb_config_error(root, "device", "training on '%s' needs its backend plugin, which this build does not have",
                         tr->run.device);
  if (rc == SB_OK) rc = sb_model_build(&tr->m, root, (uint64_t)tr->run.seed, SB_MODEL_CREATE);
  if (rc == SB_OK && (!tr->m.llm.self || !tr->m.data.self))
    rc = sb_config_error(root, tr->m.llm.self ? "data" : "model", "training needs %s",
                         tr->m.llm.self ? "a data: block with a dataset plugin" : "an llm in model:");
  if (rc == SB_OK) rc = apply_trainable(tr);
  if (rc == SB_OK) rc = open_tokenizer(tr);
  sb_loader_opts lo;
  if (rc == SB_OK) rc = loader_options(tr, &lo);
  if (rc == SB_OK) rc = sb_recipe_check_unused(tr->r);
  if (rc == SB_OK) rc = sb_path_mkdirs(tr->run.output_dir);
  if (rc == SB_OK && !(tr->opt = sb_optim_new(tr->m.store, &tr->t))) rc = SB_ERR;
  char *ckpt = rc == SB_OK && o->resume ? sb_checkpoint_latest(tr->run.output_dir) : NULL;
  if (rc == SB_OK && o->resume && !ckpt)
    rc = sb_error("--resume: %s holds no checkpoint", tr->run.output_dir);
  if (rc == SB_OK && ckpt) rc = sb_checkpoint_load(ckpt, &tr->m, tr->opt, &tr->st);
  if (rc == SB_OK && ckpt) printf("%s: resuming from %s (step %lld)\n", tr->label, ckpt, (long long)tr->st.step);
  free(ckpt);
  if (rc == SB_OK) rc = write_recipe(tr);
  if (rc == SB_OK) {
    tr->loader = sb_loader_new(&tr->m.data, &tr->m.encoder, tr->tok, &lo, tr->st.step ? &tr->st.loader : NULL);
    if (!tr->loader) rc = SB_ERR;
  }
  if (rc == SB_OK) {
    int64_t per_epoch = (sb_loader_batches_per_epoch(tr->loader) + tr->t.grad_accum - 1) / tr->t.grad_accum;
    tr->total_steps = tr->t.max_steps > 0 ? tr->t.max_steps : tr->t.epochs * per_epoch;
  }
  return rc;
}

/* ---- one optimizer step ---- */

typedef struct step_stats {
  double loss, grad_norm;
  int64_t positions, images, labelled;
  double wait;
} step_stats;

static int micro_batch(trainer *tr, sb_loader_batch *b, int64_t num_items, step_stats *s) {
  sb_scope_begin();
  sb_mm_batch mb = {.image_token_id = IMAGE_TOKEN, .images = b->images};
  int64_t shape[2] = {b->B, b->S};
  mb.input_ids = sb_tensor_from_host(SB_DTYPE_I64, 2, shape, b->ids);
  mb.labels = sb_tensor_from_host(SB_DTYPE_I64, 2, shape, b->labels);
  mb.attention_mask = sb_tensor_from_host(SB_DTYPE_I64, 2, shape, b->mask);
  sb_mm_output out;
  int rc = sb_mm_forward(&tr->m, &mb, 0, num_items, &out);
  float loss = 0;
  if (rc == SB_OK) rc = sb_tensor_item(out.loss, &loss);
  if (rc == SB_OK && !isfinite(loss)) rc = sb_error("the loss is %f (diverged?)", loss);
  if (rc == SB_OK) rc = sb_backward(out.loss, NULL);
  if (rc == SB_OK) {
    s->loss += loss;
    s->positions += sb_tensor_dim(out.attention_mask, 0) * sb_tensor_dim(out.attention_mask, 1);
    s->images += b->images.pixel_values ? sb_tensor_dim(b->images.pixel_values, 0) : 0;
  }
  sb_tape_clear();
  sb_scope_end();
  return rc;
}

/* Reads up to grad_accum batches; 0 when the data has ended. */
static int gather(trainer *tr, sb_loader_batch *bs, int *n, int64_t *num_items, step_stats *s) {
  *n = 0, *num_items = 0;
  while (*n < tr->t.grad_accum) {
    int rc = sb_loader_next(tr->loader, &bs[*n]);
    if (rc == SB_LOADER_END) break;
    if (rc) return rc;
    *num_items += bs[*n].n_labelled;
    s->wait += bs[*n].wait_seconds;
    (*n)++;
  }
  return SB_OK;
}

static int train_step(trainer *tr, step_stats *s, bool *ended) {
  sb_loader_batch bs[64];
  int n = 0, rc;
  int64_t num_items;
  memset(s, 0, sizeof *s);
  if (tr->t.grad_accum > 64) return sb_error("grad_accum %lld: at most 64", (long long)tr->t.grad_accum);
  if ((rc = gather(tr, bs, &n, &num_items, s))) return rc;
  if (n == 0) {
    *ended = true;
    return SB_OK;
  }
  s->labelled = num_items;
  sb_zero_grads(tr->m.store);
  for (int i = 0; i < n && rc == SB_OK; i++) rc = micro_batch(tr, &bs[i], num_items, s);
  for (int i = 0; i < n; i++) sb_loader_batch_free(&bs[i]);
  if (rc) return rc;
  s->grad_norm = sb_clip_grad_norm(tr->m.store, tr->t.clip_grad_norm);
  if (s->grad_norm < 0) return sb_error_prefix("gradient norm");
  double scale = sb_schedule_scale(&tr->t, tr->st.step, tr->total_steps);
  if ((rc = sb_optim_step(tr->opt, scale))) return rc;
  tr->st.step++;
  tr->st.loader = sb_loader_state_get(tr->loader);
  tr->st.loss = s->loss;
  return SB_OK;
}

/* ---- reporting ---- */

static void report(trainer *tr, const step_stats *s, double dt) {
  double lr = tr->t.lr * sb_schedule_scale(&tr->t, tr->st.step - 1, tr->total_steps);
  if (tr->metrics) {
    fprintf(tr->metrics,
            "{\"step\": %lld, \"epoch\": %lld, \"loss\": %.6f, \"lr\": %.6g, \"grad_norm\": %.6g, "
            "\"tokens_per_s\": %.1f, \"images_per_s\": %.2f, \"data_wait\": %.4f, \"step_s\": %.4f, "
            "\"labelled\": %lld}\n",
            (long long)tr->st.step, (long long)tr->st.loader.epoch, s->loss, lr, s->grad_norm,
            (double)s->positions / dt, (double)s->images / dt, s->wait / dt, dt, (long long)s->labelled);
    fflush(tr->metrics);
  }
  int64_t done = tr->st.step - tr->first_step, left = tr->total_steps - tr->st.step;
  double elapsed = now() - tr->started, eta = done ? elapsed / (double)done * (double)left : 0;
  if (tr->tty) {
    int width = 30, filled = (int)(width * (double)tr->st.step / (double)(tr->total_steps ? tr->total_steps : 1));
    fprintf(stderr, "\r%s [%.*s%.*s] %lld/%lld loss %.4f lr %.2e %.0f tok/s ETA %02d:%02d ", tr->label, filled,
            "##############################", width - filled, "..............................",
            (long long)tr->st.step, (long long)tr->total_steps, s->loss, lr, (double)s->positions / dt,
            (int)(eta / 60), (int)eta % 60);
    fflush(stderr);
  } else if (tr->t.log_every > 0 && (tr->st.step % tr->t.log_every == 0 || left == 0)) {
    printf("%s step %lld/%lld loss %.4f lr %.3g grad_norm %.3g %.0f tok/s data wait %.1f%%\n", tr->label,
           (long long)tr->st.step, (long long)tr->total_steps, s->loss, lr, s->grad_norm, (double)s->positions / dt,
           100.0 * s->wait / dt);
    fflush(stdout);
  }
}

static int checkpoint(trainer *tr) {
  return sb_checkpoint_save(tr->run.output_dir, &tr->m, tr->opt, &tr->st, tr->t.checkpoint_keep, tr->run.name);
}

static int loop(trainer *tr, int64_t stop_after) {
  int rc = SB_OK;
  bool ended = false;
  tr->first_step = tr->st.step;
  tr->started = now();
  while (rc == SB_OK && tr->st.step < tr->total_steps && !ended && !g_interrupted) {
    step_stats s;
    double t0 = now();
    rc = train_step(tr, &s, &ended);
    if (rc || ended) break;
    double dt = now() - t0;
    tr->data_wait += s.wait, tr->step_time += dt;
    report(tr, &s, dt);
    if (tr->st.step % tr->t.checkpoint_every == 0 && tr->st.step < tr->total_steps) rc = checkpoint(tr);
    if (stop_after > 0 && tr->st.step - tr->first_step >= stop_after && tr->st.step < tr->total_steps)
      g_interrupted = 1;
  }
  if (tr->tty) fprintf(stderr, "\n");
  if (rc == SB_OK) rc = checkpoint(tr); /* the end, or an interruption: always resumable */
  return rc;
}

static void teardown(trainer *tr) {
  sb_loader_free(tr->loader);
  sb_optim_free(tr->opt);
  sb_tokenizer_free(tr->tok);
  sb_model_free(&tr->m);
  if (tr->metrics) fclose(tr->metrics);
}

int sb_stage_train(sb_recipe *r, const sb_stage_opts *o) {
  trainer tr;
  memset(&tr, 0, sizeof tr);
  tr.r = r, tr.label = o->label ? o->label : "train", tr.tty = isatty(STDERR_FILENO);
  int rc = setup(&tr, o);
  char *mpath = rc == SB_OK ? sb_path_join(tr.run.output_dir, "metrics.jsonl") : NULL;
  if (mpath && !(tr.metrics = fopen(mpath, o->resume ? "a" : "w"))) rc = sb_error_set(SB_ERR_IO, "%s: cannot write", mpath);
  free(mpath);
  struct sigaction sa = {0}, old;
  sa.sa_handler = on_sigint;
  g_interrupted = 0;
  sigaction(SIGINT, &sa, &old);
  if (rc == SB_OK) {
    printf("%s: %lld steps of %lld x %lld samples, %lld trainable parameters -> %s\n", tr.label,
           (long long)tr.total_steps, (long long)tr.t.batch_size, (long long)tr.t.grad_accum,
           (long long)sb_param_store_numel(tr.m.store, true), tr.run.output_dir);
    rc = loop(&tr, o->stop_after);
  }
  sigaction(SIGINT, &old, NULL);
  if (rc == SB_OK && g_interrupted) {
    fprintf(stderr, "%s: interrupted at step %lld; checkpoint written, continue with --resume\n", tr.label,
            (long long)tr.st.step);
    rc = SB_TRAIN_INTERRUPTED;
  } else if (rc == SB_OK) {
    rc = sb_outputs_write(tr.run.output_dir, &tr.m);
    if (rc == SB_OK)
      printf("%s: done, %lld steps, loss %.4f, data wait %.1f%% of step time; outputs in %s/final\n", tr.label,
             (long long)tr.st.step, tr.st.loss, tr.step_time > 0 ? 100.0 * tr.data_wait / tr.step_time : 0.0,
             tr.run.output_dir);
  }
  teardown(&tr);
  return rc;
}
