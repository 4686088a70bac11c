/* test_training.c: the training workload end to end (config -> scheme ->
 * job loop -> real gradients on Fashion-MNIST -> iteration rows):
 * simulated iteration times of the gradient codes against their closed
 * forms under a shifted exponential (within 4 standard errors, closed
 * forms from doc/theory.md), a 200-iteration mlp run with n = 12 that
 * learns and decodes exactly, approximate decoding's measured error, shuffling under
 * persistent stragglers, and the exact messages of bad configurations.
 * Needs the Fashion-MNIST files (workload.data_dir's default).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmp_dir.h"
#include "app/config.h"
#include "workloads/workload.h"

/* Runs point 0 of the config `text` (plus --set lines) through the
 * training workload; returns its status, with the error in err. */
static int training_run(const char *text, const char *const *sets, size_t nsets,
                        struct workload_output *out, struct error *err, char *path)
{
    temp_file_write(text, ".ini", path);
    struct config *c = NULL;
    int status = config_load(path, sets, nsets, &c, err);
    struct params *p = NULL;
    char *key = NULL;
    int repeat;
    if (!status)
        status = config_point(c, 0, &p, &repeat, &key, err);
    if (!status)
        status = workload_training_run(p, (uint64_t)params_int(p, "experiment.seed"),
                                       config_key_hash(key), out, err);
    params_free(p);
    free(key);
    config_free(c);
    return status;
}

static void training_ok(const char *text, const char *const *sets, size_t nsets,
                        struct workload_output *out)
{
    struct error err = {{0}};
    char path[64];
    int status = training_run(text, sets, nsets, out, &err, path);
    unlink(path);
    cr_assert_eq(status, 0, "%s", err.msg);
}

static double metric(const struct workload_output *out, const char *name)
{
    double v = metric_list_get(&out->metrics, name);
    cr_assert(!isnan(v) || strcmp(name, "time_to_target") == 0, "metric %s missing", name);
    return v;
}

static double harmonic(int n)
{
    double h = 0.0;
    for (int i = 1; i <= n; i++)
        h += 1.0 / i;
    return h;
}

/* A cheap training point (logreg, one example per partition) for timing. */
static const char timing_ini[] =
    "[experiment]\nseed = 11\n"
    "[cluster]\nworkers = 12\n"
    "[latency]\nkind = shifted_exp\nshift = 1\nrate = 1\n"
    "[workload]\nkind = training\nmodel = logreg\niterations = 3000\nbatch = 12\n"
    "train_limit = 1200\ntest_limit = 100\neval_every = 1000000\n"
    "[scheme]\nkind = crc\n";

/* E[T] of one iteration, worker time l + Exp(mu / l) (doc/theory.md §1, §9). */
struct timing_case {
    const char *scheme, *workers, *stragglers;
    double expect;
};

static void check_timing(const struct timing_case *tc)
{
    char scheme[64], workers[64], stragglers[64];
    snprintf(scheme, sizeof scheme, "scheme.kind=%s", tc->scheme);
    snprintf(workers, sizeof workers, "cluster.workers=%s", tc->workers);
    snprintf(stragglers, sizeof stragglers, "scheme.stragglers=%s", tc->stragglers);
    const char *sets[] = {scheme, workers, stragglers};
    struct workload_output out;
    training_ok(timing_ini, sets, strcmp(tc->scheme, "naive") ? 3 : 2, &out);
    double mean = metric(&out, "iteration_time_mean"), se = metric(&out, "iteration_time_se");
    cr_log_info("%s n=%s s=%s: %.5f +- %.5f (closed form %.5f)", tc->scheme, tc->workers,
                tc->stragglers, mean, se, tc->expect);
    cr_assert(fabs(mean - tc->expect) < 4 * se, "%s n=%s s=%s: %g vs %g (se %g)", tc->scheme,
              tc->workers, tc->stragglers, mean, tc->expect, se);
    cr_assert(se < 0.02 * tc->expect, "se %g too large to test anything", se);
    workload_output_free(&out);
}

