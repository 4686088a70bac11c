/* test_trace_tools.c: the math under `stragsim trace stats|fit`, without
 * the CLI (the commands: test_cmd_trace.c). Fits recover the parameters of
 * 10^5 draws of every latency kind within 2% (draws from the latency sources
 * themselves, so parameter names and meanings must agree); Spearman ranks
 * with ties; persistence is 1 for a trace whose ranks never change, ~0 for
 * i.i.d. draws and >= 0.7 on the shipped Alibaba traces; the Markov
 * estimates of a generated Markov trace are within 4 standard errors of the
 * truth. Fixed seeds throughout. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/params.h"
#include "traces/latency.h"
#include "traces/trace_fit.h"
#include "traces/trace_stats.h"

TestSuite(trace_tools);

/* ---- helpers ---- */

/* params from "key", "value", ... pairs (NULL-terminated). */
static struct params *params_of(const char *const *kv)
{
    struct params *p = params_new();
    cr_assert_not_null(p);
    for (; kv[0]; kv += 2)
        params_set(p, kv[0], kv[1], "test.ini", 1);
    return p;
}

static struct latency_source *source_of(const char *const *kv, int workers, uint64_t seed)
{
    struct params *p = params_of(kv);
    struct latency_source *s;
    struct error err;
    int rc = latency_new(p, workers, seed, 99, &s, &err);
    cr_assert_eq(rc, 0, "latency_new: %s", err.msg);
    params_free(p);
    return s;
}

/* A workers x iterations trace of unit-cost draws from a source. */
static struct trace_data *trace_of(struct latency_source *s, int workers, int iterations)
{
    struct trace_data *d = calloc(1, sizeof *d);
    size_t n = (size_t)workers * (size_t)iterations;
    d->path = strdup("generated");
    d->n = n;
    d->worker = malloc(n * sizeof(double));
    d->iteration = malloc(n * sizeof(double));
    d->value = malloc(n * sizeof(double));
    d->lines = malloc(n * sizeof(int));
    cr_assert(d->path && d->worker && d->iteration && d->value && d->lines);
    size_t r = 0;
    for (int i = 0; i < iterations; i++) {
        for (int w = 0; w < workers; w++, r++) {
            d->worker[r] = w;
            d->iteration[r] = i;
            d->value[r] = latency_draw(s, w, (uint64_t)i, 1.0);
            d->lines[r] = (int)r + 2;
        }
    }
    return d;
}

static struct trace_stats *stats_of(const struct trace_data *d, double threshold)
{
    struct trace_stats *s;
    struct error err;
    int rc = trace_stats_compute(d, threshold, "shifted_exp", &s, &err);
    cr_assert_eq(rc, 0, "trace_stats_compute: %s", err.msg);
    return s;
}

/* ---- fits ---- */

/* Draws 10^5 values from the kind's source and checks every fitted
 * parameter against the latency.<name> it was drawn with. */
static void check_recovery(const char *const *kv)
{
    enum { N = 100000 };
    struct latency_source *s = source_of(kv, 1, 2024);
    double *x = malloc(N * sizeof *x);
    for (int i = 0; i < N; i++)
        x[i] = latency_draw(s, 0, (uint64_t)i, 1.0);
    struct params *p = params_of(kv);
    const char *kind = params_get(p, "latency.kind");
    struct trace_fit fit;
    struct error err;
    cr_assert_eq(trace_fit(x, N, kind, "sample", &fit, &err), 0, "%s", err.msg);
    cr_assert_str_eq(fit.kind, kind);
    for (int k = 0; k < fit.nparams; k++) {
        char key[64];
        snprintf(key, sizeof key, "latency.%s", fit.names[k]);
        cr_assert(params_has(p, key), "%s fit names %s, not a key it was drawn with", kind, key);
        double truth = params_real(p, key);
        cr_expect_lt(fabs(fit.values[k] - truth), 0.02 * fabs(truth), "%s %s: fitted %g, true %g",
                     kind, fit.names[k], fit.values[k], truth);
    }
    cr_expect_lt(fit.ks, 0.01, "%s: KS distance %g", kind, fit.ks);
    params_free(p);
    free(x);
    latency_free(s);
}

