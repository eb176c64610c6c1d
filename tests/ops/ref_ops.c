/* ref_ops.c — the double-precision references of the op test: one naive,
 * loop-by-loop implementation of every op in ops.h written from the
 * documented semantics (ops.h; /work/shared/spec/MODELS.md sections 0, A.3,
 * C.2 and F), sharing no code with the project's kernels. Each reads its
 * parameters from the case (c->ip, c->fp; cases.c lists them per op) and
 * writes the outputs whose shapes the case declares. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_ops.h"

int64_t rb_numel(int ndim, const int64_t *shape) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  return n;
}

void rb_strides(int ndim, const int64_t *shape, int64_t *strides) {
  int64_t s = 1;
  for (int i = ndim - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
}

static void unravel(int64_t flat, int ndim, const int64_t *shape, int64_t *idx) {
  for (int i = ndim - 1; i >= 0; i--) {
    idx[i] = shape[i] ? flat % shape[i] : 0;
    flat = shape[i] ? flat / shape[i] : 0;
  }
}

static int norm_dim(int dim, int ndim) { return dim < 0 ? dim + ndim : dim; }

static int64_t last(const rbuf *b) { return b->shape[b->ndim - 1]; }
static int64_t rows_of(const rbuf *b) { return b->ndim ? rb_numel(b->ndim, b->shape) / last(b) : 1; }

double ref_round_to(double v, sb_dtype dtype) {
  if (v == 0.0 || !isfinite(v)) return v;
  int p, emin; /* significand bits (with the implicit one), least normal exponent */
  double max;
  switch (dtype) {
  case SB_DTYPE_BF16: p = 8, emin = -126, max = ldexp(2.0 - ldexp(1.0, -7), 127); break;
  case SB_DTYPE_F16: p = 11, emin = -14, max = 65504.0; break;
  default: p = 24, emin = -126, max = ldexp(2.0 - ldexp(1.0, -23), 127); break;
  }
  int e;
  frexp(fabs(v), &e); /* |v| = m·2^e, m in [0.5, 1): the leading bit has weight 2^(e-1) */
  int lead = e - 1 < emin ? emin : e - 1;   /* subnormals share the least normal quantum */
  double q = ldexp(1.0, lead - (p - 1));
  double r = nearbyint(v / q) * q;          /* v / q is exact; nearbyint rounds ties to even */
  if (fabs(r) > max) return v > 0 ? INFINITY : -INFINITY;
  return r;
}

/* ---- matrix products ---- */

void ref_linear(const op_case *c, const rbuf *in, rbuf *out) {
  const rbuf *x = &in[0], *w = &in[1];
  const double *b = c->n_in > 2 ? in[2].v : NULL;
  int64_t I = w->shape[1], O = w->shape[0], N = rows_of(x);
  for (int64_t n = 0; n < N; n++)
    for (int64_t o = 0; o < O; o++) {
      double s = b ? b[o] : 0.0;
      for (int64_t i = 0; i < I; i++) s += x->v[n * I + i] * w->v[o * I + i];
      out[0].v[n * O + o] = s;
    }
}

/* ip[0] trans_a, ip[1] trans_b */
void ref_matmul(const op_case *c, const rbuf *in, rbuf *out) {
  const rbuf *a = &in[0], *b = &in[1];
  bool ta = c->ip[0], tb = c->ip[1];
  int64_t ar = a->shape[a->ndim - 2], ac = a->shape[a->ndim - 1];
  int64_t br = b->shape[b->ndim - 2], bc = b->shape[b->ndim - 1];
  int64_t M = ta ? ac : ar, K = ta ? ar : ac, N = tb ? br : bc;
  int64_t batch = rb_numel(a->ndim - 2, a->shape);
  bool shared = b->ndim == 2 && a->ndim > 2;
  for (int64_t t = 0; t < batch; t++) {
    const double *A = a->v + t * ar * ac, *B = b->v + (shared ? 0 : t * br * bc);
    for (int64_t m = 0; m < M; m++)
      for (int64_t n = 0; n < N; n++) {
        double s = 0.0;
        for (int64_t k = 0; k < K; k++) {
          double av = ta ? A[k * ac + m] : A[m * ac + k];
          double bv = tb ? B[n * bc + k] : B[k * bc + n];
          s += av * bv;
        }
        out[0].v[(t * M + m) * N + n] = s;
      }
  }
}

