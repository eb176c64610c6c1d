/* test_ops.h — what the files of the op test share: the description of one
 * op case (its inputs, views, outputs, the op call, the double-precision
 * reference and the tolerances), the references (ref_ops.c), the case table
 * (cases.c), the debug device (debug_backend.c) and the autograd and
 * checkpointing checks (autograd_checks.c). test_ops.c runs them all. */
#ifndef SB_TEST_OPS_H
#define SB_TEST_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "spatialboost/autograd.h"
#include "spatialboost/backend.h"
#include "spatialboost/error.h"
#include "spatialboost/ops.h"
#include "spatialboost/tensor.h"

/* The unit roundoff of float32, 2^-24: one correctly rounded float32
 * operation on a value y errs by at most U32·|y|. Every tolerance of the
 * suite is written as a multiple of it (cases.c says why each one). */
#define U32 5.9604644775390625e-8

#define MAX_IN 12
#define MAX_OUT 4
#define MAX_VIEW 3

/* |got - want| <= atol + rtol·|want| */
typedef struct tol {
  double rtol, atol;
} tol;

/* A view applied to an input leaf before the op sees it, through the
 * project's view ops on the device and through plain index arithmetic on the
 * host copy the reference reads. */
typedef enum view_kind { V_NONE = 0, V_PERMUTE, V_NARROW, V_RESHAPE } view_kind;
typedef struct view_step {
  view_kind kind;
  int perm[SB_MAX_DIMS];          /* V_PERMUTE: result dim i is dim perm[i] */
  int dim;                        /* V_NARROW */
  int64_t start, len;             /* V_NARROW */
  int ndim;                       /* V_RESHAPE */
  int64_t shape[SB_MAX_DIMS];     /* V_RESHAPE (one -1 allowed) */
} view_step;

typedef enum in_kind {
  IN_PARAM = 0, /* float leaf with requires_grad: its gradient is checked */
  IN_FROZEN,    /* float leaf without: it must never get a gradient buffer */
  IN_INDEX,     /* integer tensor (indices, ids, targets, masks) */
} in_kind;

typedef struct in_spec {
  in_kind kind;
  sb_dtype dtype; /* of the leaf (F32 unless given) */
  int ndim;
  int64_t shape[SB_MAX_DIMS];
  /* Random values: uniform in [lo, hi] (both 0: [-1, 1]); with min_abs > 0,
   * |v| is kept >= min_abs (away from kinks and poles). Index inputs draw
   * integers in [lo, hi]. The first n_values values are `values`. */
  double lo, hi, min_abs;
  const double *values;
  int n_values;
  /* k > 0: this input is a view of input k-1's leaf (one leaf, several
   * views, e.g. q, k, v narrowed out of one fused tensor). */
  int alias;
  view_step view[MAX_VIEW];
} in_spec;

typedef struct out_spec {
  sb_dtype dtype;
  int ndim;
  int64_t shape[SB_MAX_DIMS];
} out_spec;

/* A host tensor in double precision: contiguous values and shape. */
typedef struct rbuf {
  double *v;
  int ndim;
  int64_t shape[SB_MAX_DIMS];
} rbuf;

typedef struct op_case op_case;
/* Runs the op on the (viewed) inputs; fills out[0 .. n_out-1]. */
typedef int (*run_fn)(const op_case *c, sb_tensor *const *in, sb_tensor **out);
/* The double-precision reference: out[k].v (shape from the case) from in. */
typedef void (*ref_fn)(const op_case *c, const rbuf *in, rbuf *out);
/* Where a gradient is defined by convention rather than by the forward
 * (the straight-through cast, embedding's padding row): the expected
 * gradient of input i given the output gradients r. */
typedef void (*ref_grad_fn)(const op_case *c, const rbuf *in, const rbuf *r, int i, double *g);

struct op_case {
  const char *name;
  run_fn run;
  ref_fn ref;
  ref_grad_fn ref_grad; /* NULL: central differences of ref */
  int n_in, n_out;      /* n_out 0 means 1 */
  in_spec in[MAX_IN];
  out_spec out[MAX_OUT];
  int ip[10];           /* op parameters (dims, flags, sizes) */
  double fp[4];         /* op parameters (eps, scale, theta, divisor) */
  tol fwd, grad;
  double fd32;          /* > 0: also central differences through the float32 op, this step */
};

