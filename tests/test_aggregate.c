/* test_aggregate.c: the 95% confidence interval of repeats (aggregate_ci
 * against hand-computed values), grouping runs into points, and what is
 * built on them, without the CLI: report_write with aggregate (exact text,
 * markdown and CSV, as `stragsim report --aggregate` prints) and
 * check_compare with intervals (overlap passes, a gap fails, one repeat is
 * bad input). Databases are written with results_write_run. */
#include <math.h>

#include "analysis/aggregate.h"
#include "base/metrics.h"
#include "tests/analysis_capture.h"
#include "tests/cmd_capture.h" /* the temporary directory */

/* Student t quantiles t_{0.975, dof} from tables: 2 dof, 4 dof. */
#define T975_2 4.302653
#define T975_4 2.776445

Test(aggregate, three_values_hand_computed)
{
    const double x[] = {1, 2, 3};
    struct ci ci;
    cr_assert_eq(aggregate_ci(x, 3, &ci), 0);
    /* mean 2, s = 1, se = 1/sqrt(3) */
    cr_expect_eq(ci.n, 3);
    cr_expect_float_eq(ci.mean, 2.0, 1e-15);
    cr_expect_float_eq(ci.se, 1 / sqrt(3.0), 1e-15);
    cr_expect_float_eq(ci.half_width, T975_2 / sqrt(3.0), 1e-6);
}

Test(aggregate, five_values_hand_computed)
{
    const double x[] = {0.78, 0.785, 0.779, 0.782, 0.784};
    struct ci ci;
    cr_assert_eq(aggregate_ci(x, 5, &ci), 0);
    /* mean 0.782; squared deviations 4+9+9+0+4 = 26e-6, s^2 = 6.5e-6, se^2 = 1.3e-6 */
    cr_expect_float_eq(ci.mean, 0.782, 1e-12);
    cr_expect_float_eq(ci.se, sqrt(1.3e-6), 1e-12);
    cr_expect_float_eq(ci.half_width, T975_4 * sqrt(1.3e-6), 1e-8);
}

Test(aggregate, equal_values_have_zero_width)
{
    const double x[] = {5, 5, 5, 5};
    struct ci ci;
    cr_assert_eq(aggregate_ci(x, 4, &ci), 0);
    cr_expect_eq(ci.mean, 5);
    cr_expect_eq(ci.se, 0);
    cr_expect_eq(ci.half_width, 0);
}

Test(aggregate, one_value_has_no_interval)
{
    const double x[] = {0.25};
    struct ci ci;
    cr_assert_eq(aggregate_ci(x, 1, &ci), 0);
    cr_expect_eq(ci.n, 1);
    cr_expect_eq(ci.mean, 0.25);
    cr_expect(isnan(ci.se) && isnan(ci.half_width));
}

Test(aggregate, no_value_is_an_error)
{
    struct ci ci;
    cr_expect_eq(aggregate_ci(NULL, 0, &ci), -1);
    cr_expect_eq(ci.n, 0);
    cr_expect(isnan(ci.mean) && isnan(ci.se) && isnan(ci.half_width));
}

Test(aggregate, nan_value_gives_nan)
{
    const double x[] = {1, NAN, 3};
    struct ci ci;
    cr_assert_eq(aggregate_ci(x, 3, &ci), 0);
    cr_expect_eq(ci.n, 3);
    cr_expect(isnan(ci.mean) && isnan(ci.se) && isnan(ci.half_width));
}

/* ---- databases of repeated points ---- */

/* One run: a kofn point with scheme.k = k, its repeat and latency_mean. */
struct rep_run {
    const char *k;
    int repeat;
    double mean;
};

static struct params *run_params(const char *k, const char *db)
{
    struct params *p = params_new();
    params_set(p, "experiment.name", "demo", NULL, 0);
    params_set(p, "experiment.db", db, NULL, 0);
    params_set(p, "scheme.kind", "kofn", NULL, 0);
    params_set(p, "scheme.k", k, NULL, 0);
    return p;
}

