/* test_check.c: analysis/check.c and analysis/report.c without the CLI:
 * check_compare (matching by point key and by params, tolerances, NaN,
 * missing points and metrics, its exact regression lines and counts) and
 * report_write (exact text, CSV and markdown tables of a small database,
 * column choice, filters). Databases are built with results_write_run
 * (check_points.h). The commands around them, with their exit codes and
 * option errors: test_cmd_check.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/analysis_capture.h"
#include "tests/check_points.h"

TestSuite(check, .init = make_tmpdir, .fini = remove_tmpdir);
TestSuite(report, .init = make_tmpdir, .fini = remove_tmpdir);

/* check_compare with `stragsim check`'s default tolerances. */
static int check_default(const char *a, const char *b, struct check_summary *sum)
{
    struct check_options opt = CHECK_DEFAULTS;
    return check_into(a, b, &opt, sum);
}

Test(check, equal_databases_pass)
{
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, base_points, NBASE, "");
    db_build(b, base_points, NBASE, "");
    struct check_summary sum;
    cr_assert_eq(check_default(a, b, &sum), 0, "%s", analysis_err.msg);
    cr_expect_str_eq(analysis_out, "");
    SUMMARY_EXPECT(sum, 4, 16, 0, 0);
}

Test(check, perturbed_metric_fails)
{
    struct point pts[NBASE];
    points_copy(pts);
    pts[1].mean = 0.375;
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, pts, NBASE, "");
    db_build(b, base_points, NBASE, "");
    struct check_summary sum;
    cr_assert_eq(check_default(a, b, &sum), 0, "%s", analysis_err.msg);
    cr_expect_str_eq(analysis_out,
                     "regression: scheme.kind=kofn latency.rate=2: latency_mean: baseline 0.25,"
                     " new 0.375, rel diff 0.5\n");
    SUMMARY_EXPECT(sum, 4, 16, 1, 0);
}

Test(check, tiny_difference_shows_every_digit)
{
    struct point pts[NBASE];
    points_copy(pts);
    pts[0].mean = 0.5 + 0x1p-40;
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, pts, NBASE, "");
    db_build(b, base_points, NBASE, "");
    struct check_options opt = {.rtol = 0};
    struct check_summary sum;
    cr_assert_eq(check_into(a, b, &opt, &sum), 0, "%s", analysis_err.msg);
    cr_expect_str_eq(analysis_out,
                     "regression: scheme.kind=kofn latency.rate=1: latency_mean: baseline 0.5,"
                     " new 0.5000000000009095, rel diff 1.82e-12\n");
    SUMMARY_EXPECT(sum, 4, 16, 1, 0);
}

Test(check, within_default_tolerance_passes)
{
    struct point pts[NBASE];
    points_copy(pts);
    pts[0].mean = 0.5 + 0x1p-40; /* relative 1.8e-12 < 1e-9 */
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, pts, NBASE, "");
    db_build(b, base_points, NBASE, "");
    struct check_summary sum;
    cr_assert_eq(check_default(a, b, &sum), 0, "%s", analysis_err.msg);
    SUMMARY_EXPECT(sum, 4, 16, 0, 0);
}

Test(check, per_metric_tolerance)
{
    struct point pts[NBASE];
    points_copy(pts);
    pts[3].p99 = 2.25 * 1.001;
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, pts, NBASE, "");
    db_build(b, base_points, NBASE, "");
    struct check_summary sum;
    struct check_options opt = CHECK_DEFAULTS;
    opt.per_metric = &(struct check_tolerance){.metric = "latency_p99", .rtol = 1e-2};
    opt.nper_metric = 1;
    cr_assert_eq(check_into(a, b, &opt, &sum), 0, "%s", analysis_err.msg);
    SUMMARY_EXPECT(sum, 4, 16, 0, 0);

    opt.rtol = 0.1;
    opt.per_metric = &(struct check_tolerance){.metric = "latency_p99", .rtol = 1e-4};
    cr_assert_eq(check_into(a, b, &opt, &sum), 0, "%s", analysis_err.msg);
    cr_expect_str_eq(analysis_out,
                     "regression: scheme.kind=uncoded latency.rate=2: latency_p99: baseline 2.25,"
                     " new 2.2522499999999996, rel diff 0.001\n");
    SUMMARY_EXPECT(sum, 4, 16, 1, 0);

    opt = CHECK_DEFAULTS;
    opt.per_metric = &(struct check_tolerance){.metric = "latency_p99", .ignore = true};
    opt.nper_metric = 1;
    cr_assert_eq(check_into(a, b, &opt, &sum), 0, "%s", analysis_err.msg);
    SUMMARY_EXPECT(sum, 4, 12, 0, 0);

    opt = CHECK_DEFAULTS;
    opt.atol = 0.01;
    cr_assert_eq(check_into(a, b, &opt, &sum), 0, "%s", analysis_err.msg);
    SUMMARY_EXPECT(sum, 4, 16, 0, 0);
}

