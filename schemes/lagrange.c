/* lagrange.c: the `lagrange` scheme (Lagrange coded computing, Yu et al.
 * 2019) over the reals. The K queries are encoded by the degree K-1
 * polynomial through them at Chebyshev data nodes, sampled at N worker
 * nodes (code_lagrange.h).
 *   exact mode (scheme.degree = deg f >= 1, for a polynomial model): the job
 *     is done at R = (K-1) deg f + 1 results, and the degree R-1 polynomial
 *     through R of them (spread over the returned set, for conditioning)
 *     recovers f at the data nodes exactly, up to rounding;
 *   approximate mode (scheme.degree = 0, for neural networks): the job is
 *     done at N - S results and all of them are interpolated (Runge-prone:
 *     the baseline that BACC and NeRCC improve on).
 */
#include <stdlib.h>
#include <string.h>

#include "schemes/codes/code_berrut.h"
#include "schemes/codes/code_lagrange.h"
#include "schemes/codes/linear_code.h"

struct lagrange {
    struct linear_code code; /* first member (fanout ops) */
    int degree, recovery;    /* deg f (0: approximate) and results used */
    double *alpha, *z;
    int *used;               /* scratch: the returned workers interpolated */
};

static const struct config_key lagrange_keys[] = {
    {"scheme.stragglers", KEY_INT, "1", 0, 1e6, 0, NULL,
     "coded schemes: results not waited for (the job is done at workers - stragglers)"},
    {"scheme.degree", KEY_INT, "0", 0, 64, 0, NULL,
     "lagrange: degree of a polynomial model (exact recovery from (K-1) deg + 1 results); "
     "0: approximate mode, interpolate the N - S returned results"},
    {"scheme.nodes", KEY_ENUM, "chebyshev", 0, 0, 0, "chebyshev|n|n-1",
     "lagrange: worker nodes: N Chebyshev points of the first kind, cos(n pi/N), cos(n pi/(N-1))"},
    LINEAR_CODE_SIZE_KEY,
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};
/* advise's grid (scheme.h) */
static const struct scheme_search_axis lagrange_search[] = {
    {"scheme.stragglers", "1..n/4"},
    {NULL, NULL},
};

/* The `recovery` results to interpolate: all of F, or R spread evenly over it. */
static int lagrange_pick(const struct lagrange *s, const int *returned, int nf, int *used)
{
    int R = s->degree > 0 && s->recovery < nf ? s->recovery : nf;
    for (int i = 0; i < R; i++)
        used[i] = returned[R > 1 ? (int)((long)i * (nf - 1) / (R - 1)) : 0];
    return R;
}

static int lagrange_build(void *ctx, const int *returned, int nf, double *D, struct error *err)
{
    /* D is k x nf over the whole returned set: workers not interpolated get 0 */
    struct lagrange *s = ctx;
    int k = s->code.k, R = lagrange_pick(s, returned, nf, s->used);
    double *Dr = malloc((size_t)k * R * sizeof *Dr);
    if (!Dr)
        return error_fail(err, "out of memory");
    int rc = lagrange_decoder(s->alpha, k, s->z, s->used, R, Dr, err);
    memset(D, 0, (size_t)k * nf * sizeof *D);
    for (int l = 0, u = 0; !rc && l < nf && u < R; l++)
        if (returned[l] == s->used[u]) {
            for (int j = 0; j < k; j++)
                D[(size_t)j * nf + l] = Dr[(size_t)j * R + u];
            u++;
        }
    free(Dr);
    return rc;
}

static void lagrange_free(void *self)
{
    struct lagrange *s = self;
    if (!s)
        return;
    linear_code_release(&s->code);
    free(s->alpha);
    free(s->z);
    free(s->used);
    free(s);
}

/* Sizing: N = R + S with R = (K-1) deg + 1 results (exact) or K (approximate). */
struct lagrange_size {
    int S, deg;
};

