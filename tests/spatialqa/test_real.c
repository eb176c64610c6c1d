/* test_real.c — the generator on real captures, not our renders.
 *
 * `test_sq_real middlebury`: the Middlebury 2014 "Motorcycle" pair that
 * Debian's python3-skimage ships (skimage/data/motorcycle_left.png,
 * _right.png, motorcycle_disp.npz: the left view's disparity, +inf where
 * unknown; 741×500). Calibration f = 994.978 px, cx = 311.193, cy =
 * 254.877, doffs = 31.086 px, baseline = 193.001 mm: depth =
 * baseline·f / (d + doffs). Checks: the .npz read by the core's zip/npy
 * reader, depths within 2.1–5.02 m, the point cloud re-projected into the
 * right camera lands on the same colours (photo-consistency far better
 * than with depths 10 % off), and a conversation generated from the depth
 * as a 16-bit PNG in millimetres with masks made here by depth clustering.
 *
 * `test_sq_real pcl`: an organised 640×480 Kinect frame from python3-pcl
 * (milk_cartoon_all_small_clorox.pcd: x y z rgba, binary_compressed, LZF),
 * found under $SB_PCL_DIR (the package extracted with dpkg-deb -x; the test
 * is skipped when the variable is unset, and fails when it is set and the
 * file is missing). The file's points are in OpenGL's camera frame (x
 * right, y up, z backward: every z is negative), so the camera frame here
 * is (x, −y, −z). Checks: each point back-projects from its pixel and depth
 * with fx = fy = 525, cx = 319.5, cy = 239.5 (centres on integers), and a
 * conversation generated from the frame (the kinect intrinsics preset). */
#include "geometry.h"
#include "spatial_io.h"
#include "sq_common.h"

#define MB_F 994.978
#define MB_CX 311.193
#define MB_CY 254.877
#define MB_DOFFS 31.086
#define MB_BASELINE 193.001 /* mm */

static const char *skimage_dir(void) {
  const char *d = getenv("SB_SKIMAGE_DATA");
  return d && d[0] ? d : "/usr/lib/python3/dist-packages/skimage/data";
}

/* Depth answers equal the depth map at the asked pixel; every cube holds
 * only points of its own mask. */
static void check_against_depth(const char *jsonl_path, const float *z_m, int w, int h) {
  jsonl j = jsonl_load(jsonl_path);
  CHECK(j.n == 1, "%s: %d records", jsonl_path, j.n);
  for (int i = 0; i < j.n; i++) {
    check_record(rec(&j, i), 1);
    const sb_json *qs = sb_json_get(sb_json_get(rec(&j, i), "meta"), "questions");
    for (size_t k = 0; k < sb_json_array_size(qs); k++) {
      const sb_json *q = sb_json_array_at(qs, k);
      if (strcmp(jstr(q, "type"), "depth")) continue;
      const sb_json *px = sb_json_get(q, "pixel");
      int u = (int)jat(px, 0), v = (int)jat(px, 1);
      CHECK(u >= 0 && v >= 0 && u < w && v < h && fabs(jnum(q, "depth_m") - z_m[v * w + u]) < 1e-4,
            "depth %g at (%d, %d), the map has %g", jnum(q, "depth_m"), u, v, z_m[v * w + u]);
    }
    printf("%s\n", j.lines[i]);
  }
  jsonl_free(&j);
}

/* ---- Middlebury ---- */

static float *middlebury_depth(int *w, int *h) {
  char path[600];
  snprintf(path, sizeof path, "%s/motorcycle_disp.npz", skimage_dir());
  sb_npy a;
  if (sb_npz_load(path, NULL, &a)) {
    CHECK(0, "%s: %s (python3-skimage ships it; set SB_SKIMAGE_DATA to its data folder)", path, sb_error_message());
    return NULL;
  }
  CHECK(a.ndim == 2 && a.shape[0] == 500 && a.shape[1] == 741 && a.is_float, "disparity shape (%lld, %lld)",
        (long long)a.shape[0], (long long)a.shape[1]);
  *h = (int)a.shape[0], *w = (int)a.shape[1];
  float *z = malloc(sizeof(float) * (size_t)(*w * *h));
  double lo = INFINITY, hi = 0;
  long valid = 0;
  for (int i = 0; i < *w * *h; i++) {
    double d = a.data[i];
    z[i] = isfinite(d) ? (float)(MB_BASELINE * MB_F / (d + MB_DOFFS) / 1000.0) : 0.0f;
    if (z[i] > 0) lo = fmin(lo, z[i]), hi = fmax(hi, z[i]), valid++;
  }
  printf("motorcycle: %ld of %d pixels with depth, %.3f to %.3f m\n", valid, *w * *h, lo, hi);
  CHECK(valid > 0.9 * *w * *h && lo >= 2.1 && lo < 2.2 && hi <= 5.02 && hi > 4.9, "depth range %.3f..%.3f", lo, hi);
  sb_npy_free(&a);
  return z;
}

