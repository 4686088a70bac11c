/* test_check.c: `stragsim check` (matching by point key and by params,
 * tolerances, NaN, missing points and metrics, exit codes and exact lines)
 * and `stragsim report` (exact text, CSV and markdown output of a small
 * database, column choice, filters, usage errors). Databases are built with
 * results_write_run; the commands are called in-process with stdout and
 * stderr captured. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <ftw.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/report.h"
#include "app/commands.h"

static char dir[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/strag_check_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_redirect_stdout();
    cr_redirect_stderr();
}

static void teardown(void) { nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

TestSuite(check, .init = setup, .fini = teardown);
TestSuite(report, .init = setup, .fini = teardown);

/* One sweep point: kofn points have scheme.k, uncoded ones do not (a key
 * only some runs have is not a column by itself: scheme.kind tells them apart). */
struct point {
    const char *key, *scheme, *rate;
    int repeat;
    double mean, p99, accuracy;
};

static const struct point base_points[] = {
    {"k1", "kofn", "1", 0, 0.5, 1.25, 0.9},
    {"k2", "kofn", "2", 0, 0.25, 0.625, 0.875},
    {"u1", "uncoded", "1", 0, 1.5, 4.5, NAN},
    {"u2", "uncoded", "2", 0, 0.75, 2.25, NAN},
};
enum { NBASE = sizeof base_points / sizeof base_points[0] };

static const char *db_path(const char *name)
{
    static char buf[4][256];
    static int slot;
    char *p = buf[slot++ % 4];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

/* Writes the points into a new database at path, point keys prefixed. */
static void db_build(const char *path, const struct point *pts, size_t n, const char *key_prefix)
{
    struct results *r;
    struct error err;
    int64_t exp;
    cr_assert_eq(results_open(path, false, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(results_experiment(r, "demo", "[experiment]\n", &exp, &err), 0, "%s", err.msg);
    for (size_t i = 0; i < n; i++) {
        struct params *p = params_new();
        params_set(p, "experiment.name", "demo", NULL, 0);
        params_set(p, "experiment.db", path, NULL, 0);
        params_set(p, "workload.kind", "latency", NULL, 0);
        params_set(p, "scheme.kind", pts[i].scheme, NULL, 0);
        if (strcmp(pts[i].scheme, "kofn") == 0)
            params_set(p, "scheme.k", "2", NULL, 0);
        params_set(p, "latency.rate", pts[i].rate, NULL, 0);
        struct metric_list m = {0};
        metric_list_set(&m, "jobs", 1000);
        metric_list_set(&m, "latency_mean", pts[i].mean);
        metric_list_set(&m, "latency_p99", pts[i].p99);
        metric_list_set(&m, "accuracy", pts[i].accuracy);
        char key[64];
        snprintf(key, sizeof key, "%s%s", key_prefix, pts[i].key);
        struct run_record rec = {.point_key = key, .repeat = pts[i].repeat, .seed = 1,
                                 .params = p, .metrics = &m};
        cr_assert_eq(results_write_run(r, exp, &rec, &err), 0, "%s", err.msg);
        params_free(p);
        metric_list_clear(&m);
    }
    results_close(r);
}

/* Runs a command on a copy of its arguments (getopt permutes them and the
 * commands cut option values in place), NULL-terminated. */
static int run(int (*cmd)(int, char **), ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, cmd);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < 31;)
        argv[argc++] = strdup(a);
    va_end(ap);
    argv[argc] = NULL;
    int status = cmd(argc, argv);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    fflush(stdout);
    fflush(stderr);
    return status;
}

/* Everything the commands printed so far to a redirected stream equals want
 * (read whole, so a failure shows what was printed). */
static void stream_expect(FILE *f, const char *want)
{
    char got[8192];
    size_t n = fread(got, 1, sizeof got - 1, f);
    got[n] = '\0';
    cr_assert_str_eq(got, want);
}

static void stdout_expect(const char *want)
{
    fflush(stdout);
    stream_expect(cr_get_redirected_stdout(), want);
}

static void stderr_expect(const char *want)
{
    fflush(stderr);
    stream_expect(cr_get_redirected_stderr(), want);
}

/* The base points with one change applied. */
static void points_copy(struct point out[NBASE]) { memcpy(out, base_points, sizeof base_points); }

Test(check, equal_databases_pass)
{
    const char *a = db_path("a.db"), *b = db_path("b.db");
    db_build(a, base_points, NBASE, "");
    db_build(b, base_points, NBASE, "");
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, NULL), 0);
    stdout_expect("check: 4 points compared, 16 metrics, 0 regressions\n");
}

