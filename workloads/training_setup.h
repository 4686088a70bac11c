/* training_setup.h: what the two loops of the `training` workload share
 * (private to workloads/): the data partitions, the scheme, the model, the
 * optimiser and the record of a run. training.c runs the gradient codes on
 * it (one job per iteration), ssp.c the parameter server, pipeline.c the
 * model-parallel stages (one partition, no training scheme).
 */
#ifndef STRAG_TRAINING_SETUP_H
#define STRAG_TRAINING_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/fmnist.h"
#include "models/model.h"
#include "models/optim.h"
#include "schemes/scheme.h"
#include "base/error.h"
#include "base/metrics.h"
#include "base/params.h"
#include "base/rng.h"
#include "workloads/tuner.h"
#include "workloads/workload.h"

#define TRAINING_FINAL_LOSS_WINDOW 10 /* final_loss: mean loss of the last rows */

/* One data partition: its examples and a cursor through them. */
struct partition {
    int *examples; /* (size) training-set indices, reshuffled at every pass */
    int size, cursor;
    struct rng rng; /* RNG_DATA, index 1 + partition */
};

struct training {
    const struct scheme_ops *ops;
    void *scheme;
    struct scheme_train tr;
    int n;                 /* workers = partitions */
    long iterations, eval_every, window;
    double target;
    const struct fmnist *train, *test; /* the process-lifetime data */
    int test_count;
    struct partition *parts; /* (n) */
    int batch_part;          /* examples per partition per iteration */
    int batch_cap;           /* most examples one gradient call takes (x, y, idx) */
    long batch;              /* workload.batch */
    struct model *model;
    struct optim *optim;
    size_t np;               /* model parameters */
    float *x;                /* (batch_cap, 784) */
    int *y, *idx;            /* (batch_cap) labels, training-set indices */
    float *grads;            /* (n, np): partition gradients g_j, data partition order */
    float *message;          /* (np): one worker's f_w */
    double *decoded, *full;  /* (np) */
    int *reported;           /* (n) workers whose results arrived, this iteration */
    int nreported;
    unsigned char *used, *used_window; /* (n) per data partition */
    struct iteration_row *rows; /* (nrows_max) */
    size_t nrows_max;
    double residual_sum, used_sum, never_sum, rel_err_max, rel_err_sum, target_time;
    long target_row;         /* first row at the target accuracy, or -1 */
    long windows, done;
    int status;            /* first error inside a hook */
    struct error err;
    /* the hyperparameters now (workload keys at the start; the tuner's
     * decisions later) and the tuner's state: training_tuner.c */
    double setting[TUNER_KNOBS];
    struct tuner_config tuner_cfg;
    struct tuner *tuner;     /* NULL: no tuner */
    int batch_part0;         /* batch_part at workload.batch */
    double cost_scale;       /* coded task cost factor of the tuned batch (1 untuned) */
    float *val_x;            /* (val_count, 784) held-out training images */
    int *val_y, val_count;
    int tuner_workers;       /* entries of the two below: the workers (pipeline: the stages) */
    double *worker_time;     /* (tuner_workers) this window's task time per unit cost, summed */
    long *worker_tasks;      /* (tuner_workers) and counted */
    long window_row;         /* first row of this window */
    double window_time;      /* sim time at its start */
};

/* Partition j's gradient on its next `count` examples at the current
 * parameters, times `scale`, into out (np); the mean loss into *loss.
 * Leaves the examples in t->x, t->y. */
int training_gradient(struct training *t, int j, int count, float scale, float *out,
                      double *loss, struct error *err);

/* Partition j's next `count` examples into t->x, t->y (training-set
 * indices in t->idx). */
void training_examples_next(struct training *t, int j, int count);

/* Test accuracy of the current parameters; tracks time_to_target and
 * iterations_to_target at (`now`, row `row`). */
int training_evaluate(struct training *t, long row, double now, double *accuracy,
                      struct error *err);

/* final_loss, final_accuracy, time_to_target, iterations_to_target,
 * sim_time, grad_rel_err_max and _mean over the t->done rows. */
int training_metrics_common(const struct training *t, struct metric_list *m);

/* Builds everything of t for point p: data, partitions, the scheme
 * (checked to serve training, prepared), model, optimiser, buffers. On
 * failure what was built is still in t: training_free() it either way. */
int training_setup(struct training *t, const struct params *p, uint64_t seed, uint64_t point_key,
                   struct error *err);
/* The same for one data partition (the whole training subset, mini-batches
 * of workload.batch) and no scheme: the pipeline workload, which cuts each
 * mini-batch into micro-batches itself. */
int training_setup_single(struct training *t, const struct params *p, uint64_t seed,
                          uint64_t point_key, struct error *err);
void training_free(struct training *t);

/* ---- the tuner inside the loops (training_tuner.c): its keys and held-out
 * validation images at set-up, the per-worker task times it sees, and a
 * decision at every window's end applied to the model and optimiser. The
 * decision rules are tuner.c. ---- */

/* Reads the tuner keys and the starting setting (before the partitions:
 * a tuner holds validation images out of the training subset). */
int training_tuner_config(struct training *t, const struct params *p, struct error *err);

/* Images held out of training for a tuner's validation (0 without one). */
int training_tuner_holdout(const struct training *t);

/* Builds the tuner and gathers its validation images (after the model and
 * optimiser exist). Nothing without a tuner. */
int training_tuner_setup(struct training *t, uint64_t seed, uint64_t point_key, struct error *err);

/* A task of `worker` (pipeline: of stage `worker`) took `time_per_cost`
 * simulated seconds per unit cost. */
void training_tuner_observe(struct training *t, int worker, double time_per_cost);

/* After row t->done - 1 at simulated time `now`: when `rows_per_window`
 * rows have passed since the last decision (and the run goes on), measures
 * the window, lets the tuner decide and applies the learning rate, weight
 * decay, dropout and (coded) batch; ssp reads t->setting for its own. */
int training_tuner_window(struct training *t, long rows_per_window, long rows_total, double now,
                          struct error *err);

void training_tuner_free(struct training *t);


#endif
