/* test_json.c — the sdk's JSON reader: typed getters with defaults, dotted
 * keys, arrays, object order, and errors naming the file, line and key. */
#include <stdlib.h>

#include "../common/check.h"
#include "spatialboost/spatialboost.h"

int main(void) {
  const char *text = "{\"hidden_size\": 32, \"rope_theta\": 100.0, \"eps\": 1e-5, \"tie\": true,\n"
                     " \"act\": \"gelu\", \"n\": 2.0, \"none\": null,\n"
                     " \"vision_config\": {\"patch_size\": 14, \"image_size\": 384},\n"
                     " \"mean\": [0.485, 0.456, 0.406], \"z\": 1, \"a\": 2}";
  sb_json_doc *d = sb_json_parse(text, "config.json");
  CHECK(d, "parse: %s", sb_error_message());
  if (!d) return check_summary("json");
  const sb_json *r = sb_json_root(d);
  int64_t i;
  double f;
  bool b;
  const char *s;
  CHECK(sb_json_get_int(r, "hidden_size", 0, &i) == SB_OK && i == 32, "int");
  CHECK(sb_json_get_int(r, "n", 0, &i) == SB_OK && i == 2, "2.0 as an int");
  CHECK(sb_json_get_int(r, "missing", 7, &i) == SB_OK && i == 7, "default");
  CHECK(sb_json_get_int(r, "none", 9, &i) == SB_OK && i == 9, "null takes the default");
  CHECK(sb_json_get_float(r, "hidden_size", 0, &f) == SB_OK && f == 32.0, "int as float");
  CHECK(sb_json_get_float(r, "eps", 0, &f) == SB_OK && f == 1e-5, "float");
  CHECK(sb_json_get_bool(r, "tie", false, &b) == SB_OK && b, "bool");
  CHECK(sb_json_get_string(r, "act", NULL, &s) == SB_OK && strcmp(s, "gelu") == 0, "string");
  CHECK(sb_json_get_int(r, "vision_config.patch_size", 0, &i) == SB_OK && i == 14, "dotted");
  CHECK(sb_json_get_int(r, "act", 0, &i) != SB_OK, "type error");
  CHECK_ERROR("config.json: 'act': expected an integer, got a string");
  CHECK(sb_json_get_int(r, "rope_theta", 0, &i) == SB_OK && i == 100, "100.0 read as 100");
  CHECK(sb_json_get_int(r, "eps", 0, &i) != SB_OK, "1e-5 is not an integer");
  double mean[3];
  CHECK(sb_json_get_floats(r, "mean", mean, 3) == SB_OK && mean[1] == 0.456, "floats");
  CHECK(sb_json_get_floats(r, "mean", mean, 2) != SB_OK, "length");
  CHECK_ERROR("'mean': expected a list of 2 numbers, got 3 values");
  CHECK(sb_json_require(r, "image_mean", SB_JSON_ARRAY) == NULL, "required");
  CHECK_ERROR("config.json: missing 'image_mean' (a list)");
  CHECK(sb_json_array_size(sb_json_get(r, "mean")) == 3, "array size");
  /* file order of keys */
  CHECK(sb_json_object_size(r) == 11, "object size %zu", sb_json_object_size(r));
  CHECK(strcmp(sb_json_object_key(r, 0), "hidden_size") == 0 && strcmp(sb_json_object_key(r, 10), "a") == 0 &&
            strcmp(sb_json_object_key(r, 9), "z") == 0, "order");
  bool tb;
  CHECK(sb_json_bool(sb_json_get(r, "tie"), &tb) == SB_OK && tb, "bool value");
  CHECK(sb_json_bool(sb_json_get(r, "act"), &tb) != SB_OK, "not a bool");
  char *dump = sb_json_dump(sb_json_get(r, "vision_config"));
  CHECK(dump && strcmp(dump, "{\"patch_size\":14,\"image_size\":384}") == 0, "dump: %s", dump ? dump : "NULL");
  free(dump);
  sb_json_free(d);
  /* syntax errors and duplicates, with line and column */
  CHECK(sb_json_parse("{\"a\": 1,\n \"b\": }", "bad.json") == NULL, "syntax");
  CHECK_ERROR("bad.json:2:7: not valid JSON");
  CHECK(sb_json_parse("{\"a\": 1, \"a\": 2}", "dup.json") == NULL, "duplicate");
  CHECK_ERROR("dup.json:1:");
  CHECK_ERROR("duplicate");
  CHECK(sb_json_load("/nonexistent/config.json") == NULL, "missing file");
  CHECK_ERROR("/nonexistent/config.json: no such file");
  return check_summary("json");
}
