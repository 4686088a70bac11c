/* test_stats.c: base/stats.c — Welford mean/variance against a two-pass
 * computation, quantiles by selection against a full sort (type-7
 * interpolation, ties, tiny inputs), and the batch-means standard error:
 * equal to the i.i.d. error for independent samples, larger for positively
 * correlated ones (an AR(1) sequence with a known long-run variance). */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "base/metrics.h"
#include "base/rng.h"
#include "base/stats.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* R type 7 on a sorted array. */
static double quantile_sorted(const double *v, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t k = (size_t)h;
    return k + 1 < n ? v[k] + (h - (double)k) * (v[k + 1] - v[k]) : v[k];
}

Test(stats, empty_and_single)
{
    struct stats *s = stats_new(0);
    cr_assert_not_null(s);
    cr_expect(isnan(stats_mean(s)));
    cr_expect(isnan(stats_quantile(s, 0.5)));
    cr_expect(isnan(stats_batch_se(s, STATS_BATCHES)));
    stats_add(s, 3.5);
    cr_expect_eq(stats_count(s), 1);
    cr_expect_eq(stats_mean(s), 3.5);
    cr_expect(isnan(stats_variance(s)));
    cr_expect_eq(stats_quantile(s, 0.0), 3.5);
    cr_expect_eq(stats_quantile(s, 0.999), 3.5);
    stats_reset(s);
    cr_expect_eq(stats_count(s), 0);
    stats_free(s);
    stats_free(NULL);
}

Test(stats, mean_and_variance_match_two_pass)
{
    struct rng r;
    rng_seed(&r, 1, 2, RNG_DATA, 0);
    enum { N = 10000 };
    static double v[N];
    struct stats *s = stats_new(16); /* grows past its hint */
    double sum = 0;
    for (int i = 0; i < N; i++) {
        v[i] = 1e6 + rng_exp(&r, 0.5); /* a large offset: naive sums would lose digits */
        sum += v[i];
        cr_assert_eq(stats_add(s, v[i]), 0);
    }
    double mean = sum / N, ss = 0;
    for (int i = 0; i < N; i++)
        ss += (v[i] - mean) * (v[i] - mean);
    cr_expect_float_eq(stats_mean(s), mean, 1e-9 * mean);
    cr_expect_float_eq(stats_variance(s), ss / (N - 1), 1e-8 * ss / (N - 1));
    stats_free(s);
}

Test(stats, quantiles_match_sorting)
{
    struct rng r;
    rng_seed(&r, 3, 4, RNG_DATA, 0);
    const size_t sizes[] = {1, 2, 3, 10, 1001, 20000};
    const double qs[] = {0, 0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 1};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        double *v = malloc(n * sizeof *v);
        for (size_t i = 0; i < n; i++)
            /* many ties: selection must cope with equal keys */
            v[i] = (i % 3 == 0) ? 7.0 : floor(rng_uniform(&r) * 50);
        qsort(v, n, sizeof *v, cmp_double);
        for (size_t qi = 0; qi < sizeof qs / sizeof qs[0]; qi++) {
            struct stats *s = stats_new(n);
            /* reverse-sorted input, then shuffled: two adversarial orders */
            for (size_t i = 0; i < n; i++)
                stats_add(s, v[n - 1 - i]);
            double got = stats_quantile(s, qs[qi]); /* once: the macro may evaluate twice */
            cr_expect_float_eq(got, quantile_sorted(v, n, qs[qi]), 1e-12, "n=%zu q=%g", n, qs[qi]);
            stats_free(s);
        }
        struct stats *s = stats_new(n);
        double *w = malloc(n * sizeof *w);
        for (size_t i = 0; i < n; i++)
            w[i] = v[i];
        for (size_t i = n; i > 1; i--) {
            size_t j = (size_t)rng_below(&r, i);
            double t = w[i - 1];
            w[i - 1] = w[j];
            w[j] = t;
        }
        for (size_t i = 0; i < n; i++)
            stats_add(s, w[i]);
        /* several quantiles from one store, as the workload asks for them */
        for (size_t qi = 0; qi < sizeof qs / sizeof qs[0]; qi++) {
            double got = stats_quantile(s, qs[qi]);
            cr_expect_float_eq(got, quantile_sorted(v, n, qs[qi]), 1e-12, "shuffled n=%zu q=%g", n,
                               qs[qi]);
        }
        stats_free(s);
        free(w);
        free(v);
    }
}

/* Each quantile selects on one side of the previous one's split: asked in
 * any order, and again after more samples, all smaller than the first
 * (which must drop the split: the low quantile asked first in round 2
 * lies among them, below the split left by round 1's last). */
Test(stats, quantiles_in_any_order_and_after_more_samples)
{
    struct rng r;
    rng_seed(&r, 5, 6, RNG_DATA, 0);
    enum { N = 3001 };
    static double v[2 * N];
    const double qs[] = {0.001, 0.99, 0.25, 0, 0.5, 1, 0.9, 0.5, 0.25, 0.999};
    struct stats *s = stats_new(0);
    for (int round = 1; round <= 2; round++) {
        size_t n = (size_t)round * N;
        for (size_t i = n - N; i < n; i++) {
            v[i] = floor(rng_uniform(&r) * 200) - (round == 2 ? 300 : 0); /* ties again */
            cr_assert_eq(stats_add(s, v[i]), 0);
        }
        double *sorted = malloc(n * sizeof *sorted);
        for (size_t i = 0; i < n; i++)
            sorted[i] = v[i];
        qsort(sorted, n, sizeof *sorted, cmp_double);
        for (size_t qi = 0; qi < sizeof qs / sizeof qs[0]; qi++) {
            /* once, outside the macro, which may evaluate its arguments twice */
            double got = stats_quantile(s, qs[qi]);
            cr_expect_float_eq(got, quantile_sorted(sorted, n, qs[qi]), 1e-12, "round %d q=%g",
                               round, qs[qi]);
        }
        free(sorted);
    }
    stats_free(s);
}

