/* yaml_load.c — libyaml events to the recipe tree (sb_node), with
 * file:line:col on every key and value. Rejects what recipes do not use:
 * anchors and aliases, tags other than !!str, duplicate keys, non-string
 * keys, several documents in one file. */
#include <errno.h>
#include <string.h>
#include <yaml.h>

#include "recipe_impl.h"

enum { MAX_DEPTH = 200 };

typedef struct loader {
  yaml_parser_t parser;
  const char *file;    /* interned display name */
  const sb_loc *fixed; /* when set, every node is located here */
  sb_strbuf path;      /* dotted path of the node being read */
  int depth;
} loader;

static sb_node *load_node(loader *L, yaml_event_t *ev);

static sb_loc mark_loc(const loader *L, yaml_mark_t m) {
  if (L->fixed) return *L->fixed;
  return (sb_loc){L->file, (int)m.line + 1, (int)m.column + 1, SB_LOC_FILE};
}

static int parser_error(const loader *L) {
  const yaml_parser_t *p = &L->parser;
  const char *problem = p->problem ? p->problem : "invalid YAML";
  if (p->error == YAML_MEMORY_ERROR) return sb_error_set(SB_ERR_NOMEM, "out of memory reading YAML");
  if (p->error == YAML_READER_ERROR) {
    sb_loc loc = L->fixed ? *L->fixed : (sb_loc){L->file, 1, 1, SB_LOC_FILE};
    return sb_loc_error(loc, SB_ERR_FORMAT, "%s at byte %zu", problem, p->problem_offset);
  }
  sb_loc loc = mark_loc(L, p->problem_mark);
  if (!p->context) return sb_loc_error(loc, SB_ERR_FORMAT, "%s", problem);
  yaml_mark_t cm = p->context_mark, pm = p->problem_mark;
  if (L->fixed || (cm.line == pm.line && cm.column == pm.column))
    return sb_loc_error(loc, SB_ERR_FORMAT, "%s (%s)", problem, p->context);
  return sb_loc_error(loc, SB_ERR_FORMAT, "%s (%s at line %zu, column %zu)", problem, p->context,
                      cm.line + 1, cm.column + 1);
}

static int next_event(loader *L, yaml_event_t *ev) {
  if (!yaml_parser_parse(&L->parser, ev)) return parser_error(L);
  return SB_OK;
}

/* Anchors and tags; *as_string for !!str (and the non-specific "!"). */
static int check_props(const loader *L, const yaml_event_t *ev, bool *as_string) {
  const yaml_char_t *anchor = NULL, *tag = NULL;
  if (ev->type == YAML_SCALAR_EVENT) anchor = ev->data.scalar.anchor, tag = ev->data.scalar.tag;
  if (ev->type == YAML_MAPPING_START_EVENT)
    anchor = ev->data.mapping_start.anchor, tag = ev->data.mapping_start.tag;
  if (ev->type == YAML_SEQUENCE_START_EVENT)
    anchor = ev->data.sequence_start.anchor, tag = ev->data.sequence_start.tag;
  sb_loc loc = mark_loc(L, ev->start_mark);
  if (anchor)
    return sb_loc_error(loc, SB_ERR_FORMAT,
                        "anchors (&%s) are not supported in recipes; use include: or ${...}",
                        (const char *)anchor);
  if (!tag) return SB_OK;
  const char *t = (const char *)tag;
  if (ev->type == YAML_SCALAR_EVENT && (!strcmp(t, "tag:yaml.org,2002:str") || !strcmp(t, "!"))) {
    *as_string = true;
    return SB_OK;
  }
  return sb_loc_error(loc, SB_ERR_FORMAT, "YAML tags (%s) are not supported in recipes (only !!str)", t);
}

static void path_push(loader *L, const char *seg, size_t *mark) {
  *mark = L->path.len;
  if (L->path.len) sb_strbuf_append(&L->path, ".");
  sb_strbuf_append(&L->path, seg);
}

static void path_pop(loader *L, size_t mark) {
  L->path.len = mark;
  if (L->path.data) L->path.data[mark] = 0;
}

