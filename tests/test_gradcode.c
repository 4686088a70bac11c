/* test_gradcode.c: the gradient-code math (schemes/codes/gradcode.c): frc and crc
 * recover the full gradient for every straggler set of size s (n <= 12),
 * their supports have the shapes the constructions promise, frc decodes as
 * soon as every group reported, the approximate code's residual falls as
 * workers arrive, the rescaled and equal decoders are unbiased over uniformly
 * random straggler sets, and bad shapes give exact messages. Partition
 * gradients are random vectors from a fixed seed. Also the two small
 * helpers of the training schemes: partition shuffling (shuffle.c) and the
 * latency predictors (predictor.c).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "schemes/codes/gradcode.h"
#include "schemes/common/predictor.h"
#include "schemes/common/shuffle.h"

enum { DIM = 40 }; /* length of a partition gradient */

static struct gradcode *code_new(enum gradcode_kind kind, enum gradcode_decoder dec, int n,
                                 int s, int degree)
{
    struct rng r;
    rng_seed(&r, 42, (uint64_t)(n * 100 + s * 10 + degree), RNG_SCHEME, 0);
    struct gradcode *g = NULL;
    struct error err = {{0}};
    int status = gradcode_new(&g, kind, dec, n, s, degree, &r, &err);
    cr_assert_eq(status, 0, "%s", err.msg);
    return g;
}

/* parts: n x DIM random partition gradients; full = their sum. */
static void parts_random(int n, double *parts, double *full, uint64_t seed)
{
    struct rng r;
    rng_seed(&r, seed, 7, RNG_DATA, 0);
    memset(full, 0, DIM * sizeof *full);
    for (int j = 0; j < n; j++)
        for (int d = 0; d < DIM; d++) {
            parts[j * DIM + d] = rng_normal(&r);
            full[d] += parts[j * DIM + d];
        }
}

/* sum_l a_l f_{F_l} with f_i = sum_j B_ij parts_j, written to out (DIM). */
static void decode_apply(const struct gradcode *g, const double *parts, const int *F, int nf,
                         const double *a, double *out)
{
    memset(out, 0, DIM * sizeof *out);
    for (int l = 0; l < nf; l++)
        for (int j = 0; j < g->n; j++) {
            double w = a[l] * g->B[(size_t)F[l] * g->n + j];
            for (int d = 0; d < DIM; d++)
                out[d] += w * parts[j * DIM + d];
        }
}

static double rel_err(const double *x, const double *y)
{
    double num = 0.0, den = 0.0;
    for (int d = 0; d < DIM; d++) {
        num += (x[d] - y[d]) * (x[d] - y[d]);
        den += y[d] * y[d];
    }
    return sqrt(num / den);
}

/* The reported workers (increasing) of a straggler bitmask; returns |F|. */
static int survivors(int n, unsigned mask, int *F)
{
    int nf = 0;
    for (int i = 0; i < n; i++)
        if (!(mask & (1u << i)))
            F[nf++] = i;
    return nf;
}

/* Every straggler set of size s: exact decoding, residual ~ 0. Returns the
 * number of sets checked. */
static int check_every_pattern(enum gradcode_kind kind, int n, int s)
{
    struct gradcode *g = code_new(kind, GRADCODE_OPTIMAL, n, s, 0);
    double parts[12 * DIM], full[DIM], est[DIM];
    parts_random(n, parts, full, (uint64_t)(n * 10 + s));
    int F[12], sets = 0;
    struct error err;
    for (unsigned mask = 0; mask < (1u << n); mask++) {
        if (__builtin_popcount(mask) != s)
            continue;
        int nf = survivors(n, mask, F);
        cr_assert(gradcode_ready(g, nf, nf), "n=%d s=%d: not ready at n-s", n, s);
        const double *a;
        cr_assert_eq(gradcode_decode(g, F, nf, &a, &err), 0, "%s", err.msg);
        decode_apply(g, parts, F, nf, a, est);
        double e = rel_err(est, full), res = gradcode_residual(g, F, nf, a);
        cr_assert(e < 1e-6, "code %d n=%d s=%d stragglers %#x: relative error %g", kind, n, s,
                  mask, e);
        cr_assert(res < 1e-8, "code %d n=%d s=%d stragglers %#x: residual %g", kind, n, s, mask,
                  res);
        sets++;
    }
    /* a second pass is served from the cache */
    unsigned long misses = gradcode_cache_misses(g);
    for (unsigned mask = 0; mask < (1u << n); mask++)
        if (__builtin_popcount(mask) == s) {
            const double *a;
            int nf = survivors(n, mask, F);
            cr_assert_eq(gradcode_decode(g, F, nf, &a, &err), 0);
        }
    cr_assert_eq(gradcode_cache_misses(g), misses);
    cr_assert_eq(gradcode_cache_hits(g), (unsigned long)sets);
    gradcode_free(g);
    return sets;
}

