/* grad_accum.h — summing gradients: into a node's output slot (out of place,
 * since slots may share tensors) and into a leaf's own grad buffer. */
#ifndef SB_CORE_GRAD_ACCUM_H
#define SB_CORE_GRAD_ACCUM_H

#include "tensor_impl.h"

/* *slot = *slot + g (a new tensor; the old reference is released). */
int sb_grad_add_into(sb_tensor **slot, sb_tensor *g);
/* leaf->grad += g, allocating leaf->grad (owned by the leaf, float32,
 * contiguous) at first use. */
int sb_grad_accumulate_leaf(sb_tensor *leaf, sb_tensor *g);

#endif
