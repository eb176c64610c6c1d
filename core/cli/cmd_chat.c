/* cmd_chat.c — `spatialboost chat`: answers a question about images with a
 * trained run: the prompt rendered as in training (ChatML, one placeholder
 * per image), the visual tokens spliced in, then greedy or sampled decoding
 * through the LLM's key/value cache until <|im_end|>. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "cli.h"
#include "mm_forward.h"
#include "run_open.h"
#include "slots.h"
#include "spatialboost/spatialboost.h"
#include "util.h"

#define MAX_IMAGES 16

typedef struct chat_args {
  const char *run_dir, *question, *system;
  const char *images[MAX_IMAGES];
  int n_images;
  int64_t max_new;
  double temperature, top_p;
  uint64_t seed;
} chat_args;

static void help(FILE *out) {
  fprintf(out,
          "usage: spatialboost chat --checkpoint RUN_DIR [--image FILE]... [--max-new-tokens N]\n"
          "                         [--temperature T] [--top-p P] [--seed S] [--system TEXT] QUESTION\n\n"
          "Answers QUESTION about the images with the run's model (its newest checkpoint).\n"
          "Greedy by default; --temperature > 0 samples (with --top-p nucleus filtering).\n");
}

static int parse(int argc, char **argv, chat_args *a) {
  *a = (chat_args){.max_new = 128, .top_p = 1.0};
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    bool v = i + 1 < argc;
    if (strcmp(o, "--checkpoint") == 0 && v) a->run_dir = argv[++i];
    else if (strcmp(o, "--image") == 0 && v) {
      do {
        if (a->n_images == MAX_IMAGES) return sb_error("at most %d images", MAX_IMAGES);
        a->images[a->n_images++] = argv[++i];
      } while (i + 2 < argc && argv[i + 1][0] != '-'); /* more images; the last word is the question */
    } else if (strcmp(o, "--max-new-tokens") == 0 && v) a->max_new = strtoll(argv[++i], NULL, 10);
    else if (strcmp(o, "--temperature") == 0 && v) a->temperature = atof(argv[++i]);
    else if (strcmp(o, "--top-p") == 0 && v) a->top_p = atof(argv[++i]);
    else if (strcmp(o, "--seed") == 0 && v) a->seed = strtoull(argv[++i], NULL, 10);
    else if (strcmp(o, "--system") == 0 && v) a->system = argv[++i];
    else if (o[0] != '-' && !a->question) a->question = o;
    else return sb_error("unexpected argument '%s' (see --help)", o);
  }
  if (!a->run_dir || !a->question) return sb_error("--checkpoint RUN_DIR and a question are required (see --help)");
  if (a->max_new < 1 || a->temperature < 0 || a->top_p <= 0 || a->top_p > 1)
    return sb_error("--max-new-tokens >= 1, --temperature >= 0 and 0 < --top-p <= 1");
  return SB_OK;
}

typedef struct {
  double p;
  int64_t id;
} token_prob;

/* Most probable first; equal ones by id, so a seed gives one answer. */
static int by_prob(const void *x, const void *y) {
  const token_prob *a = x, *b = y;
  if (a->p != b->p) return a->p < b->p ? 1 : -1;
  return (a->id > b->id) - (a->id < b->id);
}

/* The next token from logits [V]: argmax, or a sample from the tempered,
 * top-p filtered distribution (sorted once: O(V log V)). */
static int64_t pick(const float *logits, int64_t V, const chat_args *a, sb_rng *rng) {
  int64_t best = 0;
  for (int64_t i = 1; i < V; i++)
    if (logits[i] > logits[best]) best = i;
  if (a->temperature <= 0) return best;
  token_prob *t = malloc(sizeof *t * (size_t)V);
  if (!t) return best;
  double total = 0, kept = 0;
  for (int64_t i = 0; i < V; i++)
    total += (t[i].p = exp((logits[i] - logits[best]) / a->temperature)), t[i].id = i;
  qsort(t, (size_t)V, sizeof *t, by_prob);
  int64_t n = 0; /* the smallest prefix holding top_p of the mass */
  while (n < V && kept < a->top_p * total) kept += t[n++].p;
  double u = sb_rng_uniform(rng) * kept;
  int64_t chosen = t[n - 1].id;
  for (int64_t i = 0; i < n; i++) {
    if ((u -= t[i].p) <= 0) {
      chosen = t[i].id;
      break;
    }
  }
  free(t);
  return chosen;
}

