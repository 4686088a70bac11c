/* inference.c: the `inference` workload. A job is K queries drawn
 * from the Fashion-MNIST test set (distinct within a job, from the stream
 * (seed, point, RNG_DATA, job ordinal)). The scheme encodes them into N
 * coded queries, worker w computes coded query w, the engine decides which
 * results arrive before the scheme calls the job done, and the scheme
 * decodes from those. Schemes without an encoder (uncoded, replication)
 * compute exact outputs.
 *
 * Worker outputs do not depend on timing, so the run has two phases:
 *   1. time: the latency workload's job loop (workload_job_loop_run) with
 *      hooks that record, per counted job, the set of workers whose results
 *      arrived before it was done;
 *   2. computation: jobs in ordinal order, in chunks of ~CHUNK_ROWS coded
 *      queries: draw the queries, encode each job (one sgemm), forward the
 *      whole chunk (batch_forward: fixed batches of BATCH_FORWARD_ROWS rows
 *      spread over the workload's threads), decode each job from its
 *      arrived set (cached D_F, one dgemm), and score it against the labels
 *      and the model's own outputs on the queries.
 * Metrics: the latency workload's, plus accuracy (decoded argmax vs label),
 * agreement (decoded argmax vs the model's argmax on the query), rmse
 * (sqrt of the mean squared difference of decoded and exact logits, over
 * queries and logits), base_accuracy (the model on the same queries),
 * queries. A job row's `extra` is its fraction of correct decoded queries.
 *
 * workload.weights names a weights file, or a directory holding
 * <model>.bin files (so one config can sweep workload.model).
 *
 * The test set is kept for the process's lifetime (one data directory at
 * a time), and the model's logits on it for one model and weights file at
 * a time: the points of a sweep share them. The logits are computed in fixed blocks of the test set, so
 * they are the same bits whichever point asked for them first: a point's
 * numbers do not depend on the points run before it in the process, nor on
 * the thread count (the run loop keeps OpenBLAS single-threaded during a
 * point; workload_set_threads sets the forward threads). Does not train or
 * know what a scheme's code is.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models/batch_forward.h"
#include "models/fmnist.h"
#include "models/model.h"
#include "models/weights.h"
#include "schemes/scheme.h"
#include "sim/cluster.h"
#include "base/rng.h"
#include "workloads/workload.h"

enum {
    CHUNK_ROWS = 1024,        /* coded queries per batched forward pass */
    VALIDATION_IMAGES = 5000, /* held out of the training set (fmnist_split) */
    LOGIT_BLOCK = 16,         /* test images per block of base logits: one forward batch */
    LOGIT_GROUP = 64,         /* blocks per batch_forward_run call */
};

/* ---- the process-lifetime data: test set, base logits, validation ---- */

static struct {
    char data_dir[4096], model[64], weights[4096];
    struct fmnist test;
    float *logits;        /* test.n x m: the model's outputs, computed on demand */
    unsigned char *have;  /* per block of LOGIT_BLOCK images: 1 known, 2 wanted */
    float *group_x, *group_y; /* a group of wanted blocks: images and logits */
    float *validation;    /* VALIDATION_IMAGES x validation_d, or NULL until asked */
    uint64_t validation_seed;
    int validation_d;
    bool loaded;
} data;

static void data_reset(void)
{
    fmnist_free(&data.test);
    free(data.logits);
    free(data.have);
    free(data.group_x);
    free(data.group_y);
    free(data.validation);
    memset(&data, 0, sizeof data);
}

/* Another model or weights file on the same test set: only what the model
 * computed goes (a sweep over workload.model, checked and then run, would
 * otherwise decompress the test set once per change of model, and the
 * training set for the validation images once per change of model and point
 * that tunes on them). */
static void data_forget_model(void)
{
    free(data.logits);
    free(data.have);
    free(data.group_y);
    data.logits = data.group_y = NULL;
    data.have = NULL;
    data.model[0] = data.weights[0] = '\0';
}

