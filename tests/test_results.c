/* test_results.c: the results database: a run written and read back, one
 * transaction per run (a failing write leaves nothing), idempotent
 * experiments, WAL mode and a reader beside an open write, and the exact
 * message for each bad database path. */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmp_dir.h"
#include "analysis/results.h"

TestSuite(results, .init = make_tmpdir, .fini = remove_tmpdir);

/* Runs one SQL statement on a separate connection and returns its first
 * column as an integer (or -1 for no row). */
static long sql_int(const char *path, const char *sql)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    long v = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void sql_exec(const char *path, const char *sql)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* A small run: three params, three metrics (accuracy NaN), optional rows. */
struct sample {
    struct params *params;
    struct metric_list metrics;
    struct job_row jobs[3];
    struct iteration_row iterations[2];
    struct run_record rec;
};

static void sample_make(struct sample *s, const char *point_key)
{
    memset(s, 0, sizeof *s);
    s->params = params_new();
    params_set(s->params, "workload.kind", "latency", "a.ini", 3);
    params_set(s->params, "scheme.kind", "kofn", "a.ini", 7);
    params_set(s->params, "latency.rate", "2.5", "a.ini", 5);
    metric_list_set(&s->metrics, "jobs", 3);
    metric_list_set(&s->metrics, "latency_mean", 0.125);
    metric_list_set(&s->metrics, "accuracy", NAN);
    for (int i = 0; i < 3; i++)
        s->jobs[i] = (struct job_row){.job = (uint64_t)i, .arrival = i, .latency = 0.5 * i,
                                      .tasks = 4, .extra = i == 1 ? NAN : 1};
    for (int i = 0; i < 2; i++)
        s->iterations[i] = (struct iteration_row){.iteration = i, .sim_time = i + 1.0,
                                                  .loss = 2.0 - i, .accuracy = NAN, .waited = 3,
                                                  .residual = 0, .grad_rel_err = 1e-3,
                                                  .staleness = 0};
    s->rec = (struct run_record){.point_key = point_key, .repeat = 1, .seed = 42,
                                 .params = s->params, .metrics = &s->metrics, .jobs = s->jobs,
                                 .njobs = 3, .iterations = s->iterations, .niterations = 2,
                                 .wall_seconds = 0.25};
}

static void sample_free(struct sample *s)
{
    params_free(s->params);
    metric_list_clear(&s->metrics);
}

