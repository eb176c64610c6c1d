/* run_config.h — the core's own recipe keys: their schemas (so `plugins`-
 * style listings, validation and defaults work as for plugins) and the
 * structs the trainer reads them into. A stage recipe's top level:
 *
 *   name, output_dir, device, seed, threads   (sb_run_options)
 *   model: {encoder, projector, llm}          (each {plugin: NAME, ...options})
 *   data:  {plugin: NAME, ...options}
 *   loss:  {plugin: NAME, ...options}          (default loss_sft)
 *   train: {...}                               (sb_train_options) */
#ifndef SB_CORE_RUN_CONFIG_H
#define SB_CORE_RUN_CONFIG_H

#include "spatialboost/config.h"
#include "spatialboost/plugin.h"

#define SB_MAX_TRAINABLE 16
#define SB_MAX_PARAM_GROUPS 8

typedef struct sb_run_options {
  const char *name;
  const char *output_dir;
  const char *device;
  int64_t seed;
  int64_t threads;
} sb_run_options;

typedef struct sb_param_group_options {
  const char *match;
  double lr, weight_decay; /* < 0: the optimizer's */
} sb_param_group_options;

typedef struct sb_train_options {
  size_t n_trainable;
  const char *trainable[SB_MAX_TRAINABLE];
  const char *optimizer;          /* adamw | sgd */
  double lr, weight_decay, beta1, beta2, eps;
  size_t n_groups;
  sb_param_group_options groups[SB_MAX_PARAM_GROUPS];
  const char *schedule;           /* cosine | linear | constant */
  double warmup_ratio, min_lr_ratio;
  int64_t warmup_steps;
  int64_t batch_size, grad_accum, epochs, max_steps;
  double clip_grad_norm;
  int64_t checkpoint_every, checkpoint_keep, log_every;
  int64_t logit_chunk_rows;       /* 0: the multimodal forward's own rule */
  bool fuse_output_layer;         /* a frozen output layer goes into the loss */
} sb_train_options;

extern const sb_option sb_run_schema[];
extern const size_t sb_run_schema_len;
/* The core's keys inside the `data:` block (beside `plugin:` and the
 * dataset plugin's own options): loader and chat-template settings. */
extern const sb_option sb_data_schema[];
extern const size_t sb_data_schema_len;
extern const sb_option sb_train_schema[];
extern const size_t sb_train_schema_len;

/* Reads (and marks) the top-level run keys of root. */
int sb_run_options_read(const sb_config *root, sb_run_options *out);
/* Reads the `train:` block (absent: all defaults). */
int sb_train_options_read(const sb_config *root, sb_train_options *out);

#endif