Test(check, perturbed_metric_fails)
{
    struct point pts[NBASE];
    points_copy(pts);
    pts[1].mean = 0.375;
    const char *a = db_path("a.db"), *b = db_path("b.db");
    db_build(a, pts, NBASE, "");
    db_build(b, base_points, NBASE, "");
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, NULL), 1);
    stdout_expect(
        "regression: scheme.kind=kofn latency.rate=2: latency_mean: baseline 0.25,"
        " new 0.375, rel diff 0.5\n"
        "check: 4 points compared, 16 metrics, 1 regressions\n");
}

Test(check, tiny_difference_shows_every_digit)
{
    struct point pts[NBASE];
    points_copy(pts);
    pts[0].mean = 0.5 + 0x1p-40;
    const char *a = db_path("a.db"), *b = db_path("b.db");
    db_build(a, pts, NBASE, "");
    db_build(b, base_points, NBASE, "");
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, "--rtol", "0", NULL), 1);
    stdout_expect(
        "regression: scheme.kind=kofn latency.rate=1: latency_mean: baseline 0.5,"
        " new 0.5000000000009095, rel diff 1.82e-12\n"
        "check: 4 points compared, 16 metrics, 1 regressions\n");
}

Test(check, within_default_tolerance_passes)
{
    struct point pts[NBASE];
    points_copy(pts);
    pts[0].mean = 0.5 + 0x1p-40; /* relative 1.8e-12 < 1e-9 */
    const char *a = db_path("a.db"), *b = db_path("b.db");
    db_build(a, pts, NBASE, "");
    db_build(b, base_points, NBASE, "");
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, NULL), 0);
}

Test(check, per_metric_tolerance)
{
    struct point pts[NBASE];
    points_copy(pts);
    pts[3].p99 = 2.25 * 1.001;
    const char *a = db_path("a.db"), *b = db_path("b.db");
    db_build(a, pts, NBASE, "");
    db_build(b, base_points, NBASE, "");
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, "--metric", "latency_p99:1e-2", NULL),
                 0);
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, "--rtol", "0.1", "--metric",
                     "latency_p99:1e-4", NULL),
                 1);
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, "--metric", "latency_p99:ignore",
                     NULL),
                 0);
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, "--atol", "0.01", NULL), 0);
    stdout_expect(
        "check: 4 points compared, 16 metrics, 0 regressions\n"
        "regression: scheme.kind=uncoded latency.rate=2: latency_p99: baseline 2.25,"
        " new 2.2522499999999996, rel diff 0.001\n"
        "check: 4 points compared, 16 metrics, 1 regressions\n"
        "check: 4 points compared, 12 metrics, 0 regressions\n"
        "check: 4 points compared, 16 metrics, 0 regressions\n");
}

Test(check, missing_point_and_metric)
{
    const char *a = db_path("a.db"), *b = db_path("b.db");
    db_build(a, base_points, 3, ""); /* u2 missing */
    db_build(b, base_points, NBASE, "");
    /* Remove one metric of k2 from the new database. */
    struct results *r;
    struct error err;
    cr_assert_eq(results_open(a, false, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(sqlite3_exec(results_db(r),
                              "DELETE FROM metrics WHERE name = 'accuracy' AND run_id ="
                              " (SELECT id FROM runs WHERE point_key = 'k2')",
                              NULL, NULL, NULL),
                 0);
    results_close(r);
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, NULL), 1);
    stdout_expect(
        "regression: scheme.kind=kofn latency.rate=2: accuracy: baseline 0.875,"
        " new missing\n"
        "regression: scheme.kind=uncoded latency.rate=2: missing from DB\n"
        "check: 4 points compared, 12 metrics, 2 regressions\n");
}

Test(check, nan_equals_nan_only)
{
    struct point pts[NBASE];
    points_copy(pts);
    pts[0].accuracy = NAN; /* baseline 0.9 */
    pts[2].accuracy = 0.5; /* baseline NaN */
    const char *a = db_path("a.db"), *b = db_path("b.db");
    db_build(a, pts, NBASE, "");
    db_build(b, base_points, NBASE, "");
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, NULL), 1);
    stdout_expect(
        "regression: scheme.kind=kofn latency.rate=1: accuracy: baseline 0.9,"
        " new nan, rel diff nan\n"
        "regression: scheme.kind=uncoded latency.rate=1: accuracy: baseline nan, new 0.5,"
        " rel diff nan\n"
        "check: 4 points compared, 16 metrics, 2 regressions\n");
}

