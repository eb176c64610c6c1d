/* debug_backend.c — the "debug" device of the op test: a backend whose
 * memory the host cannot dereference and whose kernel table is empty.
 *
 * It allocates real host memory but hands out addresses shifted by
 * DEBUG_OFFSET, so that the only way to the values is through its memory
 * functions (upload, download, copy, zero), which shift back. With no
 * kernels, every kernel call takes the core's host fallback (core/tensor/
 * backend.c, run_on_host): download the IN buffers, run the cpu kernel,
 * upload the OUT buffers. Results must therefore equal the cpu backend's bit
 * for bit, and any place in the core that reads or writes tensor memory
 * directly on the host faults at once instead of passing by accident. */
#include <stdlib.h>
#include <string.h>

#include "test_ops.h"

/* Bit 52: far above any user-space address, yet below the top byte that
 * AArch64's top-byte-ignore would mask off. Shifted addresses are
 * non-canonical on x86-64 and unmapped on 48-bit AArch64, so a stray
 * dereference faults deterministically. */
#define DEBUG_OFFSET ((uintptr_t)1 << 52)

static void *to_host(const void *p) { return (void *)((uintptr_t)p - DEBUG_OFFSET); }
static void *to_device(void *p) { return (void *)((uintptr_t)p + DEBUG_OFFSET); }

bool debug_backend_owns(const void *p) { return ((uintptr_t)p & DEBUG_OFFSET) != 0; }

static void *dbg_alloc(void *self, size_t bytes) {
  void *p = NULL;
  if (posix_memalign(&p, 64, bytes ? bytes : 64)) return NULL;
  memset(p, 0xA5, bytes ? bytes : 64); /* poison: reading unwritten memory shows up as garbage */
  return to_device(p);
}

static void dbg_free(void *self, void *ptr, size_t bytes) {
  if (!ptr) return;
  free(to_host(ptr));
}

static int dbg_upload(void *self, void *dst, const void *src, size_t bytes) {
  if (bytes) memcpy(to_host(dst), src, bytes);
  return SB_OK;
}

static int dbg_download(void *self, void *dst, const void *src, size_t bytes) {
  if (bytes) memcpy(dst, to_host(src), bytes);
  return SB_OK;
}

static int dbg_copy(void *self, void *dst, const void *src, size_t bytes) {
  if (bytes) memmove(to_host(dst), to_host(src), bytes);
  return SB_OK;
}

static int dbg_zero(void *self, void *dst, size_t bytes) {
  if (bytes) memset(to_host(dst), 0, bytes);
  return SB_OK;
}

static int dbg_sync(void *self) { return SB_OK; }

static const char *dbg_describe(void *self) {
  return "debug: host memory behind shifted addresses, no kernels (host fallback)";
}

static const sb_backend_vtable k_debug_vtable = {
    .struct_size = sizeof(sb_backend_vtable),
    .name = "debug",
    .device_type = SB_DEVICE_OTHER,
    .alloc = dbg_alloc,
    .free = dbg_free,
    .upload = dbg_upload,
    .download = dbg_download,
    .copy = dbg_copy,
    .zero = dbg_zero,
    .synchronize = dbg_sync,
    .kernels = NULL, /* empty: every kernel goes through the host fallback */
    .n_kernels = 0,
    .describe = dbg_describe,
};

sb_backend *debug_backend_register(void) { return sb_backend_register(&k_debug_vtable, NULL); }
