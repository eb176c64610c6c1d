/* test_tokenizer.c — the byte-level BPE tokenizer against the golden ids of
 * tests/fixtures/tokenizer (Qwen2.5, and Qwen2 / Qwen3 files derived from
 * it in a temporary folder), decoding, the pre-tokenizer's pieces, NFC's
 * fast path, the two merge loops, encoding from four threads at once, and
 * every kind of file the loader must refuse. */
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>

#include "../common/check.h"
#include "bpe.h"
#include "pretokenize.h"
#include "spatialboost/spatialboost.h"
#include "tokenizer_internal.h"
#include "unicode.h"

static char g_fixtures[1024], g_tmp[64];
static json_t *g_golden; /* the "cases" list */

/* ---- helpers ---- */

static size_t json_ids(const json_t *arr, int64_t *out, size_t cap) {
  size_t i;
  const json_t *v;
  json_array_foreach(arr, i, v) if (i < cap) out[i] = json_integer_value(v);
  return json_array_size(arr);
}

static bool same_ids(const int64_t *a, size_t na, const json_t *want) {
  if (na != json_array_size(want)) return false;
  for (size_t i = 0; i < na; i++)
    if (a[i] != json_integer_value(json_array_get(want, i))) return false;
  return true;
}

static void print_ids(const char *what, const int64_t *ids, size_t n) {
  fprintf(stderr, "  %s:", what);
  for (size_t i = 0; i < n && i < 40; i++) fprintf(stderr, " %lld", (long long)ids[i]);
  fprintf(stderr, "%s\n", n > 40 ? " ..." : "");
}

static bool encode_is(const sb_tokenizer *t, const char *text, size_t len, bool split, const int64_t *want,
                      size_t n_want) {
  int64_t *ids;
  size_t n;
  if (sb_tokenizer_encode(t, text, len, split, &ids, &n)) return false;
  bool ok = n == n_want && (n == 0 || memcmp(ids, want, n * sizeof *ids) == 0);
  if (!ok) print_ids("got", ids, n), print_ids("want", want, n_want);
  free(ids);
  return ok;
}

static char *tmp_path(const char *name) { return sb_path_join(g_tmp, name); }

static sb_tokenizer *load_fixture(void) {
  char path[1200];
  snprintf(path, sizeof path, "%s/tokenizer/tokenizer.json", g_fixtures);
  sb_tokenizer *t = sb_tokenizer_load(path);
  CHECK(t != NULL, "loading %s: %s", path, sb_error_message());
  return t;
}

/* ---- golden cases ---- */

/* Every golden case: ids (or the `variant` key's ids where present),
 * decode(ids) == decoded, decode of the golden ids too. */
static void check_golden(const sb_tokenizer *t, const char *variant) {
  size_t i;
  const json_t *c;
  int failed = 0;
  json_array_foreach(g_golden, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    const json_t *text = json_object_get(c, "text"), *want = json_object_get(c, variant);
    if (!want) want = json_object_get(c, "ids");
    int64_t *ids;
    size_t n;
    int rc = sb_tokenizer_encode(t, json_string_value(text), json_string_length(text), false, &ids, &n);
    CHECK(rc == SB_OK, "%s %s: encode: %s", variant, name, sb_error_message());
    if (rc) continue;
    bool ok = same_ids(ids, n, want);
    CHECK(ok, "%s %s: ids differ", variant, name);
    if (!ok && failed++ < 5) {
      int64_t w[4096];
      print_ids("got", ids, n), print_ids("want", w, json_ids(want, w, 4096));
    }
    /* decode returns a C string: text with a NUL in it compares up to the NUL */
    const json_t *decoded = json_object_get(c, "decoded");
    const char *want_text = json_string_value(decoded);
    char *back = sb_tokenizer_decode(t, ids, n, false);
    CHECK(back && strlen(back) == strlen(want_text) && memcmp(back, want_text, strlen(back)) == 0,
          "%s %s: decode(encode(text)) is \"%s\"", variant, name, back ? back : sb_error_message());
    free(back);
    free(ids);
  }
}

