/* llava_record.c — one LLaVA record into a llava_record, with LLaVA's rules:
 *   - `id`: a string or a number (absent: the record's index);
 *   - `image`: absent/null, a path, or a list of paths;
 *   - `conversations`: {from|role: human|user|gpt|assistant|system,
 *     value|content: text}; system turns only at the start; a leading
 *     non-human turn after them is dropped (as LLaVA's preprocess does);
 *     then human and gpt alternate;
 *   - `<image>` markers: one image and no marker puts "<image>\n" at the
 *     start of the first human turn; one image and one marker moves it to
 *     the front of its turn ("<image>\n" + the rest, stripped, as
 *     preprocess_multimodal does); otherwise markers must match the images
 *     in number and stay where they are;
 *   - `meta`: an object, kept as JSON text.
 * Every error names the record (file and line for JSONL, else its index)
 * and its id. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "llava.h"

#define IMAGE_TAG "<image>"

/* Context of one record's reading, for messages. */
typedef struct rec_ctx {
  const llava_where *w;
  const char *id;
} rec_ctx;

static int rec_error(const rec_ctx *c, const char *fmt, ...) SB_PRINTF(2, 3);
static int rec_error(const rec_ctx *c, const char *fmt, ...) {
  char where[1024], msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  llava_where_text(c->w, where, sizeof where);
  if (!c->id) return sb_error_set(SB_ERR_FORMAT, "%s: %s", where, msg);
  return sb_error_set(SB_ERR_FORMAT, "%s: sample '%s': %s", where, c->id, msg);
}

static const char *type_words(const sb_json *v) {
  static const char *const words[] = {"null", "a boolean", "an integer", "a number",
                                      "a string", "a list", "an object"};
  return v ? words[sb_json_typeof(v)] : "nothing";
}

void llava_record_free(llava_record *r) {
  for (int i = 0; i < r->n_turns; i++) free(r->turns[i].text);
  for (int i = 0; i < r->n_images; i++) free(r->images[i]);
  free(r->turns), free(r->images), free(r->meta), free(r->id);
  memset(r, 0, sizeof *r);
}

/* ---- id ---- */

static int read_id(const sb_json *rec, const llava_where *w, llava_record *out) {
  const sb_json *v = sb_json_get(rec, "id");
  char buf[64];
  int64_t i;
  double x;
  switch (sb_json_typeof(v)) {
  case SB_JSON_STRING: out->id = llava_strdup(sb_json_string(v)); break;
  case SB_JSON_INT: sb_json_int(v, &i), snprintf(buf, sizeof buf, "%lld", (long long)i); break;
  case SB_JSON_FLOAT: sb_json_float(v, &x), snprintf(buf, sizeof buf, "%.17g", x); break;
  case SB_JSON_NULL: snprintf(buf, sizeof buf, "%zu", w->index); break; /* absent */
  default: {
    rec_ctx c = {w, NULL};
    return rec_error(&c, "'id': expected a string or a number, got %s", type_words(v));
  }
  }
  if (!out->id) out->id = llava_strdup(buf);
  return out->id ? SB_OK : SB_ERR_NOMEM;
}

/* ---- images ---- */

static char *resolve(const char *dir, const char *path) {
  if (path[0] == '/' || !dir[0]) return llava_strdup(path);
  size_t a = strlen(dir), b = strlen(path);
  char *s = malloc(a + b + 2);
  if (!s) {
    sb_error_set(SB_ERR_NOMEM, "dataset_llava: out of memory");
    return NULL;
  }
  memcpy(s, dir, a);
  size_t n = a;
  if (dir[a - 1] != '/') s[n++] = '/';
  memcpy(s + n, path, b + 1);
  return s;
}

static int add_image(const rec_ctx *c, const sb_json *v, bool listed, const char *dir, llava_record *out) {
  const char *p = sb_json_string(v);
  if (!p) return rec_error(c, "'image'[%d]: expected a path, got %s", out->n_images, type_words(v));
  if (!p[0] && listed) return rec_error(c, "'image'[%d]: an empty path", out->n_images);
  if (!p[0]) return rec_error(c, "'image': an empty path");
  return (out->images[out->n_images++] = resolve(dir, p)) ? SB_OK : SB_ERR_NOMEM;
}