/* A tolerance for a metric the baseline does not have is bad input. */
Test(check, tolerance_for_an_unknown_metric)
{
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, base_points, NBASE, "");
    db_build(b, base_points, NBASE, "");
    struct check_summary sum;
    struct check_options opt = CHECK_DEFAULTS;
    opt.per_metric = &(struct check_tolerance){.metric = "nosuch", .rtol = 0.1};
    opt.nper_metric = 1;
    cr_assert_eq(check_into(a, b, &opt, &sum), STRAG_EINPUT);
    cr_expect_str_eq(analysis_err.msg,
                     "stragsim check: --metric: no metric 'nosuch' in the baseline");
}

Test(check, missing_point_and_metric)
{
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
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
    struct check_summary sum;
    cr_assert_eq(check_default(a, b, &sum), 0, "%s", analysis_err.msg);
    cr_expect_str_eq(analysis_out,
                     "regression: scheme.kind=kofn latency.rate=2: accuracy: baseline 0.875,"
                     " new missing\n"
                     "regression: scheme.kind=uncoded latency.rate=2: missing from DB\n");
    SUMMARY_EXPECT(sum, 4, 12, 2, 0);
}

Test(check, nan_equals_nan_only)
{
    struct point pts[NBASE];
    points_copy(pts);
    pts[0].accuracy = NAN; /* baseline 0.9 */
    pts[2].accuracy = 0.5; /* baseline NaN */
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, pts, NBASE, "");
    db_build(b, base_points, NBASE, "");
    struct check_summary sum;
    cr_assert_eq(check_default(a, b, &sum), 0, "%s", analysis_err.msg);
    cr_expect_str_eq(analysis_out,
                     "regression: scheme.kind=kofn latency.rate=1: accuracy: baseline 0.9,"
                     " new nan, rel diff nan\n"
                     "regression: scheme.kind=uncoded latency.rate=1: accuracy: baseline nan,"
                     " new 0.5, rel diff nan\n");
    SUMMARY_EXPECT(sum, 4, 16, 2, 0);
}

Test(check, matches_by_params_when_keys_differ)
{
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, base_points, NBASE, "v2-"); /* other keys, other experiment.db */
    db_build(b, base_points, NBASE, "");
    struct check_summary sum;
    cr_assert_eq(check_default(a, b, &sum), 0, "%s", analysis_err.msg);
    SUMMARY_EXPECT(sum, 4, 16, 0, 0);
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
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, swapped, 2, "new-");
    db_build(b, base, 2, "");
    struct check_summary sum;
    cr_assert_eq(check_default(a, b, &sum), 0, "%s", analysis_err.msg);
    cr_expect_str_eq(analysis_out, "");
    SUMMARY_EXPECT(sum, 2, 8, 0, 0);
}

Test(check, extra_points_are_counted)
{
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, base_points, NBASE, "");
    db_build(b, base_points, 2, "");
    struct check_summary sum;
    cr_assert_eq(check_default(a, b, &sum), 0, "%s", analysis_err.msg);
    SUMMARY_EXPECT(sum, 2, 8, 0, 2);
}

Test(check, empty_baseline_is_bad_input)
{
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, base_points, NBASE, "");
    db_build(b, base_points, 0, "");
    struct check_summary sum;
    cr_assert_eq(check_default(a, b, &sum), STRAG_EINPUT);
    char want[512];
    snprintf(want, sizeof want, "%s: no runs to compare against", b);
    cr_expect_str_eq(analysis_err.msg, want);
}

Test(check, single_point_keeps_its_scheme_in_the_label)
{
    struct point pts[1] = {base_points[0]};
    pts[0].p99 = 2.5;
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, pts, 1, "");
    db_build(b, base_points, 1, "");
    struct check_summary sum;
    cr_assert_eq(check_default(a, b, &sum), 0, "%s", analysis_err.msg);
    cr_expect_str_eq(analysis_out, "regression: scheme.kind=kofn: latency_p99: baseline 1.25,"
                                   " new 2.5, rel diff 1\n");
    SUMMARY_EXPECT(sum, 1, 4, 1, 0);
}

/* ---- report ---- */

static void report_expect(const char *path, enum report_format format, const char *want)
{
    struct report_options opt = {.format = format};
    cr_assert_eq(report_into(path, &opt), 0, "%s", analysis_err.msg);
    cr_assert_str_eq(analysis_out, want);
}

