/* llc_model.c: learned Lagrange coding: nodes and matrices (through
 * code_lagrange.c), the worker and decoder networks (and the feature
 * extractor of the feature design), end-to-end training with the encoding
 * and interpolation in the loop, evaluation, FLOP counts (llc_model.h),
 * and the trainer `stragsim train` runs from a config's keys. */
#include "schemes/learned_lagrange_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/weights.h"
#include "schemes/codes/code_lagrange.h"
#include "base/clock.h"
#include "base/rng.h"

int llc_check(const struct llc_shape *s, struct error *err)
{
    if (s->K < 1)
        return error_at(err, NULL, 0, "queries K must be at least 1, got %d", s->K);
    if (s->N < 1 || s->N > LLC_MAX_WORKERS)
        return error_at(err, NULL, 0, "workers N must be in 1..%d, got %d", LLC_MAX_WORKERS,
                        s->N);
    if (s->R < 1 || s->R > s->N)
        return error_at(err, NULL, 0,
                        "recovery threshold R = %d must be in 1..%d (the workers)", s->R, s->N);
    return STRAG_OK;
}

void llc_nets_free(struct llc_nets *n)
{
    if (!n)
        return;
    free(n->alpha);
    free(n->z);
    free(n->E);
    model_free(n->feature);
    model_free(n->worker);
    model_free(n->decoder);
    free(n);
}

int llc_nets_new(const struct llc_shape *s, uint64_t seed, struct llc_nets **out,
                 struct error *err)
{
    *out = NULL;
    int rc = llc_check(s, err);
    if (rc)
        return rc;
    struct llc_nets *n = calloc(1, sizeof *n);
    if (!n)
        return error_fail(err, "out of memory");
    n->K = s->K;
    n->N = s->N;
    n->R = s->R;
    n->design = s->design;
    n->alpha = malloc((size_t)s->K * sizeof *n->alpha);
    n->z = malloc((size_t)s->N * sizeof *n->z);
    n->E = malloc((size_t)s->N * s->K * sizeof *n->E);
    if (!n->alpha || !n->z || !n->E)
        rc = error_fail(err, "out of memory");
    if (!rc) {
        lagrange_chebyshev_nodes(s->K, n->alpha);
        lagrange_chebyshev_nodes(s->N, n->z);
        rc = lagrange_encoder(n->alpha, s->K, n->z, s->N, n->E, err);
    }
    struct act_shape image = {1, FMNIST_ROWS, FMNIST_COLS}, coded = image;
    if (!rc && s->design == LLC_DESIGN_FEATURE) {
        rc = learned_net_new(&n->feature, s->feature_model ? s->feature_model : LLC_DEFAULT_FEATURE,
                             image, seed, 42, err);
        if (!rc)
            coded = model_output_shape(n->feature);
    }
    n->width = coded.c * coded.h * coded.w;
    if (!rc)
        rc = learned_net_new(&n->worker, s->worker_model, coded, seed, 40, err);
    if (!rc)
        rc = learned_net_new(&n->decoder, s->decoder_model,
                             (struct act_shape){n->worker->outputs, 1, 1}, seed, 41, err);
    if (!rc && n->decoder->outputs != FMNIST_CLASSES)
        rc = error_at(err, NULL, 0, "decoder model '%s': needs %d outputs, has %d",
                      s->decoder_model, FMNIST_CLASSES, n->decoder->outputs);
    if (rc) {
        llc_nets_free(n);
        return rc;
    }
    *out = n;
    return STRAG_OK;
}

int llc_nets_load(struct llc_nets *n, const char *stem, struct error *err)
{
    char path[4096];
    if (!learned_weights_path(path, sizeof path, stem, "worker"))
        return error_at(err, stem, 0, "path too long");
    int rc = weights_load(n->worker, path, err);
    if (rc)
        return rc;
    if (n->feature) {
        if (!learned_weights_path(path, sizeof path, stem, "feature"))
            return error_at(err, stem, 0, "path too long");
        if ((rc = weights_load(n->feature, path, err)))
            return rc;
    }
    if (!learned_weights_path(path, sizeof path, stem, "decoder"))
        return error_at(err, stem, 0, "path too long");
    return weights_load(n->decoder, path, err);
}

