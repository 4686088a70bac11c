/* learned_lagrange.c: the `learned-lagrange` scheme serving side (the
 * method of llc_model.h, after Tang et al., arXiv 2307.04915). The K
 * queries of a job are Lagrange-encoded onto the N = cluster.workers
 * workers (a task of cost 1/K each), every worker runs the trained worker
 * network, the job is done at R = scheme.recovery_threshold results
 * (default N - scheme.stragglers), and the master interpolates those R to
 * the data nodes and runs the trained decoder. Comparable with `berrut` and
 * `lagrange` at equal (N, K, S).
 * scheme.design = feature: each worker gets the job's K images, runs the
 * trained feature extractor on them and encodes the features itself; the
 * master interpolates and decodes. A task's cost is then its FLOPs over K
 * passes of the base model (workload.model, also on the latency workload),
 * the rule the input design's 1/K follows when its worker has the base
 * model's shape (the default).
 * Metrics: master_flops_per_query, worker_flops_per_query (all N tasks)
 * and task_flops (one worker's), from llc_flops_of.
 * Weights: <scheme.learned_weights>.{worker,decoder[,feature]}.bin
 * (`stragsim train` with train.target = learned-lagrange).
 */
#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "schemes/common/fanout.h"
#include "schemes/learned_lagrange_model.h"
#include "schemes/scheme.h"

struct learned_lagrange {
    struct fanout fan; /* first member: the fanout ops take the scheme as self */
    const struct params *params;
    struct llc_shape shape;
    struct llc_nets *nets;
    int *rows;         /* workers: 0..N-1, for llc_encode */
};

