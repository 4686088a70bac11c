/* placement.c: the worker-choice policies of placement.h. */
#include "schemes/common/placement.h"

#include <string.h>

static const char *const placement_names[] = {
    [PLACEMENT_RANDOM] = "random",
    [PLACEMENT_ROUND_ROBIN] = "round_robin",
    [PLACEMENT_SHORTEST_QUEUE] = "shortest_queue",
};

int placement_init(struct placement *pl, const struct scheme_env *env, struct error *err)
{
    const char *name = params_string(env->params, "scheme.placement");
    int policy = name ? -1 : PLACEMENT_RANDOM;
    for (int i = 0; name && i < (int)(sizeof placement_names / sizeof *placement_names); i++)
        if (strcmp(name, placement_names[i]) == 0)
            policy = i;
    if (policy < 0)
        return error_at_key(err, env->params, "scheme.placement",
                            "expected one of random|round_robin|shortest_queue, got '%s'", name);
    *pl = (struct placement){.policy = (enum placement_policy)policy, .workers = env->workers};
    rng_seed(&pl->rng, env->seed, env->point_key, RNG_PLACEMENT, 0);
    return STRAG_OK;
}

static int pick_random(struct placement *pl, int exclude)
{
    if (exclude < 0)
        return (int)rng_below(&pl->rng, (uint64_t)pl->workers);
    int w = (int)rng_below(&pl->rng, (uint64_t)pl->workers - 1);
    return w >= exclude ? w + 1 : w;
}

static int pick_round_robin(struct placement *pl, int exclude)
{
    int w = pl->next;
    if (w == exclude)
        w = (w + 1) % pl->workers;
    pl->next = (w + 1) % pl->workers;
    return w;
}

static int pick_shortest_queue(struct placement *pl, const struct cluster *cl, int exclude)
{
    int best = -1, best_load = 0, ties = 0;
    for (int w = 0; w < pl->workers; w++) {
        if (w == exclude)
            continue;
        int load = cluster_worker_load(cl, w);
        if (best < 0 || load < best_load) {
            best = w;
            best_load = load;
            ties = 1;
        } else if (load == best_load && rng_below(&pl->rng, (uint64_t)++ties) == 0) {
            best = w; /* reservoir sampling: each tied worker kept with prob. 1/ties */
        }
    }
    return best;
}

int placement_pick(struct placement *pl, const struct cluster *cl, int exclude)
{
    switch (pl->policy) {
    case PLACEMENT_ROUND_ROBIN:
        return pick_round_robin(pl, exclude);
    case PLACEMENT_SHORTEST_QUEUE:
        return pick_shortest_queue(pl, cl, exclude);
    case PLACEMENT_RANDOM:
        break;
    }
    return pick_random(pl, exclude);
}
