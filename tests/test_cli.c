/* test_cli.c: stragsim end to end, through the built binary ($STRAGSIM;
 * configs under $STRAGSIM_SOURCE_ROOT): --version, every command's --help,
 * one exact line and exit 2 with no database created for bad input,
 * determinism across runs, --resume and the refusal without it, --set, the
 * database path rules, and the quickstart config. Each test works in its own
 * mkdtemp directory. Then app/cli.c's option table parser, called directly. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tmp_dir.h"
#include "app/cli.h"

TestSuite(cli, .init = make_tmpdir, .fini = remove_tmpdir);

static const char *binary(void)
{
    const char *b = getenv("STRAGSIM");
    cr_assert_not_null(b, "STRAGSIM is not set (run through meson test)");
    return b;
}

static char out_text[1 << 16], err_text[1 << 16];

/* Runs `stragsim ARGS` in tmpdir; returns the exit status, fills
 * out_text/err_text. */
static int stragsim(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >'%s/.out' 2>'%s/.err'", tmpdir, binary(), args,
             tmpdir, tmpdir);
    int rc = system(cmd);
    char path[512];
    snprintf(path, sizeof path, "%s/.out", tmpdir);
    slurp(path, out_text, sizeof out_text);
    snprintf(path, sizeof path, "%s/.err", tmpdir);
    slurp(path, err_text, sizeof err_text);
    cr_assert(WIFEXITED(rc), "stragsim %s did not exit normally", args);
    return WEXITSTATUS(rc);
}

static bool exists(const char *name)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return stat(path, &st) == 0;
}

/* The rows of `sql` over database `name`, as "a|b\n" lines. */
static char *query(const char *name, const char *sql)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK, "%s", path);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    out[0] = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const char *v = (const char *)sqlite3_column_text(st, c);
            size_t need = len + (v ? strlen(v) : 4) + 2;
            if (need >= cap)
                out = realloc(out, cap = need * 2);
            len += (size_t)sprintf(out + len, "%s%s", c ? "|" : "", v ? v : "NULL");
        }
        out[len++] = '\n';
        out[len] = 0;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static long count_rows(const char *db, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    char *r = query(db, sql);
    long n = strtol(r, NULL, 10);
    free(r);
    return n;
}

static const char metrics_sql[] = "SELECT r.point_key, m.name, m.value FROM metrics m "
                                  "JOIN runs r ON r.id = m.run_id ORDER BY r.point_key, m.name";

/* A small, fast latency config: 4 points (2 schemes x 2 worker counts). */
static const char sweep_ini[] = "[experiment]\n"
                                "seed = 7\n"
                                "[cluster]\n"
                                "workers = 4\n"
                                "[latency]\n"
                                "kind = shifted_exp\n"
                                "shift = 0.5\n"
                                "rate = 2\n"
                                "[workload]\n"
                                "kind = latency\n"
                                "arrival = poisson\n"
                                "rate = 0.5\n"
                                "jobs = 2000\n"
                                "warmup = 100\n"
                                "[scheme]\n"
                                "k = 3\n"
                                "[sweep]\n"
                                "scheme.kind = uncoded, kofn\n"
                                "cluster.workers = 4, 6\n";

/* ---- the binary's face ---- */

Test(cli, version)
{
    cr_expect_eq(stragsim("--version"), 0);
    cr_expect_str_eq(out_text, "stragsim 0.1.0\n");
}

Test(cli, help_of_every_command)
{
    cr_expect_eq(stragsim("--help"), 0);
    cr_expect_eq(strncmp(out_text, "usage: stragsim COMMAND", 23), 0, "%s", out_text);
    const char *cmds[] = {"run",  "report", "check", "train", "eval",
                          "plot", "export", "trace", "config"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char args[64], want[64];
        snprintf(args, sizeof args, "%s --help", cmds[i]);
        snprintf(want, sizeof want, "usage: stragsim %s", cmds[i]);
        cr_expect_eq(stragsim(args), 0, "%s", args);
        cr_expect_not_null(strstr(out_text, want), "stragsim %s:\n%s", args, out_text);
        cr_expect_str_eq(err_text, "", "%s", args);
    }
}