Test(check, matches_by_params_when_keys_differ)
{
    const char *a = db_path("a.db"), *b = db_path("b.db");
    db_build(a, base_points, NBASE, "v2-"); /* other keys, other experiment.db */
    db_build(b, base_points, NBASE, "");
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, NULL), 0);
    stdout_expect("check: 4 points compared, 16 metrics, 0 regressions\n");
}

Test(check, repeats_match_by_params)
{
    /* Two repeats of one config: matched by repeat, not to the first one found. */
    static const struct point base[] = {
        {"r0", "kofn", "1", 0, 0.5, 1, 1},
        {"r1", "kofn", "1", 1, 0.75, 1, 1},
    };
    static const struct point swapped[] = {
        {"r1", "kofn", "1", 1, 0.75, 1, 1},
        {"r0", "kofn", "1", 0, 0.5, 1, 1},
    };
    const char *a = db_path("a.db"), *b = db_path("b.db");
    db_build(a, swapped, 2, "new-");
    db_build(b, base, 2, "");
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, NULL), 0);
    stdout_expect("check: 2 points compared, 8 metrics, 0 regressions\n");
}

Test(check, extra_points_are_noted)
{
    const char *a = db_path("a.db"), *b = db_path("b.db");
    db_build(a, base_points, NBASE, "");
    db_build(b, base_points, 2, "");
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, NULL), 0);
    stdout_expect("check: 2 points in DB not in the baseline (not compared)\n"
                            "check: 2 points compared, 8 metrics, 0 regressions\n");
}

Test(check, usage_errors)
{
    const char *a = db_path("a.db"), *b = db_path("b.db"), *none = db_path("none.db");
    db_build(a, base_points, NBASE, "");
    db_build(b, base_points, NBASE, "");
    cr_assert_eq(run(cmd_check, "check", a, NULL), 2);
    cr_assert_eq(run(cmd_check, "check", "--baseline", b, NULL), 2);
    cr_assert_eq(run(cmd_check, "check", a, b, "--baseline", b, NULL), 2);
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, "--rtol", "-1", NULL), 2);
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, "--metric", "latency_p99", NULL), 2);
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, "--metric", "nosuch:0.1", NULL), 2);
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, "--bogus", NULL), 2);
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", NULL), 2);
    cr_assert_eq(run(cmd_check, "check", none, "--baseline", b, NULL), 2);
    char want[2048];
    snprintf(want, sizeof want,
             "stragsim check: --baseline DB2 is required\n"
             "stragsim check: missing DB (usage: stragsim check DB --baseline DB2)\n"
             "stragsim check: expected one DB, got extra argument '%s'\n"
             "stragsim check: --rtol expects a number >= 0, got '-1'\n"
             "stragsim check: --metric expects NAME:TOL or NAME:ignore, got 'latency_p99'\n"
             "stragsim check: --metric: no metric 'nosuch' in the baseline\n"
             "stragsim check: unknown option '--bogus' (see stragsim check --help)\n"
             "stragsim check: --baseline needs a value\n"
             "%s: no such file\n",
             b, none);
    stderr_expect(want);
}

Test(check, empty_baseline_is_bad_input)
{
    const char *a = db_path("a.db"), *b = db_path("b.db");
    db_build(a, base_points, NBASE, "");
    db_build(b, base_points, 0, "");
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, NULL), 2);
    char want[512];
    snprintf(want, sizeof want, "%s: no runs to compare against\n", b);
    stderr_expect(want);
}

Test(check, help)
{
    cr_assert_eq(run(cmd_check, "check", "--help", NULL), 0);
    cr_assert_eq(run(cmd_report, "report", "--help", NULL), 0);
    fflush(stdout);
    FILE *out = cr_get_redirected_stdout();
    char line[128];
    cr_assert_not_null(fgets(line, sizeof line, out));
    cr_assert_str_eq(line, "usage: stragsim check DB --baseline DB2 [--rtol X] [--atol Y]\n");
}

/* ---- report ---- */

/* report_write into a string. */
static char *report_text(const char *path, const struct report_options *opt)
{
    struct results *r;
    struct error err;
    cr_assert_eq(results_open(path, true, &r, &err), 0, "%s", err.msg);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cr_assert_eq(report_write(r, opt, out, &err), 0, "%s", err.msg);
    fclose(out);
    results_close(r);
    return buf;
}

