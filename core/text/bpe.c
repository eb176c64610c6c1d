/* bpe.c — the BPE merge table, the merge loop (a linear scan for short
 * words, a binary heap with a linked list for long ones) and the word cache.
 *
 * The cache is a fixed open-addressing table of pointers to immutable
 * entries. A reader loads a slot (acquire) and compares; a writer builds an
 * entry and publishes it with a compare-and-swap on an empty slot (release).
 * Entries are never changed or removed until the model is freed, so readers
 * take no lock. When the cache holds CACHE_MAX words it stops taking more
 * (as Hugging Face's cache does). */
#include "bpe.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define LINEAR_MAX 64            /* words up to this many bytes use the linear scan */
#define CACHE_SLOTS (1u << 17)   /* power of two */
#define CACHE_MAX (1u << 16)     /* at most half full: probes stay short */
#define CACHE_WORD_MAX 256       /* longer words are not cached */
#define NO_RANK UINT32_MAX

typedef struct merge_slot {
  uint64_t key; /* left << 32 | right; EMPTY_KEY when free */
  uint32_t rank;
  int32_t id;
} merge_slot;
#define EMPTY_KEY UINT64_MAX

typedef struct cache_entry {
  uint64_t hash;
  uint32_t len, n_ids;
  int32_t ids[]; /* n_ids ids, then the word's len bytes */
} cache_entry;

typedef struct word_cache {
  _Atomic(cache_entry *) *slots;
  atomic_size_t count;
} word_cache;

struct sb_bpe {
  merge_slot *merges;
  size_t mask;
  int32_t byte_id[256];
  word_cache *cache; /* NULL when off */
  word_cache *cache_store;
};

int sb_idvec_push(sb_idvec *v, int64_t id) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 64;
    int64_t *p = sb_realloc(v->v, cap * sizeof *p);
    if (!p) return SB_ERR_NOMEM;
    v->v = p, v->cap = cap;
  }
  v->v[v->n++] = id;
  return SB_OK;
}

/* ---- merge table ---- */

static inline size_t pair_slot(uint64_t key, size_t mask) {
  return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & mask;
}

static inline uint64_t pair_key(int32_t left, int32_t right) {
  return (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
}

static inline const merge_slot *merge_find(const sb_bpe *b, int32_t left, int32_t right) {
  uint64_t key = pair_key(left, right);
  for (size_t i = pair_slot(key, b->mask);; i = (i + 1) & b->mask) {
    const merge_slot *m = &b->merges[i];
    if (m->key == key) return m;
    if (m->key == EMPTY_KEY) return NULL;
  }
}

static inline uint32_t pair_rank(const sb_bpe *b, int32_t left, int32_t right, int32_t *merged) {
  const merge_slot *m = merge_find(b, left, right);
  if (!m) return NO_RANK;
  *merged = m->id;
  return m->rank;
}

static word_cache *cache_new(void) {
  word_cache *c = sb_calloc(1, sizeof *c);
  if (!c) return NULL;
  if (!(c->slots = sb_calloc(CACHE_SLOTS, sizeof *c->slots))) {
    free(c);
    return NULL;
  }
  for (size_t i = 0; i < CACHE_SLOTS; i++) atomic_init(&c->slots[i], NULL);
  atomic_init(&c->count, 0);
  return c;
}

static void cache_free(word_cache *c) {
  if (!c) return;
  for (size_t i = 0; i < CACHE_SLOTS; i++) free(atomic_load_explicit(&c->slots[i], memory_order_relaxed));
  free(c->slots);
  free(c);
}

sb_bpe *sb_bpe_new(size_t n_merges, const int32_t byte_ids[256]) {
  sb_bpe *b = sb_calloc(1, sizeof *b);
  if (!b) return NULL;
  size_t cap = 64;
  while (cap < 2 * n_merges) cap *= 2;
  b->merges = sb_malloc(cap * sizeof *b->merges);
  b->cache_store = cache_new();
  if (!b->merges || !b->cache_store) {
    sb_bpe_free(b);
    return NULL;
  }
  for (size_t i = 0; i < cap; i++) b->merges[i].key = EMPTY_KEY;
  b->mask = cap - 1;
  memcpy(b->byte_id, byte_ids, sizeof b->byte_id);
  b->cache = b->cache_store;
  return b;
}

void sb_bpe_free(sb_bpe *b) {
  if (!b) return;
  free(b->merges);
  cache_free(b->cache_store);
  free(b);
}

int sb_bpe_add(sb_bpe *b, int32_t left, int32_t right, int32_t merged, uint32_t rank) {
  uint64_t key = pair_key(left, right);
  size_t i = pair_slot(key, b->mask), probes = 0;
  while (b->merges[i].key != EMPTY_KEY && b->merges[i].key != key) {
    i = (i + 1) & b->mask;
    if (++probes > b->mask) return sb_error("BPE: more merges than announced");
  }
  b->merges[i] = (merge_slot){key, rank, merged};
  return SB_OK;
}

void sb_bpe_set_cache(sb_bpe *b, bool on) { b->cache = on ? b->cache_store : NULL; }

size_t sb_bpe_cache_count(const sb_bpe *b) { return atomic_load(&b->cache_store->count); }

/* ---- the merge loop ---- */

/* Short words: find the lowest-ranked pair (leftmost on ties), merge it,
 * update its two neighbours' ranks, repeat. */
static size_t merge_linear(const sb_bpe *b, int32_t *sym, size_t n) {
  uint32_t rank[LINEAR_MAX];
  int32_t merged[LINEAR_MAX];
  for (size_t i = 0; i + 1 < n; i++) rank[i] = pair_rank(b, sym[i], sym[i + 1], &merged[i]);
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; i++)
      if (rank[i] < rank[best]) best = i;
    if (rank[best] == NO_RANK) break;
    sym[best] = merged[best];
    size_t tail = n - best - 2; /* symbols after the removed one */
    memmove(sym + best + 1, sym + best + 2, tail * sizeof *sym);
    memmove(rank + best + 1, rank + best + 2, (tail ? tail - 1 : 0) * sizeof *rank);
    memmove(merged + best + 1, merged + best + 2, (tail ? tail - 1 : 0) * sizeof *merged);
    n--;
    if (best > 0) rank[best - 1] = pair_rank(b, sym[best - 1], sym[best], &merged[best - 1]);
    if (best + 1 < n) rank[best] = pair_rank(b, sym[best], sym[best + 1], &merged[best]);
  }
  return n;
}

