/* cpu_backend.h — the built-in cpu backend: host memory, OpenBLAS for matrix
 * products and OpenMP loops for the other kernels. Each kernel file defines
 * the sb_cpu_k_* functions declared here; cpu_backend.c puts them in the
 * table indexed by sb_kernel_id. The cpu kernels are also the reference the
 * host fallback of other backends runs. */
#ifndef SB_CORE_CPU_BACKEND_H
#define SB_CORE_CPU_BACKEND_H

#include "spatialboost/backend.h"

const sb_backend_vtable *sb_cpu_backend_vtable(void);
/* Runs one kernel on host buffers. */
int sb_cpu_run(const sb_kcall *call);

#define SB_CPU_KERNEL(name) int sb_cpu_k_##name(void *self, const sb_kcall *call)
SB_CPU_KERNEL(cast);
SB_CPU_KERNEL(copy_strided);
SB_CPU_KERNEL(fill);
SB_CPU_KERNEL(gemm);
SB_CPU_KERNEL(binary);
SB_CPU_KERNEL(reduce);
SB_CPU_KERNEL(unary);
SB_CPU_KERNEL(unary_backward);
SB_CPU_KERNEL(layer_norm);
SB_CPU_KERNEL(layer_norm_backward);
SB_CPU_KERNEL(rms_norm);
SB_CPU_KERNEL(rms_norm_backward);
SB_CPU_KERNEL(softmax);
SB_CPU_KERNEL(softmax_backward);
SB_CPU_KERNEL(attention);
SB_CPU_KERNEL(attention_backward);
SB_CPU_KERNEL(rope);
SB_CPU_KERNEL(cross_entropy);
SB_CPU_KERNEL(cross_entropy_backward);
SB_CPU_KERNEL(gather);
SB_CPU_KERNEL(scatter_add);
SB_CPU_KERNEL(patchify);
SB_CPU_KERNEL(unpatchify);
SB_CPU_KERNEL(mix);
SB_CPU_KERNEL(mix_backward);
SB_CPU_KERNEL(swiglu);
SB_CPU_KERNEL(swiglu_backward);
SB_CPU_KERNEL(adamw);
SB_CPU_KERNEL(sgd);
SB_CPU_KERNEL(xent_block);
SB_CPU_KERNEL(xent_finish);
SB_CPU_KERNEL(xent_block_backward);

/* Buffer i of the call as a typed pointer. */
#define KB(call, i, type) ((type *)(call)->bufs[i].ptr)
#define KP(call, type) ((const type *)(call)->params)

#endif
