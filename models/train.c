/* train.c: the mini-batch training loop and the evaluation pass over a
 * Fashion-MNIST set, data-parallel over threads.
 *
 * Threads: a batch is cut into shards of about TRAIN_SHARD examples; each
 * thread owns a model replica (replica 0 is the caller's model) and runs
 * shards with OpenBLAS single-threaded. LeNet5's GEMMs are small (6 x ~2k
 * x 25 per conv chunk), so OpenBLAS's own threads mostly wait and
 * synchronise (measured: 2 OpenBLAS threads ran LeNet5 inference at 0.7x
 * of 1 thread); whole shards scale (1.7x on 2 threads). Shard gradients
 * are combined in shard order, weighted by shard size, so a run gives the
 * same bits on any number of threads.
 * The layers, the loss and the update rules are the model's and the
 * optimiser's; this file orders the data, splits batches, counts and times.
 * It does not read files or print.
 */
#include "models/train.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "models/weights.h"
#include "base/clock.h"

/* ---- the team: model replicas and the shards of a batch ---- */

/* A batch is cut into ceil(B / TRAIN_SHARD) contiguous shards whose sizes
 * differ by at most one; the cut depends on B only, never on the thread
 * count, and shard results are combined in shard order, so the numbers are
 * the same on any number of threads. Threads take the next shard from a
 * counter: a thread slowed down by another process on its core takes fewer
 * shards instead of holding up the batch. */
enum { TRAIN_SHARD = 32 };

struct shard {
    const float *x;   /* (B, input_size) */
    const int *y;     /* (B) */
    int B;
    float loss;       /* train: mean loss of the shard */
    double loss_sum;  /* evaluate: summed loss of the shard */
    int correct;
    float *grads;     /* train: the shard's gradient (nparams), in team.shard_grads */
};

struct worker {
    struct team *team;
    struct model *m;  /* its replica; worker 0's is the caller's model */
    int rc;           /* its first error */
    struct error err;
};

struct team {
    int n;                   /* workers (threads) */
    struct worker *workers;
    pthread_t *threads;
    bool *spawned;           /* threads[i] started (else worker i ran inline) */
    int max_shards;
    struct shard *shards;
    float *shard_grads;      /* training teams: (max_shards, nparams) */
    /* the batch being run */
    bool train;
    int nshards;
    atomic_int next;         /* next shard to take */
};

static void team_free(struct team *t)
{
    if (!t)
        return;
    for (int i = 1; t->workers && i < t->n; i++)
        model_free(t->workers[i].m);
    free(t->workers);
    free(t->threads);
    free(t->spawned);
    free(t->shards);
    free(t->shard_grads);
    free(t);
}

/* Copies the caller's weights into every other replica. */
static void team_sync(struct team *t)
{
    const struct model *m = t->workers[0].m;
    for (int i = 1; i < t->n; i++)
        memcpy(t->workers[i].m->params, m->params, m->nparams * sizeof(float));
}

/* A team of `threads` replicas of m for batches up to max_batch; `train`
 * teams also hold one gradient per shard. */
