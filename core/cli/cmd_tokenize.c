/* cmd_tokenize.c — `spatialboost tokenize`: text to token ids (one JSON
 * array per text) or, with --decode, ids back to text, with a Hugging Face
 * tokenizer.json (spatialboost/tokenizer.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "spatialboost/spatialboost.h"
#include "util.h"

typedef struct tokenize_args {
  const char *tokenizer;
  bool decode, split_special, skip_special, json;
  char **texts; /* the arguments that are not options (argc of room) */
  int n_texts;
} tokenize_args;

static void help(FILE *out) {
  fprintf(out,
          "usage: spatialboost tokenize --tokenizer PATH [--split-special] [TEXT...]\n"
          "       spatialboost tokenize --tokenizer PATH --decode [--skip-special] [--json] [IDS...]\n\n"
          "Encodes each TEXT with a Hugging Face tokenizer.json (byte-level BPE: Qwen2,\n"
          "Qwen2.5, Qwen3) and prints its ids, one JSON array per TEXT. Without TEXT\n"
          "arguments each line of standard input is one text. No BOS/EOS is added; added\n"
          "tokens in the text (<|im_start|>, ...) are matched as tokens.\n\n"
          "  --tokenizer PATH  a tokenizer.json, or a folder holding one\n"
          "  --split-special   special tokens in the text are ordinary text (other added\n"
          "                    tokens still match, as in Hugging Face's tokenizers)\n"
          "  --decode          ids to text: each IDS is a JSON array (\"[9707, 1879]\") or\n"
          "                    ids separated by spaces; bare ids given as separate\n"
          "                    arguments form one sequence. Prints one text per sequence.\n"
          "  --skip-special    with --decode: leave special tokens out\n"
          "  --json            with --decode: print each text as a JSON string\n");
}

static int parse(int argc, char **argv, tokenize_args *a) {
  char **texts = a->texts;
  memset(a, 0, sizeof *a);
  a->texts = texts;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    if (strcmp(o, "--tokenizer") == 0) {
      if (i + 1 >= argc) return sb_error("--tokenizer needs a value");
      a->tokenizer = argv[++i];
    } else if (strcmp(o, "--decode") == 0) a->decode = true;
    else if (strcmp(o, "--split-special") == 0) a->split_special = true;
    else if (strcmp(o, "--skip-special") == 0) a->skip_special = true;
    else if (strcmp(o, "--json") == 0) a->json = true;
    else if (strcmp(o, "--") == 0) {
      while (++i < argc) a->texts[a->n_texts++] = argv[i];
    } else if (o[0] == '-' && o[1] && !(o[1] >= '0' && o[1] <= '9'))
      return sb_error("unknown option '%s' (see --help)", o);
    else a->texts[a->n_texts++] = argv[i];
  }
  if (!a->tokenizer) return sb_error("--tokenizer PATH is required (see --help)");
  if (!a->decode && (a->skip_special || a->json)) return sb_error("--skip-special and --json go with --decode");
  if (a->decode && a->split_special) return sb_error("--split-special goes with encoding, not --decode");
  return SB_OK;
}

static int encode_one(const sb_tokenizer *t, const char *text, size_t len, bool split_special) {
  int64_t *ids;
  size_t n;
  if (sb_tokenizer_encode(t, text, len, split_special, &ids, &n)) return SB_ERR;
  putchar('[');
  for (size_t i = 0; i < n; i++) printf(i ? ", %lld" : "%lld", (long long)ids[i]);
  printf("]\n");
  free(ids);
  return SB_OK;
}

/* Appends the ids written in s ("[1, 2]", "1 2", "1,2") to *ids. */
static int parse_ids(const char *s, int64_t **ids, size_t *n, size_t *cap) {
  while (*s) {
    if (strchr(" \t\r\n,[]", *s)) {
      s++;
      continue;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno || !strchr(" \t\r\n,[]", *end)) {
      size_t len = strcspn(s, " \t\r\n,[]");
      return sb_error("'%.*s' is not a token id", (int)len, s);
    }
    if (*n == *cap) {
      *cap = *cap ? 2 * *cap : 64;
      int64_t *p = sb_realloc(*ids, *cap * sizeof *p);
      if (!p) return SB_ERR_NOMEM;
      *ids = p;
    }
    (*ids)[(*n)++] = v;
    s = end;
  }
  return SB_OK;
}

static void print_text(const char *s, bool json) {
  if (!json) {
    printf("%s\n", s);
    return;
  }
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') printf("\\%c", *p);
    else if (*p == '\n') printf("\\n");
    else if (*p == '\t') printf("\\t");
    else if (*p == '\r') printf("\\r");
    else if (*p < 0x20) printf("\\u%04x", *p);
    else putchar(*p);
  }
  printf("\"\n");
}

static int decode_ids(const sb_tokenizer *t, const int64_t *ids, size_t n, const tokenize_args *a) {
  char *s = sb_tokenizer_decode(t, ids, n, a->skip_special);
  if (!s) return SB_ERR;
  print_text(s, a->json);
  free(s);
  return SB_OK;
}

/* Decodes the arguments: each JSON array on its own, runs of bare ids as
 * one sequence. */
static int decode_args(const sb_tokenizer *t, char **texts, int n_texts, const tokenize_args *a) {
  int64_t *ids = NULL;
  size_t n = 0, cap = 0;
  int rc = SB_OK;
  for (int i = 0; i < n_texts && rc == SB_OK; i++) {
    bool array = texts[i][strspn(texts[i], " \t")] == '[';
    if (array && n) rc = decode_ids(t, ids, n, a), n = 0; /* the bare ids before it */
    if (rc == SB_OK) rc = parse_ids(texts[i], &ids, &n, &cap);
    if (rc == SB_OK && array) rc = decode_ids(t, ids, n, a), n = 0;
  }
  if (rc == SB_OK && n) rc = decode_ids(t, ids, n, a);
  free(ids);
  return rc;
}

/* Each line of standard input is one text (or one id sequence). */
static int run_stdin(const sb_tokenizer *t, const tokenize_args *a) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int rc = SB_OK;
  while (rc == SB_OK && (len = getline(&line, &cap, stdin)) >= 0) {
    if (len && line[len - 1] == '\n') line[--len] = 0;
    if (a->decode) rc = decode_args(t, &line, 1, a);
    else rc = encode_one(t, line, (size_t)len, a->split_special);
  }
  free(line);
  return rc;
}

static int run(int argc, char **argv) {
  tokenize_args a = {.texts = sb_calloc((size_t)argc, sizeof(char *))};
  if (!a.texts) return sb_cli_fail("tokenize");
  if (parse(argc, argv, &a)) {
    fprintf(stderr, "spatialboost tokenize: %s\n", sb_error_message());
    free(a.texts);
    return 2;
  }
  sb_tokenizer *t = sb_tokenizer_load(a.tokenizer);
  int rc = t ? SB_OK : SB_ERR;
  if (t && !a.n_texts) rc = run_stdin(t, &a);
  else if (t && a.decode) rc = decode_args(t, a.texts, a.n_texts, &a);
  else
    for (int i = 0; t && i < a.n_texts && rc == SB_OK; i++)
      rc = encode_one(t, a.texts[i], strlen(a.texts[i]), a.split_special);
  sb_tokenizer_free(t);
  free(a.texts);
  return rc ? sb_cli_fail("tokenize") : 0;
}

const sb_command sb_cmd_tokenize = {"tokenize", "text to token ids and back with a tokenizer.json (Qwen2 BPE)", run,
                                    help};