static long binomial(int n, int k)
{
    long c = 1;
    for (int i = 1; i <= k; i++)
        c = c * (n - k + i) / i;
    return c;
}

Test(gradcode, frc_decodes_every_straggler_set)
{
    int codes = 0;
    for (int n = 6; n <= 12; n++)
        for (int s = 1; s <= 3; s++)
            if (n % (s + 1) == 0) {
                cr_assert_eq(check_every_pattern(GRADCODE_FRC, n, s), binomial(n, s));
                codes++;
            }
    cr_assert_eq(codes, 9); /* n,s = 6,1 6,2 8,1 8,3 9,2 10,1 12,1 12,2 12,3 */
}

Test(gradcode, crc_decodes_every_straggler_set)
{
    for (int n = 6; n <= 12; n++)
        for (int s = 1; s <= 3; s++)
            cr_assert_eq(check_every_pattern(GRADCODE_CRC, n, s), binomial(n, s));
}

Test(gradcode, crc_support_is_cyclic)
{
    struct gradcode *g = code_new(GRADCODE_CRC, GRADCODE_OPTIMAL, 10, 3, 0);
    cr_assert_eq(g->load, 4);
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(g->B[i * 10 + i], 1.0);
        for (int j = 0; j < 10; j++) {
            bool in = (j - i + 10) % 10 <= 3;
            cr_assert_eq(g->B[i * 10 + j] != 0.0, in, "B[%d][%d] = %g", i, j, g->B[i * 10 + j]);
        }
    }
    gradcode_free(g);
}

Test(gradcode, frc_is_block_diagonal_and_ready_when_groups_covered)
{
    struct gradcode *g = code_new(GRADCODE_FRC, GRADCODE_OPTIMAL, 12, 2, 0);
    cr_assert_eq(gradcode_groups(g), 4);
    for (int i = 0; i < 12; i++)
        for (int j = 0; j < 12; j++)
            cr_assert_eq(g->B[i * 12 + j], i / 3 == j / 3 ? 1.0 : 0.0);
    /* one worker of each group: 4 results, far fewer than n - s = 10 */
    int F[] = {2, 3, 7, 9};
    cr_assert(gradcode_ready(g, 4, 4));
    cr_assert(!gradcode_ready(g, 4, 3));
    double parts[12 * DIM], full[DIM], est[DIM];
    parts_random(12, parts, full, 5);
    const double *a;
    struct error err;
    cr_assert_eq(gradcode_decode(g, F, 4, &a, &err), 0);
    decode_apply(g, parts, F, 4, a, est);
    cr_assert(rel_err(est, full) < 1e-12);
    gradcode_free(g);
}

Test(gradcode, naive_waits_for_all_and_sums)
{
    struct gradcode *g = code_new(GRADCODE_NAIVE, GRADCODE_OPTIMAL, 8, 0, 0);
    cr_assert_eq(gradcode_wait(g), 8);
    cr_assert(!gradcode_ready(g, 7, 7));
    int F[8];
    int nf = survivors(8, 0, F);
    const double *a;
    struct error err;
    cr_assert_eq(gradcode_decode(g, F, nf, &a, &err), 0);
    for (int l = 0; l < 8; l++)
        cr_assert_float_eq(a[l], 1.0, 1e-12);
    gradcode_free(g);
}

/* Averaged over every straggler set of size s, the estimate equals g:
 * unbiased under uniformly random stragglers. */
static void check_unbiased(struct gradcode *g, int s, double weight)
{
    int n = g->n;
    double parts[12 * DIM], full[DIM], est[DIM], mean[DIM] = {0};
    parts_random(n, parts, full, 99);
    int F[12];
    long sets = 0;
    struct error err;
    for (unsigned mask = 0; mask < (1u << n); mask++) {
        if (__builtin_popcount(mask) != s)
            continue;
        int nf = survivors(n, mask, F);
        const double *a;
        cr_assert_eq(gradcode_decode(g, F, nf, &a, &err), 0, "%s", err.msg);
        if (weight > 0)
            for (int l = 0; l < nf; l++)
                cr_assert_float_eq(a[l], weight, 1e-12, "a[%d] = %g", l, a[l]);
        decode_apply(g, parts, F, nf, a, est);
        for (int d = 0; d < DIM; d++)
            mean[d] += est[d];
        sets++;
    }
    for (int d = 0; d < DIM; d++)
        mean[d] /= (double)sets;
    cr_assert(rel_err(mean, full) < 1e-12, "bias %g", rel_err(mean, full));
}

