/* tokenizer.c — the sdk's tokenizer (spatialboost/tokenizer.h) once
 * loaded (tokenizer_load.c): encoding (added tokens on the raw text, then
 * per segment NFC, the split pattern and BPE), decoding (the byte map in
 * reverse, lossy UTF-8), id and token look-ups. Nothing here writes to the
 * tokenizer except the BPE word cache, which is thread-safe (bpe.c). */
#include <stdlib.h>
#include <string.h>

#include "pretokenize.h"
#include "tokenizer_internal.h"
#include "unicode.h"

void sb_tokenizer_free(sb_tokenizer *t) {
  if (!t) return;
  sb_bpe_free(t->bpe);
  free(t->slots);
  free(t->str_off), free(t->dec_off), free(t->dec_len), free(t->special);
  free(t->strings), free(t->bytes);
  free(t->added);
  free(t->default_system);
  free(t->path);
  free(t);
}

/* ---- encoding ---- */

/* The longest added token starting at s[i], or NULL. */
static const sb_added_token *added_at(const sb_tokenizer *t, const char *s, size_t n, size_t i) {
  unsigned b = (uint8_t)s[i];
  for (uint32_t k = t->first[b]; k < t->first[b + 1]; k++) {
    const sb_added_token *a = &t->added[k];
    if (a->len <= n - i && memcmp(s + i, a->content, a->len) == 0) return a;
  }
  return NULL;
}

/* The leftmost added token at or after `from` (longest when several start
 * there), with *at its offset; NULL when none. */
static const sb_added_token *next_added(const sb_tokenizer *t, const char *s, size_t n, size_t from, size_t *at) {
  if (!t->n_added) return NULL;
  for (size_t i = from; i < n; i++) {
    if (t->only_first >= 0) {
      const char *p = memchr(s + i, t->only_first, n - i);
      if (!p) return NULL;
      i = (size_t)(p - s);
    } else if (t->first[(uint8_t)s[i]] == t->first[(uint8_t)s[i] + 1]) {
      continue;
    }
    const sb_added_token *a = added_at(t, s, n, i);
    if (a) {
      *at = i;
      return a;
    }
  }
  return NULL;
}

/* Ids of text between added tokens: NFC, the split pattern, BPE per piece. */
static int encode_segment(const sb_tokenizer *t, const char *s, size_t n, sb_idvec *out) {
  if (!n) return SB_OK;
  char *owned;
  size_t m;
  const char *u = sb_nfc(s, n, &m, &owned);
  if (!u) return sb_error_code();
  int rc = SB_OK;
  for (size_t pos = 0, end; rc == SB_OK && pos < m; pos = end) {
    end = sb_pretok_next(u, m, pos);
    rc = sb_bpe_encode(t->bpe, (const uint8_t *)u + pos, end - pos, out);
  }
  free(owned);
  return rc;
}

int sb_tokenizer_encode(const sb_tokenizer *t, const char *text, size_t len, bool split_special, int64_t **ids,
                        size_t *n) {
  if (!t || !ids || !n || (!text && len)) return sb_error("sb_tokenizer_encode: missing argument");
  *ids = NULL, *n = 0;
  size_t valid = len ? sb_utf8_valid_prefix(text, len) : 0;
  if (valid < len) return sb_error_set(SB_ERR_FORMAT, "the text is not valid UTF-8 (at byte %zu)", valid);
  sb_idvec out = {0};
  int rc = SB_OK;
  size_t seg = 0, pos = 0, at;
  const sb_added_token *a;
  /* Hugging Face's rule: with split_special, special tokens are found and
   * then left in the text; other added tokens are still matched. */
  while (rc == SB_OK && (a = next_added(t, text, len, pos, &at))) {
    pos = at + a->len;
    if (split_special && a->special) continue;
    if ((rc = encode_segment(t, text + seg, at - seg, &out)) == SB_OK) rc = sb_idvec_push(&out, a->id);
    seg = pos;
  }
  if (rc == SB_OK) rc = encode_segment(t, text + seg, len - seg, &out);
  if (rc) {
    free(out.v);
    return rc;
  }
  *ids = out.v ? out.v : sb_malloc(sizeof(int64_t));
  *n = out.n;
  return *ids ? SB_OK : SB_ERR_NOMEM;
}

/* ---- decoding ---- */

static bool has_id(const sb_tokenizer *t, int64_t id) {
  return t && id >= 0 && id < t->n_ids && t->str_off[id] != SB_TOK_NONE;
}

char *sb_tokenizer_decode(const sb_tokenizer *t, const int64_t *ids, size_t n, bool skip_special) {
  if (!t || (!ids && n)) {
    sb_error("sb_tokenizer_decode: missing argument");
    return NULL;
  }
  sb_strbuf bytes, text;
  sb_strbuf_init(&bytes), sb_strbuf_init(&text);
  int rc = SB_OK;
  for (size_t i = 0; rc == SB_OK && i < n; i++) {
    int64_t id = ids[i];
    if (!has_id(t, id))
      rc = sb_error_set(SB_ERR_NOT_FOUND, "token id %lld (position %zu) is not in the vocabulary (ids 0 to %lld)",
                        (long long)id, i, (long long)t->n_ids - 1);
    else if (!(skip_special && t->special[id]))
      rc = sb_strbuf_appendn(&bytes, t->bytes + t->dec_off[id], t->dec_len[id]);
  }
  if (rc == SB_OK) rc = sb_utf8_append_lossy(&text, (const uint8_t *)bytes.data, bytes.len);
  sb_strbuf_free(&bytes);
  if (rc) {
    sb_strbuf_free(&text);
    return NULL;
  }
  return sb_strbuf_take(&text);
}

/* ---- look-ups ---- */

int64_t sb_tokenizer_token_id(const sb_tokenizer *t, const char *token) {
  return t && token ? sb_tok_lookup(t, t->strings, token) : -1;
}

const char *sb_tokenizer_token(const sb_tokenizer *t, int64_t id) {
  return has_id(t, id) ? t->strings + t->str_off[id] : NULL;
}

int64_t sb_tokenizer_vocab_size(const sb_tokenizer *t) { return t ? t->n_ids : 0; }

const char *sb_tokenizer_default_system(const sb_tokenizer *t) { return t ? t->default_system : NULL; }
