/* cmd_encode.c — `spatialboost encode`: features of images (or of a pixel
 * tensor) from an encoder plugin, written to a .safetensors file with Hugging
 * Face's output names. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model.h"
#include "recipe.h"
#include "spatialboost/spatialboost.h"
#include "util.h"

#define MAX_ARGS 256

typedef struct encode_args {
  const char *encoder, *weights, *pixels, *out, *dual;
  const char *images[MAX_ARGS];
  int n_images;
  const char *sets[MAX_ARGS];
  int n_sets;
  bool all_layers;
} encode_args;

static void help(FILE *out) {
  fprintf(out,
          "usage: spatialboost encode --encoder NAME --weights DIR (--image FILE... | --pixels FILE)\n"
          "                           -o OUT.safetensors [--all-layers] [--dual PATH] [--set KEY=VALUE]...\n\n"
          "Runs a vision encoder and writes its outputs with Hugging Face's names:\n"
          "  last_hidden_state   [B, tokens incl. CLS/registers, hidden], after the final norm\n"
          "  pooler_output       [B, hidden] (when the encoder has one)\n"
          "  hidden_states.0..L  with --all-layers (0 = embeddings, i = output of block i-1)\n\n"
          "  --encoder NAME   an encoder plugin (dinov3 finds encoder_dinov3)\n"
          "  --weights DIR    the checkpoint folder (config.json, model.safetensors, ...)\n"
          "  --image FILE     images, preprocessed as the checkpoint's preprocessor_config.json says\n"
          "  --pixels FILE    a .safetensors holding pixel_values [B, 3, H, W] float32 (NaFlex\n"
          "                   towers: pixel_values [B, N, 3*P*P], pixel_attention_mask, spatial_shapes)\n"
          "  --dual PATH      run the boosted encoder with these dual-channel weights (a file or\n"
          "                   a folder); a checkpoint that holds them (an exported boosted\n"
          "                   encoder) runs boosted without --dual\n"
          "  --set KEY=VALUE  any other encoder option, e.g. --set select_layer=-2\n");
}

static int parse(int argc, char **argv, encode_args *a) {
  memset(a, 0, sizeof *a);
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    bool has_value = i + 1 < argc;
#define TAKE(field)                                              \
  do {                                                           \
    if (!has_value) return sb_error("%s needs a value", o);     \
    a->field = argv[++i];                                        \
  } while (0)
    if (strcmp(o, "--encoder") == 0) TAKE(encoder);
    else if (strcmp(o, "--weights") == 0) TAKE(weights);
    else if (strcmp(o, "--pixels") == 0) TAKE(pixels);
    else if (strcmp(o, "-o") == 0 || strcmp(o, "--output") == 0) TAKE(out);
    else if (strcmp(o, "--dual") == 0) TAKE(dual);
    else if (strcmp(o, "--all-layers") == 0) a->all_layers = true;
    else if (strcmp(o, "--image") == 0 || strcmp(o, "--set") == 0) {
      if (!has_value) return sb_error("%s needs a value", o);
      bool img = o[2] == 'i';
      if ((img ? a->n_images : a->n_sets) == MAX_ARGS) return sb_error("too many %s options", o);
      if (img) a->images[a->n_images++] = argv[++i];
      else a->sets[a->n_sets++] = argv[++i];
      /* more images may follow one --image */
      while (img && i + 1 < argc && argv[i + 1][0] != '-' && a->n_images < MAX_ARGS) a->images[a->n_images++] = argv[++i];
    } else return sb_error("unknown argument '%s' (see --help)", o);
#undef TAKE
  }
  if (!a->encoder || !a->weights || !a->out) return sb_error("--encoder, --weights and -o are required (see --help)");
  if (!a->pixels == !a->n_images) return sb_error("give either --image files or --pixels, not %s", a->pixels ? "both" : "neither");
  return SB_OK;
}

/* The encoder's recipe block, from the command line. */
static sb_recipe *encoder_recipe(const encode_args *a) {
  const char *sets[MAX_ARGS + 8];
  char *own[8] = {0};
  size_t n = 0, k = 0;
  own[k++] = sb_asprintf("model.encoder.plugin=%s", a->encoder);
  own[k++] = sb_asprintf("model.encoder.weights=%s", a->weights);
  if (!a->dual && sb_weights_hold_dual(a->weights)) own[k++] = sb_strdup("model.encoder.dual_attention.enabled=true");
  if (a->dual) {
    own[k++] = sb_strdup("model.encoder.dual_attention.enabled=true");
    own[k++] = sb_asprintf("model.encoder.dual_attention.weights=%s", a->dual);
  }
  for (size_t i = 0; i < k; i++) sets[n++] = own[i];
  char *user[MAX_ARGS] = {0};
  for (int i = 0; i < a->n_sets; i++) sets[n++] = user[i] = sb_asprintf("model.encoder.%s", a->sets[i]);
  sb_recipe *r = sb_recipe_from_overrides("<command line>", sets, n);
  for (size_t i = 0; i < k; i++) free(own[i]);
  for (int i = 0; i < a->n_sets; i++) free(user[i]);
  return r;
}

