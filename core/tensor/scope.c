/* scope.c — scopes that own temporaries (sdk tensor.h): a per-thread stack
 * of lists of references, released when their scope ends. */
#include <stdlib.h>

#include "tensor_impl.h"
#include "util.h"

#define SB_MAX_SCOPES 256

static _Thread_local sb_ptrvec g_scopes[SB_MAX_SCOPES];
static _Thread_local int g_depth;
static _Thread_local int g_overflow; /* begins beyond SB_MAX_SCOPES share the last */

void sb_scope_begin(void) {
  if (g_depth == SB_MAX_SCOPES) {
    /* Deeper nesting than any model needs: share the innermost scope. */
    g_overflow++;
    return;
  }
  g_scopes[g_depth++].len = 0;
}

void sb_scope_end(void) {
  if (g_overflow) {
    g_overflow--;
    return;
  }
  if (g_depth == 0) return;
  sb_ptrvec *v = &g_scopes[g_depth - 1];
  /* Release newest first, so views go before their bases. */
  for (size_t i = v->len; i-- > 0;) sb_tensor_release(v->items[i]);
  v->len = 0;
  g_depth--;
}

int sb_scope_depth(void) { return g_depth; }

sb_tensor *sb_scope_adopt(sb_tensor *t) {
  if (!t || g_depth == 0) return t;
  if (sb_ptrvec_push(&g_scopes[g_depth - 1], t)) {
    sb_tensor_release(t);
    return NULL;
  }
  return t;
}

sb_tensor *sb_scope_keep(sb_tensor *t) {
  if (!t || g_depth == 0) return t;
  sb_ptrvec *v = &g_scopes[g_depth - 1];
  for (size_t i = v->len; i-- > 0;) {
    if (v->items[i] == t) { /* move this reference one scope out */
      v->items[i] = v->items[--v->len];
      if (g_depth >= 2 && sb_ptrvec_push(&g_scopes[g_depth - 2], t)) return NULL;
      return t;
    }
  }
  /* Not owned by the innermost scope: give the enclosing owner a new one. */
  sb_tensor_retain(t);
  if (g_depth >= 2 && sb_ptrvec_push(&g_scopes[g_depth - 2], t)) return NULL;
  return t;
}
