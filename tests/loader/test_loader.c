/* test_loader.c — the batch loader with a small synthetic dataset (a
 * plugin defined here) and dinov3_tiny as the encoder that preprocesses the
 * images: batches are identical whatever the number of worker threads,
 * each epoch is a seeded permutation, a saved cursor resumes the exact
 * stream, padding and masks are right, samples with nothing to learn are
 * dropped and counted, and an unreadable image is an error naming the
 * sample. */
#include <stdlib.h>

#include "../common/check.h"
#include "loader.h"
#include "model.h"
#include "recipe.h"
#include "spatialboost/spatialboost.h"

/* ---- a dataset of N samples: sample i says i, some with an image ---- */

typedef struct synth {
  int64_t n;
} synth;

static const sb_option k_synth_options[] = {{"n", SB_OPTION_INT, "10", "samples", NULL}};

static void *synth_create(const sb_plugin_ctx *ctx) {
  synth *s = calloc(1, sizeof *s);
  if (s && sb_config_get_int(ctx->options, "n", &s->n)) {
    free(s);
    return NULL;
  }
  return s;
}
static void synth_destroy(void *self) { free(self); }
static int64_t synth_size(void *self) { return ((synth *)self)->n; }

/* Sample i: "<image>" and an 8-bit image when i is even; sample 7 has no
 * reply (dropped); sample 9's image file does not exist when n > 10. */
static int synth_get(void *self, int64_t i, sb_sample *s) {
  char id[32], q[64], a[64];
  snprintf(id, sizeof id, "s%lld", (long long)i);
  snprintf(q, sizeof q, "%sWhat is %lld?", i % 2 == 0 ? "<image>\n" : "", (long long)i);
  snprintf(a, sizeof a, "It is %lld.", (long long)i);
  sb_sample_set_id(s, id);
  sb_sample_add_turn(s, SB_ROLE_USER, q);
  if (i != 7) sb_sample_add_turn(s, SB_ROLE_ASSISTANT, a);
  if (i % 2 == 0) {
    uint8_t px[40 * 30 * 3];
    for (int k = 0; k < 40 * 30 * 3; k++) px[k] = (uint8_t)(k * 7 + i * 31);
    sb_image img = {40, 30, 3, px};
    sb_sample_add_image(s, &img);
  }
  if (i == 9 && ((synth *)self)->n > 10) {
    sb_sample_add_turn(s, SB_ROLE_USER, "<image>");
    sb_sample_add_turn(s, SB_ROLE_ASSISTANT, "x");
    sb_sample_add_image_path(s, "/nonexistent/missing.png");
  }
  return SB_OK;
}

static const sb_dataset_vtable k_synth_vt = {sizeof(sb_dataset_vtable), synth_create, synth_destroy, synth_size, synth_get};
static const sb_plugin_descriptor k_synth = {SB_PLUGIN_HEADER, .name = "dataset_loadertest", .version = "1",
                                             .kind = SB_PLUGIN_DATASET, .description = "test data",
                                             .options = k_synth_options, .n_options = 1, .vtable = &k_synth_vt};
SB_PLUGIN_DEFINE(dataset_loadertest, k_synth)

/* ---- helpers ---- */

static sb_tokenizer *g_tok;

typedef struct run {
  sb_recipe *r;
  sb_model m;
} run;

static bool open_run(run *x, int64_t n) {
  char set[64];
  snprintf(set, sizeof set, "data.n=%lld", (long long)n);
  const char *sets[1] = {set};
  memset(x, 0, sizeof *x);
  x->r = sb_recipe_load(SB_TEST_DATA "/loader.yaml", sets, 1);
  bool ok = x->r && sb_model_build(&x->m, sb_recipe_root(x->r), 0, SB_MODEL_CREATE) == SB_OK;
  CHECK(ok, "build: %s", sb_error_message());
  return ok;
}

static void close_run(run *x) {
  sb_model_free(&x->m);
  sb_recipe_free(x->r);
}

