/* nercc.c: the `nercc` scheme (NeRCC, Moradi & Maddah-Ali, arXiv 2402.04377):
 * the encoder is the natural cubic smoothing spline through the K queries
 * at the data nodes, sampled at the N worker nodes; the decoder is the
 * smoothing spline through the returned outputs, sampled at the data nodes
 * (code_spline.h: Reinsch form, mean-normalised lambda, linear extension
 * outside the knots). lambda = 0 is spline interpolation.
 *
 * lambda_enc and lambda_dec are fixed in the config or, when either is
 * unset, chosen jointly on validation queries (held-out training images) by
 * a grid search over scheme.lambda_grid that minimises the decoded MSE
 * against the model's own outputs under S stragglers chosen uniformly at
 * random (the same patterns for every grid point). The values used are
 * reported as the metrics lambda_enc and lambda_dec, and (when searched) recorded
 * in the run's params as scheme.lambda_enc and scheme.lambda_dec.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "schemes/codes/code_spline.h"
#include "schemes/codes/linear_code.h"
#include "base/rng.h"

enum { NERCC_MAX_GRID = 32 };

struct nercc {
    struct linear_code code; /* first member (fanout ops) */
    int stragglers;
    double lambda_enc, lambda_dec;
    bool tune;               /* grid search at prepare */
    double grid[NERCC_MAX_GRID];
    int ngrid, validation_jobs;
    double *alpha, *beta;    /* data nodes (k), worker nodes (n) */
    double *knots;           /* scratch for the decoder (n) */
    uint64_t seed, point_key;
};

static const struct config_key nercc_keys[] = {
    {"scheme.stragglers", KEY_INT, "1", 0, 1e6, 0, NULL,
     "coded schemes: results not waited for (the job is done at workers - stragglers)"},
    {"scheme.nodes", KEY_ENUM, "n", 0, 0, 0, "n|n-1|uniform",
     "nercc: worker nodes cos(n pi/N), cos(n pi/(N-1)) or N equispaced in [-1, 1]"},
    {"scheme.data_nodes", KEY_ENUM, "chebyshev", 0, 0, 0, "chebyshev|uniform",
     "nercc: data nodes cos((2j+1) pi/(2K)), or K equispaced in the open interval (-1, 1)"},
    {"scheme.lambda_enc", KEY_REAL, NULL, 0, INFINITY, 0, NULL,
     "nercc: encoder smoothing (mean-normalised); unset: grid search with lambda_dec"},
    {"scheme.lambda_dec", KEY_REAL, NULL, 0, INFINITY, 0, NULL,
     "nercc: decoder smoothing (mean-normalised); unset: grid search with lambda_enc"},
    {"scheme.lambda_grid", KEY_REAL, "0,1e-8,1e-7,1e-6,1e-5,1e-4,1e-3", 0, INFINITY, KEY_LIST,
     NULL, "nercc: candidate lambdas of the grid search (both axes)"},
    {"scheme.validation_jobs", KEY_INT, "40", 1, 100000, 0, NULL,
     "nercc: jobs of K validation queries the grid search decodes per candidate"},
    LINEAR_CODE_SIZE_KEY,
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};
/* advise's grid (scheme.h) */
static const struct scheme_search_axis nercc_search[] = {
    {"scheme.stragglers", "1..n/4"},
    {NULL, NULL},
};

static int nercc_build(void *ctx, const int *returned, int nf, double *D, struct error *err)
{
    struct nercc *s = ctx;
    for (int l = 0; l < nf; l++)
        s->knots[l] = s->beta[returned[l]];
    return spline_matrix(s->knots, nf, s->lambda_dec, s->alpha, s->code.k, D, err);
}

static void nercc_free(void *self)
{
    struct nercc *s = self;
    if (!s)
        return;
    linear_code_release(&s->code);
    free(s->alpha);
    free(s->beta);
    free(s->knots);
    free(s);
}

static int nercc_set_encoder(struct nercc *s, struct error *err)
{
    int n = s->code.n, k = s->code.k;
    double *E = malloc((size_t)n * k * sizeof *E);
    if (!E)
        return error_fail(err, "out of memory");
    int rc = spline_matrix(s->alpha, k, s->lambda_enc, s->beta, n, E, err);
    if (!rc)
        linear_code_set_encoder(&s->code, E);
    free(E);
    return rc;
}