/* Mean absolute colour difference between left pixels and where their 3-D
 * points (depths scaled by s) land in the right image. */
static double reprojection_error(const float *z, int w, int h, const sb_image *left, const sb_image *right, double s) {
  sb_intrinsics k = {MB_F, MB_F, MB_CX, MB_CY, 0.0}, kr = {MB_F, MB_F, MB_CX + MB_DOFFS, MB_CY, 0.0};
  double sum = 0;
  long n = 0;
  for (int v = 0; v < h; v += 3)
    for (int u = 0; u < w; u += 3) {
      if (!(z[v * w + u] > 0)) continue;
      double p[3], ur, vr;
      sb_backproject(&k, u, v, z[v * w + u] * s, p);
      p[0] -= MB_BASELINE / 1000.0; /* into the right camera */
      sb_project(&kr, p, &ur, &vr);
      int iu = (int)floor(ur), iv = (int)floor(vr);
      if (iu < 0 || iu >= right->width || iv != v) continue;
      for (int c = 0; c < 3; c++)
        sum += fabs((double)left->data[3 * (v * w + u) + c] - right->data[3 * (iv * right->width + iu) + c]);
      n += 3;
    }
  return n ? sum / (double)n : INFINITY;
}

static int run_middlebury(void) {
  int w = 0, h = 0;
  float *z = middlebury_depth(&w, &h);
  if (!z) return check_summary("spatialqa-real middlebury");
  char lp[600], rp[600];
  snprintf(lp, sizeof lp, "%s/motorcycle_left.png", skimage_dir());
  snprintf(rp, sizeof rp, "%s/motorcycle_right.png", skimage_dir());
  sb_image left, right;
  CHECK(sb_image_load(lp, &left) == SB_OK && sb_image_load(rp, &right) == SB_OK, "%s", sb_error_message());
  CHECK(left.width == w && left.height == h, "left image %dx%d", left.width, left.height);
  double e = reprojection_error(z, w, h, &left, &right, 1.0), e_off = reprojection_error(z, w, h, &left, &right, 1.1);
  printf("motorcycle: colour error of the cloud in the right view %.2f, with depths 10%% off %.2f\n", e, e_off);
  CHECK(e < 12 && e < 0.6 * e_off, "photo-consistency %.2f vs %.2f", e, e_off);
  /* the generator's inputs: the left image, depth in mm, clustered masks */
  const char *dirs[] = {"mb", "mb/images", "mb/depth", "mb/masks"};
  for (size_t i = 0; i < SB_ARRAY_LEN(dirs); i++) mkdir(tp(dirs[i]), 0755);
  CHECK(symlink(lp, tp("mb/images/motorcycle.png")) == 0, "symlink");
  uint16_t *mm = malloc(sizeof *mm * (size_t)(w * h)), *ids = malloc(sizeof *ids * (size_t)(w * h));
  for (int i = 0; i < w * h; i++) mm[i] = z[i] > 0 ? (uint16_t)lroundf(z[i] * 1000) : 0, z[i] = mm[i] / 1000.0f;
  write_png16(tp("mb/depth/motorcycle.png"), mm, w, h);
  int n = depth_clusters(z, w, h, 0.01, 4000, 6, ids);
  printf("motorcycle: %d depth clusters as objects\n", n);
  CHECK(n >= 3, "%d clusters", n);
  write_png16(tp("mb/masks/motorcycle.png"), ids, w, h);
  char cam[256];
  snprintf(cam, sizeof cam, "{\"fx\": %g, \"fy\": %g, \"cx\": %g, \"cy\": %g, \"pixel_center\": 0}", MB_F, MB_F, MB_CX,
           MB_CY);
  write_text(tp("mb/cam.json"), cam);
  run_out o = RUN(sb_datagen_spatial, "spatial", "--images", (char *)tp("mb/images"), "--depth", (char *)tp("mb/depth"),
                  "--masks", (char *)tp("mb/masks"), "--intrinsics", (char *)tp("mb/cam.json"), "-o",
                  (char *)tp("mb/out.jsonl"), "--seed", "3");
  CHECK(o.rc == 0, "datagen on the motorcycle: %s", o.err);
  printf("%s", o.out);
  run_free(&o);
  check_against_depth(tp("mb/out.jsonl"), z, w, h);
  free(z), free(mm), free(ids);
  sb_image_free(&left), sb_image_free(&right);
  return check_summary("spatialqa-real middlebury");
}

/* ---- PCL's Kinect frame ---- */

/* LZF, as PCL's binary_compressed stores: literal runs (ctrl < 32: ctrl+1
 * bytes) and back references (length ctrl>>5, +next byte when 7; offset
 * from the low 5 bits and the next byte). */