static int data_load(const char *dir, const char *model, const char *weights, int m,
                     struct error *err)
{
    bool same_set = data.loaded && strcmp(data.data_dir, dir) == 0;
    if (same_set && strcmp(data.model, model) == 0 && strcmp(data.weights, weights) == 0)
        return STRAG_OK;
    if (same_set) {
        data_forget_model();
    } else {
        data_reset();
        int rc = fmnist_load(dir, FMNIST_TEST, &data.test, err);
        if (rc)
            return rc;
        data.group_x =
            malloc((size_t)LOGIT_GROUP * LOGIT_BLOCK * FMNIST_PIXELS * sizeof *data.group_x);
    }
    data.loaded = false; /* until the model's part is allocated */
    data.logits = malloc(data.test.n * m * sizeof *data.logits);
    data.have = calloc((data.test.n + LOGIT_BLOCK - 1) / LOGIT_BLOCK, 1);
    data.group_y = malloc((size_t)LOGIT_GROUP * LOGIT_BLOCK * m * sizeof *data.group_y);
    if (!data.logits || !data.have || !data.group_x || !data.group_y) {
        data_reset();
        return error_fail(err, "out of memory");
    }
    snprintf(data.data_dir, sizeof data.data_dir, "%s", dir);
    snprintf(data.model, sizeof data.model, "%s", model);
    snprintf(data.weights, sizeof data.weights, "%s", weights);
    data.loaded = true;
    return STRAG_OK;
}

/* Makes sure the base logits of images idx[0..count) are known. They are
 * computed by whole blocks of LOGIT_BLOCK consecutive test images, each
 * block one forward batch, so an image's logits never depend on which other
 * images a point asked for, or when. Small blocks: a smoke-sized point asks
 * for a few hundred images and computes little more. */
static int data_base_logits(struct batch_forward *bf, int d, int m, const int *idx, int count,
                            struct error *err)
{
    size_t blocks = (data.test.n + LOGIT_BLOCK - 1) / LOGIT_BLOCK, group[LOGIT_GROUP];
    for (int i = 0; i < count; i++)
        if (!data.have[idx[i] / LOGIT_BLOCK])
            data.have[idx[i] / LOGIT_BLOCK] = 2;
    int rc = STRAG_OK;
    for (size_t b = 0; !rc && b < blocks;) {
        size_t ng = 0, rows = 0; /* up to LOGIT_GROUP wanted blocks */
        for (; b < blocks && ng < LOGIT_GROUP; b++)
            if (data.have[b] == 2) {
                group[ng++] = b;
                rows += LOGIT_BLOCK; /* a short last block is the last rows of the call */
            }
        if (ng == 0)
            break;
        size_t last = group[ng - 1] * LOGIT_BLOCK, tail = data.test.n - last < LOGIT_BLOCK
                                                            ? data.test.n - last : LOGIT_BLOCK;
        /* consecutive blocks are run where they lie; others are gathered
         * (each block is one forward batch either way: the same bits) */
        bool consecutive = group[ng - 1] - group[0] == ng - 1;
        const float *x = data.test.images + group[0] * LOGIT_BLOCK * d;
        float *y = data.logits + group[0] * LOGIT_BLOCK * m;
        if (!consecutive) {
            for (size_t g = 0; g < ng; g++) {
                size_t first = group[g] * LOGIT_BLOCK, n = data.test.n - first < LOGIT_BLOCK
                                                               ? data.test.n - first : LOGIT_BLOCK;
                memcpy(data.group_x + g * LOGIT_BLOCK * d, data.test.images + first * d,
                       n * d * sizeof(float));
            }
            x = data.group_x;
            y = data.group_y;
        }
        rc = batch_forward_run(bf, x, rows - LOGIT_BLOCK + tail, LOGIT_BLOCK, y, err);
        for (size_t g = 0; g < ng; g++) {
            size_t first = group[g] * LOGIT_BLOCK, n = data.test.n - first < LOGIT_BLOCK
                                                           ? data.test.n - first : LOGIT_BLOCK;
            if (!rc && !consecutive)
                memcpy(data.logits + first * m, data.group_y + g * LOGIT_BLOCK * m,
                       n * m * sizeof(float));
            data.have[group[g]] = rc ? 0 : 1;
        }
    }
    return rc;
}

/* ---- phase 1: which workers' results arrived, per counted job ---- */

