/* workload_training.c: the `training` workload: iterations of distributed
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
 * Also the setup both training loops share (data, partitions, model,
 * optimiser; training.h): with scheme.kind = ssp the run goes to the
 * parameter server of workload_ssp.c instead of the job loop.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemes/codes/gradcode.h"
#include "sim/cluster.h"
#include "app/config.h"
#include "sim/engine.h"
#include "workloads/training.h"

#define EVAL_CHUNK 1000 /* test examples per forward pass */

const struct config_key training_keys[] = {
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
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

/* The process-lifetime data: loading Fashion-MNIST costs more than a short
 * run, and every point of a sweep reads the same files. Read-only once
 * loaded; reloaded when a point names another directory. */
static struct {
    char dir[4096];
    struct fmnist train, test;
    bool loaded;
} data;

static int data_load(const char *dir, struct error *err)
{
    if (data.loaded && strcmp(data.dir, dir) == 0)
        return 0;
    fmnist_free(&data.train);
    fmnist_free(&data.test);
    data.loaded = false;
    int status = fmnist_load(dir, FMNIST_TRAIN, &data.train, err);
    if (!status)
        status = fmnist_load(dir, FMNIST_TEST, &data.test, err);
    if (status) {
        fmnist_free(&data.train);
        fmnist_free(&data.test);
        return status;
    }
    snprintf(data.dir, sizeof data.dir, "%s", dir);
    data.loaded = true;
    return 0;
}

/* ---- data ---- */

/* Stable counting sort of idx[0..count) by label. */
static int label_sort(const struct fmnist *d, int *idx, size_t count)
{
    int *sorted = malloc(count * sizeof *sorted);
    if (!sorted)
        return -1;
    size_t at = 0;
    for (int c = 0; c < FMNIST_CLASSES; c++)
        for (size_t i = 0; i < count; i++)
            if (d->labels[idx[i]] == c)
                sorted[at++] = idx[i];
    memcpy(idx, sorted, count * sizeof *idx);
    free(sorted);
    return 0;
}

static int partitions_setup(struct training *t, const struct params *p, uint64_t seed,
                            uint64_t point_key, struct error *err)
{
    size_t total = t->train->n;
    long limit = params_has(p, "workload.train_limit") ? params_int(p, "workload.train_limit") : 0;
    if (limit > 0 && (size_t)limit < total)
        total = (size_t)limit;
    int size = (int)(total / (size_t)t->n);
    if (size < 1)
        return error_at_key(err, p, "workload.train_limit",
                            "%zu training images cannot fill %d partitions", total, t->n);
    long batch = params_int(p, "workload.batch");
    if (batch < t->n)
        return error_at_key(err, p, "workload.batch",
                            "%ld is less than one example per partition (%d partitions)", batch,
                            t->n);
    t->batch_part = batch / t->n < size ? (int)(batch / t->n) : size; /* full batch at most */
    int *perm = malloc(t->train->n * sizeof *perm);
    t->parts = calloc((size_t)t->n, sizeof *t->parts);
    if (!perm || !t->parts) {
        free(perm);
        return error_fail(err, "out of memory");
    }
    fmnist_split(t->train->n, seed, perm); /* the same fixed subset for every scheme */
    if (strcmp(params_string(p, "workload.partitioning"), "by_label") == 0)
        if (label_sort(t->train, perm, total)) { /* non-iid: a class or two per partition */
            free(perm);
            return error_fail(err, "out of memory");
        }
    int status = 0;
    for (int j = 0; j < t->n && !status; j++) {
        struct partition *pt = &t->parts[j];
        pt->size = size;
        pt->examples = malloc((size_t)size * sizeof *pt->examples);
        if (!pt->examples) {
            status = error_fail(err, "out of memory");
            break;
        }
        memcpy(pt->examples, perm + (size_t)j * size, (size_t)size * sizeof *pt->examples);
        rng_seed(&pt->rng, seed, point_key, RNG_DATA, 1 + (uint32_t)j);
        rng_shuffle_int(&pt->rng, pt->examples, (size_t)size);
    }
    free(perm);
    return status;
}

/* The next `count` examples of a partition, reshuffling at the end of a pass. */
static void partition_next(struct partition *pt, int count, int *idx)
{
    for (int k = 0; k < count; k++) {
        if (pt->cursor == pt->size) {
            rng_shuffle_int(&pt->rng, pt->examples, (size_t)pt->size);
            pt->cursor = 0;
        }
        idx[k] = pt->examples[pt->cursor++];
    }
}

/* ---- shared with the parameter server (training.h) ---- */

int training_gradient(struct training *t, int j, int count, float scale, float *out,
                      double *loss, struct error *err)
{
    struct model *m = t->model;
    partition_next(&t->parts[j], count, t->idx);
    fmnist_gather(t->train, t->idx, (size_t)count, t->x, t->y);
    model_zero_grad(m);
    float l;
    int status = model_loss_and_grad(m, t->x, t->y, count, &l, NULL, err);
    if (status)
        return status;
    *loss = l;
    for (size_t q = 0; q < t->np; q++)
        out[q] = scale * m->grads[q];
    return 0;
}

int training_evaluate(struct training *t, long row, double now, double *accuracy,
                      struct error *err)
{
    int correct = 0;
    for (int at = 0; at < t->test_count; at += EVAL_CHUNK) {
        int count = t->test_count - at < EVAL_CHUNK ? t->test_count - at : EVAL_CHUNK;
        int c = 0;
        int status = model_evaluate(t->model, t->test->images + (size_t)at * FMNIST_PIXELS,
                                    t->test->labels + at, count, NULL, &c, err);
        if (status)
            return status;
        correct += c;
    }
    *accuracy = (double)correct / t->test_count;
    if (*accuracy >= t->target && isnan(t->target_time)) {
        t->target_time = now;
        t->target_row = row;
    }
    return 0;
}

int training_metrics_common(const struct training *t, struct metric_list *m)
{
    double last = 0.0, accuracy = NAN;
    long k = t->done < TRAINING_FINAL_LOSS_WINDOW ? t->done : TRAINING_FINAL_LOSS_WINDOW;
    for (long i = t->done - k; i < t->done; i++)
        last += t->rows[i].loss / (double)k;
    for (long i = t->done; i-- > 0 && isnan(accuracy);)
        accuracy = t->rows[i].accuracy;
    double rows = (double)t->done;
    int bad = metric_list_set(m, "final_loss", last) |
              metric_list_set(m, "final_accuracy", accuracy) |
              metric_list_set(m, "time_to_target", t->target_time) |
              metric_list_set(m, "iterations_to_target",
                              t->target_row >= 0 ? (double)t->target_row + 1 : metric_undefined()) |
              metric_list_set(m, "sim_time", t->rows[t->done - 1].sim_time) |
              metric_list_set(m, "grad_rel_err_max", t->rel_err_max) |
              metric_list_set(m, "grad_rel_err_mean", t->rel_err_sum / rows);
    return bad ? -1 : 0;
}

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
    return 0;
}

