/* chat.c — ChatML rendering, label masks and truncation (chat.h). */
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "util.h"

/* A growing pair of id and label arrays. */
typedef struct seq {
  int64_t *ids, *labels;
  size_t n, cap;
} seq;

static int seq_push(seq *s, int64_t id, int64_t label) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 256;
    int64_t *a = sb_realloc(s->ids, cap * sizeof *a);
    if (!a) return SB_ERR_NOMEM;
    s->ids = a;
    int64_t *b = sb_realloc(s->labels, cap * sizeof *b);
    if (!b) return SB_ERR_NOMEM;
    s->labels = b, s->cap = cap;
  }
  s->ids[s->n] = id, s->labels[s->n] = label, s->n++;
  return SB_OK;
}

/* Appends the tokens of text; labelled ones carry their id as label. */
static int seq_text(seq *s, const sb_tokenizer *t, const char *text, size_t len, bool labelled) {
  if (!len) return SB_OK;
  int64_t *ids = NULL;
  size_t n = 0;
  int rc = sb_tokenizer_encode(t, text, len, false, &ids, &n);
  for (size_t i = 0; rc == SB_OK && i < n; i++) rc = seq_push(s, ids[i], labelled ? ids[i] : SB_IGNORE_INDEX);
  free(ids);
  return rc;
}

static int64_t special(const sb_tokenizer *t, const char *tok) {
  int64_t id = sb_tokenizer_token_id(t, tok);
  if (id < 0) sb_error("the tokenizer has no %s token (ChatML needs it)", tok);
  return id;
}

static const char *role_name(sb_role r) {
  return r == SB_ROLE_SYSTEM ? "system" : r == SB_ROLE_USER ? "user" : "assistant";
}

/* One message: header, text pieces with a placeholder at each <image>,
 * <|im_end|>, "\n". */
static int render_message(seq *s, const sb_tokenizer *t, sb_role role, const char *text, const sb_chat_opts *o,
                          int *images_seen) {
  int64_t start = special(t, "<|im_start|>"), end = special(t, "<|im_end|>");
  if (start < 0 || end < 0) return SB_ERR_FORMAT;
  bool reply = role == SB_ROLE_ASSISTANT, next = o->labels == SB_LABELS_LLAVA_NEXT;
  int rc = seq_push(s, start, reply && next ? start : SB_IGNORE_INDEX);
  char header[32];
  snprintf(header, sizeof header, "%s\n", role_name(role));
  if (rc == SB_OK) rc = seq_text(s, t, header, strlen(header), reply && next);
  const char *p = text;
  while (rc == SB_OK) {
    const char *img = strstr(p, "<image>");
    size_t len = img ? (size_t)(img - p) : strlen(p);
    rc = seq_text(s, t, p, len, reply);
    if (!img || rc) break;
    rc = seq_push(s, o->image_token_id, SB_IGNORE_INDEX);
    (*images_seen)++;
    p = img + strlen("<image>");
  }
  if (rc == SB_OK) rc = seq_push(s, end, reply ? end : SB_IGNORE_INDEX);
  if (rc == SB_OK) rc = seq_text(s, t, "\n", 1, reply && next);
  return rc;
}

/* LLaVA-NeXT un-masks "\n", <|im_start|> and <|im_end|> everywhere. */
static void llava_next_specials(seq *s, const sb_tokenizer *t) {
  int64_t nl = sb_tokenizer_token_id(t, "Ċ"), a = sb_tokenizer_token_id(t, "<|im_start|>"),
          b = sb_tokenizer_token_id(t, "<|im_end|>");
  for (size_t i = 0; i < s->n; i++)
    if (s->ids[i] == nl || s->ids[i] == a || s->ids[i] == b) s->labels[i] = s->ids[i];
}