static int read_images(const sb_json *rec, const rec_ctx *c, const char *dir, llava_record *out) {
  const sb_json *v = sb_json_get(rec, "image");
  sb_json_type t = sb_json_typeof(v);
  if (t == SB_JSON_NULL) return SB_OK;
  if (t != SB_JSON_STRING && t != SB_JSON_ARRAY)
    return rec_error(c, "'image': expected a path or a list of paths, got %s", type_words(v));
  size_t n = t == SB_JSON_STRING ? 1 : sb_json_array_size(v);
  if (!n) return SB_OK;
  if (!(out->images = calloc(n, sizeof *out->images)))
    return sb_error_set(SB_ERR_NOMEM, "dataset_llava: out of memory");
  int rc = SB_OK;
  for (size_t i = 0; i < n && rc == SB_OK; i++)
    rc = add_image(c, t == SB_JSON_STRING ? v : sb_json_array_at(v, i), t == SB_JSON_ARRAY, dir, out);
  return rc;
}

/* ---- turns ---- */

static int role_of(const char *name, sb_role *out) {
  static const struct {
    const char *name;
    sb_role role;
  } k_roles[] = {{"human", SB_ROLE_USER},         {"user", SB_ROLE_USER},    {"gpt", SB_ROLE_ASSISTANT},
                 {"assistant", SB_ROLE_ASSISTANT}, {"system", SB_ROLE_SYSTEM}};
  for (size_t i = 0; i < sizeof k_roles / sizeof k_roles[0]; i++)
    if (strcmp(name, k_roles[i].name) == 0) return *out = k_roles[i].role, SB_OK;
  return SB_ERR;
}

/* The first present key among a and b (LLaVA's name, then LLaVA-NeXT's). */
static const sb_json *either(const sb_json *turn, const char *a, const char *b, const char **key) {
  const sb_json *v = sb_json_get(turn, a);
  *key = a;
  if (sb_json_typeof(v) == SB_JSON_NULL) v = sb_json_get(turn, *key = b);
  return sb_json_typeof(v) == SB_JSON_NULL ? NULL : v;
}

static int read_turn(const rec_ctx *c, const sb_json *turn, size_t i, llava_turn *out) {
  if (sb_json_typeof(turn) != SB_JSON_OBJECT)
    return rec_error(c, "conversations[%zu]: expected an object {from, value}, got %s", i, type_words(turn));
  const char *rk, *tk;
  const sb_json *role = either(turn, "from", "role", &rk), *text = either(turn, "value", "content", &tk);
  if (!role) return rec_error(c, "conversations[%zu]: no 'from' (or 'role')", i);
  if (!sb_json_string(role))
    return rec_error(c, "conversations[%zu]: '%s': expected a string, got %s", i, rk, type_words(role));
  if (role_of(sb_json_string(role), &out->role))
    return rec_error(c, "conversations[%zu]: '%s': unknown role '%s' (expected human, gpt or system; "
                     "user and assistant are accepted too)", i, rk, sb_json_string(role));
  if (!text) return rec_error(c, "conversations[%zu]: a turn without text (no 'value' or 'content')", i);
  if (!sb_json_string(text))
    return rec_error(c, "conversations[%zu]: '%s': expected a string, got %s", i, tk, type_words(text));
  return (out->text = llava_strdup(sb_json_string(text))) ? SB_OK : SB_ERR_NOMEM;
}

static const char *role_word(sb_role r) {
  return r == SB_ROLE_SYSTEM ? "system" : r == SB_ROLE_USER ? "human" : "gpt";
}

/* Reads every turn; drops the leading non-human turn after the system
 * turns; checks the order. Indices in messages are the file's. */
static int read_turns(const sb_json *rec, const rec_ctx *c, llava_record *out) {
  const sb_json *conv = sb_json_get(rec, "conversations");
  if (!conv) return rec_error(c, "no 'conversations'");
  if (sb_json_typeof(conv) != SB_JSON_ARRAY)
    return rec_error(c, "'conversations': expected a list of turns, got %s", type_words(conv));
  size_t n = sb_json_array_size(conv);
  if (!n) return rec_error(c, "empty conversation");
  if (!(out->turns = calloc(n, sizeof *out->turns))) return sb_error_set(SB_ERR_NOMEM, "dataset_llava: out of memory");
  bool started = false, dropped = false;
  sb_role expect = SB_ROLE_USER;
  for (size_t i = 0; i < n; i++) {
    llava_turn t = {0};
    if (read_turn(c, sb_json_array_at(conv, i), i, &t)) return sb_error_code();
    if (t.role == SB_ROLE_SYSTEM && started) {
      free(t.text);
      return rec_error(c, "conversations[%zu]: a system turn after the conversation started", i);
    }
    if (t.role == SB_ROLE_ASSISTANT && !started && !dropped) { /* LLaVA skips it */
      free(t.text), dropped = true;
      continue;
    }
    if (t.role != SB_ROLE_SYSTEM) {
      if (t.role != expect) {
        free(t.text);
        return rec_error(c, "conversations[%zu]: expected a %s turn, got %s (human and gpt must alternate)", i,
                         role_word(expect), role_word(t.role));
      }
      started = true, expect = expect == SB_ROLE_USER ? SB_ROLE_ASSISTANT : SB_ROLE_USER;
    }
    out->turns[out->n_turns++] = t;
  }
  if (!started) return rec_error(c, "no human turn%s", dropped ? " (after dropping the leading gpt turn)" : "");
  return SB_OK;
}

