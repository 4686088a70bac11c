/* test_rng.c: the random streams of base/rng.h: determinism per (seed, point
 * key, purpose, index), stream independence, and the distributions of the
 * ziggurat exponential, normal and bounded-integer draws against closed forms
 * (each within 4 standard errors at a fixed seed). */
#include <criterion/criterion.h>
#include <math.h>

#include "base/rng.h"

Test(rng, same_inputs_same_stream_other_inputs_other_stream)
{
    struct rng a, b, c;
    rng_seed(&a, 1, 2, RNG_SERVICE, 3);
    rng_seed(&b, 1, 2, RNG_SERVICE, 3);
    rng_seed(&c, 1, 2, RNG_SERVICE, 4);
    int same_c = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rng_next(&a);
        cr_assert_eq(x, rng_next(&b));
        same_c += x == rng_next(&c);
    }
    cr_assert_eq(same_c, 0);
}

Test(rng, uniform_is_open_and_centred)
{
    struct rng r;
    rng_seed(&r, 7, 0, RNG_DATA, 0);
    const int n = 1000000;
    double sum = 0;
    for (int i = 0; i < n; i++) {
        double u = rng_uniform(&r);
        cr_assert(u > 0.0 && u < 1.0);
        sum += u;
    }
    double se = sqrt(1.0 / 12.0 / n);
    cr_assert_lt(fabs(sum / n - 0.5), 4 * se);
}

/* The ziggurat's tail probabilities P(X > x) = exp(-x), checked at points
 * across every region: the fast layers, the wedges and the tail layer
 * beyond 7.697. */
Test(rng, ziggurat_exponential_matches_exp_tail_probabilities)
{
    struct rng r;
    rng_seed(&r, 11, 3, RNG_SERVICE, 1);
    const long n = 4000000;
    const double at[] = {0.1, 0.5, 1.0, 2.0, 3.0, 5.0, 7.0, 8.0};
    enum { NAT = sizeof at / sizeof at[0] };
    long above[NAT] = {0};
    double sum = 0, sum2 = 0;
    for (long i = 0; i < n; i++) {
        double x = rng_exp1(&r);
        cr_assert(x >= 0.0 && isfinite(x));
        sum += x;
        sum2 += x * x;
        for (int k = 0; k < NAT; k++)
            above[k] += x > at[k];
    }
    for (int k = 0; k < NAT; k++) {
        double p = exp(-at[k]), se = sqrt(p * (1 - p) / n);
        cr_assert_lt(fabs((double)above[k] / n - p), 4 * se, "P(X > %g) = %g, exact %g",
                     at[k], (double)above[k] / n, p);
    }
    cr_assert_lt(fabs(sum / n - 1.0), 4 * sqrt(1.0 / n));
    cr_assert_lt(fabs(sum2 / n - 2.0), 4 * sqrt(20.0 / n)); /* Var(X^2) = 24 - 4 */
}

Test(rng, exponential_rate_scales_the_draw)
{
    struct rng a, b;
    rng_seed(&a, 5, 5, RNG_SERVICE, 0);
    rng_seed(&b, 5, 5, RNG_SERVICE, 0);
    for (int i = 0; i < 1000; i++) {
        /* drawn outside the macro, which evaluates its arguments twice */
        double x = rng_exp(&a, 4.0), y = rng_exp1(&b) / 4.0;
        cr_assert_float_eq(x, y, 1e-15, "draw %d", i);
    }
}

Test(rng, normal_has_unit_variance)
{
    struct rng r;
    rng_seed(&r, 3, 1, RNG_DATA, 2);
    const int n = 1000000;
    double sum = 0, sum2 = 0;
    for (int i = 0; i < n; i++) {
        double z = rng_normal(&r);
        sum += z;
        sum2 += z * z;
    }
    cr_assert_lt(fabs(sum / n), 4 * sqrt(1.0 / n));
    cr_assert_lt(fabs(sum2 / n - 1.0), 4 * sqrt(2.0 / n));
}

Test(rng, below_is_uniform_over_its_range)
{
    struct rng r;
    rng_seed(&r, 9, 9, RNG_PLACEMENT, 0);
    enum { K = 7 };
    const int n = 700000;
    int count[K] = {0};
    for (int i = 0; i < n; i++) {
        uint64_t v = rng_below(&r, K);
        cr_assert_lt(v, (uint64_t)K);
        count[v]++;
    }
    double p = 1.0 / K, se = sqrt(p * (1 - p) / n);
    for (int k = 0; k < K; k++)
        cr_assert_lt(fabs((double)count[k] / n - p), 4 * se);
}
