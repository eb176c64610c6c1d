/* spatialboost/defs.h — export macros and the few definitions every public
 * header shares. Part of the plugin SDK. */
#ifndef SPATIALBOOST_DEFS_H
#define SPATIALBOOST_DEFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define SB_BEGIN_DECLS extern "C" {
#define SB_END_DECLS }
#else
#define SB_BEGIN_DECLS
#define SB_END_DECLS
#endif

/* Functions of libspatialboost that plugins and programs may call. The core
 * is built with -fvisibility=hidden, so nothing else is reachable. */
#define SB_API __attribute__((visibility("default")))

/* printf-style argument checking. */
#define SB_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

/* Most functions return SB_OK (0) on success and a negative sb_status on
 * failure, after recording a message (see error.h). Functions returning a
 * pointer return NULL on failure. */
typedef enum sb_status {
  SB_OK = 0,
  SB_ERR = -1,          /* generic failure; the message says what */
  SB_ERR_NOMEM = -2,    /* out of (host or device) memory */
  SB_ERR_IO = -3,       /* a file could not be read or written */
  SB_ERR_FORMAT = -4,   /* a file or value is malformed */
  SB_ERR_SHAPE = -5,    /* tensor shapes or dtypes do not fit */
  SB_ERR_UNSUPPORTED = -6, /* a backend has no kernel for this */
  SB_ERR_NOT_FOUND = -7,
} sb_status;

#endif
