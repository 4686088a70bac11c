/* test_plot.c: what people look at. `stragsim plot` on a small database
 * written with results_write_run (SVG files with the axis labels, legend
 * entries and data; exact one-line errors for a missing metric or param, an
 * unknown extension, a missing gnuplot, no per-job rows), `stragsim export`
 * (CSV content), the progress line (drawn only when on, with counts and
 * label), and `stragsim config --list` (every key of every table). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis/results.h"
#include "sim/commands.h"
#include "sim/config.h"
#include "sim/progress.h"
#include "tests/cmd_capture.h"

TestSuite(plot, .init = make_tmpdir, .fini = remove_tmpdir);

/* results.db with 2 schemes x 3 worker counts x 2 repeats; latency_mean =
 * workers / 10 (+ 0.01 per repeat), latency_se = 0.005; per-job rows for
 * the repeat-0 runs only; one training run with iterations rows. */
static const char *make_db(void)
{
    const char *path = tmp_path("results.db");
    struct results *r;
    struct error err;
    cr_assert_eq(results_open(path, false, &r, &err), 0, "%s", err.msg);
    int64_t exp_id;
    cr_assert_eq(results_experiment(r, "plot-test", "[experiment]\n", &exp_id, &err), 0, "%s",
                 err.msg);
    static const char *const schemes[] = {"uncoded", "kofn"};
    static const int workers[] = {4, 8, 16};
    for (int s = 0; s < 2; s++) {
        for (int w = 0; w < 3; w++) {
            for (int rep = 0; rep < 2; rep++) {
                struct params *p = params_new();
                char wbuf[16], key[64];
                snprintf(wbuf, sizeof wbuf, "%d", workers[w]);
                params_set(p, "scheme.kind", schemes[s], NULL, 0);
                params_set(p, "cluster.workers", wbuf, NULL, 0);
                params_set(p, "workload.kind", "latency", NULL, 0);
                struct metric_list m = {0};
                metric_list_set(&m, "latency_mean", workers[w] / 10.0 + 0.01 * rep + s);
                metric_list_set(&m, "latency_se", 0.005);
                struct job_row jobs[50];
                for (int j = 0; j < 50; j++)
                    jobs[j] = (struct job_row){.job = (uint64_t)j, .arrival = j,
                                               .latency = 0.1 * (j + 1) * (s + 1), .tasks = 4,
                                               .extra = NAN};
                snprintf(key, sizeof key, "%s-%d-%d", schemes[s], workers[w], rep);
                struct run_record rec = {.point_key = key, .repeat = rep, .seed = 1,
                                         .params = p, .metrics = &m, .jobs = jobs,
                                         .njobs = rep == 0 ? 50 : 0};
                cr_assert_eq(results_write_run(r, exp_id, &rec, &err), 0, "%s", err.msg);
                metric_list_clear(&m);
                params_free(p);
            }
        }
    }
    /* a training run */
    struct params *p = params_new();
    params_set(p, "scheme.kind", "ignore", NULL, 0);
    params_set(p, "workload.kind", "training", NULL, 0);
    struct metric_list m = {0};
    metric_list_set(&m, "final_loss", 0.4);
    struct iteration_row it[20];
    for (int i = 0; i < 20; i++)
        it[i] = (struct iteration_row){.iteration = i, .sim_time = 0.5 * i, .loss = 2.0 / (i + 1),
                                       .accuracy = i % 5 == 0 ? 0.5 + 0.02 * i : NAN};
    struct run_record rec = {.point_key = "train-0", .params = p, .metrics = &m,
                             .iterations = it, .niterations = 20};
    cr_assert_eq(results_write_run(r, exp_id, &rec, &err), 0, "%s", err.msg);
    metric_list_clear(&m);
    params_free(p);
    results_close(r);
    return path;
}

static bool file_has(const char *path, const char *text)
{
    static char buf[1 << 20];
    slurp(path, buf, sizeof buf);
    return strstr(buf, text) != NULL;
}

/* ---- plot ---- */

Test(plot, metric_against_param_to_svg)
{
    const char *db = make_db(), *svg = tmp_path("lat.svg");
    cr_assert_eq(RUN(cmd_plot, "plot", db, "--x", "cluster.workers", "--y", "latency_mean",
                     "--group", "scheme.kind", "-o", svg),
                 0, "%s", err_text);
    struct stat st;
    cr_assert_eq(stat(svg, &st), 0);
    cr_expect_gt(st.st_size, 1000);
    cr_expect(file_has(svg, "<svg"), "not an SVG");
    cr_expect(file_has(svg, "mean job latency (s)"), "no y label");
    cr_expect(file_has(svg, "workers N"), "no x label");
    cr_expect(file_has(svg, "scheme.kind = kofn"), "no legend entry");
    cr_expect(file_has(svg, "scheme.kind = uncoded"), "no legend entry");
}

