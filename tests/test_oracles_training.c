/* test_oracles_training.c: the training schemes against independent
 * references. Gradient codes (naive, ignore, frc, crc, approx-gc): the
 * scheme serves one iteration on an engine and cluster with fixed
 * per-worker durations (so who straggles is known), then its code decodes
 * what arrived exactly as the training workload does (gradcode_decode, then
 * sum_l a_l f_{F_l} with f_w = sum_j B_wj g_{column_data[j]}); the decoded
 * gradient is compared with the true sum of independently drawn partition
 * gradients (exact codes), with the hand-derived rescaled partial sum
 * (ignore), or with tests/oracles/gradcode_oracle.py's least-squares
 * decoder (approx-gc). ssp: the stale-synchronous server on 3 workers for 5
 * clocks under a replayed trace of fixed durations, every update's time and
 * staleness against a schedule worked out by hand (in the comment below).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "params_lines.h"
#include "oracle_run.h"
#include "schemes/codes/gradcode.h"
#include "schemes/scheme.h"
#include "app/config.h"
#include "sim/engine.h"
#include "base/rng.h"
#include "workloads/workload.h"

/* ---- gradient codes: one iteration served, then decoded ---- */

enum { N = 6, DIM = 5 };

struct iteration {
    const struct scheme_ops *ops;
    void *self;
    struct params *p;
    struct scheme_train tr;
    const double *unit;
    bool done;
    int reported[N], nf;
};

static double it_duration(void *ctx, int worker, uint64_t job, double cost)
{
    (void)job;
    const struct iteration *it = ctx;
    return cost * it->unit[worker];
}

static void it_result(void *ctx, struct cluster *cl, const struct cluster_result *r)
{
    struct iteration *it = ctx;
    if (it->done)
        return;
    it->reported[it->nf++] = r->worker;
    if (it->ops->on_result(it->self, cl, r)) {
        it->done = true;
        cluster_job_finish(cl, r->job);
    }
}

static int int_cmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Creates scheme kv (NULL-terminated "key=value") on N workers, prepares it
 * for training and serves iteration 0 with per-worker unit durations. */
static void iteration_run(struct iteration *it, const char *const *kv, const double *unit)
{
    *it = (struct iteration){.unit = unit};
    it->p = scheme_params(kv, &it->ops);
    struct error err = {{0}};
    struct scheme_env env = {.params = it->p, .workers = N, .seed = 3, .point_key = 5};
    cr_assert_eq(it->ops->create(&env, &it->self, &err), 0, "%s", err.msg);
    it->tr.partition_bytes = 1;
    cr_assert_eq(it->ops->train_prepare(it->self, &it->tr, &err), 0, "%s", err.msg);
    struct engine *e = engine_new();
    struct cluster_config cfg = {.workers = N, .slots = 1, .cancel = true,
                                 .job_state_bytes = it->ops->job_state_size(it->self)};
    struct cluster_hooks hooks = {.ctx = it, .duration = it_duration, .result = it_result};
    struct cluster *cl = cluster_new(e, &cfg, &hooks);
    it->ops->job_start(it->self, cl, cluster_job_open(cl, 0));
    engine_run(e);
    cr_assert(it->done);
    cluster_free(cl);
    engine_free(e);
    qsort(it->reported, (size_t)it->nf, sizeof *it->reported, int_cmp);
}

static void iteration_end(struct iteration *it)
{
    it->ops->free(it->self);
    params_free(it->p);
}

/* Partition gradients G (N x DIM), drawn independently of any code. */
static void partition_gradients(double *G)
{
    struct rng g;
    rng_seed(&g, 9, 0, RNG_DATA, 0);
    for (int i = 0; i < N * DIM; i++)
        G[i] = rng_uniform(&g) * 2 - 1;
}

/* The workload's decode: sum_l a_l f_{F_l}, f_w = sum_j B_wj g_{col[j]}. */
static void decoded_gradient(struct iteration *it, const double *G, double *out)
{
    const double *a;
    struct error err = {{0}};
    cr_assert_eq(gradcode_decode(it->tr.code, it->reported, it->nf, &a, &err), 0, "%s", err.msg);
    memset(out, 0, sizeof *out * DIM);
    for (int l = 0; l < it->nf; l++) {
        int w = it->reported[l];
        for (int j = 0; j < N; j++)
            for (int q = 0; q < DIM; q++)
                out[q] += a[l] * it->tr.code->B[w * N + j] * G[it->tr.column_data[j] * DIM + q];
    }
}