static size_t lzf_decompress(const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
  size_t i = 0, o = 0;
  while (i < n) {
    unsigned ctrl = in[i++];
    if (ctrl < 32) {
      if (i + ctrl + 1 > n || o + ctrl + 1 > cap) return 0;
      memcpy(out + o, in + i, ctrl + 1), i += ctrl + 1, o += ctrl + 1;
      continue;
    }
    size_t len = ctrl >> 5;
    if (len == 7) len += in[i++];
    if (i >= n) return 0;
    size_t back = ((ctrl & 0x1f) << 8) + in[i++] + 1;
    len += 2;
    if (back > o || o + len > cap) return 0;
    for (size_t k = 0; k < len; k++, o++) out[o] = out[o - back];
  }
  return o;
}

typedef struct pcd {
  int width, height;
  float *xyz; /* [n][3], NaN where Kinect saw nothing */
  uint8_t *rgb;
} pcd;

/* An organised x y z rgba binary_compressed .pcd (fields stored one after
 * another, each 4 bytes). */
static int pcd_load(const char *path, pcd *p) {
  size_t len;
  char *buf = sb_file_read(path, &len);
  if (!buf) return sb_error("%s: cannot read", path);
  char *data = strstr(buf, "DATA binary_compressed\n");
  int rc = data && strstr(buf, "FIELDS x y z rgba") ? SB_OK : sb_error("%s: not an x y z rgba binary_compressed PCD", path);
  if (rc == SB_OK) {
    sscanf(strstr(buf, "WIDTH"), "WIDTH %d", &p->width), sscanf(strstr(buf, "HEIGHT"), "HEIGHT %d", &p->height);
    data += strlen("DATA binary_compressed\n");
    uint32_t clen, ulen;
    memcpy(&clen, data, 4), memcpy(&ulen, data + 4, 4);
    size_t n = (size_t)p->width * (size_t)p->height;
    uint8_t *raw = malloc(ulen);
    if (ulen != n * 16 || lzf_decompress((uint8_t *)data + 8, clen, raw, ulen) != ulen)
      rc = sb_error("%s: LZF data does not decompress to %zu points", path, n);
    p->xyz = malloc(n * 3 * sizeof *p->xyz), p->rgb = malloc(n * 3);
    for (size_t i = 0; rc == SB_OK && i < n; i++) {
      for (int a = 0; a < 3; a++) memcpy(&p->xyz[3 * i + a], raw + (size_t)a * n * 4 + i * 4, 4);
      uint32_t c;
      memcpy(&c, raw + 3 * n * 4 + i * 4, 4);
      p->rgb[3 * i] = (uint8_t)(c >> 16), p->rgb[3 * i + 1] = (uint8_t)(c >> 8), p->rgb[3 * i + 2] = (uint8_t)c;
    }
    free(raw);
  }
  free(buf);
  return rc;
}

/* Zeroes the depths of the largest plane's points (RANSAC, 1 cm): the
 * table, so that what stands on it comes apart in depth clustering. */
static void remove_plane(const double *xyz, float *z, int n) {
  uint64_t s = 12345;
  double best[4] = {0};
  long best_in = -1;
  for (int it = 0; it < 300; it++) {
    const double *p[3];
    for (int k = 0; k < 3;) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      int i = (int)((s >> 33) % (uint64_t)n);
      if (z[i] > 0) p[k++] = xyz + 3 * i;
    }
    double a[3], b[3], nrm[3];
    for (int j = 0; j < 3; j++) a[j] = p[1][j] - p[0][j], b[j] = p[2][j] - p[0][j];
    nrm[0] = a[1] * b[2] - a[2] * b[1], nrm[1] = a[2] * b[0] - a[0] * b[2], nrm[2] = a[0] * b[1] - a[1] * b[0];
    double l = sqrt(nrm[0] * nrm[0] + nrm[1] * nrm[1] + nrm[2] * nrm[2]);
    if (l < 1e-9) continue;
    double pl[4] = {nrm[0] / l, nrm[1] / l, nrm[2] / l, 0};
    pl[3] = -(pl[0] * p[0][0] + pl[1] * p[0][1] + pl[2] * p[0][2]);
    long in = 0;
    for (int i = 0; i < n; i += 16)
      in += z[i] > 0 && fabs(pl[0] * xyz[3 * i] + pl[1] * xyz[3 * i + 1] + pl[2] * xyz[3 * i + 2] + pl[3]) < 0.01;
    if (in > best_in) best_in = in, memcpy(best, pl, sizeof best);
  }
  for (int i = 0; i < n; i++)
    if (z[i] > 0 && fabs(best[0] * xyz[3 * i] + best[1] * xyz[3 * i + 1] + best[2] * xyz[3 * i + 2] + best[3]) < 0.01)
      z[i] = 0;
}

