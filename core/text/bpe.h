/* bpe.h — the byte-level BPE model: a hash of merges keyed by the pair of
 * token ids, the merge loop (lowest rank first, leftmost on ties), and a
 * word cache shared by every thread that encodes with the same model.
 * Internal to the core. */
#ifndef SB_CORE_BPE_H
#define SB_CORE_BPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable list of token ids. */
typedef struct sb_idvec {
  int64_t *v;
  size_t n, cap;
} sb_idvec;
int sb_idvec_push(sb_idvec *v, int64_t id);

typedef struct sb_bpe sb_bpe;

/* An empty model with room for n_merges merges; byte_ids[b] is the token
 * id of the single byte b. */
sb_bpe *sb_bpe_new(size_t n_merges, const int32_t byte_ids[256]);
void sb_bpe_free(sb_bpe *b);
/* Merge (left, right) -> merged at `rank` (a pair listed twice keeps its
 * last rank, as Hugging Face's loader does). */
int sb_bpe_add(sb_bpe *b, int32_t left, int32_t right, int32_t merged, uint32_t rank);

/* Appends the ids of one piece s[0..n) (n >= 1). Safe to call from several
 * threads at once: the word cache is lock-free (see bpe.c). */
int sb_bpe_encode(const sb_bpe *b, const uint8_t *s, size_t n, sb_idvec *out);

/* The merge loop alone, in place on sym[0..n); returns the new length.
 * method: 0 picks by length, 1 linear scan, 2 heap (tests compare them). */
size_t sb_bpe_merge(const sb_bpe *b, int32_t *sym, size_t n, int method);

/* Turns the word cache on or off (benchmarks); on by default. Not to be
 * called while other threads encode. */
void sb_bpe_set_cache(sb_bpe *b, bool on);
/* Words held by the cache now. */
size_t sb_bpe_cache_count(const sb_bpe *b);

#endif