Test(gradcode, ignore_rescaling_is_unbiased)
{
    struct gradcode *g = code_new(GRADCODE_IGNORE, GRADCODE_RESCALED, 10, 3, 0);
    cr_assert_eq(gradcode_wait(g), 7);
    check_unbiased(g, 3, 10.0 / 7.0);
    /* a single pattern is not exact: residual of s missing partitions scaled */
    int F[10];
    int nf = survivors(10, 0x7u, F);
    const double *a;
    struct error err;
    cr_assert_eq(gradcode_decode(g, F, nf, &a, &err), 0);
    double expect = sqrt(7 * pow(10.0 / 7.0 - 1.0, 2) + 3.0);
    cr_assert_float_eq(gradcode_residual(g, F, nf, a), expect, 1e-12);
    gradcode_free(g);
}

Test(gradcode, approx_is_biregular)
{
    for (int d = 1; d <= 4; d++) {
        struct gradcode *g = code_new(GRADCODE_APPROX, GRADCODE_OPTIMAL, 12, 3, d);
        for (int i = 0; i < 12; i++) {
            int row = 0, col = 0;
            for (int j = 0; j < 12; j++) {
                row += g->B[i * 12 + j] != 0.0;
                col += g->B[j * 12 + i] != 0.0;
                cr_assert(g->B[i * 12 + j] == 0.0 || fabs(g->B[i * 12 + j] - 1.0 / d) < 1e-15);
            }
            cr_assert_eq(row, d, "d=%d row %d has %d entries", d, i, row);
            cr_assert_eq(col, d, "d=%d column %d has %d entries", d, i, col);
        }
        gradcode_free(g);
    }
}

Test(gradcode, approx_equal_decoder_is_unbiased)
{
    struct gradcode *g = code_new(GRADCODE_APPROX, GRADCODE_EQUAL, 12, 3, 2);
    check_unbiased(g, 3, 12.0 / 9.0);
    gradcode_free(g);
}

/* Optimal decoding: adding a worker never raises the residual, a small code
 * is inexact at n - s on average (some patterns can be exact: a path of
 * an even number of workers along a cycle of the graph covers its
 * partitions), and every worker together is exact. */
Test(gradcode, approx_residual_falls_with_arrivals)
{
    struct gradcode *g = code_new(GRADCODE_APPROX, GRADCODE_OPTIMAL, 12, 3, 2);
    struct rng r;
    rng_seed(&r, 3, 0, RNG_STRAGGLERS, 0);
    struct error err;
    double at_wait = 0.0; /* mean residual at n - s = 9 results */
    for (int trial = 0; trial < 20; trial++) {
        int order[12], F[12];
        for (int i = 0; i < 12; i++)
            order[i] = i;
        rng_shuffle_int(&r, order, 12);
        double last = INFINITY;
        for (int k = 1; k <= 12; k++) {
            memcpy(F, order, (size_t)k * sizeof *F);
            for (int x = 1; x < k; x++) /* insertion sort: F must increase */
                for (int y = x; y > 0 && F[y - 1] > F[y]; y--) {
                    int t = F[y];
                    F[y] = F[y - 1];
                    F[y - 1] = t;
                }
            const double *a;
            cr_assert_eq(gradcode_decode(g, F, k, &a, &err), 0, "%s", err.msg);
            double res = gradcode_residual(g, F, k, a);
            cr_assert(res <= last + 1e-9, "k=%d residual %g > %g", k, res, last);
            if (k == 9)
                at_wait += res / 20;
            last = res;
        }
        cr_assert(last < 1e-9, "all 12 workers: residual %g", last);
    }
    cr_assert(at_wait > 0.1, "approx d=2 at n-s: mean residual %g", at_wait);
    gradcode_free(g);
}

Test(gradcode, no_workers_reported)
{
    struct gradcode *g = code_new(GRADCODE_CRC, GRADCODE_OPTIMAL, 6, 2, 0);
    const double *a;
    struct error err;
    cr_assert_eq(gradcode_decode(g, NULL, 0, &a, &err), 0);
    cr_assert_float_eq(gradcode_residual(g, NULL, 0, a), sqrt(6.0), 1e-12);
    gradcode_free(g);
}