static int lagrange_n_of_k(const void *arg, int k)
{
    const struct lagrange_size *z = arg;
    return (z->deg > 0 ? (k - 1) * z->deg + 1 : k) + z->S;
}

static int lagrange_k_of_n(const void *arg, int n)
{
    const struct lagrange_size *z = arg;
    return z->deg > 0 ? (n - z->S - 1) / z->deg + 1 : n - z->S;
}

static int lagrange_create(const struct scheme_env *env, void **self, struct error *err)
{
    const struct params *p = env->params;
    int S = (int)params_int(p, "scheme.stragglers"), k = 0, n = 0;
    int deg = (int)params_int(p, "scheme.degree");
    struct lagrange_size size = {S, deg};
    int status = linear_code_size(env, lagrange_k_of_n, lagrange_n_of_k, &size, &n, &k, err);
    if (status)
        return status;
    int R = deg > 0 ? (k - 1) * deg + 1 : n - S;
    struct lagrange *s = calloc(1, sizeof *s);
    if (!s)
        return error_fail(err, "out of memory");
    status = linear_code_init(&s->code, env, n, k, R, lagrange_build, s, err);
    if (status) {
        free(s);
        return status;
    }
    s->degree = deg;
    s->recovery = R;
    s->alpha = malloc((size_t)k * sizeof *s->alpha);
    s->z = malloc((size_t)n * sizeof *s->z);
    s->used = malloc((size_t)n * sizeof *s->used);
    double *E = malloc((size_t)n * k * sizeof *E);
    if (!s->alpha || !s->z || !s->used || !E) {
        free(E);
        lagrange_free(s);
        return error_fail(err, "out of memory");
    }
    const char *nodes = params_string(p, "scheme.nodes");
    lagrange_chebyshev_nodes(k, s->alpha);
    if (strcmp(nodes, "chebyshev") == 0)
        lagrange_chebyshev_nodes(n, s->z);
    else
        berrut_worker_nodes(n, strcmp(nodes, "n-1") == 0 ? BERRUT_NODES_N_MINUS1 : BERRUT_NODES_N,
                            s->z);
    status = lagrange_encoder(s->alpha, k, s->z, n, E, err);
    if (!status)
        linear_code_set_encoder(&s->code, E);
    free(E);
    if (status) {
        lagrange_free(s);
        return status;
    }
    *self = s;
    return STRAG_OK;
}

static int lagrange_prepare(void *self, struct scheme_infer *inf, struct error *err)
{
    (void)err;
    struct lagrange *s = self;
    inf->queries = s->code.k;
    inf->coded = s->code.n;
    return STRAG_OK;
}

static void lagrange_encode(const void *self, const float *X, int d, float *Xc)
{
    linear_code_encode(self, X, d, Xc);
}

static int lagrange_decode(void *self, const int *returned, int nf, const float *Yc, int m,
                           float *Y, struct error *err)
{
    struct lagrange *s = self;
    return linear_code_decode(&s->code, returned, nf, Yc, m, Y, err);
}

static void lagrange_add_metrics(const void *self, struct metric_list *out)
{
    const struct lagrange *s = self;
    linear_code_add_metrics(&s->code, out);
    metric_list_set(out, "recovery_threshold", s->recovery);
}

const struct scheme_ops scheme_lagrange = {
    .name = "lagrange",
    .summary = "Lagrange coded computing: exact for polynomial models, approximate otherwise",
    .workloads = SCHEME_LATENCY | SCHEME_INFERENCE,
    .keys = lagrange_keys,
    .search = lagrange_search,
    .create = lagrange_create,
    LINEAR_CODE_LATENCY_OPS,
    .add_metrics = lagrange_add_metrics,
    .free = lagrange_free,
    .infer_prepare = lagrange_prepare,
    .infer_encode = lagrange_encode,
    .infer_decode = lagrange_decode,
};
