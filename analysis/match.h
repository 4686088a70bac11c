/* match.h: which run of one results database is "the same point" as a run
 * of another (check, diff and merge ask). A run matches by point key (a hash
 * of the canonical params, so the same config gives the same key), or failing
 * that by its full params set (experiment.db and experiment.name excluded)
 * and repeat. Also the short label that names a run in messages. */
#ifndef STRAG_MATCH_H
#define STRAG_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "analysis/results.h"

/* For each run of `from`, the index of the run of `to` it matches, or -1 in
 * match[i]; taken[j] (zeroed by the caller) is set for each run of `to` that
 * some run matched. A run of `to` is matched at most once. Returns 0, or -1
 * when out of memory. */
int match_runs(const struct results_run *from, size_t nfrom, const struct results_run *to,
               size_t nto, ptrdiff_t *match, bool *taken);

/* The points of an array of runs (aggregate_group_runs over pointers):
 * point[i] for runs[i], *npoints of them. Returns 0, or -1 when out of memory. */
int match_group_points(const struct results_run *runs, size_t n, size_t *point, size_t *npoints);

/* The params keys that tell these runs apart, for their labels:
 * report_varying_params without the location keys (experiment.db,
 * experiment.name: two databases of one sweep differ in those). The caller
 * frees *keys. Returns 0, or -1 when out of memory. */
int match_label_keys(const struct results_run *const *runs, size_t n, const char ***keys,
                     size_t *nkeys, bool *repeat_varies);

/* "k=v k=v repeat=r" over the params keys[0..nkeys) that this run has (the
 * repeat when with_repeat), or "point KEY" when none. The caller frees it;
 * NULL when out of memory. */
char *match_label(const struct results_run *run, const char *const *keys, size_t nkeys,
                  bool with_repeat);

#endif