static void db_build(const char *path, const struct rep_run *runs, size_t n)
{
    struct results *r;
    struct error err;
    int64_t exp;
    cr_assert_eq(results_open(path, false, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(results_experiment(r, "demo", "[experiment]\n", &exp, &err), 0, "%s", err.msg);
    for (size_t i = 0; i < n; i++) {
        struct params *p = run_params(runs[i].k, path);
        struct metric_list m = {0};
        metric_list_set(&m, "jobs", 100);
        metric_list_set(&m, "latency_mean", runs[i].mean);
        char key[32];
        snprintf(key, sizeof key, "k%s-r%d", runs[i].k, runs[i].repeat);
        struct run_record rec = {.point_key = key, .repeat = runs[i].repeat, .seed = 1,
                                 .params = p, .metrics = &m};
        cr_assert_eq(results_write_run(r, exp, &rec, &err), 0, "%s", err.msg);
        params_free(p);
        metric_list_clear(&m);
    }
    results_close(r);
}

TestSuite(aggregate_db, .init = make_tmpdir, .fini = remove_tmpdir);

Test(aggregate_db, group_runs_by_params_not_repeat)
{
    /* k=2, k=3, k=2 (another db path: a location key), k=3 */
    struct results_run runs[4] = {0};
    const char *ks[] = {"2", "3", "2", "3"}, *dbs[] = {"a.db", "a.db", "b.db", "a.db"};
    const struct results_run *ptrs[4];
    for (int i = 0; i < 4; i++) {
        runs[i].params = run_params(ks[i], dbs[i]);
        runs[i].repeat = i;
        ptrs[i] = &runs[i];
    }
    size_t group[4], ngroups;
    cr_assert_eq(aggregate_group_runs(ptrs, 4, group, &ngroups), 0);
    cr_expect_eq(ngroups, 2);
    cr_expect(group[0] == 0 && group[1] == 1 && group[2] == 0 && group[3] == 1);
    for (int i = 0; i < 4; i++)
        params_free(runs[i].params);
}

Test(aggregate_db, chosen_params_do_not_split_a_point)
{
    /* two repeats of one point whose grid search chose different lambdas
     * (marked by the metric "param:scheme.lambda_enc"), and a third run
     * that configured a lambda: a point of its own */
    struct results_run runs[3] = {0};
    const char *lambda[] = {"0", "1e-06", "0"};
    const struct results_run *ptrs[3];
    for (int i = 0; i < 3; i++) {
        runs[i].params = run_params("2", "a.db");
        params_set(runs[i].params, "scheme.lambda_enc", lambda[i], NULL, 0);
        if (i < 2)
            metric_list_set(&runs[i].metrics, METRIC_PARAM_PREFIX "scheme.lambda_enc", 0);
        ptrs[i] = &runs[i];
    }
    size_t group[3], ngroups;
    cr_assert_eq(aggregate_group_runs(ptrs, 3, group, &ngroups), 0);
    cr_expect_eq(ngroups, 2);
    cr_expect(group[0] == 0 && group[1] == 0 && group[2] == 1);
    for (int i = 0; i < 3; i++) {
        params_free(runs[i].params);
        metric_list_clear(&runs[i].metrics);
    }
}

static const char *const latency_mean[] = {"latency_mean"};

/* k=2: three repeats 1, 2, 3 (mean 2, half-width 4.302653/sqrt(3) =
 * 2.484138); k=3: one run. */
static const struct rep_run base_runs[] = {
    {"2", 0, 1}, {"2", 1, 2}, {"2", 2, 3}, {"3", 0, 0.5},
};

Test(aggregate_db, report_text)
{
    const char *db = tmp_path("a.db");
    db_build(db, base_runs, 4);
    struct report_options opt = {.aggregate = true};
    cr_assert_eq(report_into(db, &opt), 0, "%s", analysis_err.msg);
    cr_expect_str_eq(analysis_out,
                     "scheme.kind  scheme.k  n     jobs  latency_mean\n"
                     "-----------  --------  -  -------  ------------\n"
                     "kofn                2  3  100 ± 0     2.0 ± 2.5\n"
                     "kofn                3  1      100           0.5\n"
                     "\n"
                     "n: repeats per point; a cell is the mean ± the half-width of its 95% "
                     "confidence interval\n"
                     "(Student t with n - 1 degrees of freedom, standard error s/sqrt(n)); a "
                     "cell without ±\n"
                     "has one repeat (no interval).\n");
}

Test(aggregate_db, report_markdown)
{
    const char *db = tmp_path("a.db");
    db_build(db, base_runs, 4);
    struct report_options opt = {.format = REPORT_MARKDOWN, .aggregate = true,
                                 .metrics = latency_mean, .nmetrics = 1};
    cr_assert_eq(report_into(db, &opt), 0, "%s", analysis_err.msg);
    const char *table = "| scheme.kind | scheme.k |   n | latency_mean |\n"
                        "| ----------- | -------: | --: | -----------: |\n"
                        "| kofn        |        2 |   3 |    2.0 ± 2.5 |\n"
                        "| kofn        |        3 |   1 |          0.5 |\n"
                        "\n"
                        "n: repeats per point;";
    cr_expect(strncmp(analysis_out, table, strlen(table)) == 0, "got:\n%s", analysis_out);
}

Test(aggregate_db, report_csv)
{
    const char *db = tmp_path("a.db");
    db_build(db, base_runs, 4);
    struct report_options opt = {.format = REPORT_CSV, .aggregate = true,
                                 .metrics = latency_mean, .nmetrics = 1};
    cr_assert_eq(report_into(db, &opt), 0, "%s", analysis_err.msg);
    /* se 1/sqrt(3) = 0.57735; 2 -+ 2.48414 */
    cr_expect_str_eq(analysis_out,
                     "scheme.kind,scheme.k,n,latency_mean,latency_mean_se,latency_mean_ci_low,"
                     "latency_mean_ci_high\r\n"
                     "kofn,2,3,2,0.57735,-0.484138,4.48414\r\n"
                     "kofn,3,1,0.5,,,\r\n");
}

Test(aggregate_db, report_where_repeat_selects_repeats)
{
    const char *db = tmp_path("a.db");
    db_build(db, base_runs, 4);
    static const struct report_filter repeats[] = {{"repeat", "0"}, {"repeat", "2"}};
    struct report_options opt = {.format = REPORT_CSV, .aggregate = true,
                                 .metrics = latency_mean, .nmetrics = 1,
                                 .where = repeats, .nwhere = 2};
    cr_assert_eq(report_into(db, &opt), 0, "%s", analysis_err.msg);
    /* repeats 1 and 3 of k=2: mean 2, se 1, half-width t_{0.975,1} = 12.7062 */
    cr_expect_str_eq(analysis_out,
                     "scheme.kind,scheme.k,n,latency_mean,latency_mean_se,latency_mean_ci_low,"
                     "latency_mean_ci_high\r\n"
                     "kofn,2,2,2,1,-10.7062,14.7062\r\n"
                     "kofn,3,1,0.5,,,\r\n");
}

Test(aggregate_db, report_tiny_values_in_g_format)
{
    /* 1e-7, 2e-7, 3e-7: mean 2e-07, half-width 2.484e-07 (nercc's lambdas) */
    static const struct rep_run tiny[] = {{"2", 0, 1e-7}, {"2", 1, 2e-7}, {"2", 2, 3e-7}};
    const char *db = tmp_path("a.db");
    db_build(db, tiny, 3);
    struct report_options opt = {.format = REPORT_MARKDOWN, .aggregate = true,
                                 .metrics = latency_mean, .nmetrics = 1};
    cr_assert_eq(report_into(db, &opt), 0, "%s", analysis_err.msg);
    cr_expect(strstr(analysis_out, "| 2e-07 ± 2.5e-07 |") != NULL, "got:\n%s", analysis_out);
}

Test(aggregate_db, report_params_repeat_is_an_error)
{
    const char *db = tmp_path("a.db");
    db_build(db, base_runs, 4);
    struct report_options opt = {.aggregate = true, .params = (const char *const[]){"repeat"},
                                 .nparams = 1};
    cr_expect_eq(report_into(db, &opt), STRAG_EINPUT);
    cr_expect_str_eq(analysis_err.msg,
                     "stragsim report: --params: repeat is folded by --aggregate");
    cr_expect_str_eq(analysis_out, "");
}

/* `stragsim check --intervals`: points against points. */
static const struct check_options intervals = {.intervals = true};

/* k=2 and k=3 with three repeats each, means 2 and 5. */
static const struct rep_run three[] = {
    {"2", 0, 1}, {"2", 1, 2}, {"2", 2, 3}, {"3", 0, 4}, {"3", 1, 5}, {"3", 2, 6},
};

Test(aggregate_db, check_intervals_overlap_passes)
{
    /* k=2 shifted by +2: [1.52, 6.48] against [-0.48, 4.48] overlaps */
    struct rep_run now[6];
    memcpy(now, three, sizeof three);
    for (int i = 0; i < 3; i++)
        now[i].mean += 2;
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, now, 6);
    db_build(b, three, 6);
    struct check_summary sum;
    cr_assert_eq(check_into(a, b, &intervals, &sum), 0, "%s", analysis_err.msg);
    cr_expect_str_eq(analysis_out, "");
    SUMMARY_EXPECT(sum, 2, 4, 0, 0);
    /* the same databases fail run by run */
    struct check_options runs = CHECK_DEFAULTS;
    cr_assert_eq(check_into(a, b, &runs, &sum), 0, "%s", analysis_err.msg);
    cr_expect_gt(sum.regressions, 0);
}

Test(aggregate_db, check_intervals_gap_fails)
{
    /* k=2 shifted by +5.5: means 7.5 and 2, half-widths 2.484 each: gap 0.53 */
    struct rep_run now[6];
    memcpy(now, three, sizeof three);
    for (int i = 0; i < 3; i++)
        now[i].mean += 5.5;
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, now, 6);
    db_build(b, three, 6);
    struct check_summary sum;
    cr_assert_eq(check_into(a, b, &intervals, &sum), 0, "%s", analysis_err.msg);
    cr_expect_str_eq(analysis_out,
                     "regression: scheme.kind=kofn scheme.k=2: latency_mean: baseline 2 ± 2.48414 (n=3), new 7.5 ± "
                     "2.48414 (n=3): 95% intervals do not overlap\n");
    SUMMARY_EXPECT(sum, 2, 4, 1, 0);
    /* metric ignored: passes */
    struct check_options ignored = intervals;
    ignored.per_metric = &(struct check_tolerance){.metric = "latency_mean", .ignore = true};
    ignored.nper_metric = 1;
    cr_assert_eq(check_into(a, b, &ignored, &sum), 0, "%s", analysis_err.msg);
    SUMMARY_EXPECT(sum, 2, 2, 0, 0);
}

Test(aggregate_db, check_intervals_needs_repeats)
{
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, three, 6);
    db_build(b, base_runs, 4); /* k=3 has one run */
    struct check_summary sum;
    cr_expect_eq(check_into(a, b, &intervals, &sum), STRAG_EINPUT);
    char want[600];
    snprintf(want, sizeof want,
             "stragsim check: --intervals needs repeats (experiment.repeats >= 2): "
             "scheme.kind=kofn scheme.k=3 has one run in %s",
             b);
    cr_expect_str_eq(analysis_err.msg, want);
    cr_expect_str_eq(analysis_out, "");
}
