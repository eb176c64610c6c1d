/* bench_tokenizer.c — encoding speed of the byte-level BPE tokenizer
 * (core/text) on English prose and on CJK text, in MB of UTF-8 input per
 * second: one thread with the word cache warm and with it off, every core
 * at once, and the pre-tokenizer alone (NFC + split pattern, through
 * libutf8proc's tables and the hand-written scanner). Also the load time.
 * usage: bench_tokenizer [tokenizer.json]  (default: $SB_FIXTURES/tokenizer/tokenizer.json) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <utf8proc.h>

#include "bench_common.h"
#include "pretokenize.h"
#include "spatialboost/spatialboost.h"
#include "tokenizer_internal.h"
#include "unicode.h"

#define TARGET_BYTES (2u << 20) /* each corpus is repeated up to about 2 MB */

static const char k_english[] =
    "The kitchen was narrow, with the sink under the window and the refrigerator at the far end. A wooden "
    "table stood in the middle of the room; two chairs were pushed under it and a third leaned against the "
    "wall near the door. On the table there was a blue bowl, slightly to the left of a glass jar that held "
    "spoons, and behind the jar someone had left an open notebook.\n\n"
    "When Maria came in from the garden she put the basket of tomatoes on the counter, next to the kettle, "
    "and asked whether anyone had seen her keys. Nobody had. She looked on the shelf above the stove, then "
    "under the newspapers that were stacked beside the radio, and finally found them inside the bowl, "
    "hidden beneath a lemon. \"Of course,\" she said, laughing. \"Right where I'd never think to look.\"\n\n"
    "Spatial questions like these are easy for people and surprisingly hard for models. Which object is "
    "closer to the camera, the chair or the lamp? How far is the door from the table, in meters? If you "
    "walked around the sofa and turned left, what would you see first? Answering requires more than "
    "recognizing objects: it needs a sense of depth, of relative position, and of how a scene would look "
    "from another viewpoint. In our experiments, 3,214 images were annotated with 18,902 questions; each "
    "answer was checked by two annotators, and disagreements (about 7.5%) were resolved by a third.\n\n"
    "The results were mixed. Models that had been trained on captions alone often confused left and right, "
    "and they rarely estimated distances within a factor of two. Adding depth supervision helped: the error "
    "on the distance questions fell from 1.84 m to 0.97 m, while accuracy on the left/right questions rose "
    "from 61% to 78%. It wasn't a complete solution, though. Objects that were partly occluded, reflected in "
    "mirrors, or seen through windows remained difficult, and the models still struggled with questions "
    "that required counting several small items spread across a cluttered desk.\n\n";

static const char k_cjk[] =
    "空间推理需要理解物体在三维空间中的位置。厨房里有一张木桌，桌子左边放着两把椅子，右边靠墙有一个书架。"
    "桌上有一个蓝色的碗，碗的后面是一个玻璃罐，罐子里插着几把勺子。窗户在水槽的正上方，冰箱在房间的最里面。"
    "请问：离镜头最近的是哪一个物体？椅子和台灯之间的距离大约是多少米？如果你绕过沙发向左转，首先会看到什么？"
    "回答这些问题不仅需要识别物体，还需要对深度、相对位置以及从另一个视角观察场景的能力有所理解。"
    "在我们的实验中，共标注了三千二百张图像和一万八千多个问题，每个答案都由两名标注员检查。\n"
    "台所は細長く、流し台は窓の下にあり、冷蔵庫は奥の突き当たりにあります。部屋の真ん中には木のテーブルがあり、"
    "椅子が二脚その下に押し込まれています。テーブルの上には青いお椀があり、その少し右にスプーンの入ったガラス瓶があります。"
    "カメラに一番近いのはどの物体ですか。ソファを回って左に曲がると、最初に何が見えますか。\n"
    "의자는 테이블 왼쪽에 있고, 램프는 창문 옆에 있습니다. 문에서 테이블까지의 거리는 약 2미터입니다.\n";

typedef struct corpus {
  const char *name;
  char *text;
  size_t len, doc; /* the text is len / doc documents of doc bytes */
} corpus;

static corpus make_corpus(const char *name, const char *unit) {
  size_t u = strlen(unit), reps = TARGET_BYTES / u + 1;
  corpus c = {name, malloc(reps * u + 1), reps * u, u};
  for (size_t i = 0; i < reps; i++) memcpy(c.text + i * u, unit, u);
  c.text[c.len] = 0;
  return c;
}

typedef struct job {
  const sb_tokenizer *t;
  const corpus *c;
  bool whole; /* one call for the whole text, else one per document */
  size_t n_ids;
} job;