struct inference_run {
    int words;              /* uint64 words of a worker bitset */
    uint64_t warmup, counted;
    uint64_t *open;         /* per cluster job handle: arrived bitset */
    size_t open_handles;
    uint64_t *arrived;      /* per counted job (ordinal - warmup): bitset */
    uint64_t finished;      /* counted jobs done */
    bool failed;
};

static void hook_result(void *ctx, struct cluster *cl, const struct cluster_result *r)
{
    (void)cl;
    struct inference_run *s = ctx;
    if (r->job >= s->open_handles) { /* handles are small and reused: grow */
        size_t n = s->open_handles ? s->open_handles : 64;
        while (n <= r->job)
            n *= 2;
        uint64_t *grown = realloc(s->open, n * s->words * sizeof *grown);
        if (!grown) {
            s->failed = true;
            return;
        }
        memset(grown + s->open_handles * s->words, 0,
               (n - s->open_handles) * s->words * sizeof *grown);
        s->open = grown;
        s->open_handles = n;
    }
    /* the tag is the coded row (scheme.h; fanout's tag is the worker) */
    s->open[(size_t)r->job * s->words + r->tag / 64] |= UINT64_C(1) << (r->tag % 64);
}

static void hook_done(void *ctx, struct cluster *cl, uint32_t job, uint64_t index, double latency)
{
    (void)cl;
    (void)latency;
    struct inference_run *s = ctx;
    if (job >= s->open_handles) /* no result at all (cannot happen for these schemes) */
        return;
    uint64_t *bits = s->open + (size_t)job * s->words;
    if (index >= s->warmup && index - s->warmup < s->counted) {
        memcpy(s->arrived + (index - s->warmup) * s->words, bits, s->words * sizeof *bits);
        s->finished++;
    }
    memset(bits, 0, s->words * sizeof *bits);
}

/* ---- phase 2: the computation ---- */

/* K distinct indices below n (Floyd's algorithm), sorted increasingly. */
static void queries_draw(struct rng *r, int n, int k, int *out)
{
    int have = 0;
    for (int j = n - k; j < n; j++) {
        int t = (int)rng_below(r, (uint64_t)j + 1), dup = 0;
        for (int i = 0; i < have && !dup; i++)
            dup = out[i] == t;
        out[have++] = dup ? j : t;
    }
    for (int a = 1; a < k; a++)
        for (int b = a; b > 0 && out[b - 1] > out[b]; b--) {
            int t = out[b];
            out[b] = out[b - 1];
            out[b - 1] = t;
        }
}

struct score {
    uint64_t queries, correct, agree, base_correct;
    double sse; /* over queries x logits */
};

struct compute {
    struct model *model;
    struct batch_forward *bf; /* the model's forward passes over the threads */
    const struct scheme_ops *ops;
    void *scheme;
    int k, coded, d, m, workers, chunk_jobs;
    uint64_t seed, point_key;
    int *idx;        /* chunk_jobs x k query indices */
    float *X;        /* chunk_jobs x k x d */
    float *Xc;       /* chunk_jobs x coded x d */
    float *Yc;       /* chunk_jobs x coded x m */
    float *Y;        /* k x m decoded */
    int *returned;   /* workers */
};

static void score_job(const struct compute *c, const int *idx, const float *Y, struct score *sc,
                      double *fraction)
{
    int m = c->m, correct = 0;
    for (int j = 0; j < c->k; j++) {
        const float *exact = data.logits + (size_t)idx[j] * m, *got = Y + (size_t)j * m;
        int label = data.test.labels[idx[j]];
        int pred = model_argmax(got, m), base = model_argmax(exact, m);
        correct += pred == label;
        sc->agree += pred == base;
        sc->base_correct += base == label;
        for (int i = 0; i < m; i++)
            sc->sse += ((double)got[i] - exact[i]) * ((double)got[i] - exact[i]);
    }
    sc->correct += (uint64_t)correct;
    sc->queries += (uint64_t)c->k;
    *fraction = (double)correct / c->k;
}