static void expect_vector(const double *got, const double *want, const char *what)
{
    for (int q = 0; q < DIM; q++)
        cr_assert(fabs(got[q] - want[q]) < 1e-9 * (1 + fabs(want[q])), "%s[%d]: %.17g vs %.17g",
                  what, q, got[q], want[q]);
}

/* An exact code with the given stragglers reported set size `nf`: decoded
 * equals the full gradient sum_p g_p. */
static void expect_exact(const char *const *kv, const double *unit, int nf)
{
    struct iteration it;
    iteration_run(&it, kv, unit);
    cr_assert_eq(it.nf, nf, "%s: %d results used, expected %d", it.ops->name, it.nf, nf);
    double G[N * DIM], full[DIM] = {0}, got[DIM];
    partition_gradients(G);
    for (int p = 0; p < N; p++)
        for (int q = 0; q < DIM; q++)
            full[q] += G[p * DIM + q];
    decoded_gradient(&it, G, got);
    expect_vector(got, full, it.ops->name);
    iteration_end(&it);
}

Test(oracles_training, naive_sums_every_worker)
{
    const char *kv[] = {"scheme.kind=naive", NULL};
    static const double unit[N] = {1, 2, 3, 4, 5, 60};
    expect_exact(kv, unit, N);
}

/* frc with s = 2: groups {0,1,2} and {3,4,5}; workers 0 and 1 (both group
 * 0) report before 4 covers group 1, so the job is done at three results,
 * one block twice: summing what arrived would count block 0 twice. */
Test(oracles_training, frc_decodes_the_full_gradient_once_every_group_reported)
{
    const char *kv[] = {"scheme.kind=frc", "scheme.stragglers=2", NULL};
    static const double unit[N] = {1, 2, 9, 9, 3, 9};
    expect_exact(kv, unit, 3);
}

/* crc with s = 2: any n - s = 4 results; workers 1 and 4 straggle. */
Test(oracles_training, crc_decodes_the_full_gradient_without_two_stragglers)
{
    const char *kv[] = {"scheme.kind=crc", "scheme.stragglers=2", NULL};
    static const double unit[N] = {1, 9, 2, 3, 8, 4};
    expect_exact(kv, unit, 4);
}

/* ignore with s = 2 (rescaled decoder): workers 2 and 5 straggle, so the
 * estimate is n / (n - s) = 3/2 times the sum of the partitions the four
 * others hold (B = I: worker w holds partition column_data[w]). */
Test(oracles_training, ignore_rescales_the_arrived_partitions)
{
    const char *kv[] = {"scheme.kind=ignore", "scheme.stragglers=2", NULL};
    static const double unit[N] = {1, 2, 9, 3, 4, 9};
    struct iteration it;
    iteration_run(&it, kv, unit);
    cr_assert_eq(it.nf, 4);
    int want_reported[4] = {0, 1, 3, 4};
    double G[N * DIM], want[DIM] = {0}, got[DIM];
    partition_gradients(G);
    for (int l = 0; l < 4; l++) {
        cr_assert_eq(it.reported[l], want_reported[l]);
        for (int q = 0; q < DIM; q++)
            want[q] += 1.5 * G[it.tr.column_data[want_reported[l]] * DIM + q];
    }
    decoded_gradient(&it, G, got);
    expect_vector(got, want, "ignore");
    iteration_end(&it);
}

/* approx-gc, degree 2, s = 2, optimal decoder: the decoding vector and the
 * decoded gradient against numpy's least squares on the same B and F. */
