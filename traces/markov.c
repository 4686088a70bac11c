/* markov.c: the two-state straggler model, and the heterogeneous model of
 * Johri, Yardi and Bodas (arXiv 2105.06124) on the same source.
 *
 * Classes. Every worker is in a class, active or slow, at every iteration:
 *   - the chain (latency.slow_nodes unset): each worker runs its own chain,
 *     active <-> slow, stepping once per iteration with probabilities
 *     latency.p_active_to_slow and latency.p_slow_to_active, started in a
 *     state drawn from the stationary distribution (P(slow) = p_as /
 *     (p_as + p_sa));
 *   - exactly n_s slow workers (latency.slow_nodes = n_s): a uniformly random
 *     n_s-subset of the workers is slow, for ever (permanent classes) or
 *     re-drawn before iterations T, 2T, ... (latency.reclass_every = T).
 * Durations. A task's duration is cost times one draw from its worker's
 * class distribution (latency.active.* / latency.slow.*, parsed and sampled
 * by dist.c), times latency.straggle_factor when the worker straggles in that
 * iteration: a worker of class c straggles with probability
 * latency.p_straggle_<c>, independently per worker and iteration (both 0 by
 * default: the class alone sets the duration, the model before these keys).
 *
 * Determinism: a worker's class and straggle event at iteration t depend on
 * (seed, point key, worker, t) only, never on which iterations it was asked
 * about; all tasks of one iteration see the same ones. Streams (RNG_STATE):
 * index w, worker w's chain (one draw per iteration stepped); index
 * STRAGGLE_STREAM + w, worker w's straggle events (one uniform per
 * iteration, only when a straggle probability is nonzero); index
 * CLASS_STREAM + e, the slow set of epoch e (iterations eT .. eT + T - 1;
 * the index is 32 bits, so epochs 2^31 apart share a set).
 * Durations come from the worker's RNG_SERVICE stream. An iteration older
 * than the last one seen (callers promise they do not go back) uses the
 * current state.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "traces/dist.h"
#include "traces/latency_impl.h"

enum { STATE_ACTIVE = 0, STATE_SLOW = 1 };

#define STRAGGLE_STREAM 0x40000000u /* + worker */
#define CLASS_STREAM 0x80000000u    /* + epoch */

struct markov_worker {
    struct rng service;  /* RNG_SERVICE: durations */
    struct rng chain;    /* RNG_STATE, index w: transitions */
    struct rng straggle; /* RNG_STATE, index STRAGGLE_STREAM + w: straggle events */
    uint64_t iteration;  /* the iteration `state` and `straggling` belong to */
    uint64_t epoch;      /* with slow_nodes: the slow set `state` was read from */
    int state;
    bool straggling;
};

struct markov_source {
    struct latency_source base;
    struct dist state_dist[2]; /* indexed by STATE_ACTIVE / STATE_SLOW */
    double p_active_to_slow, p_slow_to_active;
    double p_straggle[2]; /* per class */
    double straggle_factor;
    bool straggles;      /* a straggle probability is nonzero */
    int slow_nodes;      /* n_s, or -1: the chain */
    long reclass_every;  /* T, or 0: permanent classes */
    uint64_t seed, point_key;
    int *order;          /* (workers) scratch for drawing a slow set */
    struct markov_worker *w; /* [workers] */
};

/* Whether worker `worker` is in the slow set of epoch `epoch`: the first
 * n_s of a Fisher-Yates shuffle of the workers from that epoch's stream. */
static int slow_set_state(struct markov_source *m, int worker, uint64_t epoch)
{
    int n = m->base.workers;
    struct rng r;
    rng_seed(&r, m->seed, m->point_key, RNG_STATE, CLASS_STREAM + (uint32_t)epoch);
    for (int i = 0; i < n; i++)
        m->order[i] = i;
    for (int i = 0; i < m->slow_nodes; i++) {
        int j = i + (int)(rng_uniform(&r) * (n - i));
        if (j >= n)
            j = n - 1;
        int t = m->order[i];
        m->order[i] = m->order[j];
        m->order[j] = t;
        if (m->order[i] == worker)
            return STATE_SLOW;
    }
    return STATE_ACTIVE;
}

static uint64_t epoch_of(const struct markov_source *m, uint64_t iteration)
{
    return m->reclass_every ? iteration / (uint64_t)m->reclass_every : 0;
}

static void straggle_draw(const struct markov_source *m, struct markov_worker *w)
{
    if (m->straggles)
        w->straggling = rng_uniform(&w->straggle) < m->p_straggle[w->state];
}