/* ---- elementwise ---- */

/* Index into x of the output element idx under NumPy broadcasting. */
static int64_t bcast_index(const rbuf *x, const rbuf *o, const int64_t *idx) {
  int64_t st[SB_MAX_DIMS], off = 0;
  rb_strides(x->ndim, x->shape, st);
  for (int i = 0; i < x->ndim; i++) {
    int j = i + (o->ndim - x->ndim);
    off += (x->shape[i] == 1 ? 0 : idx[j]) * st[i];
  }
  return off;
}

/* ip[0]: SB_BINARY_* */
void ref_binary(const op_case *c, const rbuf *in, rbuf *out) {
  int64_t idx[SB_MAX_DIMS], n = rb_numel(out[0].ndim, out[0].shape);
  for (int64_t i = 0; i < n; i++) {
    unravel(i, out[0].ndim, out[0].shape, idx);
    double a = in[0].v[bcast_index(&in[0], &out[0], idx)];
    double b = in[1].v[bcast_index(&in[1], &out[0], idx)];
    double y;
    switch (c->ip[0]) {
    case SB_BINARY_ADD: y = a + b; break;
    case SB_BINARY_SUB: y = a - b; break;
    case SB_BINARY_MUL: y = a * b; break;
    default: y = a / b; break;
    }
    out[0].v[i] = y;
  }
}

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static double unary(int op, double x, double s, double c) {
  switch (op) {
  case UN_SCALE: return s * x;
  case UN_AFFINE: return s * x + c;
  case UN_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
  case UN_GELU_TANH: return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  case UN_SILU: return x * sigmoid(x);
  case UN_SIGMOID: return sigmoid(x);
  case UN_TANH: return tanh(x);
  case UN_RELU: return x > 0 ? x : 0.0;
  case UN_EXP: return exp(x);
  default: return x * x;
  }
}

/* ip[0]: UN_*, fp[0] s, fp[1] c */
void ref_unary(const op_case *c, const rbuf *in, rbuf *out) {
  int64_t n = rb_numel(in[0].ndim, in[0].shape);
  for (int64_t i = 0; i < n; i++) out[0].v[i] = unary(c->ip[0], in[0].v[i], c->fp[0], c->fp[1]);
}

void ref_swiglu(const op_case *c, const rbuf *in, rbuf *out) {
  int64_t n = rb_numel(in[0].ndim, in[0].shape);
  for (int64_t i = 0; i < n; i++) {
    double g = in[0].v[i];
    out[0].v[i] = g * sigmoid(g) * in[1].v[i];
  }
}

/* ---- reductions: ip[0] dim, ip[2] mean, ip[3] over everything ---- */

void ref_reduce(const op_case *c, const rbuf *in, rbuf *out) {
  const rbuf *x = &in[0];
  int64_t n = rb_numel(x->ndim, x->shape), idx[SB_MAX_DIMS];
  int d = norm_dim(c->ip[0], x->ndim);
  int64_t n_out = c->ip[3] ? 1 : n / x->shape[d];
  for (int64_t o = 0; o < n_out; o++) out[0].v[o] = 0.0;
  for (int64_t i = 0; i < n; i++) {
    int64_t o = 0;
    if (!c->ip[3]) {
      unravel(i, x->ndim, x->shape, idx);
      for (int k = 0; k < x->ndim; k++)
        if (k != d) o = o * x->shape[k] + idx[k];
    }
    out[0].v[o] += x->v[i];
  }
  if (c->ip[2]) {
    double count = c->ip[3] ? (double)n : (double)x->shape[d];
    for (int64_t o = 0; o < n_out; o++) out[0].v[o] /= count;
  }
}

/* ---- shapes ---- */

void ref_identity(const op_case *c, const rbuf *in, rbuf *out) {
  memcpy(out[0].v, in[0].v, sizeof(double) * (size_t)rb_numel(in[0].ndim, in[0].shape));
}

/* Gathers x through an arbitrary (shape, strides, offset) view. */
static void gather_view(const rbuf *x, int ndim, const int64_t *shape, const int64_t *strides,
                        int64_t offset, double *dst) {
  int64_t n = rb_numel(ndim, shape), idx[SB_MAX_DIMS];
  for (int64_t i = 0; i < n; i++) {
    unravel(i, ndim, shape, idx);
    int64_t off = offset;
    for (int k = 0; k < ndim; k++) off += idx[k] * strides[k];
    dst[i] = x->v[off];
  }
}