Test(cli, unknown_command_and_no_command)
{
    cr_expect_eq(stragsim("frobnicate"), 2);
    cr_expect_str_eq(err_text, "stragsim: unknown command 'frobnicate' (try stragsim --help)\n");
    cr_expect_str_eq(out_text, "");
    cr_expect_eq(stragsim(""), 2);
    cr_expect_not_null(strstr(err_text, "usage: stragsim"));
}

Test(cli, run_usage_errors)
{
    cr_expect_eq(stragsim("run"), 2);
    cr_expect_str_eq(err_text, "stragsim run: expected a config file (try stragsim run --help)\n");
    cr_expect_eq(stragsim("run a.ini --bogus"), 2);
    cr_expect_str_eq(err_text,
                     "stragsim run: unknown option '--bogus' (try stragsim run --help)\n");
    cr_expect_eq(stragsim("run a.ini b.ini"), 2);
    cr_expect_str_eq(err_text,
                     "stragsim run: unexpected argument 'b.ini' (try stragsim run --help)\n");
    cr_expect_eq(stragsim("run a.ini -o"), 2);
    cr_expect_str_eq(err_text,
                     "stragsim run: option '-o' needs a value (try stragsim run --help)\n");
}

/* ---- bad input: one line, exit 2, nothing written ---- */

Test(cli, bad_config_one_line_no_database)
{
    tmp_write("bad.ini", "[workload]\nkind = latency\n[cluster]\nworker = 3\n");
    cr_expect_eq(stragsim("run bad.ini -o out.db"), 2);
    cr_expect_str_eq(err_text, "bad.ini:4: unknown key 'worker' in [cluster]\n");
    cr_expect_not(exists("out.db"));

    cr_expect_eq(stragsim("run missing.ini -o out.db"), 2);
    cr_expect_str_eq(err_text, "missing.ini: cannot read: No such file or directory\n");
    cr_expect_not(exists("out.db"));
}

Test(cli, bad_point_fails_before_anything_runs)
{
    /* the second point asks kofn for more results than there are workers: the
     * scheme's create() rejects it, and nothing at all is written */
    tmp_write("late.ini",
              "[latency]\nkind = exp\n[workload]\nkind = latency\njobs = 50\n"
              "[cluster]\nworkers = 4\n[scheme]\nkind = kofn\n[sweep]\nscheme.k = 2, 9\n");
    cr_expect_eq(stragsim("run late.ini -o out.db"), 2);
    cr_expect_str_eq(err_text, "late.ini:11: scheme.k: 9 is more than cluster.workers (4)\n");
    cr_expect_not(exists("out.db"));
}

Test(cli, bad_set_one_line)
{
    tmp_write("s.ini", sweep_ini);
    cr_expect_eq(stragsim("run s.ini -o out.db --set cluster.workers=zero"), 2);
    cr_expect_str_eq(err_text, "--set cluster.workers=zero: cluster.workers: expected an integer, "
                               "got 'zero'\n");
    cr_expect_not(exists("out.db"));
}

/* ---- running ---- */

Test(cli, same_config_same_numbers)
{
    tmp_write("s.ini", sweep_ini);
    cr_assert_eq(stragsim("run s.ini -o a.db --quiet"), 0, "%s", err_text);
    cr_expect_str_eq(err_text, "", "--quiet prints nothing");
    cr_assert_eq(stragsim("run s.ini -o b.db"), 0, "%s", err_text);
    cr_expect_not_null(strstr(err_text, "[4/4] scheme.kind=kofn cluster.workers=6"), "%s",
                       err_text);
    cr_expect_not_null(strstr(out_text, "latency_mean"), "the summary table:\n%s", out_text);
    cr_expect_eq(count_rows("a.db", "runs"), 4);
    char *a = query("a.db", metrics_sql), *b = query("b.db", metrics_sql);
    cr_expect_str_eq(a, b);
    cr_expect_not_null(strstr(a, "|latency_mean|"));
    cr_expect_not_null(strstr(a, "|latency_p999|"));
    cr_expect_not_null(strstr(a, "|jobs|2000"));
    free(a);
    free(b);
}

