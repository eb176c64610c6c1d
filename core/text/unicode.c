/* unicode.c — UTF-8 checking and lossy decoding, the split pattern's
 * character classes and NFC (both from libutf8proc's tables), and the GPT-2
 * byte-level map. */
#include "unicode.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- character classes ---- */

static bool is_white_space(uint32_t cp) {
  /* The Unicode White_Space property (what the regex engines' \s means). */
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

/* Whether utf8proc lists cp as the second half of a canonical composition.
 * utf8proc >= 2.8 packs first and second roles into comb_index (>= 0x8000
 * marks a second); older versions had a separate comb2nd_index.
 * tests/text/test_tokenizer.c (check_nfc_inert_table) checks the result
 * against every decomposition. */
static bool composes_as_second(const utf8proc_property_t *p) {
#if UTF8PROC_VERSION_MAJOR > 2 || (UTF8PROC_VERSION_MAJOR == 2 && UTF8PROC_VERSION_MINOR >= 8)
  return p->comb_index != UINT16_MAX && p->comb_index >= 0x8000;
#else
  return p->comb2nd_index >= 0;
#endif
}

/* NFC of the single code point cp equals cp (no singleton or excluded
 * decomposition). */
static bool nfc_fixed(uint32_t cp) {
  utf8proc_int32_t buf[8];
  utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)cp, buf, 8, UTF8PROC_STABLE | UTF8PROC_COMPOSE,
                                               NULL);
  if (n < 1 || n > 8) return false;
  n = utf8proc_normalize_utf32(buf, n, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
  return n == 1 && (uint32_t)buf[0] == cp;
}

static bool nfc_inert(uint32_t cp, const utf8proc_property_t *p) {
  if (cp < 0x300) return true; /* nothing below the combining marks changes or combines */
  if (p->combining_class != 0 || composes_as_second(p)) return false;
  /* Hangul vowel and trailing jamo compose algorithmically. */
  if ((cp >= 0x1160 && cp <= 0x11FF) || (cp >= 0xD7B0 && cp <= 0xD7FF)) return false;
  if (p->decomp_seqindex != UINT16_MAX && p->decomp_type == 0) return nfc_fixed(cp);
  return true;
}

static unsigned compute_class(uint32_t cp) {
  if (cp > 0x10FFFF) return 0;
  const utf8proc_property_t *p = utf8proc_get_property((utf8proc_int32_t)cp);
  unsigned c = 0;
  switch (p->category) {
  case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
  case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    c |= SB_UC_LETTER;
    break;
  case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
    c |= SB_UC_NUMBER;
    break;
  default:
    break;
  }
  if (is_white_space(cp)) c |= SB_UC_SPACE;
  if (cp == '\r' || cp == '\n') c |= SB_UC_NEWLINE;
  if (nfc_inert(cp, p)) c |= SB_UC_NFC_INERT;
  return c;
}

static uint8_t g_bmp_class[0x10000];
static pthread_once_t g_bmp_once = PTHREAD_ONCE_INIT;

static void build_bmp_table(void) {
  for (uint32_t cp = 0; cp < 0x10000; cp++) g_bmp_class[cp] = (uint8_t)compute_class(cp);
}

unsigned sb_uc_class(uint32_t cp) {
  if (cp < 0x10000) {
    pthread_once(&g_bmp_once, build_bmp_table);
    return g_bmp_class[cp];
  }
  return compute_class(cp);
}

/* ---- UTF-8 ---- */

/* For a lead byte: the number of continuation bytes and the range allowed
 * for the first of them (Unicode Table 3-7); 0 continuations with lo > hi
 * for a byte that cannot start a sequence. */
static int utf8_lead(uint8_t b, uint8_t *lo, uint8_t *hi) {
  *lo = 0x80, *hi = 0xBF;
  if (b < 0x80) return 0;
  if (b >= 0xC2 && b <= 0xDF) return 1;
  if (b == 0xE0) return *lo = 0xA0, 2;
  if (b == 0xED) return *hi = 0x9F, 2;
  if (b >= 0xE1 && b <= 0xEF) return 2;
  if (b == 0xF0) return *lo = 0x90, 3;
  if (b == 0xF4) return *hi = 0x8F, 3;
  if (b >= 0xF1 && b <= 0xF3) return 3;
  *lo = 1, *hi = 0;
  return -1;
}

/* Bytes of the valid prefix of the sequence at s[0..n): the whole sequence
 * when complete (*complete set), else its maximal valid part (at least 1). */
static size_t utf8_sequence(const uint8_t *s, size_t n, bool *complete) {
  uint8_t lo, hi;
  int need = utf8_lead(s[0], &lo, &hi);
  *complete = need == 0;
  if (need <= 0) return 1;
  size_t k = 1;
  for (int i = 0; i < need; i++, k++) {
    if (k >= n || s[k] < lo || s[k] > hi) return k;
    lo = 0x80, hi = 0xBF;
  }
  *complete = true;
  return k;
}

size_t sb_utf8_valid_prefix(const char *str, size_t n) {
  const uint8_t *s = (const uint8_t *)str;
  size_t i = 0;
  while (i < n) {
    /* ASCII eight bytes at a time */
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    if (s[i] < 0x80) {
      i++;
      continue;
    }
    bool ok;
    size_t k = utf8_sequence(s + i, n - i, &ok);
    if (!ok) return i;
    i += k;
  }
  return n;
}