Test(trace_tools, fit_exp)
{
    check_recovery((const char *[]){"latency.kind", "exp", "latency.rate", "2.5", NULL});
}

Test(trace_tools, fit_shifted_exp)
{
    check_recovery((const char *[]){"latency.kind", "shifted_exp", "latency.shift", "0.5",
                                    "latency.rate", "3", NULL});
}

Test(trace_tools, fit_pareto)
{
    check_recovery((const char *[]){"latency.kind", "pareto", "latency.scale", "1.5",
                                    "latency.shape", "2.5", NULL});
}

Test(trace_tools, fit_lognormal)
{
    check_recovery((const char *[]){"latency.kind", "lognormal", "latency.mu", "1",
                                    "latency.sigma", "0.6", NULL});
}

Test(trace_tools, fit_weibull)
{
    check_recovery((const char *[]){"latency.kind", "weibull", "latency.scale", "2",
                                    "latency.shape", "1.7", NULL});
}

Test(trace_tools, fit_weibull_heavy_shape_below_one)
{
    check_recovery((const char *[]){"latency.kind", "weibull", "latency.scale", "0.8",
                                    "latency.shape", "0.6", NULL});
}

Test(trace_tools, fit_rejects_bad_samples)
{
    struct trace_fit fit;
    struct error err;
    double zero[] = {0, 1, 2}, same[] = {3, 3, 3}, neg[] = {1, -1};
    cr_assert_eq(trace_fit(zero, 3, "pareto", "f.csv", &fit, &err), STRAG_EINPUT);
    cr_expect_str_eq(err.msg, "f.csv: pareto fit needs values > 0, got 0");
    cr_assert_eq(trace_fit(same, 3, "exp", "f.csv", &fit, &err), STRAG_EINPUT);
    cr_expect_str_eq(err.msg, "f.csv: exp fit: all 3 values equal 3");
    cr_assert_eq(trace_fit(neg, 2, "exp", "f.csv", &fit, &err), STRAG_EINPUT);
    cr_expect_str_eq(err.msg, "f.csv: exp fit needs values >= 0, got -1");
    cr_assert_eq(trace_fit(same, 1, "weibull", "f.csv", &fit, &err), STRAG_EINPUT);
    cr_expect_str_eq(err.msg, "f.csv: weibull fit needs at least 2 values, got 1");
    cr_assert_eq(trace_fit(same, 3, "gamma", "f.csv", &fit, &err), STRAG_EINPUT);
    cr_expect_str_eq(err.msg, "f.csv: unknown distribution 'gamma' (expected "
                              "exp|shifted_exp|pareto|lognormal|weibull)");
}

/* ---- Spearman and persistence ---- */

Test(trace_tools, spearman_ranks_and_ties)
{
    double a[] = {1, 2, 3, 4}, rev[] = {4, 3, 2, 1}, tied[] = {1, 1, 2, 3}, flat[] = {5, 5, 5, 5};
    cr_expect_float_eq(trace_spearman(a, a, 4), 1.0, 1e-12);
    cr_expect_float_eq(trace_spearman(a, rev, 4), -1.0, 1e-12);
    /* tied ranks 1.5 1.5 3 4 against 1 2 3 4: 4.5 / sqrt(4.5 * 5) */
    cr_expect_float_eq(trace_spearman(tied, a, 4), 4.5 / sqrt(22.5), 1e-12);
    cr_expect(isnan(trace_spearman(flat, a, 4)));
    cr_expect(isnan(trace_spearman(a, flat, 4)));
    cr_expect(isnan(trace_spearman(a, a, 1)));
}

Test(trace_tools, persistence_is_one_when_ranks_never_change)
{
    enum { W = 8, I = 50 };
    struct trace_data d = {.path = "ranks", .n = W * I};
    double worker[W * I], iteration[W * I], value[W * I];
    int lines[W * I];
    for (int i = 0; i < I; i++) {
        for (int w = 0; w < W; w++) {
            int r = i * W + w;
            worker[r] = w;
            iteration[r] = 10 * i + 1; /* sampled every 10th iteration, as Alibaba's */
            value[r] = 10.0 * (w + 1) + 3 * sin(i); /* one shift per iteration keeps ranks */
            lines[r] = r + 2;
        }
    }
    d.worker = worker;
    d.iteration = iteration;
    d.value = value;
    d.lines = lines;
    struct trace_stats *s = stats_of(&d, 1.5);
    cr_expect_float_eq(s->persistence, 1.0, 1e-12);
    cr_expect_eq(s->persistence_pairs, I - 1);
    cr_expect_eq(s->workers, W);
    cr_expect_eq(s->iterations, I);
    trace_stats_free(s);
}

