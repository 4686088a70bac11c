/* berrut.c: the `berrut` scheme (BACC / ApproxIFER). The K queries of a job
 * are encoded by Berrut's rational interpolant at N worker nodes; the job is
 * done at N - S results; the decoder is Berrut's interpolant through the
 * returned nodes evaluated at the data nodes (code_berrut.h has the
 * mathematics, linear_code.h the GEMMs and the pattern cache).
 *
 * Optional Byzantine mode (scheme.adversaries = A > 0, ApproxIFER §3.2):
 * A of the returned workers, chosen at random per job, corrupt their whole
 * logit vector (sign flip, or added N(0, sigma^2) noise); the error locator
 * names A workers, they are dropped and the rest is Berrut-decoded. Sizing:
 * N >= 2K + 2A + S - 1. Metric adversaries_located: the fraction of
 * corrupted workers the locator named.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "schemes/codes/code_berrut.h"
#include "schemes/codes/linear_code.h"
#include "base/rng.h"

struct berrut {
    struct linear_code code; /* first member (fanout ops) */
    int stragglers, adversaries;
    bool noise_attack;
    double sigma;
    double *alpha, *z;   /* data nodes (k), worker nodes (n) */
    struct rng attack;   /* which workers are corrupted, and the noise */
    float *corrupt;      /* n x m copy of a job's outputs, Byzantine mode */
    double *rows;        /* nf x m returned rows for the locator */
    int *returned;       /* n */
    int m;
    uint64_t corrupted, located;
};

static const struct config_key berrut_keys[] = {
    {"scheme.stragglers", KEY_INT, "1", 0, 1e6, 0, NULL,
     "coded schemes: results not waited for (the job is done at workers - stragglers)"},
    {"scheme.nodes", KEY_ENUM, "n", 0, 0, 0, "n|n-1",
     "worker nodes cos(n pi/N) (ApproxIFER accuracy scripts) or cos(n pi/(N-1)) (BACC)"},
    {"scheme.adversaries", KEY_INT, "0", 0, 1e6, 0, NULL,
     "berrut: Byzantine workers per job, located and removed (N >= 2K + 2A + S - 1)"},
    {"scheme.attack", KEY_ENUM, "sign", 0, 0, 0, "sign|noise",
     "berrut: what an adversary does to its logits: flip their sign, or add N(0, sigma^2)"},
    {"scheme.attack_sigma", KEY_REAL, "100", 0, INFINITY, 0, NULL,
     "berrut: standard deviation of the noise attack"},
    LINEAR_CODE_SIZE_KEY,
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};
/* advise's grid (scheme.h) */
static const struct scheme_search_axis berrut_search[] = {
    {"scheme.stragglers", "1..n/4"},
    {NULL, NULL},
};

static int berrut_build(void *ctx, const int *returned, int nf, double *D, struct error *err)
{
    (void)err;
    const struct berrut *s = ctx;
    berrut_decoder(s->alpha, s->code.k, s->z, returned, nf, D);
    return STRAG_OK;
}

static void berrut_free(void *self)
{
    struct berrut *s = self;
    if (!s)
        return;
    linear_code_release(&s->code);
    free(s->alpha);
    free(s->z);
    free(s->corrupt);
    free(s->rows);
    free(s->returned);
    free(s);
}

/* Sizing: N = K + S, or N = 2K + 2A + S - 1 with A adversaries. */
struct berrut_size {
    int S, A;
};

static int berrut_n_of_k(const void *arg, int k)
{
    const struct berrut_size *z = arg;
    return z->A > 0 ? 2 * k + 2 * z->A + z->S - 1 : k + z->S;
}

static int berrut_k_of_n(const void *arg, int n)
{
    const struct berrut_size *z = arg;
    return z->A > 0 ? (n - z->S - 2 * z->A + 1) / 2 : n - z->S;
}

static int berrut_create(const struct scheme_env *env, void **self, struct error *err)
{
    const struct params *p = env->params;
    int S = (int)params_int(p, "scheme.stragglers");
    int A = (int)params_int(p, "scheme.adversaries"), k = 0, n = 0;
    if (A > 64)
        return error_at_key(err, p, "scheme.adversaries", "at most 64 (got %d)", A);
    struct berrut_size size = {S, A};
    int status = linear_code_size(env, berrut_k_of_n, berrut_n_of_k, &size, &n, &k, err);
    if (status)
        return status;
    struct berrut *s = calloc(1, sizeof *s);
    if (!s)
        return error_fail(err, "out of memory");
    status = linear_code_init(&s->code, env, n, k, n - S, berrut_build, s, err);
    if (status) {
        free(s);
        return status;
    }
    s->stragglers = S;
    s->adversaries = A;
    s->noise_attack = strcmp(params_string(p, "scheme.attack"), "noise") == 0;
    s->sigma = params_real(p, "scheme.attack_sigma");
    s->alpha = malloc((size_t)k * sizeof *s->alpha);
    s->z = malloc((size_t)n * sizeof *s->z);
    s->returned = malloc((size_t)n * sizeof *s->returned);
    double *E = malloc((size_t)n * k * sizeof *E);
    if (!s->alpha || !s->z || !s->returned || !E) {
        free(E);
        berrut_free(s);
        return error_fail(err, "out of memory");
    }
    bool lobatto = strcmp(params_string(p, "scheme.nodes"), "n-1") == 0;
    berrut_data_nodes(k, s->alpha);
    berrut_worker_nodes(n, lobatto ? BERRUT_NODES_N_MINUS1 : BERRUT_NODES_N, s->z);
    berrut_encoder(s->alpha, k, s->z, n, E);
    linear_code_set_encoder(&s->code, E);
    free(E);
    rng_seed(&s->attack, env->seed, env->point_key, RNG_SCHEME, 0);
    *self = s;
    return STRAG_OK;
}