/* crc waits for n - s: l + l (H_n - H_s) / mu with l = (s+1)/n
 * (doc/theory.md §9; 0.72869 for n = 10, s = 2). */
Test(training, crc_iteration_time_matches_closed_form)
{
    double l = 3.0 / 10;
    struct timing_case tc = {"crc", "10", "2", l + l * (harmonic(10) - harmonic(2))};
    cr_assert_float_eq(tc.expect, 0.72869, 1e-5);
    check_timing(&tc);
    l = 4.0 / 12;
    struct timing_case tc3 = {"crc", "12", "3", l + l * (harmonic(12) - harmonic(3))};
    check_timing(&tc3);
}

/* frc stops when every group reported once (doc/theory.md §9): the max over
 * n/(s+1) groups of the min of s+1 workers, l + (l / ((s+1) mu)) H_{n/(s+1)}. */
Test(training, frc_iteration_time_is_the_group_cover_time)
{
    double l = 3.0 / 12;
    struct timing_case tc = {"frc", "12", "2", l + l / 3 * harmonic(4)};
    cr_assert_float_eq(tc.expect, 0.42361, 1e-5);
    check_timing(&tc);
}

/* The gradient schemes also serve the latency workload (timing only, no
 * data): the same closed form from many cheap jobs. */
Test(training, crc_in_the_latency_workload)
{
    char path[64];
    temp_file_write("[experiment]\nseed = 4\n[cluster]\nworkers = 10\n"
                    "[latency]\nkind = shifted_exp\nshift = 1\nrate = 1\n"
                    "[workload]\nkind = latency\njobs = 20000\n"
                    "[scheme]\nkind = crc\nstragglers = 2\n",
                    ".ini", path);
    struct config *c = NULL;
    struct params *p = NULL;
    char *key = NULL;
    int repeat;
    struct error err = {{0}};
    struct workload_output out;
    cr_assert_eq(config_load(path, NULL, 0, &c, &err), 0, "%s", err.msg);
    cr_assert_eq(config_point(c, 0, &p, &repeat, &key, &err), 0, "%s", err.msg);
    cr_assert_eq(workload_latency_run(p, 4, config_key_hash(key), &out, &err), 0,
                 "%s", err.msg);
    double mean = metric(&out, "latency_mean"), se = metric(&out, "latency_se");
    cr_log_info("latency workload crc n=10 s=2: %.5f +- %.5f (closed form 0.72869)", mean, se);
    cr_assert(fabs(mean - 0.728690) < 4 * se, "%g +- %g", mean, se);
    cr_assert_float_eq(metric(&out, "waited_mean"), 8.0, 0);
    workload_output_free(&out);
    params_free(p);
    free(key);
    config_free(c);
    unlink(path);
}

/* ignore waits for n - s tasks of cost 1/n, naive for all n (doc/theory.md §9). */
Test(training, ignore_and_naive_iteration_times)
{
    struct timing_case ignore = {"ignore", "10", "3", 0.1 + 0.1 * (harmonic(10) - harmonic(3))};
    check_timing(&ignore);
    struct timing_case naive = {"naive", "10", "0", 0.1 + 0.1 * harmonic(10)};
    check_timing(&naive);
}

static const char mlp_ini[] =
    "[experiment]\nseed = 3\n"
    "[cluster]\nworkers = 12\n"
    "[latency]\nkind = shifted_exp\nshift = 1\nrate = 1\n"
    "[workload]\nkind = training\nmodel = mlp\niterations = 200\nbatch = 600\n"
    "learning_rate = 0.1\neval_every = 50\ntarget_accuracy = 0.7\n"
    "[scheme]\nkind = crc\nstragglers = 2\n";

