/* optim.c — AdamW and SGD over trainable parameters, gradient clipping and
 * the learning-rate schedule (optim.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "optim.h"
#include "spatialboost/spatialboost.h"
#include "tensor_impl.h"
#include "util.h"

typedef struct slot {
  sb_param *p;
  sb_tensor *m, *v; /* AdamW moments (NULL for SGD) */
  double lr, wd;
} slot;

struct sb_optim {
  sb_param_store *store;
  bool adamw;
  double beta1, beta2, eps;
  int64_t steps;
  size_t n;
  slot *slots;
};

/* The group of a parameter: the first `groups` entry whose pattern matches,
 * else the optimizer's defaults. */
static void group_of(const sb_train_options *t, const sb_param *p, double *lr, double *wd) {
  *lr = t->lr, *wd = t->weight_decay;
  for (size_t g = 0; g < t->n_groups; g++) {
    if (!sb_glob_match(t->groups[g].match, p->name)) continue;
    if (t->groups[g].lr >= 0) *lr = t->groups[g].lr;
    if (t->groups[g].weight_decay >= 0) *wd = t->groups[g].weight_decay;
    return;
  }
}

sb_optim *sb_optim_new(sb_param_store *store, const sb_train_options *t) {
  sb_optim *o = sb_calloc(1, sizeof *o);
  if (!o) return NULL;
  o->store = store;
  o->adamw = strcmp(t->optimizer, "adamw") == 0;
  o->beta1 = t->beta1, o->beta2 = t->beta2, o->eps = t->eps;
  size_t count = 0;
  for (size_t i = 0; i < sb_param_store_count(store); i++) count += sb_param_store_at(store, i)->trainable;
  o->slots = sb_calloc(count + 1, sizeof *o->slots);
  if (!o->slots) {
    free(o);
    return NULL;
  }
  for (size_t i = 0; i < sb_param_store_count(store); i++) {
    sb_param *p = sb_param_store_at(store, i);
    if (!p->trainable) continue; /* frozen weights get no state at all */
    slot *s = &o->slots[o->n++];
    s->p = p;
    group_of(t, p, &s->lr, &s->wd);
    if (o->adamw) {
      const sb_tensor *w = p->tensor;
      s->m = sb_tensor_zeros_on(w->storage->backend, SB_DTYPE_F32, w->ndim, w->shape);
      s->v = sb_tensor_zeros_on(w->storage->backend, SB_DTYPE_F32, w->ndim, w->shape);
      if (sb_scope_depth() > 0) sb_tensor_retain(s->m), sb_tensor_retain(s->v);
      if (!s->m || !s->v) {
        sb_optim_free(o);
        return NULL;
      }
    }
  }
  return o;
}

void sb_optim_free(sb_optim *o) {
  if (!o) return;
  for (size_t i = 0; i < o->n; i++) sb_tensor_release(o->slots[i].m), sb_tensor_release(o->slots[i].v);
  free(o->slots);
  free(o);
}

int64_t sb_optim_steps(const sb_optim *o) { return o->steps; }

double sb_optim_lr(const sb_optim *o, const char *name) {
  for (size_t i = 0; i < o->n; i++)
    if (strcmp(o->slots[i].p->name, name) == 0) return o->slots[i].lr;
  return 0;
}

int sb_optim_step(sb_optim *o, double lr_scale) {
  o->steps++;
  const double bc1 = 1.0 - pow(o->beta1, (double)o->steps), bc2 = 1.0 - pow(o->beta2, (double)o->steps);
  for (size_t i = 0; i < o->n; i++) {
    slot *s = &o->slots[i];
    sb_tensor *w = s->p->tensor, *g = sb_tensor_grad(w);
    if (!g) continue; /* no gradient reached it this step */
    sb_backend *be = w->storage->backend;
    int64_t n = sb_tensor_numel(w);
    float lr = (float)(s->lr * lr_scale);
    int rc;
    if (o->adamw) {
      sb_kp_adamw k = {n, lr, (float)o->beta1, (float)o->beta2, (float)o->eps, (float)s->wd, (float)bc1, (float)bc2};
      sb_kbuf b[4] = {sb_kbuf_of(w, SB_ACCESS_INOUT), sb_kbuf_of(g, SB_ACCESS_IN), sb_kbuf_of(s->m, SB_ACCESS_INOUT),
                      sb_kbuf_of(s->v, SB_ACCESS_INOUT)};
      rc = sb_run(be, SB_K_ADAMW, &k, 4, b);
    } else {
      sb_kp_sgd k = {n, lr, (float)s->wd};
      sb_kbuf b[2] = {sb_kbuf_of(w, SB_ACCESS_INOUT), sb_kbuf_of(g, SB_ACCESS_IN)};
      rc = sb_run(be, SB_K_SGD, &k, 2, b);
    }
    if (rc) return sb_error_prefix("optimizer step of '%s'", s->p->name);
  }
  return SB_OK;
}

