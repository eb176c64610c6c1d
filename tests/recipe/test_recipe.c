/* test_recipe.c — recipes and config handles (core/recipe): getters and
 * types, schemas and defaults, include chains, overrides, interpolation,
 * YAML errors with file:line:col, unused keys, pipelines, YAML round trips.
 * Runs in tests/recipe (the YAML files are in data/). Exits non-zero when any
 * check fails, after printing each failed check. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recipe.h"
#include "recipe_impl.h"
#include "spatialboost/error.h"

static int g_checks, g_failed;

static void fail(int line, const char *fmt, ...) SB_PRINTF(2, 3);
static void fail(int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "test_recipe.c:%d: FAILED: ", line);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  g_failed++;
}

#define CHECK(cond) check_true(__LINE__, (cond), #cond)
static void check_true(int line, bool ok, const char *what) {
  g_checks++;
  if (!ok) fail(line, "%s", what);
}

/* `failed` must hold and the error message must contain every needle. */
#define CHECK_ERR(failed, ...) \
  check_error(__LINE__, (failed), #failed, (const char *const[]){__VA_ARGS__, NULL})
static void check_error(int line, bool failed, const char *what, const char *const *needles) {
  g_checks++;
  if (!failed) {
    fail(line, "%s: expected an error (last message: \"%s\")", what, sb_error_message());
    return;
  }
  for (; *needles; needles++)
    if (!strstr(sb_error_message(), *needles)) {
      fail(line, "%s: message lacks \"%s\"; it was:\n    %s", what, *needles, sb_error_message());
      return;
    }
}

#define CHECK_MSG_EQ(want) check_msg_eq(__LINE__, want)
static void check_msg_eq(int line, const char *want) {
  g_checks++;
  if (strcmp(sb_error_message(), want) != 0)
    fail(line, "message is:\n%s\n--- expected:\n%s", sb_error_message(), want);
}

#define CHECK_INT(c, key, want) check_int(__LINE__, c, key, want)
static void check_int(int line, const sb_config *c, const char *key, int64_t want) {
  int64_t v = 0;
  g_checks++;
  int rc = sb_config_get_int(c, key, &v);
  if (rc || v != want)
    fail(line, "get_int(%s) = %lld (rc %d: %s), want %lld", key, (long long)v, rc,
         rc ? sb_error_message() : "", (long long)want);
}

#define CHECK_FLOAT(c, key, want) check_float(__LINE__, c, key, want)
static void check_float(int line, const sb_config *c, const char *key, double want) {
  double v = 0;
  g_checks++;
  int rc = sb_config_get_float(c, key, &v);
  bool same = isnan(want) ? isnan(v) : v == want;
  if (rc || !same)
    fail(line, "get_float(%s) = %g (rc %d: %s), want %g", key, v, rc, rc ? sb_error_message() : "", want);
}

#define CHECK_BOOL(c, key, want) check_bool(__LINE__, c, key, want)
static void check_bool(int line, const sb_config *c, const char *key, bool want) {
  bool v = !want;
  g_checks++;
  int rc = sb_config_get_bool(c, key, &v);
  if (rc || v != want)
    fail(line, "get_bool(%s) = %d (rc %d: %s), want %d", key, v, rc, rc ? sb_error_message() : "", want);
}

#define CHECK_STR(c, key, want) check_str(__LINE__, c, key, want, false)
#define CHECK_PATH(c, key, want) check_str(__LINE__, c, key, want, true)
static void check_str(int line, const sb_config *c, const char *key, const char *want, bool path) {
  const char *v = NULL;
  g_checks++;
  int rc = path ? sb_config_get_path(c, key, &v) : sb_config_get_string(c, key, &v);
  if (rc || !v || strcmp(v, want) != 0)
    fail(line, "get_%s(%s) = \"%s\" (rc %d: %s), want \"%s\"", path ? "path" : "string", key,
         v ? v : "(null)", rc, rc ? sb_error_message() : "", want);
}

static sb_recipe *load(int line, const char *path, const char *const *ov, size_t n) {
  sb_recipe *r = sb_recipe_load(path, ov, n);
  if (!r) fail(line, "loading %s: %s", path, sb_error_message());
  return r;
}
#define LOAD(path) load(__LINE__, path, NULL, 0)
#define LOAD_SET(path, ov) load(__LINE__, path, ov, SB_ARRAY_LEN(ov))

/* Loading must fail with a message containing every needle. */
#define CHECK_LOAD_FAILS(path, ov, n, ...) \
  check_load_fails(__LINE__, path, ov, n, (const char *const[]){__VA_ARGS__, NULL})
static void check_load_fails(int line, const char *path, const char *const *ov, size_t n,
                             const char *const *needles) {
  sb_recipe *r = sb_recipe_load(path, ov, n);
  check_error(line, r == NULL, path, needles);
  sb_recipe_free(r);
}

static const sb_config *map_at(const sb_recipe *r, const char *key) {
  const sb_config *c = sb_config_get_map(sb_recipe_root(r), key);
  if (!c) fprintf(stderr, "no mapping '%s': %s\n", key, sb_error_message());
  return c;
}

/* ---- getters and types -------------------------------------------------- */

static void test_getters(void) {
  sb_recipe *r = LOAD("data/types.yaml");
  if (!r) return;
  const sb_config *m = map_at(r, "model");
  if (!m) {
    sb_recipe_free(r);
    return;
  }
  CHECK_STR(m, "name", "tiny");
  CHECK_INT(m, "layers", 12);
  CHECK_INT(m, "neg", -2);
  CHECK_FLOAT(m, "lr", 1e-3);
  CHECK_FLOAT(m, "scale", 2.0); /* get_float accepts ints */
  CHECK_FLOAT(m, "half", 0.5);
  CHECK_FLOAT(m, "inf", INFINITY);
  CHECK_FLOAT(m, "ninf", -INFINITY);
  CHECK_FLOAT(m, "nan", NAN);
  CHECK_BOOL(m, "enabled", true);
  CHECK_STR(m, "quoted_int", "123");
  CHECK_STR(m, "layers", "12"); /* get_string accepts any scalar */
  CHECK_STR(m, "nothing", "");
  CHECK_STR(m, "empty", "");
  CHECK_STR(m, "tagged", "42");
  CHECK_PATH(m, "weights", "data/weights/model.safetensors");
  CHECK_PATH(m, "abs", "/abs/path");
  CHECK_PATH(m, "nothing", "");
  CHECK_FLOAT(m, "dual_attention.mix", 0.5); /* dotted keys */
  CHECK_INT(m, "dual_attention.heads", 4);
  CHECK(sb_config_has(m, "dual_attention.mix"));
  CHECK(!sb_config_has(m, "dual_attention.nope"));
  CHECK(!sb_config_has(m, "name.x"));

  int64_t i;
  double f;
  bool b;
  const char *s;
  CHECK_ERR(sb_config_get_int(m, "bad_int", &i),
            "data/types.yaml:28:12: model.bad_int: expected an integer, got \"abc\"");
  CHECK_ERR(sb_config_get_int(m, "frac", &i),
            "data/types.yaml:29:9: model.frac: expected an integer, got \"1.5\"");
  CHECK_ERR(sb_config_get_int(m, "big", &i), "data/types.yaml:7:8: model.big: expected an integer");
  CHECK_ERR(sb_config_get_int(m, "quoted_int", &i),
            "data/types.yaml:10:15: model.quoted_int: expected an integer, got \"123\"");
  CHECK_ERR(sb_config_get_float(m, "name", &f), "data/types.yaml:3:9: model.name: expected a number");
  CHECK_ERR(sb_config_get_bool(m, "legacy", &b),
            "data/types.yaml:9:11: model.legacy: expected true or false, got \"yes\"",
            "only true and false");
  CHECK_ERR(sb_config_get_bool(m, "layers", &b), "model.layers: expected true or false, got \"12\"");
  CHECK_ERR(sb_config_get_string(m, "dual_attention", &s),
            "data/types.yaml:17:5: model.dual_attention: expected a string, got a mapping");
  CHECK_ERR(sb_config_get_string(m, "sizes", &s), "model.sizes: expected a string, got a list");
  CHECK_ERR(sb_config_get_float(m, "name.x", &f),
            "data/types.yaml:3:9: model.name: expected a mapping, got \"tiny\"");
  CHECK_ERR(sb_config_get_int(m, "nope", &i) == SB_ERR_NOT_FOUND,
            "data/types.yaml:2:1: model: missing key 'nope'");

  int e = -1;
  CHECK(sb_config_get_enum(m, "mode", (const char *const[]){"slow", "fast", NULL}, &e) == SB_OK && e == 1);
  CHECK_ERR(sb_config_get_enum(m, "mode", (const char *const[]){"slow", "faster", NULL}, &e),
            "data/types.yaml:13:9: model.mode: expected one of slow|faster, got \"fast\"",
            "did you mean 'faster'?");

  /* Lists. */
  size_t n = 0;
  CHECK(sb_config_list_length(m, "sizes", &n) == SB_OK && n == 3);
  CHECK(sb_config_list_float(m, "sizes", 0, &f) == SB_OK && f == 1.0);
  CHECK(sb_config_list_float(m, "sizes", 1, &f) == SB_OK && f == 2.5);
  CHECK(sb_config_list_string(m, "names", 1, &s) == SB_OK && !strcmp(s, "b"));
  CHECK_ERR(sb_config_list_float(m, "names", 0, &f),
            "data/types.yaml:20:11: model.names.0: expected a number, got \"a\"");
  CHECK_ERR(sb_config_list_string(m, "names", 5, &s), "model.names: item 5 asked for, but the list has 2");
  CHECK_ERR(sb_config_list_length(m, "name", &n), "model.name: expected a list, got \"tiny\"");
  CHECK(sb_config_list_length(m, "blocks", &n) == SB_OK && n == 2);
  const sb_config *blk = sb_config_list_map(m, "blocks", 1);
  CHECK(blk != NULL);
  if (blk) {
    CHECK_STR(blk, "kind", "mlp");
    CHECK_INT(blk, "dim", 128);
    CHECK(!strcmp(sb_config_path(blk), "model.blocks.1"));
  }
  CHECK_ERR(sb_config_list_map(m, "sizes", 0) == NULL, "model.sizes.0: expected a mapping");

  /* Mappings, paths, locations, errors. */
  const sb_config *dual = sb_config_get_map(m, "dual_attention");
  CHECK(dual && !strcmp(sb_config_path(dual), "model.dual_attention"));
  if (dual) CHECK_FLOAT(dual, "mix", 0.5);
  CHECK(sb_config_get_map(m, "absent") == NULL);
  CHECK(sb_config_get_map(m, "name") == NULL);
  CHECK(!strcmp(sb_config_where(m, "layers"), "data/types.yaml:4:3"));
  CHECK(!strcmp(sb_config_where(m, NULL), "data/types.yaml:2:1"));
  CHECK(!strcmp(sb_config_path(m), "model"));
  CHECK(!strcmp(sb_config_path(sb_recipe_root(r)), ""));
  CHECK_ERR(sb_config_error(m, "layers", "must be even, got %d", 13) == SB_ERR,
            "data/types.yaml:4:11: model.layers: must be even, got 13");
  sb_recipe_free(r);
}

/* ---- schemas ------------------------------------------------------------ */

static const sb_option toy_schema[] = {
    {"select_layer", SB_OPTION_INT, "-1", "which layer to take", NULL},
    {"layers", SB_OPTION_INT, "6", "number of layers", NULL},
    {"hidden", SB_OPTION_INT, "256", "hidden size", NULL},
    {"dropout", SB_OPTION_FLOAT, "0.1", "dropout", NULL},
    {"act", SB_OPTION_ENUM, "gelu", "activation", "gelu|relu|silu"},
    {"name", SB_OPTION_STRING, "toy", "display name", NULL},
    {"weights", SB_OPTION_PATH, "\"\"", "weights file", NULL},
    {"checkpoint", SB_OPTION_PATH, NULL, "the weights to start from", NULL},
    {"dual_attention.mix", SB_OPTION_FLOAT, "0.25", "mix", NULL},
    {"dual_attention.gate", SB_OPTION_BOOL, "false", "gate", NULL},
    {"tags", SB_OPTION_LIST, "[x, y]", "tags", NULL},
    {"extra", SB_OPTION_MAP, "{}", "anything", NULL},
    {"bad_default", SB_OPTION_INT, "abc", "a broken default", NULL},
    {"norm", SB_OPTION_ENUM, "rms", "normalisation", "layer|rms"},
};

static void test_schema(void) {
  sb_recipe *r = LOAD("data/schema.yaml");
  const sb_config *raw = r ? map_at(r, "encoder") : NULL;
  if (!raw) {
    sb_recipe_free(r);
    return;
  }
  sb_config_mark_used(raw, "plugin");
  CHECK_ERR(sb_config_validate(raw, "toy", toy_schema, SB_ARRAY_LEN(toy_schema)),
            "data/schema.yaml:4:3: unknown key 'encoder.selct_layer' for toy (did you mean 'select_layer'?)");
  CHECK(!strstr(sb_error_message(), "plugin"));
  const sb_config *c = sb_config_bind(raw, "toy", toy_schema, SB_ARRAY_LEN(toy_schema));
  CHECK_INT(c, "select_layer", -1); /* default: the file has a typo */
  CHECK_INT(c, "layers", 4);
  CHECK_INT(c, "hidden", 256);
  CHECK_FLOAT(c, "dropout", 0.1);
  CHECK_STR(c, "name", "toy");
  CHECK_PATH(c, "weights", "");
  int e = -1;
  CHECK(sb_config_get_enum(c, "act", (const char *const[]){"gelu", "relu", "silu", NULL}, &e) == SB_OK &&
        e == 1);
  CHECK(sb_config_get_enum(c, "norm", (const char *const[]){"layer", "rms", NULL}, &e) == SB_OK && e == 1);
  CHECK_FLOAT(c, "dual_attention.mix", 0.75);
  CHECK_BOOL(c, "dual_attention.gate", false);
  size_t n = 0;
  const char *s = NULL;
  CHECK(sb_config_list_length(c, "tags", &n) == SB_OK && n == 2);
  CHECK(sb_config_list_string(c, "tags", 1, &s) == SB_OK && s && !strcmp(s, "y"));

  int64_t i;
  const char *p;
  CHECK_ERR(sb_config_get_path(c, "checkpoint", &p),
            "data/schema.yaml:2:1: encoder: missing required key 'checkpoint' (the weights to start from)");
  CHECK_ERR(sb_config_get_int(c, "foo", &i),
            "toy: reads option 'foo' that its option schema does not declare (a bug in toy)");
  CHECK_ERR(sb_config_get_int(c, "bad_default", &i),
            "toy: the default of option 'bad_default' is \"abc\", not an integer (a bug in toy)");

  const sb_config *dual = sb_config_get_map(c, "dual_attention");
  CHECK(dual != NULL);
  if (dual) {
    CHECK_FLOAT(dual, "mix", 0.75);
    CHECK_BOOL(dual, "gate", false);
    CHECK_ERR(sb_config_get_int(dual, "heads", &i), "reads option 'dual_attention.heads'");
  }
  const sb_config *extra = sb_config_get_map(c, "extra"); /* SB_OPTION_MAP: anything goes */
  CHECK(extra != NULL);
  if (extra) CHECK_INT(extra, "anything", 1);
  CHECK_ERR(sb_config_get_map(c, "nomap") == NULL, "reads option 'nomap'");

  CHECK_ERR(sb_recipe_check_unused(r),
            "data/schema.yaml:4:3: unknown key 'encoder.selct_layer' (not read by anything; did you mean "
            "'select_layer'?)");
  sb_recipe_free(r);

  /* Wrong types, bad enum values, unknown keys: all in one message. */
  r = LOAD("data/schema_bad.yaml");
  raw = r ? map_at(r, "encoder") : NULL;
  if (raw) {
    CHECK_ERR(sb_config_validate(raw, "toy", toy_schema, SB_ARRAY_LEN(toy_schema)),
              "data/schema_bad.yaml:2:11: encoder.layers: expected an integer, got \"four\"\n",
              "data/schema_bad.yaml:3:8: encoder.act: expected one of gelu|relu|silu, got \"relux\" "
              "(did you mean 'relu'?)\n",
              "data/schema_bad.yaml:4:19: encoder.dual_attention: expected a mapping, got \"3\"\n",
              "data/schema_bad.yaml:5:3: unknown key 'encoder.lyers' for toy (did you mean 'layers'?)");
    CHECK(!strstr(sb_error_message(), "extra"));
  }
  sb_recipe_free(r);
}

/* ---- include chains and overrides --------------------------------------- */

static void read_inc_top(const sb_recipe *r) {
  const sb_config *root = sb_recipe_root(r);
  CHECK_STR(root, "model.name", "top");
  CHECK_INT(root, "model.encoder.layers", 24);
  CHECK_INT(root, "model.encoder.dim", 768);
  CHECK_INT(root, "model.encoder.select_layer", -1);
  size_t n = 0;
  const char *s = NULL;
  CHECK(sb_config_list_length(root, "model.encoder.tags", &n) == SB_OK && n == 1);
  CHECK(sb_config_list_string(root, "model.encoder.tags", 0, &s) == SB_OK && !strcmp(s, "x"));
  CHECK_FLOAT(root, "train.lr", 3e-4);
  CHECK_INT(root, "train.steps", 2000);
  CHECK_PATH(root, "data.root", "data/base_data"); /* relative to inc_base.yaml */
}

static void test_include(void) {
  sb_recipe *r = LOAD("data/sub/inc_top.yaml");
  if (r) {
    read_inc_top(r);
    const sb_config *root = sb_recipe_root(r);
    CHECK(!strcmp(sb_config_where(root, "model.encoder.layers"), "data/inc_mid.yaml:4:5"));
    CHECK(!strcmp(sb_config_where(root, "model.encoder.dim"), "data/inc_base.yaml:6:5"));
    CHECK(!strcmp(sb_config_where(root, "model.name"), "data/sub/inc_top.yaml:3:3"));
    CHECK(!sb_config_has(root, "include"));
    CHECK(sb_recipe_check_unused(r) == SB_OK); /* include: counts as read */
    sb_recipe_free(r);
  }
  r = LOAD("data/inc_list.yaml");
  if (r) {
    CHECK_FLOAT(sb_recipe_root(r), "train.lr", 5e-5);
    CHECK_INT(sb_recipe_root(r), "train.steps", 7);
    CHECK_INT(sb_recipe_root(r), "train.warmup", 10);
    CHECK_STR(sb_recipe_root(r), "model.name", "base");
    sb_recipe_free(r);
  }
  CHECK_LOAD_FAILS("data/cycle_a.yaml", NULL, 0,
                   "data/cycle_b.yaml:1:10: include cycle: data/cycle_a.yaml -> data/cycle_b.yaml -> "
                   "data/cycle_a.yaml");
  CHECK_LOAD_FAILS("data/missing_inc.yaml", NULL, 0,
                   "cannot open data/nope.yaml: No such file or directory (included from "
                   "data/missing_inc.yaml:1:10)");
  CHECK_LOAD_FAILS("data/absent.yaml", NULL, 0, "cannot open data/absent.yaml: No such file or directory");
}

static void test_overrides(void) {
  const char *const ov[] = {
      "model.encoder.select_layer=-2",          /* #1 existing key */
      "model.encoder.new_key=5",                /* #2 new key (then unused) */
      "train.sched=[1, 2, 3]",                  /* #3 new list */
      "model.encoder.tags=[p, q]",              /* #4 list replaced */
      "optim={name: adamw, betas: [0.9, 0.95]}", /* #5 new map */
      "data={root: other}",                     /* #6 map replaced */
      "model.name=hello world",                 /* #7 plain text */
      "train.lr=\"1e-3\"",                      /* #8 quoted: a string */
  };
  sb_recipe *r = LOAD_SET("data/sub/inc_top.yaml", ov);
  if (!r) return;
  const sb_config *root = sb_recipe_root(r);
  CHECK_INT(root, "model.encoder.select_layer", -2);
  CHECK_INT(root, "model.encoder.layers", 24);
  size_t n = 0;
  double f = 0;
  const char *s = NULL;
  CHECK(sb_config_list_length(root, "train.sched", &n) == SB_OK && n == 3);
  CHECK(sb_config_list_float(root, "train.sched", 2, &f) == SB_OK && f == 3);
  CHECK(sb_config_list_length(root, "model.encoder.tags", &n) == SB_OK && n == 2);
  CHECK(sb_config_list_string(root, "model.encoder.tags", 0, &s) == SB_OK && !strcmp(s, "p"));
  CHECK_STR(root, "optim.name", "adamw");
  CHECK(sb_config_list_float(root, "optim.betas", 1, &f) == SB_OK && f == 0.95);
  CHECK_PATH(root, "data.root", "other"); /* from the command line: relative to the cwd */
  CHECK_STR(root, "model.name", "hello world");
  CHECK_STR(root, "train.lr", "1e-3");
  CHECK_ERR(sb_config_get_float(root, "train.lr", &f),
            "<command line>:--set #8: train.lr: expected a number, got \"1e-3\"");
  CHECK(!strcmp(sb_config_where(root, "optim"), "<command line>:--set #5"));
  CHECK_INT(root, "model.encoder.dim", 768);
  CHECK_INT(root, "train.steps", 2000);
  CHECK_ERR(sb_recipe_check_unused(r),
            "<command line>:--set #2: unknown key 'model.encoder.new_key' (not read by anything)");
  CHECK(!strstr(sb_error_message(), "select_layer"));
  sb_recipe_free(r);

  const char *const bad1[] = {"novalue"};
  CHECK_LOAD_FAILS("data/sub/inc_top.yaml", bad1, 1, "<command line>:--set #1: expected key=value");
  const char *const bad2[] = {"train.lr=1", "model.name.x=1"};
  CHECK_LOAD_FAILS("data/sub/inc_top.yaml", bad2, 2,
                   "<command line>:--set #2: cannot set 'model.name.x': 'model.name' "
                   "(data/sub/inc_top.yaml:3:9) is not a mapping");
  const char *const bad3[] = {"a=[1, 2"};
  CHECK_LOAD_FAILS("data/sub/inc_top.yaml", bad3, 1, "<command line>:--set #1: did not find expected");
  const char *const bad4[] = {"a..b=1"};
  CHECK_LOAD_FAILS("data/sub/inc_top.yaml", bad4, 1, "<command line>:--set #1: invalid key 'a..b'");
}

/* ---- YAML errors -------------------------------------------------------- */

static void test_yaml_errors(void) {
  CHECK_LOAD_FAILS("data/bad_bracket.yaml", NULL, 0,
                   "data/bad_bracket.yaml:3:6: did not find expected ',' or ']' (while parsing a flow "
                   "sequence at line 2, column 11)");
  CHECK_LOAD_FAILS("data/bad_indent.yaml", NULL, 0,
                   "data/bad_indent.yaml:3:7: mapping values are not allowed in this context");
  CHECK_LOAD_FAILS("data/bad_tab.yaml", NULL, 0,
                   "data/bad_tab.yaml:2:1: found character that cannot start any token");
  CHECK_LOAD_FAILS("data/dup.yaml", NULL, 0, "data/dup.yaml:4:3: duplicate key 'model.a' (first at line 2)");
  CHECK_LOAD_FAILS("data/anchor.yaml", NULL, 0, "data/anchor.yaml:1:4: anchors (&x) are not supported");
  CHECK_LOAD_FAILS("data/toplist.yaml", NULL, 0,
                   "data/toplist.yaml:1:1: the top level of a recipe must be a mapping");
}

/* ---- interpolation ------------------------------------------------------ */

static void test_interp(void) {
  sb_recipe *r = LOAD("data/interp.yaml");
  if (r) {
    const sb_config *root = sb_recipe_root(r);
    CHECK_STR(root, "out", "runs/exp1");
    CHECK_INT(root, "copy_n", 4);
    CHECK_STR(root, "quoted", "4");
    int64_t i;
    CHECK_ERR(sb_config_get_int(root, "quoted", &i), "data/interp.yaml:6:9: quoted: expected an integer");
    CHECK_STR(root, "literal", "${name}");
    CHECK_INT(root, "enc_copy.dim", 64);
    CHECK_INT(root, "enc_copy.heads", 8);
    CHECK_STR(root, "chain", "runs/exp1/ckpt");
    CHECK_FLOAT(root, "lr_copy", 1e-3);
    CHECK_INT(root, "first_size", 1);
    /* Referenced keys count as read; the others are reported. */
    CHECK(sb_recipe_check_unused(r) != SB_OK);
    CHECK_MSG_EQ("data/interp.yaml:5:1: unknown key 'mixed_n' (not read by anything)");
    CHECK_INT(root, "mixed_n", 40);
    CHECK(sb_recipe_check_unused(r) == SB_OK);
    sb_recipe_free(r);
  }
  const char *const ov[] = {"n=7", "name=exp2"};
  r = LOAD_SET("data/interp.yaml", ov);
  if (r) {
    CHECK_INT(sb_recipe_root(r), "copy_n", 7);
    CHECK_INT(sb_recipe_root(r), "mixed_n", 70);
    CHECK_STR(sb_recipe_root(r), "chain", "runs/exp2/ckpt");
    sb_recipe_free(r);
  }
  CHECK_LOAD_FAILS("data/interp_unknown.yaml", NULL, 0,
                   "data/interp_unknown.yaml:2:4: a: unknown reference ${nope.x}");
  CHECK_LOAD_FAILS("data/interp_hint.yaml", NULL, 0,
                   "data/interp_hint.yaml:2:4: b: unknown reference ${nmae} (did you mean ${name}?)");
  CHECK_LOAD_FAILS("data/interp_cycle.yaml", NULL, 0,
                   "data/interp_cycle.yaml:3:4: c: interpolation cycle: a -> b -> c -> a");
  CHECK_LOAD_FAILS("data/interp_self.yaml", NULL, 0,
                   "data/interp_self.yaml:2:6: a.x: interpolation cycle: a.x -> a");
  const char *const bad[] = {"x=${missing}"};
  CHECK_LOAD_FAILS("data/interp.yaml", bad, 1, "<command line>:--set #1: x: unknown reference ${missing}");
}

/* ---- unused keys -------------------------------------------------------- */

static void read_unused_yaml(const sb_recipe *r) {
  const sb_config *model = map_at(r, "model");
  const sb_config *enc = model ? sb_config_get_map(model, "encoder") : NULL;
  const sb_config *c = enc ? sb_config_bind(enc, "toy", toy_schema, SB_ARRAY_LEN(toy_schema)) : NULL;
  if (c) CHECK_INT(c, "select_layer", -1);
  CHECK_INT(sb_recipe_root(r), "trainer.steps", 10);
}

static void test_unused(void) {
  sb_recipe *r = LOAD("data/unused.yaml");
  if (r) {
    read_unused_yaml(r);
    CHECK(sb_recipe_check_unused(r) != SB_OK);
    CHECK_MSG_EQ("data/unused.yaml:3:5: unknown key 'model.encoder.selct_layer' (not read by anything; "
                 "did you mean 'select_layer'?)\n"
                 "data/unused.yaml:4:3: unknown key 'model.projector' (not read by anything)\n"
                 "data/unused.yaml:6:1: unknown key 'extra_block' (not read by anything)");
    sb_config_mark_used(sb_recipe_root(r), "extra_block");
    sb_config_mark_used(sb_recipe_root(r), "model.projector");
    sb_config_mark_used(sb_recipe_root(r), "model.encoder.selct_layer");
    CHECK(sb_recipe_check_unused(r) == SB_OK);
    sb_recipe_free(r);
  }
  const char *const ov[] = {"trainer.stepz=3"};
  r = LOAD_SET("data/unused.yaml", ov);
  if (r) {
    read_unused_yaml(r);
    CHECK_ERR(sb_recipe_check_unused(r),
              "data/unused.yaml:6:1: unknown key 'extra_block' (not read by anything)\n"
              "<command line>:--set #1: unknown key 'trainer.stepz' (not read by anything)");
    sb_recipe_free(r);
  }
}

/* ---- pipelines ---------------------------------------------------------- */

static void check_stages(const sb_recipe *p) {
  sb_recipe *s0 = sb_recipe_stage(p, 0);
  CHECK(s0 != NULL);
  if (s0) {
    CHECK_STR(sb_recipe_root(s0), "output_dir", "runs/demo/pretrain");
    CHECK_FLOAT(sb_recipe_root(s0), "train.lr", 1e-4);
    CHECK_INT(sb_recipe_root(s0), "train.steps", 100);
    CHECK(!strcmp(sb_config_where(sb_recipe_root(s0), "output_dir"), "data/pipe/pipe.yaml:10:7"));
    CHECK(!strcmp(sb_recipe_path(s0), "data/pipe/stage_pretrain.yaml"));
    CHECK(sb_recipe_check_unused(s0) == SB_OK);
  }
  sb_recipe *s1 = sb_recipe_stage(p, 1);
  CHECK(s1 != NULL);
  if (s1) {
    CHECK_STR(sb_recipe_root(s1), "init_from", "runs/demo/pretrain/final");
    CHECK_STR(sb_recipe_root(s1), "output_dir", "runs/demo/finetune");
    CHECK_FLOAT(sb_recipe_root(s1), "train.lr", 1e-4);
  }
  sb_recipe *s2 = sb_recipe_stage(p, 2);
  CHECK(s2 != NULL);
  if (s2) {
    CHECK_STR(sb_recipe_root(s2), "checkpoint", "runs/demo/finetune");
    CHECK_INT(sb_recipe_root(s2), "model.encoder.layers", 3);
    CHECK_ERR(sb_recipe_check_unused(s2),
              "data/pipe/stage_eval.yaml:5:5: unknown key 'model.encoder.dim' (not read by anything)");
  }
  sb_recipe_free(s0), sb_recipe_free(s1), sb_recipe_free(s2);
}

static void test_pipeline(void) {
  sb_recipe *p = LOAD("data/pipe/pipe.yaml");
  if (p) {
    CHECK(sb_recipe_is_pipeline(p));
    CHECK(sb_recipe_stage_count(p) == 3);
    CHECK(!strcmp(sb_recipe_stage_name(p, 1), "finetune"));
    CHECK(sb_recipe_stage_name(p, 3) == NULL);
    check_stages(p);
    CHECK_ERR(sb_recipe_check_unused(p), "data/pipe/pipe.yaml:2:1: unknown key 'name'",
              "data/pipe/pipe.yaml:4:1: unknown key 'seed'");
    CHECK(!strstr(sb_error_message(), "output_dir") && !strstr(sb_error_message(), "base_lr"));
    CHECK_STR(sb_recipe_root(p), "name", "demo");
    CHECK_INT(sb_recipe_root(p), "seed", 7);
    CHECK(sb_recipe_check_unused(p) == SB_OK);
    CHECK_ERR(sb_recipe_stage(p, 3) == NULL, "no stage 3");
    char *y = sb_recipe_to_yaml(p);
    CHECK(y && strstr(y, "${stages.pretrain.output_dir}/final") && !strstr(y, "$${"));
    free(y);
    sb_recipe_free(p);
  }
  const char *const ov[] = {"stages.finetune.train.steps=5", "seed=9"};
  p = LOAD_SET("data/pipe/pipe.yaml", ov);
  sb_recipe *s1 = p ? sb_recipe_stage(p, 1) : NULL;
  CHECK(s1 != NULL);
  if (s1) CHECK_INT(sb_recipe_root(s1), "train.steps", 5);
  if (p) CHECK_INT(sb_recipe_root(p), "seed", 9);
  sb_recipe_free(s1), sb_recipe_free(p);

  const char *const bad[] = {"stages.nope.x=1"};
  CHECK_LOAD_FAILS("data/pipe/pipe.yaml", bad, 1, "<command line>:--set #1: cannot set 'stages.nope.x'");
  CHECK_LOAD_FAILS("data/pipe/pipe_badkey.yaml", NULL, 0,
                   "data/pipe/pipe_badkey.yaml:5:5: stages.1.recipy: unknown stage key (did you mean 'recipe'?)");
  p = LOAD("data/pipe/pipe_later.yaml");
  if (p) {
    CHECK_ERR(sb_recipe_stage(p, 0) == NULL,
              "data/pipe/pipe_later.yaml:5:19: output_dir: ${stages.second.output_dir}: stage 'second' "
              "does not come before this stage");
    sb_recipe_free(p);
  }
  p = LOAD("data/pipe/pipe_missing.yaml");
  if (p) {
    CHECK_ERR(sb_recipe_stage(p, 0) == NULL,
              "cannot open data/pipe/nope.yaml: No such file or directory (stage 'a' at "
              "data/pipe/pipe_missing.yaml:3:13)");
    CHECK_ERR(sb_recipe_stage(p, 1) == NULL,
              "data/pipe/pipe_missing.yaml:7:19: checkpoint: unknown reference ${stages.c.output_dir}: "
              "the pipeline has no stage 'c'");
    sb_recipe_free(p);
  }
  sb_recipe *plain = LOAD("data/types.yaml");
  if (plain) {
    CHECK(!sb_recipe_is_pipeline(plain) && sb_recipe_stage_count(plain) == 0);
    CHECK_ERR(sb_recipe_stage(plain, 0) == NULL, "is not a pipeline");
    sb_recipe_free(plain);
  }
}

/* ---- round trips through sb_recipe_to_yaml ------------------------------ */

static bool same_tree(const sb_node *a, const sb_node *b, const char *path) {
  bool ok = a->kind == b->kind && a->len == b->len;
  if (ok && a->kind == SB_NODE_SCALAR) {
    ok = a->type == b->type;
    if (ok && a->type == SB_SCALAR_STRING) ok = !strcmp(a->text, b->text);
    if (ok && a->type == SB_SCALAR_INT) ok = a->i == b->i;
    if (ok && a->type == SB_SCALAR_BOOL) ok = a->b == b->b;
    if (ok && a->type == SB_SCALAR_FLOAT) ok = isnan(a->f) ? isnan(b->f) : a->f == b->f;
  }
  if (!ok) {
    fprintf(stderr, "  differs at '%s': \"%s\" vs \"%s\"\n", path, a->text ? a->text : "(container)",
            b->text ? b->text : "(container)");
    return false;
  }
  for (size_t k = 0; k < a->len; k++) {
    const char *ka = a->entries[k].key, *kb = b->entries[k].key;
    char sub[512];
    snprintf(sub, sizeof sub, "%s.%s", path, ka ? ka : "[]");
    if ((ka || kb) && (!ka || !kb || strcmp(ka, kb))) {
      fprintf(stderr, "  key differs at '%s'\n", sub);
      return false;
    }
    if (!same_tree(a->entries[k].val, b->entries[k].val, sub)) return false;
  }
  return true;
}

static void check_round_trip(int line, const char *path, const char *const *ov, size_t n) {
  sb_recipe *r = load(line, path, ov, n);
  char *text = r ? sb_recipe_to_yaml(r) : NULL;
  char tmp[] = "/tmp/sb_recipe_rt_XXXXXX.yaml";
  int fd = text ? mkstemps(tmp, 5) : -1;
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  g_checks++;
  if (!f) {
    fail(line, "%s: cannot dump to a temporary file (%s)", path, sb_error_message());
  } else {
    fputs(text, f);
    fclose(f);
    sb_recipe *again = sb_recipe_load(tmp, NULL, 0);
    if (!again) fail(line, "%s: reloading the dump failed: %s\n%s", path, sb_error_message(), text);
    else if (!same_tree(r->root, again->root, "")) fail(line, "%s: the dump differs:\n%s", path, text);
    sb_recipe_free(again);
    unlink(tmp);
  }
  free(text);
  sb_recipe_free(r);
}

static void test_round_trip(void) {
  check_round_trip(__LINE__, "data/roundtrip.yaml", NULL, 0);
  check_round_trip(__LINE__, "data/types.yaml", NULL, 0);
  check_round_trip(__LINE__, "data/interp.yaml", NULL, 0);
  const char *const ov[] = {"model.encoder.extra={a: [1, {b: \"2\"}]}", "train.note=x: y"};
  check_round_trip(__LINE__, "data/sub/inc_top.yaml", ov, SB_ARRAY_LEN(ov));
  sb_recipe *r = LOAD("data/roundtrip.yaml");
  char *y = r ? sb_recipe_to_yaml(r) : NULL;
  CHECK(y && strstr(y, "q_int: \"123\"") && strstr(y, "q_bool: \"true\"") && strstr(y, "dollar: $${not_a_ref}"));
  free(y);
  sb_recipe_free(r);
  /* values read as paths are written absolute (a run folder's recipe.yaml
   * must find the same files from anywhere): one from the file, relative to
   * it, one from --set, relative to the working directory; an empty path
   * stays empty */
  const char *const pv[] = {"strings.from_set=runs/x", "strings.none="};
  r = load(__LINE__, "data/roundtrip.yaml", pv, 2);
  const sb_config *st = r ? sb_config_get_map(sb_recipe_root(r), "strings") : NULL;
  const char *p1, *p2, *p3;
  CHECK(st && !sb_config_get_path(st, "colon", &p1) && !sb_config_get_path(st, "from_set", &p2) &&
        !sb_config_get_path(st, "none", &p3) && !strcmp(p2, "runs/x") && !p3[0]);
  char cwd[4096], *want_file = NULL, *want_set = NULL;
  if (getcwd(cwd, sizeof cwd)) {
    want_file = sb_asprintf("colon: '%s/data/a: b'", cwd);
    want_set = sb_asprintf("from_set: %s/runs/x", cwd);
  }
  y = r ? sb_recipe_to_yaml(r) : NULL;
  CHECK(y && want_file && strstr(y, want_file) && strstr(y, want_set) && strstr(y, "none: null"));
  if (y && want_file && !strstr(y, want_set)) fprintf(stderr, "%s\n", y);
  free(y), free(want_file), free(want_set);
  sb_recipe_free(r);
}

int main(void) {
  test_getters();
  test_schema();
  test_include();
  test_overrides();
  test_yaml_errors();
  test_interp();
  test_unused();
  test_pipeline();
  test_round_trip();
  if (g_failed) {
    fprintf(stderr, "test_recipe: %d of %d checks FAILED\n", g_failed, g_checks);
    return 1;
  }
  printf("test_recipe: all %d checks passed\n", g_checks);
  return 0;
}
