/* replication.c: r-fold replication. The job is split into workers/r parts
 * of cost r/workers; part p goes to the r workers p*r .. p*r+r-1, and the
 * job is done when every part has one result. Replicas still running are
 * cancelled when the driver finishes the job (cluster.cancel); a replica
 * that finishes after its part is already done is counted as a duplicate
 * (wasted work, metric duplicate_results_per_job). */
#include "schemes/scheme.h"

#include <stdlib.h>

struct replication {
    int workers, r, parts;
    double cost;
    size_t mask_words; /* uint64_t words of the parts-done bitmask */
    uint64_t warmup;   /* jobs with a lower arrival ordinal are not counted */
    uint64_t jobs_counted, duplicates_counted;
};

/* Per-job state: cluster_job_state, replication_job_state_size bytes. */
struct replication_job {
    uint32_t parts_done;
    uint32_t duplicates;
    uint64_t done[]; /* bit p: part p has a result; mask_words words */
};

static const struct config_key replication_keys[] = {
    {"scheme.r", KEY_INT, NULL, 1, 1e9, 0, NULL,
     "replication: copies of each part (must divide cluster.workers)"},
    {NULL, 0, NULL, 0, 0, 0, NULL, NULL},
};
/* advise's grid (scheme.h) */
static const struct scheme_search_axis replication_search[] = {
    {"scheme.r", "2..n"},
    {NULL, NULL},
};

static int replication_create(const struct scheme_env *env, void **self, struct error *err)
{
    const struct params *p = env->params;
    if (!params_has(p, "scheme.r"))
        return error_at_key(err, p, "scheme.r", "required by replication");
    long r = params_int(p, "scheme.r");
    if (r > env->workers || env->workers % r != 0)
        return error_at_key(err, p, "scheme.r", "%ld does not divide cluster.workers (%d)", r,
                            env->workers);
    struct replication *s = malloc(sizeof *s);
    if (!s)
        return error_fail(err, "out of memory");
    int parts = env->workers / (int)r;
    *s = (struct replication){
        .workers = env->workers,
        .r = (int)r,
        .parts = parts,
        .cost = scheme_task_cost(p, (double)r / env->workers),
        .mask_words = ((size_t)parts + 63) / 64,
        .warmup = (uint64_t)params_int(p, "workload.warmup"),
    };
    *self = s;
    return STRAG_OK;
}

static size_t replication_job_state_size(const void *self)
{
    const struct replication *s = self;
    return sizeof(struct replication_job) + s->mask_words * sizeof(uint64_t);
}

static void replication_job_start(void *self, struct cluster *cl, uint32_t job)
{
    const struct replication *s = self;
    for (int w = 0; w < s->workers; w++)
        cluster_submit(cl, job, w, s->cost, w / s->r); /* tag: the part */
}

static bool replication_on_result(void *self, struct cluster *cl, const struct cluster_result *r)
{
    struct replication *s = self;
    struct replication_job *j = cluster_job_state(cl, r->job);
    uint64_t bit = UINT64_C(1) << (r->tag % 64);
    uint64_t *word = &j->done[r->tag / 64];
    if (*word & bit) {
        j->duplicates++;
        return false;
    }
    *word |= bit;
    if (++j->parts_done < (uint32_t)s->parts)
        return false;
    if (cluster_job_index(cl, r->job) >= s->warmup) {
        s->jobs_counted++;
        s->duplicates_counted += j->duplicates;
    }
    return true;
}

static void replication_add_metrics(const void *self, struct metric_list *out)
{
    const struct replication *s = self;
    double n = (double)s->jobs_counted;
    metric_list_set(out, "duplicate_results_per_job", n > 0 ? s->duplicates_counted / n : 0.0);
}

static void replication_free(void *self) { free(self); }

const struct scheme_ops scheme_replication = {
    .name = "replication",
    .summary = "workers/r parts, each on r workers, done when every part has a result",
    .workloads = SCHEME_LATENCY | SCHEME_INFERENCE, /* inference: exact outputs */
    .keys = replication_keys,
    .search = replication_search,
    .create = replication_create,
    .job_state_size = replication_job_state_size,
    .job_start = replication_job_start,
    .on_result = replication_on_result,
    .add_metrics = replication_add_metrics,
    .free = replication_free,
};
