/* test_validation_hetero.c: the heterogeneous straggler model (Johri, Yardi,
 * Bodas; exactly n_s slow workers, per-class straggle probabilities) against
 * the closed forms of doc/training.md ("Heterogeneous stragglers: what the
 * model predicts"), for `ignore` and `approx-gc`, with and without uniform
 * shuffling, on a fixed seed: |simulated - exact| < 4 standard errors.
 *
 * What runs is the real markov source, the real codes and decoders
 * (gradcode.c) and the real shuffle (shuffle.c); the test plays the master
 * with a deadline: the class distributions and straggle factor are chosen so
 * that a straggling worker's draw is always past the deadline and any other
 * draw always before it (their supports are bounded: rng.h), so the workers
 * that report are exactly those that did not straggle, and the class of a
 * worker can be read off its draw (which checks that exactly n_s are slow,
 * and that the classes are permanent). Partition gradients are orthonormal,
 * so the gradient error is ||a^T B_F - 1^T||^2 and partition j's weight in
 * the decoded gradient is the coefficient of the column that holds it.
 *
 * Per iteration (after iteration 0, whose assignment was not shuffled yet):
 * the fraction of partitions recovered, the gradient error, every
 * partition's weight; per window of W iterations: the fraction of
 * partitions never recovered. Iterations are independent given the classes
 * (straggle events are; a uniform shuffle is a fresh uniform permutation),
 * so sample standard errors apply.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/params.h"
#include "base/rng.h"
#include "schemes/codes/gradcode.h"
#include "schemes/common/shuffle.h"
#include "traces/latency.h"

#define SEED 20261203u
#define POINT 0x4e7e40u
#define DEADLINE 50.0 /* active draws in [1, 5.52], slow [10, 14.52]; straggling x100 */
#define MAXN 16

struct hetero_case {
    const char *name;
    enum gradcode_kind kind;
    enum gradcode_decoder decoder;
    int n, slow_nodes, degree, window;
    double p_slow, p_active; /* straggle probabilities per class */
    enum shuffle_policy shuffle;
    long iterations;
    int reclass_every; /* 0: permanent classes */
};

/* ---- closed forms (doc/training.md) ---- */

/* The model seen from one run: the classes are fixed, so worker i misses an
 * iteration with probability q[i] (its class's), independently. */
struct hetero_model {
    int n, d;
    double q[MAXN];                /* P(worker i straggles) */
    unsigned char holds[MAXN][MAXN]; /* holds[i][col]: worker i holds column col */
};

/* P(K' = k), K' the number of reporting workers other than a and b (-1:
 * none excluded): a Poisson-binomial by convolution. */
static void reporters_without(const struct hetero_model *m, int a, int b, double *dist)
{
    memset(dist, 0, (size_t)(m->n + 1) * sizeof *dist);
    dist[0] = 1.0;
    int len = 0;
    for (int i = 0; i < m->n; i++) {
        if (i == a || i == b)
            continue;
        len++;
        for (int k = len; k >= 0; k--)
            dist[k] = dist[k] * m->q[i] + (k ? dist[k - 1] * (1 - m->q[i]) : 0.0);
    }
}

/* Expected fraction of partitions recovered: 1 - mean over columns of the
 * probability that every holder straggles. */
static double unrecovered_prob(const struct hetero_model *m, int col)
{
    double all = 1.0;
    for (int i = 0; i < m->n; i++)
        if (m->holds[i][col])
            all *= m->q[i];
    return all;
}

static double expected_recovered(const struct hetero_model *m)
{
    double sum = 0;
    for (int c = 0; c < m->n; c++)
        sum += 1.0 - unrecovered_prob(m, c);
    return sum / m->n;
}

/* Expected fraction of partitions never recovered in a window of W
 * iterations: without shuffling a partition stays in its column,
 * mean_c u_c^W; shuffled every iteration it is in a uniform column each
 * time, (mean_c u_c)^W. */