/* Unmaps a byte-level string (a golden piece) into raw bytes. */
static size_t unmap_piece(const char *s, char *out) {
  size_t n = 0, len;
  for (size_t i = 0; s[i]; i += len) out[n++] = (char)sb_bytelevel_byte(sb_utf8_next((const uint8_t *)s + i, &len));
  return n;
}

/* The split pattern's pieces against the golden ones, for the cases with
 * no added tokens in them. */
static void check_pieces(void) {
  size_t i;
  const json_t *c;
  json_array_foreach(g_golden, i, c) {
    const json_t *text = json_object_get(c, "text"), *pieces = json_object_get(c, "pieces");
    const char *name = json_string_value(json_object_get(c, "name"));
    if (strstr(json_string_value(text), "<|") || strstr(json_string_value(text), "<tool_call>")) continue;
    char *owned;
    size_t n, pos = 0, k;
    const char *u = sb_nfc(json_string_value(text), json_string_length(text), &n, &owned);
    const json_t *p;
    json_array_foreach(pieces, k, p) {
      char want[4096];
      size_t wn = unmap_piece(json_string_value(p), want);
      size_t end = pos < n ? sb_pretok_next(u, n, pos) : pos;
      bool ok = end - pos == wn && memcmp(u + pos, want, wn) == 0;
      CHECK(ok, "%s: piece %zu is \"%.*s\", expected \"%.*s\"", name, k, (int)(end - pos), u + pos, (int)wn, want);
      if (!ok) break;
      pos = end;
    }
    CHECK(pos == n, "%s: %zu bytes left after the pieces", name, n - pos);
    free(owned);
  }
}

/* ---- the real Qwen2.5 file ---- */

