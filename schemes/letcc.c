/* letcc.c: the `letcc` scheme (LeTCC, Moradi, Tahmasebi & Maddah-Ali,
 * NeurIPS 2024, arXiv 2406.00300), NeRCC's successor by its authors. The
 * encoder u_enc minimises
 *     (1/K) sum_k ||u(alpha_k) - x_k||^2 + lambda_e int ||u''||^2
 * (the natural cubic smoothing spline through the K queries at the data
 * nodes), worker n computes f(u_enc(beta_n)); the decoder u_dec minimises
 *     (1/|F|) sum_{v in F} ||u(beta_v) - f(u_enc(beta_v))||^2 + lambda_d int ||u''||^2
 * over the returned set F, and the estimates are u_dec(alpha_k). The
 * splines are code_spline.h's (mean-normalised lambda, linear beyond the
 * knots), the same operators as nercc.
 *
 * Where it differs from nercc: lambda_d is set from N and S by the paper's
 * rates (code_letcc.h: scheme.lambda_setting, scheme.lambda_scale, measured
 * in scheme.lambda_units, by default relative to the workers' spacing), not by a
 * grid search on validation queries, so the scheme needs no validation
 * data; lambda_e = lambda_d unless set (our reading: the paper's bound
 * charges the encoder's roughness at the decoder's lambda_d, see
 * doc/coded-inference.md, "LeTCC"); and the default nodes are equispaced
 * (the paper's analysis), where nercc's are Chebyshev. scheme.lambda_enc and
 * scheme.lambda_dec fix either value by hand. The values used are the
 * metrics lambda_enc and lambda_dec.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "schemes/codes/code_letcc.h"
#include "schemes/codes/code_spline.h"
#include "schemes/codes/linear_code.h"

struct letcc {
    struct linear_code code; /* first member (fanout ops) */
    double lambda_enc, lambda_dec;
    double *alpha, *beta; /* data nodes (k), worker nodes (n) */
    double *knots;        /* scratch for the decoder (n) */
};

static const struct config_key letcc_keys[] = {
    {"scheme.stragglers", KEY_INT, "1", 0, 1e6, 0, NULL,
     "coded schemes: results not waited for (the job is done at workers - stragglers)"},
    {"scheme.nodes", KEY_ENUM, "uniform", 0, 0, 0, "n|n-1|uniform",
     "letcc: worker nodes N equispaced in [-1, 1], cos(n pi/N) or cos(n pi/(N-1))"},
    {"scheme.data_nodes", KEY_ENUM, "uniform", 0, 0, 0, "chebyshev|uniform",
     "letcc: data nodes K equispaced in the open interval (-1, 1), or cos((2j+1) pi/(2K))"},
    {"scheme.lambda_setting", KEY_ENUM, "noiseless", 0, 0, 0, "noiseless|noisy",
     "letcc: lambda_dec = scale (S/N)^3 (workers compute f exactly) or "
     "scale S^(8/5) N^(-3/5) (noisy results)"},
    {"scheme.lambda_scale", KEY_REAL, "1", 0, INFINITY, 0, NULL,
     "letcc: the constant c of the lambda_dec rule (the paper's bound leaves it open)"},
    {"scheme.lambda_units", KEY_ENUM, "workers", 0, 0, 0, "workers|interval",
     "letcc: lambda_dec = c r / (2 (pi N/2)^4) (r: the shrink at the workers' Nyquist "
     "frequency) or c r (r in the node interval's units; breaks down from N ~ 48)"},
    {"scheme.lambda_enc", KEY_REAL, NULL, 0, INFINITY, 0, NULL,
     "letcc: encoder smoothing (mean-normalised); unset: lambda_dec"},
    {"scheme.lambda_dec", KEY_REAL, NULL, 0, INFINITY, 0, NULL,
     "letcc: decoder smoothing (mean-normalised); unset: scheme.lambda_setting's rule"},
    LINEAR_CODE_SIZE_KEY,
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};
/* advise's grid (scheme.h) */
static const struct scheme_search_axis letcc_search[] = {
    {"scheme.stragglers", "1..n/4"},
    {NULL, NULL},
};

static int letcc_build(void *ctx, const int *returned, int nf, double *D, struct error *err)
{
    struct letcc *s = ctx;
    for (int l = 0; l < nf; l++)
        s->knots[l] = s->beta[returned[l]];
    return spline_matrix(s->knots, nf, s->lambda_dec, s->alpha, s->code.k, D, err);
}

