/* loader.c — the batch loader (loader.h): a ring of batch slots filled in
 * order by worker threads, each batch computed from the epoch's seeded
 * permutation alone. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loader.h"
#include "spatialboost/spatialboost.h"
#include "util.h"

typedef struct slot {
  int64_t k;          /* global batch number held (-1: empty) */
  bool ready;
  int rc;             /* SB_OK or an error (message in msg) */
  char *msg;
  sb_loader_batch batch;
} slot;

struct sb_loader {
  const sb_component *data, *enc;
  const sb_tokenizer *tok;
  sb_loader_opts o;
  int64_t n, per_epoch;       /* samples; batches per epoch */
  int64_t first, next_work, next_out, end; /* global batch numbers; end -1: endless */
  int n_slots;
  slot *slots;
  pthread_t *threads;
  pthread_mutex_t lock;
  pthread_cond_t changed;
  bool stop;
  int64_t perm_epoch[2];      /* two cached permutations */
  int64_t *perm[2];
  double waited;
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The epoch's order (cached; called with the lock held). */
static const int64_t *permutation(sb_loader *l, int64_t epoch) {
  for (int i = 0; i < 2; i++)
    if (l->perm[i] && l->perm_epoch[i] == epoch) return l->perm[i];
  /* an empty entry, else the older epoch's */
  int i = !l->perm[0] ? 0 : !l->perm[1] ? 1 : l->perm_epoch[0] <= l->perm_epoch[1] ? 0 : 1;
  int64_t *p = l->perm[i] ? l->perm[i] : sb_malloc(sizeof(int64_t) * (size_t)(l->n ? l->n : 1));
  if (!p) return NULL;
  for (int64_t j = 0; j < l->n; j++) p[j] = j;
  if (l->o.shuffle) { /* Fisher-Yates from a stream keyed by (seed, epoch) */
    char key[64];
    snprintf(key, sizeof key, "loader.epoch.%lld", (long long)epoch);
    sb_rng r;
    sb_rng_seed_named(&r, l->o.seed, key);
    for (int64_t j = l->n - 1; j > 0; j--) {
      int64_t k = (int64_t)(sb_rng_u64(&r) % (uint64_t)(j + 1)), t = p[j];
      p[j] = p[k], p[k] = t;
    }
  }
  l->perm[i] = p, l->perm_epoch[i] = epoch;
  return p;
}

/* ---- making one batch (in a worker, without the lock) ---- */

typedef struct rendered {
  sb_chat_tokens toks;
  sb_sample *sample;
} rendered;

/* Images given preprocessed (float pixels) are stacked as they are: they
 * must all have one size. */
static int stack_pixels(rendered *r, int64_t n, int total, sb_encoder_input *out) {
  int c = 0, h = 0, w = 0, k = 0;
  float *all = NULL;
  for (int64_t i = 0; i < n; i++)
    for (int j = 0; j < r[i].toks.n_images; j++, k++) {
      const float *px;
      int pc, ph, pw;
      if (sb_sample_pixels(r[i].sample, j, &px, &pc, &ph, &pw)) return SB_ERR;
      if (!px)
        return sb_error("sample '%s': a batch mixes preprocessed pixels and image files", sb_sample_id(r[i].sample));
      if (!all) {
        c = pc, h = ph, w = pw;
        if (!(all = sb_malloc(sizeof(float) * (size_t)total * (size_t)(c * h * w)))) return SB_ERR_NOMEM;
      } else if (pc != c || ph != h || pw != w) {
        free(all);
        return sb_error("sample '%s': pixels of %dx%dx%d in a batch of %dx%dx%d", sb_sample_id(r[i].sample), pc, ph, pw,
                        c, h, w);
      }
      memcpy(all + (size_t)k * (size_t)(c * h * w), px, sizeof(float) * (size_t)(c * h * w));
    }
  out->pixel_values = sb_tensor_from_host(SB_DTYPE_F32, 4, (int64_t[]){total, c, h, w}, all);
  free(all);
  return out->pixel_values ? SB_OK : SB_ERR;
}

static int load_images(const sb_loader *l, rendered *r, int64_t n, sb_encoder_input *out) {
  int total = 0;
  for (int64_t i = 0; i < n; i++) total += r[i].toks.n_images;
  memset(out, 0, sizeof *out);
  out->struct_size = sizeof *out;
  if (!total) return SB_OK;
  for (int64_t i = 0; i < n; i++) { /* preprocessed pixels skip the encoder's preprocessing */
    const float *px = NULL;
    int c, h, w;
    if (r[i].toks.n_images && sb_sample_pixels(r[i].sample, 0, &px, &c, &h, &w) == SB_OK && px)
      return stack_pixels(r, n, total, out);
  }
  if (!l->enc || !l->enc->self) return sb_error("the data has images but the model has no encoder");
  sb_image *imgs = sb_calloc((size_t)total, sizeof *imgs);
  bool *owned = sb_calloc((size_t)total, sizeof *owned);
  int rc = imgs && owned ? SB_OK : SB_ERR_NOMEM, k = 0;
  for (int64_t i = 0; i < n && rc == SB_OK; i++)
    for (int j = 0; j < r[i].toks.n_images && rc == SB_OK; j++, k++) {
      const char *path;
      const sb_image *px;
      if ((rc = sb_sample_image(r[i].sample, j, &path, &px))) break;
      if (px) imgs[k] = *px;
      else if ((rc = sb_image_load(path, &imgs[k])) == SB_OK) owned[k] = true;
      else sb_error_prefix("sample '%s'", sb_sample_id(r[i].sample));
    }
  const sb_encoder_vtable *vt = l->enc->vtable;
  if (rc == SB_OK && (rc = vt->preprocess(l->enc->self, imgs, total, out))) sb_error_prefix("preprocessing images");
  for (int i = 0; imgs && i < total; i++)
    if (owned[i]) sb_image_free(&imgs[i]);
  free(imgs), free(owned);
  return rc;
}

static int pack(const sb_loader *l, rendered *r, int64_t n, sb_loader_batch *b) {
  int64_t S = 0;
  for (int64_t i = 0; i < n; i++) S = (int64_t)r[i].toks.n > S ? (int64_t)r[i].toks.n : S;
  b->B = n, b->S = S;
  size_t cells = (size_t)(n * S > 0 ? n * S : 1);
  b->ids = sb_malloc(cells * sizeof(int64_t)), b->labels = sb_malloc(cells * sizeof(int64_t));
  b->mask = sb_calloc(cells, sizeof(int64_t));
  if (!b->ids || !b->labels || !b->mask) return SB_ERR_NOMEM;
  for (int64_t i = 0; i < n; i++) {
    const sb_chat_tokens *t = &r[i].toks;
    for (int64_t j = 0; j < S; j++) {
      bool real = j < (int64_t)t->n;
      b->ids[i * S + j] = real ? t->ids[j] : l->o.pad_token_id;
      b->labels[i * S + j] = real ? t->labels[j] : SB_IGNORE_INDEX;
      b->mask[i * S + j] = real;
    }
    b->n_labelled += t->n_labelled;
  }
  return SB_OK;
}

/* The dataset indices of batch k's samples (called with the lock held:
 * the permutation cache may change once it is released). */
static int64_t batch_indices(sb_loader *l, int64_t k, int64_t *idx) {
  int64_t epoch = k / l->per_epoch, local = k % l->per_epoch;
  int64_t from = local * l->o.batch_size, to = SB_MIN(from + l->o.batch_size, l->n);
  const int64_t *perm = permutation(l, epoch);
  if (!perm) return -1;
  for (int64_t p = from; p < to; p++) idx[p - from] = perm[p];
  return to - from;
}

/* Batch k (global number) from its samples' indices: render them, load
 * their images, pad. */
static int make_batch(sb_loader *l, int64_t k, const int64_t *idx, int64_t count, sb_loader_batch *b) {
  memset(b, 0, sizeof *b);
  b->epoch = k / l->per_epoch, b->index = k % l->per_epoch;
  rendered *r = sb_calloc((size_t)count + 1, sizeof *r);
  if (!r) return SB_ERR_NOMEM;
  const sb_dataset_vtable *dv = l->data->vtable;
  int64_t n = 0;
  int rc = SB_OK;
  for (int64_t p = 0; p < count && rc == SB_OK; p++) {
    sb_sample *s = sb_sample_new();
    if (!s || (rc = dv->get(l->data->self, idx[p], s))) {
      if (s) sb_error_prefix("sample %lld", (long long)idx[p]);
      sb_sample_free(s);
      rc = rc ? rc : SB_ERR_NOMEM;
      break;
    }
    int cr = sb_chat_render(l->tok, s, &l->o.chat, &r[n].toks);
    if (cr == SB_CHAT_DROPPED) {
      b->n_dropped++;
      sb_sample_free(s);
    } else if (cr) {
      rc = sb_error_prefix("sample '%s'", sb_sample_id(s));
      sb_sample_free(s);
    } else {
      r[n++].sample = s;
    }
  }
  if (rc == SB_OK) rc = pack(l, r, n, b);
  if (rc == SB_OK) rc = load_images(l, r, n, &b->images);
  for (int64_t i = 0; i < n; i++) sb_chat_tokens_free(&r[i].toks), sb_sample_free(r[i].sample);
  free(r);
  return rc;
}

/* ---- workers and the ring ---- */

static void *worker(void *arg) {
  sb_loader *l = arg;
  int64_t *idx = malloc(sizeof(int64_t) * (size_t)l->o.batch_size);
  pthread_mutex_lock(&l->lock);
  for (;;) {
    while (!l->stop && ((l->end >= 0 && l->next_work >= l->end) || l->next_work - l->next_out >= l->n_slots))
      pthread_cond_wait(&l->changed, &l->lock);
    if (l->stop) break;
    int64_t k = l->next_work++;
    slot *s = &l->slots[k % l->n_slots];
    int64_t count = idx ? batch_indices(l, k, idx) : -1;
    pthread_mutex_unlock(&l->lock);
    sb_error_clear();
    sb_loader_batch b;
    memset(&b, 0, sizeof b);
    int rc = count >= 0 ? make_batch(l, k, idx, count, &b) : sb_error_set(SB_ERR_NOMEM, "loader: out of memory");
    char *msg = rc ? sb_strdup(sb_error_message()) : NULL;
    pthread_mutex_lock(&l->lock);
    s->k = k, s->ready = true, s->rc = rc, s->msg = msg, s->batch = b;
    pthread_cond_broadcast(&l->changed);
  }
  pthread_mutex_unlock(&l->lock);
  free(idx);
  return NULL;
}

sb_loader *sb_loader_new(const sb_component *data, const sb_component *enc, const sb_tokenizer *tok,
                         const sb_loader_opts *o, const sb_loader_state *start) {
  if (!data || !data->self) {
    sb_error("the recipe has no data: block (data: {plugin: NAME, ...})");
    return NULL;
  }
  if (o->batch_size < 1) {
    sb_error("batch size %lld: expected 1 or more", (long long)o->batch_size);
    return NULL;
  }
  sb_loader *l = sb_calloc(1, sizeof *l);
  if (!l) return NULL;
  l->data = data, l->enc = enc, l->tok = tok, l->o = *o;
  if (l->o.workers < 1) l->o.workers = 1;
  if (l->o.prefetch < 1) l->o.prefetch = 2;
  l->n = ((const sb_dataset_vtable *)data->vtable)->size(data->self);
  l->per_epoch = (l->n + o->batch_size - 1) / o->batch_size;
  if (start) l->o.seed = start->seed;
  l->first = start ? start->epoch * l->per_epoch + start->batch : 0;
  l->next_work = l->next_out = l->first;
  l->end = o->epochs > 0 ? o->epochs * l->per_epoch : -1;
  l->n_slots = l->o.workers + l->o.prefetch;
  l->slots = sb_calloc((size_t)l->n_slots, sizeof *l->slots);
  l->threads = sb_calloc((size_t)l->o.workers, sizeof *l->threads);
  pthread_mutex_init(&l->lock, NULL);
  pthread_cond_init(&l->changed, NULL);
  if (!l->slots || !l->threads || !l->n) {
    if (!l->n) sb_error("the dataset is empty");
    free(l->slots), free(l->threads), free(l);
    return NULL;
  }
  for (int i = 0; i < l->o.workers; i++) pthread_create(&l->threads[i], NULL, worker, l);
  return l;
}

void sb_loader_batch_free(sb_loader_batch *b) {
  free(b->ids), free(b->labels), free(b->mask);
  sb_tensor_release(b->images.pixel_values);
  sb_tensor_release(b->images.pixel_attention_mask);
  sb_tensor_release(b->images.spatial_shapes);
  memset(b, 0, sizeof *b);
}

void sb_loader_free(sb_loader *l) {
  if (!l) return;
  pthread_mutex_lock(&l->lock);
  l->stop = true;
  pthread_cond_broadcast(&l->changed);
  pthread_mutex_unlock(&l->lock);
  for (int i = 0; i < l->o.workers; i++) pthread_join(l->threads[i], NULL);
  for (int i = 0; i < l->n_slots; i++)
    if (l->slots[i].ready) sb_loader_batch_free(&l->slots[i].batch), free(l->slots[i].msg);
  free(l->perm[0]), free(l->perm[1]);
  free(l->slots), free(l->threads);
  pthread_mutex_destroy(&l->lock);
  pthread_cond_destroy(&l->changed);
  free(l);
}

int sb_loader_next(sb_loader *l, sb_loader_batch *out) {
  memset(out, 0, sizeof *out);
  double t0 = now();
  int64_t carried = 0; /* drops of batches that ended up empty */
  pthread_mutex_lock(&l->lock);
  for (;;) {
    if (l->end >= 0 && l->next_out >= l->end) {
      pthread_mutex_unlock(&l->lock);
      out->n_dropped = carried;
      return SB_LOADER_END;
    }
    slot *s = &l->slots[l->next_out % l->n_slots];
    while (!(s->ready && s->k == l->next_out)) pthread_cond_wait(&l->changed, &l->lock);
    int rc = s->rc;
    char *msg = s->msg;
    *out = s->batch;
    s->ready = false, s->msg = NULL;
    l->next_out++;
    pthread_cond_broadcast(&l->changed);
    if (rc) {
      pthread_mutex_unlock(&l->lock);
      sb_loader_batch_free(out);
      sb_error_set(rc, "%s", msg ? msg : "a batch could not be made");
      free(msg);
      return rc;
    }
    if (out->B == 0) { /* every sample dropped: go on with the next batch */
      carried += out->n_dropped;
      sb_loader_batch_free(out);
      continue;
    }
    out->n_dropped += carried;
    double w = now() - t0;
    l->waited += w;
    out->wait_seconds = w;
    pthread_mutex_unlock(&l->lock);
    return SB_OK;
  }
}

sb_loader_state sb_loader_state_get(const sb_loader *l) {
  sb_loader_state s = {l->per_epoch ? l->next_out / l->per_epoch : 0, l->per_epoch ? l->next_out % l->per_epoch : 0,
                       l->o.seed};
  return s;
}

int64_t sb_loader_batches_per_epoch(const sb_loader *l) { return l->per_epoch; }
int64_t sb_loader_size(const sb_loader *l) { return l->n; }
double sb_loader_wait_seconds(const sb_loader *l) { return l->waited; }