static void check_known_ids(const sb_tokenizer *t) {
  static const int64_t you[] = {2610, 525, 264, 10950, 17847, 13};
  static const int64_t chatml[] = {151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198,
                                   151644, 872, 198, 9707, 151645, 198, 151644, 77091, 198};
  static const char chatml_text[] =
      "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
      "<|im_start|>assistant\n";
  static const struct { const char *text; int64_t id; } one[] = {
      {"system", 8948}, {"user", 872}, {"assistant", 77091}, {"\n", 198}, {"Hello", 9707}};
  for (size_t i = 0; i < SB_ARRAY_LEN(one); i++)
    CHECK(encode_is(t, one[i].text, strlen(one[i].text), false, &one[i].id, 1), "'%s' is %lld", one[i].text,
          (long long)one[i].id);
  const char *y = "You are a helpful assistant.";
  CHECK(encode_is(t, y, strlen(y), false, you, SB_ARRAY_LEN(you)), "\"%s\"", y);
  CHECK(encode_is(t, chatml_text, strlen(chatml_text), false, chatml, SB_ARRAY_LEN(chatml)), "the ChatML example");
  CHECK(sb_tokenizer_vocab_size(t) == 151665, "vocab size %lld", (long long)sb_tokenizer_vocab_size(t));
  CHECK(sb_tokenizer_token_id(t, "<|im_start|>") == 151644, "<|im_start|> id");
  CHECK(sb_tokenizer_token_id(t, "\xC4\xA0world") == 1879, "'Ġworld' id");
  CHECK(sb_tokenizer_token_id(t, "\xC4\x8A") == 198, "'Ċ' id");
  CHECK(sb_tokenizer_token_id(t, "no such token here") == -1, "unknown token");
  CHECK(sb_tokenizer_token(t, 9707) && strcmp(sb_tokenizer_token(t, 9707), "Hello") == 0, "token 9707");
  CHECK(sb_tokenizer_token(t, 151643) && strcmp(sb_tokenizer_token(t, 151643), "<|endoftext|>") == 0, "151643");
  CHECK(!sb_tokenizer_token(t, -1) && !sb_tokenizer_token(t, 151665), "ids out of range have no token");
  const char *sys = sb_tokenizer_default_system(t);
  CHECK(sys && strcmp(sys, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.") == 0,
        "default system prompt of the Qwen2.5 template: %s", sys ? sys : "NULL");
}

static void check_split_special(const sb_tokenizer *t) {
  static const int64_t split[] = {27, 91, 318, 4906, 91, 29, 872};
  static const int64_t whole[] = {151644, 872};
  static const int64_t tool[] = {151657, 27, 91, 318, 6213, 91, 29};
  const char *s = "<|im_start|>user", *tc = "<tool_call><|im_end|>";
  CHECK(encode_is(t, s, strlen(s), false, whole, 2), "special token matched");
  CHECK(encode_is(t, s, strlen(s), true, split, SB_ARRAY_LEN(split)), "split_special: ordinary text");
  /* Hugging Face's encode_special_tokens: non-special added tokens still match */
  CHECK(encode_is(t, tc, strlen(tc), true, tool, SB_ARRAY_LEN(tool)), "split_special keeps <tool_call>");
}

static void check_decode(const sb_tokenizer *t) {
  static const int64_t chatml[] = {151644, 8948, 198, 9707, 151645, 198, 151657};
  char *s = sb_tokenizer_decode(t, chatml, SB_ARRAY_LEN(chatml), true);
  CHECK(s && strcmp(s, "system\nHello\n<tool_call>") == 0, "skip_special drops specials only: %s", s);
  free(s);
  s = sb_tokenizer_decode(t, chatml, SB_ARRAY_LEN(chatml), false);
  CHECK(s && strcmp(s, "<|im_start|>system\nHello<|im_end|>\n<tool_call>") == 0, "specials kept: %s", s);
  free(s);
  int64_t partial[] = {61804}; /* "Ġð٣": a space and three bytes of a four-byte sequence */
  s = sb_tokenizer_decode(t, partial, 1, false);
  CHECK(s && strcmp(s, " \xEF\xBF\xBD") == 0, "truncated sequence decodes to one U+FFFD: %s", s);
  free(s);
  int64_t lone[] = {101, 64}; /* a lone continuation byte, then 'a' */
  s = sb_tokenizer_decode(t, lone, 2, false);
  CHECK(s && strcmp(s, "\xEF\xBF\xBD" "a") == 0, "lone continuation byte: %s", s);
  free(s);
  s = sb_tokenizer_decode(t, NULL, 0, false);
  CHECK(s && !s[0], "no ids decode to \"\"");
  free(s);
  int64_t bad[] = {9707, 151665};
  CHECK(!sb_tokenizer_decode(t, bad, 2, false), "id out of range");
  CHECK_ERROR("token id 151665 (position 1) is not in the vocabulary");
  bad[0] = -3;
  CHECK(!sb_tokenizer_decode(t, bad, 1, false), "negative id");
}

static void check_lossy(void) {
  static const struct { const char *in, *out; } cases[] = {
      {"a\x80" "b", "a\xEF\xBF\xBD" "b"},
      {"\xF0\x9F\x98", "\xEF\xBF\xBD"},
      {"\xE0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"\xC3\xA9\xFF", "\xC3\xA9\xEF\xBF\xBD"},
      {"\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
  };
  for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
    sb_strbuf b;
    sb_strbuf_init(&b);
    sb_utf8_append_lossy(&b, (const uint8_t *)cases[i].in, strlen(cases[i].in));
    CHECK(b.data && strcmp(b.data, cases[i].out) == 0, "lossy case %zu", i);
    sb_strbuf_free(&b);
  }
}

static void check_invalid_utf8(const sb_tokenizer *t) {
  static const char *const bad[] = {"\xFF", "abc\xC3", "\xED\xA0\x80", "\xC0\xAF", "ok \xF8\x88\x80\x80\x80"};
  for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
    int64_t *ids = NULL;
    size_t n = 7;
    CHECK(sb_tokenizer_encode(t, bad[i], strlen(bad[i]), false, &ids, &n) != SB_OK, "invalid UTF-8 %zu refused", i);
    CHECK_ERROR("not valid UTF-8");
    CHECK(!ids && n == 0, "no ids on error");
  }
  int64_t *ids;
  size_t n;
  CHECK(sb_tokenizer_encode(t, "", 0, false, &ids, &n) == SB_OK && n == 0, "empty text");
  free(ids);
}

/* Random UTF-8 from pools of ASCII, accented and combining, CJK, Hangul
 * jamo, emoji and spaces: decode(encode(s)) == NFC(s). */
static void check_round_trips(const sb_tokenizer *t) {
  static const uint32_t pool[] = {'a', 'Z', ' ', ' ', '\n', '\t', '1', '.', '\'', 's', 0xE9, 0x301, 0x308, 0x327,
                                  0x4E2D, 0x6587, 0x3002, 0x304B, 0x3099, 0x1100, 0x1161, 0x11A8, 0xAC00, 0x1F600,
                                  0x200D, 0x212B, 0xF900, 0xA0, 0x3000, 0x17F, 0x0CC6, 0x0CD5, 0x0F73, 0x1D15E};
  sb_rng r;
  sb_rng_seed(&r, 7);
  int bad = 0;
  for (int iter = 0; iter < 3000; iter++) {
    uint8_t s[400];
    size_t n = 0, len = 1 + sb_rng_u64(&r) % 60;
    for (size_t k = 0; k < len; k++) n += (size_t)utf8proc_encode_char((int32_t)pool[sb_rng_u64(&r) % SB_ARRAY_LEN(pool)], s + n);
    s[n] = 0;
    uint8_t *nfc = utf8proc_NFC(s);
    char *owned;
    size_t m;
    const char *fast = sb_nfc((const char *)s, n, &m, &owned);
    CHECK(fast && m == strlen((char *)nfc) && memcmp(fast, nfc, m) == 0, "sb_nfc agrees with utf8proc_NFC");
    int64_t *ids;
    size_t k;
    if (sb_tokenizer_encode(t, (const char *)s, n, true, &ids, &k) == SB_OK) {
      char *back = sb_tokenizer_decode(t, ids, k, false);
      if (!back || strcmp(back, (const char *)nfc) != 0) bad++;
      free(back);
      free(ids);
    } else bad++;
    free(owned);
    free(nfc);
  }
  CHECK(bad == 0, "%d random round trips failed", bad);
}

static bool nfc_is_itself(int32_t cp) {
  utf8proc_uint8_t s[8] = {0};
  utf8proc_encode_char(cp, s);
  utf8proc_uint8_t *nfc = utf8proc_NFC(s);
  bool same = nfc && strcmp((char *)nfc, (char *)s) == 0;
  free(nfc);
  return same;
}

/* What the NFC fast path relies on, for every code point: an inert one is
 * its own NFC, and every code point after the first in the decomposition of
 * a primary composite is not inert (so nothing inert composes with what
 * precedes it). */
static void check_nfc_inert_table(void) {
  int bad = 0;
  for (int32_t cp = 0; cp <= 0x10FFFF; cp++) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    utf8proc_int32_t d[32];
    utf8proc_ssize_t n = utf8proc_decompose_char(cp, d, 32, UTF8PROC_DECOMPOSE, NULL);
    bool inert = sb_uc_class((uint32_t)cp) & SB_UC_NFC_INERT;
    if (inert && n != 1 && !nfc_is_itself(cp) && bad++ < 5) fprintf(stderr, "  U+%04X inert but not NFC\n", cp);
    if (n < 2 || !nfc_is_itself(cp)) continue; /* only primary composites are ever composed */
    for (utf8proc_ssize_t k = 1; k < n && k < 32; k++)
      if ((sb_uc_class((uint32_t)d[k]) & SB_UC_NFC_INERT) && bad++ < 5)
        fprintf(stderr, "  U+%04X in the decomposition of U+%04X is inert\n", d[k], cp);
  }
  for (uint32_t cp = 0x1161; cp <= 0x11C2; cp++)
    if (sb_uc_class(cp) & SB_UC_NFC_INERT) bad++;
  CHECK(bad == 0, "%d code points break the NFC fast path", bad);
}