/* A fresh database with one experiment. */
static struct results *db_new(const char *path, int64_t *experiment)
{
    struct results *r;
    struct error err;
    cr_assert_eq(results_open(path, false, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(results_experiment(r, "demo", "[experiment]\nname = demo\n", experiment, &err), 0,
                 "%s", err.msg);
    return r;
}

Test(results, write_and_read_back)
{
    const char *path = tmp_path("r.db");
    int64_t exp;
    struct results *r = db_new(path, &exp);
    struct sample s;
    sample_make(&s, "abc123");
    struct error err;
    cr_assert_eq(results_write_run(r, exp, &s.rec, &err), 0, "%s", err.msg);
    results_close(r);

    cr_assert_eq(results_open(path, true, &r, &err), 0, "%s", err.msg);
    struct results_run *runs;
    size_t n;
    cr_assert_eq(results_read_runs(r, &runs, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(runs[0].point_key, "abc123");
    cr_assert_eq(runs[0].repeat, 1);
    /* params come back in the order written */
    cr_assert_eq(params_count(runs[0].params), 3);
    cr_assert_str_eq(params_key_at(runs[0].params, 0), "workload.kind");
    cr_assert_str_eq(params_key_at(runs[0].params, 2), "latency.rate");
    cr_assert_str_eq(params_get(runs[0].params, "latency.rate"), "2.5");
    cr_assert_eq(runs[0].metrics.n, 3);
    cr_assert_str_eq(runs[0].metrics.names[1], "latency_mean");
    cr_assert_eq(metric_list_get(&runs[0].metrics, "jobs"), 3.0);
    cr_assert_eq(metric_list_get(&runs[0].metrics, "latency_mean"), 0.125);
    cr_assert(isnan(metric_list_get(&runs[0].metrics, "accuracy")));
    results_runs_free(runs, n);
    results_close(r);

    /* What sqlite3 / pandas users see. */
    cr_assert_eq(sql_int(path, "SELECT value IS NULL FROM metrics WHERE name = 'accuracy'"), 1);
    cr_assert_eq(sql_int(path, "SELECT typeof(value) = 'real' FROM metrics WHERE name = 'jobs'"), 1);
    cr_assert_eq(sql_int(path, "SELECT count(*) FROM jobs"), 3);
    cr_assert_eq(sql_int(path, "SELECT extra IS NULL FROM jobs WHERE job = 1"), 1);
    cr_assert_eq(sql_int(path, "SELECT 1000 * latency FROM jobs WHERE job = 2"), 1000);
    cr_assert_eq(sql_int(path, "SELECT count(*) FROM iterations WHERE waited = 3"), 2);
    cr_assert_eq(sql_int(path, "SELECT seed FROM runs"), 42);
    cr_assert_eq(sql_int(path, "SELECT scheme = 'kofn' AND workload = 'latency' FROM runs"), 1);
    cr_assert_eq(sql_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"), 1);
    cr_assert_eq(sql_int(path, "SELECT value = 'stragsim " STRAGSIM_VERSION
                               "' FROM meta WHERE key = 'created_by'"),
                 1);
    /* The one-JOIN query the design promises. */
    cr_assert_eq(sql_int(path, "SELECT count(*) FROM runs JOIN params p ON p.run_id = runs.id"
                               " JOIN metrics m ON m.run_id = runs.id"
                               " WHERE p.key = 'scheme.kind' AND m.name = 'latency_mean'"),
                 1);
    sample_free(&s);
}

Test(results, failing_write_leaves_nothing)
{
    const char *path = tmp_path("r.db");
    int64_t exp;
    struct results *r = db_new(path, &exp);
    struct sample s;
    sample_make(&s, "p1");
    s.jobs[2].job = 0; /* duplicate job: the jobs insert fails after runs/params/metrics */
    struct error err;
    cr_assert_neq(results_write_run(r, exp, &s.rec, &err), 0);
    cr_assert(strstr(err.msg, "writing jobs") != NULL, "%s", err.msg);
    cr_assert_not(results_has_run(r, "p1"));
    cr_assert_eq(sql_int(path, "SELECT count(*) FROM runs"), 0);
    cr_assert_eq(sql_int(path, "SELECT count(*) FROM params"), 0);
    cr_assert_eq(sql_int(path, "SELECT count(*) FROM metrics"), 0);
    cr_assert_eq(sql_int(path, "SELECT count(*) FROM jobs"), 0);

    /* The connection is usable afterwards and the same point can be written. */
    s.jobs[2].job = 2;
    cr_assert_eq(results_write_run(r, exp, &s.rec, &err), 0, "%s", err.msg);
    cr_assert(results_has_run(r, "p1"));
    cr_assert_eq(sql_int(path, "SELECT count(*) FROM params"), 3);
    results_close(r);
    sample_free(&s);
}

Test(results, point_written_twice_is_refused)
{
    const char *path = tmp_path("r.db");
    int64_t exp;
    struct results *r = db_new(path, &exp);
    struct sample s;
    sample_make(&s, "p1");
    struct error err;
    cr_assert_eq(results_write_run(r, exp, &s.rec, &err), 0, "%s", err.msg);
    cr_assert_eq(results_write_run(r, exp, &s.rec, &err), STRAG_EINPUT);
    char want[300];
    snprintf(want, sizeof want, "%s: point p1 is already stored", path);
    cr_assert_str_eq(err.msg, want);
    cr_assert_eq(sql_int(path, "SELECT count(*) FROM runs"), 1);
    cr_assert_eq(sql_int(path, "SELECT count(*) FROM params"), 3);
    results_close(r);
    sample_free(&s);
}

Test(results, unknown_experiment_is_refused)
{
    const char *path = tmp_path("r.db");
    int64_t exp;
    struct results *r = db_new(path, &exp);
    struct sample s;
    sample_make(&s, "p1");
    struct error err;
    cr_assert_neq(results_write_run(r, exp + 100, &s.rec, &err), 0); /* foreign keys are on */
    cr_assert(strstr(err.msg, "FOREIGN KEY") != NULL, "%s", err.msg);
    cr_assert_eq(sql_int(path, "SELECT count(*) FROM runs"), 0);
    results_close(r);
    sample_free(&s);
}

Test(results, has_run)
{
    const char *path = tmp_path("r.db");
    int64_t exp;
    struct results *r = db_new(path, &exp);
    struct sample s;
    sample_make(&s, "key-a");
    struct error err;
    cr_assert_not(results_has_run(r, "key-a"));
    cr_assert_eq(results_write_run(r, exp, &s.rec, &err), 0, "%s", err.msg);
    cr_assert(results_has_run(r, "key-a"));
    cr_assert_not(results_has_run(r, "key-b"));
    results_close(r);
    sample_free(&s);
}

Test(results, experiment_is_idempotent)
{
    const char *path = tmp_path("r.db");
    struct results *r;
    struct error err;
    cr_assert_eq(results_open(path, false, &r, &err), 0, "%s", err.msg);
    int64_t a, b, c, d;
    cr_assert_eq(results_experiment(r, "demo", "x = 1\n", &a, &err), 0, "%s", err.msg);
    cr_assert_eq(results_experiment(r, "demo", "x = 1\n", &b, &err), 0, "%s", err.msg);
    cr_assert_eq(results_experiment(r, "demo", "x = 2\n", &c, &err), 0, "%s", err.msg);
    cr_assert_eq(results_experiment(r, "other", "x = 1\n", &d, &err), 0, "%s", err.msg);
    cr_assert_eq(a, b);
    cr_assert_neq(a, c);
    cr_assert_neq(a, d);
    results_close(r);
    /* Reopening finds the same experiment. */
    cr_assert_eq(results_open(path, false, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(results_experiment(r, "demo", "x = 1\n", &b, &err), 0, "%s", err.msg);
    cr_assert_eq(a, b);
    results_close(r);
    cr_assert_eq(sql_int(path, "SELECT count(*) FROM experiments"), 3);
    cr_assert_eq(sql_int(path, "SELECT count(*) FROM experiments WHERE length(config_hash) = 16"
                               " AND tool_version = '" STRAGSIM_VERSION "'"),
                 3);
}

Test(results, wal_mode_and_foreign_keys)
{
    const char *path = tmp_path("r.db");
    int64_t exp;
    struct results *r = db_new(path, &exp);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(results_db(r), "PRAGMA foreign_keys", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    results_close(r);
    /* WAL is a property of the file: a new connection sees it. */
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

Test(results, reader_beside_an_open_write)
{
    const char *path = tmp_path("r.db");
    int64_t exp;
    struct results *w = db_new(path, &exp);
    struct sample s;
    sample_make(&s, "done");
    struct error err;
    cr_assert_eq(results_write_run(w, exp, &s.rec, &err), 0, "%s", err.msg);

    /* A writer holds its transaction open with one more run in it... */
    cr_assert_eq(sqlite3_exec(results_db(w),
                              "BEGIN IMMEDIATE; INSERT INTO runs(experiment_id, point_key, repeat,"
                              " seed, created_at) VALUES(1, 'in-flight', 0, 1, 'now')",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(results_db(w)));

    /* ...and a reader (another connection) reads at once, without the uncommitted run. */
    struct results *r;
    cr_assert_eq(results_open(path, true, &r, &err), 0, "%s", err.msg);
    sqlite3_busy_timeout(results_db(r), 0); /* blocking would fail, not wait */
    struct results_run *runs;
    size_t n;
    cr_assert_eq(results_read_runs(r, &runs, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(runs[0].point_key, "done");
    results_runs_free(runs, n);
    cr_assert_not(results_has_run(r, "in-flight"));

    cr_assert_eq(sqlite3_exec(results_db(w), "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    cr_assert(results_has_run(r, "in-flight"));
    results_close(r);
    results_close(w);
    sample_free(&s);
}

/* results_open(path) fails with STRAG_EINPUT and exactly "<path><suffix>". */
static void open_fails(const char *path, bool read_only, const char *suffix)
{
    struct results *r = (struct results *)1;
    struct error err = {{0}};
    cr_assert_eq(results_open(path, read_only, &r, &err), STRAG_EINPUT, "opened %s", path);
    cr_assert_null(r);
    char want[1024];
    snprintf(want, sizeof want, "%s%s", path, suffix);
    cr_assert_str_eq(err.msg, want);
}

Test(results, path_is_a_directory)
{
    open_fails(tmpdir, false, ": is a directory");
    open_fails(tmpdir, true, ": is a directory");
}

Test(results, path_not_sqlite)
{
    const char *path = tmp_path("notes.txt");
    write_text(path, "these are not the tables you are looking for\n"
                     "padding padding padding padding padding padding padding padding\n");
    open_fails(path, false, ": not a stragsim results database (file is not a database)");
    open_fails(path, true, ": not a stragsim results database (file is not a database)");
}

Test(results, path_other_schema_version)
{
    const char *path = tmp_path("old.db");
    int64_t exp;
    results_close(db_new(path, &exp));
    sql_exec(path, "UPDATE meta SET value = '7' WHERE key = 'schema_version'");
    const char *want = ": results database schema version 7, this stragsim (" STRAGSIM_VERSION
                       ") reads version 1";
    open_fails(path, false, want);
    open_fails(path, true, want);
}

Test(results, path_sqlite_without_our_tables)
{
    const char *path = tmp_path("other.db");
    sql_exec(path, "CREATE TABLE people(name TEXT)");
    open_fails(path, true, ": not a stragsim results database (no meta table)");
    open_fails(path, false, ": not a stragsim results database (no meta table)");
    /* Refusing it changed nothing: still one table, still a rollback journal. */
    cr_assert_eq(sql_int(path, "SELECT count(*) FROM sqlite_master"), 1);
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "delete");
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* An empty file read-only has no tables either. */
    path = tmp_path("empty.db");
    write_text(path, "");
    open_fails(path, true, ": not a stragsim results database (no meta table)");
}

Test(results, path_meta_without_version)
{
    const char *path = tmp_path("meta.db");
    sql_exec(path, "CREATE TABLE meta(key TEXT, value TEXT)");
    open_fails(path, true, ": not a stragsim results database (no schema_version in meta)");
}

Test(results, path_unwritable)
{
    /* Root ignores permission bits, so use paths no one can create. */
    char path[512], want[1024];
    snprintf(path, sizeof path, "%s/missing/r.db", tmpdir);
    snprintf(want, sizeof want, ": cannot create: directory '%s/missing' does not exist", tmpdir);
    open_fails(path, false, want);

    const char *file = tmp_path("plain");
    write_text(file, "x");
    snprintf(path, sizeof path, "%s/sub/r.db", file);
    snprintf(want, sizeof want, ": cannot create: '%s' is not a directory", file);
    open_fails(path, false, want);
    snprintf(want, sizeof want, ": cannot open: '%s' is not a directory", file);
    open_fails(path, true, want);
}

Test(results, path_missing_read_only)
{
    const char *path = tmp_path("absent.db");
    open_fails(path, true, ": no such file");
    cr_assert_neq(access(path, F_OK), 0); /* and nothing was created */
}

Test(results, empty_file_becomes_a_database)
{
    const char *path = tmp_path("empty.db");
    write_text(path, "");
    int64_t exp;
    results_close(db_new(path, &exp));
    cr_assert_eq(sql_int(path, "SELECT value FROM meta WHERE key = 'schema_version'"), 1);
}

Test(results, read_only_writes_nothing_and_leaves_no_wal)
{
    const char *path = tmp_path("r.db");
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    int64_t exp;
    struct sample s;
    sample_make(&s, "p1");
    results_close(db_new(path, &exp));
    cr_assert_neq(access(wal, F_OK), 0, "the writer left %s", wal);

    struct results *r;
    struct error err;
    cr_assert_eq(results_open(path, true, &r, &err), 0, "%s", err.msg);
    cr_assert_neq(results_write_run(r, exp, &s.rec, &err), 0);
    cr_assert_neq(sqlite3_exec(results_db(r), "DELETE FROM experiments", NULL, NULL, NULL),
                  SQLITE_OK);
    results_close(r);
    cr_assert_neq(access(wal, F_OK), 0, "the reader left %s", wal);
    cr_assert_eq(sql_int(path, "SELECT count(*) FROM experiments"), 1);
    sample_free(&s);
}