static int check_key(loader *L, const sb_node *m, const char *key, sb_loc kloc) {
  if (!*key) return sb_loc_error(kloc, SB_ERR_FORMAT, "empty key");
  const sb_entry *dup = sb_node_find(m, key);
  if (!dup) return SB_OK;
  size_t mark;
  path_push(L, key, &mark);
  int rc = dup->kloc.kind == SB_LOC_FILE
               ? sb_loc_error(kloc, SB_ERR_FORMAT, "duplicate key '%s' (first at line %d)",
                              L->path.data, dup->kloc.line)
               : sb_loc_error(kloc, SB_ERR_FORMAT, "duplicate key '%s'", L->path.data);
  path_pop(L, mark);
  return rc;
}

static const char *event_what(yaml_event_type_t t) {
  if (t == YAML_MAPPING_START_EVENT) return "a mapping";
  if (t == YAML_SEQUENCE_START_EVENT) return "a list";
  return "an alias";
}

/* Reads one key (kev, consumed) and its value into mapping m. */
static int load_entry(loader *L, sb_node *m, yaml_event_t *kev) {
  sb_loc kloc = mark_loc(L, kev->start_mark);
  bool as_string = false;
  int rc = kev->type == YAML_SCALAR_EVENT
               ? check_props(L, kev, &as_string)
               : sb_loc_error(kloc, SB_ERR_FORMAT, "a key must be a string, not %s",
                              event_what(kev->type));
  char *key = rc ? NULL : sb_strndup((const char *)kev->data.scalar.value, kev->data.scalar.length);
  yaml_event_delete(kev);
  if (rc) return rc;
  if (!key) return SB_ERR_NOMEM;
  yaml_event_t vev;
  if ((rc = check_key(L, m, key, kloc)) || (rc = next_event(L, &vev))) {
    free(key);
    return rc;
  }
  size_t mark;
  path_push(L, key, &mark);
  sb_node *v = load_node(L, &vev);
  path_pop(L, mark);
  if (!v || sb_node_append(m, key, kloc, v)) {
    free(key), sb_node_free(v);
    return sb_error_code() ? sb_error_code() : SB_ERR;
  }
  return SB_OK;
}

static sb_node *load_map(loader *L, sb_loc loc) {
  sb_node *m = sb_node_new(SB_NODE_MAP, loc);
  while (m) {
    yaml_event_t ev;
    if (next_event(L, &ev)) break;
    if (ev.type == YAML_MAPPING_END_EVENT) {
      yaml_event_delete(&ev);
      return m;
    }
    if (load_entry(L, m, &ev)) break;
  }
  sb_node_free(m);
  return NULL;
}

static sb_node *load_list(loader *L, sb_loc loc) {
  sb_node *l = sb_node_new(SB_NODE_LIST, loc);
  while (l) {
    yaml_event_t ev;
    if (next_event(L, &ev)) break;
    if (ev.type == YAML_SEQUENCE_END_EVENT) {
      yaml_event_delete(&ev);
      return l;
    }
    char idx[32];
    size_t mark;
    snprintf(idx, sizeof idx, "%zu", l->len);
    path_push(L, idx, &mark);
    sb_node *v = load_node(L, &ev);
    path_pop(L, mark);
    if (!v || sb_node_append(l, NULL, v->loc, v)) {
      sb_node_free(v);
      break;
    }
  }
  sb_node_free(l);
  return NULL;
}

/* Reads the node that starts with ev (consumed). */
static sb_node *load_node(loader *L, yaml_event_t *ev) {
  sb_loc loc = mark_loc(L, ev->start_mark);
  bool as_string = false;
  sb_node *n = NULL;
  if (ev->type == YAML_ALIAS_EVENT)
    sb_loc_error(loc, SB_ERR_FORMAT,
                 "aliases (*%s) are not supported in recipes; use include: or ${...}",
                 (const char *)ev->data.alias.anchor);
  else if (check_props(L, ev, &as_string))
    ;
  else if (L->depth >= MAX_DEPTH)
    sb_loc_error(loc, SB_ERR_FORMAT, "nested deeper than %d levels", MAX_DEPTH);
  else if (ev->type == YAML_SCALAR_EVENT)
    n = sb_node_new_scalar((const char *)ev->data.scalar.value, ev->data.scalar.length,
                           as_string || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE, loc);
  else if (ev->type == YAML_MAPPING_START_EVENT || ev->type == YAML_SEQUENCE_START_EVENT) {
    bool map = ev->type == YAML_MAPPING_START_EVENT;
    L->depth++;
    n = map ? load_map(L, loc) : load_list(L, loc);
    L->depth--;
  } else
    sb_loc_error(loc, SB_ERR_FORMAT, "unexpected YAML event %d", (int)ev->type);
  yaml_event_delete(ev);
  return n;
}

