/* bspline.c: the `bspline` scheme, BSCC (Basis-Spline Assisted Coded
 * Computing, Borah, Harshan & Lalitha, arXiv 2601.10616). The K queries are
 * encoded through an interpolatory basis at the data nodes,
 * u(z) = sum_j X_j Phi_j(z), Phi_j(alpha_i) = delta_ij, and worker n gets
 * u(beta_n); the job is done at N - S results; the master fits the
 * interpolating spline of degree scheme.spline_degree (the paper: cubic) in
 * the B-spline basis through the returned (beta_n, f(u(beta_n))) and reads
 * it at the data nodes (code_bspline.h has the mathematics, linear_code.h
 * the GEMMs and the pattern cache).
 *
 * What the paper's text available to us leaves open (doc/coded-inference.md,
 * "BSCC (B-spline)") is a key: the encoder basis (Berrut's, Lagrange's, or
 * the same spline), the two node sets, the boundary condition, the degree,
 * what the spline is beyond the returned end nodes.
 */
#include <stdlib.h>
#include <string.h>

#include "schemes/codes/code_berrut.h"
#include "schemes/codes/code_bspline.h"
#include "schemes/codes/code_lagrange.h"
#include "schemes/codes/linear_code.h"

struct bspline {
    struct linear_code code; /* first member (fanout ops) */
    int degree;
    enum bspline_boundary bc;
    enum bspline_extension ext;
    double *alpha, *beta; /* data nodes (k), worker nodes (n) */
    double *sites;        /* scratch for the decoder (n) */
};

static const struct config_key bspline_keys[] = {
    {"scheme.stragglers", KEY_INT, "1", 0, 1e6, 0, NULL,
     "coded schemes: results not waited for (the job is done at workers - stragglers)"},
    {"scheme.spline_degree", KEY_INT, "3", 1, 7, 0, NULL,
     "bspline: odd degree of the decoding spline (the paper: 3, cubic)"},
    {"scheme.boundary", KEY_ENUM, "not-a-knot", 0, 0, 0, "not-a-knot|natural",
     "bspline: end conditions of the decoding spline (natural: degree 3 only)"},
    {"scheme.extrapolate", KEY_ENUM, "polynomial", 0, 0, 0, "polynomial|linear",
     "bspline: the spline beyond the returned end nodes: its end pieces continued, or the "
     "line of its end value and slope"},
    {"scheme.encoder", KEY_ENUM, "berrut", 0, 0, 0, "berrut|lagrange|spline",
     "bspline: interpolatory basis of the encoder: Berrut's, Lagrange's, or the decoder's spline"},
    {"scheme.nodes", KEY_ENUM, "n-1", 0, 0, 0, "n|n-1|uniform",
     "bspline: worker nodes cos(n pi/N), cos(n pi/(N-1)) or N equispaced in [-1, 1]"},
    {"scheme.data_nodes", KEY_ENUM, "chebyshev", 0, 0, 0, "chebyshev|uniform",
     "bspline: data nodes cos((2j+1) pi/(2K)), or K equispaced in the open interval (-1, 1)"},
    LINEAR_CODE_SIZE_KEY,
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};
/* advise's grid (scheme.h) */
static const struct scheme_search_axis bspline_search[] = {
    {"scheme.stragglers", "1..n/4"},
    {NULL, NULL},
};

static int bspline_build(void *ctx, const int *returned, int nf, double *D, struct error *err)
{
    struct bspline *s = ctx;
    for (int l = 0; l < nf; l++)
        s->sites[l] = s->beta[returned[l]];
    return bspline_interp_matrix(s->sites, nf, s->degree, s->bc, s->ext, s->alpha, s->code.k,
                                 D, err);
}

static void bspline_free(void *self)
{
    struct bspline *s = self;
    if (!s)
        return;
    linear_code_release(&s->code);
    free(s->alpha);
    free(s->beta);
    free(s->sites);
    free(s);
}

/* E (n x k) through the basis scheme.encoder names. */
static int bspline_set_encoder(struct bspline *s, const char *basis, struct error *err)
{
    int n = s->code.n, k = s->code.k, rc = STRAG_OK;
    double *E = malloc((size_t)n * k * sizeof *E);
    if (!E)
        return error_fail(err, "out of memory");
    if (strcmp(basis, "lagrange") == 0)
        rc = lagrange_encoder(s->alpha, k, s->beta, n, E, err);
    else if (strcmp(basis, "spline") == 0)
        rc = bspline_interp_matrix(s->alpha, k, s->degree, s->bc, s->ext, s->beta, n, E, err);
    else
        berrut_encoder(s->alpha, k, s->beta, n, E);
    if (!rc)
        linear_code_set_encoder(&s->code, E);
    free(E);
    return rc;
}

/* Sizing: N = K + S. */
static int bspline_n_of_k(const void *arg, int k)
{
    return k + *(const int *)arg;
}