static void markov_advance(struct markov_source *m, int worker, uint64_t iteration)
{
    struct markov_worker *w = &m->w[worker];
    if (w->iteration >= iteration)
        return;
    if (m->slow_nodes >= 0) {
        /* classes have no memory across epochs: only the straggle stream
         * steps, one uniform per iteration (the last one below) */
        for (; m->straggles && w->iteration + 1 < iteration; w->iteration++)
            rng_uniform(&w->straggle);
        w->iteration = iteration;
        if (epoch_of(m, iteration) != w->epoch) { /* O(workers): only at a new epoch */
            w->epoch = epoch_of(m, iteration);
            w->state = slow_set_state(m, worker, w->epoch);
        }
        straggle_draw(m, w);
        return;
    }
    for (; w->iteration < iteration; w->iteration++) {
        double u = rng_uniform(&w->chain);
        if (w->state == STATE_ACTIVE)
            w->state = u < m->p_active_to_slow ? STATE_SLOW : STATE_ACTIVE;
        else
            w->state = u < m->p_slow_to_active ? STATE_ACTIVE : STATE_SLOW;
        straggle_draw(m, w);
    }
}

static double markov_draw(struct latency_source *s, int worker, uint64_t iteration, double cost)
{
    struct markov_source *m = (struct markov_source *)s;
    struct markov_worker *w = &m->w[worker];
    markov_advance(m, worker, iteration);
    double x = cost * dist_sample(&m->state_dist[w->state], &w->service);
    return w->straggling ? x * m->straggle_factor : x;
}

static double markov_slow_fraction(const struct markov_source *m)
{
    if (m->slow_nodes >= 0)
        return (double)m->slow_nodes / m->base.workers;
    return m->p_active_to_slow / (m->p_active_to_slow + m->p_slow_to_active);
}

/* Mean of one draw of class c: its distribution's, times the straggle
 * factor with probability p_straggle[c]. */
static double class_mean(const struct markov_source *m, int c)
{
    double mean = dist_mean(&m->state_dist[c]);
    return m->straggles ? mean * (1.0 + m->p_straggle[c] * (m->straggle_factor - 1.0)) : mean;
}

static double markov_mean(const struct latency_source *s)
{
    const struct markov_source *m = (const struct markov_source *)s;
    double pi_slow = markov_slow_fraction(m);
    return (1.0 - pi_slow) * class_mean(m, STATE_ACTIVE) + pi_slow * class_mean(m, STATE_SLOW);
}

static void markov_free(struct latency_source *s)
{
    struct markov_source *m = (struct markov_source *)s;
    free(m->w);
    free(m->order);
    free(m);
}

static double markov_max(const struct latency_source *s)
{
    const struct markov_source *m = (const struct markov_source *)s;
    double x = fmax(dist_max(&m->state_dist[STATE_ACTIVE]), dist_max(&m->state_dist[STATE_SLOW]));
    return m->straggles ? x * m->straggle_factor : x;
}

static const struct latency_ops markov_ops = {markov_draw, markov_mean, markov_free, markov_max};

/* The class keys: the chain's two probabilities, or n_s and T. */
static int classes_parse(const struct params *p, int workers, struct markov_source *m,
                         struct error *err)
{
    int rc;
    m->slow_nodes = -1;
    if (params_has(p, "latency.slow_nodes")) {
        double n_s, every = 0;
        if ((rc = latency_param_real(p, "latency.slow_nodes", NULL, NULL, false, 0, &n_s, err)) ||
            (rc = latency_param_real(p, "latency.reclass_every", NULL, NULL, false, 0, &every,
                                     err)))
            return rc;
        if (n_s > workers)
            return error_at_key(err, p, "latency.slow_nodes",
                                "%.0f slow nodes, more than cluster.workers (%d)", n_s, workers);
        m->slow_nodes = (int)n_s;
        m->reclass_every = (long)every;
        return 0;
    }
    if ((rc = latency_param_real(p, "latency.p_active_to_slow", "latency.kind", "markov", true, 0,
                                 &m->p_active_to_slow, err)) ||
        (rc = latency_param_real(p, "latency.p_slow_to_active", "latency.kind", "markov", true, 0,
                                 &m->p_slow_to_active, err)))
        return rc;
    if (m->p_active_to_slow + m->p_slow_to_active <= 0)
        return error_at_key(err, p, "latency.p_slow_to_active",
                            "p_active_to_slow and p_slow_to_active are both 0: the chain has "
                            "no stationary distribution to start from (for permanent classes "
                            "set latency.slow_nodes)");
    return 0;
}

