/* param_store.c — the parameter store and its per-component scopes (sdk
 * params.h, param_store.h): declaration with seeded initialisation, lookup,
 * trainable selection, and loading from safetensors files. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autograd_impl.h"
#include "param_store.h"
#include "spatialboost/ops.h"
#include "spatialboost/safetensors.h"
#include "st_internal.h"
#include "util.h"

struct sb_params {
  sb_param_store *store;
  char *prefix;
  sb_ptrvec params; /* sb_param *, declaration order */
};

struct sb_param_store {
  uint64_t seed;
  sb_ptrvec params; /* sb_param * */
  sb_ptrvec scopes; /* sb_params * */
  sb_map by_name;
};

sb_param_store *sb_param_store_new(uint64_t seed) {
  sb_param_store *s = sb_calloc(1, sizeof *s);
  if (!s) return NULL;
  s->seed = seed;
  sb_map_init(&s->by_name);
  return s;
}

void sb_param_store_free(sb_param_store *s) {
  if (!s) return;
  for (size_t i = 0; i < s->params.len; i++) {
    sb_param *p = s->params.items[i];
    sb_tensor_release(p->tensor);
    free(p->name), free(p->group), free(p);
  }
  for (size_t i = 0; i < s->scopes.len; i++) {
    sb_params *sc = s->scopes.items[i];
    sb_ptrvec_free(&sc->params);
    free(sc->prefix), free(sc);
  }
  sb_ptrvec_free(&s->params), sb_ptrvec_free(&s->scopes);
  sb_map_free(&s->by_name);
  free(s);
}

sb_params *sb_param_store_scope(sb_param_store *s, const char *prefix) {
  for (size_t i = 0; i < s->scopes.len; i++) {
    sb_params *sc = s->scopes.items[i];
    if (strcmp(sc->prefix, prefix) == 0) return sc;
  }
  sb_params *sc = sb_calloc(1, sizeof *sc);
  if (!sc || !(sc->prefix = sb_strdup(prefix)) || sb_ptrvec_push(&s->scopes, sc)) {
    if (sc) free(sc->prefix);
    free(sc);
    return NULL;
  }
  sc->store = s;
  return sc;
}

size_t sb_param_store_count(const sb_param_store *s) { return s->params.len; }
sb_param *sb_param_store_at(const sb_param_store *s, size_t i) { return s->params.items[i]; }
sb_param *sb_param_store_find(const sb_param_store *s, const char *name) {
  return sb_map_get(&s->by_name, name);
}
size_t sb_params_count(const sb_params *p) { return p->params.len; }
sb_param *sb_params_at(const sb_params *p, size_t i) { return p->params.items[i]; }
const char *sb_params_prefix(const sb_params *p) { return p->prefix; }

/* Fills n host values for `init`, drawing the next ones from rng. */
static int init_values(float *v, int64_t n, sb_init init, sb_rng *rng, const char *name) {
  for (int64_t i = 0; i < n; i++) {
    switch (init.kind) {
    case SB_INIT_ZEROS: v[i] = 0.0f; break;
    case SB_INIT_ONES: v[i] = 1.0f; break;
    case SB_INIT_CONSTANT: v[i] = (float)init.a; break;
    case SB_INIT_NORMAL: v[i] = (float)(init.a + init.b * sb_rng_normal(rng)); break;
    case SB_INIT_UNIFORM: v[i] = (float)(init.a + (init.b - init.a) * sb_rng_uniform(rng)); break;
    case SB_INIT_TRUNC_NORMAL: {
      double z;
      do z = sb_rng_normal(rng);
      while (fabs(z) > 2.0);
      v[i] = (float)(init.a + init.b * z);
      break;
    }
    default: return sb_error("parameter '%s': unknown init kind %d", name, (int)init.kind);
    }
  }
  return SB_OK;
}

/* A new [shape] tensor holding `init`'s values from the stream keyed by the
 * name, drawn a block at a time: the host buffer is 4 MB, never a second
 * copy of the tensor (a 151,936-word embedding is 545 MB). */
