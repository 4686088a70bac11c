/* training.c: the `training` workload: iterations of distributed
 * mini-batch (or full-batch) gradient descent on Fashion-MNIST through a
 * gradient-coding scheme (naive, ignore, frc, crc, approx-gc).
 *
 * The time is the latency workload's job loop (workload_job_loop_run): one
 * iteration is one job of a closed loop, the scheme puts one task on every
 * worker and says when the master can decode, the latency source says how
 * long each task takes. The computation is real: the training set is cut
 * into n data partitions; at every iteration each partition's gradient on
 * its share of the mini-batch is computed by the model's forward and
 * backward pass at the current parameters, worker w's message is
 * f_w = sum_j B_wj g_{column_data[j]} (float, as a worker would send it),
 * and the master decodes sum_{w in F} a_w f_w (double) from the workers F
 * whose results arrived, then takes an optimiser step. Since a worker's
 * message does not depend on who straggles, each partition's gradient is
 * computed once per iteration.
 *
 * Off the clock, per iteration: the full mini-batch gradient g = sum_j g_j
 * (the reference for grad_rel_err), the mini-batch loss, and every
 * workload.eval_every iterations the test accuracy. One iteration_row per
 * iteration. It does not model master compute time or message sizes.
 *
 * The set-up both training loops share (data, partitions, model, optimiser)
 * is training_setup.c; with scheme.kind = ssp the run goes to the
 * parameter server of ssp.c instead of the job loop.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemes/codes/gradcode.h"
#include "sim/cluster.h"
#include "sim/engine.h"
#include "workloads/ssp.h"
#include "workloads/training_setup.h"
#include "workloads/tuner.h"

/* The workload.* keys only the training workload reads. */
static const struct config_key training_keys[] = {
    {"workload.eval_every", KEY_INT, "10", 1, 1e9, 0, NULL,
     "training: test accuracy every this many iterations (and at the last)"},
    {"workload.target_accuracy", KEY_REAL, "0.8", 0, 1, 0, NULL,
     "training: test accuracy whose first reaching gives time_to_target"},
    {"workload.momentum", KEY_REAL, "0", 0, 1, KEY_MAX_OPEN, NULL, "training: SGD momentum"},
    {"workload.train_limit", KEY_INT, NULL, 1, 60000, 0, NULL,
     "training: use this many training images (a fixed random subset; default all)"},
    {"workload.test_limit", KEY_INT, NULL, 1, 10000, 0, NULL,
     "training: evaluate on the first this many test images (default all)"},
    {"workload.partitioning", KEY_ENUM, "iid", 0, 0, 0, "iid|by_label",
     "training: partitions of a random split (iid) or of the images sorted by class"},
    {"workload.usage_window", KEY_INT, "10", 1, 1e9, 0, NULL,
     "training: window (iterations) for the fraction of partitions never used"},
    {"workload.weight_decay", KEY_REAL, "0", 0, INFINITY, 0, NULL,
     "training: L2 weight decay of the SGD step (g + wd * params)"},
    {"workload.dropout", KEY_REAL, NULL, 0, 1, KEY_MAX_OPEN, NULL,
     "training: inverted dropout rate before the classifier (default: no dropout layer)"},
    TUNER_CONFIG_KEYS,
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

/* ---- the computation of one coded iteration ---- */

/* g_j for every data partition at the current parameters, scaled by 1/n so
 * that sum_j g_j is the gradient of the mean loss over the mini-batch.
 * Returns the mini-batch's mean loss through *loss. */
static int gradients_compute(struct training *t, double *loss, struct error *err)
{
    double sum = 0.0;
    for (int j = 0; j < t->n; j++) {
        double l;
        int status = training_gradient(t, j, t->batch_part, 1.0f / (float)t->n,
                                       t->grads + (size_t)j * t->np, &l, err);
        if (status)
            return status;
        sum += l;
    }
    *loss = sum / t->n;
    return 0;
}

/* decoded = sum_l a_l f_{F_l}, f_w built from the partition gradients. */
static void decode_apply(struct training *t, const double *a)
{
    const struct gradcode *g = t->tr.code;
    memset(t->decoded, 0, t->np * sizeof *t->decoded);
    for (int l = 0; l < t->nreported; l++) {
        int w = t->reported[l];
        memset(t->message, 0, t->np * sizeof *t->message);
        for (int k = 0; k < g->load; k++) {
            int col = g->support[w * g->load + k];
            float b = (float)g->B[(size_t)w * g->n + col];
            const float *gj = t->grads + (size_t)t->tr.column_data[col] * t->np;
            for (size_t q = 0; q < t->np; q++)
                t->message[q] += b * gj[q];
        }
        for (size_t q = 0; q < t->np; q++)
            t->decoded[q] += a[l] * t->message[q];
    }
}

/* ||decoded - full|| / ||full||, filling full = sum_j g_j. */
static double relative_error(struct training *t)
{
    memset(t->full, 0, t->np * sizeof *t->full);
    for (int j = 0; j < t->n; j++) {
        const float *gj = t->grads + (size_t)j * t->np;
        for (size_t q = 0; q < t->np; q++)
            t->full[q] += gj[q];
    }
    double num = 0.0, den = 0.0;
    for (size_t q = 0; q < t->np; q++) {
        double d = t->decoded[q] - t->full[q];
        num += d * d;
        den += t->full[q] * t->full[q];
    }
    return den > 0 ? sqrt(num / den) : 0.0;
}

/* Which data partitions a reported worker held; the window's union. */
static void usage_track(struct training *t, long iteration)
{
    const struct gradcode *g = t->tr.code;
    memset(t->used, 0, (size_t)t->n);
    for (int l = 0; l < t->nreported; l++)
        for (int k = 0; k < g->load; k++)
            t->used[t->tr.column_data[g->support[t->reported[l] * g->load + k]]] = 1;
    int used = 0, never = 0;
    for (int j = 0; j < t->n; j++) {
        used += t->used[j];
        t->used_window[j] |= t->used[j];
    }
    t->used_sum += (double)used / t->n;
    if ((iteration + 1) % t->window == 0) {
        for (int j = 0; j < t->n; j++)
            never += !t->used_window[j];
        t->never_sum += (double)never / t->n;
        t->windows++;
        memset(t->used_window, 0, (size_t)t->n);
    }
}

static int int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* One finished iteration: decode, measure, update, record. */
static int iteration_finish(struct training *t, uint64_t index, double now, struct error *err)
{
    double loss;
    int status = gradients_compute(t, &loss, err);
    if (status)
        return status;
    qsort(t->reported, (size_t)t->nreported, sizeof *t->reported, int_cmp);
    const double *a;
    status = gradcode_decode(t->tr.code, t->reported, t->nreported, &a, err);
    if (status)
        return status;
    double residual = gradcode_residual(t->tr.code, t->reported, t->nreported, a);
    decode_apply(t, a);
    double rel = relative_error(t);
    for (size_t q = 0; q < t->np; q++)
        t->model->grads[q] = (float)t->decoded[q];
    optim_step(t->optim, t->model->params, t->model->grads);

    double accuracy = NAN;
    if ((long)(index + 1) % t->eval_every == 0 || (long)index + 1 == t->iterations) {
        status = training_evaluate(t, (long)index, now, &accuracy, err);
        if (status)
            return status;
    }
    usage_track(t, (long)index);
    t->residual_sum += residual;
    t->rel_err_sum += rel;
    if (rel > t->rel_err_max)
        t->rel_err_max = rel;
    t->rows[index] = (struct iteration_row){
        .iteration = (long)index, .sim_time = now, .loss = loss, .accuracy = accuracy,
        .waited = t->nreported, .residual = residual, .grad_rel_err = rel, .staleness = 0.0,
    };
    t->done++;
    return training_tuner_window(t, t->tuner_cfg.window, t->iterations, now, err);
}

/* ---- job-loop hooks ---- */

static void hook_result(void *ctx, struct cluster *cl, const struct cluster_result *r)
{
    (void)cl;
    struct training *t = ctx;
    if (t->nreported < t->n)
        t->reported[t->nreported++] = r->worker;
    training_tuner_observe(t, r->worker, (r->finished - r->started) / (r->cost * t->cost_scale));
}

static void hook_done(void *ctx, struct cluster *cl, uint32_t job, uint64_t index, double latency)
{
    (void)job;
    (void)latency;
    struct training *t = ctx;
    if (!t->status && index < (uint64_t)t->iterations)
        t->status = iteration_finish(t, index, engine_now(cluster_engine(cl)), &t->err);
    if (t->status)
        engine_stop(cluster_engine(cl));
    t->nreported = 0;
}

/* ---- the workload ---- */

/* The job loop's params: one closed-loop job per iteration, no warmup. */
static struct params *loop_params(const struct params *p)
{
    struct params *q = params_copy(p);
    const char *file;
    int line;
    params_where(p, "workload.iterations", &file, &line);
    char jobs[32];
    snprintf(jobs, sizeof jobs, "%ld", params_int(p, "workload.iterations"));
    if (q && (params_set(q, "workload.jobs", jobs, file, line) ||
              params_set(q, "workload.warmup", "0", file, line) ||
              params_set(q, "workload.arrival", "closed", file, line))) {
        params_free(q);
        return NULL;
    }
    return q;
}

static int coded_metrics(const struct training *t, struct metric_list *m)
{
    double iters = (double)t->done;
    int bad = training_metrics_common(t, m) | metric_list_set(m, "iterations", iters) |
              metric_list_set(m, "iteration_time_mean", metric_list_get(m, "latency_mean")) |
              metric_list_set(m, "iteration_time_se", metric_list_get(m, "latency_se")) |
              metric_list_set(m, "residual_mean", t->residual_sum / iters) |
              metric_list_set(m, "partitions_used_mean", t->used_sum / iters) |
              metric_list_set(m, "partitions_never_used",
                              t->windows ? t->never_sum / (double)t->windows : metric_undefined());
    return bad ? -1 : 0;
}

static int training_check(const struct params *p, uint64_t seed, uint64_t point_key,
                          struct error *err)
{
    struct training t = {0};
    int status = training_setup(&t, p, seed, point_key, err);
    training_free(&t);
    return status;
}

int workload_training_run(const struct params *p, uint64_t seed, uint64_t point_key,
                          struct workload_output *out, struct error *err)
{
    memset(out, 0, sizeof *out);
    struct training t = {0};
    struct params *lp = NULL;
    int status = training_setup(&t, p, seed, point_key, err);
    if (!status && t.tr.ssp) {
        status = training_ssp_run(&t, p, seed, point_key, out, err);
        training_free(&t);
        return status;
    }
    if (!status && !(lp = loop_params(p)))
        status = error_fail(err, "out of memory");
    if (!status) {
        struct job_loop_hooks hooks = {
            .ctx = &t, .ops = t.ops, .scheme = t.scheme, .result = hook_result, .done = hook_done,
            .cost_scale = t.tuner ? &t.cost_scale : NULL,
        };
        status = workload_job_loop_run(lp, seed, point_key, &hooks, out, err);
        if (t.status) { /* the hook's error explains the loop's */
            *err = t.err;
            status = t.status;
        }
    }
    if (!status && t.done != t.iterations)
        status = error_fail(err, "training ended after %ld of %ld iterations", t.done,
                            t.iterations);
    if (!status && coded_metrics(&t, &out->metrics))
        status = error_fail(err, "out of memory");
    if (!status) {
        out->iterations = t.rows;
        out->niterations = (size_t)t.done;
        t.rows = NULL;
        if (t.tuner)
            out->tuner = tuner_take_rows(t.tuner, &out->ntuner);
    } else {
        workload_output_free(out);
    }
    params_free(lp);
    training_free(&t);
    return status;
}

const struct workload_ops workload_training = {
    .name = "training",
    .summary = "distributed gradient descent",
    .scheme_bit = SCHEME_TRAINING,
    .keys = training_keys,
    .keys_shared = SCHEME_PIPELINE, /* data, evaluation and optimiser keys */
    .run = workload_training_run,
    .check = training_check,
};
