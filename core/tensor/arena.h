/* arena.h — a backend's reusable arena: memory for tensors is carved into
 * size classes (64-byte steps up to 4 KiB, then four classes per power of
 * two), and released blocks wait on per-class free lists for the next tensor
 * of that class (or, for large ones, of a class up to 2x bigger). After the
 * first training step the same shapes find their blocks again, so later
 * steps make no system allocations and touch no fresh pages. Blocks in use
 * and cached together stay within twice the peak in use, so varying shapes
 * cannot pile up blocks. */
#ifndef SB_CORE_ARENA_H
#define SB_CORE_ARENA_H

#include <pthread.h>

#include "util.h"

struct sb_backend;

#define SB_ARENA_CLASSES 320
/* The peak counts as at least this much when capping the cache. */
#define SB_ARENA_MIN_CACHE ((size_t)64 << 20)

typedef struct sb_arena {
  pthread_mutex_t lock;
  sb_ptrvec free_blocks[SB_ARENA_CLASSES];
  size_t in_use, peak, cached;
  uint64_t backend_allocs, arena_allocs;
} sb_arena;

void sb_arena_init(sb_arena *a);
/* Rounds n up to its size class. */
size_t sb_arena_class_bytes(size_t n);
/* A block of at least n bytes; *block_bytes gets its class size. */
void *sb_arena_alloc(struct sb_backend *be, size_t n, size_t *block_bytes);
void sb_arena_free(struct sb_backend *be, void *ptr, size_t block_bytes);
void sb_arena_trim(struct sb_backend *be);

#endif
