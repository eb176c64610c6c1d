/* run_config.c — schemas and readers for the core's own recipe keys (see
 * run_config.h). Defaults follow SpatialBoost's recipes (AdamW, weight decay
 * 0, cosine schedule with 3 % warmup). */
#include <string.h>

#include "recipe.h"
#include "run_config.h"

const sb_option sb_run_schema[] = {
    {"name", SB_OPTION_STRING, "run", "name of the run (used in messages and metadata)", NULL},
    {"output_dir", SB_OPTION_PATH, "runs/run", "folder for checkpoints, metrics and the resolved recipe", NULL},
    {"device", SB_OPTION_ENUM, "cpu", "backend to compute on", "cpu|cuda"},
    {"seed", SB_OPTION_INT, "0", "seed for initialisation, shuffling and sampling", NULL},
    {"threads", SB_OPTION_INT, "0", "cpu threads (0: all cores)", NULL},
    {"model", SB_OPTION_MAP, NULL, "encoder, projector and llm blocks, each {plugin: NAME, ...}", NULL},
    {"data", SB_OPTION_MAP, "{}", "dataset block {plugin: NAME, ...}", NULL},
    {"loss", SB_OPTION_MAP, "{plugin: loss_sft}", "loss block {plugin: NAME, ...}", NULL},
    {"train", SB_OPTION_MAP, NULL, "training options (see `spatialboost train --help`)", NULL},
    {"paths", SB_OPTION_MAP, "{}", "free values for ${paths.NAME} interpolation (never reported unused)", NULL},
};
const size_t sb_run_schema_len = sizeof sb_run_schema / sizeof sb_run_schema[0];

const sb_option sb_data_schema[] = {
    {"max_length", SB_OPTION_INT, "2048", "longest sequence in LLM positions (visual tokens included)", NULL},
    {"workers", SB_OPTION_INT, "2", "loader threads preparing batches ahead of training", NULL},
    {"prefetch", SB_OPTION_INT, "4", "batches prepared ahead", NULL},
    {"shuffle", SB_OPTION_BOOL, "true", "a seeded new order each epoch", NULL},
    {"system_prompt", SB_OPTION_STRING, "default",
     "system message when a sample has none: 'default' = the tokenizer's chat template's, '' = none", NULL},
    {"labels", SB_OPTION_ENUM, "assistant",
     "which tokens train: assistant replies and their <|im_end|>, or LLaVA-NeXT's Qwen rule",
     "assistant|llava_next"},
    {"tokenizer", SB_OPTION_PATH, "\"\"", "tokenizer.json or its folder ('' = the LLM's weights folder)", NULL},
};
const size_t sb_data_schema_len = sizeof sb_data_schema / sizeof sb_data_schema[0];

