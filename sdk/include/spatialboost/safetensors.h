/* spatialboost/safetensors.h — reading and writing .safetensors files.
 *
 * Reading maps the file (mmap) and validates the whole header before anything
 * is returned: a truncated file, a header length past the end, a header that
 * is not JSON, an unknown dtype, offsets out of range or overlapping, or a
 * byte size that does not match dtype and shape each give one error naming
 * the file and the tensor. Tensor data is read lazily through the mapping.
 *
 * A "set" opens what Hugging Face folders hold: one .safetensors file, a
 * sharded model.safetensors.index.json, or a folder with either, and finds
 * each tensor in its shard.
 *
 * Bytes between or after tensors are allowed (only overlaps are errors); a
 * tensor entry with fields other than dtype, shape and data_offsets is
 * refused. Integer conversions keep the low bits when narrowing.
 *
 * Writing is atomic: the file is written to "<path>.tmp.<pid>", flushed and
 * renamed over <path>, so an existing file is never left half-written. */
#ifndef SPATIALBOOST_SAFETENSORS_H
#define SPATIALBOOST_SAFETENSORS_H

#include "tensor.h"

SB_BEGIN_DECLS

typedef struct sb_safetensors sb_safetensors;

typedef struct sb_st_tensor {
  const char *name;
  sb_dtype dtype;
  int ndim;
  int64_t shape[SB_MAX_DIMS];
  const void *data;     /* in the mapping; little-endian, C order; may be unaligned */
  size_t nbytes;
  const char *file;     /* the file it lives in */
} sb_st_tensor;

SB_API sb_safetensors *sb_safetensors_open(const char *path);
SB_API void sb_safetensors_close(sb_safetensors *f);
SB_API size_t sb_safetensors_count(const sb_safetensors *f);
/* Tensor i in file order (sorted by data offset). */
SB_API const sb_st_tensor *sb_safetensors_at(const sb_safetensors *f, size_t i);
/* By name, or NULL (no message). */
SB_API const sb_st_tensor *sb_safetensors_find(const sb_safetensors *f, const char *name);
/* A __metadata__ value, or NULL. */
SB_API const char *sb_safetensors_metadata(const sb_safetensors *f, const char *key);
SB_API size_t sb_safetensors_metadata_count(const sb_safetensors *f);
SB_API int sb_safetensors_metadata_at(const sb_safetensors *f, size_t i, const char **key,
                                      const char **value);
/* Copies one tensor into a new tensor on the current backend, converting to
 * `dtype` (float dtypes convert among themselves; integer ones among
 * themselves). */
SB_API sb_tensor *sb_safetensors_load(const sb_safetensors *f, const char *name, sb_dtype dtype);

typedef struct sb_st_set sb_st_set;
SB_API sb_st_set *sb_st_set_open(const char *path);
SB_API void sb_st_set_close(sb_st_set *s);
SB_API size_t sb_st_set_count(const sb_st_set *s);
SB_API const sb_st_tensor *sb_st_set_at(const sb_st_set *s, size_t i);
SB_API const sb_st_tensor *sb_st_set_find(const sb_st_set *s, const char *name);
/* Copies one tensor of the set into a new tensor, as sb_safetensors_load. */
SB_API sb_tensor *sb_st_set_load(const sb_st_set *s, const char *name, sb_dtype dtype);
/* The file or index that was opened (for messages). */
SB_API const char *sb_st_set_path(const sb_st_set *s);

typedef struct sb_st_writer sb_st_writer;
SB_API sb_st_writer *sb_st_writer_new(void);
SB_API void sb_st_writer_free(sb_st_writer *w);
/* Adds a tensor from host memory (copied now). Names must be unique. */
SB_API int sb_st_writer_add(sb_st_writer *w, const char *name, sb_dtype dtype, int ndim,
                            const int64_t *shape, const void *data);
/* Adds a tensor's current values (copied from its backend), in its dtype. */
SB_API int sb_st_writer_add_tensor(sb_st_writer *w, const char *name, const sb_tensor *t);
SB_API int sb_st_writer_set_metadata(sb_st_writer *w, const char *key, const char *value);
/* Writes atomically (see above). */
SB_API int sb_st_writer_write(sb_st_writer *w, const char *path);

SB_END_DECLS
#endif
