/* loader.h — the batch loader: samples from a dataset plugin in a seeded
 * order, rendered to tokens (chat.h), their images preprocessed by the
 * encoder, right-padded into batches by worker threads that run ahead of
 * training. Batch k of an epoch always holds the samples at positions
 * [k·B, (k+1)·B) of that epoch's permutation (dropped samples leave it
 * smaller), so the batches are the same whatever the thread timing, and a
 * (epoch, batch) cursor restores the stream exactly. */
#ifndef SB_CORE_LOADER_H
#define SB_CORE_LOADER_H

#include "chat.h"
#include "model.h"
#include "spatialboost/encoder.h"

#define SB_LOADER_END 1

typedef struct sb_loader sb_loader;

typedef struct sb_loader_opts {
  int64_t batch_size;
  int64_t epochs;       /* 0: endless */
  uint64_t seed;
  bool shuffle;         /* false: dataset order */
  int workers;          /* threads (at least 1) */
  int prefetch;         /* batches ready ahead (at least 1) */
  int64_t pad_token_id;
  sb_chat_opts chat;
} sb_loader_opts;

typedef struct sb_loader_state {
  int64_t epoch, batch; /* the next batch to hand out */
  uint64_t seed;
} sb_loader_state;

typedef struct sb_loader_batch {
  int64_t epoch, index;        /* which batch this is */
  int64_t B, S;                /* samples (after drops) and padded length */
  int64_t *ids, *labels, *mask;/* host [B·S]; ids pad with pad_token_id, labels -100, mask 0 */
  sb_encoder_input images;     /* every image in order (pixel_values NULL when none); owned */
  int64_t n_labelled, n_dropped;
  double wait_seconds;         /* how long sb_loader_next waited for it */
} sb_loader_batch;

/* dataset and encoder are components of a built model (encoder may have no
 * instance for text-only data). The tokenizer must outlive the loader. */
sb_loader *sb_loader_new(const sb_component *dataset, const sb_component *encoder, const sb_tokenizer *tok,
                         const sb_loader_opts *o, const sb_loader_state *start);
void sb_loader_free(sb_loader *l);
/* The next batch in order: SB_OK, SB_LOADER_END after the last epoch, or an
 * error (a sample that cannot be read) naming the sample. */
int sb_loader_next(sb_loader *l, sb_loader_batch *out);
void sb_loader_batch_free(sb_loader_batch *b);
/* Where the stream stands (what a checkpoint saves). */
sb_loader_state sb_loader_state_get(const sb_loader *l);
/* Batches per epoch; samples in the dataset. */
int64_t sb_loader_batches_per_epoch(const sb_loader *l);
int64_t sb_loader_size(const sb_loader *l);
/* Total time sb_loader_next has waited for batches. */
double sb_loader_wait_seconds(const sb_loader *l);

#endif