Test(cli, resume_and_refusal)
{
    tmp_write("s.ini", sweep_ini);
    cr_assert_eq(stragsim("run s.ini -o r.db --quiet"), 0, "%s", err_text);
    char *before = query("r.db", metrics_sql);

    cr_expect_eq(stragsim("run s.ini -o r.db"), 2);
    cr_expect_str_eq(err_text, "r.db: already holds 4 of the 4 points of this config; use "
                               "--resume to skip them, or -o another database\n");
    cr_expect_eq(stragsim("run s.ini -o r.db --resume --quiet"), 0, "%s", err_text);
    cr_expect_eq(count_rows("r.db", "runs"), 4, "nothing run twice");

    /* lose one point (as a killed sweep would), then resume: only it runs,
     * with the same numbers as before */
    char path[512];
    snprintf(path, sizeof path, "%s/r.db", tmpdir);
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(db,
                              "PRAGMA foreign_keys = ON;"
                              "DELETE FROM runs WHERE id = (SELECT max(id) FROM runs);",
                              NULL, NULL, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(db));
    sqlite3_close(db);
    cr_expect_eq(count_rows("r.db", "runs"), 3);
    cr_expect_eq(stragsim("run s.ini -o r.db --resume"), 0, "%s", err_text);
    cr_expect_not_null(strstr(err_text, "[4/4]"), "%s", err_text);
    cr_expect_null(strstr(err_text, "[1/4]"), "%s", err_text);
    cr_expect_not_null(strstr(err_text, "skipped 3 points already in r.db"), "%s", err_text);
    cr_expect_eq(count_rows("r.db", "runs"), 4);
    char *after = query("r.db", metrics_sql);
    cr_expect_str_eq(before, after);
    free(after);
    free(before);
}

/* A point that differs from a stored one only in a value that is another
 * scheme's default (lagrange's scheme.nodes = n; n is berrut's default) is a
 * new point: --resume runs it instead of taking it for the stored one. */
Test(cli, resume_runs_a_new_distinct_point)
{
    tmp_write("l.ini", "[cluster]\nworkers = 6\n[latency]\nkind = exp\n"
                       "[workload]\nkind = latency\njobs = 200\n"
                       "[scheme]\nkind = lagrange\nstragglers = 1\nnodes = chebyshev\n");
    cr_assert_eq(stragsim("run l.ini -o l.db --quiet"), 0, "%s", err_text);
    cr_expect_eq(count_rows("l.db", "runs"), 1);
    cr_expect_eq(stragsim("run l.ini -o l.db --resume --set scheme.nodes=n"), 0, "%s", err_text);
    cr_expect_not_null(strstr(err_text, "[1/1]"), "the new point ran: %s", err_text);
    cr_expect_eq(count_rows("l.db", "runs"), 2);
    char *nodes = query("l.db", "SELECT value FROM params WHERE key = 'scheme.nodes' ORDER BY run_id");
    cr_expect_str_eq(nodes, "chebyshev\nn\n");
    free(nodes);
}

/* naive reads no scheme.stragglers: crossed with a sweep of it, its points
 * are one simulation, run and stored once (with no scheme.stragglers in
 * its params), not a "point already stored" failure. */