/* ip[0 .. ndim-1]: the permutation */
void ref_permute(const op_case *c, const rbuf *in, rbuf *out) {
  const rbuf *x = &in[0];
  int64_t st[SB_MAX_DIMS], shape[SB_MAX_DIMS], pst[SB_MAX_DIMS];
  rb_strides(x->ndim, x->shape, st);
  for (int i = 0; i < x->ndim; i++) shape[i] = x->shape[c->ip[i]], pst[i] = st[c->ip[i]];
  gather_view(x, x->ndim, shape, pst, 0, out[0].v);
}

/* ip[0], ip[1]: the two dims swapped (negative from the end) */
void ref_transpose(const op_case *c, const rbuf *in, rbuf *out) {
  const rbuf *x = &in[0];
  int a = norm_dim(c->ip[0], x->ndim), b = norm_dim(c->ip[1], x->ndim);
  int64_t st[SB_MAX_DIMS], shape[SB_MAX_DIMS], pst[SB_MAX_DIMS];
  rb_strides(x->ndim, x->shape, st);
  for (int i = 0; i < x->ndim; i++) {
    int s = i == a ? b : i == b ? a : i;
    shape[i] = x->shape[s], pst[i] = st[s];
  }
  gather_view(x, x->ndim, shape, pst, 0, out[0].v);
}

static void narrow_into(const rbuf *x, int d, int64_t start, int64_t len, double *dst) {
  int64_t st[SB_MAX_DIMS], shape[SB_MAX_DIMS];
  rb_strides(x->ndim, x->shape, st);
  memcpy(shape, x->shape, sizeof shape);
  shape[d] = len;
  gather_view(x, x->ndim, shape, st, start * st[d], dst);
}

/* ip[0] dim, ip[1] start, ip[2] length */
void ref_narrow(const op_case *c, const rbuf *in, rbuf *out) {
  narrow_into(&in[0], norm_dim(c->ip[0], in[0].ndim), c->ip[1], c->ip[2], out[0].v);
}

/* ip[0] dim, ip[1] start, ip[2] end, Python's x[start:end] */
void ref_slice(const op_case *c, const rbuf *in, rbuf *out) {
  int d = norm_dim(c->ip[0], in[0].ndim);
  int64_t n = in[0].shape[d], s = c->ip[1], e = c->ip[2];
  if (s < 0) s += n;
  if (e < 0) e += n;
  if (s < 0) s = 0;
  if (s > n) s = n;
  if (e > n) e = n;
  if (e < s) e = s;
  narrow_into(&in[0], d, s, e - s, out[0].v);
}

/* ip[0]: the destination dtype */
void ref_cast(const op_case *c, const rbuf *in, rbuf *out) {
  int64_t n = rb_numel(in[0].ndim, in[0].shape);
  sb_dtype dt = (sb_dtype)c->ip[0];
  for (int64_t i = 0; i < n; i++) {
    double v = in[0].v[i];
    out[0].v[i] = sb_dtype_is_float(dt) ? ref_round_to(v, dt) : trunc(v);
  }
}

/* The straight-through convention: a cast passes its gradient unchanged. */
void ref_grad_cast(const op_case *c, const rbuf *in, const rbuf *r, int i, double *g) {
  memcpy(g, r[0].v, sizeof(double) * (size_t)rb_numel(in[0].ndim, in[0].shape));
}

/* ip[0] dim; all inputs */
void ref_concat(const op_case *c, const rbuf *in, rbuf *out) {
  const rbuf *o = &out[0];
  int d = norm_dim(c->ip[0], o->ndim);
  int64_t outer = rb_numel(d, o->shape), inner = rb_numel(o->ndim - d - 1, o->shape + d + 1);
  int64_t at = 0;
  for (int k = 0; k < c->n_in; k++) {
    int64_t len = in[k].shape[d];
    for (int64_t a = 0; a < outer; a++)
      for (int64_t j = 0; j < len; j++)
        for (int64_t b = 0; b < inner; b++)
          o->v[(a * o->shape[d] + at + j) * inner + b] = in[k].v[(a * len + j) * inner + b];
    at += len;
  }
}