static void letcc_free(void *self)
{
    struct letcc *s = self;
    if (!s)
        return;
    linear_code_release(&s->code);
    free(s->alpha);
    free(s->beta);
    free(s->knots);
    free(s);
}

/* Sizing: N = K + S, as nercc. */
static int letcc_n_of_k(const void *arg, int k)
{
    return k + *(const int *)arg;
}

static int letcc_k_of_n(const void *arg, int n)
{
    return n - *(const int *)arg;
}

static int letcc_create(const struct scheme_env *env, void **self, struct error *err)
{
    const struct params *p = env->params;
    int S = (int)params_int(p, "scheme.stragglers"), k = 0, n = 0;
    int status = linear_code_size(env, letcc_k_of_n, letcc_n_of_k, &S, &n, &k, err);
    if (status)
        return status;
    struct letcc *s = calloc(1, sizeof *s);
    if (!s)
        return error_fail(err, "out of memory");
    status = linear_code_init(&s->code, env, n, k, n - S, letcc_build, s, err);
    if (status) {
        free(s);
        return status;
    }
    enum letcc_setting setting = strcmp(params_string(p, "scheme.lambda_setting"), "noiseless") == 0
                                     ? LETCC_NOISELESS
                                     : LETCC_NOISY;
    enum letcc_units units = strcmp(params_string(p, "scheme.lambda_units"), "interval") == 0
                                 ? LETCC_INTERVAL
                                 : LETCC_WORKERS;
    s->lambda_dec = params_has(p, "scheme.lambda_dec")
                        ? params_real(p, "scheme.lambda_dec")
                        : letcc_lambda(setting, params_real(p, "scheme.lambda_scale"), n, S) *
                              letcc_units_factor(units, n);
    s->lambda_enc = params_has(p, "scheme.lambda_enc") ? params_real(p, "scheme.lambda_enc")
                                                       : s->lambda_dec;
    s->alpha = malloc((size_t)k * sizeof *s->alpha);
    s->beta = malloc((size_t)n * sizeof *s->beta);
    s->knots = malloc((size_t)n * sizeof *s->knots);
    double *E = malloc((size_t)n * k * sizeof *E);
    if (!s->alpha || !s->beta || !s->knots || !E) {
        free(E);
        letcc_free(s);
        return error_fail(err, "out of memory");
    }
    spline_worker_nodes(params_string(p, "scheme.nodes"), n, s->beta);
    spline_data_nodes(params_string(p, "scheme.data_nodes"), k, s->alpha);
    status = spline_matrix(s->alpha, k, s->lambda_enc, s->beta, n, E, err);
    if (!status)
        linear_code_set_encoder(&s->code, E);
    free(E);
    if (status) {
        letcc_free(s);
        return status;
    }
    *self = s;
    return STRAG_OK;
}

static int letcc_prepare(void *self, struct scheme_infer *inf, struct error *err)
{
    (void)err;
    struct letcc *s = self;
    inf->queries = s->code.k;
    inf->coded = s->code.n;
    return STRAG_OK;
}

static void letcc_encode(const void *self, const float *X, int d, float *Xc)
{
    linear_code_encode(self, X, d, Xc);
}

static int letcc_decode(void *self, const int *returned, int nf, const float *Yc, int m, float *Y,
                        struct error *err)
{
    struct letcc *s = self;
    return linear_code_decode(&s->code, returned, nf, Yc, m, Y, err);
}

static void letcc_add_metrics(const void *self, struct metric_list *out)
{
    const struct letcc *s = self;
    linear_code_add_metrics(&s->code, out);
    metric_list_set(out, "lambda_enc", s->lambda_enc);
    metric_list_set(out, "lambda_dec", s->lambda_dec);
}

const struct scheme_ops scheme_letcc = {
    .name = "letcc",
    .summary = "learning-theoretic coded inference (smoothing splines, lambda from N and S)",
    .workloads = SCHEME_LATENCY | SCHEME_INFERENCE,
    .keys = letcc_keys,
    .search = letcc_search,
    .create = letcc_create,
    LINEAR_CODE_LATENCY_OPS,
    .add_metrics = letcc_add_metrics,
    .free = letcc_free,
    .infer_prepare = letcc_prepare,
    .infer_encode = letcc_encode,
    .infer_decode = letcc_decode,
};