/* Expects the event type t next (STREAM_START, DOCUMENT_END, ...). */
static int expect_event(loader *L, yaml_event_type_t t, yaml_event_t *ev) {
  int rc = next_event(L, ev);
  if (rc) return rc;
  if (ev->type == t) return SB_OK;
  return 1;
}

/* The document's root node; an empty stream gives a null scalar. */
static sb_node *load_stream(loader *L, sb_loc start) {
  yaml_event_t ev;
  if (expect_event(L, YAML_STREAM_START_EVENT, &ev) < 0) return NULL;
  yaml_event_delete(&ev);
  int rc = expect_event(L, YAML_STREAM_END_EVENT, &ev);
  if (rc < 0) return NULL;
  yaml_event_delete(&ev);
  if (rc == 0) return sb_node_new_scalar("", 0, false, start);
  if (next_event(L, &ev)) return NULL;
  sb_node *root = load_node(L, &ev);
  if (!root || expect_event(L, YAML_DOCUMENT_END_EVENT, &ev) < 0) {
    sb_node_free(root);
    return NULL;
  }
  yaml_event_delete(&ev);
  if ((rc = expect_event(L, YAML_STREAM_END_EVENT, &ev)) != 0) {
    if (rc > 0) {
      sb_loc_error(mark_loc(L, ev.start_mark), SB_ERR_FORMAT,
                   "a recipe is one YAML document; a second one starts here");
      yaml_event_delete(&ev);
    }
    sb_node_free(root);
    return NULL;
  }
  yaml_event_delete(&ev);
  return root;
}

static sb_node *file_root(sb_node *root, sb_loc start) {
  if (root->kind == SB_NODE_MAP) return root;
  if (root->kind == SB_NODE_SCALAR && root->type == SB_SCALAR_NULL) {
    sb_node_free(root);
    return sb_node_new(SB_NODE_MAP, start);
  }
  char *got = sb_node_describe(root);
  sb_loc_error(root->loc, SB_ERR_FORMAT,
               "the top level of a recipe must be a mapping (key: value lines), got %s",
               got ? got : "?");
  free(got);
  sb_node_free(root);
  return NULL;
}

sb_node *sb_yaml_load_file(sb_recipe *r, const char *path, const char *from) {
  FILE *f = sb_path_is_dir(path) ? NULL : fopen(path, "rb");
  if (!f) {
    const char *why = sb_path_is_dir(path) ? strerror(EISDIR) : strerror(errno);
    if (from) sb_error_set(SB_ERR_IO, "cannot open %s: %s (%s)", path, why, from);
    else sb_error_set(SB_ERR_IO, "cannot open %s: %s", path, why);
    return NULL;
  }
  loader L = {.file = sb_recipe_intern(r, path)};
  sb_strbuf_init(&L.path);
  sb_loc start = {L.file, 1, 1, SB_LOC_FILE};
  yaml_parser_initialize(&L.parser);
  yaml_parser_set_input_file(&L.parser, f);
  sb_node *root = L.file ? load_stream(&L, start) : NULL;
  yaml_parser_delete(&L.parser);
  sb_strbuf_free(&L.path);
  fclose(f);
  return root ? file_root(root, start) : NULL;
}

sb_node *sb_yaml_load_text(sb_recipe *r, const char *text, sb_loc loc) {
  loader L = {.fixed = &loc};
  (void)r;
  sb_strbuf_init(&L.path);
  yaml_parser_initialize(&L.parser);
  yaml_parser_set_input_string(&L.parser, (const unsigned char *)text, strlen(text));
  sb_node *root = load_stream(&L, loc);
  yaml_parser_delete(&L.parser);
  sb_strbuf_free(&L.path);
  return root;
}
