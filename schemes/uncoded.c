/* uncoded.c: the baseline. The job is split into `workers` tasks of cost
 * 1/workers, one per worker, and is done when all of them are: the slowest
 * worker sets the latency. */
#include "schemes/common/fanout.h"

static const struct config_key uncoded_keys[] = {
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};

static int uncoded_create(const struct scheme_env *env, void **self, struct error *err)
{
    double cost = scheme_task_cost(env->params, 1.0 / env->workers);
    return fanout_new(env->workers, env->workers, cost, self, err);
}

const struct scheme_ops scheme_uncoded = {
    .name = "uncoded",
    .summary = "split the job over all workers, wait for every part",
    .workloads = SCHEME_LATENCY | SCHEME_INFERENCE, /* inference: exact outputs */
    .keys = uncoded_keys,
    .create = uncoded_create,
    .job_state_size = fanout_job_state_size,
    .job_start = fanout_job_start,
    .on_result = fanout_on_result,
    .free = fanout_free,
};
