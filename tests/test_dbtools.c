/* test_dbtools.c: the database tools of analysis/ without the CLI: prune
 * (rm: what goes, what stays, foreign_key_check clean, dry run, unknown
 * experiment and filter key), merge (halves of a sweep give the whole,
 * identical duplicates kept once, NaN = NaN, a conflict refused with nothing
 * written), diff (side by side, intervals, unmatched points, JSON), catalog
 * (ls: finished or not, two experiments of one name) and the JSON of check
 * and report. Databases are built with results_write_run (check_points.h).
 * The commands end to end: test_dbtools_e2e.sh and test_bad_input.sh. */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/catalog.h"
#include "analysis/diff.h"
#include "analysis/merge.h"
#include "analysis/prune.h"
#include "tests/analysis_capture.h"
#include "tests/check_points.h"

TestSuite(prune, .init = make_tmpdir, .fini = remove_tmpdir);
TestSuite(merge, .init = make_tmpdir, .fini = remove_tmpdir);
TestSuite(diff, .init = make_tmpdir, .fini = remove_tmpdir);
TestSuite(catalog, .init = make_tmpdir, .fini = remove_tmpdir);
TestSuite(json, .init = make_tmpdir, .fini = remove_tmpdir);

/* One integer answer of sql on the database at path. */
static long long sql_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Rows PRAGMA foreign_key_check reports (0: consistent). */
static long long fk_problems(const char *path)
{
    return sql_int(path, "SELECT count(*) FROM pragma_foreign_key_check");
}

/* Adds to the database at path one run per scheme in `schemes` (point keys
 * "<scheme>-j"), each with 5 job rows and 3 iteration rows, in an
 * experiment named `name`. */
