/* smoke.h: `--smoke` of `stragsim run` and `stragsim train`: caps the sizes
 * of a config (jobs, iterations, repeats, epochs, images...) so that any
 * config runs in seconds, to check that it runs at all and what it stores.
 * The caps are one table (smoke.c) and become `--set` lines after the
 * user's, so they show in the stored config text, change the point keys (a
 * smoke point is never mistaken for a full one) and never raise a value.
 * A capped key that the config sweeps is no longer swept.
 */
#ifndef STRAG_SMOKE_H
#define STRAG_SMOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "app/config.h"
#include "base/error.h"

enum smoke_command { SMOKE_RUN, SMOKE_TRAIN };

/* config_load (SMOKE_RUN) or config_load_for_training (SMOKE_TRAIN) of
 * path with the user's sets; with `smoke`, loaded again with the caps that
 * lower a value appended. */
int smoke_config_load(enum smoke_command cmd, bool smoke, const char *path,
                      const char *const *sets, size_t nsets, struct config **out,
                      struct error *err);

/* The caps of cmd, for --help: "  key <= cap (which configs)" lines. */
void smoke_caps_print(FILE *f, enum smoke_command cmd);

#endif