Test(training, mlp_200_iterations_n12_learns_and_decodes_exactly)
{
    struct workload_output out;
    training_ok(mlp_ini, NULL, 0, &out);
    cr_log_info("mlp n=12: final accuracy %.4f, loss %.4f -> %.4f, target at iteration %g, "
                "grad rel err max %.3g",
                metric(&out, "final_accuracy"), out.iterations[0].loss,
                metric(&out, "final_loss"), metric(&out, "iterations_to_target"),
                metric(&out, "grad_rel_err_max"));
    cr_assert_eq(out.niterations, 200);
    const struct iteration_row *it = out.iterations;
    double prev = 0.0;
    int evals = 0;
    for (size_t i = 0; i < out.niterations; i++) {
        cr_assert_eq(it[i].iteration, (long)i);
        cr_assert(it[i].sim_time > prev);
        prev = it[i].sim_time;
        cr_assert_eq(it[i].waited, 10); /* crc: n - s */
        /* exact decoding up to rounding: crc's random-H matrices can be
         * ill-conditioned, so the double least-squares residual reaches ~1e-9 */
        cr_assert(it[i].residual < 1e-8, "residual %g", it[i].residual);
        /* float32 messages times crc's decoding coefficients, which grow
         * with the random H's conditioning: ~1e-3 at worst here (the exact
         * double-precision decode is checked to 1e-6 in test_gradcode.c) */
        cr_assert(it[i].grad_rel_err < 5e-3, "iteration %zu: rel err %g", i, it[i].grad_rel_err);
        cr_assert_eq(it[i].staleness, 0.0);
        evals += !isnan(it[i].accuracy);
    }
    cr_assert_eq(evals, 4); /* iterations 49, 99, 149, 199 */
    /* Retrained here, so the numbers follow the BLAS kernel's rounding.
     * Measured on an AMD EPYC with OPENBLAS_CORETYPE Prescott, Sandybridge,
     * Haswell, SkylakeX and Zen: final accuracy 0.787-0.799, loss
     * 2.245 -> 0.527-0.538, target 0.7 first met at the first evaluation
     * (iteration 50), grad_rel_err_max 2.3e-3 to 2.4e-3. The bounds leave
     * three times the spread between kernels or more: 0.75, 0.6x the first
     * loss, and 5e-3 above. */
    cr_assert(metric(&out, "final_loss") < 0.6 * it[0].loss, "loss %g -> %g", it[0].loss,
              metric(&out, "final_loss"));
    cr_assert(metric(&out, "final_accuracy") > 0.75, "accuracy %g",
              metric(&out, "final_accuracy"));
    cr_assert_float_eq(metric(&out, "sim_time"), it[199].sim_time, 1e-12);
    /* the first evaluation at 0.7 or more: its row and its time */
    size_t first = 0;
    while (first < 200 && !(it[first].accuracy >= 0.7))
        first++;
    cr_assert(first < 200);
    cr_assert_float_eq(metric(&out, "iterations_to_target"), (double)first + 1, 0);
    cr_assert_float_eq(metric(&out, "time_to_target"), it[first].sim_time, 1e-12);
    cr_assert_float_eq(metric(&out, "partitions_used_mean"), 1.0, 1e-12);
    cr_assert(metric(&out, "grad_rel_err_max") < 5e-3);
    workload_output_free(&out);
}

/* ignore-s: a known residual every iteration, a measurable gradient error. */
Test(training, ignore_decodes_approximately)
{
    const char *sets[] = {"scheme.kind=ignore", "scheme.stragglers=3", "cluster.workers=10",
                          "workload.iterations=30", "workload.batch=100"};
    struct workload_output out;
    training_ok(timing_ini, sets, 5, &out);
    double expect = sqrt(7 * pow(10.0 / 7 - 1, 2) + 3);
    for (size_t i = 0; i < out.niterations; i++) {
        cr_assert_eq(out.iterations[i].waited, 7);
        cr_assert_float_eq(out.iterations[i].residual, expect, 1e-9);
        cr_assert(out.iterations[i].grad_rel_err > 1e-3);
    }
    cr_assert_float_eq(metric(&out, "partitions_used_mean"), 0.7, 1e-12);
    workload_output_free(&out);
}

/* scheme.deadline: an iteration ends at the deadline with what arrived; a
 * deadline shorter than any task leaves nothing to decode. */
