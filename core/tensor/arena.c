/* arena.c — the reusable per-backend arena (see arena.h). */
#include "arena.h"

#include <string.h>

#include "tensor_impl.h"

void sb_arena_init(sb_arena *a) {
  memset(a, 0, sizeof *a);
  pthread_mutex_init(&a->lock, NULL);
}

/* Class index and size: 64-byte steps up to 4096 (classes 0..63), then four
 * classes per octave: 2^e·(1 + k/4). */
static int arena_class(size_t n, size_t *bytes) {
  *bytes = n;
  if (n <= 4096) {
    size_t c = n ? (n + 63) / 64 : 1;
    *bytes = c * 64;
    return (int)c - 1;
  }
  int e = 63 - __builtin_clzll((unsigned long long)n); /* 2^e <= n < 2^(e+1) */
  size_t base = (size_t)1 << e;
  for (int k = 0; k <= 4; k++) {
    size_t s = base + (base / 4) * (size_t)k;
    if (s >= n) {
      if (k == 4) { /* next octave, class k = 0 */
        *bytes = s;
        return 64 + (e + 1 - 12) * 4;
      }
      *bytes = s;
      return 64 + (e - 12) * 4 + k;
    }
  }
  return -1; /* unreachable */
}

/* The size of class c (the inverse of arena_class). */
static size_t class_bytes(int c) {
  if (c < 64) return (size_t)(c + 1) * 64;
  int e = 12 + (c - 64) / 4, k = (c - 64) % 4;
  return ((size_t)1 << e) + (((size_t)1 << e) / 4) * (size_t)k;
}

size_t sb_arena_class_bytes(size_t n) {
  size_t b;
  arena_class(n, &b);
  return b;
}

void *sb_arena_alloc(sb_backend *be, size_t n, size_t *block_bytes) {
  sb_arena *a = &be->arena;
  size_t bytes;
  int c = arena_class(n, &bytes);
  void *p = NULL;
  pthread_mutex_lock(&a->lock);
  a->arena_allocs++;
  /* its own class, else (large blocks) a cached one up to four classes
   * (at most 2x) bigger: batches of varying length reuse each other's */
  int last = c < 64 ? c : SB_MIN(c + 4, SB_ARENA_CLASSES - 1);
  for (int k = c; c >= 0 && k <= last && !p; k++) {
    if (!a->free_blocks[k].len) continue;
    p = a->free_blocks[k].items[--a->free_blocks[k].len];
    bytes = class_bytes(k);
    a->cached -= bytes;
  }
  pthread_mutex_unlock(&a->lock);
  if (!p) {
    p = be->vt->alloc(be->self, bytes);
    if (!p && a->cached) { /* give cached blocks back and try once more */
      sb_arena_trim(be);
      p = be->vt->alloc(be->self, bytes);
    }
    if (!p) {
      sb_error_set(SB_ERR_NOMEM, "%s: out of memory allocating %zu bytes", be->vt->name, bytes);
      return NULL;
    }
    pthread_mutex_lock(&a->lock);
    a->backend_allocs++;
    pthread_mutex_unlock(&a->lock);
  }
  pthread_mutex_lock(&a->lock);
  a->in_use += bytes;
  if (a->in_use > a->peak) a->peak = a->in_use;
  pthread_mutex_unlock(&a->lock);
  *block_bytes = bytes;
  return p;
}

void sb_arena_free(sb_backend *be, void *ptr, size_t block_bytes) {
  sb_arena *a = &be->arena;
  size_t bytes;
  int c = arena_class(block_bytes, &bytes);
  pthread_mutex_lock(&a->lock);
  a->in_use -= block_bytes;
  /* blocks in use and cached together stay within twice the most ever in
   * use at once, however shapes vary; within that the block just freed is
   * kept, as the likeliest to be asked for again (a chunked loop frees and
   * takes back the same size while the cache holds the step's others) */
  bool cached = c >= 0 && c < SB_ARENA_CLASSES &&
                a->in_use + a->cached + block_bytes <= 2 * SB_MAX(a->peak, SB_ARENA_MIN_CACHE) &&
                sb_ptrvec_push(&a->free_blocks[c], ptr) == SB_OK;
  if (cached) a->cached += block_bytes;
  pthread_mutex_unlock(&a->lock);
  if (!cached) be->vt->free(be->self, ptr, block_bytes);
}

void sb_arena_trim(sb_backend *be) {
  sb_arena *a = &be->arena;
  pthread_mutex_lock(&a->lock);
  for (int c = 0; c < SB_ARENA_CLASSES; c++) {
    sb_ptrvec *v = &a->free_blocks[c];
    for (size_t i = 0; i < v->len; i++) {
      be->vt->free(be->self, v->items[i], class_bytes(c));
    }
    v->len = 0;
  }
  a->cached = 0;
  pthread_mutex_unlock(&a->lock);
}