void llc_encode(const struct llc_nets *n, const float *x, const int *used, int count, float *out)
{
    size_t w = (size_t)n->width;
    for (int l = 0; l < count; l++) {
        float *u = out + (size_t)l * w;
        memset(u, 0, w * sizeof *u);
        for (int j = 0; j < n->K; j++) {
            float e = (float)n->E[(size_t)used[l] * n->K + j];
            const float *xj = x + (size_t)j * w;
            for (size_t p = 0; p < w; p++)
                u[p] += e * xj[p];
        }
    }
}

int llc_workers_forward(struct llc_nets *n, const float *x, const int *used, int count,
                        float *g, struct error *err)
{
    size_t w = (size_t)n->width;
    float *f = NULL, *u = malloc((size_t)count * w * sizeof *u);
    const float *out;
    int rc = u ? STRAG_OK : error_fail(err, "out of memory");
    if (!rc && n->feature) {
        f = malloc((size_t)n->K * w * sizeof *f);
        rc = f ? model_forward(n->feature, x, n->K, &out, err) : error_fail(err, "out of memory");
        if (!rc)
            memcpy(f, out, (size_t)n->K * w * sizeof *f);
    }
    if (!rc) {
        llc_encode(n, f ? f : x, used, count, u);
        rc = model_forward(n->worker, u, count, &out, err);
    }
    if (!rc)
        memcpy(g, out, (size_t)count * n->worker->outputs * sizeof *g);
    free(f);
    free(u);
    return rc;
}

struct llc_flops llc_flops_of(const struct llc_nets *n)
{
    double K = n->K, interpolate = 2.0 * K * n->R * n->worker->outputs,
           decode = K * n->decoder->flops;
    if (n->design == LLC_DESIGN_FEATURE)
        return (struct llc_flops){
            .master_job = interpolate + decode,
            .worker_task = K * n->feature->flops + 2.0 * K * n->width + n->worker->flops,
        };
    return (struct llc_flops){
        .master_job = 2.0 * n->N * K * FMNIST_PIXELS + interpolate + decode,
        .worker_task = n->worker->flops,
    };
}

int llc_decoder_matrix(const struct llc_nets *n, const int *used, int count, float *D,
                       struct error *err)
{
    double *Dd = malloc((size_t)n->K * count * sizeof *Dd);
    if (!Dd)
        return error_fail(err, "out of memory");
    int rc = lagrange_decoder(n->alpha, n->K, n->z, used, count, Dd, err);
    for (size_t i = 0; !rc && i < (size_t)n->K * count; i++)
        D[i] = (float)Dd[i];
    free(Dd);
    return rc;
}

/* y (K x d) = D (K x R) g (R x d) */
static void interpolate(const float *D, const float *g, int K, int R, int d, float *y)
{
    for (int j = 0; j < K; j++)
        for (int c = 0; c < d; c++) {
            float v = 0;
            for (int l = 0; l < R; l++)
                v += D[j * R + l] * g[(size_t)l * d + c];
            y[(size_t)j * d + c] = v;
        }
}

int llc_decode(struct llc_nets *n, const int *used, int count, const float *g, float *logits,
               struct error *err)
{
    int d = n->worker->outputs;
    float *D = malloc((size_t)n->K * count * sizeof *D);
    float *y = malloc((size_t)n->K * d * sizeof *y);
    int rc = D && y ? llc_decoder_matrix(n, used, count, D, err) : error_fail(err, "out of memory");
    const float *out;
    if (!rc) {
        interpolate(D, g, n->K, count, d, y);
        rc = model_forward(n->decoder, y, n->K, &out, err);
    }
    if (!rc)
        memcpy(logits, out, (size_t)n->K * FMNIST_CLASSES * sizeof *logits);
    free(D);
    free(y);
    return rc;
}

