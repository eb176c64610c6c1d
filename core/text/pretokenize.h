/* pretokenize.h — the Qwen2 split pattern as a hand-written scanner:
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}
 *   | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * with leftmost-first alternatives, as Hugging Face's Split(Isolated) runs
 * it: every byte of the text falls in exactly one piece. Internal. */
#ifndef SB_CORE_PRETOKENIZE_H
#define SB_CORE_PRETOKENIZE_H

#include <stddef.h>

/* The exact pattern string a tokenizer.json must carry for this scanner. */
extern const char sb_pretok_qwen2_pattern[];

/* The end of the piece starting at pos (< n) in valid UTF-8 s[0..n). */
size_t sb_pretok_next(const char *s, size_t n, size_t pos);

#endif