static double expected_never(const struct hetero_model *m, int w, bool shuffled)
{
    double sum = 0, sum_w = 0;
    for (int c = 0; c < m->n; c++) {
        double u = unrecovered_prob(m, c);
        sum += u;
        sum_w += pow(u, w);
    }
    return shuffled ? pow(sum / m->n, w) : sum_w / m->n;
}

/* The equal-weight decoder (ignore's rescaled one is the same, n/K): a
 * reporting worker gets n / K, column c's coefficient is (n / (K d)) m_c,
 * m_c its reporting holders. With K = 0 nothing is decoded (error n).
 *   E[err] = n P(K=0) + (n^2/d^2) sum_{i,i'} O_ii' E[X_i X_i' / K^2] - n P(K>=1)
 * with O_ii' the columns workers i and i' share (O_ii = d). */
static double expected_error(const struct hetero_model *m)
{
    int n = m->n;
    double dist[MAXN + 1], p0, sum = 0;
    reporters_without(m, -1, -1, dist);
    p0 = dist[0];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            int overlap = 0;
            for (int c = 0; c < n; c++)
                overlap += m->holds[i][c] && m->holds[j][c];
            if (!overlap)
                continue;
            int both = i == j ? 1 : 2;
            reporters_without(m, i, j == i ? -1 : j, dist);
            double e = 0;
            for (int k = 0; k <= n - both; k++)
                e += dist[k] / ((k + both) * (double)(k + both));
            e *= (1 - m->q[i]) * (i == j ? 1.0 : 1 - m->q[j]);
            sum += overlap * e;
        }
    return n * p0 + (double)n * n / (m->d * (double)m->d) * sum - n * (1 - p0);
}

/* Expected coefficient of column c: (n/d) sum_{i holds c} (1 - q_i) E[1/(1 + K_{-i})].
 * Shuffled every iteration, every partition's expected weight is the mean
 * over columns, P(K >= 1). */
static double expected_weight(const struct hetero_model *m, int col)
{
    double dist[MAXN + 1], sum = 0;
    for (int i = 0; i < m->n; i++) {
        if (!m->holds[i][col])
            continue;
        reporters_without(m, i, -1, dist);
        double e = 0;
        for (int k = 0; k < m->n; k++)
            e += dist[k] / (k + 1.0);
        sum += (1 - m->q[i]) * e;
    }
    return (double)m->n / m->d * sum;
}

/* ---- the simulation ---- */

struct mean_se {
    double sum, sum2, count;
};
static void acc(struct mean_se *a, double x)
{
    a->sum += x;
    a->sum2 += x * x;
    a->count++;
}
static double mean_of(const struct mean_se *a) { return a->sum / a->count; }
static double se_of(const struct mean_se *a)
{
    double m = mean_of(a);
    return sqrt(fmax(a->sum2 / a->count - m * m, 0.0) / (a->count - 1));
}

static void expect_close(const char *what, const struct mean_se *a, double exact)
{
    double m = mean_of(a), se = se_of(a);
    cr_log_info("%s: simulated %.5f +- %.5f, exact %.5f", what, m, se, exact);
    cr_expect(se > 0, "%s: no spread", what);
    cr_expect_lt(fabs(m - exact), 4 * se, "%s: simulated %.6f +- %.6f, exact %.6f", what, m, se,
                 exact);
}