static int prompt(sb_run *r, const chat_args *a, sb_chat_tokens *toks, sb_encoder_input *images) {
  sb_sample *s = sb_sample_new();
  sb_strbuf q;
  sb_strbuf_init(&q);
  for (int i = 0; i < a->n_images; i++) sb_strbuf_append(&q, "<image>\n");
  sb_strbuf_append(&q, a->question);
  int rc = s ? sb_sample_add_turn(s, SB_ROLE_USER, q.data) : SB_ERR_NOMEM;
  sb_strbuf_free(&q);
  sb_image *imgs = sb_calloc((size_t)a->n_images + 1, sizeof *imgs);
  for (int i = 0; i < a->n_images && rc == SB_OK; i++) rc = sb_image_load(a->images[i], &imgs[i]);
  for (int i = 0; i < a->n_images && rc == SB_OK; i++) rc = sb_sample_add_image_path(s, a->images[i]);
  sb_encoder_info info = {.struct_size = sizeof info};
  const sb_encoder_vtable *ev = r->model.encoder.vtable;
  memset(images, 0, sizeof *images);
  images->struct_size = sizeof *images;
  if (rc == SB_OK && a->n_images) {
    if (!r->model.encoder.self) rc = sb_error("the run's model has no encoder for images");
    else if (!(rc = ev->describe(r->model.encoder.self, &info))) rc = ev->preprocess(r->model.encoder.self, imgs, a->n_images, images);
  }
  sb_chat_opts o = {a->system, -200, info.num_visual_tokens > 0 ? info.num_visual_tokens : 1, 0, SB_LABELS_ASSISTANT, true};
  if (rc == SB_OK) rc = sb_chat_render(r->tok, s, &o, toks);
  for (int i = 0; i < a->n_images; i++) sb_image_free(&imgs[i]);
  free(imgs);
  sb_sample_free(s);
  return rc;
}

static bool is_stop(const sb_llm_info *li, const sb_tokenizer *t, int64_t id) {
  for (int i = 0; i < li->n_eos_token_ids; i++)
    if (id == li->eos_token_ids[i]) return true;
  return id == sb_tokenizer_token_id(t, "<|im_end|>") || id == sb_tokenizer_token_id(t, "<|endoftext|>");
}

static int generate(sb_run *r, const chat_args *a, char **answer) {
  sb_chat_tokens toks;
  sb_encoder_input images;
  int rc = prompt(r, a, &toks, &images);
  if (rc) return rc;
  const sb_llm_vtable *lv = r->model.llm.vtable;
  sb_llm_info li = {.struct_size = sizeof li};
  lv->describe(r->model.llm.self, &li);
  sb_mm_batch b = {.image_token_id = -200, .images = images};
  int64_t n = (int64_t)toks.n;
  b.input_ids = sb_tensor_from_host(SB_DTYPE_I64, 2, (int64_t[]){1, n}, toks.ids);
  b.labels = sb_tensor_from_host(SB_DTYPE_I64, 2, (int64_t[]){1, n}, toks.labels);
  sb_mm_output mo;
  rc = sb_mm_embed(&r->model, &b, &mo);
  int64_t L = rc == SB_OK ? sb_tensor_dim(mo.inputs_embeds, 1) : 0, *out = sb_calloc((size_t)a->max_new + 1, sizeof *out);
  sb_llm_cache *cache = rc == SB_OK && out ? sb_llm_cache_new(lv, r->model.llm.self, r->model.llm.desc->name, 1, L + a->max_new) : NULL;
  if (rc == SB_OK && !cache) rc = sb_error_prefix("llm cache");
  float *logits = sb_malloc(sizeof(float) * (size_t)li.vocab_size);
  sb_rng rng;
  sb_rng_seed(&rng, a->seed);
  sb_tensor *next = rc == SB_OK ? mo.inputs_embeds : NULL;
  int64_t produced = 0;
  while (rc == SB_OK && produced < a->max_new) {
    sb_scope_begin();
    sb_llm_input in = {.struct_size = sizeof in, .inputs_embeds = next, .cache = cache};
    sb_tensor *h = lv->forward(r->model.llm.self, &in);
    sb_tensor *last = h ? sb_op_reshape(sb_op_narrow(h, 1, sb_tensor_dim(h, 1) - 1, 1), 2, (int64_t[]){1, -1}) : NULL;
    sb_tensor *lg = last ? lv->logits(r->model.llm.self, last) : NULL;
    rc = lg ? sb_tensor_to_host_f32(lg, logits, (size_t)li.vocab_size) : sb_error_prefix("llm");
    int64_t id = rc == SB_OK ? pick(logits, li.vocab_size, a, &rng) : 0;
    sb_scope_end();
    if (rc || is_stop(&li, r->tok, id)) break;
    out[produced++] = id;
    next = lv->embed(r->model.llm.self, sb_tensor_from_host(SB_DTYPE_I64, 2, (int64_t[]){1, 1}, &id));
    if (!next) rc = SB_ERR;
  }
  if (rc == SB_OK && !(*answer = sb_tokenizer_decode(r->tok, out, (size_t)produced, true))) rc = SB_ERR;
  if (cache) lv->cache_free(r->model.llm.self, cache);
  free(out), free(logits);
  sb_chat_tokens_free(&toks);
  return rc;
}

static int run(int argc, char **argv) {
  chat_args a;
  if (parse(argc, argv, &a)) return sb_cli_fail("chat"), 2;
  sb_run r;
  if (sb_run_open(a.run_dir, true, &r)) return sb_cli_fail("chat");
  char *answer = NULL;
  sb_scope_begin();
  sb_grad_push(false);
  int rc = generate(&r, &a, &answer);
  sb_grad_pop();
  sb_scope_end();
  if (rc == SB_OK) printf("%s\n", answer);
  free(answer);
  sb_run_close(&r);
  return rc ? sb_cli_fail("chat") : 0;
}

const sb_command sb_cmd_chat = {"chat", "answer a question about images with a trained run", run, help};
