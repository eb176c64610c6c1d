/* optim.h — optimizers over the parameter store's trainable parameters:
 * AdamW (PyTorch semantics: decoupled decay, bias correction) and SGD, with
 * per-group learning rate and weight decay chosen by name patterns. State
 * (the moments) exists only for trainable parameters and is keyed by name,
 * so checkpoints save and restore it exactly. */
#ifndef SB_CORE_OPTIM_H
#define SB_CORE_OPTIM_H

#include "param_store.h"
#include "run_config.h"
#include "spatialboost/safetensors.h"

typedef struct sb_optim sb_optim;

sb_optim *sb_optim_new(sb_param_store *store, const sb_train_options *t);
void sb_optim_free(sb_optim *o);
/* One update of every trainable parameter that has a gradient, with the
 * schedule's learning rate for this step (lr_scale · each group's lr). */
int sb_optim_step(sb_optim *o, double lr_scale);
/* Optimizer steps taken so far. */
int64_t sb_optim_steps(const sb_optim *o);
/* The peak learning rate of the parameter's group. */
double sb_optim_lr(const sb_optim *o, const char *name);
/* Moments to and from a safetensors writer/file ("<name>.exp_avg",
 * "<name>.exp_avg_sq"); load checks every trainable parameter is there. */
int sb_optim_save(const sb_optim *o, sb_st_writer *w);
int sb_optim_load(sb_optim *o, const sb_safetensors *f, int64_t steps);
/* Bytes of optimizer state held. */
size_t sb_optim_state_bytes(const sb_optim *o);

/* Global L2 norm of the trainable gradients; scales them so the norm is at
 * most max_norm when max_norm > 0 (PyTorch's clip_grad_norm_). Returns the
 * norm before clipping, or a negative value on error. */
double sb_clip_grad_norm(sb_param_store *store, double max_norm);
/* Sets every trainable gradient to zero (keeping the buffers). */
void sb_zero_grads(sb_param_store *store);

/* The learning-rate multiplier of step (0-based) out of total steps:
 * linear warmup, then cosine / linear decay to min_ratio, or constant. */
double sb_schedule_scale(const sb_train_options *t, int64_t step, int64_t total);

#endif