static void expect_error(enum gradcode_kind kind, int n, int s, int degree, const char *msg)
{
    struct rng r;
    rng_seed(&r, 1, 1, RNG_SCHEME, 0);
    struct gradcode *g = (struct gradcode *)1;
    struct error err = {{0}};
    cr_assert_eq(gradcode_new(&g, kind, GRADCODE_OPTIMAL, n, s, degree, &r, &err), STRAG_EINPUT);
    cr_assert_null(g);
    cr_assert_str_eq(err.msg, msg);
}

Test(gradcode, bad_shapes)
{
    expect_error(GRADCODE_FRC, 10, 3, 0, "frc needs s+1 to divide n (n = 10, s = 3)");
    expect_error(GRADCODE_CRC, 6, 6, 0, "stragglers must be in 0..n-1 (n = 6, s = 6)");
    expect_error(GRADCODE_IGNORE, 6, -1, 0, "stragglers must be in 0..n-1 (n = 6, s = -1)");
    expect_error(GRADCODE_APPROX, 6, 1, 7, "approx-gc needs a degree in 1..n (n = 6, degree = 7)");
    expect_error(GRADCODE_NAIVE, 0, 0, 0, "a gradient code needs n >= 1 workers (n = 0)");
}

Test(gradcode, names_parse)
{
    enum gradcode_kind k;
    enum gradcode_decoder d;
    cr_assert_eq(gradcode_kind_parse("approx-gc", &k), 0);
    cr_assert_eq(k, GRADCODE_APPROX);
    cr_assert_eq(gradcode_kind_parse("ssp", &k), -1);
    cr_assert_eq(gradcode_decoder_parse("rescaled", &d), 0);
    cr_assert_eq(d, GRADCODE_RESCALED);
    cr_assert_eq(gradcode_decoder_parse("", &d), -1);
}

/* ---- shuffle.c: partition reassignment ---- */

static bool is_permutation(const int *a, int n)
{
    unsigned seen = 0;
    for (int i = 0; i < n; i++) {
        if (a[i] < 0 || a[i] >= n || (seen & (1u << a[i])))
            return false;
        seen |= 1u << a[i];
    }
    return true;
}

Test(shuffle, schedule_and_uniform_permutation)
{
    struct gradcode *g = code_new(GRADCODE_CRC, GRADCODE_OPTIMAL, 8, 1, 0);
    struct shuffle sh;
    struct error err;
    cr_assert_eq(shuffle_init(&sh, SHUFFLE_UNIFORM, 8, 3, 0.5, 1, 2, &err), 0);
    cr_assert(!shuffle_due(&sh, 0));
    cr_assert(!shuffle_due(&sh, 2));
    cr_assert(shuffle_due(&sh, 3));
    cr_assert(shuffle_due(&sh, 6));
    int received[8];
    long total = 0;
    for (int k = 0; k < 5; k++) {
        shuffle_apply(&sh, g, received);
        cr_assert(is_permutation(sh.column_data, 8));
        for (int i = 0; i < 8; i++) {
            cr_assert(received[i] >= 0 && received[i] <= 2);
            total += received[i];
        }
    }
    cr_assert_eq(sh.moved, total);
    cr_assert_eq(sh.shuffles, 5);
    shuffle_free(&sh);
    struct shuffle none;
    cr_assert_eq(shuffle_init(&none, SHUFFLE_NONE, 8, 1, 0.5, 1, 2, &err), 0);
    cr_assert(!shuffle_due(&none, 5));
    shuffle_free(&none);
    gradcode_free(g);
}

/* Workers 0 and 1 never report: their partitions are the least used and
 * move to columns held by workers the master sees as active. */