Test(plot, short_param_names_and_kept_script)
{
    const char *db = make_db(), *png = tmp_path("lat.png"), *gp = tmp_path("lat.gp");
    cr_assert_eq(RUN(cmd_plot, "plot", db, "--x", "workers", "--y", "latency_mean", "--where",
                     "scheme.kind=kofn", "-o", png, "--script", gp),
                 0, "%s", err_text);
    static const char png_magic[] = "\x89PNG";
    cr_expect(file_has(png, png_magic), "not a PNG");
    /* two repeats per x: mean of (w/10 + 1) and (w/10 + 1.01), SE 0.005 */
    cr_expect(file_has(gp, "4 1.405 0.005\n"), "data of x = 4 missing from the script");
    cr_expect(file_has(gp, "16 2.605 0.005\n"), "data of x = 16 missing from the script");
    cr_expect(file_has(gp, "set terminal pngcairo size 800,500"));
}

Test(plot, latency_cdf_from_job_rows)
{
    const char *db = make_db(), *svg = tmp_path("cdf.svg");
    cr_assert_eq(RUN(cmd_plot, "plot", db, "--cdf", "--group", "scheme.kind", "--where",
                     "workers=8", "-o", svg),
                 0, "%s", err_text);
    cr_expect(file_has(svg, "job latency (s)"));
    cr_expect(file_has(svg, "fraction of jobs done by x"));
    cr_expect(file_has(svg, "scheme.kind = uncoded"));
}

Test(plot, training_curve_from_iterations)
{
    const char *db = make_db(), *svg = tmp_path("loss.svg");
    cr_assert_eq(RUN(cmd_plot, "plot", db, "--iterations", "--y", "loss", "--where",
                     "workload.kind=training", "-o", svg),
                 0, "%s", err_text);
    cr_expect(file_has(svg, "simulated time (s)"));
    cr_expect(file_has(svg, "training loss"));
}

Test(plot, errors_are_one_line_and_exit_2)
{
    const char *db = make_db(), *svg = tmp_path("x.svg");
    char want[1024];

    cr_expect_eq(RUN(cmd_plot, "plot", db, "--x", "workers", "--y", "accuracy", "-o", svg), 2);
    snprintf(want, sizeof want, "%s: no runs have metric 'accuracy'\n", db);
    cr_expect_str_eq(err_text, want);

    cr_expect_eq(RUN(cmd_plot, "plot", db, "--x", "stragglers", "--y", "latency_mean", "-o", svg),
                 2);
    snprintf(want, sizeof want, "%s: no runs have param 'stragglers'\n", db);
    cr_expect_str_eq(err_text, want);

    cr_expect_eq(RUN(cmd_plot, "plot", db, "--x", "kind", "--y", "latency_mean", "-o", svg), 2);
    snprintf(want, sizeof want,
             "%s: param 'kind' is ambiguous (scheme.kind, workload.kind): give the full key\n", db);
    cr_expect_str_eq(err_text, want);

    cr_expect_eq(RUN(cmd_plot, "plot", db, "--x", "workers", "--y", "latency_mean", "-o",
                     tmp_path("x.pdf")),
                 2);
    snprintf(want, sizeof want, "%s: unknown output extension (expected .png or .svg)\n",
             tmp_path("x.pdf"));
    cr_expect_str_eq(err_text, want);

    cr_expect_eq(RUN(cmd_plot, "plot", db, "--x", "workers", "--y", "latency_mean", "-o", svg,
                     "--gnuplot", "/nonexistent/gnuplot"),
                 2);
    cr_expect_str_eq(err_text, "stragsim plot: gnuplot not found (apt-get install gnuplot-nox)\n");

    cr_expect_eq(RUN(cmd_plot, "plot", db, "--cdf", "--where", "workload.kind=training", "-o",
                     svg),
                 2);
    snprintf(want, sizeof want,
             "%s: no per-job rows for the selected runs (runs store them with "
             "workload.job_rows = true)\n",
             db);
    cr_expect_str_eq(err_text, want);

    cr_expect_eq(RUN(cmd_plot, "plot", db, "--x", "workers", "--y", "latency_mean", "--where",
                     "workers=5", "-o", svg),
                 2);
    snprintf(want, sizeof want, "%s: no runs match the --where filters\n", db);
    cr_expect_str_eq(err_text, want);

    cr_expect_eq(RUN(cmd_plot, "plot", db, "--x", "workers", "-o", svg), 2);
    cr_expect_str_eq(err_text, "stragsim plot: --x PARAM and --y METRIC are needed (or --cdf, "
                               "--iterations)\n");
    struct stat st;
    cr_expect_neq(stat(svg, &st), 0, "a failed plot left a file");
}

/* ---- export ---- */

