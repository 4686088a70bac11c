/* test_cmd_check.c: the commands `stragsim check` and `stragsim report`
 * over the databases of check_points.h: exit codes (0 pass, 1 regression,
 * 2 bad usage or input), check's summary lines, option parsing and its exact
 * error lines, --help. What the comparison and the table say is tested at
 * the analysis level in test_check.c. The commands are called in-process
 * with stdout and stderr captured. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/commands.h"
#include "tests/check_points.h"

static void setup(void)
{
    make_tmpdir();
    cr_redirect_stdout();
    cr_redirect_stderr();
}

TestSuite(cmd_check, .init = setup, .fini = remove_tmpdir);
TestSuite(cmd_report, .init = setup, .fini = remove_tmpdir);

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


Test(cmd_check, equal_databases_pass)
{
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, base_points, NBASE, "");
    db_build(b, base_points, NBASE, "");
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, NULL), 0);
    stdout_expect("check: 4 points compared, 16 metrics, 0 regressions\n");
}

Test(cmd_check, perturbed_metric_fails)
{
    struct point pts[NBASE];
    points_copy(pts);
    pts[1].mean = 0.375;
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, pts, NBASE, "");
    db_build(b, base_points, NBASE, "");
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, NULL), 1);
    stdout_expect(
        "regression: scheme.kind=kofn latency.rate=2: latency_mean: baseline 0.25,"
        " new 0.375, rel diff 0.5\n"
        "check: 4 points compared, 16 metrics, 1 regressions\n");
}

Test(cmd_check, extra_points_are_noted)
{
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, base_points, NBASE, "");
    db_build(b, base_points, 2, "");
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, NULL), 0);
    stdout_expect("check: 2 points in DB not in the baseline (not compared)\n"
                            "check: 2 points compared, 8 metrics, 0 regressions\n");
}

Test(cmd_check, usage_errors)
{
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db"), *none = tmp_path("none.db");
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

Test(cmd_check, empty_baseline_is_bad_input)
{
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, base_points, NBASE, "");
    db_build(b, base_points, 0, "");
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", b, NULL), 2);
    char want[512];
    snprintf(want, sizeof want, "%s: no runs to compare against\n", b);
    stderr_expect(want);
}

Test(cmd_check, help)
{
    cr_assert_eq(run(cmd_check, "check", "--help", NULL), 0);
    cr_assert_eq(run(cmd_report, "report", "--help", NULL), 0);
    fflush(stdout);
    FILE *out = cr_get_redirected_stdout();
    char line[128];
    cr_assert_not_null(fgets(line, sizeof line, out));
    cr_assert_str_eq(line, "usage: stragsim check DB --baseline DB2 [--rtol X] [--atol Y]\n");
}

/* Option checks of --intervals (the interval comparison itself: test_aggregate.c). */
Test(cmd_check, intervals_reject_tolerances)
{
    const char *a = tmp_path("a.db");
    db_build(a, base_points, NBASE, "");
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", a, "--intervals", "--metric",
                     "latency_mean:0.1", NULL),
                 2);
    cr_assert_eq(run(cmd_check, "check", a, "--baseline", a, "--intervals", "--rtol", "0.1", NULL),
                 2);
    stderr_expect("stragsim check: --metric NAME:TOL does not apply with --intervals "
                  "(intervals are compared by overlap)\n"
                  "stragsim check: --rtol does not apply with --intervals "
                  "(intervals are compared by overlap)\n");
}

/* --aggregate reaches report_write (one run per point here: no intervals). */
Test(cmd_report, aggregate_option)
{
    const char *a = tmp_path("a.db");
    db_build(a, base_points, 2, "");
    cr_assert_eq(run(cmd_report, "report", a, "--aggregate", "--format", "csv", "--metrics",
                     "latency_mean", NULL),
                 0);
    stdout_expect("scheme.kind,latency.rate,n,latency_mean,latency_mean_se,latency_mean_ci_low,"
                  "latency_mean_ci_high\r\n"
                  "kofn,1,1,0.5,,,\r\n"
                  "kofn,2,1,0.25,,,\r\n");
}

Test(cmd_report, command_with_filters_and_columns)
{
    const char *a = tmp_path("a.db");
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

Test(cmd_report, usage_errors)
{
    const char *a = tmp_path("a.db"), *none = tmp_path("none.db");
    db_build(a, base_points, NBASE, "");
    cr_assert_eq(run(cmd_report, "report", NULL), 2);
    cr_assert_eq(run(cmd_report, "report", a, "--format", "pdf", NULL), 2);
    cr_assert_eq(run(cmd_report, "report", a, "--metrics", "latency_p98", NULL), 2);
    cr_assert_eq(run(cmd_report, "report", a, "--where", "scheme.kind", NULL), 2);
    cr_assert_eq(run(cmd_report, "report", a, "--where", "scheme.n=3", NULL), 2);
    cr_assert_eq(run(cmd_report, "report", a, "--params", ",", NULL), 2);
    cr_assert_eq(run(cmd_report, "report", a, "--format", NULL), 2);
    cr_assert_eq(run(cmd_report, "report", none, NULL), 2);
    cr_assert_eq(run(cmd_report, "report", tmpdir, NULL), 2);
    char want[2048];
    snprintf(want, sizeof want,
             "stragsim report: missing DB (usage: stragsim report DB [options])\n"
             "stragsim report: --format must be text, csv, markdown, json or html, got 'pdf'\n"
             "stragsim report: --metrics: no metric 'latency_p98' in %s\n"
             "stragsim report: --where expects key=value, got 'scheme.kind'\n"
             "stragsim report: --where: no param 'scheme.n' in %s\n"
             "stragsim report: --params needs a comma-separated list of names, got ','\n"
             "stragsim report: --format needs a value\n"
             "%s: no such file\n"
             "%s: is a directory\n",
             a, a, none, tmpdir);
    stderr_expect(want);
}