Test(cli, sweep_points_that_are_one_simulation_run_once)
{
    tmp_write("d.ini", "[cluster]\nworkers = 6\n[latency]\nkind = exp\n"
                       "[workload]\nkind = latency\njobs = 50\n"
                       "[sweep]\nscheme.stragglers = 1, 2\nscheme.kind = naive, ignore\n");
    cr_assert_eq(stragsim("run d.ini -o d.db --quiet"), 0, "%s", err_text);
    cr_expect_eq(count_rows("d.db", "runs"), 3);
    char *naive = query("d.db", "SELECT count(*) FROM params p JOIN params k ON k.run_id = "
                                "p.run_id AND k.key = 'scheme.kind' AND k.value = 'naive' "
                                "WHERE p.key = 'scheme.stragglers'");
    cr_expect_str_eq(naive, "0\n");
    free(naive);
    cr_expect_eq(stragsim("run d.ini -o d.db --resume --quiet"), 0, "%s", err_text);
    cr_expect_eq(count_rows("d.db", "runs"), 3);
}

Test(cli, set_changes_params)
{
    tmp_write("s.ini", sweep_ini);
    cr_assert_eq(stragsim("run s.ini -o s.db --quiet --set cluster.workers=5 "
                          "--set workload.jobs=300"),
                 0, "%s", err_text);
    cr_expect_eq(count_rows("s.db", "runs"), 2, "the workers axis is replaced by --set");
    char *w = query("s.db", "SELECT DISTINCT value FROM params WHERE key = 'cluster.workers'");
    cr_expect_str_eq(w, "5\n");
    char *j = query("s.db", "SELECT DISTINCT value FROM metrics WHERE name = 'jobs'");
    cr_expect_str_eq(j, "300.0\n");
    free(w);
    free(j);
}

Test(cli, database_path_rules)
{
    /* experiment.db is relative to the config's directory */
    char sub[512];
    snprintf(sub, sizeof sub, "%s/sub", tmpdir);
    cr_assert_eq(mkdir(sub, 0755), 0);
    tmp_write("sub/e.ini", "[experiment]\ndb = here.db\n[latency]\nkind = exp\n"
                           "[workload]\nkind = latency\njobs = 100\n");
    cr_expect_eq(stragsim("run sub/e.ini --quiet"), 0, "%s", err_text);
    cr_expect(exists("sub/here.db"));
    cr_expect_not(exists("results.db"));
    /* -o wins */
    cr_expect_eq(stragsim("run sub/e.ini --quiet -o other.db"), 0, "%s", err_text);
    cr_expect(exists("other.db"));
    /* neither: results.db in the current directory */
    tmp_write("plain.ini", "[latency]\nkind = exp\n[workload]\nkind = latency\njobs = 100\n");
    cr_expect_eq(stragsim("run plain.ini --quiet"), 0, "%s", err_text);
    cr_expect(exists("results.db"));
}

Test(cli, job_rows_when_asked)
{
    tmp_write("j.ini", "[latency]\nkind = exp\n[workload]\nkind = latency\njobs = 250\n"
                       "warmup = 10\njob_rows = true\n");
    cr_assert_eq(stragsim("run j.ini -o j.db --quiet"), 0, "%s", err_text);
    cr_expect_eq(count_rows("j.db", "jobs"), 250);
}

Test(cli, quickstart_runs)
{
    const char *root = getenv("STRAGSIM_SOURCE_ROOT");
    cr_assert_not_null(root);
    char args[1024];
    snprintf(args, sizeof args, "run '%s/configs/quickstart.ini' -o q.db --set workload.jobs=2000",
             root);
    cr_assert_eq(stragsim(args), 0, "%s", err_text);
    cr_expect_eq(count_rows("q.db", "runs"), 4);
    char *kinds =
        query("q.db", "SELECT value FROM params WHERE key = 'scheme.kind' ORDER BY value");
    cr_expect_str_eq(kinds, "berrut\nnercc\nreplication\nuncoded\n");
    free(kinds);
    /* every run has the workload's metrics, and nercc its own extra */
    char *names =
        query("q.db", "SELECT count(*) FROM metrics WHERE name IN ('jobs', 'latency_mean', "
                      "'latency_p50', 'latency_p99', 'latency_p999', 'latency_se', "
                      "'worker_seconds', 'events')");
    cr_expect_str_eq(names, "32\n");
    char *inference = query("q.db", "SELECT count(*) FROM metrics WHERE name IN ('accuracy', "
                                    "'agreement', 'rmse', 'base_accuracy')");
    cr_expect_str_eq(inference, "16\n");
    free(inference);
    char *extra =
        query("q.db", "SELECT p.value FROM metrics m JOIN params p ON p.run_id = m.run_id "
                      "AND p.key = 'scheme.kind' WHERE m.name = 'lambda_enc'");
    cr_expect_str_eq(extra, "nercc\n");
    free(names);
    free(extra);
}

