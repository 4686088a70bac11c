/* linear_code.h: the shared core of the linear coded-inference schemes
 * (berrut, nercc, lagrange). Latency side: a fanout, one task of cost 1/K
 * to each of the N workers (worker w computes coded query w), the job done
 * at the `need`-th result. Inference side: the N x K encoder E applied by
 * one sgemm per job, decoding matrices D_F from the scheme's builder cached
 * by straggler pattern (decode_cache.h), decoding by one dgemm. What E and
 * D_F are, and how `need` is chosen, is each scheme's business; the node
 * sets and matrices live in code_berrut / code_spline / code_lagrange.
 */
#ifndef STRAG_LINEAR_CODE_H
#define STRAG_LINEAR_CODE_H

#include <stdint.h>

#include "schemes/codes/decode_cache.h"
#include "schemes/common/fanout.h"
#include "schemes/scheme.h"

struct linear_code {
    struct fanout fan; /* first member: the fanout ops take the scheme as self */
    int n, k;          /* workers (coded queries) and queries per job */
    float *E;          /* n x k, row-major */
    struct decode_cache *cache; /* D_F (k x |F|) by pattern */
    double *gathered;  /* scratch: returned rows of Yc (n x m) in double */
    double *decoded;   /* scratch: k x m */
    int m;             /* outputs the scratch is sized for */
};

/* Sets up the fanout over workers 0..n-1 (cost = scheme.task_cost or 1/k)
 * and the cache; D_F comes from build(ctx, ...). E starts unset
 * (linear_code_set_encoder). */
int linear_code_init(struct linear_code *c, const struct scheme_env *env, int n, int k, int need,
                     decode_build_fn build, void *ctx, struct error *err);
void linear_code_release(struct linear_code *c);

/* Copies E (n x k, double) into the code. */
void linear_code_set_encoder(struct linear_code *c, const double *E);

/* Xc (n x d) = E X, X (k x d). */
void linear_code_encode(const struct linear_code *c, const float *X, int d, float *Xc);

/* Y (k x m) = D_F Yc[F] for F = returned[0..nf-1] (increasing). */
int linear_code_decode(struct linear_code *c, const int *returned, int nf, const float *Yc, int m,
                       float *Y, struct error *err);

/* The size of a code: N workers and K queries per job. With
 * scheme.coded_workers = cluster, N = cluster.workers and K =
 * workload.queries (default: the largest K that N allows, k_of_n(N));
 * with `minimal`, K = workload.queries (required) and N = n_of_k(K), the
 * fewest workers the scheme needs (berrut: K + S), at most cluster.workers;
 * the other workers get no task. */
int linear_code_size(const struct scheme_env *env, int (*k_of_n)(const void *, int),
                     int (*n_of_k)(const void *, int), const void *arg, int *n, int *k,
                     struct error *err);

/* The scheme.coded_workers key, for the schemes' key tables. */
#define LINEAR_CODE_SIZE_KEY                                                                           {"scheme.coded_workers", KEY_ENUM, "cluster", 0, 0, 0, "cluster|minimal",                           "coded schemes: N = cluster.workers, or the fewest N the scheme needs for K = "                    "workload.queries (berrut, nercc: K + S; the rest of the cluster idles)"}

/* Adds decode_patterns (distinct D_F built) and decode_cache_hit_rate. */
void linear_code_add_metrics(const struct linear_code *c, struct metric_list *out);

/* The scheme_ops latency members every linear code shares. */
#define LINEAR_CODE_LATENCY_OPS                                                                    \
    .job_state_size = fanout_job_state_size, .job_start = fanout_job_start,                        \
    .on_result = fanout_on_result

#endif
