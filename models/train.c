/* train.c: the mini-batch training loop and the evaluation pass over a
 * Fashion-MNIST set. The layers, the loss and the update rules are the
 * model's and the optimiser's; this file only orders the data, counts, and
 * times. It does not read files or print. */
#include "models/train.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void train_set_threads(int threads)
{
    openblas_set_num_threads(threads);
}

int train_evaluate(struct model *m, const struct fmnist *data, const int *idx, size_t n,
                   int batch, struct train_eval *out, struct error *err)
{
    *out = (struct train_eval){.images = n};
    if (batch < 1)
        return error_at(err, NULL, 0, "batch must be >= 1, got %d", batch);
    int rc = model_reserve(m, batch, err);
    float *x = NULL;
    int *y = NULL;
    if (!rc && idx && (!(x = malloc((size_t)batch * FMNIST_PIXELS * sizeof *x)) ||
                       !(y = malloc((size_t)batch * sizeof *y))))
        rc = error_fail(err, "out of memory for a batch of %d images", batch);
    double loss_sum = 0;
    for (size_t start = 0; !rc && start < n; start += (size_t)batch) {
        int B = n - start < (size_t)batch ? (int)(n - start) : batch;
        const float *inp = data->images + start * FMNIST_PIXELS;
        const int *labels = data->labels + start;
        if (idx) {
            fmnist_gather(data, idx + start, (size_t)B, x, y);
            inp = x, labels = y;
        }
        double batch_loss;
        int correct;
        /* Only the forward pass (and the 10-logit loss on its output) is timed. */
        double t0 = now_seconds();
        rc = model_evaluate(m, inp, labels, B, &batch_loss, &correct, err);
        out->forward_seconds += now_seconds() - t0;
        loss_sum += batch_loss;
        out->correct += correct;
    }
    if (!rc && n > 0) {
        out->accuracy = (double)out->correct / (double)n;
        out->loss = loss_sum / (double)n;
    }
    free(x);
    free(y);
    return rc;
}

/* One pass over the training indices idx[0..n) in the order given. */
static int train_epoch_pass(struct model *m, struct optim *o, const struct fmnist *data,
                            const int *idx, size_t n, int batch, float *x, int *y,
                            double *loss_sum, long *correct_sum, struct error *err)
{
    for (size_t start = 0; start < n; start += (size_t)batch) {
        int B = n - start < (size_t)batch ? (int)(n - start) : batch;
        fmnist_gather(data, idx + start, (size_t)B, x, y);
        float loss;
        int correct;
        model_zero_grad(m);
        int rc = model_loss_and_grad(m, x, y, B, &loss, &correct, err);
        if (rc)
            return rc;
        optim_step(o, m->params, m->grads);
        *loss_sum += (double)loss * B;
        *correct_sum += correct;
    }
    return STRAG_OK;
}

int train_run(const struct train_config *cfg, const struct fmnist *data, struct model **out,
              train_progress_fn progress, void *ctx, struct error *err)
{
    *out = NULL;
    if (cfg->epochs < 1 || cfg->batch < 1)
        return error_at(err, NULL, 0, "epochs and batch must be >= 1 (got %d and %d)",
                        cfg->epochs, cfg->batch);
    if (cfg->validation >= data->n)
        return error_at(err, NULL, 0, "validation holds out %zu of %zu images: none left to train on",
                        cfg->validation, data->n);
    if (cfg->threads > 0)
        train_set_threads(cfg->threads);

    struct model *m = NULL;
    struct optim *o = NULL;
    int *perm = malloc(data->n * sizeof *perm);
    float *x = malloc((size_t)cfg->batch * FMNIST_PIXELS * sizeof *x);
    int *y = malloc((size_t)cfg->batch * sizeof *y);
    int rc = perm && x && y ? STRAG_OK : error_fail(err, "out of memory for training buffers");
    if (!rc)
        rc = model_new(&m, cfg->model, err);
    if (!rc)
        rc = optim_new(&o, &cfg->optim, m->nparams, err);
    if (!rc)
        rc = model_reserve(m, cfg->batch, err);
    if (!rc) {
        struct rng init;
        rng_seed(&init, cfg->seed, 0, RNG_INIT, 0);
        model_init(m, &init);
    }

    /* perm[0 .. ntrain) are training images (reshuffled every epoch), the
     * last `validation` entries the held-out set (never reordered). */
    size_t nval = cfg->validation, ntrain = data->n - nval;
    if (cfg->limit > 0 && cfg->limit < ntrain)
        ntrain = cfg->limit;
    if (perm)
        fmnist_split(data->n, cfg->seed, perm);
    struct rng order;
    rng_seed(&order, cfg->seed, 0, RNG_DATA, 1);
    for (int epoch = 1; !rc && epoch <= cfg->epochs; epoch++) {
        double t0 = now_seconds(), loss_sum = 0;
        long correct = 0;
        rng_shuffle_int(&order, perm, ntrain);
        rc = train_epoch_pass(m, o, data, perm, ntrain, cfg->batch, x, y, &loss_sum, &correct,
                              err);
        struct train_epoch e = {.epoch = epoch, .epochs = cfg->epochs,
                                .loss = loss_sum / (double)ntrain,
                                .train_accuracy = (double)correct / (double)ntrain,
                                .val_accuracy = NAN};
        if (!rc && !isfinite(e.loss))
            rc = error_at(err, NULL, 0,
                          "training diverged in epoch %d (loss is %g): lower the learning rate",
                          epoch, e.loss);
        if (!rc && nval > 0) {
            struct train_eval ev;
            rc = train_evaluate(m, data, perm + (data->n - nval), nval, cfg->batch, &ev, err);
            e.val_accuracy = ev.accuracy;
        }
        e.seconds = now_seconds() - t0;
        if (!rc && progress)
            progress(&e, ctx);
    }
    optim_free(o);
    free(perm);
    free(x);
    free(y);
    if (rc)
        model_free(m);
    else
        *out = m;
    return rc;
}
