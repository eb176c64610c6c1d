/* tokenizer_load.c — sb_tokenizer_load: reads a Hugging Face tokenizer.json
 * with Jansson, checks that it is the byte-level BPE pipeline the encoder
 * implements (NFC or no normaliser, the Qwen2 split pattern, ByteLevel
 * without its own regex, a plain BPE model), and builds the per-id tables,
 * the merge table and the added tokens. The default system prompt comes
 * from the chat template in tokenizer_config.json beside it. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "pretokenize.h"
#include "tokenizer_internal.h"
#include "unicode.h"

#define EXPECT_PRETOK                                                                                  \
  "expected a Sequence of Split (the Qwen2 pattern, behavior Isolated) and ByteLevel (use_regex false)"

typedef struct loader {
  sb_tokenizer *t;
  const char *file;
  sb_strbuf strings, bytes;
} loader;

/* ---- small JSON helpers ---- */

static const char *member_str(const json_t *o, const char *key) {
  return json_string_value(json_object_get(o, key));
}

static const char *type_of(const json_t *o) {
  if (!o || json_is_null(o)) return "none";
  const char *t = member_str(o, "type");
  return t ? t : "an object without a type";
}

static bool member_true(const json_t *o, const char *key) { return json_is_true(json_object_get(o, key)); }

static bool type_is(const json_t *o, const char *type) {
  const char *t = member_str(o, "type");
  return t && strcmp(t, type) == 0;
}

/* ---- the pipeline around the model ---- */

static int check_normalizer(const loader *l, const json_t *root) {
  const json_t *n = json_object_get(root, "normalizer");
  if (!n || json_is_null(n) || type_is(n, "NFC")) return SB_OK;
  if (type_is(n, "Sequence")) {
    const json_t *list = json_object_get(n, "normalizers");
    size_t i;
    const json_t *v;
    bool all_nfc = json_is_array(list);
    json_array_foreach(list, i, v) all_nfc = all_nfc && type_is(v, "NFC");
    if (all_nfc) return SB_OK;
  }
  return sb_error_set(SB_ERR_FORMAT, "%s: normalizer is '%s'; expected NFC or none", l->file, type_of(n));
}

static int check_split(const loader *l, const json_t *split) {
  const json_t *pattern = json_object_get(split, "pattern");
  const char *regex = member_str(pattern, "Regex");
  if (!regex)
    return sb_error_set(SB_ERR_FORMAT, "%s: pre_tokenizer Split has no Regex pattern; " EXPECT_PRETOK, l->file);
  if (strcmp(regex, sb_pretok_qwen2_pattern) != 0)
    return sb_error_set(SB_ERR_FORMAT,
                        "%s: pre_tokenizer Split pattern %s is not implemented; expected the Qwen2 pattern %s",
                        l->file, regex, sb_pretok_qwen2_pattern);
  const char *behavior = member_str(split, "behavior");
  if (!behavior || strcmp(behavior, "Isolated") != 0 || member_true(split, "invert"))
    return sb_error_set(SB_ERR_FORMAT, "%s: pre_tokenizer Split behavior is '%s'%s; expected Isolated, not inverted",
                        l->file, behavior ? behavior : "none", member_true(split, "invert") ? " (inverted)" : "");
  return SB_OK;
}

static int check_pre_tokenizer(const loader *l, const json_t *root) {
  const json_t *p = json_object_get(root, "pre_tokenizer");
  const json_t *list = json_object_get(p, "pretokenizers");
  if (!type_is(p, "Sequence") || json_array_size(list) != 2)
    return sb_error_set(SB_ERR_FORMAT, "%s: pre_tokenizer is '%s'; " EXPECT_PRETOK, l->file, type_of(p));
  const json_t *split = json_array_get(list, 0), *bl = json_array_get(list, 1);
  if (!type_is(split, "Split") || !type_is(bl, "ByteLevel"))
    return sb_error_set(SB_ERR_FORMAT, "%s: pre_tokenizer is a Sequence of '%s' and '%s'; " EXPECT_PRETOK, l->file,
                        type_of(split), type_of(bl));
  if (check_split(l, split)) return SB_ERR_FORMAT;
  if (member_true(bl, "use_regex") || member_true(bl, "add_prefix_space"))
    return sb_error_set(SB_ERR_FORMAT, "%s: pre_tokenizer ByteLevel has %s true; expected false", l->file,
                        member_true(bl, "use_regex") ? "use_regex" : "add_prefix_space");
  return SB_OK;
}