static int bspline_k_of_n(const void *arg, int n)
{
    return n - *(const int *)arg;
}

static int bspline_create(const struct scheme_env *env, void **self, struct error *err)
{
    const struct params *p = env->params;
    int S = (int)params_int(p, "scheme.stragglers"), k = 0, n = 0;
    int degree = (int)params_int(p, "scheme.spline_degree");
    enum bspline_boundary bc = strcmp(params_string(p, "scheme.boundary"), "natural") == 0
                                   ? BSPLINE_NATURAL
                                   : BSPLINE_NOT_A_KNOT;
    const char *basis = params_string(p, "scheme.encoder");
    if (degree % 2 == 0)
        return error_at_key(err, p, "scheme.spline_degree", "must be odd (got %d)", degree);
    if (bc == BSPLINE_NATURAL && degree != 3)
        return error_at_key(err, p, "scheme.boundary", "natural needs scheme.spline_degree = 3 "
                            "(got %d)", degree);
    int status = linear_code_size(env, bspline_k_of_n, bspline_n_of_k, &S, &n, &k, err);
    if (status)
        return status;
    int need = bspline_min_sites(degree, bc);
    if (n - S < need)
        return error_at_key(err, p, "scheme.stragglers",
                            "N - S = %d returned results (N = %d, S = %d) are too few for a "
                            "degree-%d spline (needs %d)", n - S, n, S, degree, need);
    if (strcmp(basis, "spline") == 0 && k < need)
        return error_at_key(err, p, "scheme.encoder",
                            "spline needs K >= %d queries for a degree-%d spline (K = %d)", need,
                            degree, k);
    struct bspline *s = calloc(1, sizeof *s);
    if (!s)
        return error_fail(err, "out of memory");
    status = linear_code_init(&s->code, env, n, k, n - S, bspline_build, s, err);
    if (status) {
        free(s);
        return status;
    }
    s->degree = degree;
    s->bc = bc;
    bool linear = strcmp(params_string(p, "scheme.extrapolate"), "linear") == 0;
    s->ext = linear ? BSPLINE_EXTEND_LINEAR : BSPLINE_EXTEND_POLYNOMIAL;
    s->alpha = malloc((size_t)k * sizeof *s->alpha);
    s->beta = malloc((size_t)n * sizeof *s->beta);
    s->sites = malloc((size_t)n * sizeof *s->sites);
    if (!s->alpha || !s->beta || !s->sites) {
        bspline_free(s);
        return error_fail(err, "out of memory");
    }
    const char *wn = params_string(p, "scheme.nodes");
    if (strcmp(wn, "uniform") == 0)
        for (int i = 0; i < n; i++)
            s->beta[i] = n > 1 ? 1.0 - 2.0 * i / (n - 1) : 0.0;
    else
        berrut_worker_nodes(n, strcmp(wn, "n-1") == 0 ? BERRUT_NODES_N_MINUS1 : BERRUT_NODES_N,
                            s->beta);
    if (strcmp(params_string(p, "scheme.data_nodes"), "uniform") == 0)
        for (int j = 0; j < k; j++)
            s->alpha[j] = 1.0 - (2.0 * j + 1.0) / k;
    else
        berrut_data_nodes(k, s->alpha);
    if ((status = bspline_set_encoder(s, basis, err))) {
        bspline_free(s);
        return status;
    }
    *self = s;
    return STRAG_OK;
}

static int bspline_prepare(void *self, struct scheme_infer *inf, struct error *err)
{
    (void)err;
    struct bspline *s = self;
    inf->queries = s->code.k;
    inf->coded = s->code.n;
    return STRAG_OK;
}

static void bspline_encode(const void *self, const float *X, int d, float *Xc)
{
    linear_code_encode(self, X, d, Xc);
}

static int bspline_decode(void *self, const int *returned, int nf, const float *Yc, int m,
                          float *Y, struct error *err)
{
    struct bspline *s = self;
    return linear_code_decode(&s->code, returned, nf, Yc, m, Y, err);
}

static void bspline_add_metrics(const void *self, struct metric_list *out)
{
    const struct bspline *s = self;
    linear_code_add_metrics(&s->code, out);
}

const struct scheme_ops scheme_bspline = {
    .name = "bspline",
    .summary = "BSCC: interpolatory encoder, cubic B-spline interpolation decoder, wait for N - S",
    .workloads = SCHEME_LATENCY | SCHEME_INFERENCE,
    .keys = bspline_keys,
    .search = bspline_search,
    .create = bspline_create,
    LINEAR_CODE_LATENCY_OPS,
    .add_metrics = bspline_add_metrics,
    .free = bspline_free,
    .infer_prepare = bspline_prepare,
    .infer_encode = bspline_encode,
    .infer_decode = bspline_decode,
};