static int render_turns(seq *s, const sb_tokenizer *t, const sb_sample *smp, const sb_chat_opts *o) {
  int n = sb_sample_n_turns(smp), images = 0, rc = SB_OK;
  sb_role role;
  const char *text;
  bool has_system = n > 0 && sb_sample_turn(smp, 0, &role, &text) == SB_OK && role == SB_ROLE_SYSTEM;
  const char *sys = o->system_prompt ? o->system_prompt : sb_tokenizer_default_system(t);
  if (!has_system && sys && sys[0]) rc = render_message(s, t, SB_ROLE_SYSTEM, sys, o, &images);
  for (int i = 0; i < n && rc == SB_OK; i++) {
    if ((rc = sb_sample_turn(smp, i, &role, &text))) break;
    rc = render_message(s, t, role, text, o, &images);
  }
  if (rc == SB_OK && images != sb_sample_n_images(smp))
    rc = sb_error_set(SB_ERR_FORMAT, "sample '%s': %d <image> placeholders for %d images", sb_sample_id(smp),
                      images, sb_sample_n_images(smp));
  if (rc == SB_OK && o->labels == SB_LABELS_LLAVA_NEXT) llava_next_specials(s, t);
  if (rc == SB_OK && o->generation) { /* the generation prompt */
    int64_t start = special(t, "<|im_start|>");
    rc = start < 0 ? SB_ERR_FORMAT : seq_push(s, start, SB_IGNORE_INDEX);
    if (rc == SB_OK) rc = seq_text(s, t, "assistant\n", 10, false);
  }
  return rc;
}

static int take_tokens(seq *s, const sb_sample *smp, const sb_chat_opts *o) {
  const int64_t *ids = sb_sample_ids(smp), *labels = sb_sample_labels(smp);
  int images = 0, rc = SB_OK;
  for (int64_t i = 0; i < sb_sample_n_tokens(smp) && rc == SB_OK; i++) {
    images += ids[i] == o->image_token_id;
    rc = seq_push(s, ids[i], labels[i]);
  }
  if (rc == SB_OK && images != sb_sample_n_images(smp))
    rc = sb_error_set(SB_ERR_FORMAT, "sample '%s': %d image positions (id %lld) for %d images", sb_sample_id(smp),
                      images, (long long)o->image_token_id, sb_sample_n_images(smp));
  return rc;
}

/* Keeps the longest prefix whose merged length fits, never splitting an
 * image's visual tokens (the image is dropped instead). */
static void truncate_seq(seq *s, const sb_chat_opts *o, int *n_images) {
  int64_t vt = o->visual_tokens > 0 ? o->visual_tokens : 1, merged = 0;
  size_t keep = 0;
  int images = 0;
  for (; keep < s->n; keep++) {
    int64_t w = s->ids[keep] == o->image_token_id ? vt : 1;
    if (o->max_length > 0 && merged + w > o->max_length) break;
    merged += w;
    images += s->ids[keep] == o->image_token_id;
  }
  s->n = keep;
  *n_images = images;
}

int sb_chat_render(const sb_tokenizer *t, const sb_sample *smp, const sb_chat_opts *o, sb_chat_tokens *out) {
  memset(out, 0, sizeof *out);
  seq s = {0};
  int rc = sb_sample_n_tokens(smp) > 0 ? take_tokens(&s, smp, o) : render_turns(&s, t, smp, o);
  if (rc) {
    free(s.ids), free(s.labels);
    return rc;
  }
  int images = 0;
  truncate_seq(&s, o, &images);
  int64_t labelled = 0;
  /* the loss is shifted: a label counts when it is not the first token */
  for (size_t i = 1; i < s.n; i++) labelled += s.labels[i] != SB_IGNORE_INDEX;
  if (!labelled && !o->generation) {
    free(s.ids), free(s.labels);
    return SB_CHAT_DROPPED;
  }
  int64_t vt = o->visual_tokens > 0 ? o->visual_tokens : 1;
  *out = (sb_chat_tokens){s.ids, s.labels, s.n, images, (int64_t)s.n + images * (vt - 1), labelled};
  return SB_OK;
}

void sb_chat_tokens_free(sb_chat_tokens *c) {
  free(c->ids), free(c->labels);
  memset(c, 0, sizeof *c);
}
