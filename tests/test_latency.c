/* test_latency.c: the i.i.d. and markov latency sources against closed
 * forms (mean within 4 standard errors, one tail probability each, on
 * fixed seeds), exact cost scaling, per-worker stream independence, the
 * markov chain's stationary slow fraction and lag-1 persistence, the key
 * table / registry consistency, and create errors with exact messages.
 * Replay has its own suite (test_replay.c).
 */
#include <criterion/criterion.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "params_lines.h"
#include "base/rng.h"
#include "traces/latency.h"

#define SEED 20261122u
#define POINT 0x5eedu

/* [latency]'s params (params_lines.h). The driver fills defaults; here every
 * key a kind reads is given explicitly. */
#define PARAMS(...) PARAMS_IN("latency", __VA_ARGS__)

static struct latency_source *make(struct params *p, int workers)
{
    struct latency_source *s = NULL;
    struct error err = {{0}};
    int rc = latency_new(p, workers, SEED, POINT, &s, &err);
    cr_assert_eq(rc, 0, "latency_new failed: %s", err.msg);
    params_free(p);
    return s;
}

static void expect_error(struct params *p, const char *msg)
{
    struct latency_source *s = NULL;
    struct error err = {{0}};
    int rc = latency_new(p, 4, SEED, POINT, &s, &err);
    cr_expect_eq(rc, STRAG_EINPUT);
    cr_expect_null(s);
    cr_expect_str_eq(err.msg, msg);
    latency_free(s);
    params_free(p);
}

/* ---- i.i.d. kinds vs closed forms (doc/theory.md §10) ---- */

struct iid_case {
    const char *name;
    struct params *p;
    double mean;             /* closed form */
    double x, tail;          /* closed form P(X > x) */
};

/* Sample mean and tail fraction of n unit-cost draws spread over 8 workers,
 * each compared with its closed form within 4 standard errors. */
static void check_iid(struct iid_case c)
{
    enum { N = 200000, WORKERS = 8 };
    struct latency_source *s = make(c.p, WORKERS);
    double sum = 0, sum2 = 0, over = 0;
    for (int i = 0; i < N; i++) {
        double x = latency_draw(s, i % WORKERS, (uint64_t)(i / WORKERS), 1.0);
        sum += x;
        sum2 += x * x;
        over += x > c.x;
    }
    double mean = sum / N, var = (sum2 - N * mean * mean) / (N - 1);
    double se = sqrt(var / N), p = over / N, se_p = sqrt(c.tail * (1 - c.tail) / N);
    cr_expect_lt(fabs(mean - c.mean), 4 * se, "%s: mean %.6f vs %.6f (se %.2g)", c.name, mean,
                 c.mean, se);
    cr_expect_lt(fabs(p - c.tail), 4 * se_p, "%s: P(X>%g) %.5f vs %.5f", c.name, c.x, p, c.tail);
    cr_expect_lt(fabs(s->ops->mean(s) - c.mean), 1e-12 * c.mean, "%s: ops->mean %.15g vs %.15g",
                 c.name, s->ops->mean(s), c.mean);
    latency_free(s);
}

Test(latency, exp_mean_and_tail)
{
    check_iid((struct iid_case){"exp", PARAMS("latency.kind=exp", "latency.rate=2"), 0.5, 1.0,
                                exp(-2.0)});
}

Test(latency, shifted_exp_mean_and_tail)
{
    check_iid((struct iid_case){
        "shifted_exp", PARAMS("latency.kind=shifted_exp", "latency.shift=1", "latency.rate=3"),
        1.0 + 1.0 / 3, 1.5, exp(-3 * 0.5)});
}

Test(latency, pareto_mean_and_tail)
{
    /* x_m = 2, alpha = 5: mean alpha x_m / (alpha - 1); P(X > x) = (x_m / x)^alpha */
    check_iid((struct iid_case){"pareto",
                                PARAMS("latency.kind=pareto", "latency.scale=2",
                                       "latency.shape=5"),
                                5.0 * 2 / 4, 2.5, pow(2 / 2.5, 5)});
}