/* The linear scan and the heap give the same merges. */
static void check_merge_loops(const sb_tokenizer *t) {
  static const char *const parts[] = {"a", "b", "th", "e", " ", "in", "\xE4\xB8\xAD", "!", "1", "ing", "s"};
  sb_rng r;
  sb_rng_seed(&r, 11);
  int bad = 0;
  for (int iter = 0; iter < 2000; iter++) {
    char w[80];
    size_t n = 0;
    while (n < 60) {
      const char *p = parts[sb_rng_u64(&r) % SB_ARRAY_LEN(parts)];
      if (n + strlen(p) > 64 || sb_rng_u64(&r) % 20 == 0) break;
      memcpy(w + n, p, strlen(p)), n += strlen(p);
    }
    int32_t a[64], b[64];
    for (size_t i = 0; i < n; i++) { /* bytes >= 0x80 map to two-byte characters */
      char c[4] = {0};
      utf8proc_encode_char((int32_t)sb_bytelevel_char((uint8_t)w[i]), (utf8proc_uint8_t *)c);
      a[i] = b[i] = (int32_t)sb_tokenizer_token_id(t, c);
    }
    size_t na = sb_bpe_merge(t->bpe, a, n, 1), nb = sb_bpe_merge(t->bpe, b, n, 2);
    if (na != nb || memcmp(a, b, na * sizeof *a) != 0) bad++;
  }
  CHECK(bad == 0, "%d words merged differently by the two loops", bad);
}

