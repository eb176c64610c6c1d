/* cli.c — `spatialboost`: global options and dispatch to subcommands. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "spatialboost/spatialboost.h"

static const sb_command *const k_commands[] = {
    &sb_cmd_train,    &sb_cmd_export,     &sb_cmd_chat,    &sb_cmd_encode, &sb_cmd_probe,
    &sb_cmd_datagen,  &sb_cmd_tokenize,   &sb_cmd_init_model, &sb_cmd_plugins};

bool sb_cli_is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }

int sb_cli_fail(const char *cmd) {
  fprintf(stderr, "spatialboost %s: %s\n", cmd, sb_error_message()[0] ? sb_error_message() : "failed");
  return 1;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: spatialboost [--version] [--help] <command> [<args>]\n\n"
          "Makes pre-trained vision encoders spatially aware (SpatialBoost).\n\n"
          "commands:\n");
  for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
    fprintf(out, "  %-10s %s\n", k_commands[i]->name, k_commands[i]->summary);
  fprintf(out, "\n'spatialboost <command> --help' tells more about a command.\n");
}

static void version(void) {
  printf("spatialboost %s (plugin ABI %d.%d)\n", sb_version(), sb_abi_major(), sb_abi_minor());
  printf("%s\n", sb_backend_describe(sb_backend_cpu()));
}

int sb_cli_main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (sb_cli_is_help(cmd)) {
    usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
    version();
    return 0;
  }
  for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
    if (strcmp(cmd, k_commands[i]->name) == 0) {
      if (argc > 2 && sb_cli_is_help(argv[2])) {
        k_commands[i]->help(stdout);
        return 0;
      }
      return k_commands[i]->run(argc - 1, argv + 1);
    }
  fprintf(stderr, "spatialboost: '%s' is not a command (see 'spatialboost --help')\n", cmd);
  return 2;
}