Test(latency, lognormal_mean_and_tail)
{
    double mu = 0.2, sigma = 0.5, x = 2.0;
    check_iid((struct iid_case){"lognormal",
                                PARAMS("latency.kind=lognormal", "latency.mu=0.2",
                                       "latency.sigma=0.5"),
                                exp(mu + sigma * sigma / 2), x,
                                0.5 * erfc((log(x) - mu) / (sigma * sqrt(2.0)))});
}

Test(latency, weibull_mean_and_tail)
{
    double scale = 2, k = 1.5, x = 3;
    check_iid((struct iid_case){"weibull",
                                PARAMS("latency.kind=weibull", "latency.scale=2",
                                       "latency.shape=1.5"),
                                scale * gsl_sf_gamma(1 + 1 / k), x, exp(-pow(x / scale, k))});
}

Test(latency, bimodal_mean_and_tail)
{
    /* base shifted_exp(0.5, 2); slow (p = 0.1) draws are 5x the base */
    double s = 0.5, r = 2, p = 0.1, m = 5, x = 4;
    check_iid((struct iid_case){
        "bimodal",
        PARAMS("latency.kind=bimodal", "latency.shift=0.5", "latency.rate=2",
               "latency.slow_prob=0.1", "latency.slow_factor=5"),
        (1 - p + p * m) * (s + 1 / r), x,
        (1 - p) * exp(-r * (x - s)) + p * exp(-r * (x / m - s))});
}

Test(latency, bimodal_shift_defaults_to_zero)
{
    struct latency_source *s = make(PARAMS("latency.kind=bimodal", "latency.rate=2",
                                           "latency.slow_prob=0.5", "latency.slow_factor=3"),
                                    1);
    cr_expect_float_eq(s->ops->mean(s), (0.5 + 0.5 * 3) * 0.5, 1e-12);
    latency_free(s);
}

/* ---- cost, streams ---- */

static struct params *markov_params(void)
{
    /* active: lognormal with sigma 0 (exactly 1); slow: 5 + Exp(1) (>= 5),
     * so a draw tells the state. pi_slow = 0.1 / 0.4; lag-1 persistence 0.6. */
    return PARAMS("latency.kind=markov", "latency.p_active_to_slow=0.1",
                  "latency.p_slow_to_active=0.3", "latency.active.kind=lognormal",
                  "latency.active.mu=0", "latency.active.sigma=0",
                  "latency.slow.kind=shifted_exp", "latency.slow.shift=5",
                  "latency.slow.rate=1");
}

static struct params *all_kinds(int i)
{
    switch (i) {
    case 0: return PARAMS("latency.kind=exp", "latency.rate=2");
    case 1: return PARAMS("latency.kind=shifted_exp", "latency.shift=1", "latency.rate=3");
    case 2: return PARAMS("latency.kind=pareto", "latency.scale=2", "latency.shape=2.5");
    case 3: return PARAMS("latency.kind=lognormal", "latency.mu=0", "latency.sigma=1");
    case 4: return PARAMS("latency.kind=weibull", "latency.scale=1", "latency.shape=0.7");
    case 5:
        return PARAMS("latency.kind=bimodal", "latency.shift=1", "latency.rate=1",
                      "latency.slow_prob=0.2", "latency.slow_factor=4");
    default: return markov_params();
    }
}

Test(latency, cost_scales_each_draw_exactly)
{
    /* Same streams, cost 1 vs 2 vs 0.25: every draw scales exactly (powers of
     * two), i.e. shifted_exp gives cost*shift + Exp(rate/cost). */
    for (int k = 0; k < 7; k++) {
        struct latency_source *a = make(all_kinds(k), 3), *b = make(all_kinds(k), 3),
                              *c = make(all_kinds(k), 3);
        for (int i = 0; i < 300; i++) {
            int w = i % 3;
            uint64_t it = (uint64_t)(i / 3);
            double x = latency_draw(a, w, it, 1.0);
            cr_assert_eq(latency_draw(b, w, it, 2.0), 2 * x, "kind %d draw %d", k, i);
            cr_assert_eq(latency_draw(c, w, it, 0.25), 0.25 * x, "kind %d draw %d", k, i);
        }
        latency_free(a);
        latency_free(b);
        latency_free(c);
    }
}

