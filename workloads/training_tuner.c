/* training_tuner.c: the tuner inside the training loops (training_setup.h).
 *
 * What the tuner sees of a window, and only that: the training loss and
 * staleness of the window's rows, the simulated time it took, the straggler
 * share of the per-worker task times per unit cost, and the accuracy on
 * workload.tuner.validation training images held out of the training
 * subset (the last ones of the fixed split, so with workload.train_limit
 * low enough the partitions are those of the untuned run). The test set is
 * never passed to it. Measuring is off the clock.
 */
#include "workloads/training_setup.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define VAL_CHUNK 1000 /* validation images per forward pass */

int training_tuner_config(struct training *t, const struct params *p, struct error *err)
{
    t->cost_scale = 1.0;
    int status = tuner_config_read(p, strcmp(params_string(p, "scheme.kind"), "ssp") == 0,
                                   &t->tuner_cfg, t->setting, err);
    if (!status && t->tuner_cfg.kind != TUNER_NONE)
        t->val_count = (int)params_int(p, "workload.tuner.validation");
    return status;
}

int training_tuner_holdout(const struct training *t)
{
    return t->tuner_cfg.kind == TUNER_NONE ? 0 : t->val_count;
}

static int double_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int training_tuner_setup(struct training *t, uint64_t seed, uint64_t point_key, struct error *err)
{
    t->batch_part0 = t->batch_part;
    if (t->tuner_cfg.kind == TUNER_NONE)
        return 0;
    size_t N = t->train->n, V = (size_t)t->val_count;
    int *perm = malloc(N * sizeof *perm);
    t->val_x = malloc(V * FMNIST_PIXELS * sizeof *t->val_x);
    t->val_y = malloc(V * sizeof *t->val_y);
    t->worker_time = calloc((size_t)t->tuner_workers, sizeof *t->worker_time);
    t->worker_tasks = calloc((size_t)t->tuner_workers, sizeof *t->worker_tasks);
    if (!perm || !t->val_x || !t->val_y || !t->worker_time || !t->worker_tasks) {
        free(perm);
        return error_fail(err, "out of memory");
    }
    fmnist_split(N, seed, perm); /* the partitions' split: its tail is never trained on */
    fmnist_gather(t->train, perm + (N - V), V, t->val_x, t->val_y);
    free(perm);
    return tuner_new(&t->tuner, &t->tuner_cfg, t->setting, seed, point_key, err);
}

void training_tuner_observe(struct training *t, int worker, double time_per_cost)
{
    if (!t->tuner)
        return;
    t->worker_time[worker] += time_per_cost;
    t->worker_tasks[worker]++;
}

static int validation_accuracy(struct training *t, double *accuracy, struct error *err)
{
    int correct = 0;
    for (int at = 0; at < t->val_count; at += VAL_CHUNK) {
        int count = t->val_count - at < VAL_CHUNK ? t->val_count - at : VAL_CHUNK, c = 0;
        int status = model_evaluate(t->model, t->val_x + (size_t)at * FMNIST_PIXELS, t->val_y + at,
                                    count, NULL, &c, err);
        if (status)
            return status;
        correct += c;
    }
    *accuracy = (double)correct / t->val_count;
    return 0;
}

/* (max - median) / max of the per-worker mean task time per unit cost:
 * the share of a synchronous iteration the slowest adds (0: none seen). */
static double straggler_share(struct training *t)
{
    double means[t->tuner_workers];
    int k = 0;
    for (int w = 0; w < t->tuner_workers; w++)
        if (t->worker_tasks[w] > 0)
            means[k++] = t->worker_time[w] / (double)t->worker_tasks[w];
    if (k == 0)
        return 0.0;
    qsort(means, (size_t)k, sizeof *means, double_cmp);
    double mx = means[k - 1], median = means[k / 2];
    return mx > 0 ? (mx - median) / mx : 0.0;
}

/* The setting into the optimiser, model and coded batch. */
static void setting_apply(struct training *t)
{
    const double *s = t->setting;
    optim_set_lr(t->optim, (float)s[TUNER_LR]);
    optim_set_weight_decay(t->optim, (float)s[TUNER_WEIGHT_DECAY]);
    model_set_dropout(t->model, (float)s[TUNER_DROPOUT]);
    if (!t->tr.ssp && t->tuner_cfg.tuned[TUNER_BATCH]) {
        long part = lround(s[TUNER_BATCH]) / t->n;
        t->batch_part = part < 1 ? 1 : part > t->batch_cap ? t->batch_cap : (int)part;
        t->cost_scale = (double)t->batch_part / (double)t->batch_part0;
    }
}

int training_tuner_window(struct training *t, long rows_per_window, long rows_total, double now,
                          struct error *err)
{
    if (!t->tuner || t->done - t->window_row < rows_per_window || t->done >= rows_total)
        return 0;
    struct tuner_window w = {.iteration = t->done - 1, .sim_time = now, .time = now - t->window_time};
    for (long i = t->window_row; i < t->done; i++) {
        w.loss += t->rows[i].loss;
        w.staleness += t->rows[i].staleness;
    }
    long rows = t->done - t->window_row;
    w.loss /= (double)rows;
    w.staleness /= (double)rows;
    w.straggler_share = straggler_share(t);
    double means[t->tuner_workers]; /* the per-worker series (lstm_input = per_worker) */
    for (int i = 0; i < t->tuner_workers; i++)
        means[i] = t->worker_tasks[i] > 0 ? t->worker_time[i] / (double)t->worker_tasks[i] : NAN;
    w.workers = t->tuner_workers;
    w.worker_time = means;
    int status = validation_accuracy(t, &w.val_accuracy, err);
    if (!status)
        status = tuner_decide(t->tuner, &w, t->setting, err);
    if (status)
        return status;
    setting_apply(t);
    memset(t->worker_time, 0, (size_t)t->tuner_workers * sizeof *t->worker_time);
    memset(t->worker_tasks, 0, (size_t)t->tuner_workers * sizeof *t->worker_tasks);
    t->window_row = t->done;
    t->window_time = now;
    return 0;
}

void training_tuner_free(struct training *t)
{
    tuner_free(t->tuner);
    free(t->val_x);
    free(t->val_y);
    free(t->worker_time);
    free(t->worker_tasks);
}
