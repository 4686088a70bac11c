/* train.c: the mini-batch training loop and the evaluation pass over a
 * Fashion-MNIST set, data-parallel over threads.
 *
 * Threads: a batch of B examples is split into `threads` contiguous shards,
 * one per model replica (replica 0 is the caller's model), each run on its
 * own thread with OpenBLAS single-threaded. LeNet5's GEMMs are small
 * (6 x ~2k x 25 per conv chunk), so OpenBLAS's own threads mostly wait and
 * synchronise (measured: 2 OpenBLAS threads ran LeNet5 inference at 0.7x
 * of 1 thread); whole shards scale. A training step sums the shards'
 * gradients into the caller's model in shard order, weighted by shard size,
 * so a run is bit-reproducible for a given thread count (and 1 thread is
 * exactly the serial loop).
 * The layers, the loss and the update rules are the model's and the
 * optimiser's; this file orders the data, splits batches, counts and times.
 * It does not read files or print.
 */
#include "models/train.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "models/weights.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the team: model replicas and their shards ---- */

struct shard {
    struct model *m;
    const float *x; /* (B, input_size) */
    const int *y;   /* (B) */
    int B;
    bool train;     /* loss and gradient, else forward and loss only */
    float loss;     /* train: mean loss of the shard */
    double loss_sum; /* evaluate: summed loss of the shard */
    int correct;
    int rc;
    struct error err;
};

struct team {
    int n;
    struct model **replicas; /* replicas[0] is the caller's model (not owned) */
    struct shard *shards;
    pthread_t *threads;
    bool *spawned; /* threads[i] started (else shard i ran inline) */
};

static void team_free(struct team *t)
{
    if (!t)
        return;
    for (int i = 1; t->replicas && i < t->n; i++)
        model_free(t->replicas[i]);
    free(t->replicas);
    free(t->shards);
    free(t->threads);
    free(t->spawned);
    free(t);
}

/* Copies the caller's weights into every other replica. */
static void team_sync(struct team *t)
{
    const struct model *m = t->replicas[0];
    for (int i = 1; i < t->n; i++)
        memcpy(t->replicas[i]->params, m->params, m->nparams * sizeof(float));
}

/* A team of `threads` replicas of m, each with workspaces for its shard of
 * a batch of max_batch. */
static int team_new(struct team **out, struct model *m, int threads, int max_batch,
                    struct error *err)
{
    *out = NULL;
    int n = threads < 1 ? 1 : threads > max_batch ? max_batch : threads;
    struct team *t = calloc(1, sizeof *t);
    if (!t || !(t->replicas = calloc((size_t)n, sizeof *t->replicas)) ||
        !(t->shards = calloc((size_t)n, sizeof *t->shards)) ||
        !(t->threads = calloc((size_t)n, sizeof *t->threads)) ||
        !(t->spawned = calloc((size_t)n, sizeof *t->spawned))) {
        team_free(t);
        return error_fail(err, "out of memory for %d training threads", n);
    }
    t->replicas[0] = m;
    t->n = 1;
    int shard = (max_batch + n - 1) / n, rc = model_reserve(m, shard, err);
    for (; !rc && t->n < n; t->n++) {
        rc = model_new(&t->replicas[t->n], weights_arch(m), err);
        if (!rc)
            rc = model_reserve(t->replicas[t->n], shard, err);
    }
    if (rc) {
        team_free(t);
        return rc;
    }
    openblas_set_num_threads(1); /* the team's threads are the parallelism */
    team_sync(t);
    *out = t;
    return STRAG_OK;
}

static void *shard_work(void *arg)
{
    struct shard *s = arg;
    if (s->train) {
        model_zero_grad(s->m);
        s->rc = model_loss_and_grad(s->m, s->x, s->y, s->B, &s->loss, &s->correct, &s->err);
    } else {
        s->rc = model_evaluate(s->m, s->x, s->y, s->B, &s->loss_sum, &s->correct, &s->err);
    }
    return NULL;
}

