/* latency.c: the `latency` workload. Jobs arrive (poisson, closed
 * or replay), the scheme plans tasks on the cluster, task durations come
 * from the latency source, and every finished job's latency (done time minus
 * arrival) is folded into the point's aggregates. No model, no data: only
 * time. Also workload_output_free for every workload, and the same job loop
 * with hooks (workload_job_loop_run) for workloads that add computation to
 * the timing, such as `inference`.
 *
 * Hot path (per event): engine -> cluster -> one of the hooks below -> the
 * scheme's function pointer. Nothing here allocates per job or looks a name
 * up per event; job rows, when asked for, go into one array sized up front.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "schemes/scheme.h"
#include "workloads/arrivals.h"
#include "sim/cluster.h"
#include "sim/engine.h"
#include "base/stats.h"
#include "workloads/workload.h"
#include "traces/latency.h"

void workload_output_free(struct workload_output *out)
{
    if (!out)
        return;
    metric_list_clear(&out->metrics);
    free(out->jobs);
    free(out->iterations);
    free(out->tuner);
    memset(out, 0, sizeof *out);
}

struct latency_sim {
    const struct scheme_ops *ops;
    void *scheme;
    struct latency_source *source;
    struct arrivals *arrivals;
    struct engine *engine;
    struct cluster *cluster;
    int arrival_event;      /* engine event kind of a job arrival */
    bool closed;            /* closed loop: the next job waits for done + idle */
    bool waiting_for_idle;  /* closed: previous job done, some worker still busy */
    uint64_t warmup, total; /* total = warmup + counted jobs (replay may lower it) */
    uint64_t started, done;
    struct stats *latencies;
    struct job_row *rows; /* counted jobs by ordinal - warmup, or NULL */
    bool failed;          /* out of memory inside a handler */
    const struct job_loop_hooks *hooks; /* NULL for the latency workload */
};

/* ---- hooks ---- */

/* Called when a task starts running: a job row's `tasks` counts the tasks
 * that started (a task cancelled while still queued never does). Not called
 * when the cluster draws the durations itself (sim_setup). */
static double on_duration(void *ctx, int worker, uint64_t job_index, double cost)
{
    struct latency_sim *s = ctx;
    if (s->rows && job_index >= s->warmup)
        s->rows[job_index - s->warmup].tasks++;
    if (s->hooks && s->hooks->cost_scale)
        cost *= *s->hooks->cost_scale;
    return latency_draw(s->source, worker, job_index, cost);
}

static void arrival_schedule(struct latency_sim *s, double t)
{
    if (engine_schedule(s->engine, t, s->arrival_event, 0, 0)) {
        s->failed = true;
        engine_stop(s->engine);
    }
}

/* Closed loop: the next job starts once the last one is done and every
 * worker is idle (with cancel = false leftover tasks may still be running). */
static void closed_next(struct latency_sim *s)
{
    if (s->started >= s->total || s->done < s->started)
        return;
    if (cluster_all_idle(s->cluster)) {
        s->waiting_for_idle = false;
        arrival_schedule(s, engine_now(s->engine));
    } else {
        s->waiting_for_idle = true;
    }
}

static void job_done(struct latency_sim *s, struct cluster *cl, uint32_t job)
{
    uint64_t index = cluster_job_index(cl, job);
    double arrival = cluster_job_opened_at(cl, job);
    double latency = engine_now(s->engine) - arrival;
    if (s->hooks && s->hooks->done)
        s->hooks->done(s->hooks->ctx, cl, job, index, latency);
    cluster_job_finish(cl, job);
    s->done++;
    if (index >= s->warmup) {
        if (stats_add(s->latencies, latency)) {
            s->failed = true;
            engine_stop(s->engine);
        }
        if (s->rows) {
            struct job_row *row = &s->rows[index - s->warmup];
            row->job = index;
            row->arrival = arrival;
            row->latency = latency;
            row->extra = NAN;
        }
    }
    if (s->closed)
        closed_next(s);
}