/* Sizing: N = K + S. */
static int nercc_n_of_k(const void *arg, int k)
{
    return k + *(const int *)arg;
}

static int nercc_k_of_n(const void *arg, int n)
{
    return n - *(const int *)arg;
}

static int nercc_create(const struct scheme_env *env, void **self, struct error *err)
{
    const struct params *p = env->params;
    int S = (int)params_int(p, "scheme.stragglers"), k = 0, n = 0;
    int status = linear_code_size(env, nercc_k_of_n, nercc_n_of_k, &S, &n, &k, err);
    if (status)
        return status;
    struct nercc *s = calloc(1, sizeof *s);
    if (!s)
        return error_fail(err, "out of memory");
    status = linear_code_init(&s->code, env, n, k, n - S, nercc_build, s, err);
    if (status) {
        free(s);
        return status;
    }
    s->stragglers = S;
    s->seed = env->seed;
    s->point_key = env->point_key;
    s->tune = !params_has(p, "scheme.lambda_enc") || !params_has(p, "scheme.lambda_dec");
    s->lambda_enc = params_real(p, "scheme.lambda_enc");
    s->lambda_dec = params_real(p, "scheme.lambda_dec");
    s->ngrid = params_real_list(p, "scheme.lambda_grid", s->grid, NERCC_MAX_GRID);
    s->validation_jobs = (int)params_int(p, "scheme.validation_jobs");
    if (s->ngrid < 1) {
        nercc_free(s);
        return error_at_key(err, p, "scheme.lambda_grid", "needs 1 to %d values", NERCC_MAX_GRID);
    }
    s->alpha = malloc((size_t)k * sizeof *s->alpha);
    s->beta = malloc((size_t)n * sizeof *s->beta);
    s->knots = malloc((size_t)n * sizeof *s->knots);
    if (!s->alpha || !s->beta || !s->knots) {
        nercc_free(s);
        return error_fail(err, "out of memory");
    }
    spline_worker_nodes(params_string(p, "scheme.nodes"), n, s->beta);
    spline_data_nodes(params_string(p, "scheme.data_nodes"), k, s->alpha);
    if (!s->tune && (status = nercc_set_encoder(s, err))) {
        nercc_free(s);
        return status;
    }
    *self = s;
    return STRAG_OK;
}

/* The grid search (see the file comment). V validation jobs of K queries:
 * for each lambda_enc one batched forward of the V*N coded queries, then for
 * each lambda_dec the decoded MSE over the same straggler patterns. */
