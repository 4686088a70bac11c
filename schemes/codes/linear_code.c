/* linear_code.c: encode by sgemm, decode by cached D_F and dgemm (see
 * linear_code.h). */
#include "schemes/codes/linear_code.h"

#include <cblas.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int linear_code_init(struct linear_code *c, const struct scheme_env *env, int n, int k, int need,
                     decode_build_fn build, void *ctx, struct error *err)
{
    memset(c, 0, sizeof *c);
    c->fan = (struct fanout){.workers = n, .need = need,
                             .cost = scheme_task_cost(env->params, 1.0 / k)};
    c->n = n;
    c->k = k;
    c->E = calloc((size_t)n * k, sizeof *c->E);
    c->cache = decode_cache_new(n, k, 0, build, ctx);
    if (!c->E || !c->cache) {
        linear_code_release(c);
        return error_fail(err, "out of memory");
    }
    return STRAG_OK;
}

void linear_code_release(struct linear_code *c)
{
    free(c->E);
    decode_cache_free(c->cache);
    free(c->gathered);
    free(c->decoded);
    memset(c, 0, sizeof *c);
}

void linear_code_set_encoder(struct linear_code *c, const double *E)
{
    for (size_t i = 0; i < (size_t)c->n * c->k; i++)
        c->E[i] = (float)E[i];
}

void linear_code_encode(const struct linear_code *c, const float *X, int d, float *Xc)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->n, d, c->k, 1.0f, c->E, c->k, X, d,
                0.0f, Xc, d);
}

int linear_code_decode(struct linear_code *c, const int *returned, int nf, const float *Yc, int m,
                       float *Y, struct error *err)
{
    if (m > c->m) {
        free(c->gathered);
        free(c->decoded);
        c->gathered = malloc((size_t)c->n * m * sizeof *c->gathered);
        c->decoded = malloc((size_t)c->k * m * sizeof *c->decoded);
        c->m = m;
        if (!c->gathered || !c->decoded) {
            c->m = 0;
            return error_fail(err, "out of memory");
        }
    }
    const double *D = NULL;
    int rc = decode_cache_get(c->cache, returned, nf, &D, err);
    if (rc)
        return rc;
    for (int l = 0; l < nf; l++)
        for (int i = 0; i < m; i++)
            c->gathered[(size_t)l * m + i] = Yc[(size_t)returned[l] * m + i];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->k, m, nf, 1.0, D, nf, c->gathered,
                m, 0.0, c->decoded, m);
    for (size_t i = 0; i < (size_t)c->k * m; i++)
        Y[i] = (float)c->decoded[i];
    return STRAG_OK;
}

int linear_code_size(const struct scheme_env *env, int (*k_of_n)(const void *, int),
                     int (*n_of_k)(const void *, int), const void *arg, int *n, int *k,
                     struct error *err)
{
    const struct params *p = env->params;
    bool minimal = strcmp(params_string(p, "scheme.coded_workers"), "minimal") == 0;
    if (minimal) {
        if (!params_has(p, "workload.queries"))
            return error_at_key(err, p, "scheme.coded_workers",
                                "minimal needs workload.queries (K)");
        *k = (int)params_int(p, "workload.queries");
        *n = n_of_k(arg, *k);
        if (*n > env->workers)
            return error_at_key(err, p, "scheme.coded_workers",
                                "K = %d needs %d workers, cluster.workers is %d", *k, *n,
                                env->workers);
        return STRAG_OK;
    }
    *n = env->workers;
    *k = params_has(p, "workload.queries") ? (int)params_int(p, "workload.queries")
                                           : k_of_n(arg, *n);
    if (*k < 1 || n_of_k(arg, *k) > *n)
        return error_at_key(err, p, "workload.queries",
                            "K = %d queries need %d workers, cluster.workers is %d", *k,
                            *k < 1 ? 1 : n_of_k(arg, *k), *n);
    return STRAG_OK;
}

void linear_code_add_metrics(const struct linear_code *c, struct metric_list *out)
{
    uint64_t hits = decode_cache_hits(c->cache), misses = decode_cache_misses(c->cache);
    metric_list_set(out, "decode_patterns", (double)misses);
    metric_list_set(out, "decode_cache_hit_rate",
                    hits + misses ? (double)hits / (double)(hits + misses) : 0.0);
}
