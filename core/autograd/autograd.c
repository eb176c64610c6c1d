/* autograd.c — the tape, grad mode, node bookkeeping and the backward engine
 * (sdk autograd.h). */
#include <stdlib.h>
#include <string.h>

#include "autograd_impl.h"
#include "grad_accum.h"
#include "spatialboost/ops.h"
#include "util.h"

typedef struct sb_tape {
  sb_ptrvec nodes; /* in recording order; each retained */
} sb_tape;

#define SB_MAX_TAPES 16
#define SB_MAX_GRAD_MODES 64

static _Thread_local sb_tape g_tapes[SB_MAX_TAPES];
static _Thread_local int g_tape_depth; /* index of the current tape */
static _Thread_local bool g_grad_stack[SB_MAX_GRAD_MODES];
static _Thread_local int g_grad_depth;
static _Thread_local bool g_grad_disabled; /* top of the stack, inverted so 0 = on */

static sb_tape *tape_current(void) { return &g_tapes[g_tape_depth]; }

bool sb_grad_enabled(void) { return !g_grad_disabled; }

void sb_grad_push(bool enabled) {
  if (g_grad_depth < SB_MAX_GRAD_MODES) g_grad_stack[g_grad_depth] = !g_grad_disabled;
  g_grad_depth++;
  g_grad_disabled = !enabled;
}

void sb_grad_pop(void) {
  if (g_grad_depth == 0) return;
  g_grad_depth--;
  if (g_grad_depth < SB_MAX_GRAD_MODES) g_grad_disabled = !g_grad_stack[g_grad_depth];
}

static bool tensor_needs_grad(const sb_tensor *t) {
  return t && (t->requires_grad || t->grad_fn != NULL);
}

bool sb_tensor_requires_grad(const sb_tensor *t) { return tensor_needs_grad(t); }

int sb_tensor_set_requires_grad(sb_tensor *t, bool requires_grad) {
  if (!t) return SB_ERR;
  if (t->grad_fn)
    return sb_error("set_requires_grad: '%s' is the result of an op, not a leaf",
                    sb_tensor_name(t));
  if (requires_grad && !sb_dtype_is_float(t->dtype))
    return sb_error("set_requires_grad: '%s' is %s; only float tensors take gradients",
                    sb_tensor_name(t), sb_dtype_name(t->dtype));
  t->requires_grad = requires_grad;
  return SB_OK;
}

sb_tensor *sb_tensor_grad(const sb_tensor *t) { return t ? t->grad : NULL; }

void sb_tensor_zero_grad(sb_tensor *t) {
  if (t && t->grad) sb_tensor_fill(t->grad, 0.0);
}

void sb_tensor_free_grad(sb_tensor *t) {
  if (!t) return;
  sb_tensor_release(t->grad);
  t->grad = NULL;
}

sb_tensor *sb_tensor_detach(sb_tensor *t) {
  if (!t) return NULL;
  return sb_tensor_view(t, t->ndim, t->shape, t->stride, t->offset);
}

bool sb_autograd_should_record(sb_tensor *const *inputs, int n) {
  if (g_grad_disabled) return false;
  for (int i = 0; i < n; i++)
    if (tensor_needs_grad(inputs[i])) return true;
  return false;
}

sb_op_node *sb_op_node_new(const char *op, sb_backward_fn backward, sb_tensor *const *inputs, int n) {
  if (n > SB_NODE_MAX_INPUTS) {
    sb_error("%s: too many inputs for a tape node", op);
    return NULL;
  }
  sb_op_node *node = sb_calloc(1, sizeof *node);
  if (!node) return NULL;
  atomic_init(&node->refcount, 1);
  node->op = op;
  node->backward = backward;
  node->n_inputs = n;
  for (int i = 0; i < n; i++) {
    sb_tensor *t = inputs[i];
    if (!t) continue;
    node->in_ndim[i] = t->ndim;
    memcpy(node->in_shape[i], t->shape, sizeof(int64_t) * (size_t)t->ndim);
    if (!node->backend) node->backend = t->storage->backend;
    if (t->grad_fn) {
      node->needs_grad[i] = true;
      node->producer[i] = t->grad_fn;
      node->producer_output[i] = t->grad_fn_output;
      atomic_fetch_add(&t->grad_fn->refcount, 1);
    } else if (t->requires_grad) {
      node->needs_grad[i] = true;
      node->leaf[i] = sb_tensor_retain(t);
    }
  }
  return node;
}