const sb_option sb_train_schema[] = {
    {"trainable", SB_OPTION_LIST, "[]",
     "what trains: components (projector), groups (encoder.dual) or globs on parameter names", NULL},
    {"optimizer.name", SB_OPTION_ENUM, "adamw", "optimizer", "adamw|sgd"},
    {"optimizer.lr", SB_OPTION_FLOAT, "2.0e-5", "peak learning rate", NULL},
    {"optimizer.weight_decay", SB_OPTION_FLOAT, "0.0", "decoupled weight decay (AdamW) or L2 (SGD)", NULL},
    {"optimizer.betas", SB_OPTION_LIST, "[0.9, 0.999]", "AdamW betas", NULL},
    {"optimizer.eps", SB_OPTION_FLOAT, "1.0e-8", "AdamW epsilon", NULL},
    {"optimizer.groups", SB_OPTION_LIST, "[]",
     "per-group overrides: [{match: GLOB, lr: X, weight_decay: Y}]", NULL},
    {"schedule.name", SB_OPTION_ENUM, "cosine", "learning-rate schedule", "cosine|linear|constant"},
    {"schedule.warmup_ratio", SB_OPTION_FLOAT, "0.03", "warmup as a fraction of all steps", NULL},
    {"schedule.warmup_steps", SB_OPTION_INT, "0", "warmup steps (overrides warmup_ratio when > 0)", NULL},
    {"schedule.min_lr_ratio", SB_OPTION_FLOAT, "0.0", "final learning rate as a fraction of the peak", NULL},
    {"batch_size", SB_OPTION_INT, "1", "samples per micro-batch", NULL},
    {"grad_accum", SB_OPTION_INT, "1", "micro-batches per optimizer step", NULL},
    {"epochs", SB_OPTION_INT, "1", "passes over the data", NULL},
    {"max_steps", SB_OPTION_INT, "0", "stop after this many optimizer steps (0: no limit)", NULL},
    {"clip_grad_norm", SB_OPTION_FLOAT, "1.0", "global gradient-norm clip (0: off)", NULL},
    {"checkpoint.every", SB_OPTION_INT, "500", "optimizer steps between checkpoints", NULL},
    {"checkpoint.keep", SB_OPTION_INT, "3", "checkpoints kept (the newest)", NULL},
    {"log_every", SB_OPTION_INT, "1", "optimizer steps between metric lines", NULL},
    {"logit_chunk_rows", SB_OPTION_INT, "0",
     "labelled tokens whose logits are computed at once where the output layer is not fused into the loss "
     "(0: automatic, 64 MB of logits but at least 2 x the LLM's width); fewer: less memory, more time", NULL},
    {"fuse_output_layer", SB_OPTION_BOOL, "true",
     "where the output layer is frozen and the llm and loss plugins allow it, compute the loss from hidden "
     "states one vocabulary block at a time (no [tokens, vocabulary] logits)", NULL},
};
const size_t sb_train_schema_len = sizeof sb_train_schema / sizeof sb_train_schema[0];

int sb_run_options_read(const sb_config *root, sb_run_options *o) {
  memset(o, 0, sizeof *o);
  const sb_config *c = sb_config_bind(root, "the recipe", sb_run_schema, sb_run_schema_len);
  if (!c) return SB_ERR;
  if (sb_config_get_string(c, "name", &o->name) || sb_config_get_path(c, "output_dir", &o->output_dir) ||
      sb_config_get_string(c, "device", &o->device) || sb_config_get_int(c, "seed", &o->seed) ||
      sb_config_get_int(c, "threads", &o->threads))
    return SB_ERR;
  /* values that exist to be interpolated: a stage may use only some */
  if (sb_config_has(root, "paths")) sb_config_mark_used(root, "paths");
  static const char *const devices[] = {"cpu", "cuda", NULL};
  int dev;
  if (sb_config_get_enum(c, "device", devices, &dev)) return SB_ERR;
  if (o->threads < 0) return sb_config_error(c, "threads", "expected 0 or more, got %lld", (long long)o->threads);
  return SB_OK;
}

static int read_groups(const sb_config *t, sb_train_options *o) {
  size_t n;
  if (sb_config_list_length(t, "optimizer.groups", &n)) return SB_ERR;
  if (n > SB_MAX_PARAM_GROUPS)
    return sb_config_error(t, "optimizer.groups", "%zu groups, at most %d", n, SB_MAX_PARAM_GROUPS);
  for (size_t i = 0; i < n; i++) {
    const sb_config *g = sb_config_list_map(t, "optimizer.groups", i);
    if (!g) return sb_config_error(t, "optimizer.groups", "item %zu is not a mapping {match, lr, weight_decay}", i);
    sb_param_group_options *pg = &o->groups[i];
    pg->lr = pg->weight_decay = -1.0;
    if (sb_config_get_string(g, "match", &pg->match)) return SB_ERR;
    if (sb_config_has(g, "lr") && sb_config_get_float(g, "lr", &pg->lr)) return SB_ERR;
    if (sb_config_has(g, "weight_decay") && sb_config_get_float(g, "weight_decay", &pg->weight_decay))
      return SB_ERR;
  }
  o->n_groups = n;
  return SB_OK;
}

