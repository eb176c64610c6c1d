/* cli.h — the spatialboost command line: one table of subcommands, each in
 * its own file (cmd_*.c), and small helpers for their argument parsing. */
#ifndef SB_CORE_CLI_H
#define SB_CORE_CLI_H

#include <stdio.h>

#include "spatialboost/defs.h"

typedef struct sb_command {
  const char *name;
  const char *summary;                  /* one line for `spatialboost --help` */
  int (*run)(int argc, char **argv);    /* argv[0] is the command name */
  void (*help)(FILE *out);              /* the command's --help text */
} sb_command;

extern const sb_command sb_cmd_plugins;
extern const sb_command sb_cmd_train;
extern const sb_command sb_cmd_encode;
extern const sb_command sb_cmd_tokenize;
extern const sb_command sb_cmd_init_model;
extern const sb_command sb_cmd_export;
extern const sb_command sb_cmd_chat;
extern const sb_command sb_cmd_datagen;
extern const sb_command sb_cmd_probe;

SB_API int sb_cli_main(int argc, char **argv);

/* Prints "spatialboost <cmd>: <message>" for the current error; returns 1. */
int sb_cli_fail(const char *cmd);
/* True for "-h" and "--help". */
bool sb_cli_is_help(const char *arg);

#endif
