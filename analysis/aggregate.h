/* aggregate.h: folding repeats into a confidence interval. One function owns
 * the statistic (report --aggregate, check --intervals and plot error bars
 * all call aggregate_ci); aggregate_group_runs tells which runs are repeats of
 * one point. */
#ifndef STRAG_AGGREGATE_H
#define STRAG_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>

#include "analysis/results.h"

/* The 95% confidence interval of a mean: mean ± half_width, half_width =
 * t_{0.975, n-1} * se, se = s / sqrt(n) with s the sample standard deviation
 * (n - 1 in the denominator). */
struct ci {
    double mean, se, half_width;
    size_t n;
};

/* Fills out from the n values x. n = 1: the mean, se and half_width NAN (one
 * value has no interval). A NAN among x makes every field NAN but n. Returns
 * 0, or -1 for n = 0 (out all NAN, n 0). */
int aggregate_ci(const double *x, size_t n, struct ci *out);

/* Keys that name where results went, not what was simulated (experiment.db,
 * experiment.name): left out when runs are compared or grouped. */
bool aggregate_location_key(const char *key);

/* Groups runs into points: runs whose params are equal (location keys, and
 * params a run chose while running such as nercc's searched lambdas, left
 * out) are repeats of one point, whatever their repeat. group[i] receives the
 * point of runs[i], numbered 0.. in order of first appearance; *ngroups the
 * number of points. Returns 0, or -1 when out of memory. */
int aggregate_group_runs(const struct results_run *const *runs, size_t n, size_t *group,
                         size_t *ngroups);

#endif
