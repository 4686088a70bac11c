/* test_arrivals.c: workloads/arrivals.c — Poisson gaps against 1/rate, the replay
 * file reader (header names, column numbers, every malformed case with its
 * exact message), and the arrival processes as the latency workload uses
 * them: replay times become job arrivals, a closed loop starts a job only
 * once the previous one is done and every worker is idle, and the
 * worker_seconds metric counts busy slot time. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmp_dir.h"
#include "workloads/arrivals.h"
#include "app/config.h"
#include "workloads/workload.h"

TestSuite(arrivals, .init = make_tmpdir, .fini = remove_tmpdir);

static struct params *replay_params(const char *file, const char *column)
{
    struct params *p = params_new();
    params_set(p, "workload.arrival", "replay", "t.ini", 3);
    params_set_dir(p, "workload.arrival_file", file, "t.ini", 4, tmpdir); /* t.ini's dir */
    if (column)
        params_set(p, "workload.arrival_column", column, "t.ini", 5);
    return p;
}

Test(arrivals, poisson_mean_gap)
{
    struct params *p = params_new();
    params_set(p, "workload.arrival", "poisson", NULL, 0);
    params_set(p, "workload.rate", "4", NULL, 0);
    struct arrivals *a;
    struct error err;
    cr_assert_eq(arrivals_new(p, 1, 2, &a, &err), 0, "%s", err.msg);
    cr_expect_eq(arrivals_kind(a), ARRIVAL_POISSON);
    const int n = 100000;
    double t = 0, prev = 0, sumsq = 0;
    for (int i = 0; i < n; i++) {
        cr_assert(arrivals_next(a, prev, &t));
        cr_assert_gt(t, prev);
        sumsq += (t - prev) * (t - prev);
        prev = t;
    }
    double mean = t / n, se = sqrt((sumsq / n - mean * mean) / n);
    cr_expect_lt(fabs(mean - 0.25), 4 * se, "mean gap %g, se %g", mean, se);
    arrivals_free(a);
    params_free(p);
}

Test(arrivals, poisson_needs_rate)
{
    struct params *p = params_new();
    params_set(p, "workload.arrival", "poisson", "t.ini", 7);
    struct arrivals *a;
    struct error err;
    cr_expect_eq(arrivals_new(p, 1, 2, &a, &err), STRAG_EINPUT);
    cr_expect_str_eq(err.msg, "t.ini:7: workload.arrival: poisson arrivals need workload.rate");
    params_free(p);
}

Test(arrivals, closed_has_no_times)
{
    struct params *p = params_new();
    params_set(p, "workload.arrival", "closed", NULL, 0);
    struct arrivals *a;
    struct error err;
    cr_assert_eq(arrivals_new(p, 1, 2, &a, &err), 0);
    double t;
    cr_expect_eq(arrivals_kind(a), ARRIVAL_CLOSED);
    cr_expect_not(arrivals_next(a, 0, &t));
    arrivals_free(a);
    params_free(p);
}

Test(arrivals, replay_by_header_name_and_number)
{
    tmp_write("times.csv", "job,time\n0, 0.5\n1,1.25\n\n2,1.25\n# a comment\n3,4\n");
    const char *columns[] = {"time", "2"};
    for (int c = 0; c < 2; c++) {
        struct params *p = replay_params("times.csv", columns[c]);
        struct arrivals *a;
        struct error err;
        cr_assert_eq(arrivals_new(p, 1, 2, &a, &err), 0, "%s", err.msg);
        cr_expect_eq(arrivals_count(a), 4);
        const double want[] = {0.5, 1.25, 1.25, 4};
        double t;
        for (int i = 0; i < 4; i++) {
            cr_assert(arrivals_next(a, 0, &t));
            cr_expect_eq(t, want[i]);
        }
        cr_expect_not(arrivals_next(a, 0, &t));
        arrivals_free(a);
        params_free(p);
    }
}

/* A spreadsheet export: a UTF-8 byte-order mark right before the header
 * name that is asked for, quoted header fields and cells, a quoted comma. */