static struct latency_source *hetero_source(const struct hetero_case *c)
{
    char v[4][32];
    snprintf(v[0], sizeof v[0], "%d", c->slow_nodes);
    snprintf(v[3], sizeof v[3], "%d", c->reclass_every);
    snprintf(v[1], sizeof v[1], "%.17g", c->p_slow);
    snprintf(v[2], sizeof v[2], "%.17g", c->p_active);
    const char *kv[][2] = {
        {"latency.kind", "markov"},           {"latency.slow_nodes", v[0]},
        {"latency.p_straggle_slow", v[1]},    {"latency.p_straggle_active", v[2]},
        {"latency.straggle_factor", "100"},   {"latency.active.kind", "shifted_exp"},
        {"latency.active.shift", "1"},        {"latency.active.rate", "10"},
        {"latency.slow.kind", "shifted_exp"}, {"latency.slow.shift", "10"},
        {"latency.slow.rate", "10"},
    };
    struct params *p = params_new();
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        params_set(p, kv[i][0], kv[i][1], "hetero.ini", (int)i + 1);
    if (c->reclass_every)
        params_set(p, "latency.reclass_every", v[3], "hetero.ini", 20);
    struct latency_source *s = NULL;
    struct error err = {{0}};
    cr_assert_eq(latency_new(p, c->n, SEED, POINT, &s, &err), 0, "%s", err.msg);
    params_free(p);
    return s;
}

static int class_of(double x) { return x < 100.0 ? x >= 10.0 : x >= 1000.0; }

static void run_case(const struct hetero_case *c)
{
    int n = c->n;
    cr_assert_leq(n, MAXN);
    struct latency_source *src = hetero_source(c);
    struct rng r;
    rng_seed(&r, SEED, POINT, RNG_SCHEME, 0);
    struct gradcode *code = NULL;
    struct error err = {{0}};
    cr_assert_eq(gradcode_new(&code, c->kind, c->decoder, n, 1, c->degree, &r, &err), 0, "%s",
                 err.msg);
    struct shuffle sh;
    cr_assert_eq(shuffle_init(&sh, c->shuffle, n, 1, 0.2, SEED, POINT, &err), 0, "%s", err.msg);

    struct hetero_model m = {.n = n, .d = code->load};
    for (int i = 0; i < n; i++)
        for (int k = 0; k < code->load; k++)
            m.holds[i][code->support[i * code->load + k]] = 1;
    int klass[MAXN], reported[MAXN], received[MAXN];
    unsigned char seen[MAXN];
    double coef[MAXN];
    struct mean_se recovered = {0}, error = {0}, never = {0}, weight[MAXN] = {{0}};
    memset(seen, 0, sizeof seen);
    for (long t = 0; t < c->iterations; t++) {
        if (shuffle_due(&sh, (uint64_t)t))
            shuffle_apply(&sh, code, received);
        int nf = 0, slow = 0;
        for (int w = 0; w < n; w++) {
            double x = latency_draw(src, w, (uint64_t)t, 1.0);
            int k = class_of(x);
            if (t == 0 || c->reclass_every)
                klass[w] = k;
            cr_assert_eq(k, klass[w], "worker %d changed class at iteration %ld", w, t);
            slow += k;
            if (x < DEADLINE)
                reported[nf++] = w;
        }
        cr_assert_eq(slow, c->slow_nodes, "iteration %ld: %d slow workers", t, slow);
        const double *a;
        cr_assert_eq(gradcode_decode(code, reported, nf, &a, &err), 0, "%s", err.msg);
        memset(coef, 0, sizeof coef);
        for (int l = 0; l < nf; l++)
            for (int col = 0; col < n; col++)
                coef[col] += a[l] * code->B[(size_t)reported[l] * n + col];
        if (t == 0)
            continue; /* not shuffled yet */
        int got = 0;
        double e = 0;
        for (int col = 0; col < n; col++) {
            bool rec = false;
            for (int l = 0; l < nf; l++)
                rec |= m.holds[reported[l]][col];
            got += rec;
            seen[sh.column_data[col]] |= rec;
            e += (coef[col] - 1) * (coef[col] - 1);
            acc(&weight[sh.column_data[col]], coef[col]);
        }
        acc(&recovered, (double)got / n);
        acc(&error, e);
        if (t % c->window == 0) { /* windows t = 1..W, W+1..2W, ... */
            int miss = 0;
            for (int j = 0; j < n; j++)
                miss += !seen[j];
            acc(&never, (double)miss / n);
            memset(seen, 0, sizeof seen);
        }
    }

    for (int i = 0; i < n; i++)
        m.q[i] = klass[i] ? c->p_slow : c->p_active;
    /* classes re-drawn at every iteration mix partitions over workers as a
     * uniform shuffle does (for ignore, whose forms depend only on n_s) */
    bool shuffled = c->shuffle != SHUFFLE_NONE || c->reclass_every == 1;
    char what[160];
    snprintf(what, sizeof what, "%s: partitions recovered", c->name);
    expect_close(what, &recovered, expected_recovered(&m));
    snprintf(what, sizeof what, "%s: gradient error ||a^T B_F - 1||^2", c->name);
    expect_close(what, &error, expected_error(&m));
    snprintf(what, sizeof what, "%s: never recovered in %d iterations", c->name, c->window);
    expect_close(what, &never, expected_never(&m, c->window, shuffled));
    double dist[MAXN + 1], bias2 = 0;
    reporters_without(&m, -1, -1, dist);
    for (int j = 0; j < n; j++) {
        /* without shuffling partition j stays in column j */
        double exact = shuffled ? 1 - dist[0] : expected_weight(&m, j);
        bias2 += (exact - 1) * (exact - 1);
        int slow_holders = 0;
        for (int i = 0; i < n; i++)
            slow_holders += m.holds[i][j] && klass[i];
        snprintf(what, sizeof what, "%s: weight of partition %d (slow holders: %d)", c->name, j,
                 shuffled ? -1 : slow_holders);
        expect_close(what, &weight[j], exact);
    }
    cr_log_info("%s: ||E[g_hat] - g||^2 = %.5f (orthonormal partition gradients)", c->name,
                bias2);
    shuffle_free(&sh);
    gradcode_free(code);
    latency_free(src);
}