/* Buffers for B groups. */
struct llc_step {
    int *order, *labels;  /* B*K */
    int *used;            /* B x R */
    float *x;             /* B*K x 784 */
    float *f, *df;        /* feature design: B*K x width features and their gradient */
    float *D;             /* B x K x R */
    float *u, *du;        /* B*R x width coded vectors and their gradient */
    float *g;             /* B*R x d */
    float *y;             /* B*K x d */
    float *probs, *dlogits; /* B*K x C */
    float *dy;            /* B*K x d */
    float *dg;            /* B*R x d */
};

static void step_free(struct llc_step *t)
{
    free(t->order);
    free(t->labels);
    free(t->used);
    free(t->x);
    free(t->f);
    free(t->df);
    free(t->D);
    free(t->u);
    free(t->du);
    free(t->g);
    free(t->y);
    free(t->probs);
    free(t->dlogits);
    free(t->dy);
    free(t->dg);
}

static bool step_alloc(struct llc_step *t, const struct llc_nets *n, int B)
{
    size_t K = (size_t)n->K, R = (size_t)n->R, d = (size_t)n->worker->outputs;
    size_t w = (size_t)n->width, fw = n->feature ? w : 0;
    *t = (struct llc_step){
        .order = malloc(B * K * sizeof(int)),
        .labels = malloc(B * K * sizeof(int)),
        .used = malloc(B * R * sizeof(int)),
        .x = malloc(B * K * FMNIST_PIXELS * sizeof(float)),
        .D = malloc(B * K * R * sizeof(float)),
        .f = malloc(B * K * fw * sizeof(float) + 1),
        .df = malloc(B * K * fw * sizeof(float) + 1),
        .u = malloc(B * R * w * sizeof(float)),
        .du = malloc(B * R * fw * sizeof(float) + 1),
        .g = malloc(B * R * d * sizeof(float)),
        .y = malloc(B * K * d * sizeof(float)),
        .probs = malloc(B * K * FMNIST_CLASSES * sizeof(float)),
        .dlogits = malloc(B * K * FMNIST_CLASSES * sizeof(float)),
        .dy = malloc(B * K * d * sizeof(float)),
        .dg = malloc(B * R * d * sizeof(float)),
    };
    return t->order && t->labels && t->used && t->x && t->f && t->df && t->D && t->u && t->du &&
           t->g && t->y &&
           t->probs && t->dlogits && t->dy && t->dg;
}

/* A uniformly random R-subset of 0..N-1, sorted, into used. */
static void draw_subset(struct rng *r, int N, int R, int *used)
{
    int all[LLC_MAX_WORKERS];
    for (int i = 0; i < N; i++)
        all[i] = i;
    for (int i = 0; i < R; i++) {
        int j = i + (int)rng_below(r, (uint64_t)(N - i));
        int tmp = all[i];
        all[i] = all[j];
        all[j] = tmp;
    }
    /* insertion sort of the R chosen */
    for (int i = 1; i < R; i++)
        for (int j = i; j > 0 && all[j - 1] > all[j]; j--) {
            int tmp = all[j];
            all[j] = all[j - 1];
            all[j - 1] = tmp;
        }
    memcpy(used, all, (size_t)R * sizeof *used);
}

/* Forward of B groups (images in t->x, labels in t->labels): draws the
 * subsets (r NULL: t->used is already set), extracts features (feature
 * design), encodes, runs workers, interpolates, runs the decoder. *logits
 * points into the decoder (B*K x C). */
