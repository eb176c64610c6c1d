/* spatialboost/autograd.h — reverse-mode autograd over a tape.
 *
 * Ops record themselves on the current thread's tape when grad mode is on and
 * one of their inputs requires a gradient: a leaf marked with
 * sb_tensor_set_requires_grad (a trainable parameter), or the result of a
 * recorded op. Frozen weights do not require a gradient and never get a
 * gradient buffer, but gradients still flow through the ops that use them into
 * earlier trainable tensors. sb_backward walks the tape in reverse, adds each
 * leaf's gradient into its grad buffer (allocated at first use), then clears
 * the tape. */
#ifndef SPATIALBOOST_AUTOGRAD_H
#define SPATIALBOOST_AUTOGRAD_H

#include "tensor.h"

SB_BEGIN_DECLS

/* Leaves only: whether the tensor collects a gradient. */
SB_API int sb_tensor_set_requires_grad(sb_tensor *t, bool requires_grad);
/* True for such leaves and for results of recorded ops. */
SB_API bool sb_tensor_requires_grad(const sb_tensor *t);
/* A leaf's accumulated gradient (same shape, float32), or NULL before any.
 * Borrowed: valid until sb_tensor_zero_grad/free_grad or the leaf's end. */
SB_API sb_tensor *sb_tensor_grad(const sb_tensor *t);
SB_API void sb_tensor_zero_grad(sb_tensor *t);
SB_API void sb_tensor_free_grad(sb_tensor *t);
/* A new tensor sharing t's storage, with no history and no gradient. */
SB_API sb_tensor *sb_tensor_detach(sb_tensor *t);

/* Grad mode, per thread, nestable. */
SB_API bool sb_grad_enabled(void);
SB_API void sb_grad_push(bool enabled);
SB_API void sb_grad_pop(void);

/* Back-propagates from `out`. grad_out: the gradient of out (same shape and
 * backend; any float dtype and layout, converted to contiguous float32), or
 * NULL when out has one element (gradient 1). Clears the tape afterwards.
 * Weight gradients of norms and of the mix are summed per thread, so they
 * are bit-reproducible for a given thread count. */
SB_API int sb_backward(sb_tensor *out, sb_tensor *grad_out);
/* Drops everything recorded so far (e.g. after an evaluation forward). */
SB_API void sb_tape_clear(void);
/* Number of nodes recorded on the current tape. */
SB_API size_t sb_tape_size(void);

/* Gradient checkpointing. fn computes outputs from inputs with ops only (and
 * parameters it reaches through ctx). sb_checkpoint runs it without recording,
 * in a scope of its own (its temporaries are released when it returns), keeps
 * only the inputs, and in the backward pass runs it again with
 * recording on to get the gradients. Outputs are new references owned by the
 * current scope. fn must be deterministic. With grad mode on, the outputs
 * are recorded even when no input requires a gradient (parameters reached
 * through ctx may); use sb_grad_push(false) around evaluation. */
typedef int (*sb_checkpoint_fn)(void *ctx, sb_tensor *const *inputs, int n_inputs,
                                sb_tensor **outputs, int n_outputs);
SB_API int sb_checkpoint(sb_checkpoint_fn fn, void *ctx, sb_tensor *const *inputs, int n_inputs,
                         sb_tensor **outputs, int n_outputs);

SB_END_DECLS
#endif
