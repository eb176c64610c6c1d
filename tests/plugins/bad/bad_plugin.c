/* bad_plugin.c — one source for the deliberately broken plugins the loader
 * tests refuse. BAD_KIND selects the defect:
 *   1 ABI major from the future, 2 ABI minor newer than the core,
 *   3 descriptor name differing from the file name, 4 an option declared
 *   twice, 5 no entry symbol at all. */
#include <stdlib.h>

#include <spatialboost/spatialboost.h>

#ifndef BAD_KIND
#error "define BAD_KIND"
#endif

#if BAD_KIND == 5
/* A shared object with code but no sb_plugin_entry. */
SB_PLUGIN_EXPORT int not_the_entry(void);
SB_PLUGIN_EXPORT int not_the_entry(void) { return 42; }
#else
static void *create(const sb_plugin_ctx *ctx) { return calloc(1, 1); }
static void destroy(void *self) { free(self); }
static sb_tensor *compute(void *self, const sb_loss_input *in) { return NULL; }
static const sb_loss_vtable k_vtable = {.struct_size = sizeof(sb_loss_vtable), .create = create, .destroy = destroy,
                                        .compute = compute};

static const sb_option k_options[] = {
    {"alpha", SB_OPTION_FLOAT, "1.0", "a number", NULL},
#if BAD_KIND == 4
    {"alpha", SB_OPTION_INT, "2", "the same key again", NULL},
#endif
};

static const sb_plugin_descriptor k_descriptor = {
    .struct_size = sizeof(sb_plugin_descriptor),
#if BAD_KIND == 1
    .abi_major = SB_ABI_MAJOR + 1,
#else
    .abi_major = SB_ABI_MAJOR,
#endif
#if BAD_KIND == 2
    .abi_minor = SB_ABI_MINOR + 1,
#else
    .abi_minor = SB_ABI_MINOR,
#endif
#if BAD_KIND == 3
    .name = "other_name",
#else
    .name = BAD_NAME,
#endif
    .version = "0.0.1",
    .kind = SB_PLUGIN_LOSS,
    .description = "a broken plugin for the loader tests",
    .options = k_options,
    .n_options = SB_OPTIONS_COUNT(k_options),
    .vtable = &k_vtable,
};

SB_PLUGIN_DEFINE(bad_plugin, k_descriptor)
#endif