/* ---- <image> placement ---- */

static int count_tags(const char *s) {
  int n = 0;
  for (const char *p = strstr(s, IMAGE_TAG); p; p = strstr(p + strlen(IMAGE_TAG), IMAGE_TAG)) n++;
  return n;
}

static bool py_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* "<image>\n" + strip(text without its one tag), then stripped: LLaVA's
 * preprocess_multimodal. */
static int move_tag_to_front(llava_turn *t) {
  const char *tag = strstr(t->text, IMAGE_TAG);
  size_t before = (size_t)(tag - t->text), len = strlen(t->text), tl = strlen(IMAGE_TAG);
  char *rest = malloc(len + 16);
  if (!rest) return sb_error_set(SB_ERR_NOMEM, "dataset_llava: out of memory");
  memcpy(rest, t->text, before);
  memcpy(rest + before, tag + tl, len - before - tl + 1);
  const char *a = rest;
  while (py_space(*a)) a++;
  size_t n = strlen(a);
  while (n && py_space(a[n - 1])) n--;
  memmove(rest + 8, a, n); /* room for "<image>\n" */
  memcpy(rest, IMAGE_TAG "\n", 8);
  rest[8 + n] = 0;
  if (!n) rest[7] = 0; /* "<image>\n" stripped */
  free(t->text);
  t->text = rest;
  return SB_OK;
}

static int prepend_tag(llava_turn *t) {
  size_t n = strlen(t->text);
  char *s = malloc(n + 9);
  if (!s) return sb_error_set(SB_ERR_NOMEM, "dataset_llava: out of memory");
  memcpy(s, IMAGE_TAG "\n", 8);
  memcpy(s + 8, t->text, n + 1);
  free(t->text);
  t->text = s;
  return SB_OK;
}

static int place_tags(const rec_ctx *c, llava_record *r) {
  int total = 0, tagged = -1;
  for (int i = 0; i < r->n_turns; i++) {
    int k = count_tags(r->turns[i].text);
    if (k && tagged < 0) tagged = i;
    total += k;
  }
  if (r->n_images == 1 && total == 0) {
    for (int i = 0; i < r->n_turns; i++)
      if (r->turns[i].role == SB_ROLE_USER) return prepend_tag(&r->turns[i]);
  }
  if (r->n_images == 1 && total == 1) return move_tag_to_front(&r->turns[tagged]);
  if (total != r->n_images) {
    if (!r->n_images) return rec_error(c, "%d <image> tag%s but no image", total, total == 1 ? "" : "s");
    return rec_error(c, "%d <image> tag%s for %d image%s (each image needs one tag)", total, total == 1 ? "" : "s",
                     r->n_images, r->n_images == 1 ? "" : "s");
  }
  return SB_OK;
}

/* ---- meta ---- */

static int read_meta(const sb_json *rec, const rec_ctx *c, llava_record *out) {
  const sb_json *m = sb_json_get(rec, "meta");
  if (sb_json_typeof(m) == SB_JSON_NULL) return SB_OK;
  if (sb_json_typeof(m) != SB_JSON_OBJECT) return rec_error(c, "'meta': expected an object, got %s", type_words(m));
  char what[1200], where[1024];
  snprintf(what, sizeof what, "%s: sample '%s': 'meta'", llava_where_text(c->w, where, sizeof where), c->id);
  return (out->meta = llava_json_text(m, what)) ? SB_OK : sb_error_code();
}

int llava_record_parse(const sb_json *rec, const llava_where *w, const char *image_dir, llava_record *out) {
  memset(out, 0, sizeof *out);
  int rc;
  if (sb_json_typeof(rec) != SB_JSON_OBJECT) {
    rec_ctx c0 = {w, NULL};
    rc = rec_error(&c0, "expected a record {id, image, conversations}, got %s", type_words(rec));
  } else if (!(rc = read_id(rec, w, out))) {
    rec_ctx c = {w, out->id};
    if (!(rc = read_images(rec, &c, image_dir, out)) && !(rc = read_turns(rec, &c, out)) &&
        !(rc = place_tags(&c, out)))
      rc = read_meta(rec, &c, out);
  }
  if (rc) llava_record_free(out);
  return rc;
}
