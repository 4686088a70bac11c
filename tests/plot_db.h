/* plot_db.h: the results database of test_plot.c (analysis level) and
 * test_cmd_plot.c (the commands), written with results_write_run into the
 * test's temporary directory (cmd_capture.h). Header-only, for the test
 * programs. */
#ifndef STRAG_TEST_PLOT_DB_H
#define STRAG_TEST_PLOT_DB_H

#include <math.h>

#include "analysis/results.h"
#include "tests/cmd_capture.h"

/* results.db with 2 schemes x 3 worker counts x 2 repeats; latency_mean =
 * workers / 10 (+ 0.01 per repeat), latency_se = 0.005; per-job rows for
 * the repeat-0 runs only; one training run with iterations rows. */
static inline const char *make_db(void)
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

#endif
