/* test_chat.c — ChatML rendering with the real Qwen2.5 tokenizer: the
 * exact ids of MODELS.md C.5's example, labels on assistant replies and
 * their <|im_end|> only (and LLaVA-NeXT's rule), image placeholders where
 * <image> stands, pre-tokenized samples, and truncation that drops an
 * image rather than cutting through its visual tokens. */
#include <stdlib.h>

#include "../common/check.h"
#include "chat.h"
#include "spatialboost/spatialboost.h"

#define IGN SB_IGNORE_INDEX
#define IMG (-200)

static sb_tokenizer *g_tok;

static void expect(const sb_chat_tokens *c, const int64_t *ids, const int64_t *labels, size_t n, const char *what) {
  CHECK(c->n == n, "%s: %zu tokens, expected %zu", what, c->n, n);
  for (size_t i = 0; i < n && i < c->n; i++) {
    CHECK(c->ids[i] == ids[i], "%s: id %zu is %lld, expected %lld", what, i, (long long)c->ids[i], (long long)ids[i]);
    CHECK(c->labels[i] == labels[i], "%s: label %zu is %lld, expected %lld", what, i, (long long)c->labels[i],
          (long long)labels[i]);
  }
}

static size_t encode(const char *text, int64_t *out) {
  int64_t *ids;
  size_t n;
  CHECK(sb_tokenizer_encode(g_tok, text, strlen(text), false, &ids, &n) == SB_OK, "encode");
  memcpy(out, ids, n * sizeof *ids);
  free(ids);
  return n;
}

static void test_chatml_example(void) {
  sb_sample *s = sb_sample_new();
  sb_sample_set_id(s, "ex");
  sb_sample_add_turn(s, SB_ROLE_USER, "Hello");
  sb_sample_add_turn(s, SB_ROLE_ASSISTANT, "Hello");
  /* Qwen2's default system prompt (the fixture is Qwen2.5's, whose own
   * default is longer; see main) */
  sb_chat_opts o = {"You are a helpful assistant.", IMG, 1, 0, SB_LABELS_ASSISTANT, false};
  sb_chat_tokens c;
  CHECK(sb_chat_render(g_tok, s, &o, &c) == SB_OK, "render: %s", sb_error_message());
  /* MODELS.md C.5: system + user "Hello" + assistant header, then the reply */
  const int64_t ids[] = {151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, 9707,
                         151645, 198, 151644, 77091, 198, 9707, 151645, 198};
  const int64_t lab[] = {IGN, IGN, IGN, IGN, IGN, IGN, IGN, IGN, IGN, IGN, IGN, IGN, IGN, IGN, IGN,
                         IGN, IGN, IGN, IGN, IGN, 9707, 151645, IGN};
  expect(&c, ids, lab, sizeof ids / sizeof ids[0], "chatml");
  CHECK(c.n_labelled == 2 && c.n_images == 0, "counts");
  sb_chat_tokens_free(&c);
  /* LLaVA-NeXT's rule: the whole assistant message, and every \n, <|im_start|>, <|im_end|> */
  o.labels = SB_LABELS_LLAVA_NEXT;
  CHECK(sb_chat_render(g_tok, s, &o, &c) == SB_OK, "render");
  const int64_t lab2[] = {151644, IGN, 198, IGN, IGN, IGN, IGN, IGN, IGN, 151645, 198, 151644, IGN, 198, IGN,
                          151645, 198, 151644, 77091, 198, 9707, 151645, 198};
  expect(&c, ids, lab2, sizeof ids / sizeof ids[0], "llava-next");
  sb_chat_tokens_free(&c);
  /* a sample's own system turn, and system_prompt "" for none */
  sb_sample *t = sb_sample_new();
  sb_sample_add_turn(t, SB_ROLE_SYSTEM, "Be brief.");
  sb_sample_add_turn(t, SB_ROLE_USER, "Hello");
  sb_sample_add_turn(t, SB_ROLE_ASSISTANT, "Hello");
  o.labels = SB_LABELS_ASSISTANT;
  CHECK(sb_chat_render(g_tok, t, &o, &c) == SB_OK && c.ids[1] == 8948, "own system turn");
  int64_t brief[8];
  size_t nb = encode("Be brief.", brief);
  CHECK(c.n > 3 + nb && memcmp(c.ids + 3, brief, nb * sizeof(int64_t)) == 0, "its text follows the header");
  sb_chat_tokens_free(&c);
  o.system_prompt = "";
  CHECK(sb_chat_render(g_tok, s, &o, &c) == SB_OK && c.ids[1] == 872, "no system message at all");
  sb_chat_tokens_free(&c);
  sb_sample_free(s), sb_sample_free(t);
}