static sb_tensor *init_tensor(int ndim, const int64_t *shape, sb_init init, uint64_t seed, const char *name) {
  enum { BLOCK = 1 << 20 };
  int64_t n = sb_shape_numel(ndim, shape);
  sb_tensor *t = sb_tensor_new(SB_DTYPE_F32, ndim, shape);
  float *v = sb_malloc(sizeof(float) * (size_t)SB_MAX(1, SB_MIN(n, BLOCK)));
  int rc = t && v ? SB_OK : SB_ERR_NOMEM;
  sb_rng rng;
  sb_rng_seed_named(&rng, seed, name);
  sb_scope_begin();
  sb_tensor *flat = rc == SB_OK && n > BLOCK ? sb_op_reshape(t, 1, &n) : NULL;
  for (int64_t a = 0; rc == SB_OK && a < n; a += BLOCK) {
    const int64_t e = SB_MIN(n, a + BLOCK);
    rc = init_values(v, e - a, init, &rng, name);
    if (rc == SB_OK) rc = sb_tensor_assign_host(flat ? sb_op_slice(flat, 0, a, e) : t, v, SB_DTYPE_F32);
  }
  sb_scope_end();
  free(v);
  if (rc == SB_OK) return t;
  sb_tensor_release(t);
  return NULL;
}

sb_tensor *sb_params_add(sb_params *p, const char *name, int ndim, const int64_t *shape, sb_init init,
                         const char *group) {
  char *full = sb_asprintf("%s%s", p->prefix, name);
  if (!full) return NULL;
  if (sb_map_has(&p->store->by_name, full)) {
    sb_error("parameter '%s' is declared twice", full);
    free(full);
    return NULL;
  }
  sb_param *prm = sb_calloc(1, sizeof *prm);
  sb_tensor *t = prm ? init_tensor(ndim, shape, init, p->store->seed, full) : NULL;
  if (!t) {
    free(prm), free(full);
    return NULL;
  }
  /* The store owns the parameter beyond any scope the plugin runs in. */
  if (sb_scope_depth() > 0) sb_tensor_retain(t);
  sb_tensor_set_name(t, full);
  prm->name = full;
  prm->local = full + strlen(p->prefix);
  prm->group = group ? sb_strdup(group) : NULL;
  prm->tensor = t;
  if (sb_ptrvec_push(&p->store->params, prm) || sb_ptrvec_push(&p->params, prm) ||
      sb_map_set(&p->store->by_name, full, prm))
    return NULL;
  return t;
}

sb_tensor *sb_params_get(sb_params *p, const char *name) {
  char *full = sb_asprintf("%s%s", p->prefix, name);
  if (!full) return NULL;
  sb_param *prm = sb_map_get(&p->store->by_name, full);
  free(full);
  return prm ? prm->tensor : NULL;
}

bool sb_glob_match(const char *pat, const char *s) {
  if (!*pat) return !*s;
  if (*pat == '*') return sb_glob_match(pat + 1, s) || (*s && sb_glob_match(pat, s + 1));
  if (!*s) return false;
  return (*pat == '?' || *pat == *s) && sb_glob_match(pat + 1, s + 1);
}

/* "projector" matches projector.*; "encoder.dual" matches params of group
 * "dual" under "encoder."; anything with * or ? is a glob on the name. */
static bool pattern_matches(const char *pattern, const sb_param *p) {
  if (strpbrk(pattern, "*?")) return sb_glob_match(pattern, p->name);
  if (strcmp(pattern, p->name) == 0) return true;
  size_t n = strlen(pattern);
  if (strncmp(pattern, p->name, n) == 0 && p->name[n] == '.') return true;
  const char *dot = strrchr(pattern, '.');
  if (dot && p->group && strcmp(dot + 1, p->group) == 0) {
    size_t comp = (size_t)(dot - pattern);
    return strncmp(pattern, p->name, comp) == 0 && p->name[comp] == '.';
  }
  return false;
}

int64_t sb_param_store_set_trainable(sb_param_store *s, const char *pattern, bool trainable) {
  int64_t hits = 0;
  for (size_t i = 0; i < s->params.len; i++) {
    sb_param *p = s->params.items[i];
    if (!pattern_matches(pattern, p)) continue;
    p->trainable = trainable;
    sb_tensor_set_requires_grad(p->tensor, trainable);
    if (!trainable) sb_tensor_free_grad(p->tensor);
    hits++;
  }
  return hits;
}