int sb_optim_save(const sb_optim *o, sb_st_writer *w) {
  char name[600];
  for (size_t i = 0; i < o->n && o->adamw; i++) {
    snprintf(name, sizeof name, "%s.exp_avg", o->slots[i].p->name);
    if (sb_st_writer_add_tensor(w, name, o->slots[i].m)) return SB_ERR;
    snprintf(name, sizeof name, "%s.exp_avg_sq", o->slots[i].p->name);
    if (sb_st_writer_add_tensor(w, name, o->slots[i].v)) return SB_ERR;
  }
  return SB_OK;
}

static int load_moment(const sb_safetensors *f, const char *name, sb_tensor *dst) {
  const sb_st_tensor *t = sb_safetensors_find(f, name);
  if (!t) return sb_error("optimizer state lacks '%s'", name);
  if (t->dtype != SB_DTYPE_F32 || (int64_t)t->nbytes != sb_tensor_numel(dst) * 4)
    return sb_error("optimizer state '%s' does not match its parameter's shape", name);
  void *tmp = sb_malloc(t->nbytes);
  if (!tmp) return SB_ERR_NOMEM;
  memcpy(tmp, t->data, t->nbytes);
  int rc = sb_tensor_assign_host(dst, tmp, SB_DTYPE_F32);
  free(tmp);
  return rc;
}

int sb_optim_load(sb_optim *o, const sb_safetensors *f, int64_t steps) {
  char name[600];
  for (size_t i = 0; i < o->n && o->adamw; i++) {
    snprintf(name, sizeof name, "%s.exp_avg", o->slots[i].p->name);
    if (load_moment(f, name, o->slots[i].m)) return SB_ERR;
    snprintf(name, sizeof name, "%s.exp_avg_sq", o->slots[i].p->name);
    if (load_moment(f, name, o->slots[i].v)) return SB_ERR;
  }
  o->steps = steps;
  return SB_OK;
}

size_t sb_optim_state_bytes(const sb_optim *o) {
  size_t b = 0;
  for (size_t i = 0; i < o->n; i++)
    if (o->slots[i].m) b += 2 * sb_tensor_nbytes(o->slots[i].m);
  return b;
}

double sb_clip_grad_norm(sb_param_store *store, double max_norm) {
  double total = 0.0;
  sb_scope_begin();
  sb_grad_push(false);
  for (size_t i = 0; i < sb_param_store_count(store); i++) {
    sb_tensor *g = sb_tensor_grad(sb_param_store_at(store, i)->tensor);
    float sq;
    if (!g) continue;
    if (sb_tensor_item(sb_op_sum_all(sb_op_square(g)), &sq)) {
      total = -1.0;
      break;
    }
    total += sq;
  }
  double norm = total < 0 ? -1.0 : sqrt(total);
  double coef = max_norm / (norm + 1e-6);
  if (norm >= 0 && max_norm > 0 && coef < 1.0) {
    for (size_t i = 0; i < sb_param_store_count(store); i++) {
      sb_tensor *g = sb_tensor_grad(sb_param_store_at(store, i)->tensor);
      if (g && sb_tensor_assign(g, sb_op_scale(g, (float)coef))) norm = -1.0;
    }
  }
  sb_grad_pop();
  sb_scope_end();
  return norm;
}

void sb_zero_grads(sb_param_store *store) {
  for (size_t i = 0; i < sb_param_store_count(store); i++) sb_tensor_zero_grad(sb_param_store_at(store, i)->tensor);
}

/* As Hugging Face's get_{cosine,linear,constant}_schedule_with_warmup: the
 * update at step s (0-based) uses scale(s), so the first warmup update has
 * a learning rate of 0. */
double sb_schedule_scale(const sb_train_options *t, int64_t step, int64_t total) {
  int64_t warmup = t->warmup_steps > 0 ? t->warmup_steps : (int64_t)ceil(t->warmup_ratio * (double)total);
  if (step < warmup) return (double)step / (double)warmup;
  if (strcmp(t->schedule, "constant") == 0 || total <= warmup) return 1.0;
  double progress = (double)(step - warmup) / (double)(total - warmup), floor = t->min_lr_ratio;
  if (progress > 1.0) progress = 1.0;
  if (strcmp(t->schedule, "linear") == 0) return floor + (1.0 - floor) * (1.0 - progress);
  return floor + (1.0 - floor) * 0.5 * (1.0 + cos(M_PI * progress)); /* cosine */
}