static int step_forward(struct llc_nets *n, struct llc_step *t, int B, struct rng *r,
                        const float **logits, struct error *err)
{
    int K = n->K, R = n->R, d = n->worker->outputs;
    size_t w = (size_t)n->width;
    int rc = STRAG_OK;
    const float *coded_from = t->x; /* B*K x width: the images or their features */
    if (n->feature) {
        const float *f;
        if ((rc = model_forward(n->feature, t->x, B * K, &f, err)))
            return rc;
        memcpy(t->f, f, (size_t)B * K * w * sizeof *t->f);
        coded_from = t->f;
    }
    for (int b = 0; !rc && b < B; b++) {
        int *used = t->used + (size_t)b * R;
        if (r)
            draw_subset(r, n->N, R, used);
        llc_encode(n, coded_from + (size_t)b * K * w, used, R, t->u + (size_t)b * R * w);
        rc = llc_decoder_matrix(n, used, R, t->D + (size_t)b * K * R, err);
    }
    const float *g;
    if (!rc)
        rc = model_forward(n->worker, t->u, B * R, &g, err);
    if (rc)
        return rc;
    memcpy(t->g, g, (size_t)B * R * d * sizeof *t->g);
    for (int b = 0; b < B; b++)
        interpolate(t->D + (size_t)b * K * R, t->g + (size_t)b * R * d, K, R, d,
                    t->y + (size_t)b * K * d);
    return model_forward(n->decoder, t->y, B * K, logits, err);
}

/* After step_forward: the mean cross-entropy into *loss and its gradient
 * into the networks' (zeroed) grads, through the interpolation:
 * dg_l = sum_j D[j,l] dy_j, i.e. D^T dy, and in the feature design through
 * the encoding: df_j = sum_l E[used_l,j] du_l. */
static int step_backward(struct llc_nets *n, struct llc_step *t, int B, const float *logits,
                         double *loss, struct error *err)
{
    int K = n->K, R = n->R, d = n->worker->outputs, rows = B * K;
    *loss = learned_xent(logits, t->labels, rows, FMNIST_CLASSES, 1.0f / (float)rows, t->probs,
                         t->dlogits, NULL);
    model_zero_grad(n->decoder);
    model_zero_grad(n->worker);
    if (n->feature)
        model_zero_grad(n->feature);
    int rc = model_backward(n->decoder, t->dlogits, rows, t->dy, err);
    if (rc)
        return rc;
    for (int b = 0; b < B; b++) {
        const float *D = t->D + (size_t)b * K * R;
        for (int l = 0; l < R; l++) {
            float *dg = t->dg + ((size_t)b * R + l) * d;
            memset(dg, 0, (size_t)d * sizeof *dg);
            for (int j = 0; j < K; j++) {
                const float *dy = t->dy + ((size_t)b * K + j) * d;
                for (int c = 0; c < d; c++)
                    dg[c] += D[j * R + l] * dy[c];
            }
        }
    }
    if (!n->feature)
        return model_backward(n->worker, t->dg, B * R, NULL, err);
    if ((rc = model_backward(n->worker, t->dg, B * R, t->du, err)))
        return rc;
    size_t w = (size_t)n->width;
    for (int b = 0; b < B; b++) {
        const int *used = t->used + (size_t)b * R;
        for (int j = 0; j < K; j++) {
            float *df = t->df + ((size_t)b * K + j) * w;
            memset(df, 0, w * sizeof *df);
            for (int l = 0; l < R; l++) {
                float e = (float)n->E[(size_t)used[l] * K + j];
                const float *du = t->du + ((size_t)b * R + l) * w;
                for (size_t p = 0; p < w; p++)
                    df[p] += e * du[p];
            }
        }
    }
    return model_backward(n->feature, t->df, B * K, NULL, err);
}

int llc_loss_and_grad(struct llc_nets *n, const float *x, const int *labels, int B,
                      const int *used, double *loss, struct error *err)
{
    struct llc_step t;
    int rc = STRAG_OK;
    if (!step_alloc(&t, n, B))
        rc = error_fail(err, "out of memory");
    const float *logits;
    if (!rc) {
        memcpy(t.x, x, (size_t)B * n->K * FMNIST_PIXELS * sizeof *t.x);
        memcpy(t.labels, labels, (size_t)B * n->K * sizeof *t.labels);
        memcpy(t.used, used, (size_t)B * n->R * sizeof *t.used);
        rc = step_forward(n, &t, B, NULL, &logits, err);
    }
    if (!rc)
        rc = step_backward(n, &t, B, logits, loss, err);
    step_free(&t);
    return rc;
}