/* ip[0] dim, ip[1] number of pieces, ip[2..] sizes */
void ref_split(const op_case *c, const rbuf *in, rbuf *out) {
  int d = norm_dim(c->ip[0], in[0].ndim);
  int64_t at = 0;
  for (int k = 0; k < c->ip[1]; k++) {
    narrow_into(&in[0], d, at, c->ip[2 + k], out[k].v);
    at += c->ip[2 + k];
  }
}

/* ip[0] dim; in[1] the index */
void ref_index_select(const op_case *c, const rbuf *in, rbuf *out) {
  const rbuf *x = &in[0];
  int d = norm_dim(c->ip[0], x->ndim);
  int64_t outer = rb_numel(d, x->shape), inner = rb_numel(x->ndim - d - 1, x->shape + d + 1);
  int64_t n = in[1].shape[0];
  for (int64_t a = 0; a < outer; a++)
    for (int64_t i = 0; i < n; i++) {
      int64_t s = (int64_t)in[1].v[i];
      for (int64_t b = 0; b < inner; b++)
        out[0].v[(a * n + i) * inner + b] = x->v[(a * x->shape[d] + s) * inner + b];
    }
}

void ref_embedding(const op_case *c, const rbuf *in, rbuf *out) {
  int64_t D = in[0].shape[1], n = rb_numel(in[1].ndim, in[1].shape);
  for (int64_t t = 0; t < n; t++)
    for (int64_t j = 0; j < D; j++) out[0].v[t * D + j] = in[0].v[(int64_t)in[1].v[t] * D + j];
}

/* nn.Embedding(padding_idx = ip[0]): the padding row gets no gradient. */
void ref_grad_embedding(const op_case *c, const rbuf *in, const rbuf *r, int i, double *g) {
  int64_t V = in[0].shape[0], D = in[0].shape[1], n = rb_numel(in[1].ndim, in[1].shape);
  for (int64_t k = 0; k < V * D; k++) g[k] = 0.0;
  for (int64_t t = 0; t < n; t++) {
    int64_t id = (int64_t)in[1].v[t];
    if (id == c->ip[0]) continue;
    for (int64_t j = 0; j < D; j++) g[id * D + j] += r[0].v[t * D + j];
  }
}

/* ---- normalisation ---- */

/* ip[0] has weight, ip[1] has bias (inputs x, [w], [b]); fp[0] eps */
void ref_layer_norm(const op_case *c, const rbuf *in, rbuf *out) {
  int64_t d = last(&in[0]), R = rows_of(&in[0]);
  const double *w = c->ip[0] ? in[1].v : NULL, *b = c->ip[1] ? in[c->ip[0] ? 2 : 1].v : NULL;
  for (int64_t r = 0; r < R; r++) {
    const double *x = in[0].v + r * d;
    double mu = 0.0, var = 0.0;
    for (int64_t j = 0; j < d; j++) mu += x[j];
    mu /= (double)d;
    for (int64_t j = 0; j < d; j++) var += (x[j] - mu) * (x[j] - mu);
    var /= (double)d;
    for (int64_t j = 0; j < d; j++)
      out[0].v[r * d + j] = (x[j] - mu) / sqrt(var + c->fp[0]) * (w ? w[j] : 1.0) + (b ? b[j] : 0.0);
  }
}

/* ip[0] has weight; fp[0] eps */
void ref_rms_norm(const op_case *c, const rbuf *in, rbuf *out) {
  int64_t d = last(&in[0]), R = rows_of(&in[0]);
  const double *w = c->ip[0] ? in[1].v : NULL;
  for (int64_t r = 0; r < R; r++) {
    const double *x = in[0].v + r * d;
    double ms = 0.0;
    for (int64_t j = 0; j < d; j++) ms += x[j] * x[j];
    ms /= (double)d;
    for (int64_t j = 0; j < d; j++) out[0].v[r * d + j] = x[j] / sqrt(ms + c->fp[0]) * (w ? w[j] : 1.0);
  }
}

static void softmax_rows(const double *x, int64_t R, int64_t n, double *y) {
  for (int64_t r = 0; r < R; r++) {
    double mx = -INFINITY, s = 0.0;
    for (int64_t j = 0; j < n; j++) mx = fmax(mx, x[r * n + j]);
    for (int64_t j = 0; j < n; j++) s += exp(x[r * n + j] - mx);
    for (int64_t j = 0; j < n; j++) y[r * n + j] = exp(x[r * n + j] - mx) / s;
  }
}