static int check_decoder(const loader *l, const json_t *root) {
  const json_t *d = json_object_get(root, "decoder");
  if (type_is(d, "ByteLevel")) return SB_OK;
  return sb_error_set(SB_ERR_FORMAT, "%s: decoder is '%s'; expected ByteLevel", l->file, type_of(d));
}

static int check_model(const loader *l, const json_t *model) {
  if (!json_is_object(model))
    return sb_error_set(SB_ERR_FORMAT, "%s: no 'model' object; expected a BPE model", l->file);
  const char *type = member_str(model, "type");
  if (type ? strcmp(type, "BPE") != 0 : !json_object_get(model, "merges"))
    return sb_error_set(SB_ERR_FORMAT, "%s: model.type is '%s'; expected 'BPE' (byte-level BPE)", l->file,
                        type ? type : "none");
  if (member_true(model, "byte_fallback"))
    return sb_error_set(SB_ERR_FORMAT, "%s: model.byte_fallback is true; expected false (byte-level BPE)", l->file);
  if (member_true(model, "ignore_merges"))
    return sb_error_set(SB_ERR_FORMAT, "%s: model.ignore_merges is true; only false is implemented", l->file);
  const json_t *dropout = json_object_get(model, "dropout");
  if (dropout && !json_is_null(dropout) && !(json_is_number(dropout) && json_number_value(dropout) == 0))
    return sb_error_set(SB_ERR_FORMAT, "%s: model.dropout is set; expected null", l->file);
  static const char *const affixes[] = {"continuing_subword_prefix", "end_of_word_suffix"};
  for (size_t i = 0; i < 2; i++) {
    const char *a = member_str(model, affixes[i]);
    if (a && a[0])
      return sb_error_set(SB_ERR_FORMAT, "%s: model.%s is '%s'; expected none", l->file, affixes[i], a);
  }
  if (!json_is_object(json_object_get(model, "vocab")))
    return sb_error_set(SB_ERR_FORMAT, "%s: model.vocab: expected an object of token -> id", l->file);
  if (!json_is_array(json_object_get(model, "merges")))
    return sb_error_set(SB_ERR_FORMAT, "%s: model.merges: expected a list", l->file);
  return SB_OK;
}

/* ---- ids ---- */

/* FNV-1a with a final mix: token strings are short. */
static uint64_t hash_token(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
  return h ^ (h >> 29);
}

/* The slot of token: the one holding it, or the free one it would take. */
static size_t token_slot(const sb_tokenizer *t, const char *strings, const char *token) {
  size_t i = (size_t)hash_token(token) & t->slot_mask;
  for (; t->slots[i]; i = (i + 1) & t->slot_mask)
    if (strcmp(strings + t->str_off[t->slots[i] - 1], token) == 0) break;
  return i;
}

int64_t sb_tok_lookup(const sb_tokenizer *t, const char *strings, const char *token) {
  uint32_t v = t->slots[token_slot(t, strings, token)];
  return v ? (int64_t)v - 1 : -1;
}

static int64_t find_id(const loader *l, const char *token) { return sb_tok_lookup(l->t, l->strings.data, token); }

/* Appends the bytes a token decodes to: every character reversed through
 * the byte map, or (as Hugging Face's ByteLevel decoder does) the token's
 * own UTF-8 when some character is not in the map. */
static int append_decoded(sb_strbuf *out, const char *token) {
  const uint8_t *s = (const uint8_t *)token;
  size_t mark = out->len, len;
  for (size_t i = 0; s[i]; i += len) {
    int b = sb_bytelevel_byte(sb_utf8_next(s + i, &len));
    if (b < 0) {
      out->len = mark;
      return sb_strbuf_append(out, token);
    }
    char c = (char)b;
    if (sb_strbuf_appendn(out, &c, 1)) return SB_ERR_NOMEM;
  }
  return SB_OK;
}

