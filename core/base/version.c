/* version.c — library and ABI versions (sdk version.h). */
#include "spatialboost/version.h"

const char *sb_version(void) { return SB_VERSION_STRING; }
int sb_abi_major(void) { return SB_ABI_MAJOR; }
int sb_abi_minor(void) { return SB_ABI_MINOR; }
