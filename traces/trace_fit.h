/* trace_fit.h: maximum-likelihood fits of a sample of durations to the
 * latency kinds with a fixed parametric form, and the Kolmogorov-Smirnov
 * distance of each fit to the sample.
 *
 * Closed forms where they exist: exp (rate = 1/mean), shifted_exp (shift =
 * min, rate = 1/(mean - min)), pareto (scale = min, shape = n / sum ln(x/min)),
 * lognormal (mu, sigma of ln x with the 1/n variance). weibull solves the
 * profile-likelihood equation for the shape with GSL's Brent root finder.
 * Parameter names are the latency.* keys of traces/latency.h, so a fit prints
 * as a ready `[latency]` section.
 *
 * Pure math on an array of doubles: no file reading (that is trace_csv), no
 * drawing (that is the latency sources).
 */
#ifndef STRAG_TRACE_FIT_H
#define STRAG_TRACE_FIT_H

#include <stddef.h>
#include <stdio.h>

#include "base/error.h"

enum { TRACE_FIT_MAX_PARAMS = 2 };

struct trace_fit {
    const char *kind;                          /* latency.kind value */
    int nparams;
    const char *names[TRACE_FIT_MAX_PARAMS];   /* latency.* key names ("rate", ...) */
    double values[TRACE_FIT_MAX_PARAMS];
    size_t n;                                  /* samples fitted */
    double loglik;                             /* log-likelihood at the fit */
    double ks;                                 /* sup_x |F_n(x) - F(x)| */
};

/* The kinds trace_fit() accepts, "exp|shifted_exp|pareto|lognormal|weibull". */
extern const char trace_fit_kinds[];

/* The same names as a NULL-terminated array. */
extern const char *const trace_fit_kind_names[];

/* True when `kind` is one of trace_fit_kinds. */
int trace_fit_known(const char *kind);

/* Fits x[0..n) (any order; not modified) to `kind`. Samples outside the
 * kind's support (x <= 0 for pareto, lognormal, weibull; x < 0 for exp) or a
 * degenerate sample (n < 2, all equal) are STRAG_EINPUT with "source: why". */
int trace_fit(const double *x, size_t n, const char *kind, const char *source,
              struct trace_fit *out, struct error *err);

/* CDF of a fitted distribution at x. */
double trace_fit_cdf(const struct trace_fit *f, double x);

/* Kolmogorov-Smirnov distance of the fit to sorted[0..n) (ascending). */
double trace_fit_ks(const struct trace_fit *f, const double *sorted, size_t n);

/* Writes the fit as "[latency]\nkind = ...\nkey = value\n...; ks=... n=...\n".
 * `prefix` ("" or "active." / "slow.") prefixes kind and parameter keys, for
 * a markov state's distribution; with a nonempty prefix no section header is
 * written. */
void trace_fit_write(FILE *f, const struct trace_fit *fit, const char *prefix);

#endif