void ref_softmax(const op_case *c, const rbuf *in, rbuf *out) {
  softmax_rows(in[0].v, rows_of(&in[0]), last(&in[0]), out[0].v);
}

/* ---- attention: ip[0] causal, ip[1] a key mask is in[3]; fp[0] scale (0: hd^-1/2) ---- */

void ref_attention(const op_case *c, const rbuf *in, rbuf *out) {
  const rbuf *q = &in[0], *k = &in[1], *v = &in[2];
  const double *mask = c->ip[1] ? in[3].v : NULL;
  int64_t B = q->shape[0], Tq = q->shape[1], Hq = q->shape[2], hd = q->shape[3];
  int64_t Tk = k->shape[1], Hkv = k->shape[2], G = Hq / Hkv;
  double scale = c->fp[0] != 0.0 ? c->fp[0] : 1.0 / sqrt((double)hd);
  double *s = malloc(sizeof(double) * (size_t)Tk);
  bool *vis = malloc(sizeof(bool) * (size_t)Tk);
  for (int64_t b = 0; b < B; b++)
    for (int64_t h = 0; h < Hq; h++)
      for (int64_t i = 0; i < Tq; i++) {
        int64_t g = h / G;
        const double *qi = q->v + ((b * Tq + i) * Hq + h) * hd;
        double mx = -INFINITY, sum = 0.0;
        for (int64_t j = 0; j < Tk; j++) {
          vis[j] = (!c->ip[0] || j <= i + (Tk - Tq)) && (!mask || mask[b * Tk + j] != 0.0);
          const double *kj = k->v + ((b * Tk + j) * Hkv + g) * hd;
          double dot = 0.0;
          for (int64_t e = 0; e < hd; e++) dot += qi[e] * kj[e];
          s[j] = dot * scale;
          if (vis[j]) mx = fmax(mx, s[j]);
        }
        for (int64_t j = 0; j < Tk; j++) sum += vis[j] ? exp(s[j] - mx) : 0.0;
        double *o = out[0].v + ((b * Tq + i) * Hq + h) * hd;
        for (int64_t e = 0; e < hd; e++) o[e] = 0.0;
        if (sum == 0.0) continue; /* no visible key: the row is 0 */
        for (int64_t j = 0; j < Tk; j++) {
          if (!vis[j]) continue;
          double p = exp(s[j] - mx) / sum;
          const double *vj = v->v + ((b * Tk + j) * Hkv + g) * hd;
          for (int64_t e = 0; e < hd; e++) o[e] += p * vj[e];
        }
      }
  free(s), free(vis);
}

/* ---- rotary embedding ---- */

/* The angle table [R, hd] (per batch entry b for the batched kind) as
 * ops.h and MODELS.md A.3 / C.2 define it. ip[0] kind, ip[2] R (or rows),
 * ip[3] cols; fp[0] theta; pos: the positions input (or NULL). */
static void rope_angles(const op_case *c, const rbuf *pos, int64_t b, int64_t hd, double *ang) {
  double theta = c->fp[0];
  if (c->ip[0] == ROPE_2D) {
    int64_t rows = c->ip[2], cols = c->ip[3], F = hd / 4;
    for (int64_t i = 0; i < rows; i++)
      for (int64_t j = 0; j < cols; j++) {
        double cy = 2.0 * (i + 0.5) / (double)rows - 1.0, cx = 2.0 * (j + 0.5) / (double)cols - 1.0;
        double *a = ang + (i * cols + j) * hd;
        for (int64_t k = 0; k < F; k++) {
          double inv = pow(theta, -4.0 * (double)k / (double)hd);
          a[k] = a[2 * F + k] = 2.0 * M_PI * cy * inv;
          a[F + k] = a[3 * F + k] = 2.0 * M_PI * cx * inv;
        }
      }
    return;
  }
  int64_t R = c->ip[2], half = hd / 2;
  for (int64_t r = 0; r < R; r++) {
    double p = c->ip[0] == ROPE_1D_NULL ? (double)r
               : c->ip[0] == ROPE_1D_BATCHED ? pos->v[b * R + r] : pos->v[r];
    for (int64_t i = 0; i < half; i++)
      ang[r * hd + i] = ang[r * hd + half + i] = p * pow(theta, -2.0 * (double)i / (double)hd);
  }
}