static int berrut_prepare(void *self, struct scheme_infer *inf, struct error *err)
{
    struct berrut *s = self;
    inf->queries = s->code.k;
    inf->coded = s->code.n;
    if (s->adversaries > 0) {
        s->m = inf->outputs;
        s->corrupt = malloc((size_t)s->code.n * s->m * sizeof *s->corrupt);
        s->rows = malloc((size_t)s->code.n * s->m * sizeof *s->rows);
        if (!s->corrupt || !s->rows)
            return error_fail(err, "out of memory");
    }
    return STRAG_OK;
}

static void berrut_encode(const void *self, const float *X, int d, float *Xc)
{
    linear_code_encode(self, X, d, Xc);
}

/* Byzantine mode: corrupt A random returned rows, locate, drop, decode. */
static int berrut_decode_byzantine(struct berrut *s, const int *returned, int nf, const float *Yc,
                                   int m, float *Y, struct error *err)
{
    int A = s->adversaries < nf ? s->adversaries : nf, n = s->code.n;
    memcpy(s->corrupt, Yc, (size_t)n * m * sizeof *Yc);
    memcpy(s->returned, returned, (size_t)nf * sizeof *returned);
    int bad_true[64], bad_found[64]; /* A <= 64: checked at create */
    for (int a = 0; a < A; a++) { /* partial Fisher-Yates over the returned ranks */
        int pick = a + (int)rng_below(&s->attack, (uint64_t)(nf - a));
        int t = s->returned[a];
        s->returned[a] = s->returned[pick];
        s->returned[pick] = t;
        bad_true[a] = s->returned[a];
        float *row = s->corrupt + (size_t)bad_true[a] * m;
        for (int i = 0; i < m; i++)
            row[i] = s->noise_attack ? row[i] + (float)(s->sigma * rng_normal(&s->attack))
                                     : -row[i];
    }
    memcpy(s->returned, returned, (size_t)nf * sizeof *returned);
    for (int l = 0; l < nf; l++)
        for (int i = 0; i < m; i++)
            s->rows[(size_t)l * m + i] = s->corrupt[(size_t)s->returned[l] * m + i];
    int rc = berrut_locate_errors(s->z, s->returned, nf, s->code.k, A, s->rows, m, bad_found, err);
    if (rc)
        return rc;
    for (int a = 0; a < A; a++)
        for (int b = 0; b < A; b++)
            s->located += bad_found[a] == bad_true[b];
    s->corrupted += (uint64_t)A;
    int kept = berrut_remove_workers(s->returned, nf, bad_found, A);
    return linear_code_decode(&s->code, s->returned, kept, s->corrupt, m, Y, err);
}

static int berrut_decode(void *self, const int *returned, int nf, const float *Yc, int m,
                         float *Y, struct error *err)
{
    struct berrut *s = self;
    if (s->adversaries > 0)
        return berrut_decode_byzantine(s, returned, nf, Yc, m, Y, err);
    return linear_code_decode(&s->code, returned, nf, Yc, m, Y, err);
}

static void berrut_add_metrics(const void *self, struct metric_list *out)
{
    const struct berrut *s = self;
    linear_code_add_metrics(&s->code, out);
    if (s->adversaries > 0)
        metric_list_set(out, "adversaries_located",
                        s->corrupted ? (double)s->located / (double)s->corrupted : metric_undefined());
}

const struct scheme_ops scheme_berrut = {
    .name = "berrut",
    .summary = "Berrut approximate coded inference (BACC / ApproxIFER), wait for N - S",
    .workloads = SCHEME_LATENCY | SCHEME_INFERENCE,
    .keys = berrut_keys,
    .search = berrut_search,
    .create = berrut_create,
    LINEAR_CODE_LATENCY_OPS,
    .add_metrics = berrut_add_metrics,
    .free = berrut_free,
    .infer_prepare = berrut_prepare,
    .infer_encode = berrut_encode,
    .infer_decode = berrut_decode,
};
