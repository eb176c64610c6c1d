/* pretokenize.c — the Qwen2 split pattern (see pretokenize.h), one piece
 * at a time, with ASCII handled inline and other code points classified by
 * unicode.c (utf8proc categories, White_Space). */
#include "pretokenize.h"

#include <stdbool.h>
#include <stdint.h>

#include "unicode.h"

const char sb_pretok_qwen2_pattern[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

enum { LETTER = SB_UC_LETTER, NUMBER = SB_UC_NUMBER, SPACE = SB_UC_SPACE, NEWLINE = SB_UC_NEWLINE };

static inline unsigned ascii_class(uint8_t b) {
  if ((unsigned)((b | 0x20) - 'a') < 26u) return LETTER;
  if ((unsigned)(b - '0') < 10u) return NUMBER;
  if (b == ' ' || (b >= 9 && b <= 13)) return SPACE | (b == '\n' || b == '\r' ? NEWLINE : 0);
  return 0;
}

/* Class bits of the code point at s[i]; *len gets its length in bytes. */
static inline unsigned class_at(const uint8_t *s, size_t i, size_t *len) {
  if (s[i] < 0x80) {
    *len = 1;
    return ascii_class(s[i]);
  }
  return sb_uc_class(sb_utf8_next(s + i, len));
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d) after the apostrophe at i - 1: the bytes
 * matched after it, or 0. Case-insensitive matching also takes U+017F
 * (long s), whose case fold is 's'. */
static size_t contraction(const uint8_t *s, size_t n, size_t i) {
  if (i >= n) return 0;
  unsigned a = s[i] | 0x20u;
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 1;
  if (s[i] == 0xC5 && i + 1 < n && s[i + 1] == 0xBF) return 2;
  if (i + 1 >= n) return 0;
  unsigned b = s[i + 1] | 0x20u;
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 2;
  return 0;
}

static size_t letter_run(const uint8_t *s, size_t n, size_t i) {
  size_t len;
  while (i < n) {
    if (s[i] < 0x80) {
      if ((unsigned)((s[i] | 0x20) - 'a') >= 26u) break;
      i++;
    } else if (sb_uc_class(sb_utf8_next(s + i, &len)) & LETTER) {
      i += len;
    } else break;
  }
  return i;
}

/* [^\s\p{L}\p{N}]+[\r\n]* from i, the first symbol already taken. */
static size_t symbol_run(const uint8_t *s, size_t n, size_t i) {
  size_t len;
  while (i < n && !(class_at(s, i, &len) & (SPACE | LETTER | NUMBER))) i += len;
  while (i < n && (s[i] == '\r' || s[i] == '\n')) i++;
  return i;
}

/* The whitespace alternatives at pos: \s*[\r\n]+ (up to the last line
 * break of the run), \s+(?!\S) (all but the last space when a non-space
 * follows), \s+. */
static size_t space_run(const uint8_t *s, size_t n, size_t pos) {
  size_t i = pos, len, last = pos, newline_end = 0, count = 0;
  unsigned c;
  while (i < n && ((c = class_at(s, i, &len)) & SPACE)) {
    if (c & NEWLINE) newline_end = i + len;
    last = i;
    i += len;
    count++;
  }
  if (newline_end) return newline_end;
  if (i == n || count < 2) return i;
  return last;
}

size_t sb_pretok_next(const char *str, size_t n, size_t pos) {
  const uint8_t *s = (const uint8_t *)str;
  size_t len, len2;
  unsigned c = class_at(s, pos, &len);
  size_t next = pos + len;
  if (s[pos] == '\'') {
    size_t k = contraction(s, n, next);
    if (k) return next + k;
  }
  if (c & LETTER) return letter_run(s, n, next);
  if (!(c & (NUMBER | NEWLINE)) && next < n && (class_at(s, next, &len2) & LETTER))
    return letter_run(s, n, next + len2);
  if (c & NUMBER) return next;
  if (!(c & SPACE)) return symbol_run(s, n, next);
  if (s[pos] == ' ' && next < n && !(class_at(s, next, &len2) & (SPACE | LETTER | NUMBER)))
    return symbol_run(s, n, next + len2);
  return space_run(s, n, pos);
}
