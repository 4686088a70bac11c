/* merge.h: combining results databases (`stragsim merge OUT IN...`), e.g.
 * the parts of one sweep run on machines without MPI. Every experiment of
 * an input is recorded in OUT (once per (name, config hash), as `run` does)
 * and every run is copied with its params, metrics, jobs and iterations.
 * A point (point key) already in OUT, or in an earlier input, is kept once
 * when its metrics are identical (every name, every value bit for bit, NaN
 * equal to NaN) and refused when they differ: then nothing is written.
 * All inputs go in one transaction: a refused merge writes nothing. */
#ifndef STRAG_MERGE_H
#define STRAG_MERGE_H

#include <stdio.h>

#include "analysis/results.h"

struct merge_summary {
    size_t inputs, experiments, copied, duplicates;
};

/* Merges the databases at inputs[0..ninputs) into out (opened read-write).
 * An input that is not a stragsim database, or a conflicting point, is
 * STRAG_EINPUT with one line naming the point, both files and the first
 * metric that differs. */
int merge_into(struct results *out, const char *const *inputs, size_t ninputs,
               struct merge_summary *sum, struct error *err);

/* How many inputs one merge_into takes (SQLite's limit on attached
 * databases). */
size_t merge_max_inputs(struct results *out);

#endif