static int run_pcl(void) {
  const char *dir = getenv("SB_PCL_DIR");
  if (!dir || !dir[0]) {
    printf("SKIP: SB_PCL_DIR is not set; to run: apt-get download python3-pcl && dpkg-deb -x python3-pcl_*.deb DIR, "
           "then SB_PCL_DIR=DIR\n");
    return 77;
  }
  static const char *const rel[] = {
      "usr/share/doc/python3-pcl/examples/pcldata/tutorials/correspondence_grouping/milk_cartoon_all_small_clorox.pcd",
      "milk_cartoon_all_small_clorox.pcd"};
  char path[1200] = "";
  for (size_t i = 0; i < SB_ARRAY_LEN(rel) && !sb_path_exists(path); i++) snprintf(path, sizeof path, "%s/%s", dir, rel[i]);
  CHECK(sb_path_exists(path), "SB_PCL_DIR=%s holds no milk_cartoon_all_small_clorox.pcd (extract python3-pcl's .deb "
                              "there with dpkg-deb -x)", dir);
  pcd p = {0};
  if (!sb_path_exists(path)) return check_summary("spatialqa-real pcl");
  if (pcd_load(path, &p)) {
    CHECK(0, "%s", sb_error_message());
    return check_summary("spatialqa-real pcl");
  }
  int w = p.width, h = p.height;
  CHECK(w == 640 && h == 480, "PCD %dx%d, expected an organised 640x480 frame", w, h);
  float *z = calloc((size_t)(w * h), sizeof *z), *fg = calloc((size_t)(w * h), sizeof *fg);
  double *cam = calloc((size_t)(w * h) * 3, sizeof *cam);
  uint16_t *mm = calloc((size_t)(w * h), sizeof *mm), *ids = calloc((size_t)(w * h), sizeof *ids);
  sb_intrinsics k = {525, 525, 319.5, 239.5, 0.0};
  long valid = 0, far_off = 0;
  for (int i = 0; i < w * h; i++) {
    const float *f = p.xyz + 3 * i;
    double x[3] = {f[0], -f[1], -f[2]}, q[3]; /* OpenGL's frame to OpenCV's */
    if (!(isfinite(x[2]) && x[2] > 0)) continue;
    mm[i] = (uint16_t)lround(x[2] * 1000), z[i] = fg[i] = mm[i] / 1000.0f;
    memcpy(cam + 3 * i, x, sizeof x);
    sb_backproject(&k, i % w, i / w, x[2], q);
    far_off += fabs(q[0] - x[0]) > 0.002 || fabs(q[1] - x[1]) > 0.002;
    valid++;
  }
  printf("kinect frame: %ld points; %ld back-project more than 2 mm from the file's\n", valid, far_off);
  CHECK(valid > 100000 && far_off <= valid / 100, "%ld of %ld points are not where fx 525, cx 319.5 put them",
        far_off, valid);
  const char *dirs[] = {"pcl", "pcl/images", "pcl/depth", "pcl/masks"};
  for (size_t i = 0; i < SB_ARRAY_LEN(dirs); i++) mkdir(tp(dirs[i]), 0755);
  write_rgb(tp("pcl/images/milk.png"), p.rgb, w, h);
  write_png16(tp("pcl/depth/milk.png"), mm, w, h);
  remove_plane(cam, fg, w * h);
  int n = depth_clusters(fg, w, h, 0.01, 1500, 6, ids);
  printf("kinect frame: %d depth clusters off the table's plane as objects\n", n);
  CHECK(n >= 2, "%d clusters", n);
  write_png16(tp("pcl/masks/milk.png"), ids, w, h);
  run_out o = RUN(sb_datagen_spatial, "spatial", "--images", (char *)tp("pcl/images"), "--depth",
                  (char *)tp("pcl/depth"), "--masks", (char *)tp("pcl/masks"), "--intrinsics", "kinect", "-o",
                  (char *)tp("pcl/out.jsonl"));
  CHECK(o.rc == 0, "datagen on the Kinect frame: %s", o.err);
  printf("%s", o.out);
  run_free(&o);
  check_against_depth(tp("pcl/out.jsonl"), z, w, h);
  free(z), free(fg), free(cam), free(mm), free(ids), free(p.xyz), free(p.rgb);
  return check_summary("spatialqa-real pcl");
}

int main(int argc, char **argv) {
  if (argc != 2 || (strcmp(argv[1], "middlebury") && strcmp(argv[1], "pcl"))) {
    fprintf(stderr, "usage: test_sq_real middlebury|pcl\n");
    return 2;
  }
  tmp_init("sqreal");
  int rc = !strcmp(argv[1], "middlebury") ? run_middlebury() : run_pcl();
  tmp_cleanup();
  return rc;
}