/* Jobs first .. first+count-1 (counted ordinals). */
static int compute_chunk(struct compute *c, const struct inference_run *run, uint64_t first,
                         int count, struct score *sc, struct job_row *rows, struct error *err)
{
    int k = c->k, d = c->d, m = c->m, rc;
    for (int b = 0; b < count; b++) {
        struct rng r;
        rng_seed(&r, c->seed, c->point_key, RNG_DATA, (uint32_t)(run->warmup + first + b));
        queries_draw(&r, (int)data.test.n, k, c->idx + (size_t)b * k);
    }
    if ((rc = data_base_logits(c->bf, d, m, c->idx, count * k, err)))
        return rc;
    bool coded = c->ops->infer_encode != NULL;
    if (coded) {
        for (int b = 0; b < count; b++) {
            float *X = c->X + (size_t)b * k * d;
            for (int j = 0; j < k; j++)
                memcpy(X + (size_t)j * d, data.test.images + (size_t)c->idx[b * k + j] * d,
                       (size_t)d * sizeof *X);
            c->ops->infer_encode(c->scheme, X, d, c->Xc + (size_t)b * c->coded * d);
        }
        if (c->ops->infer_forward) /* the scheme's own worker networks */
            rc = c->ops->infer_forward(c->scheme, c->Xc, count, c->Yc, err);
        else
            rc = batch_forward_run(c->bf, c->Xc, (size_t)count * c->coded, BATCH_FORWARD_ROWS,
                                   c->Yc, err);
        if (rc)
            return rc;
    }
    for (int b = 0; b < count; b++) {
        const int *idx = c->idx + (size_t)b * k;
        const float *Y = c->Y;
        if (coded) {
            const uint64_t *bits = run->arrived + (first + b) * run->words;
            int nf = 0;
            for (int w = 0; w < c->coded; w++)
                if (bits[w / 64] >> (w % 64) & 1)
                    c->returned[nf++] = w;
            if ((rc = c->ops->infer_decode(c->scheme, c->returned, nf,
                                           c->Yc + (size_t)b * c->coded * m, m, c->Y, err)))
                return rc;
        } else {
            for (int j = 0; j < k; j++)
                memcpy(c->Y + (size_t)j * m, data.logits + (size_t)idx[j] * m,
                       (size_t)m * sizeof *Y);
        }
        double fraction;
        score_job(c, idx, Y, sc, &fraction);
        for (int j = 0; coded && c->ops->infer_scored && j < k; j++)
            c->ops->infer_scored(c->scheme, j,
                                 model_argmax(Y + (size_t)j * m, m) == data.test.labels[idx[j]]);
        if (rows)
            rows[first + b].extra = fraction;
    }
    return STRAG_OK;
}

static void compute_free(struct compute *c)
{
    batch_forward_free(c->bf);
    free(c->idx);
    free(c->X);
    free(c->Xc);
    free(c->Yc);
    free(c->Y);
    free(c->returned);
}

static int compute_alloc(struct compute *c, struct error *err)
{
    c->chunk_jobs = CHUNK_ROWS / c->coded > 0 ? CHUNK_ROWS / c->coded : 1;
    size_t jobs = (size_t)c->chunk_jobs, rows = jobs * (c->coded > c->k ? c->coded : c->k);
    c->idx = malloc(jobs * c->k * sizeof *c->idx);
    c->X = malloc(jobs * c->k * c->d * sizeof *c->X);
    c->Xc = malloc(rows * c->d * sizeof *c->Xc);
    c->Yc = malloc(rows * c->m * sizeof *c->Yc);
    c->Y = malloc((size_t)c->k * c->m * sizeof *c->Y);
    c->returned = malloc((size_t)(c->workers > c->coded ? c->workers : c->coded) *
                         sizeof *c->returned);
    if (!c->idx || !c->X || !c->Xc || !c->Yc || !c->Y || !c->returned)
        return error_fail(err, "out of memory");
    return STRAG_OK;
}

/* ---- setup ---- */

static int forward_threads = 1; /* workload_set_threads */

void workload_set_threads(int threads) { forward_threads = threads > 0 ? threads : 1; }

/* scheme_infer.validation: the last VALIDATION_IMAGES of the training set
 * under fmnist_split(seed), loaded once per process and seed. */
struct validation_ctx {
    uint64_t seed;
    int d;
};

static int validation_load(uint64_t seed, int d, struct error *err);

