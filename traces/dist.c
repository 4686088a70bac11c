/* dist.c: the i.i.d. latency family. The parametric distributions of one
 * draw (parsed from latency.* keys under a prefix, sampled, their means),
 * and the six i.i.d. kinds built on them: exp, shifted_exp, pareto,
 * lognormal, weibull, bimodal. Each worker draws from its own stream
 * (RNG_SERVICE, index = worker); a task of cost c takes c times one draw,
 * so shifted_exp gives c*shift + Exp(rate/c) (Lee et al.).
 *
 * Bimodal's base is shifted_exp(shift, rate), shift 0 when unset: a draw is
 * that base, multiplied by slow_factor with probability slow_prob.
 *
 * No state across iterations here (markov.c has it), no GSL (libm's tgamma
 * suffices for the Weibull mean).
 */
#include "traces/dist.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traces/latency_impl.h"

/* The parameters a family may read, as bits of `reads` / `optional`. */
static const struct dist_field {
    const char *suffix;
    size_t offset;
} fields[] = {
    {"rate", offsetof(struct dist, rate)},
    {"shift", offsetof(struct dist, shift)},
    {"scale", offsetof(struct dist, scale)},
    {"shape", offsetof(struct dist, shape)},
    {"mu", offsetof(struct dist, mu)},
    {"sigma", offsetof(struct dist, sigma)},
    {"slow_prob", offsetof(struct dist, slow_prob)},
    {"slow_factor", offsetof(struct dist, slow_factor)},
};
enum {
    F_RATE = 1 << 0,
    F_SHIFT = 1 << 1,
    F_SCALE = 1 << 2,
    F_SHAPE = 1 << 3,
    F_MU = 1 << 4,
    F_SIGMA = 1 << 5,
    F_SLOW_PROB = 1 << 6,
    F_SLOW_FACTOR = 1 << 7,
};

/* kind name -> family and the keys it reads; `optional` keys default to 0. */
static const struct dist_spec {
    const char *name;
    enum dist_family family;
    unsigned reads, optional;
} specs[] = {
    {"exp", DIST_SHIFTED_EXP, F_RATE, 0},
    {"shifted_exp", DIST_SHIFTED_EXP, F_SHIFT | F_RATE, 0},
    {"pareto", DIST_PARETO, F_SCALE | F_SHAPE, 0},
    {"lognormal", DIST_LOGNORMAL, F_MU | F_SIGMA, 0},
    {"weibull", DIST_WEIBULL, F_SCALE | F_SHAPE, 0},
    {"bimodal", DIST_BIMODAL, F_SHIFT | F_RATE | F_SLOW_PROB | F_SLOW_FACTOR, F_SHIFT},
};

double dist_max(const struct dist *d)
{
    double base = d->shift + RNG_EXP1_MAX / d->rate; /* shifted_exp and bimodal's base */
    switch (d->family) {
    case DIST_SHIFTED_EXP:
        return base;
    case DIST_PARETO:
        return d->scale * pow(RNG_UNIFORM_MIN, -1.0 / d->shape);
    case DIST_LOGNORMAL:
        return exp(d->mu + d->sigma * RNG_NORMAL_MAX);
    case DIST_WEIBULL:
        return d->scale * pow(RNG_EXP1_MAX, 1.0 / d->shape);
    case DIST_BIMODAL:
        return fmax(d->slow_factor, 1.0) * base;
    }
    return INFINITY;
}

/* Refuses a distribution whose largest draw exceeds LATENCY_DURATION_MAX,
 * blaming the parameter that makes it so: the larger term of a sum, the
 * scale when it alone is too large, else the shape. */