Test(latency, worker_streams_do_not_depend_on_call_order)
{
    enum { W = 5, N = 40 };
    for (int k = 0; k < 7; k++) {
        struct latency_source *a = make(all_kinds(k), W), *b = make(all_kinds(k), W);
        double seq[W][N];
        for (int w = 0; w < W; w++) /* worker by worker */
            for (int i = 0; i < N; i++)
                seq[w][i] = latency_draw(a, w, (uint64_t)i, 1.0);
        for (int i = 0; i < N; i++) /* interleaved, workers in reverse */
            for (int w = W - 1; w >= 0; w--)
                cr_assert_eq(latency_draw(b, w, (uint64_t)i, 1.0), seq[w][i],
                             "kind %d worker %d draw %d", k, w, i);
        latency_free(a);
        latency_free(b);
    }
}

Test(latency, worker_w_draws_from_its_service_stream)
{
    struct latency_source *s = make(PARAMS("latency.kind=exp", "latency.rate=1.5"), 4);
    for (int w = 0; w < 4; w++) {
        struct rng r;
        rng_seed(&r, SEED, POINT, RNG_SERVICE, (uint32_t)w);
        for (int i = 0; i < 10; i++)
            cr_assert_eq(latency_draw(s, w, 0, 1.0), rng_exp(&r, 1.5));
    }
    latency_free(s);
}

Test(latency, different_seeds_differ)
{
    struct latency_source *a = make(PARAMS("latency.kind=exp", "latency.rate=1"), 1), *b;
    struct error err;
    struct params *p = PARAMS("latency.kind=exp", "latency.rate=1");
    cr_assert_eq(latency_new(p, 1, SEED + 1, POINT, &b, &err), 0);
    params_free(p);
    cr_expect_neq(latency_draw(a, 0, 0, 1.0), latency_draw(b, 0, 0, 1.0));
    latency_free(a);
    latency_free(b);
}

/* ---- markov ---- */

static int is_slow(double x) { return x >= 5.0; }

Test(latency, markov_stationary_fraction_and_persistence)
{
    /* 400 workers x 500 iterations, in 20 groups of 20 workers: per group the
     * slow fraction and the persistence P(slow|slow) - P(slow|active), whose
     * closed forms (doc/theory.md §10) are p_as/(p_as+p_sa) = 0.25 and
 * 1 - p_as - p_sa = 0.6. */
    enum { GROUPS = 20, PER = 20, T = 500 };
    struct latency_source *s = make(markov_params(), GROUPS * PER);
    double frac[GROUPS], pers[GROUPS];
    for (int g = 0; g < GROUPS; g++) {
        double slow = 0, n_s = 0, n_ss = 0, n_a = 0, n_as = 0;
        for (int w = g * PER; w < (g + 1) * PER; w++) {
            int prev = -1;
            for (int t = 0; t < T; t++) {
                int cur = is_slow(latency_draw(s, w, (uint64_t)t, 1.0));
                slow += cur;
                if (prev == 1) {
                    n_s++;
                    n_ss += cur;
                } else if (prev == 0) {
                    n_a++;
                    n_as += cur;
                }
                prev = cur;
            }
        }
        frac[g] = slow / (PER * T);
        pers[g] = n_ss / n_s - n_as / n_a;
    }
    double est[2] = {0, 0}, se[2] = {0, 0}, exact[2] = {0.25, 0.6};
    const double *v[2] = {frac, pers};
    for (int j = 0; j < 2; j++) {
        double sum = 0, sum2 = 0;
        for (int g = 0; g < GROUPS; g++) {
            sum += v[j][g];
            sum2 += v[j][g] * v[j][g];
        }
        est[j] = sum / GROUPS;
        se[j] = sqrt((sum2 - GROUPS * est[j] * est[j]) / (GROUPS - 1) / GROUPS);
        cr_expect_lt(fabs(est[j] - exact[j]), 4 * se[j], "%s %.4f vs %.4f (se %.2g)",
                     j ? "persistence" : "slow fraction", est[j], exact[j], se[j]);
    }
    cr_expect_float_eq(s->ops->mean(s), 0.75 * 1 + 0.25 * 6, 1e-12);
    latency_free(s);
}