int llc_evaluate(struct llc_nets *n, const struct fmnist *data, const int *idx, size_t count,
                 uint64_t seed, double *accuracy, struct error *err)
{
    enum { GROUPS = 100 };
    int K = n->K;
    size_t groups = count / (size_t)K;
    if (groups == 0)
        return error_at(err, NULL, 0, "evaluation needs at least K = %d images", K);
    struct llc_step t;
    if (!step_alloc(&t, n, GROUPS)) {
        step_free(&t);
        return error_fail(err, "out of memory");
    }
    struct rng r;
    rng_seed(&r, seed, 0, RNG_STRAGGLERS, 1);
    size_t hits = 0;
    int rc = STRAG_OK;
    for (size_t g0 = 0; !rc && g0 < groups; g0 += GROUPS) {
        int B = (int)(groups - g0 < GROUPS ? groups - g0 : GROUPS);
        for (int i = 0; i < B * K; i++)
            t.order[i] = idx ? idx[g0 * K + (size_t)i] : (int)(g0 * K + (size_t)i);
        fmnist_gather(data, t.order, (size_t)B * K, t.x, t.labels);
        const float *logits;
        rc = step_forward(n, &t, B, &r, &logits, err);
        for (int i = 0; !rc && i < B * K; i++)
            hits += model_argmax(logits + (size_t)i * FMNIST_CLASSES, FMNIST_CLASSES) ==
                    t.labels[i];
    }
    *accuracy = (double)hits / (double)(groups * K);
    step_free(&t);
    return rc;
}

int llc_train(const struct llc_train_config *c, const struct fmnist *data, struct llc_nets **out,
              learned_progress_fn progress, void *ctx, struct error *err)
{
    *out = NULL;
    struct llc_nets *n = NULL;
    struct optim *ow = NULL, *od = NULL, *of = NULL;
    int *train = NULL, *val = NULL;
    size_t ntrain, nval;
    struct llc_step t = {0};
    int rc = llc_nets_new(&c->shape, c->opt.seed, &n, err);
    if (rc)
        return rc;
    int K = n->K, B = c->opt.batch;
    if (c->worker_init && (rc = weights_load(n->worker, c->worker_init, err)))
        goto done;
    rc = learned_split(&c->opt, data, &train, &ntrain, &val, &nval, err);
    if (!rc && !step_alloc(&t, n, B))
        rc = error_fail(err, "out of memory");
    if (!rc)
        rc = optim_new(&ow, &c->opt.optim, n->worker->nparams, err);
    if (!rc)
        rc = optim_new(&od, &c->opt.optim, n->decoder->nparams, err);
    if (!rc && n->feature)
        rc = optim_new(&of, &c->opt.optim, n->feature->nparams, err);
    if (rc)
        goto done;
    learned_set_threads(c->opt.threads);
    struct rng r;
    rng_seed(&r, c->opt.seed, 0, RNG_STRAGGLERS, 0);
    size_t groups = ntrain / (size_t)K;
    long per_epoch = (long)((groups + (size_t)B - 1) / (size_t)B);
    long total = per_epoch * c->opt.epochs, step = 0;
    for (int epoch = 1; epoch <= c->opt.epochs; epoch++) {
        double t0 = now_seconds(), loss_sum = 0;
        learned_shuffle(c->opt.seed, epoch - 1, train, ntrain);
        for (size_t g0 = 0; g0 < groups; g0 += (size_t)B) {
            int nb = (int)(groups - g0 < (size_t)B ? groups - g0 : (size_t)B);
            fmnist_gather(data, train + g0 * K, (size_t)nb * K, t.x, t.labels);
            const float *logits;
            rc = step_forward(n, &t, nb, &r, &logits, err);
            if (rc)
                goto done;
            double loss;
            rc = step_backward(n, &t, nb, logits, &loss, err);
            if (rc)
                goto done;
            loss_sum += loss * nb;
            float lr = learned_lr(&c->opt, step++, total);
            optim_set_lr(ow, lr);
            optim_set_lr(od, lr);
            optim_step(ow, n->worker->params, n->worker->grads);
            optim_step(od, n->decoder->params, n->decoder->grads);
            if (of) {
                optim_set_lr(of, lr);
                optim_step(of, n->feature->params, n->feature->grads);
            }
        }
        struct learned_epoch rec = {
            .epoch = epoch, .epochs = c->opt.epochs, .loss = loss_sum / (double)groups,
            .val_accuracy = NAN, .val_name = "accuracy",
        };
        if (nval >= (size_t)K) {
            rc = llc_evaluate(n, data, val, nval, c->opt.seed, &rec.val_accuracy, err);
            if (rc)
                goto done;
        }
        rec.seconds = now_seconds() - t0;
        if (progress)
            progress(&rec, ctx);
    }
    *out = n;
    n = NULL;
done:
    optim_free(ow);
    optim_free(od);
    optim_free(of);
    step_free(&t);
    llc_nets_free(n);
    free(train);
    free(val);
    return rc;
}

