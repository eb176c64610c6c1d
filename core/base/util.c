/* util.c — allocation, strings, paths, hash map, arrays, random numbers
 * (see util.h). */
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void *sb_malloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) sb_error_set(SB_ERR_NOMEM, "out of memory (%zu bytes)", n);
  return p;
}

void *sb_calloc(size_t count, size_t size) {
  void *p = calloc(count ? count : 1, size ? size : 1);
  if (!p) sb_error_set(SB_ERR_NOMEM, "out of memory (%zu x %zu bytes)", count, size);
  return p;
}

void *sb_realloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) sb_error_set(SB_ERR_NOMEM, "out of memory (%zu bytes)", n);
  return q;
}

char *sb_strdup(const char *s) { return sb_strndup(s, strlen(s)); }

char *sb_strndup(const char *s, size_t n) {
  char *d = sb_malloc(n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = 0;
  return d;
}

char *sb_vasprintf(const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) return NULL;
  char *s = sb_malloc((size_t)n + 1);
  if (s) vsnprintf(s, (size_t)n + 1, fmt, ap);
  return s;
}

char *sb_asprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = sb_vasprintf(fmt, ap);
  va_end(ap);
  return s;
}

bool sb_str_starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool sb_str_ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

int sb_str_distance(const char *a, const char *b) {
  enum { N = 64 };
  size_t la = SB_MIN(strlen(a), (size_t)N), lb = SB_MIN(strlen(b), (size_t)N);
  int prev[N + 1], cur[N + 1];
  for (size_t j = 0; j <= lb; j++) prev[j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = (int)i;
    for (size_t j = 1; j <= lb; j++) {
      int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
      int del = prev[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = SB_MIN(sub, SB_MIN(del, ins));
    }
    memcpy(prev, cur, sizeof(int) * (lb + 1));
  }
  return prev[lb];
}

void sb_strbuf_init(sb_strbuf *b) { b->data = NULL, b->len = b->cap = 0; }
void sb_strbuf_free(sb_strbuf *b) { free(b->data), sb_strbuf_init(b); }

int sb_strbuf_appendn(sb_strbuf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 64;
    while (cap < b->len + n + 1) cap *= 2;
    char *d = sb_realloc(b->data, cap);
    if (!d) return SB_ERR_NOMEM;
    b->data = d, b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = 0;
  return SB_OK;
}

int sb_strbuf_append(sb_strbuf *b, const char *s) { return sb_strbuf_appendn(b, s, strlen(s)); }

int sb_strbuf_printf(sb_strbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = sb_vasprintf(fmt, ap);
  va_end(ap);
  if (!s) return SB_ERR_NOMEM;
  int rc = sb_strbuf_append(b, s);
  free(s);
  return rc;
}

char *sb_strbuf_take(sb_strbuf *b) {
  char *d = b->data ? b->data : sb_strdup("");
  sb_strbuf_init(b);
  return d;
}

char *sb_path_join(const char *dir, const char *name) {
  if (!dir || !dir[0] || sb_path_is_absolute(name)) return sb_strdup(name);
  size_t n = strlen(dir);
  return sb_asprintf("%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", name);
}

char *sb_path_dirname(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return sb_strdup(".");
  if (slash == path) return sb_strdup("/");
  return sb_strndup(path, (size_t)(slash - path));
}

const char *sb_path_basename(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

bool sb_path_is_absolute(const char *path) { return path[0] == '/'; }

char *sb_path_absolute(const char *path) {
  if (sb_path_is_absolute(path)) return sb_strdup(path);
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) {
    sb_error_set(SB_ERR_IO, "cannot read the working directory: %s", strerror(errno));
    return NULL;
  }
  return sb_path_join(cwd, path);
}

bool sb_path_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

bool sb_path_is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int sb_path_remove_tree(const char *path) {
  DIR *d = opendir(path);
  if (!d) return remove(path) == 0 || errno == ENOENT ? SB_OK : SB_ERR_IO;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char *p = sb_path_join(path, e->d_name);
    if (p) sb_path_remove_tree(p);
    free(p);
  }
  closedir(d);
  return rmdir(path) == 0 ? SB_OK : SB_ERR_IO;
}