static void test_images_and_truncation(void) {
  sb_sample *s = sb_sample_new();
  sb_sample_set_id(s, "img");
  sb_sample_add_turn(s, SB_ROLE_USER, "<image>\nLeft or right?");
  sb_sample_add_turn(s, SB_ROLE_ASSISTANT, "Left.");
  sb_sample_add_turn(s, SB_ROLE_USER, "And this one? <image>");
  sb_sample_add_turn(s, SB_ROLE_ASSISTANT, "Right.");
  sb_sample_add_image_path(s, "a.png");
  sb_sample_add_image_path(s, "b.png");
  sb_chat_opts o = {"", IMG, 16, 0, SB_LABELS_ASSISTANT, false};
  sb_chat_tokens c;
  CHECK(sb_chat_render(g_tok, s, &o, &c) == SB_OK, "render: %s", sb_error_message());
  /* <|im_start|> user \n IMG \nLeft or right? <|im_end|> \n ... */
  CHECK(c.n > 4 && c.ids[0] == 151644 && c.ids[1] == 872 && c.ids[2] == 198 && c.ids[3] == IMG, "placeholder after the header");
  int64_t rest[32];
  size_t nr = encode("\nLeft or right?", rest);
  CHECK(memcmp(c.ids + 4, rest, nr * sizeof(int64_t)) == 0, "the text after <image> is tokenized on its own");
  int images = 0;
  size_t second = 0;
  for (size_t i = 0; i < c.n; i++)
    if (c.ids[i] == IMG) images++, second = i;
  CHECK(images == 2 && c.n_images == 2 && c.merged_length == (int64_t)c.n + 2 * 15, "two images, 16 positions each");
  CHECK(c.labels[3] == IGN && c.labels[second] == IGN, "placeholders carry no label");
  size_t full = c.n;
  int64_t last_label = c.n_labelled;
  sb_chat_tokens_free(&c);
  /* a limit that falls inside the second image's 16 positions keeps the text
   * before it and drops the image */
  o.max_length = (int64_t)second + 16 + 8;
  CHECK(sb_chat_render(g_tok, s, &o, &c) == SB_OK, "truncated render");
  CHECK(c.n == second && c.n_images == 1 && c.merged_length == (int64_t)second + 15, "cut before the image: %zu tokens, %d images",
        c.n, c.n_images);
  CHECK(c.n_labelled < last_label && c.n < full, "the second reply is gone");
  sb_chat_tokens_free(&c);
  /* nothing labelled left: dropped */
  o.max_length = 20;
  CHECK(sb_chat_render(g_tok, s, &o, &c) == SB_CHAT_DROPPED, "dropped when no label remains");
  /* placeholders and images must agree */
  sb_sample_add_image_path(s, "c.png");
  o.max_length = 0;
  CHECK(sb_chat_render(g_tok, s, &o, &c) != SB_OK, "three images, two placeholders");
  CHECK_ERROR("sample 'img': 2 <image> placeholders for 3 images");
  sb_sample_free(s);
}

static void test_pretokenized(void) {
  sb_sample *s = sb_sample_new();
  const int64_t ids[] = {5, 6, IMG, 7, 8, 9}, labels[] = {IGN, IGN, IGN, IGN, 8, 9};
  sb_sample_set_tokens(s, ids, labels, 6);
  sb_sample_add_image_path(s, "x.png");
  sb_chat_opts o = {NULL, IMG, 4, 0, SB_LABELS_ASSISTANT, false};
  sb_chat_tokens c;
  CHECK(sb_chat_render(g_tok, s, &o, &c) == SB_OK, "pretokenized");
  expect(&c, ids, labels, 6, "pretokenized");
  CHECK(c.merged_length == 9 && c.n_labelled == 2, "merged length with 4 visual tokens");
  sb_chat_tokens_free(&c);
  sb_sample_free(s);
}

int main(void) {
  const char *fx = getenv("SB_FIXTURES");
  char path[1024];
  snprintf(path, sizeof path, "%s/tokenizer", fx ? fx : ".");
  g_tok = sb_tokenizer_load(path);
  CHECK(g_tok, "tokenizer: %s", sb_error_message());
  if (!g_tok) return check_summary("chat");
  const char *def = sb_tokenizer_default_system(g_tok);
  CHECK(def && strcmp(def, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.") == 0,
        "Qwen2.5's default system prompt from tokenizer_config.json: %s", def ? def : "(none)");
  test_chatml_example();
  test_images_and_truncation();
  test_pretokenized();
  sb_tokenizer_free(g_tok);
  return check_summary("chat");
}