static void on_result(void *ctx, struct cluster *cl, const struct cluster_result *r)
{
    struct latency_sim *s = ctx;
    if (s->hooks && s->hooks->result)
        s->hooks->result(s->hooks->ctx, cl, r);
    if (s->ops->on_result(s->scheme, cl, r))
        job_done(s, cl, r->job);
}

static void on_timer(void *ctx, struct cluster *cl, uint32_t job, int tag)
{
    struct latency_sim *s = ctx;
    if (s->ops->on_timer && s->ops->on_timer(s->scheme, cl, job, tag))
        job_done(s, cl, job);
}

static void on_idle(void *ctx, struct cluster *cl)
{
    (void)cl;
    struct latency_sim *s = ctx;
    if (s->waiting_for_idle)
        closed_next(s);
}

static void on_arrival(struct engine *e, void *ctx, uint32_t arg, uint32_t gen)
{
    (void)arg;
    (void)gen;
    struct latency_sim *s = ctx;
    uint32_t job = cluster_job_open(s->cluster, s->started);
    if (job == UINT32_MAX) {
        s->failed = true;
        engine_stop(e);
        return;
    }
    s->started++;
    s->ops->job_start(s->scheme, s->cluster, job);
    if (s->closed || s->started >= s->total)
        return;
    double t;
    if (arrivals_next(s->arrivals, engine_now(e), &t))
        arrival_schedule(s, t);
    else
        s->total = s->started; /* replay file exhausted */
}

/* ---- setup and metrics ---- */

static void sim_free(struct latency_sim *s)
{
    cluster_free(s->cluster);
    engine_free(s->engine);
    if (s->scheme && !s->hooks) /* hooks: the caller owns the scheme */
        s->ops->free(s->scheme);
    latency_free(s->source);
    arrivals_free(s->arrivals);
    stats_free(s->latencies);
    free(s->rows);
}

static int sim_setup(struct latency_sim *s, const struct params *p, uint64_t seed,
                     uint64_t point_key, struct error *err)
{
    int workers = (int)params_int(p, "cluster.workers");
    int status = STRAG_OK;
    if (s->hooks) { /* the caller created (and checked) the scheme */
        s->ops = s->hooks->ops;
        s->scheme = s->hooks->scheme;
    } else {
        status = scheme_for_workload(p, SCHEME_LATENCY, "latency", &s->ops, err);
        if (status)
            return status;
        struct scheme_env env = {.params = p, .workers = workers, .seed = seed,
                                 .point_key = point_key};
        status = s->ops->create(&env, &s->scheme, err);
    }
    if (!status)
        status = latency_new(p, workers, seed, point_key, &s->source, err);
    if (!status)
        status = arrivals_new(p, seed, point_key, &s->arrivals, err);
    if (status)
        return status;

    s->warmup = (uint64_t)params_int(p, "workload.warmup");
    s->total = s->warmup + (uint64_t)params_int(p, "workload.jobs");
    if (arrivals_kind(s->arrivals) == ARRIVAL_REPLAY && arrivals_count(s->arrivals) < s->total)
        s->total = arrivals_count(s->arrivals);
    s->closed = arrivals_kind(s->arrivals) == ARRIVAL_CLOSED;
    if (s->total <= s->warmup)
        return error_at_key(err, p, "workload.arrival_file",
                            "has %llu arrival times, none left after workload.warmup (%llu)",
                            (unsigned long long)s->total, (unsigned long long)s->warmup);
    uint64_t counted = s->total - s->warmup;

    struct cluster_config cc = {
        .workers = workers,
        .slots = (int)params_int(p, "cluster.slots"),
        .network_delay = params_real(p, "cluster.network_delay"),
        .cancel = params_bool(p, "cluster.cancel"),
        .job_state_bytes = s->ops->job_state_size(s->scheme),
    };
    struct cluster_hooks hooks = {
        .ctx = s, .duration = on_duration, .result = on_result, .timer = on_timer,
        .idle = on_idle,
    };
    /* sized for the run up to 2^24 jobs (128 MB); beyond, the array grows */
    s->latencies = stats_new((size_t)(counted < (1u << 24) ? counted : (1u << 24)));
    s->engine = engine_new();
    bool rows = params_bool(p, "workload.job_rows");
    if (rows)
        s->rows = calloc((size_t)counted, sizeof *s->rows);
    if (!s->latencies || !s->engine || (rows && !s->rows))
        return error_fail(err, "out of memory");
    s->arrival_event = engine_register(s->engine, on_arrival, s);
    s->cluster = cluster_new(s->engine, &cc, &hooks);
    if (s->arrival_event < 0 || !s->cluster)
        return error_fail(err, "out of memory");
    /* exp and shifted_exp sources, with nothing to count or scale per task:
     * the cluster draws the durations itself, the same draws in the same
     * order as on_duration's latency_draw */
    struct latency_shifted_exp direct;
    if (!s->rows && !(s->hooks && s->hooks->cost_scale) &&
        latency_as_shifted_exp(s->source, &direct) &&
        cluster_use_shifted_exp(s->cluster, direct.shift, direct.rate, direct.streams) != 0)
        return error_fail(err, "out of memory");
    return 0;
}