int sb_path_mkdirs(const char *path) {
  char *p = sb_strdup(path);
  if (!p) return SB_ERR_NOMEM;
  for (char *s = p + 1; *s; s++) {
    if (*s != '/') continue;
    *s = 0;
    if (mkdir(p, 0755) != 0 && errno != EEXIST) break;
    *s = '/';
  }
  int rc = mkdir(p, 0755) == 0 || errno == EEXIST ? SB_OK : sb_error_set(SB_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
  free(p);
  return rc;
}

char *sb_file_read(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    sb_error_set(SB_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  sb_strbuf b;
  sb_strbuf_init(&b);
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (sb_strbuf_appendn(&b, chunk, n)) {
      fclose(f);
      sb_strbuf_free(&b);
      return NULL;
    }
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    sb_strbuf_free(&b);
    sb_error_set(SB_ERR_IO, "%s: read error", path);
    return NULL;
  }
  if (len) *len = b.len;
  return sb_strbuf_take(&b);
}

uint64_t sb_hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

void sb_map_init(sb_map *m) { m->keys = NULL, m->vals = NULL, m->cap = m->count = 0; }

void sb_map_free(sb_map *m) {
  for (size_t i = 0; i < m->cap; i++) free(m->keys[i]);
  free(m->keys), free(m->vals);
  sb_map_init(m);
}

static size_t map_slot(const sb_map *m, const char *key) {
  size_t i = (size_t)sb_hash_str(key) & (m->cap - 1);
  while (m->keys[i] && strcmp(m->keys[i], key) != 0) i = (i + 1) & (m->cap - 1);
  return i;
}

static int map_grow(sb_map *m) {
  size_t cap = m->cap ? m->cap * 2 : 16;
  sb_map n = {sb_calloc(cap, sizeof(char *)), sb_calloc(cap, sizeof(void *)), cap, 0};
  if (!n.keys || !n.vals) {
    free(n.keys), free(n.vals);
    return SB_ERR_NOMEM;
  }
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->keys[i]) continue;
    size_t j = map_slot(&n, m->keys[i]);
    n.keys[j] = m->keys[i], n.vals[j] = m->vals[i], n.count++;
  }
  free(m->keys), free(m->vals);
  *m = n;
  return SB_OK;
}

int sb_map_set(sb_map *m, const char *key, void *val) {
  if ((m->count + 1) * 2 > m->cap && map_grow(m)) return SB_ERR_NOMEM;
  size_t i = map_slot(m, key);
  if (!m->keys[i]) {
    if (!(m->keys[i] = sb_strdup(key))) return SB_ERR_NOMEM;
    m->count++;
  }
  m->vals[i] = val;
  return SB_OK;
}

void *sb_map_get(const sb_map *m, const char *key) {
  if (!m->cap) return NULL;
  size_t i = map_slot(m, key);
  return m->keys[i] ? m->vals[i] : NULL;
}

bool sb_map_has(const sb_map *m, const char *key) {
  return m->cap && m->keys[map_slot(m, key)] != NULL;
}

int sb_ptrvec_push(sb_ptrvec *v, void *p) {
  if (v->len == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 16;
    void **items = sb_realloc(v->items, cap * sizeof(void *));
    if (!items) return SB_ERR_NOMEM;
    v->items = items, v->cap = cap;
  }
  v->items[v->len++] = p;
  return SB_OK;
}

void sb_ptrvec_free(sb_ptrvec *v) {
  free(v->items);
  v->items = NULL, v->len = v->cap = 0;
}

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void sb_rng_seed(sb_rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

void sb_rng_seed_named(sb_rng *r, uint64_t seed, const char *name) {
  sb_rng_seed(r, seed ^ sb_hash_str(name));
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sb_rng_u64(sb_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0], s[3] ^= s[1], s[1] ^= s[2], s[0] ^= s[3], s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double sb_rng_uniform(sb_rng *r) { return (double)(sb_rng_u64(r) >> 11) * 0x1.0p-53; }

double sb_rng_normal(sb_rng *r) {
  double u1 = sb_rng_uniform(r), u2 = sb_rng_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
