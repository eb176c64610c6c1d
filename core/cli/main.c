/* main.c — the spatialboost executable: everything lives in the library
 * (sb_cli_main), so the CLI and the plugins share one core. */
#include "spatialboost/spatialboost.h"

int sb_cli_main(int argc, char **argv);

int main(int argc, char **argv) { return sb_cli_main(argc, argv); }
