/* catalog.h: what a results database holds (`stragsim ls`): its
 * experiments (id, name, when, which stragsim, config hash, runs, finished
 * or not) and, on request, their runs with the params that tell them apart.
 * Two experiments of one name (the config changed) differ in id and config
 * hash, and a note says so. */
#ifndef STRAG_CATALOG_H
#define STRAG_CATALOG_H

#include <stdbool.h>
#include <stdio.h>

#include "analysis/results.h"

struct catalog_options {
    bool runs; /* list each experiment's runs */
    bool json; /* one JSON object instead of the text table */
};

/* Prints the catalog of r to out. An experiment is finished when it holds
 * as many runs as its config has distinct points (recorded by `run`);
 * unknown ("?", null) for a database written before that was recorded. */
int catalog_write(struct results *r, const struct catalog_options *opt, FILE *out,
                  struct error *err);

#endif
