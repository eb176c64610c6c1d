/* render.c — the synthetic scenes' renderer (synth.h): one primary ray per
 * pixel centre, exact analytic intersections with upright spheres, boxes,
 * cylinders and cones, the floor (y = 0) and the back wall; Lambert and
 * ambient shading, a Blinn-Phong highlight on metal, hard shadows from one
 * directional light. Depth is the hit's camera-frame z, the id its object's. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "synth.h"
#include "util.h"

#define T_MIN 1e-6
#define SHADOW_OFFSET 1e-4
#define HIT_FLOOR (-1)
#define HIT_WALL (-2)
#define HIT_NONE (-3)

typedef enum prim_kind { PRIM_SPHERE, PRIM_BOX, PRIM_CYLINDER, PRIM_CONE } prim_kind;

/* An object as the renderer sees it: its kind inside its box. */
typedef struct prim {
  prim_kind kind;
  double lo[3], hi[3], c[3]; /* box and box centre */
  double r;                  /* radius (sphere, cylinder, cone base) */
  double albedo[3];          /* linear (gamma 2) */
  bool metal;
  uint16_t id;
} prim;

typedef struct world {
  int n;
  prim *p;
  double light[3]; /* unit vector towards the light */
} world;

typedef struct hit {
  double t, n[3];
  int obj; /* object index, HIT_FLOOR, HIT_WALL or HIT_NONE */
} hit;

typedef struct ray {
  double o[3], d[3]; /* d is not normalised */
} ray;

