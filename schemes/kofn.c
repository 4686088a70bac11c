/* kofn.c: k-of-n (the latency side of an (n,k) MDS code): one task of cost
 * 1/k to each of the `workers` workers, done at the k-th result; the other
 * n-k are cancelled when the driver finishes the job (cluster.cancel). Which
 * k results arrived does not matter here: decoding is the inference
 * workload's business. */
#include "schemes/common/fanout.h"

static const struct config_key kofn_keys[] = {
    {"scheme.k", KEY_INT, NULL, 1, 1e9, 0, NULL,
     "kofn: results needed per job (each task has cost 1/k)"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};
/* advise's grid (scheme.h) */
static const struct scheme_search_axis kofn_search[] = {
    {"scheme.k", "1..n"},
    {NULL, NULL},
};

static int kofn_create(const struct scheme_env *env, void **self, struct error *err)
{
    const struct params *p = env->params;
    if (!params_has(p, "scheme.k"))
        return error_at_key(err, p, "scheme.k", "required by kofn");
    long k = params_int(p, "scheme.k");
    if (k > env->workers)
        return error_at_key(err, p, "scheme.k", "%ld is more than cluster.workers (%d)", k,
                            env->workers);
    return fanout_new(env->workers, (int)k, scheme_task_cost(p, 1.0 / (double)k), self, err);
}

const struct scheme_ops scheme_kofn = {
    .name = "kofn",
    .summary = "one task of cost 1/k to every worker, done at k results",
    .workloads = SCHEME_LATENCY,
    .keys = kofn_keys,
    .search = kofn_search,
    .create = kofn_create,
    .job_state_size = fanout_job_state_size,
    .job_start = fanout_job_start,
    .on_result = fanout_on_result,
    .free = fanout_free,
};
