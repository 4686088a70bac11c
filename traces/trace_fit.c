/* trace_fit.c: maximum-likelihood fits of durations to exp, shifted_exp,
 * pareto, lognormal and weibull, with the Kolmogorov-Smirnov distance (see
 * trace_fit.h). Uses GSL's CDFs, sort and root finder; never gsl_randist.h. */
#include "traces/trace_fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_sort.h>

const char trace_fit_kinds[] = "exp|shifted_exp|pareto|lognormal|weibull";
const char *const trace_fit_kind_names[] = {"exp", "shifted_exp", "pareto", "lognormal",
                                            "weibull", NULL};

/* Sufficient statistics shared by the closed forms. */
struct sample_moments {
    double min, max, mean, mean_log, var_log; /* mean_log, var_log only when all x > 0 */
};

static void moments(const double *x, size_t n, int logs, struct sample_moments *m)
{
    double s = 0, sl = 0;
    m->min = m->max = x[0];
    for (size_t i = 0; i < n; i++) {
        s += x[i];
        if (x[i] < m->min)
            m->min = x[i];
        if (x[i] > m->max)
            m->max = x[i];
        if (logs)
            sl += log(x[i]);
    }
    m->mean = s / (double)n;
    m->mean_log = sl / (double)n;
    m->var_log = 0;
    if (logs) {
        double v = 0;
        for (size_t i = 0; i < n; i++) {
            double d = log(x[i]) - m->mean_log;
            v += d * d;
        }
        m->var_log = v / (double)n; /* the MLE divides by n */
    }
}

/* The closed-form estimators (x is unused: the moments suffice). For
 * shifted_exp and pareto the likelihood grows with the shift / scale up to
 * the sample minimum, so the MLE is the minimum. */
static int exp_estimate(const double *x, size_t n, const struct sample_moments *m,
                        const char *source, double *v, struct error *err)
{
    (void)x, (void)n, (void)source, (void)err;
    v[0] = 1.0 / m->mean;
    return 0;
}
static int shifted_exp_estimate(const double *x, size_t n, const struct sample_moments *m,
                                const char *source, double *v, struct error *err)
{
    (void)x, (void)n, (void)source, (void)err;
    v[0] = m->min;
    v[1] = 1.0 / (m->mean - m->min);
    return 0;
}
static int pareto_estimate(const double *x, size_t n, const struct sample_moments *m,
                           const char *source, double *v, struct error *err)
{
    (void)x, (void)n, (void)source, (void)err;
    v[0] = m->min;
    v[1] = 1.0 / (m->mean_log - log(m->min));
    return 0;
}
static int lognormal_estimate(const double *x, size_t n, const struct sample_moments *m,
                              const char *source, double *v, struct error *err)
{
    (void)x, (void)n, (void)source, (void)err;
    v[0] = m->mean_log;
    v[1] = sqrt(m->var_log);
    return 0;
}

/* Weibull profile likelihood. With y = x / exp(mean ln x) (so mean ln y = 0)
 * the MLE shape k solves h(k) = sum(y^k ln y) / sum(y^k) - 1/k = 0; h rises
 * from -inf (k -> 0) to max ln y > 0 (k -> inf), so the root is unique.
 * Powers are taken relative to the largest ln y so y^k never overflows. */
struct weibull_data {
    double *logy; /* ln y_i */
    size_t n;
    double max_logy;
};

/* log(mean(y^k)) computed stably. */
static double weibull_log_mean_pow(const struct weibull_data *d, double k)
{
    double s = 0;
    for (size_t i = 0; i < d->n; i++)
        s += exp(k * (d->logy[i] - d->max_logy));
    return k * d->max_logy + log(s / (double)d->n);
}

static double weibull_profile(double k, void *arg)
{
    const struct weibull_data *d = arg;
    double num = 0, den = 0;
    for (size_t i = 0; i < d->n; i++) {
        double w = exp(k * (d->logy[i] - d->max_logy));
        num += w * d->logy[i];
        den += w;
    }
    return num / den - 1.0 / k;
}