Test(report, text)
{
    const char *a = tmp_path("a.db");
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
    const char *a = tmp_path("a.db");
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
    const char *a = tmp_path("a.db");
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
    const char *a = tmp_path("a.db");
    db_build(a, pts, 2, "");
    struct report_options opt = {.format = REPORT_CSV,
                                 .metrics = (const char *const[]){"jobs"},
                                 .nmetrics = 1};
    cr_assert_eq(report_into(a, &opt), 0, "%s", analysis_err.msg);
    cr_assert_str_eq(analysis_out, "scheme.kind,jobs\r\n\"a,\"\"b\"\"\",1000\r\nc|d,1000\r\n");
    opt.format = REPORT_MARKDOWN;
    cr_assert_eq(report_into(a, &opt), 0, "%s", analysis_err.msg);
    cr_assert_str_eq(analysis_out, "| scheme.kind | jobs |\n"
                                   "| ----------- | ---: |\n"
                                   "| a,\"b\"       | 1000 |\n"
                                   "| c\\|d        | 1000 |\n");
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
    const char *a = tmp_path("a.db");
    db_build(a, pts, 4, "");
    struct report_options opt = {.format = REPORT_CSV,
                                 .metrics = (const char *const[]){"latency_mean"},
                                 .nmetrics = 1};
    cr_assert_eq(report_into(a, &opt), 0, "%s", analysis_err.msg);
    cr_assert_str_eq(analysis_out, "scheme.kind,latency.rate,repeat,latency_mean\r\n"
                                   "kofn,2,0,2\r\n"
                                   "kofn,2,1,4\r\n"
                                   "kofn,10,0,3\r\n"
                                   "kofn,10,1,1\r\n");
}

Test(report, filters_and_columns)
{
    const char *a = tmp_path("a.db");
    db_build(a, base_points, NBASE, "");
    /* One key: alternatives; two keys: both. scheme.kind stays, the rest vary. */
    static const struct report_filter where[] = {
        {"latency.rate", "2.0"}, {"scheme.kind", "kofn"}, {"scheme.kind", "uncoded"}};
    struct report_options opt = {.format = REPORT_CSV, .where = where, .nwhere = 3};
    cr_assert_eq(report_into(a, &opt), 0, "%s", analysis_err.msg);
    cr_expect_str_eq(analysis_out, "scheme.kind,jobs,latency_mean,latency_p99,accuracy\r\n"
                                   "kofn,1000,0.25,0.625,0.875\r\n"
                                   "uncoded,1000,0.75,2.25,nan\r\n");
    opt = (struct report_options){.format = REPORT_CSV,
                                  .metrics = (const char *const[]){"latency_p99", "jobs"},
                                  .nmetrics = 2,
                                  .params = (const char *const[]){"latency.rate"},
                                  .nparams = 1,
                                  .where = &where[1],
                                  .nwhere = 1};
    cr_assert_eq(report_into(a, &opt), 0, "%s", analysis_err.msg);
    cr_expect_str_eq(analysis_out, "latency.rate,latency_p99,jobs\r\n"
                                   "1,1.25,1000\r\n"
                                   "2,0.625,1000\r\n");
}

Test(report, nothing_selected_prints_the_header)
{
    const char *a = tmp_path("a.db");
    db_build(a, base_points, NBASE, "");
    struct report_options opt = {.metrics = (const char *const[]){"jobs"},
                                 .nmetrics = 1,
                                 .where = &(struct report_filter){"latency.rate", "3"},
                                 .nwhere = 1};
    cr_assert_eq(report_into(a, &opt), 0, "%s", analysis_err.msg);
    cr_expect_str_eq(analysis_out, "jobs\n----\n"); /* no run selected has scheme.kind either */
}

/* Names that are not in the database: one line each, naming it. */
Test(report, unknown_metric_and_param)
{
    const char *a = tmp_path("a.db");
    db_build(a, base_points, NBASE, "");
    char want[512];
    struct report_options opt = {.metrics = (const char *const[]){"latency_p98"}, .nmetrics = 1};
    cr_assert_eq(report_into(a, &opt), STRAG_EINPUT);
    snprintf(want, sizeof want, "stragsim report: --metrics: no metric 'latency_p98' in %s", a);
    cr_expect_str_eq(analysis_err.msg, want);
    opt = (struct report_options){.where = &(struct report_filter){"scheme.n", "3"}, .nwhere = 1};
    cr_assert_eq(report_into(a, &opt), STRAG_EINPUT);
    snprintf(want, sizeof want, "stragsim report: --where: no param 'scheme.n' in %s", a);
    cr_expect_str_eq(analysis_err.msg, want);
}

Test(report, other_metrics_and_empty_database)
{
    /* None of the default metrics: every metric is shown, first seen first. */
    const char *a = tmp_path("a.db");
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

    const char *b = tmp_path("b.db");
    db_build(b, base_points, 0, "");
    report_expect(b, REPORT_TEXT, "(no runs)\n");
    report_expect(b, REPORT_CSV, "");
}