typedef struct heap_item {
  uint32_t rank, pos; /* pos: index of the pair's left symbol */
} heap_item;

static inline bool item_less(heap_item a, heap_item b) {
  return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos);
}

static void heap_push(heap_item *h, size_t *n, heap_item it) {
  size_t i = (*n)++;
  while (i > 0 && item_less(it, h[(i - 1) / 2])) {
    h[i] = h[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h[i] = it;
}

static heap_item heap_pop(heap_item *h, size_t *n) {
  heap_item top = h[0], last = h[--*n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= *n) break;
    if (c + 1 < *n && item_less(h[c + 1], h[c])) c++;
    if (!item_less(h[c], last)) break;
    h[i] = h[c];
    i = c;
  }
  if (*n) h[i] = last;
  return top;
}

/* Pushes the pair starting at symbol i when it has a merge. */
static void push_pair(const sb_bpe *b, const int32_t *sym, const int32_t *next, heap_item *h, size_t *nh,
                      int32_t i) {
  int32_t merged;
  if (i < 0 || next[i] < 0) return;
  uint32_t r = pair_rank(b, sym[i], sym[next[i]], &merged);
  if (r != NO_RANK) heap_push(h, nh, (heap_item){r, (uint32_t)i});
}

/* Long words: the same order of merges, through a heap of (rank, position)
 * with stale entries skipped, on a linked list of symbols. */
static size_t merge_heap(const sb_bpe *b, int32_t *sym, size_t n) {
  int32_t *prev = sb_malloc(n * sizeof *prev), *next = sb_malloc(n * sizeof *next);
  heap_item *h = sb_malloc(3 * n * sizeof *h);
  if (!prev || !next || !h) {
    free(prev), free(next), free(h);
    return 0;
  }
  size_t nh = 0;
  for (size_t i = 0; i < n; i++) prev[i] = (int32_t)i - 1, next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
  for (size_t i = 0; i + 1 < n; i++) push_pair(b, sym, next, h, &nh, (int32_t)i);
  while (nh) {
    heap_item top = heap_pop(h, &nh);
    int32_t i = (int32_t)top.pos, j = next[i], merged = -1;
    if (sym[i] < 0 || j < 0 || pair_rank(b, sym[i], sym[j], &merged) != top.rank) continue; /* stale */
    sym[i] = merged, sym[j] = -1;
    next[i] = next[j];
    if (next[j] >= 0) prev[next[j]] = i;
    push_pair(b, sym, next, h, &nh, prev[i]);
    push_pair(b, sym, next, h, &nh, i);
  }
  size_t m = 0;
  for (int32_t i = 0; i >= 0; i = next[i]) sym[m++] = sym[i];
  free(prev), free(next), free(h);
  return m;
}

size_t sb_bpe_merge(const sb_bpe *b, int32_t *sym, size_t n, int method) {
  if (n < 2) return n;
  if (method == 1 || (method == 0 && n <= LINEAR_MAX)) return n <= LINEAR_MAX ? merge_linear(b, sym, n) : 0;
  return merge_heap(b, sym, n);
}

/* ---- word cache ---- */

static uint64_t hash_bytes(const uint8_t *s, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n, w;
  for (; n >= 8; s += 8, n -= 8) {
    memcpy(&w, s, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  w = 0;
  memcpy(&w, s, n);
  h = (h ^ w) * 0x94D049BB133111EBull;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 32);
}

static inline bool entry_is(const cache_entry *e, uint64_t hash, const uint8_t *s, size_t n) {
  return e->hash == hash && e->len == n && memcmp(e->ids + e->n_ids, s, n) == 0;
}

static const cache_entry *cache_find(word_cache *c, uint64_t hash, const uint8_t *s, size_t n) {
  for (size_t i = hash & (CACHE_SLOTS - 1);; i = (i + 1) & (CACHE_SLOTS - 1)) {
    const cache_entry *e = atomic_load_explicit(&c->slots[i], memory_order_acquire);
    if (!e || entry_is(e, hash, s, n)) return e;
  }
}

/* Publishes a word's ids; silently does nothing when full or out of
 * memory (the cache only saves time). */
static void cache_insert(word_cache *c, uint64_t hash, const uint8_t *s, size_t n, const int32_t *ids, size_t n_ids) {
  if (atomic_load_explicit(&c->count, memory_order_relaxed) >= CACHE_MAX) return;
  cache_entry *e = malloc(sizeof *e + n_ids * sizeof *ids + n);
  if (!e) return;
  e->hash = hash, e->len = (uint32_t)n, e->n_ids = (uint32_t)n_ids;
  memcpy(e->ids, ids, n_ids * sizeof *ids);
  memcpy(e->ids + n_ids, s, n);
  for (size_t i = hash & (CACHE_SLOTS - 1);; i = (i + 1) & (CACHE_SLOTS - 1)) {
    cache_entry *cur = NULL;
    if (atomic_compare_exchange_strong_explicit(&c->slots[i], &cur, e, memory_order_acq_rel,
                                                memory_order_acquire)) {
      atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed);
      return;
    }
    if (entry_is(cur, hash, s, n)) { /* another thread got there first */
      free(e);
      return;
    }
  }
}

int sb_bpe_encode(const sb_bpe *b, const uint8_t *s, size_t n, sb_idvec *out) {
  if (n == 1) return sb_idvec_push(out, b->byte_id[s[0]]);
  word_cache *cache = n <= CACHE_WORD_MAX ? b->cache : NULL;
  uint64_t hash = 0;
  if (cache) {
    hash = hash_bytes(s, n);
    const cache_entry *e = cache_find(cache, hash, s, n);
    if (e) {
      for (uint32_t i = 0; i < e->n_ids; i++)
        if (sb_idvec_push(out, e->ids[i])) return SB_ERR_NOMEM;
      return SB_OK;
    }
  }
  int32_t stack[LINEAR_MAX], *sym = n <= LINEAR_MAX ? stack : sb_malloc(n * sizeof *sym);
  if (!sym) return SB_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) sym[i] = b->byte_id[s[i]];
  size_t m = sb_bpe_merge(b, sym, n, 0);
  int rc = m ? SB_OK : SB_ERR_NOMEM;
  for (size_t i = 0; rc == SB_OK && i < m; i++) rc = sb_idvec_push(out, sym[i]);
  if (rc == SB_OK && cache) cache_insert(cache, hash, s, n, sym, m);
  if (sym != stack) free(sym);
  return rc;
}