static int weibull_estimate(const double *x, size_t n, const struct sample_moments *m,
                            const char *source, double *v, struct error *err)
{
    struct weibull_data d = {malloc(n * sizeof(double)), n, -INFINITY};
    if (!d.logy)
        return error_fail(err, "%s: out of memory", source);
    for (size_t i = 0; i < n; i++) {
        d.logy[i] = log(x[i]) - m->mean_log;
        if (d.logy[i] > d.max_logy)
            d.max_logy = d.logy[i];
    }
    gsl_function fn = {weibull_profile, &d};
    double lo = 1e-3, hi = 1.0;
    while (weibull_profile(hi, &d) < 0 && hi < 1e6)
        hi *= 2;
    while (weibull_profile(lo, &d) > 0 && lo > 1e-12)
        lo /= 2;
    int rc = 0;
    if (weibull_profile(hi, &d) < 0 || weibull_profile(lo, &d) > 0) {
        rc = error_at(err, source, 0, "weibull fit: no shape in [%g, %g] fits the sample", lo, hi);
        goto out;
    }
    /* The bracket is checked above, so GSL cannot fail for it; its default
     * handler aborts, which must never happen on user data. */
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    if (!s) {
        gsl_set_error_handler(old);
        rc = error_fail(err, "%s: out of memory", source);
        goto out;
    }
    gsl_root_fsolver_set(s, &fn, lo, hi);
    int status = GSL_CONTINUE;
    for (int iter = 0; iter < 200 && status == GSL_CONTINUE; iter++) {
        if (gsl_root_fsolver_iterate(s) != GSL_SUCCESS)
            break;
        status = gsl_root_test_interval(gsl_root_fsolver_x_lower(s), gsl_root_fsolver_x_upper(s),
                                        0, 1e-12);
    }
    double k = gsl_root_fsolver_root(s);
    gsl_root_fsolver_free(s);
    gsl_set_error_handler(old);
    if (status != GSL_SUCCESS) {
        rc = error_at(err, source, 0, "weibull fit: shape did not converge");
        goto out;
    }
    v[0] = exp(m->mean_log + weibull_log_mean_pow(&d, k) / k); /* scale */
    v[1] = k;                                                   /* shape */
out:
    free(d.logy);
    return rc;
}

/* Per-kind CDFs and log-likelihoods; v holds the parameters in the order
 * of the kind's names. */
static double exp_cdf(double x, const double *v)
{
    return x <= 0 ? 0 : gsl_cdf_exponential_P(x, 1.0 / v[0]);
}
static double exp_loglik(const double *v, const double *x, size_t n, const struct sample_moments *m)
{
    (void)x;
    return (double)n * (log(v[0]) - v[0] * m->mean);
}
static double shifted_exp_cdf(double x, const double *v)
{
    return x <= v[0] ? 0 : gsl_cdf_exponential_P(x - v[0], 1.0 / v[1]);
}
static double shifted_exp_loglik(const double *v, const double *x, size_t n,
                                 const struct sample_moments *m)
{
    (void)x;
    return (double)n * (log(v[1]) - v[1] * (m->mean - v[0]));
}
static double pareto_cdf(double x, const double *v)
{
    return x <= v[0] ? 0 : gsl_cdf_pareto_P(x, v[1], v[0]);
}
static double pareto_loglik(const double *v, const double *x, size_t n,
                            const struct sample_moments *m)
{
    (void)x;
    return (double)n * (log(v[1]) + v[1] * log(v[0]) - (v[1] + 1) * m->mean_log);
}
static double lognormal_cdf(double x, const double *v)
{
    return x <= 0 ? 0 : gsl_cdf_lognormal_P(x, v[0], v[1]);
}
static double lognormal_loglik(const double *v, const double *x, size_t n,
                               const struct sample_moments *m)
{
    (void)x;
    double d = m->mean_log - v[0], s2 = v[1] * v[1];
    return -(double)n * (m->mean_log + log(v[1]) + 0.5 * log(2 * M_PI) + (m->var_log + d * d) / (2 * s2));
}
static double weibull_cdf(double x, const double *v)
{
    return x <= 0 ? 0 : gsl_cdf_weibull_P(x, v[0], v[1]);
}
static double weibull_loglik(const double *v, const double *x, size_t n,
                             const struct sample_moments *m)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += pow(x[i] / v[0], v[1]);
    return (double)n * (log(v[1]) - v[1] * log(v[0]) + (v[1] - 1) * m->mean_log) - s;
}