/* 12 workers, 3 slow for ever; ignore: slow ones straggle w.p. 0.6, active
 * 0.05, windows of 3; approx-gc (every partition on 2 workers, so more
 * straggling to see partitions missed): 0.7 and 0.2, windows of 2 */
#define HETERO_12(NAME, KIND, DECODER, DEGREE, SHUFFLE)                                     \
    (struct hetero_case){NAME, KIND, DECODER, 12, 3, DEGREE, DEGREE == 1 ? 3 : 2,            \
                         DEGREE == 1 ? 0.6 : 0.7, DEGREE == 1 ? 0.05 : 0.2, SHUFFLE, 30001, 0}

Test(validation_hetero, ignore_without_shuffling)
{
    run_case(&HETERO_12("ignore", GRADCODE_IGNORE, GRADCODE_RESCALED, 1, SHUFFLE_NONE));
}

Test(validation_hetero, ignore_with_uniform_shuffling)
{
    run_case(&HETERO_12("ignore+uniform", GRADCODE_IGNORE, GRADCODE_RESCALED, 1,
                        SHUFFLE_UNIFORM));
}

Test(validation_hetero, approx_gc_without_shuffling)
{
    run_case(&HETERO_12("approx-gc d=2", GRADCODE_APPROX, GRADCODE_EQUAL, 2, SHUFFLE_NONE));
}

Test(validation_hetero, approx_gc_with_uniform_shuffling)
{
    run_case(&HETERO_12("approx-gc d=2+uniform", GRADCODE_APPROX, GRADCODE_EQUAL, 2,
                        SHUFFLE_UNIFORM));
}

Test(validation_hetero, ignore_with_classes_redrawn_every_iteration)
{
    /* latency.reclass_every = 1, no shuffle: a partition's holder is slow
     * with probability n_s/n afresh at every iteration, so its chance of
     * being missed is p-bar each time, as with uniform shuffling: never
     * recovered in W is p-bar^W and every partition's expected weight is
     * P(K >= 1); still exactly n_s slow at every iteration */
    struct hetero_case c =
        HETERO_12("ignore, classes re-drawn", GRADCODE_IGNORE, GRADCODE_RESCALED, 1, SHUFFLE_NONE);
    c.reclass_every = 1;
    run_case(&c);
}