Test(latency, markov_state_depends_on_iteration_only)
{
    /* Several tasks of one iteration see the same state, and the state at an
     * iteration does not depend on which earlier iterations were asked. */
    enum { W = 50 };
    static const uint64_t asked[] = {0, 7, 50, 51, 300};
    struct latency_source *every = make(markov_params(), W), *some = make(markov_params(), W);
    int states = 0;
    for (int w = 0; w < W; w++) {
        size_t a = 0;
        for (uint64_t t = 0; t <= 300; t++) {
            int st = is_slow(latency_draw(every, w, t, 1.0));
            cr_assert_eq(is_slow(2 * latency_draw(every, w, t, 0.5)), st, "worker %d iteration %lu",
                         w, (unsigned long)t);
            if (t == asked[a]) {
                cr_assert_eq(is_slow(latency_draw(some, w, t, 1.0)), st,
                             "worker %d iteration %lu", w, (unsigned long)t);
                states += st;
                a++;
            }
        }
    }
    cr_expect(states > 0 && states < W * 5, "both states seen (%d slow)", states);
    latency_free(every);
    latency_free(some);
}

Test(latency, markov_absorbing_active_state)
{
    /* p_as = 0: stationary P(slow) = 0, the chain never leaves active. */
    struct latency_source *s = make(
        PARAMS("latency.kind=markov", "latency.p_active_to_slow=0", "latency.p_slow_to_active=1",
               "latency.active.kind=exp", "latency.active.rate=1",
               "latency.slow.kind=pareto", "latency.slow.scale=1000", "latency.slow.shape=3"),
        10);
    for (int w = 0; w < 10; w++)
        for (uint64_t t = 0; t < 100; t++)
            cr_assert_lt(latency_draw(s, w, t, 1.0), 1000.0);
    cr_expect_float_eq(s->ops->mean(s), 1.0, 1e-12);
    latency_free(s);
}

/* ---- exactly n_s slow nodes, per-class straggling ---- */

/* Class distributions that tell the class and the straggle event apart:
 * active draws lie in [1, 5.52], slow ones in [10, 14.52] (shift + at most
 * RNG_EXP1_MAX / 10), and a straggle multiplies by 100. */
#define HETERO_CLASSES "latency.kind=markov", "latency.active.kind=shifted_exp", \
    "latency.active.shift=1", "latency.active.rate=10", "latency.slow.kind=shifted_exp", \
    "latency.slow.shift=10", "latency.slow.rate=10"
static int class_of(double x) { return x < 100.0 ? x >= 10.0 : x >= 1000.0; }
static int straggled(double x) { return x >= 100.0; }

Test(latency, markov_exactly_n_s_slow_permanent_and_uniform)
{
    /* every iteration exactly 3 of 12 slow, the same 3 for ever; over 2000
     * point keys each worker is slow 1/4 of the time (binomial se) */
    enum { W = 12, NS = 3, T = 100, POINTS = 2000 };
    int count[W] = {0};
    for (int k = 0; k < POINTS; k++) {
        struct latency_source *s = NULL;
        struct error err = {{0}};
        struct params *p = PARAMS(HETERO_CLASSES, "latency.slow_nodes=3");
        cr_assert_eq(latency_new(p, W, SEED, POINT + (uint64_t)k, &s, &err), 0, "%s", err.msg);
        params_free(p);
        int first[W];
        for (uint64_t t = 0; t < (k < 20 ? T : 1); t++) {
            int slow = 0;
            for (int w = 0; w < W; w++) {
                int c = class_of(latency_draw(s, w, t, 1.0));
                slow += c;
                if (t == 0)
                    first[w] = c;
                cr_assert_eq(c, first[w], "point %d worker %d changed class at %lu", k, w,
                             (unsigned long)t);
            }
            cr_assert_eq(slow, NS, "point %d iteration %lu: %d slow", k, (unsigned long)t, slow);
        }
        for (int w = 0; w < W; w++)
            count[w] += first[w];
        latency_free(s);
    }
    double se = sqrt(POINTS * 0.25 * 0.75);
    for (int w = 0; w < W; w++)
        cr_expect_lt(fabs(count[w] - POINTS * 0.25), 4 * se, "worker %d slow %d of %d", w,
                     count[w], POINTS);
}

