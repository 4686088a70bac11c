/* check.h: regression check of a results database against a baseline (the
 * engine of `stragsim check`, the command users put in CI).
 *
 * Every baseline run is matched to a run of the new database (match.h: by
 * point key, or failing that by its params set and repeat). Every metric of the baseline run is compared:
 * |new - baseline| <= atol + rtol * |baseline|, NaN equal to NaN. A baseline
 * point missing from the new database, or a metric missing from its run, is a
 * regression.
 *
 * With intervals, summary points counts baseline points (repeats folded),
 * unmatched counts db points, a regression line reads
 *   "regression: <point>: <metric>: baseline <m> ± <h> (n=<R>), new <m> ± <h>
 *    (n=<R>): 95% intervals do not overlap"
 * and a point with one run on either side is STRAG_EINPUT ("needs repeats"). */
#ifndef STRAG_CHECK_H
#define STRAG_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "analysis/results.h"

/* A per-metric override of the relative tolerance, or `ignore`. */
struct check_tolerance {
    const char *metric;
    double rtol;
    bool ignore;
};

struct check_options {
    double rtol, atol;
    /* Compare points, not runs: the repeats of a baseline point against those
     * of its db point; a metric fails when the 95% confidence intervals
     * (aggregate_ci) do not overlap and the means differ. rtol and atol are
     * not used. */
    bool intervals;
    /* Regressions as JSON objects, one per line, separated by commas (the
     * caller writes the enclosing array): {"point", "metric", "baseline",
     * "new", "rel_diff"}, with --intervals baseline and new as {"mean",
     * "half_width", "n"} and "overlap": false; a missing point {"point",
     * "missing": true}; a missing metric "new": null. */
    bool json;
    const struct check_tolerance *per_metric;
    size_t nper_metric;
};

struct check_summary {
    size_t points;      /* baseline points (runs) compared */
    size_t metrics;     /* metric comparisons made */
    size_t regressions; /* failed comparisons plus missing points */
    size_t unmatched;   /* runs of the new database no baseline run matched */
};

/* Compares db with baseline and writes one line per regression to out:
 *   "regression: <point>: <metric>: baseline <x>, new <y>, rel diff <d>"
 *   "regression: <point>: missing from DB"
 * where <point> lists the params that tell the baseline runs apart. A
 * baseline without runs, or a --metric naming no baseline metric, is
 * STRAG_EINPUT. */
int check_compare(struct results *db, struct results *baseline, const struct check_options *opt,
                  FILE *out, struct check_summary *sum, struct error *err);

#endif