static int load_input(const encode_args *a, const sb_component *enc, sb_encoder_input *in) {
  memset(in, 0, sizeof *in);
  in->struct_size = sizeof *in;
  if (a->pixels) {
    sb_safetensors *f = sb_safetensors_open(a->pixels);
    if (!f) return SB_ERR;
    in->pixel_values = sb_safetensors_load(f, "pixel_values", SB_DTYPE_F32);
    if (sb_safetensors_find(f, "pixel_attention_mask"))
      in->pixel_attention_mask = sb_safetensors_load(f, "pixel_attention_mask", SB_DTYPE_I64);
    if (sb_safetensors_find(f, "spatial_shapes"))
      in->spatial_shapes = sb_safetensors_load(f, "spatial_shapes", SB_DTYPE_I64);
    sb_safetensors_close(f);
    return in->pixel_values ? SB_OK : SB_ERR;
  }
  sb_image *imgs = sb_calloc((size_t)a->n_images, sizeof *imgs);
  int rc = imgs ? SB_OK : SB_ERR_NOMEM;
  for (int i = 0; i < a->n_images && rc == SB_OK; i++) rc = sb_image_load(a->images[i], &imgs[i]);
  const sb_encoder_vtable *vt = enc->vtable;
  if (rc == SB_OK) rc = vt->preprocess(enc->self, imgs, a->n_images, in);
  for (int i = 0; imgs && i < a->n_images; i++) sb_image_free(&imgs[i]);
  free(imgs);
  return rc;
}

static int write_outputs(const encode_args *a, const sb_encoder_output *o) {
  sb_st_writer *w = sb_st_writer_new();
  int rc = w ? sb_st_writer_add_tensor(w, "last_hidden_state", o->last_hidden_state) : SB_ERR_NOMEM;
  if (rc == SB_OK && o->pooled) rc = sb_st_writer_add_tensor(w, "pooler_output", o->pooled);
  for (int i = 0; rc == SB_OK && i < o->n_hidden_states; i++) {
    char name[64];
    snprintf(name, sizeof name, "hidden_states.%d", i);
    rc = sb_st_writer_add_tensor(w, name, o->hidden_states[i]);
  }
  if (rc == SB_OK) rc = sb_st_writer_set_metadata(w, "encoder", a->encoder);
  if (rc == SB_OK) rc = sb_st_writer_set_metadata(w, "weights", a->weights);
  if (rc == SB_OK) rc = sb_st_writer_write(w, a->out);
  sb_st_writer_free(w);
  return rc;
}

static int encode(const encode_args *a) {
  sb_recipe *r = encoder_recipe(a);
  if (!r) return SB_ERR;
  sb_model m;
  memset(&m, 0, sizeof m);
  int rc = sb_model_build(&m, sb_recipe_root(r), 0, SB_MODEL_CREATE);
  if (rc == SB_OK) rc = sb_recipe_check_unused(r);
  sb_scope_begin();
  sb_grad_push(false);
  sb_encoder_input in;
  if (rc == SB_OK) rc = load_input(a, &m.encoder, &in);
  sb_encoder_info info = {.struct_size = sizeof info};
  const sb_encoder_vtable *vt = m.encoder.vtable;
  if (rc == SB_OK) rc = vt->describe(m.encoder.self, &info);
  sb_tensor **hs = NULL;
  sb_encoder_output o = {.struct_size = sizeof o};
  if (rc == SB_OK && a->all_layers) {
    if (!(hs = sb_calloc((size_t)info.num_layers + 1, sizeof *hs))) rc = SB_ERR_NOMEM;
    o.hidden_states = hs, o.max_hidden_states = (int)info.num_layers + 1;
  }
  unsigned flags = SB_ENCODER_POOLED | (a->all_layers ? SB_ENCODER_HIDDEN_STATES : 0);
  if (rc == SB_OK && (rc = vt->forward(m.encoder.self, &in, flags, &o))) sb_error_prefix("%s", m.encoder.desc->name);
  if (rc == SB_OK) rc = write_outputs(a, &o);
  if (rc == SB_OK) {
    char s[64];
    printf("%s: last_hidden_state %s%s -> %s\n", m.encoder.desc->name, sb_tensor_shape_str(o.last_hidden_state, s, 64),
           a->all_layers ? " and every hidden state" : "", a->out);
  }
  free(hs);
  sb_grad_pop();
  sb_scope_end();
  sb_model_free(&m);
  sb_recipe_free(r);
  return rc;
}

static int run(int argc, char **argv) {
  encode_args a;
  if (parse(argc, argv, &a)) return sb_cli_fail("encode"), 2;
  return encode(&a) ? sb_cli_fail("encode") : 0;
}

const sb_command sb_cmd_encode = {"encode", "features of images from an encoder, written to .safetensors", run, help};
