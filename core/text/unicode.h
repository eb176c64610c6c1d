/* unicode.h — the Unicode pieces the tokenizer needs, on top of
 * libutf8proc: UTF-8 checking and decoding, lossy decoding (U+FFFD for
 * invalid sequences), the character classes of the split pattern (letters,
 * numbers, White_Space, line breaks), NFC with a copy-free fast path, and
 * the GPT-2 byte-level map. Internal to the core. */
#ifndef SB_CORE_UNICODE_H
#define SB_CORE_UNICODE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Class bits of a code point (sb_uc_class). */
enum {
  SB_UC_LETTER = 1,   /* \p{L}: Lu Ll Lt Lm Lo */
  SB_UC_NUMBER = 2,   /* \p{N}: Nd Nl No */
  SB_UC_SPACE = 4,    /* \s: the White_Space property */
  SB_UC_NEWLINE = 8,  /* \r or \n (also SB_UC_SPACE) */
  SB_UC_NFC_INERT = 16, /* NFC leaves it alone and it never composes with what precedes it */
};

/* Class bits of any code point (a table for the BMP, utf8proc above). */
unsigned sb_uc_class(uint32_t cp);

/* Decodes the code point at s (valid UTF-8 assumed); *len gets its bytes. */
static inline uint32_t sb_utf8_next(const uint8_t *s, size_t *len) {
  uint8_t b = s[0];
  if (b < 0x80) return *len = 1, b;
  if (b < 0xE0) return *len = 2, ((uint32_t)(b & 0x1F) << 6) | (s[1] & 0x3F);
  if (b < 0xF0) return *len = 3, ((uint32_t)(b & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
  *len = 4;
  return ((uint32_t)(b & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) | ((uint32_t)(s[2] & 0x3F) << 6) |
         (s[3] & 0x3F);
}

/* Length of the valid UTF-8 prefix of s[0..n) (n when all of it is valid):
 * no overlong forms, surrogates or code points above U+10FFFF. */
size_t sb_utf8_valid_prefix(const char *s, size_t n);

/* Appends s[0..n) to out, each invalid sequence (its maximal valid prefix,
 * as Rust's String::from_utf8_lossy) replaced by U+FFFD. */
int sb_utf8_append_lossy(sb_strbuf *out, const uint8_t *s, size_t n);

/* NFC of valid UTF-8 s[0..n). Returns s itself when it is already NFC by
 * the fast check (every code point inert), else a malloc'd copy put in
 * *owned (the caller frees it). *out_n gets the length. NULL on error. */
const char *sb_nfc(const char *s, size_t n, size_t *out_n, char **owned);

/* GPT-2's bytes_to_unicode: the code point byte b is written as in
 * byte-level vocabularies, and the reverse (-1 for a code point that is no
 * byte's image). */
uint32_t sb_bytelevel_char(uint8_t b);
int sb_bytelevel_byte(uint32_t cp);

#endif