Test(arrivals, replay_bom_and_quoted_fields)
{
    tmp_write("bom.csv", "\xEF\xBB\xBF\"time\",\"job, name\"\n\"0.5\",\"a, b\"\n1.25,\"c\"\"\"\n");
    const char *columns[] = {"time", "1", NULL};
    for (int c = 0; c < 3; c++) {
        struct params *p = replay_params("bom.csv", columns[c]);
        struct arrivals *a;
        struct error err;
        cr_assert_eq(arrivals_new(p, 1, 2, &a, &err), 0, "%s", err.msg);
        cr_expect_eq(arrivals_count(a), 2);
        double t;
        cr_assert(arrivals_next(a, 0, &t));
        cr_expect_eq(t, 0.5);
        cr_assert(arrivals_next(a, 0, &t));
        cr_expect_eq(t, 1.25);
        arrivals_free(a);
        params_free(p);
    }
    struct params *p = replay_params("bom.csv", "job, name");
    struct arrivals *a;
    struct error err;
    cr_expect_eq(arrivals_new(p, 1, 2, &a, &err), STRAG_EINPUT);
    char want[600];
    snprintf(want, sizeof want, "%s/bom.csv:2: expected an arrival time, got 'a, b'", tmpdir);
    cr_expect_str_eq(err.msg, want, "the quoted comma is inside the name");
    params_free(p);
}

Test(arrivals, replay_one_column_no_header)
{
    tmp_write("plain.txt", "0\n2.5\n3\n");
    struct params *p = replay_params("plain.txt", NULL);
    struct arrivals *a;
    struct error err;
    cr_assert_eq(arrivals_new(p, 1, 2, &a, &err), 0, "%s", err.msg);
    cr_expect_eq(arrivals_count(a), 3);
    arrivals_free(a);
    params_free(p);
}

/* Expects the replay file `text` to fail with "<tmpdir>/bad.csv<suffix>". */
static void replay_fails(const char *text, const char *column, const char *suffix)
{
    tmp_write("bad.csv", text);
    struct params *p = replay_params("bad.csv", column);
    struct arrivals *a = NULL;
    struct error err;
    cr_expect_eq(arrivals_new(p, 1, 2, &a, &err), STRAG_EINPUT, "%s", text);
    cr_expect_null(a);
    char want[600];
    snprintf(want, sizeof want, "%s/bad.csv%s", tmpdir, suffix);
    cr_expect_str_eq(err.msg, want);
    params_free(p);
}

Test(arrivals, replay_errors)
{
    replay_fails("time\n1\nsoon\n", NULL, ":3: expected an arrival time, got 'soon'");
    replay_fails("1\n3\n2\n", NULL, ":3: arrival time 2 is earlier than the one before it");
    replay_fails("-1\n", NULL, ":1: arrival time -1 is negative");
    replay_fails("job,when\n0,1\n", "time", ":1: no column 'time' in the header");
    replay_fails("0,1\n1\n", "2", ":2: no column 2");
    replay_fails("\n# nothing\n", NULL, ": no arrival times");
    replay_fails("1\ninf\n", NULL, ":2: expected an arrival time, got 'inf'");
    replay_fails("1\n1e999\n", NULL, ":2: arrival time '1e999' is out of range");
    replay_fails("time\n\"1\n", NULL, ":2: unterminated quoted field");
    replay_fails("\"time\"s,x\n1,2\n", NULL, ":1: text after the closing quote of a field");

    struct params *p = replay_params("absent.csv", NULL);
    struct arrivals *a;
    struct error err;
    cr_expect_eq(arrivals_new(p, 1, 2, &a, &err), STRAG_EINPUT);
    char want[600];
    snprintf(want, sizeof want, "%s/absent.csv: cannot read: No such file or directory", tmpdir);
    cr_expect_str_eq(err.msg, want);
    params_free(p);

    p = params_new();
    params_set(p, "workload.arrival", "replay", "t.ini", 9);
    cr_expect_eq(arrivals_new(p, 1, 2, &a, &err), STRAG_EINPUT);
    cr_expect_str_eq(err.msg,
                     "t.ini:9: workload.arrival: replay arrivals need workload.arrival_file");
    params_free(p);
}

/* ---- through the latency workload ---- */

/* Point 0 of the config `ini`, written to tmpdir/w.ini: its params and
 * point key (the caller frees both). */
static struct params *point_of(const char *ini, char **key)
{
    const char *path = tmp_write("w.ini", ini);
    struct config *c;
    struct error err;
    cr_assert_eq(config_load(path, NULL, 0, &c, &err), 0, "%s", err.msg);
    struct params *p;
    int repeat;
    cr_assert_eq(config_point(c, 0, &p, &repeat, key, &err), 0, "%s", err.msg);
    config_free(c);
    return p;
}

static struct workload_output run_ini(const char *ini)
{
    char *key;
    struct params *p = point_of(ini, &key);
    struct workload_output out;
    struct error err;
    cr_assert_eq(workload_latency_run(p, 1, config_key_hash(key), &out, &err), 0,
                 "%s", err.msg);
    params_free(p);
    free(key);
    return out;
}