Test(training, deadline_ends_iterations)
{
    const char *early[] = {"scheme.kind=approx-gc", "scheme.deadline=0.1",
                           "workload.iterations=20"};
    struct workload_output out;
    training_ok(timing_ini, early, 3, &out);
    for (size_t i = 0; i < out.niterations; i++) {
        cr_assert_eq(out.iterations[i].waited, 0);
        cr_assert_float_eq(out.iterations[i].residual, sqrt(12.0), 1e-12);
        cr_assert_float_eq(out.iterations[i].grad_rel_err, 1.0, 1e-12);
    }
    cr_assert_float_eq(metric(&out, "iteration_time_mean"), 0.1, 1e-12);
    cr_assert_float_eq(metric(&out, "deadline_fraction"), 1.0, 0);
    workload_output_free(&out);
    /* a deadline inside the spread of task times: some iterations end early */
    const char *mid[] = {"scheme.kind=approx-gc", "scheme.deadline=0.45",
                         "workload.iterations=200"};
    training_ok(timing_ini, mid, 3, &out);
    double fraction = metric(&out, "deadline_fraction");
    cr_assert(fraction > 0.05 && fraction < 0.95, "deadline fraction %g", fraction);
    cr_assert(metric(&out, "iteration_time_mean") <= 0.45);
    workload_output_free(&out);
}

/* Persistent stragglers (a markov chain that almost never moves, about a
 * third of the workers slow): ignore-s waiting for half the workers never
 * uses the partitions of the slow ones; shuffling every iteration reaches
 * them all within a window. (Each point has its own streams, so each run
 * draws its own slow set.) */
static const char persistent_ini[] =
    "[experiment]\nseed = 5\n"
    "[cluster]\nworkers = 12\n"
    "[latency]\nkind = markov\np_active_to_slow = 1e-9\np_slow_to_active = 2e-9\n"
    "active.kind = shifted_exp\nactive.shift = 1\nactive.rate = 1\n"
    "slow.kind = shifted_exp\nslow.shift = 10\nslow.rate = 0.1\n"
    "[workload]\nkind = training\nmodel = logreg\niterations = 100\nbatch = 120\n"
    "train_limit = 6000\ntest_limit = 500\neval_every = 20\nusage_window = 10\n"
    "[scheme]\nkind = ignore\nstragglers = 6\n";

Test(training, shuffling_reaches_partitions_of_persistent_stragglers)
{
    struct workload_output none, uniform, aware;
    training_ok(persistent_ini, NULL, 0, &none);
    const char *u[] = {"scheme.shuffle=uniform"};
    training_ok(persistent_ini, u, 1, &uniform);
    const char *a[] = {"scheme.shuffle=slow_aware"};
    training_ok(persistent_ini, a, 1, &aware);
    double never_none = metric(&none, "partitions_never_used");
    cr_assert(never_none >= 1.0 / 12, "without shuffling %g never used", never_none);
    cr_assert(metric(&uniform, "partitions_never_used") < 0.05);
    cr_assert(metric(&aware, "partitions_never_used") < 0.05);
    cr_assert_eq(metric(&none, "shuffles"), 0);
    cr_assert_eq(metric(&uniform, "shuffles"), 99);
    cr_assert(metric(&uniform, "partitions_moved") > 0);
    workload_output_free(&none);
    workload_output_free(&uniform);
    workload_output_free(&aware);
}

/* The heterogeneous model end to end (doc/training.md, "Heterogeneous
 * stragglers"): 3 of 12 workers slow for ever, straggling w.p. 0.6, the
 * others w.p. 0.05, a straggle 100 times longer and a deadline between, so
 * the workers used are the ones that did not straggle; K of them is
 * Binomial(3, 0.4) + Binomial(9, 0.95). ignore with equal weights n/K:
 * E[K]/n partitions recovered and E||a^T B_F - 1||^2 = n E[(n-K)/K; K>=1] +
 * n P(K=0), the same with and without shuffling. */