/* Splits B examples into contiguous shards (sizes differ by at most one),
 * runs them in parallel and returns how many shards ran in *nshards. */
static int team_run(struct team *t, const float *x, const int *y, int B, bool train,
                    int *nshards, struct error *err)
{
    int n = B < t->n ? B : t->n, start = 0;
    size_t in = (size_t)t->replicas[0]->input_size;
    for (int i = 0; i < n; i++) {
        int Bi = B / n + (i < B % n);
        t->shards[i] = (struct shard){.m = t->replicas[i], .x = x + (size_t)start * in,
                                      .y = y + start, .B = Bi, .train = train};
        start += Bi;
    }
    for (int i = 1; i < n; i++) { /* a thread that cannot start runs inline */
        t->spawned[i] = pthread_create(&t->threads[i], NULL, shard_work, &t->shards[i]) == 0;
        if (!t->spawned[i])
            shard_work(&t->shards[i]);
    }
    shard_work(&t->shards[0]);
    for (int i = 1; i < n; i++)
        if (t->spawned[i])
            pthread_join(t->threads[i], NULL);
    *nshards = n;
    for (int i = 0; i < n; i++)
        if (t->shards[i].rc) {
            *err = t->shards[i].err;
            return t->shards[i].rc;
        }
    return STRAG_OK;
}

/* One training step on a batch: the caller's model gets the gradient of
 * the batch's mean loss (shard gradients weighted by shard size, summed in
 * shard order). */
static int team_step(struct team *t, const float *x, const int *y, int B, double *loss_sum,
                     long *correct, struct error *err)
{
    int n;
    int rc = team_run(t, x, y, B, true, &n, err);
    if (rc)
        return rc;
    struct model *m = t->replicas[0];
    if (n > 1) {
        float w0 = (float)t->shards[0].B / (float)B;
        for (size_t j = 0; j < m->nparams; j++)
            m->grads[j] *= w0;
        for (int i = 1; i < n; i++) {
            float wi = (float)t->shards[i].B / (float)B;
            const float *gi = t->replicas[i]->grads;
            for (size_t j = 0; j < m->nparams; j++)
                m->grads[j] += wi * gi[j];
        }
    }
    for (int i = 0; i < n; i++) {
        *loss_sum += (double)t->shards[i].loss * t->shards[i].B;
        *correct += t->shards[i].correct;
    }
    return STRAG_OK;
}

/* ---- evaluation ---- */

static int team_evaluate(struct team *t, const struct fmnist *data, const int *idx, size_t n,
                         int batch, struct train_eval *out, struct error *err)
{
    *out = (struct train_eval){.images = n};
    float *x = NULL;
    int *y = NULL;
    if (idx && (!(x = malloc((size_t)batch * FMNIST_PIXELS * sizeof *x)) ||
                !(y = malloc((size_t)batch * sizeof *y)))) {
        free(x);
        return error_fail(err, "out of memory for a batch of %d images", batch);
    }
    double loss_sum = 0;
    int rc = STRAG_OK;
    for (size_t start = 0; !rc && start < n; start += (size_t)batch) {
        int B = n - start < (size_t)batch ? (int)(n - start) : batch, nshards;
        const float *inp = data->images + start * FMNIST_PIXELS;
        const int *labels = data->labels + start;
        if (idx) {
            fmnist_gather(data, idx + start, (size_t)B, x, y);
            inp = x, labels = y;
        }
        /* Only the forward passes (and the 10-logit loss on their output) are timed. */
        double t0 = now_seconds();
        rc = team_run(t, inp, labels, B, false, &nshards, err);
        out->forward_seconds += now_seconds() - t0;
        for (int i = 0; !rc && i < nshards; i++) {
            loss_sum += t->shards[i].loss_sum;
            out->correct += t->shards[i].correct;
        }
    }
    if (!rc && n > 0) {
        out->accuracy = (double)out->correct / (double)n;
        out->loss = loss_sum / (double)n;
    }
    free(x);
    free(y);
    return rc;
}

