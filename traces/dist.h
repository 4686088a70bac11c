/* dist.h: the parametric distributions of one latency draw (exp,
 * shifted_exp, pareto, lognormal, weibull, bimodal), read from latency.*
 * keys under a prefix so that the i.i.d. kinds ("latency.") and each state
 * of the markov chain ("latency.active.", "latency.slow.") share one parser
 * and one sampler. A draw is for unit cost; callers multiply by the cost.
 */
#ifndef STRAG_DIST_H
#define STRAG_DIST_H

#include "base/error.h"
#include "base/params.h"
#include "base/rng.h"

enum dist_family {
    DIST_SHIFTED_EXP, /* shift + Exp(rate); exp is shift = 0 */
    DIST_PARETO,      /* scale * U^(-1/shape): P(X > x) = (scale/x)^shape */
    DIST_LOGNORMAL,   /* exp(mu + sigma * N(0,1)) */
    DIST_WEIBULL,     /* scale * (-log U)^(1/shape) */
    DIST_BIMODAL,     /* shift + Exp(rate), times slow_factor with probability slow_prob */
};

struct dist {
    enum dist_family family;
    double rate, shift, scale, shape, mu, sigma, slow_prob, slow_factor;
};

/* Reads <prefix>kind and that kind's parameters (<prefix>rate, ...); refuses
 * parameters whose draws could exceed LATENCY_DURATION_MAX (latency.h),
 * naming the key that makes them so. */
int dist_parse(const struct params *p, const char *prefix, struct dist *d, struct error *err);

/* Whether dist_parse(p, prefix, ...) reads `key`: <prefix>kind and the keys
 * of the kind it names (none for an unknown kind). */
bool dist_reads(const struct params *p, const char *prefix, const char *key);

/* One unit-cost draw from stream r. A bimodal draw always consumes both its
 * uniforms (mode and base), so a stream's state is a function of the number
 * of draws made, never of which mode they fell in. */
double dist_sample(const struct dist *d, struct rng *r);

/* The largest draw dist_sample can return (from the samplers' extremes in
 * rng.h; may be INFINITY for absurd parameters, which dist_parse refuses). */
double dist_max(const struct dist *d);

/* Mean of one draw (INFINITY for a pareto with shape <= 1). */
double dist_mean(const struct dist *d);

#endif