static sb_loader_opts opts(int workers, uint64_t seed, int64_t epochs) {
  sb_loader_opts o = {.batch_size = 3, .epochs = epochs, .seed = seed, .shuffle = true, .workers = workers,
                      .prefetch = 2, .pad_token_id = 151643,
                      .chat = {NULL, -200, 16, 0, SB_LABELS_ASSISTANT, false}};
  return o;
}

/* A digest of a batch: its ids, labels, mask and pixel values. */
static uint64_t digest(const sb_loader_batch *b) {
  uint64_t h = 1469598103934665603ull;
#define MIX(x) (h = (h ^ (uint64_t)(x)) * 1099511628211ull)
  for (int64_t i = 0; i < b->B * b->S; i++) MIX(b->ids[i]), MIX(b->labels[i]), MIX(b->mask[i]);
  if (b->images.pixel_values) {
    int64_t n = sb_tensor_numel(b->images.pixel_values);
    float *px = malloc(sizeof(float) * (size_t)n);
    sb_tensor_to_host_f32(b->images.pixel_values, px, (size_t)n);
    for (int64_t i = 0; i < n; i++) {
      uint32_t u;
      memcpy(&u, &px[i], 4);
      MIX(u);
    }
    free(px);
  }
  return h;
#undef MIX
}

/* Digests of every batch of a loader, up to max; samples and drops seen. */
static int collect(sb_loader *l, uint64_t *d, int max, int64_t *samples, int64_t *dropped) {
  int n = 0;
  sb_loader_batch b;
  int rc;
  while (n < max && (rc = sb_loader_next(l, &b)) == SB_OK) {
    d[n++] = digest(&b);
    if (samples) *samples += b.B;
    if (dropped) *dropped += b.n_dropped;
    sb_loader_batch_free(&b);
  }
  if (dropped && rc == SB_LOADER_END) *dropped += b.n_dropped; /* drops of a last, empty batch */
  return n;
}

static void test_determinism_and_resume(void) {
  run x;
  if (!open_run(&x, 10)) return;
  uint64_t one[32], three[32], other[32], resumed[32];
  sb_loader_opts o = opts(1, 42, 2);
  sb_loader *l = sb_loader_new(&x.m.data, &x.m.encoder, g_tok, &o, NULL);
  CHECK(l, "loader: %s", sb_error_message());
  if (!l) return close_run(&x);
  CHECK(sb_loader_batches_per_epoch(l) == 4 && sb_loader_size(l) == 10, "10 samples in batches of 3");
  int64_t samples = 0, dropped = 0;
  int n1 = collect(l, one, 32, &samples, &dropped);
  /* a batch that holds only sample 7 is skipped, so 7 or 8 batches */
  CHECK(n1 == 8 || n1 == 7, "two epochs of 4 batches: %d", n1);
  CHECK(dropped == 2, "sample 7 (no reply) dropped once per epoch: %lld", (long long)dropped);
  CHECK(samples == 18, "every other sample seen once per epoch: %lld", (long long)samples);
  sb_loader_free(l);
  o.workers = 3;
  l = sb_loader_new(&x.m.data, &x.m.encoder, g_tok, &o, NULL);
  int n3 = collect(l, three, 32, NULL, NULL);
  CHECK(n3 == n1 && memcmp(one, three, sizeof(uint64_t) * (size_t)n1) == 0, "3 workers give the same batches as 1");
  sb_loader_free(l);
  o.seed = 43;
  l = sb_loader_new(&x.m.data, &x.m.encoder, g_tok, &o, NULL);
  collect(l, other, 32, NULL, NULL);
  CHECK(memcmp(one, other, sizeof(uint64_t) * 4) != 0, "another seed, another order");
  sb_loader_free(l);
  /* take 5 batches, save the cursor, resume in a new loader */
  o.seed = 42;
  l = sb_loader_new(&x.m.data, &x.m.encoder, g_tok, &o, NULL);
  collect(l, resumed, 5, NULL, NULL);
  sb_loader_state st = sb_loader_state_get(l);
  sb_loader_free(l);
  CHECK(st.epoch == 1 && st.batch >= 1 && st.seed == 42, "cursor after 5 batches: epoch %lld batch %lld",
        (long long)st.epoch, (long long)st.batch);
  l = sb_loader_new(&x.m.data, &x.m.encoder, g_tok, &o, &st);
  int nr = collect(l, resumed, 32, NULL, NULL);
  CHECK(nr == n1 - 5 && memcmp(resumed, one + 5, sizeof(uint64_t) * (size_t)(n1 - 5)) == 0,
        "the resumed stream continues exactly (%d batches)", nr);
  sb_loader_free(l);
  close_run(&x);
}