/* One row per kind: parameter names (latency.* keys), support, CDF and
 * log-likelihood. */
struct fit_kind {
    const char *name;
    int nparams;
    const char *names[TRACE_FIT_MAX_PARAMS];
    int positive; /* support is x > 0 (else x >= 0) */
    int (*estimate)(const double *x, size_t n, const struct sample_moments *m, const char *source,
                    double *v, struct error *err);
    double (*cdf)(double x, const double *v);
    double (*loglik)(const double *v, const double *x, size_t n, const struct sample_moments *m);
};

static const struct fit_kind fit_kinds[] = {
    {"exp", 1, {"rate", NULL}, 0, exp_estimate, exp_cdf, exp_loglik},
    {"shifted_exp", 2, {"shift", "rate"}, 0, shifted_exp_estimate, shifted_exp_cdf, shifted_exp_loglik},
    {"pareto", 2, {"scale", "shape"}, 1, pareto_estimate, pareto_cdf, pareto_loglik},
    {"lognormal", 2, {"mu", "sigma"}, 1, lognormal_estimate, lognormal_cdf, lognormal_loglik},
    {"weibull", 2, {"scale", "shape"}, 1, weibull_estimate, weibull_cdf, weibull_loglik},
};
enum { NKINDS = sizeof fit_kinds / sizeof fit_kinds[0] };

static const struct fit_kind *kind_find(const char *name)
{
    for (size_t i = 0; i < NKINDS; i++)
        if (name && strcmp(fit_kinds[i].name, name) == 0)
            return &fit_kinds[i];
    return NULL;
}

int trace_fit_known(const char *kind) { return kind_find(kind) != NULL; }

double trace_fit_cdf(const struct trace_fit *f, double x)
{
    return kind_find(f->kind)->cdf(x, f->values);
}

double trace_fit_ks(const struct trace_fit *f, const double *sorted, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double F = trace_fit_cdf(f, sorted[i]);
        double below = F - (double)i / (double)n, above = (double)(i + 1) / (double)n - F;
        if (below > d)
            d = below;
        if (above > d)
            d = above;
    }
    return d;
}

int trace_fit(const double *x, size_t n, const char *kind, const char *source,
              struct trace_fit *out, struct error *err)
{
    const struct fit_kind *k = kind_find(kind);
    if (!k)
        return error_at(err, source, 0, "unknown distribution '%s' (expected %s)",
                        kind ? kind : "", trace_fit_kinds);
    if (n < 2)
        return error_at(err, source, 0, "%s fit needs at least 2 values, got %zu", k->name, n);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || x[i] < 0 || (k->positive && x[i] == 0))
            return error_at(err, source, 0, "%s fit needs values %s 0, got %g", k->name,
                            k->positive ? ">" : ">=", x[i]);
    }
    struct sample_moments m;
    moments(x, n, k->positive, &m);
    if (m.min == m.max)
        return error_at(err, source, 0, "%s fit: all %zu values equal %g", k->name, n, m.min);

    *out = (struct trace_fit){.kind = k->name, .nparams = k->nparams, .n = n};
    memcpy(out->names, k->names, sizeof out->names);
    int rc = k->estimate(x, n, &m, source, out->values, err);
    if (rc)
        return rc;
    out->loglik = k->loglik(out->values, x, n, &m);

    double *sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return error_fail(err, "%s: out of memory", source);
    memcpy(sorted, x, n * sizeof *sorted);
    gsl_sort(sorted, 1, n);
    out->ks = trace_fit_ks(out, sorted, n);
    free(sorted);
    return 0;
}

void trace_fit_write(FILE *f, const struct trace_fit *fit, const char *prefix)
{
    if (!prefix || !*prefix) {
        prefix = "";
        fprintf(f, "[latency]\n");
    }
    fprintf(f, "%skind = %s\n", prefix, fit->kind);
    for (int i = 0; i < fit->nparams; i++)
        fprintf(f, "%s%s = %.6g\n", prefix, fit->names[i], fit->values[i]);
    fprintf(f, "; %sks=%.4f n=%zu loglik=%.6g\n", prefix, fit->ks, fit->n, fit->loglik);
}