/* Gives id its token string and decoded bytes. */
static int set_token(loader *l, int64_t id, const char *token) {
  sb_tokenizer *t = l->t;
  if (l->strings.len >= SB_TOK_NONE / 2 || l->bytes.len >= SB_TOK_NONE / 2)
    return sb_error_set(SB_ERR_FORMAT, "%s: the vocabulary is too large", l->file);
  t->str_off[id] = (uint32_t)l->strings.len;
  t->dec_off[id] = (uint32_t)l->bytes.len;
  if (sb_strbuf_appendn(&l->strings, token, strlen(token) + 1) || append_decoded(&l->bytes, token))
    return SB_ERR_NOMEM;
  t->dec_len[id] = (uint32_t)(l->bytes.len - t->dec_off[id]);
  t->slots[token_slot(t, l->strings.data, token)] = (uint32_t)id + 1;
  return SB_OK;
}

#define MAX_IDS (1 << 24) /* the per-id tables are allocated up to the largest id */

static int read_id(const loader *l, const json_t *v, const char *what, const char *token, int64_t *id) {
  if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= MAX_IDS)
    return sb_error_set(SB_ERR_FORMAT, "%s: %s '%s': expected an id from 0 to %d", l->file, what, token,
                        MAX_IDS - 1);
  *id = json_integer_value(v);
  return SB_OK;
}

/* The largest id of the vocabulary and the added tokens, + 1. */
static int count_ids(loader *l, const json_t *vocab, const json_t *added) {
  const char *key;
  const json_t *v;
  size_t i;
  int64_t id = 0, end = 0;
  json_object_foreach((json_t *)vocab, key, v) {
    if (read_id(l, v, "vocab entry", key, &id)) return SB_ERR_FORMAT;
    if (id >= end) end = id + 1;
  }
  json_array_foreach(added, i, v) {
    const char *content = member_str(v, "content");
    if (read_id(l, json_object_get(v, "id"), "added token", content ? content : "?", &id)) return SB_ERR_FORMAT;
    if (id >= end) end = id + 1;
  }
  l->t->n_ids = end;
  return SB_OK;
}

static int alloc_tables(sb_tokenizer *t) {
  size_t n = (size_t)t->n_ids;
  t->str_off = sb_malloc(n * sizeof *t->str_off);
  t->dec_off = sb_calloc(n, sizeof *t->dec_off);
  t->dec_len = sb_calloc(n, sizeof *t->dec_len);
  t->special = sb_calloc(n, 1);
  size_t cap = 1024;
  while (cap < 2 * n) cap *= 2; /* at most half full */
  t->slots = sb_calloc(cap, sizeof *t->slots);
  t->slot_mask = cap - 1;
  if (!t->str_off || !t->dec_off || !t->dec_len || !t->special || !t->slots) return SB_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) t->str_off[i] = SB_TOK_NONE;
  return SB_OK;
}

static int read_vocab(loader *l, const json_t *vocab) {
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)vocab, key, v) {
    int64_t id = json_integer_value(v);
    if (l->t->str_off[id] != SB_TOK_NONE)
      return sb_error_set(SB_ERR_FORMAT, "%s: vocab: id %lld is given to both '%s' and '%s'", l->file,
                          (long long)id, l->strings.data + l->t->str_off[id], key);
    int rc = set_token(l, id, key);
    if (rc) return rc;
  }
  return SB_OK;
}

/* ---- merges ---- */

/* The two halves of merge number `rank`, "a b" or ["a", "b"], copied into
 * buf (two NUL-terminated strings); *b points at the second. */
static int merge_halves(const loader *l, const json_t *m, size_t rank, sb_strbuf *buf, const char **b) {
  buf->len = 0;
  const char *s = json_string_value(m);
  if (s) {
    const char *space = strchr(s, ' ');
    if (!space || space == s || !space[1] || strchr(space + 1, ' '))
      return sb_error_set(SB_ERR_FORMAT, "%s: merge %zu ('%s'): expected two tokens separated by one space",
                          l->file, rank, s);
    if (sb_strbuf_appendn(buf, s, (size_t)(space - s) + 1)) return SB_ERR_NOMEM;
    buf->data[space - s] = 0;
    if (sb_strbuf_append(buf, space + 1)) return SB_ERR_NOMEM;
  } else {
    const char *x = json_string_value(json_array_get(m, 0)), *y = json_string_value(json_array_get(m, 1));
    if (json_array_size(m) != 2 || !x || !y)
      return sb_error_set(SB_ERR_FORMAT, "%s: merge %zu: expected \"a b\" or [\"a\", \"b\"]", l->file, rank);
    if (sb_strbuf_appendn(buf, x, strlen(x) + 1) || sb_strbuf_append(buf, y)) return SB_ERR_NOMEM;
  }
  *b = buf->data + strlen(buf->data) + 1;
  return SB_OK;
}