/* cases.c */
extern const op_case g_cases[];
extern const int g_n_cases;

/* ref_ops.c: helpers shared by the references */
int64_t rb_numel(int ndim, const int64_t *shape);
void rb_strides(int ndim, const int64_t *shape, int64_t *strides);
/* Rounds a double to the nearest value of dtype (F32, BF16, F16), ties to
 * even, as IEEE does; done independently of the project's converters. */
double ref_round_to(double v, sb_dtype dtype);

/* the references (one per op family; parameters in c->ip / c->fp, see cases.c) */
void ref_linear(const op_case *c, const rbuf *in, rbuf *out);
void ref_matmul(const op_case *c, const rbuf *in, rbuf *out);
void ref_binary(const op_case *c, const rbuf *in, rbuf *out);
void ref_unary(const op_case *c, const rbuf *in, rbuf *out);
void ref_swiglu(const op_case *c, const rbuf *in, rbuf *out);
void ref_reduce(const op_case *c, const rbuf *in, rbuf *out);
void ref_identity(const op_case *c, const rbuf *in, rbuf *out);
void ref_permute(const op_case *c, const rbuf *in, rbuf *out);
void ref_transpose(const op_case *c, const rbuf *in, rbuf *out);
void ref_narrow(const op_case *c, const rbuf *in, rbuf *out);
void ref_slice(const op_case *c, const rbuf *in, rbuf *out);
void ref_cast(const op_case *c, const rbuf *in, rbuf *out);
void ref_concat(const op_case *c, const rbuf *in, rbuf *out);
void ref_split(const op_case *c, const rbuf *in, rbuf *out);
void ref_index_select(const op_case *c, const rbuf *in, rbuf *out);
void ref_embedding(const op_case *c, const rbuf *in, rbuf *out);
void ref_layer_norm(const op_case *c, const rbuf *in, rbuf *out);
void ref_rms_norm(const op_case *c, const rbuf *in, rbuf *out);
void ref_softmax(const op_case *c, const rbuf *in, rbuf *out);
void ref_attention(const op_case *c, const rbuf *in, rbuf *out);
void ref_rope(const op_case *c, const rbuf *in, rbuf *out);
void ref_rope_tables(const op_case *c, const rbuf *in, rbuf *out);
void ref_cross_entropy(const op_case *c, const rbuf *in, rbuf *out);
void ref_linear_cross_entropy(const op_case *c, const rbuf *in, rbuf *out);
void ref_mse(const op_case *c, const rbuf *in, rbuf *out);
void ref_patchify(const op_case *c, const rbuf *in, rbuf *out);
void ref_mix(const op_case *c, const rbuf *in, rbuf *out);
/* compositions (gradients meeting in one tensor, non-contiguous gradients) */
void ref_tied_embedding(const op_case *c, const rbuf *in, rbuf *out);
void ref_unary_then_permute(const op_case *c, const rbuf *in, rbuf *out);
void ref_concat_of_softmax(const op_case *c, const rbuf *in, rbuf *out);
void ref_x_plus_xt(const op_case *c, const rbuf *in, rbuf *out);
/* conventional gradients */
void ref_grad_cast(const op_case *c, const rbuf *in, const rbuf *r, int i, double *g);
void ref_grad_embedding(const op_case *c, const rbuf *in, const rbuf *r, int i, double *g);

/* unary op codes of ref_unary / run_unary (c->ip[0]) */
enum {
  UN_SCALE, UN_AFFINE, UN_GELU, UN_GELU_TANH, UN_SILU, UN_SIGMOID, UN_TANH, UN_RELU, UN_EXP,
  UN_SQUARE,
};
/* rope table kinds (c->ip[0]) */
enum { ROPE_1D_POS, ROPE_1D_NULL, ROPE_2D, ROPE_1D_BATCHED };

/* debug_backend.c: a device whose memory the host cannot dereference and
 * whose kernel table is empty. */
sb_backend *debug_backend_register(void);
/* Whether p is an address the debug device handed out. */
bool debug_backend_owns(const void *p);

/* autograd_checks.c: engine checks and gradient checkpointing on the
 * current backend; each reports its own OK/FAIL line (report) under `label`.
 * filter: only checks whose name contains it (NULL: all). */
void run_autograd_checks(const char *label, const char *filter, bool verbose);

/* test_ops.c: a line "label name OK/FAIL detail" and the running totals. */
void report(const char *label, const char *name, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