int sb_op_node_save(sb_op_node *n, sb_tensor *t) {
  if (n->n_saved == SB_NODE_MAX_SAVED) return sb_error("%s: too many saved tensors", n->op);
  n->saved[n->n_saved++] = sb_tensor_retain(t);
  return SB_OK;
}

static void node_drop_saved(sb_op_node *n) {
  for (int i = 0; i < n->n_saved; i++) sb_tensor_release(n->saved[i]);
  n->n_saved = 0;
  for (int k = 0; k < n->n_outputs; k++) {
    sb_tensor_release(n->gout[k]);
    n->gout[k] = NULL;
  }
}

void sb_op_node_release(sb_op_node *n) {
  if (!n || atomic_fetch_sub(&n->refcount, 1) != 1) return;
  node_drop_saved(n);
  for (int i = 0; i < n->n_inputs; i++) {
    sb_op_node_release(n->producer[i]);
    sb_tensor_release(n->leaf[i]);
  }
  if (n->ctx_free) n->ctx_free(n);
  free(n);
}

sb_tensor *sb_op_node_attach(sb_op_node *n, sb_tensor *out, int k) {
  if (!out) {
    if (!n->tape) sb_op_node_release(n);
    return NULL;
  }
  if (k >= SB_NODE_MAX_OUTPUTS) {
    sb_error("%s: too many outputs", n->op);
    return NULL;
  }
  if (!n->tape) {
    sb_tape *tape = tape_current();
    if (sb_ptrvec_push(&tape->nodes, n)) {
      sb_op_node_release(n);
      return NULL;
    }
    n->tape = tape; /* the tape holds the creation reference */
  }
  if (k + 1 > n->n_outputs) n->n_outputs = k + 1;
  if (out->grad_fn) sb_op_node_release(out->grad_fn);
  out->grad_fn = n;
  out->grad_fn_output = k;
  atomic_fetch_add(&n->refcount, 1);
  return out;
}

static void tape_clear(sb_tape *tape) {
  for (size_t i = tape->nodes.len; i-- > 0;) {
    sb_op_node *n = tape->nodes.items[i];
    n->tape = NULL;
    node_drop_saved(n);
    sb_op_node_release(n);
  }
  tape->nodes.len = 0;
}

void sb_tape_clear(void) { tape_clear(tape_current()); }
size_t sb_tape_size(void) { return tape_current()->nodes.len; }

/* Adds g into the gradient slot *slot (taking a reference, or summing). */
static int accumulate(sb_tensor **slot, sb_tensor *g) {
  if (!*slot) {
    *slot = sb_tensor_retain(g);
    return SB_OK;
  }
  return sb_grad_add_into(slot, g);
}

static int route_gradient(sb_op_node *n, int i, sb_tensor *g) {
  char a[64], b[64];
  if (g->ndim != n->in_ndim[i] ||
      memcmp(g->shape, n->in_shape[i], sizeof(int64_t) * (size_t)g->ndim) != 0)
    return sb_error("%s backward: gradient %s for input %d of shape %s (internal error)", n->op,
                    sb_tensor_shape_str(g, a, 64), i, sb_shape_str(n->in_ndim[i], n->in_shape[i], b, 64));
  if (n->producer[i]) return accumulate(&n->producer[i]->gout[n->producer_output[i]], g);
  if (n->leaf[i]) return sb_grad_accumulate_leaf(n->leaf[i], g);
  return SB_OK;
}

/* Backward functions get contiguous gradients (see autograd_impl.h):
 * views that other backward passes returned are copied here, once. */
static int make_contiguous(sb_op_node *n) {
  for (int k = 0; k < n->n_outputs; k++) {
    sb_tensor *g = n->gout[k];
    if (!g || sb_tensor_is_contiguous(g)) continue;
    sb_tensor *c = sb_op_contiguous(g); /* owned by the running node's scope */
    if (!c) return SB_ERR;
    n->gout[k] = sb_tensor_retain(c);
    sb_tensor_release(g);
  }
  return SB_OK;
}