static int read_merges(loader *l, const json_t *merges) {
  sb_strbuf buf, joined;
  sb_strbuf_init(&buf), sb_strbuf_init(&joined);
  int rc = SB_OK;
  size_t rank;
  const json_t *m;
  json_array_foreach(merges, rank, m) {
    const char *a, *b = NULL;
    if ((rc = merge_halves(l, m, rank, &buf, &b))) break;
    a = buf.data;
    joined.len = 0;
    if ((rc = sb_strbuf_append(&joined, a)) || (rc = sb_strbuf_append(&joined, b))) break;
    int64_t ia = find_id(l, a), ib = find_id(l, b), ij = find_id(l, joined.data);
    if (ia < 0 || ib < 0 || ij < 0) {
      const char *missing = ia < 0 ? a : ib < 0 ? b : joined.data;
      rc = sb_error_set(SB_ERR_FORMAT, "%s: merge %zu ('%s %s'): %s'%s' is not in the vocabulary", l->file, rank, a,
                        b, ia < 0 || ib < 0 ? "" : "the merged token ", missing);
      break;
    }
    if ((rc = sb_bpe_add(l->t->bpe, (int32_t)ia, (int32_t)ib, (int32_t)ij, (uint32_t)rank))) break;
  }
  sb_strbuf_free(&buf), sb_strbuf_free(&joined);
  return rc;
}

/* The model: the token of each single byte, then the merge table. */
static int build_bpe(loader *l, const json_t *merges) {
  int32_t byte_ids[256];
  for (unsigned b = 0; b < 256; b++) {
    char s[8] = {0};
    uint32_t cp = sb_bytelevel_char((uint8_t)b);
    if (cp < 0x80) s[0] = (char)cp;
    else s[0] = (char)(0xC0 | (cp >> 6)), s[1] = (char)(0x80 | (cp & 0x3F));
    int64_t id = find_id(l, s);
    if (id < 0)
      return sb_error_set(SB_ERR_FORMAT, "%s: the vocabulary has no token '%s' for byte 0x%02X; expected a byte-level "
                          "vocabulary", l->file, s, b);
    byte_ids[b] = (int32_t)id;
  }
  if (!(l->t->bpe = sb_bpe_new(json_array_size(merges), byte_ids))) return SB_ERR_NOMEM;
  return read_merges(l, merges);
}

/* ---- added tokens ---- */

static int check_added_flags(const loader *l, const json_t *v, const char *content) {
  static const char *const flags[] = {"lstrip", "rstrip", "single_word", "normalized"};
  for (size_t i = 0; i < SB_ARRAY_LEN(flags); i++)
    if (member_true(v, flags[i]))
      return sb_error_set(SB_ERR_FORMAT, "%s: added token '%s': %s is true; only false is implemented", l->file,
                          content, flags[i]);
  return SB_OK;
}

static int cmp_added(const void *pa, const void *pb) {
  const sb_added_token *a = pa, *b = pb;
  unsigned fa = (uint8_t)a->content[0], fb = (uint8_t)b->content[0];
  if (fa != fb) return fa < fb ? -1 : 1;
  if (a->len != b->len) return a->len > b->len ? -1 : 1;
  return (a->id > b->id) - (a->id < b->id);
}

/* Sorts the added tokens for matching and indexes them by first byte. */
static void index_added(sb_tokenizer *t) {
  qsort(t->added, t->n_added, sizeof *t->added, cmp_added);
  size_t k = 0;
  t->only_first = t->n_added ? (uint8_t)t->added[0].content[0] : -1;
  for (unsigned b = 0; b <= 256; b++) {
    t->first[b] = (uint32_t)k;
    while (b < 256 && k < t->n_added && (uint8_t)t->added[k].content[0] == b) k++;
  }
  for (size_t i = 0; i < t->n_added; i++)
    if ((uint8_t)t->added[i].content[0] != t->only_first) t->only_first = -1;
}