static void report_expect(const char *path, enum report_format format, const char *want)
{
    struct report_options opt = {.format = format};
    char *got = report_text(path, &opt);
    cr_assert_str_eq(got, want);
    free(got);
}

Test(report, text)
{
    const char *a = db_path("a.db");
    db_build(a, base_points, NBASE, "");
    report_expect(a, REPORT_TEXT,
                  "scheme.kind  latency.rate  jobs  latency_mean  latency_p99  accuracy\n"
                  "-----------  ------------  ----  ------------  -----------  --------\n"
                  "kofn                    1  1000           0.5         1.25       0.9\n"
                  "kofn                    2  1000          0.25        0.625     0.875\n"
                  "uncoded                 1  1000           1.5          4.5       nan\n"
                  "uncoded                 2  1000          0.75         2.25       nan\n");
}

Test(report, csv)
{
    const char *a = db_path("a.db");
    db_build(a, base_points, NBASE, "");
    report_expect(a, REPORT_CSV,
                  "scheme.kind,latency.rate,jobs,latency_mean,latency_p99,accuracy\r\n"
                  "kofn,1,1000,0.5,1.25,0.9\r\n"
                  "kofn,2,1000,0.25,0.625,0.875\r\n"
                  "uncoded,1,1000,1.5,4.5,nan\r\n"
                  "uncoded,2,1000,0.75,2.25,nan\r\n");
}

Test(report, markdown)
{
    const char *a = db_path("a.db");
    db_build(a, base_points, NBASE, "");
    report_expect(
        a, REPORT_MARKDOWN,
        "| scheme.kind | latency.rate | jobs | latency_mean | latency_p99 | accuracy |\n"
        "| ----------- | -----------: | ---: | -----------: | ----------: | -------: |\n"
        "| kofn        |            1 | 1000 |          0.5 |        1.25 |      0.9 |\n"
        "| kofn        |            2 | 1000 |         0.25 |       0.625 |    0.875 |\n"
        "| uncoded     |            1 | 1000 |          1.5 |         4.5 |      nan |\n"
        "| uncoded     |            2 | 1000 |         0.75 |        2.25 |      nan |\n");
}

Test(report, quoting_and_escaping)
{
    /* Text values with a comma, a quote and a pipe. */
    static const struct point pts[] = {
        {"q1", "a,\"b\"", "1", 0, 1, 2, 3},
        {"q2", "c|d", "1", 0, 4, 5, 6},
    };
    const char *a = db_path("a.db");
    db_build(a, pts, 2, "");
    struct report_options opt = {.format = REPORT_CSV,
                                 .metrics = (const char *const[]){"jobs"},
                                 .nmetrics = 1};
    char *got = report_text(a, &opt);
    cr_assert_str_eq(got, "scheme.kind,jobs\r\n\"a,\"\"b\"\"\",1000\r\nc|d,1000\r\n");
    free(got);
    opt.format = REPORT_MARKDOWN;
    got = report_text(a, &opt);
    cr_assert_str_eq(got, "| scheme.kind | jobs |\n"
                          "| ----------- | ---: |\n"
                          "| a,\"b\"       | 1000 |\n"
                          "| c\\|d        | 1000 |\n");
    free(got);
}

Test(report, repeat_column_and_sorting)
{
    /* Written out of order; rows come sorted by params, then repeat. */
    static const struct point pts[] = {
        {"b1", "kofn", "2", 1, 4, 0, 0},
        {"a0", "kofn", "10", 0, 3, 0, 0},
        {"b0", "kofn", "2", 0, 2, 0, 0},
        {"a1", "kofn", "10", 1, 1, 0, 0},
    };
    const char *a = db_path("a.db");
    db_build(a, pts, 4, "");
    struct report_options opt = {.format = REPORT_CSV,
                                 .metrics = (const char *const[]){"latency_mean"},
                                 .nmetrics = 1};
    char *got = report_text(a, &opt);
    cr_assert_str_eq(got, "scheme.kind,latency.rate,repeat,latency_mean\r\n"
                          "kofn,2,0,2\r\n"
                          "kofn,2,1,4\r\n"
                          "kofn,10,0,3\r\n"
                          "kofn,10,1,1\r\n");
    free(got);
}