static int validation_get(void *ctx, const float **x, int *n, struct error *err)
{
    const struct validation_ctx *v = ctx;
    int rc = validation_load(v->seed, v->d, err);
    *x = rc ? NULL : data.validation;
    *n = rc ? 0 : VALIDATION_IMAGES;
    return rc;
}

static int validation_load(uint64_t seed, int d, struct error *err)
{
    if (data.validation && data.validation_seed == seed && data.validation_d == d)
        return STRAG_OK;
    free(data.validation);
    data.validation = NULL;
    struct fmnist train = {0};
    int rc = fmnist_load(data.data_dir, FMNIST_TRAIN, &train, err);
    if (rc)
        return rc;
    int *perm = malloc(train.n * sizeof *perm);
    int *labels = malloc(VALIDATION_IMAGES * sizeof *labels);
    data.validation = malloc((size_t)VALIDATION_IMAGES * d * sizeof *data.validation);
    if (!perm || !labels || !data.validation || train.n < VALIDATION_IMAGES) {
        free(data.validation);
        data.validation = NULL;
        rc = train.n < VALIDATION_IMAGES
                 ? error_at(err, data.data_dir, 0, "fewer than %d training images",
                            VALIDATION_IMAGES)
                 : error_fail(err, "out of memory");
    } else {
        fmnist_split(train.n, seed, perm);
        fmnist_gather(&train, perm + train.n - VALIDATION_IMAGES, VALIDATION_IMAGES,
                      data.validation, labels);
        data.validation_seed = seed;
        data.validation_d = d;
    }
    free(perm);
    free(labels);
    fmnist_free(&train);
    return rc;
}

/* What a point needs before its simulation: the scheme (created and
 * prepared for inference), the model with its weights, the test data. On
 * failure what was built is still in c (c->model, c->scheme) for the caller
 * to free. */
static int inference_setup(const struct params *p, uint64_t seed, uint64_t point_key,
                           struct compute *c, struct validation_ctx *vctx, struct scheme_infer *inf,
                           struct error *err)
{
    int workers = (int)params_int(p, "cluster.workers");
    const struct scheme_ops *ops;
    int rc = scheme_for_workload(p, SCHEME_INFERENCE, "inference", &ops, err);
    if (rc)
        return rc;
    if (!params_has(p, "workload.weights"))
        return error_at_key(err, p, "workload.weights", "required by the inference workload");
    const char *model_name = params_string(p, "workload.model");
    /* relative paths are relative to the config file's directory */
    char weights[4096], dir[4096];
    if (!params_path(p, "workload.weights", weights, sizeof weights) ||
        !params_path(p, "workload.data_dir", dir, sizeof dir))
        return error_at_key(err, p, "workload.weights", "path too long");
    struct stat st;
    size_t wl = strlen(weights);
    if (stat(weights, &st) == 0 && S_ISDIR(st.st_mode) &&
        snprintf(weights + wl, sizeof weights - wl, "/%s.bin", model_name) >= (int)(sizeof weights - wl))
        return error_at_key(err, p, "workload.weights", "path too long");

    *c = (struct compute){.ops = ops, .workers = workers, .seed = seed, .point_key = point_key};
    struct scheme_env env = {.params = p, .workers = workers, .seed = seed,
                             .point_key = point_key};
    rc = model_new(&c->model, model_name, err);
    if (rc) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        return error_at_key(err, p, "workload.model", "%s", why);
    }
    rc = weights_load(c->model, weights, err);
    if (!rc)
        rc = data_load(dir, model_name, weights, c->model->outputs, err);
    if (!rc)
        rc = ops->create(&env, &c->scheme, err);
    *vctx = (struct validation_ctx){.seed = seed, .d = c->model->input_size};
    *inf = (struct scheme_infer){
        .queries = params_has(p, "workload.queries") ? (int)params_int(p, "workload.queries")
                                                     : workers,
        .input_size = c->model->input_size,
        .outputs = c->model->outputs,
        .model = c->model,
        .ctx = vctx,
        .validation = validation_get,
    };
    if (!rc && ops->infer_prepare)
        rc = ops->infer_prepare(c->scheme, inf, err);
    if (!rc && ops->infer_encode && (inf->coded < 1 || inf->coded > workers))
        rc = error_fail(err, "scheme '%s' encodes into %d queries for %d workers", ops->name,
                        inf->coded, workers);
    if (!rc && inf->queries > (int)data.test.n)
        rc = error_at_key(err, p, "workload.queries", "%d queries exceed the %zu test images",
                          inf->queries, data.test.n);
    return rc;
}

