/* op_common.h — what every op front-end shares: argument checks with one
 * message per misuse, conversion of inputs to contiguous float32 (through
 * recorded ops, so gradients flow back), the reduction of a broadcast
 * gradient to an input's shape, and small kernel-call wrappers. */
#ifndef SB_CORE_OP_COMMON_H
#define SB_CORE_OP_COMMON_H

#include "autograd_impl.h"
#include "spatialboost/ops.h"
#include "util.h"

/* True when all n inputs are usable: NULLs make the op return NULL quietly
 * (propagation); mixed backends are an error naming the op. Optional inputs
 * are passed as NULL only through `optional`. */
bool sb_op_inputs_ok(const char *op, sb_tensor *const *xs, int n);
/* An error about op's arguments; returns NULL for convenience. */
sb_tensor *sb_op_fail(const char *op, const char *fmt, ...) SB_PRINTF(2, 3);
/* x as float32 and contiguous, through recorded cast/contiguous ops. */
sb_tensor *sb_op_f32c(sb_tensor *x);
/* Requires a float dtype (integer tensors are not valid here). */
bool sb_op_check_float(const char *op, const char *arg, const sb_tensor *x);
/* Sum of g (contiguous) over the dims broadcast away from shape. */
sb_tensor *sb_reduce_to_shape(sb_tensor *g, int ndim, const int64_t *shape);
/* New contiguous float32 tensor on be. */
sb_tensor *sb_op_new(sb_backend *be, int ndim, const int64_t *shape);
sb_tensor *sb_op_zeros(sb_backend *be, int ndim, const int64_t *shape);
/* y = alpha·x + beta elementwise into a new tensor (x contiguous). */
sb_tensor *sb_k_affine(sb_tensor *x, float alpha, float beta);
/* out = a op b for contiguous tensors of one shape. */
sb_tensor *sb_k_binary_same(sb_binary_op op, sb_tensor *a, sb_tensor *b);
/* Copies src (any strides) into dst (any strides) of the same shape. */
int sb_k_copy(sb_tensor *dst, const sb_tensor *src);
/* A tensor of `shape` viewing x's values broadcast (stride 0 on new dims),
 * materialised as a contiguous copy. */
sb_tensor *sb_k_broadcast_to(sb_tensor *x, int ndim, const int64_t *shape);
/* C = op(A)·op(B) + beta·C on contiguous operands (row-major, op = ᵀ when
 * ta/tb), batch products with batch strides sa, sb_, sc (batch 1: 0s). */
int sb_k_gemm(sb_tensor *C, const sb_tensor *A, const sb_tensor *B, bool ta, bool tb, int64_t m, int64_t n,
              int64_t k, float beta, int64_t batch, int64_t sa, int64_t sb_, int64_t sc);
/* Cross-entropy's row weights [N] (float32, on t's backend) from its
 * targets t [N] (contiguous I32/I64): d loss / d row loss, i.e. 1/count
 * (mean) or 1/divisor (sum; 1 when divisor <= 0) where the target counts
 * and 0 where it is ignore_index. A counted target outside [0, V) is an
 * error naming op and the row. */
sb_tensor *sb_xent_row_weights(const char *op, sb_tensor *t, int64_t N, int64_t V, int64_t ignore_index,
                               sb_reduction reduction, float divisor);
/* Rows of a tensor seen as [rows, last dim]. */
int64_t sb_rows(const sb_tensor *x);

#define SB_OP_ARGS(...) ((sb_tensor *const[]){__VA_ARGS__})
#define SB_OP_NARGS(...) ((int)(sizeof((sb_tensor *[]){__VA_ARGS__}) / sizeof(sb_tensor *)))

#endif