static int read_added(loader *l, const json_t *added) {
  sb_tokenizer *t = l->t;
  size_t n = json_array_size(added), i;
  const json_t *v;
  if (n && !(t->added = sb_calloc(n, sizeof *t->added))) return SB_ERR_NOMEM;
  json_array_foreach(added, i, v) {
    const char *content = member_str(v, "content");
    int64_t id = json_integer_value(json_object_get(v, "id"));
    if (!content || !content[0])
      return sb_error_set(SB_ERR_FORMAT, "%s: added token %lld: expected a non-empty 'content'", l->file, (long long)id);
    if (check_added_flags(l, v, content)) return SB_ERR_FORMAT;
    if (t->str_off[id] != SB_TOK_NONE && strcmp(l->strings.data + t->str_off[id], content) != 0)
      return sb_error_set(SB_ERR_FORMAT, "%s: added token '%s' has id %lld, which is '%s' already", l->file, content,
                          (long long)id, l->strings.data + t->str_off[id]);
    int rc = set_token(l, id, content);
    if (rc) return rc;
    t->special[id] = member_true(v, "special");
    /* content pointers are set once the strings stop moving */
    t->added[t->n_added++] = (sb_added_token){(const char *)(uintptr_t)t->str_off[id], strlen(content), id,
                                              t->special[id]};
  }
  return SB_OK;
}

/* ---- the chat template's default system prompt ---- */

/* Reads the Jinja string literal at s (at its opening quote) into out,
 * escapes resolved; returns the position after it. */
static const char *jinja_literal(const char *s, sb_strbuf *out) {
  char quote = *s++;
  out->len = 0;
  for (; *s && *s != quote; s++) {
    char c = *s;
    if (c == '\\' && s[1]) {
      c = *++s;
      c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
    }
    if (sb_strbuf_appendn(out, &c, 1)) return NULL;
  }
  return *s ? s + 1 : s;
}

/* The content of a literal '<|im_start|>system\n...<|im_end|>' inside a
 * template's {{ }} or {% %} tags (the system message emitted when the
 * conversation has none), or NULL. */
static char *template_default_system(const char *tpl) {
  static const char head[] = "<|im_start|>system\n", tail[] = "<|im_end|>";
  sb_strbuf lit;
  sb_strbuf_init(&lit);
  char *found = NULL;
  bool in_tag = false;
  for (const char *s = tpl; s && *s && !found;) {
    if (!in_tag) {
      in_tag = s[0] == '{' && (s[1] == '{' || s[1] == '%');
      s += in_tag ? 2 : 1;
    } else if ((s[0] == '}' || s[0] == '%') && s[1] == '}') {
      in_tag = false, s += 2;
    } else if (*s == '\'' || *s == '"') {
      s = jinja_literal(s, &lit);
      const char *end = lit.data ? strstr(lit.data, tail) : NULL;
      if (s && end && strncmp(lit.data, head, sizeof head - 1) == 0 && end > lit.data + sizeof head - 1)
        found = sb_strndup(lit.data + sizeof head - 1, (size_t)(end - lit.data) - (sizeof head - 1));
    } else s++;
  }
  sb_strbuf_free(&lit);
  return found;
}

static const char *chat_template(const json_t *config) {
  const json_t *tpl = json_object_get(config, "chat_template");
  if (json_is_string(tpl)) return json_string_value(tpl);
  size_t i;
  const json_t *v;
  json_array_foreach(tpl, i, v) /* [{"name": ..., "template": ...}] */
    if (strcmp(member_str(v, "name") ? member_str(v, "name") : "", "default") == 0)
      return member_str(v, "template");
  return NULL;
}

/* The default system prompt of the chat template in tokenizer_config.json,
 * or else in chat_template.jinja (where newer transformers save it). */