int llc_shape_design(const struct params *p, struct llc_shape *s, struct error *err)
{
    const char *design = learned_string_or(p, "scheme.design", "input");
    s->design = strcmp(design, "feature") == 0 ? LLC_DESIGN_FEATURE : LLC_DESIGN_INPUT;
    s->feature_model = params_has(p, "scheme.feature_model")
                           ? params_string(p, "scheme.feature_model")
                           : NULL;
    if (s->feature_model && s->design != LLC_DESIGN_FEATURE)
        return error_at_key(err, p, "scheme.feature_model",
                            "a feature extractor needs scheme.design = feature");
    if (s->design == LLC_DESIGN_FEATURE && s->K > s->N)
        return error_at_key(err, p, "workload.queries",
                            "the feature design sends each of the N = %d workers the K = %d "
                            "images of a job; it needs K <= N",
                            s->N, s->K);
    return STRAG_OK;
}

int llc_train_command(const struct learned_train_env *env, struct error *err)
{
    const struct params *p = env->params;
    int workers = (int)params_int(p, "cluster.workers");
    int stragglers = (int)learned_int_or(p, "scheme.stragglers", 1);
    struct llc_train_config c = {
        .shape = {.K = (int)learned_int_or(p, "workload.queries", 2),
                  .N = workers,
                  .R = (int)learned_int_or(p, "scheme.recovery_threshold", workers - stragglers),
                  .worker_model = learned_string_or(p, "scheme.worker_model", LLC_DEFAULT_WORKER),
                  .decoder_model =
                      learned_string_or(p, "scheme.decoder_model", LLC_DEFAULT_DECODER)},
        .opt = env->opt,
    };
    char init[4096];
    if (params_has(p, "scheme.worker_init")) {
        int rc = learned_path(p, "scheme.worker_init", "", init, sizeof init, err);
        if (rc)
            return rc;
        c.worker_init = init;
    }
    int rc = llc_shape_design(p, &c.shape, err);
    if (rc)
        return rc;
    struct error e;
    if (llc_check(&c.shape, &e))
        return error_at_key(err, p, "scheme.recovery_threshold", "%s", e.msg);
    struct llc_nets *nets = NULL;
    rc = learned_located(
        env, llc_train(&c, env->train, &nets, env->progress, env->progress_ctx, err), err);
    if (!rc)
        rc = env->save(env->ctx, nets->worker, "worker", err);
    if (!rc)
        rc = env->save(env->ctx, nets->decoder, "decoder", err);
    if (!rc && nets->feature)
        rc = env->save(env->ctx, nets->feature, "feature", err);
    double acc = 0;
    if (!rc)
        rc = llc_evaluate(nets, env->test, NULL, env->test->n, env->opt.seed, &acc, err);
    if (!rc && env->log)
        fprintf(env->log, "test: %s N=%d K=%d R=%d accuracy=%.4f\n",
                c.shape.design == LLC_DESIGN_FEATURE ? "feature" : "input", c.shape.N, c.shape.K,
                c.shape.R, acc);
    llc_nets_free(nets);
    return rc;
}