/* ---- threads ---- */

typedef struct thread_job {
  const sb_tokenizer *t;
  int mismatches;
} thread_job;

static void *encode_all(void *p) {
  thread_job *j = p;
  for (int rep = 0; rep < 5; rep++) {
    size_t i;
    const json_t *c;
    json_array_foreach(g_golden, i, c) {
      const json_t *text = json_object_get(c, "text");
      int64_t *ids;
      size_t n;
      if (sb_tokenizer_encode(j->t, json_string_value(text), json_string_length(text), false, &ids, &n)) {
        j->mismatches++;
        continue;
      }
      if (!same_ids(ids, n, json_object_get(c, "ids"))) j->mismatches++;
      free(ids);
    }
  }
  return NULL;
}

static void check_threads(void) {
  sb_tokenizer *t = load_fixture(); /* a fresh one: the threads fill its cache together */
  if (!t) return;
  thread_job jobs[4];
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    jobs[i] = (thread_job){t, 0};
    pthread_create(&th[i], NULL, encode_all, &jobs[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    CHECK(jobs[i].mismatches == 0, "thread %d: %d encodings differ", i, jobs[i].mismatches);
  }
  CHECK(sb_bpe_cache_count(t->bpe) > 100, "the threads filled the cache (%zu words)", sb_bpe_cache_count(t->bpe));
  sb_tokenizer_free(t);
}

/* ---- derived Qwen2 and Qwen3 files ---- */

static json_t *added_token(int64_t id, const char *content, bool special) {
  return json_pack("{s:I, s:s, s:b, s:b, s:b, s:b, s:b}", "id", (json_int_t)id, "content", content, "single_word", 0,
                   "lstrip", 0, "rstrip", 0, "normalized", 0, "special", special);
}

/* Qwen2: only the first three added tokens. Qwen3: four more, and merges
 * as two-element lists. */
static void check_derived(json_t *base) {
  json_t *q2 = json_deep_copy(base), *q3 = json_deep_copy(base);
  json_t *added2 = json_object_get(q2, "added_tokens");
  while (json_array_size(added2) > 3) json_array_remove(added2, 3);
  json_t *added3 = json_object_get(q3, "added_tokens");
  static const char *const extra[] = {"<tool_response>", "</tool_response>", "<think>", "</think>"};
  for (int i = 0; i < 4; i++) json_array_append_new(added3, added_token(151665 + i, extra[i], false));
  json_t *merges = json_object_get(json_object_get(q3, "model"), "merges");
  for (size_t i = 0; i < json_array_size(merges); i++) {
    char *m = strdup(json_string_value(json_array_get(merges, i))), *sp = strchr(m, ' ');
    *sp = 0;
    json_array_set_new(merges, i, json_pack("[s,s]", m, sp + 1));
    free(m);
  }
  char *p2 = tmp_path("qwen2.json"), *p3 = tmp_path("qwen3.json");
  CHECK(json_dump_file(q2, p2, JSON_COMPACT) == 0 && json_dump_file(q3, p3, JSON_COMPACT) == 0, "writing derived files");
  json_decref(q2), json_decref(q3);
  sb_tokenizer *t2 = sb_tokenizer_load(p2), *t3 = sb_tokenizer_load(p3);
  CHECK(t2 && t3, "derived files load: %s", sb_error_message());
  if (t2) {
    CHECK(sb_tokenizer_vocab_size(t2) == 151646, "Qwen2 vocab size");
    check_golden(t2, "ids_qwen2");
  }
  if (t3) {
    CHECK(sb_tokenizer_vocab_size(t3) == 151669, "Qwen3 vocab size");
    check_golden(t3, "ids_qwen3");
    CHECK(!sb_tokenizer_default_system(t3), "no tokenizer_config.json: no default system prompt");
  }
  sb_tokenizer_free(t2), sb_tokenizer_free(t3);
  unlink(p2), unlink(p3);
  free(p2), free(p3);
}

/* ---- small synthetic files: merges semantics and every refusal ---- */

/* A byte-level tokenizer: the 256 byte tokens (id = byte), "ab" 256,
 * "abc" 257, "bc" 258; merges "a b", "ab c", "b c". */
static json_t *tiny_tokenizer(void) {
  json_t *vocab = json_object();
  for (unsigned b = 0; b < 256; b++) {
    char c[4] = {0};
    utf8proc_encode_char((int32_t)sb_bytelevel_char((uint8_t)b), (utf8proc_uint8_t *)c);
    json_object_set_new(vocab, c, json_integer(b));
  }
  json_object_set_new(vocab, "ab", json_integer(256));
  json_object_set_new(vocab, "abc", json_integer(257));
  json_object_set_new(vocab, "bc", json_integer(258));
  return json_pack(
      "{s:[o], s:{s:s}, s:{s:s, s:[{s:s, s:{s:s}, s:s, s:b}, {s:s, s:b, s:b, s:b}]}, s:{s:s}, "
      "s:{s:s, s:n, s:n, s:b, s:o, s:[s,s,s]}}",
      "added_tokens", added_token(300, "<x>", true),
      "normalizer", "type", "NFC",
      "pre_tokenizer", "type", "Sequence", "pretokenizers", "type", "Split", "pattern", "Regex", sb_pretok_qwen2_pattern,
      "behavior", "Isolated", "invert", 0, "type", "ByteLevel", "add_prefix_space", 0, "trim_offsets", 0, "use_regex", 0,
      "decoder", "type", "ByteLevel",
      "model", "type", "BPE", "dropout", "unk_token", "byte_fallback", 0, "vocab", vocab, "merges", "a b", "ab c", "b c");
}

static sb_tokenizer *load_json(json_t *j, const char *name) {
  char *p = tmp_path(name);
  sb_tokenizer *t = NULL;
  if (json_dump_file(j, p, 0) == 0) t = sb_tokenizer_load(p);
  else CHECK(0, "writing %s", p);
  free(p);
  return t;
}

static void check_tiny(void) {
  json_t *j = tiny_tokenizer();
  sb_tokenizer *t = load_json(j, "tiny.json");
  CHECK(t, "tiny tokenizer: %s", sb_error_message());
  if (t) {
    int64_t want[] = {257, 300, 257, 256, 32, 258, 256};
    CHECK(encode_is(t, "abc<x>abcab bcab", 16, false, want, 7), "tiny: lowest rank first, leftmost");
    CHECK(sb_tokenizer_vocab_size(t) == 301, "tiny vocab size");
    CHECK(!sb_tokenizer_token(t, 299), "a gap in the ids has no token");
    int64_t gap = 299;
    CHECK(!sb_tokenizer_decode(t, &gap, 1, false), "decoding a gap fails");
    sb_tokenizer_free(t);
  }
  json_decref(j);
}

typedef struct bad_case {
  const char *what, *key, *json, *message;
} bad_case;

static void check_refusals(void) {
  static const bad_case cases[] = {
      {"WordPiece", "model.type", "\"WordPiece\"", "model.type is 'WordPiece'; expected 'BPE'"},
      {"Unigram", "model.type", "\"Unigram\"", "model.type is 'Unigram'"},
      {"byte_fallback", "model.byte_fallback", "true", "model.byte_fallback is true; expected false"},
      {"pre-tokenizer", "pre_tokenizer", "{\"type\": \"Whitespace\"}", "pre_tokenizer is 'Whitespace'; expected a Sequence"},
      {"pattern", "pre_tokenizer.pretokenizers.0.pattern.Regex", "\"\\\\s+\"", "is not implemented; expected the Qwen2 pattern"},
      {"ByteLevel regex", "pre_tokenizer.pretokenizers.1.use_regex", "true", "ByteLevel has use_regex true"},
      {"normalizer", "normalizer", "{\"type\": \"NFKC\"}", "normalizer is 'NFKC'; expected NFC or none"},
      {"decoder", "decoder", "{\"type\": \"WordPiece\"}", "decoder is 'WordPiece'; expected ByteLevel"},
      {"unknown merge token", "model.merges.0", "\"a zz\"", "merge 0 ('a zz'): 'zz' is not in the vocabulary"},
      {"unknown merged token", "model.merges.2", "\"c d\"", "merge 2 ('c d'): the merged token 'cd' is not in the vocabulary"},
      {"malformed merge", "model.merges.1", "\"abc\"", "merge 1 ('abc'): expected two tokens separated by one space"},
      {"merge list", "model.merges.1", "[\"a\"]", "merge 1: expected \"a b\" or [\"a\", \"b\"]"},
      {"lstrip", "added_tokens.0.lstrip", "true", "added token '<x>': lstrip is true; only false is implemented"},
      {"normalized", "added_tokens.0.normalized", "true", "added token '<x>': normalized is true"},
      {"bad id", "model.vocab.ab", "-4", "vocab entry 'ab': expected an id from 0"},
      {"duplicate id", "model.vocab.bc", "256", "id 256 is given to both"},
      {"added id clash", "added_tokens.0.id", "97", "added token '<x>' has id 97, which is 'a' already"},
  };
  for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
    json_t *j = tiny_tokenizer(), *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
    /* walk the dotted key, creating nothing: every step but the last exists */
    char key[256];
    snprintf(key, sizeof key, "%s", cases[i].key);
    json_t *o = j;
    char *part = key, *dot;
    while ((dot = strchr(part, '.'))) {
      *dot = 0;
      o = json_is_array(o) ? json_array_get(o, (size_t)atoi(part)) : json_object_get(o, part);
      part = dot + 1;
    }
    if (json_is_array(o)) json_array_set_new(o, (size_t)atoi(part), v);
    else json_object_set_new(o, part, v);
    sb_tokenizer *t = load_json(j, "bad.json");
    CHECK(!t, "%s: refused", cases[i].what);
    CHECK_ERROR(cases[i].message);
    CHECK_ERROR("bad.json");
    sb_tokenizer_free(t);
    json_decref(j);
  }
  /* a vocabulary without the token of byte 0x41 */
  json_t *j = tiny_tokenizer();
  json_object_del(json_object_get(json_object_get(j, "model"), "vocab"), "A");
  CHECK(!load_json(j, "bad.json"), "missing byte token refused");
  CHECK_ERROR("has no token 'A' for byte 0x41");
  json_decref(j);
  /* missing file, folder without tokenizer.json, not JSON */
  CHECK(!sb_tokenizer_load("/nonexistent/tokenizer.json"), "missing file");
  CHECK_ERROR("/nonexistent/tokenizer.json: no such file");
  CHECK(!sb_tokenizer_load(g_tmp), "folder without tokenizer.json");
  CHECK_ERROR("no tokenizer.json in this folder");
  char *p = tmp_path("notjson.json");
  FILE *f = fopen(p, "w");
  fputs("{\"model\": [1, 2,,]}", f);
  fclose(f);
  CHECK(!sb_tokenizer_load(p), "not JSON");
  CHECK_ERROR("notjson.json:1:");
  CHECK_ERROR("not valid JSON");
  unlink(p);
  free(p);
}