/* The straggle keys: per-class probabilities and the factor. */
static int straggles_parse(const struct params *p, struct markov_source *m, struct error *err)
{
    int rc;
    if ((rc = latency_param_real(p, "latency.p_straggle_active", NULL, NULL, false, 0,
                                 &m->p_straggle[STATE_ACTIVE], err)) ||
        (rc = latency_param_real(p, "latency.p_straggle_slow", NULL, NULL, false, 0,
                                 &m->p_straggle[STATE_SLOW], err)))
        return rc;
    m->straggles = m->p_straggle[STATE_ACTIVE] > 0 || m->p_straggle[STATE_SLOW] > 0;
    m->straggle_factor = 1.0;
    if (!m->straggles)
        return 0;
    if (!params_has(p, "latency.straggle_factor"))
        return error_at_key(err, p,
                            m->p_straggle[STATE_SLOW] > 0 ? "latency.p_straggle_slow"
                                                          : "latency.p_straggle_active",
                            "above 0 needs latency.straggle_factor (how much slower a "
                            "straggling draw is)");
    if ((rc = latency_param_real(p, "latency.straggle_factor", NULL, NULL, false, 1.0,
                                 &m->straggle_factor, err)))
        return rc;
    if (markov_max(&m->base) > LATENCY_DURATION_MAX)
        return error_at_key(err, p, "latency.straggle_factor",
                            "straggling draws could exceed %g", LATENCY_DURATION_MAX);
    return 0;
}

static int markov_create(const struct params *p, int workers, uint64_t seed,
                         uint64_t point_key, struct latency_source **out, struct error *err)
{
    *out = NULL;
    struct markov_source m = {.base = {&markov_ops, workers}, .seed = seed,
                              .point_key = point_key};
    int rc;
    if ((rc = classes_parse(p, workers, &m, err)) ||
        (rc = dist_parse(p, "latency.active.", &m.state_dist[STATE_ACTIVE], err)) ||
        (rc = dist_parse(p, "latency.slow.", &m.state_dist[STATE_SLOW], err)) ||
        (rc = straggles_parse(p, &m, err)))
        return rc;

    struct markov_source *s = malloc(sizeof *s);
    m.w = calloc((size_t)workers, sizeof *m.w);
    m.order = calloc((size_t)workers, sizeof *m.order);
    if (!s || !m.w || !m.order) {
        free(s);
        free(m.w);
        free(m.order);
        return error_fail(err, "latency: out of memory");
    }
    double pi_slow = markov_slow_fraction(&m);
    for (int i = 0; i < workers; i++) {
        struct markov_worker *w = &m.w[i];
        rng_seed(&w->service, seed, point_key, RNG_SERVICE, (uint32_t)i);
        rng_seed(&w->chain, seed, point_key, RNG_STATE, (uint32_t)i);
        rng_seed(&w->straggle, seed, point_key, RNG_STATE, STRAGGLE_STREAM + (uint32_t)i);
        if (m.slow_nodes >= 0)
            w->state = slow_set_state(&m, i, 0);
        else
            w->state = rng_uniform(&w->chain) < pi_slow ? STATE_SLOW : STATE_ACTIVE;
        w->iteration = 0;
        straggle_draw(&m, w);
    }
    *s = m;
    *out = &s->base;
    return 0;
}

/* Whether the value of `key` in p is a number above 0 (an unset or
 * malformed value is not: the create function reports it). */
static bool positive(const struct params *p, const char *key)
{
    const char *v = params_get(p, key);
    return v && strtod(v, NULL) > 0;
}

static bool markov_reads(const struct params *p, const char *key)
{
    bool exact = params_has(p, "latency.slow_nodes");
    if (strcmp(key, "latency.p_active_to_slow") == 0 ||
        strcmp(key, "latency.p_slow_to_active") == 0)
        return !exact;
    if (strcmp(key, "latency.reclass_every") == 0)
        return exact;
    if (strcmp(key, "latency.straggle_factor") == 0)
        return positive(p, "latency.p_straggle_active") || positive(p, "latency.p_straggle_slow");
    return strcmp(key, "latency.slow_nodes") == 0 ||
           strcmp(key, "latency.p_straggle_active") == 0 ||
           strcmp(key, "latency.p_straggle_slow") == 0 ||
           dist_reads(p, "latency.active.", key) || dist_reads(p, "latency.slow.", key);
}

const struct latency_kind latency_markov = {
    "markov", "per-worker active/slow classes (a chain, or exactly n_s slow), one step per iteration",
    markov_create, markov_reads};