/* ---- job-loop hooks ---- */

static void hook_result(void *ctx, struct cluster *cl, const struct cluster_result *r)
{
    (void)cl;
    struct training *t = ctx;
    if (t->nreported < t->n)
        t->reported[t->nreported++] = r->worker;
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

/* ---- setup, metrics ---- */

static void training_free(struct training *t)
{
    if (t->scheme)
        t->ops->free(t->scheme);
    for (int j = 0; t->parts && j < t->n; j++)
        free(t->parts[j].examples);
    free(t->parts);
    model_free(t->model);
    optim_free(t->optim);
    free(t->x);
    free(t->y);
    free(t->idx);
    free(t->grads);
    free(t->message);
    free(t->decoded);
    free(t->full);
    free(t->reported);
    free(t->used);
    free(t->used_window);
    free(t->rows);
}

static int scheme_setup(struct training *t, const struct params *p, uint64_t seed,
                        uint64_t point_key, struct error *err)
{
    const char *kind = params_string(p, "scheme.kind");
    t->ops = scheme_find(kind);
    if (!t->ops)
        return error_at_key(err, p, "scheme.kind", "unknown scheme '%s'", kind ? kind : "");
    if (!(t->ops->workloads & SCHEME_TRAINING) || !t->ops->train_prepare)
        return error_at_key(err, p, "scheme.kind", "scheme '%s' does not run the training workload",
                            t->ops->name);
    if (params_has(p, "workload.partitions") && params_int(p, "workload.partitions") != t->n)
        return error_at_key(err, p, "workload.partitions",
                            "must equal cluster.workers (%d): gradient codes use one partition "
                            "per worker", t->n);
    struct scheme_env env = {.params = p, .workers = t->n, .seed = seed, .point_key = point_key};
    int status = t->ops->create(&env, &t->scheme, err);
    if (status)
        return status;
    t->tr.partition_bytes = (double)t->parts[0].size * FMNIST_PIXELS * sizeof(float);
    return t->ops->train_prepare(t->scheme, &t->tr, err);
}

static int training_setup(struct training *t, const struct params *p, const char *config_dir,
                          uint64_t seed, uint64_t point_key, struct error *err)
{
    t->n = (int)params_int(p, "cluster.workers");
    t->iterations = params_int(p, "workload.iterations");
    t->eval_every = params_int(p, "workload.eval_every");
    t->window = params_int(p, "workload.usage_window");
    t->target = params_real(p, "workload.target_accuracy");
    t->target_time = metric_undefined(); /* a metric: undefined until reached */
    t->target_row = -1;
    char dir[4096];
    if (!config_path_resolve(config_dir, params_string(p, "workload.data_dir"), dir, sizeof dir))
        return error_at_key(err, p, "workload.data_dir", "path too long");
    int status = data_load(dir, err);
    t->train = &data.train;
    t->test = &data.test;
    if (!status)
        status = partitions_setup(t, p, seed, point_key, err);
    if (!status)
        status = scheme_setup(t, p, seed, point_key, err);
    if (!status)
        status = model_new(&t->model, params_string(p, "workload.model"), err);
    if (status)
        return status;
    t->test_count = (int)t->test->n;
    if (params_has(p, "workload.test_limit"))
        t->test_count = (int)fmin(t->test_count, params_int(p, "workload.test_limit"));

    struct rng init;
    rng_seed(&init, seed, point_key, RNG_INIT, 0);
    model_init(t->model, &init);
    /* the parameter server's batches follow predicted speeds: up to the whole
     * mini-batch (or partition) on one worker */
    t->batch = params_int(p, "workload.batch");
    t->batch_cap = t->tr.ssp ? (int)(t->batch < t->parts[0].size ? t->batch : t->parts[0].size)
                             : t->batch_part;
    t->nrows_max = (size_t)t->iterations * (t->tr.ssp ? (size_t)t->n : 1);
    int reserve = t->batch_cap > EVAL_CHUNK ? t->batch_cap : EVAL_CHUNK;
    if ((status = model_reserve(t->model, reserve, err)))
        return status;
    struct optim_config oc = optim_config_default(OPTIM_SGD);
    oc.lr = (float)params_real(p, "workload.learning_rate");
    oc.momentum = (float)params_real(p, "workload.momentum");
    t->np = t->model->nparams;
    if ((status = optim_new(&t->optim, &oc, t->np, err)))
        return status;
    size_t n = (size_t)t->n;
    t->x = malloc((size_t)t->batch_cap * FMNIST_PIXELS * sizeof *t->x);
    t->y = malloc((size_t)t->batch_cap * sizeof *t->y);
    t->idx = malloc((size_t)t->batch_cap * sizeof *t->idx);
    t->grads = malloc((n > 2 ? n : 2) * t->np * sizeof *t->grads); /* ssp: stale, fresh */
    t->message = malloc(t->np * sizeof *t->message);
    t->decoded = malloc(t->np * sizeof *t->decoded);
    t->full = malloc(t->np * sizeof *t->full);
    t->reported = malloc(n * sizeof *t->reported);
    t->used = calloc(n, 1);
    t->used_window = calloc(n, 1);
    t->rows = calloc(t->nrows_max, sizeof *t->rows);
    if (!t->x || !t->y || !t->idx || !t->grads || !t->message || !t->decoded || !t->full ||
        !t->reported || !t->used || !t->used_window || !t->rows)
        return error_fail(err, "out of memory");
    return 0;
}

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

int workload_training_check(const struct params *p, const char *config_dir, uint64_t seed,
                            uint64_t point_key, struct error *err)
{
    struct training t = {0};
    int status = training_setup(&t, p, config_dir, seed, point_key, err);
    training_free(&t);
    return status;
}

int workload_training_run(const struct params *p, const char *config_dir, uint64_t seed,
                          uint64_t point_key, struct workload_output *out, struct error *err)
{
    memset(out, 0, sizeof *out);
    struct training t = {0};
    struct params *lp = NULL;
    int status = training_setup(&t, p, config_dir, seed, point_key, err);
    if (!status && t.tr.ssp) {
        status = training_ssp_run(&t, p, config_dir, seed, point_key, out, err);
        training_free(&t);
        return status;
    }
    if (!status && !(lp = loop_params(p)))
        status = error_fail(err, "out of memory");
    if (!status) {
        struct job_loop_hooks hooks = {
            .ctx = &t, .ops = t.ops, .scheme = t.scheme, .result = hook_result, .done = hook_done,
        };
        status = workload_job_loop_run(lp, config_dir, seed, point_key, &hooks, out, err);
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
    } else {
        workload_output_free(out);
    }
    params_free(lp);
    training_free(&t);
    return status;
}
