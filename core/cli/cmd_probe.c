/* cmd_probe.c — `spatialboost probe`: linear probes (depth RMSE,
 * segmentation mIoU, classification top-1) of frozen encoder features, one
 * table comparing encoders. The work is core/probe's (probe.h). */
#include "cli.h"
#include "probe.h"
#include "spatialboost/error.h"

static int run(int argc, char **argv) {
  int rc = sb_probe_main(argc, argv);
  if (rc) sb_cli_fail("probe");
  return rc;
}

const sb_command sb_cmd_probe = {"probe", "linear probes (depth, segmentation, classification) comparing encoders", run,
                                 sb_probe_help};