int sb_utf8_append_lossy(sb_strbuf *out, const uint8_t *s, size_t n) {
  size_t i = 0, run = 0; /* s[run..i) is valid and not yet appended */
  while (i < n) {
    if (s[i] < 0x80) {
      i++;
      continue;
    }
    bool ok;
    size_t k = utf8_sequence(s + i, n - i, &ok);
    if (!ok) {
      if (sb_strbuf_appendn(out, (const char *)s + run, i - run) || sb_strbuf_append(out, "\xEF\xBF\xBD"))
        return SB_ERR_NOMEM;
      run = i + k;
    }
    i += k;
  }
  return run < n ? sb_strbuf_appendn(out, (const char *)s + run, n - run) : SB_OK;
}

/* ---- NFC ---- */

/* Appends NFC(s[0..n)) to out through utf8proc's decompose and compose
 * steps (a region that begins at a starter, so it can be done alone). */
static int nfc_region(sb_strbuf *out, const uint8_t *s, size_t n) {
  const utf8proc_option_t opt = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
  utf8proc_int32_t stack[64], *buf = stack;
  utf8proc_ssize_t cap = 64, len;
  for (;;) {
    len = utf8proc_decompose(s, (utf8proc_ssize_t)n, buf, cap, opt);
    if (len < 0) {
      if (buf != stack) free(buf);
      return sb_error_set(SB_ERR, "NFC: %s", utf8proc_errmsg(len));
    }
    if (len <= cap) break;
    if (buf != stack) free(buf);
    cap = len;
    if (!(buf = sb_malloc((size_t)cap * sizeof *buf))) return SB_ERR_NOMEM;
  }
  len = utf8proc_normalize_utf32(buf, len, opt);
  int rc = len < 0 ? sb_error_set(SB_ERR, "NFC: %s", utf8proc_errmsg(len)) : SB_OK;
  for (utf8proc_ssize_t i = 0; rc == SB_OK && i < len; i++) {
    utf8proc_uint8_t enc[4];
    utf8proc_ssize_t k = utf8proc_encode_char(buf[i], enc);
    rc = sb_strbuf_appendn(out, (const char *)enc, (size_t)k);
  }
  if (buf != stack) free(buf);
  return rc;
}

/* Offset of the first code point at or after `from` that is not inert
 * (n when none); *prev gets the start of the code point before it. */
static size_t next_non_inert(const uint8_t *s, size_t n, size_t from, size_t *prev) {
  size_t i = from, len;
  *prev = from;
  while (i < n) {
    if (s[i] < 0x80) {
      *prev = i++;
      continue;
    }
    uint32_t cp = sb_utf8_next(s + i, &len);
    if (!(sb_uc_class(cp) & SB_UC_NFC_INERT)) return i;
    *prev = i;
    i += len;
  }
  return n;
}

const char *sb_nfc(const char *str, size_t n, size_t *out_n, char **owned) {
  const uint8_t *s = (const uint8_t *)str;
  *owned = NULL;
  size_t prev, i = next_non_inert(s, n, 0, &prev);
  if (i == n) {
    *out_n = n;
    return str;
  }
  /* Copy inert runs; normalise each run of other code points together with
   * the inert starter just before it, which it may compose with. */
  sb_strbuf out;
  sb_strbuf_init(&out);
  size_t done = 0;
  while (i < n) {
    size_t start = i > done ? prev : i, end = i, len;
    while (end < n && !(sb_uc_class(sb_utf8_next(s + end, &len)) & SB_UC_NFC_INERT)) end += len;
    if (sb_strbuf_appendn(&out, str + done, start - done) || nfc_region(&out, s + start, end - start)) {
      sb_strbuf_free(&out);
      return NULL;
    }
    done = end;
    i = next_non_inert(s, n, end, &prev);
  }
  if (sb_strbuf_appendn(&out, str + done, n - done)) {
    sb_strbuf_free(&out);
    return NULL;
  }
  *out_n = out.len;
  *owned = sb_strbuf_take(&out);
  return *owned ? *owned : "";
}

/* ---- byte-level map ---- */

static uint32_t g_byte_char[256];
static int16_t g_char_byte[256 + 68];
static pthread_once_t g_bytelevel_once = PTHREAD_ONCE_INIT;

static bool byte_maps_to_itself(unsigned b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174; }

/* Bytes that are printable map to themselves; the other 68, in increasing
 * order, to U+0100, U+0101, ... */
static void build_bytelevel(void) {
  for (unsigned c = 0; c < 256 + 68; c++) g_char_byte[c] = -1;
  unsigned k = 0;
  for (unsigned b = 0; b < 256; b++) {
    g_byte_char[b] = byte_maps_to_itself(b) ? b : 256 + k++;
    g_char_byte[g_byte_char[b]] = (int16_t)b;
  }
}

uint32_t sb_bytelevel_char(uint8_t b) {
  pthread_once(&g_bytelevel_once, build_bytelevel);
  return g_byte_char[b];
}

int sb_bytelevel_byte(uint32_t cp) {
  pthread_once(&g_bytelevel_once, build_bytelevel);
  return cp < 256 + 68 ? g_char_byte[cp] : -1;
}