/* ---- the chat template's default system prompt ---- */

static void check_default_system(void) {
  static const struct { const char *template_json, *want; } cases[] = {
      {"\"{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>"
       "system\\\\nYou are a helpful assistant.<|im_end|>\\\\n' }}{% endif %}{% endfor %}\"",
       "You are a helpful assistant."},
      {"\"{%- if messages[0].role == 'system' %}{{- '<|im_start|>system\\\\n' + messages[0].content + "
       "'<|im_end|>\\\\n' }}{%- endif %} Don't '<|im_start|>system\\\\nnot in a tag<|im_end|>'\"",
       NULL},
      {"[{\"name\": \"tool_use\", \"template\": \"x\"}, {\"name\": \"default\", \"template\": "
       "\"{{ \\\"<|im_start|>system\\\\nBe brief.<|im_end|>\\\\n\\\" }}\"}]",
       "Be brief."},
  };
  json_t *j = tiny_tokenizer();
  char *dir = tmp_path("model"), *tok = sb_path_join(dir, "tokenizer.json"), *cfg = sb_path_join(dir, "tokenizer_config.json");
  CHECK(mkdir(dir, 0700) == 0, "mkdir %s", dir);
  json_dump_file(j, tok, 0);
  for (size_t i = 0; i < SB_ARRAY_LEN(cases); i++) {
    FILE *f = fopen(cfg, "w");
    fprintf(f, "{\"chat_template\": %s}", cases[i].template_json);
    fclose(f);
    sb_tokenizer *t = sb_tokenizer_load(dir);
    CHECK(t, "template %zu: %s", i, sb_error_message());
    const char *got = t ? sb_tokenizer_default_system(t) : NULL;
    CHECK(cases[i].want ? got && strcmp(got, cases[i].want) == 0 : !got, "template %zu: default system '%s'", i,
          got ? got : "NULL");
    sb_tokenizer_free(t);
  }
  FILE *f = fopen(cfg, "w");
  fputs("{\"chat_template\": ", f);
  fclose(f);
  CHECK(!sb_tokenizer_load(dir), "malformed tokenizer_config.json");
  CHECK_ERROR("tokenizer_config.json:");
  unlink(cfg);
  /* no tokenizer_config.json: chat_template.jinja */
  char *jinja = sb_path_join(dir, "chat_template.jinja");
  f = fopen(jinja, "w");
  fputs("{%- if not has_system %}{{- '<|im_start|>system\\nFrom the jinja file.<|im_end|>\\n' }}{%- endif %}", f);
  fclose(f);
  sb_tokenizer *t = sb_tokenizer_load(tok);
  const char *got = t ? sb_tokenizer_default_system(t) : NULL;
  CHECK(got && strcmp(got, "From the jinja file.") == 0, "chat_template.jinja: '%s'", got ? got : "NULL");
  sb_tokenizer_free(t);
  unlink(jinja), unlink(tok), rmdir(dir);
  free(dir), free(tok), free(cfg), free(jinja);
  json_decref(j);
}