Test(latency, markov_slow_set_redrawn_every_t)
{
    /* T = 5: constant inside an epoch, exactly n_s, redrawn between (some
     * epoch differs from the first), and a function of the iteration only */
    enum { W = 10, T = 5, EPOCHS = 40 };
    struct latency_source *every = make(PARAMS(HETERO_CLASSES, "latency.slow_nodes=4",
                                               "latency.reclass_every=5"), W);
    struct latency_source *some = make(PARAMS(HETERO_CLASSES, "latency.slow_nodes=4",
                                              "latency.reclass_every=5"), W);
    int epoch0[W], changed = 0;
    for (int e = 0; e < EPOCHS; e++) {
        int cur[W], slow = 0, differs = 0;
        for (int w = 0; w < W; w++) {
            cur[w] = class_of(latency_draw(every, w, (uint64_t)e * T, 1.0));
            slow += cur[w];
            if (e == 0)
                epoch0[w] = cur[w];
            differs |= cur[w] != epoch0[w];
            for (uint64_t t = (uint64_t)e * T + 1; t < (uint64_t)(e + 1) * T; t++)
                cr_assert_eq(class_of(latency_draw(every, w, t, 1.0)), cur[w]);
            if (e % 7 == 3) /* `some` is asked about a few iterations only */
                cr_assert_eq(class_of(latency_draw(some, w, (uint64_t)e * T + 2, 1.0)), cur[w]);
        }
        cr_assert_eq(slow, 4, "epoch %d: %d slow", e, slow);
        changed += differs;
    }
    cr_expect_gt(changed, EPOCHS / 2, "the slow set was redrawn in %d of %d epochs", changed,
                 EPOCHS);
    latency_free(every);
    latency_free(some);
}

Test(latency, markov_per_class_straggle_probabilities)
{
    /* 2 of 8 slow for ever; slow workers straggle w.p. 0.6, active ones 0.05,
     * independently of the class distribution (the draw is the class draw
     * times 100); the same events whichever iterations are asked */
    enum { W = 8, T = 20000 };
#define STRAGGLE_KEYS HETERO_CLASSES, "latency.slow_nodes=2", "latency.p_straggle_slow=0.6", \
        "latency.p_straggle_active=0.05", "latency.straggle_factor=100"
    struct latency_source *s = make(PARAMS(STRAGGLE_KEYS), W);
    struct latency_source *some = make(PARAMS(STRAGGLE_KEYS), W);
    double events[2] = {0, 0}, draws[2] = {0, 0};
    for (uint64_t t = 0; t < T; t++)
        for (int w = 0; w < W; w++) {
            double x = latency_draw(s, w, t, 1.0);
            int c = class_of(x);
            events[c] += straggled(x);
            draws[c]++;
            if (t % 997 == 5)
                cr_assert_eq(latency_draw(some, w, t, 1.0) >= 100.0, straggled(x));
        }
    const double p[2] = {0.05, 0.6};
    cr_assert_eq(draws[1], 2.0 * T);
    for (int c = 0; c < 2; c++) {
        double est = events[c] / draws[c], se = sqrt(p[c] * (1 - p[c]) / draws[c]);
        cr_expect_lt(fabs(est - p[c]), 4 * se, "class %d: %.4f vs %.4f (se %.2g)", c, est, p[c],
                     se);
    }
    double mean = 0.75 * 1.1 * (1 + 0.05 * 99) + 0.25 * 10.1 * (1 + 0.6 * 99);
    cr_expect_float_eq(s->ops->mean(s), mean, 1e-12);
    cr_expect_float_eq(latency_max(s), 100 * (10 + RNG_EXP1_MAX / 10), 1e-9);
    latency_free(s);
    latency_free(some);
#undef STRAGGLE_KEYS
}

