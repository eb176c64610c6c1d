/* spatialboost/error.h — the thread-local error message.
 *
 * A failing function records one message and returns an error code (or NULL).
 * Callers that add context wrap it: sb_error_prefix("loading %s", path) turns
 * "tensor 'x': shape [3] expected [4]" into
 * "loading model.safetensors: tensor 'x': shape [3] expected [4]". */
#ifndef SPATIALBOOST_ERROR_H
#define SPATIALBOOST_ERROR_H

#include "defs.h"

SB_BEGIN_DECLS

/* Records a message (replacing any earlier one) and returns `code`. */
SB_API int sb_error_set(int code, const char *fmt, ...) SB_PRINTF(2, 3);
/* Shorthand for sb_error_set(SB_ERR, ...). */
SB_API int sb_error(const char *fmt, ...) SB_PRINTF(1, 2);
/* Prepends "<context>: " to the current message. Returns the current code. */
SB_API int sb_error_prefix(const char *fmt, ...) SB_PRINTF(1, 2);
/* The last message ("" when none) and its code (SB_OK when none). */
SB_API const char *sb_error_message(void);
SB_API int sb_error_code(void);
SB_API void sb_error_clear(void);

SB_END_DECLS
#endif