Test(oracles_training, approx_gc_optimal_decoder_is_least_squares)
{
    oracle_require();
    const char *kv[] = {"scheme.kind=approx-gc", "scheme.stragglers=2", "scheme.degree=2", NULL};
    static const double unit[N] = {1, 9, 2, 3, 4, 9};
    struct iteration it;
    iteration_run(&it, kv, unit);
    cr_assert_eq(it.nf, 4);
    double G[N * DIM], got[DIM];
    partition_gradients(G);
    decoded_gradient(&it, G, got);
    const double *a;
    struct error err = {{0}};
    cr_assert_eq(gradcode_decode(it.tr.code, it.reported, it.nf, &a, &err), 0, "%s", err.msg);
    struct oracle_case c;
    oracle_open(&c);
    oracle_doubles(&c, "B", it.tr.code->B, N, N);
    oracle_ints(&c, "col", it.tr.column_data, N);
    oracle_doubles(&c, "G", G, N, DIM);
    oracle_ints(&c, "returned", it.reported, it.nf);
    oracle_run(&c, "gradcode_oracle.py");
    double *want_a = oracle_get(&c, "a", 1, it.nf), *want = oracle_get(&c, "decoded", 1, DIM);
    for (int l = 0; l < it.nf; l++)
        cr_assert(fabs(a[l] - want_a[l]) < 1e-9, "a[%d]: %.17g vs %.17g", l, a[l], want_a[l]);
    expect_vector(got, want, "approx-gc");
    free(want_a);
    free(want);
    oracle_close(&c);
    iteration_end(&it);
}

/* ---- ssp: a schedule worked out by hand ---- */

/* 3 workers, 5 clocks, staleness bound s = 1; batch 3 (one example per
 * worker per clock, cost 1/3) and latency.scale 3, so a clock of worker p
 * takes exactly its trace value: 1 for worker 0, 2 for worker 1, 4 for
 * worker 2. Worker p starts clock c only when c - min_q clock_q <= 1
 * (clock = clocks finished); staleness = updates applied since its read.
 * Ties at one instant go in the order the tasks were started.
 *   t  push (worker, clock)  staleness  then
 *   1  w0 c0   0   w0 starts c1 (1 - 0 <= 1)
 *   2  w1 c0   1   w1 starts c1
 *   2  w0 c1   1   w0 waits (2 - 0 > 1)
 *   4  w2 c0   3   w2 starts c1, w0 starts c2 (min clock 1)
 *   4  w1 c1   2   w1 starts c2
 *   5  w0 c2   1   w0 waits (3 - 1)
 *   6  w1 c2   1   w1 waits (3 - 1)
 *   8  w2 c1   3   w2 starts c2; w0, w1 start c3 (min clock 2)
 *   9  w0 c3   0   w0 waits (4 - 2)
 *  10  w1 c3   1   w1 waits
 *  12  w2 c2   2   w2 starts c3; w0, w1 start c4 (min clock 3)
 *  13  w0 c4   0   w0 finished
 *  14  w1 c4   1   w1 finished
 *  16  w2 c3   2   w2 starts c4
 *  20  w2 c4   0
 * 15 updates, staleness max 3, mean 18/15, 5 clocks in 20: 4 per clock. */
/* ---- schemes through their workload, on a replayed trace ---- */

static char point_dir[64];

/* Writes trace.csv (value[w][t] for worker w at iteration t) and t.ini
 * (`ini`, which replays trace.csv) into a fresh directory and runs point 0
 * of it through the workload `run`; the output goes to out. */
static void point_run(const char *ini, const double *value, int workers, int iterations,
                      int (*run)(const struct params *, uint64_t, uint64_t,
                                 struct workload_output *, struct error *),
                      struct workload_output *out)
{
    snprintf(point_dir, sizeof point_dir, "/tmp/strag-oracle-run-XXXXXX");
    cr_assert_not_null(mkdtemp(point_dir));
    char path[128];
    snprintf(path, sizeof path, "%s/trace.csv", point_dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "worker,time,batch_time_norm\n");
    for (int w = 0; w < workers; w++)
        for (int t = 0; t < iterations; t++)
            fprintf(f, "%d,%d,%.17g\n", w, t, value[w * iterations + t]);
    fclose(f);
    snprintf(path, sizeof path, "%s/t.ini", point_dir);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(ini, f);
    fclose(f);
    struct error err = {{0}};
    struct config *cfg = NULL;
    struct params *p = NULL;
    char *key = NULL;
    int repeat;
    *out = (struct workload_output){0};
    int status = config_load(path, NULL, 0, &cfg, &err);
    if (!status)
        status = config_point(cfg, 0, &p, &repeat, &key, &err);
    if (!status)
        status = run(p, 1, config_key_hash(key), out, &err);
    params_free(p);
    free(key);
    config_free(cfg);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", point_dir);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(status, 0, "%s", err.msg);
}

