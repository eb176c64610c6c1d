/* tokenizer_internal.h — the loaded tokenizer shared by tokenizer_load.c
 * (reading and checking tokenizer.json) and tokenizer.c (encode, decode,
 * look-ups). Internal to the core. */
#ifndef SB_CORE_TOKENIZER_INTERNAL_H
#define SB_CORE_TOKENIZER_INTERNAL_H

#include "bpe.h"
#include "spatialboost/tokenizer.h"
#include "util.h"

#define SB_TOK_NONE UINT32_MAX /* an id with no token (a gap in the ids) */

/* An added token, matched on the raw text before anything else. */
typedef struct sb_added_token {
  const char *content; /* in sb_tokenizer.strings */
  size_t len;
  int64_t id;
  bool special;
} sb_added_token;

struct sb_tokenizer {
  char *path;      /* the tokenizer.json read, for messages */
  sb_bpe *bpe;
  int64_t n_ids;   /* one past the largest id */
  /* Per id: its token string (byte-mapped form, or an added token's text)
   * at strings + str_off[id]; the bytes it decodes to at bytes +
   * dec_off[id] (dec_len[id] of them); whether it is a special added token. */
  uint32_t *str_off, *dec_off, *dec_len;
  uint8_t *special;
  char *strings, *bytes;
  uint32_t *slots; /* token string -> id: open addressing, id + 1 (0 = free) */
  size_t slot_mask;
  /* Added tokens sorted by first byte, longest first within one first byte;
   * those starting with byte b are added[first[b] .. first[b + 1]). */
  sb_added_token *added;
  size_t n_added;
  uint32_t first[257];
  int only_first;  /* the one first byte all added tokens share, or -1 */
  char *default_system;
};

/* The id of a token string (vocabulary or added), or -1; `strings` is
 * where the token strings are (they move while the tokenizer loads). */
int64_t sb_tok_lookup(const sb_tokenizer *t, const char *strings, const char *token);

#endif