static int dist_bound(const struct dist *d, const struct params *p, const char *prefix,
                      struct error *err)
{
    double max = dist_max(d), limit = LATENCY_DURATION_MAX;
    if (max <= limit)
        return 0;
    const char *culprit = "shape";
    switch (d->family) {
    case DIST_SHIFTED_EXP:
    case DIST_BIMODAL: {
        double base = d->shift + RNG_EXP1_MAX / d->rate;
        culprit = base <= limit ? "slow_factor" : d->shift >= RNG_EXP1_MAX / d->rate ? "shift"
                                                                                     : "rate";
        break;
    }
    case DIST_PARETO:
    case DIST_WEIBULL:
        culprit = d->scale * RNG_EXP1_MAX > limit ? "scale" : "shape";
        break;
    case DIST_LOGNORMAL:
        culprit = d->mu >= d->sigma * RNG_NORMAL_MAX ? "mu" : "sigma";
        break;
    }
    char key[64];
    snprintf(key, sizeof key, "%s%s", prefix, culprit);
    char reach[64];
    snprintf(reach, sizeof reach, isinf(max) ? "overflow" : "reach %.3g", max);
    return error_at_key(err, p, key, "draws could %s, beyond the limit %g on a task's duration",
                        reach, limit);
}

int dist_parse(const struct params *p, const char *prefix, struct dist *d, struct error *err)
{
    char kind_key[64], key[64];
    snprintf(kind_key, sizeof kind_key, "%skind", prefix);
    const char *kind;
    int rc = latency_param_string(p, kind_key, NULL, NULL, false, &kind, err);
    if (rc)
        return rc;
    if (!kind)
        return error_at_key(err, p, kind_key, "missing (expected one of %s)",
                            config_key_find(latency_keys, kind_key)->choices);
    const struct dist_spec *spec = NULL;
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (strcmp(specs[i].name, kind) == 0)
            spec = &specs[i];
    if (!spec)
        return error_at_key(err, p, kind_key, "'%s' is not an i.i.d. distribution", kind);

    memset(d, 0, sizeof *d);
    d->family = spec->family;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (!(spec->reads & (1u << i)))
            continue;
        snprintf(key, sizeof key, "%s%s", prefix, fields[i].suffix);
        double *field = (double *)((char *)d + fields[i].offset);
        rc = latency_param_real(p, key, kind_key, kind, !(spec->optional & (1u << i)), 0.0,
                                field, err);
        if (rc)
            return rc;
    }
    return dist_bound(d, p, prefix, err);
}

bool dist_reads(const struct params *p, const char *prefix, const char *key)
{
    size_t n = strlen(prefix);
    if (strncmp(key, prefix, n) != 0)
        return false;
    if (strcmp(key + n, "kind") == 0)
        return true;
    char kind_key[64];
    snprintf(kind_key, sizeof kind_key, "%skind", prefix);
    const char *kind = params_get(p, kind_key);
    for (size_t s = 0; kind && s < sizeof specs / sizeof specs[0]; s++)
        for (size_t i = 0; strcmp(specs[s].name, kind) == 0 && i < sizeof fields / sizeof fields[0]; i++)
            if ((specs[s].reads & (1u << i)) && strcmp(key + n, fields[i].suffix) == 0)
                return true;
    return false;
}

double dist_sample(const struct dist *d, struct rng *r)
{
    switch (d->family) {
    case DIST_SHIFTED_EXP:
        return d->shift + rng_exp(r, d->rate);
    case DIST_PARETO:
        return d->scale * pow(rng_uniform(r), -1.0 / d->shape);
    case DIST_LOGNORMAL:
        return exp(d->mu + d->sigma * rng_normal(r));
    case DIST_WEIBULL:
        return d->scale * pow(rng_exp1(r), 1.0 / d->shape);
    case DIST_BIMODAL: {
        double u = rng_uniform(r);
        double base = d->shift + rng_exp(r, d->rate);
        return u < d->slow_prob ? d->slow_factor * base : base;
    }
    }
    return NAN;
}