/* ---- table and registry ---- */

Test(latency, registry_matches_kind_choices)
{
    const struct config_key *kind = config_key_find(latency_keys, "latency.kind");
    cr_assert_not_null(kind);
    int n = 0;
    char why[256];
    for (const struct latency_kind *const *k = latency_kinds; *k; k++, n++) {
        cr_expect(config_key_check(kind, (*k)->name, why, sizeof why), "%s not a choice",
                  (*k)->name);
        cr_expect_eq(latency_kind_find((*k)->name), *k);
        cr_expect_not_null((*k)->summary);
    }
    cr_expect_eq(n, 8);
    cr_expect_null(latency_kind_find("gamma"));
    cr_expect_null(latency_kind_find(NULL));
}

Test(latency, key_table_defaults_pass_their_own_checks)
{
    char why[256];
    int n = 0;
    for (const struct config_key *k = latency_keys; k->name; k++, n++) {
        cr_expect(strncmp(k->name, "latency.", 8) == 0, "%s", k->name);
        cr_expect(k->meaning && *k->meaning, "%s has no meaning", k->name);
        if (k->default_value)
            cr_expect(config_key_check(k, k->default_value, why, sizeof why), "%s: %s", k->name,
                      why);
    }
    cr_expect_eq(n, 34);
    cr_expect_not_null(config_key_find(latency_keys, "latency.slow.shift"));
    cr_expect_not_null(config_key_find(latency_keys, "latency.active.sigma"));
}

/* ---- create errors ---- */

Test(latency, error_missing_required_key)
{
    expect_error(PARAMS("latency.kind=pareto", "latency.scale=1"),
                 "test.ini:1: latency.shape: missing (required when latency.kind = pareto)");
    expect_error(PARAMS("latency.kind=shifted_exp", "latency.rate=1"),
                 "test.ini:1: latency.shift: missing (required when latency.kind = shifted_exp)");
    expect_error(PARAMS("latency.kind=bimodal", "latency.rate=1", "latency.slow_prob=0.1"),
                 "test.ini:1: latency.slow_factor: missing (required when latency.kind = "
                 "bimodal)");
    expect_error(PARAMS("latency.rate=1"),
                 "test.ini:1: latency.kind: missing (expected one of "
                 "exp|shifted_exp|pareto|lognormal|weibull|bimodal|markov|replay)");
}

Test(latency, error_out_of_range)
{
    expect_error(PARAMS("latency.kind=bimodal", "latency.rate=1", "latency.slow_prob=1.5",
                        "latency.slow_factor=4"),
                 "test.ini:4: latency.slow_prob: must be <= 1");
    expect_error(PARAMS("latency.kind=bimodal", "latency.rate=1", "latency.slow_prob=-0.1",
                        "latency.slow_factor=4"),
                 "test.ini:4: latency.slow_prob: must be >= 0");
    expect_error(PARAMS("latency.kind=bimodal", "latency.rate=1", "latency.slow_prob=0.2",
                        "latency.slow_factor=0.5"),
                 "test.ini:5: latency.slow_factor: must be >= 1");
    expect_error(PARAMS("latency.kind=exp", "latency.rate=0"),
                 "test.ini:3: latency.rate: must be > 0");
    expect_error(PARAMS("latency.kind=exp", "latency.rate=fast"),
                 "test.ini:3: latency.rate: expected a number, got 'fast'");
    expect_error(PARAMS("latency.kind=gamma"),
                 "test.ini:2: latency.kind: expected one of "
                 "exp|shifted_exp|pareto|lognormal|weibull|bimodal|markov|replay, got 'gamma'");
}