Test(stats, batch_se_iid_matches_classic)
{
    struct rng r;
    rng_seed(&r, 5, 6, RNG_DATA, 0);
    struct stats *s = stats_new(0);
    for (int i = 0; i < 200000; i++)
        stats_add(s, rng_exp(&r, 1.0));
    double classic = sqrt(stats_variance(s) / (double)stats_count(s));
    double batch = stats_batch_se(s, STATS_BATCHES);
    /* with 20 batches the estimate has ~16% relative spread; 50% is > 3 sigma */
    cr_expect(fabs(batch / classic - 1) < 0.5, "batch %g vs classic %g", batch, classic);
    stats_free(s);
}

Test(stats, batch_se_sees_correlation)
{
    /* AR(1): x_t = a x_{t-1} + e_t, e ~ N(0,1). Var(x) = 1/(1-a^2); the
     * long-run variance of the mean is n^-1 / (1-a)^2, i.e. the true error is
     * sqrt((1+a)/(1-a)) = sqrt(19) ~ 4.4 times the i.i.d. formula at a = 0.9. */
    const double a = 0.9;
    struct rng r;
    rng_seed(&r, 7, 8, RNG_DATA, 0);
    struct stats *s = stats_new(0);
    double x = 0;
    const int n = 400000;
    for (int i = 0; i < n; i++) {
        x = a * x + rng_normal(&r);
        stats_add(s, x);
    }
    double truth = sqrt(1.0 / n) / (1 - a);
    double batch = stats_batch_se(s, STATS_BATCHES);
    double classic = sqrt(stats_variance(s) / n);
    cr_expect(fabs(batch / truth - 1) < 0.5, "batch %g vs true %g", batch, truth);
    cr_expect(classic < truth / 3, "the i.i.d. formula underestimates: %g vs %g", classic, truth);
    stats_free(s);
}

Test(stats, batch_se_falls_back_when_short)
{
    struct stats *s = stats_new(0);
    const double v[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    for (int i = 0; i < 10; i++)
        stats_add(s, v[i]);
    /* 10 < 2 * 20 samples: i.i.d. estimate sqrt(var/n), var = 55/6 */
    cr_expect_float_eq(stats_batch_se(s, STATS_BATCHES), sqrt(55.0 / 6 / 10), 1e-12);
    /* 2 batches of 5: means 3 and 8, se = sqrt(var{3,8}/2) = 2.5 */
    cr_expect_float_eq(stats_batch_se(s, 2), 2.5, 1e-12);
    stats_free(s);
}

/* Undefined statistics (no samples, one sample for a variance) carry
 * metric_undefined()'s payload through arithmetic, and metric_list_check
 * accepts them; an overflow's inf or NaN (inf - inf) is refused by name. */
Test(stats, undefined_is_not_an_overflow)
{
    struct stats *s = stats_new(0);
    cr_assert_not_null(s);
    cr_assert(metric_is_undefined(stats_mean(s)));
    cr_assert_eq(stats_add(s, 2.0), 0);
    cr_assert(metric_is_undefined(stats_variance(s)));
    cr_assert(metric_is_undefined(sqrt(stats_variance(s) / 3.0)), "payload lost in arithmetic");
    double inf = INFINITY, overflow = inf - inf;
    cr_assert(isnan(overflow) && !metric_is_undefined(overflow));
    cr_assert(!metric_is_undefined(NAN) && !metric_is_undefined(1.0));

    struct metric_list m = {0};
    const char *bad = NULL;
    cr_assert_eq(metric_list_set(&m, "latency_mean", stats_mean(s)), 0);
    cr_assert_eq(metric_list_set(&m, "latency_se", stats_variance(s)), 0);
    cr_assert_eq(metric_list_check(&m, &bad), 0, "finite and undefined values are fine");
    cr_assert(metric_is_undefined(metric_list_get(&m, "absent")));
    double found = 0;
    cr_assert(!metric_list_find(&m, "absent", &found) && found == 0, "absent: not found, untouched");
    cr_assert(metric_list_find(&m, "latency_se", &found) && metric_is_undefined(found),
              "an undefined metric is present");
    cr_assert_eq(stats_add(s, DBL_MAX), 0);
    cr_assert_eq(stats_add(s, -DBL_MAX), 0);
    cr_assert_eq(metric_list_set(&m, "latency_p99", stats_variance(s)), 0); /* overflows */
    cr_assert_eq(metric_list_check(&m, &bad), -1);
    cr_assert_str_eq(bad, "latency_p99");
    cr_assert_eq(metric_list_set(&m, "latency_p99", 1.0), 0);
    cr_assert_eq(metric_list_set(&m, "rmse", overflow), 0);
    cr_assert_eq(metric_list_check(&m, &bad), -1);
    cr_assert_str_eq(bad, "rmse");
    metric_list_clear(&m);
    stats_free(s);
}
