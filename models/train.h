/* train.h: the training loop behind `stragsim train`, and the evaluation
 * pass behind `stragsim eval`.
 *
 * Training: mini-batch training of a fresh model on Fashion-MNIST with
 * softmax cross-entropy and an optimiser of optim.h. Deterministic: the
 * initial weights come from rng stream (seed, 0, RNG_INIT, 0), the
 * train/validation split from fmnist_split(seed), and the per-epoch
 * shuffles from stream (seed, 0, RNG_DATA, 1); with the same seed and the
 * same machine (OpenBLAS picks its kernels by CPU) the weights are
 * bit-identical, whatever the thread count: batches are cut into shards of
 * about 32 examples by batch size alone and the shard results are combined
 * in shard order. Each epoch visits every training image once (the last
 * batch may be short). Threads each own a model replica and take shards in
 * turn; train_run and train_evaluate therefore set OpenBLAS to one thread
 * (a process-wide setting). Does not read config files, print, or write
 * files: the caller gets one progress record per epoch and the trained model.
 */
#ifndef STRAG_TRAIN_H
#define STRAG_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "models/fmnist.h"
#include "models/model.h"
#include "models/optim.h"
#include "base/error.h"

/* Learning-rate schedule over the whole run (per optimiser step t of T):
 * constant lr, or cosine annealing lr * (1 + cos(pi t / T)) / 2. */
enum train_schedule { TRAIN_CONSTANT, TRAIN_COSINE };

struct train_config {
    const char *model;        /* table name or spec text (model_new) */
    uint64_t seed;
    int epochs;               /* >= 1 */
    int batch;                /* >= 1 */
    struct optim_config optim;  /* optim.lr is the starting rate */
    enum train_schedule schedule;
    size_t validation;        /* images held out of `data` for validation */
    size_t limit;             /* train on the first `limit` training images; 0 = all */
    int threads;              /* data-parallel threads (OpenBLAS runs single-threaded);
                                 they change the speed, not the result */
};

/* One epoch's record. val_accuracy is NaN without a validation set. */
struct train_epoch {
    int epoch, epochs;        /* 1-based epoch number, total */
    double loss;              /* mean training loss over the epoch */
    double train_accuracy;    /* fraction of training images classified right (during the epoch) */
    double val_accuracy;
    double seconds;           /* wall time of the epoch (training + validation) */
};

typedef void (*train_progress_fn)(const struct train_epoch *e, void *ctx);

/* Trains cfg->model on data (the 60,000 training images, or any set) and
 * returns it in *out (caller frees with model_free). `progress` (may be
 * NULL) is called after every epoch. Errors: validation >= data->n, a bad
 * model name (both STRAG_EINPUT, no location: the caller adds its own). */
int train_run(const struct train_config *cfg, const struct fmnist *data, struct model **out,
              train_progress_fn progress, void *ctx, struct error *err);

/* Result of evaluating a model on a data set. */
struct train_eval {
    size_t images;
    int correct;
    double accuracy;
    double loss;              /* mean cross-entropy */
    double forward_seconds;   /* time inside the forward passes only */
    double forward_cpu_seconds; /* the process's CPU time (all threads) over the same */
};

/* Runs `data` through m in batches of `batch` (idx NULL: images 0..n-1,
 * else the n images idx[0..n)), each batch split over `threads` threads. */
int train_evaluate(struct model *m, const struct fmnist *data, const int *idx, size_t n,
                   int batch, int threads, struct train_eval *out, struct error *err);

#endif