static const char hetero_ini[] =
    "[experiment]\nseed = 3\n"
    "[cluster]\nworkers = 12\n"
    "[latency]\nkind = markov\nslow_nodes = 3\np_straggle_slow = 0.6\n"
    "p_straggle_active = 0.05\nstraggle_factor = 100\n"
    "active.kind = shifted_exp\nactive.shift = 1\nactive.rate = 10\n"
    "slow.kind = shifted_exp\nslow.shift = 1\nslow.rate = 10\n"
    "[workload]\nkind = training\nmodel = logreg\niterations = 3000\nbatch = 12\n"
    "train_limit = 1200\ntest_limit = 100\neval_every = 1000000\n"
    "[scheme]\nkind = ignore\nwait = 12\ndeadline = 1.5\ndecoder = equal\n";

static double binomial_pmf(int n, int k, double p)
{
    return exp(lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0)) * pow(p, k) *
           pow(1 - p, n - k);
}

Test(training, heterogeneous_model_matches_closed_forms)
{
    double used_exact = (3 * 0.4 + 9 * 0.95) / 12, err_exact = 0;
    for (int a = 0; a <= 3; a++)
        for (int b = 0; b <= 9; b++) {
            int k = a + b;
            double pk = binomial_pmf(3, a, 0.4) * binomial_pmf(9, b, 0.95);
            err_exact += pk * (k ? 12.0 * (12 - k) / k : 12.0);
        }
    const char *shuffles[] = {"scheme.shuffle=none", "scheme.shuffle=uniform"};
    for (int sh = 0; sh < 2; sh++) {
        struct workload_output out;
        training_ok(hetero_ini, &shuffles[sh], 1, &out);
        double k_sum = 0, k_sum2 = 0, e_sum = 0, e_sum2 = 0, t = (double)out.niterations;
        for (size_t i = 0; i < out.niterations; i++) {
            double f = out.iterations[i].waited / 12.0, e = pow(out.iterations[i].residual, 2);
            k_sum += f;
            k_sum2 += f * f;
            e_sum += e;
            e_sum2 += e * e;
        }
        double used = k_sum / t, used_se = sqrt((k_sum2 / t - used * used) / (t - 1));
        double err = e_sum / t, err_se = sqrt((e_sum2 / t - err * err) / (t - 1));
        cr_log_info("%s: partitions used %.5f +- %.5f (exact %.5f), error %.4f +- %.4f "
                    "(exact %.4f)", shuffles[sh], used, used_se, used_exact, err, err_se,
                    err_exact);
        cr_assert_float_eq(metric(&out, "partitions_used_mean"), used, 1e-12);
        cr_assert_lt(fabs(used - used_exact), 4 * used_se, "used %g vs %g", used, used_exact);
        cr_assert_lt(fabs(err - err_exact), 4 * err_se, "error %g vs %g", err, err_exact);
        /* the deadline ends an iteration exactly when somebody straggled */
        double late = 1 - pow(0.4, 3) * pow(0.95, 9), late_se = sqrt(late * (1 - late) / t);
        cr_assert_lt(fabs(metric(&out, "deadline_fraction") - late), 4 * late_se,
                     "deadline fraction %g vs %g", metric(&out, "deadline_fraction"), late);
        workload_output_free(&out);
    }
}

/* A shuffle with a bandwidth delays the workers that receive data. */
Test(training, shuffle_cost_adds_time)
{
    const char *free_sets[] = {"scheme.shuffle=uniform", "scheme.shuffle_every=5"};
    const char *paid_sets[] = {"scheme.shuffle=uniform", "scheme.shuffle_every=5",
                               "scheme.shuffle_bandwidth=1e5"};
    struct workload_output free_run, paid;
    training_ok(persistent_ini, free_sets, 2, &free_run);
    training_ok(persistent_ini, paid_sets, 3, &paid);
    cr_assert(metric(&paid, "iteration_time_mean") > metric(&free_run, "iteration_time_mean"));
    cr_assert_eq(metric(&paid, "shuffles"), 19);
    workload_output_free(&free_run);
    workload_output_free(&paid);
}