static int64_t rope_rows(const op_case *c) { return c->ip[0] == ROPE_2D ? c->ip[2] * c->ip[3] : c->ip[2]; }

/* y = x⊙cos + rotate_half(x)⊙sin on tokens first .. first+R-1 (ip[1] first) */
void ref_rope(const op_case *c, const rbuf *in, rbuf *out) {
  const rbuf *x = &in[0], *pos = c->n_in > 1 ? &in[1] : NULL;
  int64_t B = x->shape[0], T = x->shape[1], H = x->shape[2], hd = x->shape[3], half = hd / 2;
  int64_t R = rope_rows(c), first = c->ip[1];
  double *ang = malloc(sizeof(double) * (size_t)(R * hd));
  for (int64_t b = 0; b < B; b++) {
    rope_angles(c, pos, b, hd, ang);
    for (int64_t t = 0; t < T; t++)
      for (int64_t h = 0; h < H; h++) {
        const double *xv = x->v + ((b * T + t) * H + h) * hd;
        double *y = out[0].v + ((b * T + t) * H + h) * hd;
        int64_t r = t - first;
        for (int64_t j = 0; j < hd; j++) {
          if (r < 0 || r >= R) {
            y[j] = xv[j];
            continue;
          }
          double rot = j < half ? -xv[j + half] : xv[j - half];
          y[j] = xv[j] * cos(ang[r * hd + j]) + rot * sin(ang[r * hd + j]);
        }
      }
  }
  free(ang);
}

/* out[0] cos, out[1] sin, [R, hd] (the 1-D and 2-D kinds) */
void ref_rope_tables(const op_case *c, const rbuf *in, rbuf *out) {
  int64_t hd = out[0].shape[1], R = rope_rows(c);
  double *ang = malloc(sizeof(double) * (size_t)(R * hd));
  rope_angles(c, c->n_in > 0 ? &in[0] : NULL, 0, hd, ang);
  for (int64_t i = 0; i < R * hd; i++) out[0].v[i] = cos(ang[i]), out[1].v[i] = sin(ang[i]);
  free(ang);
}

/* ---- losses ---- */

/* ip[0] ignore_index, ip[1] reduction; fp[0] divisor */
void ref_cross_entropy(const op_case *c, const rbuf *in, rbuf *out) {
  int64_t N = in[0].shape[0], V = in[0].shape[1], count = 0;
  double total = 0.0;
  for (int64_t r = 0; r < N; r++) {
    int64_t t = (int64_t)in[1].v[r];
    if (t == c->ip[0]) continue;
    const double *z = in[0].v + r * V;
    double mx = -INFINITY, s = 0.0;
    for (int64_t j = 0; j < V; j++) mx = fmax(mx, z[j]);
    for (int64_t j = 0; j < V; j++) s += exp(z[j] - mx);
    total += mx + log(s) - z[t];
    count++;
  }
  if (c->ip[1] == SB_REDUCTION_MEAN) out[0].v[0] = count ? total / (double)count : 0.0;
  else out[0].v[0] = c->fp[0] > 0 ? total / c->fp[0] : total;
}

/* in[0] hidden [N, D], in[1] weight [V, D], in[2] targets: the logits in
 * double, then ref_cross_entropy (ip[0] ignore_index, ip[1] reduction,
 * fp[0] divisor; ip[2], the block, does not change the result). */
void ref_linear_cross_entropy(const op_case *c, const rbuf *in, rbuf *out) {
  int64_t N = in[0].shape[0], D = in[0].shape[1], V = in[1].shape[0];
  rbuf z[2] = {{.v = malloc(sizeof(double) * (size_t)(N * V + 1)), .ndim = 2, .shape = {N, V}}, in[2]};
  for (int64_t r = 0; r < N; r++)
    for (int64_t v = 0; v < V; v++) {
      double acc = 0.0;
      for (int64_t d = 0; d < D; d++) acc += in[0].v[r * D + d] * in[1].v[v * D + d];
      z[0].v[r * V + v] = acc;
    }
  ref_cross_entropy(c, z, out);
  free(z[0].v);
}