/* Runs the nodes of `tape` backwards from the seeded gradients. */
static int run_tape(sb_tape *tape) {
  int rc = SB_OK;
  for (size_t idx = tape->nodes.len; idx-- > 0 && rc == SB_OK;) {
    sb_op_node *n = tape->nodes.items[idx];
    bool any = false;
    for (int k = 0; k < n->n_outputs; k++) any |= n->gout[k] != NULL;
    if (!any) {
      node_drop_saved(n);
      continue;
    }
    sb_scope_begin();
    sb_tensor *gin[SB_NODE_MAX_INPUTS] = {0};
    sb_grad_push(false);
    rc = make_contiguous(n);
    if (rc == SB_OK) rc = n->backward(n, n->gout, gin);
    sb_grad_pop();
    if (rc) sb_error_prefix("backward of %s", n->op);
    for (int i = 0; i < n->n_inputs && rc == SB_OK; i++) {
      if (!n->needs_grad[i]) continue;
      if (!gin[i]) {
        rc = sb_error("backward of %s: no gradient for input %d (internal error)", n->op, i);
        break;
      }
      rc = route_gradient(n, i, gin[i]);
    }
    sb_scope_end();
    node_drop_saved(n); /* frees activations as soon as they are consumed */
  }
  return rc;
}

static int seed(sb_tensor *out, sb_tensor *g) {
  char a[64], b[64];
  if (!sb_tensor_same_shape(out, g))
    return sb_error("backward: gradient of shape %s for an output of shape %s",
                    sb_tensor_shape_str(g, a, 64), sb_tensor_shape_str(out, b, 64));
  if (g->storage->backend != out->storage->backend)
    return sb_error("backward: the gradient lives on %s, the output on %s",
                    g->storage->backend->vt->name, out->storage->backend->vt->name);
  if (!sb_dtype_is_float(g->dtype))
    return sb_error("backward: the gradient is %s, expected a float tensor", sb_dtype_name(g->dtype));
  if (g->dtype != SB_DTYPE_F32 || !sb_tensor_is_contiguous(g)) { /* gradients are contiguous F32 */
    sb_grad_push(false);
    g = sb_op_contiguous(sb_op_cast(g, SB_DTYPE_F32));
    sb_grad_pop();
    if (!g) return SB_ERR;
  }
  if (out->grad_fn) {
    if (out->grad_fn->tape != tape_current())
      return sb_error("backward: the graph of this tensor was already used or cleared");
    return accumulate(&out->grad_fn->gout[out->grad_fn_output], g);
  }
  if (out->requires_grad) return sb_grad_accumulate_leaf(out, g);
  return sb_error("backward: the tensor does not require a gradient (no trainable input "
                  "reached it, or it was computed with grad mode off)");
}

static int backward_multi(sb_tensor *const *outs, sb_tensor *const *gouts, int n) {
  int rc = SB_OK;
  sb_scope_begin();
  for (int i = 0; i < n && rc == SB_OK; i++) {
    sb_tensor *g = gouts ? gouts[i] : NULL;
    if (!g) {
      if (sb_tensor_numel(outs[i]) != 1) {
        char a[64];
        rc = sb_error("backward: output of shape %s needs an explicit gradient",
                      sb_tensor_shape_str(outs[i], a, 64));
        break;
      }
      g = sb_tensor_full(SB_DTYPE_F32, outs[i]->ndim, outs[i]->shape, 1.0);
      if (!g) {
        rc = SB_ERR;
        break;
      }
    }
    rc = seed(outs[i], g);
  }
  if (rc == SB_OK) rc = run_tape(tape_current());
  sb_scope_end();
  tape_clear(tape_current());
  return rc;
}

int sb_backward(sb_tensor *out, sb_tensor *grad_out) {
  if (!out) return SB_ERR;
  return backward_multi(&out, grad_out ? &grad_out : NULL, 1);
}

/* ---- gradient checkpointing ---- */

typedef struct checkpoint_ctx {
  sb_checkpoint_fn fn;
  void *user;
  int n_inputs, n_outputs;
} checkpoint_ctx;