static int nercc_tune(struct nercc *s, const struct scheme_infer *inf, struct error *err)
{
    int n = s->code.n, k = s->code.k, d = inf->input_size, m = inf->outputs;
    int S = s->stragglers, nf = n - S, nval = 0;
    const float *val = NULL;
    int status = inf->validation ? inf->validation(inf->ctx, &val, &nval, err)
                                 : error_fail(err, "nercc: no validation queries to tune on");
    if (status)
        return status;
    int V = nval / k < s->validation_jobs ? nval / k : s->validation_jobs;
    if (V < 1)
        return error_fail(err, "nercc: %d validation queries are fewer than K = %d", nval, k);
    size_t coded_rows = (size_t)V * n;
    float *Xc = malloc(coded_rows * d * sizeof *Xc);
    float *Yc = malloc(coded_rows * m * sizeof *Yc);
    float *Yexact = malloc((size_t)V * k * m * sizeof *Yexact);
    float *Yhat = malloc((size_t)k * m * sizeof *Yhat);
    int *patterns = malloc((size_t)V * nf * sizeof *patterns);
    int *perm = malloc((size_t)n * sizeof *perm);
    if (!Xc || !Yc || !Yexact || !Yhat || !patterns || !perm) {
        status = error_fail(err, "out of memory");
        goto out;
    }
    const float *logits = NULL;
    if ((status = model_forward(inf->model, val, V * k, &logits, err)))
        goto out;
    memcpy(Yexact, logits, (size_t)V * k * m * sizeof *Yexact);
    struct rng r;
    rng_seed(&r, s->seed, s->point_key, RNG_SCHEME, 1);
    for (int v = 0; v < V; v++) { /* N - S returned workers, uniformly at random, sorted */
        for (int i = 0; i < n; i++)
            perm[i] = i;
        rng_shuffle_int(&r, perm, (size_t)n);
        int *f = patterns + (size_t)v * nf;
        memcpy(f, perm, (size_t)nf * sizeof *f);
        for (int a = 1; a < nf; a++)
            for (int b = a; b > 0 && f[b - 1] > f[b]; b--) {
                int t = f[b];
                f[b] = f[b - 1];
                f[b - 1] = t;
            }
    }
    double best = INFINITY, best_enc = 0.0, best_dec = 0.0;
    for (int ge = 0; ge < s->ngrid; ge++) {
        s->lambda_enc = s->grid[ge];
        if ((status = nercc_set_encoder(s, err)))
            goto out;
        for (int v = 0; v < V; v++)
            linear_code_encode(&s->code, val + (size_t)v * k * d, d,
                               Xc + (size_t)v * n * d);
        if ((status = model_forward(inf->model, Xc, (int)coded_rows, &logits, err)))
            goto out;
        memcpy(Yc, logits, coded_rows * m * sizeof *Yc);
        for (int gd = 0; gd < s->ngrid; gd++) {
            s->lambda_dec = s->grid[gd];
            /* the cache holds D_F for one lambda_dec: rebuild it per candidate */
            decode_cache_free(s->code.cache);
            s->code.cache = decode_cache_new(n, k, 0, nercc_build, s);
            if (!s->code.cache) {
                status = error_fail(err, "out of memory");
                goto out;
            }
            double sse = 0.0;
            for (int v = 0; v < V; v++) {
                if ((status = linear_code_decode(&s->code, patterns + (size_t)v * nf, nf,
                                                 Yc + (size_t)v * n * m, m, Yhat, err)))
                    goto out;
                const float *want = Yexact + (size_t)v * k * m;
                for (int i = 0; i < k * m; i++)
                    sse += ((double)Yhat[i] - want[i]) * ((double)Yhat[i] - want[i]);
            }
            if (sse < best) {
                best = sse;
                best_enc = s->grid[ge];
                best_dec = s->grid[gd];
            }
        }
    }
    s->lambda_enc = best_enc;
    s->lambda_dec = best_dec;
    status = nercc_set_encoder(s, err);
    decode_cache_free(s->code.cache);
    s->code.cache = decode_cache_new(n, k, 0, nercc_build, s);
    if (!status && !s->code.cache)
        status = error_fail(err, "out of memory");
out:
    free(Xc);
    free(Yc);
    free(Yexact);
    free(Yhat);
    free(patterns);
    free(perm);
    return status;
}

static int nercc_prepare(void *self, struct scheme_infer *inf, struct error *err)
{
    struct nercc *s = self;
    inf->queries = s->code.k;
    inf->coded = s->code.n;
    return s->tune ? nercc_tune(s, inf, err) : STRAG_OK;
}

static void nercc_encode(const void *self, const float *X, int d, float *Xc)
{
    linear_code_encode(self, X, d, Xc);
}

static int nercc_decode(void *self, const int *returned, int nf, const float *Yc, int m, float *Y,
                        struct error *err)
{
    struct nercc *s = self;
    return linear_code_decode(&s->code, returned, nf, Yc, m, Y, err);
}

static void nercc_add_metrics(const void *self, struct metric_list *out)
{
    const struct nercc *s = self;
    linear_code_add_metrics(&s->code, out);
    metric_list_set(out, "lambda_enc", s->lambda_enc);
    metric_list_set(out, "lambda_dec", s->lambda_dec);
    if (s->tune) { /* the grid search's choice goes into the run's params too */
        metric_list_set(out, METRIC_PARAM_PREFIX "scheme.lambda_enc", s->lambda_enc);
        metric_list_set(out, METRIC_PARAM_PREFIX "scheme.lambda_dec", s->lambda_dec);
    }
}

const struct scheme_ops scheme_nercc = {
    .name = "nercc",
    .summary = "nested-regression coded inference (smoothing-spline encoder and decoder)",
    .workloads = SCHEME_LATENCY | SCHEME_INFERENCE,
    .keys = nercc_keys,
    .search = nercc_search,
    .create = nercc_create,
    LINEAR_CODE_LATENCY_OPS,
    .add_metrics = nercc_add_metrics,
    .free = nercc_free,
    .infer_prepare = nercc_prepare,
    .infer_encode = nercc_encode,
    .infer_decode = nercc_decode,
};
