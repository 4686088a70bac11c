/* diff.h: two results databases side by side (`stragsim diff A B`). Runs
 * are matched as check matches them (match.h) and folded into points
 * (repeats together, aggregate.h). For each matched point and each metric:
 * A's and B's value (the mean, with its 95% interval when the point has
 * repeats), the difference B - A, and, when both sides have at least two
 * repeats, whether the intervals overlap. Points found on one side only are
 * listed. Informational: `check` stays the CI gate. */
#ifndef STRAG_DIFF_H
#define STRAG_DIFF_H

#include <stdbool.h>
#include <stdio.h>

#include "analysis/results.h"

struct diff_options {
    bool json;                  /* one JSON object instead of the text table */
    const char *const *metrics; /* only these metrics; NULL: every metric */
    size_t nmetrics;
};

struct diff_summary {
    size_t matched, only_a, only_b;
};

/* Prints the comparison of a and b. A --metrics name neither database has
 * is STRAG_EINPUT ("stragsim diff: ..."). */
int diff_write(struct results *a, struct results *b, const struct diff_options *opt, FILE *out,
               struct diff_summary *sum, struct error *err);

#endif