/* A small point whose [workload] ends with `workload_extra` (from line 14)
 * and whose [scheme] section follows with the lines `scheme`. */
static void expect_error(const char *workload_extra, const char *scheme, int line,
                         const char *what)
{
    char text[2048], path[64], expect[1024];
    snprintf(text, sizeof text,
             "[experiment]\nseed = 1\n[cluster]\nworkers = 12\n"
             "[latency]\nkind = shifted_exp\nshift = 1\nrate = 1\n"
             "[workload]\nkind = training\nmodel = logreg\niterations = 5\ntrain_limit = 1200\n"
             "%s[scheme]\n%s",
             workload_extra, scheme);
    struct workload_output out;
    struct error err = {{0}};
    int status = training_run(text, NULL, 0, &out, &err, path);
    snprintf(expect, sizeof expect, "%s:%d: %s", path, line, what);
    unlink(path);
    cr_assert_eq(status, STRAG_EINPUT, "%s", err.msg);
    cr_assert_str_eq(err.msg, expect);
}

Test(training, bad_configurations)
{
    expect_error("batch = 12\n", "kind = frc\nstragglers = 4\n", 17,
                 "scheme.stragglers: frc needs s+1 to divide n (n = 12, s = 4)");
    expect_error("batch = 12\n", "kind = approx-gc\ndegree = 13\n", 17,
                 "scheme.degree: approx-gc needs a degree in 1..n (n = 12, degree = 13)");
    expect_error("batch = 12\n", "kind = crc\nstragglers = 2\nwait = 13\n", 18,
                 "scheme.wait: 13 is more than cluster.workers (12)");
    expect_error("batch = 12\npartitions = 6\n", "kind = crc\n", 15,
                 "workload.partitions: must equal cluster.workers (12): gradient codes use one "
                 "partition per worker");
    expect_error("batch = 6\n", "kind = naive\n", 14,
                 "workload.batch: 6 is less than one example per partition (12 partitions)");
    expect_error("batch = 12\n", "kind = hedged\n", 16,
                 "scheme.kind: scheme 'hedged' does not run the training workload");
}

/* ---- the parameter server (scheme ssp, workloads/ssp.c) ---- */

/* Heterogeneous, correlated workers: some are 5x slower for a while. */
static const char ssp_ini[] =
    "[experiment]\nseed = 7\n"
    "[cluster]\nworkers = 8\n"
    "[latency]\nkind = markov\np_active_to_slow = 0.05\np_slow_to_active = 0.2\n"
    "active.kind = shifted_exp\nactive.shift = 1\nactive.rate = 1\n"
    "slow.kind = shifted_exp\nslow.shift = 5\nslow.rate = 0.2\n"
    "[workload]\nkind = training\nmodel = logreg\niterations = 60\nbatch = 80\n"
    "train_limit = 4000\ntest_limit = 500\neval_every = 20\nlearning_rate = 0.1\n"
    "[scheme]\nkind = ssp\n";

static double staleness_max_rows(const struct workload_output *out)
{
    double m = 0.0;
    for (size_t i = 0; i < out->niterations; i++)
        m = fmax(m, out->iterations[i].staleness);
    return m;
}

/* A push's staleness is bounded by what the clock rule lets the others do
 * between its read and its push: (n - 1)(2s + 1) updates. */