Test(shuffle, slow_aware_moves_starved_partitions_to_active_workers)
{
    struct gradcode *g = code_new(GRADCODE_IGNORE, GRADCODE_RESCALED, 8, 2, 0);
    struct shuffle sh;
    struct error err;
    cr_assert_eq(shuffle_init(&sh, SHUFFLE_SLOW_AWARE, 8, 1, 0.3, 1, 2, &err), 0);
    unsigned char reported[8] = {0, 0, 1, 1, 1, 1, 1, 1};
    for (int k = 0; k < 20; k++)
        shuffle_observe(&sh, g, reported);
    cr_assert(sh.slow[0] > 0.99 && sh.slow[2] < 0.01);
    cr_assert(sh.usage[0] < 0.01 && sh.usage[2] > 0.99);
    int received[8];
    shuffle_apply(&sh, g, received);
    cr_assert(is_permutation(sh.column_data, 8));
    for (int col = 2; col < 8; col++) { /* columns of the active workers */
        if (sh.column_data[col] == 0 || sh.column_data[col] == 1)
            cr_assert_eq(received[col], 1);
    }
    bool zero_active = false, one_active = false;
    for (int col = 2; col < 8; col++) {
        zero_active |= sh.column_data[col] == 0;
        one_active |= sh.column_data[col] == 1;
    }
    cr_assert(zero_active && one_active, "starved partitions stayed on slow workers");
    shuffle_free(&sh);
    gradcode_free(g);
}

/* ---- predictor.c ---- */

Test(predictor, ewma_learns_a_constant)
{
    struct predictor p;
    struct error err;
    cr_assert_eq(predictor_init(&p, PREDICTOR_EWMA, 0.3, 2, &err), 0);
    cr_assert(isnan(predictor_predict(&p, 0)));
    for (int k = 0; k < 10; k++)
        cr_assert_eq(predictor_observe(&p, 0, 2.0, &err), 0);
    cr_assert_float_eq(predictor_predict(&p, 0), 2.0, 1e-12);
    cr_assert_float_eq(predictor_predict(&p, 1), 2.0, 1e-12); /* unseen: first values' mean */
    cr_assert_float_eq(predictor_mae(&p), 0.0, 1e-12);
    predictor_free(&p);
}

/* An alternating series: AR(1) finds phi ~ -1 and beats the EWMA. */
Test(predictor, ar1_follows_negative_correlation)
{
    struct predictor ar, ew;
    struct error err;
    cr_assert_eq(predictor_init(&ar, PREDICTOR_AR1, 0.1, 1, &err), 0);
    cr_assert_eq(predictor_init(&ew, PREDICTOR_EWMA, 0.1, 1, &err), 0);
    for (int k = 0; k < 400; k++) {
        double x = k % 2 ? 3.0 : 1.0;
        cr_assert_eq(predictor_observe(&ar, 0, x, &err), 0);
        cr_assert_eq(predictor_observe(&ew, 0, x, &err), 0);
    }
    cr_assert(predictor_rel_mae(&ar) < 0.5 * predictor_rel_mae(&ew), "ar1 %g ewma %g",
              predictor_rel_mae(&ar), predictor_rel_mae(&ew));
    cr_assert_float_eq(predictor_predict(&ar, 0), 1.0, 0.3); /* the last was 3 */
    predictor_free(&ar);
    predictor_free(&ew);
}

/* A period-3 pattern no linear one-step rule follows: the online MLP over
 * the last 8 times learns it, the EWMA cannot. */
Test(predictor, mlp_learns_a_pattern)
{
    struct predictor ml, ew;
    struct error err;
    cr_assert_eq(predictor_init(&ml, PREDICTOR_MLP, 0.3, 2, &err), 0, "%s", err.msg);
    cr_assert_eq(predictor_init(&ew, PREDICTOR_EWMA, 0.3, 2, &err), 0);
    const double pattern[] = {1.0, 1.0, 4.0};
    for (int k = 0; k < 3000; k++)
        for (int w = 0; w < 2; w++) {
            double x = pattern[(k + w) % 3];
            cr_assert_eq(predictor_observe(&ml, w, x, &err), 0, "%s", err.msg);
            cr_assert_eq(predictor_observe(&ew, w, x, &err), 0);
        }
    /* measured 0.023-0.024 against 0.970 on five OpenBLAS kernels
     * (OPENBLAS_CORETYPE Prescott, Sandybridge, Haswell, SkylakeX, Zen) */
    cr_log_info("rel mae: mlp %g, ewma %g", predictor_rel_mae(&ml), predictor_rel_mae(&ew));
    cr_assert(predictor_rel_mae(&ml) < 0.5 * predictor_rel_mae(&ew), "mlp %g ewma %g",
              predictor_rel_mae(&ml), predictor_rel_mae(&ew));
    /* worker 0 saw ..., 1, 1, 4 last (k = 2999: index 2), so next is 1 */
    cr_assert_float_eq(predictor_predict(&ml, 0), 1.0, 0.3);
    predictor_free(&ml);
    predictor_free(&ew);
}