int64_t sb_param_store_numel(const sb_param_store *s, bool trainable_only) {
  int64_t n = 0;
  for (size_t i = 0; i < s->params.len; i++) {
    sb_param *p = s->params.items[i];
    if (!trainable_only || p->trainable) n += sb_tensor_numel(p->tensor);
  }
  return n;
}

/* ---- loading ---- */

/* Copies (converting) the file's values into the parameter, or, for a
 * float32 parameter on the cpu, points it at the file's mapping: frozen
 * weights are then used in place, and trained ones copy only the pages they
 * write (the mapping is private). */
static int load_one(sb_param *prm, const sb_st_set *set, const sb_st_tensor *st) {
  char a[64], b[64];
  const sb_tensor *t = prm->tensor;
  if (st->ndim != sb_tensor_ndim(t) ||
      memcmp(st->shape, sb_tensor_shape(t), sizeof(int64_t) * (size_t)st->ndim) != 0)
    return sb_error_set(SB_ERR_SHAPE, "%s: tensor '%s' has shape %s, expected %s", st->file, st->name,
                        sb_shape_str(st->ndim, st->shape, a, 64), sb_tensor_shape_str(t, b, 64));
  if (!sb_dtype_is_float(st->dtype))
    return sb_error_set(SB_ERR_FORMAT, "%s: tensor '%s' is %s, expected a float dtype", st->file, st->name,
                        sb_dtype_name(st->dtype));
  if (sb_safetensors_alias(sb_st_set_file_of(set, st->name), st, prm->tensor)) return SB_OK;
  int64_t n = sb_tensor_numel(t);
  size_t es = sb_dtype_size(st->dtype);
  void *tmp = sb_malloc(es * (size_t)(n ? n : 1)); /* aligned copy of possibly unaligned data */
  if (!tmp) return SB_ERR_NOMEM;
  memcpy(tmp, st->data, es * (size_t)n);
  int rc = sb_tensor_assign_host(prm->tensor, tmp, st->dtype);
  free(tmp);
  return rc;
}

int sb_params_load(sb_params *p, const char *path, const char *file_prefix, unsigned flags) {
  const char *fp = file_prefix ? file_prefix : "";
  sb_st_set *set = sb_st_set_open(path);
  if (!set) return SB_ERR;
  int rc = SB_OK, loaded = 0;
  for (size_t i = 0; i < p->params.len && rc == SB_OK; i++) {
    sb_param *prm = p->params.items[i];
    char *fname = sb_asprintf("%s%s", fp, prm->local);
    if (!fname) {
      rc = SB_ERR_NOMEM;
      break;
    }
    const sb_st_tensor *st = sb_st_set_find(set, fname);
    if (st) {
      rc = load_one(prm, set, st);
      loaded += rc == SB_OK;
    } else if (!(flags & SB_LOAD_ALLOW_MISSING)) {
      char a[64];
      rc = sb_error_set(SB_ERR_NOT_FOUND, "%s: tensor '%s' (expected shape %s) is missing",
                        sb_st_set_path(set), fname, sb_tensor_shape_str(prm->tensor, a, 64));
    }
    free(fname);
  }
  size_t fpl = strlen(fp);
  for (size_t i = 0; i < sb_st_set_count(set) && rc == SB_OK && !(flags & SB_LOAD_ALLOW_UNEXPECTED); i++) {
    const sb_st_tensor *st = sb_st_set_at(set, i);
    if (strncmp(st->name, fp, fpl) != 0) continue;
    char *local = sb_asprintf("%s%s", p->prefix, st->name + fpl);
    bool known = local && sb_map_has(&p->store->by_name, local);
    free(local);
    if (!known)
      rc = sb_error_set(SB_ERR_FORMAT, "%s: holds tensor '%s' that is not a parameter of this model "
                        "(check the checkpoint matches the config)", st->file, st->name);
  }
  sb_st_set_close(set);
  return rc == SB_OK ? loaded : rc;
}