static double dot3(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

static void normalize3(double *v) {
  double l = sqrt(dot3(v, v));
  if (l > 0) v[0] /= l, v[1] /= l, v[2] /= l;
}

static void set3(double *v, double x, double y, double z) { v[0] = x, v[1] = y, v[2] = z; }

/* Keeps the nearer of a candidate and the current hit. */
static void take(hit *h, double t, double nx, double ny, double nz, int obj) {
  if (t > T_MIN && t < h->t) h->t = t, h->obj = obj, set3(h->n, nx, ny, nz);
}

static void hit_sphere(const prim *p, const ray *r, int obj, hit *h) {
  double oc[3] = {r->o[0] - p->c[0], r->o[1] - p->c[1], r->o[2] - p->c[2]};
  double a = dot3(r->d, r->d), b = dot3(oc, r->d), c = dot3(oc, oc) - p->r * p->r;
  double disc = b * b - a * c;
  if (disc < 0) return;
  double s = sqrt(disc);
  for (int k = 0; k < 2; k++) {
    double t = (-b + (k ? s : -s)) / a;
    if (t <= T_MIN) continue;
    double q[3] = {oc[0] + t * r->d[0], oc[1] + t * r->d[1], oc[2] + t * r->d[2]};
    take(h, t, q[0] / p->r, q[1] / p->r, q[2] / p->r, obj);
    return;
  }
}

/* Slabs: the entry through the box's faces, with the face's normal. */
static void hit_box(const prim *p, const ray *r, int obj, hit *h) {
  double t0 = -INFINITY, t1 = INFINITY;
  int axis0 = -1, axis1 = -1;
  for (int a = 0; a < 3; a++) {
    if (r->d[a] == 0) {
      if (r->o[a] < p->lo[a] || r->o[a] > p->hi[a]) return;
      continue;
    }
    double ta = (p->lo[a] - r->o[a]) / r->d[a], tb = (p->hi[a] - r->o[a]) / r->d[a];
    if (ta > tb) {
      double x = ta;
      ta = tb, tb = x;
    }
    if (ta > t0) t0 = ta, axis0 = a;
    if (tb < t1) t1 = tb, axis1 = a;
  }
  if (t0 > t1) return;
  double t = t0 > T_MIN ? t0 : t1;
  int axis = t0 > T_MIN ? axis0 : axis1;
  if (axis < 0 || t <= T_MIN) return;
  double n[3] = {0, 0, 0};
  n[axis] = r->d[axis] > 0 ? -1 : 1;
  if (t != t0) n[axis] = -n[axis]; /* leaving: the outward normal of the far face */
  take(h, t, n[0], n[1], n[2], obj);
}

/* A horizontal disc of radius p->r at height y, centred on the axis. */
static void hit_disc(const prim *p, const ray *r, double y, double ny, int obj, hit *h) {
  if (r->d[1] == 0) return;
  double t = (y - r->o[1]) / r->d[1];
  double x = r->o[0] + t * r->d[0] - p->c[0], z = r->o[2] + t * r->d[2] - p->c[2];
  if (x * x + z * z <= p->r * p->r) take(h, t, 0, ny, 0, obj);
}

/* Roots of a t² + 2 b t + c = 0, smaller first; returns how many. */
static int roots(double a, double b, double c, double t[2]) {
  if (fabs(a) < 1e-14) {
    if (fabs(b) < 1e-14) return 0;
    t[0] = -c / (2 * b);
    return 1;
  }
  double disc = b * b - a * c;
  if (disc < 0) return 0;
  double s = sqrt(disc), u = (-b - s) / a, v = (-b + s) / a;
  t[0] = u < v ? u : v, t[1] = u < v ? v : u;
  return 2;
}

static void hit_cylinder(const prim *p, const ray *r, int obj, hit *h) {
  double ox = r->o[0] - p->c[0], oz = r->o[2] - p->c[2], dx = r->d[0], dz = r->d[2];
  double t[2];
  int n = roots(dx * dx + dz * dz, ox * dx + oz * dz, ox * ox + oz * oz - p->r * p->r, t);
  for (int k = 0; k < n; k++) {
    double y = r->o[1] + t[k] * r->d[1];
    if (t[k] <= T_MIN || y < p->lo[1] || y > p->hi[1]) continue;
    take(h, t[k], (ox + t[k] * dx) / p->r, 0, (oz + t[k] * dz) / p->r, obj);
    break;
  }
  hit_disc(p, r, p->hi[1], 1, obj, h);
  hit_disc(p, r, p->lo[1], -1, obj, h);
}

/* Apex at the top of the box, base (radius p->r) at its bottom: relative
 * to the apex, x² + z² = k² y² with -height ≤ y ≤ 0 and k = r / height. */
static void hit_cone(const prim *p, const ray *r, int obj, hit *h) {
  double height = p->hi[1] - p->lo[1], k2 = (p->r / height) * (p->r / height);
  double ox = r->o[0] - p->c[0], oy = r->o[1] - p->hi[1], oz = r->o[2] - p->c[2];
  const double *d = r->d;
  double t[2];
  int n = roots(d[0] * d[0] + d[2] * d[2] - k2 * d[1] * d[1], ox * d[0] + oz * d[2] - k2 * oy * d[1],
                ox * ox + oz * oz - k2 * oy * oy, t);
  for (int i = 0; i < n; i++) {
    double x = ox + t[i] * d[0], y = oy + t[i] * d[1], z = oz + t[i] * d[2];
    if (t[i] <= T_MIN || y > 0 || y < -height) continue;
    double nv[3] = {x, -k2 * y, z};
    if (dot3(nv, nv) == 0) nv[1] = 1; /* the apex itself */
    normalize3(nv);
    take(h, t[i], nv[0], nv[1], nv[2], obj);
    break;
  }
  hit_disc(p, r, p->lo[1], -1, obj, h);
}

static void hit_prim(const prim *p, const ray *r, int obj, hit *h) {
  switch (p->kind) {
  case PRIM_SPHERE: hit_sphere(p, r, obj, h); break;
  case PRIM_BOX: hit_box(p, r, obj, h); break;
  case PRIM_CYLINDER: hit_cylinder(p, r, obj, h); break;
  case PRIM_CONE: hit_cone(p, r, obj, h); break;
  }
}

/* The nearest of everything along the ray. */
static void cast(const world *w, const ray *r, hit *h) {
  h->t = INFINITY, h->obj = HIT_NONE;
  for (int i = 0; i < w->n; i++) hit_prim(&w->p[i], r, i, h);
  if (r->d[1] < 0) take(h, -r->o[1] / r->d[1], 0, 1, 0, HIT_FLOOR);
  if (r->d[2] < 0) take(h, (SB_SYNTH_WALL_Z - r->o[2]) / r->d[2], 0, 0, 1, HIT_WALL);
}

/* Whether an object stands between p and the light. */
static bool in_shadow(const world *w, const double *p, const double *n) {
  ray r;
  for (int a = 0; a < 3; a++) r.o[a] = p[a] + SHADOW_OFFSET * n[a], r.d[a] = w->light[a];
  hit h = {.t = INFINITY, .obj = HIT_NONE};
  for (int i = 0; i < w->n && h.obj == HIT_NONE; i++) hit_prim(&w->p[i], &r, i, &h);
  return h.obj != HIT_NONE;
}

/* The floor's and the wall's colours (linear), the floor with a faint
 * 0.5 m checker. */
static void background_albedo(const hit *h, const double *p, double *albedo) {
  if (h->obj == HIT_WALL) {
    set3(albedo, 0.36, 0.40, 0.48);
    return;
  }
  int cell = (int)floor(p[0] / 0.5) + (int)floor(p[2] / 0.5);
  double f = (cell & 1) ? 0.94 : 1.0;
  set3(albedo, 0.45 * f, 0.42 * f, 0.37 * f);
}

#define AMBIENT 0.28
#define DIFFUSE 0.80
#define SPECULAR 0.85
#define SHININESS 60.0

/* Linear colour of the hit seen along r. */
static void shade(const world *w, const ray *r, const hit *h, double *c) {
  double view[3] = {-r->d[0], -r->d[1], -r->d[2]}, n[3] = {h->n[0], h->n[1], h->n[2]}, p[3], albedo[3];
  normalize3(view);
  if (dot3(n, view) < 0) set3(n, -n[0], -n[1], -n[2]);
  for (int a = 0; a < 3; a++) p[a] = r->o[a] + h->t * r->d[a];
  const prim *o = h->obj >= 0 ? &w->p[h->obj] : NULL;
  if (o) memcpy(albedo, o->albedo, sizeof albedo);
  else background_albedo(h, p, albedo);
  double ndl = dot3(n, w->light);
  bool lit = ndl > 0 && !in_shadow(w, p, n);
  double diffuse = AMBIENT * (0.75 + 0.25 * n[1]) + (lit ? DIFFUSE * ndl : 0);
  double spec = 0;
  if (o && o->metal && lit) {
    double half[3] = {view[0] + w->light[0], view[1] + w->light[1], view[2] + w->light[2]};
    normalize3(half);
    double ndh = dot3(n, half);
    spec = ndh > 0 ? SPECULAR * pow(ndh, SHININESS) : 0;
    diffuse *= 0.7;
  }
  for (int a = 0; a < 3; a++) c[a] = albedo[a] * diffuse + spec;
}

static uint8_t to_srgb8(double linear) {
  double v = linear <= 0 ? 0 : linear >= 1 ? 1 : sqrt(linear);
  return (uint8_t)(v * 255.0 + 0.5);
}

typedef struct view_rays {
  double R[9], o[3];
  double fx, fy, cx, cy;
} view_rays;

/* The ray through pixel (u, v)'s centre, with camera z = 1 per unit t. */
static void pixel_ray(const view_rays *vr, int u, int v, ray *r) {
  double dc[3] = {(u + 0.5 - vr->cx) / vr->fx, (v + 0.5 - vr->cy) / vr->fy, 1.0};
  for (int a = 0; a < 3; a++)
    r->o[a] = vr->o[a], r->d[a] = vr->R[3 * a] * dc[0] + vr->R[3 * a + 1] * dc[1] + vr->R[3 * a + 2] * dc[2];
}

static void render_row(const world *w, const view_rays *vr, int v, sb_synth_frame *f) {
  for (int u = 0; u < f->width; u++) {
    size_t i = (size_t)v * (size_t)f->width + (size_t)u;
    ray r;
    hit h;
    pixel_ray(vr, u, v, &r);
    cast(w, &r, &h);
    double c[3] = {0.62, 0.68, 0.75}; /* nothing: a pale sky */
    if (h.obj != HIT_NONE) shade(w, &r, &h, c);
    for (int a = 0; a < 3; a++) f->rgb[3 * i + a] = to_srgb8(c[a]);
    f->depth[i] = h.obj == HIT_NONE ? 0.0f : (float)h.t;
    f->ids[i] = h.obj >= 0 ? w->p[h.obj].id : 0;
  }
}

static int prim_kind_of(const sb_scene_object *o, prim_kind *k) {
  static const char *const names[] = {"sphere", "cube", "cylinder", "cone"};
  for (int i = 0; i < 4; i++)
    if (strcmp(o->shape, names[i]) == 0) return *k = (prim_kind)i, SB_OK;
  return sb_error_set(SB_ERR_FORMAT, "object %d: cannot render the shape '%s' (sphere, cube, cylinder or cone)",
                      o->id, o->shape);
}

static int world_build(const sb_scene *s, world *w) {
  w->n = s->n_objects;
  w->p = sb_calloc((size_t)(s->n_objects ? s->n_objects : 1), sizeof *w->p);
  if (!w->p) return SB_ERR_NOMEM;
  set3(w->light, -0.5, 1.0, 0.45);
  normalize3(w->light);
  for (int i = 0; i < s->n_objects; i++) {
    const sb_scene_object *o = &s->objects[i];
    prim *p = &w->p[i];
    if (prim_kind_of(o, &p->kind)) return SB_ERR_FORMAT;
    if (o->id < 1 || o->id > 65535) return sb_error_set(SB_ERR_FORMAT, "object id %d is not in 1..65535", o->id);
    for (int a = 0; a < 3; a++) {
      p->lo[a] = o->box_min[a], p->hi[a] = o->box_max[a], p->c[a] = 0.5 * (o->box_min[a] + o->box_max[a]);
      double g = o->rgb[a] / 255.0;
      p->albedo[a] = g * g;
    }
    p->r = 0.5 * (o->box_max[0] - o->box_min[0]);
    if (!(p->r > 0) || !(p->hi[1] > p->lo[1]) || !(p->hi[2] > p->lo[2]))
      return sb_error_set(SB_ERR_FORMAT, "object %d: an empty box", o->id);
    p->metal = strcmp(o->material, "metal") == 0;
    p->id = (uint16_t)o->id;
  }
  return SB_OK;
}

static void view_rays_of(const sb_camera *cam, view_rays *vr) {
  for (int a = 0; a < 3; a++) {
    for (int b = 0; b < 3; b++) vr->R[3 * a + b] = cam->cam_to_world[4 * a + b];
    vr->o[a] = cam->cam_to_world[4 * a + 3];
  }
  vr->fx = cam->fx, vr->fy = cam->fy, vr->cx = cam->cx, vr->cy = cam->cy;
}

int sb_synth_render(const sb_scene *s, const sb_camera *cam, int threads, sb_synth_frame *out) {
  memset(out, 0, sizeof *out);
  if (cam->width <= 0 || cam->height <= 0 || !(cam->fx > 0) || !(cam->fy > 0))
    return sb_error_set(SB_ERR_SHAPE, "render: a %d×%d camera with fx %g, fy %g", cam->width, cam->height,
                        cam->fx, cam->fy);
  world w;
  if (world_build(s, &w)) {
    free(w.p);
    return SB_ERR_FORMAT;
  }
  size_t n = (size_t)cam->width * (size_t)cam->height;
  out->width = cam->width, out->height = cam->height;
  out->rgb = sb_malloc(3 * n), out->depth = sb_malloc(n * sizeof(float)), out->ids = sb_malloc(n * sizeof(uint16_t));
  if (!out->rgb || !out->depth || !out->ids) {
    free(w.p);
    sb_synth_frame_free(out);
    return SB_ERR_NOMEM;
  }
  view_rays vr;
  view_rays_of(cam, &vr);
  int nt = threads > 0 ? threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 4) num_threads(nt)
  for (int v = 0; v < out->height; v++) render_row(&w, &vr, v, out);
  free(w.p);
  return SB_OK;
}

void sb_synth_frame_free(sb_synth_frame *f) {
  if (!f) return;
  free(f->rgb), free(f->depth), free(f->ids);
  memset(f, 0, sizeof *f);
}
