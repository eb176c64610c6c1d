/* spatialboost/backend.h — compute backends: a vtable of memory functions and
 * a table of kernels indexed by sb_kernel_id.
 *
 * The core calls kernels only through sb_backend_run (never a slot directly).
 * A backend fills the slots it implements; for an empty slot (NULL, or past
 * the end of its table, or a kernel returning SB_ERR_UNSUPPORTED) the core
 * copies the buffers to host memory, runs the cpu kernel and copies the
 * written buffers back. A new backend therefore works from its first day with
 * only the memory functions, and gets faster kernel by kernel.
 *
 * Kernels see contiguous float32 buffers unless their parameters say
 * otherwise; each kernel's parameter struct and buffer list is documented in
 * kernels.h. Tables only grow: new kernels get new ids at the end. */
#ifndef SPATIALBOOST_BACKEND_H
#define SPATIALBOOST_BACKEND_H

#include "kernels.h"
#include "tensor.h"

SB_BEGIN_DECLS

typedef enum sb_device_type {
  SB_DEVICE_CPU = 0,
  SB_DEVICE_CUDA = 1,
  SB_DEVICE_OTHER = 2,
} sb_device_type;

/* How a kernel uses one of its buffers (decides what the host fallback
 * copies in and out). */
typedef enum sb_access {
  SB_ACCESS_IN = 1,
  SB_ACCESS_OUT = 2,   /* the kernel writes every byte of the region */
  SB_ACCESS_INOUT = 3, /* read, and written in part or whole */
} sb_access;

typedef struct sb_kbuf {
  void *ptr;       /* device pointer (host pointer on cpu); may be NULL when optional */
  size_t bytes;    /* size of the region the kernel may touch */
  sb_access access;
} sb_kbuf;

#define SB_KERNEL_MAX_BUFS 12

typedef struct sb_kcall {
  sb_kernel_id id;
  const void *params; /* the kernel's parameter struct (kernels.h), host memory */
  int n_bufs;
  sb_kbuf bufs[SB_KERNEL_MAX_BUFS];
} sb_kcall;

typedef int (*sb_kernel_fn)(void *self, const sb_kcall *call);

typedef struct sb_backend_vtable {
  size_t struct_size;       /* sizeof(sb_backend_vtable) the backend was built with */
  const char *name;         /* "cpu", "cuda", ... */
  sb_device_type device_type;
  /* memory (required) */
  void *(*alloc)(void *self, size_t bytes);   /* 64-byte aligned; NULL when out of memory */
  void (*free)(void *self, void *ptr, size_t bytes);
  int (*upload)(void *self, void *dst, const void *host_src, size_t bytes);
  int (*download)(void *self, void *host_dst, const void *src, size_t bytes);
  int (*copy)(void *self, void *dst, const void *src, size_t bytes);
  int (*zero)(void *self, void *dst, size_t bytes);
  int (*synchronize)(void *self);
  /* kernels (optional, indexed by sb_kernel_id) */
  const sb_kernel_fn *kernels;
  size_t n_kernels;
  /* optional: a line describing the device and libraries (for --version) */
  const char *(*describe)(void *self);
  /* optional: release everything (called once at exit) */
  void (*shutdown)(void *self);
} sb_backend_vtable;

/* Registers a backend; the core keeps both pointers. Returns the handle. */
SB_API sb_backend *sb_backend_register(const sb_backend_vtable *vt, void *self);
/* By name ("cpu" is always there); NULL with a message listing the known ones. */
SB_API sb_backend *sb_backend_get(const char *name);
SB_API sb_backend *sb_backend_cpu(void);
SB_API const char *sb_backend_name(const sb_backend *be);
SB_API sb_device_type sb_backend_device_type(const sb_backend *be);
SB_API const char *sb_backend_describe(sb_backend *be);
/* The backend new tensors are made on, per thread (default: cpu). */
SB_API sb_backend *sb_backend_current(void);
SB_API void sb_backend_set_current(sb_backend *be);

/* Runs a kernel on be (with the host fallback described above). */
SB_API int sb_backend_run(sb_backend *be, const sb_kcall *call);

/* Memory statistics of the backend's reusable arena (tensor.h memory comes
 * from it): bytes in use now, the peak, bytes held for reuse, and how many
 * times the arena had to ask the backend for fresh memory. */
typedef struct sb_memory_stats {
  size_t in_use;
  size_t peak;
  size_t cached;
  uint64_t backend_allocs;
  uint64_t arena_allocs;
} sb_memory_stats;
SB_API void sb_backend_memory_stats(sb_backend *be, sb_memory_stats *out);
SB_API void sb_backend_reset_peak(sb_backend *be);
/* Returns cached (unused) memory to the backend. */
SB_API void sb_backend_trim(sb_backend *be);

/* Threads used by cpu kernels and BLAS (0: the OpenMP default). */
SB_API void sb_set_num_threads(int n);
SB_API int sb_get_num_threads(void);

SB_END_DECLS
#endif
