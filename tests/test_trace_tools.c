/* test_trace_tools.c: `stragsim trace stats|fit|gen` and the math under
 * them. Fits recover the parameters of 10^5 draws of every latency kind
 * within 2% (draws from the latency sources themselves, so parameter names
 * and meanings must agree); Spearman ranks with ties; persistence is 1 for
 * a trace whose ranks never change, ~0 for i.i.d. draws and >= 0.7 on the
 * shipped Alibaba traces; the Markov estimates of a generated Markov trace
 * are within 4 standard errors of the truth; the [latency] block `trace
 * stats` prints runs as a config for several traces (a two-level one whose
 * workers never change state included); bad input gives exact one-line
 * messages and exit 2. Fixed seeds throughout. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/commands.h"
#include "base/params.h"
#include "tests/cmd_capture.h"
#include "traces/latency.h"
#include "traces/trace_fit.h"
#include "traces/trace_stats.h"

TestSuite(trace_tools, .init = make_tmpdir, .fini = remove_tmpdir);

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

/* ---- the command ---- */

static const char small_trace[] = "worker,iteration,duration\n"
                                  "0,0,1\n1,0,2\n2,0,3\n"
                                  "0,1,2\n1,1,4\n2,1,6\n";

Test(trace_tools, stats_prints_key_value_lines_and_a_latency_section)
{
    const char *f = tmp_path("small.csv");
    write_text(f, small_trace);
    cr_assert_eq(RUN(cmd_trace, "trace", "stats", f), 0, "%s", err_text);
    static const char *const expected[] = {
        "rows=6\n", "workers=3\n", "iterations=2\n", "mean=3\n", "median=2.5\n",
        "worker.2.mean=4.5\n", "worker.0.median=1.5\n", "iteration_max_over_median_mean=1.5\n",
        "persistence=1.0000\n", "persistence_pairs=1\n", "markov.p_active_to_slow=0\n",
        "[latency]\nkind = markov\n", "p_active_to_slow = 0\n", "slow.kind = ",
    };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        cr_expect_not_null(strstr(out_text, expected[i]), "missing '%s' in:\n%s", expected[i],
                           out_text);
    cr_expect_str_eq(err_text, "");
}

Test(trace_tools, stats_columns_by_number_and_where)
{
    const char *f = tmp_path("small.csv");
    write_text(f, small_trace);
    cr_assert_eq(RUN(cmd_trace, "trace", "stats", f, "--worker", "1", "--iteration", "2",
                     "--value", "3", "--where", "worker=1"),
                 0, "%s", err_text);
    cr_expect_not_null(strstr(out_text, "rows=2\nduplicates=0\nworkers=1\niterations=2\nmean=3\n"),
                       "%s", out_text);
}

Test(trace_tools, bad_input_gives_one_line_and_exit_2)
{
    const char *f = tmp_path("small.csv"), *dup = tmp_path("dup.csv"), *none = tmp_path("none.csv");
    write_text(f, small_trace);
    write_text(dup, "worker,iteration,duration\n0,0,1\n0,0,2\n");
    char want[1024];

    cr_expect_eq(RUN(cmd_trace, "trace", "stats", none), 2);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory\n", none);
    cr_expect_str_eq(err_text, want);

    cr_expect_eq(RUN(cmd_trace, "trace", "fit", f, "--value", "latency"), 2);
    snprintf(want, sizeof want, "%s:1: --value: no column named 'latency' in the header\n", f);
    cr_expect_str_eq(err_text, want);

    cr_expect_eq(RUN(cmd_trace, "trace", "stats", f, "--worker", "9"), 2);
    snprintf(want, sizeof want,
             "%s:1: --worker: column 9 out of range (the header has 3 columns)\n", f);
    cr_expect_str_eq(err_text, want);

    cr_expect_eq(RUN(cmd_trace, "trace", "fit", f, "--dist", "gamma"), 2);
    cr_expect_str_eq(err_text, "stragsim trace fit: --dist: unknown distribution 'gamma' "
                               "(expected exp|shifted_exp|pareto|lognormal|weibull|all)\n");

    cr_expect_eq(RUN(cmd_trace, "trace", "stats", f, "--where", "worker"), 2);
    cr_expect_str_eq(err_text, "--where: expected COL=VALUE, got 'worker'\n");

    cr_expect_eq(RUN(cmd_trace, "trace", "stats", f, "--where", "worker=7"), 2);
    snprintf(want, sizeof want, "%s: no rows with worker=7\n", f);
    cr_expect_str_eq(err_text, want);

    cr_expect_eq(RUN(cmd_trace, "trace", "stats", dup), 2);
    snprintf(want, sizeof want,
             "%s:3: worker 0 has a second row at iteration 0 with another value (first at "
             "line 2)\n",
             dup);
    cr_expect_str_eq(err_text, want);

    cr_expect_eq(RUN(cmd_trace, "trace", "stats", f, "--threshold", "0"), 2);
    cr_expect_str_eq(err_text, "stragsim trace stats: --threshold must be a number > 0, got '0'\n");

    cr_expect_eq(RUN(cmd_trace, "trace", "gen", f), 2);
    cr_expect_str_eq(err_text, "stragsim trace gen: missing -o FILE (the trace to write)\n");

    cr_expect_eq(RUN(cmd_trace, "trace", "plot"), 2);
    cr_expect_str_eq(err_text,
                     "stragsim trace: unknown subcommand 'plot' (expected stats, fit or gen)\n");
}

