/* cpu_backend.c — the cpu backend's vtable: host memory and the kernel
 * table. */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_backend.h"
#include "spatialboost/error.h"

static void *cpu_alloc(void *self, size_t bytes) {
  void *p = NULL;
  if (posix_memalign(&p, 64, bytes ? bytes : 64)) return NULL;
  return p;
}
static void cpu_free(void *self, void *ptr, size_t bytes) { free(ptr); }
static int cpu_copy(void *self, void *dst, const void *src, size_t bytes) {
  if (bytes) memmove(dst, src, bytes);
  return SB_OK;
}
static int cpu_upload(void *self, void *dst, const void *src, size_t bytes) {
  return cpu_copy(self, dst, src, bytes);
}
static int cpu_download(void *self, void *dst, const void *src, size_t bytes) {
  return cpu_copy(self, dst, src, bytes);
}
static int cpu_zero(void *self, void *dst, size_t bytes) {
  if (bytes) memset(dst, 0, bytes);
  return SB_OK;
}
static int cpu_sync(void *self) { return SB_OK; }

static const char *cpu_describe(void *self) {
  static char buf[256];
  static const char *const par[] = {"sequential", "pthreads", "OpenMP"};
  int p = openblas_get_parallel();
  snprintf(buf, sizeof buf, "cpu: %d OpenMP threads; %s (%s build, running the %s kernel, %d threads)",
           omp_get_max_threads(), openblas_get_config(), p >= 0 && p <= 2 ? par[p] : "?",
           openblas_get_corename(), openblas_get_num_threads());
  return buf;
}

static const sb_kernel_fn k_cpu_kernels[SB_K_COUNT] = {
    [SB_K_CAST] = sb_cpu_k_cast,
    [SB_K_COPY_STRIDED] = sb_cpu_k_copy_strided,
    [SB_K_FILL] = sb_cpu_k_fill,
    [SB_K_GEMM] = sb_cpu_k_gemm,
    [SB_K_BINARY] = sb_cpu_k_binary,
    [SB_K_REDUCE] = sb_cpu_k_reduce,
    [SB_K_UNARY] = sb_cpu_k_unary,
    [SB_K_UNARY_BACKWARD] = sb_cpu_k_unary_backward,
    [SB_K_LAYER_NORM] = sb_cpu_k_layer_norm,
    [SB_K_LAYER_NORM_BACKWARD] = sb_cpu_k_layer_norm_backward,
    [SB_K_RMS_NORM] = sb_cpu_k_rms_norm,
    [SB_K_RMS_NORM_BACKWARD] = sb_cpu_k_rms_norm_backward,
    [SB_K_SOFTMAX] = sb_cpu_k_softmax,
    [SB_K_SOFTMAX_BACKWARD] = sb_cpu_k_softmax_backward,
    [SB_K_ATTENTION] = sb_cpu_k_attention,
    [SB_K_ATTENTION_BACKWARD] = sb_cpu_k_attention_backward,
    [SB_K_ROPE] = sb_cpu_k_rope,
    [SB_K_CROSS_ENTROPY] = sb_cpu_k_cross_entropy,
    [SB_K_CROSS_ENTROPY_BACKWARD] = sb_cpu_k_cross_entropy_backward,
    [SB_K_GATHER] = sb_cpu_k_gather,
    [SB_K_SCATTER_ADD] = sb_cpu_k_scatter_add,
    [SB_K_PATCHIFY] = sb_cpu_k_patchify,
    [SB_K_UNPATCHIFY] = sb_cpu_k_unpatchify,
    [SB_K_MIX] = sb_cpu_k_mix,
    [SB_K_MIX_BACKWARD] = sb_cpu_k_mix_backward,
    [SB_K_SWIGLU] = sb_cpu_k_swiglu,
    [SB_K_SWIGLU_BACKWARD] = sb_cpu_k_swiglu_backward,
    [SB_K_ADAMW] = sb_cpu_k_adamw,
    [SB_K_SGD] = sb_cpu_k_sgd,
    [SB_K_XENT_BLOCK] = sb_cpu_k_xent_block,
    [SB_K_XENT_FINISH] = sb_cpu_k_xent_finish,
    [SB_K_XENT_BLOCK_BACKWARD] = sb_cpu_k_xent_block_backward,
};

static const sb_backend_vtable k_cpu_vtable = {
    .struct_size = sizeof(sb_backend_vtable),
    .name = "cpu",
    .device_type = SB_DEVICE_CPU,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_upload,
    .download = cpu_download,
    .copy = cpu_copy,
    .zero = cpu_zero,
    .synchronize = cpu_sync,
    .kernels = k_cpu_kernels,
    .n_kernels = SB_K_COUNT,
    .describe = cpu_describe,
};

const sb_backend_vtable *sb_cpu_backend_vtable(void) { return &k_cpu_vtable; }

int sb_cpu_run(const sb_kcall *call) {
  if ((unsigned)call->id >= SB_K_COUNT || !k_cpu_kernels[call->id])
    return sb_error_set(SB_ERR_UNSUPPORTED, "cpu: no kernel %d", (int)call->id);
  return k_cpu_kernels[call->id](NULL, call);
}

void sb_set_num_threads(int n) {
  if (n <= 0) n = omp_get_num_procs();
  omp_set_num_threads(n);
  if (openblas_get_parallel() != 2) openblas_set_num_threads(n); /* the OpenMP build follows OpenMP */
}

int sb_get_num_threads(void) { return omp_get_max_threads(); }