Test(report, command_with_filters_and_columns)
{
    const char *a = db_path("a.db");
    db_build(a, base_points, NBASE, "");
    /* One key: alternatives; two keys: both. scheme.kind stays, the rest vary. */
    cr_assert_eq(run(cmd_report, "report", a, "--format", "csv", "--where", "latency.rate=2.0",
                     "--where", "scheme.kind=kofn", "--where", "scheme.kind=uncoded", NULL),
                 0);
    cr_assert_eq(run(cmd_report, "report", "--format=csv", "--metrics", "latency_p99,jobs",
                     "--params", "latency.rate", a, "--where", "scheme.kind=kofn", NULL),
                 0);
    stdout_expect("scheme.kind,jobs,latency_mean,latency_p99,accuracy\r\n"
                            "kofn,1000,0.25,0.625,0.875\r\n"
                            "uncoded,1000,0.75,2.25,nan\r\n"
                            "latency.rate,latency_p99,jobs\r\n"
                            "1,1.25,1000\r\n"
                            "2,0.625,1000\r\n");
}

Test(report, nothing_selected_prints_the_header)
{
    const char *a = db_path("a.db");
    db_build(a, base_points, NBASE, "");
    cr_assert_eq(run(cmd_report, "report", a, "--where", "latency.rate=3", "--metrics", "jobs",
                     NULL),
                 0);
    stdout_expect("jobs\n----\n"); /* no run selected has scheme.kind either */
}

Test(report, usage_errors)
{
    const char *a = db_path("a.db"), *none = db_path("none.db");
    db_build(a, base_points, NBASE, "");
    cr_assert_eq(run(cmd_report, "report", NULL), 2);
    cr_assert_eq(run(cmd_report, "report", a, "--format", "html", NULL), 2);
    cr_assert_eq(run(cmd_report, "report", a, "--metrics", "latency_p98", NULL), 2);
    cr_assert_eq(run(cmd_report, "report", a, "--where", "scheme.kind", NULL), 2);
    cr_assert_eq(run(cmd_report, "report", a, "--where", "scheme.n=3", NULL), 2);
    cr_assert_eq(run(cmd_report, "report", a, "--params", ",", NULL), 2);
    cr_assert_eq(run(cmd_report, "report", a, "--format", NULL), 2);
    cr_assert_eq(run(cmd_report, "report", none, NULL), 2);
    cr_assert_eq(run(cmd_report, "report", dir, NULL), 2);
    char want[2048];
    snprintf(want, sizeof want,
             "stragsim report: missing DB (usage: stragsim report DB [options])\n"
             "stragsim report: --format must be text, csv or markdown, got 'html'\n"
             "stragsim report: --metrics: no metric 'latency_p98' in %s\n"
             "stragsim report: --where expects key=value, got 'scheme.kind'\n"
             "stragsim report: --where: no param 'scheme.n' in %s\n"
             "stragsim report: --params needs a comma-separated list of names, got ','\n"
             "stragsim report: --format needs a value\n"
             "%s: no such file\n"
             "%s: is a directory\n",
             a, a, none, dir);
    stderr_expect(want);
}

Test(report, other_metrics_and_empty_database)
{
    /* None of the default metrics: every metric is shown, first seen first. */
    const char *a = db_path("a.db");
    struct results *r;
    struct error err;
    int64_t exp;
    cr_assert_eq(results_open(a, false, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(results_experiment(r, "demo", "", &exp, &err), 0, "%s", err.msg);
    struct params *p = params_new();
    params_set(p, "scheme.kind", "ssp", NULL, 0);
    struct metric_list m = {0};
    metric_list_set(&m, "events", 12345678);
    metric_list_set(&m, "latency_se", 1.0 / 3);
    struct run_record rec = {.point_key = "x", .params = p, .metrics = &m};
    cr_assert_eq(results_write_run(r, exp, &rec, &err), 0, "%s", err.msg);
    results_close(r);
    params_free(p);
    metric_list_clear(&m);
    report_expect(a, REPORT_TEXT,
                  "scheme.kind       events  latency_se\n"
                  "-----------  -----------  ----------\n"
                  "ssp          1.23457e+07    0.333333\n");

    const char *b = db_path("b.db");
    db_build(b, base_points, 0, "");
    report_expect(b, REPORT_TEXT, "(no runs)\n");
    report_expect(b, REPORT_CSV, "");
}

Test(check, single_point_keeps_its_scheme_in_the_label)
{
    struct point pts[1] = {base_points[0]};
    pts[0].p99 = 2.5;
    const char *a = db_path("a.db"), *b = db_path("b.db");
    db_build(a, pts, 1, "");
    db_build(b, base_points, 1, "");
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, NULL), 1);
    stdout_expect("regression: scheme.kind=kofn: latency_p99: baseline 1.25, new 2.5, rel diff 1\n"
                  "check: 1 points compared, 4 metrics, 1 regressions\n");
}
