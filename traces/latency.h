/* latency.h: latency sources, behind one interface: "duration of the next
 * task of cost c on worker w at iteration t".
 *
 * A task's duration is cost times one draw from its worker's latency
 * source: for shifted_exp that is cost*shift + Exp(rate/cost), the model of
 * Lee et al. (doc/theory.md §1). Replay values are durations times
 * latency.scale.
 *
 * Kinds: exp, shifted_exp, pareto, lognormal, weibull, bimodal, markov,
 * replay. Each kind is a const struct latency_kind in its own file, listed
 * once in latency.c's registry. Every source draws from its own per-worker
 * streams (RNG_SERVICE, index = worker; markov chains from RNG_STATE), so a
 * worker's durations do not depend on what other workers did.
 *
 * `iteration` is the job's arrival ordinal (training: the iteration number).
 * Calls for one worker come with non-decreasing iterations in a simulation;
 * sources with state across iterations (markov, replay) key on it, so
 * several tasks of one job on one worker see the same state.
 *
 * Files: the kinds are grouped one family per file: dist.c (the six i.i.d.
 * kinds over one parametric sampler, also used for each markov state),
 * markov.c, replay.c (with trace_csv.c, the CSV reader). Bimodal's base is
 * shifted_exp(shift, rate) with shift 0 when unset.
 *
 * Markov: each worker's chain starts at iteration 0 in a state drawn from
 * the stationary distribution and steps once per iteration (RNG_STATE
 * stream), so its state at iteration t is a function of (seed, point key,
 * worker, t) alone. With latency.slow_nodes the chain is replaced by
 * exactly n_s slow workers (permanent, or re-drawn every
 * latency.reclass_every iterations), and latency.p_straggle_* make a
 * worker of each class straggle (its draw times latency.straggle_factor)
 * with its class's probability per iteration (markov.c).
 *
 * Replay mapping rule (N simulated workers, a trace with W workers = its
 * distinct worker ids in increasing order, and I iterations = its distinct
 * iteration values in increasing order, numbered 0..I-1):
 *   - simulated worker w replays trace worker w mod W (N <= W: the first N);
 *   - copy c = w / W of a trace worker is shifted by c * I / ceil(N / W)
 *     iterations (integer division), so copies are not identical;
 *   - iteration t reads trace iteration (t + shift) mod I: the trace wraps;
 *   - a missing (worker, iteration) cell repeats that worker's previous
 *     present value (before its first present value: the first one).
 */
#ifndef STRAG_LATENCY_H
#define STRAG_LATENCY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "base/params.h"
#include "base/rng.h"

struct latency_source;

struct latency_ops {
    double (*draw)(struct latency_source *s, int worker, uint64_t iteration, double cost);
    /* Mean of one unit-cost draw, or NAN if unknown (used by reports/tests). */
    double (*mean)(const struct latency_source *s);
    void (*free)(struct latency_source *s);
    /* The largest unit-cost draw the source can return (a bound from its
     * parameters and the samplers' extremes, rng.h), finite. */
    double (*max)(const struct latency_source *s);
};

/* The limit on a task's duration (cost times a draw, plus the network
 * delays): a source whose draws could exceed it is refused when it is
 * created, and the run loop refuses a task cost or network delay that would
 * (run.c). Why 1e100: a run's simulated time is a sum of at most ~1e20
 * durations, and the statistics square such sums (variances), so sums stay
 * below 1e120 and squares below 1e240, far from DBL_MAX (1.8e308). */
#define LATENCY_DURATION_MAX 1e100

/* Every source starts with this header; kinds extend it. */
struct latency_source {
    const struct latency_ops *ops;
    int workers;
};

struct latency_kind {
    const char *name;    /* the latency.kind value */
    const char *summary; /* one line for `config --list` */
    /* Builds a source from validated params (latency.* keys, defaults filled;
     * a file by params_path). Reports semantic errors with error_at_key() /
     * error_at() and returns nonzero. */
    int (*create)(const struct params *p, int workers, uint64_t seed, uint64_t point_key,
                  struct latency_source **out, struct error *err);
    /* Whether a source of this kind, built from p, reads the latency.* key
     * `key` (latency.kind itself is always read). The point key and the
     * params table keep exactly the keys their kinds read. */
    bool (*reads)(const struct params *p, const char *key);
};

/* All latency.* keys (one table for every kind: `kind` selects which matter). */
extern const struct config_key latency_keys[];

/* The registry: NULL-terminated. */
extern const struct latency_kind *const latency_kinds[];
const struct latency_kind *latency_kind_find(const char *name);

/* Builds the source named by latency.kind. */
int latency_new(const struct params *p, int workers, uint64_t seed, uint64_t point_key,
                struct latency_source **out, struct error *err);

static inline double latency_draw(struct latency_source *s, int worker, uint64_t iteration,
                                  double cost)
{
    return s->ops->draw(s, worker, iteration, cost);
}

/* The common hot case without the indirect calls: an i.i.d. exp or
 * shifted_exp source. When `s` is one, fills *out and returns true; a draw
 * of cost c on worker w is then c * (shift + rng_exp(&streams[w], rate)),
 * bit for bit what latency_draw returns, from the same stream (the cluster
 * draws so itself: cluster_use_shifted_exp). Unit draws of a worker depend
 * on nothing but its stream, so a caller may take one ahead. */
struct latency_shifted_exp {
    double shift, rate;
    struct rng *streams; /* [workers], the source's own */
};
bool latency_as_shifted_exp(const struct latency_source *s, struct latency_shifted_exp *out);

static inline double latency_max(const struct latency_source *s) { return s->ops->max(s); }

void latency_free(struct latency_source *s);

/* Whether the source p names reads the latency.* key `key`: latency.kind
 * always; the others by their kind's `reads` (markov: its two
 * probabilities and the keys of the i.i.d. kinds named by latency.active.kind
 * and latency.slow.kind, under those prefixes, and its class and straggle
 * keys: markov.c's markov_reads). True for an unknown kind. */
bool latency_key_applies(const struct params *p, const char *key);

#endif