/* Paired comparisons by default: the quickstart's four schemes (uncoded,
 * replication, berrut, nercc) meet the same job arrivals (and the same
 * worker draws and markov states, by the same stream key); with
 * experiment.common_streams = false each has its own. */
Test(cli, schemes_of_a_sweep_share_their_streams)
{
    const char *root = getenv("STRAGSIM_SOURCE_ROOT");
    cr_assert_not_null(root);
    const char *sequences = "SELECT count(DISTINCT s) FROM (SELECT group_concat(arrival, ',') AS s "
                            "FROM (SELECT run_id, arrival FROM jobs ORDER BY run_id, job) "
                            "GROUP BY run_id)";
    char args[1024];
    snprintf(args, sizeof args,
             "run '%s/configs/quickstart.ini' -o c.db --quiet --set workload.jobs=300", root);
    cr_assert_eq(stragsim(args), 0, "%s", err_text);
    cr_expect_eq(count_rows("c.db", "jobs"), 4 * 300);
    char *common = query("c.db", sequences);
    cr_expect_str_eq(common, "1\n", "one arrival sequence for the four schemes");
    free(common);
    snprintf(args, sizeof args,
             "run '%s/configs/quickstart.ini' -o i.db --quiet --set workload.jobs=300 "
             "--set experiment.common_streams=false",
             root);
    cr_assert_eq(stragsim(args), 0, "%s", err_text);
    char *independent = query("i.db", sequences);
    cr_expect_str_eq(independent, "4\n", "independent streams: four arrival sequences");
    free(independent);
    /* the stored point keys still tell the schemes apart */
    char *keys = query("c.db", "SELECT count(DISTINCT point_key) FROM runs");
    cr_expect_str_eq(keys, "4\n");
    free(keys);
}

/* ---- stopping ---- */

static int count_lines_starting(const char *text, const char *prefix)
{
    int n = 0;
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        n += strncmp(l, prefix, strlen(prefix)) == 0;
    return n;
}

Test(cli, sigint_finishes_the_point_in_flight)
{
    /* The run stops itself (SIGSTOP) as it begins its third point
     * (STRAGSIM_TEST_STOP_AT_POINT, test-only, app/test_hook.h), so the
     * SIGINT sent then lands while point 3 is in flight on any machine:
     * point 3 is finished and written, point 4 never starts. */
    tmp_write("long.ini", "[latency]\nkind = exp\n[cluster]\nworkers = 12\n"
                          "[workload]\nkind = latency\narrival = poisson\nrate = 2\njobs = 5000\n"
                          "[scheme]\nkind = kofn\nk = 10\n[sweep]\n"
                          "experiment.seed = 1,2,3,4,5,6,7,8,9,10,11,12\n");
    char errpath[512];
    snprintf(errpath, sizeof errpath, "%s/.err", tmpdir);
    const char *bin = binary(); /* asserts: only in this process, not the child */
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || chdir(tmpdir) || dup2(fd, 2) < 0 ||
            setenv("STRAGSIM_TEST_STOP_AT_POINT", "3", 1))
            _exit(99);
        execl(bin, bin, "run", "long.ini", "-o", "l.db", (char *)NULL);
        _exit(98);
    }
    /* returns when the run has stopped itself at point 3 (or has exited) */
    int status;
    cr_assert_eq(waitpid(pid, &status, WUNTRACED), pid);
    slurp(errpath, err_text, sizeof err_text);
    if (!WIFSTOPPED(status))
        kill(pid, SIGKILL);
    cr_assert(WIFSTOPPED(status), "the run did not reach point 3: %s", err_text);
    cr_expect_eq(count_rows("l.db", "runs"), 2, "points 1 and 2 are committed");
    kill(pid, SIGINT);
    kill(pid, SIGCONT);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    slurp(errpath, err_text, sizeof err_text);
    cr_assert(WIFEXITED(status), "%s", err_text);
    cr_expect_eq(WEXITSTATUS(status), 130, "%s", err_text);
    cr_expect_eq(count_lines_starting(err_text, "["), 3, "%s", err_text);
    cr_expect_not_null(strstr(err_text, "stragsim run: stopped by signal after writing 3 points; "
                                        "3 of 12 are in l.db; rerun with --resume to finish\n"),
                       "%s", err_text);
    cr_expect_eq(count_rows("l.db", "runs"), 3, "the point in flight is written");
    cr_expect_eq(stragsim("run long.ini -o l.db --resume --quiet"), 0, "%s", err_text);
    cr_expect_eq(count_rows("l.db", "runs"), 12);
}

