/* shuffle.h: which data partition sits behind each column of a gradient
 * code, and reassigning them among the workers every T iterations (Johri,
 * Yardi, Bodas, "Approximate Gradient Coding for Heterogeneous Nodes",
 * arXiv 2105.06124: data held only by persistently slow nodes is
 * under-used; shuffling it spreads the loss).
 *
 * Worker i holds the data partitions column_data[j] for j in the support of
 * row i of B. The master keeps two online estimates, both exponentially
 * weighted (weight `alpha` on the newest iteration):
 *   slow[i]   how often worker i was not among the results used (its class),
 *   usage[p]  how often data partition p was held by a worker that was.
 * Policies at a shuffle:
 *   none        never reassigns;
 *   uniform     a uniformly random permutation of the partitions;
 *   slow_aware  columns ranked by exposure (the product of their holders'
 *               slow estimates: the chance that every holder straggles),
 *               partitions ranked by usage; the least-used partition goes to
 *               the least-exposed column, and so on (ties at random).
 * It does not know about time or cost: it reports how many partitions each
 * worker must receive, and the scheme charges for them.
 */
#ifndef STRAG_SHUFFLE_H
#define STRAG_SHUFFLE_H

#include <stdbool.h>
#include <stdint.h>

#include "schemes/codes/gradcode.h"
#include "base/error.h"
#include "base/rng.h"

enum shuffle_policy { SHUFFLE_NONE, SHUFFLE_UNIFORM, SHUFFLE_SLOW_AWARE };

struct shuffle {
    enum shuffle_policy policy;
    int n;            /* partitions = code columns = workers */
    long every;       /* T: shuffle before iterations T, 2T, ... */
    double alpha;     /* EWMA weight of the newest iteration, in (0, 1] */
    int *column_data; /* (n) data partition in code column j */
    double *slow;     /* (n) per worker */
    double *usage;    /* (n) per data partition */
    double *exposure; /* (n) scratch, per column */
    int *order;       /* (2n) scratch */
    struct rng rng;   /* RNG_SCHEME stream, index 1 */
    long shuffles;    /* reassignments so far */
    long moved;       /* partitions received by workers, summed over shuffles */
};

/* Parses "none|uniform|slow_aware"; 0, or -1 for anything else. */
int shuffle_policy_parse(const char *name, enum shuffle_policy *policy);

/* Identity assignment, estimates at zero. */
int shuffle_init(struct shuffle *sh, enum shuffle_policy policy, int n, long every, double alpha,
                 uint64_t seed, uint64_t point_key, struct error *err);
void shuffle_free(struct shuffle *sh);

/* After an iteration: reported[i] nonzero for the workers whose results the
 * master used. Updates slow and usage. */
void shuffle_observe(struct shuffle *sh, const struct gradcode *g, const unsigned char *reported);

/* True when iteration `t` starts with a reassignment. */
bool shuffle_due(const struct shuffle *sh, uint64_t t);

/* Reassigns per the policy; received[i] (n) gets the number of partitions
 * worker i holds afterwards that it did not hold before. */
void shuffle_apply(struct shuffle *sh, const struct gradcode *g, int *received);

#endif
