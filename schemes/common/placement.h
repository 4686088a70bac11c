/* placement.h: choosing the worker for a task (scheme.placement), for
 * schemes that send fewer tasks than there are workers (hedged). Schemes
 * that put one task on every worker in a fixed order do not use it.
 *
 *   random          uniform over the allowed workers (RNG_PLACEMENT stream)
 *   round_robin     the next worker in cyclic order after the last pick
 *   shortest_queue  the allowed worker with the fewest tasks queued or
 *                   running (cluster_worker_load); ties broken uniformly at
 *                   random, so identical idle workers share the work
 */
#ifndef STRAG_PLACEMENT_H
#define STRAG_PLACEMENT_H

#include "schemes/scheme.h"
#include "base/rng.h"

enum placement_policy {
    PLACEMENT_RANDOM,
    PLACEMENT_ROUND_ROBIN,
    PLACEMENT_SHORTEST_QUEUE,
};

struct placement {
    enum placement_policy policy;
    int workers;
    int next; /* round_robin: the worker after the last pick */
    struct rng rng;
};

/* Reads scheme.placement (default random) and seeds the RNG_PLACEMENT stream. */
int placement_init(struct placement *pl, const struct scheme_env *env, struct error *err);

/* A worker for the next task, never `exclude` (pass -1 to allow every
 * worker; with exclude >= 0 there must be at least two workers). */
int placement_pick(struct placement *pl, const struct cluster *cl, int exclude);

#endif
