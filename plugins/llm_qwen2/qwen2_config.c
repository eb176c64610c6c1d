/* qwen2_config.c — reading a Hugging Face Qwen2 / Qwen2.5 config.json
 * (MODELS.md C.1): every key the model depends on, with the class default
 * when the file omits it, and an error naming the file, the key and the
 * value for anything this plugin does not implement (another activation,
 * sliding-window layers, RoPE scaling, quantised weights, ...). Keys that
 * do not change the computation (torch_dtype, use_cache, bos_token_id, ...)
 * are not read. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "qwen2.h"

/* ---- messages ---- */

/* obj[key] as short text for messages: "gelu", 3, 1e-06, true, null, a
 * list, or an object's scalar members {type: "yarn", factor: 4}. */
static const char *value_text(const sb_json *obj, const char *key, char *buf, size_t n) {
  const sb_json *v = sb_json_get(obj, key);
  int64_t i;
  double f;
  bool b;
  switch (v ? sb_json_typeof(v) : SB_JSON_NULL) {
  case SB_JSON_NULL: snprintf(buf, n, "null"); break;
  case SB_JSON_BOOL: sb_json_get_bool(obj, key, false, &b), snprintf(buf, n, "%s", b ? "true" : "false"); break;
  case SB_JSON_INT: sb_json_int(v, &i), snprintf(buf, n, "%lld", (long long)i); break;
  case SB_JSON_FLOAT: sb_json_float(v, &f), snprintf(buf, n, "%g", f); break;
  case SB_JSON_STRING: snprintf(buf, n, "\"%s\"", sb_json_string(v)); break;
  case SB_JSON_ARRAY: snprintf(buf, n, "a list of %zu values", sb_json_array_size(v)); break;
  case SB_JSON_OBJECT: {
    size_t used = (size_t)snprintf(buf, n, "{");
    for (size_t k = 0; k < sb_json_object_size(v) && used < n; k++) {
      char item[96];
      const char *name = sb_json_object_key(v, k);
      sb_json_type t = sb_json_typeof(sb_json_object_value(v, k));
      if (t == SB_JSON_ARRAY || t == SB_JSON_OBJECT) snprintf(item, sizeof item, "...");
      else value_text(v, name, item, sizeof item);
      used += (size_t)snprintf(buf + used, n - used, "%s%s: %s", k ? ", " : "", name, item);
    }
    if (used < n) snprintf(buf + used, n - used, "}");
    break;
  }
  }
  return buf;
}