static size_t encode_ids(const sb_tokenizer *t, const char *text, size_t len) {
  int64_t *ids;
  size_t n;
  if (sb_tokenizer_encode(t, text, len, false, &ids, &n)) {
    fprintf(stderr, "encode failed: %s\n", sb_error_message());
    exit(1);
  }
  free(ids);
  return n;
}

static void encode_run(void *p) {
  job *j = p;
  size_t step = j->whole ? j->c->len : j->c->doc;
  j->n_ids = 0;
  for (size_t at = 0; at < j->c->len; at += step) j->n_ids += encode_ids(j->t, j->c->text + at, step);
}

static void pretokenize_run(void *p) {
  job *j = p;
  char *owned;
  size_t n, pieces = 0;
  const char *u = sb_nfc(j->c->text, j->c->len, &n, &owned);
  for (size_t pos = 0; pos < n; pos = sb_pretok_next(u, n, pos)) pieces++;
  j->n_ids = pieces;
  free(owned);
}

#define THREAD_PASSES 4

static void *thread_main(void *p) {
  for (int i = 0; i < THREAD_PASSES; i++) encode_run(p);
  return NULL;
}

typedef struct threads_job {
  const job *base;
  int threads;
} threads_job;

/* Every core encoding the corpus THREAD_PASSES times at once. */
static void all_cores_run(void *p) {
  threads_job *tj = p;
  pthread_t th[64];
  job jobs[64];
  for (int i = 0; i < tj->threads; i++) {
    jobs[i] = *tj->base;
    pthread_create(&th[i], NULL, thread_main, &jobs[i]);
  }
  for (int i = 0; i < tj->threads; i++) pthread_join(th[i], NULL);
}

/* MB/s of all threads together. */
static double all_cores_rate(const job *base, int threads) {
  threads_job tj = {base, threads};
  double t = bench_median(all_cores_run, &tj, 0, 5);
  return (double)threads * THREAD_PASSES * (double)base->c->len / t / 1e6;
}

static void bench_corpus(sb_tokenizer *t, const corpus *c, int threads) {
  job j = {t, c, false, 0};
  double mb = (double)c->len / 1e6;
  double pre = bench_median(pretokenize_run, &j, 1, 5);
  size_t pieces = j.n_ids;
  sb_bpe_set_cache(t->bpe, false);
  double cold = bench_median(encode_run, &j, 1, 3);
  sb_bpe_set_cache(t->bpe, true);
  double warm = bench_median(encode_run, &j, 1, 5);
  size_t n_ids = j.n_ids;
  j.whole = true;
  double whole = bench_median(encode_run, &j, 1, 5);
  j.whole = false;
  printf("%-8s %6.2f MB in documents of %zu bytes, %zu pieces, %zu tokens (%.2f bytes/token)\n", c->name, mb, c->doc,
         pieces, n_ids, (double)c->len / (double)n_ids);
  printf("  pre-tokenizer only (NFC + split)     %8.1f MB/s\n", mb / pre);
  printf("  encode, 1 thread, word cache off     %8.1f MB/s\n", mb / cold);
  printf("  encode, 1 thread, word cache warm    %8.1f MB/s\n", mb / warm);
  printf("  the same, all %.1f MB in one call     %8.1f MB/s\n", mb, mb / whole);
  printf("  encode, %d threads, cache shared      %8.1f MB/s in all\n", threads, all_cores_rate(&j, threads));
}

int main(int argc, char **argv) {
  char path[1024];
  const char *fx = getenv("SB_FIXTURES");
  if (argc > 1) snprintf(path, sizeof path, "%s", argv[1]);
  else snprintf(path, sizeof path, "%s/tokenizer/tokenizer.json", fx ? fx : "tests/fixtures");
  double t0 = bench_now();
  sb_tokenizer *t = sb_tokenizer_load(path);
  if (!t) {
    fprintf(stderr, "bench_tokenizer: %s\n", sb_error_message());
    return 1;
  }
  printf("tokenizer %s: %lld ids, loaded in %.0f ms\n", path, (long long)sb_tokenizer_vocab_size(t),
         1e3 * (bench_now() - t0));
  printf("Unicode: libutf8proc %s tables (categories, NFC) with the hand-written split scanner\n",
         utf8proc_version());
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int threads = cores < 1 ? 1 : cores > 64 ? 64 : (int)cores;
  corpus english = make_corpus("English", k_english), cjk = make_corpus("CJK", k_cjk);
  bench_corpus(t, &english, threads);
  bench_corpus(t, &cjk, threads);
  printf("word cache: %zu words\n", sb_bpe_cache_count(t->bpe));
  free(english.text), free(cjk.text);
  sb_tokenizer_free(t);
  return 0;
}
