/* st_merge.c — a test tool: writes the tensors of several .safetensors files
 * into one (e.g. a base checkpoint plus dual-channel weights, as an exported
 * boosted encoder holds them). usage: st_merge OUT IN... */
#include <stdio.h>

#include "spatialboost/spatialboost.h"

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: st_merge OUT IN...\n");
    return 2;
  }
  sb_st_writer *w = sb_st_writer_new();
  int rc = w ? SB_OK : SB_ERR;
  for (int i = 2; i < argc && rc == SB_OK; i++) {
    sb_safetensors *f = sb_safetensors_open(argv[i]);
    if (!f) rc = SB_ERR;
    for (size_t k = 0; f && k < sb_safetensors_count(f) && rc == SB_OK; k++) {
      const sb_st_tensor *t = sb_safetensors_at(f, k);
      rc = sb_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data);
    }
    sb_safetensors_close(f);
  }
  if (rc == SB_OK) rc = sb_st_writer_write(w, argv[1]);
  sb_st_writer_free(w);
  if (rc) fprintf(stderr, "st_merge: %s\n", sb_error_message());
  return rc ? 1 : 0;
}