Test(plot, export_metrics_and_jobs_as_csv)
{
    const char *db = make_db(), *csv = tmp_path("m.csv");
    cr_assert_eq(RUN(cmd_export, "export", db, "--table", "metrics", "-o", csv), 0, "%s",
                 err_text);
    static char buf[1 << 16];
    slurp(csv, buf, sizeof buf);
    cr_expect_eq(strncmp(buf, "run_id,point_key,repeat,scheme.kind,", 36), 0, "%.80s", buf);
    cr_expect_not_null(strstr(buf, "latency_mean,latency_se"), "%.200s", buf);
    cr_expect_not_null(strstr(buf, "\r\n2,uncoded-4-1,1,uncoded,"), "%.400s", buf);

    cr_assert_eq(RUN(cmd_export, "export", db, "--table", "jobs", "-o", csv), 0, "%s", err_text);
    slurp(csv, buf, sizeof buf);
    size_t rows = 0;
    for (const char *p = buf; (p = strstr(p, "\r\n")); p += 2)
        rows++;
    cr_expect_eq(rows, 1 + 6 * 50, "header + 6 runs x 50 jobs");
    cr_expect_not_null(strstr(buf, ",job,arrival,latency,tasks,extra\r\n"));

    cr_expect_eq(RUN(cmd_export, "export", db, "--table", "events", "-o", csv), 2);
    cr_expect_str_eq(err_text,
                     "stragsim export: unknown table 'events' (expected jobs|iterations|metrics)\n");
}

/* ---- progress ---- */

Test(plot, progress_draws_only_when_on)
{
    FILE *f = tmpfile();
    struct progress *p = progress_new(f, 3, PROGRESS_ON);
    progress_skip(p);
    progress_begin(p, "scheme.k=4 repeat 0");
    progress_done(p);
    progress_begin(p, "scheme.k=8 repeat 0");
    progress_done(p);
    progress_finish(p);
    progress_free(p);
    static char buf[4096];
    rewind(f);
    buf[fread(buf, 1, sizeof buf - 1, f)] = 0;
    fclose(f);
    /* redraws are throttled: the first (1/3, after the skip) and the last
     * (3/3, forced when all points are done) are always drawn */
    cr_expect_not_null(strstr(buf, "] 1/3 "), "%s", buf);
    /* the last line: ETA 0 (nothing left); elapsed is whatever this machine
     * took, so only its shape is checked */
    const char *last = strstr(buf, "] 3/3 scheme.k=8 repeat 0  elapsed ");
    cr_assert_not_null(last, "%s", buf);
    char elapsed[32] = "", eta[32] = "";
    cr_expect_eq(sscanf(last, "] 3/3 scheme.k=8 repeat 0  elapsed %31[0-9:]  ETA %31[0-9:]",
                        elapsed, eta),
                 2, "%s", buf);
    cr_expect(strlen(elapsed) >= 4 && elapsed[strlen(elapsed) - 3] == ':', "%s", buf);
    cr_expect_str_eq(eta, "0:00", "%s", buf);
    cr_expect_eq(buf[strlen(buf) - 1], '\n');

    /* --quiet, and a file that is not a terminal: nothing */
    for (int mode = 0; mode < 2; mode++) {
        f = tmpfile();
        p = progress_new(f, 2, mode ? PROGRESS_OFF : PROGRESS_AUTO);
        progress_begin(p, "x");
        progress_done(p);
        progress_finish(p);
        progress_free(p);
        cr_expect_eq(ftell(f), 0, "mode %d wrote something", mode);
        fclose(f);
    }
}

/* ---- config --list ---- */

Test(plot, config_list_has_every_key_of_every_table)
{
    cr_assert_eq(RUN(cmd_config, "config", "--list"), 0, "%s", err_text);
    size_t keys = 0;
    for (const struct config_key *const *t = config_tables; *t; t++) {
        for (const struct config_key *k = *t; k->name; k++, keys++) {
            char want[256];
            snprintf(want, sizeof want, "\n%s ", k->name);
            cr_expect_not_null(strstr(out_text, want), "config --list lacks %s", k->name);
        }
    }
    cr_expect_gt(keys, 30);
    cr_expect_not_null(strstr(out_text, "section.key "), "no header");
    const char *row = strstr(out_text, "\ncluster.workers ");
    cr_assert_not_null(row);
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)strcspn(row + 1, "\n"), row + 1);
    static const char *const fields[] = {" int ", " 10 ", " [1, 100000] ", "number of workers N"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        cr_expect_not_null(strstr(line, fields[i]), "'%s' lacks '%s'", line, fields[i]);

    cr_expect_eq(RUN(cmd_config, "config"), 2);
    cr_expect_str_eq(err_text,
                     "stragsim config: nothing to do (usage: stragsim config --list [SECTION])\n");
}