Test(cli, nercc_grid_search_choice_lands_in_params)
{
    /* lambda_enc and lambda_dec unset: nercc grid-searches them, and the run
     * records its choice among the params (and as metrics), plus one metric
     * "param:KEY" per chosen param that marks it as chosen, not configured
     * (report --aggregate folds repeats that chose differently) */
    char ini[1024];
    const char *root = getenv("STRAGSIM_SOURCE_ROOT");
    snprintf(ini, sizeof ini,
             "[cluster]\nworkers = 10\n[latency]\nkind = exp\nrate = 1\n"
             "[workload]\nkind = inference\njobs = 20\nmodel = logreg\n"
             "weights = %s/models/weights\nqueries = 6\n"
             "[scheme]\nkind = nercc\nstragglers = 1\nlambda_grid = 0, 1e-4\nvalidation_jobs = 4\n",
             root ? root : "..");
    tmp_write("n.ini", ini);
    cr_assert_eq(stragsim("run n.ini -o n.db --quiet"), 0, "%s", err_text);
    char *chosen = query("n.db", "SELECT count(*) FROM params p JOIN metrics m ON m.run_id = p.run_id"
                                 " AND m.name = 'lambda_enc' WHERE p.key = 'scheme.lambda_enc'"
                                 " AND CAST(p.value AS REAL) = m.value");
    cr_expect_str_eq(chosen, "1\n");
    char *marks = query("n.db", "SELECT group_concat(name) FROM (SELECT name FROM metrics"
                                " WHERE name LIKE 'param:%' ORDER BY name)");
    cr_expect_str_eq(marks, "param:scheme.lambda_dec,param:scheme.lambda_enc\n");
    free(chosen);
    free(marks);
}

Test(cli, common_streams_give_schemes_the_same_stragglers)
{
    /* kofn with k = workers is uncoded under another name (n tasks of cost
     * 1/n, done at the n-th): with common random numbers (the default) the
     * two points see the same draws and agree to the last bit; without, they
     * differ. */
    const char *ini = "[cluster]\nworkers = 6\n[latency]\nkind = shifted_exp\nshift = 1\nrate = 2\n"
                      "[workload]\nkind = latency\njobs = 500\n"
                      "[scheme]\nk = 6\n[sweep]\nscheme.kind = uncoded, kofn\n";
    tmp_write("crn.ini", ini);
    cr_assert_eq(stragsim("run crn.ini -o same.db --quiet"), 0, "%s", err_text); /* the default */
    cr_assert_eq(stragsim("run crn.ini -o own.db --quiet --set experiment.common_streams=false"),
                 0, "%s", err_text);
    const char *sql = "SELECT count(DISTINCT value) FROM metrics WHERE name = 'latency_mean'";
    char *same = query("same.db", sql), *own = query("own.db", sql);
    cr_expect_str_eq(same, "1\n", "common streams: one latency_mean for both schemes");
    cr_expect_str_eq(own, "2\n", "own streams: two different latency_means");
    free(same);
    free(own);
}