/* The latency schemes on 4 workers, 2 jobs in closed loop with
 * cancellation (each job alone), a task of cost c on worker w in job t
 * taking c times value[w][t]:
 *            w0  w1  w2  w3
 *   job 0     1   2   3   8
 *   job 1     5   6   1   1
 * uncoded (4 tasks of 1/4, all):    job 0 8/4 = 2,   job 1 6/4 = 1.5
 * kofn k = 2 (4 tasks of 1/2, 2nd): job 0 2/2 = 1,   job 1 1/2 = 0.5
 * replication r = 2 (parts {w0,w1}, {w2,w3} of cost 1/2, each part's
 *   first):  job 0 max(1, 3)/2 = 1.5, job 1 max(5, 1)/2 = 2.5
 * hedged delay 1.5, round robin (cost 1): job 0 on w0 done at 1; job 1 on
 *   w1 (6), backup at 1.5 on w2 (1) done at 2.5. */
static const double latency_trace[4 * 2] = {1, 5, 2, 6, 3, 1, 8, 1};

static void expect_latency_mean(const char *scheme_lines, double mean)
{
    char ini[1024];
    snprintf(ini, sizeof ini,
             "[experiment]\nseed = 1\n[cluster]\nworkers = 4\ncancel = true\n"
             "[latency]\nkind = replay\nfile = trace.csv\n"
             "[workload]\nkind = latency\njobs = 2\nwarmup = 0\narrival = closed\n"
             "[scheme]\n%s",
             scheme_lines);
    struct workload_output out;
    point_run(ini, latency_trace, 4, 2, workload_latency_run, &out);
    cr_assert_float_eq(metric_list_get(&out.metrics, "jobs"), 2, 1e-12);
    cr_assert_float_eq(metric_list_get(&out.metrics, "latency_mean"), mean, 1e-12, "%s: %.17g",
                       scheme_lines, metric_list_get(&out.metrics, "latency_mean"));
    workload_output_free(&out);
}

Test(oracles_training, latency_schemes_follow_the_hand_computed_jobs)
{
    expect_latency_mean("kind = uncoded\n", (2 + 1.5) / 2);
    expect_latency_mean("kind = kofn\nk = 2\n", (1 + 0.5) / 2);
    expect_latency_mean("kind = replication\nr = 2\n", (1.5 + 2.5) / 2);
    expect_latency_mean("kind = hedged\ndelay = 1.5\nplacement = round_robin\n", (1 + 2.5) / 2);
}

Test(oracles_training, ssp_follows_the_hand_schedule)
{
    struct stat st;
    if (stat("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", &st) != 0)
        cr_skip_test("Fashion-MNIST is not installed (dataset-fashion-mnist)");
    static const double value[3 * 5] = {1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4};
    struct workload_output out;
    point_run("[experiment]\nseed = 1\n[cluster]\nworkers = 3\n"
              "[latency]\nkind = replay\nfile = trace.csv\nscale = 3\n"
              "[workload]\nkind = training\nmodel = logreg\niterations = 5\nbatch = 3\n"
              "train_limit = 300\ntest_limit = 50\neval_every = 1000\n"
              "[scheme]\nkind = ssp\nstaleness = 1\n",
              value, 3, 5, workload_training_run, &out);
    static const double when[15] = {1, 2, 2, 4, 4, 5, 6, 8, 9, 10, 12, 13, 14, 16, 20};
    static const double stale[15] = {0, 1, 1, 3, 2, 1, 1, 3, 0, 1, 2, 0, 1, 2, 0};
    cr_assert_eq(out.niterations, 15);
    for (int i = 0; i < 15; i++) {
        cr_assert_float_eq(out.iterations[i].sim_time, when[i], 1e-9, "update %d at %g", i,
                           out.iterations[i].sim_time);
        cr_assert_eq(out.iterations[i].staleness, stale[i], "update %d staleness %g", i,
                     out.iterations[i].staleness);
    }
    cr_assert_float_eq(metric_list_get(&out.metrics, "staleness_max"), 3, 1e-12);
    cr_assert_float_eq(metric_list_get(&out.metrics, "staleness_mean"), 18.0 / 15, 1e-12);
    cr_assert_float_eq(metric_list_get(&out.metrics, "iteration_time_mean"), 4, 1e-12);
    workload_output_free(&out);
}
