/* cmd_plugins.c — `spatialboost plugins`: every plugin found on the search
 * path with its kind, version, file, description and options; files that
 * were refused, with the reason. */
#include <string.h>

#include "cli.h"
#include "spatialboost/spatialboost.h"

static const char *type_name(sb_option_type t) {
  static const char *const names[] = {"?", "bool", "int", "float", "string", "path", "enum", "list", "map"};
  return (unsigned)t <= SB_OPTION_MAP ? names[t] : "?";
}

static void print_plugin(const sb_plugin *p, bool brief) {
  const sb_plugin_descriptor *d = sb_plugin_descriptor_of(p);
  printf("%s  (%s, version %s)\n", d->name, sb_plugin_kind_name(d->kind), d->version ? d->version : "?");
  printf("    %s\n", d->description ? d->description : "");
  printf("    file: %s\n", sb_plugin_file(p));
  if (brief) return;
  if (!d->n_options) printf("    options: none\n");
  for (size_t i = 0; i < d->n_options; i++) {
    const sb_option *o = &d->options[i];
    char type[128];
    if (o->type == SB_OPTION_ENUM) snprintf(type, sizeof type, "enum %s", o->choices);
    else snprintf(type, sizeof type, "%s", type_name(o->type));
    printf("    %-18s %-22s %s%s  %s\n", o->key, type, o->default_value ? "default " : "required",
           o->default_value ? o->default_value : "", o->help ? o->help : "");
  }
}

static void help(FILE *out) {
  fprintf(out,
          "usage: spatialboost plugins [--brief] [NAME...]\n\n"
          "Lists the plugins found (or only those named): name, kind, version, file,\n"
          "description, and each option with its type and default. Files that were\n"
          "refused are listed last with the reason.\n\n"
          "Plugins are looked for in SPATIALBOOST_PLUGIN_PATH (colon-separated), then\n"
          "the build tree or the installed plugin folder.\n");
}

static int run(int argc, char **argv) {
  bool brief = false;
  int n_names = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--brief") == 0) brief = true;
    else if (argv[i][0] == '-') {
      fprintf(stderr, "spatialboost plugins: unknown option '%s' (see --help)\n", argv[i]);
      return 2;
    } else n_names++;
  }
  sb_plugin_scan();
  printf("search path:");
  for (size_t i = 0; i < sb_plugin_search_path_count(); i++) printf(" %s", sb_plugin_search_path(i));
  printf("\n\n");
  int rc = 0;
  if (n_names) {
    for (int i = 1; i < argc; i++) {
      if (argv[i][0] == '-') continue;
      const sb_plugin *p = sb_plugin_find(argv[i], 0);
      if (p) print_plugin(p, brief);
      else rc = sb_cli_fail("plugins");
    }
  } else {
    for (size_t i = 0; i < sb_plugin_count(); i++) print_plugin(sb_plugin_at(i), brief);
  }
  if (sb_plugin_problem_count()) {
    fprintf(stderr, "\nrefused:\n");
    for (size_t i = 0; i < sb_plugin_problem_count(); i++) fprintf(stderr, "  %s\n", sb_plugin_problem(i));
  }
  return rc;
}

const sb_command sb_cmd_plugins = {"plugins", "list the plugins found, their kinds, versions and options",
                                   run, help};
