/* training_setup.c: what both loops of the `training` workload build and
 * use (training_setup.h): the process-lifetime Fashion-MNIST data, the data
 * partitions, the scheme prepared for training, the model and optimiser,
 * the buffers; a partition's gradient, the test evaluation and the metrics
 * both loops report. The coded loop is training.c, the parameter server
 * ssp.c; neither knows the other's insides.
 */
#include "workloads/training_setup.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVAL_CHUNK 1000 /* test examples per forward pass */

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
    size_t holdout = (size_t)training_tuner_holdout(t); /* a tuner's validation images */
    if (holdout >= t->train->n)
        return error_at_key(err, p, "workload.tuner.validation",
                            "%zu held-out images leave none of the %zu to train on", holdout,
                            t->train->n);
    if (total > t->train->n - holdout)
        total = t->train->n - holdout;
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

/* ---- gradients, evaluation, metrics ---- */

void training_examples_next(struct training *t, int j, int count)
{
    partition_next(&t->parts[j], count, t->idx);
    fmnist_gather(t->train, t->idx, (size_t)count, t->x, t->y);
}

int training_gradient(struct training *t, int j, int count, float scale, float *out,
                      double *loss, struct error *err)
{
    struct model *m = t->model;
    training_examples_next(t, j, count);
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

/* ---- setup ---- */

/* The model; with workload.dropout (or a tuner that sets it) a dropout
 * layer before the classifier, its masks from their own stream. */
static int training_model_new(struct training *t, const struct params *p, struct error *err)
{
    const char *name = params_string(p, "workload.model");
    if (!params_has(p, "workload.dropout") && !t->tuner_cfg.tuned[TUNER_DROPOUT])
        return model_new(&t->model, name, err);
    return model_new_dropout(&t->model, name, (float)t->setting[TUNER_DROPOUT], err);
}

void training_free(struct training *t)
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
    training_tuner_free(t);
}

static int scheme_setup(struct training *t, const struct params *p, uint64_t seed,
                        uint64_t point_key, struct error *err)
{
    int status = scheme_for_workload(p, SCHEME_TRAINING, "training", &t->ops, err);
    if (status)
        return status;
    if (params_has(p, "workload.partitions") && params_int(p, "workload.partitions") != t->n)
        return error_at_key(err, p, "workload.partitions",
                            "must equal cluster.workers (%d): gradient codes use one partition "
                            "per worker", t->n);
    struct scheme_env env = {.params = p, .workers = t->n, .seed = seed, .point_key = point_key};
    status = t->ops->create(&env, &t->scheme, err);
    if (status)
        return status;
    t->tr.partition_bytes = (double)t->parts[0].size * FMNIST_PIXELS * sizeof(float);
    return t->ops->train_prepare(t->scheme, &t->tr, err);
}

/* Both set-ups: n data partitions (coded: one per worker, with the
 * scheme; else one, for the pipeline, whose scheme is not a training one). */
static int setup(struct training *t, const struct params *p, uint64_t seed, uint64_t point_key,
                 bool coded, struct error *err)
{
    t->n = coded ? (int)params_int(p, "cluster.workers") : 1;
    t->iterations = params_int(p, "workload.iterations");
    t->eval_every = params_int(p, "workload.eval_every");
    t->window = params_int(p, "workload.usage_window");
    t->target = params_real(p, "workload.target_accuracy");
    t->target_time = metric_undefined(); /* a metric: undefined until reached */
    t->target_row = -1;
    char dir[4096];
    if (!params_path(p, "workload.data_dir", dir, sizeof dir))
        return error_at_key(err, p, "workload.data_dir", "path too long");
    int status = training_tuner_config(t, p, err);
    if (!status)
        status = data_load(dir, err);
    t->train = &data.train;
    t->test = &data.test;
    if (!status)
        status = partitions_setup(t, p, seed, point_key, err);
    if (!status && coded)
        status = scheme_setup(t, p, seed, point_key, err);
    if (!status)
        status = training_model_new(t, p, err);
    if (status)
        return status;
    t->test_count = (int)t->test->n;
    if (params_has(p, "workload.test_limit"))
        t->test_count = (int)fmin(t->test_count, params_int(p, "workload.test_limit"));

    struct rng init;
    rng_seed(&init, seed, point_key, RNG_INIT, 0);
    model_init(t->model, &init);
    rng_seed(&t->model->dropout_rng, seed, point_key, RNG_DROPOUT, 0);
    /* the parameter server's batches follow predicted speeds: up to the whole
     * mini-batch (or partition) on one worker */
    t->batch = params_int(p, "workload.batch");
    long most = t->batch; /* a tuner may grow the batch up to its range */
    if (t->tuner_cfg.tuned[TUNER_BATCH] && t->tuner_cfg.max[TUNER_BATCH] > (double)most)
        most = (long)t->tuner_cfg.max[TUNER_BATCH];
    t->batch_cap = t->tr.ssp ? (int)(most < t->parts[0].size ? most : t->parts[0].size)
                             : (int)(most / t->n < t->parts[0].size ? most / t->n : t->parts[0].size);
    t->nrows_max = (size_t)t->iterations * (t->tr.ssp ? (size_t)t->n : 1);
    int reserve = t->batch_cap > EVAL_CHUNK ? t->batch_cap : EVAL_CHUNK;
    if ((status = model_reserve(t->model, reserve, err)))
        return status;
    struct optim_config oc = optim_config_default(OPTIM_SGD);
    oc.lr = (float)params_real(p, "workload.learning_rate");
    oc.momentum = (float)params_real(p, "workload.momentum");
    oc.weight_decay = (float)params_real(p, "workload.weight_decay");
    t->np = t->model->nparams;
    t->tuner_workers = coded ? t->n : (int)params_int(p, "cluster.workers");
    if ((status = optim_new(&t->optim, &oc, t->np, err)) ||
        (status = training_tuner_setup(t, seed, point_key, err)))
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

int training_setup(struct training *t, const struct params *p, uint64_t seed, uint64_t point_key,
                   struct error *err)
{
    return setup(t, p, seed, point_key, true, err);
}

int training_setup_single(struct training *t, const struct params *p, uint64_t seed,
                          uint64_t point_key, struct error *err)
{
    return setup(t, p, seed, point_key, false, err);
}