Test(latency, error_markov)
{
    expect_error(PARAMS("latency.kind=markov", "latency.p_active_to_slow=0.1",
                        "latency.p_slow_to_active=0.3", "latency.active.kind=exp",
                        "latency.active.rate=1"),
                 "test.ini:1: latency.slow.kind: missing (expected one of "
                 "exp|shifted_exp|pareto|lognormal|weibull)");
    expect_error(PARAMS("latency.kind=markov", "latency.p_active_to_slow=0.1",
                        "latency.p_slow_to_active=0.3", "latency.active.kind=exp",
                        "latency.active.rate=1", "latency.slow.kind=shifted_exp",
                        "latency.slow.rate=1"),
                 "test.ini:1: latency.slow.shift: missing (required when latency.slow.kind = "
                 "shifted_exp)");
    expect_error(PARAMS("latency.kind=markov", "latency.p_active_to_slow=0.1",
                        "latency.p_slow_to_active=0.3", "latency.active.kind=bimodal"),
                 "test.ini:5: latency.active.kind: expected one of "
                 "exp|shifted_exp|pareto|lognormal|weibull, got 'bimodal'");
    expect_error(PARAMS("latency.kind=markov", "latency.p_slow_to_active=0.3"),
                 "test.ini:1: latency.p_active_to_slow: missing (required when latency.kind = "
                 "markov)");
    expect_error(PARAMS("latency.kind=markov", "latency.p_active_to_slow=0",
                        "latency.p_slow_to_active=0", "latency.active.kind=exp",
                        "latency.active.rate=1", "latency.slow.kind=exp", "latency.slow.rate=0.1"),
                 "test.ini:4: latency.p_slow_to_active: p_active_to_slow and p_slow_to_active "
                 "are both 0: the chain has no stationary distribution to start from (for "
                 "permanent classes set latency.slow_nodes)");
    expect_error(PARAMS("latency.kind=markov", "latency.p_active_to_slow=1.2",
                        "latency.p_slow_to_active=0.3"),
                 "test.ini:3: latency.p_active_to_slow: must be <= 1");
}

Test(latency, error_markov_exact_classes_and_straggles)
{
#define HETERO_DISTS "latency.active.kind=exp", "latency.active.rate=1", \
        "latency.slow.kind=exp", "latency.slow.rate=0.1"
    expect_error(PARAMS("latency.kind=markov", "latency.slow_nodes=5", HETERO_DISTS),
                 "test.ini:3: latency.slow_nodes: 5 slow nodes, more than cluster.workers (4)");
    expect_error(PARAMS("latency.kind=markov", "latency.slow_nodes=2", "latency.reclass_every=0",
                        HETERO_DISTS),
                 "test.ini:4: latency.reclass_every: must be >= 1");
    expect_error(PARAMS("latency.kind=markov", "latency.slow_nodes=2",
                        "latency.p_straggle_slow=0.5", HETERO_DISTS),
                 "test.ini:4: latency.p_straggle_slow: above 0 needs latency.straggle_factor "
                 "(how much slower a straggling draw is)");
    expect_error(PARAMS("latency.kind=markov", "latency.slow_nodes=2",
                        "latency.p_straggle_active=1.5", HETERO_DISTS),
                 "test.ini:4: latency.p_straggle_active: must be <= 1");
    expect_error(PARAMS("latency.kind=markov", "latency.slow_nodes=2",
                        "latency.p_straggle_active=0.1", "latency.straggle_factor=0.5",
                        HETERO_DISTS),
                 "test.ini:5: latency.straggle_factor: must be >= 1");
    expect_error(PARAMS("latency.kind=markov", "latency.slow_nodes=2",
                        "latency.p_straggle_active=0.1", "latency.straggle_factor=1e99",
                        "latency.active.kind=shifted_exp", "latency.active.shift=1",
                        "latency.active.rate=1", "latency.slow.kind=exp", "latency.slow.rate=1"),
                 "test.ini:5: latency.straggle_factor: straggling draws could exceed 1e+100");
#undef HETERO_DISTS
}