void ref_mse(const op_case *c, const rbuf *in, rbuf *out) {
  int64_t n = rb_numel(in[0].ndim, in[0].shape);
  double s = 0.0;
  for (int64_t i = 0; i < n; i++) s += (in[0].v[i] - in[1].v[i]) * (in[0].v[i] - in[1].v[i]);
  out[0].v[0] = s / (double)n;
}

/* ---- vision ---- */

/* ip[0] patch size P */
void ref_patchify(const op_case *c, const rbuf *in, rbuf *out) {
  const rbuf *x = &in[0];
  int64_t B = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3], P = c->ip[0];
  int64_t Hp = H / P, Wp = W / P, K = C * P * P;
  for (int64_t b = 0; b < B; b++)
    for (int64_t gy = 0; gy < Hp; gy++)
      for (int64_t gx = 0; gx < Wp; gx++)
        for (int64_t ch = 0; ch < C; ch++)
          for (int64_t ky = 0; ky < P; ky++)
            for (int64_t kx = 0; kx < P; kx++)
              out[0].v[((b * Hp * Wp) + gy * Wp + gx) * K + (ch * P + ky) * P + kx] =
                  x->v[((b * C + ch) * H + gy * P + ky) * W + gx * P + kx];
}

/* ip[0] sb_mix_mode */
void ref_mix(const op_case *c, const rbuf *in, rbuf *out) {
  int64_t d = last(&in[0]), n = rb_numel(in[0].ndim, in[0].shape);
  for (int64_t i = 0; i < n; i++) {
    double a = in[0].v[i], b = in[1].v[i], al = in[2].v[i % d];
    out[0].v[i] = c->ip[0] == SB_MIX_SIGMOID ? sigmoid(al) * a + (1.0 - sigmoid(al)) * b
                                             : a + tanh(al) * b;
  }
}

/* ---- compositions ---- */

/* logits = W[ids] · Wᵀ: one weight read by embedding and by linear. */
void ref_tied_embedding(const op_case *c, const rbuf *in, rbuf *out) {
  int64_t V = in[0].shape[0], D = in[0].shape[1], n = rb_numel(in[1].ndim, in[1].shape);
  for (int64_t t = 0; t < n; t++) {
    const double *h = in[0].v + (int64_t)in[1].v[t] * D;
    for (int64_t o = 0; o < V; o++) {
      double s = 0.0;
      for (int64_t j = 0; j < D; j++) s += h[j] * in[0].v[o * D + j];
      out[0].v[t * V + o] = s;
    }
  }
}

/* permute(f(x)): ip[0] UN_*, ip[1 ..] the permutation */
void ref_unary_then_permute(const op_case *c, const rbuf *in, rbuf *out) {
  const rbuf *x = &in[0];
  int64_t n = rb_numel(x->ndim, x->shape);
  rbuf y = *x;
  y.v = malloc(sizeof(double) * (size_t)n);
  for (int64_t i = 0; i < n; i++) y.v[i] = unary(c->ip[0], x->v[i], c->fp[0], c->fp[1]);
  op_case pc = *c;
  for (int i = 0; i < x->ndim; i++) pc.ip[i] = c->ip[1 + i];
  ref_permute(&pc, &y, out);
  free(y.v);
}

/* concat(softmax(a), softmax(b)) along ip[0] */
void ref_concat_of_softmax(const op_case *c, const rbuf *in, rbuf *out) {
  rbuf s[2];
  for (int k = 0; k < 2; k++) {
    s[k] = in[k];
    s[k].v = malloc(sizeof(double) * (size_t)rb_numel(in[k].ndim, in[k].shape));
    softmax_rows(in[k].v, rows_of(&in[k]), last(&in[k]), s[k].v);
  }
  op_case cc = *c;
  cc.n_in = 2;
  ref_concat(&cc, s, out);
  free(s[0].v), free(s[1].v);
}

/* x + xᵀ over the last two dims (x square there) */
void ref_x_plus_xt(const op_case *c, const rbuf *in, rbuf *out) {
  const rbuf *x = &in[0];
  int64_t n = x->shape[x->ndim - 1], batch = rb_numel(x->ndim - 2, x->shape);
  for (int64_t b = 0; b < batch; b++)
    for (int64_t i = 0; i < n; i++)
      for (int64_t j = 0; j < n; j++)
        out[0].v[(b * n + i) * n + j] = x->v[(b * n + i) * n + j] + x->v[(b * n + j) * n + i];
}