static int team_new(struct team **out, struct model *m, int threads, int max_batch, bool train,
                    struct error *err)
{
    *out = NULL;
    int max_shards = (max_batch + TRAIN_SHARD - 1) / TRAIN_SHARD;
    int n = threads < 1 ? 1 : threads > max_shards ? max_shards : threads;
    size_t ngrads = train ? (size_t)max_shards * m->nparams : 0;
    struct team *t = calloc(1, sizeof *t);
    if (!t || !(t->workers = calloc((size_t)n, sizeof *t->workers)) ||
        !(t->threads = calloc((size_t)n, sizeof *t->threads)) ||
        !(t->spawned = calloc((size_t)n, sizeof *t->spawned)) ||
        !(t->shards = calloc((size_t)max_shards, sizeof *t->shards)) ||
        (train && !(t->shard_grads = malloc(ngrads * sizeof *t->shard_grads)))) {
        team_free(t);
        return error_fail(err, "out of memory for %d threads and %d shards", n, max_shards);
    }
    t->max_shards = max_shards;
    t->workers[0] = (struct worker){.team = t, .m = m};
    t->n = 1;
    int shard = max_batch < TRAIN_SHARD ? max_batch : TRAIN_SHARD;
    int rc = model_reserve(m, shard, err);
    for (; !rc && t->n < n; t->n++) {
        struct worker *w = &t->workers[t->n];
        *w = (struct worker){.team = t};
        rc = model_new(&w->m, weights_arch(m), err);
        if (!rc)
            rc = model_reserve(w->m, shard, err);
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

/* A worker's loop: take shards until none is left (or it failed). */
static void *worker_run(void *arg)
{
    struct worker *w = arg;
    struct team *t = w->team;
    int s;
    while (!w->rc && (s = atomic_fetch_add(&t->next, 1)) < t->nshards) {
        struct shard *sh = &t->shards[s];
        if (t->train) {
            model_zero_grad(w->m);
            w->rc = model_loss_and_grad(w->m, sh->x, sh->y, sh->B, &sh->loss, &sh->correct,
                                        &w->err);
            if (!w->rc)
                memcpy(sh->grads, w->m->grads, w->m->nparams * sizeof(float));
        } else {
            w->rc = model_evaluate(w->m, sh->x, sh->y, sh->B, &sh->loss_sum, &sh->correct,
                                   &w->err);
        }
    }
    return NULL;
}

/* Cuts B examples into shards and runs them on the team's threads. */
static int team_run(struct team *t, const float *x, const int *y, int B, bool train,
                    struct error *err)
{
    const struct model *m = t->workers[0].m;
    int n = (B + TRAIN_SHARD - 1) / TRAIN_SHARD, start = 0;
    if (n > t->max_shards || (train && !t->shard_grads))
        return error_fail(err, "internal: a batch of %d is larger than the team's", B);
    for (int s = 0; s < n; s++) {
        int Bs = B / n + (s < B % n);
        t->shards[s] = (struct shard){
            .x = x + (size_t)start * (size_t)m->input_size, .y = y + start, .B = Bs,
            .grads = train ? t->shard_grads + (size_t)s * m->nparams : NULL};
        start += Bs;
    }
    t->train = train;
    t->nshards = n;
    atomic_store(&t->next, 0);
    int nworkers = n < t->n ? n : t->n;
    for (int i = 0; i < nworkers; i++)
        t->workers[i].rc = 0;
    for (int i = 1; i < nworkers; i++) { /* a thread that cannot start runs inline */
        t->spawned[i] = pthread_create(&t->threads[i], NULL, worker_run, &t->workers[i]) == 0;
        if (!t->spawned[i])
            worker_run(&t->workers[i]);
    }
    worker_run(&t->workers[0]);
    for (int i = 1; i < nworkers; i++)
        if (t->spawned[i])
            pthread_join(t->threads[i], NULL);
    for (int i = 0; i < nworkers; i++)
        if (t->workers[i].rc) {
            *err = t->workers[i].err;
            return t->workers[i].rc;
        }
    return STRAG_OK;
}

/* One training step on a batch: the caller's model gets the gradient of
 * the batch's mean loss, the shard gradients weighted by shard size and
 * summed in shard order. */
static int team_step(struct team *t, const float *x, const int *y, int B, double *loss_sum,
                     long *correct, struct error *err)
{
    int rc = team_run(t, x, y, B, true, err);
    if (rc)
        return rc;
    struct model *m = t->workers[0].m;
    for (int s = 0; s < t->nshards; s++) {
        const struct shard *sh = &t->shards[s];
        float w = (float)sh->B / (float)B;
        if (s == 0)
            for (size_t j = 0; j < m->nparams; j++)
                m->grads[j] = w * sh->grads[j];
        else
            for (size_t j = 0; j < m->nparams; j++)
                m->grads[j] += w * sh->grads[j];
        *loss_sum += (double)sh->loss * sh->B;
        *correct += sh->correct;
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
        int B = n - start < (size_t)batch ? (int)(n - start) : batch;
        const float *inp = data->images + start * FMNIST_PIXELS;
        const int *labels = data->labels + start;
        if (idx) {
            fmnist_gather(data, idx + start, (size_t)B, x, y);
            inp = x, labels = y;
        }
        /* Only the forward passes (and the 10-logit loss on their output) are timed. */
        double t0 = now_seconds(), c0 = process_cpu_seconds();
        rc = team_run(t, inp, labels, B, false, err);
        out->forward_seconds += now_seconds() - t0;
        out->forward_cpu_seconds += process_cpu_seconds() - c0;
        for (int s = 0; !rc && s < t->nshards; s++) {
            loss_sum += t->shards[s].loss_sum;
            out->correct += t->shards[s].correct;
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
    int rc = team_new(&t, m, threads, batch, false, err);
    if (!rc && n > 0) {
        /* one untimed pass over the first batch first: the workspaces' page
         * faults and OpenBLAS's buffers are set-up cost, not forward passes
         * (bench/torch_lenet5.py warms up PyTorch the same way) */
        struct train_eval warm;
        rc = team_evaluate(t, data, idx, n < (size_t)batch ? n : (size_t)batch, batch, &warm, err);
    }
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
    struct model *m = t->workers[0].m;
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
        rc = team_new(&t, m, cfg->threads, cfg->batch, true, err);

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
