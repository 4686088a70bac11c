/* test_cmd_trace.c: the command `stragsim trace stats|fit|gen`: key=value
 * lines and the [latency] block `trace stats` prints, which runs as a config
 * for several traces (a two-level one whose workers never change state
 * included); gen writes a deterministic trace that stats and fit read back;
 * bad input gives exact one-line messages and exit 2. The math under them:
 * test_trace_tools.c. Commands run in-process with their output captured. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/commands.h"
#include "tests/cmd_capture.h"
#include "traces/trace_fit.h"
#include "traces/trace_stats.h"

TestSuite(cmd_trace, .init = make_tmpdir, .fini = remove_tmpdir);

static const char small_trace[] = "worker,iteration,duration\n"
                                  "0,0,1\n1,0,2\n2,0,3\n"
                                  "0,1,2\n1,1,4\n2,1,6\n";

Test(cmd_trace, stats_prints_key_value_lines_and_a_latency_section)
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

Test(cmd_trace, stats_columns_by_number_and_where)
{
    const char *f = tmp_path("small.csv");
    write_text(f, small_trace);
    cr_assert_eq(RUN(cmd_trace, "trace", "stats", f, "--worker", "1", "--iteration", "2",
                     "--value", "3", "--where", "worker=1"),
                 0, "%s", err_text);
    cr_expect_not_null(strstr(out_text, "rows=2\nduplicates=0\nworkers=1\niterations=2\nmean=3\n"),
                       "%s", out_text);
}

Test(cmd_trace, bad_input_gives_one_line_and_exit_2)
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

Test(cmd_trace, fit_all_lists_every_kind_best_first)
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

Test(cmd_trace, gen_writes_a_trace_that_stats_and_fit_read_back)
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
    struct trace_stats *s;
    cr_assert_eq(trace_stats_compute(d, 1.5, "shifted_exp", &s, &err), 0, "%s", err.msg);
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

Test(cmd_trace, stats_latency_block_is_accepted_by_run)
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