double dist_mean(const struct dist *d)
{
    switch (d->family) {
    case DIST_SHIFTED_EXP:
        return d->shift + 1.0 / d->rate;
    case DIST_PARETO:
        return d->shape > 1.0 ? d->shape * d->scale / (d->shape - 1.0) : INFINITY;
    case DIST_LOGNORMAL:
        return exp(d->mu + 0.5 * d->sigma * d->sigma);
    case DIST_WEIBULL:
        return d->scale * tgamma(1.0 + 1.0 / d->shape);
    case DIST_BIMODAL:
        return (1.0 - d->slow_prob + d->slow_prob * d->slow_factor) * (d->shift + 1.0 / d->rate);
    }
    return NAN;
}

/* ---- the i.i.d. latency kinds ---- */

struct iid_source {
    struct latency_source base;
    struct dist dist;
    struct rng *streams; /* [workers]: RNG_SERVICE stream of each worker */
};

static double iid_draw(struct latency_source *s, int worker, uint64_t iteration, double cost)
{
    (void)iteration; /* i.i.d.: no memory across iterations */
    struct iid_source *is = (struct iid_source *)s;
    return cost * dist_sample(&is->dist, &is->streams[worker]);
}

static double iid_mean(const struct latency_source *s)
{
    return dist_mean(&((const struct iid_source *)s)->dist);
}

static void iid_free(struct latency_source *s)
{
    struct iid_source *is = (struct iid_source *)s;
    free(is->streams);
    free(is);
}

static double iid_max(const struct latency_source *s)
{
    return dist_max(&((const struct iid_source *)s)->dist);
}

static const struct latency_ops iid_ops = {iid_draw, iid_mean, iid_free, iid_max};

bool latency_as_shifted_exp(const struct latency_source *s, struct latency_shifted_exp *out)
{
    if (s->ops != &iid_ops)
        return false;
    const struct iid_source *is = (const struct iid_source *)s;
    if (is->dist.family != DIST_SHIFTED_EXP)
        return false;
    /* the same sum and product as dist_sample and iid_draw */
    *out = (struct latency_shifted_exp){is->dist.shift, is->dist.rate, is->streams};
    return true;
}

/* One create for all six kinds: latency.kind says which distribution. */
static int iid_create(const struct params *p, int workers, uint64_t seed, uint64_t point_key,
                      struct latency_source **out, struct error *err)
{
    *out = NULL;
    struct dist d;
    int rc = dist_parse(p, "latency.", &d, err);
    if (rc)
        return rc;
    struct iid_source *s = calloc(1, sizeof *s);
    struct rng *streams = calloc((size_t)workers, sizeof *streams);
    if (!s || !streams) {
        free(s);
        free(streams);
        return error_fail(err, "latency: out of memory");
    }
    for (int w = 0; w < workers; w++)
        rng_seed(&streams[w], seed, point_key, RNG_SERVICE, (uint32_t)w);
    *s = (struct iid_source){{&iid_ops, workers}, d, streams};
    *out = &s->base;
    return 0;
}

static bool iid_reads(const struct params *p, const char *key)
{
    return dist_reads(p, "latency.", key);
}

const struct latency_kind latency_exp = {"exp", "Exp(rate): memoryless", iid_create, iid_reads};
const struct latency_kind latency_shifted_exp = {
    "shifted_exp", "shift + Exp(rate): the Lee et al. model", iid_create, iid_reads};
const struct latency_kind latency_pareto = {
    "pareto", "Pareto(x_m = scale, alpha = shape): heavy tail", iid_create, iid_reads};
const struct latency_kind latency_lognormal = {
    "lognormal", "exp(N(mu, sigma^2))", iid_create, iid_reads};
const struct latency_kind latency_weibull = {"weibull", "Weibull(scale, shape)", iid_create, iid_reads};
const struct latency_kind latency_bimodal = {
    "bimodal", "shifted_exp(shift, rate), x slow_factor with probability slow_prob", iid_create, iid_reads};
