/* emit.c — the merged, overridden, interpolated recipe as YAML text
 * (sb_recipe_to_yaml), written with libyaml's emitter so that loading it
 * again gives the same values: strings that would read back as another type
 * are double-quoted, and a literal "${" is written as "$${". */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "recipe_impl.h"

static int write_out(void *data, unsigned char *buffer, size_t size) {
  return sb_strbuf_appendn(data, (const char *)buffer, size) == SB_OK;
}

static int emit(yaml_emitter_t *em, yaml_event_t *ev, int ok) {
  if (!ok) return sb_error_set(SB_ERR_NOMEM, "out of memory writing YAML");
  if (!yaml_emitter_emit(em, ev))
    return sb_error("writing YAML: %s", em->problem ? em->problem : "emitter error");
  return SB_OK;
}

static char *escape_interp(const char *s) {
  sb_strbuf b;
  sb_strbuf_init(&b);
  sb_strbuf_append(&b, "");
  for (; *s; s++) {
    if (s[0] == '$' && s[1] == '{') sb_strbuf_append(&b, "$");
    sb_strbuf_appendn(&b, s, 1);
  }
  return sb_strbuf_take(&b);
}

static int emit_text(yaml_emitter_t *em, const char *text, yaml_scalar_style_t style) {
  yaml_event_t ev;
  int ok = yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text), 1,
                                        1, style);
  return emit(em, &ev, ok);
}

static int emit_scalar(yaml_emitter_t *em, const sb_node *n) {
  if (n->type == SB_SCALAR_NULL) return emit_text(em, "null", YAML_PLAIN_SCALAR_STYLE);
  /* Unresolved text (a pipeline's stages) is written as it was read; a
   * value read as a path is written absolute, so that the recipe saved in a
   * run folder finds the same files from anywhere. */
  char *text;
  if (n->resolved_path && n->text[0]) {
    char *abs = sb_path_absolute(n->resolved_path), *norm = abs ? sb_recipe_file_near(NULL, abs) : NULL;
    text = norm ? escape_interp(norm) : NULL;
    free(abs), free(norm);
  } else {
    text = n->interp == SB_INTERP_DONE ? escape_interp(n->text) : sb_strdup(n->text);
  }
  if (!text) return SB_ERR_NOMEM;
  yaml_scalar_style_t style = YAML_PLAIN_SCALAR_STYLE;
  if (n->type == SB_SCALAR_STRING && sb_text_type(text) != SB_SCALAR_STRING)
    style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
  else if (n->type == SB_SCALAR_STRING)
    style = strchr(text, '\n') ? YAML_LITERAL_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE;
  int rc = emit_text(em, text, style);
  free(text);
  return rc;
}

static int emit_node(yaml_emitter_t *em, const sb_node *n);

static int emit_list(yaml_emitter_t *em, const sb_node *n) {
  bool flat = true;
  for (size_t k = 0; k < n->len; k++) flat = flat && n->entries[k].val->kind == SB_NODE_SCALAR;
  yaml_event_t ev;
  int rc = emit(em, &ev,
                yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                     flat ? YAML_FLOW_SEQUENCE_STYLE
                                                          : YAML_BLOCK_SEQUENCE_STYLE));
  for (size_t k = 0; !rc && k < n->len; k++) rc = emit_node(em, n->entries[k].val);
  return rc ? rc : emit(em, &ev, yaml_sequence_end_event_initialize(&ev));
}

static int emit_map(yaml_emitter_t *em, const sb_node *n) {
  yaml_event_t ev;
  int rc = emit(em, &ev,
                yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE));
  for (size_t k = 0; !rc && k < n->len; k++) {
    rc = emit_text(em, n->entries[k].key, YAML_ANY_SCALAR_STYLE);
    if (!rc) rc = emit_node(em, n->entries[k].val);
  }
  return rc ? rc : emit(em, &ev, yaml_mapping_end_event_initialize(&ev));
}

static int emit_node(yaml_emitter_t *em, const sb_node *n) {
  if (n->kind == SB_NODE_MAP) return emit_map(em, n);
  if (n->kind == SB_NODE_LIST) return emit_list(em, n);
  return emit_scalar(em, n);
}

static int emit_document(yaml_emitter_t *em, const sb_node *root) {
  yaml_event_t ev;
  int rc = emit(em, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
  if (!rc) rc = emit(em, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
  if (!rc) rc = emit_node(em, root);
  if (!rc) rc = emit(em, &ev, yaml_document_end_event_initialize(&ev, 1));
  if (!rc) rc = emit(em, &ev, yaml_stream_end_event_initialize(&ev));
  return rc;
}

char *sb_recipe_to_yaml(const sb_recipe *r) {
  sb_strbuf b;
  sb_strbuf_init(&b);
  sb_strbuf_printf(&b, "# %s: includes merged, overrides applied, ${...} resolved\n", r->path);
  yaml_emitter_t em;
  if (!yaml_emitter_initialize(&em)) {
    sb_strbuf_free(&b);
    sb_error_set(SB_ERR_NOMEM, "out of memory writing YAML");
    return NULL;
  }
  yaml_emitter_set_output(&em, write_out, &b);
  yaml_emitter_set_unicode(&em, 1);
  yaml_emitter_set_width(&em, -1);
  yaml_emitter_set_indent(&em, 2);
  int rc = emit_document(&em, r->root);
  if (!rc && !yaml_emitter_flush(&em)) rc = sb_error("writing YAML: flush failed");
  yaml_emitter_delete(&em);
  if (rc) {
    sb_strbuf_free(&b);
    return NULL;
  }
  return sb_strbuf_take(&b);
}