Test(trace_tools, persistence_is_zero_for_iid_draws)
{
    struct latency_source *src =
        source_of((const char *[]){"latency.kind", "exp", "latency.rate", "1", NULL}, 16, 7);
    struct trace_data *d = trace_of(src, 16, 1000);
    struct trace_stats *s = stats_of(d, 1.5);
    /* 999 pairs of 16 workers: sd of the mean about 1/sqrt(15 * 999) = 0.008 */
    cr_expect_lt(fabs(s->persistence), 0.05, "persistence %g", s->persistence);
    cr_expect_eq(s->persistence_pairs, 999);
    trace_stats_free(s);
    trace_data_free(d);
    latency_free(src);
}

Test(trace_tools, persistence_of_the_shipped_alibaba_traces)
{
    const char *root = getenv("STRAGSIM_SOURCE_ROOT");
    cr_assert_not_null(root, "STRAGSIM_SOURCE_ROOT is not set (run through meson test)");
    for (int job = 1; job <= 4; job++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/traces/data/alibaba-pai/job_%d_norm.csv", root, job);
        struct trace_select sel = {0}; /* defaults: worker, time, batch_time_norm */
        struct trace_data *d;
        struct error err;
        cr_assert_eq(trace_data_load(path, &sel, TRACE_NEED_VALUE | TRACE_NEED_KEYS, &d, &err), 0,
                     "%s", err.msg);
        struct trace_stats *s = stats_of(d, 1.5);
        cr_expect_geq(s->persistence, 0.7, "job %d: persistence %g", job, s->persistence);
        cr_expect_eq(s->workers, 10, "job %d", job);
        trace_stats_free(s);
        trace_data_free(d);
    }
}

/* ---- the Markov model ---- */

Test(trace_tools, markov_estimates_match_a_generated_markov_trace)
{
    const double p_as = 0.05, p_sa = 0.3;
    struct latency_source *src = source_of(
        (const char *[]){"latency.kind", "markov", "latency.p_active_to_slow", "0.05",
                         "latency.p_slow_to_active", "0.3", "latency.active.kind", "shifted_exp",
                         "latency.active.shift", "1", "latency.active.rate", "20",
                         "latency.slow.kind", "shifted_exp", "latency.slow.shift", "4",
                         "latency.slow.rate", "1", NULL},
        20, 11);
    struct trace_data *d = trace_of(src, 20, 2000);
    struct trace_stats *s = stats_of(d, 1.5);
    const struct trace_markov *m = &s->markov;
    double from_active = (double)(m->transitions[0][0] + m->transitions[0][1]);
    double from_slow = (double)(m->transitions[1][0] + m->transitions[1][1]);
    double se_as = sqrt(p_as * (1 - p_as) / from_active), se_sa = sqrt(p_sa * (1 - p_sa) / from_slow);
    cr_expect_lt(fabs(m->p_active_to_slow - p_as), 4 * se_as, "p_active_to_slow %g (se %g)",
                 m->p_active_to_slow, se_as);
    cr_expect_lt(fabs(m->p_slow_to_active - p_sa), 4 * se_sa, "p_slow_to_active %g (se %g)",
                 m->p_slow_to_active, se_sa);
    /* each state's shifted_exp fit: shift = the state's minimum */
    cr_expect_str_eq(m->fit[0].kind, "shifted_exp");
    cr_expect_float_eq(m->fit[0].values[0], 1.0, 0.01);
    cr_expect_float_eq(m->fit[1].values[0], 4.0, 0.04);
    cr_expect_lt(fabs(m->fit[1].values[1] - 1.0), 0.1, "slow rate %g", m->fit[1].values[1]);
    trace_stats_free(s);
    trace_data_free(d);
    latency_free(src);
}