static void db_add_runs_with_rows(const char *path, const char *name, const char *const *schemes,
                                  size_t n)
{
    struct results *r;
    struct error err;
    int64_t exp;
    cr_assert_eq(results_open(path, false, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(results_experiment(r, name, "[experiment]\nrows\n", &exp, &err), 0, "%s",
                 err.msg);
    for (size_t i = 0; i < n; i++) {
        struct params *p = params_new();
        params_set(p, "workload.kind", "latency", NULL, 0);
        params_set(p, "scheme.kind", schemes[i], NULL, 0);
        struct metric_list m = {0};
        metric_list_set(&m, "latency_mean", 1.0 + (double)i);
        struct job_row jobs[5];
        struct iteration_row its[3];
        for (int j = 0; j < 5; j++)
            jobs[j] = (struct job_row){.job = (uint64_t)j, .arrival = j, .latency = 0.5 * j,
                                       .tasks = 2, .extra = NAN};
        for (int j = 0; j < 3; j++)
            its[j] = (struct iteration_row){.iteration = j, .sim_time = j, .loss = 1.0 / (j + 1)};
        char key[64];
        snprintf(key, sizeof key, "%s-j", schemes[i]);
        struct run_record rec = {.point_key = key, .seed = 1, .params = p, .metrics = &m,
                                 .jobs = jobs, .njobs = 5, .iterations = its, .niterations = 3,
                                 .wall_seconds = 0.5};
        cr_assert_eq(results_write_run(r, exp, &rec, &err), 0, "%s", err.msg);
        params_free(p);
        metric_list_clear(&m);
    }
    results_close(r);
}

/* prune_select + prune_delete on the database at path. */
static int prune_run(const char *path, const struct prune_selection *sel, bool dry_run,
                     struct prune_counts *counts)
{
    struct results *r;
    struct results_run *runs = NULL;
    size_t nruns = 0, *picked = NULL, npicked = 0;
    analysis_err = (struct error){0};
    int rc = results_open_existing(path, &r, &analysis_err);
    if (!rc)
        rc = results_read_runs(r, &runs, &nruns, &analysis_err);
    if (!rc)
        rc = prune_select(r, runs, nruns, sel, &picked, &npicked, &analysis_err);
    if (!rc)
        rc = prune_delete(r, sel, runs, picked, npicked, dry_run, counts, &analysis_err);
    free(picked);
    results_runs_free(runs, nruns);
    results_close(r);
    return rc;
}

Test(prune, where_deletes_runs_with_everything_under_them)
{
    const char *a = tmp_path("a.db");
    db_build(a, base_points, NBASE, "");
    db_add_runs_with_rows(a, "rows", (const char *const[]){"hedged", "kofn"}, 2);
    struct report_filter where[] = {{"scheme.kind", "kofn"}};
    struct prune_selection sel = {.where = where, .nwhere = 1};
    struct prune_counts c;
    cr_assert_eq(prune_run(a, &sel, false, &c), 0, "%s", analysis_err.msg);
    /* k1, k2 (6 params each: name, db, workload, scheme, k, rate) and kofn-j (2) */
    cr_expect_eq(c.runs, 3);
    cr_expect_eq(c.params, 14);
    cr_expect_eq(c.metrics, 9);
    cr_expect_eq(c.jobs, 5);
    cr_expect_eq(c.iterations, 3);
    cr_expect_eq(c.experiments, 0);
    cr_expect_eq(sql_int(a, "SELECT count(*) FROM runs"), 3);
    cr_expect_eq(sql_int(a, "SELECT count(*) FROM runs WHERE scheme = 'kofn'"), 0);
    cr_expect_eq(sql_int(a, "SELECT count(*) FROM jobs"), 5);
    cr_expect_eq(sql_int(a, "SELECT count(*) FROM iterations"), 3);
    cr_expect_eq(sql_int(a, "SELECT count(*) FROM params WHERE run_id NOT IN (SELECT id FROM runs)"),
                 0);
    cr_expect_eq(fk_problems(a), 0);
}

Test(prune, dry_run_counts_and_changes_nothing)
{
    const char *a = tmp_path("a.db");
    db_build(a, base_points, NBASE, "");
    db_add_runs_with_rows(a, "rows", (const char *const[]){"hedged"}, 1);
    struct prune_selection sel = {.by_experiment = true, .experiment_id = 2};
    struct prune_counts c;
    cr_assert_eq(prune_run(a, &sel, true, &c), 0, "%s", analysis_err.msg);
    cr_expect(c.runs == 1 && c.params == 2 && c.metrics == 1 && c.jobs == 5 &&
              c.iterations == 3 && c.experiments == 1);
    cr_expect_eq(sql_int(a, "SELECT count(*) FROM runs"), 5);
    cr_expect_eq(sql_int(a, "SELECT count(*) FROM experiments"), 2);
    cr_expect_eq(sql_int(a, "SELECT count(*) FROM jobs"), 5);
}

Test(prune, an_emptied_experiment_goes_with_its_points_record)
{
    const char *a = tmp_path("a.db");
    db_build(a, base_points, NBASE, "");
    struct results *r;
    struct error err;
    cr_assert_eq(results_open(a, false, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(results_experiment_points(r, 1, 4, &err), 0, "%s", err.msg);
    results_close(r);
    struct prune_selection sel = {.by_experiment = true, .experiment_id = 1};
    struct prune_counts c;
    cr_assert_eq(prune_run(a, &sel, false, &c), 0, "%s", analysis_err.msg);
    cr_expect(c.runs == 4 && c.experiments == 1);
    cr_expect_eq(sql_int(a, "SELECT count(*) FROM experiments"), 0);
    cr_expect_eq(sql_int(a, "SELECT count(*) FROM meta WHERE key LIKE 'points:%'"), 0);
    cr_expect_eq(sql_int(a, "SELECT count(*) FROM params"), 0);
    cr_expect_eq(fk_problems(a), 0);
}

Test(prune, an_experiment_without_runs_goes)
{
    const char *a = tmp_path("a.db");
    db_build(a, base_points, NBASE, "");
    struct results *r;
    struct error err;
    int64_t exp;
    cr_assert_eq(results_open(a, false, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(results_experiment(r, "killed", "[experiment]\nkilled\n", &exp, &err), 0);
    results_close(r);
    struct prune_selection sel = {.by_experiment = true, .experiment_id = exp};
    struct prune_counts c;
    cr_assert_eq(prune_run(a, &sel, true, &c), 0, "%s", analysis_err.msg);
    cr_expect(c.runs == 0 && c.experiments == 1);
    cr_assert_eq(prune_run(a, &sel, false, &c), 0, "%s", analysis_err.msg);
    cr_expect(c.runs == 0 && c.experiments == 1);
    cr_expect_eq(sql_int(a, "SELECT count(*) FROM experiments"), 1);
    cr_expect_eq(sql_int(a, "SELECT count(*) FROM runs"), 4);
}

Test(prune, experiment_and_where_must_both_hold)
{
    const char *a = tmp_path("a.db");
    db_build(a, base_points, NBASE, "");
    db_add_runs_with_rows(a, "rows", (const char *const[]){"uncoded", "kofn"}, 2);
    struct report_filter where[] = {{"scheme.kind", "uncoded"}};
    struct prune_selection sel = {.by_experiment = true, .experiment_id = 1, .where = where,
                                  .nwhere = 1};
    struct prune_counts c;
    cr_assert_eq(prune_run(a, &sel, false, &c), 0, "%s", analysis_err.msg);
    cr_expect_eq(c.runs, 2); /* u1 and u2, not uncoded-j of experiment 2 */
    cr_expect_eq(sql_int(a, "SELECT count(*) FROM runs WHERE point_key = 'uncoded-j'"), 1);
}

Test(prune, unknown_experiment_and_filter_key_are_bad_input)
{
    const char *a = tmp_path("a.db");
    db_build(a, base_points, NBASE, "");
    struct prune_counts c;
    struct prune_selection sel = {.by_experiment = true, .experiment_id = 9};
    cr_expect_eq(prune_run(a, &sel, false, &c), STRAG_EINPUT);
    char want[512];
    snprintf(want, sizeof want,
             "stragsim rm: --experiment: %s has no experiment 9 (stragsim ls lists them)", a);
    cr_expect_str_eq(analysis_err.msg, want);
    struct report_filter where[] = {{"scheme.kindd", "kofn"}};
    sel = (struct prune_selection){.where = where, .nwhere = 1};
    cr_expect_eq(prune_run(a, &sel, false, &c), STRAG_EINPUT);
    snprintf(want, sizeof want, "stragsim rm: --where: no param 'scheme.kindd' in %s", a);
    cr_expect_str_eq(analysis_err.msg, want);
    cr_expect_eq(sql_int(a, "SELECT count(*) FROM runs"), 4);
}

Test(prune, a_missing_database_is_not_created)
{
    const char *a = tmp_path("none.db");
    struct prune_counts c;
    struct prune_selection sel = {.by_experiment = true, .experiment_id = 1};
    cr_expect_eq(prune_run(a, &sel, false, &c), STRAG_EINPUT);
    char want[512];
    snprintf(want, sizeof want, "%s: no such file", a);
    cr_expect_str_eq(analysis_err.msg, want);
    cr_expect_eq(access(a, F_OK), -1);
}

/* merge_into of inputs into out; returns its status. */
static int merge_run(const char *out, const char *const *inputs, size_t n,
                     struct merge_summary *sum)
{
    struct results *r;
    analysis_err = (struct error){0};
    int rc = results_open(out, false, &r, &analysis_err);
    if (!rc)
        rc = merge_into(r, inputs, n, sum, &analysis_err);
    results_close(r);
    return rc;
}

Test(merge, halves_of_a_sweep_make_the_whole)
{
    const char *whole = tmp_path("whole.db"), *h1 = tmp_path("h1.db"), *h2 = tmp_path("h2.db");
    const char *out = tmp_path("out.db");
    db_build(whole, base_points, NBASE, "");
    db_build(h1, base_points, 3, "");     /* k1 k2 u1 */
    db_build(h2, base_points + 2, 2, ""); /* u1 (again: accuracy NaN) u2 */
    db_add_runs_with_rows(h2, "rows", (const char *const[]){"hedged"}, 1);
    struct merge_summary sum;
    cr_assert_eq(merge_run(out, (const char *const[]){h1, h2}, 2, &sum), 0, "%s",
                 analysis_err.msg);
    cr_expect(sum.inputs == 2 && sum.copied == 5 && sum.duplicates == 1 && sum.experiments == 2,
              "%zu inputs, %zu copied, %zu duplicates, %zu experiments", sum.inputs, sum.copied,
              sum.duplicates, sum.experiments);
    cr_expect_eq(sql_int(out, "SELECT count(*) FROM runs"), 5);
    cr_expect_eq(sql_int(out, "SELECT count(*) FROM experiments"), 2);
    cr_expect_eq(sql_int(out, "SELECT count(*) FROM jobs"), 5);
    cr_expect_eq(sql_int(out, "SELECT count(*) FROM iterations"), 3);
    cr_expect_eq(fk_problems(out), 0);
    struct check_summary cs;
    struct check_options opt = {.rtol = 0, .atol = 0};
    cr_assert_eq(check_into(out, whole, &opt, &cs), 0, "%s", analysis_err.msg);
    SUMMARY_EXPECT(cs, 4, 16, 0, 1); /* the hedged run is not in whole */
    /* merging again: everything is an identical duplicate */
    cr_assert_eq(merge_run(out, (const char *const[]){h1, h2}, 2, &sum), 0, "%s",
                 analysis_err.msg);
    cr_expect(sum.copied == 0 && sum.duplicates == 6 && sum.experiments == 0);
}

Test(merge, a_conflicting_point_is_refused_and_nothing_written)
{
    struct point pts[NBASE];
    points_copy(pts);
    pts[2].p99 = 4.5 + 0x1p-40; /* u1, by a hair */
    const char *h1 = tmp_path("h1.db"), *h2 = tmp_path("h2.db"), *h3 = tmp_path("h3.db");
    const char *out = tmp_path("out.db");
    db_build(h1, base_points, 2, "");
    db_build(h2, base_points + 2, 1, "");
    db_build(h3, pts + 2, 2, "");
    struct merge_summary sum;
    cr_assert_eq(merge_run(out, (const char *const[]){h1}, 1, &sum), 0, "%s", analysis_err.msg);
    cr_assert_eq(merge_run(out, (const char *const[]){h2, h3}, 2, &sum), STRAG_EINPUT);
    char want[1024];
    snprintf(want, sizeof want,
             "stragsim merge: point u1 (latency, uncoded, repeat 0) has latency_p99 "
             "4.5000000000009095 in %s but 4.5 in %s or an earlier input; nothing merged",
             h3, out);
    cr_expect_str_eq(analysis_err.msg, want);
    cr_expect_eq(sql_int(out, "SELECT count(*) FROM runs"), 2); /* h1's only: h2 rolled back */
}

Test(merge, a_metric_on_one_side_only_is_a_conflict)
{
    const char *h1 = tmp_path("h1.db"), *h2 = tmp_path("h2.db"), *out = tmp_path("out.db");
    db_build(h1, base_points, 1, "");
    db_build(h2, base_points, 1, "");
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(h2, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, "DELETE FROM metrics WHERE name = 'jobs'", NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
    struct merge_summary sum;
    cr_assert_eq(merge_run(out, (const char *const[]){h1, h2}, 2, &sum), STRAG_EINPUT);
    cr_expect(strstr(analysis_err.msg, "has jobs missing in") != NULL, "%s", analysis_err.msg);
    cr_expect_eq(sql_int(out, "SELECT count(*) FROM runs"), 0);
}

Test(merge, an_input_that_is_not_a_database_is_bad_input)
{
    const char *h1 = tmp_path("h1.db"), *text = tmp_path("text.db"), *out = tmp_path("out.db");
    db_build(h1, base_points, 1, "");
    FILE *f = fopen(text, "w");
    fputs("not a database\n", f);
    fclose(f);
    struct merge_summary sum;
    cr_assert_eq(merge_run(out, (const char *const[]){h1, text}, 2, &sum), STRAG_EINPUT);
    cr_expect(strstr(analysis_err.msg, "not a stragsim results database") != NULL, "%s",
              analysis_err.msg);
    cr_expect_eq(sql_int(out, "SELECT count(*) FROM runs"), 0);
}

/* diff_write of a and b into analysis_out. */
static int diff_run(const char *a, const char *b, const struct diff_options *opt,
                    struct diff_summary *sum)
{
    struct results *ra = NULL, *rb = NULL;
    FILE *out = capture_open();
    int rc = results_open(a, true, &ra, &analysis_err);
    if (!rc)
        rc = results_open(b, true, &rb, &analysis_err);
    if (!rc)
        rc = diff_write(ra, rb, opt, out, sum, &analysis_err);
    results_close(ra);
    results_close(rb);
    capture_close(out);
    return rc;
}

Test(diff, matched_points_side_by_side_and_unmatched_listed)
{
    struct point pts[NBASE];
    points_copy(pts);
    pts[1].mean = 0.375;
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, base_points, 3, "");  /* k1 k2 u1 */
    db_build(b, pts + 1, 3, "");      /* k2 (changed) u1 u2 */
    struct diff_options opt = {.metrics = (const char *const[]){"latency_mean"}, .nmetrics = 1};
    struct diff_summary sum;
    cr_assert_eq(diff_run(a, b, &opt, &sum), 0, "%s", analysis_err.msg);
    cr_expect(sum.matched == 2 && sum.only_a == 1 && sum.only_b == 1);
    static char want[1 << 17]; /* the widest text paths of tmp_path's 512 bytes give */
    snprintf(want, sizeof want,
             "point                               metric        %-*s  %-*s  B - A   overlap\n"
             "scheme.kind=kofn latency.rate=2     latency_mean  %-*s  %-*s  +0.125  -\n"
             "scheme.kind=uncoded latency.rate=1  latency_mean  %-*s  %-*s  +0      -\n"
             "only in %s: scheme.kind=kofn latency.rate=1\n"
             "only in %s: scheme.kind=uncoded latency.rate=2\n",
             (int)strlen(a), a, (int)strlen(b), b, (int)strlen(a), "0.25", (int)strlen(b),
             "0.375", (int)strlen(a), "1.5", (int)strlen(b), "1.5", a, b);
    cr_expect_str_eq(analysis_out, want);
}

/* Points with repeats: two runs of each of k1 and k2 (repeat 0 and 1). */
static void db_build_repeats(const char *path, double shift)
{
    struct point pts[4] = {
        {"k1r0", "kofn", "1", 0, 0.50, 1, 0.9}, {"k1r1", "kofn", "1", 1, 0.52, 1, 0.9},
        {"k2r0", "kofn", "2", 0, 0.25, 1, 0.9}, {"k2r1", "kofn", "2", 1, 0.26, 1, 0.9},
    };
    pts[2].mean += shift;
    pts[3].mean += shift;
    db_build(path, pts, 4, "");
}

Test(diff, intervals_overlap_or_not)
{
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build_repeats(a, 0);
    db_build_repeats(b, 1.0); /* k2 moves far beyond its interval */
    struct diff_options opt = {.metrics = (const char *const[]){"latency_mean"}, .nmetrics = 1,
                               .json = true};
    struct diff_summary sum;
    cr_assert_eq(diff_run(a, b, &opt, &sum), 0, "%s", analysis_err.msg);
    cr_expect(sum.matched == 2 && sum.only_a == 0 && sum.only_b == 0);
    cr_expect(strstr(analysis_out, "\"point\": \"scheme.kind=kofn latency.rate=1\"") != NULL, "%s", analysis_out);
    /* k1: identical (overlap), k2: apart */
    const char *k2 = strstr(analysis_out, "\"point\": \"scheme.kind=kofn latency.rate=2\"");
    cr_assert_not_null(k2, "%s", analysis_out);
    cr_expect(strstr(analysis_out, "\"diff\": 0, \"overlap\": true") != NULL, "%s", analysis_out);
    cr_expect(strstr(k2, "\"overlap\": false}") != NULL, "%s", analysis_out);
    cr_expect(strstr(k2, "\"a\": {\"mean\": 0.255, \"half_width\": ") != NULL, "%s",
              analysis_out);
    cr_expect(strstr(analysis_out, "\"n\": 2}") != NULL);
    cr_expect(strstr(analysis_out, "\"only_a\": [], \"only_b\": []}\n") != NULL, "%s",
              analysis_out);
}

Test(diff, unknown_metric_is_bad_input)
{
    const char *a = tmp_path("a.db");
    db_build(a, base_points, NBASE, "");
    struct diff_options opt = {.metrics = (const char *const[]){"latency_mode"}, .nmetrics = 1};
    struct diff_summary sum;
    cr_expect_eq(diff_run(a, a, &opt, &sum), STRAG_EINPUT);
    cr_expect(strstr(analysis_err.msg, "stragsim diff: --metrics: no metric 'latency_mode'") ==
              analysis_err.msg);
}

/* catalog_write of the database at path into analysis_out. */
static int catalog_run(const char *path, const struct catalog_options *opt)
{
    struct results *r = NULL;
    FILE *out = capture_open();
    int rc = results_open(path, true, &r, &analysis_err);
    if (!rc)
        rc = catalog_write(r, opt, out, &analysis_err);
    results_close(r);
    capture_close(out);
    return rc;
}

Test(catalog, finished_or_not_and_two_experiments_of_one_name)
{
    const char *a = tmp_path("a.db");
    db_build(a, base_points, NBASE, "");
    db_add_runs_with_rows(a, "demo", (const char *const[]){"hedged"}, 1); /* another config */
    struct results *r;
    struct error err;
    cr_assert_eq(results_open(a, false, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(results_experiment_points(r, 1, 4, &err), 0, "%s", err.msg);
    cr_assert_eq(results_experiment_points(r, 2, 3, &err), 0, "%s", err.msg);
    results_close(r);
    struct catalog_options opt = {0};
    cr_assert_eq(catalog_run(a, &opt), 0, "%s", analysis_err.msg);
    cr_expect(strstr(analysis_out, "  4  yes\n") != NULL, "%s", analysis_out);
    cr_expect(strstr(analysis_out, "  1  no (1 of 3)\n") != NULL, "%s", analysis_out);
    cr_expect(strstr(analysis_out, "note: 2 experiments are named 'demo' (ids 1 2): their "
                                   "configs differ (config hash)\n") != NULL,
              "%s", analysis_out);
    opt = (struct catalog_options){.runs = true, .json = true};
    cr_assert_eq(catalog_run(a, &opt), 0, "%s", analysis_err.msg);
    cr_expect(strstr(analysis_out, "\"runs\": 4, \"points\": 4, \"finished\": true") != NULL,
              "%s", analysis_out);
    cr_expect(strstr(analysis_out, "\"runs\": 1, \"points\": 3, \"finished\": false") != NULL);
    cr_expect(strstr(analysis_out, "{\"id\": 5, \"point_key\": \"hedged-j\", \"repeat\": 0, "
                                   "\"params\": {\"scheme.kind\": \"hedged\"}}") != NULL,
              "%s", analysis_out);
}

Test(catalog, unknown_when_not_recorded)
{
    const char *a = tmp_path("a.db");
    db_build(a, base_points, 1, "");
    struct catalog_options opt = {.runs = true};
    cr_assert_eq(catalog_run(a, &opt), 0, "%s", analysis_err.msg);
    cr_expect(strstr(analysis_out, "     1  ?\n  run 1      scheme.kind=kofn repeat=0\n") != NULL, "%s",
              analysis_out);
}

Test(json, check_regressions_as_objects)
{
    struct point pts[NBASE];
    points_copy(pts);
    pts[1].mean = 0.375;
    const char *a = tmp_path("a.db"), *b = tmp_path("b.db");
    db_build(a, pts, 3, "");
    db_build(b, base_points, NBASE, "");
    struct check_options opt = {.rtol = 1e-9, .json = true};
    struct check_summary sum;
    cr_assert_eq(check_into(a, b, &opt, &sum), 0, "%s", analysis_err.msg);
    cr_expect_str_eq(analysis_out,
                     "  {\"point\": \"scheme.kind=kofn latency.rate=2\", \"metric\": "
                     "\"latency_mean\", \"baseline\": 0.25, \"new\": 0.375, \"rel_diff\": 0.5},\n"
                     "  {\"point\": \"scheme.kind=uncoded latency.rate=2\", \"missing\": true}");
}

Test(json, report_rows_as_objects_nan_as_null)
{
    const char *a = tmp_path("a.db");
    db_build(a, base_points + 1, 2, "");
    struct report_options opt = {.format = REPORT_JSON,
                                 .metrics = (const char *const[]){"latency_mean", "accuracy"},
                                 .nmetrics = 2};
    cr_assert_eq(report_into(a, &opt), 0, "%s", analysis_err.msg);
    cr_expect_str_eq(analysis_out,
                     "[\n"
                     "  {\"scheme.kind\": \"kofn\", \"latency.rate\": 2, \"latency_mean\": 0.25, "
                     "\"accuracy\": 0.875},\n"
                     "  {\"scheme.kind\": \"uncoded\", \"latency.rate\": 1, \"latency_mean\": 1.5, "
                     "\"accuracy\": null}\n"
                     "]\n");
}
