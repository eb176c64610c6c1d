/* backend.c — the backend registry, the current backend, and sb_run: a
 * kernel call on a backend, with the host fallback for kernels a device
 * backend lacks (backend.h). */
#include <stdlib.h>
#include <string.h>

#include "cpu_backend.h"
#include "tensor_impl.h"

#define SB_MAX_BACKENDS 8

static sb_backend g_backends[SB_MAX_BACKENDS];
static int g_n_backends;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local sb_backend *g_current;

static sb_backend *register_locked(const sb_backend_vtable *vt, void *self) {
  for (int i = 0; i < g_n_backends; i++)
    if (strcmp(g_backends[i].vt->name, vt->name) == 0) return &g_backends[i];
  if (g_n_backends == SB_MAX_BACKENDS) {
    sb_error("too many backends (at most %d)", SB_MAX_BACKENDS);
    return NULL;
  }
  sb_backend *be = &g_backends[g_n_backends++];
  be->vt = vt, be->self = self;
  sb_arena_init(&be->arena);
  return be;
}

sb_backend *sb_backend_cpu(void) {
  static sb_backend *cpu;
  pthread_mutex_lock(&g_lock);
  if (!cpu) cpu = register_locked(sb_cpu_backend_vtable(), NULL);
  pthread_mutex_unlock(&g_lock);
  return cpu;
}

sb_backend *sb_backend_register(const sb_backend_vtable *vt, void *self) {
  if (!vt || vt->struct_size < offsetof(sb_backend_vtable, kernels) || !vt->name || !vt->alloc ||
      !vt->free || !vt->upload || !vt->download || !vt->copy || !vt->zero) {
    sb_error("backend '%s': its vtable lacks a required memory function",
             vt && vt->name ? vt->name : "?");
    return NULL;
  }
  sb_backend_cpu();
  pthread_mutex_lock(&g_lock);
  sb_backend *be = register_locked(vt, self);
  pthread_mutex_unlock(&g_lock);
  return be;
}

sb_backend *sb_backend_get(const char *name) {
  sb_backend_cpu();
  char known[256] = "";
  pthread_mutex_lock(&g_lock);
  for (int i = 0; i < g_n_backends; i++) {
    if (strcmp(g_backends[i].vt->name, name) == 0) {
      pthread_mutex_unlock(&g_lock);
      return &g_backends[i];
    }
    if (i) strncat(known, ", ", sizeof known - strlen(known) - 1);
    strncat(known, g_backends[i].vt->name, sizeof known - strlen(known) - 1);
  }
  pthread_mutex_unlock(&g_lock);
  sb_error("no backend named '%s' (registered: %s)", name, known);
  return NULL;
}

const char *sb_backend_name(const sb_backend *be) { return be->vt->name; }
sb_device_type sb_backend_device_type(const sb_backend *be) { return be->vt->device_type; }

const char *sb_backend_describe(sb_backend *be) {
  if (be->vt->struct_size > offsetof(sb_backend_vtable, describe) && be->vt->describe)
    return be->vt->describe(be->self);
  return be->vt->name;
}

sb_backend *sb_backend_current(void) { return g_current ? g_current : sb_backend_cpu(); }
void sb_backend_set_current(sb_backend *be) { g_current = be; }

void sb_backend_memory_stats(sb_backend *be, sb_memory_stats *out) {
  pthread_mutex_lock(&be->arena.lock);
  out->in_use = be->arena.in_use;
  out->peak = be->arena.peak;
  out->cached = be->arena.cached;
  out->backend_allocs = be->arena.backend_allocs;
  out->arena_allocs = be->arena.arena_allocs;
  pthread_mutex_unlock(&be->arena.lock);
}

void sb_backend_reset_peak(sb_backend *be) {
  pthread_mutex_lock(&be->arena.lock);
  be->arena.peak = be->arena.in_use;
  pthread_mutex_unlock(&be->arena.lock);
}

void sb_backend_trim(sb_backend *be) { sb_arena_trim(be); }

/* Runs the cpu kernel on host copies of the buffers: IN and INOUT buffers are
 * downloaded first, OUT and INOUT buffers uploaded after. */
static int run_on_host(sb_backend *be, const sb_kcall *call) {
  sb_kcall host = *call;
  int rc = SB_OK;
  for (int i = 0; i < call->n_bufs; i++) host.bufs[i].ptr = NULL;
  for (int i = 0; i < call->n_bufs && rc == SB_OK; i++) {
    const sb_kbuf *b = &call->bufs[i];
    if (!b->ptr) continue;
    host.bufs[i].ptr = malloc(b->bytes ? b->bytes : 1);
    if (!host.bufs[i].ptr) {
      rc = sb_error_set(SB_ERR_NOMEM, "host fallback: out of memory (%zu bytes)", b->bytes);
      break;
    }
    if (b->access & SB_ACCESS_IN) rc = be->vt->download(be->self, host.bufs[i].ptr, b->ptr, b->bytes);
  }
  if (rc == SB_OK) rc = sb_cpu_run(&host);
  for (int i = 0; i < call->n_bufs && rc == SB_OK; i++) {
    const sb_kbuf *b = &call->bufs[i];
    if (b->ptr && (b->access & SB_ACCESS_OUT))
      rc = be->vt->upload(be->self, b->ptr, host.bufs[i].ptr, b->bytes);
  }
  for (int i = 0; i < call->n_bufs; i++) free(host.bufs[i].ptr);
  return rc;
}

int sb_backend_run(sb_backend *be, const sb_kcall *call) {
  if ((unsigned)call->id >= SB_K_COUNT || call->n_bufs > SB_KERNEL_MAX_BUFS)
    return sb_error("kernel id %d: unknown", (int)call->id);
  const sb_backend_vtable *vt = be->vt;
  if (vt->struct_size > offsetof(sb_backend_vtable, n_kernels) && vt->kernels &&
      (size_t)call->id < vt->n_kernels && vt->kernels[call->id]) {
    int rc = vt->kernels[call->id](be->self, call);
    if (rc != SB_ERR_UNSUPPORTED) return rc;
    sb_error_clear();
  }
  if (vt->device_type == SB_DEVICE_CPU) return sb_cpu_run(call);
  return run_on_host(be, call);
}

int sb_run(sb_backend *be, sb_kernel_id id, const void *params, int n_bufs, const sb_kbuf *bufs) {
  sb_kcall call = {.id = id, .params = params, .n_bufs = n_bufs};
  memcpy(call.bufs, bufs, sizeof(sb_kbuf) * (size_t)n_bufs);
  return sb_backend_run(be, &call);
}