static int add_metrics(struct latency_sim *s, struct workload_output *out)
{
    struct metric_list *m = &out->metrics;
    struct stats *st = s->latencies;
    double n = (double)stats_count(st);
    /* batch means first: quantiles reorder the samples */
    double se = stats_batch_se(st, STATS_BATCHES);
    double mean = stats_mean(st);
    double p50 = stats_quantile(st, 0.5), p99 = stats_quantile(st, 0.99);
    double p999 = stats_quantile(st, 0.999);
    /* slot-seconds over every simulated job (warmup included): the cluster
     * cannot tell which job a busy second belonged to once jobs overlap */
    double ws = s->done ? cluster_worker_seconds(s->cluster) / (double)s->done : metric_undefined();
    int bad = metric_list_set(m, "jobs", n) | metric_list_set(m, "latency_mean", mean) |
              metric_list_set(m, "latency_p50", p50) | metric_list_set(m, "latency_p99", p99) |
              metric_list_set(m, "latency_p999", p999) | metric_list_set(m, "latency_se", se) |
              metric_list_set(m, "worker_seconds", ws) |
              metric_list_set(m, "events", (double)engine_events(s->engine));
    if (s->ops->add_metrics)
        s->ops->add_metrics(s->scheme, m);
    return bad ? -1 : 0;
}

int workload_latency_run(const struct params *p, uint64_t seed, uint64_t point_key,
                         struct workload_output *out, struct error *err)
{
    return workload_job_loop_run(p, seed, point_key, NULL, out, err);
}

int workload_job_loop_run(const struct params *p, uint64_t seed, uint64_t point_key,
                          const struct job_loop_hooks *hooks, struct workload_output *out,
                          struct error *err)
{
    memset(out, 0, sizeof *out);
    struct latency_sim s = {.hooks = hooks};
    int status = sim_setup(&s, p, seed, point_key, err);
    if (!status) {
        double t0 = 0.0;
        if (s.closed || arrivals_next(s.arrivals, 0.0, &t0))
            arrival_schedule(&s, t0);
        engine_run(s.engine);
        if (s.failed || cluster_failed(s.cluster))
            status = error_fail(err, "out of memory during the simulation");
        else if (s.done != s.total)
            status = error_fail(err, "simulation ended with %llu of %llu jobs done (scheme '%s' "
                                "left jobs unfinished)",
                                (unsigned long long)s.done, (unsigned long long)s.total,
                                s.ops->name);
    }
    if (!status && add_metrics(&s, out))
        status = error_fail(err, "out of memory");
    if (!status && s.rows) {
        out->jobs = s.rows;
        out->njobs = stats_count(s.latencies);
        s.rows = NULL;
    }
    sim_free(&s);
    if (status)
        workload_output_free(out);
    return status;
}

const struct workload_ops workload_latency = {
    .name = "latency",
    .summary = "time only: the job latency distribution",
    .scheme_bit = SCHEME_LATENCY,
    .run = workload_latency_run,
};