static const struct config_key learned_lagrange_keys[] = {
    {"scheme.stragglers", KEY_INT, "1", 0, 1e6, 0, NULL,
     "coded schemes: results not waited for (the job is done at workers - stragglers)"},
    {"scheme.recovery_threshold", KEY_INT, NULL, 1, 100000, 0, NULL,
     "learned-lagrange: results interpolated, R (default workers - stragglers)"},
    {"scheme.worker_model", KEY_STRING, LLC_DEFAULT_WORKER, 0, 0, 0, NULL,
     "learned-lagrange: worker network spec on a coded query ('784: ' prepended without ':')"},
    {"scheme.decoder_model", KEY_STRING, LLC_DEFAULT_DECODER, 0, 0, 0, NULL,
     "split, learned-lagrange: master decoder network spec (input size prepended without ':')"},
    {"scheme.learned_weights", KEY_PATH, NULL, 0, 0, 0, NULL,
     "stem of a learned code's weights files: <stem>.<part>.bin per network"},
    {"scheme.design", KEY_ENUM, "input", 0, 0, 0, "input|feature",
     "learned-lagrange: the master encodes images (input) or workers encode features (feature)"},
    {"scheme.feature_model", KEY_STRING, NULL, 0, 0, 0, NULL,
     "learned-lagrange, design = feature: feature extractor spec on an image ('784: ' "
     "prepended; default " LLC_DEFAULT_FEATURE ")"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};
/* advise's grid (scheme.h) */
static const struct scheme_search_axis learned_lagrange_search[] = {
    {"scheme.stragglers", "1..n/4"},
    {NULL, NULL},
};

static void ll_free(void *self)
{
    struct learned_lagrange *s = self;
    if (!s)
        return;
    llc_nets_free(s->nets);
    free(s->rows);
    free(s);
}

static int ll_create(const struct scheme_env *env, void **self, struct error *err)
{
    const struct params *p = env->params;
    struct learned_lagrange *s = calloc(1, sizeof *s);
    if (!s)
        return error_fail(err, "out of memory");
    *self = s;
    s->params = p;
    int N = env->workers, S = (int)params_int(p, "scheme.stragglers");
    s->shape = (struct llc_shape){
        .K = params_has(p, "workload.queries") ? (int)params_int(p, "workload.queries") : 1,
        .N = N,
        .R = params_has(p, "scheme.recovery_threshold")
                 ? (int)params_int(p, "scheme.recovery_threshold")
                 : N - S,
        .worker_model = params_string(p, "scheme.worker_model"),
        .decoder_model = params_string(p, "scheme.decoder_model"),
    };
    struct error e;
    if (llc_check(&s->shape, &e))
        return error_at_key(err, p,
                            params_has(p, "scheme.recovery_threshold") ? "scheme.recovery_threshold"
                                                                       : "scheme.stragglers",
                            "%s", e.msg);
    int rc = llc_shape_design(p, &s->shape, err);
    if (rc)
        return rc;
    if (s->shape.design == LLC_DESIGN_FEATURE) { /* its own key for a bad extractor spec */
        struct model *f;
        if (learned_net_new(&f, s->shape.feature_model ? s->shape.feature_model
                                                       : LLC_DEFAULT_FEATURE,
                            (struct act_shape){1, FMNIST_ROWS, FMNIST_COLS}, 1, 42, &e))
            return error_at_key(err, p, "scheme.feature_model", "%s", e.msg);
        model_free(f);
    }
    if ((rc = llc_nets_new(&s->shape, 1, &s->nets, &e)))
        return error_at_key(err, p, "scheme.worker_model", "%s", e.msg);
    double cost = 1.0 / s->shape.K;
    if (s->shape.design == LLC_DESIGN_FEATURE && !params_has(p, "scheme.task_cost")) {
        struct model *base; /* workload.model always has a value (default mlp) */
        if ((rc = model_new(&base, params_string(p, "workload.model"), &e)))
            return error_at_key(err, p, "workload.model", "%s", e.msg);
        cost = llc_flops_of(s->nets).worker_task / (s->shape.K * base->flops);
        model_free(base);
    }
    s->rows = malloc((size_t)N * sizeof *s->rows);
    if (!s->rows)
        return error_fail(err, "out of memory");
    for (int w = 0; w < N; w++)
        s->rows[w] = w;
    s->fan = (struct fanout){.workers = N, .need = s->shape.R,
                             .cost = scheme_task_cost(p, cost)};
    return STRAG_OK;
}

static int ll_infer_prepare(void *self, struct scheme_infer *inf, struct error *err)
{
    struct learned_lagrange *s = self;
    const struct params *p = s->params;
    if (!params_has(p, "workload.queries") || inf->queries != s->shape.K)
        return error_at_key(err, p, "workload.queries",
                            "learned-lagrange needs workload.queries (K)");
    if (inf->input_size != FMNIST_PIXELS)
        return error_at_key(err, p, "workload.model",
                            "learned-lagrange encodes 28x28 images; the model takes %d inputs",
                            inf->input_size);
    char stem[4096];
    if (!params_path(p, "scheme.learned_weights", stem, sizeof stem))
        return error_at_key(err, p, "scheme.learned_weights",
                            "missing: the stem of the worker and decoder weights "
                            "(train.target = learned-lagrange)");
    int rc;
    if ((rc = llc_nets_load(s->nets, stem, err)))
        return rc;
    if (s->nets->worker->outputs != inf->outputs)
        return error_at_key(err, p, "scheme.worker_model",
                            "the worker outputs %d floats; the workload's model outputs %d",
                            s->nets->worker->outputs, inf->outputs);
    inf->coded = s->shape.N;
    return STRAG_OK;
}

/* Input design: Xc (N x 784) the coded queries. Feature design: a worker's
 * input is the whole job (it reads the raw images), so Xc carries the K
 * images in its first K rows (K <= N, llc_shape_design) and zeros after;
 * ll_infer_forward does each worker's feature extraction and encoding. */
static void ll_infer_encode(const void *self, const float *X, int d, float *Xc)
{
    const struct learned_lagrange *s = self;
    if (s->shape.design == LLC_DESIGN_FEATURE) {
        size_t given = (size_t)s->shape.K * d, all = (size_t)s->shape.N * d;
        memcpy(Xc, X, given * sizeof *Xc);
        memset(Xc + given, 0, (all - given) * sizeof *Xc);
        return;
    }
    llc_encode(s->nets, X, s->rows, s->shape.N, Xc); /* d = 784, checked at prepare */
}

static int ll_infer_forward(void *self, const float *Xc, int jobs, float *Yc, struct error *err)
{
    struct learned_lagrange *s = self;
    int N = s->shape.N, m = s->nets->worker->outputs;
    if (s->shape.design == LLC_DESIGN_FEATURE) {
        int rc = STRAG_OK;
        for (int b = 0; !rc && b < jobs; b++)
            rc = llc_workers_forward(s->nets, Xc + (size_t)b * N * FMNIST_PIXELS, s->rows, N,
                                     Yc + (size_t)b * N * m, err);
        return rc;
    }
    const float *out;
    int rc = model_forward(s->nets->worker, Xc, jobs * N, &out, err);
    if (!rc)
        memcpy(Yc, out, (size_t)jobs * N * m * sizeof *Yc);
    return rc;
}

static int ll_infer_decode(void *self, const int *returned, int nf, const float *Yc, int m,
                           float *Y, struct error *err)
{
    struct learned_lagrange *s = self;
    float g[LLC_MAX_WORKERS * 64];
    if (m > 64)
        return error_fail(err, "learned-lagrange: %d outputs per worker (at most 64)", m);
    for (int l = 0; l < nf; l++)
        memcpy(g + (size_t)l * m, Yc + (size_t)returned[l] * m, (size_t)m * sizeof *g);
    return llc_decode(s->nets, returned, nf, g, Y, err);
}

static void ll_add_metrics(const void *self, struct metric_list *out)
{
    const struct learned_lagrange *s = self;
    struct llc_flops f = llc_flops_of(s->nets);
    metric_list_set(out, "master_flops_per_query", f.master_job / s->shape.K);
    metric_list_set(out, "worker_flops_per_query", f.worker_task * s->shape.N / s->shape.K);
    metric_list_set(out, "task_flops", f.worker_task);
}

const struct scheme_ops scheme_learned_lagrange = {
    .name = "learned-lagrange",
    .summary = "Lagrange-encoded queries, a trained worker network, interpolation of the "
               "first R results and a trained decoder",
    .workloads = SCHEME_LATENCY | SCHEME_INFERENCE,
    .keys = learned_lagrange_keys,
    .search = learned_lagrange_search,
    .create = ll_create,
    .job_state_size = fanout_job_state_size,
    .job_start = fanout_job_start,
    .on_result = fanout_on_result,
    .add_metrics = ll_add_metrics,
    .free = ll_free,
    .infer_prepare = ll_infer_prepare,
    .infer_encode = ll_infer_encode,
    .infer_forward = ll_infer_forward,
    .infer_decode = ll_infer_decode,
    .train = llc_train_command,
};