static int read_config(sb_tokenizer *t, const char *dir) {
  char *path = sb_path_join(dir, "tokenizer_config.json"), *jinja = sb_path_join(dir, "chat_template.jinja");
  int rc = path && jinja ? SB_OK : SB_ERR_NOMEM;
  bool found = false;
  if (rc == SB_OK && sb_path_exists(path)) {
    json_error_t e;
    json_t *config = json_load_file(path, 0, &e);
    if (!config) rc = sb_error_set(SB_ERR_FORMAT, "%s:%d:%d: not valid JSON: %s", path, e.line, e.column, e.text);
    const char *tpl = chat_template(config);
    if (tpl) t->default_system = template_default_system(tpl), found = true;
    json_decref(config);
  }
  if (rc == SB_OK && !found && sb_path_exists(jinja)) {
    size_t len;
    char *tpl = sb_file_read(jinja, &len);
    if (tpl) t->default_system = template_default_system(tpl);
    else rc = sb_error_code();
    free(tpl);
  }
  free(path), free(jinja);
  return rc;
}

/* ---- loading ---- */

static int load_json(loader *l, json_t *root) {
  sb_tokenizer *t = l->t;
  const json_t *model = json_object_get(root, "model"), *added = json_object_get(root, "added_tokens");
  if (!json_is_object(root)) return sb_error_set(SB_ERR_FORMAT, "%s: expected a JSON object", l->file);
  if (check_model(l, model) || check_normalizer(l, root) || check_pre_tokenizer(l, root) || check_decoder(l, root))
    return SB_ERR_FORMAT;
  if (added && !json_is_null(added) && !json_is_array(added))
    return sb_error_set(SB_ERR_FORMAT, "%s: added_tokens: expected a list", l->file);
  const json_t *vocab = json_object_get(model, "vocab");
  int rc;
  if ((rc = count_ids(l, vocab, added)) || (rc = alloc_tables(t)) || (rc = read_vocab(l, vocab)) ||
      (rc = build_bpe(l, json_object_get(model, "merges"))) || (rc = read_added(l, added)))
    return rc;
  t->strings = sb_strbuf_take(&l->strings);
  t->bytes = sb_strbuf_take(&l->bytes);
  if (!t->strings || !t->bytes) return SB_ERR_NOMEM;
  for (size_t i = 0; i < t->n_added; i++) t->added[i].content = t->strings + (uintptr_t)t->added[i].content;
  index_added(t);
  return SB_OK;
}

/* The tokenizer.json a path names (itself, or inside a folder). */
static char *resolve(const char *path) {
  if (!sb_path_is_dir(path)) {
    if (!sb_path_exists(path)) sb_error_set(SB_ERR_IO, "%s: no such file", path);
    return sb_path_exists(path) ? sb_strdup(path) : NULL;
  }
  char *file = sb_path_join(path, "tokenizer.json");
  if (file && !sb_path_exists(file)) {
    sb_error_set(SB_ERR_IO, "%s: no tokenizer.json in this folder", path);
    free(file);
    return NULL;
  }
  return file;
}

sb_tokenizer *sb_tokenizer_load(const char *path) {
  if (!path) {
    sb_error("sb_tokenizer_load: no path");
    return NULL;
  }
  sb_tokenizer *t = sb_calloc(1, sizeof *t);
  if (!t) return NULL;
  if (!(t->path = resolve(path))) {
    sb_tokenizer_free(t);
    return NULL;
  }
  loader l = {t, t->path, {0}, {0}};
  sb_strbuf_init(&l.strings), sb_strbuf_init(&l.bytes);
  json_error_t e;
  size_t len;
  char *text = sb_file_read(t->path, &len); /* Jansson reads a buffer faster than a FILE */
  json_t *root = text ? json_loadb(text, len, JSON_REJECT_DUPLICATES, &e) : NULL;
  free(text);
  int rc = root   ? load_json(&l, root)
           : text ? sb_error_set(SB_ERR_FORMAT, "%s:%d:%d: not valid JSON: %s", t->path, e.line, e.column, e.text)
                  : sb_error_code(); /* sb_file_read named the file */
  json_decref(root);
  sb_strbuf_free(&l.strings), sb_strbuf_free(&l.bytes);
  char *dir = rc ? NULL : sb_path_dirname(t->path);
  if (!rc) rc = dir ? read_config(t, dir) : SB_ERR_NOMEM;
  free(dir);
  if (rc) {
    sb_tokenizer_free(t);
    return NULL;
  }
  return t;
}