Test(training, ssp_staleness_follows_the_bound)
{
    const char *s0[] = {"scheme.staleness=0"}, *s2[] = {"scheme.staleness=2"},
               *async[] = {"scheme.staleness=-1"};
    struct workload_output bsp, ssp, asp;
    training_ok(ssp_ini, s0, 1, &bsp);
    training_ok(ssp_ini, s2, 1, &ssp);
    training_ok(ssp_ini, async, 1, &asp);
    cr_assert_eq(bsp.niterations, 8 * 60); /* every clock of every worker pushed once */
    cr_assert_eq(asp.niterations, 8 * 60);
    cr_assert(staleness_max_rows(&bsp) <= 7, "s=0: %g", staleness_max_rows(&bsp));
    cr_assert(staleness_max_rows(&ssp) <= 7 * 5, "s=2: %g", staleness_max_rows(&ssp));
    cr_assert(staleness_max_rows(&asp) > 7 * 5, "async: %g", staleness_max_rows(&asp));
    cr_assert_float_eq(metric(&asp, "staleness_max"), staleness_max_rows(&asp), 1e-12);
    /* waiting for the slowest costs time: lock-step is the slowest of the three */
    cr_assert(metric(&bsp, "sim_time") > metric(&ssp, "sim_time"));
    cr_assert(metric(&ssp, "sim_time") > metric(&asp, "sim_time"));
    for (size_t i = 0; i < bsp.niterations; i++) {
        cr_assert_eq(bsp.iterations[i].waited, 1);
        cr_assert(isnan(bsp.iterations[i].residual));
    }
    cr_assert(!isnan(bsp.iterations[bsp.niterations - 1].accuracy));
    /* 0.728 on five OpenBLAS kernels (see the mlp test); 0.5 says it learns */
    cr_log_info("ssp s=0: final accuracy %.4f", metric(&bsp, "final_accuracy"));
    cr_assert(metric(&bsp, "final_accuracy") > 0.5);
    cr_assert(metric(&bsp, "predictor_rel_mae") > 0 && metric(&bsp, "predictor_rel_mae") < 2);
    workload_output_free(&bsp);
    workload_output_free(&ssp);
    workload_output_free(&asp);
}

Test(training, ssp_actions_skip_and_batch)
{
    const char *none[] = {"scheme.staleness=1"};
    const char *skip[] = {"scheme.staleness=1", "scheme.action=skip", "scheme.skip_factor=2"};
    const char *batch[] = {"scheme.staleness=1", "scheme.action=batch", "scheme.predictor=ar1"};
    struct workload_output n, s, b;
    training_ok(ssp_ini, none, 1, &n);
    training_ok(ssp_ini, skip, 3, &s);
    training_ok(ssp_ini, batch, 3, &b);
    cr_assert_eq(metric(&n, "skipped_fraction"), 0.0);
    double skipped = metric(&s, "skipped_fraction");
    cr_assert(skipped > 0 && skipped < 0.5, "skipped %g", skipped);
    cr_assert_eq(s.niterations, (size_t)lround(8 * 60 * (1 - skipped)));
    cr_assert_eq(b.niterations, 8 * 60);
    cr_assert_eq(metric(&b, "skipped_fraction"), 0.0);
    workload_output_free(&n);
    workload_output_free(&s);
    workload_output_free(&b);
}

/* Persistent stragglers (a slow spell lasts 20 clocks on average): the
 * online LSTM predictor learns who is slow from each worker's own window and
 * beats the naive running mean of every worker's times; its error and the
 * baseline's are both reported. */
Test(training, ssp_lstm_predictor_beats_the_global_mean)
{
    const char *sets[] = {"latency.p_active_to_slow=0.02", "latency.p_slow_to_active=0.05",
                          "scheme.staleness=1", "scheme.predictor=lstm",
                          "scheme.predictor_hidden=8"};
    struct workload_output out;
    training_ok(ssp_ini, sets, 5, &out);
    double mae = metric(&out, "predictor_mae"), base = metric(&out, "predictor_baseline_mae");
    cr_log_info("persistent markov: lstm mae %.3f, running global mean mae %.3f", mae, base);
    cr_assert(base > 0.5, "the baseline error is reported: %g", base);
    /* measured 2.732 against 4.201 (0.65) on five OpenBLAS kernels (see the
     * mlp test); 0.8 leaves room for a kernel that trains it differently */
    cr_assert(mae < 0.8 * base, "lstm mae %g vs global mean %g", mae, base);
    cr_assert(metric(&out, "predictor_rel_mae") > 0);
    workload_output_free(&out);
}
