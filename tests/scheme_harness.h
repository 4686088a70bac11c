/* scheme_harness.h: a one-scheme driver, the part of the latency workload
 * the schemes see: one scheme on a real engine and cluster, each task taking
 * its cost times a unit duration the test chooses per job and worker, a job
 * run alone to its end (harness_job), the scheme's metrics. For the tests of
 * the schemes' serving rules (test_schemes.c, test_learned.c). Header-only,
 * for the test programs. */
#ifndef STRAG_TEST_SCHEME_HARNESS_H
#define STRAG_TEST_SCHEME_HARNESS_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/metrics.h"
#include "schemes/scheme.h"
#include "sim/cluster.h"
#include "sim/engine.h"

/* Unit-cost duration of job `job` on worker `w` (a task takes cost times it). */
typedef double (*unit_fn)(uint64_t job, int w);

struct harness {
    struct engine *e;
    struct cluster *cl;
    const struct scheme_ops *ops;
    void *self;
    struct params *p;
    unit_fn unit;
    int results;        /* results the scheme was given, all jobs */
    int last_worker;    /* worker of the last result */
    bool done;          /* the current job is done */
    double done_at;     /* when it was done */
};

static inline double hook_duration(void *ctx, int worker, uint64_t job, double cost)
{
    const struct harness *h = ctx;
    return cost * h->unit(job, worker);
}

static inline void harness_finish(struct harness *h, uint32_t job)
{
    h->done = true;
    h->done_at = engine_now(h->e);
    cluster_job_finish(h->cl, job);
}

static inline void hook_result(void *ctx, struct cluster *cl, const struct cluster_result *r)
{
    struct harness *h = ctx;
    h->results++;
    h->last_worker = r->worker;
    if (h->ops->on_result(h->self, cl, r))
        harness_finish(h, r->job);
}

static inline void hook_timer(void *ctx, struct cluster *cl, uint32_t job, int tag)
{
    struct harness *h = ctx;
    if (h->ops->on_timer && h->ops->on_timer(h->self, cl, job, tag))
        harness_finish(h, job);
}

/* Starts `kind` on `workers` workers with params p (the harness owns p),
 * the scheme's streams from seed and point_key. */
static inline void harness_start_seeded(struct harness *h, const char *kind, struct params *p,
                                        int workers, bool cancel, unit_fn unit, uint64_t seed,
                                        uint64_t point_key)
{
    *h = (struct harness){.p = p, .unit = unit};
    h->ops = scheme_find(kind);
    cr_assert_not_null(h->ops, "scheme %s not registered", kind);
    struct scheme_env env = {.params = p, .workers = workers, .seed = seed,
                             .point_key = point_key};
    struct error err = {{0}};
    cr_assert_eq(h->ops->create(&env, &h->self, &err), 0, "%s", err.msg);
    h->e = engine_new();
    struct cluster_config cfg = {.workers = workers, .slots = 1, .cancel = cancel,
                                 .job_state_bytes = h->ops->job_state_size(h->self)};
    struct cluster_hooks hooks = {.ctx = h, .duration = hook_duration, .result = hook_result,
                                  .timer = hook_timer};
    h->cl = cluster_new(h->e, &cfg, &hooks);
    cr_assert_not_null(h->cl);
}

/* The same with seed 42 and point key 7. */
static inline void harness_start(struct harness *h, const char *kind, struct params *p,
                                 int workers, bool cancel, unit_fn unit)
{
    harness_start_seeded(h, kind, p, workers, cancel, unit, 42, 7);
}

/* Runs job `index` alone until the engine is empty; returns its latency. */
static inline double harness_job(struct harness *h, uint64_t index)
{
    h->done = false;
    uint32_t job = cluster_job_open(h->cl, index);
    cr_assert_neq(job, UINT32_MAX);
    double opened = engine_now(h->e);
    h->ops->job_start(h->self, h->cl, job);
    engine_run(h->e);
    cr_assert(h->done, "job %llu never finished", (unsigned long long)index);
    cr_assert(cluster_all_idle(h->cl));
    return h->done_at - opened;
}

/* Runs job `index` and checks its latency (criterion's float macros
 * evaluate their arguments more than once: never pass them a job run). */
static inline void expect_latency(struct harness *h, uint64_t index, double expected)
{
    double latency = harness_job(h, index);
    cr_assert_float_eq(latency, expected, 1e-12, "job %llu: latency %.17g, expected %.17g",
                       (unsigned long long)index, latency, expected);
}

static inline double harness_metric(const struct harness *h, const char *name)
{
    struct metric_list m = {0};
    if (h->ops->add_metrics)
        h->ops->add_metrics(h->self, &m);
    double v = metric_list_get(&m, name);
    metric_list_clear(&m);
    return v;
}

static inline void harness_end(struct harness *h)
{
    cluster_free(h->cl);
    engine_free(h->e);
    h->ops->free(h->self);
    params_free(h->p);
}

#endif