Test(trace_tools, fit_all_lists_every_kind_best_first)
{
    const char *f = tmp_path("small.csv");
    write_text(f, small_trace);
    cr_assert_eq(RUN(cmd_trace, "trace", "fit", f), 0, "%s", err_text);
    for (const char *const *k = trace_fit_kind_names; *k; k++) {
        char want[64];
        snprintf(want, sizeof want, "kind = %s\n", *k);
        cr_expect_not_null(strstr(out_text, want), "no %s fit in:\n%s", *k, out_text);
    }
    /* the KS distances appear in increasing order */
    double prev = -1;
    for (const char *p = out_text; (p = strstr(p, "; ks=")); p++) {
        double ks = strtod(p + 5, NULL);
        cr_expect_geq(ks, prev);
        prev = ks;
    }
}

static const char gen_config[] = "[experiment]\nseed = 5\n"
                                 "[cluster]\nworkers = 4\n"
                                 "[latency]\nkind = shifted_exp\nshift = 0.5\nrate = 2\n"
                                 "[workload]\nkind = latency\niterations = 10\n";

Test(trace_tools, gen_writes_a_trace_that_stats_and_fit_read_back)
{
    const char *cfg = tmp_path("gen.ini"), *out = tmp_path("gen.csv"), *out2 = tmp_path("gen2.csv");
    write_text(cfg, gen_config);
    cr_assert_eq(RUN(cmd_trace, "trace", "gen", cfg, "-o", out, "--workers", "16", "--iterations",
                     "500"),
                 0, "%s", err_text);
    cr_assert_eq(RUN(cmd_trace, "trace", "gen", cfg, "-o", out2, "--workers", "16",
                     "--iterations", "500"),
                 0, "%s", err_text);
    static char a[1 << 20], b[1 << 20];
    slurp(out, a, sizeof a);
    slurp(out2, b, sizeof b);
    cr_expect_str_eq(a, b, "gen is not deterministic");
    cr_expect_eq(strncmp(a, "worker,iteration,duration\n0,0,", 30), 0, "%.60s", a);

    /* stats reads the format with its defaults */
    struct trace_select sel = {0};
    struct trace_data *d;
    struct error err;
    cr_assert_eq(trace_data_load(out, &sel, TRACE_NEED_VALUE | TRACE_NEED_KEYS, &d, &err), 0,
                 "%s", err.msg);
    cr_expect_eq(d->n, 16 * 500);
    struct trace_stats *s = stats_of(d, 1.5);
    cr_expect_eq(s->workers, 16);
    cr_expect_eq(s->iterations, 500);
    cr_expect_lt(fabs(s->persistence), 0.05, "i.i.d. source, persistence %g", s->persistence);
    struct trace_fit fit;
    cr_assert_eq(trace_fit(d->value, d->n, "shifted_exp", out, &fit, &err), 0, "%s", err.msg);
    cr_expect_float_eq(fit.values[0], 0.5, 0.005);
    cr_expect_lt(fabs(fit.values[1] - 2.0), 4 * 2.0 / sqrt(8000.0), "rate %g", fit.values[1]);
    trace_stats_free(s);
    trace_data_free(d);

    /* defaults from the config: cluster.workers x workload.iterations */
    cr_assert_eq(RUN(cmd_trace, "trace", "gen", cfg, "-o", out), 0, "%s", err_text);
    slurp(out, a, sizeof a);
    size_t lines = 0;
    for (const char *p = a; *p; p++)
        lines += *p == '\n';
    cr_expect_eq(lines, 1 + 4 * 10);
}

