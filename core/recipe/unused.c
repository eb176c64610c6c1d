/* unused.c — the unused-key check: after setup, every key of a recipe that
 * nobody read is an error, with file:line:col, its dotted path, and a hint
 * when a reader looked for a similar key that was absent. */
#include <stdlib.h>
#include <string.h>

#include "recipe_impl.h"

enum { MAX_LINES = 30 };

typedef struct unused_key {
  sb_loc loc;
  char *path;
  const char *hint;
} unused_key;

/* A key looked up in map but absent, close to key (a likely typo). */
static const char *missed_hint(const sb_node *map, const char *key) {
  for (size_t k = 0; key && k < map->missed.len; k++) {
    const char *missed = map->missed.items[k];
    const char *dot = strchr(missed, '.');
    size_t n = dot ? (size_t)(dot - missed) : strlen(missed);
    char *seg = sb_strndup(missed, n);
    bool close = seg && sb_key_is_close(key, seg);
    free(seg);
    if (close) return missed;
  }
  return NULL;
}

static int collect(const sb_node *m, const char *path, sb_ptrvec *out) {
  for (size_t k = 0; k < m->len; k++) {
    const sb_entry *e = &m->entries[k];
    char index[32];
    snprintf(index, sizeof index, "%zu", k);
    char *p = sb_key_join(path, e->key ? e->key : index);
    if (!p) return SB_ERR_NOMEM;
    int rc = SB_OK;
    /* A read list counts its scalar items as read. */
    bool read = e->val->used || (m->kind == SB_NODE_LIST && e->val->kind == SB_NODE_SCALAR);
    if (e->val->used && e->val->kind != SB_NODE_SCALAR) rc = collect(e->val, p, out);
    if (read || rc) {
      free(p);
      if (rc) return rc;
      continue;
    }
    unused_key *u = sb_malloc(sizeof *u);
    if (!u || sb_ptrvec_push(out, u)) {
      free(u), free(p);
      return SB_ERR_NOMEM;
    }
    *u = (unused_key){e->kloc, p, missed_hint(m, e->key)};
  }
  return SB_OK;
}

static int by_location(const void *a, const void *b) {
  const unused_key *x = *(unused_key *const *)a, *y = *(unused_key *const *)b;
  int c = sb_loc_compare(&x->loc, &y->loc);
  return c ? c : strcmp(x->path, y->path);
}

static void print_line(sb_strbuf *b, const unused_key *u) {
  char *where = sb_loc_str(u->loc);
  sb_strbuf_printf(b, "%s%s: unknown key '%s' (not read by anything", b->len ? "\n" : "",
                   where ? where : "?", u->path);
  if (u->hint) sb_strbuf_printf(b, "; did you mean '%s'?", u->hint);
  sb_strbuf_append(b, ")");
  free(where);
}

int sb_recipe_check_unused(const sb_recipe *r) {
  sb_ptrvec keys = {0};
  int rc = collect(r->root, "", &keys);
  if (!rc && keys.len) {
    qsort(keys.items, keys.len, sizeof *keys.items, by_location);
    sb_strbuf b;
    sb_strbuf_init(&b);
    for (size_t k = 0; k < keys.len && k < MAX_LINES; k++) print_line(&b, keys.items[k]);
    if (keys.len > MAX_LINES) sb_strbuf_printf(&b, "\n... and %zu more", keys.len - MAX_LINES);
    rc = sb_error_set(SB_ERR_FORMAT, "%s", b.data ? b.data : "");
    sb_strbuf_free(&b);
  }
  for (size_t k = 0; k < keys.len; k++) {
    unused_key *u = keys.items[k];
    free(u->path), free(u);
  }
  sb_ptrvec_free(&keys);
  return rc;
}