static void test_batch_contents(void) {
  run x;
  if (!open_run(&x, 10)) return;
  sb_loader_opts o = opts(2, 1, 1);
  o.shuffle = false;
  sb_loader *l = sb_loader_new(&x.m.data, &x.m.encoder, g_tok, &o, NULL);
  sb_loader_batch b;
  CHECK(l && sb_loader_next(l, &b) == SB_OK, "first batch: %s", sb_error_message());
  if (l && b.ids) {
    /* samples 0, 1, 2 in order: 0 and 2 have an image */
    CHECK(b.B == 3 && b.images.pixel_values && sb_tensor_dim(b.images.pixel_values, 0) == 2, "3 samples, 2 images");
    CHECK(sb_tensor_dim(b.images.pixel_values, 2) == 64, "images preprocessed to the encoder's size");
    for (int64_t i = 0; i < b.B; i++) {
      int64_t len = 0, images = 0;
      for (int64_t j = 0; j < b.S; j++) {
        len += b.mask[i * b.S + j] != 0;
        images += b.ids[i * b.S + j] == -200;
        if (!b.mask[i * b.S + j])
          CHECK(b.ids[i * b.S + j] == 151643 && b.labels[i * b.S + j] == -100, "padding is pad id / -100");
      }
      CHECK(images == (i % 2 == 0), "sample %lld's placeholders", (long long)i);
      CHECK(len == b.S || b.mask[i * b.S + len] == 0, "real tokens first, then padding");
    }
    sb_loader_batch_free(&b);
  }
  sb_loader_free(l);
  close_run(&x);
}

static void test_errors(void) {
  run x;
  if (!open_run(&x, 12)) return;
  sb_loader_opts o = opts(2, 1, 1);
  o.shuffle = false;
  sb_loader *l = sb_loader_new(&x.m.data, &x.m.encoder, g_tok, &o, NULL);
  sb_loader_batch b;
  int rc = SB_OK;
  for (int i = 0; i < 5 && rc == SB_OK; i++)
    if ((rc = sb_loader_next(l, &b)) == SB_OK) sb_loader_batch_free(&b);
  CHECK(rc != SB_OK && rc != SB_LOADER_END, "a missing image is an error");
  CHECK_ERROR("sample 's9'");
  CHECK_ERROR("/nonexistent/missing.png");
  sb_loader_free(l);
  o.batch_size = 0;
  CHECK(sb_loader_new(&x.m.data, &x.m.encoder, g_tok, &o, NULL) == NULL, "batch size 0");
  CHECK_ERROR("batch size 0");
  close_run(&x);
}

int main(void) {
  const char *fx = getenv("SB_FIXTURES");
  char path[1024];
  snprintf(path, sizeof path, "%s/tokenizer", fx ? fx : ".");
  g_tok = sb_tokenizer_load(path);
  CHECK(g_tok, "tokenizer: %s", sb_error_message());
  if (!g_tok) return check_summary("loader");
  test_determinism_and_resume();
  test_batch_contents();
  test_errors();
  sb_tokenizer_free(g_tok);
  return check_summary("loader");
}
