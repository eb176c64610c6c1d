/* autograd_impl.h — tape nodes and the recording interface ops use.
 *
 * An op that records itself creates a node with sb_op_node_new, saves what its
 * backward needs with sb_op_node_save, and attaches the node to its output with
 * sb_op_node_attach. Its backward function receives the gradient of each output
 * and returns, for every input whose needs_grad is set, a gradient of that
 * input's exact shape (new tensors owned by the current scope). The engine
 * routes each one to the input's producer node or, for a leaf, into the
 * leaf's grad buffer. The gradients a backward function receives are
 * contiguous float32 on the node's backend (the engine copies views that
 * other backward passes returned); the ones it returns may be views. */
#ifndef SB_CORE_AUTOGRAD_IMPL_H
#define SB_CORE_AUTOGRAD_IMPL_H

#include "spatialboost/autograd.h"
#include "tensor_impl.h"

#define SB_NODE_MAX_INPUTS 8
#define SB_NODE_MAX_SAVED 10
#define SB_NODE_MAX_OUTPUTS 8
#define SB_NODE_CTX_BYTES 192

typedef struct sb_op_node sb_op_node;
/* gout[k]: gradient of output k (NULL when that output got none).
 * gin[i]: to fill for inputs with needs_grad[i]. */
typedef int (*sb_backward_fn)(sb_op_node *n, sb_tensor *const *gout, sb_tensor **gin);
typedef void (*sb_op_node_ctx_free_fn)(sb_op_node *n);

struct sb_op_node {
  atomic_int refcount;
  const char *op;
  sb_backward_fn backward;
  sb_op_node_ctx_free_fn ctx_free; /* optional: frees what ctx points to */
  int n_inputs;
  bool needs_grad[SB_NODE_MAX_INPUTS];
  /* Where input i's gradient goes: its producer (and which output of it) or
   * the leaf itself. Both retained. */
  sb_op_node *producer[SB_NODE_MAX_INPUTS];
  int producer_output[SB_NODE_MAX_INPUTS];
  sb_tensor *leaf[SB_NODE_MAX_INPUTS];
  /* Shape of each input, for gradients of the right shape. */
  int in_ndim[SB_NODE_MAX_INPUTS];
  int64_t in_shape[SB_NODE_MAX_INPUTS][SB_MAX_DIMS];
  sb_backend *backend;
  int n_saved;
  sb_tensor *saved[SB_NODE_MAX_SAVED];
  int n_outputs;
  sb_tensor *gout[SB_NODE_MAX_OUTPUTS];
  struct sb_tape *tape;
  _Alignas(16) unsigned char ctx[SB_NODE_CTX_BYTES]; /* the op's parameters */
};

/* Whether an op with these inputs must record (grad mode on and one of them
 * requires a gradient). NULL inputs are skipped. */
bool sb_autograd_should_record(sb_tensor *const *inputs, int n);
/* A node for op with n inputs (NULL allowed for absent optional inputs). */
sb_op_node *sb_op_node_new(const char *op, sb_backward_fn backward, sb_tensor *const *inputs, int n);
/* Keeps t for the backward pass (retained until the node has run). */
int sb_op_node_save(sb_op_node *n, sb_tensor *t);
/* Makes out the node's output k and puts the node on the tape (first attach).
 * Returns out, or NULL on failure. */
sb_tensor *sb_op_node_attach(sb_op_node *n, sb_tensor *out, int k);
void sb_op_node_release(sb_op_node *n);
/* Convenience: the ctx area as the op's own parameter struct. */
#define SB_NODE_CTX(n, type) ((type *)(void *)(n)->ctx)

#endif