/* Records "<file>: '<key>' is <value>: <why>" and returns SB_ERR_UNSUPPORTED. */
static int unsupported(const sb_json *obj, const char *key, const char *fmt, ...) SB_PRINTF(3, 4);
static int unsupported(const sb_json *obj, const char *key, const char *fmt, ...) {
  char value[256], why[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return sb_error_set(SB_ERR_UNSUPPORTED, "%s: '%s' is %s: %s", sb_json_source(obj), key,
                      value_text(obj, key, value, sizeof value), why);
}

static bool present(const sb_json *obj, const char *key) {
  const sb_json *v = sb_json_get(obj, key);
  return v && sb_json_typeof(v) != SB_JSON_NULL;
}

/* ---- sizes ---- */

/* An integer member > 0 (def when absent). */
static int positive_int(const sb_json *root, const char *key, int64_t def, int64_t *out) {
  if (sb_json_get_int(root, key, def, out)) return SB_ERR_FORMAT;
  if (*out <= 0) return unsupported(root, key, "expected a positive integer");
  return SB_OK;
}

static int read_sizes(const sb_json *root, qwen2_config *c) {
  if (positive_int(root, "vocab_size", 151936, &c->vocab_size) ||
      positive_int(root, "hidden_size", 4096, &c->hidden_size) ||
      positive_int(root, "intermediate_size", 22016, &c->intermediate_size) ||
      positive_int(root, "num_hidden_layers", 32, &c->num_layers) ||
      positive_int(root, "num_attention_heads", 32, &c->num_heads) ||
      positive_int(root, "num_key_value_heads", c->num_heads, &c->num_kv_heads) ||
      positive_int(root, "max_position_embeddings", 32768, &c->max_positions))
    return SB_ERR_FORMAT;
  if (c->num_heads % c->num_kv_heads)
    return unsupported(root, "num_key_value_heads", "must divide num_attention_heads (%lld)",
                       (long long)c->num_heads);
  /* Qwen2 has no head_dim key (hd = D / H); the modeling code reads one when a
   * config carries it, and so do we. */
  if (present(root, "head_dim")) {
    if (positive_int(root, "head_dim", 0, &c->head_dim)) return SB_ERR_FORMAT;
  } else {
    if (c->hidden_size % c->num_heads)
      return unsupported(root, "hidden_size", "not a multiple of num_attention_heads (%lld)",
                         (long long)c->num_heads);
    c->head_dim = c->hidden_size / c->num_heads;
  }
  if (c->head_dim % 2)
    return sb_error_set(SB_ERR_UNSUPPORTED, "%s: head_dim %lld is odd; rotary embeddings need an even one",
                        sb_json_source(root), (long long)c->head_dim);
  return SB_OK;
}

/* ---- architecture switches this plugin does not implement ---- */

static int check_string(const sb_json *root, const char *key, const char *want, const char *why) {
  const char *s;
  if (sb_json_get_string(root, key, want, &s)) return SB_ERR_FORMAT;
  return strcmp(s, want) == 0 ? SB_OK : unsupported(root, key, "%s", why);
}

static int check_layers(const sb_json *root, const qwen2_config *c) {
  bool sliding, bias;
  if (sb_json_get_bool(root, "use_sliding_window", false, &sliding)) return SB_ERR_FORMAT;
  if (sliding)
    return unsupported(root, "use_sliding_window",
                       "sliding-window attention is not implemented (every layer is full causal attention)");
  /* Newer configs list each layer's kind. */
  const sb_json *types = sb_json_get(root, "layer_types");
  if (types && sb_json_typeof(types) != SB_JSON_NULL) {
    if (sb_json_typeof(types) != SB_JSON_ARRAY || (int64_t)sb_json_array_size(types) != c->num_layers)
      return unsupported(root, "layer_types", "expected a list of %lld layer kinds", (long long)c->num_layers);
    for (size_t i = 0; i < sb_json_array_size(types); i++) {
      const char *t = sb_json_string(sb_json_array_at(types, i));
      if (!t || strcmp(t, "full_attention") != 0)
        return sb_error_set(SB_ERR_UNSUPPORTED, "%s: 'layer_types'[%zu] is \"%s\": only \"full_attention\" "
                            "layers are implemented", sb_json_source(root), i, t ? t : "(not a string)");
    }
  }
  /* Qwen2 always has q/k/v biases and no o_proj bias; a config saying
   * otherwise describes another architecture. */
  if (sb_json_get_bool(root, "attention_bias", true, &bias)) return SB_ERR_FORMAT;
  if (!bias)
    return unsupported(root, "attention_bias", "Qwen2 attention has q/k/v biases; a model without them is "
                       "not a Qwen2 checkpoint this plugin can load");
  double dropout;
  if (sb_json_get_float(root, "attention_dropout", 0.0, &dropout)) return SB_ERR_FORMAT;
  if (dropout != 0.0) return unsupported(root, "attention_dropout", "attention dropout is not implemented");
  if (present(root, "quantization_config"))
    return unsupported(root, "quantization_config", "quantised checkpoints are not supported; use the "
                       "bf16/f16/f32 weights");
  return SB_OK;
}

static int check_kind(const sb_json *root) {
  int rc = check_string(root, "model_type", "qwen2", "llm_qwen2 reads Qwen2 / Qwen2.5 models (model_type \"qwen2\")");
  if (rc == SB_OK)
    rc = check_string(root, "hidden_act", "silu", "Qwen2's MLP is SwiGLU with silu; other activations are not "
                      "implemented");
  return rc;
}

/* ---- RoPE ---- */

/* rope_theta: top level (hub files) or inside rope_parameters (newer
 * transformers); both present must agree. rope_scaling must be null. */
static int read_rope(const sb_json *root, qwen2_config *c) {
  if (present(root, "rope_scaling"))
    return unsupported(root, "rope_scaling", "RoPE scaling is not supported (only the default rotary "
                       "embedding; set it to null)");
  double top = 0, inner = 0;
  bool has_top = present(root, "rope_theta"), has_inner = present(root, "rope_parameters.rope_theta");
  if (sb_json_get_float(root, "rope_theta", 10000.0, &top) ||
      sb_json_get_float(root, "rope_parameters.rope_theta", top, &inner))
    return SB_ERR_FORMAT;
  if (has_top && has_inner && top != inner)
    return unsupported(root, "rope_parameters", "its rope_theta differs from the top-level rope_theta %g", top);
  if (present(root, "rope_parameters") &&
      check_string(root, "rope_parameters.rope_type", "default", "only the default rotary embedding is "
                   "supported"))
    return SB_ERR_UNSUPPORTED;
  c->rope_theta = has_inner ? inner : top;
  if (!(c->rope_theta > 0))
    return unsupported(root, has_inner ? "rope_parameters.rope_theta" : "rope_theta", "expected a positive number");
  return SB_OK;
}

/* ---- numbers and special tokens ---- */

static int read_numbers(const sb_json *root, qwen2_config *c) {
  if (sb_json_get_float(root, "rms_norm_eps", 1e-6, &c->rms_norm_eps) ||
      sb_json_get_float(root, "initializer_range", 0.02, &c->initializer_range) ||
      sb_json_get_bool(root, "tie_word_embeddings", false, &c->tie_word_embeddings))
    return SB_ERR_FORMAT;
  if (!(c->rms_norm_eps > 0)) return unsupported(root, "rms_norm_eps", "expected a positive number");
  if (!(c->initializer_range >= 0)) return unsupported(root, "initializer_range", "expected a number >= 0");
  return SB_OK;
}

/* eos_token_id: an int, a list of ints, or absent/null; pad_token_id: an
 * int or absent/null. Both must be token ids of the vocabulary. */
static int read_tokens(const sb_json *root, qwen2_config *c) {
  const sb_json *eos = sb_json_get(root, "eos_token_id");
  c->n_eos_token_ids = 0;
  if (eos && sb_json_typeof(eos) == SB_JSON_ARRAY) {
    if (sb_json_array_size(eos) > QWEN2_MAX_EOS)
      return unsupported(root, "eos_token_id", "at most %d end-of-sequence ids are supported", QWEN2_MAX_EOS);
    for (size_t i = 0; i < sb_json_array_size(eos); i++)
      if (sb_json_int(sb_json_array_at(eos, i), &c->eos_token_ids[c->n_eos_token_ids++]))
        return unsupported(root, "eos_token_id", "expected an integer or a list of integers");
  } else if (present(root, "eos_token_id")) {
    if (sb_json_get_int(root, "eos_token_id", 0, &c->eos_token_ids[0])) return SB_ERR_FORMAT;
    c->n_eos_token_ids = 1;
  }
  for (int i = 0; i < c->n_eos_token_ids; i++)
    if (c->eos_token_ids[i] < 0 || c->eos_token_ids[i] >= c->vocab_size)
      return unsupported(root, "eos_token_id", "outside the vocabulary [0, %lld)", (long long)c->vocab_size);
  if (sb_json_get_int(root, "pad_token_id", -1, &c->pad_token_id)) return SB_ERR_FORMAT;
  if (present(root, "pad_token_id") && (c->pad_token_id < 0 || c->pad_token_id >= c->vocab_size))
    return unsupported(root, "pad_token_id", "outside the vocabulary [0, %lld)", (long long)c->vocab_size);
  return SB_OK;
}

int qwen2_config_read(const char *dir, qwen2_config *cfg) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/config.json", dir) >= (int)sizeof path)
    return sb_error("llm_qwen2: path too long: %s", dir);
  sb_json_doc *doc = sb_json_load(path);
  if (!doc) return sb_error_code() ? sb_error_code() : SB_ERR;
  const sb_json *root = sb_json_root(doc);
  memset(cfg, 0, sizeof *cfg);
  int rc = SB_OK;
  if (sb_json_typeof(root) != SB_JSON_OBJECT)
    rc = sb_error_set(SB_ERR_FORMAT, "%s: expected a JSON object", path);
  if (rc == SB_OK) rc = check_kind(root);
  if (rc == SB_OK) rc = read_sizes(root, cfg);
  if (rc == SB_OK) rc = check_layers(root, cfg);
  if (rc == SB_OK) rc = read_rope(root, cfg);
  if (rc == SB_OK) rc = read_numbers(root, cfg);
  if (rc == SB_OK) rc = read_tokens(root, cfg);
  sb_json_free(doc);
  return rc;
}