Test(arrivals, replay_drives_the_workload)
{
    tmp_write("times.csv", "t\n0\n0.1\n0.2\n5\n5.5\n");
    struct workload_output out = run_ini("[latency]\nkind = exp\n[cluster]\nworkers = 3\n"
                                         "[workload]\nkind = latency\narrival = replay\n"
                                         "arrival_file = times.csv\njobs = 100\nwarmup = 1\n"
                                         "job_rows = true\n");
    /* the file has 5 times: 1 warm-up job and 4 counted ones */
    cr_expect_eq(metric_list_get(&out.metrics, "jobs"), 4);
    cr_assert_eq(out.njobs, 4);
    const double want[] = {0.1, 0.2, 5, 5.5};
    for (int i = 0; i < 4; i++) {
        cr_expect_eq(out.jobs[i].job, (uint64_t)i + 1);
        cr_expect_float_eq(out.jobs[i].arrival, want[i], 1e-12);
        cr_expect_gt(out.jobs[i].latency, 0);
        cr_expect_eq(out.jobs[i].tasks, 3, "uncoded: one task per worker");
    }
    workload_output_free(&out);
}

Test(arrivals, replay_shorter_than_warmup)
{
    tmp_write("few.csv", "0\n1\n");
    char *key;
    struct params *p = point_of("[latency]\nkind = exp\n[workload]\nkind = latency\n"
                                "arrival = replay\narrival_file = few.csv\nwarmup = 2\n",
                                &key);
    struct workload_output out;
    struct error err;
    cr_expect_eq(workload_latency_run(p, 1, config_key_hash(key), &out, &err),
                 STRAG_EINPUT);
    char want[600];
    snprintf(
        want, sizeof want,
        "%s:6: workload.arrival_file: has 2 arrival times, none left after workload.warmup (2)",
        tmp_path("w.ini"));
    cr_expect_str_eq(err.msg, want);
    params_free(p);
    free(key);
}

Test(arrivals, closed_loop_waits_for_idle_workers)
{
    /* kofn 2 of 4 without cancellation: a job is done at its 2nd result, but
     * the next starts only when the 2 slower tasks have finished too */
    struct workload_output out = run_ini("[latency]\nkind = exp\n[cluster]\nworkers = 4\n"
                                         "cancel = false\n[workload]\nkind = latency\n"
                                         "arrival = closed\njobs = 300\njob_rows = true\n"
                                         "[scheme]\nkind = kofn\nk = 2\n");
    cr_assert_eq(out.njobs, 300);
    int waited = 0;
    for (size_t i = 1; i < out.njobs; i++) {
        double prev_done = out.jobs[i - 1].arrival + out.jobs[i - 1].latency;
        cr_expect_geq(out.jobs[i].arrival, prev_done - 1e-12, "job %zu", i);
        waited += out.jobs[i].arrival > prev_done + 1e-12;
    }
    cr_expect_gt(waited, 250, "almost every job waits for the stragglers: %d", waited);
    workload_output_free(&out);

    /* with cancellation the next job starts the moment the previous is done */
    out = run_ini("[latency]\nkind = exp\n[cluster]\nworkers = 4\n[workload]\nkind = latency\n"
                  "arrival = closed\njobs = 300\njob_rows = true\n[scheme]\nkind = kofn\nk = 2\n");
    for (size_t i = 1; i < out.njobs; i++)
        cr_expect_float_eq(out.jobs[i].arrival, out.jobs[i - 1].arrival + out.jobs[i - 1].latency,
                           1e-9, "job %zu", i);
    workload_output_free(&out);
}

Test(arrivals, worker_seconds_is_busy_slot_time_per_job)
{
    /* uncoded on 8 workers, closed loop: every job runs 8 tasks of cost 1/8
     * with unit-mean exponential draws, none cancelled, so a job keeps the
     * slots busy for 1 time unit on average (variance 1/8 per job) */
    const int jobs = 20000;
    struct workload_output out = run_ini("[latency]\nkind = exp\n[cluster]\nworkers = 8\n"
                                         "[workload]\nkind = latency\njobs = 20000\n");
    double ws = metric_list_get(&out.metrics, "worker_seconds");
    double se = sqrt(1.0 / 8 / jobs);
    cr_expect_lt(fabs(ws - 1.0), 4 * se, "worker_seconds %g, se %g", ws, se);
    cr_expect_eq(metric_list_get(&out.metrics, "jobs"), jobs);
    cr_expect_geq(metric_list_get(&out.metrics, "events"), jobs * 9.0,
                  "at least one arrival and 8 completions per job");
    workload_output_free(&out);
}