static int inference_check(const struct params *p, uint64_t seed, uint64_t point_key,
                           struct error *err)
{
    struct compute c = {0};
    struct validation_ctx vctx;
    struct scheme_infer inf;
    int rc = inference_setup(p, seed, point_key, &c, &vctx, &inf, err);
    if (c.scheme)
        c.ops->free(c.scheme);
    model_free(c.model);
    return rc;
}

int workload_inference_run(const struct params *p, uint64_t seed, uint64_t point_key,
                           struct workload_output *out, struct error *err)
{
    memset(out, 0, sizeof *out);
    struct compute c = {0};
    struct validation_ctx vctx;
    struct scheme_infer inf;
    int rc = inference_setup(p, seed, point_key, &c, &vctx, &inf, err);
    if (!c.model) { /* nothing built */
        if (c.scheme)
            c.ops->free(c.scheme);
        return rc;
    }
    const struct scheme_ops *ops = c.ops;
    void *scheme = c.scheme;
    int workers = c.workers;
    struct inference_run run = {.words = (workers + 63) / 64};
    c.k = inf.queries;
    c.coded = ops->infer_encode ? inf.coded : c.k;
    c.d = c.model->input_size;
    c.m = c.model->outputs;

    /* phase 1: time */
    run.warmup = (uint64_t)params_int(p, "workload.warmup");
    run.counted = (uint64_t)params_int(p, "workload.jobs");
    if (!rc) {
        run.arrived = calloc(run.counted * run.words, sizeof *run.arrived);
        if (!run.arrived)
            rc = error_fail(err, "out of memory");
    }
    if (!rc) {
        struct job_loop_hooks hooks = {.ctx = &run, .ops = ops, .scheme = scheme,
                                       .result = hook_result, .done = hook_done};
        rc = workload_job_loop_run(p, seed, point_key, &hooks, out, err);
        if (!rc && run.failed)
            rc = error_fail(err, "out of memory during the simulation");
    }

    /* phase 2: computation, in ordinal order */
    struct score sc = {0};
    if (!rc)
        rc = batch_forward_new(&c.bf, c.model, forward_threads, err);
    if (!rc)
        rc = compute_alloc(&c, err);
    for (uint64_t first = 0; !rc && first < run.finished; first += (uint64_t)c.chunk_jobs) {
        int count = (int)(run.finished - first < (uint64_t)c.chunk_jobs ? run.finished - first
                                                                         : (uint64_t)c.chunk_jobs);
        rc = compute_chunk(&c, &run, first, count, &sc, out->jobs, err);
    }
    if (!rc) {
        struct metric_list *m = &out->metrics;
        double q = (double)sc.queries;
        int bad = metric_list_set(m, "accuracy", q ? sc.correct / q : metric_undefined()) |
                  metric_list_set(m, "agreement", q ? sc.agree / q : metric_undefined()) |
                  metric_list_set(m, "rmse", q ? sqrt(sc.sse / (q * c.m)) : metric_undefined()) |
                  metric_list_set(m, "base_accuracy", q ? sc.base_correct / q : metric_undefined()) |
                  metric_list_set(m, "queries", q);
        if (ops->add_metrics) /* again: prepare and decode may have added to them */
            ops->add_metrics(scheme, m);
        if (bad)
            rc = error_fail(err, "out of memory");
    }
    compute_free(&c);
    free(run.open);
    free(run.arrived);
    if (scheme)
        ops->free(scheme);
    model_free(c.model);
    if (rc)
        workload_output_free(out);
    return rc;
}

const struct workload_ops workload_inference = {
    .name = "inference",
    .summary = "jobs of test queries through an inference scheme, coded or exact",
    .scheme_bit = SCHEME_INFERENCE,
    .run = workload_inference_run,
    .check = inference_check,
};