static int check_ranges(const sb_config *t, const sb_train_options *o) {
  if (o->lr < 0) return sb_config_error(t, "optimizer.lr", "must not be negative");
  if (o->batch_size < 1) return sb_config_error(t, "batch_size", "expected 1 or more");
  if (o->grad_accum < 1) return sb_config_error(t, "grad_accum", "expected 1 or more");
  if (o->epochs < 1 && o->max_steps < 1) return sb_config_error(t, "epochs", "expected 1 or more (or set max_steps)");
  if (o->warmup_ratio < 0 || o->warmup_ratio > 1) return sb_config_error(t, "schedule.warmup_ratio", "expected 0 to 1");
  if (o->beta1 < 0 || o->beta1 >= 1 || o->beta2 < 0 || o->beta2 >= 1)
    return sb_config_error(t, "optimizer.betas", "each beta must be in [0, 1)");
  if (o->checkpoint_every < 1 || o->checkpoint_keep < 1)
    return sb_config_error(t, "checkpoint", "every and keep must be 1 or more");
  if (o->logit_chunk_rows < 0)
    return sb_config_error(t, "logit_chunk_rows", "%lld; expected 0 (automatic) or more", (long long)o->logit_chunk_rows);
  return SB_OK;
}

int sb_train_options_read(const sb_config *root, sb_train_options *o) {
  memset(o, 0, sizeof *o);
  const sb_config *raw = sb_config_get_map(root, "train");
  static const char *const opts[] = {"adamw", "sgd", NULL}, *const sched[] = {"cosine", "linear", "constant", NULL};
  int opt_i, sched_i;
  if (!raw) return sb_config_error(root, "train", "the recipe has no train: block");
  const sb_config *t = sb_config_bind(raw, "train", sb_train_schema, sb_train_schema_len);
  if (!t || sb_config_get_enum(t, "optimizer.name", opts, &opt_i) ||
      sb_config_get_float(t, "optimizer.lr", &o->lr) ||
      sb_config_get_float(t, "optimizer.weight_decay", &o->weight_decay) ||
      sb_config_list_float(t, "optimizer.betas", 0, &o->beta1) ||
      sb_config_list_float(t, "optimizer.betas", 1, &o->beta2) ||
      sb_config_get_float(t, "optimizer.eps", &o->eps) || sb_config_get_enum(t, "schedule.name", sched, &sched_i) ||
      sb_config_get_float(t, "schedule.warmup_ratio", &o->warmup_ratio) ||
      sb_config_get_int(t, "schedule.warmup_steps", &o->warmup_steps) ||
      sb_config_get_float(t, "schedule.min_lr_ratio", &o->min_lr_ratio) ||
      sb_config_get_int(t, "batch_size", &o->batch_size) || sb_config_get_int(t, "grad_accum", &o->grad_accum) ||
      sb_config_get_int(t, "epochs", &o->epochs) || sb_config_get_int(t, "max_steps", &o->max_steps) ||
      sb_config_get_float(t, "clip_grad_norm", &o->clip_grad_norm) ||
      sb_config_get_int(t, "checkpoint.every", &o->checkpoint_every) ||
      sb_config_get_int(t, "checkpoint.keep", &o->checkpoint_keep) ||
      sb_config_get_int(t, "log_every", &o->log_every) ||
      sb_config_get_int(t, "logit_chunk_rows", &o->logit_chunk_rows) ||
      sb_config_get_bool(t, "fuse_output_layer", &o->fuse_output_layer))
    return SB_ERR;
  o->optimizer = opts[opt_i], o->schedule = sched[sched_i];
  size_t n;
  if (sb_config_list_length(t, "trainable", &n)) return SB_ERR;
  if (n > SB_MAX_TRAINABLE) return sb_config_error(t, "trainable", "%zu entries, at most %d", n, SB_MAX_TRAINABLE);
  for (size_t i = 0; i < n; i++)
    if (sb_config_list_string(t, "trainable", i, &o->trainable[i])) return SB_ERR;
  o->n_trainable = n;
  if (read_groups(t, o)) return SB_ERR;
  return check_ranges(t, o);
}
