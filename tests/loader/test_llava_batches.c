/* test_llava_batches.c — a LLaVA JSON file with a single-image, a
 * multi-image and a text-only sample, read by dataset_llava, rendered with
 * the real Qwen2.5 tokenizer and batched by the loader: every token, label
 * and mask entry of the batch is checked against the ChatML layout built
 * here piece by piece. */
#include <stdlib.h>
#include <unistd.h>

#include "../common/check.h"
#include "loader.h"
#include "model.h"
#include "recipe.h"
#include "spatialboost/spatialboost.h"
#include "util.h"

#define IMG (-200)
#define IGN (-100)

static sb_tokenizer *g_tok;

typedef struct want {
  int64_t ids[256], labels[256];
  size_t n;
} want;

static void push(want *w, int64_t id, bool labelled) {
  w->ids[w->n] = id, w->labels[w->n] = labelled ? id : IGN, w->n++;
}

static void text(want *w, const char *s, bool labelled) {
  int64_t *ids;
  size_t n;
  CHECK(sb_tokenizer_encode(g_tok, s, strlen(s), false, &ids, &n) == SB_OK, "encode %s", s);
  for (size_t i = 0; i < n; i++) push(w, ids[i], labelled);
  free(ids);
}

/* "<|im_start|>role\n" + pieces (IMG between) + "<|im_end|>\n" */
static void message(want *w, const char *role, const char *const *pieces, int n_pieces, bool reply) {
  push(w, 151644, false);
  char h[32];
  snprintf(h, sizeof h, "%s\n", role);
  text(w, h, false);
  for (int i = 0; i < n_pieces; i++) {
    if (i) push(w, IMG, false);
    text(w, pieces[i], reply);
  }
  push(w, 151645, reply);
  text(w, "\n", false);
}

static void system_msg(want *w) { message(w, "system", (const char *[]){"You are a helpful assistant."}, 1, false); }

static void write_files(const char *dir) {
  uint8_t px[32 * 32 * 3];
  for (int i = 0; i < 32 * 32 * 3; i++) px[i] = (uint8_t)(i * 13);
  sb_image img = {32, 32, 3, px};
  char path[512];
  for (int k = 0; k < 3; k++) {
    snprintf(path, sizeof path, "%s/img%d.png", dir, k);
    CHECK(sb_image_save_png(&img, path) == SB_OK, "png: %s", sb_error_message());
  }
  snprintf(path, sizeof path, "%s/data.json", dir);
  FILE *f = fopen(path, "w");
  fputs("[\n"
        " {\"id\": \"single\", \"image\": \"img0.png\", \"conversations\": [\n"
        "   {\"from\": \"human\", \"value\": \"What is this?\"},\n"
        "   {\"from\": \"gpt\", \"value\": \"A test pattern.\"}]},\n"
        " {\"id\": \"multi\", \"image\": [\"img1.png\", \"img2.png\"], \"conversations\": [\n"
        "   {\"from\": \"human\", \"value\": \"Compare <image> with <image>.\"},\n"
        "   {\"from\": \"gpt\", \"value\": \"Same.\"},\n"
        "   {\"from\": \"human\", \"value\": \"Sure?\"},\n"
        "   {\"from\": \"gpt\", \"value\": \"Yes.\"}]},\n"
        " {\"id\": \"text\", \"conversations\": [\n"
        "   {\"from\": \"human\", \"value\": \"Say hi.\"},\n"
        "   {\"from\": \"gpt\", \"value\": \"Hi.\"}]}\n"
        "]\n",
        f);
  fclose(f);
}

int main(void) {
  const char *fx = getenv("SB_FIXTURES");
  char path[1024];
  snprintf(path, sizeof path, "%s/tokenizer", fx ? fx : ".");
  g_tok = sb_tokenizer_load(path);
  CHECK(g_tok, "tokenizer: %s", sb_error_message());
  char dir[] = "/tmp/sb_llava_batches_XXXXXX";
  if (!g_tok || !mkdtemp(dir)) return check_summary("llava-batches");
  write_files(dir);
  char set[600];
  snprintf(set, sizeof set, "data.path=%s/data.json", dir);
  const char *sets[1] = {set};
  sb_recipe *r = sb_recipe_load(SB_TEST_DATA "/llava_batches.yaml", sets, 1);
  sb_model m;
  memset(&m, 0, sizeof m);
  CHECK(r && sb_model_build(&m, sb_recipe_root(r), 0, SB_MODEL_CREATE) == SB_OK, "build: %s", sb_error_message());
  sb_loader_opts o = {.batch_size = 3, .epochs = 1, .seed = 0, .shuffle = false, .workers = 2, .prefetch = 1,
                      .pad_token_id = 151643,
                      .chat = {"You are a helpful assistant.", IMG, 16, 0, SB_LABELS_ASSISTANT, false}};
  sb_loader *l = m.data.self ? sb_loader_new(&m.data, &m.encoder, g_tok, &o, NULL) : NULL;
  sb_loader_batch b;
  CHECK(l && sb_loader_next(l, &b) == SB_OK, "batch: %s", sb_error_message());
  if (l && b.ids) {
    want w[3] = {0};
    /* single image: LLaVA puts "<image>\n" in front of the question */
    system_msg(&w[0]);
    message(&w[0], "user", (const char *[]){"", "\nWhat is this?"}, 2, false);
    message(&w[0], "assistant", (const char *[]){"A test pattern."}, 1, true);
    /* two images stay where their tags are */
    system_msg(&w[1]);
    message(&w[1], "user", (const char *[]){"Compare ", " with ", "."}, 3, false);
    message(&w[1], "assistant", (const char *[]){"Same."}, 1, true);
    message(&w[1], "user", (const char *[]){"Sure?"}, 1, false);
    message(&w[1], "assistant", (const char *[]){"Yes."}, 1, true);
    /* text only */
    system_msg(&w[2]);
    message(&w[2], "user", (const char *[]){"Say hi."}, 1, false);
    message(&w[2], "assistant", (const char *[]){"Hi."}, 1, true);
    size_t S = SB_MAX(w[0].n, SB_MAX(w[1].n, w[2].n));
    CHECK(b.B == 3 && (size_t)b.S == S, "batch [%lld, %lld], expected [3, %zu]", (long long)b.B, (long long)b.S, S);
    for (int s = 0; s < 3 && (size_t)b.S == S; s++)
      for (size_t t = 0; t < S; t++) {
        bool real = t < w[s].n;
        int64_t id = b.ids[s * S + t], lab = b.labels[s * S + t], mask = b.mask[s * S + t];
        CHECK(id == (real ? w[s].ids[t] : 151643), "sample %d token %zu: id %lld, expected %lld", s, t, (long long)id,
              (long long)(real ? w[s].ids[t] : 151643));
        CHECK(lab == (real ? w[s].labels[t] : IGN), "sample %d token %zu: label %lld", s, t, (long long)lab);
        CHECK(mask == real, "sample %d token %zu: mask %lld", s, t, (long long)mask);
      }
    CHECK(b.images.pixel_values && sb_tensor_dim(b.images.pixel_values, 0) == 3, "three images in order");
    sb_loader_batch_free(&b);
    CHECK(sb_loader_next(l, &b) == SB_LOADER_END, "one batch only");
  }
  sb_loader_free(l);
  sb_model_free(&m);
  sb_recipe_free(r);
  sb_tokenizer_free(g_tok);
  snprintf(path, sizeof path, "rm -rf %s", dir);
  CHECK(system(path) == 0, "cleanup");
  return check_summary("llava-batches");
}