int main(void) {
  const char *fx = getenv("SB_FIXTURES");
  snprintf(g_fixtures, sizeof g_fixtures, "%s", fx ? fx : "tests/fixtures");
  snprintf(g_tmp, sizeof g_tmp, "/tmp/sb_tokenizer_XXXXXX");
  CHECK(mkdtemp(g_tmp) != NULL, "temporary folder");
  char path[1200];
  snprintf(path, sizeof path, "%s/tokenizer/golden.json", g_fixtures);
  json_error_t e;
  json_t *golden = json_load_file(path, JSON_ALLOW_NUL, &e);
  CHECK(golden, "%s: %s", path, e.text);
  g_golden = json_object_get(golden, "cases");
  CHECK(json_array_size(g_golden) == 86, "86 golden cases");

  snprintf(path, sizeof path, "%s/tokenizer", g_fixtures);
  sb_tokenizer *t = sb_tokenizer_load(path); /* the folder: tokenizer.json and tokenizer_config.json */
  CHECK(t, "loading %s: %s", path, sb_error_message());
  if (!t) return check_summary("tokenizer");
  check_known_ids(t);
  check_golden(t, "ids");
  check_pieces();
  check_split_special(t);
  check_decode(t);
  check_lossy();
  check_invalid_utf8(t);
  check_round_trips(t);
  check_nfc_inert_table();
  check_merge_loops(t);
  sb_tokenizer_free(t);
  check_threads();

  snprintf(path, sizeof path, "%s/tokenizer/tokenizer.json", g_fixtures);
  json_t *base = json_load_file(path, 0, &e);
  CHECK(base, "%s: %s", path, e.text);
  if (base) check_derived(base);
  json_decref(base);
  check_tiny();
  check_refusals();
  check_default_system();

  char *p = tmp_path("tiny.json");
  unlink(p);
  free(p);
  p = tmp_path("bad.json");
  unlink(p);
  free(p);
  CHECK(rmdir(g_tmp) == 0, "temporary folder left clean");
  json_decref(golden);
  return check_summary("tokenizer");
}
