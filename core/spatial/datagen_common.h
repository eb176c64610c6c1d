/* datagen_common.h — what `datagen spatial` and `datagen mvqa` share:
 * checked option values, the generator's options on the command line, and
 * a JSONL writer that writes atomically and makes image paths relative to
 * an image root. */
#ifndef SB_CORE_DATAGEN_COMMON_H
#define SB_CORE_DATAGEN_COMMON_H

#include <stdio.h>

#include "qa.h"

/* Option values: an error names the option and the range. */
int sb_dg_int(const char *opt, const char *v, int lo, int hi, int *out);
int sb_dg_long(const char *opt, const char *v, long lo, long hi, long *out);
int sb_dg_double(const char *opt, const char *v, double lo, double hi, double *out);
int sb_dg_u64(const char *opt, const char *v, uint64_t *out);
/* The generator's options (--pixel-turns ... --point-gap); SB_ERR_NOT_FOUND
 * (no message) for an option that is not one of them. */
int sb_dg_qa_option(sb_qa_options *o, const char *opt, const char *v);

typedef struct sb_dg_writer {
  char *path, *tmp;
  char *image_root; /* absolute, no trailing slash */
  FILE *f;
} sb_dg_writer;

/* Opens a temporary file next to path; image_root NULL: path's folder. */
int sb_dg_writer_open(sb_dg_writer *w, const char *path, const char *image_root);
int sb_dg_write_line(sb_dg_writer *w, const char *line);
/* rc == SB_OK: renames the file into place; otherwise removes it. Returns
 * rc or the closing error. */
int sb_dg_writer_close(sb_dg_writer *w, int rc);
/* The image's path relative to root when it lies below it, else its
 * absolute path (malloc'd). */
char *sb_dg_image_path(const char *image, const char *root);

#endif
