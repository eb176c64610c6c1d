/* probe.h — `spatialboost probe`: linear probes of frozen encoder features
 * (depth RMSE, segmentation mIoU, classification top-1) on scene folders
 * and common dataset layouts, one table comparing encoders. PROBES.md
 * describes the probes; the command is core/cli/cmd_probe.c. */
#ifndef SB_CORE_PROBE_H
#define SB_CORE_PROBE_H

#include <stdio.h>

/* Runs the command; argv[0] is "probe". Prints the table to stdout and
 * progress to stderr. Returns 0, 2 for bad arguments (the message in
 * sb_error_message()), or 1 when the probe failed (likewise). */
int sb_probe_main(int argc, char **argv);
/* The same with the table written to `out`. */
int sb_probe_main_to(int argc, char **argv, FILE *out);
/* The --help text. */
void sb_probe_help(FILE *out);

#endif
