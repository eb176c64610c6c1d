/* spatialboost/tokenizer.h — byte-level BPE tokenizers from Hugging Face
 * tokenizer.json files (Qwen2, Qwen2.5, Qwen3: NFC normaliser, the Qwen
 * split pattern, byte-level mapping, merges by rank, added tokens matched
 * before everything else). A loaded tokenizer is read-only: encode and
 * decode may run in several threads at once. */
#ifndef SPATIALBOOST_TOKENIZER_H
#define SPATIALBOOST_TOKENIZER_H

#include "defs.h"

SB_BEGIN_DECLS

typedef struct sb_tokenizer sb_tokenizer;

/* A tokenizer.json file, or a folder holding one. The tokenizer_config.json
 * beside it, when present, gives the chat template's default system prompt
 * (even when the path names the .json file itself). A file of
 * another model type or pre-tokenizer, or a malformed one, is an error
 * naming the file and what was expected. */
SB_API sb_tokenizer *sb_tokenizer_load(const char *path);
SB_API void sb_tokenizer_free(sb_tokenizer *t);

/* Token ids of `len` bytes of UTF-8 text (invalid UTF-8 is an error).
 * Added tokens inside the text are matched as tokens; with `split_special`
 * those marked special become ordinary text (as Hugging Face's
 * split_special_tokens). No BOS/EOS is added.
 * *ids is malloc'd (caller frees); *n its length. */
SB_API int sb_tokenizer_encode(const sb_tokenizer *t, const char *text, size_t len, bool split_special,
                               int64_t **ids, size_t *n);
/* The text of ids (special tokens included unless skip_special; invalid
 * byte sequences decode to U+FFFD). malloc'd and NUL-terminated (text that
 * itself holds U+0000 ends there for C string functions); NULL on error (an
 * id outside the vocabulary). */
SB_API char *sb_tokenizer_decode(const sb_tokenizer *t, const int64_t *ids, size_t n, bool skip_special);

/* The id of a token string (an added token or a vocabulary entry in its
 * byte-mapped form), or -1. */
SB_API int64_t sb_tokenizer_token_id(const sb_tokenizer *t, const char *token);
/* The string of an id (NULL when out of range). */
SB_API const char *sb_tokenizer_token(const sb_tokenizer *t, int64_t id);
/* One past the largest id (vocabulary and added tokens). */
SB_API int64_t sb_tokenizer_vocab_size(const sb_tokenizer *t);
/* The default system prompt of the chat template, or NULL when the
 * tokenizer's config has none. */
SB_API const char *sb_tokenizer_default_system(const sb_tokenizer *t);

SB_END_DECLS
#endif