/* ---- the printed [latency] block is a config `stragsim run` accepts ---- */

/* Runs `trace stats FILE [--threshold T]`, appends its [latency] block to a
 * small latency-only config and runs that config: it must succeed. Returns
 * the block (static) for further checks. */
static const char *latency_block_runs(const char *trace, const char *threshold)
{
    static char block[8192];
    int rc = threshold ? RUN(cmd_trace, "trace", "stats", trace, "--threshold", threshold)
                       : RUN(cmd_trace, "trace", "stats", trace);
    cr_assert_eq(rc, 0, "%s: %s", trace, err_text);
    const char *start = strstr(out_text, "\n[latency]\n");
    cr_assert_not_null(start, "%s", out_text);
    snprintf(block, sizeof block, "%s", start + 1);
    char ini[9000];
    snprintf(ini, sizeof ini,
             "[experiment]\nseed = 3\n[cluster]\nworkers = 6\n[workload]\nkind = latency\n"
             "jobs = 200\n[scheme]\nkind = kofn\nk = 4\n%s",
             block);
    const char *cfg = tmp_path("from_stats.ini"), *db = tmp_path("from_stats.db");
    write_text(cfg, ini);
    unlink(db);
    cr_expect_eq(RUN(cmd_run, "run", cfg, "-o", db, "-q"), 0, "%s (threshold %s):\n%s\n%s", trace,
                 threshold ? threshold : "1.5", block, err_text);
    return block;
}

Test(trace_tools, stats_latency_block_is_accepted_by_run)
{
    /* all active (no slow worker-iteration) */
    const char *small = tmp_path("small.csv");
    write_text(small, small_trace);
    latency_block_runs(small, NULL);

    /* two-level: worker 5 is always about 2.5x the others, nobody ever
     * changes state, so both fitted probabilities are 0 */
    const char *two = tmp_path("two_level.csv");
    FILE *f = fopen(two, "w");
    cr_assert_not_null(f);
    fprintf(f, "worker,iteration,duration\n");
    for (int i = 0; i < 40; i++)
        for (int w = 0; w < 6; w++)
            fprintf(f, "%d,%d,%.3f\n", w, i,
                    (w == 5 ? 2.5 : 1.0) * (1 + 0.01 * ((w * 7 + i * 13) % 10)));
    fclose(f);
    const char *block = latency_block_runs(two, NULL);
    /* 5 x 39 active steps, 39 slow ones: 0.5 / (195 + 1) and 0.5 / (39 + 1) */
    cr_expect_not_null(strstr(block, "p_active_to_slow = 0.00255102\n"), "%s", block);
    cr_expect_not_null(strstr(block, "p_slow_to_active = 0.0125\n"), "%s", block);
    latency_block_runs(two, "1.2");

    /* a generated Markov trace (transitions both ways) */
    const char *gen_cfg = tmp_path("gen.ini"), *gen = tmp_path("gen.csv");
    write_text(gen_cfg, "[experiment]\nseed = 5\n[workload]\nkind = latency\n"
                        "[scheme]\nkind = uncoded\n[latency]\nkind = markov\n"
                        "p_active_to_slow = 0.1\np_slow_to_active = 0.3\n"
                        "active.kind = exp\nactive.rate = 1\n"
                        "slow.kind = shifted_exp\nslow.shift = 4\nslow.rate = 0.5\n");
    cr_assert_eq(RUN(cmd_trace, "trace", "gen", gen_cfg, "-o", gen, "--workers", "8",
                     "--iterations", "60"),
                 0, "%s", err_text);
    latency_block_runs(gen, NULL);
    latency_block_runs(gen, "3");

    /* the shipped Alibaba traces */
    const char *root = getenv("STRAGSIM_SOURCE_ROOT");
    cr_assert_not_null(root, "STRAGSIM_SOURCE_ROOT is not set (run through meson test)");
    for (int job = 1; job <= 4; job++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/traces/data/alibaba-pai/job_%d_norm.csv", root, job);
        latency_block_runs(path, NULL);
    }
}