static int checkpoint_backward(sb_op_node *n, sb_tensor *const *gout, sb_tensor **gin) {
  checkpoint_ctx *c = SB_NODE_CTX(n, checkpoint_ctx);
  if (g_tape_depth + 1 >= SB_MAX_TAPES) return sb_error("checkpoint: nested too deeply");
  /* Fresh leaves standing for the inputs, recording on a tape of their own. */
  sb_tensor *inputs[SB_NODE_MAX_INPUTS] = {0};
  for (int i = 0; i < c->n_inputs; i++) {
    inputs[i] = sb_tensor_detach(n->saved[i]);
    if (!inputs[i]) return SB_ERR;
    inputs[i]->requires_grad = n->needs_grad[i];
  }
  g_tape_depth++;
  sb_grad_push(true);
  sb_tensor *outs[SB_NODE_MAX_OUTPUTS] = {0};
  int rc = c->fn(c->user, inputs, c->n_inputs, outs, c->n_outputs);
  sb_grad_pop();
  sb_tensor *roots[SB_NODE_MAX_OUTPUTS], *grads[SB_NODE_MAX_OUTPUTS];
  int n_roots = 0;
  for (int k = 0; k < c->n_outputs && rc == SB_OK; k++) {
    if (!outs[k]) {
      rc = sb_error("checkpoint: the function gave no output %d on recompute", k);
      break;
    }
    if (gout[k] && tensor_needs_grad(outs[k])) roots[n_roots] = outs[k], grads[n_roots++] = gout[k];
  }
  if (rc == SB_OK && n_roots) rc = backward_multi(roots, grads, n_roots);
  tape_clear(tape_current());
  g_tape_depth--;
  for (int i = 0; i < c->n_inputs && rc == SB_OK; i++) {
    if (!n->needs_grad[i]) continue;
    gin[i] = inputs[i]->grad ? inputs[i]->grad
                             : sb_tensor_zeros_on(n->backend, SB_DTYPE_F32, n->in_ndim[i], n->in_shape[i]);
    if (inputs[i]->grad) sb_scope_adopt(sb_tensor_retain(inputs[i]->grad));
  }
  return rc;
}

int sb_checkpoint(sb_checkpoint_fn fn, void *ctx, sb_tensor *const *inputs, int n_inputs,
                  sb_tensor **outputs, int n_outputs) {
  if (n_inputs > SB_NODE_MAX_INPUTS || n_outputs > SB_NODE_MAX_OUTPUTS)
    return sb_error("checkpoint: at most %d inputs and %d outputs", SB_NODE_MAX_INPUTS,
                    SB_NODE_MAX_OUTPUTS);
  for (int i = 0; i < n_inputs; i++)
    if (!inputs[i]) return SB_ERR;
  bool record = sb_autograd_should_record(inputs, n_inputs);
  /* Parameters reached through ctx may need gradients even when no input
   * does; record whenever grad mode is on. */
  record = record || sb_grad_enabled();
  sb_grad_push(false);
  /* fn's temporaries go when it returns (chunked output layers would
   * otherwise keep every chunk's logits); the outputs move to the caller's
   * scope */
  sb_scope_begin();
  int rc = fn(ctx, inputs, n_inputs, outputs, n_outputs);
  for (int k = 0; k < n_outputs && rc == SB_OK; k++)
    if (!outputs[k] || !sb_scope_keep(outputs[k]))
      rc = outputs[k] ? SB_ERR : sb_error("checkpoint: the function gave no output %d", k);
  if (rc)
    for (int k = 0; k < n_outputs; k++) outputs[k] = NULL;
  sb_scope_end();
  sb_grad_pop();
  if (rc || !record) return rc;
  sb_op_node *n = sb_op_node_new("checkpoint", checkpoint_backward, inputs, n_inputs);
  if (!n) return SB_ERR;
  *SB_NODE_CTX(n, checkpoint_ctx) = (checkpoint_ctx){fn, ctx, n_inputs, n_outputs};
  for (int i = 0; i < n_inputs; i++) sb_op_node_save(n, inputs[i]);
  for (int k = 0; k < n_outputs; k++) {
    if (!sb_op_node_attach(n, outputs[k], k)) return SB_ERR;
  }
  return SB_OK;
}