int train_evaluate(struct model *m, const struct fmnist *data, const int *idx, size_t n,
                   int batch, int threads, struct train_eval *out, struct error *err)
{
    *out = (struct train_eval){.images = n};
    if (batch < 1)
        return error_at(err, NULL, 0, "batch must be >= 1, got %d", batch);
    struct team *t;
    int rc = team_new(&t, m, threads, batch, err);
    if (!rc)
        rc = team_evaluate(t, data, idx, n, batch, out, err);
    team_free(t);
    return rc;
}

/* ---- training ---- */

/* Where the run is: the schedule needs the step count of the whole run. */
struct train_clock {
    const struct train_config *cfg;
    long step, steps;
};

static float train_lr(const struct train_clock *c)
{
    float lr = c->cfg->optim.lr;
    if (c->cfg->schedule == TRAIN_COSINE)
        lr *= (float)(0.5 * (1.0 + cos(M_PI * (double)c->step / (double)c->steps)));
    return lr;
}

/* One pass over the training indices idx[0..n) in the order given. */
static int train_epoch_pass(struct team *t, struct optim *o, struct train_clock *clock,
                            const struct fmnist *data, const int *idx, size_t n, float *x, int *y,
                            double *loss_sum, long *correct, struct error *err)
{
    struct model *m = t->replicas[0];
    size_t batch = (size_t)clock->cfg->batch;
    for (size_t start = 0; start < n; start += batch, clock->step++) {
        int B = (int)(n - start < batch ? n - start : batch);
        fmnist_gather(data, idx + start, (size_t)B, x, y);
        int rc = team_step(t, x, y, B, loss_sum, correct, err);
        if (rc)
            return rc;
        optim_set_lr(o, train_lr(clock));
        optim_step(o, m->params, m->grads);
        team_sync(t);
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

    struct model *m = NULL;
    struct optim *o = NULL;
    struct team *t = NULL;
    int *perm = malloc(data->n * sizeof *perm);
    float *x = malloc((size_t)cfg->batch * FMNIST_PIXELS * sizeof *x);
    int *y = malloc((size_t)cfg->batch * sizeof *y);
    int rc = perm && x && y ? STRAG_OK : error_fail(err, "out of memory for training buffers");
    if (!rc)
        rc = model_new(&m, cfg->model, err);
    if (!rc) {
        struct rng init;
        rng_seed(&init, cfg->seed, 0, RNG_INIT, 0);
        model_init(m, &init);
        rc = optim_new(&o, &cfg->optim, m->nparams, err);
    }
    if (!rc)
        rc = team_new(&t, m, cfg->threads, cfg->batch, err);

    /* perm[0 .. ntrain) are training images (reshuffled every epoch), the
     * last `validation` entries the held-out set (never reordered). */
    size_t nval = cfg->validation, ntrain = data->n - nval;
    if (cfg->limit > 0 && cfg->limit < ntrain)
        ntrain = cfg->limit;
    if (perm)
        fmnist_split(data->n, cfg->seed, perm);
    struct rng order;
    rng_seed(&order, cfg->seed, 0, RNG_DATA, 1);
    long per_epoch = (long)((ntrain + (size_t)cfg->batch - 1) / (size_t)cfg->batch);
    struct train_clock clock = {.cfg = cfg, .steps = per_epoch * cfg->epochs};
    for (int epoch = 1; !rc && epoch <= cfg->epochs; epoch++) {
        double t0 = now_seconds(), loss_sum = 0;
        long correct = 0;
        rng_shuffle_int(&order, perm, ntrain);
        rc = train_epoch_pass(t, o, &clock, data, perm, ntrain, x, y, &loss_sum, &correct, err);
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
            rc = team_evaluate(t, data, perm + (data->n - nval), nval, cfg->batch, &ev, err);
            e.val_accuracy = ev.accuracy;
        }
        e.seconds = now_seconds() - t0;
        if (!rc && progress)
            progress(&e, ctx);
    }
    team_free(t);
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