/* ---- app/cli.c's option table, called directly ---- */

struct parsed {
    bool flag;
    const char *string, *once;
    struct cli_list list;
    int count;
};

/* Parses argv (NULL-terminated, argv[0] the command) with a table of every
 * kind; *first is the first operand. */
static int parse(struct parsed *p, char **argv, int *first)
{
    const struct cli_option options[] = {
        {.name = "flag", .letter = 'f', .kind = CLI_FLAG, .to = &p->flag},
        {.name = "string", .kind = CLI_STRING, .to = &p->string},
        {.name = "once", .letter = 'o', .kind = CLI_ONCE, .to = &p->once, .label = "-o/--once"},
        {.name = "list", .kind = CLI_LIST, .to = &p->list},
        {.name = "count", .kind = CLI_INT, .to = &p->count, .min = 1, .max = 9},
        {0},
    };
    const struct cli_command cmd = {.name = "demo", .options = options, .usage = ""};
    int argc = 0;
    while (argv[argc])
        argc++;
    return cli_parse(&cmd, argc, argv, first);
}

Test(cli_parse, every_kind_lands_where_its_entry_says)
{
    char *argv[] = {"demo", "--list", "a", "op1", "--string", "s1", "-fo", "x", "--string=s2",
                    "--list=b", "--cou", "7", "op2", NULL};
    struct parsed p = {0};
    int first;
    cr_assert_eq(parse(&p, argv, &first), -1);
    cr_expect(p.flag);
    cr_expect_str_eq(p.string, "s2"); /* a later value wins */
    cr_expect_str_eq(p.once, "x");
    cr_assert_eq(p.list.n, 2);
    cr_expect_str_eq(p.list.items[0], "a");
    cr_expect_str_eq(p.list.items[1], "b");
    cr_expect_eq(p.count, 7); /* an unambiguous prefix names the option */
    cr_assert_eq(first, 11);  /* getopt_long moves the operands last, in order */
    cr_expect_str_eq(argv[first], "op1");
    cr_expect_str_eq(argv[first + 1], "op2");
    cli_list_free(&p.list);
}

Test(cli_parse, the_first_usage_error_ends_the_parsing, .init = cr_redirect_stderr)
{
    char *twice[] = {"demo", "-o", "a", "--once", "b", "--bogus", NULL};
    char *range[] = {"demo", "--count", "10", NULL};
    char *missing[] = {"demo", "--count", NULL};
    char *unknown[] = {"demo", "--bogus", "--count", "0", NULL};
    struct parsed p = {0};
    int first;
    cr_expect_eq(parse(&p, twice, &first), 2);
    cr_expect_eq(parse(&p, range, &first), 2);
    cr_expect_eq(p.count, 0, "an out-of-range value is not stored");
    cr_expect_eq(parse(&p, missing, &first), 2);
    cr_expect_eq(parse(&p, unknown, &first), 2);
    fflush(stderr);
    cr_expect_stderr_eq_str("stragsim demo: -o/--once given twice ('a' and 'b')\n"
                            "stragsim demo: --count must be an integer from 1 to 9, got '10'\n"
                            "stragsim demo: --count needs a value\n"
                            "stragsim demo: unknown option '--bogus' (see stragsim demo --help)\n");
    cli_list_free(&p.list);
}

Test(cli_parse, help_stops_the_parsing_with_status_0, .init = cr_redirect_stdout)
{
    char *argv[] = {"demo", "-h", "--bogus", NULL};
    struct parsed p = {0};
    int first;
    cr_expect_eq(parse(&p, argv, &first), 0);
}
