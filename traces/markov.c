/* markov.c: the two-state straggler model. Each worker runs its own chain,
 * active <-> slow, stepping once per iteration with probabilities
 * latency.p_active_to_slow and latency.p_slow_to_active; a task's duration
 * is cost times one draw from the current state's distribution
 * (latency.active.* / latency.slow.*, parsed and sampled by dist.c).
 *
 * Determinism: a worker's chain starts at iteration 0 in a state drawn from
 * the stationary distribution (P(slow) = p_as / (p_as + p_sa)) and takes
 * exactly one transition draw per iteration from its RNG_STATE stream, so
 * its state at iteration t depends on (seed, point key, worker, t) only,
 * never on which iterations it was asked about. All tasks of one iteration
 * see the same state. Durations come from the worker's RNG_SERVICE stream.
 * An iteration older than the last one seen (callers promise they do not
 * go back) uses the current state.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "traces/dist.h"
#include "traces/latency_impl.h"

enum { STATE_ACTIVE = 0, STATE_SLOW = 1 };

struct markov_worker {
    struct rng service; /* RNG_SERVICE: durations */
    struct rng chain;   /* RNG_STATE: transitions */
    uint64_t iteration; /* the iteration `state` belongs to */
    int state;
};

struct markov_source {
    struct latency_source base;
    struct dist state_dist[2]; /* indexed by STATE_ACTIVE / STATE_SLOW */
    double p_active_to_slow, p_slow_to_active;
    struct markov_worker *w; /* [workers] */
};

static void markov_advance(const struct markov_source *m, struct markov_worker *w,
                           uint64_t iteration)
{
    for (; w->iteration < iteration; w->iteration++) {
        double u = rng_uniform(&w->chain);
        if (w->state == STATE_ACTIVE)
            w->state = u < m->p_active_to_slow ? STATE_SLOW : STATE_ACTIVE;
        else
            w->state = u < m->p_slow_to_active ? STATE_ACTIVE : STATE_SLOW;
    }
}

static double markov_draw(struct latency_source *s, int worker, uint64_t iteration, double cost)
{
    struct markov_source *m = (struct markov_source *)s;
    struct markov_worker *w = &m->w[worker];
    markov_advance(m, w, iteration);
    return cost * dist_sample(&m->state_dist[w->state], &w->service);
}

static double markov_slow_fraction(const struct markov_source *m)
{
    return m->p_active_to_slow / (m->p_active_to_slow + m->p_slow_to_active);
}

static double markov_mean(const struct latency_source *s)
{
    const struct markov_source *m = (const struct markov_source *)s;
    double pi_slow = markov_slow_fraction(m);
    return (1.0 - pi_slow) * dist_mean(&m->state_dist[STATE_ACTIVE]) +
           pi_slow * dist_mean(&m->state_dist[STATE_SLOW]);
}

static void markov_free(struct latency_source *s)
{
    struct markov_source *m = (struct markov_source *)s;
    free(m->w);
    free(m);
}

static double markov_max(const struct latency_source *s)
{
    const struct markov_source *m = (const struct markov_source *)s;
    return fmax(dist_max(&m->state_dist[STATE_ACTIVE]), dist_max(&m->state_dist[STATE_SLOW]));
}

static const struct latency_ops markov_ops = {markov_draw, markov_mean, markov_free, markov_max};

static int markov_create(const struct params *p, int workers, uint64_t seed,
                         uint64_t point_key, struct latency_source **out, struct error *err)
{
    *out = NULL;
    struct markov_source m = {.base = {&markov_ops, workers}};
    int rc;
    if ((rc = latency_param_real(p, "latency.p_active_to_slow", "latency.kind", "markov", true,
                                 0, &m.p_active_to_slow, err)) ||
        (rc = latency_param_real(p, "latency.p_slow_to_active", "latency.kind", "markov", true,
                                 0, &m.p_slow_to_active, err)) ||
        (rc = dist_parse(p, "latency.active.", &m.state_dist[STATE_ACTIVE], err)) ||
        (rc = dist_parse(p, "latency.slow.", &m.state_dist[STATE_SLOW], err)))
        return rc;
    if (m.p_active_to_slow + m.p_slow_to_active <= 0)
        return error_at_key(err, p, "latency.p_slow_to_active",
                            "p_active_to_slow and p_slow_to_active are both 0: the chain has "
                            "no stationary distribution to start from");

    struct markov_source *s = malloc(sizeof *s);
    m.w = calloc((size_t)workers, sizeof *m.w);
    if (!s || !m.w) {
        free(s);
        free(m.w);
        return error_fail(err, "latency: out of memory");
    }
    double pi_slow = markov_slow_fraction(&m);
    for (int i = 0; i < workers; i++) {
        struct markov_worker *w = &m.w[i];
        rng_seed(&w->service, seed, point_key, RNG_SERVICE, (uint32_t)i);
        rng_seed(&w->chain, seed, point_key, RNG_STATE, (uint32_t)i);
        w->state = rng_uniform(&w->chain) < pi_slow ? STATE_SLOW : STATE_ACTIVE;
        w->iteration = 0;
    }
    *s = m;
    *out = &s->base;
    return 0;
}

static bool markov_reads(const struct params *p, const char *key)
{
    return strcmp(key, "latency.p_active_to_slow") == 0 ||
           strcmp(key, "latency.p_slow_to_active") == 0 ||
           dist_reads(p, "latency.active.", key) || dist_reads(p, "latency.slow.", key);
}

const struct latency_kind latency_markov = {
    "markov", "per-worker active/slow chain, one step per iteration", markov_create,
    markov_reads};
